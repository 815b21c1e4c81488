//! TLS over a byte stream: records framed from each direction's reassembled bytes, handshake
//! messages joined across records, and the handshake followed so that what later records
//! depend on is known.

use super::content;
use super::decrypt::{self, Decryptor, Opened};
use super::model::{FlowView, RecordView};
use super::state::FlowState;
use super::tree::{Diagnostic, Node, OffsetMap, TreeSink};
use crate::input::Segment;
use mote_wire::record::{TlsRecord, TLS_HEADER_LEN};
use mote_wire::{ContentType, DecodeErrorKind, Path, Reader};

/// One direction of a stream.
#[derive(Default)]
struct Dir {
    /// Bytes not yet framed into records.
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    at: usize,
    /// Handshake bytes of a message that continues in a later record.
    hs: content::Pending,
    /// Set once the stream stops being TLS: the rest cannot be framed.
    dead: bool,
}

/// Dissects a stream flow's segments.
pub fn dissect(
    segments: &[Segment],
    st: &mut FlowState,
    view: &mut FlowView,
    direction_names: [&'static str; 2],
    dec: &mut Decryptor<'_>,
) {
    let mut dirs: [Dir; 2] = Default::default();
    for seg in segments {
        let d = if seg.from_client { 0 } else { 1 };
        let dir = &mut dirs[d];
        if dir.dead {
            continue;
        }
        dir.buf.extend_from_slice(&seg.data);
        while let Some(rec) = frame_one(dir, view, seg, st, direction_names[d], dec) {
            view.records.push(rec);
        }
    }
    // Whatever is left ends mid-record or mid-message.
    for (d, dir) in dirs.iter_mut().enumerate() {
        let from_client = d == 0;
        if !dir.buf.is_empty() && !dir.dead {
            let index = view.records.len();
            let mut path = Path::new();
            path.push("record", Some(index as u16));
            let mut r = Reader::new(&dir.buf).with_base(dir.at).with_path(path);
            if let Err(e) = TlsRecord::parse(&mut r) {
                view.diagnostics
                    .push(Diagnostic::from_error(&e, "", &OffsetMap::identity()));
            }
        }
        if let Some(diag) = dir.hs.incomplete(&st.context(from_client)) {
            attach(view, dir.hs.first_record, diag);
        }
    }
}

/// Puts a diagnostic under the record it concerns, or the flow when that record is gone.
fn attach(view: &mut FlowView, record: usize, diag: Diagnostic) {
    match view.records.get_mut(record) {
        Some(r) => r.diagnostics.push(diag),
        None => view.diagnostics.push(diag),
    }
}

/// Frames and dissects one record from `dir.buf` if a whole one is there.
fn frame_one(
    dir: &mut Dir,
    view: &mut FlowView,
    seg: &Segment,
    st: &mut FlowState,
    direction: &'static str,
    dec: &mut Decryptor<'_>,
) -> Option<RecordView> {
    if dir.buf.len() < TLS_HEADER_LEN {
        return None;
    }
    let declared = usize::from(u16::from_be_bytes([dir.buf[3], dir.buf[4]]));
    let index = view.records.len();
    let from_client = direction == "client->server" || direction == "input";
    let ct = ContentType(dir.buf[0]);
    // A byte that is no content type means this is not (or no longer) TLS: say so once and
    // stop framing this direction, rather than printing garbage records.
    if ct.name().is_none() || dir.buf[1] != 0x03 && dir.buf[1] != 0x02 {
        let mut path = Path::new();
        path.push("record", Some(index as u16));
        let r = Reader::new(&dir.buf).with_base(dir.at).with_path(path);
        let what = if ct.name().is_none() {
            "content_type"
        } else {
            "version"
        };
        let value = if ct.name().is_none() {
            u64::from(dir.buf[0])
        } else {
            u64::from(u16::from_be_bytes([dir.buf[1], dir.buf[2]]))
        };
        let e = r.error_at(
            dir.at + if what == "content_type" { 0 } else { 1 },
            what,
            DecodeErrorKind::IllegalValue { value },
        );
        let mut d = Diagnostic::from_error(&e, "", &OffsetMap::identity());
        d.message = format!(
            "{}: not a TLS record; the rest of this direction ({} bytes) is not decoded",
            d.message,
            dir.buf.len()
        );
        view.diagnostics.push(d);
        dir.dead = true;
        return None;
    }
    if dir.buf.len() < TLS_HEADER_LEN + declared && declared <= mote_wire::record::MAX_FRAGMENT_LEN
    {
        return None;
    }
    let total = (TLS_HEADER_LEN + declared).min(dir.buf.len());
    let bytes: Vec<u8> = dir.buf.drain(..total).collect();
    let at = dir.at;
    dir.at += total;
    Some(dissect_record(
        &bytes,
        at,
        index,
        seg.frame,
        direction,
        from_client,
        dir,
        st,
        dec,
    ))
}

#[allow(clippy::too_many_arguments)]
fn dissect_record(
    bytes: &[u8],
    at: usize,
    index: usize,
    frame: u64,
    direction: &'static str,
    from_client: bool,
    dir: &mut Dir,
    st: &mut FlowState,
    dec: &mut Decryptor<'_>,
) -> RecordView {
    let mut diagnostics = Vec::new();
    let mut sink = TreeSink::new(Node::new("", None, at), OffsetMap::identity());
    let parsed = {
        let mut r = Reader::with_sink(bytes, &mut sink).with_base(at);
        r.node("record", Some(index as u16), |r| TlsRecord::parse(r))
    };
    let mut root = sink.finish();
    let mut tree = root
        .children
        .pop()
        .unwrap_or_else(|| Node::new("record", Some(index as u32), at));
    // The fragment is described by its content below, not as one opaque blob.
    tree.children.retain(|c| c.name != "fragment");
    let summary;
    match parsed {
        Err(e) => {
            // A header that does not decode (a length beyond any version's maximum) leaves
            // no way to find the next record: stop framing this direction.
            dir.dead = true;
            diagnostics.push(Diagnostic::from_error(&e, "", &OffsetMap::identity()));
            summary = format!("record of {} bytes that does not decode", bytes.len());
        }
        Ok(rec) => {
            let frag_at = at + TLS_HEADER_LEN;
            let mut path = Path::new();
            path.push("record", Some(index as u16));
            let opened = if st.encrypted(from_client, rec.content_type) {
                let r = decrypt::Record {
                    bytes,
                    index,
                    at: frag_at,
                    from_client,
                };
                dec.open(st, &r)
            } else {
                Opened::Skipped(None)
            };
            // What the record holds: the inner content type once decrypted.
            let holds = match &opened {
                Opened::Plain(p) => p.inner,
                _ => rec.content_type,
            };
            if holds != ContentType::HANDSHAKE && dir.hs.is_pending() {
                // RFC 8446 section 5.1: handshake messages must not be interleaved with other
                // record types; the pending message can never complete. (After a record that
                // fails to decrypt, its diagnostic says it all.)
                if let (Some(d), false) = (
                    dir.hs.incomplete(&st.context(from_client)),
                    matches!(opened, Opened::Failed(_)),
                ) {
                    diagnostics.push(d);
                }
                dir.hs = content::Pending::default();
            }
            let mut decrypted = false;
            let mut key_note = None;
            let c = match opened {
                Opened::Plain(p) => {
                    decrypted = true;
                    let (node, c) = decrypt::dissect_opened(
                        &p,
                        rec.fragment.len(),
                        frag_at,
                        index,
                        &path,
                        from_client,
                        &mut dir.hs,
                        st,
                    );
                    tree.children.push(node);
                    if let Some(note) = dec.after(from_client, &c.handshake_types) {
                        if dir.hs.is_pending() {
                            // RFC 8446 section 5.1: a message must not span a key change.
                            diagnostics.push(Diagnostic {
                                alert: "unexpected_message".into(),
                                ..Diagnostic::other(
                                    frag_at,
                                    format!("record[{index}]"),
                                    "a handshake message continues past a key change",
                                )
                            });
                            dir.hs = content::Pending::default();
                        }
                        key_note = Some(note);
                    }
                    c
                }
                other => {
                    let c = content::dissect_tls(
                        rec.content_type,
                        rec.fragment,
                        frag_at,
                        index,
                        &path,
                        from_client,
                        &mut dir.hs,
                        st,
                    );
                    match other {
                        Opened::Skipped(Some(note)) => tree.notes.push(note),
                        Opened::Failed(d) => diagnostics.push(d),
                        _ => {}
                    }
                    c
                }
            };
            tree.children.extend(c.nodes);
            tree.notes.extend(c.notes);
            tree.notes.extend(key_note);
            diagnostics.extend(c.diagnostics);
            summary = format!(
                "{} {} {} bytes{}{}",
                rec.content_type,
                rec.version,
                rec.fragment.len(),
                if c.summary.is_empty() {
                    String::new()
                } else {
                    format!(": {}", c.summary)
                },
                if decrypted { " (decrypted)" } else { "" }
            );
        }
    }
    RecordView {
        direction,
        frame,
        summary,
        tree,
        diagnostics,
    }
}
