//! mote's DTLS 1.2 client and server in memory: the stateless cookie exchange, every suite,
//! PSK and certificates, connection IDs, data both ways, close_notify.

use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, ExternalPsk, ServerIdentity,
    Status, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::HashAlgorithm;
use mote_std::OsRng;
use mote_wire::CipherSuite;

const SECRET: [u8; 32] = [7; 32];
const PEER: &[u8] = b"127.0.0.1:5684";

struct Bufs {
    crx: Vec<u8>,
    ctx: Vec<u8>,
    srx: Vec<u8>,
    stx: Vec<u8>,
}

fn bufs() -> Bufs {
    Bufs {
        crx: vec![0; 6000],
        ctx: vec![0; 4000],
        srx: vec![0; 4000],
        stx: vec![0; 6000],
    }
}

/// Runs a handshake (through the cookie exchange), then a reading and its ack, then
/// close_notify; returns what each side negotiated.
fn converse(
    ccfg: &DtlsClientConfig<'_>,
    scfg: &DtlsServerConfig<'_>,
) -> (mote::DtlsNegotiated, mote::DtlsServerNegotiated) {
    let mut b = bufs();
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut c = DtlsClient::new(
        RustCrypto, ccfg, &mut OsRng, now, &mut b.crx, 3000, &mut b.ctx,
    )
    .unwrap();
    // The stateless exchange: the first hello gets a HelloVerifyRequest, the second passes.
    let mut hvr = [0u8; 128];
    let first = c.transmit().to_vec();
    c.transmit_done();
    let HelloVerdict::Verify(n) =
        verify_client_hello(&RustCrypto, &SECRET, None, PEER, &first, &mut hvr)
    else {
        panic!("no HelloVerifyRequest")
    };
    let buf = c.recv_buf();
    buf[..n].copy_from_slice(&hvr[..n]);
    c.recv_datagram(n, now, &mut OsRng).unwrap();
    let second = c.transmit().to_vec();
    assert_eq!(
        verify_client_hello(&RustCrypto, &SECRET, None, PEER, &second, &mut hvr),
        HelloVerdict::Accept
    );
    // Another address with the same cookie does not pass.
    assert!(matches!(
        verify_client_hello(&RustCrypto, &SECRET, None, b"10.0.0.9:1", &second, &mut hvr),
        HelloVerdict::Verify(_)
    ));
    let mut s = DtlsServer::new(RustCrypto, scfg, now, &mut b.srx, 2000, &mut b.stx).unwrap();
    for _ in 0..50 {
        let mut moved = false;
        while !c.transmit().is_empty() {
            let d = c.transmit().to_vec();
            c.transmit_done();
            let buf = s.recv_buf();
            buf[..d.len()].copy_from_slice(&d);
            s.recv_datagram(d.len(), now, &mut OsRng).unwrap();
            moved = true;
        }
        while !s.transmit().is_empty() {
            let d = s.transmit().to_vec();
            s.transmit_done();
            let buf = c.recv_buf();
            buf[..d.len()].copy_from_slice(&d);
            c.recv_datagram(d.len(), now, &mut OsRng).unwrap();
            moved = true;
        }
        if !moved {
            break;
        }
    }
    assert_eq!(
        c.status(),
        Status::Connected,
        "client: {:?}; server {:?} {:?}",
        c.error(),
        s.status(),
        s.error()
    );
    assert_eq!(s.status(), Status::Connected, "server: {:?}", s.error());
    // A reading and its ack.
    assert_eq!(c.write(b"[{\"n\":\"t\",\"v\":21.5}]").unwrap(), 20);
    let d = c.transmit().to_vec();
    c.transmit_done();
    s.recv_buf()[..d.len()].copy_from_slice(&d);
    s.recv_datagram(d.len(), now, &mut OsRng).unwrap();
    let mut got = [0u8; 64];
    let n = s.read(&mut got);
    assert_eq!(&got[..n], b"[{\"n\":\"t\",\"v\":21.5}]");
    assert_eq!(s.write(b"ack 1").unwrap(), 5);
    let d = s.transmit().to_vec();
    s.transmit_done();
    c.recv_buf()[..d.len()].copy_from_slice(&d);
    c.recv_datagram(d.len(), now, &mut OsRng).unwrap();
    let n = c.read(&mut got);
    assert_eq!(&got[..n], b"ack 1");
    c.close();
    let d = c.transmit().to_vec();
    c.transmit_done();
    s.recv_buf()[..d.len()].copy_from_slice(&d);
    s.recv_datagram(d.len(), now, &mut OsRng).unwrap();
    assert_eq!(s.status(), Status::PeerClosed);
    (c.negotiated(), s.negotiated())
}

const KEY: [u8; 16] = *b"0123456789abcdef";

fn psk_configs(suite: CipherSuite) {
    let psks = [ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let suites = [suite];
    let mut c = DtlsClientConfig::new();
    c.cipher_suites = &suites;
    c.psk = Some(psks[0]);
    let mut s = DtlsServerConfig::new();
    s.psks = &psks;
    let (cn, sn) = converse(&c, &s);
    assert_eq!(cn.suite, Some(suite));
    assert_eq!(sn.suite, Some(suite));
    assert_eq!(sn.psk, Some(0));
    assert!(cn.hello_verify);
}

#[test]
fn psk_suites() {
    for s in [0xc0a8, 0x00a8, 0xc0a4, 0xd005] {
        psk_configs(CipherSuite(s));
    }
}

#[test]
fn ecdhe_ecdsa_suites_with_a_certificate_and_a_raw_key() {
    // A self-signed P-256 certificate made by rcgen.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["sensor.example".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().to_vec();
    let signer = EcdsaP256Signer::from_pkcs8_der(&key.serialize_der()).unwrap();
    let mut spki = [0u8; 128];
    let spki_len = signer.public_key_spki(&mut spki).unwrap();
    let chain = [der.as_slice()];
    let anchors = [mote_x509::TrustAnchor::from_cert(&der).unwrap()];
    for suite in [0xc0ae, 0xc02b, 0xcca9, 0xc0ac] {
        let suites = [CipherSuite(suite)];
        let mut s = DtlsServerConfig::new();
        s.identity = Some(ServerIdentity {
            chain: &chain,
            signer: &signer,
        });
        s.raw_public_key = Some(&spki[..spki_len]);
        let mut c = DtlsClientConfig::new();
        c.cipher_suites = &suites;
        c.server_auth = Some(mote_x509::ServerAuth::Chain {
            anchors: &anchors,
            name: mote_x509::ServerName::parse("sensor.example"),
        });
        let (cn, sn) = converse(&c, &s);
        assert_eq!(cn.suite, Some(CipherSuite(suite)));
        assert!(!sn.raw_public_key);
        // RFC 7250: the same key, no certificate.
        c.server_auth = Some(mote_x509::ServerAuth::RawPublicKey(
            mote_x509::PinnedRawKey {
                spki: &spki[..spki_len],
            },
        ));
        let (cn, sn) = converse(&c, &s);
        assert_eq!(cn.suite, Some(CipherSuite(suite)));
        assert!(sn.raw_public_key);
    }
}

#[test]
fn connection_ids_both_ways() {
    let psks = [ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let mut c = DtlsClientConfig::new();
    c.psk = Some(psks[0]);
    c.connection_id = Some(&[0xc1, 0x1e]);
    let mut s = DtlsServerConfig::new();
    s.psks = &psks;
    s.connection_id = Some(&[0x5e, 0x7e, 0x40]);
    let (cn, sn) = converse(&c, &s);
    assert_eq!(cn.peer_cid_len, Some(3));
    assert_eq!(sn.peer_cid_len, Some(2));
    // A client that wants none but sends the server's.
    c.connection_id = Some(&[]);
    let (cn, sn) = converse(&c, &s);
    assert_eq!(cn.peer_cid_len, Some(3));
    assert_eq!(sn.peer_cid_len, Some(0));
}
