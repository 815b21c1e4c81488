//! DTLS over datagrams: each datagram holds one or more records; handshake messages may be
//! fragmented across records and datagrams, arrive out of order or repeat (RFC 6347 section
//! 4.2.3, RFC 9147 section 5.5).

use super::content::{encrypted_node, parse_message, ContentOut};
use super::model::{FlowView, RecordView};
use super::state::FlowState;
use super::tree::{hex_preview, Diagnostic, Node, OffsetMap, TreeSink};
use crate::input::Segment;
use mote_wire::handshake::HandshakeHeader;
use mote_wire::record::DtlsRecord;
use mote_wire::{Alert, ContentType, Path, Reader};
use std::collections::HashMap;

/// A handshake message whose fragments are being collected.
struct Partial {
    header: Vec<u8>,
    buf: Vec<u8>,
    /// Which body bytes have arrived.
    covered: Vec<bool>,
    /// Where each fragment's bytes came from: (offset in message body, input offset, len).
    pieces: Vec<(usize, usize, usize)>,
    done: bool,
}

/// Messages larger than this are not reassembled (their length is likely garbage).
const MAX_MESSAGE: usize = 1 << 20;

/// Dissects a datagram flow. Offsets count through each direction's datagrams as if they
/// were laid end to end, so a raw or hex input of one datagram reads from 0.
pub fn dissect(
    segments: &[Segment],
    st: &mut FlowState,
    view: &mut FlowView,
    names: [&'static str; 2],
) {
    let mut partial: HashMap<(bool, u16), Partial> = HashMap::new();
    let mut base = [0usize; 2];
    for seg in segments {
        let d = usize::from(!seg.from_client);
        let at = base[d];
        base[d] += seg.data.len();
        let mut pos = 0;
        while pos < seg.data.len() {
            let index = view.records.len();
            let mut path = Path::new();
            path.push("record", Some(index as u16));
            let mut sink = TreeSink::new(Node::new("", None, at + pos), OffsetMap::identity());
            let (parsed, used) = {
                let mut r = Reader::with_sink(&seg.data[pos..], &mut sink).with_base(at + pos);
                let p = r.node("record", Some(index as u16), |r| {
                    DtlsRecord::parse(r, st.cid_len_for(seg.from_client))
                });
                (p, r.position())
            };
            let mut tree = sink
                .finish()
                .children
                .pop()
                .unwrap_or_else(|| Node::new("record", Some(index as u32), at + pos));
            tree.children
                .retain(|c| c.name != "fragment" && c.name != "encrypted_record");
            let mut rv = RecordView {
                direction: names[d],
                frame: seg.frame,
                summary: String::new(),
                tree,
                diagnostics: Vec::new(),
            };
            let rec = match parsed {
                Ok(rec) => rec,
                Err(e) => {
                    rv.diagnostics
                        .push(Diagnostic::from_error(&e, "", &OffsetMap::identity()));
                    rv.summary = format!(
                        "{} bytes that do not decode as a DTLS record",
                        seg.data.len() - pos
                    );
                    view.records.push(rv);
                    break;
                }
            };
            let frag_at = at + pos + used - record_payload_len(&rec);
            let out = match rec {
                DtlsRecord::Unified(u) => {
                    rv.summary = format!(
                        "DTLS 1.3 ciphertext, epoch bits {}, {} bytes",
                        u.epoch_low_bits(),
                        u.encrypted_record.len()
                    );
                    ContentOut {
                        nodes: vec![encrypted_node(u.encrypted_record, frag_at)],
                        notes: vec!["encrypted (DTLS 1.3 unified header)".into()],
                        ..Default::default()
                    }
                }
                DtlsRecord::Plaintext(p)
                    if p.epoch > 0 || p.content_type == ContentType::TLS12_CID =>
                {
                    rv.summary = format!(
                        "{} {} epoch {} seq {}, {} bytes encrypted",
                        p.content_type,
                        p.version,
                        p.epoch,
                        p.sequence_number,
                        p.fragment.len()
                    );
                    ContentOut {
                        nodes: vec![encrypted_node(p.fragment, frag_at)],
                        notes: vec![format!("encrypted: epoch {}", p.epoch)],
                        ..Default::default()
                    }
                }
                DtlsRecord::Plaintext(p) => {
                    let out = plaintext(
                        p.content_type,
                        p.fragment,
                        frag_at,
                        index,
                        &path,
                        seg.from_client,
                        &mut partial,
                        st,
                    );
                    rv.summary = format!(
                        "{} {} epoch {} seq {}{}",
                        p.content_type,
                        p.version,
                        p.epoch,
                        p.sequence_number,
                        if out.summary.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", out.summary)
                        }
                    );
                    out
                }
            };
            rv.tree.children.extend(out.nodes);
            rv.tree.notes.extend(out.notes);
            rv.diagnostics.extend(out.diagnostics);
            view.records.push(rv);
            pos += used.max(1);
        }
    }
    for ((from_client, seq), p) in partial {
        if !p.done {
            let have: usize = p.pieces.iter().map(|x| x.2).sum();
            view.diagnostics.push(Diagnostic::other(
                p.pieces.first().map(|x| x.1).unwrap_or(0),
                "handshake",
                format!(
                    "message_seq {seq} from the {} never completed: {have} of {} body bytes arrived",
                    if from_client { "client" } else { "server" },
                    p.buf.len()
                ),
            ));
        }
    }
}

fn record_payload_len(rec: &DtlsRecord<'_>) -> usize {
    match rec {
        DtlsRecord::Plaintext(p) => p.fragment.len(),
        DtlsRecord::Unified(u) => u.encrypted_record.len(),
    }
}

#[allow(clippy::too_many_arguments)]
fn plaintext(
    ct: ContentType,
    fragment: &[u8],
    at: usize,
    record: usize,
    path: &Path,
    from_client: bool,
    partial: &mut HashMap<(bool, u16), Partial>,
    st: &mut FlowState,
) -> ContentOut {
    let mut out = ContentOut::default();
    match ct {
        ContentType::HANDSHAKE => {
            let mut pos = 0;
            let mut names = Vec::new();
            while pos < fragment.len() {
                let rest = &fragment[pos..];
                // Frame one message (or fragment) by its 12-byte header.
                let len = if rest.len() >= 12 {
                    12 + ((usize::from(rest[9]) << 16)
                        | (usize::from(rest[10]) << 8)
                        | usize::from(rest[11]))
                } else {
                    rest.len()
                };
                let msg = &rest[..len.min(rest.len())];
                let mut map = OffsetMap::default();
                map.push(0, at + pos, msg.len());
                let ctx = st.context(from_client);
                let (node, res) = parse_message(msg, map, path, &ctx);
                out.nodes.push(node);
                match res {
                    Ok(Some((name, m))) => {
                        names.push(name);
                        st.learn(&m, from_client);
                    }
                    Ok(None) => {
                        // A fragment: collect it; parse the message once whole.
                        if let Some(done) = collect(msg, at + pos, from_client, partial) {
                            let (node, res) = parse_message(&done.0, done.1, path, &ctx);
                            out.notes
                                .push(format!("{} reassembled from fragments", node.label()));
                            out.nodes.push(node);
                            match res {
                                Ok(Some((name, m))) => {
                                    names.push(name);
                                    st.learn(&m, from_client);
                                }
                                Ok(None) => {}
                                Err(d) => out.diagnostics.push(d),
                            }
                        } else {
                            names.push("(fragment)".into());
                        }
                    }
                    Err(d) => {
                        out.diagnostics.push(d);
                        break;
                    }
                }
                pos += len;
            }
            let _ = record;
            out.summary = names.join(", ");
        }
        ContentType::ALERT | ContentType::CHANGE_CIPHER_SPEC | ContentType::ACK => {
            let mut sink = TreeSink::new(Node::new("", None, at), OffsetMap::identity());
            let res = {
                let mut r = Reader::with_sink(fragment, &mut sink)
                    .with_base(at)
                    .with_path(*path);
                let res = match ct {
                    ContentType::ALERT => Alert::parse(&mut r).map(|a| {
                        format!("{} {}: {}", a.level, a.description, a.description.meaning())
                    }),
                    ContentType::ACK => r
                        .node("ack", None, |r| mote_wire::ack::Ack::parse(r))
                        .map(|a| format!("ack of {} records", a.record_numbers.len())),
                    _ => r
                        .u8("change_cipher_spec")
                        .map(|_| "change_cipher_spec".to_string()),
                };
                res.and_then(|s| r.expect_end("").map(|_| s))
            };
            out.nodes.extend(sink.finish().children);
            match res {
                Ok(s) => out.summary = s,
                Err(e) => {
                    out.diagnostics
                        .push(Diagnostic::from_error(&e, "", &OffsetMap::identity()))
                }
            }
        }
        _ => {
            let mut n = Node::new(ct.name().unwrap_or("content"), None, at);
            n.length = fragment.len();
            n.display = Some(hex_preview(fragment));
            out.nodes.push(n);
        }
    }
    out
}

/// Adds a fragment; returns the whole message (12-byte header with fragment fields set as
/// for an unfragmented message, then the body) and its offset map once complete.
fn collect(
    frag: &[u8],
    at: usize,
    from_client: bool,
    partial: &mut HashMap<(bool, u16), Partial>,
) -> Option<(Vec<u8>, OffsetMap)> {
    let mut r = Reader::new(frag);
    let h = HandshakeHeader::parse(&mut r, &mote_wire::Context::DTLS12).ok()?;
    let info = h.dtls?;
    let total = h.length as usize;
    if total > MAX_MESSAGE {
        return None;
    }
    let body = r.peek_rest();
    let p = partial
        .entry((from_client, info.message_seq))
        .or_insert_with(|| {
            let mut header = frag[..12].to_vec();
            // The reassembled message reads as one fragment covering the whole body.
            header[6..9].copy_from_slice(&[0, 0, 0]);
            header[9..12].copy_from_slice(&frag[1..4]);
            Partial {
                header,
                buf: vec![0; total],
                covered: vec![false; total],
                pieces: Vec::new(),
                done: false,
            }
        });
    let off = info.fragment_offset as usize;
    if p.done || p.buf.len() != total || off + body.len() > total {
        return None;
    }
    p.buf[off..off + body.len()].copy_from_slice(body);
    p.covered[off..off + body.len()]
        .iter_mut()
        .for_each(|c| *c = true);
    p.pieces.push((off, at + 12, body.len()));
    if p.covered.iter().any(|c| !c) {
        return None;
    }
    p.done = true;
    let mut msg = p.header.clone();
    msg.extend_from_slice(&p.buf);
    let mut map = OffsetMap::default();
    map.push(0, at, 12);
    let mut pieces = p.pieces.clone();
    pieces.sort();
    for (o, i, l) in pieces {
        map.push(12 + o, i, l);
    }
    Some((msg, map))
}
