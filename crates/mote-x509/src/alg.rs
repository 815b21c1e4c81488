//! Signature algorithm identifiers (RFC 5280 4.1.1.2) and the TLS SignatureScheme each one
//! means for the provider.

use mote_crypto::HashAlgorithm;
use mote_wire::SignatureScheme;

use crate::der::{context, Der, Tlv, NULL, SEQUENCE};
use crate::error::X509Error;

// OID content octets (X.690 8.19), compared byte for byte.
/// ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758 3.2).
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// ecdsa-with-SHA384, 1.2.840.10045.4.3.3 (RFC 5758 3.2).
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
/// id-Ed25519, 1.3.101.112 (RFC 8410 3).
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// sha256WithRSAEncryption, 1.2.840.113549.1.1.11 (RFC 4055 5).
const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// sha384WithRSAEncryption, 1.2.840.113549.1.1.12.
const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
/// sha512WithRSAEncryption, 1.2.840.113549.1.1.13.
const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
/// id-RSASSA-PSS, 1.2.840.113549.1.1.10 (RFC 4055 3.1).
const RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
/// id-mgf1, 1.2.840.113549.1.1.8 (RFC 4055 2.2).
const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
/// id-sha256, id-sha384, id-sha512: 2.16.840.1.101.3.4.2.{1,2,3} (RFC 4055 2.1).
const SHA2_PREFIX: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];

/// The hash a certificate signature scheme digests the TBS with, when the provider offers it
/// (`None` for Ed25519, which signs the message itself, and for SHA-512, which mote-crypto's
/// `HashAlgorithm` does not include).
pub(crate) fn prehash(scheme: SignatureScheme) -> Option<HashAlgorithm> {
    match scheme {
        SignatureScheme::ECDSA_SECP256R1_SHA256
        | SignatureScheme::RSA_PKCS1_SHA256
        | SignatureScheme::RSA_PSS_RSAE_SHA256 => Some(HashAlgorithm::Sha256),
        SignatureScheme::ECDSA_SECP384R1_SHA384
        | SignatureScheme::RSA_PKCS1_SHA384
        | SignatureScheme::RSA_PSS_RSAE_SHA384 => Some(HashAlgorithm::Sha384),
        _ => None,
    }
}

/// Maps an `AlgorithmIdentifier` to the TLS SignatureScheme the provider verifies it as.
///
/// X.509's ecdsa-with-SHA256 does not bind the curve, TLS's ecdsa_secp256r1_sha256 does: the
/// mapping assumes the usual pairing (P-256 with SHA-256, P-384 with SHA-384), and a provider
/// that checks the key against the scheme rejects the unusual ones. RSASSA-PSS maps to
/// rsa_pss_rsae_* because the issuing key is an rsaEncryption key in practice (RFC 8446
/// 4.2.3) and only the parameter set TLS 1.3 itself uses is accepted: MGF1 with the same
/// hash, a salt as long as the hash, trailer field 1.
pub(crate) fn signature_scheme(der: &Der<'_>, alg: &Tlv<'_>) -> Result<SignatureScheme, X509Error> {
    let unsupported = X509Error::UnsupportedSignatureAlgorithm { index: der.index() };
    let mut r = der.inside(alg);
    let oid = r.oid("signatureAlgorithm.algorithm")?;
    let params_offset = r.offset();
    let params = if r.is_empty() {
        None
    } else {
        Some(r.any("signatureAlgorithm.parameters")?)
    };
    r.finish("signatureAlgorithm has trailing elements")?;
    let bad_params = der.error_at(params_offset, "signatureAlgorithm.parameters");
    let null_or_absent = |p: Option<Tlv<'_>>| match p {
        None => Ok(()),
        Some(t) if t.tag == NULL && t.content.is_empty() => Ok(()),
        Some(_) => Err(bad_params),
    };
    match oid {
        // RFC 5758 3.2 and RFC 8410 3: parameters MUST be absent.
        ECDSA_SHA256 | ECDSA_SHA384 | ED25519 if params.is_some() => Err(bad_params),
        ECDSA_SHA256 => Ok(SignatureScheme::ECDSA_SECP256R1_SHA256),
        ECDSA_SHA384 => Ok(SignatureScheme::ECDSA_SECP384R1_SHA384),
        ED25519 => Ok(SignatureScheme::ED25519),
        // RFC 4055 5: NULL parameters (absent ones are tolerated, as most verifiers do).
        RSA_SHA256 => null_or_absent(params).map(|_| SignatureScheme::RSA_PKCS1_SHA256),
        RSA_SHA384 => null_or_absent(params).map(|_| SignatureScheme::RSA_PKCS1_SHA384),
        RSA_SHA512 => null_or_absent(params).map(|_| SignatureScheme::RSA_PKCS1_SHA512),
        RSA_PSS => match params {
            Some(p) if p.tag == SEQUENCE => pss_params(der, &p)?.ok_or(unsupported),
            _ => Err(bad_params),
        },
        _ => Err(unsupported),
    }
}

/// Reads `RSASSA-PSS-params` (RFC 4055 3.1) and returns the scheme if the parameter set is
/// the TLS one, `None` if it is well-formed but another (SHA-1 defaults, other salt lengths).
fn pss_params(der: &Der<'_>, params: &Tlv<'_>) -> Result<Option<SignatureScheme>, X509Error> {
    let mut r = der.inside(params);
    // Every field has a SHA-1-based DEFAULT, so an absent hash or MGF is unsupported.
    let Some(hash) = r.optional(context(0), "RSASSA-PSS-params.hashAlgorithm")? else {
        return Ok(None);
    };
    let hash = hash_oid(&r, &hash, "RSASSA-PSS-params.hashAlgorithm")?;
    let Some(mgf) = r.optional(context(1), "RSASSA-PSS-params.maskGenAlgorithm")? else {
        return Ok(None);
    };
    let mut m = r
        .inside(&mgf)
        .sequence("RSASSA-PSS-params.maskGenAlgorithm")?;
    let mgf_oid = m.oid("maskGenAlgorithm.algorithm")?;
    let mgf_hash_tlv = m.expect(SEQUENCE, "maskGenAlgorithm.parameters")?;
    m.finish("maskGenAlgorithm has trailing elements")?;
    let mgf_hash = hash_alg(&m, &mgf_hash_tlv, "maskGenAlgorithm.parameters")?;
    let salt = match r.optional(context(2), "RSASSA-PSS-params.saltLength")? {
        Some(t) => Some(r.inside(&t).small_uint("RSASSA-PSS-params.saltLength")?),
        None => None,
    };
    if let Some(t) = r.optional(context(3), "RSASSA-PSS-params.trailerField")? {
        if r.inside(&t).small_uint("RSASSA-PSS-params.trailerField")? != 1 {
            return Ok(None);
        }
    }
    r.finish("RSASSA-PSS-params has trailing elements")?;
    let scheme = match hash {
        1 => SignatureScheme::RSA_PSS_RSAE_SHA256,
        2 => SignatureScheme::RSA_PSS_RSAE_SHA384,
        3 => SignatureScheme::RSA_PSS_RSAE_SHA512,
        _ => return Ok(None),
    };
    let salt_ok = salt == Some(16 + 16 * hash);
    Ok((mgf_oid == MGF1 && mgf_hash == hash && salt_ok).then_some(scheme))
}

/// `[n] EXPLICIT HashAlgorithm`: the SHA-2 number (1 = SHA-256, 2 = 384, 3 = 512, others 0).
fn hash_oid(r: &Der<'_>, tagged: &Tlv<'_>, what: &'static str) -> Result<u32, X509Error> {
    let mut inner = r.inside(tagged);
    let alg = inner.expect(SEQUENCE, what)?;
    inner.finish(what)?;
    hash_alg(r, &alg, what)
}

/// A hash `AlgorithmIdentifier` whose parameters are NULL or absent (RFC 4055 2.1 requires
/// accepting both).
fn hash_alg(r: &Der<'_>, alg: &Tlv<'_>, what: &'static str) -> Result<u32, X509Error> {
    let mut a = r.inside(alg);
    let oid = a.oid(what)?;
    if let Some(p) = a.optional(NULL, what)? {
        if !p.content.is_empty() {
            return Err(r.error_at(p.offset, what));
        }
    }
    a.finish(what)?;
    Ok(match oid {
        [prefix @ .., n @ 1..=3] if prefix == SHA2_PREFIX => u32::from(*n),
        _ => 0,
    })
}
