//! RFC 8448 (rfc8448/rfc8448_vectors.txt, transcribed from the RFC).

use super::support::*;

/// Every "construct a ... handshake message" step and every handshake record payload of
/// RFC 8448 (40 messages, 24 records). The context is TLS 1.3 throughout: ClientHello and
/// ServerHello read the same whatever the version.
#[test]
fn rfc8448_every_message_round_trips() {
    let mut messages = 0;
    let mut payloads = 0;
    for (step, name, bytes) in rfc8448() {
        if name == "s4.03.clienthello" {
            // Section 4 shows the resumption ClientHello truncated before its PSK binders
            // (the part the binder covers, RFC 8446 section 4.2.11.2): 477 of 512 bytes.
            // The whole message is the s4.05 record payload, checked below.
            let e = parse_handshake(&mut Reader::new(&bytes), &Context::TLS13).unwrap_err();
            assert_eq!(e.path.to_string(), "handshake.length");
            assert_eq!(
                e.kind,
                DecodeErrorKind::LengthExceeds {
                    declared: 508,
                    available: 473
                }
            );
            assert!(rfc8448_value("s4.05.payload").starts_with(&bytes));
            truncations(&bytes, 4, HandshakeType::CLIENT_HELLO, &Context::TLS13);
            messages += 1;
        } else if step.contains("handshake message") {
            check(&bytes, &Context::TLS13);
            messages += 1;
        } else if step.contains("send handshake record") && name.ends_with(".payload") {
            let all = check_all(&bytes, |_| Context::TLS13);
            assert!(!all.is_empty());
            payloads += 1;
        }
    }
    assert_eq!((messages, payloads), (40, 24));
}

#[test]
fn rfc8448_simple_1rtt_fields() {
    // Section 3, ClientHello.
    let b = rfc8448_value("s3.02.clienthello");
    let (h, m) = check(&b, &Context::TLS12);
    assert_eq!((h.msg_type, h.length), (HandshakeType::CLIENT_HELLO, 0xc0));
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.legacy_version, ProtocolVersion::TLS12);
    assert_eq!(
        ch.random[..],
        hex("cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7")[..]
    );
    assert!(ch.legacy_session_id.is_empty());
    assert_eq!(ch.cookie, None);
    assert_eq!(suites(ch.cipher_suites), [0x1301, 0x1303, 0x1302]);
    assert_eq!(
        ch.legacy_compression_methods.iter().collect::<Vec<_>>(),
        [CompressionMethod::NULL]
    );
    assert_eq!(
        ext_types(ch.extensions),
        [0, 0xff01, 10, 35, 51, 43, 13, 45, 28]
    );

    // ServerHello.
    let b = rfc8448_value("s3.06.serverhello");
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert!(!sh.is_hello_retry_request());
    assert_eq!(sh.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
    assert_eq!(sh.legacy_compression_method, CompressionMethod::NULL);
    assert_eq!(ext_types(sh.extensions), [51, 43]);

    // EncryptedExtensions: supported_groups, record_size_limit, server_name.
    let b = rfc8448_value("s3.15.encryptedextensions");
    let (_, m) = check(&b, &Context::TLS13);
    let HandshakeMessage::EncryptedExtensions(ee) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ext_types(Some(ee.extensions)), [10, 28, 0]);

    // Certificate: one RSA certificate of 432 bytes, no entry extensions.
    let b = rfc8448_value("s3.16.certificate");
    let (_, m) = check(&b, &Context::TLS13);
    let HandshakeMessage::Certificate(Certificate::Tls13 {
        certificate_request_context,
        certificate_list,
    }) = m
    else {
        panic!("{m:?}")
    };
    assert!(certificate_request_context.is_empty());
    let entries: Vec<_> = certificate_list.iter().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].data.len(), 432);
    assert_eq!(&entries[0].data[..4], &[0x30, 0x82, 0x01, 0xac]);
    assert!(entries[0].extensions.is_empty());

    // CertificateVerify: rsa_pss_rsae_sha256, 128-byte signature.
    let b = rfc8448_value("s3.17.certificateverify");
    let (_, m) = check(&b, &Context::TLS13);
    let HandshakeMessage::CertificateVerify(cv) = m else {
        panic!("{m:?}")
    };
    assert_eq!(cv.algorithm, SignatureScheme::RSA_PSS_RSAE_SHA256);
    assert_eq!(cv.signature.len(), 128);

    // Finished: verify_data is the value computed in step s3.18.
    let b = rfc8448_value("s3.19.finished");
    let (_, m) = check(&b, &Context::TLS13);
    assert_eq!(
        m,
        HandshakeMessage::Finished(Finished {
            verify_data: &rfc8448_value("s3.18.finished")
        })
    );

    // NewSessionTicket: lifetime 30 s, early_data extension.
    let b = rfc8448_value("s3.49.newsessionticket");
    let (_, m) = check(&b, &Context::TLS13);
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
    assert_eq!((ticket_lifetime, ticket_age_add), (30, 0xfad6_aac5));
    assert_eq!(ticket_nonce, [0, 0]);
    assert_eq!(ticket.len(), 0xb2);
    assert_eq!(ext_types(Some(extensions)), [42]);
}

#[test]
fn rfc8448_resumption_hrr_and_client_auth_fields() {
    // Section 4: the resumed ClientHello (whole, from its record) ends with
    // pre_shared_key (41).
    let b = rfc8448_value("s4.05.payload");
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ext_types(ch.extensions).last(), Some(&41));

    let b = rfc8448_value("s4.44.endofearlydata");
    let (_, m) = check(&b, &Context::TLS13);
    assert_eq!(m, HandshakeMessage::EndOfEarlyData(EndOfEarlyData));

    // Section 5: a HelloRetryRequest (key_share, cookie, supported_versions).
    let b = rfc8448_value("s5.04.serverhello");
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(hrr) = m else {
        panic!("{m:?}")
    };
    assert!(hrr.is_hello_retry_request());
    assert_eq!(hrr.random, HELLO_RETRY_REQUEST_RANDOM);
    assert_eq!(ext_types(hrr.extensions), [51, 44, 43]);
    // ... and the ServerHello that follows the second ClientHello is not one.
    let b = rfc8448_value("s5.11.serverhello");
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert!(!sh.is_hello_retry_request());

    // Section 6: CertificateRequest with signature_algorithms only, and the client's
    // Certificate.
    let b = rfc8448_value("s6.16.certificaterequest");
    let (_, m) = check(&b, &Context::TLS13);
    let HandshakeMessage::CertificateRequest(CertificateRequest::Tls13 {
        certificate_request_context,
        extensions,
    }) = m
    else {
        panic!("{m:?}")
    };
    assert!(certificate_request_context.is_empty());
    assert_eq!(ext_types(Some(extensions)), [13]);
    let b = rfc8448_value("s6.41.certificate");
    let (_, m) = check(&b, &Context::TLS13);
    let HandshakeMessage::Certificate(c) = m else {
        panic!("{m:?}")
    };
    assert_eq!(c.len(), 1);
}

/// The server's encrypted flight of section 3 is four messages in one record payload.
#[test]
fn rfc8448_server_flight_is_four_messages() {
    let b = rfc8448_value("s3.20.payload");
    let types: Vec<_> = check_all(&b, |_| Context::TLS13)
        .iter()
        .map(|(h, _)| h.msg_type)
        .collect();
    assert_eq!(
        types,
        [
            HandshakeType::ENCRYPTED_EXTENSIONS,
            HandshakeType::CERTIFICATE,
            HandshakeType::CERTIFICATE_VERIFY,
            HandshakeType::FINISHED
        ]
    );
}

/// A ClientHello whose handshake length claims 4 more bytes than follow: the error names
/// handshake.length at its absolute offset (6, behind the 5-byte record header).
#[test]
fn rfc8448_client_hello_length_plus_four() {
    let mut rec = rfc8448_value("s3.03.complete_record");
    assert_eq!(&rec[5..9], &[1, 0, 0, 0xc0]);
    rec[8] += 4;
    let mut r = Reader::new(&rec);
    r.skip("record_header", 5).unwrap();
    let e = parse_handshake(&mut r, &Context::TLS12).unwrap_err();
    assert_eq!(e.offset, 6);
    assert_eq!(e.path.to_string(), "handshake.length");
    assert_eq!(
        e.kind,
        DecodeErrorKind::LengthExceeds {
            declared: 0xc4,
            available: 0xc0
        }
    );
}

/// Odd cipher_suites length in the RFC 8448 ClientHello: NotMultiple, not a misparse.
#[test]
fn rfc8448_client_hello_odd_cipher_suites_length() {
    let mut b = rfc8448_value("s3.02.clienthello");
    // cipher_suites_length sits after header(4) version(2) random(32) session id(1).
    assert_eq!(&b[39..41], &[0, 6]);
    b[40] = 5;
    let e = parse_handshake(&mut Reader::new(&b), &Context::TLS12).unwrap_err();
    assert_eq!(e.offset, 39);
    assert_eq!(
        e.path.to_string(),
        "handshake.client_hello.cipher_suites_length"
    );
    assert_eq!(e.kind, DecodeErrorKind::NotMultiple { len: 5, unit: 2 });
}
