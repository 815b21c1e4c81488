//! The stateless cookie exchange (RFC 6347 section 4.2.1): before any state is kept for a
//! peer, its ClientHello must echo a cookie that only this server could have made for that
//! address and those hello parameters. A flood of ClientHellos from forged addresses then
//! costs one HMAC and one small datagram each, and no memory.
//!
//! `cookie = HMAC-SHA256(secret, peer address | ClientHello without its cookie)[..16]`.
//! Two secrets are accepted (the current and the previous) so the secret can rotate.

use crate::dtls::incoming::{next_record, RECORD_HEADER};
use mote_crypto::{HashAlgorithm, Provider};
use mote_wire::handshake::HandshakeHeader;
use mote_wire::{ContentType, Context, HandshakeType, Reader};
use subtle::ConstantTimeEq;

/// The cookie's length: 128 bits of HMAC output.
pub const COOKIE_LEN: usize = 16;

/// What to do with a datagram from a peer that has no connection yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloVerdict {
    /// Send `out[..n]` back (a HelloVerifyRequest) and keep nothing.
    Verify(usize),
    /// The ClientHello carries this server's cookie: make a connection for the peer and
    /// give it this datagram.
    Accept,
    /// Not an unfragmented ClientHello in epoch 0: drop it.
    Drop,
}

/// The offsets of a ClientHello body's cookie length byte and of what follows the cookie.
fn cookie_span(body: &[u8]) -> Option<(usize, usize)> {
    let sid_len = usize::from(*body.get(34)?);
    let at = 35 + sid_len;
    let len = usize::from(*body.get(at)?);
    let end = at + 1 + len;
    (end <= body.len()).then_some((at, end))
}

fn cookie_for<P: Provider>(
    p: &P,
    secret: &[u8; 32],
    peer: &[u8],
    body: &[u8],
    at: usize,
    end: usize,
) -> [u8; COOKIE_LEN] {
    let mac = p.hmac(
        HashAlgorithm::Sha256,
        secret,
        &[peer, &body[..at], &body[end..]],
    );
    let mut c = [0u8; COOKIE_LEN];
    c.copy_from_slice(&mac.as_bytes()[..COOKIE_LEN]);
    c
}

/// Looks at the first record of `datagram` from `peer` (its address, in any stable byte
/// form): a ClientHello with a valid cookie is `Accept`ed; one without gets a
/// HelloVerifyRequest written to `out` (at least 60 bytes). `previous` is the secret before
/// the last rotation, still accepted.
pub fn verify_client_hello<P: Provider>(
    p: &P,
    secret: &[u8; 32],
    previous: Option<&[u8; 32]>,
    peer: &[u8],
    datagram: &[u8],
    out: &mut [u8],
) -> HelloVerdict {
    let Some(head) = next_record(datagram, 0) else {
        return HelloVerdict::Drop;
    };
    if head.ct != ContentType::HANDSHAKE || head.epoch != 0 {
        return HelloVerdict::Drop;
    }
    let frag = &datagram[RECORD_HEADER..head.total];
    let mut r = Reader::new(frag);
    let Ok(h) = HandshakeHeader::parse(&mut r, &Context::DTLS12) else {
        return HelloVerdict::Drop;
    };
    let Some(f) = h.dtls else {
        return HelloVerdict::Drop;
    };
    // A stateless server needs the whole hello in one record.
    if h.msg_type != HandshakeType::CLIENT_HELLO || h.is_fragment() {
        return HelloVerdict::Drop;
    }
    // The header's length is the peer's word: the body must really be in the record.
    let Some(body) =
        frag.get(HandshakeHeader::DTLS_LEN..HandshakeHeader::DTLS_LEN + h.length as usize)
    else {
        return HelloVerdict::Drop;
    };
    let Some((at, end)) = cookie_span(body) else {
        return HelloVerdict::Drop;
    };
    let sent = &body[at + 1..end];
    let valid = |s: &[u8; 32]| -> bool {
        sent.len() == COOKIE_LEN && bool::from(cookie_for(p, s, peer, body, at, end).ct_eq(sent))
    };
    if valid(secret) || previous.is_some_and(valid) {
        return HelloVerdict::Accept;
    }
    // The HelloVerifyRequest: same record and message sequence numbers as the hello
    // (section 4.2.1), server_version DTLS 1.0 as the section recommends.
    let cookie = cookie_for(p, secret, peer, body, at, end);
    let msg_len = 2 + 1 + COOKIE_LEN;
    let total = RECORD_HEADER + HandshakeHeader::DTLS_LEN + msg_len;
    let Some(o) = out.get_mut(..total) else {
        return HelloVerdict::Drop;
    };
    o[0] = ContentType::HANDSHAKE.0;
    o[1..3].copy_from_slice(&[0xfe, 0xff]);
    o[3..11].copy_from_slice(&datagram[3..11]);
    let rec_len = (HandshakeHeader::DTLS_LEN + msg_len) as u16;
    o[11..13].copy_from_slice(&rec_len.to_be_bytes());
    let m = &mut o[RECORD_HEADER..];
    let l = (msg_len as u32).to_be_bytes();
    let s = f.message_seq.to_be_bytes();
    m[..12].copy_from_slice(&[
        HandshakeType::HELLO_VERIFY_REQUEST.0,
        l[1],
        l[2],
        l[3],
        s[0],
        s[1],
        0,
        0,
        0,
        l[1],
        l[2],
        l[3],
    ]);
    m[12..14].copy_from_slice(&[0xfe, 0xff]);
    m[14] = COOKIE_LEN as u8;
    m[15..15 + COOKIE_LEN].copy_from_slice(&cookie);
    HelloVerdict::Verify(total)
}
