//! mote's DTLS 1.2 client and server over a simulated lossy link, on a virtual clock: no
//! sockets and no sleeping, every run reproducible from its seed (after quinn-proto's
//! `tests/util.rs` pair and smoltcp's netsim).
//!
//! The link, the event loop and the application (numbered readings, acked) are in
//! `common::netsim`; the credentials and configurations in `common::netsim::fixtures`.

mod common;

use common::netsim::fixtures::*;
use common::netsim::*;
use mote::dtls::{verify_client_hello, HelloVerdict, COOKIE_LEN};
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, Error, RetransmitConfig,
    ServerIdentity, Status, UnixTime,
};
use mote_crypto::rustcrypto::RustCrypto;
use std::collections::HashSet;

// ---------------------------------------------------------------------------------------
// The tests.

const SEEDS: u64 = 50;

#[test]
fn handshake_and_readings_under_30_percent_loss_reordering_duplication_mtu_256() {
    let psks = psks();
    let pki = pki(false);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let budget = timeout_budget_ms(RetransmitConfig::new());
    let seeds = env("MOTE_LOSSY_SEEDS", SEEDS);
    let mut failures = Vec::new();
    let mut timeouts = Vec::new();
    for suite in [PSK_CCM_8, ECDHE_ECDSA_CCM_8] {
        let suites = [suite];
        let mut c = DtlsClientConfig::new();
        c.cipher_suites = &suites;
        c.mtu = 256;
        let mut s = DtlsServerConfig::new();
        s.cipher_suites = &suites;
        s.mtu = 256;
        if suite == PSK_CCM_8 {
            c.psk = Some(psks[0]);
            s.psks = &psks;
        } else {
            c.server_auth = Some(mote_x509::ServerAuth::Chain {
                anchors: &anchors,
                name: mote_x509::ServerName::parse("sensor.example"),
            });
            s.identity = Some(ServerIdentity {
                chain: &chain,
                signer: &pki.signer,
            });
        }
        let what = format!("{suite:?}");
        let mut figs = Vec::new();
        // Independent dice for the two suites.
        let first = if suite == PSK_CCM_8 { 0 } else { 1_000 };
        for seed in first..first + seeds {
            match lossy_run(&c, &s, lossy(256), seed, &what) {
                Ok(f) => figs.push(f),
                Err((Some(stop @ Stop::ClientFailed(Error::HandshakeTimeout { .. })), e)) => {
                    eprintln!("[{what}] seed {seed}: {stop:?}, every exchange of a flight lost");
                    timeouts.push(e)
                }
                Err((Some(Stop::ServerFailed(e)), r)) => {
                    failures.push(format!("server failed with {e:?}: {r}"))
                }
                Err((_, e)) => failures.push(e),
            }
        }
        if !figs.is_empty() {
            summarize(
                &format!("{what}, 30% loss, 10% dup, 20% reordered, MTU 256"),
                &figs,
            );
            assert!(figs.iter().all(|f| f.handshake_ms < budget));
        }
    }
    eprintln!(
        "budget to the client's HandshakeTimeout from one flight: {budget} ms \
         (last retransmission at {} ms)",
        last_retransmission_ms(RetransmitConfig::new())
    );
    // A deadlock, an error on either side, a handshake over the budget or a lost reading
    // fails the test outright.
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        2 * seeds,
        failures.join("\n")
    );
    // A client that gives up with HandshakeTimeout after 8 unanswered transmissions of one
    // flight is the schedule working as specified: at 30% loss each way a round trip fails
    // with p = 1 - 0.7 * 0.7 = 0.51, and all 8 of a flight with 0.51^8 = 0.5%, for each of
    // the handshake's three exchanges (the link's dice are the same for both suites, so
    // such a seed fails for both). Allowed at that rate, not more.
    eprintln!(
        "{} of {} handshakes ended in the client's HandshakeTimeout (each flight exchange about 0.5%)",
        timeouts.len(),
        2 * seeds
    );
    assert!(
        timeouts.len() as u64 * 100 <= 2 * seeds * 4,
        "too many handshake timeouts:\n{}",
        timeouts.join("\n")
    );
}

#[test]
fn duplicated_datagrams_are_read_once() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, Some(256));
    for seed in 0..10 {
        let mut link = LinkConfig::perfect(256);
        link.duplicate = 1.0;
        link.reorder = 0.3;
        link.reorder_ms = 50;
        let mut bufs = Bufs::new();
        let mut sim = Sim::new(&c, &s, &mut bufs, link, seed);
        if let Err(stop) = sim.handshake(60_000) {
            panic!("{}", sim.report("duplicating link: handshake", seed, &stop));
        }
        let hs_datagrams = sim.link.stats.sent;
        sim.readings = Some(Readings::new(20, 4));
        if let Err(stop) = sim.run_until(60_000, |s| {
            s.readings.as_ref().is_some_and(Readings::all_acked)
        }) {
            panic!("{}", sim.report("duplicating link: readings", seed, &stop));
        }
        // Let the last duplicates arrive.
        sim.run_until(2_000, |s| s.link.next_delivery().is_none())
            .unwrap();
        let r = sim.readings.as_ref().unwrap();
        // Nothing lost: every reading went once and every record arrived twice, yet each
        // was read once.
        assert_eq!(r.attempts, vec![1; 20], "seed {seed}");
        assert_eq!(sim.client_writes, 20);
        assert_eq!(
            sim.server_reads.len(),
            20,
            "seed {seed}: {:?}",
            sim.server_reads
        );
        assert_eq!(
            sim.server_reads.iter().collect::<HashSet<_>>().len(),
            20,
            "seed {seed}"
        );
        assert_eq!(sim.server_writes, 20);
        assert_eq!(
            sim.client_reads.len(),
            20,
            "seed {seed}: {:?}",
            sim.client_reads
        );
        assert_eq!(sim.link.stats.delivered[C2S], 2 * sim.link.stats.sent[C2S]);
        if seed == 0 {
            eprintln!(
                "every datagram duplicated: the handshake took {} ms, {} + {} datagrams \
                 sent (client, server; 3 + 3 without duplicates), retransmissions {}",
                sim.connected_at.unwrap() - sim.start,
                hs_datagrams[C2S],
                hs_datagrams[S2C],
                sim.retx_at_connect
            );
        }
    }
}

#[test]
fn replayed_record_is_dropped() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, None);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, LinkConfig::perfect(1500), 1);
    if let Err(stop) = sim.handshake(10_000) {
        panic!("{}", sim.report("replay: handshake", 1, &stop));
    }
    sim.run_until(1_000, |s| s.link.next_delivery().is_none())
        .unwrap();
    let now = UnixTime::from_millis(sim.now);
    let mut rng = XorShift::new(99);
    let capture = |c: &mut DtlsClient<'_, '_, RustCrypto>, m: &[u8]| -> Vec<u8> {
        assert_eq!(c.write(m).unwrap(), m.len());
        let d = c.transmit().to_vec();
        c.transmit_done();
        d
    };
    /// Delivers `d` to the server; what `read()` gave.
    fn feed(
        s: &mut DtlsServer<'_, '_, RustCrypto>,
        d: &[u8],
        now: UnixTime,
        rng: &mut XorShift,
    ) -> Vec<Vec<u8>> {
        s.recv_buf()[..d.len()].copy_from_slice(d);
        s.recv_datagram(d.len(), now, rng).unwrap();
        let mut out = Vec::new();
        let mut b = [0u8; 256];
        while s.has_app_data() {
            let n = s.read(&mut b);
            out.push(b[..n].to_vec());
        }
        out
    }
    let client = &mut sim.client;
    let server = sim.server.as_mut().unwrap();
    let d1 = capture(client, b"reading 1");
    assert_eq!(
        feed(server, &d1, now, &mut rng),
        vec![b"reading 1".to_vec()]
    );
    // The same datagram again, at once: dropped.
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // Newer records, then the first once more: still dropped.
    for i in 2..6 {
        let d = capture(client, format!("reading {i}").as_bytes());
        assert_eq!(feed(server, &d, now, &mut rng).len(), 1);
    }
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // A record held back behind 10 newer ones (reordering within the window) is read once.
    let late = capture(client, b"late");
    let newer: Vec<Vec<u8>> = (0..10)
        .map(|i| capture(client, format!("newer {i}").as_bytes()))
        .collect();
    for d in &newer {
        assert_eq!(feed(server, d, now, &mut rng).len(), 1);
    }
    assert_eq!(feed(server, &late, now, &mut rng), vec![b"late".to_vec()]);
    assert!(feed(server, &late, now, &mut rng).is_empty());
    // An old record after 100 newer ones (outside the 64-record window): dropped, whether
    // it was read before or never arrived.
    let seen = capture(client, b"old, seen");
    assert_eq!(feed(server, &seen, now, &mut rng).len(), 1);
    let unseen = capture(client, b"old, never delivered");
    for i in 0..100 {
        let d = capture(client, format!("n{i}").as_bytes());
        assert_eq!(feed(server, &d, now, &mut rng).len(), 1);
    }
    assert!(feed(server, &seen, now, &mut rng).is_empty());
    assert!(feed(server, &unseen, now, &mut rng).is_empty());
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // And the connection is unharmed: the next record is read.
    let d = capture(client, b"after");
    assert_eq!(feed(server, &d, now, &mut rng), vec![b"after".to_vec()]);
    assert_eq!(server.status(), Status::Connected);
    assert_eq!(server.error(), None);
}

#[test]
fn mtu_256_fragments_the_certificate_flight() {
    let pki = pki(true);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let chain_len: usize = chain.iter().map(|c| c.len()).sum();
    assert!(chain_len >= 550, "chain of {chain_len} bytes");
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let (c, s) = ecdsa_configs_256(&chain, &pki.signer, &anchors);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, LinkConfig::perfect(256), 7);
    if let Err(stop) = sim.handshake(10_000) {
        panic!("{}", sim.report("MTU 256 certificate flight", 7, &stop));
    }
    let st = sim.link.stats;
    assert_eq!(st.oversize, [0, 0], "{st:?}");
    assert!(st.largest[C2S] <= 256 && st.largest[S2C] <= 256, "{st:?}");
    assert_eq!(st.lost, [0, 0]);
    assert_eq!(sim.retx_at_connect, 0);
    // The server's flight (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone)
    // went out in pieces: HVR + at least ceil(chain / 256) datagrams, then CCS+Finished.
    assert!(
        st.sent[S2C] as usize >= chain_len.div_ceil(256) + 2,
        "{st:?}"
    );
    let hs_ms = sim.connected_at.unwrap() - sim.start;
    // One round trip for the cookie, two for the handshake: 6 one-way latencies.
    assert_eq!(hs_ms, 6 * 20);
    eprintln!(
        "MTU 256, chain of {chain_len} bytes ({} certificates): datagrams client {} server {} \
         (largest {} / {}), handshake {hs_ms} ms",
        chain.len(),
        st.sent[C2S],
        st.sent[S2C],
        st.largest[C2S],
        st.largest[S2C]
    );
    // Data both ways over the same link.
    sim.readings = Some(Readings::new(3, 3));
    sim.run_until(10_000, |s| {
        s.readings.as_ref().is_some_and(Readings::all_acked)
    })
    .unwrap();
    assert_eq!(sim.link.stats.oversize, [0, 0]);
}

#[test]
fn total_loss_ends_in_handshake_timeout() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, Some(256));
    let cfg = RetransmitConfig::new();
    assert_eq!(cfg.initial_ms, 1_000);
    assert_eq!(cfg.max_ms, 60_000);
    assert_eq!(cfg.max_retransmissions, 7);
    let mut link = LinkConfig::perfect(256);
    link.loss = [1.0, 1.0];
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, link, 3);
    let stop = sim.handshake(1_000_000).unwrap_err();
    let Stop::ClientFailed(e) = stop else {
        panic!("{}", sim.report("total loss", 3, &stop));
    };
    assert_eq!(e, Error::HandshakeTimeout { retransmissions: 7 });
    assert_eq!(sim.client.status(), Status::Failed);
    assert_eq!(sim.client.error(), Some(e));
    assert_eq!(sim.client.retransmissions(), 7);
    // The hello and its 7 retransmissions, at 0, 1, 3, 7, 15, 31, 63 and 123 s; the
    // timeout after the last one (60 s more) fails the handshake at 183 s.
    assert_eq!(sim.link.stats.sent, [8, 0]);
    assert_eq!(
        last_retransmission_ms(cfg),
        1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 32_000 + 60_000
    );
    assert_eq!(sim.elapsed(), timeout_budget_ms(cfg));
    assert_eq!(sim.elapsed(), 183_000);
    assert!(sim.server.is_none() && sim.hvrs == 0);
    // No alert for a timeout, and nothing more scheduled.
    assert!(sim.client.transmit().is_empty());
    assert_eq!(sim.client.next_timeout(), None);
    sim.client_error = None;
    assert!(matches!(sim.handshake(1_000_000), Err(Stop::Deadlock)));
    eprintln!(
        "total loss: HandshakeTimeout after {} ms virtual, {} retransmissions",
        183_000,
        sim.client.retransmissions()
    );
}

#[test]
fn client_hello_flood_keeps_no_server_state() {
    let psks = psks();
    let suites = [PSK_CCM_8];
    let mut c = DtlsClientConfig::new();
    c.cipher_suites = &suites;
    c.psk = Some(psks[0]);
    let now = UnixTime::from_millis(BASE_MS);
    let mut rng = XorShift::new(5);
    let mut crx = vec![0u8; 2000];
    let mut ctx = vec![0u8; 2000];
    let hvr_len = 13 + 12 + 2 + 1 + COOKIE_LEN;
    let mut cookies = HashSet::new();
    let mut accepted = 0;
    let mut hello_len = 0;
    for i in 0u32..10_000 {
        let addr = format!("10.{}.{}.{}:{}", i >> 16, (i >> 8) & 0xff, i & 0xff, 5684);
        let mut client =
            DtlsClient::new(RustCrypto, &c, &mut rng, now, &mut crx, 1000, &mut ctx).unwrap();
        let hello = client.transmit().to_vec();
        client.transmit_done();
        hello_len = hello.len();
        let mut out = [0u8; 128];
        let v = verify_client_hello(
            &RustCrypto,
            &SECRET,
            None,
            addr.as_bytes(),
            &hello,
            &mut out,
        );
        let n = match v {
            HelloVerdict::Verify(n) => n,
            HelloVerdict::Accept => {
                accepted += 1;
                continue;
            }
            HelloVerdict::Drop => panic!("hello {i} dropped"),
        };
        assert_eq!(n, hvr_len);
        // A HelloVerifyRequest (type 3) in the hello's record sequence number, with a
        // 16-byte cookie; smaller than the hello (no amplification).
        assert_eq!(out[0], 22);
        assert_eq!(&out[3..11], &hello[3..11]);
        assert_eq!(out[13], 3);
        assert_eq!(usize::from(out[13 + 12 + 2]), COOKIE_LEN);
        assert!(n < hello.len());
        cookies.insert(out[n - COOKIE_LEN..n].to_vec());
        if i % 1000 == 0 {
            // The hello with the cookie passes from that address only.
            client.recv_buf()[..n].copy_from_slice(&out[..n]);
            client.recv_datagram(n, now, &mut rng).unwrap();
            let second = client.transmit().to_vec();
            let mut o = [0u8; 128];
            assert_eq!(
                verify_client_hello(&RustCrypto, &SECRET, None, addr.as_bytes(), &second, &mut o),
                HelloVerdict::Accept
            );
            let other = format!("10.255.{}.1:5684", i % 250);
            assert_eq!(
                verify_client_hello(
                    &RustCrypto,
                    &SECRET,
                    None,
                    other.as_bytes(),
                    &second,
                    &mut o
                ),
                HelloVerdict::Verify(hvr_len)
            );
            // Another port of the same host is another address.
            let port = format!("10.{}.{}.{}:5685", i >> 16, (i >> 8) & 0xff, i & 0xff);
            assert_eq!(
                verify_client_hello(&RustCrypto, &SECRET, None, port.as_bytes(), &second, &mut o),
                HelloVerdict::Verify(hvr_len)
            );
            // A rotated secret still accepts it as the previous one, and no more after.
            let next = [8u8; 32];
            assert_eq!(
                verify_client_hello(
                    &RustCrypto,
                    &next,
                    Some(&SECRET),
                    addr.as_bytes(),
                    &second,
                    &mut o
                ),
                HelloVerdict::Accept
            );
            assert_eq!(
                verify_client_hello(&RustCrypto, &next, None, addr.as_bytes(), &second, &mut o),
                HelloVerdict::Verify(hvr_len)
            );
        }
    }
    // No connection made for any of them (the test's server side makes one on Accept
    // only), and every address got its own cookie.
    assert_eq!(accepted, 0);
    assert_eq!(cookies.len(), 10_000);
    eprintln!(
        "flood: 10000 hellos of {hello_len} bytes, each answered with a {hvr_len}-byte \
         HelloVerifyRequest, no state"
    );
}

/// Whether `d`'s first record is a Certificate fragment that does not start the message.
fn later_certificate_fragment(dir: usize, d: &[u8]) -> bool {
    dir == S2C
        && d.len() >= 25
        && d[0] == 22
        && d[3..5] == [0, 0]
        && d[13] == 11
        && d[19..22] != [0, 0, 0]
}

/// What [`lost_fragment`] saw.
struct LostFragment {
    end: Result<(), Stop>,
    /// Why the client failed, if it did.
    client_error: Option<Error>,
    client_retransmissions: u32,
    sent: [u32; 2],
    lost: [u32; 2],
    elapsed: u64,
    report: String,
}

/// The server's flight is cut into datagrams at MTU 256; the one with the Certificate's
/// second fragment never arrives (every other datagram does, at once). Runs until the
/// client leaves Handshaking or nothing is scheduled, letting the server give up.
fn lost_fragment() -> LostFragment {
    let pki = pki(false);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let (c, s) = ecdsa_configs_256(&chain, &pki.signer, &anchors);
    let mut link = LinkConfig::perfect(256);
    link.drop_if = Some(later_certificate_fragment);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, link, 11);
    let end = loop {
        match sim.run_until(1_000_000, |s| s.client.status() != Status::Handshaking) {
            // The server giving up is right; the client has to follow on its own.
            Err(Stop::ServerFailed(e)) => {
                assert!(matches!(e, Error::HandshakeTimeout { .. }), "{e:?}");
                sim.server_error = None;
                sim.log(format!("server gave up: {e:?}"));
            }
            other => break other,
        }
    };
    let report = match &end {
        Err(stop) => sim.report("rest of the server flight lost", 11, stop),
        Ok(()) => String::new(),
    };
    assert!(sim.link.stats.lost[S2C] > 0, "no scripted loss: {report}");
    LostFragment {
        end,
        client_error: sim.client.error(),
        client_retransmissions: sim.client.retransmissions(),
        sent: sim.link.stats.sent,
        lost: sim.link.stats.lost,
        elapsed: sim.elapsed(),
        report,
    }
}

/// With the rest of the server's flight lost for good, the server retransmits on its timer
/// and gives up after its 7th retransmission; the client, which got the ServerHello, must
/// go on retransmitting its ClientHello on its own timer and end in HandshakeTimeout, not
/// wait forever.
#[test]
fn client_times_out_when_the_rest_of_the_server_flight_never_arrives() {
    let r = lost_fragment();
    assert!(
        matches!(
            r.end,
            Err(Stop::ClientFailed(Error::HandshakeTimeout { .. }))
        ) || matches!(r.client_error, Some(Error::HandshakeTimeout { .. })),
        "{:?} after {} ms, sent {:?} lost {:?}: {}",
        r.end,
        r.elapsed,
        r.sent,
        r.lost,
        r.report
    );
    assert!(r.client_retransmissions > 0);
}

/// The same loss: while the client holds part of the server's flight, the server's
/// retransmission of that same flight must not make the client resend its ClientHello
/// (that is not the peer's previous flight), which makes the server resend its flight, and
/// so on. Within the server's 183 s schedule the exchange should stay near its 8
/// transmissions of a 3-datagram flight and the client's few answers.
#[test]
fn a_partly_received_flight_does_not_start_a_retransmission_storm() {
    let r = lost_fragment();
    eprintln!(
        "one fragment lost for good: datagrams sent {:?} (lost {:?}) in {} ms",
        r.sent, r.lost, r.elapsed
    );
    assert!(
        r.sent[C2S] + r.sent[S2C] <= 100,
        "{:?} datagrams sent: {}",
        r.sent,
        r.report
    );
}
