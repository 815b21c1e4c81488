//! AEADs: AES-GCM (`aes-gcm`), AES-CCM (`ccm` over `aes`) and ChaCha20-Poly1305
//! (`chacha20poly1305`), all with TLS's 12-byte nonce.

use crate::suites::AeadAlgorithm;
use crate::traits::{Aead, CryptoError};
use aes::Aes128;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::{U12, U16, U8};
use aes_gcm::aead::{AeadCore, AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;

/// AES-128-CCM with a 16-byte tag and a 12-byte nonce (so L = 3: records up to 2^24 - 1
/// bytes), as TLS_AES_128_CCM_SHA256 and the RFC 6655 suites use it.
pub type Aes128Ccm = Ccm<Aes128, U16, U12>;
/// AES-128-CCM_8: an 8-byte tag, a 12-byte nonce (RFC 6655, RFC 7925).
pub type Aes128Ccm8 = Ccm<Aes128, U8, U12>;

/// A keyed AEAD of one of the algorithms of [`AeadAlgorithm`].
#[derive(Clone)]
pub enum RcAead {
    Aes128Gcm(Aes128Gcm),
    Aes256Gcm(Aes256Gcm),
    ChaCha20Poly1305(ChaCha20Poly1305),
    Aes128Ccm(Aes128Ccm),
    Aes128Ccm8(Aes128Ccm8),
}

impl core::fmt::Debug for RcAead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the key.
        write!(f, "RcAead({:?})", self.algorithm())
    }
}

fn keyed<C: KeyInit>(key: &[u8]) -> Result<C, CryptoError> {
    C::new_from_slice(key).map_err(|_| CryptoError::BadLength)
}

impl RcAead {
    /// `alg` keyed with `key`, which must be `alg.key_len()` bytes (else `BadLength`).
    pub fn new(alg: AeadAlgorithm, key: &[u8]) -> Result<RcAead, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::BadLength);
        }
        Ok(match alg {
            AeadAlgorithm::Aes128Gcm => RcAead::Aes128Gcm(keyed(key)?),
            AeadAlgorithm::Aes256Gcm => RcAead::Aes256Gcm(keyed(key)?),
            AeadAlgorithm::ChaCha20Poly1305 => RcAead::ChaCha20Poly1305(keyed(key)?),
            AeadAlgorithm::Aes128Ccm => RcAead::Aes128Ccm(keyed(key)?),
            AeadAlgorithm::Aes128Ccm8 => RcAead::Aes128Ccm8(keyed(key)?),
        })
    }
}

fn seal<A>(
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

fn open<A>(
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

impl Aead for RcAead {
    fn algorithm(&self) -> AeadAlgorithm {
        match self {
            RcAead::Aes128Gcm(_) => AeadAlgorithm::Aes128Gcm,
            RcAead::Aes256Gcm(_) => AeadAlgorithm::Aes256Gcm,
            RcAead::ChaCha20Poly1305(_) => AeadAlgorithm::ChaCha20Poly1305,
            RcAead::Aes128Ccm(_) => AeadAlgorithm::Aes128Ccm,
            RcAead::Aes128Ccm8(_) => AeadAlgorithm::Aes128Ccm8,
        }
    }

    /// `tag` must be exactly `algorithm().tag_len()` bytes (else `BadLength`, and `buf` is
    /// then unspecified).
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
        match self {
            RcAead::Aes128Gcm(a) => seal(a, nonce, aad, buf, tag),
            RcAead::Aes256Gcm(a) => seal(a, nonce, aad, buf, tag),
            RcAead::ChaCha20Poly1305(a) => seal(a, nonce, aad, buf, tag),
            RcAead::Aes128Ccm(a) => seal(a, nonce, aad, buf, tag),
            RcAead::Aes128Ccm8(a) => seal(a, nonce, aad, buf, tag),
        }
    }

    /// A `tag` of the wrong length is `BadLength`; a tag that does not verify is `BadTag`.
    fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError> {
        match self {
            RcAead::Aes128Gcm(a) => open(a, nonce, aad, buf, tag),
            RcAead::Aes256Gcm(a) => open(a, nonce, aad, buf, tag),
            RcAead::ChaCha20Poly1305(a) => open(a, nonce, aad, buf, tag),
            RcAead::Aes128Ccm(a) => open(a, nonce, aad, buf, tag),
            RcAead::Aes128Ccm8(a) => open(a, nonce, aad, buf, tag),
        }
    }
}
