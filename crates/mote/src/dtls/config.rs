//! What a DTLS 1.2 client is configured with, and what it negotiated.

use super::timer::RetransmitConfig;
use crate::config::{ExternalPsk, KeyLog};
use mote_wire::{CipherSuite, NamedGroup, SignatureScheme};

/// RFC 7925's mandatory suites first, then the others mote implements for DTLS 1.2.
pub const DEFAULT_DTLS12_SUITES: [CipherSuite; 8] = [
    CipherSuite(0xc0a8), // TLS_PSK_WITH_AES_128_CCM_8
    CipherSuite(0xc0ae), // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
    CipherSuite(0xc02b), // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    CipherSuite(0xcca9), // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    CipherSuite(0xc0ac), // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
    CipherSuite(0x00a8), // TLS_PSK_WITH_AES_128_GCM_SHA256
    CipherSuite(0xc0a4), // TLS_PSK_WITH_AES_128_CCM
    CipherSuite(0xd005), // TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256
];

/// The DTLS 1.2 client configuration.
#[derive(Clone, Copy)]
pub struct DtlsClientConfig<'a> {
    /// TLS 1.2 AEAD suites in order of preference; only those the credentials allow are
    /// offered (PSK suites with `psk`, ECDSA suites with `server_auth`).
    pub cipher_suites: &'a [CipherSuite],
    /// Curves for ECDHE.
    pub groups: &'a [NamedGroup],
    /// Signature schemes accepted on ServerKeyExchange and certificates.
    pub signature_schemes: &'a [SignatureScheme],
    /// Sent in server_name and matched against the certificate.
    pub server_name: Option<&'a str>,
    /// Certificate (or raw public key) authentication of the server.
    #[cfg(feature = "x509")]
    pub server_auth: Option<mote_x509::ServerAuth<'a>>,
    pub psk: Option<ExternalPsk<'a>>,
    /// The largest datagram sent (IP and UDP headers excluded).
    pub mtu: u16,
    pub retransmit: RetransmitConfig,
    /// RFC 9146: the connection ID this client wants records sent to it with (`Some(&[])`:
    /// it sends the peer's CID but wants none itself). `None`: no connection IDs.
    pub connection_id: Option<&'a [u8]>,
    /// `CLIENT_RANDOM` lines of the NSS key log, for debugging only.
    pub key_log: Option<&'a dyn KeyLog>,
}

impl DtlsClientConfig<'_> {
    pub const fn new() -> Self {
        DtlsClientConfig {
            cipher_suites: &DEFAULT_DTLS12_SUITES,
            groups: &[NamedGroup::X25519, NamedGroup::SECP256R1],
            signature_schemes: &[SignatureScheme::ECDSA_SECP256R1_SHA256],
            server_name: None,
            #[cfg(feature = "x509")]
            server_auth: None,
            psk: None,
            mtu: 1200,
            retransmit: RetransmitConfig::new(),
            connection_id: None,
            key_log: None,
        }
    }
}

impl Default for DtlsClientConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the handshake settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DtlsNegotiated {
    pub suite: Option<CipherSuite>,
    pub group: Option<NamedGroup>,
    pub psk: bool,
    pub server_signature: Option<SignatureScheme>,
    /// The server sent a HelloVerifyRequest (and the cookie was echoed).
    pub hello_verify: bool,
    /// The CID records to the server carry (RFC 9146), if connection IDs were agreed.
    pub peer_cid_len: Option<u8>,
    /// Flight retransmissions during the handshake.
    pub retransmissions: u32,
}

/// The DTLS 1.2 server configuration.
#[derive(Clone, Copy)]
pub struct DtlsServerConfig<'a> {
    /// TLS 1.2 AEAD suites in the server's order of preference.
    pub cipher_suites: &'a [CipherSuite],
    /// Curves for ECDHE, in order of preference.
    pub groups: &'a [NamedGroup],
    /// The certificate chain and signing key for ECDHE_ECDSA suites.
    pub identity: Option<crate::config::ServerIdentity<'a>>,
    /// The raw public key (DER SubjectPublicKeyInfo of `identity`'s key) sent instead of
    /// the chain to clients that ask for RFC 7250 raw public keys.
    pub raw_public_key: Option<&'a [u8]>,
    /// External PSKs, found by identity.
    pub psks: &'a [ExternalPsk<'a>],
    /// Sent in ServerKeyExchange for PSK suites (RFC 4279 section 2), if any.
    pub psk_identity_hint: Option<&'a [u8]>,
    /// The largest datagram sent.
    pub mtu: u16,
    pub retransmit: RetransmitConfig,
    /// RFC 9146: the connection ID this server wants records sent to it with, granted to
    /// clients that offer connection IDs. `None`: the extension is not answered.
    pub connection_id: Option<&'a [u8]>,
    pub key_log: Option<&'a dyn KeyLog>,
}

impl DtlsServerConfig<'_> {
    pub const fn new() -> Self {
        DtlsServerConfig {
            cipher_suites: &DEFAULT_DTLS12_SUITES,
            groups: &[NamedGroup::X25519, NamedGroup::SECP256R1],
            identity: None,
            raw_public_key: None,
            psks: &[],
            psk_identity_hint: None,
            mtu: 1200,
            retransmit: RetransmitConfig::new(),
            connection_id: None,
            key_log: None,
        }
    }
}

impl Default for DtlsServerConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the server's handshake settled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DtlsServerNegotiated {
    pub suite: Option<CipherSuite>,
    pub group: Option<NamedGroup>,
    /// The client's PSK: its index in [`DtlsServerConfig::psks`].
    pub psk: Option<usize>,
    /// The CID records to the client carry (RFC 9146), if connection IDs were agreed.
    pub peer_cid_len: Option<u8>,
    /// The client asked for a raw public key and got one.
    pub raw_public_key: bool,
}
