//! A tiny capture writer for the input tests: pcap and pcapng files, and the Ethernet, cooked,
//! loopback, IPv4, IPv6, TCP and UDP headers inside them. Checksums are left at zero: the
//! reader never looks at them.

use mote_cli::input::Flow;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// The client's and the server's bytes of a flow, each concatenated.
pub fn streams(flow: &Flow) -> (Vec<u8>, Vec<u8>) {
    let mut out = (Vec::new(), Vec::new());
    for s in &flow.segments {
        let side = if s.from_client {
            &mut out.0
        } else {
            &mut out.1
        };
        side.extend_from_slice(&s.data);
    }
    out
}

/// (frame, from_client, data as text) of every segment.
pub fn segs(flow: &Flow) -> Vec<(u64, bool, String)> {
    flow.segments
        .iter()
        .map(|s| {
            (
                s.frame,
                s.from_client,
                String::from_utf8_lossy(&s.data).into_owned(),
            )
        })
        .collect()
}

/// A little-endian, microsecond pcap with whole frames.
pub fn pcap(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<(Vec<u8>, u32)> = frames.iter().map(|f| (f.clone(), f.len() as u32)).collect();
    pcap_records(linktype, &records)
}

/// A pcap whose records give their original length separately (for truncated frames).
pub fn pcap_records(linktype: u32, records: &[(Vec<u8>, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, linktype] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, (data, origlen)) in records.iter().enumerate() {
        for v in [1_700_000_000 + i as u32, 0, data.len() as u32, *origlen] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(data);
    }
    out
}

/// Rewrites a little-endian microsecond pcap as a big-endian nanosecond one.
pub fn pcap_be_nanos(le: &[u8]) -> Vec<u8> {
    let word = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    if le.len() < 24 || word(le, 0) != 0xa1b2_c3d4 {
        return le.to_vec();
    }
    let mut out = 0xa1b2_3c4du32.to_be_bytes().to_vec();
    out.extend_from_slice(&u16::from_le_bytes([le[4], le[5]]).to_be_bytes());
    out.extend_from_slice(&u16::from_le_bytes([le[6], le[7]]).to_be_bytes());
    for at in [8, 12, 16, 20] {
        out.extend_from_slice(&word(le, at).to_be_bytes());
    }
    let mut at = 24;
    while at + 16 <= le.len() {
        let caplen = word(le, at + 8) as usize;
        let end = (at + 16 + caplen).min(le.len());
        out.extend_from_slice(&word(le, at).to_be_bytes());
        out.extend_from_slice(&(word(le, at + 4).wrapping_mul(1000)).to_be_bytes());
        out.extend_from_slice(&word(le, at + 8).to_be_bytes());
        out.extend_from_slice(&word(le, at + 12).to_be_bytes());
        out.extend_from_slice(&le[at + 16..end]);
        at = end;
    }
    out
}

/// Writes pcapng blocks in one byte order.
pub struct PcapNg {
    pub be: bool,
    pub out: Vec<u8>,
}

impl PcapNg {
    pub fn new(be: bool) -> Self {
        let mut ng = PcapNg {
            be,
            out: Vec::new(),
        };
        let mut body = ng.u32(0x1a2b_3c4d);
        body.extend(ng.u16(1));
        body.extend(ng.u16(0));
        body.extend_from_slice(&[0xff; 8]); // section length: unknown
        ng.block(0x0a0d_0d0a, body);
        ng
    }

    fn u32(&self, v: u32) -> Vec<u8> {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
        .to_vec()
    }

    fn u16(&self, v: u16) -> Vec<u8> {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
        .to_vec()
    }

    fn block(&mut self, kind: u32, mut body: Vec<u8>) {
        while body.len() & 3 != 0 {
            body.push(0);
        }
        let len = 12 + body.len() as u32;
        let mut b = self.u32(kind);
        b.extend(self.u32(len));
        b.extend(body);
        b.extend(self.u32(len));
        self.out.extend(b);
    }

    pub fn interface(&mut self, linktype: u16, snaplen: u32) {
        let mut body = self.u16(linktype);
        body.extend(self.u16(0));
        body.extend(self.u32(snaplen));
        self.block(1, body);
    }

    pub fn enhanced(&mut self, if_id: u32, data: &[u8]) {
        let mut body = Vec::new();
        for v in [if_id, 0, 0, data.len() as u32, data.len() as u32] {
            body.extend(self.u32(v));
        }
        body.extend_from_slice(data);
        self.block(6, body);
    }

    pub fn simple(&mut self, data: &[u8]) {
        let mut body = self.u32(data.len() as u32);
        body.extend_from_slice(data);
        self.block(3, body);
    }

    /// The obsolete packet block (type 2) that old writers still produce.
    pub fn obsolete(&mut self, if_id: u16, data: &[u8]) {
        let mut body = self.u16(if_id);
        body.extend(self.u16(0));
        for v in [0, 0, data.len() as u32, data.len() as u32] {
            body.extend(self.u32(v));
        }
        body.extend_from_slice(data);
        self.block(2, body);
    }
}

/// A pcapng with an Ethernet interface and a raw-IPv4 one, using EPB, SPB and the obsolete
/// packet block: frame 1 TCP SYN, 2 UDP on the raw interface, 3 client data, 4 server data.
pub fn two_interface_pcapng(be: bool) -> Vec<u8> {
    let c = ([10, 0, 0, 1], 40000);
    let s = ([10, 0, 0, 2], 443);
    let mut ng = PcapNg::new(be);
    ng.interface(1, 0);
    ng.interface(228, 65535);
    ng.enhanced(0, &eth(0x0800, &ipv4_tcp(c, s, 1000, 0, SYN, b"")));
    ng.enhanced(
        1,
        &ipv4_udp(([192, 0, 2, 1], 5684), ([192, 0, 2, 2], 5684), b"dtls"),
    );
    ng.simple(&eth(0x0800, &ipv4_tcp(c, s, 1001, 0, ACK | PSH, b"hello")));
    ng.obsolete(
        0,
        &eth(0x0800, &ipv4_tcp(s, c, 5000, 1006, ACK | PSH, b"world")),
    );
    ng.out
}

pub fn tcp(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// An IPv4 packet; `frag` is the flags-and-offset field.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 1]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

pub type V4 = ([u8; 4], u16);
pub type V6 = ([u8; 16], u16);

pub fn ipv4_tcp(from: V4, to: V4, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    ipv4(
        from.0,
        to.0,
        6,
        0,
        &tcp(from.1, to.1, seq, ack, flags, data),
    )
}

pub fn ipv4_udp(from: V4, to: V4, data: &[u8]) -> Vec<u8> {
    ipv4(from.0, to.0, 17, 0, &udp(from.1, to.1, data))
}

/// An IPv6 packet carrying TCP behind a hop-by-hop options header, so that the reader has
/// to walk the extension chain.
pub fn ipv6_tcp(from: V6, to: V6, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut payload = vec![6, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop: next TCP, 8 bytes, PadN
    payload.extend(tcp(from.1, to.1, seq, ack, flags, data));
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 64]); // next header: hop-by-hop
    p.extend_from_slice(&from.0);
    p.extend_from_slice(&to.0);
    p.extend(payload);
    p
}

pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    // Ethernet pads frames to 60 bytes; the reader must cut the padding off.
    while f.len() < 60 {
        f.push(0);
    }
    f
}

/// Ethernet with VLAN tags: each tag protocol identifier (outermost first) is followed by its
/// tag control field, and the real ethertype comes after the last tag.
pub fn eth_vlan(tpids: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    for (i, tpid) in tpids.iter().enumerate() {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(100 + i as u16).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked capture v1 (link type 113).
pub fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Linux cooked capture v2 (link type 276).
pub fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = protocol.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// BSD loopback: the 4-byte family as given (the caller picks the byte order).
pub fn null(family: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut f = family.to_vec();
    f.extend_from_slice(payload);
    f
}
