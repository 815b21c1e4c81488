//! Raw public keys, the field names the dissector sees, and byte mutations over the
//! whole corpus.

use super::support::*;

// Raw public keys (RFC 7250): the same TLS 1.3 entry renamed, and TLS 1.2's single key.

#[test]
fn raw_public_key_certificates() {
    // The TLS 1.3 Certificate from RFC 8448 section 3, read as if its entry were a raw
    // key: the wire format is the same, only the field's name changes.
    let b = rfc8448_value("s3.16.certificate");
    let rpk13 = Context {
        cert_type: CertificateType::RAW_PUBLIC_KEY,
        ..Context::TLS13
    };
    check(&b, &rpk13);
    let mut sink = Recorder::default();
    parse_handshake(&mut Reader::with_sink(&b, &mut sink), &rpk13).unwrap();
    assert!(sink
        .fields
        .iter()
        .any(|f| f.ends_with("certificate_entry[0].asn1_subject_public_key_info")));

    // TLS 1.2: the pion certificate's DER, sent as a bare SubjectPublicKeyInfo.
    let der = pion(
        &format!("{PION}/message_certificate_13_test.go:26"),
        "certDER",
    );
    let mut body = vec![0u8, (der.len() >> 8) as u8, der.len() as u8];
    body.extend_from_slice(&der);
    let b = tls_wrap(HandshakeType::CERTIFICATE, &body);
    let rpk12 = Context {
        cert_type: CertificateType::RAW_PUBLIC_KEY,
        ..Context::TLS12
    };
    let (_, m) = check(&b, &rpk12);
    assert_eq!(
        m,
        HandshakeMessage::Certificate(Certificate::Tls12RawPublicKey {
            asn1_subject_public_key_info: &der
        })
    );
}

// What the dissector sees.

#[test]
fn client_hello_fields_are_named() {
    let b = rfc8448_value("s3.02.clienthello");
    let mut sink = Recorder::default();
    parse_handshake(&mut Reader::with_sink(&b, &mut sink), &Context::TLS12).unwrap();
    assert!(sink.stack.is_empty());
    // The extensions' own fields are the extensions module's to name.
    let f: Vec<&str> = sink.fields.iter().map(String::as_str).take(13).collect();
    assert_eq!(
        f,
        [
            "handshake.msg_type",
            "handshake.length",
            "handshake.client_hello.legacy_version",
            "handshake.client_hello.random",
            "handshake.client_hello.legacy_session_id_length",
            "handshake.client_hello.legacy_session_id",
            "handshake.client_hello.cipher_suites_length",
            "handshake.client_hello.cipher_suites.cipher_suite",
            "handshake.client_hello.cipher_suites.cipher_suite",
            "handshake.client_hello.cipher_suites.cipher_suite",
            "handshake.client_hello.legacy_compression_methods_length",
            "handshake.client_hello.legacy_compression_methods.legacy_compression_method",
            "handshake.client_hello.extensions_length",
        ]
    );
}

#[test]
fn dtls_client_hello_fields_are_named() {
    let b = dtls_cap("01-hello-c");
    let mut sink = Recorder::default();
    parse_handshake(
        &mut Reader::with_sink(&b[13..], &mut sink),
        &Context::DTLS12,
    )
    .unwrap();
    let f: Vec<&str> = sink.fields.iter().map(String::as_str).take(11).collect();
    assert_eq!(
        f,
        [
            "handshake.msg_type",
            "handshake.length",
            "handshake.message_seq",
            "handshake.fragment_offset",
            "handshake.fragment_length",
            "handshake.client_hello.legacy_version",
            "handshake.client_hello.random",
            "handshake.client_hello.legacy_session_id_length",
            "handshake.client_hello.legacy_session_id",
            "handshake.client_hello.cookie_length",
            "handshake.client_hello.cookie",
        ]
    );
}

// Robustness over the whole corpus.

/// Every whole handshake message above, with the context it is read in.
fn corpus() -> Vec<(Vec<u8>, Context)> {
    let mut out = Vec::new();
    let mut split = |payload: &[u8], ctx: Context| {
        let hl = if ctx.dtls { 12 } else { 4 };
        let mut rest = payload;
        while rest.len() >= hl {
            let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
            let end = (hl + len).min(rest.len());
            out.push((rest[..end].to_vec(), ctx));
            rest = &rest[end..];
        }
    };
    for (step, name, bytes) in rfc8448() {
        if step.contains("send handshake record") && name.ends_with(".payload") {
            split(&bytes, Context::TLS13);
        }
    }
    let ecdhe12 = ctx_kx(Context::TLS12, KeyExchange::Ecdhe);
    for name in [
        "clienthello",
        "serverhello",
        "servercert",
        "serverkeyexchange",
        "serverhellodone",
        "clientkeyexchange",
    ] {
        split(&plaintext_handshake(&tls12_cap(name)), ecdhe12);
    }
    for name in ["clienthello", "serverhello"] {
        split(&plaintext_handshake(&tls13_cap(name)), Context::TLS12);
    }
    for name in [
        "serverextensions",
        "servercert",
        "servercertverify",
        "serverfinished",
        "serverticket1",
    ] {
        split(inner_plaintext(&tls13_cap(name), 22), Context::TLS13);
    }
    split(&dtls_cap("01-hello-c")[13..], Context::DTLS12);
    split(&dtls_cap("02-hello-s")[13..], Context::DTLS12);
    for name in [
        "record-encext",
        "record-cert",
        "record-cverify",
        "record-sfin",
    ] {
        split(inner_plaintext(&dtls_cap(name), 22), Context::DTLS13);
    }
    for name in [
        "CH",
        "SERVER_REPLY1",
        "CLIENT_REPLY1",
        "SERVER_CERTIFICATE_REQUEST_CA",
    ] {
        split(&plaintext_handshake(&tls_parser(name)), ecdhe12);
    }
    let ecdhe_d = ctx_kx(Context::DTLS12, KeyExchange::Ecdhe);
    for (at, name, t) in [
        (
            "message_client_hello_test.go:18",
            "rawClientHello",
            HandshakeType::CLIENT_HELLO,
        ),
        (
            "message_server_key_exchange_test.go:31",
            "rawServerKeyExchange",
            HandshakeType::SERVER_KEY_EXCHANGE,
        ),
        (
            "message_certificate_request_test.go:24",
            "rawCertificateRequest",
            HandshakeType::CERTIFICATE_REQUEST,
        ),
    ] {
        out.push((pion_msg(at, name, t), ecdhe_d));
    }
    for (at, name, t) in [
        (
            "message_new_connection_id_test.go:19",
            "want",
            HandshakeType::NEW_CONNECTION_ID,
        ),
        (
            "message_new_session_ticket_test.go:27",
            "want",
            HandshakeType::NEW_SESSION_TICKET,
        ),
        (
            "message_certificate_request_13_test.go:38",
            "rawCertificateRequest",
            HandshakeType::CERTIFICATE_REQUEST,
        ),
    ] {
        out.push((pion_msg(at, name, t), Context::DTLS13));
    }
    out
}

/// Each byte of each message changed three ways: the parse either fails with an offset
/// inside the input, or succeeds on a message that re-emits to exactly the bytes it read
/// (raw and rebuilt from items). No panic either way.
#[test]
fn every_byte_mutation_parses_or_errors_and_round_trips() {
    let corpus = corpus();
    assert!(corpus.len() > 60, "{}", corpus.len());
    let (mut ok, mut err) = (0usize, 0usize);
    for (msg, ctx) in &corpus {
        for i in 0..msg.len() {
            for v in [msg[i] ^ 0x01, 0x00, 0xff] {
                if v == msg[i] {
                    continue;
                }
                let mut b = msg.clone();
                b[i] = v;
                let mut r = Reader::new(&b);
                match parse_handshake(&mut r, ctx) {
                    Ok((h, m)) => {
                        let used = b.len() - r.remaining();
                        let mut out = vec![0u8; used + 16];
                        let n = emit_handshake(&h, &m, &mut out).unwrap();
                        assert_eq!(&out[..n], &b[..used], "byte {i} = {v:#x}");
                        assert_eq!(emit_items(&b[..used], ctx), &b[..used]);
                        ok += 1;
                    }
                    Err(e) => {
                        assert!(e.offset <= b.len(), "{e}");
                        err += 1;
                    }
                }
            }
        }
    }
    assert!(ok > 0 && err > 0, "{ok} {err}");
}
