//! A slice reader with named fields, length-prefixed scopes that must be consumed exactly,
//! and errors that carry the absolute offset and the field path.
//!
//! Entry points that parse a whole unit (a handshake message, an extension block) run through
//! [`Reader::diagnosed`], which, after an error and only then, works out which length field
//! to blame (see `blame.rs`, behind the `diagnose` feature).

#[cfg(feature = "diagnose")]
use crate::blame::Probe;
use crate::error::{DecodeError, DecodeErrorKind, Path};
use crate::sink::{Sink, Value};

/// Width of a length prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    U8,
    U16,
    U24,
}

impl Len {
    pub const fn size(self) -> usize {
        match self {
            Len::U8 => 1,
            Len::U16 => 2,
            Len::U24 => 3,
        }
    }
    pub const fn max(self) -> usize {
        match self {
            Len::U8 => 0xff,
            Len::U16 => 0xffff,
            Len::U24 => 0xff_ffff,
        }
    }
}

/// Bounds on a length-prefixed vector, as the RFC's `<min..max>` notation gives them,
/// plus the element size the length must be a multiple of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub min: usize,
    pub max: usize,
    pub unit: usize,
}

impl Bounds {
    pub const ANY: Bounds = Bounds {
        min: 0,
        max: usize::MAX,
        unit: 1,
    };
    pub const NONEMPTY: Bounds = Bounds {
        min: 1,
        max: usize::MAX,
        unit: 1,
    };
    pub const fn new(min: usize, max: usize) -> Bounds {
        Bounds { min, max, unit: 1 }
    }
    pub const fn units(min: usize, max: usize, unit: usize) -> Bounds {
        Bounds { min, max, unit }
    }
}

/// Code points of a registry (cipher suites, groups, ...): see [`crate::open_enum`].
pub trait Code: Copy {
    /// Width on the wire, in bytes.
    const WIDTH: usize;
    fn from_u64(v: u64) -> Self;
    fn to_u64(self) -> u64;
    fn name(self) -> Option<&'static str>;
}

/// A reader's position, saved so that the same bytes can be read again (blame analysis).
#[cfg(feature = "diagnose")]
#[derive(Clone, Copy)]
pub(crate) struct Mark<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    base: usize,
    path: Path,
}

#[cfg(feature = "diagnose")]
impl<'a> Mark<'a> {
    /// A fresh reader at the mark, without a sink.
    pub(crate) fn reader<'t>(&self, probe: Probe<'t>) -> Reader<'a, 't> {
        Reader {
            data: self.data,
            pos: self.pos,
            end: self.end,
            base: self.base,
            path: self.path,
            sink: None,
            probe,
        }
    }
}

/// Reads fields from a slice. Every read names its field; errors carry where and what.
pub struct Reader<'a, 's> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    base: usize,
    path: Path,
    sink: Option<&'s mut dyn Sink>,
    /// Blame analysis: a length field to read as another value, a trace, and whether an
    /// outer [`Reader::diagnosed`] is in charge.
    #[cfg(feature = "diagnose")]
    probe: Probe<'s>,
}

type Result<T> = core::result::Result<T, DecodeError>;

impl<'a> Reader<'a, 'static> {
    /// A reader that records nothing: the engine's way of parsing.
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            end: data.len(),
            base: 0,
            path: Path::new(),
            sink: None,
            #[cfg(feature = "diagnose")]
            probe: Probe::OFF,
        }
    }
}

impl<'a, 's> Reader<'a, 's> {
    /// A reader that reports every field to `sink`.
    pub fn with_sink(data: &'a [u8], sink: &'s mut dyn Sink) -> Self {
        Reader {
            data,
            pos: 0,
            end: data.len(),
            base: 0,
            path: Path::new(),
            sink: Some(sink),
            #[cfg(feature = "diagnose")]
            probe: Probe::OFF,
        }
    }

    /// Offsets in errors and in the sink are `base` plus the position in `data`.
    pub fn with_base(mut self, base: usize) -> Self {
        self.base = base;
        self
    }

    /// Starts errors' paths under `path` (for example `handshake` when parsing a body alone).
    pub fn with_path(mut self, path: Path) -> Self {
        self.path = path;
        self
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Position inside the data slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left in the current scope.
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The unread bytes of the current scope, without consuming them.
    pub fn peek_rest(&self) -> &'a [u8] {
        &self.data[self.pos..self.end]
    }

    /// An error about field `name` at absolute offset `offset`.
    pub fn error_at(
        &self,
        offset: usize,
        name: &'static str,
        kind: DecodeErrorKind,
    ) -> DecodeError {
        let mut path = self.path;
        if !name.is_empty() {
            path.push(name, None);
        }
        DecodeError { offset, path, kind }
    }

    /// An error about field `name` at the current position.
    pub fn error(&self, name: &'static str, kind: DecodeErrorKind) -> DecodeError {
        self.error_at(self.offset(), name, kind)
    }

    fn take(&mut self, name: &'static str, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.error(
                name,
                DecodeErrorKind::Truncated {
                    needed: n,
                    available: self.remaining(),
                },
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn report(&mut self, name: &'static str, at: usize, len: usize, value: Value<'_>) {
        let off = self.base + at;
        if let Some(s) = self.sink.as_deref_mut() {
            s.field(name, off, len, value);
        }
    }

    /// Tells the sink something about bytes `offset..offset+len` (absolute).
    pub fn note(&mut self, offset: usize, len: usize, text: &'static str) {
        if let Some(s) = self.sink.as_deref_mut() {
            s.note(offset, len, text);
        }
    }

    fn uint(&mut self, name: &'static str, n: usize) -> Result<u64> {
        let at = self.pos;
        let b = self.take(name, n)?;
        let v = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        self.report(name, at, n, Value::Uint(v));
        Ok(v)
    }

    pub fn u8(&mut self, name: &'static str) -> Result<u8> {
        Ok(self.uint(name, 1)? as u8)
    }
    pub fn u16(&mut self, name: &'static str) -> Result<u16> {
        Ok(self.uint(name, 2)? as u16)
    }
    pub fn u24(&mut self, name: &'static str) -> Result<u32> {
        Ok(self.uint(name, 3)? as u32)
    }
    pub fn u32(&mut self, name: &'static str) -> Result<u32> {
        Ok(self.uint(name, 4)? as u32)
    }
    pub fn u48(&mut self, name: &'static str) -> Result<u64> {
        self.uint(name, 6)
    }
    pub fn u64(&mut self, name: &'static str) -> Result<u64> {
        self.uint(name, 8)
    }

    /// A length prefix, reported as a length.
    pub fn length(&mut self, name: &'static str, len: Len) -> Result<usize> {
        let at = self.pos;
        let b = self.take(name, len.size())?;
        let v = b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        #[cfg(feature = "diagnose")]
        let v = self
            .probe
            .length(self.base + at, len.size(), v, &self.path, name);
        self.report(name, at, len.size(), Value::Length(v));
        Ok(v)
    }

    /// A registry code point, reported with its name.
    pub fn code<T: Code>(&mut self, name: &'static str) -> Result<T> {
        let at = self.pos;
        let b = self.take(name, T::WIDTH)?;
        let v = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        let c = T::from_u64(v);
        // Names are looked up only for a sink, so a device that parses without one does not
        // link the registries' name tables.
        if self.sink.is_some() {
            self.report(
                name,
                at,
                T::WIDTH,
                Value::Code {
                    value: v,
                    width: T::WIDTH as u8,
                    name: c.name(),
                },
            );
        }
        Ok(c)
    }

    /// `n` opaque bytes.
    pub fn bytes(&mut self, name: &'static str, n: usize) -> Result<&'a [u8]> {
        let at = self.pos;
        let b = self.take(name, n)?;
        self.report(name, at, n, Value::Bytes(b));
        Ok(b)
    }

    /// `n` bytes of text (reported as text; not checked to be UTF-8).
    pub fn text(&mut self, name: &'static str, n: usize) -> Result<&'a [u8]> {
        let at = self.pos;
        let b = self.take(name, n)?;
        self.report(name, at, n, Value::Text(b));
        Ok(b)
    }

    /// A fixed-size array such as a 32-byte random.
    pub fn array<const N: usize>(&mut self, name: &'static str) -> Result<&'a [u8; N]> {
        let b = self.bytes(name, N)?;
        b.try_into().map_err(|_| {
            self.error(
                name,
                DecodeErrorKind::Truncated {
                    needed: N,
                    available: b.len(),
                },
            )
        })
    }

    /// Everything left in the current scope.
    pub fn rest(&mut self, name: &'static str) -> &'a [u8] {
        let at = self.pos;
        let b = &self.data[self.pos..self.end];
        self.pos = self.end;
        if !b.is_empty() {
            self.report(name, at, b.len(), Value::Bytes(b));
        }
        b
    }

    /// Skips `n` bytes without reporting them (the caller reports them another way).
    pub fn skip(&mut self, name: &'static str, n: usize) -> Result<&'a [u8]> {
        self.take(name, n)
    }

    /// Fails unless the current scope is fully consumed.
    pub fn expect_end(&self, name: &'static str) -> Result<()> {
        if self.remaining() > 0 {
            return Err(self.error(
                name,
                DecodeErrorKind::UnexpectedTrailing {
                    count: self.remaining(),
                },
            ));
        }
        Ok(())
    }

    /// Runs `f` inside a named node (for the path and the dissection tree).
    pub fn node<T>(
        &mut self,
        name: &'static str,
        index: Option<u16>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let start = self.offset();
        self.path.push(name, index);
        if let Some(s) = self.sink.as_deref_mut() {
            s.enter(name, index, start);
        }
        let r = f(self);
        let end = self.offset();
        if let Some(s) = self.sink.as_deref_mut() {
            s.leave(end);
        }
        self.path.pop();
        r
    }

    /// Runs `f` over exactly the next `n` bytes, which it must consume entirely.
    /// `len_name` and `len_at` identify the length field blamed when it does not.
    pub fn limited<T>(
        &mut self,
        n: usize,
        len_name: &'static str,
        len_at: usize,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        if n > self.remaining() {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::LengthExceeds {
                    declared: n,
                    available: self.remaining(),
                },
            ));
        }
        #[cfg(feature = "diagnose")]
        self.probe.open(len_at, n);
        let outer_end = self.end;
        let start = self.pos;
        self.end = self.pos + n;
        let r = f(self);
        let used = self.pos - start;
        self.end = outer_end;
        let v = r?;
        if used != n {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::TrailingBytes { declared: n, used },
            ));
        }
        // A scope that failed stays open in a trace: it encloses the error.
        #[cfg(feature = "diagnose")]
        self.probe.close();
        Ok(v)
    }

    /// Runs `parse`, an entry point that reads one whole unit (a handshake message, an
    /// extension block) from here. When it fails, and no outer `diagnosed` is running, the
    /// error is re-examined: if correcting one length field read on the way makes `parse`
    /// succeed with a result that `accept` accepts, given the bytes it leaves, that field is
    /// blamed instead (see `blame.rs`). Nothing of this runs on success, and without the
    /// `diagnose` feature this is `parse(self)`.
    ///
    /// `parse` must be deterministic and free of side effects besides reading: it is run
    /// again on fresh readers over the same bytes (without the sink).
    pub fn diagnosed<T>(
        &mut self,
        accept: impl Fn(&T, &[u8]) -> bool,
        parse: impl Fn(&mut Reader<'a, '_>) -> Result<T>,
    ) -> Result<T> {
        #[cfg(feature = "diagnose")]
        if !self.probe.busy {
            let mark = self.mark();
            self.probe.busy = true;
            let r = parse(self);
            self.probe.busy = false;
            return r.map_err(|e| crate::blame::diagnose(&mark, e, &parse, &accept));
        }
        let _ = &accept;
        parse(self)
    }

    /// A reader over this reader's bytes `from..to` (positions, as [`Reader::position`]
    /// gives them), with the same offsets, no sink, and, during blame analysis, the same
    /// corrected length: for looking again at what was already read (duplicate checks).
    pub fn earlier(&self, from: usize, to: usize) -> Reader<'a, 'static> {
        let to = to.min(self.end);
        Reader {
            data: self.data,
            pos: from.min(to),
            end: to,
            base: self.base,
            path: self.path,
            sink: None,
            #[cfg(feature = "diagnose")]
            probe: self.probe.inherit(),
        }
    }

    /// Where this reader is, to read the same bytes again from here (blame analysis).
    #[cfg(feature = "diagnose")]
    pub(crate) fn mark(&self) -> Mark<'a> {
        Mark {
            data: self.data,
            pos: self.pos,
            end: self.end,
            base: self.base,
            path: self.path,
        }
    }

    /// A length-prefixed vector: reads the length field `len_name`, checks it against
    /// `bounds`, then runs `f` inside node `node` over exactly that many bytes.
    pub fn vector<T>(
        &mut self,
        len: Len,
        len_name: &'static str,
        node: &'static str,
        bounds: Bounds,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let len_at = self.offset();
        let n = self.length(len_name, len)?;
        self.check_bounds(len_at, len_name, n, bounds)?;
        self.limited(n, len_name, len_at, |r| r.node(node, None, f))
    }

    /// Checks a declared length against `bounds`, blaming the field at `len_at`.
    pub fn check_bounds(
        &self,
        len_at: usize,
        len_name: &'static str,
        n: usize,
        b: Bounds,
    ) -> Result<()> {
        if b.unit > 1 && !n.is_multiple_of(b.unit) {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::NotMultiple {
                    len: n,
                    unit: b.unit,
                },
            ));
        }
        if n < b.min || n > b.max {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::LengthOutOfRange {
                    len: n,
                    min: b.min,
                    max: b.max,
                },
            ));
        }
        Ok(())
    }

    /// A length-prefixed opaque field: the length field `len_name`, then the bytes `name`.
    pub fn opaque(
        &mut self,
        len: Len,
        len_name: &'static str,
        name: &'static str,
        bounds: Bounds,
    ) -> Result<&'a [u8]> {
        let len_at = self.offset();
        let n = self.length(len_name, len)?;
        self.check_bounds(len_at, len_name, n, bounds)?;
        if n > self.remaining() {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::LengthExceeds {
                    declared: n,
                    available: self.remaining(),
                },
            ));
        }
        self.bytes(name, n)
    }

    /// Like [`Reader::opaque`], reporting the bytes as text.
    pub fn opaque_text(
        &mut self,
        len: Len,
        len_name: &'static str,
        name: &'static str,
        bounds: Bounds,
    ) -> Result<&'a [u8]> {
        let len_at = self.offset();
        let n = self.length(len_name, len)?;
        self.check_bounds(len_at, len_name, n, bounds)?;
        if n > self.remaining() {
            return Err(self.error_at(
                len_at,
                len_name,
                DecodeErrorKind::LengthExceeds {
                    declared: n,
                    available: self.remaining(),
                },
            ));
        }
        self.text(name, n)
    }

    /// A length-prefixed list of code points (cipher suites, groups, ...). Returns the raw
    /// list bytes, already checked to be a whole number of elements.
    pub fn code_list<T: Code>(
        &mut self,
        len: Len,
        len_name: &'static str,
        node: &'static str,
        item: &'static str,
        bounds: Bounds,
    ) -> Result<&'a [u8]> {
        let bounds = Bounds {
            unit: T::WIDTH,
            ..bounds
        };
        self.vector(len, len_name, node, bounds, |r| {
            let raw = r.peek_rest();
            while !r.is_empty() {
                r.code::<T>(item)?;
            }
            Ok(raw)
        })
    }

    /// Calls `f` for each element until the current scope is consumed, each inside node
    /// `item` with its index.
    pub fn each(
        &mut self,
        item: &'static str,
        mut f: impl FnMut(&mut Self, u16) -> Result<()>,
    ) -> Result<()> {
        let mut i: u16 = 0;
        while !self.is_empty() {
            self.node(item, Some(i), |r| f(r, i))?;
            i = i.saturating_add(1);
        }
        Ok(())
    }
}
