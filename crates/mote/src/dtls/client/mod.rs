//! The DTLS 1.2 client (RFC 6347): datagrams in and out, flights retransmitted on the
//! caller's clock, handshake messages reassembled in order.
//!
//! Buffers: `rx` holds one received datagram and, in its last `max_message` bytes, the
//! handshake message being reassembled (the server's Certificate is the largest: size it
//! for the chain); `tx` holds one datagram of the MTU and, after it, the flight kept for
//! retransmission (a few hundred bytes for a client).

mod handshake;

use super::config::{DtlsClientConfig, DtlsNegotiated};
use super::incoming::{next_record, Fed, Reassembly};
use super::outgoing::{Flight, Sealer};
use super::records::RecordState;
use super::timer::Timer;
use crate::client::Status;
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use crate::time::UnixTime;
use handshake::State;
use mote_crypto::{Provider, Rng};
use mote_wire::handshake::HandshakeHeader;
use mote_wire::{AlertDescription, AlertLevel, ContentType, Context, Reader};

/// A DTLS 1.2 client connection over caller-owned buffers.
pub struct DtlsClient<'a, 'b, P: Provider> {
    rx: &'b mut [u8],
    rx_len: usize,
    /// The next record of the datagram to look at.
    rx_at: usize,
    /// Application data waiting in the datagram: its range.
    app: Option<(usize, usize)>,
    reasm: Reassembly<'b>,
    flight: Flight<'b>,
    dgram: &'b mut [u8],
    dgram_len: usize,
    c: Core<'a, P>,
}

/// Everything but the buffers.
pub(crate) struct Core<'a, P: Provider> {
    p: P,
    cfg: &'a DtlsClientConfig<'a>,
    records: RecordState<P::Aead>,
    timer: Timer,
    state: State<P>,
    neg: DtlsNegotiated,
    error: Option<Error>,
    now_ms: u64,
    client_random: [u8; 32],
    /// An alert to send as soon as the datagram slot is free.
    alert: Option<(AlertLevel, AlertDescription)>,
    sent_close: bool,
    peer_closed: bool,
}

impl<'a, 'b, P: Provider> DtlsClient<'a, 'b, P> {
    /// Starts a handshake: the ClientHello is ready in [`DtlsClient::transmit`].
    /// `max_message` bytes at the end of `rx` reassemble handshake messages.
    pub fn new(
        p: P,
        cfg: &'a DtlsClientConfig<'a>,
        rng: &mut dyn Rng,
        now: UnixTime,
        rx: &'b mut [u8],
        max_message: usize,
        tx: &'b mut [u8],
    ) -> Result<Self, Error> {
        let mtu = usize::from(cfg.mtu);
        if mtu < 64 || tx.len() <= mtu + 256 || rx.len() <= max_message + 64 {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "buffers: tx needs the MTU plus room for a flight, rx a datagram plus max_message",
            )));
        }
        let (rx, asm) = rx.split_at_mut(rx.len() - max_message);
        let (dgram, store) = tx.split_at_mut(mtu);
        let mut client_random = [0u8; 32];
        rng.fill(&mut client_random).map_err(Error::Crypto)?;
        let mut c = DtlsClient {
            rx,
            rx_len: 0,
            rx_at: 0,
            app: None,
            reasm: Reassembly::new(asm),
            flight: Flight::new(store),
            dgram,
            dgram_len: 0,
            c: Core {
                p,
                cfg,
                records: RecordState::new(),
                timer: Timer::new(cfg.retransmit),
                state: State::Start,
                neg: DtlsNegotiated::default(),
                error: None,
                now_ms: now.as_millis(),
                client_random,
                alert: None,
                sent_close: false,
                peer_closed: false,
            },
        };
        c.c.check_config()?;
        c.c.send_client_hello(&mut c.flight, None)?;
        c.c.timer.start(c.c.now_ms);
        c.fill()?;
        Ok(c)
    }

    pub fn status(&self) -> Status {
        match self.c.state {
            State::Connected if self.c.peer_closed => Status::PeerClosed,
            State::Connected => Status::Connected,
            State::Closed => Status::Closed,
            State::Failed => Status::Failed,
            _ => Status::Handshaking,
        }
    }

    pub fn error(&self) -> Option<Error> {
        self.c.error
    }

    pub fn negotiated(&self) -> &DtlsNegotiated {
        &self.c.neg
    }

    /// Where to copy one received datagram.
    pub fn recv_buf(&mut self) -> &mut [u8] {
        if self.app.is_some() || self.rx_at < self.rx_len {
            // The previous datagram is not fully processed (application data unread).
            return &mut [];
        }
        self.rx_len = 0;
        self.rx_at = 0;
        &mut self.rx[..]
    }

    /// Reports a datagram of `n` bytes copied into [`DtlsClient::recv_buf`] at `now` and
    /// processes its records. Records that do not open, or come twice, are dropped
    /// silently (RFC 6347 section 4.1.2.7); an error is fatal and its alert is queued.
    pub fn recv_datagram(
        &mut self,
        n: usize,
        now: UnixTime,
        rng: &mut dyn Rng,
    ) -> Result<(), Error> {
        self.c.now_ms = now.as_millis();
        if matches!(self.c.state, State::Closed | State::Failed) {
            return Ok(());
        }
        self.rx_len = n.min(self.rx.len());
        self.rx_at = 0;
        let r = self.process(Some(rng));
        let f = self.fill();
        r.and(f)
    }

    /// The next datagram to send (empty: nothing to send now).
    pub fn transmit(&self) -> &[u8] {
        &self.dgram[..self.dgram_len]
    }

    /// The datagram from [`DtlsClient::transmit`] was sent.
    pub fn transmit_done(&mut self) {
        self.dgram_len = 0;
        let _ = self.fill();
    }

    /// When [`DtlsClient::handle_timeout`] wants to be called (Unix time in ms), if at all.
    pub fn next_timeout(&self) -> Option<u64> {
        self.c.timer.deadline()
    }

    /// Retransmits the flight if its timer expired; fails the handshake after the last
    /// retransmission went unanswered.
    pub fn handle_timeout(&mut self, now: UnixTime) -> Result<(), Error> {
        self.c.now_ms = now.as_millis();
        match self.c.timer.expired(self.c.now_ms) {
            Ok(true) => {
                self.c.neg.retransmissions = self.c.timer.total_retransmissions;
                self.flight.rewind();
                self.fill()
            }
            Ok(false) => Ok(()),
            Err(e) => Err(self.c.fail(e)),
        }
    }

    /// Whether application data waits for [`DtlsClient::read`].
    pub fn has_app_data(&self) -> bool {
        self.app.is_some()
    }

    /// Copies the waiting application record into `out` (a datagram record is delivered
    /// whole or the rest is dropped: datagram semantics); returns its length.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let Some((at, len)) = self.app.take() else {
            return 0;
        };
        let n = len.min(out.len());
        out[..n].copy_from_slice(&self.rx[at..at + n]);
        // Go on with the rest of the datagram.
        let _ = self.process(None);
        let _ = self.fill();
        n
    }

    /// Seals `data` as one application record in the next datagram; returns how much was
    /// taken (0 while the datagram slot is busy: transmit first). Data longer than the MTU
    /// allows is cut.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        if !matches!(self.c.state, State::Connected) || self.c.sent_close {
            return Err(Error::Api(ApiMisuse::NotReady));
        }
        if self.dgram_len != 0 || self.flight.pending() {
            return Ok(0);
        }
        let (before, after) = self.c.records.overhead(1);
        let room = self.dgram.len().saturating_sub(before + after);
        let n = data.len().min(room);
        self.dgram[before..before + n].copy_from_slice(&data[..n]);
        self.dgram_len = self
            .c
            .records
            .seal(1, ContentType::APPLICATION_DATA, self.dgram, n)?;
        Ok(n)
    }

    /// Sends close_notify.
    pub fn close(&mut self) {
        if !self.c.sent_close && matches!(self.c.state, State::Connected) {
            self.c.alert = Some((AlertLevel::WARNING, AlertDescription::CLOSE_NOTIFY));
            self.c.sent_close = true;
            if self.c.peer_closed {
                self.c.state = State::Closed;
            }
            let _ = self.fill();
        }
    }

    /// Puts the next thing to send into the datagram slot, if it is free: an alert first,
    /// else the rest of the flight.
    fn fill(&mut self) -> Result<(), Error> {
        if self.dgram_len != 0 {
            return Ok(());
        }
        if let Some((level, desc)) = self.c.alert.take() {
            let epoch = self.c.records.write_epoch();
            let (before, _) = self.c.records.overhead(epoch);
            self.dgram[before..before + 2].copy_from_slice(&[level.0, desc.0]);
            self.dgram_len = self
                .c
                .records
                .seal(epoch, ContentType::ALERT, self.dgram, 2)?;
            return Ok(());
        }
        if self.flight.pending() {
            let mtu = self.dgram.len();
            self.dgram_len = self
                .flight
                .fill_datagram(self.dgram, mtu, &mut self.c.records)
                .map_err(|e| self.c.fail(e))?;
        }
        Ok(())
    }

    /// Goes through the records of the datagram from `rx_at`, stopping at application
    /// data until it is read.
    fn process(&mut self, mut rng: Option<&mut dyn Rng>) -> Result<(), Error> {
        let mut resend = false;
        while self.app.is_none() && self.rx_at < self.rx_len {
            let d = &self.rx[self.rx_at..self.rx_len];
            let Some(head) = next_record(d, self.c.records.own_cid_len) else {
                // Not a whole record: the rest of the datagram is dropped.
                self.rx_at = self.rx_len;
                break;
            };
            let at = self.rx_at;
            self.rx_at += head.total;
            let rec = &mut self.rx[at..at + head.total];
            let Ok(o) = self.c.records.open(rec, head.epoch, head.seq) else {
                continue;
            };
            let content = at + o.content.start..at + o.content.end;
            match o.ct {
                ContentType::HANDSHAKE => {
                    resend |= self.handshake_record(
                        content,
                        rng.as_mut().map(|r| &mut **r as &mut dyn Rng),
                    )?;
                }
                ContentType::CHANGE_CIPHER_SPEC if self.rx[content.clone()] == [1] => {
                    self.c.on_ccs().map_err(|e| self.c.fail(e))?;
                }
                ContentType::ALERT => {
                    let a = &self.rx[content];
                    if a.len() == 2 {
                        let (level, desc) = (AlertLevel(a[0]), AlertDescription(a[1]));
                        self.c.on_alert(level, desc)?;
                    }
                }
                ContentType::APPLICATION_DATA
                    if o.epoch == 1
                        && matches!(self.c.state, State::Connected)
                        && !self.c.peer_closed =>
                {
                    self.app = Some((content.start, content.len()));
                }
                _ => {}
            }
            if matches!(self.c.state, State::Failed | State::Closed) {
                break;
            }
        }
        if resend && !self.flight.is_empty() && !self.flight.pending() {
            // RFC 6347 section 4.2.4: the peer retransmitted its previous flight, so ours
            // was lost: send it again now rather than at the timer.
            self.flight.rewind();
        }
        Ok(())
    }

    /// The handshake fragments of one record; whether the peer retransmitted old ones.
    fn handshake_record(
        &mut self,
        content: core::ops::Range<usize>,
        mut rng: Option<&mut dyn Rng>,
    ) -> Result<bool, Error> {
        let mut old = false;
        let mut at = content.start;
        while at < content.end {
            let frag = &self.rx[at..content.end];
            let mut r = Reader::new(frag);
            let h = match HandshakeHeader::parse(&mut r, &Context::DTLS12) {
                Ok(h) => h,
                Err(e) => return Err(self.c.fail(e.into())),
            };
            let flen = h.dtls.map_or(0, |f| f.fragment_length as usize);
            let start = at + HandshakeHeader::DTLS_LEN;
            if start + flen > content.end {
                return Err(self
                    .c
                    .fail(PeerMisbehaved::FragmentedAcrossKeyChange.into()));
            }
            at = start + flen;
            match self.reasm.feed(&h, &self.rx[start..start + flen]) {
                Ok(Fed::Old) => old = true,
                Ok(Fed::Future | Fed::Partial) => {}
                Ok(Fed::Complete) => {
                    let Some((t, seq, body)) = self.reasm.message() else {
                        continue;
                    };
                    let r = self.c.on_message(
                        t,
                        seq,
                        body,
                        &mut self.flight,
                        rng.as_mut().map(|r| &mut **r as &mut dyn Rng),
                    );
                    match r {
                        Ok(next_seq) => {
                            self.reasm.advance();
                            if let Some(s) = next_seq {
                                self.reasm.next_seq = s;
                            }
                        }
                        Err(e) => return Err(self.c.fail(e)),
                    }
                }
                Err(_) => {
                    return Err(self.c.fail(Error::Capacity {
                        needed: h.length as usize,
                        available: 0,
                    }))
                }
            }
        }
        Ok(old)
    }
}

impl<P: Provider> Core<'_, P> {
    /// Ends the connection with `e`, queueing the alert it owes.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        if self.error.is_none() {
            self.error = Some(e);
            self.alert = e.alert().map(|a| (AlertLevel::FATAL, a));
        }
        self.timer.cancel();
        self.state = State::Failed;
        e
    }

    fn on_alert(&mut self, level: AlertLevel, desc: AlertDescription) -> Result<(), Error> {
        if desc == AlertDescription::CLOSE_NOTIFY {
            if matches!(self.state, State::Connected) && !self.sent_close {
                self.peer_closed = true;
            } else {
                self.state = State::Closed;
            }
            return Ok(());
        }
        if level == AlertLevel::WARNING {
            return Ok(());
        }
        self.error = Some(Error::AlertReceived(desc));
        self.timer.cancel();
        self.state = State::Failed;
        Err(Error::AlertReceived(desc))
    }
}
