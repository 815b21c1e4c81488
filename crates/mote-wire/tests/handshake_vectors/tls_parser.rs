//! rusticata/tls-parser tests (parser/tls_parser_test_vectors.txt, MIT/Apache-2.0).

use super::support::*;

#[test]
fn tls_parser_client_hellos() {
    // tests/tls_handshake.rs:12 CH (a TLS 1.2 ClientHello in a TLS 1.0 record).
    let b = plaintext_handshake(&tls_parser("CH"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.random[..], tls_parser("rand_data")[..]);
    assert_eq!(ch.cipher_suites.len(), 0xaa / 2);
    assert_eq!(suites(ch.cipher_suites)[0], 0xc030);

    // tests/tls_tls13.rs:9 TV_CLIENT_HELLO_1 (a draft TLS 1.3 ClientHello: same shape).
    let b = plaintext_handshake(&tls_parser("TV_CLIENT_HELLO_1"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(suites(ch.cipher_suites)[..3], [0x1301, 0x1303, 0x1302]);
}

#[test]
fn tls_parser_server_flight() {
    // tests/tls_handshake.rs:87 SERVER_REPLY1: ServerHello, Certificate, ServerKeyExchange,
    // ServerHelloDone, one record each (ECDHE_RSA_WITH_AES_128_GCM_SHA256).
    let b = plaintext_handshake(&tls_parser("SERVER_REPLY1"));
    let kx = ctx_kx(Context::TLS12, KeyExchange::Ecdhe);
    let all = check_all(&b, |_| kx);
    let types: Vec<_> = all.iter().map(|(h, _)| h.msg_type).collect();
    assert_eq!(
        types,
        [
            HandshakeType::SERVER_HELLO,
            HandshakeType::CERTIFICATE,
            HandshakeType::SERVER_KEY_EXCHANGE,
            HandshakeType::SERVER_HELLO_DONE
        ]
    );
    let HandshakeMessage::ServerHello(sh) = all[0].1 else {
        panic!()
    };
    assert_eq!(
        sh.cipher_suite,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    );
    assert_eq!(ext_types(sh.extensions), [0xff01, 35, 11]);
    let HandshakeMessage::Certificate(c) = all[1].1 else {
        panic!()
    };
    assert_eq!(c.len(), 3);
    let HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Ecdhe { params, .. }) = all[2].1
    else {
        panic!()
    };
    assert_eq!(params.named_curve, NamedGroup::SECP256R1);
    assert_eq!(params.public.len(), 65);

    // tests/tls_handshake.rs:579 SERVER_HELLO1: the same ServerHello alone.
    let b = plaintext_handshake(&tls_parser("SERVER_HELLO1"));
    check(&b, &Context::TLS12);
}

#[test]
fn tls_parser_sslv3_server_hello_without_extensions() {
    // tests/tls_handshake.rs:409 (an SSL 3.0 ServerHello: the same shape, no extensions).
    let v = hex_file("parser/tls_parser_test_vectors.txt");
    let (_, _, rec) = v
        .iter()
        .find(|(h, n, _)| n == "bytes" && h.contains("test_sslv3_record_serverhello"))
        .unwrap();
    let b = plaintext_handshake(rec);
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert_eq!(sh.legacy_version, ProtocolVersion::SSL3);
    assert_eq!(sh.legacy_session_id_echo.len(), 16);
    assert!(sh.extensions.is_none());
}

#[test]
fn tls_parser_client_key_exchange() {
    // tests/tls_handshake.rs:515 CLIENT_REPLY1: ClientKeyExchange (a P-256 point), then
    // ChangeCipherSpec and an encrypted Finished, which are left alone.
    let b = plaintext_handshake(&tls_parser("CLIENT_REPLY1"));
    let (_, m) = check(&b, &ctx_kx(Context::TLS12, KeyExchange::Ecdhe));
    let HandshakeMessage::ClientKeyExchange(ClientKeyExchange::Ecdhe { ecdh_yc }) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ecdh_yc.len(), 65);
    assert_eq!(ecdh_yc[0], 4);
}

#[test]
fn tls_parser_certificate_requests() {
    // tests/tls_handshake.rs SERVER_CERTIFICATE_REQUEST_NOCA / _CA.
    let b = plaintext_handshake(&tls_parser("SERVER_CERTIFICATE_REQUEST_NOCA"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::CertificateRequest(CertificateRequest::Tls12 {
        certificate_types,
        supported_signature_algorithms,
        certificate_authorities,
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(
        certificate_types.iter().map(|t| t.0).collect::<Vec<_>>(),
        [1, 2, 64]
    );
    assert_eq!(supported_signature_algorithms.len(), 15);
    assert!(certificate_authorities.is_empty());

    let b = plaintext_handshake(&tls_parser("SERVER_CERTIFICATE_REQUEST_CA"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::CertificateRequest(CertificateRequest::Tls12 {
        certificate_authorities,
        ..
    }) = m
    else {
        panic!("{m:?}")
    };
    let cas: Vec<_> = certificate_authorities.iter().collect();
    assert_eq!(cas.len(), 1);
    assert_eq!(cas[0].0.len(), 0x47);
    assert_eq!(cas[0].0[0], 0x30);
}

#[test]
fn tls_parser_certificate_status_and_key_exchange_params() {
    // tests/tls_handshake.rs:697 SERVER_STATUS_RESPONSE: a CertificateStatus message (no
    // record header) carrying an OCSP response.
    let b = tls_parser("SERVER_STATUS_RESPONSE");
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::CertificateStatus(CertificateStatus::Ocsp { response }) = m else {
        panic!("{m:?}")
    };
    assert_eq!(response.len(), 0x63b);

    // tests/tls_dh.rs: ServerKeyExchange bodies, secp521r1 ECDHE and 2048-bit DHE.
    let body = tls_parser("ECDHE_PARAMS");
    let b = tls_wrap(HandshakeType::SERVER_KEY_EXCHANGE, &body);
    let (_, m) = check(&b, &ctx_kx(Context::TLS12, KeyExchange::Ecdhe));
    let HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Ecdhe {
        params,
        signed_params: Some(sig),
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(params.named_curve, NamedGroup::SECP521R1);
    assert_eq!(params.public.len(), 133);
    assert_eq!(sig.algorithm, SignatureScheme::RSA_PKCS1_SHA1);

    let body = tls_parser("DHE_PARAMS");
    let b = tls_wrap(HandshakeType::SERVER_KEY_EXCHANGE, &body);
    let (_, m) = check(&b, &ctx_kx(Context::TLS12, KeyExchange::Dhe));
    let HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Dhe {
        params,
        signed_params: Some(sig),
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(params.dh_p.len(), 256);
    assert_eq!(sig.algorithm, SignatureScheme::RSA_PKCS1_SHA512);
}

/// tests/tls_tls13.rs:46 TV_SERVER_HELLO_1 is a draft-18 ServerHello (no session id, no
/// compression method): not the RFC 8446 shape, so it must be refused, not misread.
#[test]
fn tls_parser_draft_server_hello_is_refused() {
    let b = plaintext_handshake(&tls_parser("TV_SERVER_HELLO_1"));
    assert_eq!(&b[4..6], &[0x7f, 0x12]);
    let e = parse_handshake(&mut Reader::new(&b), &Context::TLS12).unwrap_err();
    assert!(e.offset <= b.len());
    truncations(&b, 4, HandshakeType::SERVER_HELLO, &Context::TLS12);
}
