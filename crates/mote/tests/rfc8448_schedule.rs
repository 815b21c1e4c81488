//! RFC 8448 section 3 (simple 1-RTT handshake), reproduced through mote's key schedule and
//! record protection with the RustCrypto provider: every derived secret, traffic key and IV,
//! the server Finished, and the encrypted server flight, byte for byte.
//!
//! Vectors: `../shared/vectors/rfc8448/rfc8448_vectors.txt`, transcribed from RFC 8448
//! (Thomson, January 2019), step names `s3.NN.label` as in the RFC's order.

use mote::key_schedule::tls13::{finished_verify_data, EarlySecret, TrafficKeys};
use mote::record_layer::tls13::Protector;
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{AeadAlgorithm, Hash, HashAlgorithm, KeyExchange, Provider, Rng};
use mote_wire::{ContentType, NamedGroup};
use std::collections::HashMap;

fn vectors() -> HashMap<String, Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/rfc8448/rfc8448_vectors.txt"
    );
    let text = std::fs::read_to_string(path).expect("RFC 8448 vectors in ../shared/vectors");
    text.lines()
        .filter_map(|l| l.split_once(" = "))
        .filter(|(_, v)| v.trim().bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(k, v)| (k.trim().to_string(), hex(v.trim())))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// An RNG that replays fixed bytes: it injects the RFC's ephemeral private keys.
struct Fixed(Vec<u8>);

impl Rng for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), mote_crypto::CryptoError> {
        let n = dest.len().min(self.0.len());
        dest[..n].copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
        Ok(())
    }
}

#[test]
fn rfc8448_simple_1rtt_key_schedule_and_server_flight() {
    let v = vectors();
    let g = |k: &str| v.get(k).unwrap_or_else(|| panic!("missing {k}")).clone();
    let p = RustCrypto;
    let alg = HashAlgorithm::Sha256;

    // (EC)DHE with the client's private key injected through the RNG.
    let kx = p
        .key_exchange(NamedGroup::X25519, &mut Fixed(g("s3.01.private_key")))
        .unwrap();
    assert_eq!(kx.public_share(), &g("s3.01.public_key")[..]);
    let mut shared = [0u8; 48];
    let n = kx.agree(&g("s3.05.public_key"), &mut shared).unwrap();
    assert_eq!(&shared[..n], &g("s3.08.ikm")[..]);

    let early = EarlySecret::new(&p, alg, None);
    assert_eq!(early.secret().as_bytes(), &g("s3.04.secret")[..]);

    let mut th = p.hash(alg);
    th.update(&g("s3.02.clienthello"));
    th.update(&g("s3.06.serverhello"));
    let th_sh = th.current();
    assert_eq!(th_sh.as_bytes(), &g("s3.09.hash")[..]);

    let hs = early.into_handshake(&p, Some(&shared[..n]));
    assert_eq!(hs.secret().as_bytes(), &g("s3.08.secret")[..]);
    let c_hs = hs.client_traffic_secret(&p, th_sh.as_bytes());
    let s_hs = hs.server_traffic_secret(&p, th_sh.as_bytes());
    assert_eq!(c_hs.as_bytes(), &g("s3.09.expanded")[..]);
    assert_eq!(s_hs.as_bytes(), &g("s3.10.expanded")[..]);

    let keys = TrafficKeys::derive(&p, alg, 16, s_hs.as_bytes());
    assert_eq!(keys.key(), &g("s3.14.key_expanded")[..]);
    assert_eq!(&keys.iv[..], &g("s3.14.iv_expanded")[..]);

    // Server Finished over CH..CertificateVerify.
    for m in [
        "s3.15.encryptedextensions",
        "s3.16.certificate",
        "s3.17.certificateverify",
    ] {
        th.update(&g(m));
    }
    let fin = finished_verify_data(&p, alg, s_hs.as_bytes(), th.current().as_bytes());
    assert_eq!(fin.as_bytes(), &g("s3.18.finished")[..]);
    th.update(&g("s3.19.finished"));

    // The encrypted server flight: EE, Certificate, CertificateVerify, Finished in one record.
    let payload = g("s3.20.payload");
    let mut buf = vec![0u8; 5 + payload.len() + 1 + 16];
    buf[5..5 + payload.len()].copy_from_slice(&payload);
    let mut seal = Protector::from_keys(&p, AeadAlgorithm::Aes128Gcm, keys.key(), keys.iv).unwrap();
    let len = seal
        .seal(&mut buf, payload.len(), ContentType::HANDSHAKE, 0)
        .unwrap();
    assert_eq!(&buf[..len], &g("s3.20.complete_record")[..]);

    // And the client opens it back.
    let mut open = Protector::from_keys(&p, AeadAlgorithm::Aes128Gcm, keys.key(), keys.iv).unwrap();
    let (ct, plen) = open.open(&mut buf[..len], 1 << 14).unwrap();
    assert_eq!(ct, ContentType::HANDSHAKE);
    assert_eq!(&buf[5..5 + plen], &payload[..]);

    // Application secrets over CH..server Finished.
    let master = hs.into_master(&p);
    assert_eq!(master.secret().as_bytes(), &g("s3.12.secret")[..]);
    let th_sf = th.current();
    assert_eq!(th_sf.as_bytes(), &g("s3.21.hash")[..]);
    assert_eq!(
        master
            .client_traffic_secret(&p, th_sf.as_bytes())
            .as_bytes(),
        &g("s3.21.expanded")[..]
    );
    let s_ap = master.server_traffic_secret(&p, th_sf.as_bytes());
    assert_eq!(s_ap.as_bytes(), &g("s3.22.expanded")[..]);
    assert_eq!(
        master.exporter_secret(&p, th_sf.as_bytes()).as_bytes(),
        &g("s3.23.expanded")[..]
    );
    let ap = TrafficKeys::derive(&p, alg, 16, s_ap.as_bytes());
    assert_eq!(ap.key(), &g("s3.24.key_expanded")[..]);
    assert_eq!(&ap.iv[..], &g("s3.24.iv_expanded")[..]);

    // Client Finished and the resumption secret over CH..client Finished.
    let c_fin = finished_verify_data(&p, alg, c_hs.as_bytes(), th_sf.as_bytes());
    assert_eq!(c_fin.as_bytes(), &g("s3.40.finished")[..]);
    th.update(&g("s3.41.finished"));
    assert_eq!(
        master
            .resumption_secret(&p, th.current().as_bytes())
            .as_bytes(),
        &g("s3.44.expanded")[..]
    );

    // A tampered record fails with bad_record_mac and does not advance the sequence.
    let mut bad = g("s3.20.complete_record");
    bad[40] ^= 1;
    let mut open = Protector::from_keys(&p, AeadAlgorithm::Aes128Gcm, keys.key(), keys.iv).unwrap();
    let e = open.open(&mut bad, 1 << 14).unwrap_err();
    assert_eq!(e.alert(), Some(mote_wire::AlertDescription::BAD_RECORD_MAC));
}
