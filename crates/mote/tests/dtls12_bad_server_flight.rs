//! mote's DTLS 1.2 client against a scripted fake server, in-process and without sockets:
//! the server's flight (built by hand with mote-wire's emitters) replayed, reordered,
//! fragmented, or never answered. Epoch 0 is plaintext, so no cryptography is needed to
//! take the client to its second flight.
//!
//! Cases: records of wrong epochs; duplicates and replays; fragments reordered, overlapping
//! or out of bounds; the retransmission timer on a simulated clock. The messages' lengths
//! and refusals are in dtls12_bad_server_hello.rs.

mod common;

// The records, messages, length fields and outcomes of the script; the client, the
// server's flight and the outcomes of the scripted server.
use common::dtls_script::*;
use common::scripted_server::*;
use mote::{Error, PeerMisbehaved, RetransmitConfig, Status, UnixTime};
use mote_wire::{AlertDescription as A, HandshakeType};

// ----------------------------------------------------------------------------- epochs, replays

#[test]
fn records_of_other_epochs_are_dropped() {
    let mut c = after_hvr();
    let sh = message(HandshakeType::SERVER_HELLO, 1, &Sh::good().body());
    // Epoch 2 and 0xffff do not exist; epoch 1 has no keys yet (a garbage "ciphertext").
    for epoch in [2u16, 0xffff, 1] {
        assert_eq!(
            outcome(&mut c, &record(HANDSHAKE, epoch, 1, &sh)),
            Outcome::Quiet,
            "{epoch}"
        );
    }
    let bogus_alert = record(ALERT, 1, 7, &[0u8; 8 + 2 + 8]);
    assert_eq!(outcome(&mut c, &bogus_alert), Outcome::Quiet);
    let bogus_ccs = record(CCS, 1, 8, &[1]);
    assert_eq!(outcome(&mut c, &bogus_ccs), Outcome::Quiet);
    // A change_cipher_spec in epoch 0 before any keys: dropped as a reordered one would be.
    assert_eq!(outcome(&mut c, &record(CCS, 0, 9, &[1])), Outcome::Quiet);
    // The real ServerHello still works after all that (the window took none of them).
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &shd_dgram()), Outcome::Sent(1));
    // And after the keys exist, an epoch-1 record that does not authenticate: dropped.
    assert_eq!(
        outcome(&mut c, &record(HANDSHAKE, 1, 0, &[0u8; 40])),
        Outcome::Quiet
    );
    assert_eq!(c.status(), Status::Handshaking);
}

#[test]
fn duplicates_and_replays() {
    // The same HelloVerifyRequest datagram twice: the replay window drops the second.
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Quiet);
    // The same ServerHello datagram twice, then the ServerHelloDone twice.
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    let mut both = shd_dgram();
    both.extend(shd_dgram());
    let out = {
        feed(&mut c, &both).unwrap();
        sent(&mut c)
    };
    check_second_flight(&out);
    assert_eq!(outcome(&mut c, &shd_dgram()), Outcome::Quiet);
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Quiet);
    // A record sequence number far below the window is dropped too; one inside the window
    // but not yet seen, carrying an old message, is a retransmission (below).
    assert_eq!(c.status(), Status::Handshaking);
}

#[test]
fn a_retransmitted_server_flight_brings_ours_again() {
    // The server's whole flight again, under new record numbers: the client's second flight
    // was lost, so it goes out again at once (RFC 6347 4.2.4), with new record numbers.
    let mut c = after_sh();
    feed(&mut c, &shd_dgram()).unwrap();
    let first = sent(&mut c);
    check_second_flight(&first);
    let again = |seq: u64, m: Vec<u8>| record(HANDSHAKE, 0, seq, &m);
    let mut d = again(
        10,
        message(HandshakeType::SERVER_HELLO, 1, &Sh::good().body()),
    );
    d.extend(again(11, message(HandshakeType::SERVER_HELLO_DONE, 2, &[])));
    feed(&mut c, &d).unwrap();
    let second = sent(&mut c);
    check_second_flight(&second);
    let seqs = |o: &[Vec<u8>]| -> Vec<(u16, u64)> {
        o.iter()
            .flat_map(|d| records(d))
            .map(|r| (r.epoch, r.seq))
            .collect()
    };
    assert_eq!(seqs(&first), [(0, 2), (0, 3), (1, 0)]);
    assert_eq!(seqs(&second), [(0, 4), (0, 5), (1, 1)]);
    assert_eq!(c.status(), Status::Handshaking);
}

// ----------------------------------------------------------------------------- fragments

fn sh_fragment_record(rec_seq: u64, offset: usize, part: &[u8], total: usize) -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        rec_seq,
        &fragment(HandshakeType::SERVER_HELLO, 1, total, offset, part),
    )
}

#[test]
fn server_hello_in_three_fragments_delivered_3_1_2() {
    let body = Sh::good().body();
    let n = body.len();
    let (a, b) = (n / 3, 2 * n / 3);
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(3, b, &body[b..], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &body[..a], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, None, "not whole yet");
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, a, &body[a..b], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    assert_eq!(outcome(&mut c, &shd), Outcome::Sent(1));
    // The three in one datagram, same order.
    let mut c = after_hvr();
    let mut d = sh_fragment_record(3, b, &body[b..], n);
    d.extend(sh_fragment_record(1, 0, &body[..a], n));
    d.extend(sh_fragment_record(2, a, &body[a..b], n));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    d.extend(shd);
    assert_eq!(outcome(&mut c, &d), Outcome::Sent(1));
    // Fragments of the ServerHelloDone arriving before the ServerHello is whole are
    // dropped (only the next message is reassembled) and come with the retransmission.
    let mut c = after_hvr();
    let mut d = sh_fragment_record(1, 0, &body[..a], n);
    d.extend(shd_dgram());
    assert_eq!(outcome(&mut c, &d), Outcome::Quiet);
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(3, a, &body[a..], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
    let mut shd = shd_dgram();
    put(&mut shd, 10, 1, 4);
    assert_eq!(outcome(&mut c, &shd), Outcome::Sent(1));
}

#[test]
fn fragments_out_of_bounds_or_contradicting() {
    let body = Sh::good().body();
    let n = body.len();
    // fragment_length beyond the message total: the header does not parse.
    let mut m = fragment(HandshakeType::SERVER_HELLO, 1, n, 0, &body);
    put(&mut m, 1, 3, (n - 1) as u64);
    assert_eq!(
        outcome(&mut after_hvr(), &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::DECODE_ERROR)
    );
    // Offset plus length beyond the total.
    let m = fragment(HandshakeType::SERVER_HELLO, 1, n, 10, &body);
    assert_eq!(
        outcome(&mut after_hvr(), &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::DECODE_ERROR)
    );
    // A message total over the reassembly buffer (2048 here): Error::Capacity,
    // internal_error, even though it is the peer's doing.
    let m = fragment(HandshakeType::SERVER_HELLO, 1, 4000, 0, &body);
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &record(HANDSHAKE, 0, 1, &m)),
        Outcome::Fatal(A::INTERNAL_ERROR)
    );
    assert!(matches!(
        c.error(),
        Some(Error::Capacity { needed: 4000, .. })
    ));
    // Two fragments of message 1 that disagree on its total, or on its type:
    // illegal_parameter.
    let inconsistent: Error = PeerMisbehaved::IllegalParameter("handshake fragment").into();
    let mut c = after_hvr();
    let first = sh_fragment_record(1, 0, &body[..10], n);
    assert_eq!(outcome(&mut c, &first), Outcome::Quiet);
    let longer = sh_fragment_record(2, 10, &body[10..], n + 1);
    assert_eq!(
        outcome(&mut c, &longer),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(c.error(), Some(inconsistent));
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &first), Outcome::Quiet);
    let other = fragment(HandshakeType::CERTIFICATE, 1, n, 10, &body[10..]);
    let other = record(HANDSHAKE, 0, 2, &other);
    assert_eq!(
        outcome(&mut c, &other),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(c.error(), Some(inconsistent));
    // More holes than the assembler tracks (MAX_RANGES = 8): the ninth fragment is
    // dropped, and the message still completes when the rest comes.
    let mut c = after_hvr();
    for i in 0..9u64 {
        let at = 2 + 5 * i as usize;
        let f = sh_fragment_record(1 + i, at, &body[at..at + 1], n);
        assert_eq!(outcome(&mut c, &f), Outcome::Quiet, "fragment {i}");
    }
    assert_eq!(c.negotiated().suite, None);
    let whole = sh_fragment_record(10, 0, &body, n);
    assert_eq!(outcome(&mut c, &whole), Outcome::Quiet);
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
}

#[test]
fn overlapping_fragments_with_different_content_last_write_wins() {
    // The first fragment says TLS_PSK_WITH_AES_128_CCM_8 (bytes 35..37 of the body), an
    // overlapping later one says TLS_PSK_WITH_AES_128_GCM_SHA256 there. No consistency
    // check is made: the later bytes are kept, and the client refuses that suite.
    let body = Sh::good().body();
    let n = body.len();
    let mut other = body.clone();
    other[35..37].copy_from_slice(&PSK_GCM.0.to_be_bytes());
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &body[..40], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, 30, &other[30..], n)),
        Outcome::Fatal(A::ILLEGAL_PARAMETER)
    );
    assert_eq!(
        c.error(),
        Some(PeerMisbehaved::IllegalParameter("cipher_suite").into())
    );
    // The other way round, the good suite written last wins and the handshake goes on.
    let mut c = after_hvr();
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(1, 0, &other[..40], n)),
        Outcome::Quiet
    );
    assert_eq!(
        outcome(&mut c, &sh_fragment_record(2, 30, &body[30..], n)),
        Outcome::Quiet
    );
    assert_eq!(c.negotiated().suite, Some(PSK_CCM_8));
}

// ----------------------------------------------------------------------------- the timer

/// The ClientHello in `out` (one datagram, one record): its record seq and message.
fn client_hello(out: &[Vec<u8>]) -> (u64, (u8, u16, u32, u32, Vec<u8>)) {
    assert_eq!(out.len(), 1, "one datagram");
    let r = records(&out[0]);
    assert_eq!(r.len(), 1);
    let h = hs_of(&r[0]);
    assert_eq!(h.0, HandshakeType::CLIENT_HELLO.0);
    (r[0].seq, h)
}

#[test]
fn unanswered_client_hello_is_retransmitted_with_doubling_then_times_out() {
    let mut c = client();
    let (seq0, first) = client_hello(&sent(&mut c));
    assert_eq!(seq0, 0);
    // RFC 6347 4.2.4: 1 s, doubling, up to the 60 s ceiling; seven retransmissions
    // (RetransmitConfig::new()), then Error::HandshakeTimeout without an alert.
    let at = [1, 3, 7, 15, 31, 63, 123];
    for (i, s) in at.iter().enumerate() {
        let due = T0 + s * 1000;
        assert_eq!(c.next_timeout(), Some(due), "retransmission {}", i + 1);
        c.handle_timeout(UnixTime::from_millis(due - 1)).unwrap();
        assert!(sent(&mut c).is_empty(), "nothing before the deadline");
        c.handle_timeout(UnixTime::from_millis(due)).unwrap();
        let (seq, again) = client_hello(&sent(&mut c));
        assert_eq!(seq, i as u64 + 1, "a fresh record number");
        assert_eq!(again, first, "the same ClientHello");
        assert_eq!(c.negotiated().retransmissions, i as u32 + 1);
    }
    assert_eq!(c.next_timeout(), Some(T0 + 183_000));
    let e = c.handle_timeout(UnixTime::from_millis(T0 + 183_000));
    assert_eq!(e, Err(Error::HandshakeTimeout { retransmissions: 7 }));
    assert_eq!(c.status(), Status::Failed);
    assert_eq!(
        c.error(),
        Some(Error::HandshakeTimeout { retransmissions: 7 })
    );
    assert!(sent(&mut c).is_empty(), "no alert for a timeout");
    assert_eq!(c.next_timeout(), None);
}

#[test]
fn a_late_timeout_retransmits_once_and_a_small_limit_gives_up_sooner() {
    let mut cfg = config();
    cfg.retransmit = RetransmitConfig {
        initial_ms: 500,
        backoff: 2,
        max_ms: 1500,
        max_retransmissions: 2,
    };
    let mut c = client_with(cfg);
    sent(&mut c);
    // Called long after the deadline: one retransmission, the next timer from now.
    c.handle_timeout(UnixTime::from_millis(T0 + 10_000))
        .unwrap();
    assert_eq!(sent(&mut c).len(), 1);
    assert_eq!(c.next_timeout(), Some(T0 + 11_000));
    c.handle_timeout(UnixTime::from_millis(T0 + 11_000))
        .unwrap();
    assert_eq!(sent(&mut c).len(), 1);
    assert_eq!(c.next_timeout(), Some(T0 + 12_500), "capped at max_ms");
    assert_eq!(
        c.handle_timeout(UnixTime::from_millis(T0 + 12_500)),
        Err(Error::HandshakeTimeout { retransmissions: 2 })
    );
}

#[test]
fn a_resent_hello_verify_request_brings_the_second_client_hello_at_once() {
    let mut c = after_hvr();
    let (_, ch2) = after_hvr_quiet();
    // The server lost our second ClientHello and, stateless, answers the first one again
    // (its retransmission) with a new record number: the client resends at once, without
    // waiting for its timer.
    let mut again = hvr_dgram();
    put(&mut again, 5, 6, 5);
    let before = c.next_timeout();
    feed(&mut c, &again).unwrap();
    let out = sent(&mut c);
    let (seq, h) = client_hello(&out);
    assert_eq!(seq, 2);
    assert_eq!(h, ch2, "the same second ClientHello");
    assert_eq!(c.next_timeout(), before, "the timer is not restarted");
    // A HelloVerifyRequest with a different cookie, as message 0 again: still only a
    // retransmission (message_seq 0 is handled), so the old cookie is sent.
    let other = record(
        HANDSHAKE,
        0,
        6,
        &message(
            HandshakeType::HELLO_VERIFY_REQUEST,
            0,
            &hvr_body(b"another"),
        ),
    );
    // Early resends are limited to one per timer period, so a burst of retransmissions
    // from the peer cannot start a storm: this one is not answered before the timer.
    feed(&mut c, &other).unwrap();
    assert!(sent(&mut c).is_empty());
    let t = c.next_timeout().unwrap();
    c.handle_timeout(UnixTime::from_millis(t)).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    assert_eq!(h, ch2);
    // The same datagram again (same record number): the replay window drops it.
    feed(&mut c, &other).unwrap();
    assert!(sent(&mut c).is_empty());
}

/// A client after the HelloVerifyRequest, and its second ClientHello's message.
fn after_hvr_quiet() -> (C, (u8, u16, u32, u32, Vec<u8>)) {
    let mut c = fresh();
    feed(&mut c, &hvr_dgram()).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    (c, h)
}

#[test]
fn the_timer_is_restarted_by_the_hello_verify_request_and_kept_until_the_server_flight_is_whole() {
    let mut c = fresh();
    c.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    sent(&mut c);
    assert_eq!(c.next_timeout(), Some(T0 + 3000));
    feed_at(&mut c, &hvr_dgram(), T0 + 2000).unwrap();
    sent(&mut c);
    // A new flight: the initial timeout again, from the HelloVerifyRequest's arrival.
    assert_eq!(c.next_timeout(), Some(T0 + 3000));
    c.handle_timeout(UnixTime::from_millis(T0 + 3000)).unwrap();
    let (seq, h) = client_hello(&sent(&mut c));
    assert_eq!((seq, h.1), (3, 1), "ClientHello 1 again, record 3");
    assert_eq!(c.next_timeout(), Some(T0 + 5000));
    feed_at(&mut c, &sh_dgram(), T0 + 4000).unwrap();
    // The ServerHello alone does not stop the timer: if the rest of the server's flight is
    // lost, the hello goes again and the server answers with its whole flight.
    assert_eq!(c.next_timeout(), Some(T0 + 5000));
    c.handle_timeout(UnixTime::from_millis(T0 + 5000)).unwrap();
    let (_, h) = client_hello(&sent(&mut c));
    assert_eq!(h.1, 1, "the second ClientHello again");
    feed_at(&mut c, &shd_dgram(), T0 + 70_000).unwrap();
    sent(&mut c);
    assert_eq!(c.next_timeout(), Some(T0 + 71_000));
    c.handle_timeout(UnixTime::from_millis(T0 + 71_000))
        .unwrap();
    check_second_flight(&sent(&mut c));
}

// ----------------------------------------------------------------------------- engine bugs

/// Found by the `dtls_client_engine` fuzz target: a close_notify during the handshake ends
/// it, and the retransmission timer with it.
#[test]
fn a_close_notify_during_the_handshake_stops_the_timer() {
    let mut c = fresh();
    feed(&mut c, &record(ALERT, 0, 0, &[1, 0])).unwrap();
    assert_eq!(c.status(), Status::Closed);
    assert_eq!(c.next_timeout(), None);
    c.handle_timeout(UnixTime::from_millis(T0 + 1000)).unwrap();
    assert!(sent(&mut c).is_empty());
}
