//! mote's DTLS 1.2 client against tinydtls, the DTLS stack of many constrained devices, via
//! the PyPI package `DTLSSocket` (a Cython wrapper that builds tinydtls): the server is
//! tests/peers/tinydtls_server.py, run with the Python of the venv ./scripts/test makes
//! (`MOTE_PEERS_PYTHON`, else target/peers-venv/bin/python of the workspace), on
//! ::ffff:127.0.0.1 (the wrapper's sessions are IPv6; mote's socket is on 127.0.0.1).
//!
//! Suites: TLS_PSK_WITH_AES_128_CCM_8 (RFC 7925's mandatory PSK suite) and
//! TLS_PSK_WITH_AES_128_CCM. ECDHE-ECDSA-CCM8 is not tested: tinydtls has it, but the
//! wrapper registers only tinydtls' PSK callback (no get_ecdsa_key), so its server cannot
//! sign. Each connection: handshake (tinydtls always sends HelloVerifyRequest), a line each
//! way (the server prints it and answers `ack <line>`), close_notify (which tinydtls reports
//! as alert 1 0).

mod common;

use common::{free_port, Peer};
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::{DtlsSocket, OsRng};
use mote_wire::CipherSuite;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PSK_ID: &str = "sensor-1";
const PSK_HEX: &str = "00112233445566778899aabbccddeeff";

/// The Python with DTLSSocket installed; a failure naming what to install if there is none.
fn peers_python() -> PathBuf {
    let p = std::env::var_os("MOTE_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers-venv/bin/python")
        });
    assert!(
        p.is_file(),
        "no Python for the DTLS peers at {}: run ./scripts/test, which makes the venv \
         target/peers-venv with the PyPI packages DTLSSocket and python-mbedtls (building \
         DTLSSocket needs the Debian packages python3-venv, python3-dev, autoconf, automake, \
         libtool and build-essential), or set MOTE_PEERS_PYTHON to a Python that has them",
        p.display()
    );
    p
}

fn psk_bytes() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// tests/peers/tinydtls_server.py on a free port; waits until it listens.
fn tinydtls_server() -> (Peer, u16) {
    let python = peers_python();
    // A free TCP port is very likely a free UDP port too.
    let port = free_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tinydtls_server.py");
    let p = Peer::spawn(
        Command::new(&python)
            .arg("-u")
            .arg(&script)
            .args(["--port", &port.to_string()])
            .args(["--psk-identity", PSK_ID, "--psk-hex", PSK_HEX]),
    );
    assert!(
        p.wait_for("listening", 10),
        "tinydtls_server.py did not start (the venv needs the PyPI package DTLSSocket; \
         ./scripts/test installs it): {}",
        p.output()
    );
    (p, port)
}

fn psk_case(suite: CipherSuite) {
    let (server, port) = tinydtls_server();
    let key = psk_bytes();
    let mut cfg = DtlsClientConfig::new();
    let suites = [suite];
    cfg.cipher_suites = &suites;
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let c = DtlsClient::new(RustCrypto, &cfg, &mut OsRng, now, &mut rx, 4096, &mut tx).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", port)).unwrap();
    let mut s = DtlsSocket::connect(c, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\ntinydtls: {}", server.output()));
    let n = s.client().negotiated();
    assert_eq!(n.suite, Some(suite));
    assert!(n.psk);
    assert!(n.hello_verify, "tinydtls always sends HelloVerifyRequest");
    assert!(
        server.wait_for("connected", 5),
        "tinydtls did not report the handshake: {}",
        server.output()
    );

    let line = b"[{\"n\":\"temperature\",\"v\":21.5}]\n";
    s.send(line).unwrap();
    assert!(
        server.wait_for("received: [{\"n\":\"temperature\",\"v\":21.5}]", 5),
        "tinydtls did not print the line: {}",
        server.output()
    );
    let mut buf = [0u8; 512];
    let got = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\ntinydtls: {}", server.output()))
        .unwrap_or_else(|| panic!("no answer\ntinydtls: {}", server.output()));
    assert_eq!(
        &buf[..got],
        [&b"ack "[..], line].concat(),
        "tinydtls' answer"
    );

    s.close().unwrap();
    assert!(
        server.wait_for("alert 1 0", 5),
        "tinydtls did not see close_notify: {}",
        server.output()
    );
    assert_ne!(s.client().status(), Status::Failed);
}

#[test]
fn psk_with_aes_128_ccm_8() {
    psk_case(CipherSuite(0xc0a8));
}

#[test]
fn psk_with_aes_128_ccm() {
    psk_case(CipherSuite(0xc0a4));
}
