//! The server's answer to a real ClientHello with one length field off by one, checked from
//! the wire: every length the hello carries (record, handshake, legacy_session_id,
//! cipher_suites, legacy_compression_methods, extensions, each extension's length and the
//! lengths inside the extensions mote decodes) is moved by +1 and by -1, one at a time.
//!
//! RFC 8446 section 6.2: a message that cannot be parsed because a length is wrong is
//! `decode_error`. The server must answer with exactly that one plaintext alert (it has no
//! keys yet), then be `Failed`. Two lengths are framing that a stream cannot check on its
//! own: a record or handshake message that declares more bytes than arrived is waited for
//! (section 5.1 allows a handshake message to span records), and the answer comes with the
//! bytes that complete it.
//!
//! The hellos: the three ClientHellos of RFC 8448 (sections 3, 4 and 7: plain 1-RTT; with
//! pre_shared_key, early_data and padding; with a 32-byte legacy_session_id) and one from
//! mote's own client (server_name, ALPN, record_size_limit, an external PSK, compatibility
//! session id), generated with a seeded RNG so that each run mutates the same bytes.

mod common;

use common::{plain_alert, plain_record, server_answer, SeededRng};
use mote::{Client, ClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::{AlertDescription, PskKeyExchangeMode};
use std::collections::HashMap;

/// The RFC 8448 handshake messages the tests use, from the shared vectors.
fn rfc8448(keys: &[&str]) -> Vec<(String, Vec<u8>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/rfc8448/rfc8448_vectors.txt"
    );
    let text = std::fs::read_to_string(path).expect("RFC 8448 vectors in ../shared/vectors");
    let all: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    keys.iter()
        .map(|k| {
            let v = all[k];
            let bytes = (0..v.len() / 2)
                .map(|i| u8::from_str_radix(&v[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (format!("RFC 8448 {k}"), bytes)
        })
        .collect()
}

/// mote's client hello (a whole record), reproducible.
fn mote_hello() -> Vec<u8> {
    let key = [7u8; 32];
    let alpn: [&[u8]; 2] = [b"senml", b"h2"];
    let modes = [PskKeyExchangeMode::PSK_DHE_KE, PskKeyExchangeMode::PSK_KE];
    let mut cfg = ClientConfig::new();
    cfg.server_name = Some("collector.example");
    cfg.server_auth = Some(mote_x509::ServerAuth::PinnedSpki(mote_x509::PinnedSpki {
        sha256: [0; 32],
    }));
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.psk_modes = &modes;
    cfg.alpn = &alpn;
    cfg.record_size_limit = Some(4096);
    cfg.middlebox_compat = true;
    let mut rng = SeededRng(0x6d6f_7465_2d6c_656e);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let c = Client::new(
        RustCrypto,
        &cfg,
        &mut rng,
        UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    c.transmit().to_vec()
}

/// Every ClientHello swept, each as one record.
fn hellos() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = rfc8448(&[
        "s3.02.clienthello",
        "s4.05.payload",
        "s5.07.clienthello",
        "s7.02.clienthello",
    ])
    .into_iter()
    .map(|(n, m)| (n, plain_record(22, &m)))
    .collect();
    v.push(("mote client".into(), mote_hello()));
    v
}

/// A length field: its name, offset in the record and width in bytes.
struct Field {
    name: String,
    at: usize,
    width: usize,
}

fn be(b: &[u8], at: usize, width: usize) -> usize {
    b[at..at + width]
        .iter()
        .fold(0, |v, &x| (v << 8) | usize::from(x))
}

fn push(f: &mut Vec<Field>, name: String, at: usize, width: usize) {
    f.push(Field { name, at, width });
}

/// The length fields of the elements of a list that runs from `q` to `stop`: each element
/// has `head` bytes, a `width`-byte length, that many bytes and `tail` bytes.
#[allow(clippy::too_many_arguments)]
fn each(
    f: &mut Vec<Field>,
    rec: &[u8],
    ext: &str,
    mut q: usize,
    stop: usize,
    head: usize,
    width: usize,
    tail: usize,
) {
    let mut i = 0;
    while q < stop {
        push(f, format!("{ext}[{i}].length"), q + head, width);
        q += head + width + be(rec, q + head, width) + tail;
        i += 1;
    }
}

/// The length fields of a ClientHello record, located by walking it.
fn length_fields(rec: &[u8]) -> Vec<Field> {
    let f = &mut Vec::new();
    push(f, "record.length".into(), 3, 2);
    push(f, "handshake.length".into(), 6, 3);
    let mut p = 5 + 4 + 2 + 32;
    push(f, "legacy_session_id_length".into(), p, 1);
    p += 1 + be(rec, p, 1);
    push(f, "cipher_suites_length".into(), p, 2);
    p += 2 + be(rec, p, 2);
    push(f, "legacy_compression_methods_length".into(), p, 1);
    p += 1 + be(rec, p, 1);
    push(f, "extensions_length".into(), p, 2);
    let end = p + 2 + be(rec, p, 2);
    assert_eq!(end, rec.len(), "the walker lost its way");
    p += 2;
    while p < end {
        let typ = be(rec, p, 2);
        let len = be(rec, p + 2, 2);
        let body = p + 4;
        let ext = &format!("extension {typ:#06x}");
        push(f, format!("{ext}.length"), p + 2, 2);
        match typ {
            // server_name: server_name_list<1..2^16-1> of (name_type, host_name<1..2^16-1>).
            0x0000 => {
                push(f, format!("{ext}.list_length"), body, 2);
                each(f, rec, ext, body + 2, body + len, 1, 2, 0);
            }
            // supported_groups, signature_algorithms(_cert), cookie: a u16-prefixed vector.
            0x000a | 0x000d | 0x0032 | 0x002c => push(f, format!("{ext}.list_length"), body, 2),
            // ec_point_formats, supported_versions, psk_key_exchange_modes: u8-prefixed.
            0x000b | 0x002b | 0x002d => push(f, format!("{ext}.list_length"), body, 1),
            // ALPN: ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>.
            0x0010 => {
                push(f, format!("{ext}.list_length"), body, 2);
                each(f, rec, ext, body + 2, body + len, 0, 1, 0);
            }
            // key_share: client_shares<0..2^16-1> of (group, key_exchange<1..2^16-1>).
            0x0033 => {
                push(f, format!("{ext}.client_shares_length"), body, 2);
                each(f, rec, ext, body + 2, body + len, 2, 2, 0);
            }
            // pre_shared_key: identities<7..2^16-1> of (identity<1..2^16-1>, age), then
            // binders<33..2^16-1> of PskBinderEntry<32..255>.
            0x0029 => {
                push(f, format!("{ext}.identities_length"), body, 2);
                let ids_end = body + 2 + be(rec, body, 2);
                each(f, rec, ext, body + 2, ids_end, 0, 2, 4);
                push(f, format!("{ext}.binders_length"), ids_end, 2);
                each(f, rec, ext, ids_end + 2, body + len, 0, 1, 0);
            }
            _ => {}
        }
        p = body + len;
    }
    std::mem::take(f)
}

/// `rec` with the field moved by `delta` (wrapping within its width).
fn mutate(rec: &[u8], f: &Field, delta: i64) -> Vec<u8> {
    let mut out = rec.to_vec();
    let modulus = 1i64 << (8 * f.width);
    let v = (be(rec, f.at, f.width) as i64 + delta).rem_euclid(modulus);
    for i in 0..f.width {
        out[f.at + i] = (v >> (8 * (f.width - 1 - i))) as u8;
    }
    out
}

/// What the server did with `chunks`, as a line for a failure report.
fn describe(out: &[u8], status: Status, e: Option<mote::Error>) -> String {
    let head = &out[..out.len().min(12)];
    format!(
        "{} bytes out (starting {head:?}), {status:?}, error {:?}",
        out.len(),
        e.map(|e| e.to_string())
    )
}

#[test]
fn every_hello_is_accepted_unmodified() {
    for (name, rec) in hellos() {
        let (out, status, e) = server_answer(&[&rec]);
        assert_eq!(status, Status::Handshaking, "{name}: {e:?}");
        // A plaintext ServerHello comes first.
        assert_eq!((out[0], out[5]), (22, 2), "{name}");
        assert!(length_fields(&rec).len() >= 12, "{name}");
    }
}

#[test]
fn every_inner_length_off_by_one_is_decode_error() {
    let mut failures = Vec::new();
    let mut duplicates = Vec::new();
    let mut checked = 0;
    for (name, rec) in hellos() {
        for f in length_fields(&rec) {
            if f.name == "record.length" {
                continue;
            }
            for delta in [1i64, -1] {
                let m = mutate(&rec, &f, delta);
                // A handshake message longer than its record waits for the next record,
                // which here brings one more byte: the hello then has a trailing byte.
                let more = plain_record(22, &[0]);
                let chunks: Vec<&[u8]> = if f.name == "handshake.length" && delta == 1 {
                    let (out, status, _) = server_answer(&[&m]);
                    if !out.is_empty() || status != Status::Handshaking {
                        failures.push(format!("{name} {} {delta:+}: answered early", f.name));
                    }
                    vec![&m, &more]
                } else {
                    vec![&m]
                };
                let (out, status, e) = server_answer(&chunks);
                checked += 1;
                if misparsed_duplicate(&out, e) {
                    // See padding_length_minus_one_is_decode_error.
                    duplicates.push(format!("{name} {} {delta:+}", f.name));
                    continue;
                }
                if out != plain_alert(AlertDescription::DECODE_ERROR) || status != Status::Failed {
                    failures.push(format!(
                        "{name} {} {delta:+}: {}",
                        f.name,
                        describe(&out, status, e)
                    ));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} mutations");
    // Only the padding case is known to misparse into a duplicate.
    assert!(
        duplicates.len() <= 1 && duplicates.iter().all(|d| d.contains("0x0015.length -1")),
        "{duplicates:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} mutations not answered with decode_error alone:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// An illegal_parameter alert for a "duplicate extension" that only exists because a
/// length made the parser read an extension header out of another extension's bytes.
fn misparsed_duplicate(out: &[u8], e: Option<mote::Error>) -> bool {
    out == plain_alert(AlertDescription::ILLEGAL_PARAMETER)
        && matches!(
            e,
            Some(mote::Error::Decode(d))
                if matches!(d.kind, mote_wire::DecodeErrorKind::Duplicate { .. })
        )
}

#[test]
fn padding_length_minus_one_is_decode_error() {
    // RFC 8448 section 4's hello ends with padding (zeros) and pre_shared_key. With the
    // padding length one short, the last zero and the next type's high byte read as type
    // 0x0000 (server_name, already present), and the block no longer frames. The message
    // does not decode (RFC 8446 section 6.2, decode_error); the engine instead reports the
    // duplicate it met while walking.
    let (name, rec) = hellos().swap_remove(1);
    let f = length_fields(&rec)
        .into_iter()
        .find(|f| f.name == "extension 0x0015.length")
        .unwrap();
    let (out, status, e) = server_answer(&[&mutate(&rec, &f, -1)]);
    assert_eq!(
        out,
        plain_alert(AlertDescription::DECODE_ERROR),
        "{name}: {}",
        describe(&out, status, e)
    );
}

#[test]
fn record_length_off_by_one_is_waited_for() {
    // The record layer cannot tell a wrong length from bytes still in flight: one byte
    // short leaves the hello incomplete (its last byte starts the next record's header),
    // one byte long waits for that byte. Either way nothing is answered yet.
    for (name, rec) in hellos() {
        let f = &length_fields(&rec)[0];
        for delta in [1i64, -1] {
            let (out, status, e) = server_answer(&[&mutate(&rec, f, delta)]);
            assert!(
                out.is_empty(),
                "{name} {delta:+}: {}",
                describe(&out, status, e)
            );
            assert_eq!(status, Status::Handshaking, "{name} {delta:+}");
        }
    }
}

#[test]
fn record_one_byte_longer_than_the_hello_is_unexpected_message() {
    // The record completes with a byte after the ClientHello: a handshake fragment left
    // over at the key change the ClientHello causes (RFC 8446 section 5.1: "If not, then
    // they MUST terminate the connection with an "unexpected_message" alert"). The hello is
    // refused before any flight, so the alert goes out in the clear.
    for (name, rec) in hellos() {
        let m = mutate(&rec, &length_fields(&rec)[0], 1);
        let (out, status, e) = server_answer(&[&m, &[0]]);
        assert_eq!(status, Status::Failed, "{name}");
        assert_eq!(
            e.and_then(|e| e.alert()),
            Some(AlertDescription::UNEXPECTED_MESSAGE),
            "{name}"
        );
        let last = common::split_records(&out).pop().unwrap();
        assert_eq!(last[0], 21, "{name}: the alert is in the clear");
    }
}

#[test]
fn record_one_byte_longer_than_the_hello_gets_only_the_alert() {
    for (name, rec) in hellos() {
        let m = mutate(&rec, &length_fields(&rec)[0], 1);
        let (out, status, e) = server_answer(&[&m, &[0]]);
        assert_eq!(status, Status::Failed, "{name}");
        assert_eq!(
            out,
            plain_alert(AlertDescription::UNEXPECTED_MESSAGE),
            "{name}: {}",
            describe(&out, status, e)
        );
    }
}
