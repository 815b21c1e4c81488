//! `mote dissect`: explains TLS and DTLS bytes field by field, following each flow's
//! handshake, and says exactly where and why bytes fail to decode.

mod content;
mod datagram;
mod decrypt;
mod facts;
pub mod model;
pub mod render;
mod state;
mod stream;
pub mod tree;

use crate::input::{Flow, Loaded, Transport};
use crate::keylog::KeyLog;
use model::{FlowView, RecordView, Report};
use state::FlowState;
use tree::{Diagnostic, Node};

/// How to dissect: how to read bytes that come without a transport (a hex dump or a raw
/// file), and the secrets to decrypt with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'k> {
    /// Treat the input as DTLS datagrams even when it does not look like DTLS.
    pub dtls: bool,
    /// A key log (`--keylog`): TLS 1.3 records of the connections it names are decrypted.
    pub keylog: Option<&'k KeyLog>,
}

/// Dissects every flow of a loaded input.
pub fn dissect(loaded: &Loaded, opts: &Options<'_>) -> Report {
    let flows: Vec<FlowView> = loaded.flows.iter().map(|f| dissect_flow(f, opts)).collect();
    let mut diagnostics = Vec::new();
    let bytes: usize = loaded
        .flows
        .iter()
        .flat_map(|f| &f.segments)
        .map(|s| s.data.len())
        .sum();
    if bytes == 0 {
        // Saying nothing and exiting 0 would read as "all is well".
        diagnostics.push(Diagnostic::other(
            0,
            "input",
            "nothing to dissect: no TCP or UDP payload (or no bytes at all) in the input",
        ));
    }
    Report {
        input_format: format_name(loaded),
        flows,
        diagnostics,
    }
}

fn format_name(l: &Loaded) -> &'static str {
    use crate::input::Format;
    match l.format {
        Format::Auto => "auto",
        Format::Pcap => "pcap",
        Format::Pcapng => "pcapng",
        Format::Hex => "hex",
        Format::Raw => "raw",
    }
}

/// What the first bytes of a buffer without transport look like.
enum Shape {
    TlsRecords,
    DtlsRecords,
    /// A handshake message without a record header, as someone building a ClientHello by
    /// hand might paste it.
    BareHandshake,
}

fn shape(b: &[u8], opts: &Options<'_>) -> Shape {
    if opts.dtls {
        return Shape::DtlsRecords;
    }
    match b {
        // Content types 20..=26 with a DTLS version (0xfeXX), or a DTLS 1.3 unified header.
        [20..=26, 0xfe, ..] => Shape::DtlsRecords,
        [f, ..] if mote_wire::record::is_unified_header(*f) => Shape::DtlsRecords,
        [20..=26, ..] => Shape::TlsRecords,
        [t, ..] if mote_wire::HandshakeType(*t).name().is_some() => Shape::BareHandshake,
        _ => Shape::TlsRecords,
    }
}

fn dissect_flow(flow: &Flow, opts: &Options<'_>) -> FlowView {
    let mut view = FlowView {
        index: flow.index,
        transport: match flow.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Unknown => "none",
        },
        client: flow.client.map(|a| a.to_string()),
        server: flow.server.map(|a| a.to_string()),
        negotiated: Default::default(),
        records: Vec::new(),
        notes: flow.notes.clone(),
        diagnostics: Vec::new(),
    };
    let names = match flow.transport {
        Transport::Unknown => ["input", "input"],
        _ => ["client->server", "server->client"],
    };
    let first = flow.segments.first().map(|s| &s.data[..]).unwrap_or(&[]);
    let dtls = match flow.transport {
        Transport::Udp => true,
        Transport::Tcp => false,
        Transport::Unknown => matches!(shape(first, opts), Shape::DtlsRecords),
    };
    let mut st = FlowState::new(dtls);
    let mut dec = decrypt::Decryptor::new(opts.keylog);
    match (flow.transport, shape(first, opts)) {
        (Transport::Unknown, Shape::BareHandshake) => bare_handshake(first, &mut st, &mut view),
        _ if dtls => datagram::dissect(&flow.segments, &mut st, &mut view, names),
        _ => stream::dissect(&flow.segments, &mut st, &mut view, names, &mut dec),
    }
    view.negotiated = st.negotiated.clone();
    if dec.active() {
        let encrypted_shown = view
            .records
            .iter()
            .any(|r| r.tree.children.iter().any(|c| c.name == "encrypted_record"));
        if dtls && encrypted_shown {
            view.notes.push(
                "DTLS records are not decrypted: --keylog supports TLS 1.3 over TCP only; \
                 they are shown encrypted"
                    .into(),
            );
        }
        view.notes.append(&mut dec.notes);
        if dec.encrypted > 0 {
            view.notes.push(format!(
                "key log: {} of {} encrypted records decrypted",
                dec.decrypted, dec.encrypted
            ));
        }
    }
    view
}

/// Handshake messages without record headers.
fn bare_handshake(bytes: &[u8], st: &mut FlowState, view: &mut FlowView) {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let hdr = if st.dtls { 12 } else { 4 };
        let body = match rest {
            [_, a, b, c, ..] => (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c),
            _ => 0,
        };
        let len = (hdr + body).min(rest.len());
        let mut map = tree::OffsetMap::default();
        map.push(0, pos, len);
        let ctx = st.context(true);
        let (node, res) = content::parse_message(&rest[..len], map, &mote_wire::Path::new(), &ctx);
        let mut rv = RecordView {
            direction: "input",
            frame: 0,
            summary: String::new(),
            tree: Node::new("message", Some(view.records.len() as u32), pos),
            diagnostics: Vec::<Diagnostic>::new(),
        };
        rv.tree.length = len;
        rv.tree
            .notes
            .push("a handshake message without a record header".into());
        match res {
            Ok(Some((name, m))) => {
                rv.summary = format!("{name} (no record header)");
                st.learn(&m, true);
            }
            Ok(None) => rv.summary = "handshake fragment (no record header)".into(),
            Err(d) => {
                rv.summary = "handshake message that does not decode".into();
                rv.diagnostics.push(d);
            }
        }
        rv.tree.children.push(node);
        view.records.push(rv);
        pos += len.max(1);
    }
}
