//! RSA-PSS handshake signing (`rsa`; feature `alloc`): `rsa_pss_rsae_sha256` with an
//! rsaEncryption key, as a TLS 1.3 server (or client) signs CertificateVerify.
//!
//! # Why the signer owns a generator
//!
//! Unlike ECDSA with RFC 6979 nonces and Ed25519, RSASSA-PSS is randomized: every signature
//! draws a fresh salt (RFC 8017 section 9.1.1), and the private-key operation is blinded
//! with a random factor so that its timing does not depend on the key (the `rsa` crate
//! blinds every `pss::SigningKey` signature with the generator it is given). The
//! [`Signer`] trait has no generator parameter (the engine calls `sign(&self, ..)` with
//! only the content to sign), so [`RsaPssSigner`] is built with the generator it uses and
//! keeps it in a [`RefCell`], since drawing from it needs `&mut` while `sign` has `&self`.
//! The `RefCell` makes the signer `!Sync`, which costs nothing: the engine holds
//! `&dyn Signer`, which is not `Sync` either. The generator is mote's [`Rng`], so the same
//! one the engine takes works here (`mote_std::OsRng` on a host, a TRNG on a device); a
//! failure of it is [`CryptoError::RngFailure`] and no signature is produced.

use super::rng::RngAdapter;
use super::sig::RSA_ENCRYPTION;
use crate::traits::{CryptoError, Rng, Signer};
use core::cell::RefCell;
use mote_wire::SignatureScheme;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, PrivateKeyInfoRef};
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::PublicKeyParts;
use rsa::{pss, PrivateKey as RsaPrivateKey};
use sha2::Sha256;
use spki::der::Decode;

/// The smallest modulus [`RsaPssSigner`] accepts, in bits.
pub const RSA_SIGNER_MIN_BITS: u32 = 2048;
/// The largest modulus [`RsaPssSigner`] accepts, in bits.
pub const RSA_SIGNER_MAX_BITS: u32 = 4096;
/// The largest signature [`RsaPssSigner`] produces: the modulus length of a 4096-bit key.
pub const MAX_RSA_SIGNATURE: usize = RSA_SIGNER_MAX_BITS as usize / 8;

/// The salt length of `rsa_pss_rsae_sha256`: the digest length (RFC 8446 section 4.2.3).
const SALT_LEN: usize = 32;

/// An RSA private key (rsaEncryption, 2048 to 4096 bits) signing `rsa_pss_rsae_sha256`:
/// RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt (RFC 8446 section 4.2.3).
/// Signatures are as long as the modulus (256 bytes for RSA-2048, at most
/// [`MAX_RSA_SIGNATURE`]).
///
/// It owns the generator `R` that draws each salt and blinding factor, because PSS is
/// randomized and the private operation is blinded, while [`Signer::sign`] takes no
/// generator; it sits in a [`RefCell`] since `sign` has `&self`, which makes the signer
/// `Send` (with `R: Send`) but not `Sync` (the engine's `&dyn Signer` is not `Sync` either).
/// A failure of `R` is [`CryptoError::RngFailure`]. On a host:
///
/// ```text
/// let signer = RsaPssSigner::from_pkcs8_der(&der, mote_std::OsRng)?;
/// ```
pub struct RsaPssSigner<R: Rng> {
    key: pss::SigningKey<Sha256>,
    rng: RefCell<R>,
}

impl<R: Rng> core::fmt::Debug for RsaPssSigner<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RsaPssSigner({} bits, ..)", self.modulus_bits())
    }
}

impl<R: Rng> RsaPssSigner<R> {
    /// From a DER PKCS #8 PrivateKeyInfo (RFC 5208 / RFC 5958, OpenSSL's "PRIVATE KEY")
    /// holding an rsaEncryption key (RFC 8017 appendix A.1.2). An id-RSASSA-PSS key, another
    /// algorithm, a malformed or inconsistent key, or a modulus outside 2048..=4096 bits is
    /// [`CryptoError::BadPrivateKey`].
    pub fn from_pkcs8_der(der: &[u8], rng: R) -> Result<RsaPssSigner<R>, CryptoError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| CryptoError::BadPrivateKey)?;
        // `rsa` would also take an id-RSASSA-PSS key, which `rsa_pss_rsae_*` excludes.
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(CryptoError::BadPrivateKey);
        }
        let key = RsaPrivateKey::try_from(info).map_err(|_| CryptoError::BadPrivateKey)?;
        RsaPssSigner::new(key, rng)
    }

    /// From a DER PKCS #1 RSAPrivateKey (RFC 8017 appendix A.1.2, OpenSSL's
    /// "RSA PRIVATE KEY"). Two-prime keys of 2048 to 4096 bits only; anything else is
    /// [`CryptoError::BadPrivateKey`].
    pub fn from_pkcs1_der(der: &[u8], rng: R) -> Result<RsaPssSigner<R>, CryptoError> {
        let key = RsaPrivateKey::from_pkcs1_der(der).map_err(|_| CryptoError::BadPrivateKey)?;
        RsaPssSigner::new(key, rng)
    }

    /// From either DER form: PKCS #8 first, then PKCS #1.
    pub fn from_der(der: &[u8], rng: R) -> Result<RsaPssSigner<R>, CryptoError> {
        let info_ok = PrivateKeyInfoRef::from_der(der).is_ok();
        if info_ok {
            RsaPssSigner::from_pkcs8_der(der, rng)
        } else {
            RsaPssSigner::from_pkcs1_der(der, rng)
        }
    }

    fn new(key: RsaPrivateKey, rng: R) -> Result<RsaPssSigner<R>, CryptoError> {
        // The `rsa` decoders have validated the key (consistent components, usable
        // exponent) and precomputed the CRT values.
        let bits = key.n().bit_width();
        if !(RSA_SIGNER_MIN_BITS..=RSA_SIGNER_MAX_BITS).contains(&bits) {
            return Err(CryptoError::BadPrivateKey);
        }
        Ok(RsaPssSigner {
            key: pss::SigningKey::new_with_salt_len(key, SALT_LEN),
            rng: RefCell::new(rng),
        })
    }

    /// The modulus length in bits (2048 to 4096).
    pub fn modulus_bits(&self) -> u32 {
        self.key.as_ref().n().bit_width()
    }

    /// The length of every signature this key makes: the modulus length in bytes.
    pub fn signature_len(&self) -> usize {
        self.key.as_ref().size()
    }

    /// The public key as a DER SubjectPublicKeyInfo (rsaEncryption with NULL parameters; 294
    /// bytes for RSA-2048, 550 for RSA-4096) in `out`; returns its length.
    pub fn public_key_spki(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
        let doc = self
            .key
            .as_ref()
            .as_public_key()
            .to_public_key_der()
            .map_err(|_| CryptoError::BadPrivateKey)?;
        let der = doc.as_bytes();
        out.get_mut(..der.len())
            .ok_or(CryptoError::BadLength)?
            .copy_from_slice(der);
        Ok(der.len())
    }

    /// Gives the generator back.
    pub fn into_rng(self) -> R {
        self.rng.into_inner()
    }
}

impl<R: Rng> Signer for RsaPssSigner<R> {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::RSA_PSS_RSAE_SHA256
    }

    /// An RSASSA-PSS signature over SHA-256 of `message`, of [`RsaPssSigner::signature_len`]
    /// bytes; `out` shorter than that is `BadLength` (checked before any work). A failure of
    /// the generator is `RngFailure`.
    fn sign(&self, message: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
        let out = out
            .get_mut(..self.signature_len())
            .ok_or(CryptoError::BadLength)?;
        // Only a generator that calls back into this signer could find it borrowed.
        let mut rng = self
            .rng
            .try_borrow_mut()
            .map_err(|_| CryptoError::RngFailure)?;
        let mut adapter = RngAdapter::new(&mut *rng);
        let sig = match self.key.try_sign_with_rng(&mut adapter, message) {
            Ok(sig) => sig,
            Err(_) if adapter.failed() => return Err(CryptoError::RngFailure),
            Err(_) => return Err(CryptoError::BadPrivateKey),
        };
        // The generator may have failed inside an operation that still completed (it never
        // should): a signature made from a failed draw is not released.
        if adapter.failed() {
            return Err(CryptoError::RngFailure);
        }
        let sig = sig.to_bytes();
        if sig.len() != out.len() {
            return Err(CryptoError::BadPrivateKey);
        }
        out.copy_from_slice(&sig);
        Ok(sig.len())
    }
}
