//! Extensions: parse, emit, rebuild, and the errors for malformed ones.
//!
//! Vectors, read from shared/vectors/ (see its README.md):
//! - `rfc8448/rfc8448_vectors.txt`: the handshake messages of RFC 8448 (TLS 1.3 example
//!   traces), extracted from the RFC text.
//! - `parser/tls_parser_test_vectors.txt`: byte arrays from rusticata/tls-parser's tests
//!   (MIT/Apache-2.0), cited by their `## file:line` header.
//! - `parser/pion_dtls_vectors.txt`: byte arrays from pion/dtls's tests (MIT), cited the same
//!   way.

use mote_wire::extensions::*;
use mote_wire::{
    AlertDescription, CertificateType, DecodeError, DecodeErrorKind, ExtensionContext as Ctx,
    ExtensionType as T, Item, List, MaxFragmentLength, NamedGroup, ProtocolVersion,
    PskKeyExchangeMode, Reader, Sink, Value, Writer,
};

// ---------------------------------------------------------------- helpers

fn unhex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// Parsed values borrow their input; leaking keeps the tests free of lifetime plumbing.
fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

fn vector_file(rel: &str) -> String {
    let path = format!(
        "{}/../../../shared/vectors/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `label = hex` from rfc8448_vectors.txt.
fn rfc8448(label: &str) -> &'static [u8] {
    let file = vector_file("rfc8448/rfc8448_vectors.txt");
    let prefix = format!("{label} = ");
    let line = file.lines().find(|l| l.starts_with(&prefix)).unwrap();
    leak(unhex(&line[prefix.len()..]))
}

/// The first `name = hex` after the `## <header>` line of a parser/ vector file.
fn parser_vector(file: &str, header: &str) -> &'static [u8] {
    let text = vector_file(&format!("parser/{file}"));
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with(&format!("## {header}")));
    lines
        .next()
        .unwrap_or_else(|| panic!("{header} not in {file}"));
    let line = lines.find(|l| l.contains(" = ")).unwrap();
    leak(unhex(line.split(" = ").nth(1).unwrap()))
}

fn tls_parser(header: &str) -> &'static [u8] {
    parser_vector("tls_parser_test_vectors.txt", header)
}

fn pion(header: &str) -> &'static [u8] {
    parser_vector("pion_dtls_vectors.txt", header)
}

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

/// The extension block (with its length) of a hello body, given where session_id starts:
/// session_id, [DTLS cookie,] then for a ClientHello the suites and compression methods,
/// for a ServerHello one suite and one compression method.
fn hello_extensions(h: &'static [u8], mut p: usize, client: bool, dtls: bool) -> &'static [u8] {
    p += 1 + usize::from(h[p]);
    if client {
        if dtls {
            p += 1 + usize::from(h[p]);
        }
        p += 2 + u16_at(h, p);
        p += 1 + usize::from(h[p]);
    } else {
        p += 3;
    }
    &h[p..]
}

/// Handshake message (4-byte header) -> extension block.
fn ch(m: &'static [u8]) -> &'static [u8] {
    hello_extensions(m, 4 + 2 + 32, true, false)
}
fn sh(m: &'static [u8]) -> &'static [u8] {
    hello_extensions(m, 4 + 2 + 32, false, false)
}
fn nst(m: &'static [u8]) -> &'static [u8] {
    let p = 4 + 8;
    let p = p + 1 + usize::from(m[p]);
    &m[p + 2 + u16_at(m, p)..]
}

fn parse(block: &'static [u8], ctx: Ctx) -> Result<Extensions<'static>, DecodeError> {
    let mut r = Reader::new(block);
    let list = read_extensions(&mut r, ctx)?;
    assert!(r.is_empty(), "bytes after the extension block");
    Ok(list)
}

fn emit(list: &Extensions<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let mut w = Writer::new(&mut buf);
    write_extensions(list, &mut w).unwrap();
    w.written().to_vec()
}

fn items<T: Item<'static>>(l: List<'static, T>) -> List<'static, T> {
    List::Items(leak(l.iter().collect()))
}

/// The same extension with every list rebuilt from its elements.
fn rebuild(e: Extension<'static>) -> Extension<'static> {
    use ExtensionBody as B;
    let body = match e.body {
        B::ServerNameList(l) => B::ServerNameList(items(l)),
        B::NamedGroupList(l) => B::NamedGroupList(items(l)),
        B::EcPointFormatList(l) => B::EcPointFormatList(items(l)),
        B::SignatureSchemeList(l) => B::SignatureSchemeList(items(l)),
        B::ProtocolNameList(l) => B::ProtocolNameList(items(l)),
        B::CertificateTypeList(l) => B::CertificateTypeList(items(l)),
        B::SupportedVersionsClientHello(l) => B::SupportedVersionsClientHello(items(l)),
        B::PskKeyExchangeModes(l) => B::PskKeyExchangeModes(items(l)),
        B::CertificateAuthorities(l) => B::CertificateAuthorities(items(l)),
        B::KeyShareClientHello(l) => B::KeyShareClientHello(items(l)),
        B::PreSharedKeyClientHello(p) => B::PreSharedKeyClientHello(OfferedPsks {
            identities: items(p.identities),
            binders: items(p.binders),
        }),
        other => other,
    };
    Extension { typ: e.typ, body }
}

/// Parse, emit, rebuild from elements, emit again: both emissions equal the input.
fn round_trip(block: &'static [u8], ctx: Ctx) -> Extensions<'static> {
    let list = parse(block, ctx).unwrap_or_else(|e| panic!("{ctx:?}: {e}"));
    assert_eq!(emit(&list), block, "{ctx:?}: parse -> emit");
    let rebuilt: Extensions = List::Items(leak(list.iter().map(rebuild).collect()));
    assert_eq!(emit(&rebuilt), block, "{ctx:?}: rebuild -> emit");
    assert_eq!(rebuilt, list);
    list
}

fn body(list: &Extensions<'static>, typ: T) -> ExtensionBody<'static> {
    list.find(typ)
        .unwrap_or_else(|| panic!("{typ} missing"))
        .body
}

fn err(block: &[u8], ctx: Ctx) -> DecodeError {
    let block = leak(block.to_vec());
    match read_extensions(&mut Reader::new(block), ctx) {
        Ok(l) => panic!("expected an error, parsed {l:?}"),
        Err(e) => e,
    }
}

/// An extension block from `type, body` pairs.
fn block(exts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut inner = Vec::new();
    for (t, b) in exts {
        inner.extend_from_slice(&t.to_be_bytes());
        inner.extend_from_slice(&(b.len() as u16).to_be_bytes());
        inner.extend_from_slice(b);
    }
    let mut out = (inner.len() as u16).to_be_bytes().to_vec();
    out.extend(inner);
    out
}

// ---------------------------------------------------------------- RFC 8448

/// Every extension block of RFC 8448's hellos, EncryptedExtensions, NewSessionTicket and
/// CertificateRequest, with the message it sits in.
fn rfc8448_blocks() -> Vec<(&'static str, &'static [u8], Ctx)> {
    let mut v = Vec::new();
    for l in ["s3.02", "s5.02", "s5.07", "s6.02", "s7.02"] {
        v.push((
            l,
            ch(rfc8448(&format!("{l}.clienthello"))),
            Ctx::ClientHello,
        ));
    }
    // s4.05.payload is the 0-RTT ClientHello with its binders (s4.03 stops before them).
    v.push(("s4.05", ch(rfc8448("s4.05.payload")), Ctx::ClientHello));
    for l in ["s3.06", "s4.15", "s5.11", "s6.06", "s7.06"] {
        v.push((
            l,
            sh(rfc8448(&format!("{l}.serverhello"))),
            Ctx::ServerHello,
        ));
    }
    // s5.04 is the HelloRetryRequest (a ServerHello with the special random).
    v.push((
        "s5.04",
        sh(rfc8448("s5.04.serverhello")),
        Ctx::HelloRetryRequest,
    ));
    for l in ["s3.15", "s4.24", "s5.20", "s6.15", "s7.16"] {
        let m = rfc8448(&format!("{l}.encryptedextensions"));
        v.push((l, &m[4..], Ctx::EncryptedExtensions));
    }
    v.push((
        "s3.49",
        nst(rfc8448("s3.49.newsessionticket")),
        Ctx::NewSessionTicket,
    ));
    let cr = rfc8448("s6.16.certificaterequest");
    v.push((
        "s6.16",
        &cr[5 + usize::from(cr[4])..],
        Ctx::CertificateRequest,
    ));
    v
}

#[test]
fn rfc8448_round_trip_and_every_body_decoded() {
    for (label, b, ctx) in rfc8448_blocks() {
        let list = round_trip(b, ctx);
        assert!(!list.is_empty(), "{label}");
        for e in list.iter() {
            let unknown = matches!(e.body, ExtensionBody::Unknown(_));
            assert!(!unknown, "{label}: {} left undecoded", e.typ);
        }
    }
}

#[test]
fn rfc8448_decoded_values() {
    let list = round_trip(ch(rfc8448("s3.02.clienthello")), Ctx::ClientHello);
    let ExtensionBody::ServerNameList(names) = body(&list, T::SERVER_NAME) else {
        panic!()
    };
    assert_eq!(
        names.iter().collect::<Vec<_>>(),
        [ServerName::host_name(b"server")]
    );
    assert_eq!(
        body(&list, T::RENEGOTIATION_INFO),
        ExtensionBody::RenegotiationInfo(b"")
    );
    assert_eq!(
        body(&list, T::SESSION_TICKET),
        ExtensionBody::SessionTicket(b"")
    );
    let ExtensionBody::NamedGroupList(groups) = body(&list, T::SUPPORTED_GROUPS) else {
        panic!()
    };
    assert_eq!(groups.len(), 9);
    assert_eq!(groups.iter().next(), Some(NamedGroup::X25519));
    let ExtensionBody::KeyShareClientHello(shares) = body(&list, T::KEY_SHARE) else {
        panic!()
    };
    let shares: Vec<_> = shares.iter().collect();
    let public = rfc8448("s3.01.public_key");
    assert_eq!(
        shares,
        [KeyShareEntry {
            group: NamedGroup::X25519,
            key_exchange: public
        }]
    );
    let ExtensionBody::SupportedVersionsClientHello(v) = body(&list, T::SUPPORTED_VERSIONS) else {
        panic!()
    };
    assert_eq!(v.iter().collect::<Vec<_>>(), [ProtocolVersion::TLS13]);
    let ExtensionBody::SignatureSchemeList(s) = body(&list, T::SIGNATURE_ALGORITHMS) else {
        panic!()
    };
    assert_eq!(s.len(), 15);
    let ExtensionBody::PskKeyExchangeModes(m) = body(&list, T::PSK_KEY_EXCHANGE_MODES) else {
        panic!()
    };
    assert_eq!(
        m.iter().collect::<Vec<_>>(),
        [PskKeyExchangeMode::PSK_DHE_KE]
    );
    assert_eq!(
        body(&list, T::RECORD_SIZE_LIMIT),
        ExtensionBody::RecordSizeLimit(0x4001)
    );

    let list = round_trip(sh(rfc8448("s3.06.serverhello")), Ctx::ServerHello);
    let server_share = KeyShareEntry {
        group: NamedGroup::X25519,
        key_exchange: rfc8448("s3.05.public_key"),
    };
    assert_eq!(
        body(&list, T::KEY_SHARE),
        ExtensionBody::KeyShareServerHello(server_share)
    );
    let selected = ExtensionBody::SupportedVersionsServerHello(ProtocolVersion::TLS13);
    assert_eq!(body(&list, T::SUPPORTED_VERSIONS), selected);

    let list = round_trip(
        &rfc8448("s3.15.encryptedextensions")[4..],
        Ctx::EncryptedExtensions,
    );
    assert_eq!(body(&list, T::SERVER_NAME), ExtensionBody::Empty);

    // The resumption ticket of s3.49 comes back as the PSK identity of s4.05, bound by the
    // binder computed in s4.04.
    let ticket_msg = rfc8448("s3.49.newsessionticket");
    let list = round_trip(nst(ticket_msg), Ctx::NewSessionTicket);
    assert_eq!(
        body(&list, T::EARLY_DATA),
        ExtensionBody::MaxEarlyDataSize(1024)
    );
    let ticket = &ticket_msg[4 + 8 + 1 + 2 + 2..][..u16_at(ticket_msg, 4 + 8 + 1 + 2)];
    let list = round_trip(ch(rfc8448("s4.05.payload")), Ctx::ClientHello);
    assert_eq!(list.iter().last().unwrap().typ, T::PRE_SHARED_KEY);
    assert_eq!(body(&list, T::EARLY_DATA), ExtensionBody::Empty);
    assert_eq!(body(&list, T::PADDING).padding_is_zero(), Some(true));
    let ExtensionBody::PreSharedKeyClientHello(psk) = body(&list, T::PRE_SHARED_KEY) else {
        panic!()
    };
    let ids: Vec<_> = psk.identities.iter().collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].identity, ticket);
    let binders: Vec<_> = psk.binders.iter().collect();
    assert_eq!(binders, [PskBinder(rfc8448("s4.04.finished"))]);
    let list = round_trip(sh(rfc8448("s4.15.serverhello")), Ctx::ServerHello);
    assert_eq!(
        body(&list, T::PRE_SHARED_KEY),
        ExtensionBody::PreSharedKeyServerHello(0)
    );

    // HelloRetryRequest: the group to retry with and a cookie the next ClientHello echoes.
    let list = round_trip(sh(rfc8448("s5.04.serverhello")), Ctx::HelloRetryRequest);
    let selected = ExtensionBody::KeyShareHelloRetryRequest(NamedGroup::SECP256R1);
    assert_eq!(body(&list, T::KEY_SHARE), selected);
    let ExtensionBody::Cookie(cookie) = body(&list, T::COOKIE) else {
        panic!()
    };
    assert_eq!(cookie.len(), 0x72);
    let list = round_trip(ch(rfc8448("s5.07.clienthello")), Ctx::ClientHello);
    assert_eq!(body(&list, T::COOKIE), ExtensionBody::Cookie(cookie));
}

// ---------------------------------------------------------------- tls-parser and pion

#[test]
fn tls_parser_vectors() {
    // tests/tls_extensions.rs:11: a TLS 1.2 ClientHello's extensions, without the list
    // length: server_name, ec_point_formats, supported_groups, session_ticket,
    // signature_algorithms, status_request, heartbeat.
    let raw = tls_parser("tests/tls_extensions.rs:11 ");
    let mut b = (raw.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(raw);
    let list = round_trip(leak(b), Ctx::ClientHello);
    let ExtensionBody::ServerNameList(n) = body(&list, T::SERVER_NAME) else {
        panic!()
    };
    assert_eq!(n.iter().next().unwrap().name, b"www.google.com");
    let ExtensionBody::StatusRequest(s) = body(&list, T::STATUS_REQUEST) else {
        panic!()
    };
    assert_eq!(
        (s.status_type, s.responder_id_list, s.request_extensions),
        (1, &[][..], &[][..])
    );
    assert!(matches!(
        body(&list, T::HEARTBEAT),
        ExtensionBody::Unknown([1])
    ));

    // Single extensions from the same file, each wrapped in a list.
    let one = |line: &str, ctx: Ctx| {
        let e = tls_parser(&format!("tests/tls_extensions.rs:{line} "));
        let mut b = (e.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(e);
        round_trip(leak(b), ctx)
    };
    let l = one("56", Ctx::ClientHello);
    assert_eq!(
        body(&l, T::MAX_FRAGMENT_LENGTH),
        ExtensionBody::MaxFragmentLength(MaxFragmentLength::L4096)
    );
    let l = one("67", Ctx::ClientHello);
    let ExtensionBody::ProtocolNameList(p) = body(&l, T::ALPN) else {
        panic!()
    };
    let names: Vec<&[u8]> = p.iter().map(|p| p.0).collect();
    let want: [&[u8]; 6] = [
        b"h2-16",
        b"h2-15",
        b"h2-14",
        b"h2",
        b"spdy/3.1",
        b"http/1.1",
    ];
    assert_eq!(names, want);
    assert_eq!(
        body(&one("93", Ctx::ClientHello), T::ENCRYPT_THEN_MAC),
        ExtensionBody::Empty
    );
    assert_eq!(
        body(&one("104", Ctx::ServerHello), T::EXTENDED_MASTER_SECRET),
        ExtensionBody::Empty
    );
    // next_protocol_negotiation (0x3374) is not in the registry: kept as bytes.
    assert_eq!(
        body(&one("115", Ctx::ClientHello), T(0x3374)),
        ExtensionBody::Unknown(b"")
    );
    // tests/tls_extensions.rs:126: status_request, extended_master_secret,
    // renegotiation_info, as a ServerHello acknowledges them.
    let l = one("126", Ctx::ServerHello);
    assert_eq!(body(&l, T::STATUS_REQUEST), ExtensionBody::Empty);
    // tests/tls_extensions.rs:145: a full KeyShareEntry, the ServerHello shape of RFC 8446
    // (a HelloRetryRequest carries only the group), and a draft supported_versions.
    let l = one("145", Ctx::ServerHello);
    let ExtensionBody::KeyShareServerHello(k) = body(&l, T::KEY_SHARE) else {
        panic!()
    };
    assert_eq!((k.group, k.key_exchange.len()), (NamedGroup::X25519, 32));
    let draft = ExtensionBody::SupportedVersionsServerHello(ProtocolVersion(0x7f17));
    assert_eq!(body(&l, T::SUPPORTED_VERSIONS), draft);
    assert_eq!(
        body(
            &one("166", Ctx::ClientHello),
            T::SIGNED_CERTIFICATE_TIMESTAMP
        ),
        ExtensionBody::Empty
    );
    assert_eq!(
        body(&one("177", Ctx::ClientHello), T(0x3a3a)),
        ExtensionBody::Unknown(&[0])
    );
    assert_eq!(
        body(&one("204", Ctx::ClientHello), T::RECORD_SIZE_LIMIT),
        ExtensionBody::RecordSizeLimit(0x4001)
    );

    // Whole records: 5-byte record header, then the handshake message.
    // tests/tls_handshake.rs:12: TLS 1.2 ClientHello; tests/tls_tls13.rs:9: a TLS 1.3
    // ClientHello with padding first and the draft key_share code point 40 (kept as bytes).
    round_trip(
        ch(&tls_parser("tests/tls_handshake.rs:12 ")[5..]),
        Ctx::ClientHello,
    );
    let l = round_trip(
        ch(&tls_parser("tests/tls_tls13.rs:9 ")[5..]),
        Ctx::ClientHello,
    );
    assert!(matches!(body(&l, T(40)), ExtensionBody::Unknown(b) if b.len() == 38));
    // tests/tls_handshake.rs:579: TLS 1.2 ServerHello with renegotiation_info,
    // session_ticket, ec_point_formats.
    let l = round_trip(
        sh(&tls_parser("tests/tls_handshake.rs:579")[5..]),
        Ctx::ServerHello,
    );
    assert_eq!(body(&l, T::SESSION_TICKET), ExtensionBody::Empty);
}

#[test]
fn pion_vectors() {
    // pkg/protocol/extension/connection_id_test.go:15: pion marshals this CID as
    // type 54, length, then `opaque cid<0..2^8-1>`.
    let cid = pion("pkg/protocol/extension/connection_id_test.go:15 ");
    let b = leak(block(&[(54, &[&[cid.len() as u8][..], cid].concat())]));
    for ctx in [Ctx::ClientHello, Ctx::ServerHello, Ctx::EncryptedExtensions] {
        let l = round_trip(b, ctx);
        assert_eq!(body(&l, T::CONNECTION_ID), ExtensionBody::ConnectionId(cid));
    }
    let empty = leak(block(&[(54, &[0])]));
    assert_eq!(
        body(&round_trip(empty, Ctx::ServerHello), T::CONNECTION_ID),
        ExtensionBody::ConnectionId(b"")
    );

    // pkg/protocol/handshake/message_client_hello_test.go:18: DTLS 1.2 ClientHello body
    // (with a cookie) offering x25519.
    let h = pion("pkg/protocol/handshake/message_client_hello_test.go:18 ");
    let l = round_trip(hello_extensions(h, 2 + 32, true, true), Ctx::ClientHello);
    let ExtensionBody::NamedGroupList(g) = body(&l, T::SUPPORTED_GROUPS) else {
        panic!()
    };
    assert_eq!(g.iter().collect::<Vec<_>>(), [NamedGroup::X25519]);
    // pkg/crypto/prf/prf_test.go:120 and :133: a TLS 1.2 ClientHello and ServerHello.
    let l = round_trip(
        ch(pion("pkg/crypto/prf/prf_test.go:120 ")),
        Ctx::ClientHello,
    );
    let ExtensionBody::ServerNameList(n) = body(&l, T::SERVER_NAME) else {
        panic!()
    };
    assert_eq!(n.iter().next().unwrap().name, b"example.ulfheim.net");
    round_trip(
        sh(pion("pkg/crypto/prf/prf_test.go:133 ")),
        Ctx::ServerHello,
    );
    // pkg/protocol/handshake/message_certificate_request_13_test.go:22 and :38: TLS 1.3
    // CertificateRequest bodies (context, then extensions).
    for line in ["22", "38"] {
        let cr = pion(&format!(
            "pkg/protocol/handshake/message_certificate_request_13_test.go:{line} "
        ));
        let l = round_trip(&cr[1 + usize::from(cr[0])..], Ctx::CertificateRequest);
        assert!(matches!(
            body(&l, T::SIGNATURE_ALGORITHMS),
            ExtensionBody::SignatureSchemeList(_)
        ));
    }
    // pkg/protocol/extension/raw_test.go:35: an unknown type round-trips as bytes.
    let l = round_trip(
        pion("pkg/protocol/extension/raw_test.go:35 "),
        Ctx::ClientHello,
    );
    assert_eq!(body(&l, T(0x1234)), ExtensionBody::Unknown(&[0xaa]));
    // pkg/protocol/extension/raw_test.go:15: pion's raw list keeps a repeated type 0xface;
    // RFC 8446 section 4.2 forbids it, at the second one's type (offset 2 + 7).
    let e = err(
        pion("pkg/protocol/extension/raw_test.go:15 "),
        Ctx::ClientHello,
    );
    assert_eq!(
        (e.offset, e.path.to_string()),
        (9, "extensions[1].type".into())
    );
    assert_eq!(e.kind, DecodeErrorKind::Duplicate { value: 0xface });
    // pkg/protocol/extension/raw_test.go:52: a length that runs past the list.
    let e = err(
        pion("pkg/protocol/extension/raw_test.go:52 "),
        Ctx::ClientHello,
    );
    assert_eq!(
        (e.offset, e.path.to_string()),
        (4, "extensions[0].length".into())
    );
    assert_eq!(
        e.kind,
        DecodeErrorKind::LengthExceeds {
            declared: 1,
            available: 0
        }
    );
}

// ---------------------------------------------------------------- robustness

fn all_blocks() -> Vec<(&'static [u8], Ctx)> {
    let mut v: Vec<_> = rfc8448_blocks()
        .into_iter()
        .map(|(_, b, c)| (b, c))
        .collect();
    v.push((
        ch(&tls_parser("tests/tls_handshake.rs:12 ")[5..]),
        Ctx::ClientHello,
    ));
    v.push((
        ch(&tls_parser("tests/tls_tls13.rs:9 ")[5..]),
        Ctx::ClientHello,
    ));
    v.push((leak(hand_built().out), Ctx::ClientHello));
    v
}

#[test]
fn every_truncation_errors_without_panic() {
    for (b, ctx) in all_blocks() {
        for cut in 0..b.len() {
            assert!(read_extensions(&mut Reader::new(&b[..cut]), ctx).is_err());
            // With the outer length fixed up, the cut lands inside an extension; only a
            // cut at an extension boundary may parse, and then it must re-emit exactly.
            if cut >= 2 {
                let mut t = b[..cut].to_vec();
                t[..2].copy_from_slice(&(cut as u16 - 2).to_be_bytes());
                let t = leak(t);
                if let Ok(l) = read_extensions(&mut Reader::new(t), ctx) {
                    assert_eq!(emit(&l), t);
                }
            }
        }
    }
}

#[test]
fn every_byte_changed_parses_or_errors_and_round_trips() {
    for (b, ctx) in all_blocks() {
        for i in 0..b.len() {
            for d in [1u8, 0xff, 0x80] {
                let mut m = b.to_vec();
                m[i] = m[i].wrapping_add(d);
                let m = leak(m);
                if let Ok(l) = read_extensions(&mut Reader::new(m), ctx) {
                    assert_eq!(emit(&l), m);
                    let rebuilt: Extensions = List::Items(leak(l.iter().map(rebuild).collect()));
                    assert_eq!(emit(&rebuilt), m, "byte {i} + {d}: lists re-decode");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- length fields

/// Builds an extension block while noting the offset, width and error path of every
/// length field in it.
#[derive(Default)]
struct Builder {
    out: Vec<u8>,
    fields: Vec<(usize, usize, String)>,
    path: Vec<String>,
}

impl Builder {
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }
    fn node(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        self.path.push(name.into());
        f(self);
        self.path.pop();
    }
    fn len(&mut self, width: usize, name: &str, f: impl FnOnce(&mut Self)) {
        let at = self.out.len();
        self.out.resize(at + width, 0);
        let path = [&self.path[..], &[name.to_string()]].concat().join(".");
        self.fields.push((at, width, path));
        f(self);
        let n = (self.out.len() - at - width) as u32;
        self.out[at..at + width].copy_from_slice(&n.to_be_bytes()[4 - width..]);
    }
    fn ext(&mut self, i: usize, typ: u16, name: &str, f: impl FnOnce(&mut Self)) {
        self.node(&format!("extensions[{i}]"), |b| {
            b.bytes(&typ.to_be_bytes());
            b.len(2, "length", |b| b.node(name, f));
        });
    }
    fn one(&mut self, node: &str, item: &str, f: impl FnOnce(&mut Self)) {
        self.node(node, |b| b.node(&format!("{item}[0]"), f));
    }
}

/// A ClientHello extension block with every decoded extension that has a length inside.
/// Lists whose elements carry a length hold a single element: with several, a length
/// off by one inside a non-last element shifts the next element, whose misparse no
/// framing rule can trace back with certainty. Left out for the same reason: padding and
/// session_ticket (the body is "the rest", so a wrong outer length surfaces only at the
/// next extension) and status_request's responder_id_list (a length one too large
/// swallows the first byte of the fixed-width field after it).
fn hand_built() -> Builder {
    let mut b = Builder::default();
    b.len(2, "extensions_length", |b| {
        b.ext(0, 0, "server_name", |b| {
            b.len(2, "list_length", |b| {
                b.one("server_name_list", "server_name", |b| {
                    b.bytes(&[0]);
                    b.len(2, "host_name_length", |b| b.bytes(b"example.com"));
                })
            })
        });
        b.ext(1, 10, "supported_groups", |b| {
            b.len(2, "named_group_list_length", |b| {
                b.bytes(&[0, 0x1d, 0, 0x17])
            })
        });
        b.ext(2, 13, "signature_algorithms", |b| {
            b.len(2, "supported_signature_algorithms_length", |b| {
                b.bytes(&[4, 3, 8, 4, 8, 7])
            })
        });
        b.ext(3, 51, "key_share", |b| {
            b.len(2, "client_shares_length", |b| {
                b.one("client_shares", "key_share_entry", |b| {
                    b.bytes(&[0, 0x1d]);
                    b.len(2, "key_exchange_length", |b| b.bytes(&[0x11; 32]));
                })
            })
        });
        b.ext(4, 43, "supported_versions", |b| {
            b.len(1, "versions_length", |b| b.bytes(&[3, 4, 3, 3]))
        });
        b.ext(5, 45, "psk_key_exchange_modes", |b| {
            b.len(1, "ke_modes_length", |b| b.bytes(&[1]))
        });
        b.ext(6, 16, "application_layer_protocol_negotiation", |b| {
            b.len(2, "protocol_name_list_length", |b| {
                b.one("protocol_name_list", "protocol_name", |b| {
                    b.len(1, "name_length", |b| b.bytes(b"h2"))
                })
            })
        });
        b.ext(7, 28, "record_size_limit", |b| b.bytes(&[0x40, 0x01]));
        b.ext(8, 1, "max_fragment_length", |b| b.bytes(&[4]));
        b.ext(9, 11, "ec_point_formats", |b| {
            b.len(1, "ec_point_format_list_length", |b| b.bytes(&[0]))
        });
        b.ext(10, 0xff01, "renegotiation_info", |b| {
            b.len(1, "renegotiated_connection_length", |_| {})
        });
        b.ext(11, 54, "connection_id", |b| {
            b.len(1, "cid_length", |b| b.bytes(&[1, 2, 3, 4]))
        });
        b.ext(12, 44, "cookie", |b| {
            b.len(2, "cookie_length", |b| b.bytes(&[0xc0; 16]))
        });
        b.ext(13, 47, "certificate_authorities", |b| {
            b.len(2, "authorities_length", |b| {
                b.one("authorities", "distinguished_name", |b| {
                    b.len(2, "name_length", |b| b.bytes(&[0x30, 3, 0x31, 1, 0]))
                })
            })
        });
        b.ext(14, 19, "client_certificate_type", |b| {
            b.len(1, "client_certificate_types_length", |b| b.bytes(&[2, 0]))
        });
        b.ext(15, 42, "early_data", |_| {});
        b.ext(16, 49, "post_handshake_auth", |_| {});
        b.ext(17, 23, "extended_master_secret", |_| {});
        b.ext(18, 41, "pre_shared_key", |b| {
            b.len(2, "identities_length", |b| {
                b.one("identities", "psk_identity", |b| {
                    b.len(2, "identity_length", |b| b.bytes(&[0x1d; 20]));
                    b.bytes(&[0, 0, 0x10, 0]);
                })
            });
            b.len(2, "binders_length", |b| {
                b.one("binders", "binder", |b| {
                    b.len(1, "binder_length", |b| b.bytes(&[0xb1; 32]))
                })
            });
        });
    });
    b
}

#[test]
fn hand_built_block_decodes() {
    let b = hand_built();
    let list = round_trip(leak(b.out.clone()), Ctx::ClientHello);
    assert_eq!(list.len(), 19);
    assert!(list
        .iter()
        .all(|e| !matches!(e.body, ExtensionBody::Unknown(_))));
    assert_eq!(b.fields.len(), 41);
}

/// Each length field one too large and one too small (wrapping, so a zero length becomes
/// the field's maximum) fails at that field's offset, with a path ending in its name.
#[test]
fn every_length_off_by_one_blames_that_length() {
    let b = hand_built();
    let mut wrong = Vec::new();
    for (at, width, path) in &b.fields {
        for delta in [1u32, u32::MAX] {
            let mut m = b.out.clone();
            let old = m[*at..at + width]
                .iter()
                .fold(0u32, |a, &x| a << 8 | u32::from(x));
            let new = old.wrapping_add(delta) & ((1u32 << (8 * width)) - 1);
            m[*at..at + width].copy_from_slice(&new.to_be_bytes()[4 - width..]);
            let e = err(&m, Ctx::ClientHello);
            if e.offset != *at || e.path.to_string() != *path {
                wrong.push(format!("{path} {old}->{new}: got {e}"));
            }
            assert_eq!(e.alert(), AlertDescription::DECODE_ERROR, "{path}: {e}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn blamed_lengths_carry_both_numbers() {
    // server_name's extension length one short (12 -> 11) of its body.
    let b = hand_built();
    let mut m = b.out.clone();
    m[5] -= 1;
    let e = err(&m, Ctx::ClientHello);
    assert_eq!(
        e.kind,
        DecodeErrorKind::TrailingBytes {
            declared: 15,
            used: 16
        }
    );
    assert_eq!(e.to_string(), "error at byte 4 (0x0004) extensions[0].length: declares 15 bytes but its contents end after 16");
    // One long: the body leaves a byte.
    m[5] += 2;
    let e = err(&m, Ctx::ClientHello);
    assert_eq!(
        (e.offset, e.kind),
        (
            4,
            DecodeErrorKind::TrailingBytes {
                declared: 17,
                used: 16
            }
        )
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn duplicates_are_refused_at_the_second_type() {
    // RFC 8446 section 4.2: no two extensions of one type in a block.
    let b = block(&[(23, b""), (43, &[2, 3, 4]), (23, b"")]);
    let e = err(&b, Ctx::ClientHello);
    assert_eq!(
        (e.offset, e.path.to_string()),
        (2 + 4 + 7, "extensions[2].type".into())
    );
    assert_eq!(e.kind, DecodeErrorKind::Duplicate { value: 23 });
    assert_eq!(e.alert(), AlertDescription::ILLEGAL_PARAMETER);
    // Unknown types count too.
    let e = err(
        &block(&[(0x1234, b"a"), (0x1234, b"b")]),
        Ctx::EncryptedExtensions,
    );
    assert_eq!(
        (e.offset, e.kind),
        (7, DecodeErrorKind::Duplicate { value: 0x1234 })
    );
    // RFC 6066 section 3: one name per name_type.
    let sni = [0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b'];
    let e = err(&block(&[(0, &sni)]), Ctx::ClientHello);
    let path = "extensions[0].server_name.server_name_list.server_name[1].name_type";
    assert_eq!((e.offset, e.path.to_string()), (6 + 2 + 4, path.into()));
    // RFC 8446 section 4.2.8: one KeyShareEntry per group.
    let ks = [0, 10, 0, 0x1d, 0, 1, 7, 0, 0x1d, 0, 1, 8];
    let e = err(&block(&[(51, &ks)]), Ctx::ClientHello);
    let path = "extensions[0].key_share.client_shares.key_share_entry[1].group";
    assert_eq!((e.offset, e.path.to_string()), (6 + 2 + 5, path.into()));
    assert_eq!(e.kind, DecodeErrorKind::Duplicate { value: 0x1d });
}

fn psk_body() -> Vec<u8> {
    let mut p = vec![0, 7, 0, 1, 0x42, 0, 0, 0, 0, 0, 33, 32];
    p.extend_from_slice(&[0xb1; 32]);
    p
}

#[test]
fn pre_shared_key_must_be_last_in_client_hello() {
    let psk = psk_body();
    let l = round_trip(leak(block(&[(23, b""), (41, &psk)])), Ctx::ClientHello);
    let ExtensionBody::PreSharedKeyClientHello(p) = body(&l, T::PRE_SHARED_KEY) else {
        panic!()
    };
    let id = PskIdentity {
        identity: &[0x42],
        obfuscated_ticket_age: 0,
    };
    assert_eq!(p.identities.iter().collect::<Vec<_>>(), [id]);
    // RFC 8446 section 4.2.11: "Servers MUST check that it is the last extension".
    let e = err(&block(&[(41, &psk), (23, b"")]), Ctx::ClientHello);
    assert_eq!(
        (e.offset, e.path.to_string()),
        (2, "extensions[0].type".into())
    );
    assert_eq!(e.kind, DecodeErrorKind::IllegalValue { value: 41 });
    assert_eq!(e.alert(), AlertDescription::ILLEGAL_PARAMETER);
    // A ServerHello may put its pre_shared_key anywhere (RFC 8446 section 4.2).
    round_trip(
        leak(block(&[(41, &[0, 0]), (43, &[3, 4])])),
        Ctx::ServerHello,
    );
}

#[test]
fn one_binder_per_identity() {
    // Two identities, one binder (RFC 8446 section 4.2.11).
    let mut p = vec![0, 14, 0, 1, 1, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 33, 32];
    p.extend_from_slice(&[0xb1; 32]);
    let e = err(&block(&[(41, &p)]), Ctx::ClientHello);
    let at = 6 + 2 + 14;
    assert_eq!(
        (e.offset, e.path.to_string()),
        (at, "extensions[0].pre_shared_key.binders_length".into())
    );
    assert_eq!(e.kind, DecodeErrorKind::IllegalValue { value: 1 });
}

#[test]
fn record_size_limit_below_64_is_refused() {
    // RFC 8449 section 4: "An endpoint MUST treat receipt of a smaller value as a fatal
    // error and generate an "illegal_parameter" alert."
    for ctx in [Ctx::ClientHello, Ctx::ServerHello, Ctx::EncryptedExtensions] {
        let e = err(&block(&[(28, &[0, 63])]), ctx);
        let path = "extensions[0].record_size_limit.record_size_limit";
        assert_eq!((e.offset, e.path.to_string()), (6, path.into()));
        assert_eq!(e.kind, DecodeErrorKind::IllegalValue { value: 63 });
        assert_eq!(e.alert(), AlertDescription::ILLEGAL_PARAMETER);
        let l = round_trip(leak(block(&[(28, &[0, 64])])), ctx);
        assert_eq!(
            body(&l, T::RECORD_SIZE_LIMIT),
            ExtensionBody::RecordSizeLimit(64)
        );
    }
}

#[test]
fn max_fragment_length_outside_1_to_4_is_refused() {
    // RFC 6066 section 4: other values are illegal_parameter.
    for v in [0u8, 5, 255] {
        let e = err(&block(&[(1, &[v])]), Ctx::ClientHello);
        let path = "extensions[0].max_fragment_length.max_fragment_length";
        assert_eq!((e.offset, e.path.to_string()), (6, path.into()));
        assert_eq!(
            e.kind,
            DecodeErrorKind::IllegalValue {
                value: u64::from(v)
            }
        );
        assert_eq!(e.alert(), AlertDescription::ILLEGAL_PARAMETER);
    }
    for v in 1..=4u8 {
        let l = round_trip(leak(block(&[(1, &[v])])), Ctx::EncryptedExtensions);
        assert_eq!(
            body(&l, T::MAX_FRAGMENT_LENGTH),
            ExtensionBody::MaxFragmentLength(MaxFragmentLength(v))
        );
    }
}

#[test]
fn bodies_depend_on_the_message() {
    let blame_length = |b: &[u8], ctx: Ctx, declared: usize, used: usize| {
        let e = err(b, ctx);
        assert_eq!(
            (e.offset, e.path.to_string()),
            (4, "extensions[0].length".into()),
            "{e}"
        );
        assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { declared, used });
    };
    // The same bytes are a selected version in a ServerHello, a malformed list in a
    // ClientHello (versions_length 3 is odd), and opaque in a CertificateRequest.
    let sv = leak(block(&[(43, &[3, 4])]));
    round_trip(sv, Ctx::ServerHello);
    let e = err(sv, Ctx::ClientHello);
    assert_eq!(
        e.path.to_string(),
        "extensions[0].supported_versions.versions_length"
    );
    let l = round_trip(sv, Ctx::CertificateRequest);
    assert_eq!(
        body(&l, T::SUPPORTED_VERSIONS),
        ExtensionBody::Unknown(&[3, 4])
    );
    // A ServerHello key_share in a HelloRetryRequest leaves all but the group over.
    let ks = leak(block(&[(51, &[0, 0x1d, 0, 1, 9])]));
    round_trip(ks, Ctx::ServerHello);
    blame_length(ks, Ctx::HelloRetryRequest, 5, 2);
    // Bodies that must be empty refuse data, at the extension's length.
    blame_length(&block(&[(0, &[0])]), Ctx::EncryptedExtensions, 1, 0);
    blame_length(
        &block(&[(42, &[0, 0, 4, 0])]),
        Ctx::EncryptedExtensions,
        4,
        0,
    );
    blame_length(&block(&[(35, &[1])]), Ctx::ServerHello, 1, 0);
    blame_length(&block(&[(23, &[0])]), Ctx::ClientHello, 1, 0);
    // early_data carries max_early_data_size only in a NewSessionTicket.
    let l = round_trip(leak(block(&[(42, &[0, 0, 4, 0])])), Ctx::NewSessionTicket);
    assert_eq!(
        body(&l, T::EARLY_DATA),
        ExtensionBody::MaxEarlyDataSize(1024)
    );
    // A known type where the RFC defines it nowhere is kept as bytes.
    let l = round_trip(leak(block(&[(0, &[1, 2, 3])])), Ctx::CertificateRequest);
    assert_eq!(body(&l, T::SERVER_NAME), ExtensionBody::Unknown(&[1, 2, 3]));
    let l = round_trip(leak(block(&[(0x2c, &[0, 1, 7])])), Ctx::ServerHello);
    assert_eq!(body(&l, T::COOKIE), ExtensionBody::Unknown(&[0, 1, 7]));
    // Certificate types: a list from the client, one type from the server (RFC 7250).
    let l = round_trip(leak(block(&[(20, &[2, 2, 0])])), Ctx::ClientHello);
    let ExtensionBody::CertificateTypeList(t) = body(&l, T::SERVER_CERTIFICATE_TYPE) else {
        panic!()
    };
    assert_eq!(
        t.iter().collect::<Vec<_>>(),
        [CertificateType::RAW_PUBLIC_KEY, CertificateType::X509]
    );
    let l = round_trip(leak(block(&[(20, &[2])])), Ctx::EncryptedExtensions);
    assert_eq!(
        body(&l, T::SERVER_CERTIFICATE_TYPE),
        ExtensionBody::CertificateType(CertificateType::RAW_PUBLIC_KEY)
    );
    // status_request: OCSP response in a Certificate entry, empty in a CertificateRequest.
    let l = round_trip(
        leak(block(&[(5, &[1, 0, 0, 2, 0x30, 0])])),
        Ctx::Certificate,
    );
    let st = CertificateStatus {
        status_type: 1,
        response: &[0x30, 0],
    };
    assert_eq!(
        body(&l, T::STATUS_REQUEST),
        ExtensionBody::CertificateStatus(st)
    );
    round_trip(leak(block(&[(5, b"")])), Ctx::CertificateRequest);
    // Padding keeps non-zero bytes (RFC 7685 asks the sender for zeros; see opaque.rs).
    let l = round_trip(leak(block(&[(21, &[0, 1])])), Ctx::ClientHello);
    assert_eq!(body(&l, T::PADDING).padding_is_zero(), Some(false));
}

#[test]
fn built_extensions_emit_the_wire_format() {
    let names = [ServerName::host_name(b"example.com")];
    let groups = [NamedGroup::X25519, NamedGroup::SECP256R1];
    let shares = [KeyShareEntry {
        group: NamedGroup::X25519,
        key_exchange: &[0x11; 32],
    }];
    let versions = [ProtocolVersion::TLS13, ProtocolVersion::TLS12];
    let modes = [PskKeyExchangeMode::PSK_DHE_KE];
    let alpn = [ProtocolName(b"h2")];
    let exts = [
        Extension {
            typ: T::SERVER_NAME,
            body: ExtensionBody::ServerNameList(List::Items(&names)),
        },
        Extension {
            typ: T::SUPPORTED_GROUPS,
            body: ExtensionBody::NamedGroupList(List::Items(&groups)),
        },
        Extension {
            typ: T::SIGNATURE_ALGORITHMS,
            body: ExtensionBody::SignatureSchemeList(List::Items(&[
                mote_wire::SignatureScheme::ECDSA_SECP256R1_SHA256,
                mote_wire::SignatureScheme::RSA_PSS_RSAE_SHA256,
                mote_wire::SignatureScheme::ED25519,
            ])),
        },
        Extension {
            typ: T::KEY_SHARE,
            body: ExtensionBody::KeyShareClientHello(List::Items(&shares)),
        },
        Extension {
            typ: T::SUPPORTED_VERSIONS,
            body: ExtensionBody::SupportedVersionsClientHello(List::Items(&versions)),
        },
        Extension {
            typ: T::PSK_KEY_EXCHANGE_MODES,
            body: ExtensionBody::PskKeyExchangeModes(List::Items(&modes)),
        },
        Extension {
            typ: T::ALPN,
            body: ExtensionBody::ProtocolNameList(List::Items(&alpn)),
        },
    ];
    let built = emit(&List::Items(&exts));
    // The same extensions as the first seven of the hand-built block.
    let hand = hand_built().out;
    assert_eq!(u16_at(&built, 0), built.len() - 2);
    assert_eq!(&built[2..], &hand[2..built.len()]);
}

/// Records what a parse reports, as "name@offset+len=value".
#[derive(Default)]
struct Record(Vec<String>);

impl Sink for Record {
    fn enter(&mut self, name: &'static str, index: Option<u16>, offset: usize) {
        self.0.push(format!(
            "<{name}{}@{offset}",
            index.map(|i| format!("[{i}]")).unwrap_or_default()
        ));
    }
    fn leave(&mut self, end: usize) {
        self.0.push(format!(">@{end}"));
    }
    fn field(&mut self, name: &'static str, offset: usize, len: usize, value: Value<'_>) {
        let v = match value {
            Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
            Value::Code { name: Some(n), .. } => n.to_string(),
            Value::Length(n) => n.to_string(),
            other => format!("{other:?}"),
        };
        self.0.push(format!("{name}@{offset}+{len}={v}"));
    }
}

#[test]
fn dissection_names_every_field() {
    let b = ch(rfc8448("s3.02.clienthello"));
    let mut rec = Record::default();
    read_extensions(&mut Reader::with_sink(b, &mut rec), Ctx::ClientHello).unwrap();
    let want = [
        "extensions_length@0+2=145",
        "<extensions[0]@2",
        "type@2+2=server_name",
        "length@4+2=11",
        "<server_name@6",
        "list_length@6+2=9",
        "<server_name_list@8",
        "<server_name[0]@8",
        "name_type@8+1=host_name",
        "host_name_length@9+2=6",
        "host_name@11+6=server",
        ">@17",
        ">@17",
        ">@17",
        ">@17",
        "<extensions[1]@17",
    ];
    assert_eq!(rec.0[..want.len()], want);
}
