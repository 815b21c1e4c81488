//! The TLS 1.3 server (RFC 8446), sans-I/O, with the client's four channels: the caller
//! copies received bytes into [`Server::recv_buf`] and reports them with
//! [`Server::recv_done`]; takes bytes to send from [`Server::transmit`] and reports them with
//! [`Server::transmit_done`]; writes application data with [`Server::write`] and reads it with
//! [`Server::read`]. [`Server::status`] says what the engine wants next.
//!
//! Phase 1: ECDHE (x25519, secp256r1), certificate authentication with a [`Signer`],
//! external PSKs (psk_dhe_ke, psk_ke; binders checked in constant time), record_size_limit
//! and max_fragment_length, the middlebox-compatibility change_cipher_spec, KeyUpdate
//! received, close_notify, and a (stateful) HelloRetryRequest when the client offered a
//! group the server takes but sent no share for it. Not yet: the stateless HRR cookie,
//! session tickets, client certificates, KeyUpdate sending, 0-RTT (refused: the
//! early_data extension is not acknowledged and undecryptable records are skipped up to a
//! bound, RFC 8446 section 4.2.10).
//!
//! [`Signer`]: mote_crypto::Signer

mod hello;
mod records;

use crate::buffers::{RxBuf, TxBuf};
use crate::client::{Negotiated, Status};
use crate::config::ServerConfig;
use crate::error::{ApiMisuse, Error};
use crate::record_layer::tls13::Protector;
use crate::time::UnixTime;
use crate::transcript::Transcript;
use mote_crypto::{Digest, Provider, Rng, SuiteInfo};

/// Where the handshake stands (RFC 8446 appendix A.2).
pub(crate) enum State {
    WaitClientHello,
    /// A HelloRetryRequest went out; the second ClientHello is next.
    WaitClientHello2(Retry),
    /// The server flight is out; the client's Finished is next.
    WaitFinished(Pending),
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
    pub(crate) sent_close: bool,
    /// ClientHello.random, which names this connection in a key log.
    pub(crate) client_random: [u8; 32],
    /// Bytes of undecryptable records (refused 0-RTT data) still to be skipped.
    pub(crate) early_skip: usize,
    #[allow(dead_code)]
    pub(crate) now_ms: u64,
}

impl<'a, 'b, P: Provider> Server<'a, 'b, P> {
    /// A connection waiting for a ClientHello.
    ///
    /// `rx` must hold the largest record the client may send (5 + 2^14 + 256 bytes, less
    /// with `record_size_limit`) plus the ClientHello; `tx` the server's flight: ServerHello,
    /// EncryptedExtensions, the certificate chain, CertificateVerify and Finished, each with
    /// 22 bytes of record overhead (a few hundred bytes plus the chain). `rng` is not used
    /// yet (randomness comes with [`Server::recv_done`]); `now` will date session tickets.
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
                sent_close: false,
                client_random: [0; 32],
                early_skip: 0,
                now_ms: now.as_millis(),
            },
        })
    }

    pub fn status(&self) -> Status {
        match self.c.state {
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

    /// Free space to copy received bytes into.
    pub fn recv_buf(&mut self) -> &mut [u8] {
        self.rx.free()
    }

    /// Reports `n` bytes copied into [`Server::recv_buf`] and processes every whole record.
    /// An error is also kept in [`Server::error`]; the alert owed is queued for transmission.
    pub fn recv_done(&mut self, n: usize, rng: &mut dyn Rng) -> Result<(), Error> {
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
