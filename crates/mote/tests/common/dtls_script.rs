//! The wire side of the scripted DTLS 1.2 tests, where a hand-built peer talks to one of
//! mote's endpoints in-process, on a simulated clock: dtls12_bad_client_*.rs (mote's server
//! against a scripted client, see `scripted_client`) and dtls12_bad_server_*.rs (mote's
//! client against a scripted server, see `scripted_server`). Both build records and handshake messages by hand so that each length field can
//! be nudged, read the endpoint's answers back off the wire (epoch 0 is plaintext) and sum
//! up what one datagram did as an [`Outcome`]; what differs between the two sides is in
//! [`Subject`].

use mote::dtls::{Dtls, Role};
use mote::{Error, Status, UnixTime};
use mote_crypto::{CryptoError, Rng};
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::HandshakeMessage;
use mote_wire::{AlertDescription as A, ExtensionType, HandshakeType, Writer};

/// The simulated clock starts here (ms).
pub const T0: u64 = 1_700_000_000_000;

pub const HANDSHAKE: u8 = 22;
pub const ALERT: u8 = 21;
pub const CCS: u8 = 20;
pub const APP: u8 = 23;

/// A deterministic RNG: a byte counter.
pub struct Counter(pub u8);

impl Rng for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
        Ok(())
    }
}

/// Which of mote's endpoints a test drives, and what differs in reading it.
pub struct Subject {
    /// "server" or "client", for the failure messages.
    pub who: &'static str,
    /// The statuses in which it is still going (`Ok` from `recv_datagram`, no error).
    pub going: &'static [Status],
    /// How the failure message calls those statuses.
    pub going_word: &'static str,
    /// The record versions it may write: a server answers with DTLS 1.0 in a
    /// HelloVerifyRequest (RFC 6347 4.2.1), a client writes DTLS 1.2 only.
    pub versions: &'static [[u8; 2]],
}

/// mote's server: going while handshaking or connected.
pub const SERVER: Subject = Subject {
    who: "server",
    going: &[Status::Handshaking, Status::Connected],
    going_word: "going",
    versions: &[[0xfe, 0xfd], [0xfe, 0xff]],
};

/// mote's client: going while handshaking.
pub const CLIENT: Subject = Subject {
    who: "client",
    going: &[Status::Handshaking],
    going_word: "handshaking",
    versions: &[[0xfe, 0xfd]],
};

/// Every datagram the endpoint has to send, in order.
pub fn sent<R: Role>(e: &mut Dtls<'_, R>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let d = e.transmit().to_vec();
        if d.is_empty() {
            return out;
        }
        out.push(d);
        e.transmit_done();
    }
}

pub fn feed_at<R: Role>(e: &mut Dtls<'_, R>, d: &[u8], now: u64) -> Result<(), Error> {
    let buf = e.recv_buf();
    assert!(
        buf.len() >= d.len(),
        "datagram larger than the receive buffer"
    );
    buf[..d.len()].copy_from_slice(d);
    e.recv_datagram(d.len(), UnixTime::from_millis(now), &mut Counter(0x80))
}

pub fn feed<R: Role>(e: &mut Dtls<'_, R>, d: &[u8]) -> Result<(), Error> {
    feed_at(e, d, T0 + 10)
}

// ----------------------------------------------------------------------------- the wire

/// One record as read back from a datagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub ct: u8,
    pub epoch: u16,
    pub seq: u64,
    pub body: Vec<u8>,
    /// The whole record, header included.
    pub raw: Vec<u8>,
}

/// The records of a datagram `subject` wrote (all must be whole).
pub fn records_of(subject: &Subject, mut d: &[u8]) -> Vec<Rec> {
    let mut out = Vec::new();
    while !d.is_empty() {
        assert!(d.len() >= 13, "a cut record header");
        assert!(
            subject.versions.contains(&[d[1], d[2]]),
            "record version {:02x?}",
            &d[1..3]
        );
        let len = usize::from(u16::from_be_bytes([d[11], d[12]]));
        let mut seq = [0u8; 8];
        seq[2..].copy_from_slice(&d[5..11]);
        out.push(Rec {
            ct: d[0],
            epoch: u16::from_be_bytes([d[3], d[4]]),
            seq: u64::from_be_bytes(seq),
            body: d[13..13 + len].to_vec(),
            raw: d[..13 + len].to_vec(),
        });
        d = &d[13 + len..];
    }
    out
}

/// A DTLSPlaintext record.
pub fn record(ct: u8, epoch: u16, seq: u64, payload: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 0xfe, 0xfd];
    r.extend_from_slice(&epoch.to_be_bytes());
    r.extend_from_slice(&seq.to_be_bytes()[2..]);
    r.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    r.extend_from_slice(payload);
    r
}

/// A handshake fragment: its 12-byte header, then `part`.
pub fn fragment(t: HandshakeType, seq: u16, total: usize, offset: usize, part: &[u8]) -> Vec<u8> {
    let mut m = vec![t.0];
    m.extend_from_slice(&(total as u32).to_be_bytes()[1..]);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&(offset as u32).to_be_bytes()[1..]);
    m.extend_from_slice(&(part.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(part);
    m
}

/// A whole handshake message with its DTLS header.
pub fn message(t: HandshakeType, seq: u16, body: &[u8]) -> Vec<u8> {
    fragment(t, seq, body.len(), 0, body)
}

pub fn body_of(m: HandshakeMessage<'_>) -> Vec<u8> {
    let mut out = vec![0u8; 1024];
    let mut w = Writer::new(&mut out);
    m.emit_body(&mut w).unwrap();
    let n = w.len();
    out.truncate(n);
    out
}

/// The hello extensions both scripted peers may leave out: extended_master_secret if
/// `ems`, renegotiation_info with `reneg` if given.
pub fn ems_and_reneg<'a>(ems: bool, reneg: Option<&'a [u8]>) -> Vec<Extension<'a>> {
    let mut exts = Vec::new();
    if ems {
        exts.push(Extension {
            typ: ExtensionType::EXTENDED_MASTER_SECRET,
            body: ExtensionBody::Empty,
        });
    }
    if let Some(r) = reneg {
        exts.push(Extension {
            typ: ExtensionType::RENEGOTIATION_INFO,
            body: ExtensionBody::RenegotiationInfo(r),
        });
    }
    exts
}

// ----------------------------------------------------------------------------- lengths

pub fn get(d: &[u8], at: usize, w: usize) -> u64 {
    d[at..at + w]
        .iter()
        .fold(0u64, |v, &b| (v << 8) | u64::from(b))
}

pub fn put(d: &mut [u8], at: usize, w: usize, v: u64) {
    for i in 0..w {
        d[at + i] = (v >> (8 * (w - 1 - i))) as u8;
    }
}

/// A length field of a datagram: its name, offset and width in bytes.
pub type Field = (&'static str, usize, usize);

/// `d` with the field changed by `delta` (wrapping within its width).
pub fn nudged(d: &[u8], (_, at, w): Field, delta: i64) -> Vec<u8> {
    let mut d = d.to_vec();
    let m = (1i64 << (8 * w)) - 1;
    let v = (get(&d, at, w) as i64 + delta) & m;
    put(&mut d, at, w, v as u64);
    d
}

/// The record and handshake header fields of a one-message datagram.
pub const HEADERS: [Field; 5] = [
    ("record length", 11, 2),
    ("handshake length", 14, 3),
    ("message_seq", 17, 2),
    ("fragment_offset", 19, 3),
    ("fragment_length", 22, 3),
];
/// The body of the message starts at 13 + 12.
pub const B: usize = 25;

/// The datagram `d` with its handshake body cut to `k` bytes, every length kept consistent.
pub fn body_cut(d: &[u8], k: usize) -> Vec<u8> {
    let mut d = d[..B + k].to_vec();
    put(&mut d, 11, 2, (12 + k) as u64);
    put(&mut d, 14, 3, k as u64);
    put(&mut d, 22, 3, k as u64);
    d
}

// ----------------------------------------------------------------------------- outcomes

/// What the endpoint under test did with one datagram.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Still going, nothing sent: the datagram was dropped, or the endpoint waits for more
    /// of a message.
    Quiet,
    /// Still going and it sent `n` datagrams (its next flight, or a retransmission).
    Sent(usize),
    /// Failed with this fatal alert on the wire (the error's own alert too).
    Fatal(A),
    /// Something else: status, error, datagrams.
    Other(Status, Option<Error>, usize),
}

/// The single fatal alert in `out`, if that is all it is: an epoch-0 plaintext record.
pub fn alert_of(subject: &Subject, out: &[Vec<u8>]) -> Option<A> {
    let [d] = out else { return None };
    let recs = records_of(subject, d);
    let [r] = &recs[..] else { return None };
    (r.ct == ALERT && r.epoch == 0 && r.body.len() == 2 && r.body[0] == 2).then(|| A(r.body[1]))
}

/// What the datagram that `recv_datagram` answered `r` for did to `e`, reading what `e`
/// sends. A failed endpoint must say why, return that error and stop its timer;
/// `after_failure` checks more of it before the alert is read.
pub fn outcome_of<'b, R: Role>(
    subject: &Subject,
    e: &mut Dtls<'b, R>,
    r: Result<(), Error>,
    after_failure: impl FnOnce(&mut Dtls<'b, R>),
) -> Outcome {
    let who = subject.who;
    let out = sent(e);
    match e.status() {
        st if subject.going.contains(&st) => {
            assert!(r.is_ok(), "{r:?} while still {}", subject.going_word);
            assert_eq!(e.error(), None);
            if out.is_empty() {
                Outcome::Quiet
            } else {
                Outcome::Sent(out.len())
            }
        }
        Status::Failed => {
            let err = e
                .error()
                .unwrap_or_else(|| panic!("a failed {who} says why"));
            assert_eq!(r, Err(err), "recv_datagram returns the error");
            assert_eq!(e.next_timeout(), None, "a failed {who} stops its timer");
            after_failure(e);
            match alert_of(subject, &out) {
                Some(a) if err.alert() == Some(a) => Outcome::Fatal(a),
                _ => Outcome::Other(Status::Failed, Some(err), out.len()),
            }
        }
        st => Outcome::Other(st, e.error(), out.len()),
    }
}
