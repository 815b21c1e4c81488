//! The content of one record: handshake messages (joined across records), alerts,
//! change_cipher_spec, application data, or bytes the dissector shows as encrypted.

use super::state::FlowState;
use super::tree::{Diagnostic, Node, OffsetMap, TreeSink};
use mote_wire::handshake::{parse_handshake, HandshakeMessage};
use mote_wire::{Alert, ContentType, Context, HandshakeType, Path, Reader};

/// What a record's content turned into.
#[derive(Default)]
pub struct ContentOut {
    pub nodes: Vec<Node>,
    pub notes: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: String,
    /// The type of each whole handshake message completed by this record, in order (also
    /// of those that did not decode): key changes follow Finished and KeyUpdate.
    pub handshake_types: Vec<HandshakeType>,
}

/// Handshake bytes waiting for the rest of their message, with where each byte came from.
#[derive(Default)]
pub struct Pending {
    bytes: Vec<u8>,
    /// (offset in `bytes`, offset in the input, length)
    pieces: Vec<(usize, usize, usize)>,
    /// The record in which the oldest pending byte arrived.
    pub first_record: usize,
    /// How many records contributed to the pending bytes.
    records: usize,
}

impl Pending {
    pub fn is_pending(&self) -> bool {
        !self.bytes.is_empty()
    }

    fn push(&mut self, data: &[u8], at: usize, record: usize) {
        if self.bytes.is_empty() {
            self.first_record = record;
            self.records = 0;
        }
        self.pieces.push((self.bytes.len(), at, data.len()));
        self.bytes.extend_from_slice(data);
        self.records += 1;
    }

    /// Length of the first message (4-byte TLS or 12-byte DTLS header plus body) once its
    /// header is complete.
    fn first_len(&self, dtls: bool) -> Option<usize> {
        let h = self.bytes.get(..if dtls { 12 } else { 4 })?;
        let body = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let body = if dtls {
            // A DTLS record carries fragment_length bytes of body.
            (usize::from(h[9]) << 16) | (usize::from(h[10]) << 8) | usize::from(h[11])
        } else {
            body
        };
        Some(h.len() + body)
    }

    /// Takes the first complete message with its offset map and the number of records it
    /// spans.
    fn take(&mut self, dtls: bool) -> Option<(Vec<u8>, OffsetMap, usize)> {
        let n = self.first_len(dtls)?;
        if n > self.bytes.len() {
            return None;
        }
        let msg: Vec<u8> = self.bytes.drain(..n).collect();
        let mut map = OffsetMap::default();
        let mut rest = Vec::new();
        let mut spans = 0;
        for &(m, i, l) in &self.pieces {
            if m + l <= n {
                map.push(m, i, l);
                spans += 1;
            } else if m < n {
                map.push(m, i, n - m);
                spans += 1;
                rest.push((0, i + (n - m), l - (n - m)));
            } else {
                rest.push((m - n, i, l));
            }
        }
        self.pieces = rest;
        if self.bytes.is_empty() {
            self.records = 0;
        }
        Some((msg, map, spans))
    }

    /// The diagnostic for a message that never completed: parsing what is there blames the
    /// length field that promised more.
    pub fn incomplete(&self, ctx: &Context) -> Option<Diagnostic> {
        if self.bytes.is_empty() {
            return None;
        }
        let mut map = OffsetMap::default();
        for &(m, i, l) in &self.pieces {
            map.push(m, i, l);
        }
        let mut path = Path::new();
        path.push("record", Some(self.first_record as u16));
        let mut r = Reader::new(&self.bytes).with_path(path);
        match parse_handshake(&mut r, ctx) {
            Err(e) => Some(Diagnostic::from_error(&e, "", &map)),
            Ok(_) => None,
        }
    }
}

/// Dissects a TLS record's fragment.
#[allow(clippy::too_many_arguments)]
pub fn dissect_tls(
    ct: ContentType,
    fragment: &[u8],
    at: usize,
    record: usize,
    path: &Path,
    from_client: bool,
    pending: &mut Pending,
    st: &mut FlowState,
) -> ContentOut {
    let mut out = ContentOut::default();
    if st.encrypted(from_client, ct) {
        out.nodes.push(encrypted_node(fragment, at));
        out.notes.push(format!(
            "encrypted: {} bytes of ciphertext and tag",
            fragment.len()
        ));
        out.summary = "encrypted".into();
        return out;
    }
    dissect_plain(
        ct,
        fragment,
        at,
        record,
        path,
        from_client,
        pending,
        st,
        false,
    )
}

/// Dissects content that is not (or no longer) encrypted: a plaintext record's fragment, or
/// the content of a TLS 1.3 record that was `decrypted` with a key log.
#[allow(clippy::too_many_arguments)]
pub fn dissect_plain(
    ct: ContentType,
    fragment: &[u8],
    at: usize,
    record: usize,
    path: &Path,
    from_client: bool,
    pending: &mut Pending,
    st: &mut FlowState,
    decrypted: bool,
) -> ContentOut {
    let mut out = ContentOut::default();
    match ct {
        ContentType::HANDSHAKE => {
            pending.push(fragment, at, record);
            let mut names = Vec::new();
            while let Some((msg, map, spans)) = pending.take(false) {
                out.handshake_types.push(HandshakeType(msg[0]));
                let ctx = st.context(from_client);
                let (node, res) = parse_message(&msg, map.clone(), path, &ctx);
                if spans > 1 {
                    out.notes
                        .push(format!("{} reassembled from {spans} records", node.label()));
                }
                match res {
                    Ok(Some(m)) => {
                        names.push(m.0);
                        st.learn(&m.1, from_client);
                    }
                    Ok(None) => {}
                    Err(d) => out.diagnostics.push(d),
                }
                out.nodes.push(node);
            }
            if pending.is_pending() {
                out.notes
                    .push("a handshake message continues in the next record".into());
                names.push("(partial message)".into());
            }
            if fragment.is_empty() {
                // RFC 8446 section 5.1: zero-length handshake fragments are forbidden.
                out.diagnostics.push(Diagnostic::other(
                    at - 2,
                    format!("{}.length", path_str(path)),
                    "a handshake record must not be empty",
                ));
            }
            out.summary = names.join(", ");
        }
        ContentType::ALERT => {
            let mut sink = TreeSink::new(Node::new("", None, at), OffsetMap::identity());
            let res = {
                let mut r = Reader::with_sink(fragment, &mut sink)
                    .with_base(at)
                    .with_path(*path);
                Alert::parse(&mut r).and_then(|a| r.expect_end("alert").map(|_| a))
            };
            out.nodes.extend(sink.finish().children);
            match res {
                Ok(a) => {
                    out.summary =
                        format!("{} {}: {}", a.level, a.description, a.description.meaning())
                }
                Err(e) => {
                    out.diagnostics
                        .push(Diagnostic::from_error(&e, "", &OffsetMap::identity()))
                }
            }
        }
        ContentType::CHANGE_CIPHER_SPEC => {
            let mut sink = TreeSink::new(Node::new("", None, at), OffsetMap::identity());
            let res = {
                let mut r = Reader::with_sink(fragment, &mut sink)
                    .with_base(at)
                    .with_path(*path);
                r.u8("change_cipher_spec")
                    .and_then(|v| r.expect_end("change_cipher_spec").map(|_| v))
            };
            out.nodes.extend(sink.finish().children);
            match res {
                Ok(1) => {}
                Ok(v) => out.diagnostics.push(Diagnostic::other(
                    at,
                    format!("{}.change_cipher_spec", path_str(path)),
                    format!("value {v} is not allowed here (must be 1)"),
                )),
                Err(e) => {
                    out.diagnostics
                        .push(Diagnostic::from_error(&e, "", &OffsetMap::identity()))
                }
            }
            st.change_cipher_spec(from_client);
            out.summary = "change_cipher_spec".into();
        }
        ContentType::APPLICATION_DATA if decrypted => {
            let mut n = Node::new("application_data", None, at);
            n.length = fragment.len();
            let text = printable(fragment);
            n.display = Some(match &text {
                Some(t) => format!("{t:?}"),
                None => super::tree::hex_preview(fragment),
            });
            out.nodes.push(n);
            out.summary = match text {
                Some(t) if t.chars().count() > 64 => format!(
                    "application_data {} bytes {:?}…",
                    fragment.len(),
                    t.chars().take(64).collect::<String>()
                ),
                Some(t) => format!("application_data {} bytes {t:?}", fragment.len()),
                None => format!("application_data {} bytes", fragment.len()),
            };
        }
        _ => {
            let mut n = Node::new(ct.name().unwrap_or("content"), None, at);
            n.length = fragment.len();
            n.display = Some(super::tree::hex_preview(fragment));
            out.nodes.push(n);
            out.summary = "plaintext".into();
        }
    }
    out
}

/// The bytes as text when they are UTF-8 without control characters other than tab, CR
/// and LF (a line of a text protocol, a JSON reading).
fn printable(b: &[u8]) -> Option<&str> {
    let t = std::str::from_utf8(b).ok()?;
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    ok.then_some(t)
}

pub fn path_str(p: &Path) -> String {
    p.to_string()
}

/// A node standing for ciphertext the dissector cannot read.
pub fn encrypted_node(fragment: &[u8], at: usize) -> Node {
    let mut n = Node::new("encrypted_record", None, at);
    n.length = fragment.len();
    n.display = Some(format!("{} bytes (encrypted)", fragment.len()));
    n
}

type Parsed<'a> = (String, HandshakeMessage<'a>);

/// Parses one whole handshake message into a node; `Ok(None)` when it was a DTLS fragment.
pub fn parse_message<'m>(
    msg: &'m [u8],
    map: OffsetMap,
    path: &Path,
    ctx: &Context,
) -> (Node, Result<Option<Parsed<'m>>, Diagnostic>) {
    let start = map.map(0);
    let mut sink = TreeSink::new(Node::new("", None, start), map.clone());
    let res = {
        let mut r = Reader::with_sink(msg, &mut sink).with_path(*path);
        parse_handshake(&mut r, ctx)
    };
    let mut root = sink.finish();
    let node = root
        .children
        .pop()
        .unwrap_or_else(|| Node::new("handshake", None, start));
    let res = match res {
        Ok((h, HandshakeMessage::Fragment(_))) => {
            let _ = h;
            Ok(None)
        }
        Ok((h, m)) => Ok(Some((h.msg_type.to_string(), m))),
        Err(e) => Err(Diagnostic::from_error(&e, "", &map)),
    };
    (node, res)
}
