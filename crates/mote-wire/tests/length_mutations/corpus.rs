//! Every whole handshake message in the shared vectors (../../../shared/vectors, described in
//! its README.md), each with the context it parses in.

use mote_wire::{Context, HandshakeType, KeyExchange};
use std::path::PathBuf;

/// One message of the corpus: where it comes from, its bytes (header included) and the
/// context it parses in.
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub ctx: Context,
}

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len().is_multiple_of(2), "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The `## header` / `name = hex` files: (header, name, bytes).
fn hex_file(rel: &str) -> Vec<(String, String, Vec<u8>)> {
    let text = String::from_utf8(read(rel)).unwrap();
    let mut header = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            header = h.to_string();
        } else if let (false, Some((name, value))) = (line.starts_with('#'), line.split_once(" = "))
        {
            out.push((header.clone(), name.to_string(), hex(value)));
        }
    }
    out
}

/// The vector `name` under the header starting with `at` (a `path:line`).
fn find(file: &[(String, String, Vec<u8>)], at: &str, name: &str) -> Vec<u8> {
    file.iter()
        .find(|(h, n, _)| n == name && h.starts_with(at))
        .unwrap_or_else(|| panic!("no vector {name} at {at}"))
        .2
        .clone()
}

fn ctx_kx(base: Context, key_exchange: KeyExchange) -> Context {
    Context {
        key_exchange,
        ..base
    }
}

/// The payload of a run of TLS records, up to the first change_cipher_spec (after which
/// handshake records are encrypted): handshake fragments only.
fn plaintext_handshake(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let end = (5 + usize::from(u16::from_be_bytes([b[3], b[4]]))).min(b.len());
        match b[0] {
            22 => out.extend_from_slice(&b[5..end]),
            20 => break,
            _ => {}
        }
        b = &b[end..];
    }
    out
}

/// The whole messages of a handshake payload (header of 4 bytes in TLS, 12 in DTLS); a
/// message cut short at the end of the payload is left out.
fn split(mut payload: &[u8], dtls: bool) -> Vec<Vec<u8>> {
    let hl = if dtls { 12 } else { 4 };
    let mut out = Vec::new();
    while payload.len() >= hl {
        let n = hl
            + (usize::from(payload[1]) << 16 | usize::from(payload[2]) << 8)
            + usize::from(payload[3]);
        if n > payload.len() {
            break;
        }
        out.push(payload[..n].to_vec());
        payload = &payload[n..];
    }
    out
}

fn tls_wrap(t: HandshakeType, body: &[u8]) -> Vec<u8> {
    let n = (body.len() as u32).to_be_bytes();
    let mut v = vec![t.0, n[1], n[2], n[3]];
    v.extend_from_slice(body);
    v
}

/// A DTLS header (message_seq 0, unfragmented) around a body.
fn dtls_wrap(t: HandshakeType, body: &[u8]) -> Vec<u8> {
    let n = (body.len() as u32).to_be_bytes();
    let mut v = vec![t.0, n[1], n[2], n[3], 0, 0, 0, 0, 0, n[1], n[2], n[3]];
    v.extend_from_slice(body);
    v
}

/// A decrypted TLS 1.3 / DTLS 1.3 record: the message, then the inner content type.
fn inner(b: &[u8]) -> Vec<u8> {
    assert_eq!(b.last(), Some(&22), "not a handshake TLSInnerPlaintext");
    b[..b.len() - 1].to_vec()
}

/// Every case, deduplicated on (bytes, context).
pub fn all() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>, ctx: Context| {
        if !cases.iter().any(|c| c.bytes == bytes && c.ctx == ctx) {
            cases.push(Case { name, bytes, ctx });
        }
    };

    // RFC 8448 (TLS 1.3 example traces), rfc8448/rfc8448_vectors.txt, transcribed from the
    // RFC: every "construct a ... handshake message" step that holds a whole message (s4.03
    // shows the resumption ClientHello cut before its binders), and the messages of every
    // "send handshake record" payload (which hold the whole s4.03 ClientHello). ClientHello
    // and ServerHello read the same in either context.
    for (step, name, bytes) in hex_file("rfc8448/rfc8448_vectors.txt") {
        if step.contains("handshake message") {
            for m in split(&bytes, false) {
                add(format!("RFC 8448 {name}"), m, Context::TLS13);
            }
        } else if step.contains("send handshake record") && name.ends_with(".payload") {
            for (i, m) in split(&bytes, false).into_iter().enumerate() {
                add(format!("RFC 8448 {name}[{i}]"), m, Context::TLS13);
            }
        }
    }

    // The Illustrated TLS 1.2 connection (syncsynchalt/illustrated-tls12, MIT),
    // captures/illustrated-tls12/captures/caps/*: its plaintext handshake records, and the
    // two decrypted Finished messages (the first 16 bytes; the rest is the CBC MAC and
    // padding). ECDHE_RSA key exchange.
    let ecdhe = ctx_kx(Context::TLS12, KeyExchange::Ecdhe);
    let caps = "captures/illustrated-tls12/captures/caps";
    for f in [
        "clienthello",
        "serverhello",
        "servercert",
        "serverkeyexchange",
        "serverhellodone",
        "clientkeyexchange",
    ] {
        for m in split(&plaintext_handshake(&read(&format!("{caps}/{f}"))), false) {
            add(format!("illustrated-tls12 {f}"), m, ecdhe);
        }
    }
    for f in ["clientfinishedplain", "serverfinishedplain"] {
        add(
            format!("illustrated-tls12 {f}"),
            read(&format!("{caps}/{f}"))[..16].to_vec(),
            ecdhe,
        );
    }

    // The Illustrated TLS 1.3 connection (syncsynchalt/illustrated-tls13, MIT),
    // captures/illustrated-tls13/captures/caps/*: the plaintext hellos, then the decrypted
    // handshake records (a message and the inner content type).
    let caps = "captures/illustrated-tls13/captures/caps";
    for f in ["clienthello", "serverhello"] {
        for m in split(&plaintext_handshake(&read(&format!("{caps}/{f}"))), false) {
            add(format!("illustrated-tls13 {f}"), m, Context::TLS13);
        }
    }
    for f in [
        "serverextensions",
        "servercert",
        "servercertverify",
        "serverfinished",
        "clientfinished",
        "serverticket1",
        "serverticket2",
    ] {
        let b = inner(&read(&format!("{caps}/{f}")));
        add(format!("illustrated-tls13 {f}"), b, Context::TLS13);
    }

    // The Illustrated DTLS 1.3 connection (syncsynchalt/illustrated-dtls, MIT),
    // captures/illustrated-dtls/captures/caps/*: the two DTLSPlaintext hello records (behind
    // a 13-byte record header), then the decrypted handshake records.
    let caps = "captures/illustrated-dtls/captures/caps";
    for f in ["01-hello-c", "02-hello-s"] {
        for m in split(&read(&format!("{caps}/{f}"))[13..], true) {
            add(format!("illustrated-dtls {f}"), m, Context::DTLS12);
        }
    }
    for f in [
        "record-encext",
        "record-cert",
        "record-cverify",
        "record-sfin",
        "record-cfin",
    ] {
        let b = inner(&read(&format!("{caps}/{f}")));
        add(format!("illustrated-dtls {f}"), b, Context::DTLS13);
    }

    // rusticata/tls-parser's tests (MIT/Apache-2.0), parser/tls_parser_test_vectors.txt,
    // by their `## file:line` header: whole records (up to a change_cipher_spec), one
    // CertificateStatus message without a record header, and two ServerKeyExchange bodies
    // given a TLS handshake header here.
    let tp = hex_file("parser/tls_parser_test_vectors.txt");
    for (at, name) in [
        ("tests/tls_handshake.rs:12 ", "CH"),
        ("tests/tls_tls13.rs:9 ", "TV_CLIENT_HELLO_1"),
        ("tests/tls_handshake.rs:87 ", "SERVER_REPLY1"),
        ("tests/tls_handshake.rs:409 ", "bytes"),
        ("tests/tls_handshake.rs:515 ", "CLIENT_REPLY1"),
        ("tests/tls_handshake.rs:579 ", "SERVER_HELLO1"),
        (
            "tests/tls_handshake.rs:626 ",
            "SERVER_CERTIFICATE_REQUEST_NOCA",
        ),
        (
            "tests/tls_handshake.rs:658 ",
            "SERVER_CERTIFICATE_REQUEST_CA",
        ),
    ] {
        for m in split(&plaintext_handshake(&find(&tp, at, name)), false) {
            add(format!("tls-parser {at}{name}"), m, ecdhe);
        }
    }
    let status = find(&tp, "tests/tls_handshake.rs:697 ", "SERVER_STATUS_RESPONSE");
    add("tls-parser SERVER_STATUS_RESPONSE".into(), status, ecdhe);
    let ske = HandshakeType::SERVER_KEY_EXCHANGE;
    for (at, name, kx) in [
        ("tests/tls_dh.rs:6 ", "ECDHE_PARAMS", KeyExchange::Ecdhe),
        ("tests/tls_dh.rs:58 ", "DHE_PARAMS", KeyExchange::Dhe),
    ] {
        let b = tls_wrap(ske, &find(&tp, at, name));
        add(
            format!("tls-parser {at}{name}"),
            b,
            ctx_kx(Context::TLS12, kx),
        );
    }

    // pion/dtls's tests (MIT), parser/pion_dtls_vectors.txt: message bodies of
    // pkg/protocol/handshake/*_test.go, given a DTLS header here (message_seq 0), and one
    // record (conn_test.go:3910) holding a HelloVerifyRequest. The malformed bodies of
    // pion's negative tests are left out: they are not messages.
    let pion = hex_file("parser/pion_dtls_vectors.txt");
    use HandshakeType as T;
    let d12 = Context::DTLS12;
    let d12e = ctx_kx(Context::DTLS12, KeyExchange::Ecdhe);
    let d13 = Context::DTLS13;
    for (file_line, name, t, ctx) in [
        (
            "message_client_hello_test.go:18",
            "rawClientHello",
            T::CLIENT_HELLO,
            d12,
        ),
        (
            "message_client_hello_test.go:61",
            "rawClientHello",
            T::CLIENT_HELLO,
            d12,
        ),
        (
            "message_hello_verify_request_test.go:14",
            "rawHelloVerifyRequest",
            T::HELLO_VERIFY_REQUEST,
            d12,
        ),
        (
            "message_server_hello_test.go:63",
            "rawServerHello",
            T::SERVER_HELLO,
            d12,
        ),
        (
            "message_server_hello_test.go:97",
            "rawServerHello",
            T::SERVER_HELLO,
            d12,
        ),
        (
            "message_server_key_exchange_test.go:31",
            "rawServerKeyExchange",
            T::SERVER_KEY_EXCHANGE,
            d12e,
        ),
        (
            "message_server_key_exchange_test.go:56",
            "rawServerKeyExchange",
            T::SERVER_KEY_EXCHANGE,
            d12e,
        ),
        (
            "message_client_key_exchange_test.go:15",
            "rawClientKeyExchange",
            T::CLIENT_KEY_EXCHANGE,
            d12e,
        ),
        (
            "message_finished_test.go:13",
            "rawFinished",
            T::FINISHED,
            d12,
        ),
        (
            "message_certificate_verify_test.go:16",
            "rawCertificateVerify",
            T::CERTIFICATE_VERIFY,
            d12,
        ),
        (
            "message_certificate_test.go:24",
            "rawCertificate",
            T::CERTIFICATE,
            d12,
        ),
        (
            "message_certificate_request_test.go:24",
            "rawCertificateRequest",
            T::CERTIFICATE_REQUEST,
            d12,
        ),
        (
            "message_certificate_request_test.go:46",
            "rawCertificateRequest",
            T::CERTIFICATE_REQUEST,
            d12,
        ),
        (
            "message_certificate_request_test.go:96",
            "raw",
            T::CERTIFICATE_REQUEST,
            d12,
        ),
        (
            "message_certificate_13_test.go:93",
            "rawCertificate",
            T::CERTIFICATE,
            d13,
        ),
        (
            "message_certificate_request_13_test.go:22",
            "rawCertificateRequest",
            T::CERTIFICATE_REQUEST,
            d13,
        ),
        (
            "message_certificate_request_13_test.go:38",
            "rawCertificateRequest",
            T::CERTIFICATE_REQUEST,
            d13,
        ),
        (
            "message_new_session_ticket_test.go:27",
            "want",
            T::NEW_SESSION_TICKET,
            d13,
        ),
        (
            "message_new_session_ticket_test.go:82",
            "valid",
            T::NEW_SESSION_TICKET,
            d13,
        ),
        (
            "message_new_connection_id_test.go:19",
            "want",
            T::NEW_CONNECTION_ID,
            d13,
        ),
    ] {
        let at = format!("pkg/protocol/handshake/{file_line} ");
        let b = dtls_wrap(t, &find(&pion, &at, name));
        add(format!("pion {file_line} {name}"), b, ctx);
    }
    let rec = find(&pion, "conn_test.go:3910 ", "frag");
    add(
        "pion conn_test.go:3910 frag".into(),
        rec[13..].to_vec(),
        d12,
    );

    cases
}
