//! The Illustrated TLS 1.2, TLS 1.3 and DTLS 1.3 captures (syncsynchalt/illustrated-*,
//! MIT): captures/illustrated-*/captures/caps/*.

use super::support::*;

// The Illustrated TLS 1.2 connection (ECDHE_RSA, AES_128_CBC_SHA).

#[test]
fn illustrated_tls12_handshake() {
    let kx = ctx_kx(Context::TLS12, KeyExchange::Ecdhe);

    let b = plaintext_handshake(&tls12_cap("clienthello"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.random[..], (0u8..32).collect::<Vec<_>>()[..]);
    assert_eq!(ch.cipher_suites.len(), 16);
    assert_eq!(suites(ch.cipher_suites)[0], 0xcca8);

    let b = plaintext_handshake(&tls12_cap("serverhello"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        sh.cipher_suite,
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    );
    assert_eq!(KeyExchange::of(sh.cipher_suite), KeyExchange::Ecdhe);
    assert!(sh.legacy_session_id_echo.is_empty());
    assert_eq!(ext_types(sh.extensions), [0xff01]);
    assert_eq!(sh.downgrade_sentinel(), None);

    let b = plaintext_handshake(&tls12_cap("servercert"));
    let (_, m) = check(&b, &kx);
    let HandshakeMessage::Certificate(c) = m else {
        panic!("{m:?}")
    };
    assert_eq!(c.len(), 1);
    assert_eq!(c.end_entity().map(<[u8]>::len), Some(0x325));

    // The server's x25519 share and its RSA signature (published with the capture).
    let b = plaintext_handshake(&tls12_cap("serverkeyexchange"));
    let (_, m) = check(&b, &kx);
    let HandshakeMessage::ServerKeyExchange(ServerKeyExchange::Ecdhe {
        params,
        signed_params: Some(sig),
    }) = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(params.named_curve, NamedGroup::X25519);
    assert_eq!(
        params.public,
        hex("9fd7ad6dcff4298dd3f96d5b1b2af910a0535b1488d7f8fabb349a982880b615")
    );
    assert_eq!(sig.algorithm, SignatureScheme::RSA_PKCS1_SHA256);
    assert_eq!(sig.signature.len(), 256);

    let b = plaintext_handshake(&tls12_cap("serverhellodone"));
    let (_, m) = check(&b, &kx);
    assert_eq!(m, HandshakeMessage::ServerHelloDone(ServerHelloDone));

    // The client's share (keys/client-ephemeral-public.key, the last 32 bytes of its SPKI).
    let b = plaintext_handshake(&tls12_cap("clientkeyexchange"));
    let (_, m) = check(&b, &kx);
    assert_eq!(
        m,
        HandshakeMessage::ClientKeyExchange(ClientKeyExchange::Ecdhe {
            ecdh_yc: &hex("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
        })
    );

    // The decrypted Finished messages: 12 bytes of verify_data, then (for the server's)
    // the CBC record's MAC and padding, which are not part of the message.
    for name in ["clientfinishedplain", "serverfinishedplain"] {
        let b = tls12_cap(name);
        let (_, m) = check(&b[..16], &kx);
        let HandshakeMessage::Finished(f) = m else {
            panic!("{m:?}")
        };
        assert_eq!(f.verify_data.len(), 12);
    }
}

// The Illustrated TLS 1.3 connection (TLS_AES_256_GCM_SHA384).

#[test]
fn illustrated_tls13_handshake() {
    let b = plaintext_handshake(&tls13_cap("clienthello"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.legacy_session_id.len(), 32);
    assert_eq!(suites(ch.cipher_suites), [0x1302, 0x1303, 0x1301, 0x00ff]);

    let b = plaintext_handshake(&tls13_cap("serverhello"));
    let (_, m) = check(&b, &Context::TLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert_eq!(sh.cipher_suite, CipherSuite::TLS_AES_256_GCM_SHA384);
    assert_eq!(sh.legacy_session_id_echo, ch.legacy_session_id);
    assert_eq!(ext_types(sh.extensions), [43, 51]);

    let ctx = Context::TLS13;
    let b = tls13_cap("serverextensions");
    let (_, m) = check(inner_plaintext(&b, 22), &ctx);
    let HandshakeMessage::EncryptedExtensions(ee) = m else {
        panic!("{m:?}")
    };
    assert!(ee.extensions.is_empty());

    let b = tls13_cap("servercert");
    let (_, m) = check(inner_plaintext(&b, 22), &ctx);
    assert_eq!(m.msg_type(), Some(HandshakeType::CERTIFICATE), "{m:?}");

    let b = tls13_cap("servercertverify");
    let (_, m) = check(inner_plaintext(&b, 22), &ctx);
    let HandshakeMessage::CertificateVerify(cv) = m else {
        panic!("{m:?}")
    };
    assert_eq!(cv.algorithm, SignatureScheme::RSA_PSS_RSAE_SHA256);
    assert_eq!(cv.signature.len(), 256);

    // SHA-384: 48 bytes of verify_data.
    for name in ["serverfinished", "clientfinished"] {
        let b = tls13_cap(name);
        let (_, m) = check(inner_plaintext(&b, 22), &ctx);
        let HandshakeMessage::Finished(f) = m else {
            panic!("{m:?}")
        };
        assert_eq!(f.verify_data.len(), 48);
    }

    for (name, nonce) in [("serverticket1", 0u8), ("serverticket2", 1)] {
        let b = tls13_cap(name);
        let (_, m) = check(inner_plaintext(&b, 22), &ctx);
        let HandshakeMessage::NewSessionTicket(NewSessionTicket::Tls13 {
            ticket_lifetime,
            ticket_nonce,
            ticket,
            ..
        }) = m
        else {
            panic!("{m:?}")
        };
        assert_eq!(ticket_lifetime, 7200);
        assert_eq!(ticket_nonce, [0, 0, 0, 0, 0, 0, 0, nonce]);
        assert_eq!(ticket.len(), 0xc0);
    }
}

// The Illustrated DTLS 1.3 connection.

#[test]
fn illustrated_dtls13_handshake() {
    // The hellos are DTLSPlaintext records: skip the 13-byte header.
    let b = dtls_cap("01-hello-c");
    let (h, m) = check(&b[13..], &Context::DTLS12);
    assert_eq!(h.dtls.map(|f| f.message_seq), Some(0));
    let HandshakeMessage::ClientHello(ch) = m else {
        panic!("{m:?}")
    };
    assert_eq!(ch.legacy_version, ProtocolVersion::DTLS12);
    assert_eq!(ch.cookie, Some(&[][..]));
    assert_eq!(suites(ch.cipher_suites), [0x1301, 0x1302, 0x1303]);
    assert_eq!(dtls_cap("record-chello"), b);

    let b = dtls_cap("02-hello-s");
    let (_, m) = check(&b[13..], &Context::DTLS12);
    let HandshakeMessage::ServerHello(sh) = m else {
        panic!("{m:?}")
    };
    assert_eq!(sh.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
    assert_eq!(ext_types(sh.extensions), [51, 43]);

    // The decrypted handshake records: one message each, then the content type.
    let ctx = Context::DTLS13;
    let mut seqs = Vec::new();
    for (name, t) in [
        ("record-encext", HandshakeType::ENCRYPTED_EXTENSIONS),
        ("record-cert", HandshakeType::CERTIFICATE),
        ("record-cverify", HandshakeType::CERTIFICATE_VERIFY),
        ("record-sfin", HandshakeType::FINISHED),
        ("record-cfin", HandshakeType::FINISHED),
    ] {
        let b = dtls_cap(name);
        let (h, m) = check(inner_plaintext(&b, 22), &ctx);
        assert_eq!(m.msg_type(), Some(t));
        assert!(!h.is_fragment());
        seqs.push(h.dtls.map(|f| f.message_seq));
    }
    assert_eq!(seqs, [Some(1), Some(2), Some(3), Some(4), Some(1)]);

    // The server's ACK of the client's Finished (epoch 2, record 0).
    let b = dtls_cap("record-sack");
    let mut r = Reader::new(inner_plaintext(&b, 26));
    let ack = Ack::parse(&mut r).unwrap();
    assert!(r.is_empty());
    assert_eq!(
        ack.record_numbers.iter().collect::<Vec<_>>(),
        [RecordNumber {
            epoch: 2,
            sequence_number: 0
        }]
    );
}
