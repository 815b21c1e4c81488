//! mote's DTLS 1.2 server against a scripted fake client, in-process and without sockets,
//! on a simulated clock: the ClientHello. It is built by hand with mote-wire's emitters
//! (with the cookie `verify_client_hello` made for it), so each of its length fields can be
//! nudged; the server's answers and alerts are read off the wire (epoch 0 is plaintext).
//!
//! Cases: every truncation and every length field +1/-1 of the ClientHello, both into
//! `verify_client_hello` and into a `DtlsServer`; refusals of the ClientHello; unexpected
//! messages; an engine bug these tests found (a panic in `verify_client_hello`). The rest
//! of the handshake is in dtls12_bad_client_flight.rs.

mod common;

// The records, messages, length fields and outcomes of the script; the server, the hello
// and the outcomes of the scripted client.
use common::dtls_script::*;
use common::scripted_client::*;
use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{Error, PeerMisbehaved, Status};
use mote_crypto::rustcrypto::RustCrypto;
use mote_wire::{
    AlertDescription as A, CipherSuite, CompressionMethod, HandshakeType, ProtocolVersion,
};

// ----------------------------------------------------------------------------- the good path

#[test]
fn the_scripted_hello_passes_the_cookie_and_gets_the_servers_flight() {
    let d = hello();
    assert_eq!(verdict(&d), Ok(HelloVerdict::Accept));
    // Another address, another secret: not accepted; the previous secret still is.
    let mut out = [0u8; 128];
    assert!(matches!(
        verify_client_hello(&RustCrypto, &SECRET, None, b"x", &d, &mut out),
        HelloVerdict::Verify(_)
    ));
    assert!(matches!(
        verify_client_hello(&RustCrypto, &[8; 32], None, PEER, &d, &mut out),
        HelloVerdict::Verify(_)
    ));
    assert_eq!(
        verify_client_hello(&RustCrypto, &[8; 32], Some(&SECRET), PEER, &d, &mut out),
        HelloVerdict::Accept
    );
    let mut s = server();
    let r = feed(&mut s, &d);
    assert_eq!(r, Ok(()));
    assert_eq!(s.status(), Status::Handshaking);
    let out = sent(&mut s);
    check_server_flight(&out);
    let seqs: Vec<u64> = all_records(&out).iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2], "record numbers go on from the hello's");
    assert_eq!(s.negotiated().suite, Some(PSK_CCM_8));
    assert_eq!(s.next_timeout(), Some(T0 + 10 + 1000));
}

// ----------------------------------------------------------------------------- lengths

/// The body fields of the good hello (empty session id, 16-byte cookie, two suites, null
/// compression, then supported_groups, ec_point_formats, signature_algorithms,
/// extended_master_secret, renegotiation_info).
const BODY_FIELDS: [Field; 15] = [
    ("session_id length", B + 34, 1),
    ("cookie length", B + 35, 1),
    ("cipher_suites length", B + 52, 2),
    ("compression_methods length", B + 58, 1),
    ("extensions length", B + 60, 2),
    ("supported_groups extension_data length", B + 64, 2),
    ("named_group_list length", B + 66, 2),
    ("ec_point_formats extension_data length", B + 74, 2),
    ("ec_point_format_list length", B + 76, 1),
    ("signature_algorithms extension_data length", B + 80, 2),
    ("supported_signature_algorithms length", B + 82, 2),
    ("extended_master_secret extension_data length", B + 88, 2),
    ("renegotiation_info extension_data length", B + 92, 2),
    ("renegotiated_connection length", B + 94, 1),
    // Not a length, but where the last one ends.
    ("(end)", B + 95, 0),
];

#[test]
fn the_hello_layout_is_as_the_offsets_say() {
    let d = hello();
    let want: [u64; 14] = [0, 16, 4, 1, 33, 6, 4, 2, 1, 4, 2, 0, 1, 0];
    for (f, v) in BODY_FIELDS.iter().zip(want) {
        assert_eq!(get(&d, f.1, f.2), v, "{}", f.0);
    }
    assert_eq!(d.len(), BODY_FIELDS[14].1);
    assert_eq!(get(&d, B + 62, 2), 10, "supported_groups");
    assert_eq!(get(&d, B + 90, 2), 0xff01, "renegotiation_info last");
}

/// What each header field +1 and -1 does to the server and to `verify_client_hello`.
fn header_expectations(f: &str) -> [(Outcome, HelloVerdict); 2] {
    use HelloVerdict::*;
    use Outcome::*;
    match f {
        // +1: the record runs past the datagram: dropped (RFC 6347 4.1.2.7).
        // -1: the fragment runs past its record (FragmentedAcrossKeyChange).
        "record length" => [(Quiet, Drop), (Fatal(A::UNEXPECTED_MESSAGE), Drop)],
        // +1: the first fragment of a longer message: the server waits for the rest; the
        // stateless check wants the hello whole. -1: fragment_length exceeds the message.
        "handshake length" => [(Quiet, Drop), (Fatal(A::DECODE_ERROR), Drop)],
        // The server takes the client's numbering from its first message; the cookie does
        // not cover the handshake header: accepted either way.
        "message_seq" => [(Sent(1), Accept), (Sent(1), Accept)],
        // Outside the message (-1 wraps to 0xffffff).
        "fragment_offset" => [
            (Fatal(A::DECODE_ERROR), Drop),
            (Fatal(A::DECODE_ERROR), Drop),
        ],
        // +1: beyond the message; -1: a fragment, and its last byte is read as a cut
        // handshake header.
        "fragment_length" => [
            (Fatal(A::DECODE_ERROR), Drop),
            (Fatal(A::DECODE_ERROR), Drop),
        ],
        _ => unreachable!(),
    }
}

#[test]
fn client_hello_header_lengths() {
    let d = hello();
    for f in HEADERS {
        let want = header_expectations(f.0);
        for (delta, (want_s, want_v)) in [1, -1].into_iter().zip(want) {
            let x = nudged(&d, f, delta);
            let what = format!("{} {delta:+}", f.0);
            assert_eq!(outcome(&mut server(), &x), want_s, "{what}");
            if want_v == HelloVerdict::Accept {
                // The handshake header is outside the cookie's HMAC.
                assert_eq!(verdict(&x), Ok(HelloVerdict::Accept), "{what}");
            } else {
                check_verdict(&x, Some(want_v), &what);
            }
        }
    }
}

#[test]
fn client_hello_body_lengths() {
    let d = hello();
    for f in &BODY_FIELDS[..14] {
        // Each +1 and -1 is a decode_error; the cookie is never accepted (every body
        // change changes the HMAC).
        for delta in [1, -1] {
            let want = Outcome::Fatal(A::DECODE_ERROR);
            let x = nudged(&d, *f, delta);
            let mut s = server();
            assert_eq!(outcome(&mut s, &x), want, "{} {delta:+}", f.0);
            assert!(matches!(s.error(), Some(Error::Decode(_))), "{}", f.0);
            check_verdict(&x, None, &format!("{} {delta:+}", f.0));
        }
    }
}

/// Every cut of the hello datagram, of its record payload (record length fixed up) and of
/// the handshake body (every length fixed up).
#[test]
fn client_hello_truncations() {
    let d = hello();
    // The datagram cut anywhere: a record header or a record that does not fit is dropped
    // with the rest of the datagram.
    for k in 0..d.len() {
        assert_eq!(
            outcome(&mut server(), &d[..k]),
            Outcome::Quiet,
            "cut at {k}"
        );
        assert_eq!(verdict(&d[..k]), Ok(HelloVerdict::Drop), "cut at {k}");
    }
    // A whole record whose payload is cut at p: empty (ignored), a cut handshake header
    // (decode_error), a fragment that runs past its record (unexpected_message).
    for p in 0..d.len() - 13 {
        let mut x = d[..13 + p].to_vec();
        put(&mut x, 11, 2, p as u64);
        let want = match p {
            0 => Outcome::Quiet,
            1..=11 => Outcome::Fatal(A::DECODE_ERROR),
            _ => Outcome::Fatal(A::UNEXPECTED_MESSAGE),
        };
        assert_eq!(outcome(&mut server(), &x), want, "payload cut at {p}");
        check_verdict(&x, Some(HelloVerdict::Drop), &format!("payload cut at {p}"));
    }
    // A consistent hello with a cut body: decode_error, except one that ends after its
    // compression methods (legal): no extended_master_secret, handshake_failure.
    for k in 0..d.len() - B {
        let x = body_cut(&d, k);
        let want = if k == 60 {
            Outcome::Fatal(A::HANDSHAKE_FAILURE)
        } else {
            Outcome::Fatal(A::DECODE_ERROR)
        };
        assert_eq!(outcome(&mut server(), &x), want, "body cut at {k}");
        // Up to the cookie's end the cookie cannot be found; after it, the HMAC differs.
        let want_v = verdict(&x);
        if k < 52 {
            assert_eq!(want_v, Ok(HelloVerdict::Drop), "body cut at {k}");
        } else {
            assert!(
                matches!(want_v, Ok(HelloVerdict::Verify(_))),
                "body cut at {k}: {want_v:?}"
            );
        }
    }
}

// ----------------------------------------------------------------------------- refusals

#[test]
fn client_hello_refusals() {
    let nc = |what| Error::Incompatible(mote::Incompatible::NoCommonParameters(what));
    let cases: [(&str, Ch, A, Error); 6] = [
        (
            "no suite in common",
            Ch {
                suites: vec![CipherSuite(0x002f), ECDSA_CCM_8],
                ..Ch::good()
            },
            A::HANDSHAKE_FAILURE,
            nc("cipher suite"),
        ),
        (
            "no extended_master_secret (RFC 7627 5.3)",
            Ch {
                ems: false,
                ..Ch::good()
            },
            A::HANDSHAKE_FAILURE,
            nc("extended_master_secret"),
        ),
        (
            "DTLS 1.0 only",
            Ch {
                version: ProtocolVersion::DTLS10,
                ..Ch::good()
            },
            A::PROTOCOL_VERSION,
            Error::Incompatible(mote::Incompatible::Version),
        ),
        (
            // RFC 5746 section 3.6.
            "a non-empty renegotiation_info",
            Ch {
                reneg: Some(&[1, 2, 3]),
                ..Ch::good()
            },
            A::HANDSHAKE_FAILURE,
            nc("secure renegotiation (renegotiation_info not empty)"),
        ),
        (
            "compression without null",
            Ch {
                compression: vec![CompressionMethod(1)],
                ..Ch::good()
            },
            A::ILLEGAL_PARAMETER,
            PeerMisbehaved::IllegalParameter("compression_methods").into(),
        ),
        (
            "only an ECDSA suite, and the server has no certificate",
            Ch {
                suites: vec![ECDSA_CCM_8],
                ..Ch::good()
            },
            A::HANDSHAKE_FAILURE,
            nc("cipher suite"),
        ),
    ];
    for (name, ch, alert, err) in cases {
        let d = ch.dgram();
        // The cookie is the hello's own: the stateless check lets it through.
        assert_eq!(verdict(&d), Ok(HelloVerdict::Accept), "{name}");
        let mut s = server();
        assert_eq!(outcome(&mut s, &d), Outcome::Fatal(alert), "{name}");
        assert_eq!(s.error(), Some(err), "{name}");
        assert_eq!(s.status(), Status::Failed);
    }
    // Accepted: no renegotiation_info (the SCSV is not required either), compression
    // offered along with null.
    for ch in [
        Ch {
            reneg: None,
            ..Ch::good()
        },
        Ch {
            compression: vec![CompressionMethod(1), CompressionMethod::NULL],
            ..Ch::good()
        },
    ] {
        let mut s = server();
        assert_eq!(outcome(&mut s, &ch.dgram()), Outcome::Sent(1));
    }
}

#[test]
fn a_good_hello_then_garbage_in_one_datagram_sends_only_the_alert() {
    // The hello queues the flight; a cut handshake header after it fails the handshake:
    // only the alert goes out.
    let mut d = hello();
    d.extend(record(
        HANDSHAKE,
        0,
        2,
        &[HandshakeType::CLIENT_KEY_EXCHANGE.0, 0],
    ));
    let mut s = server();
    assert_eq!(outcome(&mut s, &d), Outcome::Fatal(A::DECODE_ERROR));
}

#[test]
fn unexpected_messages() {
    // A ClientKeyExchange where the hello belongs; a second ClientHello where the
    // ClientKeyExchange belongs; a Finished in the clear.
    let cke = record(
        HANDSHAKE,
        0,
        1,
        &message(
            HandshakeType::CLIENT_KEY_EXCHANGE,
            1,
            &[&[0, 8][..], IDENTITY].concat(),
        ),
    );
    assert_eq!(
        outcome(&mut server(), &cke),
        Outcome::Fatal(A::UNEXPECTED_MESSAGE)
    );
    let mut s = after_hello();
    let mut again = nudged(&hello(), ("message_seq", 17, 2), 1);
    put(&mut again, 5, 6, 2);
    assert_eq!(
        outcome(&mut s, &again),
        Outcome::Fatal(A::UNEXPECTED_MESSAGE)
    );
    let mut s = after_hello();
    let fin = record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::FINISHED, 2, &[0; 12]),
    );
    assert_eq!(outcome(&mut s, &fin), Outcome::Fatal(A::UNEXPECTED_MESSAGE));
    // A fatal alert from the client ends it without an answer.
    let mut s = after_hello();
    assert_eq!(
        outcome(&mut s, &record(ALERT, 0, 2, &[2, A::HANDSHAKE_FAILURE.0])),
        Outcome::Other(
            Status::Failed,
            Some(Error::AlertReceived(A::HANDSHAKE_FAILURE)),
            0
        )
    );
}

// ----------------------------------------------------------------------------- engine bugs

/// `verify_client_hello` (server/cookie.rs) slices the hello body as
/// `frag[12..12 + h.length]` after checking only that the handshake header is not a
/// fragment, never that the record holds `h.length` bytes: a record one byte shorter than
/// its (unfragmented) hello panicked with "range end index out of range", reachable by any
/// unauthenticated datagram before any state exists. It is `Drop`.
#[test]
fn a_hello_longer_than_its_record_is_dropped_by_the_cookie_check() {
    let d = hello();
    let short = nudged(&d, HEADERS[0], -1);
    assert_eq!(verdict(&short), Ok(HelloVerdict::Drop), "record length -1");
    // The smallest: a record of just the 12-byte header of a 1-byte ClientHello.
    let tiny = record(
        HANDSHAKE,
        0,
        0,
        &message(HandshakeType::CLIENT_HELLO, 0, &[0])[..12],
    );
    assert_eq!(verdict(&tiny), Ok(HelloVerdict::Drop), "header only");
}
