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

use common::dtls_peers::{
    chain_client_config, connect_client, psk_bytes, psk_client_config, python_line_each_way,
    python_server, ClientBuffers, PSK_HEX, PSK_ID,
};
use common::{Peer, Pki};
use mote::{DtlsClientConfig, Status};
use mote_wire::{CipherSuite, SignatureScheme};

const NAME: &str = "sensor.example";

/// tests/peers/mbedtls_server.py on a free port with `args`; waits until it listens.
fn mbedtls_server(args: &[&str]) -> (Peer, u16) {
    python_server("mbedtls_server.py", args, "python-mbedtls")
}

/// Handshake, a line each way, close_notify; what was negotiated.
fn converse(cfg: &DtlsClientConfig<'_>, server: &Peer, port: u16) -> mote::DtlsNegotiated {
    let mut bufs = ClientBuffers::new();
    let mut s = connect_client(cfg, &mut bufs, port, server, "mbedtls");
    let n = s.client().negotiated();
    assert!(n.hello_verify, "the server sends HelloVerifyRequest");
    assert!(
        server.wait_for("connected", 5),
        "mbedtls did not report the handshake: {}",
        server.output()
    );
    python_line_each_way(&mut s, server, "mbedtls");
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
        "--psk-identity",
        PSK_ID,
        "--psk-hex",
        PSK_HEX,
        "--cipher",
        mbedtls_cipher,
    ]);
    let key = psk_bytes();
    let suites = [suite];
    let mut cfg = psk_client_config(&suites, &key);
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
        "--cert",
        &pki.path("server.pem"),
        "--key",
        &pki.path("server.key"),
        "--cipher",
        mbedtls_cipher,
    ]);
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let suites = [suite];
    let cfg = chain_client_config(&suites, &anchors, NAME);
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
