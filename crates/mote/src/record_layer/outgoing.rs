//! What the client and the server share on the way out: sealing records in the transmit
//! buffer (split to the peer's record size limit), queueing alerts, and reading an alert's two
//! bytes. Each side's `Core` delegates here with its own transmit buffer and write keys.

use super::tls13::Protector;
use crate::buffers::TxBuf;
use crate::error::{ApiMisuse, Error};
use mote_crypto::Aead;
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{AlertDescription, AlertLevel, ContentType};

/// The write side of a connection: where records go and the keys that protect them.
pub(crate) struct Out<'t, 'b, A: Aead> {
    pub tx: &'t mut TxBuf<'b>,
    pub write: &'t mut Option<Protector<A>>,
    /// Zero padding added to each protected record (RFC 8446 section 5.4).
    pub padding: usize,
}

/// Per-record overhead of protected records: header, content type, padding, tag (16 bytes
/// assumed before keys exist).
pub(crate) fn overhead<A: Aead>(write: &Option<Protector<A>>, padding: usize) -> usize {
    let tag = write.as_ref().map_or(16, Protector::tag_len);
    TLS_HEADER_LEN + 1 + padding + tag
}

impl<A: Aead> Out<'_, '_, A> {
    pub fn overhead(&self) -> usize {
        overhead(self.write, self.padding)
    }

    /// Seals `len` bytes placed at `tx.free()[5..]` as one record and commits it.
    pub fn seal_free(&mut self, ct: ContentType, len: usize) -> Result<(), Error> {
        let Some(w) = self.write.as_mut() else {
            return Err(Error::Api(ApiMisuse::NotReady));
        };
        let n = w.seal(self.tx.free(), len, ct, self.padding)?;
        self.tx.commit(n);
        Ok(())
    }

    /// Seals `len` bytes of handshake data placed at `tx.free()[5..]`, split into records of
    /// at most `max_send` bytes (the peer's record size limit).
    pub fn seal_handshake(&mut self, len: usize, max_send: usize) -> Result<(), Error> {
        let chunk = max_send.max(1);
        let records = len.div_ceil(chunk).max(1);
        let overhead = self.overhead();
        let needed = len + records * overhead;
        if needed > self.tx.free_len() {
            return Err(Error::Capacity {
                needed: needed + self.tx.capacity() - self.tx.free_len(),
                available: self.tx.capacity(),
            });
        }
        // Move the chunks apart, last first, so each gets room for its header and tag; then
        // seal them in order.
        for i in (1..records).rev() {
            let from = TLS_HEADER_LEN + i * chunk;
            let n = chunk.min(len - i * chunk);
            let to = i * (chunk + overhead) + TLS_HEADER_LEN;
            self.tx.free().copy_within(from..from + n, to);
        }
        for i in 0..records {
            let n = chunk.min(len - i * chunk);
            self.seal_free(ContentType::HANDSHAKE, n)?;
        }
        Ok(())
    }

    /// Seals a KeyUpdate (RFC 8446 section 4.6.3) under the current write keys; the caller
    /// then moves to the next ones. Post-handshake messages are not in the transcript.
    pub fn seal_key_update(&mut self, req: mote_wire::KeyUpdateRequest) -> Result<(), Error> {
        let msg = [mote_wire::HandshakeType::KEY_UPDATE.0, 0, 0, 1, req.0];
        let needed = self.overhead() + msg.len();
        if self.tx.free_len() < needed {
            return Err(Error::Capacity {
                needed,
                available: self.tx.free_len(),
            });
        }
        self.tx.free()[TLS_HEADER_LEN..TLS_HEADER_LEN + msg.len()].copy_from_slice(&msg);
        self.seal_free(ContentType::HANDSHAKE, msg.len())
    }

    /// Queues an alert: protected once keys exist, in the clear before. An alert that does
    /// not fit is dropped: the connection is ending anyway.
    pub fn queue_alert(&mut self, level: AlertLevel, desc: AlertDescription) {
        if self.write.is_some() {
            if self.tx.free_len() >= self.overhead() + 2 {
                self.tx.free()[TLS_HEADER_LEN..TLS_HEADER_LEN + 2]
                    .copy_from_slice(&[level.0, desc.0]);
                let _ = self.seal_free(ContentType::ALERT, 2);
            }
        } else if self.tx.free_len() >= 7 {
            self.tx.free()[..7].copy_from_slice(&[21, 3, 3, 0, 2, level.0, desc.0]);
            self.tx.commit(7);
        }
    }
}

/// An alert's body: exactly a level and a description (RFC 8446 section 6).
pub(crate) fn parse_alert(b: &[u8]) -> Result<(AlertLevel, AlertDescription), Error> {
    match *b {
        [level, desc] => Ok((AlertLevel(level), AlertDescription(desc))),
        _ => Err(Error::Decode(mote_wire::Reader::new(b).error(
            "alert",
            mote_wire::DecodeErrorKind::LengthOutOfRange {
                len: b.len(),
                min: 2,
                max: 2,
            },
        ))),
    }
}
