//! AEADs: AES-GCM (`aes-gcm`, feature `aes-gcm`), AES-CCM (`ccm` over `aes`, feature
//! `aes-ccm`) and ChaCha20-Poly1305 (`chacha20poly1305`, feature `chacha20poly1305`), all with
//! TLS's 12-byte nonce. An algorithm compiled out is `Unsupported` (see
//! [`AeadAlgorithm::compiled_in`]); with no AEAD feature, [`RcAead`] has no value at all.

use crate::suites::AeadAlgorithm;
use crate::traits::{Aead, CryptoError};
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
use generic::{keyed, open, seal};

#[cfg(feature = "aes-ccm")]
use aead::consts::{U12, U16, U8};
#[cfg(feature = "aes-ccm")]
use aes::Aes128;
#[cfg(feature = "aes-gcm")]
use aes_gcm::Aes128Gcm;
#[cfg(all(feature = "aes-gcm", feature = "sha384"))]
use aes_gcm::Aes256Gcm;
#[cfg(feature = "aes-ccm")]
use ccm::Ccm;
#[cfg(feature = "chacha20poly1305")]
use chacha20poly1305::ChaCha20Poly1305;

/// AES-128-CCM with a 16-byte tag and a 12-byte nonce (so L = 3: records up to 2^24 - 1
/// bytes), as TLS_AES_128_CCM_SHA256 and the RFC 6655 suites use it.
#[cfg(feature = "aes-ccm")]
pub type Aes128Ccm = Ccm<Aes128, U16, U12>;
/// AES-128-CCM_8: an 8-byte tag, a 12-byte nonce (RFC 6655, RFC 7925).
#[cfg(feature = "aes-ccm")]
pub type Aes128Ccm8 = Ccm<Aes128, U8, U12>;

/// A keyed AEAD of one of the algorithms of [`AeadAlgorithm`] compiled in.
#[derive(Clone)]
pub enum RcAead {
    #[cfg(feature = "aes-gcm")]
    Aes128Gcm(Aes128Gcm),
    #[cfg(all(feature = "aes-gcm", feature = "sha384"))]
    Aes256Gcm(Aes256Gcm),
    #[cfg(feature = "chacha20poly1305")]
    ChaCha20Poly1305(ChaCha20Poly1305),
    #[cfg(feature = "aes-ccm")]
    Aes128Ccm(Aes128Ccm),
    #[cfg(feature = "aes-ccm")]
    Aes128Ccm8(Aes128Ccm8),
}

impl core::fmt::Debug for RcAead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the key.
        write!(f, "RcAead({:?})", self.algorithm())
    }
}

impl RcAead {
    /// `alg` keyed with `key`, which must be `alg.key_len()` bytes (else `BadLength`). An
    /// algorithm not compiled in is `Unsupported`, whatever the key.
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Result<RcAead, CryptoError> {
        if !alg.compiled_in() {
            return Err(CryptoError::Unsupported);
        }
        if key.len() != alg.key_len() {
            return Err(CryptoError::BadLength);
        }
        match alg {
            #[cfg(feature = "aes-gcm")]
            AeadAlgorithm::Aes128Gcm => Ok(RcAead::Aes128Gcm(keyed(key)?)),
            #[cfg(all(feature = "aes-gcm", feature = "sha384"))]
            AeadAlgorithm::Aes256Gcm => Ok(RcAead::Aes256Gcm(keyed(key)?)),
            #[cfg(feature = "chacha20poly1305")]
            AeadAlgorithm::ChaCha20Poly1305 => Ok(RcAead::ChaCha20Poly1305(keyed(key)?)),
            #[cfg(feature = "aes-ccm")]
            AeadAlgorithm::Aes128Ccm => Ok(RcAead::Aes128Ccm(keyed(key)?)),
            #[cfg(feature = "aes-ccm")]
            AeadAlgorithm::Aes128Ccm8 => Ok(RcAead::Aes128Ccm8(keyed(key)?)),
            #[allow(unreachable_patterns)]
            _ => Err(CryptoError::Unsupported),
        }
    }
}

/// The crate-generic sealing and opening, over the `aead` traits every AEAD crate implements.
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
mod generic {
    use crate::traits::CryptoError;
    use aead::array::Array;
    use aead::consts::U12;
    use aead::{AeadCore, AeadInOut, KeyInit};

    pub(super) fn keyed<C: KeyInit>(key: &[u8]) -> Result<C, CryptoError> {
        C::new_from_slice(key).map_err(|_| CryptoError::BadLength)
    }

    pub(super) fn seal<A>(
        a: &A,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), CryptoError>
    where
        A: AeadInOut + AeadCore<NonceSize = U12>,
    {
        let nonce = Array::from(*nonce);
        // Errors here are only "message or AAD too long" (CCM with L = 3: 2^24 - 1 bytes).
        let t = a
            .encrypt_inout_detached(&nonce, aad, buf.into())
            .map_err(|_| CryptoError::BadLength)?;
        if tag.len() != t.len() {
            return Err(CryptoError::BadLength);
        }
        tag.copy_from_slice(&t);
        Ok(())
    }

    pub(super) fn open<A>(
        a: &A,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError>
    where
        A: AeadInOut + AeadCore<NonceSize = U12>,
    {
        let nonce = Array::from(*nonce);
        let tag = Array::try_from(tag).map_err(|_| CryptoError::BadLength)?;
        // The crate compares the tag in constant time; a too-long input fails the same way.
        a.decrypt_inout_detached(&nonce, aad, buf.into(), &tag)
            .map_err(|_| CryptoError::BadTag)
    }
}

impl Aead for RcAead {
    fn algorithm(&self) -> AeadAlgorithm {
        match *self {
            #[cfg(feature = "aes-gcm")]
            RcAead::Aes128Gcm(_) => AeadAlgorithm::Aes128Gcm,
            #[cfg(all(feature = "aes-gcm", feature = "sha384"))]
            RcAead::Aes256Gcm(_) => AeadAlgorithm::Aes256Gcm,
            #[cfg(feature = "chacha20poly1305")]
            RcAead::ChaCha20Poly1305(_) => AeadAlgorithm::ChaCha20Poly1305,
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm(_) => AeadAlgorithm::Aes128Ccm,
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm8(_) => AeadAlgorithm::Aes128Ccm8,
        }
    }

    /// `tag` must be exactly `algorithm().tag_len()` bytes (else `BadLength`, and `buf` is
    /// then unspecified).
    #[allow(unused_variables)] // with no AEAD compiled in, `self` has no value
    fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), CryptoError> {
        if tag.len() != self.algorithm().tag_len() {
            return Err(CryptoError::BadLength);
        }
        match *self {
            #[cfg(feature = "aes-gcm")]
            RcAead::Aes128Gcm(ref a) => seal(a, nonce, aad, buf, tag),
            #[cfg(all(feature = "aes-gcm", feature = "sha384"))]
            RcAead::Aes256Gcm(ref a) => seal(a, nonce, aad, buf, tag),
            #[cfg(feature = "chacha20poly1305")]
            RcAead::ChaCha20Poly1305(ref a) => seal(a, nonce, aad, buf, tag),
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm(ref a) => seal(a, nonce, aad, buf, tag),
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm8(ref a) => seal(a, nonce, aad, buf, tag),
        }
    }

    /// A `tag` of the wrong length is `BadLength`; a tag that does not verify is `BadTag`.
    #[allow(unused_variables)] // with no AEAD compiled in, `self` has no value
    fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        match *self {
            #[cfg(feature = "aes-gcm")]
            RcAead::Aes128Gcm(ref a) => open(a, nonce, aad, buf, tag),
            #[cfg(all(feature = "aes-gcm", feature = "sha384"))]
            RcAead::Aes256Gcm(ref a) => open(a, nonce, aad, buf, tag),
            #[cfg(feature = "chacha20poly1305")]
            RcAead::ChaCha20Poly1305(ref a) => open(a, nonce, aad, buf, tag),
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm(ref a) => open(a, nonce, aad, buf, tag),
            #[cfg(feature = "aes-ccm")]
            RcAead::Aes128Ccm8(ref a) => open(a, nonce, aad, buf, tag),
        }
    }
}
