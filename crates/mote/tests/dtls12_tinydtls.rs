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

use common::dtls_peers::{
    connect_client, psk_bytes, psk_client_config, python_line_each_way, python_server,
    ClientBuffers, PSK_HEX, PSK_ID,
};
use common::Peer;
use mote::Status;
use mote_wire::CipherSuite;

/// tests/peers/tinydtls_server.py on a free port; waits until it listens.
fn tinydtls_server() -> (Peer, u16) {
    python_server(
        "tinydtls_server.py",
        &["--psk-identity", PSK_ID, "--psk-hex", PSK_HEX],
        "DTLSSocket",
    )
}

fn psk_case(suite: CipherSuite) {
    let (server, port) = tinydtls_server();
    let key = psk_bytes();
    let suites = [suite];
    let cfg = psk_client_config(&suites, &key);
    let mut bufs = ClientBuffers::new();
    let mut s = connect_client(&cfg, &mut bufs, port, &server, "tinydtls");
    let n = s.client().negotiated();
    assert_eq!(n.suite, Some(suite));
    assert!(n.psk);
    assert!(n.hello_verify, "tinydtls always sends HelloVerifyRequest");
    assert!(
        server.wait_for("connected", 5),
        "tinydtls did not report the handshake: {}",
        server.output()
    );
    python_line_each_way(&mut s, &server, "tinydtls");
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
