//! What a DTLS endpoint sends: the current flight, kept whole so that it can be sent again
//! (RFC 6347 section 4.2.4), cut into datagrams of at most the MTU when it goes out, each
//! handshake message fragmented as room allows (section 4.2.3) and each record sealed under
//! the epoch the message belongs to, with a fresh record sequence number every time.
//!
//! The flight store keeps entries `kind (1) | epoch (2) | length (2) | message`, where a
//! handshake message is stored with its full 12-byte DTLS header (fragment_offset 0,
//! fragment_length = length: the form the transcript hashes) and a change_cipher_spec as
//! its one byte. Only one datagram is built at a time, so the caller's transmit buffer is a
//! flight plus one MTU.

use crate::error::Error;
use mote_wire::ContentType;

/// The DTLS handshake header: type, length (3), message_seq (2), fragment_offset (3),
/// fragment_length (3).
pub(crate) const HS_HEADER: usize = 12;
const ENTRY_HEADER: usize = 5;
const KIND_HANDSHAKE: u8 = 0;
const KIND_CCS: u8 = 1;
/// Do not start a handshake fragment with less room than this (a fragment of a few bytes
/// costs a whole record header).
const MIN_FRAGMENT: usize = 16;

/// Seals records for the flight builder: the record state of the connection.
pub(crate) trait Sealer {
    /// Bytes before the plaintext in a record sealed under `epoch` (header, explicit nonce,
    /// connection ID) and after it (tag, inner content type).
    fn overhead(&self, epoch: u16) -> (usize, usize);
    /// Seals the `len` plaintext bytes placed at `record[overhead(epoch).0..]` as one record
    /// of type `ct`; returns the record's length.
    fn seal(
        &mut self,
        epoch: u16,
        ct: ContentType,
        record: &mut [u8],
        len: usize,
    ) -> Result<usize, Error>;
}

/// The flight being sent (or kept for retransmission).
pub(crate) struct Flight<'b> {
    store: &'b mut [u8],
    len: usize,
    /// The next entry to put in a datagram, and how much of its body went out already.
    cursor: usize,
    sent_body: usize,
    /// The message_seq of the next handshake message this side sends.
    pub next_seq: u16,
    /// Counts new flights, so the endpoint sees when one starts.
    pub generation: u32,
}

impl<'b> Flight<'b> {
    pub fn new(store: &'b mut [u8]) -> Self {
        Flight {
            store,
            len: 0,
            cursor: 0,
            sent_body: 0,
            next_seq: 0,
            generation: 0,
        }
    }

    /// Forgets the previous flight: a new one starts.
    pub fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.len = 0;
        self.cursor = 0;
        self.sent_body = 0;
    }

    /// Whether a flight is kept (for retransmission).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether part of the flight has still to go out.
    pub fn pending(&self) -> bool {
        self.cursor < self.len
    }

    /// The first message of the flight with its DTLS header (the ClientHello a ServerHello
    /// answers), if the flight starts with a handshake message.
    pub fn first_message(&self) -> Option<&[u8]> {
        if self.len == 0 || self.store[0] != KIND_HANDSHAKE {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([self.store[3], self.store[4]]));
        self.store.get(ENTRY_HEADER..ENTRY_HEADER + len)
    }

    /// Sends the whole flight again.
    pub fn rewind(&mut self) {
        self.cursor = 0;
        self.sent_body = 0;
    }

    fn capacity_error(&self, needed: usize) -> Error {
        Error::Capacity {
            needed: self.len + needed,
            available: self.store.len(),
        }
    }

    /// Appends a handshake message of type `t` whose body `body` writes (returning its
    /// length) under `epoch`; returns the whole message with its DTLS header, as the
    /// transcript hashes it.
    pub fn push_handshake(
        &mut self,
        epoch: u16,
        t: mote_wire::HandshakeType,
        body: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
    ) -> Result<&[u8], Error> {
        let at = self.len;
        let start = at + ENTRY_HEADER + HS_HEADER;
        let full = self.capacity_error(ENTRY_HEADER + HS_HEADER);
        let room = self.store.get_mut(start..).ok_or(full)?;
        let n = body(room)?;
        if n >= 1 << 24 {
            return Err(self.capacity_error(n));
        }
        let total = HS_HEADER + n;
        let seq = self.next_seq;
        let e = &mut self.store[at..start];
        e[0] = KIND_HANDSHAKE;
        e[1..3].copy_from_slice(&epoch.to_be_bytes());
        e[3..5].copy_from_slice(&(total as u16).to_be_bytes());
        let len = (n as u32).to_be_bytes();
        e[5] = t.0;
        e[6..9].copy_from_slice(&len[1..]);
        e[9..11].copy_from_slice(&seq.to_be_bytes());
        e[11..14].fill(0);
        e[14..17].copy_from_slice(&len[1..]);
        self.next_seq = self.next_seq.wrapping_add(1);
        self.len = start + n;
        Ok(&self.store[at + ENTRY_HEADER..self.len])
    }

    /// Appends the handshake message `m` under `epoch`; returns it with its DTLS header, as
    /// the transcript hashes it.
    pub fn push_message(
        &mut self,
        epoch: u16,
        m: &mote_wire::handshake::HandshakeMessage<'_>,
    ) -> Result<&[u8], Error> {
        let t = m.msg_type().unwrap_or(mote_wire::HandshakeType(0));
        let full = self.capacity_error(0);
        self.push_handshake(epoch, t, |buf| {
            let mut w = mote_wire::Writer::new(buf);
            m.emit_body(&mut w).map_err(|_| full)?;
            Ok(w.len())
        })
    }

    /// Appends a change_cipher_spec, sent under `epoch` (the one before the change).
    pub fn push_ccs(&mut self, epoch: u16) -> Result<(), Error> {
        let at = self.len;
        let full = self.capacity_error(ENTRY_HEADER + 1);
        let e = self.store.get_mut(at..at + ENTRY_HEADER + 1).ok_or(full)?;
        e[0] = KIND_CCS;
        e[1..3].copy_from_slice(&epoch.to_be_bytes());
        e[3..5].copy_from_slice(&1u16.to_be_bytes());
        e[5] = 1;
        self.len = at + ENTRY_HEADER + 1;
        Ok(())
    }

    /// Puts as much of the rest of the flight as fits into `dgram` (at most `mtu` bytes),
    /// one record per message fragment; returns the datagram's length (0: nothing left).
    pub fn fill_datagram(
        &mut self,
        dgram: &mut [u8],
        mtu: usize,
        sealer: &mut dyn Sealer,
    ) -> Result<usize, Error> {
        let limit = mtu.min(dgram.len());
        let mut used = 0;
        while self.cursor < self.len {
            let e = &self.store[self.cursor..];
            let (kind, epoch) = (e[0], u16::from_be_bytes([e[1], e[2]]));
            let len = usize::from(u16::from_be_bytes([e[3], e[4]]));
            let (before, after) = sealer.overhead(epoch);
            let room = limit.saturating_sub(used + before + after);
            let msg_at = self.cursor + ENTRY_HEADER;
            if kind == KIND_CCS {
                if room < 1 {
                    break;
                }
                dgram[used + before] = 1;
                used += sealer.seal(
                    epoch,
                    ContentType::CHANGE_CIPHER_SPEC,
                    &mut dgram[used..],
                    1,
                )?;
                self.cursor = msg_at + 1;
                continue;
            }
            let body_len = len - HS_HEADER;
            let left = body_len - self.sent_body;
            if room < HS_HEADER + left.min(MIN_FRAGMENT) || (room <= HS_HEADER && left > 0) {
                if used == 0 {
                    // Not even one fragment fits an empty datagram: the MTU is too small.
                    return Err(Error::Capacity {
                        needed: before + after + HS_HEADER + left.min(MIN_FRAGMENT),
                        available: limit,
                    });
                }
                break;
            }
            let frag = left.min(room - HS_HEADER);
            let out = &mut dgram[used + before..];
            // The stored header, with this fragment's offset and length.
            out[..HS_HEADER].copy_from_slice(&self.store[msg_at..msg_at + HS_HEADER]);
            out[6..9].copy_from_slice(&(self.sent_body as u32).to_be_bytes()[1..]);
            out[9..12].copy_from_slice(&(frag as u32).to_be_bytes()[1..]);
            let body = msg_at + HS_HEADER + self.sent_body;
            out[HS_HEADER..HS_HEADER + frag].copy_from_slice(&self.store[body..body + frag]);
            used += sealer.seal(
                epoch,
                ContentType::HANDSHAKE,
                &mut dgram[used..],
                HS_HEADER + frag,
            )?;
            self.sent_body += frag;
            if self.sent_body == body_len {
                self.cursor = msg_at + len;
                self.sent_body = 0;
            }
        }
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_wire::HandshakeType;
    use std::vec;
    use std::vec::Vec;

    /// Plaintext records with a 13-byte header, as epoch 0 sends them.
    struct Plain(u64);
    impl Sealer for Plain {
        fn overhead(&self, _: u16) -> (usize, usize) {
            (13, 0)
        }
        fn seal(
            &mut self,
            epoch: u16,
            ct: ContentType,
            r: &mut [u8],
            len: usize,
        ) -> Result<usize, Error> {
            r[0] = ct.0;
            r[1..3].copy_from_slice(&[0xfe, 0xfd]);
            r[3..5].copy_from_slice(&epoch.to_be_bytes());
            r[5..11].copy_from_slice(&self.0.to_be_bytes()[2..]);
            r[11..13].copy_from_slice(&(len as u16).to_be_bytes());
            self.0 += 1;
            Ok(13 + len)
        }
    }

    /// The (message_seq, offset, length, body) of each handshake fragment in `d`.
    fn fragments(mut d: &[u8]) -> Vec<(u16, usize, usize, Vec<u8>)> {
        let mut out = Vec::new();
        while d.len() >= 13 {
            let len = usize::from(u16::from_be_bytes([d[11], d[12]]));
            let (rec, rest) = d[13..].split_at(len);
            if d[0] == 22 {
                let n = |b: &[u8]| (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize;
                out.push((
                    u16::from_be_bytes([rec[4], rec[5]]),
                    n(&rec[6..9]),
                    n(&rec[9..12]),
                    rec[12..].to_vec(),
                ));
            }
            d = rest;
        }
        out
    }

    #[test]
    fn fragments_to_the_mtu_and_resends_whole() {
        let mut store = [0u8; 1024];
        let mut f = Flight::new(&mut store);
        let body: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let whole = f
            .push_handshake(0, HandshakeType::CERTIFICATE, |b| {
                b[..300].copy_from_slice(&body);
                Ok(300)
            })
            .unwrap()
            .to_vec();
        assert_eq!(&whole[..12], &[11, 0, 1, 44, 0, 0, 0, 0, 0, 0, 1, 44]);
        f.push_ccs(0).unwrap();
        let mut sealer = Plain(0);
        let mut got = Vec::new();
        let mut dgram = [0u8; 128];
        let mut sizes = Vec::new();
        loop {
            let n = f.fill_datagram(&mut dgram, 128, &mut sealer).unwrap();
            if n == 0 {
                break;
            }
            sizes.push(n);
            got.extend(fragments(&dgram[..n]));
        }
        assert!(sizes.iter().all(|&n| n <= 128), "{sizes:?}");
        let mut joined = vec![0u8; 300];
        for (seq, off, len, b) in &got {
            assert_eq!(*seq, 0);
            joined[*off..off + len].copy_from_slice(b);
        }
        assert_eq!(joined, body);
        assert!(!f.pending());
        // The last datagram carries the change_cipher_spec.
        assert_eq!(sealer.0 as usize, got.len() + 1);
        f.rewind();
        assert!(f.pending());
        let n = f.fill_datagram(&mut dgram, 128, &mut sealer).unwrap();
        assert_eq!(fragments(&dgram[..n])[0].1, 0);
    }

    #[test]
    fn an_mtu_too_small_for_any_fragment_is_an_error() {
        let mut store = [0u8; 256];
        let mut f = Flight::new(&mut store);
        f.push_handshake(0, HandshakeType::FINISHED, |b| {
            b[..12].fill(7);
            Ok(12)
        })
        .unwrap();
        let mut dgram = [0u8; 20];
        assert!(matches!(
            f.fill_datagram(&mut dgram, 20, &mut Plain(0)),
            Err(Error::Capacity { .. })
        ));
    }
}
