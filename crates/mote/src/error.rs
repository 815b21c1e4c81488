//! Errors by whose fault they are, and the one mapping to the alert RFC 8446 section 6.2
//! (or RFC 5246 section 7.2) requires.

use core::fmt;
use mote_crypto::CryptoError;
use mote_wire::{AlertDescription, DecodeError, ExtensionType, HandshakeType};

/// The peer sent something well-formed that the protocol forbids at this point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerMisbehaved {
    /// A message (or record type) that is not allowed in this state.
    UnexpectedMessage {
        expected: &'static str,
        got: HandshakeType,
    },
    /// A record of a content type not allowed in this state.
    UnexpectedRecord { content_type: u8 },
    /// A record failed to decrypt (RFC 8446 section 5.2).
    BadRecordMac,
    /// A record longer than allowed (RFC 8446 section 5.1, RFC 8449).
    RecordOverflow { len: usize, max: usize },
    /// A value that contradicts what was offered or negotiated.
    IllegalParameter(&'static str),
    /// A mandatory extension is absent (RFC 8446 section 9.2).
    MissingExtension(ExtensionType),
    /// An extension that was not offered, or is not allowed in this message.
    UnsupportedExtension(ExtensionType),
    /// Finished or CertificateVerify failed (decrypt_error).
    DecryptError(&'static str),
    /// A TLS 1.3 record that holds only padding, or a zero-length handshake record.
    EmptyRecord,
    /// Data after close_notify.
    DataAfterClose,
    /// Handshake messages interleaved with other records, or split across a key change.
    FragmentedAcrossKeyChange,
    /// The client sent no certificate to a server that requires one (RFC 8446 4.4.2.4).
    CertificateRequired,
}

/// We and the peer have nothing in common.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incompatible {
    /// The peer chose a version we did not offer, or offers none we support.
    Version,
    /// No cipher suite, group, signature scheme or PSK mode in common.
    NoCommonParameters(&'static str),
}

/// The caller used the API wrongly: nothing the peer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMisuse {
    /// A buffer is too small for what must go in it.
    BufferTooSmall { needed: usize, available: usize },
    /// Application data before the handshake finished, or after close.
    NotReady,
    /// The configuration is inconsistent (for example no cipher suites).
    BadConfig(&'static str),
}

/// Everything that can end a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The peer sent bytes that do not decode.
    Decode(DecodeError),
    Peer(PeerMisbehaved),
    Incompatible(Incompatible),
    /// The peer's certificate (or pinned key) did not check out.
    #[cfg(feature = "x509")]
    Certificate(mote_x509::X509Error),
    /// A local cryptographic failure (RNG, unsupported algorithm).
    Crypto(CryptoError),
    /// The peer sent a fatal alert.
    AlertReceived(AlertDescription),
    /// The caller misused the API.
    Api(ApiMisuse),
    /// A message or record does not fit the caller's buffer (internal_error: nothing the
    /// peer did wrong, but the handshake cannot go on).
    Capacity {
        needed: usize,
        available: usize,
    },
    /// The sequence number would wrap (RFC 8446 section 5.3): the connection must end.
    SequenceExhausted,
    /// DTLS: the peer did not answer a flight through every retransmission (RFC 6347
    /// section 4.2.4). No alert: the peer is presumably unreachable.
    HandshakeTimeout {
        retransmissions: u8,
    },
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<PeerMisbehaved> for Error {
    fn from(e: PeerMisbehaved) -> Self {
        Error::Peer(e)
    }
}

impl Error {
    /// The alert to send for this error, or `None` when no alert is owed (the peer already
    /// sent one, or the caller misused the API).
    pub fn alert(&self) -> Option<AlertDescription> {
        use AlertDescription as A;
        Some(match self {
            Error::Decode(e) => e.alert(),
            Error::Peer(p) => match p {
                PeerMisbehaved::UnexpectedMessage { .. }
                | PeerMisbehaved::UnexpectedRecord { .. }
                | PeerMisbehaved::EmptyRecord
                | PeerMisbehaved::DataAfterClose
                | PeerMisbehaved::FragmentedAcrossKeyChange => A::UNEXPECTED_MESSAGE,
                PeerMisbehaved::BadRecordMac => A::BAD_RECORD_MAC,
                PeerMisbehaved::RecordOverflow { .. } => A::RECORD_OVERFLOW,
                PeerMisbehaved::IllegalParameter(_) => A::ILLEGAL_PARAMETER,
                PeerMisbehaved::MissingExtension(_) => A::MISSING_EXTENSION,
                PeerMisbehaved::UnsupportedExtension(_) => A::UNSUPPORTED_EXTENSION,
                PeerMisbehaved::DecryptError(_) => A::DECRYPT_ERROR,
                PeerMisbehaved::CertificateRequired => A::CERTIFICATE_REQUIRED,
            },
            Error::Incompatible(Incompatible::Version) => A::PROTOCOL_VERSION,
            Error::Incompatible(Incompatible::NoCommonParameters(_)) => A::HANDSHAKE_FAILURE,
            #[cfg(feature = "x509")]
            Error::Certificate(e) => e.alert(),
            Error::Crypto(CryptoError::BadTag) => A::BAD_RECORD_MAC,
            Error::Crypto(CryptoError::BadSignature) => A::DECRYPT_ERROR,
            Error::Crypto(CryptoError::BadPublicKey) => A::ILLEGAL_PARAMETER,
            Error::Crypto(_) => A::INTERNAL_ERROR,
            Error::SequenceExhausted | Error::Capacity { .. } => A::INTERNAL_ERROR,
            Error::AlertReceived(_) | Error::Api(_) | Error::HandshakeTimeout { .. } => {
                return None
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode(e) => write!(f, "peer sent a malformed message: {e}"),
            Error::Peer(p) => match p {
                PeerMisbehaved::UnexpectedMessage { expected, got } => {
                    write!(f, "peer sent {got} where {expected} was expected")
                }
                PeerMisbehaved::UnexpectedRecord { content_type } => {
                    write!(f, "peer sent a record of content type {content_type} here")
                }
                PeerMisbehaved::BadRecordMac => f.write_str("a record failed to decrypt"),
                PeerMisbehaved::RecordOverflow { len, max } => {
                    write!(f, "peer sent a {len}-byte record; the limit is {max}")
                }
                PeerMisbehaved::IllegalParameter(what) => write!(f, "peer sent an illegal {what}"),
                PeerMisbehaved::MissingExtension(t) => write!(f, "peer omitted the {t} extension"),
                PeerMisbehaved::UnsupportedExtension(t) => {
                    write!(
                        f,
                        "peer sent the {t} extension, which was not offered or is not allowed here"
                    )
                }
                PeerMisbehaved::DecryptError(what) => write!(f, "{what} did not verify"),
                PeerMisbehaved::EmptyRecord => f.write_str("peer sent an empty record"),
                PeerMisbehaved::CertificateRequired => {
                    f.write_str("the client sent no certificate, and one is required")
                }
                PeerMisbehaved::DataAfterClose => f.write_str("peer sent data after close_notify"),
                PeerMisbehaved::FragmentedAcrossKeyChange => {
                    f.write_str("peer split a handshake message across a key change or record type")
                }
            },
            Error::Incompatible(Incompatible::Version) => {
                f.write_str("no protocol version in common")
            }
            Error::Incompatible(Incompatible::NoCommonParameters(what)) => {
                write!(f, "no {what} in common")
            }
            #[cfg(feature = "x509")]
            Error::Certificate(e) => write!(f, "server certificate rejected: {e}"),
            Error::Crypto(e) => write!(f, "cryptographic failure: {e:?}"),
            Error::AlertReceived(a) => write!(f, "peer sent alert {a}: {}", a.meaning()),
            Error::Api(ApiMisuse::BufferTooSmall { needed, available }) => {
                write!(
                    f,
                    "buffer too small: {needed} bytes needed, {available} available"
                )
            }
            Error::Api(ApiMisuse::NotReady) => {
                f.write_str("the connection cannot take application data now")
            }
            Error::Api(ApiMisuse::BadConfig(what)) => write!(f, "bad configuration: {what}"),
            Error::SequenceExhausted => f.write_str("record sequence numbers exhausted"),
            Error::HandshakeTimeout { retransmissions } => write!(
                f,
                "no answer from the peer after {retransmissions} retransmissions of the flight"
            ),
            Error::Capacity { needed, available } => write!(
                f,
                "a message of {needed} bytes does not fit the {available}-byte buffer (negotiate a smaller record_size_limit or give a larger buffer)"
            ),
        }
    }
}
