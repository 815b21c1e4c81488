//! The server's record loop: framing, decrypting and routing what arrives; sealing what
//! goes out; alerts and close_notify. The same shape as the client's `records.rs`.

use super::{Core, Server, State};
use crate::client::Status;
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use crate::record_layer::closing::AlertEffect;
use crate::record_layer::outgoing::{self, parse_alert, Out};
use mote_crypto::{Provider, Rng};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{AlertDescription, AlertLevel, ContentType};

/// How many bytes of refused 0-RTT records are skipped before an undecryptable record is
/// bad_record_mac (RFC 8446 section 4.2.10: "up to the configured max_early_data_size";
/// mote never offers early data, so this only bounds the work a client can cause).
pub(crate) const MAX_SKIPPED_EARLY_DATA: usize = 1 << 14;

impl<P: Provider> Server<'_, '_, P> {
    pub(crate) fn process(&mut self, mut rng: Option<&mut dyn Rng>) -> Result<(), Error> {
        while matches!(self.status(), Status::Handshaking | Status::Connected) && self.app.is_none()
        {
            let max = if self.c.read.is_some() {
                self.c.max_recv + 256
            } else {
                1 << 14
            };
            let head = match self.rx.peek_record(max) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => return Err(self.c.fail(e)),
            };
            if let Err(e) = self.one_record(head.content_type, head.total, &mut rng) {
                return Err(self.c.fail(e));
            }
        }
        Ok(())
    }

    fn one_record(
        &mut self,
        ct: ContentType,
        total: usize,
        rng: &mut Option<&mut dyn Rng>,
    ) -> Result<(), Error> {
        let body_len = total - TLS_HEADER_LEN;
        let handshaking = self.c.state.awaits_client_flight();
        match ct {
            ContentType::CHANGE_CIPHER_SPEC => {
                // RFC 8446 section 5: a single 0x01 between the ClientHello and the client's
                // Finished is dropped; anything else is unexpected_message.
                let allowed = handshaking || matches!(self.c.state, State::WaitClientHello2(_));
                if !(allowed && self.rx.record(total)[TLS_HEADER_LEN..] == [1]) {
                    return Err(PeerMisbehaved::UnexpectedRecord { content_type: ct.0 }.into());
                }
                self.rx.drop_record(total);
                Ok(())
            }
            // A plaintext alert: before keys, or from a client that could not read the
            // server's flight (it has no handshake keys then).
            ContentType::ALERT if self.c.read.is_none() || handshaking => {
                let alert = parse_alert(&self.rx.record(total)[TLS_HEADER_LEN..])?;
                self.rx.drop_record(total);
                self.c.on_alert(alert)
            }
            ContentType::HANDSHAKE
                if matches!(
                    self.c.state,
                    State::WaitClientHello | State::WaitClientHello2(_)
                ) =>
            {
                if body_len == 0 {
                    return Err(PeerMisbehaved::EmptyRecord.into());
                }
                self.rx.keep_handshake(total, TLS_HEADER_LEN, body_len);
                self.handshake(rng)
            }
            ContentType::APPLICATION_DATA if self.c.read.is_some() => {
                let max = self.c.max_recv;
                let Some(read) = self.c.read.as_mut() else {
                    return Err(PeerMisbehaved::UnexpectedRecord { content_type: ct.0 }.into());
                };
                let (inner, len) = match read.open(self.rx.record_mut(total), max) {
                    Ok(v) => {
                        self.c.early_skip = 0;
                        v
                    }
                    Err(Error::Peer(PeerMisbehaved::BadRecordMac))
                        if handshaking && self.c.early_skip >= total =>
                    {
                        // Refused 0-RTT data under keys we never derived: skip it.
                        self.c.early_skip -= total;
                        self.rx.drop_record(total);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                match inner {
                    ContentType::HANDSHAKE => {
                        if len == 0 {
                            return Err(PeerMisbehaved::EmptyRecord.into());
                        }
                        self.rx.keep_handshake(total, TLS_HEADER_LEN, len);
                        self.handshake(rng)
                    }
                    ContentType::APPLICATION_DATA
                        if matches!(self.c.state, State::Connected(_)) =>
                    {
                        if len == 0 {
                            self.rx.drop_record(total);
                        } else {
                            self.app = Some((TLS_HEADER_LEN, len, total));
                        }
                        Ok(())
                    }
                    ContentType::ALERT => {
                        let rec = self.rx.record(total);
                        let alert = parse_alert(&rec[TLS_HEADER_LEN..TLS_HEADER_LEN + len])?;
                        self.rx.drop_record(total);
                        self.c.on_alert(alert)
                    }
                    other => Err(PeerMisbehaved::UnexpectedRecord {
                        content_type: other.0,
                    }
                    .into()),
                }
            }
            other => Err(PeerMisbehaved::UnexpectedRecord {
                content_type: other.0,
            }
            .into()),
        }
    }

    fn handshake(&mut self, rng: &mut Option<&mut dyn Rng>) -> Result<(), Error> {
        loop {
            let Some(msg) = self.rx.handshake_message()? else {
                return Ok(());
            };
            let n = msg.len();
            // RFC 8446 section 5.1: a ClientHello must end at a record boundary (keys change
            // after it); on_client_hello refuses it once parsed, before any flight is signed.
            self.c.hello_not_last = self.rx.handshake_pending() > n;
            let keys_changed = self.c.on_handshake(msg, rng)?;
            self.rx.pop_handshake(n);
            // RFC 8446 section 5.1: a handshake message must not span a key change.
            if keys_changed && self.rx.handshake_pending() > 0 {
                return Err(PeerMisbehaved::FragmentedAcrossKeyChange.into());
            }
        }
    }

    /// Copies received application data into `out`; returns how many bytes.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let Some((off, len, total)) = self.app else {
            return 0;
        };
        let n = len.min(out.len());
        out[..n].copy_from_slice(self.rx.slice(off, n));
        if n == len {
            self.rx.drop_record(total);
            self.app = None;
            let _ = self.process(None);
        } else {
            self.app = Some((off + n, len - n, total));
        }
        n
    }

    /// Seals application data into the transmit buffer, as much as fits; returns how many
    /// bytes of `data` were taken.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        if !matches!(self.c.state, State::Connected(_)) || self.c.closing.sent {
            return Err(Error::Api(ApiMisuse::NotReady));
        }
        let mut taken = 0;
        while taken < data.len() {
            let overhead = self.c.overhead();
            let room = self.c.tx.free_len().saturating_sub(overhead);
            let n = (data.len() - taken).min(self.c.max_send).min(room);
            if n == 0 {
                if self.c.tx.capacity() <= overhead {
                    return Err(Error::Api(ApiMisuse::BufferTooSmall {
                        needed: overhead + 1,
                        available: self.c.tx.capacity(),
                    }));
                }
                break;
            }
            self.c.tx.free()[TLS_HEADER_LEN..TLS_HEADER_LEN + n]
                .copy_from_slice(&data[taken..taken + n]);
            self.c.seal_free(ContentType::APPLICATION_DATA, n)?;
            taken += n;
        }
        Ok(taken)
    }

    /// Sends a KeyUpdate and moves to the next write keys (RFC 8446 section 4.6.3); with
    /// `request_peer` the client is asked to update its keys too. A collector uses this to
    /// bound how much data one key protects on a long-lived device connection.
    pub fn key_update(&mut self, request_peer: bool) -> Result<(), Error> {
        let req = if request_peer {
            mote_wire::KeyUpdateRequest::UPDATE_REQUESTED
        } else {
            mote_wire::KeyUpdateRequest::UPDATE_NOT_REQUESTED
        };
        if self.c.closing.sent {
            return Err(Error::Api(ApiMisuse::NotReady));
        }
        let state = core::mem::replace(&mut self.c.state, State::Failed);
        let State::Connected(mut a) = state else {
            self.c.state = state;
            return Err(Error::Api(ApiMisuse::NotReady));
        };
        let r = self.c.send_key_update(&mut a, req);
        self.c.state = State::Connected(a);
        r
    }

    /// Sends close_notify (RFC 8446 section 6.1). Reading goes on until the peer's; after
    /// the peer's ([`Status::PeerClosed`]) the connection is then closed.
    pub fn close(&mut self) {
        let connected = matches!(self.c.state, State::Connected(_));
        let c = &mut self.c;
        let mut out = Out {
            tx: &mut c.tx,
            write: &mut c.write,
            padding: c.cfg.padding,
        };
        if c.closing.close(connected, &mut out) {
            c.state = State::Closed;
        }
    }
}

impl<'b, P: Provider> Core<'_, 'b, P> {
    /// The write side, for the sealing shared with the other role.
    pub(crate) fn out(&mut self) -> Out<'_, 'b, P::Aead> {
        Out {
            tx: &mut self.tx,
            write: &mut self.write,
            padding: self.cfg.padding,
        }
    }

    /// Per-record overhead of protected records: header, content type, padding, tag.
    pub(crate) fn overhead(&self) -> usize {
        outgoing::overhead(&self.write, self.cfg.padding)
    }

    /// Seals `len` bytes placed at `tx.free()[5..]` as one record and commits it.
    pub(crate) fn seal_free(&mut self, ct: ContentType, len: usize) -> Result<(), Error> {
        self.out().seal_free(ct, len)
    }

    /// Seals `len` bytes of handshake data placed at `tx.free()[5..]`, split into as many
    /// records as the peer's record size limit requires.
    pub(crate) fn seal_handshake(&mut self, len: usize) -> Result<(), Error> {
        let max_send = self.max_send;
        self.out().seal_handshake(len, max_send)
    }

    /// Queues an alert: protected once keys exist, in the clear before.
    pub(crate) fn queue_alert(&mut self, level: AlertLevel, desc: AlertDescription) {
        self.out().queue_alert(level, desc)
    }

    /// Ends the connection with `e`, queueing the alert it owes.
    pub(crate) fn fail(&mut self, e: Error) -> Error {
        if self.error.is_none() {
            self.error = Some(e);
            if let Some(a) = e.alert() {
                self.queue_alert(AlertLevel::FATAL, a);
            }
        }
        self.state = State::Failed;
        e
    }

    fn on_alert(&mut self, alert: (AlertLevel, AlertDescription)) -> Result<(), Error> {
        let connected = matches!(self.state, State::Connected(_));
        let mut out = Out {
            tx: &mut self.tx,
            write: &mut self.write,
            padding: self.cfg.padding,
        };
        match self.closing.on_alert(connected, &mut out, alert) {
            AlertEffect::Continue => Ok(()),
            AlertEffect::Closed => {
                self.state = State::Closed;
                Ok(())
            }
            AlertEffect::Fatal(e) => {
                self.error = Some(e);
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    /// A plaintext record (ServerHello, change_cipher_spec).
    pub(crate) fn plain_record(&mut self, ct: ContentType, body_len: usize) -> Result<(), Error> {
        let l = (body_len as u16).to_be_bytes();
        self.tx.free()[..TLS_HEADER_LEN].copy_from_slice(&[ct.0, 3, 3, l[0], l[1]]);
        self.tx.commit(TLS_HEADER_LEN + body_len);
        Ok(())
    }
}
