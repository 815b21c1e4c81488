//! Extensions: parse, emit, rebuild, and the errors for malformed ones.
//!
//! Vectors, read from shared/vectors/ (see its README.md):
//! - `rfc8448/rfc8448_vectors.txt`: the handshake messages of RFC 8448 (TLS 1.3 example
//!   traces), extracted from the RFC text.
//! - `parser/tls_parser_test_vectors.txt`: byte arrays from rusticata/tls-parser's tests
//!   (MIT/Apache-2.0), cited by their `## file:line` header.
//! - `parser/pion_dtls_vectors.txt`: byte arrays from pion/dtls's tests (MIT), cited the same
//!   way.

use mote_wire::extensions::{ExtensionBody as B, *};
use mote_wire::ExtensionContext::{
    self as Ctx, Certificate as CT, CertificateRequest as CR, ClientHello as CH,
    EncryptedExtensions as EE, HelloRetryRequest as HRR, NewSessionTicket as NST,
    ServerHello as SH,
};
use mote_wire::{
    AlertDescription as A, CertificateType, DecodeError, DecodeErrorKind as K, ExtensionType as T,
    Item, List, MaxFragmentLength as Mfl, NamedGroup as G, ProtocolVersion as V,
    PskKeyExchangeMode, Reader, SignatureScheme as S, Sink, Value, Writer,
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
    let dir = env!("CARGO_MANIFEST_DIR");
    let path = format!("{dir}/../../../shared/vectors/{rel}");
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
    let (text, header) = (
        vector_file(&format!("parser/{file}")),
        format!("## {header}"),
    );
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&header));
    assert!(lines.next().is_some(), "{header} not in {file}");
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
    macro_rules! lists {
        ($($v:ident),*) => {
            match e.body {
                $(B::$v(l) => B::$v(items(l)),)*
                B::PreSharedKeyClientHello(p) => B::PreSharedKeyClientHello(OfferedPsks {
                    identities: items(p.identities),
                    binders: items(p.binders),
                }),
                other => other,
            }
        };
    }
    let body = lists! {
        ServerNameList, NamedGroupList, EcPointFormatList, SignatureSchemeList,
        ProtocolNameList, CertificateTypeList, SupportedVersionsClientHello,
        PskKeyExchangeModes, CertificateAuthorities, KeyShareClientHello
    };
    Extension { typ: e.typ, body }
}

fn rebuild_all(list: Extensions<'static>) -> Extensions<'static> {
    List::Items(leak(list.iter().map(rebuild).collect()))
}

/// Parse, emit, rebuild from elements, emit again: both emissions equal the input.
fn round_trip(block: &'static [u8], ctx: Ctx) -> Extensions<'static> {
    let mut r = Reader::new(block);
    let list = read_extensions(&mut r, ctx).unwrap_or_else(|e| panic!("{ctx:?}: {e}"));
    assert!(r.is_empty(), "bytes after the extension block");
    assert_eq!(emit(&list), block, "{ctx:?}: parse -> emit");
    let rebuilt = rebuild_all(list);
    assert_eq!(emit(&rebuilt), block, "{ctx:?}: rebuild -> emit");
    assert_eq!(rebuilt, list);
    list
}

fn body(list: &Extensions<'static>, typ: T) -> B<'static> {
    let e = list.find(typ);
    e.unwrap_or_else(|| panic!("{typ} missing")).body
}

/// Asserts the bodies of the listed types: `expect!(list; TYPE => body, ...)`.
macro_rules! expect {
    ($list:expr; $($t:expr => $b:expr),* $(,)?) => {
        $( assert_eq!(body(&$list, $t), $b, "{}", $t); )*
    };
}

/// The inner value of the body of type `t`, which must be variant `v`.
macro_rules! get {
    ($list:expr, $t:expr, $v:path) => {
        match body(&$list, $t) {
            $v(x) => x,
            other => panic!("{other:?}"),
        }
    };
}

fn err(block: &[u8], ctx: Ctx) -> DecodeError {
    let block = leak(block.to_vec());
    match read_extensions(&mut Reader::new(block), ctx) {
        Ok(l) => panic!("expected an error, parsed {l:?}"),
        Err(e) => e,
    }
}

/// Asserts an error's offset, path and kind.
fn check(e: &DecodeError, offset: usize, path: &str, kind: K) {
    let got = (e.offset, e.path.to_string(), e.kind);
    assert_eq!(got, (offset, path.into(), kind), "{e}");
}

/// A list length, then `raw`.
fn wrap(raw: &[u8]) -> &'static [u8] {
    leak([&(raw.len() as u16).to_be_bytes()[..], raw].concat())
}

/// An extension block from `type, body` pairs.
fn block(exts: &[(u16, &[u8])]) -> &'static [u8] {
    let one =
        |&(t, b): &(u16, &[u8])| [&t.to_be_bytes(), &(b.len() as u16).to_be_bytes(), b].concat();
    wrap(&exts.iter().flat_map(one).collect::<Vec<u8>>())
}

/// A built list.
fn lv<T: Item<'static>>(v: Vec<T>) -> List<'static, T> {
    List::Items(leak(v))
}

fn trailing(declared: usize, used: usize) -> K {
    K::TrailingBytes { declared, used }
}

fn share(group: G, key_exchange: &'static [u8]) -> KeyShareEntry<'static> {
    KeyShareEntry {
        group,
        key_exchange,
    }
}

const LEN0: &str = "extensions[0].length";

// ---------------------------------------------------------------- RFC 8448

/// Every extension block of RFC 8448's hellos, EncryptedExtensions, NewSessionTicket and
/// CertificateRequest, with the message it sits in.
fn rfc8448_blocks() -> Vec<(String, &'static [u8], Ctx)> {
    let mut v = Vec::new();
    let mut add = |l: &str, kind: &str, find: fn(&'static [u8]) -> &'static [u8], ctx| {
        v.push((l.to_string(), find(rfc8448(&format!("{l}.{kind}"))), ctx));
    };
    for l in ["s3.02", "s5.02", "s5.07", "s6.02", "s7.02"] {
        add(l, "clienthello", ch, CH);
    }
    // s4.05.payload is the 0-RTT ClientHello with its binders (s4.03 stops before them).
    add("s4.05", "payload", ch, CH);
    for l in ["s3.06", "s4.15", "s5.11", "s6.06", "s7.06"] {
        add(l, "serverhello", sh, SH);
    }
    // s5.04 is the HelloRetryRequest (a ServerHello with the special random).
    add("s5.04", "serverhello", sh, HRR);
    for l in ["s3.15", "s4.24", "s5.20", "s6.15", "s7.16"] {
        add(l, "encryptedextensions", |m| &m[4..], EE);
    }
    add("s3.49", "newsessionticket", nst, NST);
    // A CertificateRequest: the header, then certificate_request_context.
    let cr = |m: &'static [u8]| &m[5 + usize::from(m[4])..];
    add("s6.16", "certificaterequest", cr, CR);
    v
}

#[test]
fn rfc8448_round_trip_and_every_body_decoded() {
    for (label, b, ctx) in rfc8448_blocks() {
        let list = round_trip(b, ctx);
        assert!(!list.is_empty(), "{label}");
        let undecoded = list.iter().find(|e| matches!(e.body, B::Unknown(_)));
        assert!(undecoded.is_none(), "{label}: {undecoded:?}");
    }
}

#[test]
fn rfc8448_decoded_values() {
    let list = round_trip(ch(rfc8448("s3.02.clienthello")), CH);
    let sni = lv(vec![ServerName::host_name(b"server")]);
    let shares = lv(vec![share(G::X25519, rfc8448("s3.01.public_key"))]);
    let modes = lv(vec![PskKeyExchangeMode::PSK_DHE_KE]);
    expect!(list;
        T::SERVER_NAME => B::ServerNameList(sni),
        T::RENEGOTIATION_INFO => B::RenegotiationInfo(b""),
        T::SESSION_TICKET => B::SessionTicket(b""),
        T::KEY_SHARE => B::KeyShareClientHello(shares),
        T::SUPPORTED_VERSIONS => B::SupportedVersionsClientHello(lv(vec![V::TLS13])),
        T::PSK_KEY_EXCHANGE_MODES => B::PskKeyExchangeModes(modes),
        T::RECORD_SIZE_LIMIT => B::RecordSizeLimit(0x4001),
    );
    let groups = get!(list, T::SUPPORTED_GROUPS, B::NamedGroupList);
    assert_eq!((groups.len(), groups.iter().next()), (9, Some(G::X25519)));
    let s = get!(list, T::SIGNATURE_ALGORITHMS, B::SignatureSchemeList);
    assert_eq!(s.len(), 15);

    let list = round_trip(sh(rfc8448("s3.06.serverhello")), SH);
    expect!(list;
        T::KEY_SHARE => B::KeyShareServerHello(share(G::X25519, rfc8448("s3.05.public_key"))),
        T::SUPPORTED_VERSIONS => B::SupportedVersionsServerHello(V::TLS13),
    );
    let ee = &rfc8448("s3.15.encryptedextensions")[4..];
    expect!(round_trip(ee, EE); T::SERVER_NAME => B::Empty);

    // The resumption ticket of s3.49 comes back as the PSK identity of s4.05, bound by the
    // binder computed in s4.04.
    let ticket_msg = rfc8448("s3.49.newsessionticket");
    let list = round_trip(nst(ticket_msg), NST);
    expect!(list; T::EARLY_DATA => B::MaxEarlyDataSize(1024));
    let ticket = &ticket_msg[4 + 8 + 1 + 2 + 2..][..u16_at(ticket_msg, 4 + 8 + 1 + 2)];
    let list = round_trip(ch(rfc8448("s4.05.payload")), CH);
    assert_eq!(list.iter().last().unwrap().typ, T::PRE_SHARED_KEY);
    expect!(list; T::EARLY_DATA => B::Empty);
    assert_eq!(body(&list, T::PADDING).padding_is_zero(), Some(true));
    let psk = get!(list, T::PRE_SHARED_KEY, B::PreSharedKeyClientHello);
    let ids: Vec<_> = psk.identities.iter().collect();
    assert_eq!((ids.len(), ids[0].identity), (1, ticket));
    let binders: Vec<_> = psk.binders.iter().collect();
    assert_eq!(binders, [PskBinder(rfc8448("s4.04.finished"))]);
    let list = round_trip(sh(rfc8448("s4.15.serverhello")), SH);
    expect!(list; T::PRE_SHARED_KEY => B::PreSharedKeyServerHello(0));

    // HelloRetryRequest: the group to retry with and a cookie the next ClientHello echoes.
    let list = round_trip(sh(rfc8448("s5.04.serverhello")), HRR);
    expect!(list; T::KEY_SHARE => B::KeyShareHelloRetryRequest(G::SECP256R1));
    let cookie = get!(list, T::COOKIE, B::Cookie);
    assert_eq!(cookie.len(), 0x72);
    let list = round_trip(ch(rfc8448("s5.07.clienthello")), CH);
    expect!(list; T::COOKIE => B::Cookie(cookie));
}

// ---------------------------------------------------------------- tls-parser and pion

#[test]
fn tls_parser_vectors() {
    // tests/tls_extensions.rs:11: a TLS 1.2 ClientHello's extensions, without the list
    // length: server_name, ec_point_formats, supported_groups, session_ticket,
    // signature_algorithms, status_request, heartbeat (not decoded).
    let list = round_trip(wrap(tls_parser("tests/tls_extensions.rs:11 ")), CH);
    let sni = lv(vec![ServerName::host_name(b"www.google.com")]);
    let ocsp = CertificateStatusRequest {
        status_type: STATUS_TYPE_OCSP,
        responder_id_list: b"",
        request_extensions: b"",
    };
    expect!(list;
        T::SERVER_NAME => B::ServerNameList(sni),
        T::STATUS_REQUEST => B::StatusRequest(ocsp),
        T::HEARTBEAT => B::Unknown(&[1]),
    );

    // Single extensions from the same file (each wrapped in a list here), the message
    // they are read in, and what they decode to.
    let alpn = ["h2-16", "h2-15", "h2-14", "h2", "spdy/3.1", "http/1.1"];
    let alpn = lv(alpn.iter().map(|p| ProtocolName(p.as_bytes())).collect());
    // Line 145: a full KeyShareEntry, the ServerHello shape of RFC 8446 (a
    // HelloRetryRequest carries only the group), then a draft supported_versions.
    let draft = B::SupportedVersionsServerHello(V(0x7f17));
    let mfl = B::MaxFragmentLength(Mfl::L4096);
    let cases: [(&str, Ctx, T, B); 11] = [
        ("56", CH, T::MAX_FRAGMENT_LENGTH, mfl),
        ("67", CH, T::ALPN, B::ProtocolNameList(alpn)),
        ("93", CH, T::ENCRYPT_THEN_MAC, B::Empty),
        ("104", SH, T::EXTENDED_MASTER_SECRET, B::Empty),
        // next_protocol_negotiation is not in the registry: kept as bytes.
        ("115", CH, T(0x3374), B::Unknown(b"")),
        // status_request, extended_master_secret, renegotiation_info as a ServerHello
        // acknowledges them.
        ("126", SH, T::STATUS_REQUEST, B::Empty),
        ("145", SH, T::SUPPORTED_VERSIONS, draft),
        ("166", CH, T::SIGNED_CERTIFICATE_TIMESTAMP, B::Empty),
        // GREASE
        ("177", CH, T(0x3a3a), B::Unknown(&[0])),
        ("204", CH, T::RECORD_SIZE_LIMIT, B::RecordSizeLimit(0x4001)),
        ("204", EE, T::RECORD_SIZE_LIMIT, B::RecordSizeLimit(0x4001)),
    ];
    for (line, ctx, typ, want) in cases {
        let b = wrap(tls_parser(&format!("tests/tls_extensions.rs:{line} ")));
        expect!(round_trip(b, ctx); typ => want);
    }
    let l = round_trip(wrap(tls_parser("tests/tls_extensions.rs:145 ")), SH);
    let k = get!(l, T::KEY_SHARE, B::KeyShareServerHello);
    assert_eq!((k.group, k.key_exchange.len()), (G::X25519, 32));

    // Whole records: 5-byte record header, then the handshake message.
    // tests/tls_handshake.rs:12: TLS 1.2 ClientHello; tests/tls_tls13.rs:9: a TLS 1.3
    // ClientHello with padding first and the draft key_share code point 40 (kept as bytes).
    round_trip(ch(&tls_parser("tests/tls_handshake.rs:12 ")[5..]), CH);
    let l = round_trip(ch(&tls_parser("tests/tls_tls13.rs:9 ")[5..]), CH);
    assert!(matches!(body(&l, T(40)), B::Unknown(b) if b.len() == 38));
    // tests/tls_handshake.rs:579: TLS 1.2 ServerHello with renegotiation_info,
    // session_ticket, ec_point_formats.
    let l = round_trip(sh(&tls_parser("tests/tls_handshake.rs:579")[5..]), SH);
    let ec = B::EcPointFormatList(lv(vec![mote_wire::EcPointFormat::UNCOMPRESSED]));
    expect!(l; T::SESSION_TICKET => B::Empty, T::EC_POINT_FORMATS => ec);
}

#[test]
fn pion_vectors() {
    // pkg/protocol/extension/connection_id_test.go:15: pion marshals this CID as
    // type 54, length, then `opaque cid<0..2^8-1>`.
    let cid = pion("pkg/protocol/extension/connection_id_test.go:15 ");
    let b = block(&[(54, &[&[cid.len() as u8][..], cid].concat())]);
    for ctx in [CH, SH, EE] {
        expect!(round_trip(b, ctx); T::CONNECTION_ID => B::ConnectionId(cid));
    }
    let empty = round_trip(block(&[(54, &[0])]), SH);
    expect!(empty; T::CONNECTION_ID => B::ConnectionId(b""));

    // pkg/protocol/handshake/message_client_hello_test.go:18: DTLS 1.2 ClientHello body
    // (with a cookie) offering x25519.
    let h = pion("pkg/protocol/handshake/message_client_hello_test.go:18 ");
    let l = round_trip(hello_extensions(h, 2 + 32, true, true), CH);
    let groups = B::NamedGroupList(lv(vec![G::X25519]));
    expect!(l; T::SUPPORTED_GROUPS => groups);
    // pkg/crypto/prf/prf_test.go:120 and :133: a TLS 1.2 ClientHello and ServerHello.
    let l = round_trip(ch(pion("pkg/crypto/prf/prf_test.go:120 ")), CH);
    let sni = lv(vec![ServerName::host_name(b"example.ulfheim.net")]);
    expect!(l; T::SERVER_NAME => B::ServerNameList(sni));
    round_trip(sh(pion("pkg/crypto/prf/prf_test.go:133 ")), SH);
    // pkg/protocol/handshake/message_certificate_request_13_test.go:22 and :38: TLS 1.3
    // CertificateRequest bodies (context, then extensions).
    for line in ["22", "38"] {
        let file = "pkg/protocol/handshake/message_certificate_request_13_test.go";
        let cr = pion(&format!("{file}:{line} "));
        let l = round_trip(&cr[1 + usize::from(cr[0])..], CR);
        let sigs = body(&l, T::SIGNATURE_ALGORITHMS);
        assert!(matches!(sigs, B::SignatureSchemeList(_)));
    }
    // pkg/protocol/extension/raw_test.go:35: an unknown type round-trips as bytes.
    let l = round_trip(pion("pkg/protocol/extension/raw_test.go:35 "), CH);
    expect!(l; T(0x1234) => B::Unknown(&[0xaa]));
    // pkg/protocol/extension/raw_test.go:15: pion's raw list keeps a repeated type 0xface;
    // RFC 8446 section 4.2 forbids it, at the second one's type (offset 2 + 7).
    let e = err(pion("pkg/protocol/extension/raw_test.go:15 "), CH);
    check(&e, 9, "extensions[1].type", K::Duplicate { value: 0xface });
    // pkg/protocol/extension/raw_test.go:52: a length that runs past the list.
    let e = err(pion("pkg/protocol/extension/raw_test.go:52 "), CH);
    let kind = K::LengthExceeds {
        declared: 1,
        available: 0,
    };
    check(&e, 4, LEN0, kind);
}

// ---------------------------------------------------------------- robustness

fn all_blocks() -> Vec<(&'static [u8], Ctx)> {
    let rfc = rfc8448_blocks().into_iter();
    let mut v: Vec<_> = rfc.map(|(_, b, c)| (b, c)).collect();
    v.push((ch(&tls_parser("tests/tls_handshake.rs:12 ")[5..]), CH));
    v.push((ch(&tls_parser("tests/tls_tls13.rs:9 ")[5..]), CH));
    v.push((leak(hand_built().out), CH));
    v
}

/// Every truncation fails; with the outer length fixed up to the cut, only a cut at an
/// extension boundary may parse. Every byte changed (+1, -1, +0x80) either fails or parses
/// into something that re-emits, from the parsed lists and from their elements, exactly.
/// None of it may panic.
#[test]
fn damaged_blocks_fail_or_round_trip() {
    let reemits = |m: &'static [u8], ctx| {
        let mut r = Reader::new(m);
        if let Ok(l) = read_extensions(&mut r, ctx) {
            // A shorter extensions_length can end the block early: what it read re-emits.
            let m = &m[..m.len() - r.remaining()];
            assert!(emit(&l) == m && emit(&rebuild_all(l)) == m);
        }
    };
    for (b, ctx) in all_blocks() {
        for cut in 0..b.len() {
            assert!(read_extensions(&mut Reader::new(&b[..cut]), ctx).is_err());
            reemits(wrap(b.get(2..cut).unwrap_or_default()), ctx);
        }
        for i in 0..b.len() {
            for d in [1u8, 0xff, 0x80] {
                let mut m = b.to_vec();
                m[i] = m[i].wrapping_add(d);
                reemits(leak(m), ctx);
            }
        }
    }
}

// ---------------------------------------------------------------- length fields

#[path = "extensions/lengths.rs"]
mod lengths;
use lengths::hand_built;

// ---------------------------------------------------------------- refusals

#[test]
fn duplicates_are_refused_at_the_second_type() {
    // RFC 8446 section 4.2: no two extensions of one type in a block.
    let e = err(block(&[(23, b""), (43, &[2, 3, 4]), (23, b"")]), CH);
    let dup = K::Duplicate { value: 23 };
    check(&e, 2 + 4 + 7, "extensions[2].type", dup);
    assert_eq!(e.alert(), A::ILLEGAL_PARAMETER);
    // Unknown types count too.
    let e = err(block(&[(0x1234, b"a"), (0x1234, b"b")]), EE);
    check(&e, 7, "extensions[1].type", K::Duplicate { value: 0x1234 });
    // RFC 6066 section 3: one name per name_type.
    let sni = [0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b'];
    let e = err(block(&[(0, &sni)]), CH);
    let path = "extensions[0].server_name.server_name_list.server_name[1].name_type";
    check(&e, 6 + 2 + 4, path, K::Duplicate { value: 0 });
    // RFC 8446 section 4.2.8: one KeyShareEntry per group.
    let ks = [0, 10, 0, 0x1d, 0, 1, 7, 0, 0x1d, 0, 1, 8];
    let e = err(block(&[(51, &ks)]), CH);
    let path = "extensions[0].key_share.client_shares.key_share_entry[1].group";
    check(&e, 6 + 2 + 5, path, K::Duplicate { value: 0x1d });
}

#[test]
fn pre_shared_key_must_be_last_in_client_hello() {
    let psk = [&[0, 7, 0, 1, 0x42, 0, 0, 0, 0, 0, 33, 32][..], &[0xb1; 32]].concat();
    let l = round_trip(block(&[(23, b""), (41, &psk)]), CH);
    let p = get!(l, T::PRE_SHARED_KEY, B::PreSharedKeyClientHello);
    let ids: Vec<_> = p
        .identities
        .iter()
        .map(|i| (i.identity, i.obfuscated_ticket_age))
        .collect();
    assert_eq!(ids, [(&[0x42][..], 0)]);
    // RFC 8446 section 4.2.11: "Servers MUST check that it is the last extension".
    let e = err(block(&[(41, &psk), (23, b"")]), CH);
    check(&e, 2, "extensions[0].type", K::IllegalValue { value: 41 });
    assert_eq!(e.alert(), A::ILLEGAL_PARAMETER);
    // A ServerHello may put its pre_shared_key anywhere (RFC 8446 section 4.2).
    round_trip(block(&[(41, &[0, 0]), (43, &[3, 4])]), SH);
}

#[test]
fn one_binder_per_identity() {
    // Two identities, one binder (RFC 8446 section 4.2.11).
    let ids = [0, 14, 0, 1, 1, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0];
    let p = [&ids[..], &[0, 33, 32], &[0xb1; 32]].concat();
    let e = err(block(&[(41, &p)]), CH);
    let path = "extensions[0].pre_shared_key.binders_length";
    check(&e, 6 + 16, path, K::IllegalValue { value: 1 });
}

#[test]
fn values_their_rfc_forbids_are_illegal_parameter() {
    // RFC 8449 section 4: "An endpoint MUST treat receipt of a smaller value [than 64] as
    // a fatal error and generate an "illegal_parameter" alert."
    for ctx in [CH, SH, EE] {
        let path = "extensions[0].record_size_limit.record_size_limit";
        check(
            &err(block(&[(28, &[0, 63])]), ctx),
            6,
            path,
            K::IllegalValue { value: 63 },
        );
        let l = round_trip(block(&[(28, &[0, 64])]), ctx);
        expect!(l; T::RECORD_SIZE_LIMIT => B::RecordSizeLimit(MIN_RECORD_SIZE_LIMIT));
    }
    // RFC 6066 section 4: max_fragment_length values other than 1..=4 likewise.
    for v in [0u8, 5, 255] {
        let e = err(block(&[(1, &[v])]), CH);
        let path = "extensions[0].max_fragment_length.max_fragment_length";
        check(&e, 6, path, K::IllegalValue { value: v.into() });
        assert_eq!(e.alert(), A::ILLEGAL_PARAMETER);
    }
    for v in 1..=4u8 {
        let l = round_trip(block(&[(1, &[v])]), EE);
        expect!(l; T::MAX_FRAGMENT_LENGTH => B::MaxFragmentLength(Mfl(v)));
    }
}

#[test]
fn bodies_depend_on_the_message() {
    let at_length = |b: &[u8], ctx: Ctx, declared: usize, used: usize| {
        check(&err(b, ctx), 4, LEN0, trailing(declared, used));
    };
    // The same bytes are a selected version in a ServerHello, a malformed list in a
    // ClientHello (versions_length 3 is odd), and opaque in a CertificateRequest.
    let sv = block(&[(43, &[3, 4])]);
    round_trip(sv, SH);
    let path = "extensions[0].supported_versions.versions_length";
    check(&err(sv, CH), 6, path, K::NotMultiple { len: 3, unit: 2 });
    expect!(round_trip(sv, CR); T::SUPPORTED_VERSIONS => B::Unknown(&[3, 4]));
    // A ServerHello key_share in a HelloRetryRequest leaves all but the group over.
    let ks = block(&[(51, &[0, 0x1d, 0, 1, 9])]);
    round_trip(ks, SH);
    at_length(ks, HRR, 5, 2);
    // Bodies that must be empty refuse data, at the extension's length.
    at_length(block(&[(0, &[0])]), EE, 1, 0);
    at_length(block(&[(42, &[0, 0, 4, 0])]), EE, 4, 0);
    at_length(block(&[(35, &[1])]), SH, 1, 0);
    at_length(block(&[(23, &[0])]), CH, 1, 0);
    let types = lv(vec![CertificateType::RAW_PUBLIC_KEY, CertificateType::X509]);
    let rpk = B::CertificateType(CertificateType::RAW_PUBLIC_KEY);
    let ocsp = B::CertificateStatus(CertificateStatus {
        status_type: STATUS_TYPE_OCSP,
        response: &[0x30, 0],
    });
    let cases: [(u16, &[u8], Ctx, B); 7] = [
        // early_data carries max_early_data_size only in a NewSessionTicket.
        (42, &[0, 0, 4, 0], NST, B::MaxEarlyDataSize(1024)),
        // A known type where its RFC defines no body is kept as bytes.
        (0, &[1, 2, 3], CR, B::Unknown(&[1, 2, 3])),
        (44, &[0, 1, 7], SH, B::Unknown(&[0, 1, 7])),
        // Certificate types: a list from the client, one type from the server (RFC 7250).
        (20, &[2, 2, 0], CH, B::CertificateTypeList(types)),
        (20, &[2], EE, rpk),
        // status_request: an OCSP response in a Certificate entry, empty in a
        // CertificateRequest (RFC 8446 section 4.4.2.1).
        (5, &[1, 0, 0, 2, 0x30, 0], CT, ocsp),
        (5, b"", CR, B::Empty),
    ];
    for (typ, data, ctx, want) in cases {
        expect!(round_trip(block(&[(typ, data)]), ctx); T(typ) => want);
    }
    // Padding keeps non-zero bytes (RFC 7685 asks the sender for zeros; see opaque.rs).
    let l = round_trip(block(&[(21, &[0, 1])]), CH);
    assert_eq!(body(&l, T::PADDING).padding_is_zero(), Some(false));
}

#[test]
fn built_extensions_emit_the_wire_format() {
    let ext = |typ, body| Extension { typ, body };
    let sni = B::ServerNameList(lv(vec![ServerName::host_name(b"example.com")]));
    let groups = B::NamedGroupList(lv(vec![G::X25519, G::SECP256R1]));
    // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519
    let sigs = B::SignatureSchemeList(lv(vec![S(0x0403), S(0x0804), S(0x0807)]));
    let shares = B::KeyShareClientHello(lv(vec![share(G::X25519, &[0x11; 32])]));
    let versions = B::SupportedVersionsClientHello(lv(vec![V::TLS13, V::TLS12]));
    let modes = B::PskKeyExchangeModes(lv(vec![PskKeyExchangeMode::PSK_DHE_KE]));
    let alpn = B::ProtocolNameList(lv(vec![ProtocolName(b"h2")]));
    let built = emit(&lv(vec![
        ext(T::SERVER_NAME, sni),
        ext(T::SUPPORTED_GROUPS, groups),
        ext(T::SIGNATURE_ALGORITHMS, sigs),
        ext(T::KEY_SHARE, shares),
        ext(T::SUPPORTED_VERSIONS, versions),
        ext(T::PSK_KEY_EXCHANGE_MODES, modes),
        ext(T::ALPN, alpn),
    ]));
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
        let index = index.map(|i| format!("[{i}]")).unwrap_or_default();
        self.0.push(format!("<{name}{index}@{offset}"));
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
    read_extensions(&mut Reader::with_sink(b, &mut rec), CH).unwrap();
    let want = "extensions_length@0+2=145 <extensions[0]@2 type@2+2=server_name length@4+2=11 \
        <server_name@6 list_length@6+2=9 <server_name_list@8 <server_name[0]@8 \
        name_type@8+1=host_name host_name_length@9+2=6 host_name@11+6=server \
        >@17 >@17 >@17 >@17 <extensions[1]@17";
    let want: Vec<_> = want.split_whitespace().collect();
    assert_eq!(rec.0[..want.len()], want);
}
