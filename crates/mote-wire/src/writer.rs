//! A slice writer with length prefixes that are back-patched once their contents are known.

use crate::error::EncodeError;
use crate::reader::{Code, Len};

type Result<T> = core::result::Result<T, EncodeError>;

/// Writes into a caller-owned buffer.
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reserves `n` bytes and returns them for the caller to fill.
    pub fn reserve(&mut self, n: usize) -> Result<&mut [u8]> {
        if n > self.remaining() {
            return Err(EncodeError::BufferTooSmall {
                needed: self.pos + n,
                available: self.buf.len(),
            });
        }
        let s = &mut self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.reserve(b.len())?.copy_from_slice(b);
        Ok(())
    }

    fn uint(&mut self, v: u64, n: usize) -> Result<()> {
        let be = v.to_be_bytes();
        self.bytes(&be[8 - n..])
    }

    pub fn u8(&mut self, v: u8) -> Result<()> {
        self.uint(v.into(), 1)
    }
    pub fn u16(&mut self, v: u16) -> Result<()> {
        self.uint(v.into(), 2)
    }
    pub fn u24(&mut self, v: u32) -> Result<()> {
        self.uint(u64::from(v & 0xff_ffff), 3)
    }
    pub fn u32(&mut self, v: u32) -> Result<()> {
        self.uint(v.into(), 4)
    }
    pub fn u48(&mut self, v: u64) -> Result<()> {
        self.uint(v & 0xffff_ffff_ffff, 6)
    }
    pub fn u64(&mut self, v: u64) -> Result<()> {
        self.uint(v, 8)
    }

    pub fn code<T: Code>(&mut self, c: T) -> Result<()> {
        self.uint(c.to_u64(), T::WIDTH)
    }

    /// Writes a length prefix of width `len`, runs `f`, then patches the prefix with the
    /// number of bytes `f` wrote.
    pub fn vector(&mut self, len: Len, f: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        let at = self.pos;
        self.reserve(len.size())?;
        f(self)?;
        let n = self.pos - at - len.size();
        if n > len.max() {
            return Err(EncodeError::TooLong {
                len: n,
                max: len.max(),
            });
        }
        let be = (n as u32).to_be_bytes();
        self.buf[at..at + len.size()].copy_from_slice(&be[4 - len.size()..]);
        Ok(())
    }

    /// A length-prefixed opaque vector.
    pub fn opaque(&mut self, len: Len, b: &[u8]) -> Result<()> {
        if b.len() > len.max() {
            return Err(EncodeError::TooLong {
                len: b.len(),
                max: len.max(),
            });
        }
        self.uint(b.len() as u64, len.size())?;
        self.bytes(b)
    }
}
