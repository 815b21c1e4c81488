//! The DTLS 1.2 server (RFC 6347). A server keeps no state for a peer until its
//! ClientHello echoes a cookie ([`verify_client_hello`], section 4.2.1); the connection is
//! then made and fed that datagram. Everything datagram shaped is [`Dtls`].

mod cookie;
mod handshake;

pub use cookie::{verify_client_hello, HelloVerdict, COOKIE_LEN};

use super::config::{DtlsServerConfig, DtlsServerNegotiated};
use super::endpoint::{sealed::Sealed, Dtls, Role, Shared};
use super::outgoing::Flight;
use super::timer::Timer;
use crate::error::{ApiMisuse, Error};
use crate::time::UnixTime;
use handshake::State;
use mote_crypto::{Provider, Rng};

/// A DTLS 1.2 server connection: [`Dtls`] in the server role.
pub type DtlsServer<'a, 'b, P> = Dtls<'b, ServerRole<'a, P>>;

/// The server's side of the handshake (see [`DtlsServer`]).
pub struct ServerRole<'a, P: Provider> {
    p: P,
    cfg: &'a DtlsServerConfig<'a>,
    shared: Shared<P::Aead>,
    state: State<P>,
    neg: DtlsServerNegotiated,
}

impl<P: Provider> Role for ServerRole<'_, P> {}

#[allow(private_interfaces)] // sealed: see `Role`
impl<P: Provider> Sealed for ServerRole<'_, P> {
    type Aead = P::Aead;
    fn shared(&self) -> &Shared<P::Aead> {
        &self.shared
    }
    fn shared_mut(&mut self) -> &mut Shared<P::Aead> {
        &mut self.shared
    }
    fn on_message(
        &mut self,
        t: mote_wire::HandshakeType,
        seq: u16,
        body: &[u8],
        flight: &mut Flight<'_>,
        rng: Option<&mut dyn Rng>,
    ) -> Result<Option<u16>, Error> {
        self.handle(t, seq, body, flight, rng)
    }
    fn on_ccs(&mut self) -> Result<(), Error> {
        self.change_cipher_spec()
    }
    fn first_record(&mut self, seq: u64) {
        // The HelloVerifyRequest took the first hello's number; our records go on from the
        // second's, so the client's replay window does not drop them.
        if matches!(self.state, State::WaitClientHello) {
            self.shared.records.start_plain_at(seq);
        }
    }
    fn first_seq(&self, seen: u16) -> Option<u16> {
        // The client's hello after a HelloVerifyRequest is numbered 1 (section 4.2.2); the
        // server's first message takes the same number.
        matches!(self.state, State::WaitClientHello).then_some(seen)
    }
}

impl<'a, 'b, P: Provider> Dtls<'b, ServerRole<'a, P>> {
    /// A connection for a peer whose ClientHello passed [`verify_client_hello`]: give it
    /// that datagram with [`Dtls::recv_buf`] and [`Dtls::recv_datagram`]. `tx` must hold
    /// the MTU plus the server's flight (its certificate chain and a few hundred bytes).
    pub fn new(
        p: P,
        cfg: &'a DtlsServerConfig<'a>,
        now: UnixTime,
        rx: &'b mut [u8],
        max_message: usize,
        tx: &'b mut [u8],
    ) -> Result<Self, Error> {
        if cfg.psks.is_empty() && cfg.identity.is_none() {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "neither a PSK nor a certificate identity",
            )));
        }
        let role = ServerRole {
            p,
            cfg,
            shared: Shared::new(Timer::new(cfg.retransmit), now.as_millis()),
            state: State::WaitClientHello,
            neg: DtlsServerNegotiated::default(),
        };
        Dtls::with_buffers(rx, max_message, tx, usize::from(cfg.mtu), role)
    }

    /// What was negotiated (complete once connected).
    pub fn negotiated(&self) -> DtlsServerNegotiated {
        self.role.neg
    }

    /// The identity of the client's PSK, when it used one.
    pub fn client_psk_identity(&self) -> Option<&'a [u8]> {
        self.role
            .neg
            .psk
            .and_then(|i| self.role.cfg.psks.get(i))
            .map(|k| k.identity)
    }
}
