//! mote's DTLS 1.2 client against mbed TLS (2.28, bundled in the PyPI package
//! `python-mbedtls`): the server is tests/peers/mbedtls_server.py, run with the Python of the
//! venv ./scripts/test makes (`MOTE_PEERS_PYTHON`, else target/peers-venv/bin/python of the
//! workspace), on 127.0.0.1.
//!
//! Suites: TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_GCM_SHA256, and ECDHE-ECDSA with
//! a P-256 certificate (AES-128-CCM-8 and AES-128-GCM). Each connection: handshake (the
//! server sends HelloVerifyRequest), a line each way (the server prints it and answers
//! `ack <line>`), close_notify (the server prints `closed`; it does not answer
//! with a close_notify of its own).
//!
//! Connection IDs (RFC 9146) cannot be agreed here: python-mbedtls exposes none of mbed TLS'
//! CID API (and mbed TLS 2.28 implements only the pre-RFC draft of it, extension 254). What
//! is tested is that a client offering a CID (extension 54) to a server that ignores it
//! falls back to plain records.

mod common;

use common::{free_port, Peer, Pki};
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::{DtlsSocket, OsRng};
use mote_wire::{CipherSuite, SignatureScheme};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PSK_ID: &str = "sensor-1";
const PSK_HEX: &str = "00112233445566778899aabbccddeeff";
const NAME: &str = "sensor.example";

/// The Python with python-mbedtls installed; a failure naming what to install if there is
/// none.
fn peers_python() -> PathBuf {
    let p = std::env::var_os("MOTE_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers-venv/bin/python")
        });
    assert!(
        p.is_file(),
        "no Python for the DTLS peers at {}: run ./scripts/test, which makes the venv \
         target/peers-venv with the PyPI packages DTLSSocket and python-mbedtls (Debian \
         package python3-venv), or set MOTE_PEERS_PYTHON to a Python that has them",
        p.display()
    );
    p
}

fn psk_bytes() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// tests/peers/mbedtls_server.py on a free port with `args`; waits until it listens.
fn mbedtls_server(args: &[String]) -> (Peer, u16) {
    let python = peers_python();
    // A free TCP port is very likely a free UDP port too.
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mbedtls_server.py");
    let p = Peer::spawn(
        Command::new(&python)
            .arg("-u")
            .arg(&script)
            .args(["--port", &port.to_string()])
            .args(args),
    );
    assert!(
        p.wait_for("listening", 10),
        "mbedtls_server.py did not start (the venv needs the PyPI package python-mbedtls; \
         ./scripts/test installs it): {}",
        p.output()
    );
    (p, port)
}

/// Handshake, a line each way, close_notify; what was negotiated.
fn converse(cfg: &DtlsClientConfig<'_>, server: &Peer, port: u16) -> mote::DtlsNegotiated {
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let c = DtlsClient::new(RustCrypto, cfg, &mut OsRng, now, &mut rx, 4096, &mut tx).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", port)).unwrap();
    let mut s = DtlsSocket::connect(c, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\nmbedtls: {}", server.output()));
    let n = s.client().negotiated();
    assert!(n.hello_verify, "the server sends HelloVerifyRequest");
    assert!(
        server.wait_for("connected", 5),
        "mbedtls did not report the handshake: {}",
        server.output()
    );

    let line = b"[{\"n\":\"temperature\",\"v\":21.5}]\n";
    s.send(line).unwrap();
    assert!(
        server.wait_for("received: [{\"n\":\"temperature\",\"v\":21.5}]", 5),
        "mbedtls did not print the line: {}",
        server.output()
    );
    let mut buf = [0u8; 512];
    let got = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\nmbedtls: {}", server.output()))
        .unwrap_or_else(|| panic!("no answer\nmbedtls: {}", server.output()));
    assert_eq!(
        &buf[..got],
        [&b"ack "[..], line].concat(),
        "mbedtls' answer"
    );

    s.close().unwrap();
    assert!(
        server.wait_for("closed", 5),
        "mbedtls did not see close_notify: {}",
        server.output()
    );
    assert!(
        !server.output().contains("error:"),
        "mbedtls: {}",
        server.output()
    );
    assert_ne!(s.client().status(), Status::Failed);
    n
}

fn psk_case(mbedtls_cipher: &str, suite: CipherSuite) {
    psk_case_cid(mbedtls_cipher, suite, None);
}

fn psk_case_cid(mbedtls_cipher: &str, suite: CipherSuite, cid: Option<&[u8]>) {
    let (server, port) = mbedtls_server(&[
        "--psk-identity".into(),
        PSK_ID.into(),
        "--psk-hex".into(),
        PSK_HEX.into(),
        "--cipher".into(),
        mbedtls_cipher.into(),
    ]);
    let key = psk_bytes();
    let mut cfg = DtlsClientConfig::new();
    let suites = [suite];
    cfg.cipher_suites = &suites;
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.connection_id = cid;
    let n = converse(&cfg, &server, port);
    assert_eq!(n.suite, Some(suite));
    assert!(n.psk);
    assert_eq!(n.peer_cid_len, None, "no connection ID can be agreed");
    assert!(
        server.wait_for(&format!("connected {mbedtls_cipher} "), 1),
        "{}",
        server.output()
    );
}

#[test]
fn psk_with_aes_128_ccm_8() {
    psk_case("TLS-PSK-WITH-AES-128-CCM-8", CipherSuite(0xc0a8));
}

#[test]
fn psk_with_aes_128_gcm() {
    psk_case("TLS-PSK-WITH-AES-128-GCM-SHA256", CipherSuite(0x00a8));
}

#[test]
fn connection_id_offered_but_not_agreed() {
    psk_case_cid(
        "TLS-PSK-WITH-AES-128-CCM-8",
        CipherSuite(0xc0a8),
        Some(b"\x01\x02\x03\x04"),
    );
}

fn ecdsa_case(mbedtls_cipher: &str, suite: CipherSuite) {
    let pki = Pki::new(&format!("mbedtls-dtls-{mbedtls_cipher}"), "ec", NAME);
    let (server, port) = mbedtls_server(&[
        "--cert".into(),
        pki.path("server.pem"),
        "--key".into(),
        pki.path("server.key"),
        "--cipher".into(),
        mbedtls_cipher.into(),
    ]);
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let mut cfg = DtlsClientConfig::new();
    let suites = [suite];
    cfg.cipher_suites = &suites;
    cfg.server_name = Some(NAME);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse(NAME),
    });
    let n = converse(&cfg, &server, port);
    assert_eq!(n.suite, Some(suite));
    assert!(!n.psk);
    assert_eq!(
        n.server_signature,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
    assert!(
        server.wait_for(&format!("connected {mbedtls_cipher} "), 1),
        "{}",
        server.output()
    );
}

#[test]
fn ecdhe_ecdsa_with_aes_128_ccm_8() {
    ecdsa_case("TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8", CipherSuite(0xc0ae));
}

#[test]
fn ecdhe_ecdsa_with_aes_128_gcm() {
    ecdsa_case(
        "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
        CipherSuite(0xc02b),
    );
}
