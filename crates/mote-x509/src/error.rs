//! What went wrong, in which certificate, and which alert says so.

use core::fmt;
use mote_wire::AlertDescription;

use crate::Usage;

/// Why a certificate or chain was rejected. Every variant names the check that failed and,
/// where one certificate is to blame, its `index` in the chain as sent (0 = end-entity, 1 = its
/// issuer, ...), so a device with nothing but a log line can tell what to fix. `Copy` and small
/// so the validator can keep the first error and repeat it (see [`crate::ChainValidator`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X509Error {
    /// The peer sent no certificate at all.
    Empty { usage: Usage },
    /// The DER does not parse: `offset` is the byte offset inside certificate `index` of the
    /// element that is wrong, `what` names it.
    Malformed {
        index: u8,
        offset: u32,
        what: &'static str,
    },
    /// `signatureAlgorithm` is not one mote verifies (or the provider lacks it).
    UnsupportedSignatureAlgorithm { index: u8 },
    /// `signatureAlgorithm` differs from `tbsCertificate.signature` (RFC 5280 4.1.1.2).
    AlgorithmMismatch { index: u8 },
    /// A critical extension that mote does not process (RFC 5280 4.2).
    UnsupportedCriticalExtension { index: u8 },
    /// `now` is after notAfter (seconds since the Unix epoch).
    Expired { index: u8, not_after: i64, now: u64 },
    /// `now` is before notBefore.
    NotYetValid {
        index: u8,
        not_before: i64,
        now: u64,
    },
    /// The end-entity's subjectAltName does not name the server (no Common Name fallback).
    NameMismatch { index: u8 },
    /// Certificate `index` names an issuer that is neither a trust anchor nor sent after it.
    UnknownIssuer { index: u8 },
    /// Certificate `index` is not the issuer of certificate `index - 1`: its subject differs
    /// from that certificate's issuer (chains must be sent in order, RFC 8446 4.4.2).
    IssuerMismatch { index: u8 },
    /// The signature on certificate `index` does not verify with its issuer's key.
    BadSignature { index: u8 },
    /// Certificate `index` issued another but is not a CA (basicConstraints cA, RFC 5280
    /// 4.2.1.9).
    NotACa { index: u8 },
    /// Certificate `index` allows `max` intermediates below it but `found` follow it.
    PathLenExceeded { index: u8, max: u32, found: u32 },
    /// keyUsage of certificate `index` lacks digitalSignature (end-entity) or keyCertSign (CA)
    /// (RFC 5280 4.2.1.3).
    KeyUsage { index: u8 },
    /// extKeyUsage of certificate `index` lacks serverAuth or clientAuth as required
    /// (RFC 5280 4.2.1.12).
    ExtKeyUsage { index: u8 },
    /// More than `max` certificates were needed to reach a trust anchor.
    ChainTooLong { max: u8 },
    /// Certificate `index` is signed with Ed25519 by an issuer that is not a trust anchor:
    /// Ed25519 signs the whole TBS, which the streaming validator no longer holds when the
    /// issuer's key arrives (see [`crate::ChainValidator`]).
    Ed25519NeedsIssuerAnchor { index: u8 },
    /// The signature on certificate `index` (`len` bytes) does not fit the validator's buffer
    /// of `max` bytes (RSA needs `ChainValidator<'_, 512>`).
    SignatureTooLarge { index: u8, len: u32, max: u32 },
    /// The end-entity's SubjectPublicKeyInfo is larger than [`crate::MAX_SPKI`].
    SpkiTooLarge { index: u8, len: u32 },
    /// The end-entity's key is not the pinned one (SPKI hash pin or RFC 7250 raw key).
    PinMismatch { index: u8 },
    /// The caller passed certificate `index` where `expected` was due (an engine bug).
    OutOfOrder { index: u8, expected: u8 },
}

impl X509Error {
    /// The alert to send (RFC 8446 6.2): corrupt or unverifiable certificates are
    /// bad_certificate, expiry certificate_expired, an untrusted root unknown_ca, algorithms
    /// and extensions mote lacks unsupported_certificate, undecodable DER decode_error.
    pub fn alert(&self) -> AlertDescription {
        use X509Error as E;
        match self {
            // RFC 8446 4.4.2.4: an empty server Certificate is decode_error; a server that
            // requires a client certificate and gets none sends certificate_required.
            E::Empty {
                usage: Usage::ServerAuth,
            } => AlertDescription::DECODE_ERROR,
            E::Empty {
                usage: Usage::ClientAuth,
            } => AlertDescription::CERTIFICATE_REQUIRED,
            E::Malformed { .. } => AlertDescription::DECODE_ERROR,
            E::Expired { .. } | E::NotYetValid { .. } => AlertDescription::CERTIFICATE_EXPIRED,
            E::UnknownIssuer { .. } | E::IssuerMismatch { .. } => AlertDescription::UNKNOWN_CA,
            E::AlgorithmMismatch { .. }
            | E::BadSignature { .. }
            | E::NameMismatch { .. }
            | E::NotACa { .. }
            | E::PathLenExceeded { .. } => AlertDescription::BAD_CERTIFICATE,
            E::UnsupportedSignatureAlgorithm { .. }
            | E::UnsupportedCriticalExtension { .. }
            | E::KeyUsage { .. }
            | E::ExtKeyUsage { .. }
            | E::Ed25519NeedsIssuerAnchor { .. }
            | E::SignatureTooLarge { .. }
            | E::SpkiTooLarge { .. } => AlertDescription::UNSUPPORTED_CERTIFICATE,
            E::ChainTooLong { .. } | E::PinMismatch { .. } => AlertDescription::CERTIFICATE_UNKNOWN,
            E::OutOfOrder { .. } => AlertDescription::INTERNAL_ERROR,
        }
    }

    /// The certificate this error is about, if one is to blame.
    pub fn index(&self) -> Option<u8> {
        use X509Error as E;
        match *self {
            E::Empty { .. } | E::ChainTooLong { .. } => None,
            E::Malformed { index, .. }
            | E::UnsupportedSignatureAlgorithm { index }
            | E::AlgorithmMismatch { index }
            | E::UnsupportedCriticalExtension { index }
            | E::Expired { index, .. }
            | E::NotYetValid { index, .. }
            | E::NameMismatch { index }
            | E::UnknownIssuer { index }
            | E::IssuerMismatch { index }
            | E::BadSignature { index }
            | E::NotACa { index }
            | E::PathLenExceeded { index, .. }
            | E::KeyUsage { index }
            | E::ExtKeyUsage { index }
            | E::Ed25519NeedsIssuerAnchor { index }
            | E::SignatureTooLarge { index, .. }
            | E::SpkiTooLarge { index, .. }
            | E::PinMismatch { index }
            | E::OutOfOrder { index, .. } => Some(index),
        }
    }
}

/// "certificate 0 (end-entity)", "certificate 2".
struct Which(u8);

impl fmt::Display for Which {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("certificate 0 (end-entity)")
        } else {
            write!(f, "certificate {}", self.0)
        }
    }
}

impl fmt::Display for X509Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use X509Error as E;
        match *self {
            E::Empty { usage } => write!(f, "the peer sent no certificate ({usage:?})"),
            E::Malformed {
                index,
                offset,
                what,
            } => write!(f, "{}: malformed at byte {offset}: {what}", Which(index)),
            E::UnsupportedSignatureAlgorithm { index } => {
                write!(f, "{}: unsupported signature algorithm", Which(index))
            }
            E::AlgorithmMismatch { index } => write!(
                f,
                "{}: signatureAlgorithm differs from tbsCertificate.signature",
                Which(index)
            ),
            E::UnsupportedCriticalExtension { index } => {
                write!(f, "{}: unsupported critical extension", Which(index))
            }
            E::Expired {
                index,
                not_after,
                now,
            } => write!(
                f,
                "{}: expired (notAfter {not_after}, now {now}, seconds since 1970)",
                Which(index)
            ),
            E::NotYetValid {
                index,
                not_before,
                now,
            } => write!(
                f,
                "{}: not yet valid (notBefore {not_before}, now {now}, seconds since 1970)",
                Which(index)
            ),
            E::NameMismatch { index } => write!(
                f,
                "{}: subjectAltName does not match the server name",
                Which(index)
            ),
            E::UnknownIssuer { index } => write!(
                f,
                "{}: issuer is not a trust anchor and was not sent",
                Which(index)
            ),
            E::IssuerMismatch { index } => write!(
                f,
                "{}: subject is not the issuer of the certificate before it",
                Which(index)
            ),
            E::BadSignature { index } => write!(f, "{}: signature does not verify", Which(index)),
            E::NotACa { index } => write!(
                f,
                "{}: issues a certificate but is not a CA (basicConstraints)",
                Which(index)
            ),
            E::PathLenExceeded { index, max, found } => write!(
                f,
                "{}: pathLenConstraint {max} but {found} intermediates follow",
                Which(index)
            ),
            E::KeyUsage { index } => {
                write!(f, "{}: keyUsage does not allow this use", Which(index))
            }
            E::ExtKeyUsage { index } => write!(
                f,
                "{}: extKeyUsage lacks the required purpose",
                Which(index)
            ),
            E::ChainTooLong { max } => {
                write!(f, "no trust anchor within {max} certificates")
            }
            E::Ed25519NeedsIssuerAnchor { index } => write!(
                f,
                "{}: Ed25519-signed by an issuer that is not a trust anchor",
                Which(index)
            ),
            E::SignatureTooLarge { index, len, max } => write!(
                f,
                "{}: signature of {len} bytes exceeds the validator's {max}",
                Which(index)
            ),
            E::SpkiTooLarge { index, len } => write!(
                f,
                "{}: public key of {len} bytes exceeds {}",
                Which(index),
                crate::MAX_SPKI
            ),
            E::PinMismatch { index } => {
                write!(f, "{}: public key does not match the pin", Which(index))
            }
            E::OutOfOrder { index, expected } => write!(
                f,
                "certificate {index} passed where certificate {expected} was due"
            ),
        }
    }
}
