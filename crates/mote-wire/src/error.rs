//! Decode and encode errors that say where and what.
//!
//! A [`DecodeError`] carries the absolute byte offset of the offending field, the field path
//! (`handshake.client_hello.extensions[0].server_name.list_length`) and, when two numbers
//! disagree, both of them. It is `Copy` and allocation-free so the engine can return it on a
//! microcontroller; the dissector prints it as
//! `error at byte 6 (0x0006) handshake.length: declares 243 bytes but 239 follow`.

use core::fmt;

/// Maximum depth of a field path kept in an error. Deeper paths keep their outermost
/// segments and the final field name, with `…` in between.
pub const PATH_DEPTH: usize = 8;

/// One step of a field path: a name and, for list elements, an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub name: &'static str,
    pub index: Option<u16>,
}

/// No index: list indices above this are clamped (no TLS list has 65535 elements).
const NO_INDEX: u16 = u16::MAX;

/// A fixed-capacity field path. Names and indices are kept in separate arrays so the error
/// that carries it stays small (about 100 bytes on a 32-bit microcontroller).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Path {
    names: [&'static str; PATH_DEPTH],
    indices: [u16; PATH_DEPTH],
    len: u8,
    /// Segments dropped because the path was deeper than [`PATH_DEPTH`].
    elided: u8,
}

impl Default for Path {
    fn default() -> Self {
        Self::new()
    }
}

impl Path {
    pub const fn new() -> Self {
        Path {
            names: [""; PATH_DEPTH],
            indices: [NO_INDEX; PATH_DEPTH],
            len: 0,
            elided: 0,
        }
    }

    /// Appends a segment; when full, the last slot is overwritten so the innermost field
    /// (the one that failed) is always present.
    pub fn push(&mut self, name: &'static str, index: Option<u16>) {
        let ix = index.map_or(NO_INDEX, |i| i.min(NO_INDEX - 1));
        let at = if (self.len as usize) < PATH_DEPTH {
            self.len += 1;
            self.len as usize - 1
        } else {
            self.elided = self.elided.saturating_add(1);
            PATH_DEPTH - 1
        };
        self.names[at] = name;
        self.indices[at] = ix;
    }

    pub fn pop(&mut self) {
        if self.elided > 0 {
            self.elided -= 1;
        } else if self.len > 0 {
            self.len -= 1;
        }
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        (0..self.len as usize).map(|i| Segment {
            name: self.names[i],
            index: (self.indices[i] != NO_INDEX).then_some(self.indices[i]),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last segment's name (the field itself), or "" for an empty path.
    pub fn leaf(&self) -> &'static str {
        match self.len {
            0 => "",
            n => self.names[n as usize - 1],
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.len as usize;
        for (i, s) in self.segments().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if self.elided > 0 && i == n - 1 && n > 1 {
                f.write_str("….")?;
            }
            f.write_str(s.name)?;
            if let Some(ix) = s.index {
                write!(f, "[{ix}]")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// What was wrong with the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// A fixed-size field needs more bytes than remain in its enclosing scope.
    Truncated { needed: usize, available: usize },
    /// A length field declares more bytes than its enclosing scope holds.
    LengthExceeds { declared: usize, available: usize },
    /// A length field declares more bytes than its contents used.
    TrailingBytes { declared: usize, used: usize },
    /// A list's length is not a multiple of its element size.
    NotMultiple { len: usize, unit: usize },
    /// A length outside the range the RFC allows (such as an empty cipher_suites list).
    LengthOutOfRange { len: usize, min: usize, max: usize },
    /// A value the RFC forbids here.
    IllegalValue { value: u64 },
    /// The same extension (or list entry) appears twice.
    Duplicate { value: u64 },
    /// Bytes follow a message or record that should end here.
    UnexpectedTrailing { count: usize },
}

/// A decode error: where (absolute offset and field path) and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Absolute byte offset of the field in the input the reader was built over
    /// (plus the reader's base offset).
    pub offset: usize,
    pub path: Path,
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// What RFC 8446 section 6.2 says to send for this kind of error: a malformed message is
    /// `decode_error`; a well-formed message with a forbidden value is `illegal_parameter`.
    pub fn alert(&self) -> crate::alert::AlertDescription {
        use crate::alert::AlertDescription as A;
        match self.kind {
            DecodeErrorKind::IllegalValue { .. } | DecodeErrorKind::Duplicate { .. } => {
                A::ILLEGAL_PARAMETER
            }
            _ => A::DECODE_ERROR,
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeErrorKind::Truncated { needed, available } => write!(
                f,
                "needs {needed} byte{} but {available} remain{}",
                plural(needed),
                if available == 1 { "s" } else { "" }
            ),
            DecodeErrorKind::LengthExceeds {
                declared,
                available,
            } => write!(
                f,
                "declares {declared} byte{} but {available} follow{}",
                plural(declared),
                if available == 1 { "s" } else { "" }
            ),
            DecodeErrorKind::TrailingBytes { declared, used } => write!(
                f,
                "declares {declared} byte{} but its contents end after {used}",
                plural(declared)
            ),
            DecodeErrorKind::NotMultiple { len, unit } => {
                write!(f, "length {len} is not a multiple of {unit}")
            }
            DecodeErrorKind::LengthOutOfRange { len, min, max } => {
                write!(f, "length {len} is outside the allowed range {min}..={max}")
            }
            DecodeErrorKind::IllegalValue { value } => {
                write!(f, "value {value} (0x{value:x}) is not allowed here")
            }
            DecodeErrorKind::Duplicate { value } => {
                write!(f, "value {value} (0x{value:04x}) appears more than once")
            }
            DecodeErrorKind::UnexpectedTrailing { count } => {
                write!(f, "{count} unexpected byte{} follow", plural(count))
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error at byte {} (0x{:04x}) {}: {}",
            self.offset, self.offset, self.path, self.kind
        )
    }
}

/// Errors while emitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small.
    BufferTooSmall { needed: usize, available: usize },
    /// A vector is longer than its length prefix can express.
    TooLong { len: usize, max: usize },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: needs {needed} bytes, {available} available"
            ),
            EncodeError::TooLong { len, max } => {
                write!(f, "vector of {len} bytes exceeds its maximum of {max}")
            }
        }
    }
}
