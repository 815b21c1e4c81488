//! The TLS 1.3 client engine driven by arbitrary server bytes. The first byte picks the
//! client: 0 = the RFC 8448 section 3 client with the RFC's random and key (so a seed made
//! of that trace's server records reaches deep into the handshake, and mutations of it test
//! every later check), 1 = an external-PSK client, 2 = a certificate client with small
//! buffers and 512-byte records. The rest is cut into chunks by the bytes that follow and fed
//! to `recv_done` as they arrive; between chunks the engine's output is drained and, once
//! connected, application data is written and read.
//!
//! Oracles: no panic (libFuzzer catches it); a failed connection always says why; an engine
//! that reports Connected has negotiated a suite; nothing is transmitted after Closed or
//! Failed except the one alert owed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote::{Client, ClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{CryptoError, HashAlgorithm, Rng};
use mote_wire::{CipherSuite, MaxFragmentLength, NamedGroup, SignatureScheme};

/// A deterministic RNG: the RFC 8448 section 3 ClientHello random, then the client's x25519
/// private key (s3.01), then zeros.
struct Fixed(usize);

const RFC_RANDOM_AND_KEY: [u8; 64] = [
    0xcb, 0x34, 0xec, 0xb1, 0xe7, 0x81, 0x63, 0xba, 0x1c, 0x38, 0xc6, 0xda, 0xcb, 0x19, 0x6a, 0x6d,
    0xff, 0xa2, 0x1a, 0x8d, 0x99, 0x12, 0xec, 0x18, 0xa2, 0xef, 0x62, 0x83, 0x02, 0x4d, 0xec, 0xe7,
    0x49, 0xaf, 0x42, 0xba, 0x7f, 0x79, 0x94, 0x85, 0x2d, 0x71, 0x3e, 0xf2, 0x78, 0x4b, 0xcb, 0xca,
    0xa7, 0x91, 0x1d, 0xe2, 0x6a, 0xdc, 0x56, 0x42, 0xcb, 0x63, 0x45, 0x40, 0xe7, 0xea, 0x50, 0x05,
];

impl Rng for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            *b = RFC_RANDOM_AND_KEY.get(self.0).copied().unwrap_or(0);
            self.0 += 1;
        }
        Ok(())
    }
}

fn drive(mut c: Client<'_, '_, RustCrypto>, mut data: &[u8]) {
    let mut out = [0u8; 256];
    while !data.is_empty() {
        let sent = c.transmit().len();
        c.transmit_done(sent);
        let before = c.status();
        // Chunk sizes come from the input, so records split and coalesce in every way.
        let take = usize::from(data[0]).max(1).min(data.len() - 1).max(1);
        let chunk = &data[1.min(data.len())..(1 + take).min(data.len())];
        data = &data[(1 + take).min(data.len())..];
        let buf = c.recv_buf();
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        let r = c.recv_done(n, &mut Fixed(64));
        match c.status() {
            Status::Failed => {
                assert!(c.error().is_some(), "failed without a reason");
                assert!(r.is_err() || matches!(before, Status::Failed));
                return;
            }
            Status::Closed | Status::PeerClosed => return,
            Status::Connected => {
                assert!(c.negotiated().suite.is_some());
                let _ = c.write(b"reading");
                while c.read(&mut out) > 0 {}
            }
            Status::Handshaking => {}
        }
    }
}

const SCHEMES: [SignatureScheme; 3] = [
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::ED25519,
];

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else { return };
    let mut cfg = ClientConfig::new();
    let key = [7u8; 32];
    // A pin that nothing matches: certificate paths run to the end and fail cleanly.
    let auth = mote_x509::ServerAuth::PinnedSpki(mote_x509::PinnedSpki { sha256: [0; 32] });
    match mode % 3 {
        0 => {
            cfg.cipher_suites = &[CipherSuite::TLS_AES_128_GCM_SHA256, CipherSuite::TLS_CHACHA20_POLY1305_SHA256, CipherSuite::TLS_AES_256_GCM_SHA384];
            cfg.groups = &[NamedGroup::X25519, NamedGroup::SECP256R1];
            cfg.signature_schemes = &SCHEMES;
            cfg.server_name = Some("server");
            cfg.server_auth = Some(auth);
            cfg.record_size_limit = Some(0x4001);
        }
        1 => {
            cfg.psk = Some(ExternalPsk { identity: b"sensor", key: &key, hash: HashAlgorithm::Sha256 });
            cfg.psk_only = true;
        }
        _ => {
            cfg.server_auth = Some(auth);
            cfg.max_fragment_length = Some(MaxFragmentLength::L512);
        }
    }
    let (mut rx, mut tx) = (vec![0u8; if mode % 3 == 2 { 1400 } else { 20_000 }], vec![0u8; 4096]);
    let Ok(c) = Client::new(RustCrypto, &cfg, &mut Fixed(0), UnixTime::from_secs(1_577_836_800), &mut rx, &mut tx) else {
        return;
    };
    drive(c, rest);
});
