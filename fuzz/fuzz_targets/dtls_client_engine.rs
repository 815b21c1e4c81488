//! The DTLS 1.2 client engine driven by arbitrary server datagrams, interleaved with
//! timeouts on a simulated clock. The client is configured for PSK (TLS_PSK_WITH_AES_128_CCM_8)
//! and ECDHE_PSK (TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256) with a deterministic RNG, so a
//! seed made of a HelloVerifyRequest, a ServerHello and a ServerHelloDone (epoch 0 is
//! plaintext) reaches the client's second flight, and mutations of it test every check on
//! the way.
//!
//! Input: the first byte picks the setup (bit 0: a 256-byte MTU instead of 1200, so the
//! flight is cut into several datagrams; bit 1: a connection ID is asked for; bits 2-3: the
//! retransmission limit). Then operations: an operation byte whose low two bits are 0 is a
//! timeout (the next byte times 100 ms later); otherwise two bytes of length follow and a
//! datagram of that many bytes (or what is left).
//!
//! Oracles: no panic (libFuzzer catches it); no datagram is larger than the MTU; a failed
//! client says why and stops its timer, and after Failed or Closed at most the one alert it
//! owes goes out; a client that reports Connected has negotiated a suite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, RetransmitConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_fuzz::dtls_engine::{run, send_queued, Counter, START_MS};
use mote_fuzz::input::Input;
use mote_wire::{CipherSuite, NamedGroup};

const SUITES: [CipherSuite; 2] = [CipherSuite(0xc0a8), CipherSuite(0xd005)];
const GROUPS: [NamedGroup; 2] = [NamedGroup::X25519, NamedGroup::SECP256R1];

/// Sends everything the client has; checks the MTU and that a client that ended sends
/// nothing after the drain in which it ended. In that drain the alert it owes comes first.
///
/// Known engine bug (see tests/dtls12_bad_server_hello.rs,
/// `a_failed_client_sends_nothing_after_its_alert`): a flight queued in the same datagram
/// that failed (a HelloVerifyRequest followed by a bad ServerHello) still goes out after the
/// fatal alert, so this drain only checks the alert comes first. Once fixed, require
/// `sent <= 1` there. Second known bug (tests/dtls12_bad_server_flight.rs,
/// `a_close_notify_during_the_handshake_stops_the_timer`):
/// a close_notify during the handshake leaves the timer running, so a Closed client still
/// retransmits on `handle_timeout`; Closed clients are exempt from the later-drain check
/// until that is fixed.
fn drain(c: &mut DtlsClient<'_, '_, RustCrypto>, mtu: usize, ended: &mut bool) {
    let ending = matches!(c.status(), Status::Failed | Status::Closed);
    let (sent, _) = send_queued(c, mtu, *ended);
    if ending {
        let closed = c.status() == Status::Closed;
        assert!(
            closed || !*ended || sent == 0,
            "{sent} datagrams from a client that had ended ({:?}, {:?})",
            c.status(),
            c.error()
        );
        *ended = true;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let Some(setup) = inp.byte() else { return };
    let key = [7u8; 16];
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = &SUITES;
    cfg.groups = &GROUPS;
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-1",
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.mtu = if setup & 1 != 0 { 256 } else { 1200 };
    if setup & 2 != 0 {
        cfg.connection_id = Some(&[0xc1, 0xd0]);
    }
    cfg.retransmit = RetransmitConfig {
        initial_ms: 1000,
        backoff: 2,
        max_ms: 60_000,
        max_retransmissions: (setup >> 2) & 3,
    };
    let mtu = usize::from(cfg.mtu);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let Ok(mut c) = DtlsClient::new(
        RustCrypto,
        &cfg,
        &mut Counter(0),
        UnixTime::from_millis(START_MS),
        &mut rx,
        2048,
        &mut tx,
    ) else {
        return;
    };
    let mut ended = false;
    drain(&mut c, mtu, &mut ended);
    run(&mut c, &mut inp, |_| {}, |c| drain(c, mtu, &mut ended));
});
