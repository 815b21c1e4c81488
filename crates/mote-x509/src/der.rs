//! A minimal DER reader (ITU-T X.690 section 10) that knows the absolute offset of every
//! element, so errors can say where in the certificate the problem is.
//!
//! Only what certificates use: single-byte tags (X.509 never needs the high-tag-number form),
//! definite lengths of at most four octets in their shortest form (X.690 10.1: DER forbids
//! the indefinite form and longer-than-needed lengths). Nothing is copied and nothing can
//! panic: every slice is taken with `get`.

use crate::error::X509Error;

pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// Context-specific constructed tag `[n]` (EXPLICIT tagging, or IMPLICIT of a constructed
/// type).
pub(crate) const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// One element: its tag, the whole encoding and the contents, with the contents' offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    /// Tag, length and contents: what is hashed when this element is signed.
    pub raw: &'a [u8],
    pub content: &'a [u8],
    /// Absolute offset of the tag byte.
    pub offset: usize,
    /// Absolute offset of the first content byte.
    pub content_offset: usize,
}

/// Reads consecutive elements from `buf`, whose first byte is at absolute offset `base` of
/// certificate `index`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Der<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    index: u8,
}

impl<'a> Der<'a> {
    pub fn new(buf: &'a [u8], index: u8) -> Der<'a> {
        Der {
            buf,
            pos: 0,
            base: 0,
            index,
        }
    }

    /// A reader over an element's contents.
    pub fn inside(&self, tlv: &Tlv<'a>) -> Der<'a> {
        Der {
            buf: tlv.content,
            pos: 0,
            base: tlv.content_offset,
            index: self.index,
        }
    }

    pub fn index(&self) -> u8 {
        self.index
    }

    /// Absolute offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// A `Malformed` error at absolute `offset`.
    pub fn error_at(&self, offset: usize, what: &'static str) -> X509Error {
        X509Error::Malformed {
            index: self.index,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            what,
        }
    }

    /// A `Malformed` error at the next unread byte.
    pub fn error(&self, what: &'static str) -> X509Error {
        self.error_at(self.offset(), what)
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self, what: &'static str) -> Result<Tlv<'a>, X509Error> {
        let start = self.pos;
        let tag = *self.buf.get(start).ok_or_else(|| self.error(what))?;
        if tag & 0x1f == 0x1f {
            return Err(self.error("high-tag-number form is not used in certificates"));
        }
        let first = *self
            .buf
            .get(start + 1)
            .ok_or_else(|| self.error_at(self.base + start, what))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 {
                return Err(self.error_at(self.base + start + 1, "indefinite length (not DER)"));
            }
            if n > 4 {
                return Err(self.error_at(self.base + start + 1, "length of more than 4 octets"));
            }
            let bytes = self
                .buf
                .get(start + 2..start + 2 + n)
                .ok_or_else(|| self.error_at(self.base + start + 1, what))?;
            let mut len = 0usize;
            for &b in bytes {
                len = (len << 8) | usize::from(b);
            }
            // X.690 10.1: the shortest form. A long form must be needed (>= 128) and must not
            // start with a zero octet.
            if len < 0x80 || bytes.first() == Some(&0) {
                return Err(self.error_at(self.base + start + 1, "non-minimal length (not DER)"));
            }
            (len, 2 + n)
        };
        let end = start
            .checked_add(header)
            .and_then(|h| h.checked_add(len))
            .ok_or_else(|| self.error_at(self.base + start + 1, what))?;
        let raw = self
            .buf
            .get(start..end)
            .ok_or_else(|| self.error_at(self.base + start + 1, "length runs past the end"))?;
        let content = raw.get(header..).unwrap_or(&[]);
        self.pos = end;
        Ok(Tlv {
            tag,
            raw,
            content,
            offset: self.base + start,
            content_offset: self.base + start + header,
        })
    }

    /// The next element, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, X509Error> {
        if self.peek_tag() != Some(tag) {
            return Err(self.error(what));
        }
        self.any(what)
    }

    /// The next element if it has tag `tag`.
    pub fn optional(&mut self, tag: u8, what: &'static str) -> Result<Option<Tlv<'a>>, X509Error> {
        if self.peek_tag() == Some(tag) {
            self.any(what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub fn sequence(&mut self, what: &'static str) -> Result<Der<'a>, X509Error> {
        let tlv = self.expect(SEQUENCE, what)?;
        Ok(self.inside(&tlv))
    }

    /// Fails unless every byte was read (a SEQUENCE with unexpected trailing elements).
    pub fn finish(&self, what: &'static str) -> Result<(), X509Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// A BOOLEAN: X.690 11.1 allows only 0x00 and 0xff in DER.
    pub fn boolean(&mut self, what: &'static str) -> Result<bool, X509Error> {
        let tlv = self.expect(BOOLEAN, what)?;
        match tlv.content {
            [0x00] => Ok(false),
            [0xff] => Ok(true),
            _ => Err(self.error_at(tlv.offset, what)),
        }
    }

    /// A non-negative INTEGER that fits in a `u32` (versions, pathLenConstraint, PSS salt
    /// lengths), in its minimal two's-complement encoding (X.690 8.3.2).
    pub fn small_uint(&mut self, what: &'static str) -> Result<u32, X509Error> {
        let tlv = self.expect(INTEGER, what)?;
        let err = self.error_at(tlv.offset, what);
        let digits = integer_magnitude(tlv.content).ok_or(err)?;
        if digits.len() > 4 {
            return Err(err);
        }
        Ok(digits.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
    }

    /// An OBJECT IDENTIFIER's content octets (compared as bytes against known encodings).
    pub fn oid(&mut self, what: &'static str) -> Result<&'a [u8], X509Error> {
        let tlv = self.expect(OID, what)?;
        // X.690 8.19: at least one octet, and the last octet ends a subidentifier.
        match tlv.content.last() {
            Some(b) if b & 0x80 == 0 => Ok(tlv.content),
            _ => Err(self.error_at(tlv.offset, what)),
        }
    }

    /// A BIT STRING with no unused bits (signatures and keys are whole octets).
    pub fn octet_aligned_bits(&mut self, what: &'static str) -> Result<&'a [u8], X509Error> {
        let tlv = self.expect(BIT_STRING, what)?;
        match tlv.content.split_first() {
            Some((0, bits)) => Ok(bits),
            _ => Err(self.error_at(tlv.offset, what)),
        }
    }
}

/// The magnitude octets of a non-negative minimally encoded INTEGER, or `None` if it is
/// empty, negative or has a superfluous leading octet.
pub(crate) fn integer_magnitude(content: &[u8]) -> Option<&[u8]> {
    match content {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None,
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] if !rest.is_empty() => Some(rest),
        _ => Some(content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_minimal_and_definite() {
        assert!(Der::new(&[0x04, 0x01, 0xaa], 0).any("x").is_ok());
        assert!(Der::new(&[0x04, 0x81, 0x01, 0xaa], 0).any("x").is_err());
        assert!(Der::new(&[0x04, 0x80, 0x00, 0x00], 0).any("x").is_err());
        assert!(Der::new(&[0x04, 0x82, 0x00, 0x80], 0).any("x").is_err());
        assert!(Der::new(&[0x04, 0x85, 1, 1, 1, 1, 1], 0).any("x").is_err());
        assert!(Der::new(&[0x04, 0x02, 0xaa], 0).any("x").is_err());
        assert!(Der::new(&[0x1f, 0x01, 0xaa], 0).any("x").is_err());
        let mut long = [0u8; 3 + 0x80];
        long[..3].copy_from_slice(&[0x04, 0x81, 0x80]);
        assert_eq!(Der::new(&long, 0).any("x").unwrap().content.len(), 0x80);
    }

    #[test]
    fn integers() {
        assert_eq!(integer_magnitude(&[0x00]), Some(&[0x00][..]));
        assert_eq!(integer_magnitude(&[0x00, 0x80]), Some(&[0x80][..]));
        assert_eq!(integer_magnitude(&[0x00, 0x01]), None);
        assert_eq!(integer_magnitude(&[0x80]), None);
        assert_eq!(integer_magnitude(&[]), None);
        let mut d = Der::new(&[0x02, 0x02, 0x01, 0x00], 0);
        assert_eq!(d.small_uint("x"), Ok(256));
    }

    #[test]
    fn errors_carry_absolute_offsets() {
        let buf = [0x30, 0x03, 0x01, 0x01, 0x07];
        let mut outer = Der::new(&buf, 3);
        let seq = outer.any("seq").unwrap();
        let mut inner = outer.inside(&seq);
        assert_eq!(
            inner.boolean("flag"),
            Err(X509Error::Malformed {
                index: 3,
                offset: 2,
                what: "flag"
            })
        );
    }
}
