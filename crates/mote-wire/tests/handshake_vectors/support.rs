//! Loading the shared vectors, and the checks every handshake message goes through.

pub use std::path::PathBuf;

pub use mote_wire::ack::{Ack, RecordNumber};
pub use mote_wire::extensions::{Extension, Extensions};
pub use mote_wire::handshake::*;
pub use mote_wire::{
    CertificateType, CipherSuite, CompressionMethod, Context, DecodeErrorKind, HandshakeType,
    KeyExchange, List, NamedGroup, ProtocolVersion, Reader, SignatureScheme, Sink, Value,
};

// ---------------------------------------------------------------------------------------
// Loading the vectors.

pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|c| {
            assert_eq!(c.len(), 2, "odd hex: {s}");
            u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap()
        })
        .collect()
}

/// `## header` lines and `name = hex` lines, as (header, name, bytes).
pub fn hex_file(rel: &str) -> Vec<(String, String, Vec<u8>)> {
    let text = String::from_utf8(read(rel)).unwrap();
    let mut out = Vec::new();
    let mut header = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            header = h.to_string();
        } else if let Some((name, value)) = line.split_once(" = ") {
            if !line.starts_with('#') {
                out.push((header.clone(), name.to_string(), hex(value.trim())));
            }
        }
    }
    out
}

/// RFC 8448 values by name (`s3.02.clienthello`), and the steps' titles.
pub fn rfc8448() -> Vec<(String, String, Vec<u8>)> {
    hex_file("rfc8448/rfc8448_vectors.txt")
}

pub fn rfc8448_value(name: &str) -> Vec<u8> {
    rfc8448()
        .into_iter()
        .find(|(_, n, _)| n == name)
        .unwrap_or_else(|| panic!("no RFC 8448 value {name}"))
        .2
}

/// The tls-parser vector named `name` (names other than `bytes` are unique there).
pub fn tls_parser(name: &str) -> Vec<u8> {
    hex_file("parser/tls_parser_test_vectors.txt")
        .into_iter()
        .find(|(_, n, _)| n == name)
        .unwrap_or_else(|| panic!("no tls-parser vector {name}"))
        .2
}

/// The pion/dtls vector `name` under header `at` (`path:line`).
pub fn pion(at: &str, name: &str) -> Vec<u8> {
    hex_file("parser/pion_dtls_vectors.txt")
        .into_iter()
        .find(|(h, n, _)| n == name && h.starts_with(&format!("{at} ")))
        .unwrap_or_else(|| panic!("no pion vector {name} at {at}"))
        .2
}

/// The fragments of the TLS records in `b` (5-byte headers), as (content type, fragment).
pub fn tls_records(b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = b;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let end = (5 + len).min(rest.len());
        out.push((rest[0], &rest[5..end]));
        rest = &rest[end..];
    }
    out
}

/// The payload of consecutive plaintext handshake records, up to the first
/// change_cipher_spec (after which handshake records are encrypted).
pub fn plaintext_handshake(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ct, frag) in tls_records(b) {
        match ct {
            22 => out.extend_from_slice(frag),
            20 => break,
            _ => {}
        }
    }
    out
}

/// A DTLS handshake message around `body` (message_seq 0, unfragmented).
pub fn dtls_wrap(t: HandshakeType, body: &[u8]) -> Vec<u8> {
    let n = (body.len() as u32).to_be_bytes();
    let mut v = vec![t.0, n[1], n[2], n[3], 0, 0, 0, 0, 0, n[1], n[2], n[3]];
    v.extend_from_slice(body);
    v
}

pub fn tls_wrap(t: HandshakeType, body: &[u8]) -> Vec<u8> {
    let n = (body.len() as u32).to_be_bytes();
    let mut v = vec![t.0, n[1], n[2], n[3]];
    v.extend_from_slice(body);
    v
}

pub fn ctx_kx(base: Context, k: KeyExchange) -> Context {
    Context {
        key_exchange: k,
        ..base
    }
}

// ---------------------------------------------------------------------------------------
// The checks every message goes through.

/// Parses the whole message (header and body), emits it back raw and rebuilt from items,
/// and tries every truncation.
pub fn check<'a>(bytes: &'a [u8], ctx: &Context) -> (HandshakeHeader, HandshakeMessage<'a>) {
    let mut r = Reader::new(bytes);
    let (h, m) =
        parse_handshake(&mut r, ctx).unwrap_or_else(|e| panic!("{e} in {}", hex_str(bytes)));
    assert!(r.is_empty(), "{} bytes left", r.remaining());

    let mut out = vec![0u8; bytes.len() + 16];
    let n = emit_handshake(&h, &m, &mut out).unwrap();
    assert_eq!(&out[..n], bytes, "raw re-emission of {:?}", h.msg_type);

    assert_eq!(
        emit_items(bytes, ctx),
        bytes,
        "items re-emission of {:?}",
        h.msg_type
    );

    if !h.is_fragment() {
        // TLS framing around the same body (the DTLS 1.3 transcript form).
        let mut w = mote_wire::Writer::new(&mut out);
        emit_handshake_tls(h.msg_type, &m, &mut w).unwrap();
        assert_eq!(&w.written()[4..], &bytes[h.size()..]);
    }

    truncations(bytes, h.size(), h.msg_type, ctx);
    (h, m)
}

pub fn hex_str(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every prefix of the message fails (the header's length promises more), at an offset
/// inside the prefix. Every prefix of the body alone, parsed as a body, does not panic, and
/// any error is inside the prefix (a shorter body can be valid: a ClientHello without
/// extensions, a shorter Finished).
pub fn truncations(bytes: &[u8], header_len: usize, t: HandshakeType, ctx: &Context) {
    for cut in 0..bytes.len() {
        let e = parse_handshake(&mut Reader::new(&bytes[..cut]), ctx)
            .map(|_| ())
            .expect_err("a truncated message parsed");
        assert!(
            e.offset <= cut,
            "error offset {} beyond cut {cut}",
            e.offset
        );
        assert!(e.path.to_string().starts_with("handshake"), "{}", e.path);
    }
    let body = &bytes[header_len..];
    for cut in 0..body.len() {
        if let Err(e) = HandshakeMessage::parse_body(t, &mut Reader::new(&body[..cut]), ctx) {
            assert!(
                e.offset <= cut,
                "error offset {} beyond cut {cut}",
                e.offset
            );
        }
    }
}

/// Parses `bytes` again and emits the message rebuilt with every list as `List::Items`
/// borrowing a Vec (extension lists included; the extensions' own bodies are re-emitted as
/// the extensions module builds them).
pub fn emit_items(bytes: &[u8], ctx: &Context) -> Vec<u8> {
    let (h, m) = parse_handshake(&mut Reader::new(bytes), ctx).unwrap();
    let mut out = vec![0u8; bytes.len() + 16];
    let n = match m {
        HandshakeMessage::ClientHello(ch) => {
            let suites: Vec<CipherSuite> = ch.cipher_suites.iter().collect();
            let comp: Vec<CompressionMethod> = ch.legacy_compression_methods.iter().collect();
            let exts: Option<Vec<Extension>> = ch.extensions.map(|e| e.iter().collect());
            let rebuilt = ClientHello {
                legacy_version: ch.legacy_version,
                random: ch.random,
                legacy_session_id: ch.legacy_session_id,
                cookie: ch.cookie,
                cipher_suites: List::Items(&suites),
                legacy_compression_methods: List::Items(&comp),
                extensions: exts.as_deref().map(List::Items),
            };
            emit_handshake(&h, &HandshakeMessage::ClientHello(rebuilt), &mut out)
        }
        HandshakeMessage::ServerHello(sh) => {
            let exts: Option<Vec<Extension>> = sh.extensions.map(|e| e.iter().collect());
            let rebuilt = ServerHello {
                legacy_version: sh.legacy_version,
                random: sh.random,
                legacy_session_id_echo: sh.legacy_session_id_echo,
                cipher_suite: sh.cipher_suite,
                legacy_compression_method: sh.legacy_compression_method,
                extensions: exts.as_deref().map(List::Items),
            };
            emit_handshake(&h, &HandshakeMessage::ServerHello(rebuilt), &mut out)
        }
        HandshakeMessage::EncryptedExtensions(ee) => {
            let exts: Vec<Extension> = ee.extensions.iter().collect();
            let rebuilt = EncryptedExtensions {
                extensions: List::Items(&exts),
            };
            emit_handshake(
                &h,
                &HandshakeMessage::EncryptedExtensions(rebuilt),
                &mut out,
            )
        }
        HandshakeMessage::NewSessionTicket(NewSessionTicket::Tls13 {
            ticket_lifetime,
            ticket_age_add,
            ticket_nonce,
            ticket,
            extensions,
        }) => {
            let exts: Vec<Extension> = extensions.iter().collect();
            let rebuilt = NewSessionTicket::Tls13 {
                ticket_lifetime,
                ticket_age_add,
                ticket_nonce,
                ticket,
                extensions: List::Items(&exts),
            };
            emit_handshake(&h, &HandshakeMessage::NewSessionTicket(rebuilt), &mut out)
        }
        HandshakeMessage::Certificate(Certificate::Tls12 { certificate_list }) => {
            let certs: Vec<Asn1Cert> = certificate_list.iter().collect();
            let rebuilt = Certificate::Tls12 {
                certificate_list: List::Items(&certs),
            };
            emit_handshake(&h, &HandshakeMessage::Certificate(rebuilt), &mut out)
        }
        HandshakeMessage::Certificate(Certificate::Tls13 {
            certificate_request_context,
            certificate_list,
        }) => {
            let entries: Vec<CertificateEntry> = certificate_list.iter().collect();
            let exts: Vec<Vec<Extension>> = entries
                .iter()
                .map(|e| e.extensions.iter().collect())
                .collect();
            let rebuilt_entries: Vec<CertificateEntry> = entries
                .iter()
                .zip(&exts)
                .map(|(e, x)| CertificateEntry {
                    data: e.data,
                    extensions: List::Items(x),
                })
                .collect();
            let rebuilt = Certificate::Tls13 {
                certificate_request_context,
                certificate_list: List::Items(&rebuilt_entries),
            };
            emit_handshake(&h, &HandshakeMessage::Certificate(rebuilt), &mut out)
        }
        HandshakeMessage::CertificateRequest(CertificateRequest::Tls12 {
            certificate_types,
            supported_signature_algorithms,
            certificate_authorities,
        }) => {
            let types: Vec<_> = certificate_types.iter().collect();
            let algs: Vec<_> = supported_signature_algorithms.iter().collect();
            let cas: Vec<DistinguishedName> = certificate_authorities.iter().collect();
            let rebuilt = CertificateRequest::Tls12 {
                certificate_types: List::Items(&types),
                supported_signature_algorithms: List::Items(&algs),
                certificate_authorities: List::Items(&cas),
            };
            emit_handshake(&h, &HandshakeMessage::CertificateRequest(rebuilt), &mut out)
        }
        HandshakeMessage::CertificateRequest(CertificateRequest::Tls13 {
            certificate_request_context,
            extensions,
        }) => {
            let exts: Vec<Extension> = extensions.iter().collect();
            let rebuilt = CertificateRequest::Tls13 {
                certificate_request_context,
                extensions: List::Items(&exts),
            };
            emit_handshake(&h, &HandshakeMessage::CertificateRequest(rebuilt), &mut out)
        }
        HandshakeMessage::NewConnectionId(nc) => {
            let cids: Vec<ConnectionId> = nc.cids.iter().collect();
            let rebuilt = NewConnectionId {
                cids: List::Items(&cids),
                usage: nc.usage,
            };
            emit_handshake(&h, &HandshakeMessage::NewConnectionId(rebuilt), &mut out)
        }
        // No lists in the others.
        other => emit_handshake(&h, &other, &mut out),
    }
    .unwrap();
    out.truncate(n);
    out
}

/// Parses every message of a handshake payload in turn, checking each.
pub fn check_all<'a>(
    payload: &'a [u8],
    mut ctx_for: impl FnMut(HandshakeType) -> Context,
) -> Vec<(HandshakeHeader, HandshakeMessage<'a>)> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let dtls = ctx_for(HandshakeType(rest[0])).dtls;
        let hl = if dtls { 12 } else { 4 };
        assert!(rest.len() >= hl, "a partial header");
        let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
        let (msg, tail) = rest.split_at((hl + len).min(rest.len()));
        let ctx = ctx_for(HandshakeType(msg[0]));
        out.push(check(msg, &ctx));
        rest = tail;
    }
    out
}

pub fn ext_types(e: Option<Extensions<'_>>) -> Vec<u16> {
    e.map(|e| e.iter().map(|x| x.typ.0).collect())
        .unwrap_or_default()
}

pub fn suites(l: List<'_, CipherSuite>) -> Vec<u16> {
    l.iter().map(|s| s.0).collect()
}

pub fn tls12_cap(name: &str) -> Vec<u8> {
    read(&format!("captures/illustrated-tls12/captures/caps/{name}"))
}

pub fn tls13_cap(name: &str) -> Vec<u8> {
    read(&format!("captures/illustrated-tls13/captures/caps/{name}"))
}

/// A decrypted TLS 1.3 record: the message, then the inner content type (RFC 8446 5.2).
pub fn inner_plaintext(b: &[u8], ct: u8) -> &[u8] {
    let (msg, t) = b.split_at(b.len() - 1);
    assert_eq!(t, [ct]);
    msg
}

pub fn dtls_cap(name: &str) -> Vec<u8> {
    read(&format!("captures/illustrated-dtls/captures/caps/{name}"))
}

/// The directory of pion/dtls's handshake message tests.
pub const PION: &str = "pkg/protocol/handshake";

pub fn pion_msg(file_line: &str, name: &str, t: HandshakeType) -> Vec<u8> {
    dtls_wrap(t, &pion(&format!("{PION}/{file_line}"), name))
}

/// A body that must not parse; the error lies inside it.
pub fn body_fails(body: &[u8], t: HandshakeType, ctx: &Context) {
    let e = HandshakeMessage::parse_body(t, &mut Reader::new(body), ctx)
        .map(|_| ())
        .expect_err("a malformed body parsed");
    assert!(e.offset <= body.len());
    // And as a whole message, also with every truncation.
    let b = dtls_wrap(t, body);
    assert!(parse_handshake(&mut Reader::new(&b), ctx).is_err());
    truncations(&b, 12, t, ctx);
}

/// Records field paths, and checks that nodes nest.
#[derive(Default)]
pub struct Recorder {
    pub stack: Vec<String>,
    pub fields: Vec<String>,
}

impl Sink for Recorder {
    fn enter(&mut self, name: &'static str, index: Option<u16>, _offset: usize) {
        self.stack.push(match index {
            Some(i) => format!("{name}[{i}]"),
            None => name.to_string(),
        });
    }
    fn leave(&mut self, _end: usize) {
        self.stack.pop().expect("leave without enter");
    }
    fn field(&mut self, name: &'static str, _offset: usize, _len: usize, _value: Value<'_>) {
        let mut p = self.stack.join(".");
        p.push('.');
        p.push_str(name);
        self.fields.push(p);
    }
}
