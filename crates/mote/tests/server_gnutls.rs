//! mote's Server against `gnutls-cli` (Debian package `gnutls-bin`): an ECDSA P-256
//! certificate, external PSKs with psk_ke and psk_dhe_ke, and gnutls' `--recordsize 512`
//! (RFC 8449 record_size_limit), which every record the server sends must respect. Each
//! connection carries lines both ways: the server answers each line with `ack <line>` and
//! closes after `bye`.
//!
//! Like the `mote send` tests against gnutls-serv, the peers run in a private network
//! namespace with only `lo`: each test re-executes this test binary (the same test, with
//! `MOTE_GNUTLS_NETNS` set) under `unshare -n -p -f --kill-child`, after `ip link set lo up`.
//! Inside, the test thread runs mote's server on a free port of 127.0.0.1 and starts
//! gnutls-cli; the PID namespace makes the kernel kill gnutls-cli if the outer test kills
//! `unshare` (on its timeout, or when a failed test drops it). Needs root, as CI has.

mod common;

use common::tls_serve::{identity_config, serve_echo_one, EchoServed};
use common::{Peer, Pki};
use mote::{ExternalPsk, ServerConfig};
use mote_crypto::HashAlgorithm;
use mote_wire::{NamedGroup, SignatureScheme};
use std::net::TcpListener;
use std::process::Command;

const INNER: &str = "MOTE_GNUTLS_NETNS";
const NAME: &str = "collector.example";
const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const PSK_ID: &str = "sensor-0001";
const TLS13: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

/// Runs `body` in a fresh network namespace (common/netns.rs) under this file's [`INNER`].
fn in_netns(test: &str, body: impl FnOnce()) {
    common::netns::in_netns(INNER, &[("gnutls-cli", "gnutls-bin")], test, body)
}

/// What the server saw of one connection.
type Served = EchoServed;

fn serve_one(listener: &TcpListener, cfg: &ServerConfig<'_>) -> Result<Served, String> {
    serve_echo_one(listener, cfg, "gnutls-cli did not connect")
}

/// Runs gnutls-cli with `args` against one mote connection with `cfg`, sending `lines` then
/// `bye`; checks that the server received each and gnutls-cli printed each answer.
fn run(cfg: &ServerConfig<'_>, args: &[&str], lines: &[String], what: &str) -> (Peer, Served) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Peer::spawn(
        Command::new("gnutls-cli")
            .args(["-p", &port.to_string(), "127.0.0.1"])
            .args(args),
    );
    let mut sent: Vec<String> = lines.to_vec();
    sent.push("bye".into());
    client.stdin(&(sent.join("\n") + "\n"));
    let served = serve_one(&listener, cfg)
        .unwrap_or_else(|e| panic!("{what}: {e}\ngnutls-cli said:\n{}", client.output()));
    assert_eq!(served.echo.lines, sent, "{what}: lines the server received");
    assert!(served.echo.server_closed_first, "{what}");
    for l in &sent {
        assert!(
            client.wait_for(&format!("ack {l}"), 10),
            "{what}: gnutls-cli did not print `ack {l}`:\n{}",
            client.output()
        );
    }
    (client, served)
}

fn readings(what: &str) -> Vec<String> {
    vec![
        format!("[{{\"n\":\"temperature\",\"v\":21.4,\"case\":\"{what}\"}}]"),
        format!("[{{\"n\":\"humidity\",\"v\":40,\"case\":\"{what}\"}}]"),
    ]
}

/// A certificate handshake (ECDSA P-256, chain checked by gnutls-cli against the CA and the
/// name) with gnutls-cli `extra` arguments; returns gnutls-cli and what the server saw.
fn certificate_case(tag: &str, extra: &[&str], lines: &[String]) -> (Peer, Served, Pki) {
    // PIDs repeat across namespaces (this process is 1 in its own): the tag alone names
    // the directory.
    let pki = Pki::new(tag, "ec", NAME);
    let (leaf, signer) = pki.ecdsa_leaf_and_signer();
    let chain = [leaf.as_slice()];
    let cfg = identity_config(&chain, &signer);
    let ca = pki.path("ca.pem");
    let mut args = vec![
        "--x509cafile",
        &ca,
        "--verify-hostname",
        NAME,
        "--sni-hostname",
        NAME,
        "--priority",
        TLS13,
    ];
    args.extend_from_slice(extra);
    let (client, served) = run(&cfg, &args, lines, tag);
    let out = client.output();
    assert!(out.contains("Handshake was completed"), "{out}");
    assert!(
        out.contains("The certificate is trusted"),
        "gnutls-cli did not verify the chain:\n{out}"
    );
    assert_eq!(
        served.neg.server_signature,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
    assert!(!served.neg.psk, "{:?}", served.neg);
    (client, served, pki)
}

#[test]
fn ecdsa_p256_certificate() {
    in_netns("ecdsa_p256_certificate", || {
        let lines = readings("ecdsa");
        let (client, served, _pki) = certificate_case("mote-gnutls-cli-ecdsa", &[], &lines);
        assert_eq!(
            served.neg.group,
            Some(NamedGroup::X25519),
            "{:?}",
            served.neg
        );
        let out = client.output();
        assert!(out.contains("(TLS1.3-X.509)-(ECDHE-X25519)"), "{out}");
    });
}

fn psk_case(what: &str, priority: &str) -> Served {
    let key: Vec<u8> = (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let psks = [ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let mut cfg = ServerConfig::new();
    cfg.psks = &psks;
    let args = [
        "--pskusername",
        PSK_ID,
        "--pskkey",
        PSK_HEX,
        "--priority",
        priority,
    ];
    let (client, served) = run(&cfg, &args, &readings(what), what);
    let out = client.output();
    assert!(out.contains("Handshake was completed"), "{out}");
    assert!(served.neg.psk && !served.neg.resumed, "{:?}", served.neg);
    assert_eq!(served.psk_identity.as_deref(), Some(PSK_ID));
    assert_eq!(
        served.neg.client_identity,
        Some(mote::ClientId::Psk(0)),
        "{:?}",
        served.neg
    );
    assert_eq!(served.neg.server_signature, None);
    served
}

#[test]
fn psk_ke() {
    in_netns("psk_ke", || {
        let served = psk_case("psk-ke", &format!("{TLS13}:-KX-ALL:+PSK"));
        assert_eq!(served.neg.group, None, "psk_ke uses no (EC)DHE");
    });
}

#[test]
fn psk_dhe_ke() {
    in_netns("psk_dhe_ke", || {
        let served = psk_case("psk-dhe", &format!("{TLS13}:-KX-ALL:+ECDHE-PSK"));
        assert!(served.neg.group.is_some(), "{:?}", served.neg);
    });
}

#[test]
fn record_size_limit_512() {
    in_netns("record_size_limit_512", || {
        // An answer of several 512-byte records, asked for with a short line: with
        // --recordsize 512, gnutls-cli 3.7.9 did not deliver a 2.4 KB stdin line whole
        // (the server never saw its newline), so the long data goes server to client.
        let mut lines = readings("rsl");
        lines.push("big 3000".into());
        let (client, served, _pki) =
            certificate_case("mote-gnutls-cli-rsl", &["--recordsize", "512"], &lines);
        let long = format!("ack big 3000: {}", common::big_answer(3000));
        assert!(
            client.output().lines().any(|l| l == long),
            "gnutls-cli did not print the long answer whole:\n{}",
            client.output()
        );
        // RFC 8449 section 4: the TLS 1.3 limit counts the inner content type, so gnutls
        // offers 512 + 1.
        let limit = served.neg.peer_record_size_limit;
        assert_eq!(limit, Some(513), "{:?}", served.neg);
        // Every record on the wire: header, at most 512 bytes of content, the content type
        // and a 16-byte tag.
        let max = 5 + 512 + 1 + 16;
        let over: Vec<_> = served.written.iter().filter(|w| w.1 > max).collect();
        assert!(over.is_empty(), "records over {max}: {over:?}");
        // The limit was used, not something smaller: the server's flight and the long answer
        // came in full-size records.
        let full = served.written.iter().filter(|w| w.1 == max).count();
        assert!(full >= 5, "{:?}", served.written);
    });
}
