//! The dissection model: parsers report each field they read to a [`Sink`].
//!
//! The same parsing code serves the engine (no sink, nothing recorded) and the dissector
//! (a sink that builds a tree of named fields with byte ranges). Offsets are absolute: the
//! reader's base offset plus the position inside its slice.

/// A field's value as the parser understood it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A plain unsigned number.
    Uint(u64),
    /// A length prefix.
    Length(usize),
    /// A code point of a registry, with its name when known.
    Code {
        value: u64,
        width: u8,
        name: Option<&'static str>,
    },
    /// Opaque bytes.
    Bytes(&'a [u8]),
    /// Bytes that are text by definition (a host name, an ALPN protocol id).
    Text(&'a [u8]),
}

/// Receives the structure of what a parser reads.
pub trait Sink {
    /// A node (a message, an extension, a list element) starts at `offset`.
    fn enter(&mut self, name: &'static str, index: Option<u16>, offset: usize);
    /// The innermost open node ends just before `end`.
    fn leave(&mut self, end: usize);
    /// A leaf field.
    fn field(&mut self, name: &'static str, offset: usize, len: usize, value: Value<'_>);
    /// A remark about the bytes at `offset..offset+len` that is not an error, such as
    /// "encrypted" or "continues in the next record".
    fn note(&mut self, offset: usize, len: usize, text: &'static str) {
        let _ = (offset, len, text);
    }
}
