//! Alerts (RFC 8446 section 6, RFC 5246 section 7.2).

use crate::error::{DecodeError, EncodeError};
use crate::open_enum;
use crate::reader::Reader;
use crate::registry::AlertLevel;
use crate::writer::Writer;

open_enum! {
    /// AlertDescription.
    pub struct AlertDescription(u8) {
        CLOSE_NOTIFY = 0 => "close_notify",
        UNEXPECTED_MESSAGE = 10 => "unexpected_message",
        BAD_RECORD_MAC = 20 => "bad_record_mac",
        DECRYPTION_FAILED = 21 => "decryption_failed",
        RECORD_OVERFLOW = 22 => "record_overflow",
        DECOMPRESSION_FAILURE = 30 => "decompression_failure",
        HANDSHAKE_FAILURE = 40 => "handshake_failure",
        NO_CERTIFICATE = 41 => "no_certificate",
        BAD_CERTIFICATE = 42 => "bad_certificate",
        UNSUPPORTED_CERTIFICATE = 43 => "unsupported_certificate",
        CERTIFICATE_REVOKED = 44 => "certificate_revoked",
        CERTIFICATE_EXPIRED = 45 => "certificate_expired",
        CERTIFICATE_UNKNOWN = 46 => "certificate_unknown",
        ILLEGAL_PARAMETER = 47 => "illegal_parameter",
        UNKNOWN_CA = 48 => "unknown_ca",
        ACCESS_DENIED = 49 => "access_denied",
        DECODE_ERROR = 50 => "decode_error",
        DECRYPT_ERROR = 51 => "decrypt_error",
        EXPORT_RESTRICTION = 60 => "export_restriction",
        PROTOCOL_VERSION = 70 => "protocol_version",
        INSUFFICIENT_SECURITY = 71 => "insufficient_security",
        INTERNAL_ERROR = 80 => "internal_error",
        INAPPROPRIATE_FALLBACK = 86 => "inappropriate_fallback",
        USER_CANCELED = 90 => "user_canceled",
        NO_RENEGOTIATION = 100 => "no_renegotiation",
        MISSING_EXTENSION = 109 => "missing_extension",
        UNSUPPORTED_EXTENSION = 110 => "unsupported_extension",
        CERTIFICATE_UNOBTAINABLE = 111 => "certificate_unobtainable",
        UNRECOGNIZED_NAME = 112 => "unrecognized_name",
        BAD_CERTIFICATE_STATUS_RESPONSE = 113 => "bad_certificate_status_response",
        BAD_CERTIFICATE_HASH_VALUE = 114 => "bad_certificate_hash_value",
        UNKNOWN_PSK_IDENTITY = 115 => "unknown_psk_identity",
        CERTIFICATE_REQUIRED = 116 => "certificate_required",
        NO_APPLICATION_PROTOCOL = 120 => "no_application_protocol",
        ECH_REQUIRED = 121 => "ech_required",
    }
}

impl AlertDescription {
    /// What the alert usually means when a server sends it in answer to a ClientHello, in
    /// words for a person debugging a hand-made handshake.
    pub const fn meaning(self) -> &'static str {
        match self.0 {
            0 => "the peer is closing the connection normally",
            10 => "a message arrived that the peer did not expect at this point of the handshake",
            20 => "a record failed to decrypt or authenticate (wrong keys, or a tampered record)",
            22 => "a record was longer than the negotiated or maximum record size",
            40 => "no acceptable set of parameters: usually no cipher suite, group or signature algorithm in common",
            42 => "a certificate was corrupt or its signature did not verify",
            43 => "a certificate was of an unsupported type",
            45 => "a certificate has expired or is not yet valid",
            46 => "a certificate could not be accepted for an unspecified reason",
            47 => "a field was well-formed but its value was out of range or inconsistent",
            48 => "the certificate chain did not lead to a trusted authority",
            49 => "access was denied, though the handshake was otherwise fine",
            50 => "a message could not be decoded: usually a length field that does not match the bytes behind it",
            51 => "a signature, Finished or PSK binder check failed",
            70 => "the protocol version offered is not supported by the peer",
            71 => "the parameters offered are weaker than the peer requires",
            80 => "the peer had an internal error unrelated to the bytes sent",
            86 => "a fallback was attempted that the peer considers inappropriate",
            90 => "the peer's user cancelled the handshake",
            100 => "the peer refuses renegotiation",
            109 => "a mandatory extension is missing (for example supported_versions or key_share for TLS 1.3)",
            110 => "an extension was sent that the peer did not offer or does not allow here",
            112 => "the server does not know the name given in server_name",
            115 => "the server does not know the PSK identity offered",
            116 => "the server requires a client certificate",
            120 => "no application protocol (ALPN) in common",
            _ => "no description known",
        }
    }
}

/// An alert message: level and description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    pub fn parse(r: &mut Reader<'_, '_>) -> Result<Alert, DecodeError> {
        r.node("alert", None, |r| {
            let level = r.code::<AlertLevel>("level")?;
            let description = r.code::<AlertDescription>("description")?;
            Ok(Alert { level, description })
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.level)?;
        w.code(self.description)
    }
}
