//! What the DTLS client and server have in common: the buffers, the datagram loop (records
//! out of a datagram, handshake fragments into the reassembly, application data out to the
//! caller), the datagram slot being filled (alert, then flight), timers and closing. Each
//! role supplies its handshake as a [`Role`].
//!
//! Buffers: `rx` holds one received datagram and, in its last `max_message` bytes, the
//! handshake message being reassembled (size it for the peer's Certificate message when
//! certificates are used); `tx` holds one datagram of the MTU and, after it, the flight
//! kept for retransmission (a few hundred bytes, plus the chain for a server).

use super::incoming::{next_record, Fed, Reassembly};
use super::outgoing::{Flight, Sealer};
use super::records::RecordState;
use super::timer::Timer;
use crate::client::Status;
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use crate::time::UnixTime;
use mote_crypto::{Aead, Rng};
use mote_wire::handshake::HandshakeHeader;
use mote_wire::reassembly::FragmentError;
use mote_wire::{AlertDescription, AlertLevel, ContentType, Context, Reader};

/// Where a connection stands, apart from the role's handshake steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Handshaking,
    Connected,
    Closed,
    Failed,
}

/// The state both roles keep.
pub(crate) struct Shared<A: Aead> {
    pub records: RecordState<A>,
    pub timer: Timer,
    pub phase: Phase,
    pub error: Option<Error>,
    /// An alert to send as soon as the datagram slot is free.
    pub alert: Option<(AlertLevel, AlertDescription)>,
    pub sent_close: bool,
    pub peer_closed: bool,
    pub now_ms: u64,
}

impl<A: Aead> Shared<A> {
    pub fn new(timer: Timer, now_ms: u64) -> Self {
        Shared {
            records: RecordState::new(),
            timer,
            phase: Phase::Handshaking,
            error: None,
            alert: None,
            sent_close: false,
            peer_closed: false,
            now_ms,
        }
    }

    /// Ends the connection with `e`, queueing the alert it owes.
    pub fn fail(&mut self, e: Error) -> Error {
        if self.error.is_none() {
            self.error = Some(e);
            self.alert = e.alert().map(|a| (AlertLevel::FATAL, a));
        }
        self.timer.cancel();
        self.phase = Phase::Failed;
        e
    }

    fn on_alert(&mut self, level: AlertLevel, desc: AlertDescription) -> Result<(), Error> {
        if desc == AlertDescription::CLOSE_NOTIFY {
            if self.phase == Phase::Connected && !self.sent_close {
                self.peer_closed = true;
            } else {
                self.phase = Phase::Closed;
                self.timer.cancel();
            }
            return Ok(());
        }
        if level == AlertLevel::WARNING {
            return Ok(());
        }
        self.error = Some(Error::AlertReceived(desc));
        self.timer.cancel();
        self.phase = Phase::Failed;
        Err(Error::AlertReceived(desc))
    }
}

/// One role's handshake: implemented by [`crate::dtls::ClientRole`] and
/// [`crate::dtls::ServerRole`] only (sealed: its methods use the engine's internal types,
/// which is what the allowed `private_interfaces` lint is about).
pub trait Role: sealed::Sealed {}

#[allow(private_interfaces)]
pub(crate) mod sealed {
    use super::*;

    pub trait Sealed {
        type Aead: Aead;
        fn shared(&self) -> &Shared<Self::Aead>;
        fn shared_mut(&mut self) -> &mut Shared<Self::Aead>;
        /// One whole handshake message (its type, message_seq and body), already checked to
        /// have come under the right epoch. Returns the message_seq to expect next when it
        /// is not simply the following one.
        fn on_message(
            &mut self,
            t: mote_wire::HandshakeType,
            seq: u16,
            body: &[u8],
            flight: &mut Flight<'_>,
            rng: Option<&mut dyn Rng>,
        ) -> Result<Option<u16>, Error>;
        /// The peer's change_cipher_spec.
        fn on_ccs(&mut self) -> Result<(), Error>;
        /// Before any message was taken: the message_seq the first one may have (a server
        /// takes the client's numbering), or `None` to expect 0.
        fn first_seq(&self, _seen: u16) -> Option<u16> {
            None
        }
        /// Before any message was taken: the record sequence number of the first record
        /// (a server continues the client's epoch-0 numbering, RFC 6347 section 4.2.1).
        fn first_record(&mut self, _seq: u64) {}
    }
}

/// A DTLS 1.2 connection of either role over caller-owned buffers; see
/// [`crate::DtlsClient`] and [`crate::DtlsServer`].
pub struct Dtls<'b, R: Role> {
    rx: &'b mut [u8],
    rx_len: usize,
    /// The next record of the datagram to look at.
    rx_at: usize,
    /// Application data waiting in the datagram: its range.
    app: Option<(usize, usize)>,
    reasm: Reassembly<'b>,
    pub(crate) flight: Flight<'b>,
    dgram: &'b mut [u8],
    dgram_len: usize,
    pub(crate) role: R,
    /// No message taken yet (a server learns the client's numbering from the first).
    fresh: bool,
    /// The message_seq where the peer's answer to our current flight starts: an old
    /// fragment below it means the peer re-sent its previous flight (ours was lost); one
    /// at or above it is a repeat of the answer already taken, which changes nothing.
    answer_from: u16,
    /// The flight generation `answer_from` belongs to.
    answer_gen: u32,
    /// When the flight last went again early (answering the peer's retransmission): at most
    /// once per initial timeout, so a burst of the peer's retransmissions cannot start a
    /// storm of ours. The last flight has no timer, so this is time-based.
    early_resent_at: Option<u64>,
}

impl<'b, R: Role> Dtls<'b, R> {
    /// A role's first flight went out before any message arrived (a client's hello): the
    /// answer starts at message_seq 0.
    pub(crate) fn flight_started(&mut self) {
        self.answer_gen = self.flight.generation;
        self.answer_from = self.reasm.next_seq;
    }

    /// Splits the caller's buffers; `mtu` is the largest datagram sent.
    pub(crate) fn with_buffers(
        rx: &'b mut [u8],
        max_message: usize,
        tx: &'b mut [u8],
        mtu: usize,
        role: R,
    ) -> Result<Self, Error> {
        if mtu < 64 || tx.len() <= mtu + 256 || rx.len() <= max_message + 64 {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "buffers: tx needs the MTU plus room for a flight, rx a datagram plus max_message",
            )));
        }
        let (rx, asm) = rx.split_at_mut(rx.len() - max_message);
        let (dgram, store) = tx.split_at_mut(mtu);
        Ok(Dtls {
            rx,
            rx_len: 0,
            rx_at: 0,
            app: None,
            reasm: Reassembly::new(asm),
            flight: Flight::new(store),
            dgram,
            dgram_len: 0,
            role,
            fresh: true,
            answer_from: 0,
            answer_gen: 0,
            early_resent_at: None,
        })
    }

    pub fn status(&self) -> Status {
        let s = self.role.shared();
        match s.phase {
            Phase::Connected if s.peer_closed => Status::PeerClosed,
            Phase::Connected => Status::Connected,
            Phase::Closed => Status::Closed,
            Phase::Failed => Status::Failed,
            Phase::Handshaking => Status::Handshaking,
        }
    }

    /// Why the connection failed.
    pub fn error(&self) -> Option<Error> {
        self.role.shared().error
    }

    /// Where to copy one received datagram (empty while application data of the previous
    /// one waits to be read).
    pub fn recv_buf(&mut self) -> &mut [u8] {
        if self.app.is_some() || self.rx_at < self.rx_len {
            return &mut [];
        }
        self.rx_len = 0;
        self.rx_at = 0;
        &mut self.rx[..]
    }

    /// Reports a datagram of `n` bytes copied into [`Dtls::recv_buf`] at `now` and
    /// processes its records. Records that do not open, or come twice, are dropped
    /// silently (RFC 6347 section 4.1.2.7); an error is fatal and its alert is queued.
    pub fn recv_datagram(
        &mut self,
        n: usize,
        now: UnixTime,
        rng: &mut dyn Rng,
    ) -> Result<(), Error> {
        self.role.shared_mut().now_ms = now.as_millis();
        if matches!(self.role.shared().phase, Phase::Closed | Phase::Failed) {
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

    /// The datagram from [`Dtls::transmit`] was sent.
    pub fn transmit_done(&mut self) {
        self.dgram_len = 0;
        let _ = self.fill();
    }

    /// When [`Dtls::handle_timeout`] wants to be called (Unix time in ms), if at all.
    pub fn next_timeout(&self) -> Option<u64> {
        self.role.shared().timer.deadline()
    }

    /// Retransmits the flight if its timer expired; fails the handshake after the last
    /// retransmission went unanswered.
    pub fn handle_timeout(&mut self, now: UnixTime) -> Result<(), Error> {
        let s = self.role.shared_mut();
        s.now_ms = now.as_millis();
        match s.timer.expired(s.now_ms) {
            Ok(true) => {
                self.flight.rewind();
                self.fill()
            }
            Ok(false) => Ok(()),
            Err(e) => Err(s.fail(e)),
        }
    }

    /// Flight retransmissions so far (by timer).
    pub fn retransmissions(&self) -> u32 {
        self.role.shared().timer.total_retransmissions
    }

    /// Whether application data waits for [`Dtls::read`].
    pub fn has_app_data(&self) -> bool {
        self.app.is_some()
    }

    /// Copies the waiting application record into `out` (datagram semantics: a record
    /// longer than `out` is cut); returns its length.
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
    /// taken (0 while the datagram slot is busy: transmit first). Data longer than one
    /// datagram holds is cut.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        let s = self.role.shared_mut();
        if s.phase != Phase::Connected || s.sent_close {
            return Err(Error::Api(ApiMisuse::NotReady));
        }
        if self.dgram_len != 0 || self.flight.pending() {
            return Ok(0);
        }
        let (before, after) = s.records.overhead(1);
        let room = self.dgram.len().saturating_sub(before + after);
        let n = data.len().min(room);
        self.dgram[before..before + n].copy_from_slice(&data[..n]);
        self.dgram_len = s
            .records
            .seal(1, ContentType::APPLICATION_DATA, self.dgram, n)?;
        Ok(n)
    }

    /// Sends close_notify.
    pub fn close(&mut self) {
        let s = self.role.shared_mut();
        if !s.sent_close && s.phase == Phase::Connected {
            s.alert = Some((AlertLevel::WARNING, AlertDescription::CLOSE_NOTIFY));
            s.sent_close = true;
            if s.peer_closed {
                s.phase = Phase::Closed;
            }
            let _ = self.fill();
        }
    }

    /// Puts the next thing to send into the datagram slot, if it is free: an alert first,
    /// else the rest of the flight.
    pub(crate) fn fill(&mut self) -> Result<(), Error> {
        if self.dgram_len != 0 {
            return Ok(());
        }
        let s = self.role.shared_mut();
        if let Some((level, desc)) = s.alert.take() {
            let epoch = s.records.write_epoch();
            let (before, _) = s.records.overhead(epoch);
            self.dgram[before..before + 2].copy_from_slice(&[level.0, desc.0]);
            self.dgram_len = s.records.seal(epoch, ContentType::ALERT, self.dgram, 2)?;
            return Ok(());
        }
        // A failed or closed connection sends its alert and nothing after it.
        if self.flight.pending() && matches!(s.phase, Phase::Handshaking | Phase::Connected) {
            let mtu = self.dgram.len();
            match self.flight.fill_datagram(self.dgram, mtu, &mut s.records) {
                Ok(n) => self.dgram_len = n,
                Err(e) => return Err(s.fail(e)),
            }
        }
        Ok(())
    }

    /// Goes through the records of the datagram from `rx_at`, stopping at application
    /// data until it is read.
    fn process(&mut self, mut rng: Option<&mut dyn Rng>) -> Result<(), Error> {
        let mut resend = false;
        while self.app.is_none() && self.rx_at < self.rx_len {
            let own_cid = self.role.shared().records.own_cid_len;
            let d = &self.rx[self.rx_at..self.rx_len];
            let Some(head) = next_record(d, own_cid) else {
                // Not a whole record: the rest of the datagram is dropped.
                self.rx_at = self.rx_len;
                break;
            };
            let at = self.rx_at;
            self.rx_at += head.total;
            let rec = &mut self.rx[at..at + head.total];
            let Ok(o) = self
                .role
                .shared_mut()
                .records
                .open(rec, head.epoch, head.seq)
            else {
                continue;
            };
            let content = at + o.content.start..at + o.content.end;
            if self.fresh && o.epoch == 0 {
                self.role.first_record(head.seq);
            }
            let phase = self.role.shared().phase;
            match o.ct {
                ContentType::HANDSHAKE => {
                    let rng = rng.as_mut().map(|r| &mut **r as &mut dyn Rng);
                    resend |= self.handshake_record(content, o.epoch, rng)?;
                }
                ContentType::CHANGE_CIPHER_SPEC if self.rx[content.clone()] == [1] => {
                    if let Err(e) = self.role.on_ccs() {
                        return Err(self.role.shared_mut().fail(e));
                    }
                }
                ContentType::ALERT if content.len() == 2 => {
                    let a = &self.rx[content];
                    let (level, desc) = (AlertLevel(a[0]), AlertDescription(a[1]));
                    self.role.shared_mut().on_alert(level, desc)?;
                }
                ContentType::APPLICATION_DATA
                    if o.epoch == 1
                        && phase == Phase::Connected
                        && !self.role.shared().peer_closed =>
                {
                    self.app = Some((content.start, content.len()));
                }
                _ => {}
            }
            if matches!(self.role.shared().phase, Phase::Failed | Phase::Closed) {
                break;
            }
        }
        let s = self.role.shared();
        let now = s.now_ms;
        let gap = u64::from(s.timer.initial_ms());
        let due = self.early_resent_at.is_none_or(|t| now >= t + gap);
        if resend && due && !self.flight.is_empty() && !self.flight.pending() {
            // RFC 6347 section 4.2.4: the peer retransmitted its previous flight, so ours
            // was lost: send it again now rather than at the timer.
            self.early_resent_at = Some(now);
            self.flight.rewind();
        }
        Ok(())
    }

    /// The handshake fragments of one record; whether the peer retransmitted old ones.
    fn handshake_record(
        &mut self,
        content: core::ops::Range<usize>,
        epoch: u16,
        mut rng: Option<&mut dyn Rng>,
    ) -> Result<bool, Error> {
        let mut old = false;
        let mut at = content.start;
        while at < content.end {
            let mut r = Reader::new(&self.rx[at..content.end]);
            let h = match HandshakeHeader::parse(&mut r, &Context::DTLS12) {
                Ok(h) => h,
                Err(e) => return Err(self.role.shared_mut().fail(e.into())),
            };
            let flen = h.dtls.map_or(0, |f| f.fragment_length as usize);
            let start = at + HandshakeHeader::DTLS_LEN;
            if start + flen > content.end {
                let e = PeerMisbehaved::FragmentedAcrossKeyChange.into();
                return Err(self.role.shared_mut().fail(e));
            }
            at = start + flen;
            if self.fresh {
                if let Some(s) = h.dtls.and_then(|f| self.role.first_seq(f.message_seq)) {
                    self.reasm.next_seq = s;
                }
            }
            // A renegotiation starts a new handshake, numbered from 0 again (RFC 6347 4.2.2):
            // under the connection's keys a HelloRequest or ClientHello numbered 0 is that,
            // not a repeat of the first handshake's message, so the role can refuse it.
            let renegotiation = matches!(
                h.msg_type,
                mote_wire::HandshakeType::HELLO_REQUEST | mote_wire::HandshakeType::CLIENT_HELLO
            );
            if epoch == 1
                && renegotiation
                && self.role.shared().phase == Phase::Connected
                && h.dtls.is_some_and(|f| f.message_seq == 0)
            {
                self.reasm.restart();
            }
            match self.reasm.feed(&h, epoch, &self.rx[start..start + flen]) {
                Ok(Fed::Old) => {
                    old |= h.dtls.is_some_and(|f| f.message_seq < self.answer_from);
                }
                Ok(Fed::Future | Fed::Partial) => {}
                Ok(Fed::Complete) => {
                    let Some((t, seq, epoch, body)) = self.reasm.message() else {
                        continue;
                    };
                    // Finished comes under the new keys and everything before it in the
                    // clear (RFC 5246 7.4.9, RFC 6347 4.1): a plaintext Finished proves
                    // nothing, and nothing else may come under epoch 1 mid-handshake.
                    let handshaking = self.role.shared().phase == Phase::Handshaking;
                    if handshaking && (epoch == 1) != (t == mote_wire::HandshakeType::FINISHED) {
                        let e = PeerMisbehaved::UnexpectedMessage {
                            expected: "Finished under the new keys, other messages before them",
                            got: t,
                        };
                        return Err(self.role.shared_mut().fail(e.into()));
                    }
                    let rng = rng.as_mut().map(|r| &mut **r as &mut dyn Rng);
                    match self.role.on_message(t, seq, body, &mut self.flight, rng) {
                        Ok(next_seq) => {
                            self.fresh = false;
                            self.role.shared_mut().timer.progress();
                            self.reasm.advance();
                            if let Some(s) = next_seq {
                                self.reasm.next_seq = s;
                            }
                            if self.flight.generation != self.answer_gen {
                                // A new flight went out: the peer's answer starts here.
                                self.answer_gen = self.flight.generation;
                                self.answer_from = self.reasm.next_seq;
                                self.early_resent_at = None;
                            }
                        }
                        Err(e) => return Err(self.role.shared_mut().fail(e)),
                    }
                }
                // Too scattered to track: drop it, the retransmission comes whole.
                Err(FragmentError::TooScattered) => {}
                Err(FragmentError::TooLarge(t)) => {
                    let e = Error::Capacity {
                        needed: t.needed,
                        available: t.capacity,
                    };
                    return Err(self.role.shared_mut().fail(e));
                }
                Err(FragmentError::Inconsistent) => {
                    let e = PeerMisbehaved::IllegalParameter("handshake fragment").into();
                    return Err(self.role.shared_mut().fail(e));
                }
            }
        }
        Ok(old)
    }
}
