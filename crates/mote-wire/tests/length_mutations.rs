//! Every length field of every handshake message in the shared vectors, set one too large
//! and one too small: the message must then fail to parse, the error must sit at the
//! mutated length field (or at another length field that a change of one would repair just
//! as well: where two single corrections both give a valid message, the blame analysis of
//! src/blame.rs may pick either), and its text must show both numbers that disagree. Every
//! truncation of every message must fail too, at an offset inside the cut.
//!
//! The length fields are not listed by hand: a recording `Sink` reports every field the
//! parser reads as `Value::Length`, with its absolute offset and width.
//!
//! Vectors (../../../shared/vectors, see its README.md for the sources; each is cited where
//! it is loaded, in length_mutations/corpus.rs):
//! - rfc8448/rfc8448_vectors.txt: RFC 8448, the TLS 1.3 example traces, from the RFC text.
//! - captures/illustrated-{tls12,tls13,dtls}/captures/caps/*: the Illustrated TLS 1.2,
//!   TLS 1.3 and DTLS 1.3 connections (syncsynchalt/illustrated-*, MIT).
//! - parser/tls_parser_test_vectors.txt: rusticata/tls-parser's tests (MIT/Apache-2.0).
//! - parser/pion_dtls_vectors.txt: pion/dtls's tests (MIT).

#[path = "length_mutations/corpus.rs"]
mod corpus;
#[path = "length_mutations/oracle.rs"]
mod oracle;

use mote_wire::handshake::HandshakeMessage;
use mote_wire::Context;
use oracle::{blame, length_fields, numbers_shown, parse, with_field, Blame, LengthField, Outcome};

/// Mutations that still parse, each because the mutated bytes are a valid different message
/// (or a valid message followed by bytes that belong to the next one). Nothing else may
/// parse. `orig` is the message before the mutation, `left` how many input bytes the parse
/// leaves unread.
fn allowed_parse(
    ctx: &Context,
    orig: &[u8],
    f: &LengthField,
    delta: i64,
    m: &HandshakeMessage<'_>,
    left: usize,
) -> Option<&'static str> {
    // The bytes right after the mutated field's original contents.
    let end = f.offset + f.width + f.value;
    let after = orig.get(end..).unwrap_or(&[]);
    match (ctx.dtls, f.path.as_str(), delta, m, left) {
        // DTLS: length n+1 with fragment_offset 0 and fragment_length n is the first n
        // bytes of an (n+1)-byte message, a fragment like any other (RFC 6347 section
        // 4.2.3, RFC 9147 section 5.5); parse_handshake returns it unparsed, as it must.
        (true, "handshake.length", 1, HandshakeMessage::Fragment(_), 0) => {
            Some("DTLS length+1: a valid first fragment of a longer message")
        }
        // DTLS: fragment_length n-1 of an n-byte message is a valid fragment (its first
        // n-1 bytes); the byte after it is where the next message in the record would start.
        (true, "handshake.fragment_length", -1, HandshakeMessage::Fragment(_), 1) => {
            Some("DTLS fragment_length-1: a valid fragment, then one byte of what follows")
        }
        // TLS: Finished is verify_data to the end of the body, whose size the hash decides
        // (RFC 8446 section 4.4.4, RFC 5246 section 7.4.9 for TLS 1.2's 12 bytes), which the
        // codec does not know: length n-1 is a valid Finished of n-1 bytes, and the last byte
        // is where the next message would start. parse_handshake reads one message of a
        // stream and cannot tell.
        (false, "handshake.length", -1, HandshakeMessage::Finished(_), 1) => {
            Some("TLS Finished length-1: a shorter verify_data, then one byte of what follows")
        }
        // TLS 1.2 ServerKeyExchange signed with a 2048-bit RSA key: the public value (ECDHE
        // point or DH Ys) is followed by SignatureAndHashAlgorithm {hash, rsa(1)} and the
        // signature length 0x0100. One byte shorter, the point's last byte and the hash make
        // the algorithm, rsa(1) and 0x01 make a signature length of 0x0101 = 257, and 0x00
        // plus the 256 signature bytes fill it exactly: a well-formed ServerKeyExchange
        // (RFC 5246 section 7.4.3, RFC 8422 section 5.4) with a different point and
        // signature. Only when those bytes are exactly [_, 1, 1, 0].
        (_, p, -1, HandshakeMessage::ServerKeyExchange(_), 0)
            if (p.ends_with(".params.public_length") || p.ends_with(".params.dh_ys_length"))
                && after.get(1..4) == Some(&[1, 1, 0]) =>
        {
            Some("ServerKeyExchange public-1 before an RSA-2048 signature: re-aligns exactly")
        }
        // A list of u8-prefixed CIDs (RFC 9147 section 9) where the next CID is empty: one
        // more byte takes that CID's zero length as data, and the list is one CID shorter but
        // well-formed.
        (_, p, 1, HandshakeMessage::NewConnectionId(_), 0)
            if p.ends_with(".cid_length") && after.first() == Some(&0) =>
        {
            Some("cid_length+1 before an empty CID: swallows its zero length, still a list")
        }
        _ => None,
    }
}

#[derive(Default, Debug)]
struct Stats {
    messages: usize,
    fields: usize,
    mutations: usize,
    exact: usize,
    equivalent: usize,
    allowed: usize,
    failures: Vec<String>,
}

/// Every length field of every message, set to its value + 1 and - 1.
///
/// (a) No mutation panics. (b) Every mutation fails to parse, but for the cases
/// `allowed_parse` lists, where the mutated bytes are a valid different message. (d) The
/// text of a LengthExceeds or TrailingBytes error shows both numbers. (c) The error sits at
/// the mutated field ("exact"), or at another length field that a change of one would repair
/// as well ("equivalent": that field's path is in the error, and the mutated message with
/// that field changed by one instead parses whole).
///
/// The blame comes from src/blame.rs, which weighs the single-field corrections of the
/// length fields read before the error; the equivalent cases (two corrections of one that
/// both give a valid message) are listed with "equivalent:" and counted.
#[test]
fn every_length_field_off_by_one_is_caught() {
    let cases = corpus::all();
    let mut st = Stats::default();
    let mut by_kind: std::collections::BTreeMap<String, usize> = Default::default();
    for case in &cases {
        let b = &case.bytes;
        assert!(
            matches!(parse(b, &case.ctx), Outcome::Parsed(_, 0)),
            "{}: the vector itself does not parse whole",
            case.name
        );
        let fields = length_fields(b, &case.ctx);
        assert!(!fields.is_empty(), "{}: no length field", case.name);
        st.messages += 1;
        st.fields += fields.len();
        for f in &fields {
            let max = (1usize << (8 * f.width)) - 1;
            for delta in [1i64, -1] {
                let Some(v) = f.value.checked_add_signed(delta as isize) else {
                    continue;
                };
                if v > max {
                    continue;
                }
                st.mutations += 1;
                let m = with_field(b, f.offset, f.width, v);
                let what = format!(
                    "{}: {} at {} ({} -> {v})",
                    case.name, f.path, f.offset, f.value
                );
                let e = match parse(&m, &case.ctx) {
                    Outcome::Failed(e) => e,
                    Outcome::Panicked(p) => {
                        st.failures.push(format!("{what}: PANIC {p}"));
                        continue;
                    }
                    Outcome::Parsed(msg, left) => {
                        match allowed_parse(&case.ctx, b, f, delta, &msg, left) {
                            Some(why) => {
                                st.allowed += 1;
                                eprintln!("allowed: {what}: {why}");
                            }
                            None => st
                                .failures
                                .push(format!("{what}: still parses ({left} bytes left): {msg:?}")),
                        }
                        continue;
                    }
                };
                let kind = format!("{:?}", e.kind);
                *by_kind
                    .entry(kind.split(' ').next().unwrap_or("").to_string())
                    .or_default() += 1;
                if let Err(why) = numbers_shown(&e) {
                    st.failures.push(format!("{what}: {why}"));
                }
                let why = match blame(&m, &case.ctx, f, &e) {
                    Blame::Exact => {
                        st.exact += 1;
                        continue;
                    }
                    Blame::Equivalent(other) => {
                        eprintln!("equivalent: {what}: blames {other}: {e}");
                        st.equivalent += 1;
                        continue;
                    }
                    Blame::Wrong(why) => why,
                };
                st.failures.push(format!("{what}: {why}; error: {e}"));
            }
        }
    }
    eprintln!(
        "length mutations: {} messages, {} length fields, {} mutations: {} blamed the mutated \
         field, {} an equivalent length field, {} parse as a valid different message \
         (allowed), {} failures",
        st.messages,
        st.fields,
        st.mutations,
        st.exact,
        st.equivalent,
        st.allowed,
        st.failures.len()
    );
    eprintln!("error kinds: {by_kind:?}");
    for f in &st.failures {
        eprintln!("FAIL {f}");
    }
    assert!(
        st.failures.is_empty(),
        "{} of {} mutations mishandled (listed above)",
        st.failures.len(),
        st.mutations
    );
}

#[test]
fn every_truncation_fails_inside_the_cut() {
    let mut cuts = 0;
    let mut failures = Vec::new();
    for case in corpus::all() {
        for cut in 0..case.bytes.len() {
            cuts += 1;
            match parse(&case.bytes[..cut], &case.ctx) {
                Outcome::Failed(e) if e.offset <= cut => {}
                Outcome::Failed(e) => failures.push(format!(
                    "{} cut at {cut}: error offset {} beyond the cut: {e}",
                    case.name, e.offset
                )),
                Outcome::Parsed(..) => failures.push(format!("{} cut at {cut}: parses", case.name)),
                Outcome::Panicked(p) => {
                    failures.push(format!("{} cut at {cut}: PANIC {p}", case.name))
                }
            }
        }
    }
    eprintln!("truncations: {cuts} cuts, {} failures", failures.len());
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    assert!(failures.is_empty());
}
