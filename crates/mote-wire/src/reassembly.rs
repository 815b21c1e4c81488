//! Handshake messages split across records, and records holding several messages.
//!
//! TLS: [`HandshakeJoiner`] concatenates the payloads of consecutive handshake records in a
//! caller-owned buffer and hands out whole messages (RFC 8446 section 5.1: messages may be
//! coalesced into one record or fragmented across several).
//!
//! DTLS: [`FragmentAssembler`] rebuilds one message from fragments that may arrive out of
//! order, overlap or repeat (RFC 6347 section 4.2.3, RFC 9147 section 5.5), tracking which
//! byte ranges it holds in a fixed table instead of a heap bitmap.

/// The caller's buffer cannot hold the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub needed: usize,
    pub capacity: usize,
}

/// Joins TLS handshake bytes into whole messages (4-byte header: type, u24 length).
pub struct HandshakeJoiner<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> HandshakeJoiner<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        HandshakeJoiner { buf, len: 0 }
    }

    /// Appends the payload of a handshake record.
    pub fn push(&mut self, data: &[u8]) -> Result<(), TooLarge> {
        let end = self.len + data.len();
        let Some(dst) = self.buf.get_mut(self.len..end) else {
            return Err(TooLarge {
                needed: end,
                capacity: self.buf.len(),
            });
        };
        dst.copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    /// Bytes held that do not yet form a whole message.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// The length (header included) of the first message, once its header is here.
    pub fn first_len(&self) -> Option<usize> {
        let h = self.buf.get(..4.min(self.len))?;
        if h.len() < 4 {
            return None;
        }
        Some(4 + ((usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3])))
    }

    /// The first message, header included, when it is complete.
    pub fn message(&self) -> Option<&[u8]> {
        let n = self.first_len()?;
        if n <= self.len {
            self.buf.get(..n)
        } else {
            None
        }
    }

    /// Drops the first complete message.
    pub fn pop(&mut self) {
        if let Some(n) = self.message().map(<[u8]>::len) {
            self.buf.copy_within(n..self.len, 0);
            self.len -= n;
        }
    }
}

/// Maximum number of disjoint byte ranges tracked for one message; a fragment that would
/// need more is refused (the peer retransmits it; RFC 6347 allows dropping).
pub const MAX_RANGES: usize = 8;

/// Why a fragment was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentError {
    /// The message does not fit the buffer.
    TooLarge(TooLarge),
    /// `fragment_offset + fragment_length` exceeds the message length, or the fragment's
    /// declared total length differs from the one already seen.
    Inconsistent,
    /// The fragment would need more disjoint ranges than [`MAX_RANGES`].
    TooScattered,
}

/// Rebuilds one DTLS handshake message body from its fragments.
pub struct FragmentAssembler<'b> {
    buf: &'b mut [u8],
    total: Option<usize>,
    ranges: [(usize, usize); MAX_RANGES],
    nranges: usize,
}

impl<'b> FragmentAssembler<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        FragmentAssembler {
            buf,
            total: None,
            ranges: [(0, 0); MAX_RANGES],
            nranges: 0,
        }
    }

    /// Forgets the message in progress.
    pub fn reset(&mut self) {
        self.total = None;
        self.nranges = 0;
    }

    /// Adds a fragment of a message of `total` body bytes at `offset`.
    pub fn insert(
        &mut self,
        total: usize,
        offset: usize,
        data: &[u8],
    ) -> Result<(), FragmentError> {
        if self.total.is_some_and(|t| t != total) {
            return Err(FragmentError::Inconsistent);
        }
        let end = offset
            .checked_add(data.len())
            .filter(|&e| e <= total)
            .ok_or(FragmentError::Inconsistent)?;
        if total > self.buf.len() {
            return Err(FragmentError::TooLarge(TooLarge {
                needed: total,
                capacity: self.buf.len(),
            }));
        }
        // Merge [offset, end) into the sorted, disjoint range table first, so a refused
        // fragment leaves the table unchanged.
        let mut merged = [(0usize, 0usize); MAX_RANGES];
        let mut n = 0;
        let (mut s, mut e) = (offset, end);
        let mut placed = false;
        for &(a, b) in &self.ranges[..self.nranges] {
            if b < s {
                merged[n] = (a, b);
                n += 1;
            } else if a > e {
                if !placed {
                    if n == MAX_RANGES {
                        return Err(FragmentError::TooScattered);
                    }
                    merged[n] = (s, e);
                    n += 1;
                    placed = true;
                }
                if n == MAX_RANGES {
                    return Err(FragmentError::TooScattered);
                }
                merged[n] = (a, b);
                n += 1;
            } else {
                s = s.min(a);
                e = e.max(b);
            }
        }
        if !placed {
            if n == MAX_RANGES {
                return Err(FragmentError::TooScattered);
            }
            merged[n] = (s, e);
            n += 1;
        }
        if let Some(dst) = self.buf.get_mut(offset..end) {
            dst.copy_from_slice(data);
        }
        self.ranges = merged;
        self.nranges = n;
        self.total = Some(total);
        Ok(())
    }

    /// The whole body once every byte has arrived.
    pub fn complete(&self) -> Option<&[u8]> {
        let total = self.total?;
        let whole = total == 0 || (self.nranges == 1 && self.ranges[0] == (0, total));
        if whole {
            self.buf.get(..total)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joiner_splits_and_joins() {
        let mut buf = [0u8; 64];
        let mut j = HandshakeJoiner::new(&mut buf);
        // Two messages in one record, the second one split across two records.
        j.push(&[20, 0, 0, 2, 0xaa, 0xbb, 11, 0, 0, 3, 1]).unwrap();
        assert_eq!(j.message(), Some(&[20, 0, 0, 2, 0xaa, 0xbb][..]));
        j.pop();
        assert_eq!(j.message(), None);
        j.push(&[2, 3]).unwrap();
        assert_eq!(j.message(), Some(&[11, 0, 0, 3, 1, 2, 3][..]));
        j.pop();
        assert_eq!(j.pending(), 0);
        let mut small = [0u8; 2];
        let mut j = HandshakeJoiner::new(&mut small);
        assert!(j.push(&[1, 2, 3]).is_err());
    }

    #[test]
    fn fragments_out_of_order_overlapping_and_repeated() {
        let msg: std::vec::Vec<u8> = (0..100u8).collect();
        let mut buf = [0u8; 128];
        let mut a = FragmentAssembler::new(&mut buf);
        a.insert(100, 60, &msg[60..100]).unwrap();
        assert!(a.complete().is_none());
        a.insert(100, 0, &msg[0..30]).unwrap();
        a.insert(100, 0, &msg[0..30]).unwrap();
        a.insert(100, 20, &msg[20..61]).unwrap();
        assert_eq!(a.complete(), Some(&msg[..]));
        assert_eq!(a.insert(99, 0, &msg[..1]), Err(FragmentError::Inconsistent));
        assert_eq!(
            a.insert(100, 90, &msg[..20]),
            Err(FragmentError::Inconsistent)
        );
    }

    #[test]
    fn too_scattered_is_refused_without_damage() {
        let mut buf = [0u8; 64];
        let mut a = FragmentAssembler::new(&mut buf);
        for i in 0..MAX_RANGES {
            a.insert(64, i * 4, &[1]).unwrap();
        }
        assert_eq!(a.insert(64, 40, &[1]), Err(FragmentError::TooScattered));
        // Filling the holes still works.
        a.insert(64, 0, &[1u8; 64]).unwrap();
        assert!(a.complete().is_some());
    }
}
