//! The server's record layer against a misbehaving client, checked from the wire. mote's
//! Client drives a PSK handshake with the Server in memory; the test then takes over the
//! client's side, forging records under the client's keys (from the server's key log) and
//! opening what the server transmits under the server's keys, so each check is the exact
//! record the server sent: one protected fatal alert, and nothing after it.
//!
//! Two points where the test takes over: `Flight` (the server's flight was read by the
//! client, whose Finished is held back: the server waits for it, reading under the client's
//! handshake keys and writing under its application keys) and `Connected`.

mod common;

use common::{plain_alert, plain_record, server_answer, split_records, OsRng, RecordKeys};
use mote::{Client, ClientConfig, ExternalPsk, Server, ServerConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::{AlertDescription as A, CipherSuite};

type C<'a, 'b> = Client<'a, 'b, RustCrypto>;
type S<'a, 'b> = Server<'a, 'b, RustCrypto>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    Flight,
    Connected,
}

/// What a test knows besides the two endpoints.
struct Ctx {
    log: common::SharedKeyLog,
    suite: CipherSuite,
    /// The client's first flight (its ClientHello record).
    hello: Vec<u8>,
    /// The client's second flight (Finished), delivered already when `Connected`.
    held: Vec<u8>,
}

impl Ctx {
    /// Fresh record keys (sequence 0) from the logged secret `label`.
    fn keys(&self, label: &str) -> RecordKeys {
        let secret = self.log.wait(label, std::time::Duration::ZERO).unwrap();
        RecordKeys::new(self.suite, &secret)
    }
    /// What the client writes with now: handshake keys in `Flight`, else application keys.
    fn client(&self, stage: Stage) -> RecordKeys {
        self.keys(match stage {
            Stage::Flight => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            Stage::Connected => "CLIENT_TRAFFIC_SECRET_0",
        })
    }
    /// What the server writes with at both stages (it sent nothing under them yet).
    fn server(&self) -> RecordKeys {
        self.keys("SERVER_TRAFFIC_SECRET_0")
    }
}

fn feed(s: &mut S<'_, '_>, bytes: &[u8]) -> Result<(), mote::Error> {
    s.recv_buf()[..bytes.len()].copy_from_slice(bytes);
    s.recv_done(bytes.len(), &mut OsRng)
}

fn take(s: &mut S<'_, '_>) -> Vec<u8> {
    let out = s.transmit().to_vec();
    s.transmit_done(out.len());
    out
}

/// Runs the handshake to `stage`, with `version` as the legacy_record_version of the
/// client's plaintext records (its ClientHello), and hands over.
fn at_version<R>(
    stage: Stage,
    version: [u8; 2],
    f: impl FnOnce(&mut C<'_, '_>, &mut S<'_, '_>, &Ctx) -> R,
) -> R {
    let key = [7u8; 32];
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let mut ccfg = ClientConfig::new();
    ccfg.psk = Some(psks[0]);
    ccfg.psk_only = true;
    let log = common::SharedKeyLog::default();
    let mut scfg = ServerConfig::new();
    scfg.psks = &psks;
    scfg.key_log = Some(&log);
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(0);
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    let mut hello = c.transmit().to_vec();
    c.transmit_done(hello.len());
    hello[1..3].copy_from_slice(&version);
    feed(&mut s, &hello).unwrap();
    let flight = take(&mut s);
    c.recv_buf()[..flight.len()].copy_from_slice(&flight);
    c.recv_done(flight.len(), &mut OsRng).unwrap();
    let held = c.transmit().to_vec();
    c.transmit_done(held.len());
    assert_eq!(c.status(), Status::Connected, "{:?}", c.error());
    if stage == Stage::Connected {
        feed(&mut s, &held).unwrap();
        assert_eq!(s.status(), Status::Connected, "{:?}", s.error());
        assert!(s.transmit().is_empty());
    }
    let suite = s.negotiated().suite.unwrap();
    f(
        &mut c,
        &mut s,
        &Ctx {
            log: log.clone(),
            suite,
            hello,
            held,
        },
    )
}

fn at<R>(stage: Stage, f: impl FnOnce(&mut C<'_, '_>, &mut S<'_, '_>, &Ctx) -> R) -> R {
    at_version(stage, [3, 1], f)
}

/// The server transmitted exactly one record, a protected fatal `desc`, and failed.
fn expect_alert(s: &mut S<'_, '_>, ctx: &Ctx, desc: A, what: &str) {
    let out = take(s);
    let records = split_records(&out);
    assert_eq!(records.len(), 1, "{what}: {} records out", records.len());
    let opened = ctx.server().open(&records[0]);
    assert_eq!(
        opened,
        Some((21, vec![2, desc.0])),
        "{what}: expected {desc}"
    );
    assert_eq!(s.status(), Status::Failed, "{what}");
}

/// Forges `records` at `stage` and expects the protected alert `desc`.
fn forged(stage: Stage, desc: A, what: &str, records: impl FnOnce(&Ctx) -> Vec<u8>) {
    at(stage, |_, s, ctx| {
        let _ = feed(s, &records(ctx));
        expect_alert(s, ctx, desc, &format!("{what} at {stage:?}"));
    });
}

#[test]
fn ciphertext_over_2_14_plus_256_is_record_overflow() {
    // RFC 8446 section 5.2: "The length MUST NOT exceed 2^14 + 256 bytes. An endpoint that
    // receives a record that exceeds this length MUST terminate the connection with a
    // "record_overflow" alert."
    for stage in [Stage::Flight, Stage::Connected] {
        let len = (1usize << 14) + 257;
        forged(stage, A::RECORD_OVERFLOW, "2^14+257 ciphertext", |_| {
            let mut r = vec![23, 3, 3, (len >> 8) as u8, len as u8];
            r.resize(5 + len, 0x5a);
            r
        });
        // At the limit it is read, and fails to authenticate.
        forged(stage, A::BAD_RECORD_MAC, "2^14+256 garbage", |_| {
            let mut r = vec![23, 3, 3, ((len - 1) >> 8) as u8, (len - 1) as u8];
            r.resize(4 + len, 0x5a);
            r
        });
    }
}

#[test]
fn plaintext_over_2_14_is_record_overflow() {
    // Section 5.4: "The length of TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets" (the
    // content plus its type), section 5.2: record_overflow for a record that decrypts to more.
    let big = vec![0x61u8; (1 << 14) + 1];
    forged(
        Stage::Connected,
        A::RECORD_OVERFLOW,
        "2^14+1 plaintext",
        |ctx| ctx.client(Stage::Connected).seal(23, &big),
    );
    forged(
        Stage::Flight,
        A::RECORD_OVERFLOW,
        "2^14+1 handshake",
        |ctx| ctx.client(Stage::Flight).seal(22, &big),
    );
    // Exactly 2^14 is accepted.
    at(Stage::Connected, |_, s, ctx| {
        let r = ctx.client(Stage::Connected).seal(23, &big[1..]);
        feed(s, &r).unwrap();
        let mut buf = vec![0u8; 1 << 15];
        assert_eq!(s.read(&mut buf), 1 << 14);
        assert_eq!(s.status(), Status::Connected);
        assert!(s.transmit().is_empty());
    });
}

#[test]
fn flipped_bit_is_bad_record_mac() {
    // Section 5.2: "If the decryption fails, the receiver MUST terminate the connection
    // with a "bad_record_mac" alert."
    for at_byte in [5usize, 9, usize::MAX] {
        at(Stage::Connected, |c, s, ctx| {
            c.write(b"hello, collector").unwrap();
            let mut r = c.transmit().to_vec();
            let i = at_byte.min(r.len() - 1);
            r[i] ^= 0x01;
            let _ = feed(s, &r);
            expect_alert(s, ctx, A::BAD_RECORD_MAC, &format!("bit at {i}"));
            assert!(!s.has_app_data());
        });
    }
    // The client's Finished, damaged.
    at(Stage::Flight, |_, s, ctx| {
        let mut r = ctx.held.clone();
        r[12] ^= 0x80;
        let _ = feed(s, &r);
        expect_alert(s, ctx, A::BAD_RECORD_MAC, "Finished");
    });
    // The outer legacy_record_version changed in transit: it is part of the AAD.
    at(Stage::Connected, |c, s, ctx| {
        c.write(b"hello").unwrap();
        let mut r = c.transmit().to_vec();
        r[2] = 1;
        let _ = feed(s, &r);
        expect_alert(s, ctx, A::BAD_RECORD_MAC, "record version rewritten");
    });
}

#[test]
fn zero_length_application_data_is_accepted() {
    // Section 5.1: "Zero-length fragments of Application Data MAY be sent, as they are
    // potentially useful as a traffic analysis countermeasure."
    at(Stage::Connected, |_, s, ctx| {
        let mut k = ctx.client(Stage::Connected);
        let mut bytes = k.seal(23, &[]);
        bytes.extend(k.seal_with([3, 3], 23, &[], 17));
        feed(s, &bytes).unwrap();
        assert!(!s.has_app_data());
        assert_eq!(s.status(), Status::Connected);
        feed(s, &k.seal(23, b"ping")).unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf);
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(s.status(), Status::Connected);
        assert!(s.transmit().is_empty(), "{:?}", s.transmit());
    });
}

#[test]
fn all_padding_record_is_unexpected_message() {
    // Section 5.4: "If a receiving implementation does not find a non-zero octet in the
    // cleartext, it MUST terminate the connection with an "unexpected_message" alert."
    for stage in [Stage::Flight, Stage::Connected] {
        forged(stage, A::UNEXPECTED_MESSAGE, "only padding", |ctx| {
            ctx.client(stage).seal_with([3, 3], 0, &[], 4)
        });
    }
}

#[test]
fn zero_length_handshake_record_is_unexpected_message() {
    // Section 5.1: "Implementations MUST NOT send zero-length fragments of Handshake types,
    // even if those fragments contain padding." The RFC names no alert; the engine's is
    // unexpected_message (decode_error would do as well).
    let (out, status, _) = server_answer(&[&plain_record(22, &[])]);
    assert_eq!(out, plain_alert(A::UNEXPECTED_MESSAGE));
    assert_eq!(status, Status::Failed);
    for stage in [Stage::Flight, Stage::Connected] {
        forged(stage, A::UNEXPECTED_MESSAGE, "empty handshake", |ctx| {
            ctx.client(stage).seal(22, &[])
        });
        forged(
            stage,
            A::UNEXPECTED_MESSAGE,
            "padded empty handshake",
            |ctx| ctx.client(stage).seal_with([3, 3], 22, &[], 8),
        );
    }
}

#[test]
fn records_after_close_notify_are_ignored() {
    // Section 6.1: "Any data received after a closure alert has been received MUST be
    // ignored." The server sends its own close_notify and nothing else.
    at(Stage::Connected, |_, s, ctx| {
        let mut k = ctx.client(Stage::Connected);
        let mut bytes = k.seal(21, &[1, 0]);
        bytes.extend(k.seal(23, b"late data"));
        bytes.extend(k.seal(22, &ctx.hello[5..]));
        bytes.extend([20, 3, 3, 0, 1, 1]);
        bytes.extend([0xff, 3, 3, 0, 2, 0xde, 0xad]);
        bytes.extend([23, 3, 3, 0, 20]);
        bytes.extend([0u8; 20]);
        feed(s, &bytes).unwrap();
        // Closing is per direction: the server may still write (PeerClosed) until it
        // closes its side, or answer at once (Closed).
        assert!(
            matches!(s.status(), Status::PeerClosed | Status::Closed),
            "{:?}",
            s.status()
        );
        assert_eq!(s.error(), None);
        assert!(!s.has_app_data());
        // More bytes in a later call change nothing either.
        feed(s, &[0xff; 64]).unwrap();
        assert_eq!(s.error(), None);
        s.close();
        assert_eq!(s.status(), Status::Closed);
        let out = take(s);
        let records = split_records(&out);
        assert_eq!(records.len(), 1, "only the server's close_notify");
        assert_eq!(ctx.server().open(&records[0]), Some((21, vec![1, 0])));
    });
}

#[test]
fn plaintext_close_notify_after_handshake_is_unexpected_message() {
    // Once both sides protect records, an unprotected alert is an unexpected record
    // (section 5: "If a TLS implementation receives an unexpected record type, it MUST
    // terminate the connection with an "unexpected_message" alert"; section 6: alerts are
    // "encrypted as specified by the current connection state"). An injected close_notify
    // must not pass for the client's: it would let an attacker truncate the stream.
    // (A plaintext fatal alert: server_pipe.rs, plaintext_alert_after_handshake_...)
    forged(
        Stage::Connected,
        A::UNEXPECTED_MESSAGE,
        "plain close",
        |_| vec![21, 3, 3, 0, 2, 1, 0],
    );
}

#[test]
fn second_client_hello_after_handshake_is_unexpected_message() {
    // Section 4: a ClientHello only starts a handshake; TLS 1.3 has no renegotiation.
    forged(
        Stage::Connected,
        A::UNEXPECTED_MESSAGE,
        "protected hello",
        |ctx| ctx.client(Stage::Connected).seal(22, &ctx.hello[5..]),
    );
    forged(
        Stage::Connected,
        A::UNEXPECTED_MESSAGE,
        "plain hello",
        |ctx| ctx.hello.clone(),
    );
    // The same during the handshake.
    forged(
        Stage::Flight,
        A::UNEXPECTED_MESSAGE,
        "protected hello",
        |ctx| ctx.client(Stage::Flight).seal(22, &ctx.hello[5..]),
    );
}

#[test]
fn change_cipher_spec_after_handshake_is_unexpected_message() {
    // Section 5: "If an implementation detects a change_cipher_spec record received before
    // the first ClientHello message or after the peer's Finished message, it MUST be
    // treated as an unexpected record type". (Before the ClientHello: server_conformance.rs,
    // records_before_client_hello_are_unexpected_message.)
    forged(Stage::Connected, A::UNEXPECTED_MESSAGE, "CCS", |_| {
        vec![20, 3, 3, 0, 1, 1]
    });
}

#[test]
fn change_cipher_spec_during_the_handshake() {
    // Section 5: a single 0x01 "MUST simply drop"; "An implementation which receives any
    // other change_cipher_spec value or which receives a protected change_cipher_spec
    // record MUST abort the handshake with an "unexpected_message" alert."
    at(Stage::Flight, |_, s, ctx| {
        feed(s, &[20, 3, 3, 0, 1, 1]).unwrap();
        assert!(s.transmit().is_empty());
        feed(s, &ctx.held).unwrap();
        assert_eq!(s.status(), Status::Connected);
    });
    for body in [&[2u8][..], &[0], &[1, 1], &[]] {
        forged(
            Stage::Flight,
            A::UNEXPECTED_MESSAGE,
            &format!("CCS {body:?}"),
            |_| plain_record(20, body),
        );
    }
    forged(
        Stage::Flight,
        A::UNEXPECTED_MESSAGE,
        "protected CCS",
        |ctx| ctx.client(Stage::Flight).seal(20, &[1]),
    );
}

#[test]
fn application_data_before_finished() {
    // Under the client's handshake keys, application data is not allowed before the
    // handshake completes (sections 2 and 5: unexpected record type).
    forged(Stage::Flight, A::UNEXPECTED_MESSAGE, "hs-key data", |ctx| {
        ctx.client(Stage::Flight).seal(23, b"too early")
    });
    // Under the client's application keys, before its Finished: the server still reads
    // with handshake keys, so the record does not authenticate (section 5.2).
    forged(Stage::Flight, A::BAD_RECORD_MAC, "app-key data", |ctx| {
        ctx.client(Stage::Connected).seal(23, b"too early")
    });
}

#[test]
fn unknown_content_types_are_unexpected_message() {
    // Section 5: "If a TLS implementation receives an unexpected record type, it MUST
    // terminate the connection with an "unexpected_message" alert." 24 is heartbeat,
    // 25 tls12_cid: neither is TLS 1.3 nor negotiated.
    for ct in [0u8, 24, 25, 0x42, 0xff] {
        let (out, status, _) = server_answer(&[&plain_record(ct, &[1, 2])]);
        assert_eq!(out, plain_alert(A::UNEXPECTED_MESSAGE), "type {ct}");
        assert_eq!(status, Status::Failed);
        for stage in [Stage::Flight, Stage::Connected] {
            forged(stage, A::UNEXPECTED_MESSAGE, &format!("plain {ct}"), |_| {
                plain_record(ct, &[1, 2])
            });
            forged(
                stage,
                A::UNEXPECTED_MESSAGE,
                &format!("inner {ct}"),
                |ctx| ctx.client(stage).seal(ct, &[1, 2]),
            );
        }
    }
}

#[test]
fn legacy_record_version_is_ignored() {
    // Section 5.1: legacy_record_version "MUST be set to 0x0303 for all records generated by
    // a TLS 1.3 implementation other than an initial ClientHello ..., where it MAY also be
    // 0x0301 ... This field is deprecated and MUST be ignored for all purposes." Appendix
    // D.2: "Servers will receive various TLS 1.x versions in this field, but its value MUST
    // always be ignored."
    for v in [[3, 0], [3, 1], [3, 2], [3, 3], [3, 4], [0, 0], [0xfe, 0xfd]] {
        at_version(Stage::Connected, v, |_, s, ctx| {
            // Protected records whose header (and so AAD) carries another version.
            let mut k = ctx.client(Stage::Connected);
            feed(s, &k.seal_with(v, 23, b"data", 0)).unwrap();
            assert!(s.has_app_data(), "{v:?}");
        });
        at_version(Stage::Flight, v, |_, s, ctx| {
            feed(s, &[20, v[0], v[1], 0, 1, 1]).unwrap();
            feed(s, &ctx.held).unwrap();
            assert_eq!(s.status(), Status::Connected, "{v:?}");
        });
    }
}

#[test]
fn plaintext_alert_bodies_other_than_two_bytes_are_decode_error() {
    // Section 5.1: "Alert messages (Section 6) MUST NOT be fragmented across records, and
    // multiple alert messages MUST NOT be coalesced into a single TLSPlaintext record."
    for body in [&[][..], &[2], &[2, 40, 2]] {
        let (out, status, _) = server_answer(&[&plain_record(21, body)]);
        assert_eq!(out, plain_alert(A::DECODE_ERROR), "{body:?}");
        assert_eq!(status, Status::Failed);
    }
    for stage in [Stage::Flight, Stage::Connected] {
        for body in [&[][..], &[2], &[1, 0, 1, 0]] {
            forged(stage, A::DECODE_ERROR, &format!("alert {body:?}"), |ctx| {
                ctx.client(stage).seal(21, body)
            });
        }
    }
}
