//! Link, IP, TCP and UDP headers: just enough to find the transport payload of a frame.
//!
//! Written by hand rather than with a packet crate because only a handful of fields matter and
//! every length must be clamped to what was captured: frames are routinely truncated by the
//! snapshot length, and Ethernet pads short frames, so the IP length fields decide where the
//! payload ends, and a slice past the captured bytes is never taken.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The link types this reader understands (LINKTYPE_* values from tcpdump.org).
pub(super) fn link_supported(linktype: i32) -> bool {
    matches!(
        linktype,
        0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276
    )
}

/// TCP flag bits.
pub(super) const SYN: u8 = 0x02;
pub(super) const RST: u8 = 0x04;
pub(super) const ACK: u8 = 0x10;

/// What a frame turned out to carry.
pub(super) enum Decoded<'a> {
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &'a [u8],
    },
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: &'a [u8],
    },
    /// A piece of a fragmented IP datagram, which this reader does not reassemble.
    Fragment { src: IpAddr, dst: IpAddr },
    /// Anything else: ARP, ICMP, other protocols, or headers too short to read.
    Other,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes a captured frame of the given link type.
pub(super) fn decode(linktype: i32, frame: &[u8]) -> Decoded<'_> {
    let ip = match linktype {
        // BSD loopback: a 4-byte address family in the capturing host's byte order.
        0 => frame.get(4..).and_then(|rest| {
            let le = u32::from_le_bytes(frame.get(..4)?.try_into().ok()?);
            let family = if le & 0xffff_0000 != 0 {
                le.swap_bytes()
            } else {
                le
            };
            family_payload(family, rest)
        }),
        // OpenBSD loopback: the same family, in network byte order.
        108 => family_payload(be32(frame, 0).unwrap_or(0), frame.get(4..).unwrap_or(&[])),
        1 => ethernet(frame),
        // Linux cooked capture v1: the protocol type sits at bytes 14-15 of a 16-byte header.
        113 => ethertype_payload(be16(frame, 14).unwrap_or(0), frame.get(16..).unwrap_or(&[])),
        // Linux cooked capture v2: the protocol type comes first in a 20-byte header.
        276 => ethertype_payload(be16(frame, 0).unwrap_or(0), frame.get(20..).unwrap_or(&[])),
        // Raw IP (12 and 14 are the platform DLT_RAW values some writers leave in files).
        12 | 14 | 101 | 228 | 229 => Some(frame),
        _ => None,
    };
    match ip {
        Some(packet) => decode_ip(packet),
        None => Decoded::Other,
    }
}

fn family_payload(family: u32, rest: &[u8]) -> Option<&[u8]> {
    // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
    // 30 (macOS).
    matches!(family, 2 | 10 | 24 | 28 | 30).then_some(rest)
}

fn ethertype_payload(ethertype: u16, rest: &[u8]) -> Option<&[u8]> {
    matches!(ethertype, 0x0800 | 0x86dd).then_some(rest)
}

fn ethernet(frame: &[u8]) -> Option<&[u8]> {
    let mut ethertype = be16(frame, 12)?;
    let mut at = 14;
    // 802.1Q, 802.1ad (QinQ) and the old 0x9100 tag: 2 bytes of tag control, then the type.
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        ethertype = be16(frame, at + 2)?;
        at += 4;
    }
    ethertype_payload(ethertype, frame.get(at..)?)
}

fn decode_ip(packet: &[u8]) -> Decoded<'_> {
    let result = match packet.first().map(|b| b >> 4) {
        Some(4) => ipv4(packet),
        Some(6) => ipv6(packet),
        _ => None,
    };
    result.unwrap_or(Decoded::Other)
}

fn ipv4(p: &[u8]) -> Option<Decoded<'_>> {
    let ihl = usize::from(p.first()? & 0x0f) * 4;
    if ihl < 20 || p.len() < ihl {
        return None;
    }
    let total = usize::from(be16(p, 2)?);
    // A zero total length is what TCP segmentation offload leaves in captures: use what is
    // there. Otherwise the length trims Ethernet padding, and the capture may hold less.
    let end = if total == 0 {
        p.len()
    } else {
        total.min(p.len())
    };
    if end < ihl {
        return None;
    }
    let src = IpAddr::V4(Ipv4Addr::from(be32(p, 12)?));
    let dst = IpAddr::V4(Ipv4Addr::from(be32(p, 16)?));
    let frag = be16(p, 6)?;
    let more_fragments = frag & 0x2000 != 0;
    if more_fragments || frag & 0x1fff != 0 {
        return Some(Decoded::Fragment { src, dst });
    }
    transport(p[9], src, dst, &p[ihl..end])
}

fn ipv6(p: &[u8]) -> Option<Decoded<'_>> {
    if p.len() < 40 {
        return None;
    }
    let payload_len = usize::from(be16(p, 4)?);
    let end = if payload_len == 0 {
        p.len()
    } else {
        (40 + payload_len).min(p.len())
    };
    let octets = |at: usize| -> Option<Ipv6Addr> {
        let b: [u8; 16] = p.get(at..at + 16)?.try_into().ok()?;
        Some(Ipv6Addr::from(b))
    };
    let src = IpAddr::V6(octets(8)?);
    let dst = IpAddr::V6(octets(24)?);
    let mut next = p[6];
    let mut at = 40;
    // Walk the extension headers; a bounded count guards against crafted chains.
    for _ in 0..16 {
        match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: length in
            // 8-octet units, not counting the first 8.
            0 | 43 | 60 | 135 | 139 | 140 => {
                let len = (usize::from(*p.get(at + 1)?) + 1) * 8;
                next = *p.get(at)?;
                at += len;
            }
            // Fragment header: an "atomic fragment" (offset 0, no more fragments) is whole.
            44 => {
                let frag = be16(p, at + 2)?;
                if frag & 0xfff9 != 0 {
                    return Some(Decoded::Fragment { src, dst });
                }
                next = *p.get(at)?;
                at += 8;
            }
            // Authentication header: length in 4-octet units, not counting the first 8.
            51 => {
                let len = (usize::from(*p.get(at + 1)?) + 2) * 4;
                next = *p.get(at)?;
                at += len;
            }
            _ => break,
        }
    }
    if at > end {
        return None;
    }
    transport(next, src, dst, &p[at..end])
}

fn transport<'a>(proto: u8, src: IpAddr, dst: IpAddr, seg: &'a [u8]) -> Option<Decoded<'a>> {
    match proto {
        6 => {
            let header = usize::from(seg.get(12)? >> 4) * 4;
            if header < 20 || seg.len() < header {
                return None;
            }
            Some(Decoded::Tcp {
                src: SocketAddr::new(src, be16(seg, 0)?),
                dst: SocketAddr::new(dst, be16(seg, 2)?),
                seq: be32(seg, 4)?,
                ack: be32(seg, 8)?,
                flags: seg[13],
                payload: &seg[header..],
            })
        }
        17 => {
            let len = usize::from(be16(seg, 4)?);
            // A UDP length below 8 is bogus (or a jumbogram's 0): fall back to the IP length.
            let end = if len < 8 {
                seg.len()
            } else {
                len.min(seg.len())
            };
            Some(Decoded::Udp {
                src: SocketAddr::new(src, be16(seg, 0)?),
                dst: SocketAddr::new(dst, be16(seg, 2)?),
                payload: seg.get(8..end)?,
            })
        }
        _ => Some(Decoded::Other),
    }
}
