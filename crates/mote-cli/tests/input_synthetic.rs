//! Synthetic captures written by tests/common/capture.rs: TCP reassembly corner cases and every
//! supported link layer.

mod common;

use common::capture::*;
use mote_cli::input::{load, Flow, Format, Loaded, Transport};
use std::net::SocketAddr;

const C: V4 = ([10, 1, 1, 1], 50000);
const S: V4 = ([10, 1, 1, 2], 443);

fn addr(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

fn run(linktype: u32, frames: &[Vec<u8>]) -> Loaded {
    load(&pcap(linktype, frames), Format::Auto).unwrap()
}

fn only(loaded: &Loaded) -> &Flow {
    assert_eq!(loaded.flows.len(), 1, "{:#?}", loaded.flows);
    &loaded.flows[0]
}

fn seg(frame: u64, from_client: bool, data: &str) -> (u64, bool, String) {
    (frame, from_client, data.to_string())
}

/// IPv4 TCP in Ethernet.
fn e(from: V4, to: V4, seq: u32, ack: u32, flags: u8, data: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4_tcp(from, to, seq, ack, flags, data))
}

/// The handshake of a connection with client ISN 100 and server ISN 900.
fn handshake() -> Vec<Vec<u8>> {
    vec![
        e(C, S, 100, 0, SYN, b""),
        e(S, C, 900, 101, SYN | ACK, b""),
        e(C, S, 101, 901, ACK, b""),
    ]
}

#[test]
fn out_of_order_segments_wait_for_the_gap() {
    let mut frames = handshake();
    frames.push(e(C, S, 106, 901, ACK | PSH, b"world")); // 4: early
    frames.push(e(C, S, 101, 901, ACK | PSH, b"hello")); // 5: fills the gap
    frames.push(e(S, C, 901, 111, ACK | PSH, b"ok")); // 6
    frames.push(e(C, S, 111, 903, ACK, b"")); // 7: pure ACK, ignored
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(flow.transport, Transport::Tcp);
    assert_eq!(flow.client, addr("10.1.1.1:50000"));
    assert_eq!(flow.server, addr("10.1.1.2:443"));
    assert_eq!(
        segs(flow),
        [seg(5, true, "helloworld"), seg(6, false, "ok")]
    );
    assert!(flow.notes.is_empty(), "{:?}", flow.notes);
}

#[test]
fn retransmissions_and_overlaps_keep_the_first_copy() {
    let mut frames = handshake();
    frames.push(e(C, S, 101, 901, ACK | PSH, b"abcdef")); // 4
    frames.push(e(C, S, 101, 901, ACK | PSH, b"abcdef")); // 5: retransmission
    frames.push(e(C, S, 104, 901, ACK | PSH, b"XYZghi")); // 6: overlaps "def"
    frames.push(e(C, S, 113, 901, ACK | PSH, b"mno")); // 7: early
    frames.push(e(C, S, 110, 901, ACK | PSH, b"jklMNOp")); // 8: overlaps the early piece
    frames.push(e(C, S, 101, 901, ACK | PSH, b"abcdefghijklmnop")); // 9: all old
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(
        segs(flow),
        [
            seg(4, true, "abcdef"),
            seg(6, true, "ghi"),
            seg(8, true, "jklmnop")
        ]
    );
}

#[test]
fn sequence_numbers_wrap_around() {
    let isn = 0xffff_fffc;
    let frames = vec![
        e(C, S, isn, 0, SYN, b""),
        e(S, C, 7, isn.wrapping_add(1), SYN | ACK, b""),
        e(C, S, 0xffff_fffd, 8, ACK | PSH, b"abcd"), // 3: crosses zero
        e(C, S, 5, 8, ACK | PSH, b"ijkl"),           // 4: early, after the wrap
        e(C, S, 1, 8, ACK | PSH, b"efgh"),           // 5
        e(S, C, 8, 9, ACK | PSH, b"done"),           // 6
    ];
    let loaded = run(1, &frames);
    assert_eq!(
        segs(only(&loaded)),
        [
            seg(3, true, "abcd"),
            seg(5, true, "efghijkl"),
            seg(6, false, "done")
        ]
    );
}

#[test]
fn ipv6_with_an_extension_header() {
    let mut c6 = [0u8; 16];
    c6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    let mut s6 = c6;
    c6[15] = 1;
    s6[15] = 2;
    let (c, s) = ((c6, 50001), (s6, 8443));
    let frames = vec![
        eth(0x86dd, &ipv6_tcp(c, s, 10, 0, SYN, b"")),
        eth(0x86dd, &ipv6_tcp(s, c, 20, 11, SYN | ACK, b"")),
        eth(
            0x86dd,
            &ipv6_tcp(c, s, 11, 21, ACK | PSH, b"\x16\x03\x01v6"),
        ),
    ];
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(flow.client, addr("[2001:db8::1]:50001"));
    assert_eq!(flow.server, addr("[2001:db8::2]:8443"));
    assert_eq!(streams(flow).0, b"\x16\x03\x01v6");
}

/// The same little conversation through every link layer the reader supports.
#[test]
fn every_link_layer() {
    let ip = |from: V4, to: V4, seq: u32, flags: u8, data: &[u8]| {
        ipv4_tcp(from, to, seq, 0, flags, data)
    };
    let convo = |wrap: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        vec![
            wrap(ip(C, S, 100, SYN, b"")),
            wrap(ip(C, S, 101, ACK, b"ping")),
            wrap(ip(S, C, 500, ACK, b"pong")),
        ]
    };
    let cases: Vec<(&str, u32, Vec<Vec<u8>>)> = vec![
        ("ethernet", 1, convo(&|p| eth(0x0800, &p))),
        ("802.1Q", 1, convo(&|p| eth_vlan(&[0x8100], 0x0800, &p))),
        (
            "QinQ",
            1,
            convo(&|p| eth_vlan(&[0x88a8, 0x8100], 0x0800, &p)),
        ),
        ("linux sll", 113, convo(&|p| sll(0x0800, &p))),
        ("linux sll2", 276, convo(&|p| sll2(0x0800, &p))),
        (
            "null, little-endian host",
            0,
            convo(&|p| null([2, 0, 0, 0], &p)),
        ),
        (
            "null, big-endian host",
            0,
            convo(&|p| null([0, 0, 0, 2], &p)),
        ),
        ("openbsd loop", 108, convo(&|p| null([0, 0, 0, 2], &p))),
        ("raw", 101, convo(&|p| p)),
        ("raw ipv4", 228, convo(&|p| p)),
    ];
    for (name, linktype, frames) in cases {
        let loaded = run(linktype, &frames);
        let flow = only(&loaded);
        assert_eq!(flow.client, addr("10.1.1.1:50000"), "{name}");
        assert_eq!(
            segs(flow),
            [seg(2, true, "ping"), seg(3, false, "pong")],
            "{name}"
        );
    }
    // Raw IPv6 (229) and IPv6 on Linux cooked captures and macOS loopback (AF_INET6 = 30).
    let (c6, s6) = (([0u8; 15], 1u8), ([0u8; 15], 2u8));
    let mk = |a: ([u8; 15], u8)| {
        let mut x = [0u8; 16];
        x[15] = a.1;
        x
    };
    let (c, s) = ((mk(c6), 4000), (mk(s6), 443));
    let v6 = ipv6_tcp(c, s, 1, 0, ACK, b"six");
    for (linktype, frame) in [
        (229, v6.clone()),
        (113, sll(0x86dd, &v6)),
        (276, sll2(0x86dd, &v6)),
        (0, null([30, 0, 0, 0], &v6)),
    ] {
        let loaded = run(linktype, &[frame]);
        let flow = only(&loaded);
        assert_eq!(flow.client, addr("[::1]:4000"), "link type {linktype}");
        assert_eq!(streams(flow).0, b"six", "link type {linktype}");
    }
}

#[test]
fn client_without_a_syn() {
    // Mid-connection capture: the higher port is the client, and the earliest byte seen
    // starts the stream even though it arrived second.
    let frames = vec![
        e(S, C, 5000, 0, ACK | PSH, b"late"),
        e(C, S, 2004, 0, ACK | PSH, b"5678"),
        e(C, S, 2000, 0, ACK | PSH, b"1234"),
    ];
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(flow.client, addr("10.1.1.1:50000"));
    assert_eq!(
        segs(flow),
        [seg(1, false, "late"), seg(3, true, "12345678")]
    );
    // Equal ports: the first sender is the client.
    let a: V4 = ([10, 0, 0, 9], 4433);
    let b: V4 = ([10, 0, 0, 8], 4433);
    let loaded = run(1, &[e(a, b, 1, 0, ACK | PSH, b"x")]);
    assert_eq!(only(&loaded).client, addr("10.0.0.9:4433"));
    // Only a SYN+ACK: its receiver is the client, even with the lower port.
    let low: V4 = ([10, 0, 0, 7], 100);
    let loaded = run(
        1,
        &[
            e(S, low, 9, 0, SYN | ACK, b""),
            e(low, S, 1, 10, ACK | PSH, b"y"),
        ],
    );
    assert_eq!(only(&loaded).client, addr("10.0.0.7:100"));
}

#[test]
fn unfilled_gap_at_the_end_is_noted_and_shown() {
    let mut frames = handshake();
    frames.push(e(S, C, 901, 101, ACK | PSH, b"abc")); // 4
    frames.push(e(S, C, 1004, 101, ACK | PSH, b"xyz")); // 5: 100 bytes missing before it
    frames.push(e(C, S, 101, 904, ACK | PSH, b"req")); // 6: acknowledges only "abc"
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(
        segs(flow),
        [
            seg(4, false, "abc"),
            seg(6, true, "req"),
            seg(5, false, "xyz")
        ]
    );
    assert_eq!(flow.notes.len(), 1, "{:?}", flow.notes);
    let note = &flow.notes[0];
    assert!(
        note.starts_with("gap of 100 bytes in the server's stream at stream offset 3"),
        "{note}"
    );
}

#[test]
fn acknowledged_gap_is_skipped_when_acknowledged() {
    let mut frames = handshake();
    frames.push(e(S, C, 901, 101, ACK | PSH, b"abc")); // 4
    frames.push(e(S, C, 907, 101, ACK | PSH, b"ghi")); // 5: "def" never captured
    frames.push(e(C, S, 101, 910, ACK | PSH, b"next")); // 6: the client got all nine
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    // The server's bytes come before the client's reply that acknowledged them.
    assert_eq!(
        segs(flow),
        [
            seg(4, false, "abc"),
            seg(5, false, "ghi"),
            seg(6, true, "next")
        ]
    );
    assert_eq!(flow.notes.len(), 1, "{:?}", flow.notes);
    assert!(
        flow.notes[0].starts_with("gap of 3 bytes in the server's stream at stream offset 3"),
        "{:?}",
        flow.notes
    );
    assert!(flow.notes[0].contains("frame 6"), "{:?}", flow.notes);
}

#[test]
fn flows_in_order_of_appearance_and_only_with_payload() {
    let other: V4 = ([10, 1, 1, 3], 51000);
    let u1: V4 = ([192, 168, 0, 5], 40000);
    let u2: V4 = ([192, 168, 0, 6], 4433);
    let frames = vec![
        e(other, S, 1, 0, SYN, b""),               // 1: never carries data
        e(C, S, 100, 0, SYN, b""),                 // 2
        eth(0x0800, &ipv4_udp(u1, u2, b"")),       // 3: empty datagram
        eth(0x0800, &ipv4_udp(u2, u1, b"first")),  // 4: u2 sends first data
        e(C, S, 101, 0, ACK | PSH, b"tcp"),        // 5
        eth(0x0800, &ipv4_udp(u1, u2, b"second")), // 6
        eth(0x0806, &[0u8; 28]),                   // 7: ARP
    ];
    let loaded = run(1, &frames);
    assert_eq!(loaded.flows.len(), 2, "{:#?}", loaded.flows);
    let (tcp, udp) = (&loaded.flows[0], &loaded.flows[1]);
    assert_eq!((tcp.index, tcp.transport), (0, Transport::Tcp));
    assert_eq!((udp.index, udp.transport), (1, Transport::Udp));
    assert_eq!(segs(tcp), [seg(5, true, "tcp")]);
    // The first datagram (even an empty one) makes its sender the client.
    assert_eq!(udp.client, addr("192.168.0.5:40000"));
    assert_eq!(segs(udp), [seg(4, false, "first"), seg(6, true, "second")]);
}

#[test]
fn tcp_fast_open_data_on_the_syn() {
    let frames = vec![
        e(C, S, 100, 0, SYN, b"early"),
        e(S, C, 900, 106, SYN | ACK, b""),
        e(C, S, 106, 901, ACK | PSH, b"-more"),
    ];
    assert_eq!(streams(only(&run(1, &frames))).0, b"early-more");
}

#[test]
fn truncated_frames_and_fragments_are_noted() {
    let records = vec![
        (e(C, S, 100, 0, SYN, b""), 60),
        // Captured 10 bytes short: the payload is cut.
        {
            let full = e(C, S, 101, 0, ACK | PSH, &[0x41; 40]);
            let cut = full[..full.len() - 10].to_vec();
            (cut, full.len() as u32)
        },
    ];
    let loaded = load(&pcap_records(1, &records), Format::Auto).unwrap();
    let flow = only(&loaded);
    assert_eq!(streams(flow).0.len(), 30);
    assert!(
        flow.notes
            .iter()
            .any(|n| n.contains("frame 2 was truncated")),
        "{:?}",
        flow.notes
    );

    let u1: V4 = ([10, 9, 9, 1], 5000);
    let u2: V4 = ([10, 9, 9, 2], 5001);
    let frames = vec![
        eth(0x0800, &ipv4_udp(u1, u2, b"whole")),
        // A first fragment (more fragments set) and a later one (offset 185 * 8).
        eth(
            0x0800,
            &ipv4(u1.0, u2.0, 17, 0x2000, &udp(5000, 5001, &[1; 100])),
        ),
        eth(0x0800, &ipv4(u1.0, u2.0, 17, 185, &[2; 50])),
    ];
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    assert_eq!(segs(flow), [seg(1, true, "whole")]);
    assert!(
        flow.notes
            .iter()
            .any(|n| n.contains("2 IP fragment(s)") && n.contains("frames 2, 3")),
        "{:?}",
        flow.notes
    );
}

/// Thousands of segments behind a gap that is never filled, arriving in reverse: the
/// reassembler must stay fast and still deliver everything, in order.
#[test]
fn long_gap_with_many_segments() {
    let n = 20_000u32;
    let mut frames = handshake();
    for i in (0..n).rev() {
        frames.push(e(C, S, 1101 + i, 901, ACK | PSH, &[(i % 251) as u8]));
    }
    let loaded = run(1, &frames);
    let flow = only(&loaded);
    let (client, _) = streams(flow);
    assert_eq!(client.len(), n as usize);
    assert!(client
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8));
    assert!(flow.notes[0].starts_with("gap of 1000 bytes in the client's stream"));
}
