//! mote's DTLS 1.2 client against `gnutls-serv --udp --echo` (Debian package `gnutls-bin`):
//! TLS_PSK_WITH_AES_128_CCM_8, and ECDHE-ECDSA with a P-256 certificate (AES-128-CCM-8 and
//! AES-128-GCM). Each connection does the handshake, sends a line that gnutls-serv echoes
//! back, and closes with close_notify. The priority string pins gnutls-serv to DTLS 1.2 and
//! to the one key exchange and cipher under test (`-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8`:
//! adding `+PSK:+AES-128-CCM-8` to NORMAL alone would leave the others enabled).
//!
//! gnutls-serv binds every address, so like the TLS tests against gnutls (server_gnutls.rs)
//! each test re-executes this test binary (the same test, with `MOTE_GNUTLS_DTLS_NETNS` set)
//! under `unshare -n -p -f --kill-child`, after `ip link set lo up`; inside, the test thread
//! starts gnutls-serv on a free port and runs mote's client to 127.0.0.1. The PID namespace
//! makes the kernel kill gnutls-serv if the outer test kills `unshare`. Needs root, as CI has.

mod common;

use common::dtls_peers::{
    chain_client_config, connect_client, psk_bytes, psk_client_config, ClientBuffers, PSK_HEX,
    PSK_ID,
};
use common::{free_port, Peer, Pki};
use mote::{DtlsClientConfig, Status};
use mote_wire::{CipherSuite, SignatureScheme};
use std::process::Command;
use std::time::Duration;

const INNER: &str = "MOTE_GNUTLS_DTLS_NETNS";
const NAME: &str = "sensor.example";

/// Runs `body` in a fresh network namespace (common/netns.rs) under this file's [`INNER`].
fn in_netns(test: &str, body: impl FnOnce()) {
    common::netns::in_netns(
        INNER,
        &[("gnutls-serv", "gnutls-bin"), ("stdbuf", "coreutils")],
        test,
        body,
    )
}

/// `gnutls-serv --udp --echo` on a free port with `priority` and `args`; waits until it
/// listens on IPv4.
fn gnutls_serv(priority: &str, args: &[String]) -> (Peer, u16) {
    let port = free_port();
    let p = Peer::spawn(
        Command::new("stdbuf")
            .args(["-oL", "-eL", "gnutls-serv", "--udp", "--echo", "--nodb"])
            .args(["-p", &port.to_string()])
            .arg(format!("--priority={priority}"))
            .args(args),
    );
    assert!(
        p.wait_for("listening on IPv4", 10),
        "gnutls-serv did not start: {}",
        p.output()
    );
    (p, port)
}

/// Handshake, a line that gnutls-serv prints and echoes, close_notify (which gnutls-serv
/// reports as EOF); what was negotiated.
fn converse(cfg: &DtlsClientConfig<'_>, server: &Peer, port: u16) -> mote::DtlsNegotiated {
    let mut bufs = ClientBuffers::new();
    let mut s = connect_client(cfg, &mut bufs, port, server, "gnutls-serv");
    let neg = s.client().negotiated();
    let line = b"[{\"n\":\"temperature\",\"v\":21.5}]\n";
    s.send(line).unwrap();
    let mut buf = [0u8; 512];
    let n = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\ngnutls-serv: {}", server.output()))
        .unwrap_or_else(|| panic!("no echo\ngnutls-serv: {}", server.output()));
    assert_eq!(
        &buf[..n],
        line,
        "gnutls-serv's echo\ngnutls-serv: {}",
        server.output()
    );
    let shown = format!("Processing {} bytes command: {}", line.len(), "[{\"n\"");
    assert!(
        server.wait_for(&shown, 5),
        "gnutls-serv did not print the line: {}",
        server.output()
    );
    s.close().unwrap();
    // gnutls-serv reports the close_notify as EOF (and does not answer it: mote's side
    // stays half-closed).
    assert!(
        server.wait_for("EOF", 5),
        "gnutls-serv did not see close_notify: {}",
        server.output()
    );
    assert_eq!(s.client().status(), Status::Connected);
    assert!(
        neg.hello_verify,
        "gnutls-serv --udp sends HelloVerifyRequest"
    );
    neg
}

#[test]
fn psk_with_aes_128_ccm_8() {
    in_netns("psk_with_aes_128_ccm_8", || {
        // Named by PID and a unique suffix: the PID alone is the same for every run inside
        // the namespace.
        let dir = std::env::temp_dir().join(format!(
            "mote-gnutls-dtls-{}-{}",
            std::process::id(),
            common::netns::unique_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = dir.join("psk.passwd");
        std::fs::write(&passwd, format!("{PSK_ID}:{PSK_HEX}\n")).unwrap();
        let (server, port) = gnutls_serv(
            "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8",
            &["--pskpasswd".into(), passwd.to_string_lossy().into_owned()],
        );
        let key = psk_bytes();
        let suites = [CipherSuite(0xc0a8)];
        let cfg = psk_client_config(&suites, &key);
        let n = converse(&cfg, &server, port);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(n.suite, Some(CipherSuite(0xc0a8)));
        assert!(n.psk);
    });
}

fn ecdsa_case(cipher: &str, suite: CipherSuite) {
    // Pki's directory is named by the PID, the same for every run inside the namespace.
    let unique = common::netns::unique_suffix();
    let pki = Pki::new(&format!("gnutls-dtls-{cipher}-{unique}"), "ec", NAME);
    let (server, port) = gnutls_serv(
        &format!("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+{cipher}"),
        &[
            "--x509certfile".into(),
            pki.path("server.pem"),
            "--x509keyfile".into(),
            pki.path("server.key"),
        ],
    );
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
    assert!(n.group.is_some());
}

#[test]
fn ecdhe_ecdsa_with_aes_128_ccm_8() {
    in_netns("ecdhe_ecdsa_with_aes_128_ccm_8", || {
        ecdsa_case("AES-128-CCM-8", CipherSuite(0xc0ae))
    });
}

#[test]
fn ecdhe_ecdsa_with_aes_128_gcm() {
    in_netns("ecdhe_ecdsa_with_aes_128_gcm", || {
        ecdsa_case("AES-128-GCM", CipherSuite(0xc02b))
    });
}
