//! How a peer is authenticated: a chain to trust anchors, a pinned SPKI hash, or an RFC 7250
//! raw public key. All three run through the same [`ChainValidator`] `add`/`finish` calls, so
//! the engine has one code path for the Certificate message whatever the device chose.

use mote_crypto::{Hash, HashAlgorithm, Provider};
use mote_wire::CertificateType;

use crate::chain::{ChainValidator, TrustAnchor, Usage};
use crate::name::ServerName;

/// A pin of the end-entity key: SHA-256 of its DER SubjectPublicKeyInfo (the form of HPKP,
/// RFC 7469 2.4, and of `openssl pkey -pubin -outform DER | sha256sum`). Pinning the key
/// rather than the certificate survives re-issuance with the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedSpki {
    pub sha256: [u8; 32],
}

impl PinnedSpki {
    /// The pin of a DER SubjectPublicKeyInfo.
    pub fn of_spki<P: Provider>(provider: &P, spki: &[u8]) -> PinnedSpki {
        let mut h = provider.hash(HashAlgorithm::Sha256);
        h.update(spki);
        let d = h.finish();
        let mut sha256 = [0u8; 32];
        for (o, b) in sha256.iter_mut().zip(d.as_bytes()) {
            *o = *b;
        }
        PinnedSpki { sha256 }
    }
}

/// The one key an RFC 7250 raw-public-key peer may present, as its DER SubjectPublicKeyInfo
/// (RFC 7250 3), compared byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinnedRawKey<'a> {
    pub spki: &'a [u8],
}

/// How the device authenticates its peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerAuth<'a> {
    /// X.509 path validation to `anchors`, with the end-entity matched against `name`.
    Chain {
        anchors: &'a [TrustAnchor<'a>],
        name: ServerName<'a>,
    },
    /// An X.509 end-entity whose key hashes to the pin; issuers and names are not checked,
    /// validity is.
    PinnedSpki(PinnedSpki),
    /// An RFC 7250 raw public key (no certificate at all).
    RawPublicKey(PinnedRawKey<'a>),
}

impl<'a> ServerAuth<'a> {
    /// The validator the engine feeds each Certificate entry to (`add`) and then `finish`es,
    /// whichever variant this is. `now_unix` is ignored for raw keys (they carry no dates).
    /// For RSA chains use [`ChainValidator::for_auth`] with a larger signature capacity.
    pub fn validator(&self, now_unix: u64, usage: Usage) -> ChainValidator<'a> {
        ChainValidator::for_auth(self, now_unix, usage)
    }

    /// The certificate type to negotiate (RFC 7250 4.1 server_certificate_type /
    /// client_certificate_type): X.509 unless a raw key is expected.
    pub fn certificate_type(&self) -> CertificateType {
        match self {
            ServerAuth::RawPublicKey(_) => CertificateType::RAW_PUBLIC_KEY,
            _ => CertificateType::X509,
        }
    }
}

impl<'a, const SIG: usize> ChainValidator<'a, SIG> {
    /// The validator for `auth` (see [`ServerAuth::validator`]).
    pub fn for_auth(auth: &ServerAuth<'a>, now_unix: u64, usage: Usage) -> Self {
        let mode = match *auth {
            ServerAuth::Chain { anchors, name } => Mode::Chain { anchors, name },
            ServerAuth::PinnedSpki(pin) => Mode::PinnedSpki(pin.sha256),
            ServerAuth::RawPublicKey(key) => Mode::RawPublicKey(key.spki),
        };
        ChainValidator::with_mode(mode, now_unix, usage)
    }
}

/// What the validator checks against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode<'a> {
    Chain {
        anchors: &'a [TrustAnchor<'a>],
        name: ServerName<'a>,
    },
    PinnedSpki([u8; 32]),
    RawPublicKey(&'a [u8]),
}

/// How a [`crate::VerifiedChain`] was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Path validation to a trust anchor.
    Chain,
    /// An end-entity certificate matching a [`PinnedSpki`].
    PinnedSpki,
    /// An RFC 7250 raw public key equal to a [`PinnedRawKey`].
    RawPublicKey,
}
