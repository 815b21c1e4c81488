//! mote's DTLS 1.2 server against `gnutls-cli --udp` (Debian package `gnutls-bin`):
//! TLS_PSK_WITH_AES_128_CCM_8, and ECDHE-ECDSA with a P-256 certificate (AES-128-CCM-8 and
//! AES-128-GCM) that gnutls-cli verifies against the test CA and the name sensor.example.
//! The priority string pins gnutls-cli to DTLS 1.2 and to the one key exchange and cipher
//! under test, while mote's server offers all its defaults, so the suite checked on mote's
//! side is the one the client insisted on.
//!
//! mote's server (common/dtls_peers.rs) listens on 127.0.0.1 and answers the first
//! ClientHello with a HelloVerifyRequest; gnutls-cli sends the line written to its standard
//! input, mote's server answers `ack <line>`, gnutls-cli prints it, and closing its standard
//! input makes it send close_notify, which mote's server waits for.
//!
//! As the tests against gnutls-serv (dtls12_gnutls.rs), each test re-executes this test
//! binary (the same test, with `MOTE_GNUTLS_DTLS_SERVER_NETNS` set) under
//! `unshare -n -p -f --kill-child` after `ip link set lo up`: gnutls-cli and mote's server
//! then have a loopback of their own, and the PID namespace makes the kernel kill gnutls-cli
//! if the outer test kills `unshare`. Needs root, as CI has.

mod common;

use common::dtls_peers::{Credentials, MoteDtlsServer, Served, LINE, PSK_HEX, PSK_ID};
use common::{require_tool, Peer, Pki};
use mote_wire::CipherSuite;
use std::process::Command;

const INNER: &str = "MOTE_GNUTLS_DTLS_SERVER_NETNS";
const NAME: &str = "sensor.example";

/// Runs `body` in a fresh network namespace (common/netns.rs) under this file's [`INNER`].
fn in_netns(test: &str, body: impl FnOnce()) {
    common::netns::in_netns(
        INNER,
        &[("gnutls-cli", "gnutls-bin"), ("stdbuf", "coreutils")],
        test,
        body,
    )
}

/// `gnutls-cli --udp` with `priority` and `args` against mote's server started with
/// `creds`: the line, the answer, close_notify; what the server saw.
fn converse(creds: Credentials, priority: &str, args: &[String]) -> Served {
    // mote's defaults, RFC 7925's suites first: the client's priority decides.
    let server = MoteDtlsServer::start(creds, mote::DtlsServerConfig::new().cipher_suites);
    let mut client = Peer::spawn(
        Command::new("stdbuf")
            .args(["-oL", "-eL", "gnutls-cli", "--udp"])
            .args(["-p", &server.port.to_string()])
            .arg(format!("--priority={priority}"))
            .args(args)
            .arg("127.0.0.1"),
    );
    // gnutls-cli reads its standard input once the handshake is done.
    client.stdin(&format!("{LINE}\n"));
    assert!(
        client.wait_for(&format!("ack {LINE}"), 15),
        "gnutls-cli did not print the answer:\n{}",
        client.output()
    );
    // End of input: gnutls-cli sends close_notify and exits.
    drop(client.child.stdin.take());
    let served = server.finish(15, || client.output());
    assert_eq!(
        served.line,
        format!("{LINE}\n").as_bytes(),
        "the client's line"
    );
    assert!(
        served.peer_closed,
        "no close_notify from gnutls-cli: {served:?}\n{}",
        client.output()
    );
    assert!(
        client.output().contains("Handshake was completed"),
        "{}",
        client.output()
    );
    served
}

#[test]
fn psk_with_aes_128_ccm_8() {
    in_netns("psk_with_aes_128_ccm_8", || {
        require_tool("gnutls-cli", "gnutls-bin");
        let s = converse(
            Credentials::Psk,
            "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+AES-128-CCM-8",
            &[
                format!("--pskusername={PSK_ID}"),
                format!("--pskkey={PSK_HEX}"),
            ],
        );
        assert_eq!(s.negotiated.suite, Some(CipherSuite(0xc0a8)));
        assert_eq!(s.negotiated.psk, Some(0));
        assert_eq!(s.psk_identity.as_deref(), Some(PSK_ID.as_bytes()));
        assert_eq!(s.negotiated.group, None);
    });
}

fn ecdsa_case(cipher: &str, suite: CipherSuite) {
    require_tool("gnutls-cli", "gnutls-bin");
    // Pki's directory is named by the PID, the same for every run inside the namespace.
    let unique = common::netns::unique_suffix();
    let pki = Pki::new(&format!("gnutls-cli-dtls-{cipher}-{unique}"), "ec", NAME);
    let s = converse(
        Credentials::Ecdsa {
            chain_pem: pki.path("server.pem"),
            key_pem: pki.path("server.key"),
        },
        &format!("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+{cipher}"),
        &[
            format!("--x509cafile={}", pki.path("ca.pem")),
            format!("--verify-hostname={NAME}"),
            format!("--sni-hostname={NAME}"),
        ],
    );
    assert_eq!(s.negotiated.suite, Some(suite));
    assert_eq!(s.negotiated.psk, None);
    assert!(s.negotiated.group.is_some(), "ECDHE: {s:?}");
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
