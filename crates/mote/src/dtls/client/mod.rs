//! The DTLS 1.2 client (RFC 6347): the handshake in `handshake.rs`, everything datagram
//! shaped in [`Dtls`](super::endpoint::Dtls).

mod handshake;

use super::config::{DtlsClientConfig, DtlsNegotiated};
use super::endpoint::{sealed::Sealed, Dtls, Role, Shared};
use super::outgoing::Flight;
use super::timer::Timer;
use crate::error::Error;
use crate::time::UnixTime;
use handshake::State;
use mote_crypto::{Provider, Rng};

/// A DTLS 1.2 client connection: [`Dtls`] in the client role.
pub type DtlsClient<'a, 'b, P> = Dtls<'b, ClientRole<'a, P>>;

/// The client's side of the handshake (see [`DtlsClient`]).
pub struct ClientRole<'a, P: Provider> {
    p: P,
    cfg: &'a DtlsClientConfig<'a>,
    shared: Shared<P::Aead>,
    state: State<P>,
    neg: DtlsNegotiated,
    client_random: [u8; 32],
}

impl<P: Provider> Role for ClientRole<'_, P> {}

#[allow(private_interfaces)] // sealed: see `Role`
impl<P: Provider> Sealed for ClientRole<'_, P> {
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
}

impl<'a, 'b, P: Provider> Dtls<'b, ClientRole<'a, P>> {
    /// Starts a handshake: the ClientHello is ready in [`Dtls::transmit`]. The last
    /// `max_message` bytes of `rx` reassemble handshake messages (size it for the server's
    /// Certificate message with certificates; a few hundred bytes do for PSK).
    pub fn new(
        p: P,
        cfg: &'a DtlsClientConfig<'a>,
        rng: &mut dyn Rng,
        now: UnixTime,
        rx: &'b mut [u8],
        max_message: usize,
        tx: &'b mut [u8],
    ) -> Result<Self, Error> {
        let mut client_random = [0u8; 32];
        rng.fill(&mut client_random).map_err(Error::Crypto)?;
        let role = ClientRole {
            p,
            cfg,
            shared: Shared::new(Timer::new(cfg.retransmit), now.as_millis()),
            state: State::Start,
            neg: DtlsNegotiated::default(),
            client_random,
        };
        role.check_config()?;
        let mut c = Dtls::with_buffers(rx, max_message, tx, usize::from(cfg.mtu), role)?;
        c.role.send_client_hello(&mut c.flight, None)?;
        c.flight_started();
        let now = c.role.shared.now_ms;
        c.role.shared.timer.start(now);
        c.fill()?;
        Ok(c)
    }

    /// What was negotiated (complete once connected).
    pub fn negotiated(&self) -> DtlsNegotiated {
        let mut n = self.role.neg;
        n.retransmissions = self.role.shared.timer.total_retransmissions;
        n
    }
}
