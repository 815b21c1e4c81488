//! TLS over a byte stream: records framed from each direction's reassembled bytes, handshake
//! messages joined across records, and the handshake followed so that what later records
//! depend on is known.

use super::content;
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
) {
    let mut dirs: [Dir; 2] = Default::default();
    for seg in segments {
        let d = if seg.from_client { 0 } else { 1 };
        let dir = &mut dirs[d];
        if dir.dead {
            continue;
        }
        dir.buf.extend_from_slice(&seg.data);
        while let Some(rec) = frame_one(dir, view, seg, st, direction_names[d]) {
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
            if rec.content_type != ContentType::HANDSHAKE && dir.hs.is_pending() {
                // RFC 8446 section 5.1: handshake messages must not be interleaved with other
                // record types; the pending message can never complete.
                if let Some(d) = dir.hs.incomplete(&st.context(from_client)) {
                    diagnostics.push(d);
                }
                dir.hs = content::Pending::default();
            }
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
            tree.children.extend(c.nodes);
            tree.notes.extend(c.notes);
            diagnostics.extend(c.diagnostics);
            summary = format!(
                "{} {} {} bytes{}",
                rec.content_type,
                rec.version,
                rec.fragment.len(),
                if c.summary.is_empty() {
                    String::new()
                } else {
                    format!(": {}", c.summary)
                }
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
