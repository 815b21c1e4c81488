//! The caller-owned buffers: received bytes (with handshake plaintext joined in place) and
//! bytes to transmit.
//!
//! Receive buffer layout: `[0, hs)` handshake plaintext waiting to form whole messages,
//! `[hs, end)` received bytes not yet processed (the first record of which may hold
//! decrypted application data being read), `[end, len)` free space the caller fills.
//! Decrypting in place and moving handshake plaintext down to `hs` means one buffer the size
//! of the largest record (plus the largest handshake message) is all the engine needs.

use crate::error::{Error, PeerMisbehaved};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::ContentType;

pub struct RxBuf<'b> {
    buf: &'b mut [u8],
    hs: usize,
    end: usize,
}

/// A whole record at the front of the unprocessed bytes.
#[derive(Clone, Copy, Debug)]
pub struct RecordHead {
    pub content_type: ContentType,
    /// Header plus fragment.
    pub total: usize,
}

impl<'b> RxBuf<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        RxBuf { buf, hs: 0, end: 0 }
    }

    #[cfg_attr(not(feature = "x509"), allow(dead_code))]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The handshake plaintext waiting, possibly an incomplete message.
    pub fn handshake_bytes(&self) -> &[u8] {
        &self.buf[..self.hs]
    }

    /// Free space for received bytes.
    pub fn free(&mut self) -> &mut [u8] {
        &mut self.buf[self.end..]
    }

    /// The caller copied `n` bytes into [`RxBuf::free`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// The next record's header, once the whole record has arrived. `max_fragment` is the
    /// largest fragment this side accepts; a larger one is `record_overflow` (RFC 8446
    /// section 5.1/5.2, RFC 8449).
    pub fn peek_record(&self, max_fragment: usize) -> Result<Option<RecordHead>, Error> {
        let Some(h) = self.buf.get(self.hs..self.hs + TLS_HEADER_LEN) else {
            return Ok(None);
        };
        if self.end < self.hs + TLS_HEADER_LEN {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if len > max_fragment {
            return Err(PeerMisbehaved::RecordOverflow {
                len,
                max: max_fragment,
            }
            .into());
        }
        let total = TLS_HEADER_LEN + len;
        if total > self.buf.len() - self.hs {
            return Err(Error::Capacity {
                needed: self.hs + total,
                available: self.buf.len(),
            });
        }
        if self.end - self.hs < total {
            return Ok(None);
        }
        Ok(Some(RecordHead {
            content_type: ContentType(h[0]),
            total,
        }))
    }

    /// The first unprocessed record, `total` bytes, for decryption in place.
    pub fn record_mut(&mut self, total: usize) -> &mut [u8] {
        &mut self.buf[self.hs..self.hs + total]
    }

    /// The first unprocessed record.
    pub fn record(&self, total: usize) -> &[u8] {
        &self.buf[self.hs..self.hs + total]
    }

    /// Drops the first record (`total` bytes) without keeping anything of it.
    pub fn drop_record(&mut self, total: usize) {
        self.buf.copy_within(self.hs + total..self.end, self.hs);
        self.end -= total;
    }

    /// Keeps `len` bytes at `offset` inside the first record as handshake plaintext and
    /// drops the rest of the record.
    pub fn keep_handshake(&mut self, total: usize, offset: usize, len: usize) {
        let at = self.hs;
        self.buf.copy_within(at + offset..at + offset + len, at);
        self.buf.copy_within(at + total..self.end, at + len);
        self.hs += len;
        self.end -= total - len;
    }

    /// Bytes of handshake plaintext waiting.
    pub fn handshake_pending(&self) -> usize {
        self.hs
    }

    /// The first whole handshake message (4-byte header included), if it has arrived.
    /// A message that can never fit the buffer is an error.
    pub fn handshake_message(&self) -> Result<Option<&[u8]>, Error> {
        let Some(h) = self.buf.get(..4) else {
            return Ok(None);
        };
        if self.hs < 4 {
            return Ok(None);
        }
        let n = 4 + ((usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]));
        // The message and one more record to complete it must fit.
        if n > self.buf.len() {
            return Err(Error::Capacity {
                needed: n,
                available: self.buf.len(),
            });
        }
        Ok(if n <= self.hs {
            Some(&self.buf[..n])
        } else {
            None
        })
    }

    /// Drops the first handshake message of `n` bytes.
    pub fn pop_handshake(&mut self, n: usize) {
        self.buf.copy_within(n..self.end, 0);
        self.hs -= n;
        self.end -= n;
    }

    /// Bytes at `[hs + offset, hs + offset + len)`: decrypted application data in the first
    /// record.
    pub fn slice(&self, offset: usize, len: usize) -> &[u8] {
        &self.buf[self.hs + offset..self.hs + offset + len]
    }
}

/// Bytes to transmit: `[0, len)` waiting for the caller, `[len, ..)` free.
pub struct TxBuf<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TxBuf<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        TxBuf { buf, len: 0 }
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn sent(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    pub fn free_len(&self) -> usize {
        self.buf.len() - self.len
    }

    /// The free space, to build a record in.
    pub fn free(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..]
    }

    /// Commits `n` bytes written at the start of [`TxBuf::free`].
    pub fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.buf.len());
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}
