//! Renegotiation refused (RFC 5746 sections 4.2 and 4.4): mote's DTLS 1.2 client and server,
//! once connected, answer the peer's request for a new handshake (a HelloRequest to the
//! client, a ClientHello to the server) with a warning no_renegotiation alert under the
//! current keys, and the connection goes on.
//!
//! A real client and server connect in memory (TLS_PSK_WITH_AES_128_CCM_8, the cookie
//! exchange first); the client's key log gives the master secret, from which both
//! directions' epoch-1 keys are derived here (TLS 1.2 PRF, AES-128-CCM-8), independently
//! of the engine's record layer. The request is forged under the sender's keys, and the
//! answer is read off the wire with the answerer's.

mod common;

use common::dtls_script::*;
use common::record_keys::*;
use common::scripted_client::*;
use mote::dtls::HelloVerdict;
use mote::Status;
use mote_wire::HandshakeType;
use std::sync::Mutex;

/// A forged record number far enough ahead to be fresh, and close enough that the genuine
/// numbers after the sender's Finished (1, 2, ...) stay inside the peer's 64-record replay
/// window (with 100, the genuine record 1 would be too old to accept afterwards).
const FORGED_SEQ: u64 = 10;

const WARNING: u8 = 1;
const NO_RENEGOTIATION: u8 = 100;

// ----------------------------------------------------------------------------- the pair

/// A connected client and server, both directions' keys, and the message_seq each side's
/// next handshake message would carry (the one after its Finished, read off the wire).
struct Pair {
    c: C,
    s: S,
    client_keys: Keys,
    server_keys: Keys,
    client_next_msg: u16,
    server_next_msg: u16,
}

/// The message_seq of the Finished in the sender's only epoch-1 handshake record among
/// `out`, opened with `k` (which also proves the keys derived here are the sender's).
fn finished_seq(out: &[Vec<u8>], k: &Keys, who: &str) -> u16 {
    let recs: Vec<Rec> = all_records(out)
        .into_iter()
        .filter(|r| r.ct == HANDSHAKE && r.epoch == 1)
        .collect();
    let [fin] = &recs[..] else {
        panic!("{who}: one epoch-1 handshake record, got {recs:?}")
    };
    assert_eq!(fin.seq, 0, "{who}: the Finished is epoch 1's first record");
    let plain = open(k, &fin.raw).unwrap_or_else(|| panic!("{who}: its Finished opens"));
    assert_eq!(plain.len(), 12 + 12, "{who}: a Finished with 12 bytes");
    assert_eq!(plain[0], HandshakeType::FINISHED.0, "{who}: a Finished");
    u16::from_be_bytes([plain[4], plain[5]])
}

fn connected() -> Pair {
    let log: &'static Log = leak(Log(Mutex::new(Vec::new())));
    let mut c = real_client(&KEY, Some(log));
    // The stateless cookie exchange.
    let first = sent(&mut c);
    assert_eq!(first.len(), 1);
    let mut hvr = [0u8; 128];
    let HelloVerdict::Verify(n) = verdict_into(&first[0], &mut hvr) else {
        panic!("no HelloVerifyRequest")
    };
    client_feed(&mut c, &hvr[..n], T0 + 5).unwrap();
    let mut s = server();
    let mut from_c: Vec<Vec<u8>> = Vec::new();
    let mut from_s: Vec<Vec<u8>> = Vec::new();
    for _ in 0..20 {
        let cs = sent(&mut c);
        for d in &cs {
            feed(&mut s, d).unwrap();
        }
        let ss = sent(&mut s);
        for d in &ss {
            client_feed(&mut c, d, T0 + 20).unwrap();
        }
        if cs.is_empty() && ss.is_empty() {
            break;
        }
        from_c.extend(cs);
        from_s.extend(ss);
    }
    assert_eq!(c.status(), Status::Connected, "client: {:?}", c.error());
    assert_eq!(s.status(), Status::Connected, "server: {:?}", s.error());
    assert_eq!(c.next_timeout(), None);
    assert_eq!(s.next_timeout(), None);
    // The randoms: the second ClientHello's and the ServerHello's.
    let hello = all_records(&from_c)
        .into_iter()
        .find(|r| r.ct == HANDSHAKE && r.body[0] == HandshakeType::CLIENT_HELLO.0)
        .expect("the second ClientHello");
    let sh = all_records(&from_s)
        .into_iter()
        .find(|r| r.ct == HANDSHAKE && r.epoch == 0 && r.body[0] == 2)
        .expect("the ServerHello");
    let random = |r: &Rec| -> [u8; 32] { r.body[12 + 2..12 + 34].try_into().unwrap() };
    let master = log.0.lock().unwrap().clone();
    assert_eq!(master.len(), 48, "the key log gave the master secret");
    let (client_keys, server_keys) = write_keys(&master, &random(&hello), &random(&sh));
    let client_next_msg = finished_seq(&from_c, &client_keys, "client") + 1;
    let server_next_msg = finished_seq(&from_s, &server_keys, "server") + 1;
    // The cookie exchange: ClientHello 0 and 1, ClientKeyExchange 2, Finished 3; the
    // server answers from 1 (RFC 6347 4.2.2): ServerHello 1, ServerHelloDone 2, Finished 3.
    assert_eq!((client_next_msg, server_next_msg), (4, 4));
    Pair {
        c,
        s,
        client_keys,
        server_keys,
        client_next_msg,
        server_next_msg,
    }
}

/// The one datagram `out` must be: one epoch-1 alert record sealed with `k` under record
/// number `seq`; returns its plaintext.
fn the_alert(out: &[Vec<u8>], k: &Keys, seq: u64, who: &str) -> Vec<u8> {
    assert_eq!(out.len(), 1, "{who}: one datagram, got {out:02x?}");
    let recs = all_records(out);
    let [r] = &recs[..] else {
        panic!("{who}: one record, got {recs:?}")
    };
    assert_eq!((r.ct, r.epoch, r.seq), (ALERT, 1, seq), "{who}: {r:?}");
    open(k, &r.raw).unwrap_or_else(|| panic!("{who}: the alert opens under its write keys"))
}

/// Application data both ways, read off the wire and by the engines.
fn data_flows(p: &mut Pair, tag: &str) {
    let up = format!("reading after {tag}");
    assert_eq!(p.c.write(up.as_bytes()).unwrap(), up.len());
    let out = sent(&mut p.c);
    assert_eq!(out.len(), 1);
    let r = &all_records(&out)[0];
    assert_eq!((r.ct, r.epoch), (APP, 1));
    assert_eq!(open(&p.client_keys, &r.raw).unwrap(), up.as_bytes());
    feed(&mut p.s, &out[0]).unwrap();
    let mut got = [0u8; 128];
    let n = p.s.read(&mut got);
    assert_eq!(
        &got[..n],
        up.as_bytes(),
        "the server reads the client's data"
    );
    let down = format!("ack after {tag}");
    assert_eq!(p.s.write(down.as_bytes()).unwrap(), down.len());
    let out = sent(&mut p.s);
    assert_eq!(out.len(), 1);
    let r = &all_records(&out)[0];
    assert_eq!((r.ct, r.epoch), (APP, 1));
    assert_eq!(open(&p.server_keys, &r.raw).unwrap(), down.as_bytes());
    client_feed(&mut p.c, &out[0], T0 + 40).unwrap();
    let n = p.c.read(&mut got);
    assert_eq!(
        &got[..n],
        down.as_bytes(),
        "the client reads the server's data"
    );
    assert_eq!(p.c.status(), Status::Connected);
    assert_eq!(p.s.status(), Status::Connected);
}

// ----------------------------------------------------------------------------- the cases

/// How a forged request is numbered.
#[derive(Clone, Copy)]
enum Numbering {
    /// As the sender's next message after its Finished, then the one after it.
    Continued,
    /// As the first message of a new handshake, message_seq 0, both times (RFC 6347 4.2.2).
    NewHandshake,
}

/// The message_seq of two requests in turn from a sender whose next message is `next`.
fn seqs(n: Numbering, next: u16) -> [u16; 2] {
    match n {
        Numbering::Continued => [next, next + 1],
        Numbering::NewHandshake => [0, 0],
    }
}

/// The server asks the connected client to renegotiate: two HelloRequests (type 0, empty
/// body) numbered by `n`, one after the other, each forged under the server's epoch-1
/// keys. Each one gets exactly one epoch-1 record back, the warning
/// no_renegotiation, the server takes it, and data goes both ways after it.
fn client_refuses_hello_requests(n: Numbering) {
    let mut p = connected();
    let seqs = seqs(n, p.server_next_msg);
    // The client's Finished was its epoch-1 record 0.
    let mut client_record = 1;
    for (i, msg_seq) in seqs.into_iter().enumerate() {
        let hr = message(HandshakeType::HELLO_REQUEST, msg_seq, &[]);
        let forged = seal(&p.server_keys, HANDSHAKE, FORGED_SEQ + i as u64, &hr);
        let who = format!("client, HelloRequest {} (message_seq {msg_seq})", i + 1);
        client_feed(&mut p.c, &forged, T0 + 30).unwrap();
        assert_eq!(p.c.status(), Status::Connected, "{who}: {:?}", p.c.error());
        assert_eq!(p.c.error(), None);
        let out = sent(&mut p.c);
        let alert = the_alert(&out, &p.client_keys, client_record, &who);
        assert_eq!(alert, [WARNING, NO_RENEGOTIATION], "{who}");
        assert_eq!(p.c.next_timeout(), None, "{who}: no handshake started");
        // The server takes the warning and goes on.
        feed(&mut p.s, &out[0]).unwrap();
        assert_eq!(p.s.status(), Status::Connected);
        assert!(sent(&mut p.s).is_empty());
        data_flows(&mut p, &who);
        // The alert, then the application data.
        client_record += 2;
    }
}

/// A fresh client's first ClientHello body (a genuine one, without a cookie).
fn client_hello_body() -> Vec<u8> {
    let mut fresh = real_client(&KEY, None);
    let first = sent(&mut fresh);
    let recs = records(&first[0]);
    let [h] = &recs[..] else {
        panic!("one record: {recs:?}")
    };
    assert_eq!(h.body[0], HandshakeType::CLIENT_HELLO.0);
    let body = h.body[12..].to_vec();
    assert_eq!(get(&h.body, 1, 3) as usize, body.len(), "a whole message");
    body
}

/// The client asks the connected server to renegotiate: two ClientHellos numbered by `n`,
/// forged under the client's epoch-1 keys. Each one gets exactly one
/// epoch-1 record back, the warning no_renegotiation (not the server's last flight again),
/// the client takes it, and data goes both ways after it.
fn server_refuses_client_hellos(n: Numbering) {
    let mut p = connected();
    let seqs = seqs(n, p.client_next_msg);
    let body = client_hello_body();
    // The server's Finished was its epoch-1 record 0.
    let mut server_record = 1;
    for (i, msg_seq) in seqs.into_iter().enumerate() {
        let ch = message(HandshakeType::CLIENT_HELLO, msg_seq, &body);
        let forged = seal(&p.client_keys, HANDSHAKE, FORGED_SEQ + i as u64, &ch);
        let who = format!("server, ClientHello {} (message_seq {msg_seq})", i + 1);
        feed(&mut p.s, &forged).unwrap();
        assert_eq!(p.s.status(), Status::Connected, "{who}: {:?}", p.s.error());
        assert_eq!(p.s.error(), None);
        let out = sent(&mut p.s);
        let alert = the_alert(&out, &p.server_keys, server_record, &who);
        assert_eq!(alert, [WARNING, NO_RENEGOTIATION], "{who}");
        assert_eq!(p.s.next_timeout(), None, "{who}: no handshake started");
        // The client takes the warning and goes on.
        client_feed(&mut p.c, &out[0], T0 + 30).unwrap();
        assert_eq!(p.c.status(), Status::Connected);
        assert!(sent(&mut p.c).is_empty());
        data_flows(&mut p, &who);
        server_record += 2;
    }
}

// ----------------------------------------------------------------------------- the tests

/// The HelloRequest numbered as the server's next message (4, after its Finished 3), then
/// the one after it.
#[test]
fn a_connected_client_refuses_a_hello_request() {
    client_refuses_hello_requests(Numbering::Continued);
}

/// The ClientHello numbered as the client's next message (4, after its Finished 3), then
/// the one after it.
#[test]
fn a_connected_server_refuses_a_client_hello() {
    server_refuses_client_hellos(Numbering::Continued);
}

/// RFC 6347 section 4.2.2: "The first message each side transmits in each handshake always
/// has message_seq = 0 ... in the case of a rehandshake, this implies that the HelloRequest
/// will have message_seq = 0". That is what real peers send (openssl s_server's `r`
/// command: see the test below). The engine used to take it for an old, retransmitted
/// message (below the next message_seq it expects) and drop it in silence.
#[test]
fn a_connected_client_refuses_a_hello_request_numbered_as_a_new_handshake() {
    client_refuses_hello_requests(Numbering::NewHandshake);
}

/// As above for the server: a renegotiating ClientHello starts the client's new handshake
/// at message_seq 0. The engine used to take it for the client's old flight retransmitted
/// and send its own last flight (change_cipher_spec, Finished) again instead of the alert.
#[test]
fn a_connected_server_refuses_a_client_hello_numbered_as_a_new_handshake() {
    server_refuses_client_hellos(Numbering::NewHandshake);
}

// ----------------------------------------------------------------------------- a real peer

/// `openssl s_server -dtls1_2` asks mote's connected client to renegotiate (its interactive
/// command `r` sends a HelloRequest with message_seq 0, RFC 6347 4.2.2); the client must
/// answer with the warning no_renegotiation, which openssl logs (`-msg`) as a received
/// alert `01 64`. OpenSSL 3 itself then ends the connection: a refused renegotiation it
/// asked for is fatal to it (rec_layer_d1.c, "no renegotiation"), so it sends a fatal
/// handshake_failure, which mote's client takes as the end. (openssl s_client
/// -no_renegotiation answers the same HelloRequest with the same warning and meets the
/// same end, so this is openssl's policy, not a fault of the refusal.)
#[test]
fn openssl_s_server_renegotiation_is_refused() {
    use common::dtls_peers::{connect_client, psk_bytes, psk_client_config, ClientBuffers};
    use common::dtls_peers::{PSK_HEX, PSK_ID};
    use common::{free_port, require_tool, Peer};
    use std::time::Duration;
    require_tool("openssl", "openssl");
    // A free TCP port is very likely a free UDP port too.
    let port = free_port();
    let mut server = Peer::spawn(
        std::process::Command::new("openssl")
            .args(["s_server", "-dtls1_2", "-msg", "-nocert"])
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(["-psk", PSK_HEX, "-psk_identity", PSK_ID])
            .args(["-cipher", "PSK-AES128-CCM8"]),
    );
    assert!(server.wait_for("ACCEPT", 10), "{}", server.output());
    let key = psk_bytes();
    let suites = [mote_wire::CipherSuite(0xc0a8)];
    let cfg = psk_client_config(&suites, &key);
    let mut bufs = ClientBuffers::new();
    let mut s = connect_client(&cfg, &mut bufs, port, &server, "s_server");
    s.send(b"before\n").unwrap();
    assert!(server.wait_for("before", 10), "{}", server.output());
    let mark = server.output().len();
    server.stdin("r\n");
    // `-msg`: the HelloRequest sent (type 0, length 0, message_seq 0).
    let after = || server.output()[mark..].to_string();
    let hello_request = "\n    00 00 00 00 00 00 00 00 00 00 00 00\n";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !after().contains(hello_request) {
        assert!(
            std::time::Instant::now() < deadline,
            "openssl sent no HelloRequest: {}",
            after()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The HelloRequest arrives; the client answers it, and then meets openssl's fatal
    // handshake_failure.
    let mut buf = [0u8; 256];
    let got = s.recv(&mut buf, Duration::from_secs(3));
    // ... and the warning no_renegotiation received (content type 21, body 01 64).
    assert!(
        after().contains("content_type=21) [length 0002]\n    01 64"),
        "openssl did not receive no_renegotiation (client: {got:?}, {:?}): {}",
        s.client().status(),
        after()
    );
    assert!(
        server.wait_for("no renegotiation", 5),
        "openssl's reason: {}",
        after()
    );
    assert_eq!(s.client().status(), Status::Failed, "{got:?}");
    assert_eq!(
        s.client().error(),
        Some(mote::Error::AlertReceived(
            mote_wire::AlertDescription::HANDSHAKE_FAILURE
        ))
    );
}
