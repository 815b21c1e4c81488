//! What arrives: records read out of a datagram (a record that does not fit what is left of
//! the datagram ends it: RFC 6347 section 4.1.2.7 has invalid records dropped, not
//! answered), and handshake messages rebuilt from their fragments in message_seq order
//! (section 4.2.2). Fragments of the next expected message may come in any order and
//! overlap; later messages are dropped and come again with the peer's retransmission,
//! which keeps the receive side to one message buffer.

use mote_wire::handshake::HandshakeHeader;
use mote_wire::reassembly::{FragmentAssembler, FragmentError};
use mote_wire::{ContentType, HandshakeType};

/// The DTLS 1.2 record header: type, version, epoch, 48-bit sequence number, length.
pub(crate) const RECORD_HEADER: usize = 13;

/// A record's header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordHead {
    pub ct: ContentType,
    pub version: u16,
    pub epoch: u16,
    pub seq: u64,
    /// Connection ID bytes after the sequence number (tls12_cid records).
    pub cid_len: usize,
    /// Header plus fragment.
    pub total: usize,
}

/// The record at the start of `d`, if a whole one is there. `cid_len` is the length of the
/// connection ID this side asked for (records of type tls12_cid carry it).
pub(crate) fn next_record(d: &[u8], cid_len: usize) -> Option<RecordHead> {
    let ct = ContentType(*d.first()?);
    let cid = if ct == ContentType::TLS12_CID {
        cid_len
    } else {
        0
    };
    let h = d.get(..RECORD_HEADER + cid)?;
    let len_at = 11 + cid;
    let len = usize::from(u16::from_be_bytes([h[len_at], h[len_at + 1]]));
    let total = RECORD_HEADER + cid + len;
    if total > d.len() {
        return None;
    }
    let mut seq = [0u8; 8];
    seq[2..].copy_from_slice(&h[5..11]);
    Some(RecordHead {
        ct,
        version: u16::from_be_bytes([h[1], h[2]]),
        epoch: u16::from_be_bytes([h[3], h[4]]),
        seq: u64::from_be_bytes(seq),
        cid_len: cid,
        total,
    })
}

/// What a handshake fragment was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    /// Of a message already handled: the peer is retransmitting (perhaps it lost ours).
    Old,
    /// Of a message after the next one: dropped.
    Future,
    /// Part of the next message, not yet whole.
    Partial,
    /// The next message is whole: see [`Reassembly::message`].
    Complete,
}

/// The next expected handshake message, in pieces.
pub(crate) struct Reassembly<'b> {
    asm: FragmentAssembler<'b>,
    current: Option<HandshakeType>,
    /// The epoch of the current message's fragments (all must share it).
    epoch: u16,
    /// The message_seq expected next.
    pub next_seq: u16,
}

impl<'b> Reassembly<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        Reassembly {
            asm: FragmentAssembler::new(buf),
            current: None,
            epoch: 0,
            next_seq: 0,
        }
    }

    /// Takes one fragment (its parsed header and its bytes). A fragment whose type or
    /// length contradicts earlier fragments of the same message is an error, as is a
    /// message larger than the buffer.
    pub fn feed(
        &mut self,
        h: &HandshakeHeader,
        epoch: u16,
        data: &[u8],
    ) -> Result<Fed, FragmentError> {
        let Some(f) = h.dtls else {
            return Err(FragmentError::Inconsistent);
        };
        if f.message_seq < self.next_seq {
            return Ok(Fed::Old);
        }
        if f.message_seq > self.next_seq {
            return Ok(Fed::Future);
        }
        if self.current.is_some_and(|t| t != h.msg_type)
            || (self.current.is_some() && self.epoch != epoch)
        {
            return Err(FragmentError::Inconsistent);
        }
        self.asm
            .insert(h.length as usize, f.fragment_offset as usize, data)?;
        self.current = Some(h.msg_type);
        self.epoch = epoch;
        Ok(if self.asm.complete().is_some() {
            Fed::Complete
        } else {
            Fed::Partial
        })
    }

    /// The whole next message: its type, message_seq, the epoch it came under, and body.
    pub fn message(&self) -> Option<(HandshakeType, u16, u16, &[u8])> {
        Some((
            self.current?,
            self.next_seq,
            self.epoch,
            self.asm.complete()?,
        ))
    }

    /// A new handshake starts on this connection (a renegotiation): expect message 0.
    pub fn restart(&mut self) {
        self.asm.reset();
        self.current = None;
        self.next_seq = 0;
    }

    /// The message was handled: expect the one after it.
    pub fn advance(&mut self) {
        self.asm.reset();
        self.current = None;
        self.next_seq = self.next_seq.wrapping_add(1);
    }
}

/// The 12-byte header of a whole (unfragmented) message, as the transcript hashes it.
pub(crate) fn whole_header(t: HandshakeType, seq: u16, len: usize) -> [u8; 12] {
    let l = (len as u32).to_be_bytes();
    let s = seq.to_be_bytes();
    [t.0, l[1], l[2], l[3], s[0], s[1], 0, 0, 0, l[1], l[2], l[3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_wire::handshake::DtlsFragment;
    use std::vec;

    fn hdr(seq: u16, off: u32, len: u32, total: u32) -> HandshakeHeader {
        HandshakeHeader {
            msg_type: HandshakeType::CERTIFICATE,
            length: total,
            dtls: Some(DtlsFragment {
                message_seq: seq,
                fragment_offset: off,
                fragment_length: len,
            }),
        }
    }

    #[test]
    fn records_are_framed_and_a_cut_one_ends_the_datagram() {
        let mut d = vec![22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 1, 2, 0, 3, 9, 9, 9];
        d.extend_from_slice(&[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 1, 3, 0, 9, 1]);
        let r = next_record(&d, 0).unwrap();
        assert_eq!(
            r,
            RecordHead {
                ct: ContentType::HANDSHAKE,
                version: 0xfefd,
                epoch: 1,
                seq: 0x0102,
                cid_len: 0,
                total: 16
            }
        );
        assert_eq!(next_record(&d[16..], 0), None);
        // A tls12_cid record carries the CID between the sequence number and the length.
        let c = [25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0xaa, 0xbb, 0, 1, 5];
        let r = next_record(&c, 2).unwrap();
        assert_eq!((r.cid_len, r.total, r.seq), (2, 16, 7));
    }

    #[test]
    fn fragments_in_any_order_make_the_next_message() {
        let mut buf = [0u8; 64];
        let mut r = Reassembly::new(&mut buf);
        assert_eq!(r.feed(&hdr(1, 0, 4, 10), 0, &[0; 4]), Ok(Fed::Future));
        assert_eq!(
            r.feed(&hdr(0, 6, 4, 10), 0, &[6, 7, 8, 9]),
            Ok(Fed::Partial)
        );
        assert_eq!(
            r.feed(&hdr(0, 0, 7, 10), 0, &[0, 1, 2, 3, 4, 5, 6]),
            Ok(Fed::Complete)
        );
        let (t, seq, _, body) = r.message().unwrap();
        assert_eq!(
            (t, seq, body),
            (
                HandshakeType::CERTIFICATE,
                0,
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9][..]
            )
        );
        r.advance();
        assert_eq!(r.feed(&hdr(0, 0, 10, 10), 0, &[0; 10]), Ok(Fed::Old));
        assert_eq!(r.message(), None);
        assert_eq!(
            r.feed(&hdr(1, 0, 4, 100), 0, &[0; 4]),
            Err(FragmentError::TooLarge(mote_wire::reassembly::TooLarge {
                needed: 100,
                capacity: 64
            }))
        );
    }

    #[test]
    fn the_transcript_header_is_the_unfragmented_one() {
        assert_eq!(
            whole_header(HandshakeType::FINISHED, 5, 12),
            [20, 0, 0, 12, 0, 5, 0, 0, 0, 0, 0, 12]
        );
    }
}
