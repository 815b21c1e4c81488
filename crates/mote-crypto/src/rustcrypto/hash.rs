//! SHA-2 (`sha2`), HMAC (`hmac`) and HKDF (`hkdf`): SHA-256 always, SHA-384 with feature
//! `sha384`.
//!
//! Without `sha384`, the infallible entry points asked for SHA-384 fall back to SHA-256:
//! [`RcHash::new`] returns a SHA-256 state (whose [`Hash::algorithm`] says `Sha256`), and
//! `hmac` and `hkdf_extract` return 32-byte SHA-256 values, which no SHA-384 length check
//! accepts. `hkdf_expand`, which can fail, returns [`CryptoError::Unsupported`], so a TLS 1.3
//! key schedule (every secret is an HKDF-Expand) stops at its first derivation. A correct
//! engine never asks: [`SuiteInfo::of`](crate::SuiteInfo::of) has no SHA-384 suite then.

use crate::suites::HashAlgorithm;
use crate::traits::{CryptoError, Digest, Hash};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
#[cfg(feature = "sha384")]
use sha2::Sha384;
use sha2::{Digest as _, Sha256};

/// A running SHA-256 or (feature `sha384`) SHA-384.
#[derive(Clone)]
pub enum RcHash {
    Sha256(Sha256),
    #[cfg(feature = "sha384")]
    Sha384(Sha384),
}

impl RcHash {
    /// A fresh hash of `alg`. Without feature `sha384`, `Sha384` gives a SHA-256 state (see
    /// [`RustCrypto::hash`](super::RustCrypto#method.hash)): check [`Hash::algorithm`] if
    /// that matters.
    pub fn new(alg: HashAlgorithm) -> RcHash {
        match alg {
            HashAlgorithm::Sha256 => RcHash::Sha256(Sha256::new()),
            #[cfg(feature = "sha384")]
            HashAlgorithm::Sha384 => RcHash::Sha384(Sha384::new()),
            #[cfg(not(feature = "sha384"))]
            HashAlgorithm::Sha384 => RcHash::Sha256(Sha256::new()),
        }
    }
}

impl core::fmt::Debug for RcHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RcHash({:?})", self.algorithm())
    }
}

impl Hash for RcHash {
    fn algorithm(&self) -> HashAlgorithm {
        match self {
            RcHash::Sha256(_) => HashAlgorithm::Sha256,
            #[cfg(feature = "sha384")]
            RcHash::Sha384(_) => HashAlgorithm::Sha384,
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            RcHash::Sha256(h) => h.update(data),
            #[cfg(feature = "sha384")]
            RcHash::Sha384(h) => h.update(data),
        }
    }

    fn finish(self) -> Digest {
        match self {
            RcHash::Sha256(h) => Digest::new(&h.finalize()),
            #[cfg(feature = "sha384")]
            RcHash::Sha384(h) => Digest::new(&h.finalize()),
        }
    }
}

fn hmac_parts<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Digest {
    // HMAC takes keys of any length (RFC 2104 section 2), so `new_from_slice` cannot fail;
    // were it to, the empty digest matches no MAC and no key length, rather than panic.
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            for part in parts {
                mac.update(part);
            }
            Digest::new(&mac.finalize().into_bytes())
        }
        Err(_) => Digest::new(&[]),
    }
}

/// HMAC over the concatenation of `parts` (HMAC-SHA256 for `Sha384` without feature
/// `sha384`).
pub(super) fn hmac(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Digest {
    match alg {
        #[cfg(feature = "sha384")]
        HashAlgorithm::Sha384 => hmac_parts::<Hmac<Sha384>>(key, parts),
        _ => hmac_parts::<Hmac<Sha256>>(key, parts),
    }
}

/// HKDF-Extract. An empty salt is the RFC 5869 default (HashLen zero bytes): HMAC pads keys
/// with zeros, so the two are the same key. SHA-256 for `Sha384` without feature `sha384`.
pub(super) fn hkdf_extract(alg: HashAlgorithm, salt: &[u8], ikm: &[u8]) -> Digest {
    match alg {
        #[cfg(feature = "sha384")]
        HashAlgorithm::Sha384 => Digest::new(&Hkdf::<Sha384>::extract(Some(salt), ikm).0),
        _ => Digest::new(&Hkdf::<Sha256>::extract(Some(salt), ikm).0),
    }
}

/// HKDF-Expand. A PRK shorter than the hash output, or an output longer than 255 hash
/// blocks (RFC 5869 section 2.3), is `BadLength`; `Sha384` without feature `sha384` is
/// `Unsupported`.
pub(super) fn hkdf_expand(
    alg: HashAlgorithm,
    prk: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    match alg {
        HashAlgorithm::Sha256 => Hkdf::<Sha256>::from_prk(prk)
            .map_err(|_| CryptoError::BadLength)?
            .expand_multi_info(info, out),
        #[cfg(feature = "sha384")]
        HashAlgorithm::Sha384 => Hkdf::<Sha384>::from_prk(prk)
            .map_err(|_| CryptoError::BadLength)?
            .expand_multi_info(info, out),
        #[cfg(not(feature = "sha384"))]
        HashAlgorithm::Sha384 => return Err(CryptoError::Unsupported),
    }
    .map_err(|_| CryptoError::BadLength)
}
