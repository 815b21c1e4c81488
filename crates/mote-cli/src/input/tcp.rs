//! TCP reassembly: turns one connection's packets, in capture order, into the byte streams of
//! both directions, interleaved in the order the capture made them available.
//!
//! It works on the whole connection at once rather than packet by packet, so that it can pick
//! the client and each direction's starting sequence number with hindsight (a capture that
//! starts mid-connection, or whose first segments arrive out of order, still reads from the
//! earliest byte seen).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::net::{ACK, RST, SYN};
use super::Segment;

/// One TCP packet of a connection, as decoded from a frame.
pub(super) struct TcpPacket<'a> {
    pub frame: u64,
    /// Sent by the connection's first sender (`a` in [`assemble`]).
    pub from_a: bool,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: &'a [u8],
}

/// Both directions of a connection, reassembled.
pub(super) struct Assembled {
    pub client_is_a: bool,
    pub segments: Vec<Segment>,
    pub notes: Vec<String>,
}

/// Only sequence-number distances below this are taken as "earlier data" when choosing where
/// a stream without a SYN starts; anything further is noise (another connection, garbage).
const MAX_REWIND: i64 = 1 << 30;

/// Picks the client: the sender of a SYN without ACK; failing that, the receiver of a SYN+ACK;
/// failing that, the side with the higher (more likely ephemeral) port; failing that, `a`.
fn client_is_a(a: SocketAddr, b: SocketAddr, packets: &[TcpPacket]) -> bool {
    let first_with = |want: u8| {
        packets
            .iter()
            .find(|p| p.flags & (SYN | ACK) == want)
            .map(|p| p.from_a)
    };
    if let Some(from_a) = first_with(SYN) {
        from_a
    } else if let Some(from_a) = first_with(SYN | ACK) {
        !from_a
    } else if a.port() != b.port() {
        a.port() > b.port()
    } else {
        true
    }
}

/// The sequence number of stream offset 0 for one direction: just past the SYN's initial
/// sequence number, or else the earliest payload start seen (wraparound-aware).
fn stream_base(packets: &[TcpPacket], from_a: bool) -> (Option<u32>, Option<u32>) {
    let mine = || packets.iter().filter(move |p| p.from_a == from_a);
    if let Some(syn) = mine().find(|p| p.flags & SYN != 0) {
        return (Some(syn.seq.wrapping_add(1)), Some(syn.seq));
    }
    let mut data = mine().filter(|p| !p.payload.is_empty());
    let Some(first) = data.next() else {
        return (None, None);
    };
    let rewind = data
        .map(|p| i64::from(p.seq.wrapping_sub(first.seq) as i32))
        .filter(|&d| d < 0 && -d < MAX_REWIND)
        .min()
        .unwrap_or(0);
    // `rewind` is in (-2^30, 0], so the cast keeps the value; the add wraps like TCP does.
    (Some(first.seq.wrapping_add(rewind as i32 as u32)), None)
}

/// One direction's reassembly state.
struct Stream<'a> {
    /// Whose stream this is, for notes: "client" or "server".
    side: &'static str,
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Initial sequence number from the SYN, to spot a reused port pair.
    isn: Option<u32>,
    /// Next stream offset to deliver.
    next: u64,
    /// End of the highest data seen, to keep bogus acknowledgments from skipping gaps early.
    seen_end: u64,
    /// Highest offset the peer acknowledged (bounded by `seen_end`), and the frame that did.
    acked: u64,
    acked_by: u64,
    /// Data past a gap, as non-overlapping pieces keyed by stream offset, with their frame.
    pending: BTreeMap<u64, (u64, &'a [u8])>,
    reused_noted: bool,
}

impl<'a> Stream<'a> {
    fn new(side: &'static str, (base, isn): (Option<u32>, Option<u32>)) -> Self {
        Stream {
            side,
            base,
            isn,
            next: 0,
            seen_end: 0,
            acked: 0,
            acked_by: 0,
            pending: BTreeMap::new(),
            reused_noted: false,
        }
    }

    /// Maps a sequence number to a stream offset, choosing the 32-bit wrap nearest to the
    /// delivery point so that streams past 4 GiB and wrapping sequence numbers both work.
    fn offset_of(&self, seq: u32) -> Option<i64> {
        let rel = seq.wrapping_sub(self.base?);
        let delta = i64::from(rel.wrapping_sub(self.next as u32) as i32);
        Some(self.next as i64 + delta)
    }

    /// Adds data at `off`. Bytes already delivered or already pending are dropped (the first
    /// copy wins), the rest is buffered, and whatever became contiguous is returned.
    fn insert(&mut self, off: i64, data: &'a [u8], frame: u64, notes: &mut Vec<String>) -> Vec<u8> {
        let end = off.saturating_add(data.len() as i64);
        if end <= 0 {
            notes.push(format!(
                "frame {frame}: {} bytes before the {}'s initial sequence number were ignored",
                data.len(),
                self.side
            ));
            return Vec::new();
        }
        let (off, end) = (off.max(0) as u64, end as u64);
        let data = &data[data.len() - (end - off) as usize..];
        self.seen_end = self.seen_end.max(end);
        if end <= self.next {
            return Vec::new();
        }
        let start = off.max(self.next);
        let data = &data[(start - off) as usize..];
        // Fill only the holes between the pieces already pending in [start, end).
        // Pieces never overlap, so only the one starting before `start` can reach into the
        // range from the left; looking no further keeps long gaps from going quadratic.
        let before = self.pending.range(..start).next_back();
        let overlapping: Vec<(u64, u64)> = before
            .into_iter()
            .chain(self.pending.range(start..end))
            .map(|(&s, &(_, d))| (s, s + d.len() as u64))
            .filter(|&(_, e)| e > start)
            .collect();
        let mut cur = start;
        for (s, e) in overlapping {
            if s > cur {
                self.pending.insert(
                    cur,
                    (frame, &data[(cur - start) as usize..(s - start) as usize]),
                );
            }
            cur = cur.max(e);
        }
        if cur < end {
            self.pending
                .insert(cur, (frame, &data[(cur - start) as usize..]));
        }
        self.drain()
    }

    /// Moves the pending pieces that start at the delivery point into the output.
    fn drain(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let (s, (_, d)) = entry.remove_entry();
            let skip = (self.next - s) as usize;
            if let Some(rest) = d.get(skip..) {
                out.extend_from_slice(rest);
                self.next = s + d.len() as u64;
            }
        }
        out
    }

    /// Records an acknowledgment from the peer, bounded by the data actually seen (plus one
    /// for a FIN), so a garbage ACK field cannot declare future data missing.
    fn acknowledge(&mut self, ack: u32, frame: u64) {
        if let Some(off) = self.offset_of(ack) {
            let bounded = off.clamp(0, self.seen_end as i64 + 1) as u64;
            if bounded > self.acked {
                self.acked = bounded;
                self.acked_by = frame;
            }
        }
    }

    /// Skips the gaps the peer has acknowledged: those bytes reached the peer, so the capture
    /// simply lacks them and waiting is pointless. Returns the data delivered after each gap.
    fn skip_acknowledged(&mut self, notes: &mut Vec<String>) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((&s, &(frame, _))) = self.pending.first_key_value() {
            if s >= self.acked {
                break;
            }
            notes.push(format!(
                "gap of {} bytes in the {}'s stream at stream offset {}: frame {} \
                 acknowledges them but the capture lacks them",
                s - self.next,
                self.side,
                self.next,
                self.acked_by
            ));
            self.next = s;
            out.push((frame, self.drain()));
        }
        out
    }

    /// At the end of the capture: whatever still waits behind a gap is delivered anyway.
    fn flush(&mut self, notes: &mut Vec<String>) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((&s, &(frame, _))) = self.pending.first_key_value() {
            let (gap, at) = (s - self.next, self.next);
            self.next = s;
            let data = self.drain();
            notes.push(format!(
                "gap of {gap} bytes in the {}'s stream at stream offset {at}: never filled by \
                 the end of the capture; the {} bytes after it (from frame {frame}) are shown \
                 anyway",
                self.side,
                data.len(),
            ));
            out.push((frame, data));
        }
        out
    }
}

/// Reassembles a connection whose first packet was sent by `a`.
pub(super) fn assemble(a: SocketAddr, b: SocketAddr, packets: &[TcpPacket]) -> Assembled {
    let client_is_a = client_is_a(a, b, packets);
    let mut client = Stream::new("client", stream_base(packets, client_is_a));
    let mut server = Stream::new("server", stream_base(packets, !client_is_a));
    let mut segments = Vec::new();
    let mut notes = Vec::new();
    for p in packets {
        let from_client = p.from_a == client_is_a;
        let (mine, peer) = if from_client {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        // The acknowledgment first: the data it covers was sent before this packet's own.
        if p.flags & ACK != 0 && p.flags & RST == 0 {
            peer.acknowledge(p.ack, p.frame);
            for (frame, data) in peer.skip_acknowledged(&mut notes) {
                push(&mut segments, frame, !from_client, data);
            }
        }
        if p.flags & SYN != 0 && mine.isn.is_some_and(|isn| isn != p.seq) && !mine.reused_noted {
            mine.reused_noted = true;
            notes.push(format!(
                "frame {}: a new SYN from the {} with another initial sequence number (port \
                 pair reused?); its data is read as part of the first connection",
                p.frame, mine.side
            ));
        }
        // A reset's payload is a diagnostic text at best, never stream data.
        if p.payload.is_empty() || p.flags & RST != 0 {
            continue;
        }
        // A SYN occupies one sequence number before its data (TCP Fast Open).
        let seq = if p.flags & SYN != 0 {
            p.seq.wrapping_add(1)
        } else {
            p.seq
        };
        if let Some(off) = mine.offset_of(seq) {
            let data = mine.insert(off, p.payload, p.frame, &mut notes);
            push(&mut segments, p.frame, from_client, data);
            for (frame, data) in mine.skip_acknowledged(&mut notes) {
                push(&mut segments, frame, from_client, data);
            }
        }
    }
    for (stream, from_client) in [(&mut client, true), (&mut server, false)] {
        for (frame, data) in stream.flush(&mut notes) {
            push(&mut segments, frame, from_client, data);
        }
    }
    Assembled {
        client_is_a,
        segments,
        notes,
    }
}

fn push(segments: &mut Vec<Segment>, frame: u64, from_client: bool, data: Vec<u8>) {
    if !data.is_empty() {
        segments.push(Segment {
            frame,
            from_client,
            data,
        });
    }
}
