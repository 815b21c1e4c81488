//! The TLS 1.3 server (RFC 8446), sans-I/O, with the client's four channels: the caller
//! copies received bytes into [`Server::recv_buf`] and reports them with
//! [`Server::recv_done`]; takes bytes to send from [`Server::transmit`] and reports them with
//! [`Server::transmit_done`]; writes application data with [`Server::write`] and reads it with
//! [`Server::read`]. [`Server::status`] says what the engine wants next.
//!
//! ECDHE (x25519, secp256r1), certificate authentication with a [`Signer`], external PSKs
//! (psk_dhe_ke, psk_ke; binders checked in constant time), record_size_limit and
//! max_fragment_length, the middlebox-compatibility change_cipher_spec, KeyUpdate received,
//! close_notify, and a HelloRetryRequest when the client offered a group the server takes
//! but sent no share for it (stateless with [`ServerConfig::cookie_key`]: see `cookie.rs`).
//! Client certificates, optional or required ([`ClientAuth`]), give the device identity
//! ([`ClientId`], also for PSK clients). Stateless session tickets are sealed with rotating
//! keys ([`ServerConfig::ticket_keys`]) and accepted for resumption. Not yet: KeyUpdate
//! sending, 0-RTT (refused: the early_data extension is not acknowledged and undecryptable
//! records are skipped up to a bound, RFC 8446 section 4.2.10).
//!
//! [`Signer`]: mote_crypto::Signer
//! [`ClientAuth`]: crate::config::ClientAuth

#[cfg(feature = "x509")]
mod client_auth;
mod cookie;
mod hello;
mod records;
mod tickets;

use crate::buffers::{RxBuf, TxBuf};
use crate::client::{Negotiated, Status};
use crate::config::ServerConfig;
use crate::error::{ApiMisuse, Error};
use crate::record_layer::tls13::Protector;
use crate::time::UnixTime;
use crate::transcript::Transcript;
use mote_crypto::{Digest, Provider, Rng, SuiteInfo};

/// Who the client is, as [`Negotiated::client_identity`] gives it once connected: a stable
/// device id for a collector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientId {
    /// An external PSK: its index in [`ServerConfig::psks`] (its identity is
    /// [`Server::client_psk_identity`]).
    Psk(usize),
    /// A client certificate that validated: SHA-256 of the end-entity's DER
    /// SubjectPublicKeyInfo (the form of `mote_x509::PinnedSpki`, and of
    /// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum`). The key
    /// names the device whatever its certificate's names, and survives re-issuance with the
    /// same key.
    CertificateSpki([u8; 32]),
}

/// Where the handshake stands (RFC 8446 appendix A.2). The verified client key makes one
/// variant large; without an allocator it has to live somewhere in the connection anyway.
#[allow(clippy::large_enum_variant)]
pub(crate) enum State {
    WaitClientHello,
    /// A HelloRetryRequest went out; the second ClientHello is next.
    WaitClientHello2(Retry),
    /// The server flight is out; the client's Finished is next.
    WaitFinished(Pending),
    /// A CertificateRequest went out; the client's Certificate is next.
    #[cfg(feature = "x509")]
    WaitCertificate(Pending),
    /// The client's chain validated; its CertificateVerify is next.
    #[cfg(feature = "x509")]
    WaitCertificateVerify(Pending, mote_x509::VerifiedChain),
    Connected(AppSecrets),
    Closed,
    Failed,
}

/// What checking the client's Finished and moving to application keys needs.
pub(crate) struct Pending {
    pub suite: SuiteInfo,
    pub client_hs: Digest,
    pub client_ap: Digest,
    pub server_ap: Digest,
    /// The source of the resumption secret.
    pub master: crate::key_schedule::tls13::MasterSecret,
    /// A NewSessionTicket follows the client's Finished.
    pub tickets: bool,
    /// A CertificateRequest was sent.
    #[cfg_attr(not(feature = "x509"), allow(dead_code))]
    pub cert_requested: bool,
}

impl State {
    /// Between the server's flight and the client's Finished.
    pub(crate) fn awaits_client_flight(&self) -> bool {
        match self {
            State::WaitFinished(_) => true,
            #[cfg(feature = "x509")]
            State::WaitCertificate(_) | State::WaitCertificateVerify(..) => true,
            _ => false,
        }
    }
}

/// What a HelloRetryRequest asked for (RFC 8446 section 4.1.4).
pub(crate) struct Retry {
    pub suite: SuiteInfo,
    pub group: mote_wire::NamedGroup,
    /// The compatibility change_cipher_spec went out after the HelloRetryRequest.
    pub sent_ccs: bool,
}

/// Application traffic secrets, kept for KeyUpdate.
pub(crate) struct AppSecrets {
    pub suite: SuiteInfo,
    pub client: Digest,
    pub server: Digest,
}

/// A TLS 1.3 server connection over caller-owned buffers.
pub struct Server<'a, 'b, P: Provider> {
    pub(crate) rx: RxBuf<'b>,
    /// Application data waiting in the first received record: (offset, len, record size).
    pub(crate) app: Option<(usize, usize, usize)>,
    pub(crate) c: Core<'a, 'b, P>,
}

/// Everything but the receive buffer.
pub(crate) struct Core<'a, 'b, P: Provider> {
    pub(crate) p: P,
    pub(crate) cfg: &'a ServerConfig<'a>,
    pub(crate) tx: TxBuf<'b>,
    pub(crate) read: Option<Protector<P::Aead>>,
    pub(crate) write: Option<Protector<P::Aead>>,
    /// Set once the suite is chosen.
    pub(crate) transcript: Option<Transcript<P::Hash>>,
    pub(crate) state: State,
    pub(crate) neg: Negotiated,
    /// Largest plaintext we may put in one record (the client's limit).
    pub(crate) max_send: usize,
    /// Largest plaintext we accept in one record.
    pub(crate) max_recv: usize,
    pub(crate) error: Option<Error>,
    /// Which directions are closed (RFC 8446 6.1).
    pub(crate) closing: crate::record_layer::closing::Closing,
    /// More handshake bytes follow the message being handled in its record.
    pub(crate) hello_not_last: bool,
    /// ClientHello.random, which names this connection in a key log.
    pub(crate) client_random: [u8; 32],
    /// Bytes of undecryptable records (refused 0-RTT data) still to be skipped.
    pub(crate) early_skip: usize,
    pub(crate) now_ms: u64,
}

impl<'a, 'b, P: Provider> Server<'a, 'b, P> {
    /// A connection waiting for a ClientHello.
    ///
    /// `rx` must hold the largest record the client may send (5 + 2^14 + 256 bytes, less
    /// with `record_size_limit`) plus the ClientHello; `tx` the server's flight: ServerHello,
    /// EncryptedExtensions, the certificate chain, CertificateVerify and Finished, each with
    /// 22 bytes of record overhead (a few hundred bytes plus the chain), and with
    /// `ticket_keys` a NewSessionTicket (about 170 bytes) after the client's Finished. With
    /// `client_auth`, `rx` must also hold the client's whole Certificate message (its chain
    /// plus a few bytes per certificate): the server validates it as one message, unlike the
    /// client, which streams the server's chain. `rng` is not used yet (randomness comes
    /// with [`Server::recv_done`]); `now` dates tickets and validates client certificates.
    pub fn new(
        p: P,
        cfg: &'a ServerConfig<'a>,
        _rng: &mut dyn Rng,
        now: UnixTime,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error> {
        if cfg.cipher_suites.is_empty()
            || cfg
                .cipher_suites
                .iter()
                .any(|s| SuiteInfo::of(*s).is_none_or(|i| !i.tls13))
        {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "no cipher suites, or one mote does not implement for TLS 1.3",
            )));
        }
        if cfg.identity.is_none() && cfg.psks.is_empty() {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "neither a certificate identity nor a PSK",
            )));
        }
        if cfg.identity.is_some_and(|i| i.chain.is_empty()) {
            return Err(Error::Api(ApiMisuse::BadConfig("empty certificate chain")));
        }
        let max_recv = match cfg.record_size_limit {
            Some(l) if l < 64 => {
                return Err(Error::Api(ApiMisuse::BadConfig(
                    "record_size_limit below 64 (RFC 8449)",
                )))
            }
            Some(l) => usize::from(l).saturating_sub(1).min(1 << 14),
            None => 1 << 14,
        };
        Ok(Server {
            rx: RxBuf::new(rx),
            app: None,
            c: Core {
                p,
                cfg,
                tx: TxBuf::new(tx),
                read: None,
                write: None,
                transcript: None,
                state: State::WaitClientHello,
                neg: Negotiated::default(),
                max_send: 1 << 14,
                max_recv,
                error: None,
                closing: Default::default(),
                hello_not_last: false,
                client_random: [0; 32],
                early_skip: 0,
                now_ms: now.as_millis(),
            },
        })
    }

    pub fn status(&self) -> Status {
        match self.c.state {
            State::Connected(_) if self.c.closing.peer => Status::PeerClosed,
            State::Connected(_) => Status::Connected,
            State::Closed => Status::Closed,
            State::Failed => Status::Failed,
            _ => Status::Handshaking,
        }
    }

    /// Why the connection failed.
    pub fn error(&self) -> Option<Error> {
        self.c.error
    }

    /// What was negotiated (complete once connected). `server_signature` is the scheme the
    /// server signed with; `peer_record_size_limit` the client's limit.
    pub fn negotiated(&self) -> &Negotiated {
        &self.c.neg
    }

    /// The identity of the client's PSK, when it authenticated with one.
    pub fn client_psk_identity(&self) -> Option<&'a [u8]> {
        match self.c.neg.client_identity {
            Some(ClientId::Psk(i)) => self.c.cfg.psks.get(i).map(|k| k.identity),
            _ => None,
        }
    }

    /// Free space to copy received bytes into.
    pub fn recv_buf(&mut self) -> &mut [u8] {
        self.rx.free()
    }

    /// Reports `n` bytes copied into [`Server::recv_buf`] and processes every whole record.
    /// An error is also kept in [`Server::error`]; the alert owed is queued for transmission.
    pub fn recv_done(&mut self, n: usize, rng: &mut dyn Rng) -> Result<(), Error> {
        if self.c.closing.peer {
            // RFC 8446 section 6.1: data after a closure alert is ignored.
            return Ok(());
        }
        self.rx.filled(n);
        self.process(Some(rng))
    }

    /// Bytes to send to the peer.
    pub fn transmit(&self) -> &[u8] {
        self.c.tx.pending()
    }

    /// Reports `n` bytes of [`Server::transmit`] sent.
    pub fn transmit_done(&mut self, n: usize) {
        self.c.tx.sent(n);
    }

    /// Whether received application data waits for [`Server::read`].
    pub fn has_app_data(&self) -> bool {
        self.app.is_some()
    }

    /// Whether the engine waits for bytes from the peer.
    pub fn wants_read(&self) -> bool {
        matches!(self.status(), Status::Handshaking | Status::Connected) && self.app.is_none()
    }
}
