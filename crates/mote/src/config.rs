//! What a connection offers and accepts. Everything is borrowed: a configuration lives in
//! flash on a device and costs no RAM beyond a few slices.

use mote_crypto::{HashAlgorithm, Signer, SuiteInfo};
use mote_wire::{
    CipherSuite, ExtensionType, MaxFragmentLength, NamedGroup, PskKeyExchangeMode, SignatureScheme,
};

/// An external pre-shared key (RFC 8446 section 4.2.11).
#[derive(Clone, Copy)]
pub struct ExternalPsk<'a> {
    pub identity: &'a [u8],
    pub key: &'a [u8],
    /// The hash the PSK is bound to (SHA-256 unless agreed otherwise, RFC 8446 4.2.11).
    pub hash: HashAlgorithm,
}

/// Receives traffic secrets in the NSS key log format (SSLKEYLOGFILE), so Wireshark or
/// `mote dissect --keylog` can decrypt a capture. The engine calls it only when the caller
/// configured one: secrets never leave the engine otherwise.
pub trait KeyLog {
    /// `label` is CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
    /// CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 or EXPORTER_SECRET (TLS 1.3), or
    /// CLIENT_RANDOM with the master secret (TLS 1.2 and DTLS 1.2).
    fn log(&self, label: &str, client_random: &[u8; 32], secret: &[u8]);
}

/// A session ticket and the PSK it yields (RFC 8446 section 4.6.1), as the engine hands it
/// to a [`TicketStore`] and takes it back in [`ClientConfig::resume`]. The engine keeps no
/// ticket itself: where tickets live (RAM, flash, nowhere) is the caller's choice.
#[derive(Clone, Copy, Debug)]
pub struct TicketRef<'a> {
    pub suite: CipherSuite,
    /// The resumption PSK (a secret: store it as carefully as a key).
    pub psk: &'a [u8],
    /// The ticket, sent back as the PSK identity.
    pub identity: &'a [u8],
    pub age_add: u32,
    /// Seconds the server will accept the ticket for.
    pub lifetime: u32,
    /// Unix time the ticket arrived, in milliseconds (the obfuscated ticket age counts
    /// milliseconds, RFC 8446 section 4.2.11.1).
    pub received_at_ms: u64,
    /// How much 0-RTT data the server accepts with this ticket (0: none).
    pub max_early_data: u32,
}

/// Sees each certificate the server sends, before it is validated (to show or log the
/// chain; validation does not depend on it).
pub trait CertificateObserver {
    fn certificate(&self, index: usize, der: &[u8]);
}

/// Receives session tickets.
pub trait TicketStore {
    fn store(&self, ticket: &TicketRef<'_>);
}

/// A client certificate chain and the key that signs with it.
#[derive(Clone, Copy)]
pub struct ClientIdentity<'a> {
    /// DER certificates, end-entity first.
    pub chain: &'a [&'a [u8]],
    pub signer: &'a dyn Signer,
}

/// The TLS 1.3 client configuration.
#[derive(Clone, Copy)]
pub struct ClientConfig<'a> {
    pub cipher_suites: &'a [CipherSuite],
    /// Groups in order of preference; a key share is sent for the first.
    pub groups: &'a [NamedGroup],
    pub signature_schemes: &'a [SignatureScheme],
    /// The server name sent in server_name (the name checked against the certificate is the
    /// one in `server_auth`).
    pub server_name: Option<&'a str>,
    /// How the server proves who it is: a certificate chain to trust anchors with the name
    /// to match, a pinned SPKI hash, or an RFC 7250 raw public key. `None` only with
    /// `psk_only`.
    #[cfg(feature = "x509")]
    pub server_auth: Option<mote_x509::ServerAuth<'a>>,
    pub psk: Option<ExternalPsk<'a>>,
    /// With a PSK: psk_dhe_ke (forward secrecy, the default) or psk_ke (cheapest).
    pub psk_modes: &'a [PskKeyExchangeMode],
    /// Offer only the PSK: no certificate authentication is possible.
    pub psk_only: bool,
    /// The largest record plaintext this side accepts (RFC 8449), which lets a device use a
    /// small receive buffer. `None` offers nothing (2^14).
    pub record_size_limit: Option<u16>,
    /// RFC 6066 max_fragment_length, for servers that do not know record_size_limit.
    pub max_fragment_length: Option<MaxFragmentLength>,
    /// RFC 8446 appendix D.4: a fake session ID and change_cipher_spec for middleboxes.
    pub middlebox_compat: bool,
    pub client_identity: Option<ClientIdentity<'a>>,
    pub alpn: &'a [&'a [u8]],
    /// Zero padding added to each protected record (RFC 8446 section 5.4).
    pub padding: usize,
    /// Where to write traffic secrets for debugging; `None` in production.
    pub key_log: Option<&'a dyn KeyLog>,
    /// Where to hand the server's session tickets.
    pub ticket_store: Option<&'a dyn TicketStore>,
    /// Extensions sent as given (type, body), for what the engine does not build itself
    /// (renegotiation_info, session_ticket, ...).
    pub extra_extensions: &'a [(ExtensionType, &'a [u8])],
    /// The order of the ClientHello's extensions, when it matters (matching another stack's
    /// hello, or a published trace); unnamed ones follow in mote's order.
    pub extension_order: &'a [ExtensionType],
    /// Pad a ClientHello of 256 to 511 bytes to 512 with the padding extension (RFC 7685:
    /// some servers hang on hellos of those sizes; BoringSSL and NSS pad the same way).
    pub pad_client_hello: bool,
    /// Send application data in the first flight when resuming with a ticket that allows it
    /// (0-RTT, RFC 8446 section 2.3). Early data can be replayed by an attacker: send only
    /// what is safe to receive twice, such as an idempotent reading with a sequence number.
    pub early_data: bool,
    /// Shown each server certificate as it is read.
    pub certificate_observer: Option<&'a dyn CertificateObserver>,
    /// A ticket to resume with (preferred over `psk` when still valid).
    pub resume: Option<TicketRef<'a>>,
}

impl<'a> ClientConfig<'a> {
    /// Certificate authentication with mote's defaults.
    pub const fn new() -> Self {
        ClientConfig {
            cipher_suites: &SuiteInfo::TLS13,
            groups: &[NamedGroup::X25519, NamedGroup::SECP256R1],
            signature_schemes: &DEFAULT_SCHEMES,
            server_name: None,
            #[cfg(feature = "x509")]
            server_auth: None,
            psk: None,
            psk_modes: &[PskKeyExchangeMode::PSK_DHE_KE],
            psk_only: false,
            record_size_limit: None,
            max_fragment_length: None,
            middlebox_compat: false,
            client_identity: None,
            alpn: &[],
            padding: 0,
            key_log: None,
            ticket_store: None,
            certificate_observer: None,
            extra_extensions: &[],
            extension_order: &[],
            early_data: false,
            pad_client_hello: false,
            resume: None,
        }
    }
}

impl Default for ClientConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The signature schemes offered by default: those the RustCrypto provider verifies without
/// an allocator first, then RSA (verified only with the `alloc` feature, but offered so that
/// servers with RSA certificates can still be reached by hosts that have it).
pub const DEFAULT_SCHEMES: [SignatureScheme; 5] = [
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::ED25519,
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::ECDSA_SECP384R1_SHA384,
];

/// A server's certificate chain and the key that signs its CertificateVerify.
#[derive(Clone, Copy)]
pub struct ServerIdentity<'a> {
    /// DER certificates, end-entity first.
    pub chain: &'a [&'a [u8]],
    pub signer: &'a dyn Signer,
}

/// The TLS 1.3 server configuration.
#[derive(Clone, Copy)]
pub struct ServerConfig<'a> {
    /// Suites in the server's order of preference.
    pub cipher_suites: &'a [CipherSuite],
    /// (EC)DHE groups in the server's order of preference.
    pub groups: &'a [NamedGroup],
    /// Certificate authentication; `None` serves PSK clients only.
    pub identity: Option<ServerIdentity<'a>>,
    /// External PSKs the server knows, matched by identity.
    pub psks: &'a [ExternalPsk<'a>],
    /// PSK key exchange modes in order of preference (psk_dhe_ke first by default).
    pub psk_modes: &'a [PskKeyExchangeMode],
    /// The largest record plaintext this side accepts (RFC 8449), sent when the client
    /// offers record_size_limit. `None` sends 2^14 + 1.
    pub record_size_limit: Option<u16>,
    /// Zero padding added to each protected record (RFC 8446 section 5.4).
    pub padding: usize,
    /// Where to write traffic secrets for debugging; `None` in production.
    pub key_log: Option<&'a dyn KeyLog>,
    /// Whether certificate handshakes ask the client for a certificate (device identity).
    #[cfg(feature = "x509")]
    pub client_auth: ClientAuth<'a>,
    /// Sees each certificate of the client's chain (index 0: the end-entity) before it is
    /// validated, e.g. for a collector to read the device's name from it. Use what it saw
    /// only once the handshake completed with [`crate::ClientId::CertificateSpki`], and
    /// check that the key's hash matches.
    #[cfg(feature = "x509")]
    pub client_certificate_observer: Option<&'a dyn CertificateObserver>,
    /// Keys sealing stateless session tickets: the first seals new tickets, all open them
    /// (rotate by prepending a new key and dropping the oldest after `ticket_lifetime`).
    /// Empty: no tickets are issued and none is accepted.
    pub ticket_keys: &'a [TicketKey],
    /// Seconds a ticket is accepted for (at most 604800, RFC 8446 section 4.6.1).
    pub ticket_lifetime: u32,
    /// Seals the HelloRetryRequest cookie (AES-128-GCM), so that nothing is kept between
    /// the two ClientHellos; `None` keeps that state in the connection and sends no cookie.
    pub cookie_key: Option<TicketKey>,
}

/// A key sealing session tickets (or the HelloRetryRequest cookie) with AES-128-GCM. The
/// sealed blob carries `id` in the clear so that the right key is found after a rotation. Keep it as secret as a private key: it
/// unseals every ticket's resumption PSK.
#[derive(Clone, Copy)]
pub struct TicketKey {
    pub id: [u8; 4],
    pub key: [u8; 16],
}

/// Client certificates (RFC 8446 section 4.3.2), asked for in certificate handshakes only
/// (a PSK already identifies the client, and section 4.3.2 forbids asking then). A chain is
/// validated to the anchors with extKeyUsage clientAuth (when present) and no name check.
#[cfg(feature = "x509")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth<'a> {
    /// No CertificateRequest is sent.
    None,
    /// A client may send no certificate and is then connected without identity; one that
    /// sends a certificate must pass validation.
    Optional(&'a [mote_x509::TrustAnchor<'a>]),
    /// A client without a certificate gets certificate_required.
    Required(&'a [mote_x509::TrustAnchor<'a>]),
}

impl ServerConfig<'_> {
    /// mote's defaults: every compiled-in suite, x25519 then secp256r1, no identity, no PSK.
    pub const fn new() -> Self {
        ServerConfig {
            cipher_suites: &SuiteInfo::TLS13,
            groups: &[NamedGroup::X25519, NamedGroup::SECP256R1],
            identity: None,
            psks: &[],
            psk_modes: &[PskKeyExchangeMode::PSK_DHE_KE, PskKeyExchangeMode::PSK_KE],
            record_size_limit: None,
            padding: 0,
            key_log: None,
            #[cfg(feature = "x509")]
            client_auth: ClientAuth::None,
            #[cfg(feature = "x509")]
            client_certificate_observer: None,
            ticket_keys: &[],
            ticket_lifetime: 86_400,
            cookie_key: None,
        }
    }
}

impl Default for ServerConfig<'_> {
    fn default() -> Self {
        Self::new()
    }
}
