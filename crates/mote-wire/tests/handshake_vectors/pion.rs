//! pion/dtls tests (parser/pion_dtls_vectors.txt, MIT): DTLS 1.2 and 1.3 message bodies,
//! wrapped in a DTLS header here.

use super::support::*;

#[test]
fn pion_dtls12_hellos() {
    let ctx = Context::DTLS12;
    let b = pion_msg(
        "message_client_hello_test.go:18",
        "rawClientHello",
        HandshakeType::CLIENT_HELLO,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.legacy_version, ProtocolVersion::DTLS12);
    assert_eq!(
        ch.cookie,
        Some(&pion(&format!("{PION}/message_client_hello_test.go:35"), "Cookie")[..])
    );
    assert_eq!(suites(ch.cipher_suites), [0xc02b, 0xc00a]);
    assert_eq!(ext_types(ch.extensions), [10]);

    let b = pion_msg(
        "message_client_hello_test.go:61",
        "rawClientHello",
        HandshakeType::CLIENT_HELLO,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        ch.legacy_session_id,
        pion(
            &format!("{PION}/message_client_hello_test.go:72"),
            "sessionID"
        )
    );

    let b = pion_msg(
        "message_hello_verify_request_test.go:14",
        "rawHelloVerifyRequest",
        HandshakeType::HELLO_VERIFY_REQUEST,
    );
    let (_, m) = check(&b, &ctx);
    assert_eq!(
        m,
        HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
            server_version: ProtocolVersion::DTLS10,
            cookie: &pion(
                &format!("{PION}/message_hello_verify_request_test.go:20"),
                "Cookie"
            ),
        })
    );

    for at in [
        "message_server_hello_test.go:63",
        "message_server_hello_test.go:97",
    ] {
        let b = pion_msg(at, "rawServerHello", HandshakeType::SERVER_HELLO);
        let (_, m) = check(&b, &ctx);
        let HandshakeMessage::ServerHello(sh) = m else {
            panic!("{m:?}")
        };
        assert_eq!(sh.cipher_suite.0, 0xc02b);
        // An empty extensions block, present: kept apart from an absent one.
        assert!(sh.extensions.is_some_and(|e| e.is_empty()));
    }

    // handshake_test.go:18: a whole DTLS handshake message, header included, whose body
    // (a test of pion's header code) has no cipher suites and no compression methods,
    // which RFC 6347 / RFC 5246 section 7.4.1.2 forbid (<2..2^16-2>, <1..2^8-1>).
    let b = pion(
        "pkg/protocol/handshake/handshake_test.go:18",
        "rawHandshakeMessage",
    );
    let h = HandshakeHeader::parse(&mut Reader::new(&b), &ctx).unwrap();
    assert_eq!(h.msg_type, HandshakeType::CLIENT_HELLO);
    assert_eq!(h.length, 0x29);
    assert!(!h.is_fragment());
    let e = parse_handshake(&mut Reader::new(&b), &ctx).unwrap_err();
    assert_eq!(e.offset, 12 + 2 + 32 + 1 + 1);
    assert_eq!(
        e.path.to_string(),
        "handshake.client_hello.cipher_suites_length"
    );
    assert_eq!(
        e.kind,
        DecodeErrorKind::LengthOutOfRange {
            len: 0,
            min: 2,
            max: 0xfffe
        }
    );
    truncations(&b, 12, HandshakeType::CLIENT_HELLO, &ctx);

    // conn_test.go:3910: a record holding a HelloVerifyRequest.
    let rec = pion("conn_test.go:3910", "frag");
    let (h, m) = check(&rec[13..], &ctx);
    assert_eq!(h.msg_type, HandshakeType::HELLO_VERIFY_REQUEST);
    assert_eq!(
        m,
        HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
            server_version: ProtocolVersion::DTLS10,
            cookie: &[1],
        })
    );
}

#[test]
fn pion_dtls12_key_exchange_and_certificates() {
    let ctx = ctx_kx(Context::DTLS12, KeyExchange::Ecdhe);
    // Signed, then anonymous (the same params without a signature).
    for (at, signed) in [
        ("message_server_key_exchange_test.go:31", true),
        ("message_server_key_exchange_test.go:56", false),
    ] {
        let b = pion_msg(
            at,
            "rawServerKeyExchange",
            HandshakeType::SERVER_KEY_EXCHANGE,
        );
        let (_, m) = check(&b, &ctx);
        let HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Ecdhe {
            params,
            signed_params,
        }) = m
        else {
            panic!("{m:?}")
        };
        assert_eq!(params.named_curve, NamedGroup::X25519);
        assert_eq!(params.public.len(), 65);
        assert_eq!(signed_params.is_some(), signed);
        if let Some(s) = signed_params {
            assert_eq!(s.algorithm, SignatureScheme::ECDSA_SHA1);
            assert_eq!(s.signature.len(), 0x47);
        }
    }

    let b = pion_msg(
        "message_client_key_exchange_test.go:15",
        "rawClientKeyExchange",
        HandshakeType::CLIENT_KEY_EXCHANGE,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::ClientKeyExchange(ClientKeyExchange::Ecdhe { ecdh_yc }) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ecdh_yc.len(), 32);

    let b = pion_msg(
        "message_finished_test.go:13",
        "rawFinished",
        HandshakeType::FINISHED,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::Finished(f) = m else {
        panic!("{m:?}")
    };
    assert_eq!(f.verify_data.len(), 15);

    let b = pion_msg(
        "message_certificate_verify_test.go:16",
        "rawCertificateVerify",
        HandshakeType::CERTIFICATE_VERIFY,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::CertificateVerify(cv) = m else {
        panic!("{m:?}")
    };
    assert_eq!(cv.algorithm, SignatureScheme::ECDSA_SECP256R1_SHA256);
    assert_eq!(cv.signature.len(), 0x47);

    let b = pion_msg(
        "message_certificate_test.go:24",
        "rawCertificate",
        HandshakeType::CERTIFICATE,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::Certificate(c) = m else {
        panic!("{m:?}")
    };
    assert_eq!(c.len(), 1);
    assert_eq!(
        c.end_entity(),
        Some(
            &pion(
                &format!("{PION}/message_certificate_13_test.go:26"),
                "certDER"
            )[..]
        )
    );
}

#[test]
fn pion_dtls12_certificate_requests() {
    let ctx = Context::DTLS12;
    for (at, name, cas) in [
        (
            "message_certificate_request_test.go:24",
            "rawCertificateRequest",
            1,
        ),
        (
            "message_certificate_request_test.go:46",
            "rawCertificateRequest",
            0,
        ),
        ("message_certificate_request_test.go:96", "raw", 0),
    ] {
        let b = pion_msg(at, name, HandshakeType::CERTIFICATE_REQUEST);
        let (_, m) = check(&b, &ctx);
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
            [1, 64]
        );
        assert_eq!(supported_signature_algorithms.len(), 6);
        assert_eq!(certificate_authorities.len(), cas);
        if cas == 1 {
            assert_eq!(
                certificate_authorities.iter().next(),
                Some(DistinguishedName(b"test"))
            );
        }
    }
    // "invalid - casLength": the authorities length is cut short.
    let body = pion(
        &format!("{PION}/message_certificate_request_test.go:66"),
        "rawCertificateRequest",
    );
    body_fails(&body, HandshakeType::CERTIFICATE_REQUEST, &ctx);
}

#[test]
fn pion_dtls13_messages() {
    let ctx = Context::DTLS13;
    let b = pion_msg(
        "message_certificate_13_test.go:93",
        "rawCertificate",
        HandshakeType::CERTIFICATE,
    );
    let (_, m) = check(&b, &ctx);
    assert_eq!(
        m,
        HandshakeMessage::Certificate(Certificate::Tls13 {
            certificate_request_context: &[],
            certificate_list: List::Items(&[]),
        })
    );

    let b = pion_msg(
        "message_certificate_request_13_test.go:22",
        "rawCertificateRequest",
        HandshakeType::CERTIFICATE_REQUEST,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::CertificateRequest(CertificateRequest::Tls13 {
        certificate_request_context,
        extensions,
    }) = m
    else {
        panic!("{m:?}")
    };
    assert!(certificate_request_context.is_empty());
    assert_eq!(ext_types(Some(extensions)), [13]);

    let b = pion_msg(
        "message_certificate_request_13_test.go:38",
        "rawCertificateRequest",
        HandshakeType::CERTIFICATE_REQUEST,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::CertificateRequest(CertificateRequest::Tls13 {
        certificate_request_context,
        ..
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(certificate_request_context, [1, 2, 3, 4]);

    let b = pion_msg(
        "message_new_session_ticket_test.go:27",
        "want",
        HandshakeType::NEW_SESSION_TICKET,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::NewSessionTicket(NewSessionTicket::Tls13 {
        ticket_lifetime,
        ticket_age_add,
        ticket_nonce,
        ticket,
        extensions,
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(
        (ticket_lifetime, ticket_age_add),
        (0x0102_0304, 0x0506_0708)
    );
    assert_eq!(
        (ticket_nonce, ticket),
        (&[0xaa, 0xbb][..], &[0xcc, 0xdd, 0xee][..])
    );
    assert_eq!(ext_types(Some(extensions)), [42]);

    let b = pion_msg(
        "message_new_session_ticket_test.go:82",
        "valid",
        HandshakeType::NEW_SESSION_TICKET,
    );
    check(&b, &ctx);

    let b = pion_msg(
        "message_new_connection_id_test.go:19",
        "want",
        HandshakeType::NEW_CONNECTION_ID,
    );
    let (_, m) = check(&b, &ctx);
    let HandshakeMessage::NewConnectionId(nc) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        nc.cids.iter().map(|c| c.0).collect::<Vec<_>>(),
        [&[1, 2][..], &[][..], &[3][..]]
    );
    assert_eq!(nc.usage, ConnectionIdUsage::CID_SPARE);
}

#[test]
fn pion_malformed_bodies_are_refused() {
    let ecdhe = ctx_kx(Context::DTLS12, KeyExchange::Ecdhe);
    for line in [147, 154, 161, 168, 175, 182] {
        let body = pion(
            &format!("{PION}/message_server_key_exchange_test.go:{line}"),
            "data",
        );
        body_fails(&body, HandshakeType::SERVER_KEY_EXCHANGE, &ecdhe);
    }
    for line in [427, 446, 456] {
        let body = pion(
            &format!("{PION}/message_certificate_13_test.go:{line}"),
            "data",
        );
        body_fails(&body, HandshakeType::CERTIFICATE, &Context::DTLS13);
    }
    for line in [202, 228] {
        let body = pion(
            &format!("{PION}/message_certificate_request_13_test.go:{line}"),
            "data",
        );
        body_fails(&body, HandshakeType::CERTIFICATE_REQUEST, &Context::DTLS13);
    }
}

#[test]
fn pion_acks() {
    // pkg/protocol/ack_test.go.
    for (line, n) in [(23, 1), (49, 3)] {
        let b = pion(&format!("pkg/protocol/ack_test.go:{line}"), "expect");
        let mut r = Reader::new(&b);
        let ack = Ack::parse(&mut r).unwrap();
        assert!(r.is_empty());
        let items: Vec<RecordNumber> = ack.record_numbers.iter().collect();
        assert_eq!(items.len(), n);
        for a in [
            ack,
            Ack {
                record_numbers: List::Items(&items),
            },
        ] {
            let mut out = vec![0u8; b.len()];
            let mut w = mote_wire::Writer::new(&mut out);
            a.emit(&mut w).unwrap();
            assert_eq!(w.written(), &b[..]);
        }
        for cut in 0..b.len() {
            let e = Ack::parse(&mut Reader::new(&b[..cut])).unwrap_err();
            assert!(e.offset <= cut);
        }
    }
    let b = pion("pkg/protocol/ack_test.go:89", "raw");
    assert!(Ack::parse(&mut Reader::new(&b)).is_err());
}
