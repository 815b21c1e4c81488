//! The server's answer to malformed or unacceptable ClientHellos, checked from the wire: the
//! exact alert record it transmits (RFC 8446 section 6.2), and that it then fails.

mod common;

use common::OsRng;
use mote::{ExternalPsk, Server, ServerConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::extensions::{Extension, ExtensionBody, KeyShareEntry};
use mote_wire::handshake::{emit_handshake_tls, ClientHello, HandshakeMessage};
use mote_wire::{
    AlertDescription, CipherSuite, CompressionMethod, ExtensionType, HandshakeType, List,
    NamedGroup, ProtocolVersion, SignatureScheme, Writer,
};

/// What to break in an otherwise valid certificate-mode ClientHello.
#[derive(Default, Clone, Copy)]
struct Hello {
    no_supported_versions: bool,
    tls12_only: bool,
    unknown_groups_only: bool,
    offer_group_without_share: bool,
    compression: Option<u8>,
    no_signature_algorithms: bool,
    no_key_share: bool,
    duplicate_extension: bool,
    no_cipher_suites: bool,
    no_common_suite: bool,
    psk_without_modes: bool,
    /// ClientHello.legacy_version instead of 0x0303.
    legacy_version: Option<u16>,
    /// legacy_compression_methods instead of `[compression.unwrap_or(0)]`.
    compression_list: Option<&'static [u8]>,
    /// supported_groups offers only secp256r1; the key share is x25519.
    share_outside_groups: bool,
    /// Two x25519 key shares.
    duplicate_share: bool,
    /// pre_shared_key followed by psk_key_exchange_modes.
    psk_not_last: bool,
    /// supported_versions lists these instead of 0x0304.
    versions: Option<&'static [u16]>,
}

fn client_hello(h: Hello) -> Vec<u8> {
    let share = [9u8; 32];
    let unknown = [NamedGroup(0x1234)];
    let offered = [NamedGroup::X25519, NamedGroup::SECP256R1];
    let p256 = [NamedGroup::SECP256R1];
    let groups: &[NamedGroup] = if h.unknown_groups_only {
        &unknown
    } else if h.share_outside_groups {
        &p256
    } else {
        &offered
    };
    let share_group = if h.unknown_groups_only {
        NamedGroup(0x1234)
    } else {
        NamedGroup::X25519
    };
    let shares = [KeyShareEntry {
        group: share_group,
        key_exchange: &share,
    }; 2];
    let shares: &[KeyShareEntry] = if h.offer_group_without_share {
        &[]
    } else if h.duplicate_share {
        &shares
    } else {
        &shares[..1]
    };
    let v13 = [ProtocolVersion::TLS13];
    let v12 = [ProtocolVersion::TLS12];
    let listed: Vec<ProtocolVersion> = h
        .versions
        .unwrap_or(&[])
        .iter()
        .map(|&v| ProtocolVersion(v))
        .collect();
    let schemes = [SignatureScheme::ECDSA_SECP256R1_SHA256];
    let mut exts = Vec::new();
    if !h.no_supported_versions {
        exts.push(Extension {
            typ: ExtensionType::SUPPORTED_VERSIONS,
            body: ExtensionBody::SupportedVersionsClientHello(List::Items(if h.tls12_only {
                &v12
            } else if h.versions.is_some() {
                &listed
            } else {
                &v13
            })),
        });
    }
    exts.push(Extension {
        typ: ExtensionType::SUPPORTED_GROUPS,
        body: ExtensionBody::NamedGroupList(List::Items(groups)),
    });
    if !h.no_signature_algorithms {
        exts.push(Extension {
            typ: ExtensionType::SIGNATURE_ALGORITHMS,
            body: ExtensionBody::SignatureSchemeList(List::Items(&schemes)),
        });
    }
    if !h.no_key_share {
        exts.push(Extension {
            typ: ExtensionType::KEY_SHARE,
            body: ExtensionBody::KeyShareClientHello(List::Items(shares)),
        });
    }
    if h.duplicate_extension {
        exts.push(Extension {
            typ: ExtensionType::SIGNATURE_ALGORITHMS,
            body: ExtensionBody::SignatureSchemeList(List::Items(&schemes)),
        });
    }
    let ids = [mote_wire::extensions::PskIdentity {
        identity: b"sensor-0001",
        obfuscated_ticket_age: 0,
    }];
    let binder = [0u8; 32];
    let binders = [mote_wire::extensions::PskBinder(&binder)];
    if h.psk_without_modes || h.psk_not_last {
        exts.push(Extension {
            typ: ExtensionType::PRE_SHARED_KEY,
            body: ExtensionBody::PreSharedKeyClientHello(mote_wire::extensions::OfferedPsks {
                identities: List::Items(&ids),
                binders: List::Items(&binders),
            }),
        });
    }
    let modes = [mote_wire::PskKeyExchangeMode::PSK_DHE_KE];
    if h.psk_not_last {
        exts.push(Extension {
            typ: ExtensionType::PSK_KEY_EXCHANGE_MODES,
            body: ExtensionBody::PskKeyExchangeModes(List::Items(&modes)),
        });
    }
    let suites = [if h.no_common_suite {
        CipherSuite(0xc02f)
    } else {
        CipherSuite::TLS_AES_128_GCM_SHA256
    }];
    let comp: Vec<CompressionMethod> = match h.compression_list {
        Some(l) => l.iter().map(|&m| CompressionMethod(m)).collect(),
        None => vec![CompressionMethod(h.compression.unwrap_or(0))],
    };
    let ch = ClientHello {
        legacy_version: h
            .legacy_version
            .map_or(ProtocolVersion::TLS12, ProtocolVersion),
        random: [1; 32],
        legacy_session_id: &[],
        cookie: None,
        cipher_suites: List::Items(if h.no_cipher_suites { &[] } else { &suites }),
        legacy_compression_methods: List::Items(&comp),
        extensions: Some(List::Items(&exts)),
    };
    let mut buf = vec![0u8; 2048];
    let mut w = Writer::new(&mut buf);
    emit_handshake_tls(
        HandshakeType::CLIENT_HELLO,
        &HandshakeMessage::ClientHello(ch),
        &mut w,
    )
    .unwrap();
    let n = w.len();
    buf.truncate(n);
    record(22, &buf)
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 1, (body.len() >> 8) as u8, body.len() as u8];
    r.extend_from_slice(body);
    r
}

/// Feeds `bytes` to a fresh server (certificate-less: a PSK for `sensor-0001`, or with
/// `identity` an ECDSA key) and returns what it transmitted.
fn answer(bytes: &[u8]) -> (Vec<u8>, Status) {
    let key = [7u8; 32];
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let signer = mote_crypto::rustcrypto::EcdsaP256Signer::from_scalar(&[3; 32]).unwrap();
    let chain: [&[u8]; 1] = [b"not a real certificate"];
    let mut cfg = ServerConfig::new();
    cfg.psks = &psks;
    cfg.identity = Some(mote::ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let mut s = Server::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let buf = s.recv_buf();
    buf[..bytes.len()].copy_from_slice(bytes);
    let _ = s.recv_done(bytes.len(), &mut OsRng);
    (s.transmit().to_vec(), s.status())
}

/// Like [`answer`], feeding the first `split` bytes and the rest in two calls.
fn answer_in_two(bytes: &[u8], split: usize) -> (Vec<u8>, Status) {
    let key = [7u8; 32];
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let signer = mote_crypto::rustcrypto::EcdsaP256Signer::from_scalar(&[3; 32]).unwrap();
    let chain: [&[u8]; 1] = [b"not a real certificate"];
    let mut cfg = ServerConfig::new();
    cfg.psks = &psks;
    cfg.identity = Some(mote::ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let mut s = Server::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    for part in [&bytes[..split], &bytes[split..]] {
        s.recv_buf()[..part.len()].copy_from_slice(part);
        let _ = s.recv_done(part.len(), &mut OsRng);
    }
    (s.transmit().to_vec(), s.status())
}

fn alert(desc: AlertDescription) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, 2, desc.0]
}

fn expect(h: Hello, desc: AlertDescription) {
    let (out, status) = answer(&client_hello(h));
    assert_eq!(out, alert(desc), "expected {desc}");
    assert_eq!(status, Status::Failed);
}

#[test]
fn a_valid_hello_gets_a_server_hello() {
    let (out, status) = answer(&client_hello(Hello::default()));
    assert_eq!(status, Status::Handshaking);
    // ServerHello in the clear, then protected records.
    assert_eq!(out[0], 22);
    assert_eq!(out[5], 2);
}

#[test]
fn no_supported_versions_is_protocol_version() {
    expect(
        Hello {
            no_supported_versions: true,
            ..Hello::default()
        },
        AlertDescription::PROTOCOL_VERSION,
    );
    expect(
        Hello {
            tls12_only: true,
            ..Hello::default()
        },
        AlertDescription::PROTOCOL_VERSION,
    );
}

#[test]
fn unknown_groups_only_is_handshake_failure() {
    expect(
        Hello {
            unknown_groups_only: true,
            ..Hello::default()
        },
        AlertDescription::HANDSHAKE_FAILURE,
    );
}

#[test]
fn group_offered_without_a_share_gets_a_hello_retry_request() {
    let (out, status) = answer(&client_hello(Hello {
        offer_group_without_share: true,
        ..Hello::default()
    }));
    assert_eq!(status, Status::Handshaking);
    // One plaintext ServerHello with the HelloRetryRequest random, asking for x25519.
    assert_eq!(&out[..6], &[22, 3, 3, 0, out[4], 2]);
    assert_eq!(out.len(), 5 + usize::from(out[4]));
    assert_eq!(
        out[11..43],
        mote_wire::handshake::HELLO_RETRY_REQUEST_RANDOM
    );
    assert!(out.ends_with(&[0, 0x33, 0, 2, 0, 0x1d]), "{out:?}");
    // The same hello again (still no share) is illegal_parameter.
    let mut both = client_hello(Hello {
        offer_group_without_share: true,
        ..Hello::default()
    });
    both.extend_from_slice(&both.clone());
    let (out2, status) = answer_in_two(&both, both.len() / 2);
    assert_eq!(status, Status::Failed);
    assert!(
        out2.ends_with(&alert(AlertDescription::ILLEGAL_PARAMETER)),
        "{out2:?}"
    );
}

#[test]
fn compression_method_1_is_illegal_parameter() {
    expect(
        Hello {
            compression: Some(1),
            ..Hello::default()
        },
        AlertDescription::ILLEGAL_PARAMETER,
    );
}

#[test]
fn missing_extensions_are_missing_extension() {
    for h in [
        Hello {
            no_signature_algorithms: true,
            ..Hello::default()
        },
        Hello {
            no_key_share: true,
            ..Hello::default()
        },
        Hello {
            psk_without_modes: true,
            ..Hello::default()
        },
    ] {
        expect(h, AlertDescription::MISSING_EXTENSION);
    }
}

#[test]
fn no_common_suite_is_handshake_failure() {
    expect(
        Hello {
            no_common_suite: true,
            ..Hello::default()
        },
        AlertDescription::HANDSHAKE_FAILURE,
    );
}

#[test]
fn empty_cipher_list_and_duplicate_extensions_are_decode_errors() {
    expect(
        Hello {
            no_cipher_suites: true,
            ..Hello::default()
        },
        AlertDescription::DECODE_ERROR,
    );
    let (out, status) = answer(&client_hello(Hello {
        duplicate_extension: true,
        ..Hello::default()
    }));
    assert_eq!(status, Status::Failed);
    assert_eq!(out.len(), 7);
    assert!(
        [
            AlertDescription::DECODE_ERROR.0,
            AlertDescription::ILLEGAL_PARAMETER.0
        ]
        .contains(&out[6]),
        "{out:?}"
    );
}

#[test]
fn records_before_client_hello_are_unexpected_message() {
    for ct in [20u8, 23] {
        let (out, _) = answer(&record(ct, &[1]));
        assert_eq!(
            out,
            alert(AlertDescription::UNEXPECTED_MESSAGE),
            "type {ct}"
        );
    }
    // A handshake message other than ClientHello.
    let mut fin = vec![20, 0, 0, 32];
    fin.resize(36, 0);
    let (out, _) = answer(&record(22, &fin));
    assert_eq!(out, alert(AlertDescription::UNEXPECTED_MESSAGE));
}

#[test]
fn oversized_record_is_record_overflow() {
    let mut r = vec![22, 3, 1, 0x40, 0x01];
    r.resize(5 + (1 << 14) + 1, 0);
    let (out, _) = answer(&r);
    assert_eq!(out, alert(AlertDescription::RECORD_OVERFLOW));
}

#[test]
fn truncated_hello_is_decode_error() {
    let mut ch = client_hello(Hello::default());
    // Shorten the handshake length by one: the message ends a byte early.
    ch[8] -= 1;
    ch.pop();
    ch[4] -= 1;
    let (out, _) = answer(&ch);
    assert_eq!(out, alert(AlertDescription::DECODE_ERROR));
}

/// The server answered the hello with a plaintext ServerHello and goes on.
fn expect_server_hello(h: Hello, what: &str) {
    let (out, status) = answer(&client_hello(h));
    assert_eq!(status, Status::Handshaking, "{what}: {out:?}");
    assert_eq!((out[0], out[5]), (22, 2), "{what}: {out:?}");
}

#[test]
fn legacy_version_is_ignored_next_to_supported_versions() {
    // RFC 8446 section 4.2.1: with supported_versions, "servers MUST ignore the
    // ClientHello.legacy_version value" (which a client sets to 0x0303, section 4.1.2).
    for v in [0x0301, 0x0302, 0x0304, 0x7f1c] {
        expect_server_hello(
            Hello {
                legacy_version: Some(v),
                ..Hello::default()
            },
            &format!("legacy_version {v:#06x}"),
        );
    }
}

#[test]
fn legacy_version_ssl3_is_protocol_version() {
    // RFC 8446 appendix D.5: "Any endpoint receiving a Hello message with
    // ClientHello.legacy_version or ServerHello.legacy_version set to 0x0300 MUST abort the
    // handshake with a "protocol_version" alert."
    expect(
        Hello {
            legacy_version: Some(0x0300),
            ..Hello::default()
        },
        AlertDescription::PROTOCOL_VERSION,
    );
}

#[test]
fn supported_versions_with_unknown_versions_and_0x0304_is_accepted() {
    // Section 4.2.1: servers "MUST ignore any unknown versions that are present in that
    // extension".
    expect_server_hello(
        Hello {
            versions: Some(&[0x0a0a, 0x0303, 0x0304, 0x7f1c]),
            ..Hello::default()
        },
        "GREASE and TLS 1.2 around TLS 1.3",
    );
    // Without 0x0304: protocol_version (like tls12_only above).
    expect(
        Hello {
            versions: Some(&[0x0a0a, 0x0302, 0x0303]),
            ..Hello::default()
        },
        AlertDescription::PROTOCOL_VERSION,
    );
    // versions<2..254>: an empty list does not decode.
    expect(
        Hello {
            versions: Some(&[]),
            ..Hello::default()
        },
        AlertDescription::DECODE_ERROR,
    );
}

#[test]
fn compression_methods_other_than_null_alone() {
    // Section 4.1.2: "If a TLS 1.3 ClientHello is received with any other value in this
    // field, the server MUST abort the handshake with an "illegal_parameter" alert." (The
    // single method 1: compression_method_1_is_illegal_parameter.)
    for l in [&[0u8, 1][..], &[1, 0], &[0, 0], &[0x40]] {
        expect(
            Hello {
                compression_list: Some(l),
                ..Hello::default()
            },
            AlertDescription::ILLEGAL_PARAMETER,
        );
    }
    // legacy_compression_methods<1..2^8-1>: an empty list does not decode.
    expect(
        Hello {
            compression_list: Some(&[]),
            ..Hello::default()
        },
        AlertDescription::DECODE_ERROR,
    );
}

#[test]
fn two_key_shares_for_one_group_is_illegal_parameter() {
    // Section 4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same
    // group. ... Servers MAY check for violations of these rules and abort the handshake
    // with an "illegal_parameter" alert if one is violated."
    expect(
        Hello {
            duplicate_share: true,
            ..Hello::default()
        },
        AlertDescription::ILLEGAL_PARAMETER,
    );
}

#[test]
fn key_share_outside_supported_groups_is_illegal_parameter() {
    // Section 4.2.8: "Clients MUST NOT offer any KeyShareEntry values for groups not
    // listed in the client's "supported_groups" extension. ... Servers MAY check for
    // violations of these rules and abort the handshake with an "illegal_parameter" alert."
    expect(
        Hello {
            share_outside_groups: true,
            ..Hello::default()
        },
        AlertDescription::ILLEGAL_PARAMETER,
    );
}

#[test]
fn pre_shared_key_not_last_is_illegal_parameter() {
    // Section 4.2.11: pre_shared_key "MUST be the last extension in the ClientHello ...
    // Servers MUST check that it is the last extension and otherwise fail the handshake
    // with an "illegal_parameter" alert."
    expect(
        Hello {
            psk_not_last: true,
            ..Hello::default()
        },
        AlertDescription::ILLEGAL_PARAMETER,
    );
}
