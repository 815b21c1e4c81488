//! The record loop: framing what arrived, decrypting it, routing content to the handshake or
//! the application; sealing what goes out; alerts and close_notify.

use super::{Client, Core, State, Status};
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use crate::record_layer::closing::AlertEffect;
use crate::record_layer::outgoing::{self, parse_alert, Out};
use mote_crypto::{Provider, Rng};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{AlertDescription, AlertLevel, ContentType};

impl<P: Provider> Client<'_, '_, P> {
    /// Processes every whole record received, stopping at application data until it is read.
    pub(crate) fn process(&mut self, mut rng: Option<&mut dyn Rng>) -> Result<(), Error> {
        // The RNG is only needed for a HelloRetryRequest's new key share; it is passed down
        // as a slot the handler takes from, so no reborrow outlives the loop.
        while matches!(self.status(), Status::Handshaking | Status::Connected) && self.app.is_none()
        {
            let max = if self.c.read.is_some() {
                // TLSCiphertext: the plaintext limit, the content type, and at most 255 bytes
                // of AEAD expansion (RFC 8446 section 5.2; RFC 8449 section 4).
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
        match ct {
            ContentType::CHANGE_CIPHER_SPEC => {
                // RFC 8446 section 5: a single 0x01 byte between the first ClientHello and the
                // server's Finished is dropped (middlebox compatibility); anything else is
                // unexpected_message.
                let rec = self.rx.record(total);
                let before_finished = matches!(
                    self.c.state,
                    State::WaitServerHello(_)
                        | State::WaitEncryptedExtensions(_)
                        | State::WaitCertificateOrRequest(_)
                        | State::WaitCertificate(_)
                        | State::WaitCertificateVerify(_)
                        | State::WaitFinished(_)
                );
                if !(before_finished && rec[TLS_HEADER_LEN..] == [1]) {
                    return Err(PeerMisbehaved::UnexpectedRecord { content_type: ct.0 }.into());
                }
                self.rx.drop_record(total);
                Ok(())
            }
            ContentType::ALERT if self.c.read.is_none() => {
                let rec = self.rx.record(total);
                let alert = parse_alert(&rec[TLS_HEADER_LEN..])?;
                self.rx.drop_record(total);
                self.c.on_alert(alert)
            }
            ContentType::HANDSHAKE if self.c.read.is_none() => {
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
                let (inner, len) = read.open(self.rx.record_mut(total), max)?;
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
                            // Zero-length application data is allowed (RFC 8446 5.1).
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

    /// Handles every whole handshake message waiting; a Certificate message is read as it
    /// arrives, certificate by certificate.
    fn handshake(&mut self, rng: &mut Option<&mut dyn Rng>) -> Result<(), Error> {
        loop {
            let Some(&_first) = self.rx.handshake_bytes().first() else {
                return Ok(());
            };
            #[cfg(feature = "x509")]
            if self.c.streams_certificate(_first) {
                let cap = self.rx.capacity();
                let n = self.c.stream_certificate(self.rx.handshake_bytes(), cap)?;
                if n == 0 {
                    return Ok(());
                }
                self.rx.pop_handshake(n);
                continue;
            }
            let Some(msg) = self.rx.handshake_message()? else {
                return Ok(());
            };
            let n = msg.len();
            let keys_changed = self.c.on_handshake(msg, rng)?;
            self.rx.pop_handshake(n);
            // RFC 8446 section 5.1: a handshake message must not span a key change, so
            // nothing may be left over when the keys change.
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
            // Records queued behind this one need no randomness: only a HelloRetryRequest
            // does, and it cannot follow application data.
            let _ = self.process(None);
        } else {
            self.app = Some((off + n, len - n, total));
        }
        n
    }

    /// Seals application data into the transmit buffer, as much as fits; returns how many
    /// bytes of `data` were taken. Send [`Client::transmit`] and call again for the rest.
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

    /// Seals 0-RTT application data (before the handshake completes), within what the
    /// ticket allows; returns how many bytes were taken. Whether the server accepted it is in
    /// [`Client::negotiated`] once connected: if not, send it again.
    pub fn write_early(&mut self, data: &[u8]) -> Result<usize, Error> {
        if !self.c.early_active {
            return Err(Error::Api(ApiMisuse::NotReady));
        }
        let overhead = self.c.overhead();
        let n = data
            .len()
            .min(self.c.early_left as usize)
            .min(self.c.max_send)
            .min(self.c.tx.free_len().saturating_sub(overhead));
        if n == 0 {
            return Ok(0);
        }
        self.c.tx.free()[TLS_HEADER_LEN..TLS_HEADER_LEN + n].copy_from_slice(&data[..n]);
        self.c.seal_free(ContentType::APPLICATION_DATA, n)?;
        self.c.early_left -= n as u32;
        Ok(n)
    }

    /// Sends a KeyUpdate and moves to the next write keys (RFC 8446 section 4.6.3); with
    /// `request_peer` the peer is asked to update its keys too. Long-lived sensor links use
    /// this to bound how much data one key protects.
    pub fn key_update(&mut self, request_peer: bool) -> Result<(), Error> {
        let req = if request_peer {
            mote_wire::KeyUpdateRequest::UPDATE_REQUESTED
        } else {
            mote_wire::KeyUpdateRequest::UPDATE_NOT_REQUESTED
        };
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

    /// A plaintext record (ClientHello, change_cipher_spec).
    pub(crate) fn plain_record(
        &mut self,
        ct: ContentType,
        version: u16,
        body: &[u8],
    ) -> Result<(), Error> {
        let n = TLS_HEADER_LEN + body.len();
        if n > self.tx.free_len() {
            return Err(Error::Capacity {
                needed: n,
                available: self.tx.free_len(),
            });
        }
        let v = version.to_be_bytes();
        let l = (body.len() as u16).to_be_bytes();
        let f = self.tx.free();
        f[..TLS_HEADER_LEN].copy_from_slice(&[ct.0, v[0], v[1], l[0], l[1]]);
        f[TLS_HEADER_LEN..n].copy_from_slice(body);
        self.tx.commit(n);
        Ok(())
    }
}
