//! mote's DTLS 1.2 client against a scripted fake server, in-process and without sockets:
//! the server's first flight (HelloVerifyRequest, ServerHello with extended_master_secret
//! and renegotiation_info, ServerHelloDone for TLS_PSK_WITH_AES_128_CCM_8) is built by hand
//! with mote-wire's emitters. Epoch 0 is plaintext, so no cryptography is needed to take the
//! client to its second flight, and the alert it sends on a refusal is read off the wire.
//!
//! Cases: every truncation and every length field +1/-1 in the three messages and their
//! record, handshake and fragment headers; refusals of the ServerHello; records of wrong
//! epochs; duplicates and replays; fragments reordered, overlapping or out of bounds; the
//! retransmission timer on a simulated clock.

mod common;

// The records, messages, length fields and outcomes of the script.
use common::dtls_script::*;
use mote::{
    DtlsClient, DtlsClientConfig, Error, ExternalPsk, PeerMisbehaved, RetransmitConfig, Status,
    UnixTime,
};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::handshake::{HandshakeMessage, HelloVerifyRequest, ServerHello, ServerHelloDone};
use mote_wire::{
    AlertDescription as A, CipherSuite, CompressionMethod, HandshakeType, List, ProtocolVersion,
};

const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
const PSK_GCM: CipherSuite = CipherSuite(0x00a8);
const SUITES: [CipherSuite; 1] = [PSK_CCM_8];
const KEY: [u8; 16] = [0x11; 16];
const COOKIE: &[u8] = b"cookie-0123456789";
type C = DtlsClient<'static, 'static, RustCrypto>;

fn config() -> DtlsClientConfig<'static> {
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = &SUITES;
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    });
    cfg
}

/// A client (its buffers and configuration leaked: tests only) started at `T0`.
fn client_with(cfg: DtlsClientConfig<'static>) -> C {
    let cfg: &'static DtlsClientConfig<'static> = Box::leak(Box::new(cfg));
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let tx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    DtlsClient::new(
        RustCrypto,
        cfg,
        &mut Counter(0),
        UnixTime::from_millis(T0),
        rx,
        2048,
        tx,
    )
    .unwrap()
}

fn client() -> C {
    client_with(config())
}

// ----------------------------------------------------------------------------- the wire

/// The records of a datagram the client wrote (all must be whole).
fn records(d: &[u8]) -> Vec<Rec> {
    records_of(&CLIENT, d)
}

/// The (type, message_seq, fragment_offset, fragment_length, body) of a handshake record's
/// first fragment.
fn hs_of(r: &Rec) -> (u8, u16, u32, u32, Vec<u8>) {
    let b = &r.body;
    let u24 = |x: &[u8]| u32::from(x[0]) << 16 | u32::from(x[1]) << 8 | u32::from(x[2]);
    (
        b[0],
        u16::from_be_bytes([b[4], b[5]]),
        u24(&b[6..9]),
        u24(&b[9..12]),
        b[12..].to_vec(),
    )
}

fn hvr_body(cookie: &[u8]) -> Vec<u8> {
    // RFC 6347 section 4.2.1: DTLS 1.0 in server_version whatever is negotiated later.
    body_of(HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
        server_version: ProtocolVersion::DTLS10,
        cookie,
    }))
}

/// What a ServerHello is built from; `good()` is the one the client accepts.
#[derive(Clone)]
struct Sh {
    version: ProtocolVersion,
    suite: CipherSuite,
    compression: CompressionMethod,
    ems: bool,
    /// `None`: no renegotiation_info.
    reneg: Option<&'static [u8]>,
    random: [u8; 32],
}

impl Sh {
    fn good() -> Sh {
        Sh {
            version: ProtocolVersion::DTLS12,
            suite: PSK_CCM_8,
            compression: CompressionMethod::NULL,
            ems: true,
            reneg: Some(&[]),
            random: [0x5e; 32],
        }
    }

    fn body(&self) -> Vec<u8> {
        let exts = ems_and_reneg(self.ems, self.reneg);
        body_of(HandshakeMessage::ServerHello(ServerHello {
            legacy_version: self.version,
            random: self.random,
            legacy_session_id_echo: &[],
            cipher_suite: self.suite,
            legacy_compression_method: self.compression,
            extensions: Some(List::Items(&exts)),
        }))
    }
}

fn shd_body() -> Vec<u8> {
    body_of(HandshakeMessage::ServerHelloDone(ServerHelloDone))
}

/// The server's datagrams of a whole exchange with a HelloVerifyRequest: record sequence
/// numbers 0, 1, 2; message_seq 0 for the HelloVerifyRequest (it answers ClientHello 0), 1
/// and 2 for the ServerHello and ServerHelloDone (the second ClientHello was 1).
fn hvr_dgram() -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        0,
        &message(HandshakeType::HELLO_VERIFY_REQUEST, 0, &hvr_body(COOKIE)),
    )
}

fn sh_dgram_with(sh: &Sh) -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        1,
        &message(HandshakeType::SERVER_HELLO, 1, &sh.body()),
    )
}

fn sh_dgram() -> Vec<u8> {
    sh_dgram_with(&Sh::good())
}

fn shd_dgram() -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::SERVER_HELLO_DONE, 2, &shd_body()),
    )
}

// ----------------------------------------------------------------------------- outcomes

fn outcome(c: &mut C, d: &[u8]) -> Outcome {
    let r = feed(c, d);
    outcome_of(&CLIENT, c, r, |_| {})
}

/// A client that has had the HelloVerifyRequest (its second ClientHello sent).
fn after_hvr() -> C {
    let mut c = client();
    sent(&mut c);
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Sent(1));
    c
}

/// A client that has had the HelloVerifyRequest and the ServerHello.
fn after_sh() -> C {
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    c
}

/// The client's second flight: ClientKeyExchange (epoch 0), change_cipher_spec (epoch 0),
/// Finished (epoch 1, sealed), checked in outline.
fn check_second_flight(out: &[Vec<u8>]) {
    let recs: Vec<Rec> = out.iter().flat_map(|d| records(d)).collect();
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!((recs[0].ct, recs[0].epoch), (HANDSHAKE, 0));
    let (t, seq, off, flen, body) = hs_of(&recs[0]);
    assert_eq!((t, seq, off), (HandshakeType::CLIENT_KEY_EXCHANGE.0, 2, 0));
    // psk_identity<0..2^16-1>
    assert_eq!(body, [&[0, 8][..], b"sensor-1"].concat());
    assert_eq!(flen as usize, body.len());
    assert_eq!(
        (recs[1].ct, recs[1].epoch, &recs[1].body[..]),
        (CCS, 0, &[1u8][..])
    );
    // epoch 1, sequence 0: 8-byte explicit nonce, 12+12 bytes of Finished, 8-byte CCM_8 tag.
    assert_eq!((recs[2].ct, recs[2].epoch), (HANDSHAKE, 1));
    assert_eq!(recs[2].body.len(), 8 + 24 + 8);
}

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

fn fresh() -> C {
    let mut c = client();
    sent(&mut c);
    c
}

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

// ----------------------------------------------------------------------------- epochs, replays

#[test]
fn records_of_other_epochs_are_dropped() {
    let mut c = after_hvr();
    let sh = message(HandshakeType::SERVER_HELLO, 1, &Sh::good().body());
    // Epoch 2 and 0xffff do not exist; epoch 1 has no keys yet (a garbage "ciphertext").
    for epoch in [2u16, 0xffff, 1] {
        assert_eq!(
            outcome(&mut c, &record(HANDSHAKE, epoch, 1, &sh)),
            Outcome::Quiet,
            "{epoch}"
        );
    }
    let bogus_alert = record(ALERT, 1, 7, &[0u8; 8 + 2 + 8]);
    assert_eq!(outcome(&mut c, &bogus_alert), Outcome::Quiet);
    let bogus_ccs = record(CCS, 1, 8, &[1]);
    assert_eq!(outcome(&mut c, &bogus_ccs), Outcome::Quiet);
    // A change_cipher_spec in epoch 0 before any keys: dropped as a reordered one would be.
    assert_eq!(outcome(&mut c, &record(CCS, 0, 9, &[1])), Outcome::Quiet);
    // The real ServerHello still works after all that (the window took none of them).
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &shd_dgram()), Outcome::Sent(1));
    // And after the keys exist, an epoch-1 record that does not authenticate: dropped.
    assert_eq!(
        outcome(&mut c, &record(HANDSHAKE, 1, 0, &[0u8; 40])),
        Outcome::Quiet
    );
    assert_eq!(c.status(), Status::Handshaking);
}

#[test]
fn duplicates_and_replays() {
    // The same HelloVerifyRequest datagram twice: the replay window drops the second.
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Quiet);
    // The same ServerHello datagram twice, then the ServerHelloDone twice.
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    let mut both = shd_dgram();
    both.extend(shd_dgram());
    let out = {
        feed(&mut c, &both).unwrap();
        sent(&mut c)
    };
    check_second_flight(&out);
    assert_eq!(outcome(&mut c, &shd_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Quiet);
    // A record sequence number far below the window is dropped too; one inside the window
    // but not yet seen, carrying an old message, is a retransmission (below).
    assert_eq!(c.status(), Status::Handshaking);
}

#[test]
fn a_retransmitted_server_flight_brings_ours_again() {
    // The server's whole flight again, under new record numbers: the client's second flight
    // was lost, so it goes out again at once (RFC 6347 4.2.4), with new record numbers.
    let mut c = after_sh();
    feed(&mut c, &shd_dgram()).unwrap();
    let first = sent(&mut c);
    check_second_flight(&first);
    let again = |seq: u64, m: Vec<u8>| record(HANDSHAKE, 0, seq, &m);
    let mut d = again(
        10,
        message(HandshakeType::SERVER_HELLO, 1, &Sh::good().body()),
    );
    d.extend(again(11, message(HandshakeType::SERVER_HELLO_DONE, 2, &[])));
    feed(&mut c, &d).unwrap();
    let second = sent(&mut c);
    check_second_flight(&second);
    let seqs = |o: &[Vec<u8>]| -> Vec<(u16, u64)> {
        o.iter()
            .flat_map(|d| records(d))
            .map(|r| (r.epoch, r.seq))
            .collect()
    };
    assert_eq!(seqs(&first), [(0, 2), (0, 3), (1, 0)]);
    assert_eq!(seqs(&second), [(0, 4), (0, 5), (1, 1)]);
    assert_eq!(c.status(), Status::Handshaking);
}

// ----------------------------------------------------------------------------- fragments

fn sh_fragment_record(rec_seq: u64, offset: usize, part: &[u8], total: usize) -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        rec_seq,
        &fragment(HandshakeType::SERVER_HELLO, 1, total, offset, part),
    )
}

#[test]
fn server_hello_in_three_fragments_delivered_3_1_2() {
    let body = Sh::good().body();
    let n = body.len();
    let (a, b) = (n / 3, 2 * n / 3);
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(3, b, &body[b..], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &body[..a], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, None, "not whole yet");
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, a, &body[a..b], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    assert_eq!(outcome(&mut c, &shd), Outcome::Sent(1));
    // The three in one datagram, same order.
    let mut c = after_hvr();
    let mut d = sh_fragment_record(3, b, &body[b..], n);
    d.extend(sh_fragment_record(1, 0, &body[..a], n));
    d.extend(sh_fragment_record(2, a, &body[a..b], n));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    d.extend(shd);
    assert_eq!(outcome(&mut c, &d), Outcome::Sent(1));
    // Fragments of the ServerHelloDone arriving before the ServerHello is whole are
    // dropped (only the next message is reassembled) and come with the retransmission.
    let mut c = after_hvr();
    let mut d = sh_fragment_record(1, 0, &body[..a], n);
    d.extend(shd_dgram());
    assert_eq!(outcome(&mut c, &d), Outcome::Quiet);
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(3, a, &body[a..], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    assert_eq!(outcome(&mut c, &shd), Outcome::Sent(1));
}

#[test]
fn fragments_out_of_bounds_or_contradicting() {
    let body = Sh::good().body();
    let n = body.len();
    // fragment_length beyond the message total: the header does not parse.
    let mut m = fragment(HandshakeType::SERVER_HELLO, 1, n, 0, &body);
    put(&mut m, 1, 3, (n - 1) as u64);
    assert_eq!(
        outcome(&mut after_hvr(), &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::DECODE_ERROR)
    );
    // Offset plus length beyond the total.
    let m = fragment(HandshakeType::SERVER_HELLO, 1, n, 10, &body);
    assert_eq!(
        outcome(&mut after_hvr(), &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::DECODE_ERROR)
    );
    // A message total over the reassembly buffer (2048 here): Error::Capacity,
    // internal_error, even though it is the peer's doing.
    let m = fragment(HandshakeType::SERVER_HELLO, 1, 4000, 0, &body);
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::INTERNAL_ERROR)
    );
    assert!(matches!(
        c.error(),
        Some(Error::Capacity { needed: 4000, .. })
    ));
    // Two fragments of message 1 that disagree on its total, or on its type:
    // illegal_parameter.
    let inconsistent: Error = PeerMisbehaved::IllegalParameter("handshake fragment").into();
    let mut c = after_hvr();
    let first = sh_fragment_record(1, 0, &body[..10], n);
    assert_eq!(outcome(&mut c, &first), Outcome::Quiet);
    let longer = sh_fragment_record(2, 10, &body[10..], n + 1);
    assert_eq!(
        outcome(&mut c, &longer),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(c.error(), Some(inconsistent));
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &first), Outcome::Quiet);
    let other = fragment(HandshakeType::CERTIFICATE, 1, n, 10, &body[10..]);
    let other = record(HANDSHAKE, 0, 2, &other);
    assert_eq!(
        outcome(&mut c, &other),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(c.error(), Some(inconsistent));
    // More holes than the assembler tracks (MAX_RANGES = 8): the ninth fragment is
    // dropped, and the message still completes when the rest comes.
    let mut c = after_hvr();
    for i in 0..9u64 {
        let at = 2 + 5 * i as usize;
        let f = sh_fragment_record(1 + i, at, &body[at..at + 1], n);
        assert_eq!(outcome(&mut c, &f), Outcome::Quiet, "fragment {i}");
    }
    assert_eq!(c.negotiated().suite, None);
    let whole = sh_fragment_record(10, 0, &body, n);
    assert_eq!(outcome(&mut c, &whole), Outcome::Quiet);
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
}

#[test]
fn overlapping_fragments_with_different_content_last_write_wins() {
    // The first fragment says TLS_PSK_WITH_AES_128_CCM_8 (bytes 35..37 of the body), an
    // overlapping later one says TLS_PSK_WITH_AES_128_GCM_SHA256 there. No consistency
    // check is made: the later bytes are kept, and the client refuses that suite.
    let body = Sh::good().body();
    let n = body.len();
    let mut other = body.clone();
    other[35..37].copy_from_slice(&PSK_GCM.0.to_be_bytes());
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &body[..40], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, 30, &other[30..], n)),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(
        c.error(),
        Some(PeerMisbehaved::IllegalParameter("cipher_suite").into())
    );
    // The other way round, the good suite written last wins and the handshake goes on.
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &other[..40], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, 30, &body[30..], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
}

// ----------------------------------------------------------------------------- the timer

/// The ClientHello in `out` (one datagram, one record): its record seq and message.
fn client_hello(out: &[Vec<u8>]) -> (u64, (u8, u16, u32, u32, Vec<u8>)) {
    assert_eq!(out.len(), 1, "one datagram");
    let r = records(&out[0]);
    assert_eq!(r.len(), 1);
    let h = hs_of(&r[0]);
    assert_eq!(h.0, HandshakeType::CLIENT_HELLO.0);
    (r[0].seq, h)
}

#[test]
fn unanswered_client_hello_is_retransmitted_with_doubling_then_times_out() {
    let mut c = client();
    let (seq0, first) = client_hello(&sent(&mut c));
    assert_eq!(seq0, 0);
    // RFC 6347 4.2.4: 1 s, doubling, up to the 60 s ceiling; seven retransmissions
    // (RetransmitConfig::new()), then Error::HandshakeTimeout without an alert.
    let at = [1, 3, 7, 15, 31, 63, 123];
    for (i, s) in at.iter().enumerate() {
        let due = T0 + s * 1000;
        assert_eq!(c.next_timeout(), Some(due), "retransmission {}", i + 1);
        c.handle_timeout(UnixTime::from_millis(due - 1)).unwrap();
        assert!(sent(&mut c).is_empty(), "nothing before the deadline");
        c.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let (seq, again) = client_hello(&sent(&mut c));
        assert_eq!(seq, i as u64 + 1, "a fresh record number");
        assert_eq!(again, first, "the same ClientHello");
        assert_eq!(c.negotiated().retransmissions, i as u32 + 1);
    }
    assert_eq!(c.next_timeout(), Some(T0 + 183_000));
    let e = c.handle_timeout(UnixTime::from_millis(T0 + 183_000));
    assert_eq!(e, Err(Error::HandshakeTimeout { retransmissions: 7 }));
    assert_eq!(c.status(), Status::Failed);
    assert_eq!(
        c.error(),
        Some(Error::HandshakeTimeout { retransmissions: 7 })
    );
    assert!(sent(&mut c).is_empty(), "no alert for a timeout");
    assert_eq!(c.next_timeout(), None);
}

#[test]
fn a_late_timeout_retransmits_once_and_a_small_limit_gives_up_sooner() {
    let mut cfg = config();
    cfg.retransmit = RetransmitConfig {
        initial_ms: 500,
        max_ms: 1500,
        max_retransmissions: 2,
    };
    let mut c = client_with(cfg);
    sent(&mut c);
    // Called long after the deadline: one retransmission, the next timer from now.
    c.handle_timeout(UnixTime::from_millis(T0 + 10_000))
        .unwrap();
    assert_eq!(sent(&mut c).len(), 1);
    assert_eq!(c.next_timeout(), Some(T0 + 11_000));
    c.handle_timeout(UnixTime::from_millis(T0 + 11_000))
        .unwrap();
    assert_eq!(sent(&mut c).len(), 1);
    assert_eq!(c.next_timeout(), Some(T0 + 12_500), "capped at max_ms");
    assert_eq!(
        c.handle_timeout(UnixTime::from_millis(T0 + 12_500)),
        Err(Error::HandshakeTimeout { retransmissions: 2 })
    );
}

#[test]
fn a_resent_hello_verify_request_brings_the_second_client_hello_at_once() {
    let mut c = after_hvr();
    let (_, ch2) = after_hvr_quiet();
    // The server lost our second ClientHello and, stateless, answers the first one again
    // (its retransmission) with a new record number: the client resends at once, without
    // waiting for its timer.
    let mut again = hvr_dgram();
    put(&mut again, 5, 6, 5);
    let before = c.next_timeout();
    feed(&mut c, &again).unwrap();
    let out = sent(&mut c);
    let (seq, h) = client_hello(&out);
    assert_eq!(seq, 2);
    assert_eq!(h, ch2, "the same second ClientHello");
    assert_eq!(c.next_timeout(), before, "the timer is not restarted");
    // A HelloVerifyRequest with a different cookie, as message 0 again: still only a
    // retransmission (message_seq 0 is handled), so the old cookie is sent.
    let other = record(
        HANDSHAKE,
        0,
        6,
        &message(
            HandshakeType::HELLO_VERIFY_REQUEST,
            0,
            &hvr_body(b"another"),
        ),
    );
    // Early resends are limited to one per timer period, so a burst of retransmissions
    // from the peer cannot start a storm: this one is not answered before the timer.
    feed(&mut c, &other).unwrap();
    assert!(sent(&mut c).is_empty());
    let t = c.next_timeout().unwrap();
    c.handle_timeout(UnixTime::from_millis(t)).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    assert_eq!(h, ch2);
    // The same datagram again (same record number): the replay window drops it.
    feed(&mut c, &other).unwrap();
    assert!(sent(&mut c).is_empty());
}

/// A client after the HelloVerifyRequest, and its second ClientHello's message.
fn after_hvr_quiet() -> (C, (u8, u16, u32, u32, Vec<u8>)) {
    let mut c = fresh();
    feed(&mut c, &hvr_dgram()).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    (c, h)
}

#[test]
fn the_timer_is_restarted_by_the_hello_verify_request_and_kept_until_the_server_flight_is_whole() {
    let mut c = fresh();
    c.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    sent(&mut c);
    assert_eq!(c.next_timeout(), Some(T0 + 3000));
    feed_at(&mut c, &hvr_dgram(), T0 + 2000).unwrap();
    sent(&mut c);
    // A new flight: the initial timeout again, from the HelloVerifyRequest's arrival.
    assert_eq!(c.next_timeout(), Some(T0 + 3000));
    c.handle_timeout(UnixTime::from_millis(T0 + 3000)).unwrap();
    let (seq, h) = client_hello(&sent(&mut c));
    assert_eq!((seq, h.1), (3, 1), "ClientHello 1 again, record 3");
    assert_eq!(c.next_timeout(), Some(T0 + 5000));
    feed_at(&mut c, &sh_dgram(), T0 + 4000).unwrap();
    // The ServerHello alone does not stop the timer: if the rest of the server's flight is
    // lost, the hello goes again and the server answers with its whole flight.
    assert_eq!(c.next_timeout(), Some(T0 + 5000));
    c.handle_timeout(UnixTime::from_millis(T0 + 5000)).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    assert_eq!(h.1, 1, "the second ClientHello again");
    feed_at(&mut c, &shd_dgram(), T0 + 70_000).unwrap();
    sent(&mut c);
    assert_eq!(c.next_timeout(), Some(T0 + 71_000));
    c.handle_timeout(UnixTime::from_millis(T0 + 71_000))
        .unwrap();
    check_second_flight(&sent(&mut c));
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

/// Found by the `dtls_client_engine` fuzz target: a close_notify during the handshake ends
/// it, and the retransmission timer with it.
#[test]
fn a_close_notify_during_the_handshake_stops_the_timer() {
    let mut c = fresh();
    feed(&mut c, &record(ALERT, 0, 0, &[1, 0])).unwrap();
    assert_eq!(c.status(), Status::Closed);
    assert_eq!(c.next_timeout(), None);
    c.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    assert!(sent(&mut c).is_empty());
}
