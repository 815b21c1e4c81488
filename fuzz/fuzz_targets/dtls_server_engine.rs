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
use mote_crypto::{CryptoError, HashAlgorithm, Rng};
use std::sync::OnceLock;

/// A deterministic RNG: the byte counter.
struct Counter(u8);

impl Rng for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
        Ok(())
    }
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

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
    let owed = if status == Status::Failed {
        s.error().and_then(|e| e.alert())
    } else {
        None
    };
    let mut sent = 0;
    for _ in 0..64 {
        let d = s.transmit();
        let n = d.len();
        if n == 0 {
            break;
        }
        assert!(n <= mtu, "a datagram of {n} bytes with an MTU of {mtu}");
        if ending && !*ended && sent == 0 {
            if let Some(a) = owed {
                // An epoch-0 alert is plaintext; an epoch-1 one is sealed (not checked).
                if d[3..5] == [0, 0] {
                    assert_eq!(
                        (d[0], &d[13..]),
                        (21, &[2, a.0][..]),
                        "the owed alert first"
                    );
                }
            }
        }
        sent += 1;
        s.transmit_done();
    }
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

fn check(s: &S<'_, '_>) {
    match s.status() {
        Status::Failed => {
            assert!(s.error().is_some(), "failed without a reason");
            assert_eq!(s.next_timeout(), None, "a failed server keeps its timer");
        }
        Status::Connected => assert!(s.negotiated().suite.is_some()),
        _ => {}
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
        max_ms: 60_000,
        max_retransmissions: (setup >> 2) & 3,
    };
    if setup & 0x10 != 0 {
        cfg.psk_identity_hint = Some(b"hint");
    }
    let mtu = usize::from(cfg.mtu);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut now = 1_000_000u64;
    let Ok(mut s) = DtlsServer::new(
        RustCrypto,
        &cfg,
        UnixTime::from_millis(now),
        &mut rx,
        2048,
        &mut tx,
    ) else {
        return;
    };
    let mut ended = false;
    let mut rng = Counter(0x80);
    let mut out = [0u8; 2048];
    let mut hvr = [0u8; 256];
    while let Some(op) = inp.byte() {
        if op & 3 == 0 {
            now += u64::from(inp.byte().unwrap_or(0)) * 100;
            let r = s.handle_timeout(UnixTime::from_millis(now));
            if r.is_err() {
                assert_eq!(s.status(), Status::Failed);
            }
        } else {
            let hi = inp.byte().unwrap_or(0);
            let lo = inp.byte().unwrap_or(0);
            let d = inp.take(usize::from(u16::from_be_bytes([hi, lo])));
            {
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
            }
            // Application data waiting blocks the receive buffer: read it first.
            while s.has_app_data() {
                s.read(&mut out);
            }
            let buf = s.recv_buf();
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            let before = s.status();
            let r = s.recv_datagram(n, UnixTime::from_millis(now), &mut rng);
            if r.is_err() {
                assert!(
                    matches!(s.status(), Status::Failed | Status::Closed)
                        || matches!(before, Status::Failed | Status::Closed),
                    "an error left the server {:?}",
                    s.status()
                );
            }
            if s.status() == Status::Connected {
                while s.has_app_data() {
                    s.read(&mut out);
                }
                let _ = s.write(b"ack");
            }
        }
        check(&s);
        drain(&mut s, mtu, &mut ended);
    }
});
