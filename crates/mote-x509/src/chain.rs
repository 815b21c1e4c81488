//! Streaming certificate path validation (RFC 5280 6.1, reduced to what TLS needs): the
//! chain is checked one certificate at a time as the Certificate message arrives, keeping
//! only a fixed-size summary of the previous certificate, as BearSSL's x509 engine does.

use mote_crypto::{CryptoError, Hash, HashAlgorithm, Provider, MAX_DIGEST};
use mote_wire::SignatureScheme;

use crate::alg::prehash;
use crate::auth::{Method, Mode, PinnedRawKey, PinnedSpki};
use crate::cert::{self, Certificate, KeyUsage};
use crate::error::X509Error;
use crate::name::ServerName;

/// How many certificates (end-entity included) may be needed to reach a trust anchor.
pub const DEFAULT_MAX_DEPTH: u8 = 6;

/// The largest end-entity SubjectPublicKeyInfo [`VerifiedChain`] keeps. An RSA-4096 SPKI is
/// 550 bytes (P-256: 91, P-384: 120, Ed25519: 44, RSA-2048: 294), so 600 holds every key a
/// TLS peer plausibly uses while staying a fixed, stack-friendly size.
#[cfg(feature = "rsa")]
pub const MAX_SPKI: usize = 600;
/// Without RSA the largest end-entity key is an uncompressed P-384 point (120 bytes of
/// SPKI); P-256 is 91, Ed25519 44. Every copy of a verified key is 472 bytes smaller on a
/// device than with room for RSA-4096.
#[cfg(not(feature = "rsa"))]
pub const MAX_SPKI: usize = 128;

/// Signature bytes the default validator can hold for a certificate whose issuer is yet to
/// arrive: a DER ECDSA P-384 signature is at most 104 bytes (P-256: 72, Ed25519: 64, which is
/// never held, see [`X509Error::Ed25519NeedsIssuerAnchor`]).
pub const DEFAULT_SIGNATURE_CAPACITY: usize = 104;

/// Signature capacity for chains with RSA keys up to 4096 bits (512-byte signatures); use
/// `ChainValidator<'_, RSA_SIGNATURE_CAPACITY>` with mote-crypto's `alloc` feature.
pub const RSA_SIGNATURE_CAPACITY: usize = 512;

/// What the end-entity certificate must be good for (extKeyUsage, RFC 5280 4.2.1.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A client checking a server (id-kp-serverAuth).
    ServerAuth,
    /// A server checking a client certificate (id-kp-clientAuth).
    ClientAuth,
}

/// A trusted CA: the subject name and public key are all path validation needs from it
/// (RFC 5280 6.1.1 (d)); its own validity and signature are not checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustAnchor<'a> {
    /// Raw DER `Name`, compared byte for byte with certificates' issuer fields.
    pub subject: &'a [u8],
    /// DER SubjectPublicKeyInfo.
    pub spki: &'a [u8],
}

impl<'a> TrustAnchor<'a> {
    pub const fn new(subject: &'a [u8], spki: &'a [u8]) -> TrustAnchor<'a> {
        TrustAnchor { subject, spki }
    }

    /// Takes subject and key from a (usually self-signed root) certificate. Its signature
    /// algorithm may be one mote cannot verify: the anchor's own signature is never checked.
    pub fn from_cert(der: &'a [u8]) -> Result<TrustAnchor<'a>, X509Error> {
        let c = cert::parse(der, 0, false)?;
        Ok(TrustAnchor::new(c.subject().as_der(), c.spki()))
    }
}

/// Proof that a peer's certificate chain (or pinned key) was accepted, carrying the
/// end-entity key for checking CertificateVerify. Its fields are private and it has no
/// public constructor, so only [`ChainValidator::finish`] makes one: code that holds a
/// `VerifiedChain` cannot have skipped validation (the zero-cost proof-token idea of rustls).
#[derive(Clone)]
pub struct VerifiedChain {
    spki: [u8; MAX_SPKI],
    spki_len: u16,
    depth: u8,
    method: Method,
}

impl VerifiedChain {
    /// The end-entity's DER SubjectPublicKeyInfo (for `Provider::verify` of
    /// CertificateVerify).
    pub fn end_entity_spki(&self) -> &[u8] {
        self.spki.get(..usize::from(self.spki_len)).unwrap_or(&[])
    }
    /// Certificates used, end-entity included (1 for pinned and raw keys).
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }
    /// How the peer was authenticated.
    pub fn method(&self) -> Method {
        self.method
    }
}

impl core::fmt::Debug for VerifiedChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedChain")
            .field("method", &self.method)
            .field("depth", &self.depth)
            .field("spki_len", &self.spki_len)
            .finish()
    }
}

/// What is kept of a certificate whose issuer has not arrived yet: enough to verify its
/// signature once the issuer's key is known, and to check that the next certificate is that
/// issuer.
#[derive(Clone, Copy)]
struct Pending<const SIG: usize> {
    index: u8,
    scheme: SignatureScheme,
    /// The TBS digest under the signature's hash.
    digest: [u8; MAX_DIGEST],
    digest_len: u8,
    signature: [u8; SIG],
    signature_len: usize,
    /// SHA-256 of the raw issuer `Name`: 32 bytes instead of a name of any length. Equal
    /// names (RFC 5280 7.1 binary comparison) give equal digests; a collision would need
    /// a SHA-256 second preimage, and the issuer's signature is still verified.
    issuer_hash: [u8; 32],
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Nothing added yet.
    Empty,
    /// The last certificate's issuer is awaited (in `pending`).
    Pending,
    /// A trust anchor (or the pin) was reached; later certificates are ignored.
    Done,
    /// A check failed: every later call repeats the error, so a caller that ignores one
    /// cannot reach an `Ok` from `finish`.
    Failed(X509Error),
}

/// Validates a certificate chain as it arrives: [`ChainValidator::add`] once per
/// certificate in TLS order (end-entity first, each next one the issuer of the one before,
/// RFC 8446 4.4.2), then [`ChainValidator::finish`].
///
/// Between calls it holds only a summary of the previous certificate (TBS digest, signature
/// scheme, up to `SIG` signature bytes, SHA-256 of its issuer name), the end-entity's key and
/// a few counters: `size_of::<ChainValidator>()` is independent of the chain (872 bytes on
/// thumbv7em, 880 on x86_64: 600 for the end-entity SPKI, 104 signature, 48 digest, 32 issuer
/// hash; 1280 with [`RSA_SIGNATURE_CAPACITY`]). The price of not
/// holding certificates is that each must be the issuer of the one before (no reordering) and
/// that an Ed25519 signature, which covers the whole TBS rather than a digest, can only be
/// verified when the signer is a trust anchor ([`X509Error::Ed25519NeedsIssuerAnchor`]).
///
/// Checks (RFC 5280 6.1 as TLS needs it): validity of every certificate at `now`; the
/// end-entity's subjectAltName against the server name (RFC 6125, no Common Name fallback),
/// keyUsage digitalSignature and extKeyUsage for `usage` when present; every issuer a CA
/// (basicConstraints cA), keyUsage keyCertSign when present, pathLenConstraint, extKeyUsage
/// (when present) allowing `usage` or anyExtendedKeyUsage, as Mozilla and webpki require of
/// intermediates; every signature; a trust anchor at the end. Not done: revocation, name
/// constraints and policies (critical ones are rejected as unsupported).
#[derive(Clone)]
pub struct ChainValidator<'a, const SIG: usize = DEFAULT_SIGNATURE_CAPACITY> {
    mode: Mode<'a>,
    now: u64,
    usage: Usage,
    max_depth: u8,
    next_index: u8,
    /// Non-self-issued CA certificates seen so far below the current one (RFC 5280 6.1.4
    /// (l): what pathLenConstraint limits).
    intermediates: u8,
    state: State,
    method: Method,
    pending: Pending<SIG>,
    ee_spki: [u8; MAX_SPKI],
    ee_spki_len: u16,
}

/// A validator that can hold RSA signatures of up to 4096-bit keys while their issuer is
/// awaited (`RsaChainValidator::for_auth(..)`).
pub type RsaChainValidator<'a> = ChainValidator<'a, RSA_SIGNATURE_CAPACITY>;

/// The constructors of the default capacity (a generic `new` could not be called without
/// naming the capacity: Rust does not infer const parameters from their defaults). Other
/// capacities are built with [`ChainValidator::for_auth`].
impl<'a> ChainValidator<'a> {
    /// Validates a chain to one of `anchors` for `server_name` at `now_unix` (seconds since
    /// the Unix epoch, from a clock the caller trusts).
    pub fn new(
        anchors: &'a [TrustAnchor<'a>],
        server_name: ServerName<'a>,
        now_unix: u64,
        usage: Usage,
    ) -> Self {
        Self::with_mode(
            Mode::Chain {
                anchors,
                name: server_name,
            },
            now_unix,
            usage,
        )
    }

    /// Accepts an end-entity certificate whose SPKI hashes to the pin (validity checked,
    /// names and issuers not).
    pub fn pinned_spki(pin: PinnedSpki, now_unix: u64) -> Self {
        Self::with_mode(Mode::PinnedSpki(pin.sha256), now_unix, Usage::ServerAuth)
    }

    /// Accepts an RFC 7250 raw public key equal to `key`: the one Certificate entry is then
    /// a DER SubjectPublicKeyInfo, not a certificate.
    pub fn raw_public_key(key: PinnedRawKey<'a>) -> Self {
        Self::with_mode(Mode::RawPublicKey(key.spki), 0, Usage::ServerAuth)
    }
}

impl<'a, const SIG: usize> ChainValidator<'a, SIG> {
    pub(crate) fn with_mode(mode: Mode<'a>, now: u64, usage: Usage) -> Self {
        ChainValidator {
            mode,
            now,
            usage,
            max_depth: DEFAULT_MAX_DEPTH,
            next_index: 0,
            intermediates: 0,
            state: State::Empty,
            method: Method::RawPublicKey,
            pending: Pending {
                index: 0,
                scheme: SignatureScheme(0),
                digest: [0; MAX_DIGEST],
                digest_len: 0,
                signature: [0; SIG],
                signature_len: 0,
                issuer_hash: [0; 32],
            },
            ee_spki: [0; MAX_SPKI],
            ee_spki_len: 0,
        }
    }

    /// Sets how many certificates may be needed to reach an anchor (default
    /// [`DEFAULT_MAX_DEPTH`]).
    pub fn with_max_depth(mut self, max_depth: u8) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Checks certificate `index` (0 = end-entity) given as its DER. Certificates after a
    /// trust anchor was reached are ignored (RFC 8446 4.4.2 lets senders include extras).
    pub fn add<P: Provider>(
        &mut self,
        provider: &P,
        index: usize,
        der: &[u8],
    ) -> Result<(), X509Error> {
        match self.state {
            State::Failed(e) => return Err(e),
            State::Done => return Ok(()),
            State::Empty | State::Pending => {}
        }
        let result = self.add_inner(provider, index, der);
        if let Err(e) = result {
            self.state = State::Failed(e);
        }
        result
    }

    /// Ends the chain: `Ok` only if an anchor or the pin was reached and nothing failed.
    pub fn finish<P: Provider>(&mut self, _provider: &P) -> Result<VerifiedChain, X509Error> {
        let err = match self.state {
            State::Done => {
                return Ok(VerifiedChain {
                    spki: self.ee_spki,
                    spki_len: self.ee_spki_len,
                    depth: self.next_index,
                    method: self.method,
                })
            }
            State::Failed(e) => e,
            State::Empty => X509Error::Empty { usage: self.usage },
            State::Pending => X509Error::UnknownIssuer {
                index: self.pending.index,
            },
        };
        self.state = State::Failed(err);
        Err(err)
    }

    fn add_inner<P: Provider>(
        &mut self,
        provider: &P,
        index: usize,
        der: &[u8],
    ) -> Result<(), X509Error> {
        let small = u8::try_from(index).unwrap_or(u8::MAX);
        if small != self.next_index || index > usize::from(u8::MAX) {
            return Err(X509Error::OutOfOrder {
                index: small,
                expected: self.next_index,
            });
        }
        match self.mode {
            Mode::RawPublicKey(key) => {
                // RFC 7250 3: the entry is the peer's SubjectPublicKeyInfo itself.
                if der != key {
                    return Err(X509Error::PinMismatch { index: 0 });
                }
                self.keep_end_entity_key(der, 0)?;
                self.method = Method::RawPublicKey;
            }
            Mode::PinnedSpki(pin) => {
                let cert = Certificate::parse_at(der, 0)?;
                cert.check_validity(self.now, 0)?;
                if sha256(provider, cert.spki()) != pin {
                    return Err(X509Error::PinMismatch { index: 0 });
                }
                self.keep_end_entity_key(cert.spki(), 0)?;
                self.method = Method::PinnedSpki;
            }
            Mode::Chain { anchors, name } => {
                if small >= self.max_depth {
                    return Err(X509Error::ChainTooLong {
                        max: self.max_depth,
                    });
                }
                let cert = Certificate::parse_at(der, small)?;
                if small == 0 {
                    self.check_end_entity(&cert, &name)?;
                } else {
                    self.check_issuer(provider, &cert, small)?;
                }
                self.next_index = small + 1;
                return self.find_issuer(provider, &cert, anchors, small);
            }
        }
        self.next_index = 1;
        self.state = State::Done;
        Ok(())
    }

    /// RFC 5280 6.1.3 (a)(2) for the end-entity, plus the TLS-specific name and usage checks.
    fn check_end_entity(
        &mut self,
        cert: &Certificate<'_>,
        name: &ServerName<'_>,
    ) -> Result<(), X509Error> {
        cert.check_validity(self.now, 0)?;
        // RFC 6125 6.4.4 lets clients skip the Common Name and RFC 9525 forbids using it;
        // only subjectAltName counts, and a certificate without one matches no name.
        if *name != ServerName::None {
            let ok = cert.subject_alt_names().is_some_and(|s| s.matches(name));
            if !ok {
                return Err(X509Error::NameMismatch { index: 0 });
            }
        }
        // The key signs CertificateVerify (TLS 1.3) or ServerKeyExchange (ECDHE): RFC 5280
        // 4.2.1.3 digitalSignature.
        if let Some(ku) = cert.key_usage() {
            if !ku.contains(KeyUsage::DIGITAL_SIGNATURE) {
                return Err(X509Error::KeyUsage { index: 0 });
            }
        }
        if !self.eku_allows(cert, false) {
            return Err(X509Error::ExtKeyUsage { index: 0 });
        }
        self.keep_end_entity_key(cert.spki(), 0)
    }

    /// Certificate `index` >= 1 must be the issuer of the pending one and a CA allowed to
    /// issue it; then the pending signature is verified with its key.
    fn check_issuer<P: Provider>(
        &mut self,
        provider: &P,
        cert: &Certificate<'_>,
        index: u8,
    ) -> Result<(), X509Error> {
        // RFC 5280 6.1.3 (a)(4): the child's issuer is this subject.
        if sha256(provider, cert.subject().as_der()) != self.pending.issuer_hash {
            return Err(X509Error::IssuerMismatch { index });
        }
        cert.check_validity(self.now, index)?;
        // RFC 5280 6.1.4 (k): a v3 issuer must assert basicConstraints cA; v1/v2
        // certificates cannot be intermediates (they may still be trust anchors).
        let bc = cert.basic_constraints();
        if !bc.is_some_and(|b| b.ca) {
            return Err(X509Error::NotACa { index });
        }
        // RFC 5280 6.1.4 (n): keyCertSign when keyUsage is present.
        if let Some(ku) = cert.key_usage() {
            if !ku.contains(KeyUsage::KEY_CERT_SIGN) {
                return Err(X509Error::KeyUsage { index });
            }
        }
        // RFC 5280 6.1.4 (m): at most pathLenConstraint non-self-issued intermediates
        // between this CA and the end-entity.
        if let Some(max) = bc.and_then(|b| b.path_len) {
            let found = u32::from(self.intermediates);
            if found > max {
                return Err(X509Error::PathLenExceeded { index, max, found });
            }
        }
        if !self.eku_allows(cert, true) {
            return Err(X509Error::ExtKeyUsage { index });
        }
        let p = &self.pending;
        let digest = p.digest.get(..usize::from(p.digest_len)).unwrap_or(&[]);
        let sig = p.signature.get(..p.signature_len).unwrap_or(&[]);
        provider
            .verify_prehashed(p.scheme, cert.spki(), digest, sig)
            .map_err(|e| verify_error(e, p.index))?;
        if !cert.is_self_issued() {
            self.intermediates = self.intermediates.saturating_add(1);
        }
        Ok(())
    }

    /// Ends the chain at `cert` if it is an anchor or an anchor issued it; otherwise keeps
    /// the summary needed to verify it against the next certificate.
    fn find_issuer<P: Provider>(
        &mut self,
        provider: &P,
        cert: &Certificate<'_>,
        anchors: &[TrustAnchor<'_>],
        index: u8,
    ) -> Result<(), X509Error> {
        // The certificate is itself an anchor (a directly trusted certificate, or a root the
        // sender included): its own signature needs no check.
        let subject = cert.subject().as_der();
        if anchors
            .iter()
            .any(|a| a.subject == subject && a.spki == cert.spki())
        {
            return self.done();
        }
        // An anchor issued it: the TBS is still here, so verify the whole message (the only
        // way for Ed25519, and SHA-512 needs no provider hash this way).
        let mut matched = None;
        for a in anchors
            .iter()
            .filter(|a| a.subject == cert.issuer().as_der())
        {
            match provider.verify(
                cert.signature_scheme(),
                a.spki,
                cert.tbs(),
                cert.signature(),
            ) {
                Ok(()) => return self.done(),
                Err(e) => matched = Some(verify_error(e, index)),
            }
        }
        if let Some(e) = matched {
            return Err(e);
        }
        // The issuer must be the next certificate: keep the summary.
        let scheme = cert.signature_scheme();
        if scheme == SignatureScheme::ED25519 {
            return Err(X509Error::Ed25519NeedsIssuerAnchor { index });
        }
        let unsupported = X509Error::UnsupportedSignatureAlgorithm { index };
        let alg = prehash(scheme).ok_or(unsupported)?;
        if !provider.supports_signature(scheme) {
            return Err(unsupported);
        }
        let sig = cert.signature();
        let p = &mut self.pending;
        let slot = p
            .signature
            .get_mut(..sig.len())
            .ok_or(X509Error::SignatureTooLarge {
                index,
                len: u32::try_from(sig.len()).unwrap_or(u32::MAX),
                max: u32::try_from(SIG).unwrap_or(u32::MAX),
            })?;
        slot.copy_from_slice(sig);
        p.signature_len = sig.len();
        let mut h = provider.hash(alg);
        h.update(cert.tbs());
        let digest = h.finish();
        p.digest = [0; MAX_DIGEST];
        for (d, b) in p.digest.iter_mut().zip(digest.as_bytes()) {
            *d = *b;
        }
        p.digest_len = digest.len().min(MAX_DIGEST) as u8;
        p.scheme = scheme;
        p.index = index;
        p.issuer_hash = sha256(provider, cert.issuer().as_der());
        self.state = State::Pending;
        Ok(())
    }

    fn done(&mut self) -> Result<(), X509Error> {
        self.state = State::Done;
        self.method = Method::Chain;
        Ok(())
    }

    /// extKeyUsage, when present, must name the purpose (RFC 5280 4.2.1.12); issuers may
    /// instead carry anyExtendedKeyUsage.
    fn eku_allows(&self, cert: &Certificate<'_>, issuer: bool) -> bool {
        match cert.ext_key_usage() {
            None => true,
            Some(e) => {
                let wanted = match self.usage {
                    Usage::ServerAuth => e.server_auth,
                    Usage::ClientAuth => e.client_auth,
                };
                wanted || (issuer && e.any)
            }
        }
    }

    fn keep_end_entity_key(&mut self, spki: &[u8], index: u8) -> Result<(), X509Error> {
        let slot = self
            .ee_spki
            .get_mut(..spki.len())
            .ok_or(X509Error::SpkiTooLarge {
                index,
                len: u32::try_from(spki.len()).unwrap_or(u32::MAX),
            })?;
        slot.copy_from_slice(spki);
        self.ee_spki_len = spki.len() as u16; // <= MAX_SPKI
        Ok(())
    }
}

/// The signature on certificate `index` failed: `Unsupported` means the provider lacks the
/// algorithm (or the key/curve pairing); anything else is a bad signature or key.
fn verify_error(e: CryptoError, index: u8) -> X509Error {
    match e {
        CryptoError::Unsupported => X509Error::UnsupportedSignatureAlgorithm { index },
        _ => X509Error::BadSignature { index },
    }
}

fn sha256<P: Provider>(provider: &P, data: &[u8]) -> [u8; 32] {
    let mut h = provider.hash(HashAlgorithm::Sha256);
    h.update(data);
    let d = h.finish();
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(d.as_bytes()) {
        *o = *b;
    }
    out
}
