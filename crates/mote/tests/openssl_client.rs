//! The TLS 1.3 client against a real `openssl s_server` on 127.0.0.1 (Debian package
//! `openssl`): PSK with each suite, and what the server printed is checked.

mod common;

use common::{connect, pump, OsRng, Peer};
use mote::{Client, ClientConfig, ExternalPsk, Status};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::{CipherSuite, PskKeyExchangeMode};
use std::process::Command;

const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

fn psk() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn psk_server(suite: &str, no_dhe: bool) -> (Peer, u16) {
    let mut args = vec![
        "-nocert",
        "-psk",
        PSK_HEX,
        "-psk_identity",
        "sensor-0001",
        "-ciphersuites",
        suite,
    ];
    if no_dhe {
        // OpenSSL refuses psk_ke (missing_extension: no key_share) unless told otherwise.
        args.push("-allow_no_dhe_kex");
    }
    common::s_server(1, &args)
}

fn run_psk(suite: CipherSuite, name: &str, modes: &[PskKeyExchangeMode]) {
    let (server, port) = psk_server(name, !modes.contains(&PskKeyExchangeMode::PSK_DHE_KE));
    let key = psk();
    let mut cfg = ClientConfig::new();
    let suites = [suite];
    cfg.cipher_suites = &suites;
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.psk_only = true;
    cfg.psk_modes = modes;
    let (mut rx, mut tx) = (vec![0u8; 17 * 1024 + 512], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let mut s = connect(port);
    pump(&mut c, &mut s, |c| c.status() == Status::Connected)
        .unwrap_or_else(|e| panic!("{name}: {e}\nserver said:\n{}", server.output()));
    assert_eq!(c.negotiated().suite, Some(suite));
    assert!(c.negotiated().psk);
    let reading =
        format!("[{{\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.4,\"suite\":\"{name}\"}}]\n");
    assert_eq!(c.write(reading.as_bytes()).unwrap(), reading.len());
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
    assert!(
        server.wait_for(reading.trim(), 10),
        "{name}: server did not print the reading:\n{}",
        server.output()
    );
    c.close();
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
}

#[test]
fn psk_dhe_each_suite_with_openssl() {
    for (suite, name) in [
        (
            CipherSuite::TLS_AES_128_GCM_SHA256,
            "TLS_AES_128_GCM_SHA256",
        ),
        (
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
        (
            CipherSuite::TLS_AES_128_CCM_SHA256,
            "TLS_AES_128_CCM_SHA256",
        ),
        (
            CipherSuite::TLS_AES_128_CCM_8_SHA256,
            "TLS_AES_128_CCM_8_SHA256",
        ),
    ] {
        run_psk(suite, name, &[PskKeyExchangeMode::PSK_DHE_KE]);
    }
}

#[test]
fn psk_ke_without_key_share_with_openssl() {
    run_psk(
        CipherSuite::TLS_AES_128_CCM_8_SHA256,
        "TLS_AES_128_CCM_8_SHA256",
        &[PskKeyExchangeMode::PSK_KE],
    );
}

fn cert_handshake(
    key: &str,
    suite_name: &str,
    server_name: &str,
) -> Result<(Client<'static, 'static, RustCrypto>, Peer), String> {
    let pki = Box::leak(Box::new(common::Pki::new(
        &format!("{key}-{suite_name}"),
        key,
        "sensor.example",
    )));
    let (server, port) = common::s_server(
        1,
        &[
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
            "-ciphersuites",
            suite_name,
        ],
    );
    let anchors = Box::leak(Box::new([
        mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()
    ]));
    let name: &'static str = Box::leak(server_name.to_string().into_boxed_str());
    let mut cfg = ClientConfig::new();
    cfg.server_name = Some(name);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors,
        name: mote_x509::ServerName::parse(name),
    });
    let cfg: &'static ClientConfig<'static> = Box::leak(Box::new(cfg));
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 40 * 1024].into_boxed_slice());
    let tx: &'static mut [u8] = Box::leak(vec![0u8; 8 * 1024].into_boxed_slice());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut c = Client::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(now),
        rx,
        tx,
    )
    .unwrap();
    let mut s = connect(port);
    pump(&mut c, &mut s, |c| c.status() == Status::Connected)
        .map_err(|e| format!("{e}\nserver said:\n{}", server.output()))?;
    let line = format!("[{{\"n\":\"temperature\",\"v\":21.4,\"key\":\"{key}\"}}]\n");
    c.write(line.as_bytes()).unwrap();
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
    assert!(
        server.wait_for(line.trim(), 10),
        "server did not print the reading:\n{}",
        server.output()
    );
    Ok((c, server))
}

#[test]
fn certificate_handshakes_with_openssl() {
    for (key, suite) in [
        ("ec", "TLS_AES_128_GCM_SHA256"),
        ("rsa", "TLS_AES_256_GCM_SHA384"),
        ("ed25519", "TLS_CHACHA20_POLY1305_SHA256"),
    ] {
        let (c, _server) = cert_handshake(key, suite, "sensor.example")
            .unwrap_or_else(|e| panic!("{key}/{suite}: {e}"));
        assert!(!c.negotiated().psk);
        assert_eq!(c.negotiated().group, Some(mote_wire::NamedGroup::X25519));
    }
}

#[test]
fn wrong_name_is_refused_with_bad_certificate() {
    let e = cert_handshake("ec", "TLS_AES_128_GCM_SHA256", "other.example")
        .err()
        .expect("must fail");
    assert!(
        e.contains("subjectAltName does not match the server name"),
        "{e}"
    );
}

/// Keeps the last ticket the engine hands over.
#[derive(Default)]
struct LastTicket(std::sync::Mutex<Option<OwnedTicket>>);

/// suite, psk, identity, age_add, lifetime, received_at_ms
type OwnedTicket = (CipherSuite, Vec<u8>, Vec<u8>, u32, u32, u64);

impl mote::TicketStore for LastTicket {
    fn store(&self, t: &mote::TicketRef<'_>) {
        *self.0.lock().unwrap() = Some((
            t.suite,
            t.psk.to_vec(),
            t.identity.to_vec(),
            t.age_add,
            t.lifetime,
            t.received_at_ms,
        ));
    }
}

#[test]
fn resumption_with_a_ticket_from_openssl() {
    let pki = common::Pki::new("resume", "ec", "sensor.example");
    let (server, port) = common::s_server(
        2,
        &[
            "-cert",
            &pki.path("server.pem"),
            "-key",
            &pki.path("server.key"),
        ],
    );
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let store = LastTicket::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut cfg = ClientConfig::new();
    cfg.server_name = Some("sensor.example");
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse("sensor.example"),
    });
    cfg.ticket_store = Some(&store);
    {
        let (mut rx, mut tx) = (vec![0u8; 40 * 1024], vec![0u8; 8192]);
        let mut c = Client::new(
            RustCrypto,
            &cfg,
            &mut OsRng,
            mote::UnixTime::from_secs(now),
            &mut rx,
            &mut tx,
        )
        .unwrap();
        let mut s = connect(port);
        pump(&mut c, &mut s, |c| c.status() == Status::Connected).unwrap();
        c.write(b"first\n").unwrap();
        // OpenSSL sends its tickets after the client's Finished.
        pump(&mut c, &mut s, |c| c.negotiated().tickets_received > 0).unwrap();
        assert!(server.wait_for("first", 10));
        c.close();
        let _ = pump(&mut c, &mut s, |c| c.transmit().is_empty());
    }
    let (suite, psk, identity, age_add, lifetime, received_at) =
        store.0.lock().unwrap().clone().expect("a ticket");
    cfg.resume = Some(mote::TicketRef {
        suite,
        psk: &psk,
        identity: &identity,
        age_add,
        lifetime,
        received_at_ms: received_at,
        max_early_data: 0,
    });
    let (mut rx, mut tx) = (vec![0u8; 40 * 1024], vec![0u8; 8192]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(now),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let mut s = connect(port);
    pump(&mut c, &mut s, |c| c.status() == Status::Connected)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.output()));
    assert!(
        c.negotiated().resumed,
        "the server did not accept the ticket"
    );
    assert_eq!(
        c.negotiated().server_signature,
        None,
        "a resumed handshake has no certificate"
    );
    c.write(b"second\n").unwrap();
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
    assert!(server.wait_for("second", 10), "{}", server.output());
    assert!(
        server.output().contains("Reused"),
        "s_server did not report a reused session:\n{}",
        server.output()
    );
}

#[test]
fn key_update_both_ways_with_openssl() {
    let (mut server, port) = psk_server("TLS_AES_128_GCM_SHA256", false);
    let key = psk();
    let mut cfg = ClientConfig::new();
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.psk_only = true;
    let (mut rx, mut tx) = (vec![0u8; 17 * 1024 + 512], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let mut s = connect(port);
    pump(&mut c, &mut s, |c| c.status() == Status::Connected).unwrap();
    // Ask OpenSSL to update too: it answers with its own KeyUpdate, which mote must follow.
    c.key_update(true).unwrap();
    c.write(b"after-key-update\n").unwrap();
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
    assert!(
        server.wait_for("after-key-update", 10),
        "{}",
        server.output()
    );
    server.stdin("from-server-after-update\n");
    pump(&mut c, &mut s, |c| c.has_app_data()).unwrap();
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf);
    assert_eq!(
        &buf[..n],
        b"from-server-after-update\n",
        "{}",
        server.output()
    );
}

/// A device-sized client: 512-byte records (max_fragment_length, which OpenSSL honours) and
/// a 1.3 KB receive buffer, against a server whose chain (leaf + intermediate, ~1 KB of
/// certificates) does not fit the buffer whole: the chain is validated as it streams in.
#[test]
fn small_buffers_stream_a_two_certificate_chain() {
    let pki = common::Pki::new("chain", "ec", "sensor.example");
    let dir = &pki.dir;
    let ossl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    // An intermediate CA under the test CA, and a leaf under the intermediate.
    ossl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=mote test intermediate",
        "-keyout",
        "int.key",
        "-out",
        "int.csr",
    ]);
    std::fs::write(
        dir.join("int.cnf"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n",
    )
    .unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "int.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "int.cnf",
        "-out",
        "int.pem",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=leaf",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    ossl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "int.pem",
        "-CAkey",
        "int.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        "-out",
        "leaf.pem",
    ]);
    let (server, port) = common::s_server(
        1,
        &[
            "-cert",
            &pki.path("leaf.pem"),
            "-key",
            &pki.path("leaf.key"),
            "-cert_chain",
            &pki.path("int.pem"),
        ],
    );
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let mut cfg = ClientConfig::new();
    cfg.server_name = Some("sensor.example");
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse("sensor.example"),
    });
    cfg.max_fragment_length = Some(mote_wire::MaxFragmentLength::L512);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (mut rx, mut tx) = (vec![0u8; 1300], vec![0u8; 1024]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(now),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let mut s = connect(port);
    pump(&mut c, &mut s, |c| c.status() == Status::Connected)
        .unwrap_or_else(|e| panic!("{e}\n{}", server.output()));
    assert!(c.negotiated().max_fragment_length.is_some());
    c.write(b"small-buffers\n").unwrap();
    pump(&mut c, &mut s, |c| c.transmit().is_empty()).unwrap();
    assert!(server.wait_for("small-buffers", 10), "{}", server.output());
    // The chain really was larger than the receive buffer.
    let chain_len: usize = ["leaf.pem", "int.pem"]
        .iter()
        .map(|f| {
            let o = Command::new("openssl")
                .args(["x509", "-in", f, "-outform", "DER"])
                .current_dir(dir)
                .output()
                .unwrap();
            o.stdout.len()
        })
        .sum();
    assert!(
        chain_len + 512 > 1300,
        "the chain ({chain_len} bytes) should not fit beside a record"
    );
}
