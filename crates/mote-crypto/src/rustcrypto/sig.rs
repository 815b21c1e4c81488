//! Signature verification from a DER SubjectPublicKeyInfo: ECDSA P-256 (`p256`, feature
//! `p256`), Ed25519 (`ed25519-dalek`, feature `ed25519`) and, with feature `alloc`, RSA
//! (`rsa`, in the `rsa` module). A scheme compiled out is `Unsupported`.

use crate::traits::CryptoError;
use mote_wire::SignatureScheme;
#[cfg(feature = "p256")]
use p256::ecdsa::signature::hazmat::PrehashVerifier;
#[cfg(feature = "p256")]
use p256::ecdsa::signature::Verifier;
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
use spki::der::Decode;
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
use spki::ObjectIdentifier;
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
use spki::SubjectPublicKeyInfoRef;

/// id-ecPublicKey (RFC 5480 section 2.1.1).
#[cfg(feature = "p256")]
pub(super) const ID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / prime256v1 (RFC 5480 section 2.1.1.1).
#[cfg(feature = "p256")]
pub(super) const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// id-Ed25519 (RFC 8410 section 3).
#[cfg(feature = "ed25519")]
pub(super) const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// rsaEncryption (RFC 3279 section 2.3.1).
#[cfg(feature = "alloc")]
pub(super) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// What a signature is checked over.
#[derive(Clone, Copy)]
// Only ECDSA and RSA read a digest (and nothing reads anything with no signature feature).
#[cfg_attr(not(any(feature = "p256", feature = "alloc")), allow(dead_code))]
pub(super) enum Signed<'a> {
    /// The message itself.
    Message(&'a [u8]),
    /// The scheme's hash of the message.
    Digest(&'a [u8]),
}

/// Whether the provider verifies `scheme`: ECDSA P-256 with feature `p256`, Ed25519 with
/// `ed25519`, RSA PKCS #1 v1.5 and PSS (rsaEncryption keys) with `alloc`.
pub(super) fn supported(scheme: SignatureScheme) -> bool {
    match scheme {
        #[cfg(feature = "p256")]
        SignatureScheme::ECDSA_SECP256R1_SHA256 => true,
        #[cfg(feature = "ed25519")]
        SignatureScheme::ED25519 => true,
        #[cfg(feature = "alloc")]
        SignatureScheme::RSA_PKCS1_SHA256
        | SignatureScheme::RSA_PKCS1_SHA384
        | SignatureScheme::RSA_PKCS1_SHA512
        | SignatureScheme::RSA_PSS_RSAE_SHA256
        | SignatureScheme::RSA_PSS_RSAE_SHA384
        | SignatureScheme::RSA_PSS_RSAE_SHA512 => true,
        _ => false,
    }
}

/// Verifies `signature` by the key in `spki` under `scheme`. See the module docs of
/// [`rustcrypto`](super) for which failure is which error.
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
pub(super) fn verify(
    scheme: SignatureScheme,
    spki: &[u8],
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    if !supported(scheme) {
        return Err(CryptoError::Unsupported);
    }
    // Ed25519 signs the message itself (PureEdDSA, RFC 8032): no digest to verify against.
    if scheme == SignatureScheme::ED25519 && matches!(signed, Signed::Digest(_)) {
        return Err(CryptoError::Unsupported);
    }
    // `from_der` rejects trailing bytes after the SEQUENCE.
    let info = SubjectPublicKeyInfoRef::from_der(spki).map_err(|_| CryptoError::BadPublicKey)?;
    match scheme {
        #[cfg(feature = "p256")]
        SignatureScheme::ECDSA_SECP256R1_SHA256 => ecdsa_p256(&info, signed, signature),
        #[cfg(feature = "ed25519")]
        SignatureScheme::ED25519 => ed25519(&info, signed, signature),
        #[cfg(feature = "alloc")]
        _ => super::rsa::verify(scheme, info, signed, signature),
        #[cfg(not(feature = "alloc"))]
        _ => Err(CryptoError::Unsupported),
    }
}

/// No signature algorithm is compiled in: every scheme is `Unsupported`.
#[cfg(not(any(feature = "p256", feature = "ed25519", feature = "alloc")))]
pub(super) fn verify(
    _scheme: SignatureScheme,
    _spki: &[u8],
    _signed: Signed<'_>,
    _signature: &[u8],
) -> Result<(), CryptoError> {
    Err(CryptoError::Unsupported)
}

/// The key's bytes (the BIT STRING must have no unused bits).
#[cfg(any(feature = "p256", feature = "ed25519"))]
fn key_bytes<'a>(info: &SubjectPublicKeyInfoRef<'a>) -> Result<&'a [u8], CryptoError> {
    info.subject_public_key
        .as_bytes()
        .ok_or(CryptoError::BadPublicKey)
}

#[cfg(feature = "p256")]
fn ecdsa_p256(
    info: &SubjectPublicKeyInfoRef<'_>,
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    if info.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(CryptoError::BadSignature);
    }
    // ECParameters must be a namedCurve (RFC 5480): anything else is a malformed key; a
    // named curve other than P-256 is a key that cannot make this scheme's signatures.
    let curve = info
        .algorithm
        .parameters_oid()
        .map_err(|_| CryptoError::BadPublicKey)?;
    if curve != SECP256R1 {
        return Err(CryptoError::BadSignature);
    }
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes(info)?)
        .map_err(|_| CryptoError::BadPublicKey)?;
    let sig =
        p256::ecdsa::DerSignature::from_bytes(signature).map_err(|_| CryptoError::BadSignature)?;
    match signed {
        Signed::Message(m) => key.verify(m, &sig),
        Signed::Digest(d) => {
            if d.len() != 32 {
                return Err(CryptoError::BadLength);
            }
            key.verify_prehash(d, &sig)
        }
    }
    .map_err(|_| CryptoError::BadSignature)
}

#[cfg(feature = "ed25519")]
fn ed25519(
    info: &SubjectPublicKeyInfoRef<'_>,
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    if info.algorithm.oid != ID_ED25519 {
        return Err(CryptoError::BadSignature);
    }
    // RFC 8410 section 3: the parameters MUST be absent.
    if info.algorithm.parameters.is_some() {
        return Err(CryptoError::BadPublicKey);
    }
    let key = <&[u8; 32]>::try_from(key_bytes(info)?).map_err(|_| CryptoError::BadPublicKey)?;
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(key).map_err(|_| CryptoError::BadPublicKey)?;
    let sig =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
    match signed {
        Signed::Message(m) => key
            .verify_strict(m, &sig)
            .map_err(|_| CryptoError::BadSignature),
        Signed::Digest(_) => Err(CryptoError::Unsupported),
    }
}
