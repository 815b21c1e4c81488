//! mote's DTLS 1.2 client against `openssl s_server -dtls1_2` (Debian package `openssl`) on
//! 127.0.0.1: PSK and ECDHE-ECDSA suites, HelloVerifyRequest, data both ways, close_notify.

mod common;

use common::dtls_peers::{
    chain_client_config, connect_client, ecdsa_signer, psk_bytes, psk_client_config, ClientBuffers,
    PSK_HEX, PSK_ID,
};
use common::{free_port, require_tool, Peer, Pki};
use mote::{DtlsClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::CipherSuite;
use std::net::UdpSocket;
use std::process::Command;
use std::time::Duration;

/// `openssl s_server -dtls1_2` on a free UDP port with `args`; waits until it listens.
fn dtls_server(args: &[&str]) -> (Peer, u16) {
    require_tool("openssl", "openssl");
    // A free TCP port is very likely a free UDP port too.
    let port = free_port();
    let p = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_server",
                "-dtls1_2",
                "-accept",
                &format!("127.0.0.1:{port}"),
            ])
            .args(args),
    );
    assert!(
        p.wait_for("ACCEPT", 10),
        "s_server did not start: {}",
        p.output()
    );
    (p, port)
}

/// Handshake, a line each way, close_notify; what was negotiated.
fn converse(cfg: &DtlsClientConfig<'_>, server: &mut Peer, port: u16) -> mote::DtlsNegotiated {
    let mut bufs = ClientBuffers::new();
    let mut s = connect_client(cfg, &mut bufs, port, server, "server");
    let neg = s.client().negotiated();
    s.send(b"reading 21.5\n").unwrap();
    assert!(server.wait_for("reading 21.5", 10), "{}", server.output());
    server.stdin("ack 1\n");
    let mut buf = [0u8; 256];
    let n = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap()
        .expect("no answer");
    assert_eq!(&buf[..n], b"ack 1\n");
    s.close().unwrap();
    assert_eq!(s.client().status(), Status::Connected);
    neg
}

fn psk_case(openssl_cipher: &str, suite: CipherSuite) {
    let (mut server, port) = dtls_server(&[
        "-nocert",
        "-psk",
        PSK_HEX,
        "-psk_identity",
        PSK_ID,
        "-cipher",
        openssl_cipher,
    ]);
    let key = psk_bytes();
    let suites = [suite];
    let cfg = psk_client_config(&suites, &key);
    let n = converse(&cfg, &mut server, port);
    assert_eq!(n.suite, Some(suite));
    assert!(n.psk);
    assert!(n.hello_verify, "openssl always sends HelloVerifyRequest");
}

#[test]
fn psk_with_aes_128_ccm_8() {
    psk_case("PSK-AES128-CCM8", CipherSuite(0xc0a8));
}

#[test]
fn psk_with_aes_128_gcm() {
    psk_case("PSK-AES128-GCM-SHA256", CipherSuite(0x00a8));
}

#[test]
fn psk_with_aes_128_ccm() {
    psk_case("PSK-AES128-CCM", CipherSuite(0xc0a4));
}

fn ecdsa_case(openssl_cipher: &str, suite: CipherSuite) {
    let pki = Pki::new(&format!("dtls-{openssl_cipher}"), "ec", "sensor.example");
    let (mut server, port) = dtls_server(&[
        "-cert",
        &pki.path("server.pem"),
        "-key",
        &pki.path("server.key"),
        "-cipher",
        openssl_cipher,
    ]);
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let suites = [suite];
    let cfg = chain_client_config(&suites, &anchors, "sensor.example");
    let n = converse(&cfg, &mut server, port);
    assert_eq!(n.suite, Some(suite));
    assert_eq!(
        n.server_signature,
        Some(mote_wire::SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
}

#[test]
fn ecdhe_ecdsa_with_aes_128_ccm_8() {
    ecdsa_case("ECDHE-ECDSA-AES128-CCM8", CipherSuite(0xc0ae));
}

#[test]
fn ecdhe_ecdsa_with_aes_128_gcm() {
    ecdsa_case("ECDHE-ECDSA-AES128-GCM-SHA256", CipherSuite(0xc02b));
}

#[test]
fn ecdhe_ecdsa_with_chacha20_poly1305() {
    ecdsa_case("ECDHE-ECDSA-CHACHA20-POLY1305", CipherSuite(0xcca9));
}

/// mote's server on a free UDP port, `openssl s_client -dtls1_2` with `args`: a line from
/// the client, an answer from the server.
fn serve_one(
    scfg: &mote::DtlsServerConfig<'_>,
    client_args: &[&str],
) -> mote::DtlsServerNegotiated {
    require_tool("openssl", "openssl");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut client = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_client",
                "-dtls1_2",
                "-connect",
                &format!("127.0.0.1:{port}"),
            ])
            .args(client_args),
    );
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let s = mote::DtlsServer::new(RustCrypto, scfg, now, &mut rx, 1024, &mut tx).unwrap();
    let mut s = mote_std::DtlsServerSocket::accept(&RustCrypto, &[9; 32], s, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\nclient: {}", client.output()));
    assert!(client.wait_for("CONNECTED", 10), "{}", client.output());
    client.stdin("reading 22.5\n");
    let mut buf = [0u8; 256];
    let n = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap()
        .expect("no reading");
    assert_eq!(&buf[..n], b"reading 22.5\n");
    s.send(b"ack 7\n").unwrap();
    assert!(client.wait_for("ack 7", 10), "{}", client.output());
    s.server().negotiated()
}

#[test]
fn server_psk_ccm_8_with_openssl_client() {
    let key = psk_bytes();
    let psks = [ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let mut cfg = mote::DtlsServerConfig::new();
    cfg.psks = &psks;
    let n = serve_one(
        &cfg,
        &[
            "-psk_identity",
            PSK_ID,
            "-psk",
            PSK_HEX,
            "-cipher",
            "PSK-AES128-CCM8",
        ],
    );
    assert_eq!(n.suite, Some(CipherSuite(0xc0a8)));
    assert_eq!(n.psk, Some(0));
}

#[test]
fn server_ecdhe_ecdsa_with_openssl_client() {
    let pki = Pki::new("dtls-server-ecdsa", "ec", "sensor.example");
    let chain = mote_std::load_certificates(std::path::Path::new(&pki.path("server.pem"))).unwrap();
    let key = ecdsa_signer(&pki.path("server.key"));
    let refs: Vec<&[u8]> = chain.iter().map(|c| c.as_slice()).collect();
    for (cipher, suite) in [
        ("ECDHE-ECDSA-AES128-CCM8", 0xc0ae),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9),
    ] {
        let mut cfg = mote::DtlsServerConfig::new();
        cfg.identity = Some(mote::ServerIdentity {
            chain: &refs,
            signer: &key,
        });
        let n = serve_one(
            &cfg,
            &[
                "-CAfile",
                &pki.path("ca.pem"),
                "-verify_return_error",
                "-cipher",
                cipher,
            ],
        );
        assert_eq!(n.suite, Some(CipherSuite(suite)));
        assert_eq!(n.group, Some(mote_wire::NamedGroup::X25519));
    }
}
