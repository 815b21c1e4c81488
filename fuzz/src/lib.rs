//! Shared oracles for the mote-wire fuzz targets, and (in the modules) what several targets
//! share: reading the input as operations ([`input`]), the model of a fragment assembler
//! ([`assembly_model`]) and the driving of a DTLS engine ([`dtls_engine`]).
//!
//! Every parse runs twice, once without a sink (the engine's way) and once with a
//! [`CheckSink`] (the dissector's way); both must give the same result, the sink must see a
//! well-nested tree whose fields lie inside the input, and every error must point inside the
//! input. A successful parse must emit back to exactly the bytes it consumed.

pub mod assembly_model;
pub mod dtls_engine;
pub mod input;

use mote_wire::ack::Ack;
use mote_wire::handshake::{emit_handshake, parse_handshake, HandshakeHeader, HandshakeMessage};
use mote_wire::{CertificateType, Context, DecodeError, KeyExchange, Reader, Sink, Value, Writer};

/// The parsing context selected by one byte: bits 0-1 the version (TLS 1.2, TLS 1.3,
/// DTLS 1.2, DTLS 1.3), bits 2-4 the TLS 1.2 key exchange, bit 5 a raw-public-key
/// certificate type (RFC 7250).
pub fn context(b: u8) -> Context {
    let base = match b & 3 {
        0 => Context::TLS12,
        1 => Context::TLS13,
        2 => Context::DTLS12,
        _ => Context::DTLS13,
    };
    let key_exchange = match (b >> 2) & 7 {
        0 => KeyExchange::Unknown,
        1 => KeyExchange::Rsa,
        2 => KeyExchange::Dhe,
        3 => KeyExchange::Ecdhe,
        4 => KeyExchange::Psk,
        5 => KeyExchange::DhePsk,
        6 => KeyExchange::EcdhePsk,
        _ => KeyExchange::RsaPsk,
    };
    let cert_type = if b & 0x20 != 0 {
        CertificateType::RAW_PUBLIC_KEY
    } else {
        CertificateType::X509
    };
    Context {
        key_exchange,
        cert_type,
        ..base
    }
}

/// Checks what a parser reports: nodes nest, nothing lies outside `0..len` (offsets are
/// absolute: the reader's base plus the position), and fields sit inside their node.
pub struct CheckSink {
    len: usize,
    stack: Vec<usize>,
}

impl CheckSink {
    pub fn new(len: usize) -> Self {
        CheckSink {
            len,
            stack: Vec::new(),
        }
    }

    /// Every node that was entered was left.
    pub fn finish(&self) {
        assert!(self.stack.is_empty(), "nodes left open: {:?}", self.stack);
    }
}

impl Sink for CheckSink {
    fn enter(&mut self, name: &'static str, _index: Option<u16>, offset: usize) {
        assert!(
            offset <= self.len,
            "node {name} starts at {offset} > {}",
            self.len
        );
        if let Some(&outer) = self.stack.last() {
            assert!(
                offset >= outer,
                "node {name} at {offset} before its parent at {outer}"
            );
        }
        self.stack.push(offset);
    }

    fn leave(&mut self, end: usize) {
        let start = self.stack.pop().expect("leave without enter");
        assert!(
            end >= start && end <= self.len,
            "node {start}..{end} of {}",
            self.len
        );
    }

    fn field(&mut self, name: &'static str, offset: usize, len: usize, value: Value<'_>) {
        let end = offset.checked_add(len).expect("field end overflows");
        assert!(
            end <= self.len,
            "field {name} at {offset}+{len} beyond {}",
            self.len
        );
        if let Some(&outer) = self.stack.last() {
            assert!(
                offset >= outer,
                "field {name} at {offset} before its node at {outer}"
            );
        }
        if let Value::Bytes(b) | Value::Text(b) = value {
            assert_eq!(b.len(), len, "field {name}: value and range disagree");
        }
    }
}

/// An error must point inside the input and print without panicking.
pub fn check_error(e: &DecodeError, len: usize) {
    assert!(
        e.offset <= len,
        "error offset {} beyond input of {len}: {e}",
        e.offset
    );
    let _ = e.to_string();
    let _ = e.alert();
}

/// Parses one handshake message at the start of `data`, with and without a sink. On
/// success, emits it and requires the bytes consumed back. Returns the bytes consumed.
pub fn handshake_round_trip(data: &[u8], ctx: &Context) -> Option<usize> {
    let mut r = Reader::new(data);
    let plain = parse_handshake(&mut r, ctx);
    let used = r.position();

    let mut sink = CheckSink::new(data.len());
    let (sunk, used_sunk) = {
        let mut rs = Reader::with_sink(data, &mut sink);
        let res = parse_handshake(&mut rs, ctx);
        (res, rs.position())
    };
    sink.finish();
    assert_eq!(plain, sunk, "a sink changed the result");

    match plain {
        Ok((h, m)) => {
            assert_eq!(used, used_sunk);
            emit_matches(&h, &m, &data[..used]);
            Some(used)
        }
        Err(e) => {
            check_error(&e, data.len());
            None
        }
    }
}

/// `emit_handshake` of a parsed message gives back exactly `consumed`.
pub fn emit_matches(h: &HandshakeHeader, m: &HandshakeMessage<'_>, consumed: &[u8]) {
    let mut out = vec![0u8; consumed.len() + 16];
    let n = emit_handshake(h, m, &mut out)
        .unwrap_or_else(|e| panic!("emit of a parsed {h:?} failed: {e}\n{m:?}"));
    assert_eq!(
        &out[..n],
        consumed,
        "re-emission differs\nparsed:  {}\nemitted: {}\n{h:?}\n{m:?}",
        hex(consumed),
        hex(&out[..n]),
    );
}

/// Every handshake message in a record payload, in turn, until one fails.
pub fn handshakes(mut payload: &[u8], ctx: &Context) {
    while !payload.is_empty() {
        match handshake_round_trip(payload, ctx) {
            Some(n) if n > 0 => payload = &payload[n..],
            _ => break,
        }
    }
}

/// An ACK (DTLS 1.3 content type 26) round-trips too.
pub fn ack(payload: &[u8]) {
    let mut r = Reader::new(payload);
    match Ack::parse(&mut r) {
        Ok(a) => {
            let used = r.position();
            let mut out = vec![0u8; used + 16];
            let mut w = Writer::new(&mut out);
            a.emit(&mut w).expect("emit of a parsed ACK");
            assert_eq!(w.written(), &payload[..used]);
        }
        Err(e) => check_error(&e, payload.len()),
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
