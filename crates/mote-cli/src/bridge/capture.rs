//! `--capture`: the bridge's traffic as IP packets in a pcapng file (link type raw IP), so that
//! `mote dissect` and Wireshark read it like a capture taken on a network.
//!
//! The serial line has no addresses, so the board gets a made-up one: 127.0.0.2 (or ::1 when
//! the server is IPv6), port 49152 for the first connection and one more for each later one,
//! so that every connection is a flow of its own. The server side is the `--connect` address.
//! A stream connection is written as a TCP flow with a three-way handshake, sequence and
//! acknowledgment numbers that follow the bytes relayed, and FINs (or a RST) at the end; a
//! datagram is written as one UDP packet. IPv4 header, TCP and UDP checksums are all computed.

use super::pcapng::{Writer, LINKTYPE_RAW};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::SystemTime;

/// The board's made-up address and its first port.
pub const BOARD_V4: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const BOARD_PORT: u16 = 49152;

/// Payload bytes per synthesized TCP segment (Ethernet's usual MSS).
const MSS: usize = 1460;
/// Initial sequence numbers (any value works; fixed ones make captures reproducible).
const BOARD_ISN: u32 = 0x0b0a_0000;
const SERVER_ISN: u32 = 0x5e7e_0000;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The board's address for its `index`-th connection (0-based) with `server`.
pub fn board_address(server: SocketAddr, index: u64) -> SocketAddr {
    let port = BOARD_PORT + (index % u64::from(u16::MAX - BOARD_PORT + 1)) as u16;
    match server {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(BOARD_V4), port),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
    }
}

/// One TCP connection as written so far.
#[derive(Debug, Clone)]
pub struct TcpFlow {
    pub board: SocketAddr,
    pub server: SocketAddr,
    /// Next sequence number of the board (0) and of the server (1).
    next: [u32; 2],
    fin: [bool; 2],
    reset: bool,
}

impl TcpFlow {
    /// True once both sides sent a FIN, or either a RST.
    pub fn is_closed(&self) -> bool {
        self.reset || self.fin == [true, true]
    }
}

/// Synthesizes packets into a pcapng file.
pub struct Capture<W: Write> {
    writer: Writer<W>,
    ip_id: u16,
}

impl<W: Write> Capture<W> {
    /// Writes the file's header blocks.
    pub fn new(out: W) -> io::Result<Self> {
        let app = concat!("mote bridge ", env!("CARGO_PKG_VERSION"));
        Ok(Capture {
            writer: Writer::new(out, LINKTYPE_RAW, app)?,
            ip_id: 0,
        })
    }

    pub fn into_inner(self) -> W {
        self.writer.into_inner()
    }

    /// One UDP datagram.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> io::Result<()> {
        let len = u16::try_from(payload.len() + 8)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "datagram too long"))?;
        let mut seg = Vec::with_capacity(8 + payload.len());
        seg.extend_from_slice(&src.port().to_be_bytes());
        seg.extend_from_slice(&dst.port().to_be_bytes());
        seg.extend_from_slice(&len.to_be_bytes());
        seg.extend_from_slice(&[0, 0]);
        seg.extend_from_slice(payload);
        let sum = match transport_checksum(src.ip(), dst.ip(), 17, &seg) {
            0 => 0xffff,
            s => s,
        };
        seg[6..8].copy_from_slice(&sum.to_be_bytes());
        self.ip(src.ip(), dst.ip(), 17, &seg)
    }

    /// Starts a connection from `board` to `server`: SYN, SYN-ACK, ACK.
    pub fn tcp_open(&mut self, board: SocketAddr, server: SocketAddr) -> io::Result<TcpFlow> {
        let mut flow = TcpFlow {
            board,
            server,
            next: [BOARD_ISN, SERVER_ISN],
            fin: [false; 2],
            reset: false,
        };
        self.tcp(&flow, true, SYN, &[])?;
        flow.next[0] = flow.next[0].wrapping_add(1);
        // The SYN-ACK acknowledges the SYN; `tcp` takes the ack from `next`.
        self.tcp(&flow, false, SYN | ACK, &[])?;
        flow.next[1] = flow.next[1].wrapping_add(1);
        self.tcp(&flow, true, ACK, &[])?;
        Ok(flow)
    }

    /// Bytes relayed one way, in segments of at most [`MSS`] bytes.
    pub fn tcp_data(
        &mut self,
        flow: &mut TcpFlow,
        from_board: bool,
        data: &[u8],
    ) -> io::Result<()> {
        if flow.is_closed() {
            return Ok(());
        }
        let side = usize::from(!from_board);
        for chunk in data.chunks(MSS) {
            self.tcp(flow, from_board, PSH | ACK, chunk)?;
            flow.next[side] = flow.next[side].wrapping_add(chunk.len() as u32);
        }
        Ok(())
    }

    /// A FIN from one side (once); after the second FIN, the last ACK from the first closer.
    pub fn tcp_fin(&mut self, flow: &mut TcpFlow, from_board: bool) -> io::Result<()> {
        let side = usize::from(!from_board);
        if flow.reset || flow.fin[side] {
            return Ok(());
        }
        self.tcp(flow, from_board, FIN | ACK, &[])?;
        flow.next[side] = flow.next[side].wrapping_add(1);
        flow.fin[side] = true;
        if flow.fin[1 - side] {
            self.tcp(flow, !from_board, ACK, &[])?;
        }
        Ok(())
    }

    /// A RST from one side, which ends the flow.
    pub fn tcp_reset(&mut self, flow: &mut TcpFlow, from_board: bool) -> io::Result<()> {
        if flow.is_closed() {
            return Ok(());
        }
        self.tcp(flow, from_board, RST | ACK, &[])?;
        flow.reset = true;
        Ok(())
    }

    fn tcp(
        &mut self,
        flow: &TcpFlow,
        from_board: bool,
        flags: u8,
        payload: &[u8],
    ) -> io::Result<()> {
        let (src, dst) = if from_board {
            (flow.board, flow.server)
        } else {
            (flow.server, flow.board)
        };
        let side = usize::from(!from_board);
        let ack = if flags & ACK != 0 {
            flow.next[1 - side]
        } else {
            0
        };
        let mut seg = Vec::with_capacity(20 + payload.len());
        seg.extend_from_slice(&src.port().to_be_bytes());
        seg.extend_from_slice(&dst.port().to_be_bytes());
        seg.extend_from_slice(&flow.next[side].to_be_bytes());
        seg.extend_from_slice(&ack.to_be_bytes());
        // Data offset 5 words (no options), the flags, a 64 KiB window, checksum, urgent.
        seg.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
        seg.extend_from_slice(payload);
        let sum = transport_checksum(src.ip(), dst.ip(), 6, &seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        self.ip(src.ip(), dst.ip(), 6, &seg)
    }

    /// Wraps a transport segment in an IPv4 or IPv6 header and writes it.
    fn ip(&mut self, src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> io::Result<()> {
        let too_long = || io::Error::new(io::ErrorKind::InvalidInput, "packet too long");
        let packet = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let total = u16::try_from(20 + seg.len()).map_err(|_| too_long())?;
                self.ip_id = self.ip_id.wrapping_add(1);
                let mut p = Vec::with_capacity(20 + seg.len());
                p.extend_from_slice(&[0x45, 0]);
                p.extend_from_slice(&total.to_be_bytes());
                p.extend_from_slice(&self.ip_id.to_be_bytes());
                // Don't fragment; TTL 64; checksum filled in below.
                p.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                let sum = !fold(sum16(0, &p));
                p[10..12].copy_from_slice(&sum.to_be_bytes());
                p.extend_from_slice(seg);
                p
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let len = u16::try_from(seg.len()).map_err(|_| too_long())?;
                let mut p = Vec::with_capacity(40 + seg.len());
                p.extend_from_slice(&[0x60, 0, 0, 0]);
                p.extend_from_slice(&len.to_be_bytes());
                p.extend_from_slice(&[proto, 64]);
                p.extend_from_slice(&s.octets());
                p.extend_from_slice(&d.octets());
                p.extend_from_slice(seg);
                p
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "mixed IPv4 and IPv6 addresses",
                ))
            }
        };
        self.writer.packet(SystemTime::now(), &packet)
    }
}

/// Adds big-endian 16-bit words of `data` (odd length padded with a zero) to `sum`.
fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// Folds the carries of a one's complement sum into 16 bits.
fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The TCP/UDP checksum: over the pseudo-header (addresses, protocol, length) and `seg`.
fn transport_checksum(src: IpAddr, dst: IpAddr, proto: u8, seg: &[u8]) -> u16 {
    let mut sum = 0;
    for ip in [src, dst] {
        sum = match ip {
            IpAddr::V4(a) => sum16(sum, &a.octets()),
            IpAddr::V6(a) => sum16(sum, &a.octets()),
        };
    }
    sum += u32::from(proto);
    // The upper-layer length: 16 bits for IPv4, 32 for IPv6 (it never exceeds 16 here).
    sum += seg.len() as u32 & 0xffff;
    sum += (seg.len() as u32) >> 16;
    !fold(sum16(sum, seg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{self, Format, Transport};

    /// The raw IP packets of a capture written by [`Capture`].
    fn packets(file: &[u8]) -> Vec<Vec<u8>> {
        let mut rest = file;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let (after, block) = pcap_parser::parse_block_le(rest).unwrap();
            if let pcap_parser::pcapng::Block::EnhancedPacket(epb) = block {
                out.push(epb.data[..epb.caplen as usize].to_vec());
            }
            rest = after;
        }
        out
    }

    fn pseudo_sum_ok(p: &[u8]) -> bool {
        let (src, dst, proto, seg): (IpAddr, IpAddr, u8, &[u8]) = if p[0] >> 4 == 4 {
            let s: [u8; 4] = p[12..16].try_into().unwrap();
            let d: [u8; 4] = p[16..20].try_into().unwrap();
            (s.into(), d.into(), p[9], &p[20..])
        } else {
            let s: [u8; 16] = p[8..24].try_into().unwrap();
            let d: [u8; 16] = p[24..40].try_into().unwrap();
            (s.into(), d.into(), p[6], &p[40..])
        };
        // A correct checksum makes the whole sum come out as zero once complemented.
        transport_checksum(src, dst, proto, seg) == 0
    }

    #[test]
    fn tcp_flow_reads_back_as_one_connection_with_valid_checksums() {
        let server: SocketAddr = "127.0.0.1:4433".parse().unwrap();
        let board = board_address(server, 0);
        assert_eq!(board.to_string(), "127.0.0.2:49152");
        let mut cap = Capture::new(Vec::new()).unwrap();
        let mut flow = cap.tcp_open(board, server).unwrap();
        let big: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
        cap.tcp_data(&mut flow, true, b"hello").unwrap();
        cap.tcp_data(&mut flow, false, &big).unwrap();
        cap.tcp_data(&mut flow, true, b"bye").unwrap();
        cap.tcp_fin(&mut flow, false).unwrap();
        assert!(!flow.is_closed());
        cap.tcp_fin(&mut flow, true).unwrap();
        assert!(flow.is_closed());
        cap.tcp_data(&mut flow, true, b"late").unwrap();
        let file = cap.into_inner();
        let pkts = packets(&file);
        // SYN, SYN-ACK, ACK, hello, 3 segments, bye, FIN, FIN, ACK.
        assert_eq!(pkts.len(), 11);
        let flags: Vec<u8> = pkts.iter().map(|p| p[20 + 13]).collect();
        assert_eq!(
            flags,
            [
                SYN,
                SYN | ACK,
                ACK,
                PSH | ACK,
                PSH | ACK,
                PSH | ACK,
                PSH | ACK,
                PSH | ACK
            ]
            .into_iter()
            .chain([FIN | ACK, FIN | ACK, ACK])
            .collect::<Vec<_>>()
        );
        for p in &pkts {
            assert_eq!(fold(sum16(0, &p[..20])), 0xffff, "IPv4 header checksum");
            assert!(pseudo_sum_ok(p), "TCP checksum");
        }
        // The server closed first: the board's FIN acknowledges the server's, and the
        // server's last ACK the board's. Both streams end where the FINs say.
        let seq = |p: &[u8]| u32::from_be_bytes(p[24..28].try_into().unwrap());
        let ack = |p: &[u8]| u32::from_be_bytes(p[28..32].try_into().unwrap());
        assert_eq!(ack(&pkts[9]), seq(&pkts[8]) + 1);
        assert_eq!(ack(&pkts[10]), seq(&pkts[9]) + 1);
        assert_eq!(seq(&pkts[8]), SERVER_ISN + 1 + 4000);
        assert_eq!(seq(&pkts[9]), BOARD_ISN + 1 + 8);
        let loaded = input::load(&file, Format::Auto).unwrap();
        assert_eq!(loaded.format, Format::Pcapng);
        assert_eq!(loaded.flows.len(), 1);
        let f = &loaded.flows[0];
        assert!(f.notes.is_empty(), "{:?}", f.notes);
        assert_eq!(f.transport, Transport::Tcp);
        assert_eq!((f.client, f.server), (Some(board), Some(server)));
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for s in &f.segments {
            if s.from_client { &mut up } else { &mut down }.extend_from_slice(&s.data);
        }
        assert_eq!(up, b"hellobye");
        assert_eq!(down, big);
    }

    /// Transport, client, and each segment's direction and bytes.
    type FlowSummary = (Transport, Option<SocketAddr>, Vec<(bool, Vec<u8>)>);

    #[test]
    fn udp_and_ipv6_packets_read_back() {
        let server: SocketAddr = "127.0.0.1:5684".parse().unwrap();
        let server6: SocketAddr = "[::1]:5684".parse().unwrap();
        let board = board_address(server, 0);
        let board6 = board_address(server6, 3);
        assert_eq!(board6.to_string(), "[::1]:49155");
        let mut cap = Capture::new(Vec::new()).unwrap();
        cap.udp(board, server, &[0xc0, 1, 2]).unwrap();
        cap.udp(server, board, b"echo").unwrap();
        cap.udp(board6, server6, b"v6").unwrap();
        let mut flow = cap.tcp_open(board6, server6).unwrap();
        cap.tcp_data(&mut flow, true, b"tcp6").unwrap();
        cap.tcp_reset(&mut flow, false).unwrap();
        assert!(flow.is_closed());
        assert!(cap.udp(board, server6, b"x").is_err());
        let file = cap.into_inner();
        for p in packets(&file) {
            assert!(pseudo_sum_ok(&p));
        }
        let loaded = input::load(&file, Format::Pcapng).unwrap();
        let summary: Vec<FlowSummary> = loaded
            .flows
            .iter()
            .map(|f| {
                let segs = f
                    .segments
                    .iter()
                    .map(|s| (s.from_client, s.data.clone()))
                    .collect();
                (f.transport, f.client, segs)
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Transport::Udp,
                    Some(board),
                    vec![(true, vec![0xc0, 1, 2]), (false, b"echo".to_vec())]
                ),
                (Transport::Udp, Some(board6), vec![(true, b"v6".to_vec())]),
                (Transport::Tcp, Some(board6), vec![(true, b"tcp6".to_vec())]),
            ]
        );
    }
}
