//! mote's DTLS 1.2 server against a scripted fake client, in-process and without sockets,
//! on a simulated clock. The ClientHello is built by hand with mote-wire's emitters (with
//! the cookie `verify_client_hello` made for it), so each of its length fields can be
//! nudged; the server's answers and alerts are read off the wire (epoch 0 is plaintext).
//! For what needs epoch-1 keys, mote's own DtlsClient plays the client and its datagrams
//! are replayed, cut or corrupted; a Finished with a wrong verify_data is sealed with the
//! client's keys, derived here (TLS 1.2 PRF, AES-128-CCM-8) from the master secret its key
//! log gives.
//!
//! Cases: every truncation and every length field +1/-1 of the ClientHello, both into
//! `verify_client_hello` and into a `DtlsServer`; refusals of the ClientHello; a bad
//! ClientKeyExchange and Finished; records of wrong epochs, early change_cipher_spec,
//! duplicates, replays, early application data; the server's retransmissions, and two
//! engine bugs these tests found (a panic in `verify_client_hello`, a plaintext Finished).

mod common;

// The records, messages, length fields and outcomes of the script.
use common::dtls_script::*;
use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, Error, ExternalPsk, KeyLog,
    PeerMisbehaved, Status, UnixTime,
};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{Aead as _, AeadAlgorithm, HashAlgorithm, Provider as _};
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::{ClientHello, ClientKeyExchange, HandshakeMessage};
use mote_wire::{
    AlertDescription as A, CipherSuite, CompressionMethod, EcPointFormat, ExtensionType,
    HandshakeType, List, NamedGroup, ProtocolVersion, SignatureScheme,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
const ECDSA_CCM_8: CipherSuite = CipherSuite(0xc0ae);
const KEY: [u8; 16] = [0x11; 16];
const WRONG_KEY: [u8; 16] = [0x22; 16];
const IDENTITY: &[u8] = b"sensor-1";
const SECRET: [u8; 32] = [7; 32];
const PEER: &[u8] = b"192.0.2.1:5684";

type S = DtlsServer<'static, 'static, RustCrypto>;
type C = DtlsClient<'static, 'static, RustCrypto>;

fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

fn buf(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// The server: PSK only ("sensor-1"), every default suite (the PSK ones are usable).
fn server() -> S {
    let psks: &'static [ExternalPsk<'static>] = leak([ExternalPsk {
        identity: IDENTITY,
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }]);
    let mut cfg = DtlsServerConfig::new();
    cfg.psks = psks;
    let cfg = leak(cfg);
    DtlsServer::new(
        RustCrypto,
        cfg,
        UnixTime::from_millis(T0),
        buf(4096),
        2048,
        buf(4096),
    )
    .unwrap()
}

/// mote's client with the PSK `key` under the identity "sensor-1".
fn real_client(key: &'static [u8; 16], log: Option<&'static dyn KeyLog>) -> C {
    let suites: &'static [CipherSuite] = leak([PSK_CCM_8]);
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = suites;
    cfg.psk = Some(ExternalPsk {
        identity: IDENTITY,
        key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.key_log = log;
    DtlsClient::new(
        RustCrypto,
        leak(cfg),
        &mut Counter(0),
        UnixTime::from_millis(T0),
        buf(4096),
        2048,
        buf(4096),
    )
    .unwrap()
}

fn client_feed(c: &mut C, d: &[u8], now: u64) -> Result<(), Error> {
    let buf = c.recv_buf();
    buf[..d.len()].copy_from_slice(d);
    c.recv_datagram(d.len(), UnixTime::from_millis(now), &mut Counter(0x40))
}

// ----------------------------------------------------------------------------- the wire

/// The records of a datagram the server wrote (all must be whole).
fn records(d: &[u8]) -> Vec<Rec> {
    records_of(&SERVER, d)
}

fn all_records(out: &[Vec<u8>]) -> Vec<Rec> {
    out.iter().flat_map(|d| records(d)).collect()
}

/// The (type, message_seq) of a plaintext handshake record's first fragment.
fn hs_of(r: &Rec) -> (u8, u16) {
    (r.body[0], u16::from_be_bytes([r.body[4], r.body[5]]))
}

// ----------------------------------------------------------------------------- the hello

/// What a ClientHello is built from; `good()` is the one the server accepts.
#[derive(Clone)]
struct Ch {
    version: ProtocolVersion,
    suites: Vec<CipherSuite>,
    compression: Vec<CompressionMethod>,
    ems: bool,
    /// `None`: no renegotiation_info.
    reneg: Option<&'static [u8]>,
}

impl Ch {
    fn good() -> Ch {
        Ch {
            version: ProtocolVersion::DTLS12,
            suites: vec![PSK_CCM_8, ECDSA_CCM_8],
            compression: vec![CompressionMethod::NULL],
            ems: true,
            reneg: Some(&[]),
        }
    }

    fn body(&self, cookie: &[u8]) -> Vec<u8> {
        let groups = [NamedGroup::X25519, NamedGroup::SECP256R1];
        let formats = [EcPointFormat::UNCOMPRESSED];
        let schemes = [SignatureScheme::ECDSA_SECP256R1_SHA256];
        let mut exts = vec![
            Extension {
                typ: ExtensionType::SUPPORTED_GROUPS,
                body: ExtensionBody::NamedGroupList(List::Items(&groups)),
            },
            Extension {
                typ: ExtensionType::EC_POINT_FORMATS,
                body: ExtensionBody::EcPointFormatList(List::Items(&formats)),
            },
            Extension {
                typ: ExtensionType::SIGNATURE_ALGORITHMS,
                body: ExtensionBody::SignatureSchemeList(List::Items(&schemes)),
            },
        ];
        exts.extend(ems_and_reneg(self.ems, self.reneg));
        body_of(HandshakeMessage::ClientHello(ClientHello {
            legacy_version: self.version,
            random: [0xc1; 32],
            legacy_session_id: &[],
            cookie: Some(cookie),
            cipher_suites: List::Items(&self.suites),
            legacy_compression_methods: List::Items(&self.compression),
            extensions: Some(List::Items(&exts)),
        }))
    }

    /// The hello as the second ClientHello of an exchange (record 1, message 1), with the
    /// cookie `verify_client_hello` makes for it and `PEER`.
    fn dgram(&self) -> Vec<u8> {
        let first = record(
            HANDSHAKE,
            0,
            0,
            &message(HandshakeType::CLIENT_HELLO, 0, &self.body(&[])),
        );
        let mut hvr = [0u8; 128];
        let HelloVerdict::Verify(n) = verdict_into(&first, &mut hvr) else {
            panic!("no HelloVerifyRequest for the first hello")
        };
        let r = records(&hvr[..n]);
        let cookie = &r[0].body[12 + 3..];
        assert_eq!(cookie.len(), 16);
        record(
            HANDSHAKE,
            0,
            1,
            &message(HandshakeType::CLIENT_HELLO, 1, &self.body(cookie)),
        )
    }
}

fn hello() -> Vec<u8> {
    Ch::good().dgram()
}

fn verdict_into(d: &[u8], out: &mut [u8]) -> HelloVerdict {
    verify_client_hello(&RustCrypto, &SECRET, None, PEER, d, out)
}

/// `verify_client_hello` on `d`; a panic is reported as `Err`.
fn verdict(d: &[u8]) -> Result<HelloVerdict, String> {
    let mut out = [0u8; 128];
    catch_unwind(AssertUnwindSafe(|| verdict_into(d, &mut out))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// `verify_client_hello` on `d`, which must not panic nor be `Accept`: `want` if given.
fn check_verdict(d: &[u8], want: Option<HelloVerdict>, what: &str) {
    match verdict(d) {
        Ok(v) => {
            if let Some(w) = want {
                assert_eq!(v, w, "verify_client_hello: {what}");
            }
            assert_ne!(v, HelloVerdict::Accept, "verify_client_hello: {what}");
        }
        Err(p) => panic!("verify_client_hello panicked on {what}: {p}"),
    }
}

// ----------------------------------------------------------------------------- outcomes

fn outcome_at(s: &mut S, d: &[u8], now: u64) -> Outcome {
    let r = feed_at(s, d, now);
    outcome_of(&SERVER, s, r, |s| {
        // Nothing after the alert, whatever arrives or the clock does. (A failed
        // server may offer no receive buffer at all: the rest of the datagram it failed
        // on is never read.)
        let h = hello();
        if s.recv_buf().len() >= h.len() {
            feed(s, &h).unwrap();
        }
        s.handle_timeout(UnixTime::from_millis(T0 + 200_000))
            .unwrap();
        assert!(sent(s).is_empty(), "a failed server sent more");
    })
}

fn outcome(s: &mut S, d: &[u8]) -> Outcome {
    outcome_at(s, d, T0 + 10)
}

/// The server's flight for a PSK suite without a hint: ServerHello, ServerHelloDone, as
/// message_seq 1 and 2 (the hello was 1), record numbers continuing the hello's.
fn check_server_flight(out: &[Vec<u8>]) {
    let recs = all_records(out);
    let msgs: Vec<(u8, u16)> = recs.iter().map(hs_of).collect();
    assert!(recs.iter().all(|r| r.ct == HANDSHAKE && r.epoch == 0));
    assert_eq!(
        msgs,
        [
            (HandshakeType::SERVER_HELLO.0, 1),
            (HandshakeType::SERVER_HELLO_DONE.0, 2)
        ]
    );
}

/// A server that took the good hello and sent its flight.
fn after_hello() -> S {
    let mut s = server();
    feed(&mut s, &hello()).unwrap();
    check_server_flight(&sent(&mut s));
    s
}

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

// ----------------------------------------------------------------------------- key exchange

/// A PSK ClientKeyExchange: psk_identity<0..2^16-1>, as message 2, record 2.
fn cke_dgram(identity: &[u8]) -> Vec<u8> {
    let body = body_of(HandshakeMessage::ClientKeyExchange(
        ClientKeyExchange::Psk {
            psk_identity: identity,
        },
    ));
    assert_eq!(
        body,
        [&(identity.len() as u16).to_be_bytes()[..], identity].concat()
    );
    record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::CLIENT_KEY_EXCHANGE, 2, &body),
    )
}

#[test]
fn client_key_exchange_identity_and_lengths() {
    // The right identity: the server waits for the CCS and Finished.
    let mut s = after_hello();
    assert_eq!(outcome(&mut s, &cke_dgram(IDENTITY)), Outcome::Quiet);
    assert_eq!(s.negotiated().psk, Some(0));
    // The timer runs on until the client's Finished (a client gone quiet after its key
    // exchange still ends in HandshakeTimeout).
    assert_eq!(s.next_timeout(), Some(T0 + 10 + 1000));
    // An unknown identity: decrypt_error (RFC 4279 section 2), not unknown_psk_identity.
    for id in [&b"sensor-2"[..], b"", b"sensor-1\0", b"SENSOR-1"] {
        let mut s = after_hello();
        assert_eq!(
            outcome(&mut s, &cke_dgram(id)),
            Outcome::Fatal(A::DECRYPT_ERROR),
            "{id:?}"
        );
        assert_eq!(
            s.error(),
            Some(PeerMisbehaved::DecryptError("the client's PSK identity").into())
        );
    }
    let d = cke_dgram(IDENTITY);
    // Header fields. The record -1 runs the fragment past the record; the handshake length
    // +1 makes a fragment (the server waits); message_seq +1 is a later message (dropped),
    // -1 the hello's (old: the server resends its flight).
    let want: [(&str, [Outcome; 2]); 5] = [
        (
            "record length",
            [Outcome::Quiet, Outcome::Fatal(A::UNEXPECTED_MESSAGE)],
        ),
        (
            "handshake length",
            [Outcome::Quiet, Outcome::Fatal(A::DECODE_ERROR)],
        ),
        ("message_seq", [Outcome::Quiet, Outcome::Sent(1)]),
        (
            "fragment_offset",
            [
                Outcome::Fatal(A::DECODE_ERROR),
                Outcome::Fatal(A::DECODE_ERROR),
            ],
        ),
        (
            "fragment_length",
            [
                Outcome::Fatal(A::DECODE_ERROR),
                Outcome::Fatal(A::DECODE_ERROR),
            ],
        ),
    ];
    for (f, (name, want)) in HEADERS.into_iter().zip(want) {
        assert_eq!(f.0, name);
        for (delta, want) in [1, -1].into_iter().zip(want) {
            assert_eq!(
                outcome(&mut after_hello(), &nudged(&d, f, delta)),
                want,
                "ClientKeyExchange {name} {delta:+}"
            );
        }
    }
    // psk_identity length +1 / -1: decode_error.
    for delta in [1, -1] {
        let mut s = after_hello();
        assert_eq!(
            outcome(&mut s, &nudged(&d, ("psk_identity length", B, 2), delta)),
            Outcome::Fatal(A::DECODE_ERROR),
            "psk_identity length {delta:+}"
        );
        assert!(matches!(s.error(), Some(Error::Decode(_))));
    }
    // Every consistent cut of the body: decode_error.
    for k in 0..d.len() - B {
        assert_eq!(
            outcome(&mut after_hello(), &body_cut(&d, k)),
            Outcome::Fatal(A::DECODE_ERROR),
            "ClientKeyExchange body cut at {k}"
        );
    }
    // Every cut of the datagram: dropped.
    for k in 0..d.len() {
        assert_eq!(
            outcome(&mut after_hello(), &d[..k]),
            Outcome::Quiet,
            "ClientKeyExchange cut at {k}"
        );
    }
}

/// mote's client and server through the cookie exchange and the server's flight: the
/// server, and the client's second flight (ClientKeyExchange, CCS, Finished) as records.
fn real_exchange(key: &'static [u8; 16]) -> (C, S, Vec<Rec>) {
    let (c, s, recs, _) = real_exchange_with(key, None);
    (c, s, recs)
}

/// The client, the server, the client's second flight, the client and server randoms.
type Exchange = (C, S, Vec<Rec>, ([u8; 32], [u8; 32]));

/// As [`real_exchange`], with a key log on the client; also the client and server randoms.
fn real_exchange_with(key: &'static [u8; 16], log: Option<&'static dyn KeyLog>) -> Exchange {
    let mut c = real_client(key, log);
    let first = sent(&mut c);
    assert_eq!(first.len(), 1);
    let mut hvr = [0u8; 128];
    let HelloVerdict::Verify(n) = verdict_into(&first[0], &mut hvr) else {
        panic!("no HelloVerifyRequest")
    };
    client_feed(&mut c, &hvr[..n], T0 + 5).unwrap();
    let second = sent(&mut c);
    assert_eq!(second.len(), 1);
    assert_eq!(verdict(&second[0]), Ok(HelloVerdict::Accept));
    let mut s = server();
    feed(&mut s, &second[0]).unwrap();
    let flight = sent(&mut s);
    check_server_flight(&flight);
    for d in &flight {
        client_feed(&mut c, d, T0 + 20).unwrap();
    }
    let recs = all_records(&sent(&mut c));
    let kinds: Vec<(u8, u16)> = recs.iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(kinds, [(HANDSHAKE, 0), (CCS, 0), (HANDSHAKE, 1)]);
    let random = |r: &Rec| -> [u8; 32] { r.body[12 + 2..12 + 34].try_into().unwrap() };
    let randoms = (
        random(&records(&second[0])[0]),
        random(&all_records(&flight)[0]),
    );
    (c, s, recs, randoms)
}

/// The records as one datagram.
fn dgram(recs: &[Rec]) -> Vec<u8> {
    recs.iter().flat_map(|r| r.raw.clone()).collect()
}

#[test]
fn a_genuine_client_connects_record_by_record() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &recs[0].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    let out = {
        feed(&mut s, &recs[2].raw).unwrap();
        sent(&mut s)
    };
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.client_psk_identity(), Some(IDENTITY));
    // CCS in epoch 0, Finished in epoch 1; no timer on the last flight.
    let kinds: Vec<(u8, u16)> = all_records(&out).iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(kinds, [(CCS, 0), (HANDSHAKE, 1)]);
    assert_eq!(s.next_timeout(), None);
    for d in &out {
        client_feed(&mut c, d, T0 + 30).unwrap();
    }
    assert_eq!(c.status(), Status::Connected);
}

#[test]
fn a_corrupted_finished_is_dropped_and_the_genuine_one_still_works() {
    let (_, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    // Every byte of the sealed Finished (after the header) flipped in turn: it fails to
    // open and is dropped silently (RFC 6347 4.1.2.7), without moving the replay window.
    let fin = &recs[2].raw;
    for i in 13..fin.len() {
        let mut x = fin.clone();
        x[i] ^= 0x01;
        assert_eq!(outcome(&mut s, &x), Outcome::Quiet, "byte {i}");
    }
    // The type and sequence number in the header are authenticated too; epoch 0x0101
    // does not exist; a length that runs past the datagram drops it.
    for i in [0usize, 3, 10, 12] {
        let mut x = fin.clone();
        x[i] ^= 0x01;
        assert_eq!(outcome(&mut s, &x), Outcome::Quiet, "header byte {i}");
    }
    assert_eq!(s.status(), Status::Handshaking);
    assert_eq!(outcome(&mut s, fin), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    // The epoch turned to 0 makes it a plaintext record whose "handshake message" is
    // ciphertext: parsed as such, decode_error.
    let (_, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    let mut x = recs[2].raw.clone();
    x[4] = 0;
    assert_eq!(outcome(&mut s, &x), Outcome::Fatal(A::DECODE_ERROR));
}

#[test]
fn a_client_with_the_wrong_key_is_not_heard() {
    // The identity is known, so the key exchange passes; but the record keys come from the
    // PSK, so the client's Finished record does not open under the server's keys: it is
    // dropped silently (RFC 6347 4.1.2.7), never reaching the verify_data check, and the
    // server times out instead of sending decrypt_error.
    let (_, mut s, recs) = real_exchange(&WRONG_KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Quiet);
    assert_eq!(s.status(), Status::Handshaking);
    // The server's timer runs on until a Finished is taken, so it retransmits and in the
    // end gives up with HandshakeTimeout.
    assert_eq!(s.next_timeout(), Some(T0 + 10 + 1000));
    s.handle_timeout(UnixTime::from_millis(T0 + 10 + 1000))
        .unwrap();
    check_server_flight(&sent(&mut s));
}

/// The master secret a key log saw.
struct Log(Mutex<Vec<u8>>);

impl KeyLog for Log {
    fn log(&self, label: &str, _client_random: &[u8; 32], secret: &[u8]) {
        assert_eq!(label, "CLIENT_RANDOM");
        *self.0.lock().unwrap() = secret.to_vec();
    }
}

/// The TLS 1.2 PRF with SHA-256 (RFC 5246 section 5).
fn prf(secret: &[u8], label: &[u8], seed: &[u8], n: usize) -> Vec<u8> {
    let p = RustCrypto;
    let mut a = p.hmac(HashAlgorithm::Sha256, secret, &[label, seed]);
    let mut out = Vec::new();
    while out.len() < n {
        let block = p.hmac(HashAlgorithm::Sha256, secret, &[a.as_bytes(), label, seed]);
        out.extend_from_slice(block.as_bytes());
        a = p.hmac(HashAlgorithm::Sha256, secret, &[a.as_bytes()]);
    }
    out.truncate(n);
    out
}

/// The client's epoch-1 write key and salt for TLS_PSK_WITH_AES_128_CCM_8.
fn client_write_keys(
    master: &[u8],
    client_random: &[u8],
    server_random: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let seed = [server_random, client_random].concat();
    let kb = prf(master, b"key expansion", &seed, 2 * 16 + 2 * 4);
    (kb[..16].to_vec(), kb[32..36].to_vec())
}

/// The AEAD nonce and additional data of an epoch-1 DTLS 1.2 record (RFC 6655, RFC 6347).
fn nonce_aad(salt: &[u8], header: &[u8], explicit: &[u8], len: usize) -> ([u8; 12], Vec<u8>) {
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(salt);
    nonce[4..].copy_from_slice(explicit);
    let mut aad = header[3..11].to_vec();
    aad.extend_from_slice(&header[..3]);
    aad.extend_from_slice(&(len as u16).to_be_bytes());
    (nonce, aad)
}

/// Opens the client's sealed Finished record with `key`/`salt`: its plaintext.
fn open(key: &[u8], salt: &[u8], rec: &[u8]) -> Vec<u8> {
    let aead = RustCrypto.aead(AeadAlgorithm::Aes128Ccm8, key).unwrap();
    let body = &rec[13..];
    let (explicit, rest) = body.split_at(8);
    let (ct, tag) = rest.split_at(rest.len() - 8);
    let (nonce, aad) = nonce_aad(salt, &rec[..13], explicit, ct.len());
    let mut buf = ct.to_vec();
    aead.open_in_place(&nonce, &aad, &mut buf, tag).unwrap();
    buf
}

/// Seals `plain` as an epoch-1 handshake record with record number `seq`.
fn seal(key: &[u8], salt: &[u8], seq: u64, plain: &[u8]) -> Vec<u8> {
    let aead = RustCrypto.aead(AeadAlgorithm::Aes128Ccm8, key).unwrap();
    let mut header = record(HANDSHAKE, 1, seq, &[]);
    let explicit = header[3..11].to_vec();
    put(&mut header, 11, 2, (8 + plain.len() + 8) as u64);
    let (nonce, aad) = nonce_aad(salt, &header, &explicit, plain.len());
    let mut buf = plain.to_vec();
    let mut tag = [0u8; 8];
    aead.seal_in_place(&nonce, &aad, &mut buf, &mut tag)
        .unwrap();
    [header, explicit, buf, tag.to_vec()].concat()
}

#[test]
fn a_finished_with_a_wrong_verify_data_is_decrypt_error() {
    // The client's epoch-1 keys from its master secret (by the key log): the genuine
    // Finished is opened, its verify_data changed, and the record sealed again under the
    // same record number (the genuine one never reached the server).
    let log: &'static Log = leak(Log(Mutex::new(Vec::new())));
    let (_, mut s, recs, (ch, sh)) = real_exchange_with(&KEY, Some(log));
    let master = log.0.lock().unwrap().clone();
    assert_eq!(master.len(), 48);
    let (key, salt) = client_write_keys(&master, &ch, &sh);
    let fin = &recs[2].raw;
    let plain = open(&key, &salt, fin);
    assert_eq!(plain.len(), 12 + 12);
    assert_eq!(
        &plain[..12],
        &message(HandshakeType::FINISHED, 3, &plain[12..])[..12]
    );
    // The forgery machinery re-makes the genuine record byte for byte.
    assert_eq!(&seal(&key, &salt, 0, &plain), fin);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    for i in [12usize, 17, 23] {
        let mut bad = plain.clone();
        bad[i] ^= 0x80;
        let mut s2 = {
            let (_, mut s2, r2, _) = real_exchange_with(&KEY, None);
            assert_eq!(r2[2].raw, *fin, "deterministic: the same handshake");
            assert_eq!(outcome(&mut s2, &dgram(&r2[..2])), Outcome::Quiet);
            s2
        };
        assert_eq!(
            outcome(&mut s2, &seal(&key, &salt, 0, &bad)),
            Outcome::Fatal(A::DECRYPT_ERROR),
            "verify_data byte {i}"
        );
        assert_eq!(
            s2.error(),
            Some(PeerMisbehaved::DecryptError("the client's Finished").into())
        );
    }
    // A Finished of 11 bytes in a valid record: verify_data is not length-checked by the
    // parser, the comparison fails: decrypt_error. Another message type in epoch 1:
    // unexpected_message.
    let short = message(HandshakeType::FINISHED, 3, &plain[12..23]);
    assert_eq!(
        outcome(&mut s, &seal(&key, &salt, 0, &short)),
        Outcome::Fatal(A::DECRYPT_ERROR)
    );
    let (_, mut s3, r3, _) = real_exchange_with(&KEY, None);
    assert_eq!(outcome(&mut s3, &dgram(&r3[..2])), Outcome::Quiet);
    let other = message(HandshakeType::CLIENT_KEY_EXCHANGE, 3, &[0, 0]);
    assert_eq!(
        outcome(&mut s3, &seal(&key, &salt, 0, &other)),
        Outcome::Fatal(A::UNEXPECTED_MESSAGE)
    );
}

// ----------------------------------------------------------------------------- epochs, replays

#[test]
fn records_of_other_epochs_and_early_ccs_are_dropped() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    let cke_msg = recs[0].body.clone();
    // Epoch 1 has no keys yet (a garbage "ciphertext"); epochs 2 and 0xffff do not exist.
    for epoch in [1u16, 2, 0xffff] {
        assert_eq!(
            outcome(&mut s, &record(HANDSHAKE, epoch, 2, &cke_msg)),
            Outcome::Quiet,
            "epoch {epoch}"
        );
        assert_eq!(
            outcome(&mut s, &record(APP, epoch, 3, &[0; 32])),
            Outcome::Quiet,
            "application data, epoch {epoch}"
        );
    }
    // A change_cipher_spec before the key exchange: dropped (reordered), twice; one with a
    // bad body; an alert record with a bad length.
    assert_eq!(outcome(&mut s, &record(CCS, 0, 7, &[1])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(CCS, 0, 8, &[1])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(CCS, 0, 9, &[2])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(ALERT, 0, 10, &[2])), Outcome::Quiet);
    // Application data in the clear before the handshake: dropped.
    assert_eq!(
        outcome(&mut s, &record(APP, 0, 11, b"hello")),
        Outcome::Quiet
    );
    // No state change: the genuine flight (its record numbers 2..4 still fresh) connects.
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    for d in sent(&mut s) {
        client_feed(&mut c, &d, T0 + 30).unwrap();
    }
    // After the handshake: epoch-0 application data is still dropped, epoch-1 is read.
    assert_eq!(
        outcome(&mut s, &record(APP, 0, 12, b"clear")),
        Outcome::Quiet
    );
    assert!(!s.has_app_data());
}

#[test]
fn before_any_hello_non_hello_records_are_dropped() {
    for d in [
        // Record number 0: the hello's 1 stays fresh.
        record(APP, 0, 0, b"early"),
        record(APP, 1, 1, &[0; 40]),
        record(CCS, 0, 0, &[1]),
        record(ALERT, 0, 0, &[1]),
        record(HANDSHAKE, 1, 1, &hello()[13..]),
        record(HANDSHAKE, 2, 1, &hello()[13..]),
    ] {
        let mut s = server();
        assert_eq!(outcome(&mut s, &d), Outcome::Quiet, "{:?}", &d[..5]);
        // and the hello still works.
        assert_eq!(outcome(&mut s, &hello()), Outcome::Sent(1));
        assert_eq!(verdict(&d), Ok(HelloVerdict::Drop));
    }
}

#[test]
fn duplicated_and_replayed_datagrams_are_dropped() {
    // The same hello datagram twice (same record number): the replay window drops it, no
    // flight resent.
    let mut s = after_hello();
    assert_eq!(outcome(&mut s, &hello()), Outcome::Quiet);
    let (_, mut s, recs) = real_exchange(&KEY);
    // The hello and the ClientKeyExchange twice in one datagram.
    let mut both = recs[0].raw.clone();
    both.extend(recs[0].raw.clone());
    assert_eq!(outcome(&mut s, &both), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[0].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[2].raw), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    // The Finished replayed (same record number): dropped, the server's last flight is not
    // sent again.
    assert_eq!(outcome(&mut s, &recs[2].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Quiet);
    assert_eq!(s.status(), Status::Connected);
}

// ----------------------------------------------------------------------------- the timer

#[test]
fn the_servers_flight_is_retransmitted_with_doubling_then_times_out() {
    let mut s = server();
    feed_at(&mut s, &hello(), T0).unwrap();
    let first = sent(&mut s);
    check_server_flight(&first);
    let msgs =
        |o: &[Vec<u8>]| -> Vec<Vec<u8>> { all_records(o).into_iter().map(|r| r.body).collect() };
    let mut last_seq = 2;
    let at = [1, 3, 7, 15, 31, 63, 123];
    for (i, secs) in at.iter().enumerate() {
        let due = T0 + secs * 1000;
        assert_eq!(s.next_timeout(), Some(due), "retransmission {}", i + 1);
        s.handle_timeout(UnixTime::from_millis(due - 1)).unwrap();
        assert!(sent(&mut s).is_empty(), "nothing before the deadline");
        s.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let again = sent(&mut s);
        check_server_flight(&again);
        assert_eq!(msgs(&again), msgs(&first), "the same messages");
        let seqs: Vec<u64> = all_records(&again).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [last_seq + 1, last_seq + 2], "fresh record numbers");
        last_seq += 2;
        assert_eq!(s.retransmissions(), i as u32 + 1);
    }
    let e = s.handle_timeout(UnixTime::from_millis(T0 + 183_000));
    assert_eq!(e, Err(Error::HandshakeTimeout { retransmissions: 7 }));
    assert_eq!(s.status(), Status::Failed);
    assert!(sent(&mut s).is_empty(), "no alert for a timeout");
    assert_eq!(s.next_timeout(), None);
}

#[test]
fn a_retransmitted_client_hello_brings_the_flight_at_once() {
    let mut s = server();
    feed_at(&mut s, &hello(), T0).unwrap();
    let first = sent(&mut s);
    // The client's hello again with a new record number (its retransmission): the server's
    // flight is resent now, not at the timer, which is not restarted.
    let mut again = hello();
    put(&mut again, 5, 6, 2);
    assert_eq!(outcome_at(&mut s, &again, T0 + 500), Outcome::Sent(1));
    assert_eq!(s.next_timeout(), Some(T0 + 1000));
    // The same datagram again: the replay window drops it.
    assert_eq!(outcome_at(&mut s, &again, T0 + 600), Outcome::Quiet);
    // The timer still fires at 1 s.
    s.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    let t = sent(&mut s);
    check_server_flight(&t);
    assert_eq!(all_records(&t)[0].body, all_records(&first)[0].body);
}

#[test]
fn the_client_finished_again_brings_the_servers_last_flight_again() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    feed_at(&mut s, &dgram(&recs), T0 + 30).unwrap();
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.next_timeout(), None, "no timer on the last flight");
    // The server's CCS and Finished are lost; the client's timer fires and it sends its
    // whole flight again under new record numbers.
    let lost = sent(&mut s);
    assert!(!lost.is_empty());
    let due = c
        .next_timeout()
        .expect("the client waits for the server's Finished");
    c.handle_timeout(UnixTime::from_millis(due)).unwrap();
    let again = all_records(&sent(&mut c));
    let seqs: Vec<(u16, u64)> = again.iter().map(|r| (r.epoch, r.seq)).collect();
    assert_eq!(seqs, [(0, 4), (0, 5), (1, 1)], "new record numbers");
    let out = {
        feed_at(&mut s, &dgram(&again), due + 5).unwrap();
        sent(&mut s)
    };
    let kinds: Vec<(u8, u16)> = all_records(&out).iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(
        kinds,
        [(CCS, 0), (HANDSHAKE, 1)],
        "the server's CCS and Finished again"
    );
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.next_timeout(), None, "still no timer on the last flight");
    // The same datagram again is a replay: nothing.
    assert_eq!(outcome_at(&mut s, &dgram(&again), due + 6), Outcome::Quiet);
    // That flight completes the client.
    for d in &out {
        client_feed(&mut c, d, due + 8).unwrap();
    }
    assert_eq!(c.status(), Status::Connected);
}

/// Each of the client's retransmissions of its final flight (1 s, 3 s, 7 s apart) brings
/// the server's CCS and Finished again (RFC 6347 4.2.4), not only the first.
#[test]
fn each_client_retransmission_brings_the_servers_last_flight_again() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    feed_at(&mut s, &dgram(&recs), T0 + 30).unwrap();
    assert!(!sent(&mut s).is_empty()); // lost
    for i in 0..3 {
        let due = c
            .next_timeout()
            .expect("the client waits for the server's Finished");
        c.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let again = sent(&mut c);
        assert_eq!(
            outcome_at(&mut s, &dgram(&all_records(&again)), due + 1),
            Outcome::Sent(1),
            "client retransmission {}: the server's CCS and Finished again",
            i + 1
        );
    }
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

/// The server used to take the client's Finished from whatever record carried it: after
/// the client's change_cipher_spec, an epoch-0 plaintext record with the right Finished
/// completed the handshake. RFC 5246 7.4.9 / RFC 6347 4.1: the Finished is the first
/// message protected under the new keys; a plaintext one is unexpected_message, so the
/// Finished proves the client holds the epoch-1 keys.
#[test]
fn a_plaintext_finished_after_the_ccs_does_not_complete_the_handshake() {
    // After the client's CCS its Finished must come in epoch 1 (RFC 5246 7.4.9, RFC 6347
    // 4.1): the genuine Finished message, in the clear as epoch 0, must not complete it.
    let log: &'static Log = leak(Log(Mutex::new(Vec::new())));
    let (_, mut s, recs, (ch, sh)) = real_exchange_with(&KEY, Some(log));
    let master = log.0.lock().unwrap().clone();
    let (key, salt) = client_write_keys(&master, &ch, &sh);
    let plain = open(&key, &salt, &recs[2].raw);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    let o = outcome(&mut s, &record(HANDSHAKE, 0, 4, &plain));
    assert_ne!(
        s.status(),
        Status::Connected,
        "a plaintext Finished completed the handshake ({o:?})"
    );
}
