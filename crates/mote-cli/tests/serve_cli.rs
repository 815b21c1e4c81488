//! `mote serve` and `mote readings` end to end: the real binary on 127.0.0.1 (port 0, the
//! port read from the line it prints), fed by `mote send` and `openssl s_client -tls1_3`
//! (Debian package `openssl`), each test with its own database.

mod common;

use common::collector::{mote, send, Collector, PSK_HEX, PSK_ID};
use common::openssl::s_client;
use common::proc::Proc;
use common::tools::{require, TempDir};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn psk_client(addr: &str) -> Proc {
    require("openssl", "openssl");
    s_client(&[
        "-connect",
        addr,
        "-tls1_3",
        "-psk_identity",
        PSK_ID,
        "-psk",
        PSK_HEX,
        "-quiet",
    ])
}

/// Waits (bounded) until `p` printed `needle`, with the collector's output on failure.
fn expect(p: &Proc, needle: &str, c: &Collector) {
    assert!(
        p.wait_for(needle, 10),
        "no {needle:?} from the client: {}\ncollector: {}",
        p.output(),
        c.proc.output()
    );
}

#[test]
fn psk_readings_from_mote_send_are_stored_and_listed() {
    let dir = TempDir::new("serve-psk");
    let c = Collector::psk(&dir, &[]);
    send(
        &c.addr,
        &[
            "--psk-identity",
            PSK_ID,
            "--psk",
            PSK_HEX,
            "--device",
            PSK_ID,
            "--count",
            "5",
            "--interval",
            "1",
        ],
    );
    assert!(c.proc.wait_for(" answered", 10), "{}", c.proc.output());
    let r = c.readings(&["--device", PSK_ID]);
    assert_eq!(r.len(), 5, "{r:?}\n{}", c.proc.output());
    for x in &r {
        assert_eq!(x["device"], PSK_ID);
        assert_eq!(x["name"], "urn:dev:mote:dev1:temperature");
        assert_eq!(x["unit"], "Cel");
        assert!(x["value"].is_f64());
    }
    assert!(c.readings(&["--device", "other"]).is_empty());
    assert!(c.readings(&["--since", "1h"]).len() == 5);
    // The table and CSV forms list the same readings.
    let t = mote()
        .args(["readings", "--db", &c.db, "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&t.stdout).lines().count(), 6);
}

#[test]
fn openssl_psk_client_gets_ack_error_and_duplicate_ack() {
    let dir = TempDir::new("serve-openssl");
    let c = Collector::psk(&dir, &[]);
    let mut p = psk_client(&c.addr);
    p.send_line(r#"[{"bn":"urn:dev:mote:dev1:","n":"humidity","u":"%RH","v":41.5,"seq":1}]"#);
    expect(&p, "ack 1", &c);
    // Another device's name: refused, naming the sequence and the rule.
    p.send_line(r#"[{"n":"urn:dev:mote:dev2:humidity","v":40,"seq":2}]"#);
    expect(&p, "error 2 ", &c);
    assert!(p.output().contains("another's name"), "{}", p.output());
    // Not SenML: refused, with no sequence to name.
    p.send_line(r#"{"v":1}"#);
    expect(&p, "error ? a SenML pack is a JSON array", &c);
    // The same sequence again, other content: acknowledged, stored once.
    p.send_line(r#"[{"bn":"urn:dev:mote:dev1:","n":"humidity","v":99,"seq":1}]"#);
    p.send_line(r#"[{"bn":"urn:dev:mote:dev1:","n":"humidity","v":42,"seq":3}]"#);
    expect(&p, "ack 3", &c);
    assert_eq!(p.output().matches("ack 1\n").count(), 2, "{}", p.output());
    let r = c.readings(&[]);
    let values: Vec<f64> = r.iter().map(|x| x["value"].as_f64().unwrap()).collect();
    assert_eq!(values, [41.5, 42.0], "{r:?}");
    assert_eq!(r[0]["seq"], 1);
    assert_eq!(r[0]["unit"], "%RH");
}

#[test]
fn mote_send_readings_file_for_another_device_is_refused_and_duplicates_stored_once() {
    let dir = TempDir::new("serve-file");
    let c = Collector::psk(&dir, &[]);
    let file = dir.write(
        "lines.json",
        concat!(
            r#"[{"bn":"urn:dev:mote:dev1:","n":"t","v":1,"seq":10}]"#,
            "\n",
            r#"[{"n":"urn:dev:mote:dev9:t","v":2,"seq":11}]"#,
            "\n",
            r#"[{"bn":"urn:dev:mote:dev1:","n":"t","v":1,"seq":10}]"#,
            "\n",
            r#"[{"bn":"urn:dev:mote:dev1:","n":"t","v":3,"seq":12}]"#,
            "\n",
        ),
    );
    send(
        &c.addr,
        &[
            "--psk-identity",
            PSK_ID,
            "--psk",
            PSK_HEX,
            "--readings",
            &file,
            "--interval",
            "0",
        ],
    );
    assert!(c.proc.wait_for(" answered", 10), "{}", c.proc.output());
    let log = c.proc.output();
    assert!(log.contains("refused 11"), "{log}");
    assert!(log.contains("another's name"), "{log}");
    let r = c.readings(&[]);
    let seqs: Vec<i64> = r.iter().map(|x| x["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [10, 12], "{r:?}\n{log}");
}

/// A collector with a server certificate and `--client-ca`: devices are named by their
/// certificates (`urn:dev:mote:ID` URI name, else commonName).
fn cert_collector(dir: &TempDir) -> (Collector, String) {
    let (cert, key) = common::pki::self_signed(
        dir,
        "server.pem",
        "server.key",
        "/CN=localhost",
        &["subjectAltName=DNS:localhost"],
    );
    common::pki::ca(dir, "devices", "/CN=mote devices", &[]);
    for (name, subject, ext) in [
        ("dev7", "/CN=dev7", "extendedKeyUsage=clientAuth\n"),
        (
            "dev8",
            "/CN=not-the-id",
            "extendedKeyUsage=clientAuth\nsubjectAltName=URI:urn:dev:mote:dev8\n",
        ),
    ] {
        common::pki::issue(dir, "devices", name, common::pki::P256, subject, ext);
    }
    let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
    let c = Collector::start(
        dir,
        &[
            "--cert",
            &cert,
            "--key",
            &key,
            "--client-ca",
            &dir.path("devices.pem"),
        ],
    );
    (c, cert.to_string())
}

#[test]
fn client_certificates_name_the_device() {
    let dir = TempDir::new("serve-cert");
    let (c, ca) = cert_collector(&dir);
    for (dev, n) in [("dev7", "2"), ("dev8", "3")] {
        let (cert, key) = (
            dir.path(&format!("{dev}.pem")),
            dir.path(&format!("{dev}.key")),
        );
        let o = send(
            &c.addr,
            &[
                "--ca",
                &ca,
                "--server-name",
                "localhost",
                "--client-cert",
                &cert,
                "--client-key",
                &key,
                "--device",
                dev,
                "--count",
                n,
                "--interval",
                "0.2",
                "--ack",
            ],
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("server signed with ecdsa_secp256r1_sha256"),
            "{out}"
        );
        assert!(out.contains("client certificate sent"), "{out}");
        assert!(out.contains(&format!("{n} acknowledged")), "{out}");
    }
    assert_eq!(
        c.readings(&["--device", "dev7"]).len(),
        2,
        "{}",
        c.proc.output()
    );
    assert_eq!(
        c.readings(&["--device", "dev8"]).len(),
        3,
        "{}",
        c.proc.output()
    );
    // dev7's certificate does not let it write as dev8.
    let (cert, key) = (dir.path("dev7.pem"), dir.path("dev7.key"));
    let o = mote()
        .args(["send", &c.addr, "--ca", &ca, "--server-name", "localhost"])
        .args([
            "--client-cert",
            &cert,
            "--client-key",
            &key,
            "--device",
            "dev8",
        ])
        .args(["--count", "1", "--ack"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("another's name"));
    // Without a client certificate the handshake is refused (certificate_required).
    let o = mote()
        .args([
            "send",
            &c.addr,
            "--ca",
            &ca,
            "--server-name",
            "localhost",
            "--count",
            "1",
        ])
        .args(["--ack", "--retry-for", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("certificate_required"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(c.readings(&[]).len(), 5);
}

#[test]
fn sigterm_stops_cleanly_with_close_notify() {
    let dir = TempDir::new("serve-term");
    let mut c = Collector::psk(&dir, &[]);
    let mut p = psk_client(&c.addr);
    p.send_line(r#"[{"bn":"urn:dev:mote:dev1:","n":"t","v":5,"seq":1}]"#);
    expect(&p, "ack 1", &c);
    c.signal("-TERM");
    assert_eq!(c.proc.exit_code(15), Some(0), "{}", c.proc.output());
    let log = c.proc.output();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(
        log.contains("server stopping; closed with close_notify"),
        "{log}"
    );
    assert!(log.contains("mote serve: stopped"), "{log}");
    // s_client saw the close_notify and ended.
    assert!(p.wait_within(10).is_some(), "{}", p.output());
    assert_eq!(c.readings(&[]).len(), 1);
}

#[test]
fn sigint_stops_an_idle_collector() {
    let dir = TempDir::new("serve-int");
    let mut c = Collector::psk(&dir, &[]);
    c.signal("-INT");
    assert_eq!(c.proc.exit_code(15), Some(0), "{}", c.proc.output());
    assert!(c.readings(&[]).is_empty());
}

/// Reads until EOF or error; how long that took.
fn time_to_close(mut s: TcpStream, limit: Duration) -> Duration {
    s.set_read_timeout(Some(limit)).unwrap();
    let start = Instant::now();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return start.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn handshake_timeout_drops_a_silent_or_slow_client() {
    let dir = TempDir::new("serve-hs-timeout");
    let c = Collector::psk(&dir, &["--handshake-timeout", "1"]);
    let silent = TcpStream::connect(&c.addr).unwrap();
    let t = time_to_close(silent, Duration::from_secs(10));
    assert!(t < Duration::from_secs(5), "{t:?}");
    // A byte at a time: a record header that never completes.
    let mut slow = TcpStream::connect(&c.addr).unwrap();
    let start = Instant::now();
    let mut dropped = false;
    for b in [0x16u8, 0x03, 0x01, 0x00] {
        std::thread::sleep(Duration::from_millis(600));
        if slow.write_all(&[b]).is_err() {
            dropped = true;
            break;
        }
    }
    if !dropped {
        let t = time_to_close(slow, Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(6), "{t:?}");
    }
    assert!(
        c.proc
            .wait_for("no handshake within the handshake timeout", 5),
        "{}",
        c.proc.output()
    );
}

#[test]
fn idle_timeout_drops_a_client_that_sends_nothing() {
    let dir = TempDir::new("serve-idle");
    let c = Collector::psk(&dir, &["--idle-timeout", "1"]);
    let mut p = psk_client(&c.addr);
    assert!(
        c.proc.wait_for("connected: TLS 1.3", 10),
        "{}",
        c.proc.output()
    );
    assert!(c.proc.wait_for("idle timeout", 5), "{}", c.proc.output());
    // s_client saw the close_notify and ended.
    assert!(p.wait_within(10).is_some(), "{}", p.output());
}

#[test]
fn max_connections_refuses_the_one_too_many() {
    let dir = TempDir::new("serve-max");
    let c = Collector::psk(&dir, &["--max-connections", "1"]);
    let _held = TcpStream::connect(&c.addr).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = TcpStream::connect(&c.addr).unwrap();
    let t = time_to_close(second, Duration::from_secs(5));
    assert!(t < Duration::from_secs(2), "{t:?}");
    assert!(
        c.proc.wait_for("refused: 1 connections open", 5),
        "{}",
        c.proc.output()
    );
}

/// `mote serve` on a free port of 127.0.0.1 with its database in `dir`, and no credentials
/// yet.
fn serve_on_any_port(dir: &TempDir) -> Command {
    let mut c = mote();
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        &dir.path("r.sqlite"),
    ]);
    c
}

#[test]
fn refuses_to_start_without_credentials() {
    let dir = TempDir::new("serve-nocred");
    let o = serve_on_any_port(&dir).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no way to identify devices"));
    // A server certificate alone identifies no device.
    let (cert, key) = common::pki::self_signed(&dir, "s.pem", "s.key", "/CN=localhost", &[]);
    let o = serve_on_any_port(&dir)
        .args([
            "--cert",
            &cert.to_string_lossy(),
            "--key",
            &key.to_string_lossy(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--client-ca"));
}

#[test]
fn idle_timeout_drops_a_client_that_sends_a_byte_at_a_time() {
    use mote::{Client, ClientConfig, ExternalPsk};
    use mote_crypto::rustcrypto::RustCrypto;
    use mote_crypto::HashAlgorithm;
    use mote_std::{Buffers, OsRng, TlsStream};
    let dir = TempDir::new("serve-slow");
    let c = Collector::psk(&dir, &["--idle-timeout", "1"]);
    let key: Vec<u8> = (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut cfg = ClientConfig::new();
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.psk_only = true;
    let mut bufs = Buffers::full();
    let sock = TcpStream::connect(&c.addr).unwrap();
    let client = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    )
    .unwrap();
    let mut tls = TlsStream::connect(client, sock).unwrap();
    let line = br#"[{"bn":"urn:dev:mote:dev1:","n":"t","v":1,"seq":1}]"#;
    let start = Instant::now();
    for b in line {
        // Each byte resets no timer: the line as a whole must arrive within 1 s.
        if tls.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if start.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    assert!(c.proc.wait_for("idle timeout", 5), "{}", c.proc.output());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{}",
        c.proc.output()
    );
    assert!(c.readings(&[]).is_empty());
}
