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

use common::{free_port, require_tool, Peer, Pki};
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::{DtlsSocket, OsRng};
use mote_wire::{CipherSuite, SignatureScheme};
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

const INNER: &str = "MOTE_GNUTLS_DTLS_NETNS";
const PSK_ID: &str = "sensor-1";
const PSK_HEX: &str = "00112233445566778899aabbccddeeff";
const NAME: &str = "sensor.example";

/// Runs `body` in a fresh network namespace: outside it, re-executes this test there and
/// checks that it passed; inside, runs it.
fn in_netns(test: &str, body: impl FnOnce()) {
    if std::env::var_os(INNER).is_some() {
        body();
        return;
    }
    for (tool, package) in [
        ("gnutls-serv", "gnutls-bin"),
        ("openssl", "openssl"),
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
        ("stdbuf", "coreutils"),
    ] {
        require_tool(tool, package);
    }
    let exe = std::env::current_exe().unwrap();
    let mut inner = Peer::spawn(
        Command::new("unshare")
            .args(["-n", "-p", "-f", "--kill-child", "sh", "-c"])
            .arg(r#"ip link set lo up || { echo "ip link set lo up failed"; exit 97; }; exec "$0" "$@""#)
            .arg(&exe)
            .args(["--exact", test, "--include-ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(INNER, "1"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = inner.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "{test} did not finish in 60 s in the namespace:\n{}",
            inner.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the output threads drain.
    inner.wait_for("test result:", 2);
    let out = inner.output();
    assert_ne!(
        status.code(),
        Some(97),
        "the namespace did not come up (unshare needs root):\n{out}"
    );
    assert!(
        status.success() && out.contains("1 passed"),
        "{test} failed in the namespace ({status}):\n{out}"
    );
}

fn psk_bytes() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
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
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let c = DtlsClient::new(RustCrypto, cfg, &mut OsRng, now, &mut rx, 4096, &mut tx).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(("127.0.0.1", port)).unwrap();
    let mut s = DtlsSocket::connect(c, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\ngnutls-serv: {}", server.output()));
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
        let dir = std::env::temp_dir().join(format!("mote-gnutls-dtls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = dir.join("psk.passwd");
        std::fs::write(&passwd, format!("{PSK_ID}:{PSK_HEX}\n")).unwrap();
        let (server, port) = gnutls_serv(
            "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8",
            &["--pskpasswd".into(), passwd.to_string_lossy().into_owned()],
        );
        let key = psk_bytes();
        let mut cfg = DtlsClientConfig::new();
        let suites = [CipherSuite(0xc0a8)];
        cfg.cipher_suites = &suites;
        cfg.psk = Some(ExternalPsk {
            identity: PSK_ID.as_bytes(),
            key: &key,
            hash: HashAlgorithm::Sha256,
        });
        let n = converse(&cfg, &server, port);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(n.suite, Some(CipherSuite(0xc0a8)));
        assert!(n.psk);
    });
}

fn ecdsa_case(cipher: &str, suite: CipherSuite) {
    let pki = Pki::new(&format!("gnutls-dtls-{cipher}"), "ec", NAME);
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
