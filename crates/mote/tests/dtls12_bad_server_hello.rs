//! mote's DTLS 1.2 client against a scripted fake server, in-process and without sockets:
//! the server's first flight (HelloVerifyRequest, ServerHello with extended_master_secret
//! and renegotiation_info, ServerHelloDone for TLS_PSK_WITH_AES_128_CCM_8) is built by hand
//! with mote-wire's emitters. Epoch 0 is plaintext, so no cryptography is needed to take the
//! client to its second flight, and the alert it sends on a refusal is read off the wire.
//!
//! Cases: the good path; every truncation and every length field +1/-1 in the three
//! messages and their record, handshake and fragment headers; refusals of the ServerHello;
//! unexpected messages. Epochs, replays, fragments and the timer are in
//! dtls12_bad_server_flight.rs.

mod common;

// The records, messages, length fields and outcomes of the script; the client, the
// server's flight and the outcomes of the scripted server.
use common::dtls_script::*;
use common::scripted_server::*;
use mote::{Error, PeerMisbehaved, Status, UnixTime};
use mote_wire::{AlertDescription as A, CompressionMethod, HandshakeType, ProtocolVersion};

// ----------------------------------------------------------------------------- the good path

#[test]
fn the_scripted_flight_reaches_the_second_client_flight() {
    let mut c = client();
    let ch1 = sent(&mut c);
    assert_eq!(ch1.len(), 1);
    let r = records(&ch1[0]);
    assert_eq!(r.len(), 1);
    let (t, seq, _, _, body) = hs_of(&r[0]);
    assert_eq!((t, seq, r[0].seq), (HandshakeType::CLIENT_HELLO.0, 0, 0));
    // version, random, empty session id, then an empty cookie.
    assert_eq!(body[2 + 32 + 1], 0, "first ClientHello has no cookie");
    assert_eq!(c.next_timeout(), Some(T0 + 1000));

    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Sent(1));
    assert!(c.negotiated().hello_verify);
    // The second ClientHello echoes the cookie, message_seq 1, record seq 1; the timer
    // restarted from the HelloVerifyRequest's arrival.
    let ch2 = {
        let mut c = client();
        sent(&mut c);
        feed(&mut c, &hvr_dgram()).unwrap();
        sent(&mut c)
    };
    let r = records(&ch2[0]);
    let (t, seq, _, _, body) = hs_of(&r[0]);
    assert_eq!((t, seq, r[0].seq), (HandshakeType::CLIENT_HELLO.0, 1, 1));
    assert_eq!(usize::from(body[35]), COOKIE.len());
    assert_eq!(&body[36..36 + COOKIE.len()], COOKIE);
    assert_eq!(c.next_timeout(), Some(T0 + 10 + 1000));

    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    // The timer runs on until the server's flight is whole.
    assert_eq!(c.next_timeout(), Some(T0 + 10 + 1000));
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
    let r = feed(&mut c, &shd_dgram());
    assert_eq!(r, Ok(()));
    assert_eq!(c.status(), Status::Handshaking);
    let out = sent(&mut c);
    check_second_flight(&out);
    assert_eq!(c.next_timeout(), Some(T0 + 10 + 1000));
}

#[test]
fn server_hello_and_done_in_one_datagram_and_no_hello_verify() {
    // A server that skips the HelloVerifyRequest numbers its messages from 0.
    let mut c = client();
    sent(&mut c);
    let mut d = record(
        HANDSHAKE,
        0,
        0,
        &message(HandshakeType::SERVER_HELLO, 0, &Sh::good().body()),
    );
    d.extend(record(
        HANDSHAKE,
        0,
        1,
        &message(HandshakeType::SERVER_HELLO_DONE, 1, &shd_body()),
    ));
    feed(&mut c, &d).unwrap();
    assert!(!c.negotiated().hello_verify);
    let out = sent(&mut c);
    let recs: Vec<Rec> = out.iter().flat_map(|d| records(d)).collect();
    assert_eq!(hs_of(&recs[0]).1, 1, "ClientKeyExchange is message 1");
    // Both messages in one record work too.
    let mut c = client();
    sent(&mut c);
    let mut payload = message(HandshakeType::SERVER_HELLO, 0, &Sh::good().body());
    payload.extend(message(HandshakeType::SERVER_HELLO_DONE, 1, &shd_body()));
    feed(&mut c, &record(HANDSHAKE, 0, 0, &payload)).unwrap();
    assert_eq!(sent(&mut c).len(), 1);
    assert_eq!(c.status(), Status::Handshaking);
}

// ----------------------------------------------------------------------------- lengths
/// What each header field +1 and -1 does, the same for the HelloVerifyRequest and the
/// ServerHello (a message with a body).
fn header_expectations(f: &str) -> [Outcome; 2] {
    use Outcome::*;
    match f {
        // +1: the record runs past the datagram: dropped (RFC 6347 4.1.2.7).
        // -1: the fragment runs past its record (PeerMisbehaved::FragmentedAcrossKeyChange).
        "record length" => [Quiet, Fatal(A::UNEXPECTED_MESSAGE)],
        // +1: a fragment of a longer message: the client waits for the rest.
        // -1: fragment_length exceeds the message.
        "handshake length" => [Quiet, Fatal(A::DECODE_ERROR)],
        // +1: a later message: dropped. -1 is tested per message.
        "message_seq" => [Quiet, Quiet],
        // Outside the message (-1 wraps to 0xffffff).
        "fragment_offset" => [Fatal(A::DECODE_ERROR), Fatal(A::DECODE_ERROR)],
        // +1: beyond the message; -1: the last byte is read as a cut handshake header.
        "fragment_length" => [Fatal(A::DECODE_ERROR), Fatal(A::DECODE_ERROR)],
        _ => unreachable!(),
    }
}

#[test]
fn hello_verify_request_lengths() {
    let d = hvr_dgram();
    for f in HEADERS {
        let mut want = header_expectations(f.0);
        if f.0 == "message_seq" {
            // -1 wraps to 0xffff: a later message, dropped.
            want[1] = Outcome::Quiet;
        }
        for (delta, want) in [1, -1].into_iter().zip(want) {
            assert_eq!(
                outcome(&mut fresh(), &nudged(&d, f, delta)),
                want,
                "{} {delta:+}",
                f.0
            );
        }
    }
    let cookie_len = ("cookie length", B + 2, 1);
    for delta in [1, -1] {
        let mut c = fresh();
        assert_eq!(
            outcome(&mut c, &nudged(&d, cookie_len, delta)),
            Outcome::Fatal(A::DECODE_ERROR)
        );
        assert!(matches!(c.error(), Some(Error::Decode(_))));
    }
}

#[test]
fn server_hello_lengths() {
    let d = sh_dgram();
    for f in HEADERS {
        let mut want = header_expectations(f.0);
        if f.0 == "message_seq" {
            // message_seq 0, the HelloVerifyRequest's: taken for the server retransmitting
            // it, so the client sends its second ClientHello again at once.
            want[1] = Outcome::Sent(1);
        }
        for (delta, want) in [1, -1].into_iter().zip(want) {
            assert_eq!(
                outcome(&mut after_hvr(), &nudged(&d, f, delta)),
                want,
                "{} {delta:+}",
                f.0
            );
        }
    }
    let body: [Field; 5] = [
        ("session_id length", B + 34, 1),
        ("extensions length", B + 38, 2),
        ("extended_master_secret extension_data length", B + 42, 2),
        ("renegotiation_info extension_data length", B + 46, 2),
        ("renegotiated_connection length", B + 48, 1),
    ];
    for f in body {
        for delta in [1, -1] {
            let mut c = after_hvr();
            assert_eq!(
                outcome(&mut c, &nudged(&d, f, delta)),
                Outcome::Fatal(A::DECODE_ERROR),
                "{} {delta:+}",
                f.0
            );
            assert!(matches!(c.error(), Some(Error::Decode(_))), "{}", f.0);
        }
    }
}

#[test]
fn server_hello_done_lengths() {
    use Outcome::*;
    let d = shd_dgram();
    let want = [
        // -1: the 12-byte header is cut (an empty message has nothing to run past).
        ("record length", [Quiet, Fatal(A::DECODE_ERROR)]),
        // -1 wraps to 0xffffff: an empty first fragment of a 16 MB message, larger than
        // the reassembly buffer: Error::Capacity, internal_error.
        ("handshake length", [Quiet, Fatal(A::INTERNAL_ERROR)]),
        // -1: message 1, the ServerHello's: a retransmission, so the client resends.
        // -1: the ServerHello's number, a repeat of the flight being received: no resend.
        ("message_seq", [Quiet, Quiet]),
        (
            "fragment_offset",
            [Fatal(A::DECODE_ERROR), Fatal(A::DECODE_ERROR)],
        ),
        (
            "fragment_length",
            [Fatal(A::DECODE_ERROR), Fatal(A::DECODE_ERROR)],
        ),
    ];
    for (f, (name, want)) in HEADERS.into_iter().zip(want) {
        assert_eq!(f.0, name);
        for (delta, want) in [1, -1].into_iter().zip(want) {
            assert_eq!(
                outcome(&mut after_sh(), &nudged(&d, f, delta)),
                want,
                "{name} {delta:+}"
            );
        }
    }
    let mut c = after_sh();
    feed(&mut c, &nudged(&d, HEADERS[1], -1)).unwrap_err();
    assert!(matches!(
        c.error(),
        Some(Error::Capacity {
            needed: 0xff_ffff,
            ..
        })
    ));
}

/// Every cut of each datagram, of its record payload (record length fixed up) and of the
/// handshake body (every length fixed up).
#[test]
fn truncations() {
    type Mk = fn() -> C;
    let cases: [(&str, Vec<u8>, Mk); 3] = [
        ("HelloVerifyRequest", hvr_dgram(), fresh),
        ("ServerHello", sh_dgram(), after_hvr),
        ("ServerHelloDone", shd_dgram(), after_sh),
    ];
    for (name, d, mk) in cases {
        // The datagram cut anywhere: a record header or a record that does not fit is
        // dropped with the rest of the datagram.
        for k in 0..d.len() {
            assert_eq!(
                outcome(&mut mk(), &d[..k]),
                Outcome::Quiet,
                "{name} cut at {k}"
            );
        }
        // A whole record whose payload is cut at p: empty (ignored), a cut handshake
        // header (decode_error), a fragment that runs past its record (unexpected_message).
        for p in 0..d.len() - 13 {
            let mut x = d[..13 + p].to_vec();
            put(&mut x, 11, 2, p as u64);
            let want = match p {
                0 => Outcome::Quiet,
                1..=11 => Outcome::Fatal(A::DECODE_ERROR),
                _ => Outcome::Fatal(A::UNEXPECTED_MESSAGE),
            };
            assert_eq!(outcome(&mut mk(), &x), want, "{name} payload cut at {p}");
        }
        // A consistent message with a cut body: decode_error, except a ServerHello that
        // ends after its compression method (legal in TLS 1.2): no extended_master_secret.
        for k in 0..d.len() - B {
            let want = if name == "ServerHello" && k == 38 {
                Outcome::Fatal(A::HANDSHAKE_FAILURE)
            } else {
                Outcome::Fatal(A::DECODE_ERROR)
            };
            assert_eq!(
                outcome(&mut mk(), &body_cut(&d, k)),
                want,
                "{name} body cut at {k}"
            );
        }
    }
}

// ----------------------------------------------------------------------------- refusals

#[test]
fn server_hello_refusals() {
    let cases: [(&str, Sh, A, Error); 6] = [
        (
            "no extended_master_secret (RFC 7627 5.3)",
            Sh {
                ems: false,
                ..Sh::good()
            },
            A::HANDSHAKE_FAILURE,
            Error::Incompatible(mote::Incompatible::NoCommonParameters(
                "extended_master_secret",
            )),
        ),
        (
            "a suite not offered",
            Sh {
                suite: PSK_GCM,
                ..Sh::good()
            },
            A::ILLEGAL_PARAMETER,
            PeerMisbehaved::IllegalParameter("cipher_suite").into(),
        ),
        (
            "DTLS 1.0",
            Sh {
                version: ProtocolVersion::DTLS10,
                ..Sh::good()
            },
            A::PROTOCOL_VERSION,
            Error::Incompatible(mote::Incompatible::Version),
        ),
        (
            "TLS 1.2's version",
            Sh {
                version: ProtocolVersion::TLS12,
                ..Sh::good()
            },
            A::PROTOCOL_VERSION,
            Error::Incompatible(mote::Incompatible::Version),
        ),
        (
            // RFC 5746 section 3.4: handshake_failure.
            "a non-empty renegotiation_info",
            Sh {
                reneg: Some(&[1, 2, 3]),
                ..Sh::good()
            },
            A::HANDSHAKE_FAILURE,
            Error::Incompatible(mote::Incompatible::NoCommonParameters(
                "secure renegotiation (renegotiation_info not empty)",
            )),
        ),
        (
            "a compression method",
            Sh {
                compression: CompressionMethod(1),
                ..Sh::good()
            },
            A::ILLEGAL_PARAMETER,
            PeerMisbehaved::IllegalParameter("compression_method").into(),
        ),
    ];
    for (name, sh, alert, err) in cases {
        let mut c = after_hvr();
        assert_eq!(
            outcome(&mut c, &sh_dgram_with(&sh)),
            Outcome::Fatal(alert),
            "{name}"
        );
        assert_eq!(c.error(), Some(err), "{name}");
        // Nothing more comes out of a failed client, whatever arrives or the clock does.
        feed(&mut c, &shd_dgram()).unwrap();
        c.handle_timeout(UnixTime::from_millis(T0 + 100_000))
            .unwrap();
        assert!(sent(&mut c).is_empty(), "{name}");
        assert_eq!(c.status(), Status::Failed);
    }
    // Without renegotiation_info the ServerHello is accepted (RFC 5746 3.4 leaves that to
    // the client's policy; renegotiation is never done anyway).
    let mut c = after_hvr();
    let sh = Sh {
        reneg: None,
        ..Sh::good()
    };
    assert_eq!(outcome(&mut c, &sh_dgram_with(&sh)), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &shd_dgram()), Outcome::Sent(1));
}

#[test]
fn unexpected_messages_in_the_servers_flight() {
    // A ServerHelloDone where the ServerHello belongs, a second ServerHello.
    let mut c = after_hvr();
    let m = record(
        HANDSHAKE,
        0,
        1,
        &message(HandshakeType::SERVER_HELLO_DONE, 1, &[]),
    );
    assert_eq!(outcome(&mut c, &m), Outcome::Fatal(A::UNEXPECTED_MESSAGE));
    let mut c = after_sh();
    let m = record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::SERVER_HELLO, 2, &Sh::good().body()),
    );
    assert_eq!(outcome(&mut c, &m), Outcome::Fatal(A::UNEXPECTED_MESSAGE));
    // A fatal alert from the server ends the handshake without an answer.
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &record(ALERT, 0, 1, &[2, A::HANDSHAKE_FAILURE.0])),
        Outcome::Other(
            Status::Failed,
            Some(Error::AlertReceived(A::HANDSHAKE_FAILURE)),
            0
        )
    );
}

// ----------------------------------------------------------------------------- engine bugs

/// Found by the `dtls_client_engine` fuzz target: a HelloVerifyRequest and a refused
/// ServerHello in one datagram. The HelloVerifyRequest queues the second ClientHello, the
/// ServerHello fails the handshake: only the fatal alert goes out (RFC 5246 7.2.2: the
/// connection is over), not the flight queued before it.
#[test]
fn a_failed_client_sends_nothing_after_its_alert() {
    let mut c = fresh();
    let mut d = hvr_dgram();
    d.extend(sh_dgram_with(&Sh {
        ems: false,
        ..Sh::good()
    }));
    assert!(feed(&mut c, &d).is_err());
    let out = sent(&mut c);
    assert_eq!(out.len(), 1, "only the alert");
    assert_eq!(alert_of(&CLIENT, &out), Some(A::HANDSHAKE_FAILURE));
}
