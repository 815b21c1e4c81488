//! What a parser must know about the connection to read a message: TLS or DTLS, the
//! negotiated version, the TLS 1.2 key exchange, the certificate type.

use crate::registry::{CertificateType, CipherSuite, ProtocolVersion};

/// TLS 1.2 key exchange algorithm, which decides the shape of ServerKeyExchange and
/// ClientKeyExchange (RFC 5246, RFC 4279, RFC 5489, RFC 8422).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyExchange {
    /// Not known yet (no ServerHello seen), or TLS 1.3.
    Unknown,
    Rsa,
    Dhe,
    Ecdhe,
    Psk,
    DhePsk,
    EcdhePsk,
    RsaPsk,
}

impl KeyExchange {
    /// The key exchange a TLS 1.2 cipher suite uses, from its IANA name.
    pub fn of(suite: CipherSuite) -> KeyExchange {
        let Some(name) = suite.name() else {
            return KeyExchange::Unknown;
        };
        let name = name.strip_prefix("TLS_").unwrap_or(name);
        if suite.is_tls13() {
            KeyExchange::Unknown
        } else if name.starts_with("ECDHE_PSK_") {
            KeyExchange::EcdhePsk
        } else if name.starts_with("DHE_PSK_") {
            KeyExchange::DhePsk
        } else if name.starts_with("RSA_PSK_") {
            KeyExchange::RsaPsk
        } else if name.starts_with("PSK_") {
            KeyExchange::Psk
        } else if name.starts_with("ECDHE_") {
            KeyExchange::Ecdhe
        } else if name.starts_with("DHE_") {
            KeyExchange::Dhe
        } else if name.starts_with("RSA_") {
            KeyExchange::Rsa
        } else {
            KeyExchange::Unknown
        }
    }
}

/// The parsing context of a handshake message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// DTLS: handshake headers carry message_seq and fragment fields, ClientHello a cookie.
    pub dtls: bool,
    /// The negotiated version: `TLS13`/`DTLS13` select the TLS 1.3 message shapes; anything
    /// else the TLS 1.2 ones. Before ServerHello, use `TLS12`.
    pub version: ProtocolVersion,
    /// The TLS 1.2 key exchange (from the chosen cipher suite).
    pub key_exchange: KeyExchange,
    /// The certificate type the sender of a Certificate message uses (RFC 7250).
    pub cert_type: CertificateType,
}

impl Context {
    pub const TLS12: Context = Context {
        dtls: false,
        version: ProtocolVersion::TLS12,
        key_exchange: KeyExchange::Unknown,
        cert_type: CertificateType::X509,
    };
    pub const TLS13: Context = Context {
        version: ProtocolVersion::TLS13,
        ..Context::TLS12
    };
    pub const DTLS12: Context = Context {
        dtls: true,
        version: ProtocolVersion::DTLS12,
        ..Context::TLS12
    };
    pub const DTLS13: Context = Context {
        dtls: true,
        version: ProtocolVersion::DTLS13,
        ..Context::TLS12
    };

    /// TLS 1.3 or DTLS 1.3 message shapes.
    pub fn is_tls13(&self) -> bool {
        self.version == ProtocolVersion::TLS13 || self.version == ProtocolVersion::DTLS13
    }
}

/// Which message an extension sits in: the same extension type has different bodies in
/// ClientHello, ServerHello, HelloRetryRequest, ... (RFC 8446 section 4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionContext {
    ClientHello,
    /// A TLS 1.2 ServerHello, or a TLS 1.3 one (the bodies that differ, key_share and
    /// supported_versions, only exist in the TLS 1.3 one).
    ServerHello,
    HelloRetryRequest,
    EncryptedExtensions,
    CertificateRequest,
    /// An entry of a TLS 1.3 Certificate message.
    Certificate,
    NewSessionTicket,
}
