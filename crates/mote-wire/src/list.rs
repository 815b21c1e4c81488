//! Length-prefixed lists without an allocator: parsed lists keep their validated bytes and
//! decode elements lazily; built lists borrow a caller's slice of elements.

use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Code, Len, Reader};
use crate::writer::Writer;

/// An element of a list on the wire.
pub trait Item<'a>: Sized + Copy {
    /// What decoding needs to know besides the bytes (for example which message an
    /// extension sits in). `()` when nothing.
    type Ctx: Copy + core::fmt::Debug;
    fn read(r: &mut Reader<'a, '_>, ctx: Self::Ctx) -> Result<Self, DecodeError>;
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError>;
}

impl<'a, T: Code> Item<'a> for T {
    type Ctx = &'static str;
    fn read(r: &mut Reader<'a, '_>, name: &'static str) -> Result<Self, DecodeError> {
        r.code::<T>(name)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(*self)
    }
}

/// A list of `T`: either as parsed from the wire or as built by a caller.
#[derive(Clone, Copy)]
pub enum List<'a, T: Item<'a>> {
    /// The list's bytes (without the length prefix), already validated.
    Raw(&'a [u8], T::Ctx),
    /// Elements given by the caller.
    Items(&'a [T]),
}

impl<'a, T: Item<'a>> List<'a, T> {
    pub fn iter(&self) -> ListIter<'a, T> {
        match *self {
            List::Raw(b, ctx) => ListIter::Raw(Reader::new(b), ctx),
            List::Items(s) => ListIter::Items(s.iter()),
        }
    }

    /// Number of elements (decodes a raw list to count it).
    pub fn len(&self) -> usize {
        match self {
            List::Items(s) => s.len(),
            List::Raw(..) => self.iter().count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            List::Items(s) => s.is_empty(),
            List::Raw(b, _) => b.is_empty(),
        }
    }

    /// Writes the elements (not the length prefix).
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            List::Raw(b, _) => w.bytes(b),
            List::Items(s) => s.iter().try_for_each(|it| it.write(w)),
        }
    }

    /// Writes the list with a length prefix of width `len`.
    pub fn write_prefixed(&self, len: Len, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.vector(len, |w| self.write(w))
    }

    /// Reads a length-prefixed list: length field `len_name`, node `node`, each element in
    /// node `item` with its index.
    pub fn read(
        r: &mut Reader<'a, '_>,
        len: Len,
        len_name: &'static str,
        node: &'static str,
        item: &'static str,
        bounds: Bounds,
        ctx: T::Ctx,
    ) -> Result<Self, DecodeError> {
        r.vector(len, len_name, node, bounds, |r| {
            let raw = r.peek_rest();
            r.each(item, |r, _| T::read(r, ctx).map(|_| ()))?;
            Ok(List::Raw(raw, ctx))
        })
    }
}

impl<'a, T: Item<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a, T: Item<'a> + core::fmt::Debug> core::fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterates a [`List`]. A raw list was validated when it was parsed, so decoding its
/// elements again cannot fail; should it, iteration simply stops.
// A Reader (a few hundred bytes, most of it the error path it keeps) against a slice
// iterator: boxing it would need an allocator, and iterators live briefly on the stack.
#[allow(clippy::large_enum_variant)]
pub enum ListIter<'a, T: Item<'a>> {
    Raw(Reader<'a, 'static>, T::Ctx),
    Items(core::slice::Iter<'a, T>),
}

impl<'a, T: Item<'a>> Iterator for ListIter<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            ListIter::Raw(r, ctx) => {
                if r.is_empty() {
                    return None;
                }
                match T::read(r, *ctx) {
                    Ok(v) => Some(v),
                    Err(_) => {
                        r.rest("");
                        None
                    }
                }
            }
            ListIter::Items(it) => it.next().copied(),
        }
    }
}
