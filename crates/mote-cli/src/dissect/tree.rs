//! The dissection tree: a [`Sink`] that records what mote-wire's parsers read.

use mote_wire::{DecodeError, Sink, Value};
use serde::Serialize;

/// One node of the tree: a record, a message, an extension, or a leaf field.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Absolute offset in the input (or in the flow direction's byte stream).
    pub offset: usize,
    pub length: usize,
    /// The value as a number, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<u64>,
    /// The value for a person: a name with its code point, a host name, hex bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(name: impl Into<String>, index: Option<u32>, offset: usize) -> Node {
        Node {
            name: name.into(),
            index,
            offset,
            length: 0,
            value: None,
            display: None,
            notes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// `name[index]`.
    pub fn label(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{}]", self.name, i),
            None => self.name.clone(),
        }
    }
}

/// A decode error placed under the record it concerns.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub offset: usize,
    pub path: String,
    pub message: String,
    /// The alert a conforming peer answers this with.
    pub alert: String,
}

impl Diagnostic {
    /// From a decode error, with offsets already absolute and `prefix` the record's path.
    pub fn from_error(e: &DecodeError, prefix: &str, map: &OffsetMap) -> Diagnostic {
        let path = e.path.to_string();
        let path = if prefix.is_empty() {
            path
        } else if path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        Diagnostic {
            offset: map.map(e.offset),
            path,
            message: e.kind.to_string(),
            alert: e.alert().to_string(),
        }
    }

    /// A diagnostic that is not a decode error of one field.
    pub fn other(offset: usize, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            offset,
            path: path.into(),
            message: message.into(),
            alert: "decode_error".into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error at byte {} (0x{:04x}) {}: {}",
            self.offset, self.offset, self.path, self.message
        )
    }
}

/// Maps offsets inside a reassembled message back to the input: pieces of
/// (offset in the message, offset in the input, length).
#[derive(Debug, Clone, Default)]
pub struct OffsetMap {
    pieces: Vec<(usize, usize, usize)>,
}

impl OffsetMap {
    /// The identity map.
    pub fn identity() -> OffsetMap {
        OffsetMap::default()
    }

    pub fn push(&mut self, msg_off: usize, input_off: usize, len: usize) {
        self.pieces.push((msg_off, input_off, len));
    }

    pub fn map(&self, off: usize) -> usize {
        if self.pieces.is_empty() {
            return off;
        }
        for &(m, i, l) in &self.pieces {
            if off >= m && off < m + l {
                return i + (off - m);
            }
        }
        // Past the end: continue from the last piece.
        let &(m, i, _) = self.pieces.last().expect("non-empty");
        i + off.saturating_sub(m)
    }
}

/// Builds a [`Node`] tree from what a parser reports.
pub struct TreeSink {
    stack: Vec<Node>,
    map: OffsetMap,
}

impl TreeSink {
    /// A sink whose parsed nodes become children of `root`.
    pub fn new(root: Node, map: OffsetMap) -> TreeSink {
        TreeSink {
            stack: vec![root],
            map,
        }
    }

    /// Closes any node a failed parse left open and returns the root.
    pub fn finish(mut self) -> Node {
        while self.stack.len() > 1 {
            let n = self.stack.pop().expect("len > 1");
            self.stack.last_mut().expect("root").children.push(n);
        }
        self.stack.pop().expect("root")
    }

    pub fn map(&self) -> &OffsetMap {
        &self.map
    }
}

impl Sink for TreeSink {
    fn enter(&mut self, name: &'static str, index: Option<u16>, offset: usize) {
        self.stack
            .push(Node::new(name, index.map(u32::from), self.map.map(offset)));
    }

    fn leave(&mut self, end: usize) {
        if self.stack.len() > 1 {
            let mut n = self.stack.pop().expect("len > 1");
            let end = self.map.map(end.saturating_sub(1)) + 1;
            n.length = end.saturating_sub(n.offset);
            if end == n.offset + 1 && n.children.is_empty() {
                n.length = 0;
            }
            self.stack.last_mut().expect("root").children.push(n);
        }
    }

    fn field(&mut self, name: &'static str, offset: usize, len: usize, value: Value<'_>) {
        let mut n = Node::new(name, None, self.map.map(offset));
        n.length = len;
        let (v, d) = describe(value);
        n.value = v;
        n.display = Some(d);
        self.stack.last_mut().expect("root").children.push(n);
    }

    fn note(&mut self, offset: usize, len: usize, text: &'static str) {
        let _ = (offset, len);
        self.stack
            .last_mut()
            .expect("root")
            .notes
            .push(text.to_string());
    }
}

/// How a value reads to a person, and its number when it has one.
pub fn describe(v: Value<'_>) -> (Option<u64>, String) {
    match v {
        Value::Uint(x) => (Some(x), x.to_string()),
        Value::Length(x) => (Some(x as u64), x.to_string()),
        Value::Code { value, width, name } => {
            let hex = format!("0x{:0w$x}", value, w = 2 * usize::from(width));
            let d = match name {
                Some(n) => format!("{n} ({hex})"),
                None => format!("unknown ({hex})"),
            };
            (Some(value), d)
        }
        Value::Bytes(b) => (None, hex_preview(b)),
        Value::Text(b) => (None, format!("{:?}", String::from_utf8_lossy(b))),
    }
}

/// Hex of up to 32 bytes, then how many more.
pub fn hex_preview(b: &[u8]) -> String {
    const MAX: usize = 32;
    let mut s: String = b.iter().take(MAX).map(|x| format!("{x:02x}")).collect();
    if b.len() > MAX {
        s.push_str(&format!("… ({} bytes)", b.len()));
    } else if b.is_empty() {
        s.push_str("(empty)");
    }
    s
}
