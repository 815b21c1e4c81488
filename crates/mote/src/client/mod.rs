//! The TLS 1.3 client (RFC 8446), sans-I/O.
//!
//! Four channels, as in BearSSL: the caller copies received bytes into [`Client::recv_buf`]
//! and reports them with [`Client::recv_done`]; takes bytes to send from
//! [`Client::transmit`] and reports them with [`Client::transmit_done`]; writes application
//! data with [`Client::write`] and reads it with [`Client::read`]. [`Client::status`] says what
//! the engine wants next. The engine never blocks, allocates, reads a clock or an RNG of its
//! own: time and randomness are arguments.

#[cfg(feature = "x509")]
mod cert_stream;
mod flight;
mod handshake;
mod hello;
mod records;
#[cfg(feature = "x509")]
mod verify;

use crate::buffers::{RxBuf, TxBuf};
use crate::config::ClientConfig;
use crate::error::{ApiMisuse, Error};
use crate::key_schedule::tls13::HandshakeSecret;
use crate::record_layer::tls13::Protector;
use crate::time::UnixTime;
use crate::transcript::Transcript;
use mote_crypto::{Digest, Provider, Rng, SuiteInfo};

pub use handshake::Negotiated;

/// What the connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The handshake is in progress: send what [`Client::transmit`] holds, feed what arrives.
    Handshaking,
    /// Application data can flow both ways (only in, after our close_notify).
    Connected,
    /// The peer sent close_notify: nothing more will arrive, but we may still write (RFC 8446
    /// section 6.1: closing is per direction). `close` sends ours and ends the connection.
    PeerClosed,
    /// Both sides sent close_notify: a clean end.
    Closed,
    /// The connection failed; [`Client::error`] says why. Any alert owed to the peer is in
    /// [`Client::transmit`].
    Failed,
}

/// Where the handshake stands. One variant per expected message; each holds exactly what the
/// next step needs, moved out on transition (RFC 8446 appendix A.1).
pub(crate) enum State<P: Provider> {
    WaitServerHello(handshake::Hello<P>),
    WaitEncryptedExtensions(handshake::Keys),
    WaitCertificateOrRequest(handshake::Keys),
    #[cfg_attr(not(feature = "x509"), allow(dead_code))]
    WaitCertificate(handshake::Keys),
    #[cfg_attr(not(feature = "x509"), allow(dead_code))]
    WaitCertificateVerify(handshake::Keys),
    WaitFinished(handshake::Keys),
    Connected(handshake::AppSecrets),
    Closed,
    Failed,
}

/// A TLS 1.3 client connection over caller-owned buffers.
pub struct Client<'a, 'b, P: Provider> {
    pub(crate) rx: RxBuf<'b>,
    /// Application data waiting in the first received record: (offset, len, record size).
    pub(crate) app: Option<(usize, usize, usize)>,
    pub(crate) c: Core<'a, 'b, P>,
}

/// Everything but the receive buffer, so a handshake message borrowed from the receive
/// buffer can be handled while the rest of the connection changes.
pub(crate) struct Core<'a, 'b, P: Provider> {
    pub(crate) p: P,
    pub(crate) cfg: &'a ClientConfig<'a>,
    pub(crate) tx: TxBuf<'b>,
    pub(crate) read: Option<Protector<P::Aead>>,
    pub(crate) write: Option<Protector<P::Aead>>,
    pub(crate) transcript: Transcript<P::Hash>,
    pub(crate) state: State<P>,
    pub(crate) neg: Negotiated,
    /// Largest plaintext we may put in one record (the server's record_size_limit or MFL).
    pub(crate) max_send: usize,
    /// Largest plaintext we accept in one record (ours).
    pub(crate) max_recv: usize,
    pub(crate) error: Option<Error>,
    pub(crate) sent_ccs: bool,
    /// Which directions are closed (RFC 8446 6.1).
    pub(crate) closing: crate::record_layer::closing::Closing,
    /// The server's Certificate message being read as it arrives.
    #[cfg(feature = "x509")]
    pub(crate) cert_stream: Option<cert_stream::CertStream<'a>>,
    /// The certificate type the server sends (RFC 7250), from EncryptedExtensions.
    pub(crate) server_cert_type: mote_wire::CertificateType,
    /// ClientHello.random, which names this connection in a key log.
    pub(crate) client_random: [u8; 32],
    /// The server asked for a client certificate and accepts our signature scheme.
    pub(crate) client_auth_schemes: bool,
    /// Unix time in milliseconds: certificate validity, ticket ages.
    pub(crate) now_ms: u64,
    /// 0-RTT data is being sent under the client early traffic keys.
    pub(crate) early_active: bool,
    /// How many more bytes of 0-RTT data the ticket allows.
    pub(crate) early_left: u32,
}

/// The handshake secrets a client carries between messages.
pub(crate) struct Secrets {
    pub hs: HandshakeSecret,
    pub client: Digest,
    pub server: Digest,
}

impl<'a, 'b, P: Provider> Client<'a, 'b, P> {
    /// Starts a handshake: builds the ClientHello into the transmit buffer.
    ///
    /// `rx` must hold the largest record the server may send (header + 2^14 + 256 bytes, or
    /// `record_size_limit + 5 + 256` when the server honours the configured limit) plus the
    /// largest handshake message (the server's Certificate); `tx` the ClientHello (about 300
    /// bytes) and the client's flight. `now` is the current time (certificate validity,
    /// ticket ages).
    pub fn new(
        p: P,
        cfg: &'a ClientConfig<'a>,
        rng: &mut dyn Rng,
        now: UnixTime,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
    ) -> Result<Self, Error> {
        if cfg.cipher_suites.is_empty() {
            return Err(Error::Api(ApiMisuse::BadConfig("no cipher suites")));
        }
        #[cfg(feature = "x509")]
        let no_auth = cfg.server_auth.is_none();
        #[cfg(not(feature = "x509"))]
        let no_auth = true;
        if no_auth && !cfg.psk_only {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "no server authentication: give trust anchors, a pin or a raw key, or use a PSK only",
            )));
        }
        if cfg.groups.is_empty() && cfg.psk.is_none() && cfg.resume.is_none() {
            return Err(Error::Api(ApiMisuse::BadConfig("no groups and no PSK")));
        }
        if cfg
            .cipher_suites
            .iter()
            .any(|s| SuiteInfo::of(*s).is_none())
        {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "a cipher suite mote does not implement",
            )));
        }
        let max_recv = match (cfg.record_size_limit, cfg.max_fragment_length) {
            // RFC 8449 section 4: in TLS 1.3 the limit counts the inner content type.
            (Some(l), _) => usize::from(l).saturating_sub(1).min(1 << 14),
            (None, Some(m)) => m.bytes().unwrap_or(1 << 14),
            (None, None) => 1 << 14,
        };
        // The hashes the offered suites (and a PSK) need: a configuration with only SHA-256
        // suites never runs, or links, SHA-384.
        let uses = |h: mote_crypto::HashAlgorithm| {
            cfg.cipher_suites
                .iter()
                .filter_map(|s| SuiteInfo::of(*s))
                .any(|i| i.hash == h)
                || cfg.psk.is_some_and(|k| k.hash == h)
        };
        let transcript = Transcript::new(
            &p,
            uses(mote_crypto::HashAlgorithm::Sha256),
            uses(mote_crypto::HashAlgorithm::Sha384),
        );
        let mut c = Core {
            p,
            cfg,
            tx: TxBuf::new(tx),
            read: None,
            write: None,
            transcript,
            state: State::Closed,
            neg: Negotiated::default(),
            max_send: 1 << 14,
            max_recv,
            error: None,
            sent_ccs: false,
            closing: Default::default(),
            client_auth_schemes: false,
            client_random: [0; 32],
            server_cert_type: mote_wire::CertificateType::X509,
            #[cfg(feature = "x509")]
            cert_stream: None,
            now_ms: now.as_millis(),
            early_active: false,
            early_left: 0,
        };
        let hello = c.start(rng)?;
        c.state = State::WaitServerHello(hello);
        Ok(Client {
            rx: RxBuf::new(rx),
            app: None,
            c,
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

    /// What was negotiated (complete once connected).
    pub fn negotiated(&self) -> &Negotiated {
        &self.c.neg
    }

    /// Free space to copy received bytes into. Empty while the buffer is full of records
    /// that wait for [`Client::read`].
    pub fn recv_buf(&mut self) -> &mut [u8] {
        self.rx.free()
    }

    /// Reports `n` bytes copied into [`Client::recv_buf`] and processes every whole record.
    /// An error is also kept in [`Client::error`]; the alert owed is queued for transmission.
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

    /// Reports `n` bytes of [`Client::transmit`] sent.
    pub fn transmit_done(&mut self, n: usize) {
        self.c.tx.sent(n);
    }

    /// Whether received application data waits for [`Client::read`].
    pub fn has_app_data(&self) -> bool {
        self.app.is_some()
    }

    /// Whether the engine waits for bytes from the peer.
    pub fn wants_read(&self) -> bool {
        matches!(self.status(), Status::Handshaking | Status::Connected) && self.app.is_none()
    }
}
