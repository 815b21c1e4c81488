//! Capture files (pcap and pcapng, read with `pcap-parser`) and the flow table that sorts their
//! frames into TCP connections and UDP conversations.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};

use pcap_parser::pcapng::Block;
use pcap_parser::{nom, PcapError};

use super::net::{self, Decoded};
use super::tcp::{self, TcpPacket};
use super::{Flow, InputError, Segment, Transport};

/// The largest frame a sane capture holds (Wireshark's limit for most link types); a record
/// claiming more is garbage, not a file that was cut short.
const MAX_FRAME: u32 = 262_144;

/// A pcapng block claiming more than this is garbage rather than truncated.
const MAX_BLOCK: u32 = 64 << 20;

pub(super) fn load_pcap(bytes: &[u8]) -> Result<Vec<Flow>, InputError> {
    let (mut rest, header) = pcap_parser::parse_pcap_header(bytes).map_err(|e| {
        let hint = if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
            " (this is a pcapng file)"
        } else {
            ""
        };
        capture_error(0, &format!("not a pcap file{hint}"), &e)
    })?;
    let linktype = header.network.0;
    let big_endian = header.is_bigendian();
    let parse = if header.is_modified_format() {
        pcap_parser::parse_pcap_frame_modified
    } else if big_endian {
        pcap_parser::parse_pcap_frame_be
    } else {
        pcap_parser::parse_pcap_frame
    };
    let max_frame = header.snaplen.max(MAX_FRAME);
    let mut table = FlowTable::default();
    while !rest.is_empty() {
        let offset = offset_in(bytes, rest);
        let frame = table.frames + 1;
        // pcap-parser reports a record longer than the file as incomplete, which is also
        // how garbage looks: tell them apart by the claimed length.
        let caplen = rest.get(8..12).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        });
        if let Some(caplen) = caplen.filter(|&c| c > max_frame) {
            return Err(InputError::Capture {
                offset,
                message: format!(
                    "frame {frame} claims {caplen} captured bytes, more than the snapshot \
                     length allows: the file is damaged"
                ),
            });
        }
        match parse(rest) {
            Ok((after, record)) => {
                table.add(linktype, record.data, record.origlen);
                rest = after;
            }
            Err(nom::Err::Incomplete(_)) => {
                table.cut_short(offset)?;
                break;
            }
            Err(e) => return Err(capture_error(offset, &format!("frame {frame}"), &e)),
        }
    }
    table.finish()
}

pub(super) fn load_pcapng(bytes: &[u8]) -> Result<Vec<Flow>, InputError> {
    if !bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return Err(InputError::Unsupported(
            "not a pcapng file: it does not start with a section header block".into(),
        ));
    }
    let mut rest = bytes;
    let mut big_endian = false;
    // Link type and snapshot length of each interface of the current section.
    let mut interfaces: Vec<(i32, u32)> = Vec::new();
    let mut table = FlowTable::default();
    while !rest.is_empty() {
        let offset = offset_in(bytes, rest);
        let frame = table.frames + 1;
        let claimed = rest.get(4..8).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            let (le, be) = (u32::from_le_bytes(b), u32::from_be_bytes(b));
            // A section header fixes its own byte order; other blocks follow the section's.
            if rest.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
                le.min(be)
            } else if big_endian {
                be
            } else {
                le
            }
        });
        if let Some(len) = claimed.filter(|&l| !(12..=MAX_BLOCK).contains(&l) || l & 3 != 0) {
            return Err(InputError::Capture {
                offset,
                message: format!("a block claims a length of {len} bytes: the file is damaged"),
            });
        }
        let parsed = if big_endian {
            pcap_parser::parse_block_be(rest)
        } else {
            pcap_parser::parse_block_le(rest)
        };
        let block = match parsed {
            Ok((after, block)) => {
                rest = after;
                block
            }
            Err(nom::Err::Incomplete(_)) => {
                table.cut_short(offset)?;
                break;
            }
            Err(e) => return Err(capture_error(offset, "block", &e)),
        };
        let interface = |id: usize| {
            interfaces
                .get(id)
                .copied()
                .ok_or_else(|| InputError::Capture {
                    offset,
                    message: format!(
                        "frame {frame} names interface {id}, which no interface description \
                     block defined"
                    ),
                })
        };
        match block {
            Block::SectionHeader(shb) => {
                big_endian = shb.big_endian();
                interfaces.clear();
            }
            Block::InterfaceDescription(idb) => interfaces.push((idb.linktype.0, idb.snaplen)),
            Block::EnhancedPacket(epb) => {
                let (linktype, _) = interface(epb.if_id as usize)?;
                // The block's data includes padding up to a 4-byte boundary.
                let data = epb.data;
                table.add(
                    linktype,
                    &data[..(epb.caplen as usize).min(data.len())],
                    epb.origlen,
                );
            }
            Block::SimplePacket(spb) => {
                // A simple packet block belongs to interface 0 and holds min(original length,
                // snapshot length) bytes, followed by padding.
                let (linktype, snaplen) = interface(0)?;
                let mut len = (spb.origlen as usize).min(spb.data.len());
                if snaplen > 0 {
                    len = len.min(snaplen as usize);
                }
                table.add(linktype, &spb.data[..len], spb.origlen);
            }
            Block::Unknown(ub) if ub.block_type == if big_endian { 0x0200_0000 } else { 2 } => {
                // The obsolete packet block: interface (2), drops (2), timestamp (8),
                // captured length (4), original length (4), data.
                let field = |at: usize| -> Option<u32> {
                    let b: [u8; 4] = ub.data.get(at..at + 4)?.try_into().ok()?;
                    Some(if big_endian {
                        u32::from_be_bytes(b)
                    } else {
                        u32::from_le_bytes(b)
                    })
                };
                let head = ub.data.get(..2).map(|b| [b[0], b[1]]);
                let if_id = head.map(|b| {
                    if big_endian {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    }
                });
                let (Some(if_id), Some(caplen), Some(origlen)) = (if_id, field(12), field(16))
                else {
                    return Err(InputError::Capture {
                        offset,
                        message: format!("frame {frame}: packet block too short"),
                    });
                };
                let (linktype, _) = interface(usize::from(if_id))?;
                let data = ub.data.get(20..).unwrap_or(&[]);
                let data = &data[..(caplen as usize).min(data.len())];
                table.add(linktype, data, origlen);
            }
            _ => {}
        }
    }
    table.finish()
}

fn offset_in(whole: &[u8], rest: &[u8]) -> u64 {
    (whole.len() - rest.len()) as u64
}

/// Describes a pcap-parser error without dumping the input bytes it carries.
fn capture_error(offset: u64, what: &str, e: &nom::Err<PcapError<&[u8]>>) -> InputError {
    let why = match e {
        nom::Err::Incomplete(_) => "the file ends too early".to_string(),
        nom::Err::Error(pe) | nom::Err::Failure(pe) => match pe {
            PcapError::HeaderNotRecognized => "header not recognised".to_string(),
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                format!("malformed ({})", kind.description())
            }
            other => other.to_string(),
        },
    };
    InputError::Capture {
        offset,
        message: format!("{what}: {why}"),
    }
}

/// One flow being collected: everything about it in capture order.
struct FlowEntry<'a> {
    transport: Transport,
    /// The first sender, and its peer.
    a: SocketAddr,
    b: SocketAddr,
    tcp: Vec<TcpPacket<'a>>,
    /// UDP datagrams: frame, sent by `a`, payload.
    udp: Vec<(u64, bool, &'a [u8])>,
    /// Frames cut short by the snapshot length: frame, captured, original.
    truncated: Vec<(u64, usize, u32)>,
    fragments: Vec<u64>,
    notes: Vec<String>,
}

#[derive(Default)]
struct FlowTable<'a> {
    frames: u64,
    flows: Vec<FlowEntry<'a>>,
    by_key: HashMap<(Transport, SocketAddr, SocketAddr), usize>,
    /// IP fragments (frame, source, destination): skipped, attributed to flows at the end.
    fragments: Vec<(u64, IpAddr, IpAddr)>,
    unsupported: BTreeSet<i32>,
    cut_short: Option<u64>,
}

impl<'a> FlowTable<'a> {
    fn entry(&mut self, transport: Transport, src: SocketAddr, dst: SocketAddr) -> usize {
        let key = (transport, src.min(dst), src.max(dst));
        let next = self.flows.len();
        let index = *self.by_key.entry(key).or_insert(next);
        if index == next {
            self.flows.push(FlowEntry {
                transport,
                a: src,
                b: dst,
                tcp: Vec::new(),
                udp: Vec::new(),
                truncated: Vec::new(),
                fragments: Vec::new(),
                notes: Vec::new(),
            });
        }
        index
    }

    fn add(&mut self, linktype: i32, data: &'a [u8], origlen: u32) {
        self.frames += 1;
        let frame = self.frames;
        if !net::link_supported(linktype) {
            self.unsupported.insert(linktype);
            return;
        }
        let index = match net::decode(linktype, data) {
            Decoded::Tcp {
                src,
                dst,
                seq,
                ack,
                flags,
                payload,
            } => {
                let index = self.entry(Transport::Tcp, src, dst);
                let flow = &mut self.flows[index];
                flow.tcp.push(TcpPacket {
                    frame,
                    from_a: src == flow.a,
                    seq,
                    ack,
                    flags,
                    payload,
                });
                index
            }
            Decoded::Udp { src, dst, payload } => {
                let index = self.entry(Transport::Udp, src, dst);
                let flow = &mut self.flows[index];
                flow.udp.push((frame, src == flow.a, payload));
                index
            }
            Decoded::Fragment { src, dst } => {
                self.fragments.push((frame, src, dst));
                return;
            }
            Decoded::Other => return,
        };
        if (data.len() as u64) < u64::from(origlen) {
            self.flows[index]
                .truncated
                .push((frame, data.len(), origlen));
        }
    }

    /// The file ends inside a record: keep what was read, unless that is nothing at all.
    fn cut_short(&mut self, offset: u64) -> Result<(), InputError> {
        if self.frames == 0 {
            return Err(InputError::Capture {
                offset,
                message: "the file ends inside its first record".into(),
            });
        }
        self.cut_short = Some(offset);
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Flow>, InputError> {
        let mut fragments: HashMap<(IpAddr, IpAddr), Vec<u64>> = HashMap::new();
        for &(frame, src, dst) in &self.fragments {
            fragments
                .entry((src.min(dst), src.max(dst)))
                .or_default()
                .push(frame);
        }
        for flow in &mut self.flows {
            let (x, y) = (flow.a.ip(), flow.b.ip());
            if let Some(frames) = fragments.get(&(x.min(y), x.max(y))) {
                flow.fragments.clone_from(frames);
            }
        }
        let mut flows = Vec::new();
        for entry in self.flows {
            let mut flow = build(entry);
            if flow.segments.is_empty() {
                continue;
            }
            if let Some(offset) = self.cut_short {
                flow.notes.push(format!(
                    "the capture file is cut short at byte offset {offset}, inside frame {}; \
                     later frames are missing",
                    self.frames + 1
                ));
            }
            flow.index = flows.len();
            flows.push(flow);
        }
        if flows.is_empty() && !self.unsupported.is_empty() {
            let types: Vec<String> = self.unsupported.iter().map(i32::to_string).collect();
            return Err(InputError::Unsupported(format!(
                "unsupported link type {} (supported: Ethernet, Linux cooked SLL and SLL2, \
                 BSD and OpenBSD loopback, raw IPv4/IPv6)",
                types.join(", ")
            )));
        }
        Ok(flows)
    }
}

fn build(entry: FlowEntry) -> Flow {
    let (client_is_a, segments, mut notes) = match entry.transport {
        Transport::Tcp => {
            let done = tcp::assemble(entry.a, entry.b, &entry.tcp);
            (done.client_is_a, done.segments, done.notes)
        }
        _ => {
            // The first sender of a UDP conversation is taken as its client.
            let segments = entry
                .udp
                .iter()
                .filter(|(_, _, payload)| !payload.is_empty())
                .map(|&(frame, from_a, payload)| Segment {
                    frame,
                    from_client: from_a,
                    data: payload.to_vec(),
                })
                .collect();
            (true, segments, Vec::new())
        }
    };
    let (client, server) = if client_is_a {
        (entry.a, entry.b)
    } else {
        (entry.b, entry.a)
    };
    let mut head = entry.notes;
    if let [(frame, got, of)] = entry.truncated[..] {
        head.push(format!(
            "frame {frame} was truncated by the capture ({got} of {of} bytes captured); its \
             payload is incomplete"
        ));
    } else if !entry.truncated.is_empty() {
        head.push(format!(
            "{} frames were truncated by the capture (frames {}); their payloads are incomplete",
            entry.truncated.len(),
            frame_list(entry.truncated.iter().map(|t| t.0))
        ));
    }
    if !entry.fragments.is_empty() {
        head.push(format!(
            "{} IP fragment(s) between these hosts were skipped (frames {}): fragmented \
             datagrams are not reassembled",
            entry.fragments.len(),
            frame_list(entry.fragments.iter().copied())
        ));
    }
    head.append(&mut notes);
    Flow {
        index: 0,
        transport: entry.transport,
        client: Some(client),
        server: Some(server),
        segments,
        notes: head,
    }
}

/// "3, 5, 9" or "3, 5, 9, 12, 20 and 4 more".
fn frame_list(frames: impl Iterator<Item = u64>) -> String {
    let frames: Vec<u64> = frames.collect();
    let shown: Vec<String> = frames.iter().take(5).map(u64::to_string).collect();
    let mut text = shown.join(", ");
    if frames.len() > 5 {
        text.push_str(&format!(" and {} more", frames.len() - 5));
    }
    text
}
