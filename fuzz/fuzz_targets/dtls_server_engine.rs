//! The DTLS 1.2 server engine driven by arbitrary client datagrams, interleaved with
//! timeouts on a simulated clock; each datagram also goes through `verify_client_hello`
//! (the stateless cookie check a server runs before any connection exists). The server has
//! a PSK ("sensor-1") and an ECDSA P-256 identity (a key from a fixed scalar, a fixed
//! opaque "certificate": the server never parses its own chain), a raw public key, and a
//! deterministic RNG, so a seed made of a ClientHello, a ClientKeyExchange and a
//! change_cipher_spec (epoch 0 is plaintext) reaches the wait for the client's Finished.
//!
//! Input: the first byte picks the setup (bit 0: a 256-byte MTU instead of 1200; bit 1: a
//! connection ID is granted; bits 2-3: the retransmission limit; bit 4: a PSK identity
//! hint). Then operations: an operation byte whose low two bits are 0 is a timeout (the
//! next byte times 100 ms later); otherwise two bytes of length follow and a datagram of
//! that many bytes (or what is left).
//!
//! Oracles: no panic (libFuzzer catches it); `verify_client_hello` writes no more than it
//! says and never accepts a hello whose cookie this server did not make (the secret is
//! random per process, so a fuzzer cannot forge one); no datagram is larger than the MTU;
//! a failed server says why and stops its timer, its first datagram after failing is the
//! alert it owes, and it transmits nothing after that alert; a connected server has
//! negotiated a suite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{
    DtlsServer, DtlsServerConfig, ExternalPsk, RetransmitConfig, ServerIdentity, Status, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::HashAlgorithm;
use mote_fuzz::dtls_engine::{run, send_queued, START_MS};
use mote_fuzz::input::Input;
use std::sync::OnceLock;

/// Stands in for a DER certificate: the server sends its chain without parsing it.
const CERT: &[u8] = &[
    0x30, 0x20, 0x30, 0x1a, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x30, 0x0a, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00,
];
const KEY: [u8; 16] = [0x11; 16];
const PEER: &[u8] = b"192.0.2.1:5684";

fn signer() -> &'static EcdsaP256Signer {
    static S: OnceLock<EcdsaP256Signer> = OnceLock::new();
    S.get_or_init(|| EcdsaP256Signer::from_scalar(&[0x42; 32]).unwrap())
}

fn spki() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        let mut b = [0u8; 128];
        let n = signer().public_key_spki(&mut b).unwrap();
        b[..n].to_vec()
    })
}

fn secret() -> &'static [u8; 32] {
    static S: OnceLock<[u8; 32]> = OnceLock::new();
    S.get_or_init(|| {
        // Random per process (std's hasher keys), so no input can carry a valid cookie.
        use std::hash::{BuildHasher, Hasher};
        let mut s = [0u8; 32];
        for (i, c) in s.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            c.copy_from_slice(&h.finish().to_le_bytes());
        }
        s
    })
}

type S<'a, 'b> = DtlsServer<'a, 'b, RustCrypto>;

/// Sends everything the server has; checks the MTU, that a server that just failed sends
/// the alert it owes first and nothing after it, and that one that had already ended sends
/// nothing at all.
fn drain(s: &mut S<'_, '_>, mtu: usize, ended: &mut bool) {
    let status = s.status();
    let ending = matches!(status, Status::Failed | Status::Closed);
    let (sent, owed) = send_queued(s, mtu, *ended);
    if status == Status::Failed {
        let allowed = usize::from(!*ended && owed.is_some());
        assert!(
            sent <= allowed,
            "{sent} datagrams from a failed server ({:?}; had ended: {})",
            s.error(),
            *ended
        );
    }
    if ending {
        *ended = true;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let Some(setup) = inp.byte() else { return };
    let psks = [ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let chain = [CERT];
    let mut cfg = DtlsServerConfig::new();
    cfg.psks = &psks;
    cfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer: signer(),
    });
    cfg.raw_public_key = Some(spki());
    cfg.mtu = if setup & 1 != 0 { 256 } else { 1200 };
    if setup & 2 != 0 {
        cfg.connection_id = Some(&[0x5e, 0x7e, 0x40]);
    }
    cfg.retransmit = RetransmitConfig {
        initial_ms: 1000,
        backoff: 2,
        max_ms: 60_000,
        max_retransmissions: (setup >> 2) & 3,
    };
    if setup & 0x10 != 0 {
        cfg.psk_identity_hint = Some(b"hint");
    }
    let mtu = usize::from(cfg.mtu);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let Ok(mut s) = DtlsServer::new(
        RustCrypto,
        &cfg,
        UnixTime::from_millis(START_MS),
        &mut rx,
        2048,
        &mut tx,
    ) else {
        return;
    };
    let mut ended = false;
    let mut hvr = [0u8; 256];
    // Each datagram also goes through the stateless cookie check.
    let cookie_check = |d: &[u8]| {
        hvr[128..].fill(0xa5);
        match verify_client_hello(&RustCrypto, secret(), None, PEER, d, &mut hvr[..128]) {
            HelloVerdict::Accept => panic!("a cookie the server did not make was accepted"),
            HelloVerdict::Verify(n) => {
                assert!((25..=128).contains(&n), "a HelloVerifyRequest of {n} bytes");
                assert_eq!(hvr[0], 22);
            }
            HelloVerdict::Drop => {}
        }
        assert!(hvr[128..].iter().all(|&b| b == 0xa5));
    };
    run(&mut s, &mut inp, cookie_check, |s| {
        drain(s, mtu, &mut ended)
    });
});
