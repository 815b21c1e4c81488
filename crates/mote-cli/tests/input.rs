//! The input side of `mote dissect`: real captures, synthetic captures built here, and
//! robustness against damaged files. Hex dumps are tested in `input_hex.rs`.
//!
//! Real captures are the "Illustrated TLS 1.2 / TLS 1.3 / DTLS 1.3" traces
//! (syncsynchalt/illustrated-tls12, illustrated-tls13, illustrated-dtls; MIT) kept in
//! shared/vectors/captures/, whose `caps/` files hold the same records byte for byte, and the
//! repository's own samples/openssl-tls13.pcap (recorded by scripts/make-samples).

mod common;

use common::capture::*;
use mote_cli::input::{load, Flow, Format, InputError, Loaded, Transport};
use std::net::SocketAddr;

fn vectors(rel: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/vectors/captures/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn caps(trace: &str, names: &[&str]) -> Vec<u8> {
    names
        .iter()
        .flat_map(|n| vectors(&format!("{trace}/captures/caps/{n}")))
        .collect()
}

fn addr(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

fn one_flow(loaded: &Loaded) -> &Flow {
    assert_eq!(loaded.flows.len(), 1, "flows: {:#?}", loaded.flows);
    &loaded.flows[0]
}

#[test]
fn illustrated_tls13_capture() {
    let loaded = load(
        &vectors("illustrated-tls13/captures/capture.pcap"),
        Format::Auto,
    )
    .unwrap();
    assert_eq!(loaded.format, Format::Pcap);
    let flow = one_flow(&loaded);
    assert_eq!(flow.transport, Transport::Tcp);
    assert_eq!(flow.client, addr("127.0.0.1:59219"));
    assert_eq!(flow.server, addr("127.0.0.1:8400"));
    assert!(flow.notes.is_empty(), "{:?}", flow.notes);
    let (client, server) = streams(flow);
    assert_eq!(&client[..3], &[0x16, 0x03, 0x01]);
    assert_eq!(&server[..3], &[0x16, 0x03, 0x03]);
    assert_eq!((client.len(), server.len()), (359, 1865));
    let t = "illustrated-tls13";
    let want_client = caps(
        t,
        &[
            "clienthello",
            "clientccs",
            "clientencfinished",
            "clientencdata",
        ],
    );
    assert_eq!(client, want_client);
    let want_server = caps(
        t,
        &[
            "serverhello",
            "serverccs",
            "serverencextensions",
            "serverenccert",
            "serverenccertverify",
            "serverencfinished",
            "serverencticket1",
            "serverencticket2",
            "serverencdata",
        ],
    );
    assert_eq!(server, want_server);
    // Segments come in capture order, each tagged with its frame.
    let order: Vec<(u64, bool)> = flow
        .segments
        .iter()
        .map(|s| (s.frame, s.from_client))
        .collect();
    assert_eq!(
        order,
        [
            (5, true),
            (7, false),
            (9, true),
            (11, true),
            (13, false),
            (15, false),
            (17, false)
        ]
    );
}

#[test]
fn illustrated_tls12_capture_ipv6_over_bsd_loopback() {
    let loaded = load(
        &vectors("illustrated-tls12/captures/capture.pcap"),
        Format::Auto,
    )
    .unwrap();
    let flow = one_flow(&loaded);
    assert_eq!(flow.transport, Transport::Tcp);
    assert_eq!(flow.client, addr("[::1]:50159"));
    assert_eq!(flow.server, addr("[::1]:8443"));
    let (client, server) = streams(flow);
    assert_eq!(&client[..3], &[0x16, 0x03, 0x01]);
    assert_eq!((client.len(), server.len()), (393, 1316));
    let t = "illustrated-tls12";
    let c = &[
        "clienthello",
        "clientkeyexchange",
        "clientccs",
        "clientfinished",
        "clientdata",
    ];
    let mut want = caps(t, c);
    want.extend(caps(t, &["clientalert"]));
    assert_eq!(client, want);
    let s = &[
        "serverhello",
        "servercert",
        "serverkeyexchange",
        "serverhellodone",
        "serverccs",
    ];
    let mut want = caps(t, s);
    want.extend(caps(t, &["serverfinished", "serverdata"]));
    assert_eq!(server, want);
}

#[test]
fn illustrated_dtls_capture() {
    let loaded = load(
        &vectors("illustrated-dtls/captures/capture.pcap"),
        Format::Auto,
    )
    .unwrap();
    let flow = one_flow(&loaded);
    assert_eq!(flow.transport, Transport::Udp);
    assert_eq!(flow.client, addr("127.0.0.1:52862"));
    assert_eq!(flow.server, addr("127.0.0.1:8400"));
    let names = [
        "01-hello-c",
        "02-hello-s",
        "03-encext-shs-prot",
        "04-cert-shs-prot",
        "05-cverify-shs-prot",
        "06-fin-shs-prot",
        "07-fin-chs-prot",
        "08-ack-sap-prot",
        "09-data-cap-prot",
        "10-data-sap-prot",
        "11-bye-sap-prot",
    ];
    assert_eq!(flow.segments.len(), names.len());
    for (i, (seg, name)) in flow.segments.iter().zip(names).enumerate() {
        assert_eq!(seg.frame, i as u64 + 1);
        // The client sent the first hello, its Finished and its application data.
        assert_eq!(seg.from_client, [1, 7, 9].contains(&seg.frame), "{name}");
        assert_eq!(seg.data, caps("illustrated-dtls", &[name]), "{name}");
    }
    assert_eq!(&flow.segments[0].data[..3], &[0x16, 0xfe, 0xfd]);
    let (client, server) = streams(flow);
    assert_eq!((client.len(), server.len()), (262, 1461));
}

#[test]
fn openssl_sample_over_ethernet() {
    let path = format!(
        "{}/../../samples/openssl-tls13.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    let loaded = load(&std::fs::read(path).unwrap(), Format::Pcap).unwrap();
    let flow = one_flow(&loaded);
    // The SYN decides which side is the client (scripts/make-samples recorded this one).
    assert_eq!(flow.client, addr("127.0.0.1:47770"));
    assert_eq!(flow.server, addr("127.0.0.1:36149"));
    let (client, server) = streams(flow);
    assert_eq!(&client[..3], &[0x16, 0x03, 0x01]);
    assert_eq!(
        (client.len(), server.len()),
        (248 + 80 + 89 + 24, 793 + 255 + 255 + 63)
    );
}

/// Every prefix of every sample, and a few thousand corrupted copies, must load or fail
/// cleanly; none may panic.
#[test]
fn damaged_captures_never_panic() {
    let mut samples = vec![
        vectors("illustrated-tls13/captures/capture.pcap"),
        vectors("illustrated-tls12/captures/capture.pcap"),
        vectors("illustrated-dtls/captures/capture.pcap"),
        two_interface_pcapng(false),
        two_interface_pcapng(true),
    ];
    for s in samples.clone() {
        samples.push(pcap_be_nanos(&s));
    }
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for sample in &samples {
        for len in 0..=sample.len() {
            for format in [Format::Auto, Format::Pcap, Format::Pcapng, Format::Hex] {
                let _ = load(&sample[..len], format);
            }
        }
        for _ in 0..400 {
            let mut bad = sample.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bad.len();
                bad[at] = next() as u8;
            }
            let _ = load(&bad, Format::Auto);
        }
    }
}

#[test]
fn cut_short_capture_keeps_frames_with_a_note() {
    let file = vectors("illustrated-tls13/captures/capture.pcap");
    let loaded = load(&file[..file.len() - 10], Format::Auto).unwrap();
    let flow = one_flow(&loaded);
    assert!(
        flow.notes.iter().any(|n| n.contains("cut short")),
        "{:?}",
        flow.notes
    );
    assert_eq!(streams(flow).0.len(), 359);
    // Cut inside the first record: nothing to show, so an error.
    let err = load(&file[..30], Format::Auto).unwrap_err();
    assert!(
        matches!(err, InputError::Capture { offset: 24, .. }),
        "{err}"
    );
}

#[test]
fn garbled_captures_are_errors_with_offsets() {
    let mut file = vectors("illustrated-tls13/captures/capture.pcap");
    // Frame 1's record header starts at 24; its captured length is at 24 + 8.
    file[32..36].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let err = load(&file, Format::Auto).unwrap_err();
    assert!(
        matches!(err, InputError::Capture { offset: 24, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("byte offset 24"), "{err}");

    let err = load(b"\xd4\xc3\xb2\xa1\x02\x00", Format::Auto).unwrap_err();
    assert!(
        matches!(err, InputError::Capture { offset: 0, .. }),
        "{err}"
    );

    let mut ng = two_interface_pcapng(false);
    let second = 28; // the first interface description block follows the 28-byte header
    ng[second + 4..second + 8].copy_from_slice(&7u32.to_le_bytes());
    let err = load(&ng, Format::Pcapng).unwrap_err();
    assert!(
        matches!(err, InputError::Capture { offset: 28, .. }),
        "{err}"
    );

    let err = load(
        &vectors("illustrated-dtls/captures/capture.pcap"),
        Format::Pcapng,
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a pcapng"), "{err}");
    let err = load(&two_interface_pcapng(false), Format::Pcap).unwrap_err();
    assert!(err.to_string().contains("pcapng"), "{err}");
}

#[test]
fn unsupported_link_type_is_an_error() {
    let file = pcap(105, &[vec![0u8; 40]]); // IEEE 802.11
    let err = load(&file, Format::Auto).unwrap_err();
    assert!(err.to_string().contains("link type 105"), "{err}");
}

#[test]
fn auto_detection() {
    let tls = [0x16u8, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00];
    let raw = load(&tls, Format::Auto).unwrap();
    assert_eq!(raw.format, Format::Raw);
    let flow = one_flow(&raw);
    assert_eq!(flow.transport, Transport::Unknown);
    assert_eq!((flow.client, flow.server), (None, None));
    assert_eq!(flow.segments.len(), 1);
    assert_eq!(
        (flow.segments[0].frame, flow.segments[0].from_client),
        (0, true)
    );
    assert_eq!(flow.segments[0].data, tls);

    let hex = load(b"16 03 01 00 02 01 00\n", Format::Auto).unwrap();
    assert_eq!(hex.format, Format::Hex);
    assert_eq!(one_flow(&hex).segments[0].data, tls);

    // Forcing raw keeps the text as bytes; ordinary prose is raw under auto.
    let forced = load(b"16 03", Format::Raw).unwrap();
    assert_eq!(one_flow(&forced).segments[0].data, b"16 03");
    let prose = load(b"hello, world\n", Format::Auto).unwrap();
    assert_eq!(prose.format, Format::Raw);

    assert_eq!(
        load(&two_interface_pcapng(false), Format::Auto)
            .unwrap()
            .format,
        Format::Pcapng
    );
    let be = pcap_be_nanos(&vectors("illustrated-dtls/captures/capture.pcap"));
    let loaded = load(&be, Format::Auto).unwrap();
    assert_eq!(loaded.format, Format::Pcap);
    assert_eq!(one_flow(&loaded).segments.len(), 11);

    assert_eq!("PCAPNG".parse::<Format>(), Ok(Format::Pcapng));
    assert!("tar".parse::<Format>().is_err());
}

#[test]
fn pcapng_two_interfaces_and_every_packet_block() {
    for big_endian in [false, true] {
        let loaded = load(&two_interface_pcapng(big_endian), Format::Auto).unwrap();
        assert_eq!(loaded.format, Format::Pcapng);
        assert_eq!(loaded.flows.len(), 2, "{:#?}", loaded.flows);
        let (eth, raw) = (&loaded.flows[0], &loaded.flows[1]);
        assert_eq!((eth.index, raw.index), (0, 1));
        assert_eq!(eth.transport, Transport::Tcp);
        assert_eq!(eth.client, addr("10.0.0.1:40000"));
        assert_eq!(streams(eth), (b"hello".to_vec(), b"world".to_vec()));
        // Frames: 1 SYN (EPB), 2 UDP on interface 1, 3 client data (SPB), 4 server data (OPB).
        let frames: Vec<u64> = eth.segments.iter().map(|s| s.frame).collect();
        assert_eq!(frames, [3, 4]);
        assert_eq!(raw.transport, Transport::Udp);
        assert_eq!(raw.client, addr("192.0.2.1:5684"));
        assert_eq!(raw.segments[0].data, b"dtls");
        assert_eq!(raw.segments[0].frame, 2);
    }
}
