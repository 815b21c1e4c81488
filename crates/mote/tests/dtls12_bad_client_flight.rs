//! mote's DTLS 1.2 server against a scripted fake client, in-process and without sockets,
//! on a simulated clock: after the ClientHello. The ClientKeyExchange is built by hand; for
//! what needs epoch-1 keys, mote's own DtlsClient plays the client and its datagrams are
//! replayed, cut or corrupted; a Finished with a wrong verify_data is sealed with the
//! client's keys, derived here (TLS 1.2 PRF, AES-128-CCM-8) from the master secret its key
//! log gives.
//!
//! Cases: a bad ClientKeyExchange and Finished; records of wrong epochs, early
//! change_cipher_spec, duplicates, replays, early application data; the server's
//! retransmissions, and an engine bug these tests found (a plaintext Finished). The
//! ClientHello is in dtls12_bad_client_hello.rs.

mod common;

// The records, messages, length fields and outcomes of the script; the server, the hello
// and the outcomes of the scripted client.
use common::dtls_script::*;
use common::record_keys::*;
use common::scripted_client::*;
use mote::dtls::HelloVerdict;
use mote::{Error, KeyLog, PeerMisbehaved, Status, UnixTime};
use mote_wire::handshake::{ClientKeyExchange, HandshakeMessage};
use mote_wire::{AlertDescription as A, HandshakeType};
use std::sync::Mutex;

// ----------------------------------------------------------------------------- key exchange

/// A PSK ClientKeyExchange: psk_identity<0..2^16-1>, as message 2, record 2.
fn cke_dgram(identity: &[u8]) -> Vec<u8> {
    let body = body_of(HandshakeMessage::ClientKeyExchange(
        ClientKeyExchange::Psk {
            psk_identity: identity,
        },
    ));
    assert_eq!(
        body,
        [&(identity.len() as u16).to_be_bytes()[..], identity].concat()
    );
    record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::CLIENT_KEY_EXCHANGE, 2, &body),
    )
}

#[test]
fn client_key_exchange_identity_and_lengths() {
    // The right identity: the server waits for the CCS and Finished.
    let mut s = after_hello();
    assert_eq!(outcome(&mut s, &cke_dgram(IDENTITY)), Outcome::Quiet);
    assert_eq!(s.negotiated().psk, Some(0));
    // The timer runs on until the client's Finished (a client gone quiet after its key
    // exchange still ends in HandshakeTimeout).
    assert_eq!(s.next_timeout(), Some(T0 + 10 + 1000));
    // An unknown identity: decrypt_error (RFC 4279 section 2), not unknown_psk_identity.
    for id in [&b"sensor-2"[..], b"", b"sensor-1\0", b"SENSOR-1"] {
        let mut s = after_hello();
        assert_eq!(
            outcome(&mut s, &cke_dgram(id)),
            Outcome::Fatal(A::DECRYPT_ERROR),
            "{id:?}"
        );
        assert_eq!(
            s.error(),
            Some(PeerMisbehaved::DecryptError("the client's PSK identity").into())
        );
    }
    let d = cke_dgram(IDENTITY);
    // Header fields. The record -1 runs the fragment past the record; the handshake length
    // +1 makes a fragment (the server waits); message_seq +1 is a later message (dropped),
    // -1 the hello's (old: the server resends its flight).
    let want: [(&str, [Outcome; 2]); 5] = [
        (
            "record length",
            [Outcome::Quiet, Outcome::Fatal(A::UNEXPECTED_MESSAGE)],
        ),
        (
            "handshake length",
            [Outcome::Quiet, Outcome::Fatal(A::DECODE_ERROR)],
        ),
        ("message_seq", [Outcome::Quiet, Outcome::Sent(1)]),
        (
            "fragment_offset",
            [
                Outcome::Fatal(A::DECODE_ERROR),
                Outcome::Fatal(A::DECODE_ERROR),
            ],
        ),
        (
            "fragment_length",
            [
                Outcome::Fatal(A::DECODE_ERROR),
                Outcome::Fatal(A::DECODE_ERROR),
            ],
        ),
    ];
    for (f, (name, want)) in HEADERS.into_iter().zip(want) {
        assert_eq!(f.0, name);
        for (delta, want) in [1, -1].into_iter().zip(want) {
            assert_eq!(
                outcome(&mut after_hello(), &nudged(&d, f, delta)),
                want,
                "ClientKeyExchange {name} {delta:+}"
            );
        }
    }
    // psk_identity length +1 / -1: decode_error.
    for delta in [1, -1] {
        let mut s = after_hello();
        assert_eq!(
            outcome(&mut s, &nudged(&d, ("psk_identity length", B, 2), delta)),
            Outcome::Fatal(A::DECODE_ERROR),
            "psk_identity length {delta:+}"
        );
        assert!(matches!(s.error(), Some(Error::Decode(_))));
    }
    // Every consistent cut of the body: decode_error.
    for k in 0..d.len() - B {
        assert_eq!(
            outcome(&mut after_hello(), &body_cut(&d, k)),
            Outcome::Fatal(A::DECODE_ERROR),
            "ClientKeyExchange body cut at {k}"
        );
    }
    // Every cut of the datagram: dropped.
    for k in 0..d.len() {
        assert_eq!(
            outcome(&mut after_hello(), &d[..k]),
            Outcome::Quiet,
            "ClientKeyExchange cut at {k}"
        );
    }
}

/// mote's client and server through the cookie exchange and the server's flight: the
/// server, and the client's second flight (ClientKeyExchange, CCS, Finished) as records.
fn real_exchange(key: &'static [u8; 16]) -> (C, S, Vec<Rec>) {
    let (c, s, recs, _) = real_exchange_with(key, None);
    (c, s, recs)
}

/// The client, the server, the client's second flight, the client and server randoms.
type Exchange = (C, S, Vec<Rec>, ([u8; 32], [u8; 32]));

/// As [`real_exchange`], with a key log on the client; also the client and server randoms.
fn real_exchange_with(key: &'static [u8; 16], log: Option<&'static dyn KeyLog>) -> Exchange {
    let mut c = real_client(key, log);
    let first = sent(&mut c);
    assert_eq!(first.len(), 1);
    let mut hvr = [0u8; 128];
    let HelloVerdict::Verify(n) = verdict_into(&first[0], &mut hvr) else {
        panic!("no HelloVerifyRequest")
    };
    client_feed(&mut c, &hvr[..n], T0 + 5).unwrap();
    let second = sent(&mut c);
    assert_eq!(second.len(), 1);
    assert_eq!(verdict(&second[0]), Ok(HelloVerdict::Accept));
    let mut s = server();
    feed(&mut s, &second[0]).unwrap();
    let flight = sent(&mut s);
    check_server_flight(&flight);
    for d in &flight {
        client_feed(&mut c, d, T0 + 20).unwrap();
    }
    let recs = all_records(&sent(&mut c));
    let kinds: Vec<(u8, u16)> = recs.iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(kinds, [(HANDSHAKE, 0), (CCS, 0), (HANDSHAKE, 1)]);
    let random = |r: &Rec| -> [u8; 32] { r.body[12 + 2..12 + 34].try_into().unwrap() };
    let randoms = (
        random(&records(&second[0])[0]),
        random(&all_records(&flight)[0]),
    );
    (c, s, recs, randoms)
}

/// The records as one datagram.
fn dgram(recs: &[Rec]) -> Vec<u8> {
    recs.iter().flat_map(|r| r.raw.clone()).collect()
}

#[test]
fn a_genuine_client_connects_record_by_record() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &recs[0].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    let out = {
        feed(&mut s, &recs[2].raw).unwrap();
        sent(&mut s)
    };
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.client_psk_identity(), Some(IDENTITY));
    // CCS in epoch 0, Finished in epoch 1; no timer on the last flight.
    let kinds: Vec<(u8, u16)> = all_records(&out).iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(kinds, [(CCS, 0), (HANDSHAKE, 1)]);
    assert_eq!(s.next_timeout(), None);
    for d in &out {
        client_feed(&mut c, d, T0 + 30).unwrap();
    }
    assert_eq!(c.status(), Status::Connected);
}

#[test]
fn a_corrupted_finished_is_dropped_and_the_genuine_one_still_works() {
    let (_, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    // Every byte of the sealed Finished (after the header) flipped in turn: it fails to
    // open and is dropped silently (RFC 6347 4.1.2.7), without moving the replay window.
    let fin = &recs[2].raw;
    for i in 13..fin.len() {
        let mut x = fin.clone();
        x[i] ^= 0x01;
        assert_eq!(outcome(&mut s, &x), Outcome::Quiet, "byte {i}");
    }
    // The type and sequence number in the header are authenticated too; epoch 0x0101
    // does not exist; a length that runs past the datagram drops it.
    for i in [0usize, 3, 10, 12] {
        let mut x = fin.clone();
        x[i] ^= 0x01;
        assert_eq!(outcome(&mut s, &x), Outcome::Quiet, "header byte {i}");
    }
    assert_eq!(s.status(), Status::Handshaking);
    assert_eq!(outcome(&mut s, fin), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    // The epoch turned to 0 makes it a plaintext record whose "handshake message" is
    // ciphertext: parsed as such, decode_error.
    let (_, mut s, recs) = real_exchange(&KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    let mut x = recs[2].raw.clone();
    x[4] = 0;
    assert_eq!(outcome(&mut s, &x), Outcome::Fatal(A::DECODE_ERROR));
}

#[test]
fn a_client_with_the_wrong_key_is_not_heard() {
    // The identity is known, so the key exchange passes; but the record keys come from the
    // PSK, so the client's Finished record does not open under the server's keys: it is
    // dropped silently (RFC 6347 4.1.2.7), never reaching the verify_data check, and the
    // server times out instead of sending decrypt_error.
    let (_, mut s, recs) = real_exchange(&WRONG_KEY);
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Quiet);
    assert_eq!(s.status(), Status::Handshaking);
    // The server's timer runs on until a Finished is taken, so it retransmits and in the
    // end gives up with HandshakeTimeout.
    assert_eq!(s.next_timeout(), Some(T0 + 10 + 1000));
    s.handle_timeout(UnixTime::from_millis(T0 + 10 + 1000))
        .unwrap();
    check_server_flight(&sent(&mut s));
}

#[test]
fn a_finished_with_a_wrong_verify_data_is_decrypt_error() {
    // The client's epoch-1 keys from its master secret (by the key log): the genuine
    // Finished is opened, its verify_data changed, and the record sealed again under the
    // same record number (the genuine one never reached the server).
    let log: &'static Log = leak(Log(Mutex::new(Vec::new())));
    let (_, mut s, recs, (ch, sh)) = real_exchange_with(&KEY, Some(log));
    let master = log.0.lock().unwrap().clone();
    assert_eq!(master.len(), 48);
    let (client, _) = write_keys(&master, &ch, &sh);
    let fin = &recs[2].raw;
    let plain = open(&client, fin).unwrap();
    assert_eq!(plain.len(), 12 + 12);
    assert_eq!(
        &plain[..12],
        &message(HandshakeType::FINISHED, 3, &plain[12..])[..12]
    );
    // The forgery machinery re-makes the genuine record byte for byte.
    assert_eq!(&seal(&client, HANDSHAKE, 0, &plain), fin);
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    for i in [12usize, 17, 23] {
        let mut bad = plain.clone();
        bad[i] ^= 0x80;
        let mut s2 = {
            let (_, mut s2, r2, _) = real_exchange_with(&KEY, None);
            assert_eq!(r2[2].raw, *fin, "deterministic: the same handshake");
            assert_eq!(outcome(&mut s2, &dgram(&r2[..2])), Outcome::Quiet);
            s2
        };
        assert_eq!(
            outcome(&mut s2, &seal(&client, HANDSHAKE, 0, &bad)),
            Outcome::Fatal(A::DECRYPT_ERROR),
            "verify_data byte {i}"
        );
        assert_eq!(
            s2.error(),
            Some(PeerMisbehaved::DecryptError("the client's Finished").into())
        );
    }
    // A Finished of 11 bytes in a valid record: verify_data is not length-checked by the
    // parser, the comparison fails: decrypt_error. Another message type in epoch 1:
    // unexpected_message.
    let short = message(HandshakeType::FINISHED, 3, &plain[12..23]);
    assert_eq!(
        outcome(&mut s, &seal(&client, HANDSHAKE, 0, &short)),
        Outcome::Fatal(A::DECRYPT_ERROR)
    );
    let (_, mut s3, r3, _) = real_exchange_with(&KEY, None);
    assert_eq!(outcome(&mut s3, &dgram(&r3[..2])), Outcome::Quiet);
    let other = message(HandshakeType::CLIENT_KEY_EXCHANGE, 3, &[0, 0]);
    assert_eq!(
        outcome(&mut s3, &seal(&client, HANDSHAKE, 0, &other)),
        Outcome::Fatal(A::UNEXPECTED_MESSAGE)
    );
}

// ----------------------------------------------------------------------------- epochs, replays

#[test]
fn records_of_other_epochs_and_early_ccs_are_dropped() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    let cke_msg = recs[0].body.clone();
    // Epoch 1 has no keys yet (a garbage "ciphertext"); epochs 2 and 0xffff do not exist.
    for epoch in [1u16, 2, 0xffff] {
        assert_eq!(
            outcome(&mut s, &record(HANDSHAKE, epoch, 2, &cke_msg)),
            Outcome::Quiet,
            "epoch {epoch}"
        );
        assert_eq!(
            outcome(&mut s, &record(APP, epoch, 3, &[0; 32])),
            Outcome::Quiet,
            "application data, epoch {epoch}"
        );
    }
    // A change_cipher_spec before the key exchange: dropped (reordered), twice; one with a
    // bad body; an alert record with a bad length.
    assert_eq!(outcome(&mut s, &record(CCS, 0, 7, &[1])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(CCS, 0, 8, &[1])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(CCS, 0, 9, &[2])), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &record(ALERT, 0, 10, &[2])), Outcome::Quiet);
    // Application data in the clear before the handshake: dropped.
    assert_eq!(
        outcome(&mut s, &record(APP, 0, 11, b"hello")),
        Outcome::Quiet
    );
    // No state change: the genuine flight (its record numbers 2..4 still fresh) connects.
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    for d in sent(&mut s) {
        client_feed(&mut c, &d, T0 + 30).unwrap();
    }
    // After the handshake: epoch-0 application data is still dropped, epoch-1 is read.
    assert_eq!(
        outcome(&mut s, &record(APP, 0, 12, b"clear")),
        Outcome::Quiet
    );
    assert!(!s.has_app_data());
}

#[test]
fn before_any_hello_non_hello_records_are_dropped() {
    for d in [
        // Record number 0: the hello's 1 stays fresh.
        record(APP, 0, 0, b"early"),
        record(APP, 1, 1, &[0; 40]),
        record(CCS, 0, 0, &[1]),
        record(ALERT, 0, 0, &[1]),
        record(HANDSHAKE, 1, 1, &hello()[13..]),
        record(HANDSHAKE, 2, 1, &hello()[13..]),
    ] {
        let mut s = server();
        assert_eq!(outcome(&mut s, &d), Outcome::Quiet, "{:?}", &d[..5]);
        // and the hello still works.
        assert_eq!(outcome(&mut s, &hello()), Outcome::Sent(1));
        assert_eq!(verdict(&d), Ok(HelloVerdict::Drop));
    }
}

#[test]
fn duplicated_and_replayed_datagrams_are_dropped() {
    // The same hello datagram twice (same record number): the replay window drops it, no
    // flight resent.
    let mut s = after_hello();
    assert_eq!(outcome(&mut s, &hello()), Outcome::Quiet);
    let (_, mut s, recs) = real_exchange(&KEY);
    // The hello and the ClientKeyExchange twice in one datagram.
    let mut both = recs[0].raw.clone();
    both.extend(recs[0].raw.clone());
    assert_eq!(outcome(&mut s, &both), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[0].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[1].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &recs[2].raw), Outcome::Sent(1));
    assert_eq!(s.status(), Status::Connected);
    // The Finished replayed (same record number): dropped, the server's last flight is not
    // sent again.
    assert_eq!(outcome(&mut s, &recs[2].raw), Outcome::Quiet);
    assert_eq!(outcome(&mut s, &dgram(&recs)), Outcome::Quiet);
    assert_eq!(s.status(), Status::Connected);
}

// ----------------------------------------------------------------------------- the timer

#[test]
fn the_servers_flight_is_retransmitted_with_doubling_then_times_out() {
    let mut s = server();
    feed_at(&mut s, &hello(), T0).unwrap();
    let first = sent(&mut s);
    check_server_flight(&first);
    let msgs =
        |o: &[Vec<u8>]| -> Vec<Vec<u8>> { all_records(o).into_iter().map(|r| r.body).collect() };
    let mut last_seq = 2;
    let at = [1, 3, 7, 15, 31, 63, 123];
    for (i, secs) in at.iter().enumerate() {
        let due = T0 + secs * 1000;
        assert_eq!(s.next_timeout(), Some(due), "retransmission {}", i + 1);
        s.handle_timeout(UnixTime::from_millis(due - 1)).unwrap();
        assert!(sent(&mut s).is_empty(), "nothing before the deadline");
        s.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let again = sent(&mut s);
        check_server_flight(&again);
        assert_eq!(msgs(&again), msgs(&first), "the same messages");
        let seqs: Vec<u64> = all_records(&again).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [last_seq + 1, last_seq + 2], "fresh record numbers");
        last_seq += 2;
        assert_eq!(s.retransmissions(), i as u32 + 1);
    }
    let e = s.handle_timeout(UnixTime::from_millis(T0 + 183_000));
    assert_eq!(e, Err(Error::HandshakeTimeout { retransmissions: 7 }));
    assert_eq!(s.status(), Status::Failed);
    assert!(sent(&mut s).is_empty(), "no alert for a timeout");
    assert_eq!(s.next_timeout(), None);
}

#[test]
fn a_retransmitted_client_hello_brings_the_flight_at_once() {
    let mut s = server();
    feed_at(&mut s, &hello(), T0).unwrap();
    let first = sent(&mut s);
    // The client's hello again with a new record number (its retransmission): the server's
    // flight is resent now, not at the timer, which is not restarted.
    let mut again = hello();
    put(&mut again, 5, 6, 2);
    assert_eq!(outcome_at(&mut s, &again, T0 + 500), Outcome::Sent(1));
    assert_eq!(s.next_timeout(), Some(T0 + 1000));
    // The same datagram again: the replay window drops it.
    assert_eq!(outcome_at(&mut s, &again, T0 + 600), Outcome::Quiet);
    // The timer still fires at 1 s.
    s.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    let t = sent(&mut s);
    check_server_flight(&t);
    assert_eq!(all_records(&t)[0].body, all_records(&first)[0].body);
}

#[test]
fn the_client_finished_again_brings_the_servers_last_flight_again() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    feed_at(&mut s, &dgram(&recs), T0 + 30).unwrap();
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.next_timeout(), None, "no timer on the last flight");
    // The server's CCS and Finished are lost; the client's timer fires and it sends its
    // whole flight again under new record numbers.
    let lost = sent(&mut s);
    assert!(!lost.is_empty());
    let due = c
        .next_timeout()
        .expect("the client waits for the server's Finished");
    c.handle_timeout(UnixTime::from_millis(due)).unwrap();
    let again = all_records(&sent(&mut c));
    let seqs: Vec<(u16, u64)> = again.iter().map(|r| (r.epoch, r.seq)).collect();
    assert_eq!(seqs, [(0, 4), (0, 5), (1, 1)], "new record numbers");
    let out = {
        feed_at(&mut s, &dgram(&again), due + 5).unwrap();
        sent(&mut s)
    };
    let kinds: Vec<(u8, u16)> = all_records(&out).iter().map(|r| (r.ct, r.epoch)).collect();
    assert_eq!(
        kinds,
        [(CCS, 0), (HANDSHAKE, 1)],
        "the server's CCS and Finished again"
    );
    assert_eq!(s.status(), Status::Connected);
    assert_eq!(s.next_timeout(), None, "still no timer on the last flight");
    // The same datagram again is a replay: nothing.
    assert_eq!(outcome_at(&mut s, &dgram(&again), due + 6), Outcome::Quiet);
    // That flight completes the client.
    for d in &out {
        client_feed(&mut c, d, due + 8).unwrap();
    }
    assert_eq!(c.status(), Status::Connected);
}

/// Each of the client's retransmissions of its final flight (1 s, 3 s, 7 s apart) brings
/// the server's CCS and Finished again (RFC 6347 4.2.4), not only the first.
#[test]
fn each_client_retransmission_brings_the_servers_last_flight_again() {
    let (mut c, mut s, recs) = real_exchange(&KEY);
    feed_at(&mut s, &dgram(&recs), T0 + 30).unwrap();
    assert!(!sent(&mut s).is_empty()); // lost
    for i in 0..3 {
        let due = c
            .next_timeout()
            .expect("the client waits for the server's Finished");
        c.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let again = sent(&mut c);
        assert_eq!(
            outcome_at(&mut s, &dgram(&all_records(&again)), due + 1),
            Outcome::Sent(1),
            "client retransmission {}: the server's CCS and Finished again",
            i + 1
        );
    }
}

// ----------------------------------------------------------------------------- engine bugs

/// The server used to take the client's Finished from whatever record carried it: after
/// the client's change_cipher_spec, an epoch-0 plaintext record with the right Finished
/// completed the handshake. RFC 5246 7.4.9 / RFC 6347 4.1: the Finished is the first
/// message protected under the new keys; a plaintext one is unexpected_message, so the
/// Finished proves the client holds the epoch-1 keys.
#[test]
fn a_plaintext_finished_after_the_ccs_does_not_complete_the_handshake() {
    // After the client's CCS its Finished must come in epoch 1 (RFC 5246 7.4.9, RFC 6347
    // 4.1): the genuine Finished message, in the clear as epoch 0, must not complete it.
    let log: &'static Log = leak(Log(Mutex::new(Vec::new())));
    let (_, mut s, recs, (ch, sh)) = real_exchange_with(&KEY, Some(log));
    let master = log.0.lock().unwrap().clone();
    let (client, _) = write_keys(&master, &ch, &sh);
    let plain = open(&client, &recs[2].raw).unwrap();
    assert_eq!(outcome(&mut s, &dgram(&recs[..2])), Outcome::Quiet);
    let o = outcome(&mut s, &record(HANDSHAKE, 0, 4, &plain));
    assert_ne!(
        s.status(),
        Status::Connected,
        "a plaintext Finished completed the handshake ({o:?})"
    );
}
