//! Handshake signing keys: ECDSA P-256 (`p256`, RFC 6979 deterministic nonces, so no RNG;
//! feature `p256`) and Ed25519 (`ed25519-dalek`; feature `ed25519`).

#[cfg(feature = "ed25519")]
use super::sig::ID_ED25519;
#[cfg(feature = "p256")]
use super::sig::{ID_EC_PUBLIC_KEY, SECP256R1};
use crate::traits::{CryptoError, Signer};
use mote_wire::SignatureScheme;
#[cfg(feature = "p256")]
use p256::ecdsa::signature::Signer as _;
#[cfg(feature = "p256")]
use p256::pkcs8::DecodePrivateKey;
use spki::der::asn1::{AnyRef, BitStringRef};
use spki::der::Encode;
use spki::{AlgorithmIdentifierRef, ObjectIdentifier, SubjectPublicKeyInfoRef};

/// The DER SubjectPublicKeyInfo of `key` under `oid` (with `curve` as ECParameters), into
/// `out`; returns its length.
fn encode_spki(
    oid: ObjectIdentifier,
    curve: Option<&ObjectIdentifier>,
    key: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    let info = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef {
            oid,
            parameters: curve.map(AnyRef::from),
        },
        subject_public_key: BitStringRef::from_bytes(key).map_err(|_| CryptoError::BadLength)?,
    };
    let der = info
        .encode_to_slice(out)
        .map_err(|_| CryptoError::BadLength)?;
    Ok(der.len())
}

fn write_sig(sig: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
    out.get_mut(..sig.len())
        .ok_or(CryptoError::BadLength)?
        .copy_from_slice(sig);
    Ok(sig.len())
}

/// An ECDSA P-256 private key signing `ecdsa_secp256r1_sha256` with DER signatures (at most
/// 72 bytes, [`MAX_SIGNATURE`](crate::MAX_SIGNATURE)) and RFC 6979 nonces.
#[cfg(feature = "p256")]
#[derive(Clone)]
pub struct EcdsaP256Signer {
    key: p256::ecdsa::SigningKey,
}

#[cfg(feature = "p256")]
impl core::fmt::Debug for EcdsaP256Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EcdsaP256Signer(..)")
    }
}

#[cfg(feature = "p256")]
impl EcdsaP256Signer {
    /// From a DER PKCS #8 PrivateKeyInfo (RFC 5208 / RFC 5958) holding a P-256 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<EcdsaP256Signer, CryptoError> {
        let key =
            p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|_| CryptoError::BadPrivateKey)?;
        Ok(EcdsaP256Signer { key })
    }

    /// From a DER SEC1 ECPrivateKey (RFC 5915, OpenSSL's "EC PRIVATE KEY").
    pub fn from_sec1_der(der: &[u8]) -> Result<EcdsaP256Signer, CryptoError> {
        let secret = p256::SecretKey::from_sec1_der(der).map_err(|_| CryptoError::BadPrivateKey)?;
        Ok(EcdsaP256Signer {
            key: p256::ecdsa::SigningKey::from(secret),
        })
    }

    /// From either DER form: PKCS #8 first, then SEC1.
    pub fn from_der(der: &[u8]) -> Result<EcdsaP256Signer, CryptoError> {
        EcdsaP256Signer::from_pkcs8_der(der).or_else(|_| EcdsaP256Signer::from_sec1_der(der))
    }

    /// From the 32-byte big-endian private scalar (non-zero, below the group order).
    pub fn from_scalar(bytes: &[u8]) -> Result<EcdsaP256Signer, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::BadPrivateKey);
        }
        let key =
            p256::ecdsa::SigningKey::from_slice(bytes).map_err(|_| CryptoError::BadPrivateKey)?;
        Ok(EcdsaP256Signer { key })
    }

    /// The public key as a 65-byte uncompressed SEC1 point.
    pub fn public_key(&self) -> [u8; 65] {
        let point = self.key.verifying_key().to_sec1_point(false);
        let mut out = [0u8; 65];
        if let Some(dst) = out.get_mut(..point.as_bytes().len()) {
            dst.copy_from_slice(point.as_bytes());
        }
        out
    }

    /// The public key as a DER SubjectPublicKeyInfo (91 bytes) in `out`; returns its length.
    pub fn public_key_spki(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
        encode_spki(ID_EC_PUBLIC_KEY, Some(&SECP256R1), &self.public_key(), out)
    }
}

#[cfg(feature = "p256")]
impl Signer for EcdsaP256Signer {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_SECP256R1_SHA256
    }

    /// A DER ECDSA-Sig-Value over SHA-256 of `message`; `out` too short is `BadLength`.
    fn sign(&self, message: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
        let sig: p256::ecdsa::DerSignature = self
            .key
            .try_sign(message)
            .map_err(|_| CryptoError::BadPrivateKey)?;
        write_sig(sig.as_bytes(), out)
    }
}

/// An Ed25519 private key signing `ed25519` (64-byte signatures, RFC 8032).
#[cfg(feature = "ed25519")]
#[derive(Clone)]
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
}

#[cfg(feature = "ed25519")]
impl core::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ed25519Signer(..)")
    }
}

#[cfg(feature = "ed25519")]
impl Ed25519Signer {
    /// From a DER PKCS #8 OneAsymmetricKey holding an Ed25519 key (RFC 8410 section 7).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Ed25519Signer, CryptoError> {
        let key =
            <ed25519_dalek::SigningKey as ed25519_dalek::pkcs8::DecodePrivateKey>::from_pkcs8_der(
                der,
            )
            .map_err(|_| CryptoError::BadPrivateKey)?;
        Ok(Ed25519Signer { key })
    }

    /// From the 32-byte private key (the seed of RFC 8032 section 5.1.5).
    pub fn from_seed(seed: &[u8; 32]) -> Ed25519Signer {
        Ed25519Signer {
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key as a DER SubjectPublicKeyInfo (44 bytes) in `out`; returns its length.
    pub fn public_key_spki(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
        encode_spki(ID_ED25519, None, &self.public_key(), out)
    }
}

#[cfg(feature = "ed25519")]
impl Signer for Ed25519Signer {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }

    fn sign(&self, message: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
        let sig: ed25519_dalek::Signature = ed25519_dalek::Signer::try_sign(&self.key, message)
            .map_err(|_| CryptoError::BadPrivateKey)?;
        write_sig(&sig.to_bytes(), out)
    }
}
