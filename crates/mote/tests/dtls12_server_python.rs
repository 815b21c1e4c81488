//! mote's DTLS 1.2 server against two clients of constrained devices, run with the Python of
//! the venv ./scripts/test makes (`MOTE_PEERS_PYTHON`, else target/peers-venv/bin/python of
//! the workspace):
//!
//! - tinydtls, via the PyPI package `DTLSSocket` (tests/peers/tinydtls_client.py):
//!   TLS_PSK_WITH_AES_128_CCM_8 (the wrapper has only tinydtls' PSK callback);
//! - mbed TLS 2.28, bundled in the PyPI package `python-mbedtls`
//!   (tests/peers/mbedtls_client.py): TLS_PSK_WITH_AES_128_CCM_8,
//!   TLS_PSK_WITH_AES_128_GCM_SHA256, and ECDHE-ECDSA with a P-256 certificate (AES-128-CCM-8
//!   and AES-128-GCM), the client verifying the chain and the name.
//!
//! mote's server (common/dtls_peers.rs) listens on 127.0.0.1, answers the first ClientHello
//! with a HelloVerifyRequest, completes the handshake, reads the client's line and answers
//! `ack <line>`, which the client prints before closing with close_notify. The suite and
//! credentials are checked on mote's side.

mod common;

use common::dtls_peers::{
    peers_python, Credentials, MoteDtlsServer, Served, LINE, PSK_HEX, PSK_ID,
};
use common::{Peer, Pki};
use mote_wire::CipherSuite;
use std::path::Path;
use std::process::Command;

const NAME: &str = "sensor.example";

/// Runs tests/peers/`script` against a mote server started with `creds` and `suites`;
/// checks the client printed the answer; what the server saw.
fn run(script: &str, args: &[String], creds: Credentials, suites: &[CipherSuite]) -> Served {
    let server = MoteDtlsServer::start(creds, suites);
    let python = peers_python();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(script);
    let client = Peer::spawn(
        Command::new(&python)
            .arg("-u")
            .arg(&path)
            .args(["--port", &server.port.to_string()])
            .args(["--line", LINE])
            .args(args),
    );
    let served = server.finish(20, || client.output());
    assert_eq!(
        served.line,
        format!("{LINE}\n").as_bytes(),
        "the client's line"
    );
    assert!(
        client.wait_for(&format!("received: ack {LINE}"), 10),
        "{script} did not print the answer:\n{}",
        client.output()
    );
    assert!(
        client.wait_for("closed", 5),
        "{script} did not close:\n{}",
        client.output()
    );
    assert!(
        !client.output().contains("error:"),
        "{script}:\n{}",
        client.output()
    );
    served
}

fn psk_args() -> Vec<String> {
    vec![
        "--psk-identity".into(),
        PSK_ID.into(),
        "--psk-hex".into(),
        PSK_HEX.into(),
    ]
}

fn assert_psk(s: &Served, suite: CipherSuite) {
    assert_eq!(s.negotiated.suite, Some(suite));
    assert_eq!(s.negotiated.psk, Some(0));
    assert_eq!(s.psk_identity.as_deref(), Some(PSK_ID.as_bytes()));
    assert_eq!(s.negotiated.group, None, "a PSK suite has no ECDHE");
}

#[test]
fn tinydtls_client_psk_with_aes_128_ccm_8() {
    // mote's server prefers CCM_8, as RFC 7925 does; offering CCM too shows the choice.
    let s = run(
        "tinydtls_client.py",
        &psk_args(),
        Credentials::Psk,
        &[CipherSuite(0xc0a8), CipherSuite(0xc0a4)],
    );
    assert_psk(&s, CipherSuite(0xc0a8));
    assert!(s.peer_closed, "tinydtls sends close_notify: {s:?}");
}

fn mbedtls_psk(cipher: &str, suite: CipherSuite) {
    let mut args = psk_args();
    args.extend(["--cipher".into(), cipher.into()]);
    let s = run("mbedtls_client.py", &args, Credentials::Psk, &[suite]);
    assert_psk(&s, suite);
    assert!(s.peer_closed, "mbed TLS sends close_notify: {s:?}");
}

#[test]
fn mbedtls_client_psk_with_aes_128_ccm_8() {
    mbedtls_psk("TLS-PSK-WITH-AES-128-CCM-8", CipherSuite(0xc0a8));
}

#[test]
fn mbedtls_client_psk_with_aes_128_gcm() {
    mbedtls_psk("TLS-PSK-WITH-AES-128-GCM-SHA256", CipherSuite(0x00a8));
}

fn mbedtls_ecdsa(cipher: &str, suite: CipherSuite) {
    let pki = Pki::new(&format!("mbedtls-client-{cipher}"), "ec", NAME);
    let args: Vec<String> = vec![
        "--ca".into(),
        pki.path("ca.pem"),
        "--server-name".into(),
        NAME.into(),
        "--cipher".into(),
        cipher.into(),
    ];
    let s = run(
        "mbedtls_client.py",
        &args,
        Credentials::Ecdsa {
            chain_pem: pki.path("server.pem"),
            key_pem: pki.path("server.key"),
        },
        &[suite],
    );
    assert_eq!(s.negotiated.suite, Some(suite));
    assert_eq!(s.negotiated.psk, None);
    assert!(s.negotiated.group.is_some(), "ECDHE: {s:?}");
    assert!(s.peer_closed, "mbed TLS sends close_notify: {s:?}");
}

#[test]
fn mbedtls_client_ecdhe_ecdsa_with_aes_128_ccm_8() {
    mbedtls_ecdsa("TLS-ECDHE-ECDSA-WITH-AES-128-CCM-8", CipherSuite(0xc0ae));
}

#[test]
fn mbedtls_client_ecdhe_ecdsa_with_aes_128_gcm() {
    mbedtls_ecdsa(
        "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
        CipherSuite(0xc02b),
    );
}
