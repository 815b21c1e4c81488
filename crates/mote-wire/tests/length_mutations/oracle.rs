//! Finding the length fields of a message (a recording [`Sink`]), mutating them, and judging
//! the error a mutated message gets.

use mote_wire::handshake::{parse_handshake, HandshakeMessage};
use mote_wire::{Context, DecodeError, DecodeErrorKind, Reader, Sink, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A field the parser reported as [`Value::Length`].
#[derive(Clone, Debug)]
pub struct LengthField {
    /// The full path, `handshake.client_hello.extensions[3].key_share.client_shares_length`.
    pub path: String,
    pub name: &'static str,
    /// Absolute offset and width in bytes.
    pub offset: usize,
    pub width: usize,
    pub value: usize,
}

/// Records every length field, with its path.
#[derive(Default)]
pub struct LengthRecorder {
    stack: Vec<String>,
    pub lengths: Vec<LengthField>,
}

impl Sink for LengthRecorder {
    fn enter(&mut self, name: &'static str, index: Option<u16>, _offset: usize) {
        self.stack.push(match index {
            Some(i) => format!("{name}[{i}]"),
            None => name.to_string(),
        });
    }
    fn leave(&mut self, _end: usize) {
        self.stack.pop().expect("leave without enter");
    }
    fn field(&mut self, name: &'static str, offset: usize, len: usize, value: Value<'_>) {
        if let Value::Length(v) = value {
            let mut path = self.stack.join(".");
            path.push('.');
            path.push_str(name);
            self.lengths.push(LengthField {
                path,
                name,
                offset,
                width: len,
                value: v,
            });
        }
    }
}

/// The length fields the parser reads in `bytes` (up to where it stops, if it fails).
pub fn length_fields(bytes: &[u8], ctx: &Context) -> Vec<LengthField> {
    let mut rec = LengthRecorder::default();
    let _ = parse_handshake(&mut Reader::with_sink(bytes, &mut rec), ctx);
    rec.lengths
}

/// What parsing a whole input gave.
pub enum Outcome<'a> {
    /// A message, and how many input bytes it left unread.
    Parsed(HandshakeMessage<'a>, usize),
    Failed(DecodeError),
    Panicked(String),
}

pub fn parse<'a>(bytes: &'a [u8], ctx: &Context) -> Outcome<'a> {
    let res = catch_unwind(AssertUnwindSafe(|| {
        let mut r = Reader::new(bytes);
        parse_handshake(&mut r, ctx).map(|(_, m)| (m, r.remaining()))
    }));
    match res {
        Ok(Ok((m, left))) => Outcome::Parsed(m, left),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(p) => Outcome::Panicked(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

/// True when `bytes` parse as one message that uses every byte.
pub fn parses_whole(bytes: &[u8], ctx: &Context) -> bool {
    matches!(parse(bytes, ctx), Outcome::Parsed(_, 0))
}

/// `bytes` with the `width`-byte big-endian field at `offset` set to `value`.
pub fn with_field(bytes: &[u8], offset: usize, width: usize, value: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let be = (value as u64).to_be_bytes();
    out[offset..offset + width].copy_from_slice(&be[8 - width..]);
    out
}

pub fn field_value(bytes: &[u8], offset: usize, width: usize) -> usize {
    bytes[offset..offset + width]
        .iter()
        .fold(0, |acc, &b| acc << 8 | usize::from(b))
}

/// The numbers the error's text must show, for the kinds that compare two.
pub fn numbers_shown(e: &DecodeError) -> Result<(), String> {
    let (a, b) = match e.kind {
        DecodeErrorKind::LengthExceeds {
            declared,
            available,
        } => (declared, available),
        DecodeErrorKind::TrailingBytes { declared, used } => (declared, used),
        _ => return Ok(()),
    };
    let text = e.to_string();
    // The kind's text follows the path, after the last ": ".
    let tail = text.rsplit(": ").next().unwrap_or("");
    let numbers: Vec<usize> = tail
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect();
    if numbers.contains(&a) && numbers.contains(&b) {
        Ok(())
    } else {
        Err(format!("\"{text}\" does not show both {a} and {b}"))
    }
}

/// How the error of a mutated message relates to the mutated field.
pub enum Blame {
    /// The error is at the mutated field.
    Exact,
    /// At another length field `path`, which a change of the same size (±1) would repair:
    /// the message with that field changed instead parses whole.
    Equivalent(String),
    /// Anything else: the reason.
    Wrong(String),
}

/// Judges `e`, the error of `mutated` (the field at `field.offset` changed by one).
pub fn blame(mutated: &[u8], ctx: &Context, field: &LengthField, e: &DecodeError) -> Blame {
    if e.offset == field.offset {
        return Blame::Exact;
    }
    // The blamed field as the parser read it in the mutated message, else as it reads it in
    // the original (a field the mutated parse never reached cannot be blamed by it, but the
    // lookup costs nothing).
    let seen = length_fields(mutated, ctx);
    let Some(other) = seen.iter().find(|f| f.offset == e.offset) else {
        return Blame::Wrong(format!(
            "error at {} ({}) is not a length field",
            e.offset, e.path
        ));
    };
    if e.path.leaf() != other.name {
        return Blame::Wrong(format!(
            "error path {} does not name the length field {} at {}",
            e.path, other.path, e.offset
        ));
    }
    let cur = field_value(mutated, other.offset, other.width);
    let max = (1usize << (8 * other.width)) - 1;
    let repairs = [cur.checked_sub(1), cur.checked_add(1).filter(|&v| v <= max)];
    for v in repairs.into_iter().flatten() {
        if parses_whole(&with_field(mutated, other.offset, other.width, v), ctx) {
            return Blame::Equivalent(other.path.clone());
        }
    }
    Blame::Wrong(format!(
        "blames {} at {}, which no change of one repairs",
        other.path, other.offset
    ))
}
