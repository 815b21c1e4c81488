//! RSA signature verification (`rsa`; feature `alloc`): PKCS #1 v1.5 and RSASSA-PSS with an
//! rsaEncryption key, for certificate chains and TLS 1.3 CertificateVerify.

use super::sig::{Signed, RSA_ENCRYPTION};
use crate::traits::CryptoError;
use mote_wire::SignatureScheme;
use rsa::pkcs8::AssociatedOid;
use rsa::signature::hazmat::PrehashVerifier;
use rsa::signature::Verifier;
use rsa::{pkcs1v15, pss, PublicKey as RsaPublicKey};
use sha2::digest::FixedOutputReset;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::SubjectPublicKeyInfoRef;

/// Verifies an `rsa_pkcs1_*` or `rsa_pss_rsae_*` signature; the key must be rsaEncryption
/// (another algorithm is `BadSignature`: see the provider's policy).
pub(super) fn verify(
    scheme: SignatureScheme,
    info: SubjectPublicKeyInfoRef<'_>,
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(CryptoError::BadSignature);
    }
    // Checks the NULL parameters, the RSAPublicKey encoding and the modulus size (1024 to
    // 8192 bits) and exponent.
    let key = RsaPublicKey::try_from(info).map_err(|_| CryptoError::BadPublicKey)?;
    match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => pkcs1::<Sha256>(key, signed, signature),
        SignatureScheme::RSA_PKCS1_SHA384 => pkcs1::<Sha384>(key, signed, signature),
        SignatureScheme::RSA_PKCS1_SHA512 => pkcs1::<Sha512>(key, signed, signature),
        SignatureScheme::RSA_PSS_RSAE_SHA256 => pss::<Sha256>(key, signed, signature),
        SignatureScheme::RSA_PSS_RSAE_SHA384 => pss::<Sha384>(key, signed, signature),
        SignatureScheme::RSA_PSS_RSAE_SHA512 => pss::<Sha512>(key, signed, signature),
        _ => Err(CryptoError::Unsupported),
    }
}

fn digest_len_ok<D: Digest>(d: &[u8]) -> Result<(), CryptoError> {
    if d.len() == <D as Digest>::output_size() {
        Ok(())
    } else {
        Err(CryptoError::BadLength)
    }
}

fn pkcs1<D: Digest + AssociatedOid>(
    key: RsaPublicKey,
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    let key = pkcs1v15::VerifyingKey::<D>::new(key);
    let sig = pkcs1v15::Signature::try_from(signature).map_err(|_| CryptoError::BadSignature)?;
    match signed {
        Signed::Message(m) => key.verify(m, &sig),
        Signed::Digest(d) => {
            digest_len_ok::<D>(d)?;
            key.verify_prehash(d, &sig)
        }
    }
    .map_err(|_| CryptoError::BadSignature)
}

fn pss<D: Digest + FixedOutputReset>(
    key: RsaPublicKey,
    signed: Signed<'_>,
    signature: &[u8],
) -> Result<(), CryptoError> {
    // Salt length = digest length, as RFC 8446 section 4.2.3 requires.
    let key = pss::VerifyingKey::<D>::new(key);
    let sig = pss::Signature::try_from(signature).map_err(|_| CryptoError::BadSignature)?;
    match signed {
        Signed::Message(m) => key.verify(m, &sig),
        Signed::Digest(d) => {
            digest_len_ok::<D>(d)?;
            key.verify_prehash(d, &sig)
        }
    }
    .map_err(|_| CryptoError::BadSignature)
}
