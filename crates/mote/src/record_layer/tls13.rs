//! TLS 1.3 record protection (RFC 8446 section 5.2-5.4): per-record nonces from the IV and
//! a 64-bit sequence number, the inner content type, padding, and in-place AEAD.

use crate::error::{Error, PeerMisbehaved};
use mote_crypto::{Aead, AeadAlgorithm, Provider};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::ContentType;

/// The largest TLSCiphertext.length RFC 8446 section 5.2 allows: 2^14 + 256.
pub const MAX_CIPHERTEXT: usize = (1 << 14) + 256;

/// One direction's protection state.
pub struct Protector<A: Aead> {
    aead: A,
    iv: [u8; 12],
    seq: u64,
}

impl<A: Aead> Protector<A> {
    pub fn new(aead: A, iv: [u8; 12]) -> Self {
        Protector { aead, iv, seq: 0 }
    }

    /// Keys a protector from traffic keys.
    pub fn from_keys<P: Provider<Aead = A>>(
        p: &P,
        alg: AeadAlgorithm,
        key: &[u8],
        iv: [u8; 12],
    ) -> Result<Self, Error> {
        Ok(Protector::new(p.aead(alg, key).map_err(Error::Crypto)?, iv))
    }

    pub fn sequence(&self) -> u64 {
        self.seq
    }

    pub fn tag_len(&self) -> usize {
        self.aead.algorithm().tag_len()
    }

    /// The per-record nonce: the IV XOR the left-padded sequence number (RFC 8446 5.3).
    fn nonce(&self) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    fn advance(&mut self) -> Result<(), Error> {
        self.seq = self.seq.checked_add(1).ok_or(Error::SequenceExhausted)?;
        Ok(())
    }

    /// The record size for `plaintext_len` bytes of content with `padding` zeros.
    pub fn sealed_len(&self, plaintext_len: usize, padding: usize) -> usize {
        TLS_HEADER_LEN + plaintext_len + 1 + padding + self.tag_len()
    }

    /// Seals a record in place. `buf[5..5 + plaintext_len]` holds the content; the header,
    /// inner content type, `padding` zero bytes and tag are written around it. Returns the
    /// record's total length.
    pub fn seal(
        &mut self,
        buf: &mut [u8],
        plaintext_len: usize,
        content_type: ContentType,
        padding: usize,
    ) -> Result<usize, Error> {
        let total = self.sealed_len(plaintext_len, padding);
        let tag_len = self.tag_len();
        if total > buf.len() {
            return Err(Error::Api(crate::error::ApiMisuse::BufferTooSmall {
                needed: total,
                available: buf.len(),
            }));
        }
        let inner_end = TLS_HEADER_LEN + plaintext_len + 1 + padding;
        buf[TLS_HEADER_LEN + plaintext_len] = content_type.0;
        buf[TLS_HEADER_LEN + plaintext_len + 1..inner_end].fill(0);
        let len = (total - TLS_HEADER_LEN) as u16;
        // The outer header claims application_data and TLS 1.2 (RFC 8446 5.2).
        let header = [23, 0x03, 0x03, (len >> 8) as u8, len as u8];
        buf[..TLS_HEADER_LEN].copy_from_slice(&header);
        let nonce = self.nonce();
        let (head, rest) = buf.split_at_mut(TLS_HEADER_LEN);
        let (body, tail) = rest.split_at_mut(inner_end - TLS_HEADER_LEN);
        self.aead
            .seal_in_place(&nonce, head, body, &mut tail[..tag_len])
            .map_err(Error::Crypto)?;
        self.advance()?;
        Ok(total)
    }

    /// Opens a whole record in place (header included). Returns the inner content type and
    /// the content's length; the content is at `record[5..5 + len]`.
    pub fn open(
        &mut self,
        record: &mut [u8],
        max_plaintext: usize,
    ) -> Result<(ContentType, usize), Error> {
        let tag_len = self.tag_len();
        let body_len = record.len().saturating_sub(TLS_HEADER_LEN);
        if body_len > MAX_CIPHERTEXT {
            return Err(PeerMisbehaved::RecordOverflow {
                len: body_len,
                max: MAX_CIPHERTEXT,
            }
            .into());
        }
        if body_len < tag_len + 1 {
            // Too short to hold even the inner content type: it cannot authenticate.
            return Err(PeerMisbehaved::BadRecordMac.into());
        }
        let nonce = self.nonce();
        let (head, rest) = record.split_at_mut(TLS_HEADER_LEN);
        let (body, tag) = rest.split_at_mut(body_len - tag_len);
        self.aead
            .open_in_place(&nonce, head, body, tag)
            .map_err(|_| Error::Peer(PeerMisbehaved::BadRecordMac))?;
        self.advance()?;
        // Strip the zero padding; the last non-zero byte is the content type (RFC 8446 5.4).
        let Some(type_at) = body.iter().rposition(|&b| b != 0) else {
            return Err(PeerMisbehaved::EmptyRecord.into());
        };
        if type_at > max_plaintext {
            return Err(PeerMisbehaved::RecordOverflow {
                len: type_at,
                max: max_plaintext,
            }
            .into());
        }
        Ok((ContentType(body[type_at]), type_at))
    }
}
