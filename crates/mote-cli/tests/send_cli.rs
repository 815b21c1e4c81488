//! `mote send` end to end: the real binary against real servers on 127.0.0.1, checking its
//! exit code and output and what the server printed.
//!
//! Here: `openssl s_server` (Debian package `openssl`) with ECDSA P-256 and RSA-2048
//! certificates, an SPKI pin, PSK with the AES-GCM and both CCM suites, RFC 6066
//! max_fragment_length, a client certificate, and refusals (expired certificate, wrong
//! name, unknown issuer, wrong pin) that must exit 1 naming the check that failed.
//! `send_cli/gnutls.rs`: `gnutls-serv` (package `gnutls-bin`) in a network namespace.
//!
//! Expired certificate: OpenSSL 3.0 (Debian 12) has no `x509 -not_after` and no faketime is
//! installed, so the certificate is issued by `openssl ca -startdate 20200101000000Z
//! -enddate 20200201000000Z` (see `send_cli/support.rs`), which works on every OpenSSL 3.

mod common;
#[path = "send_cli/gnutls.rs"]
mod gnutls;
#[path = "send_cli/support.rs"]
mod support;

use common::openssl::tls13_server;
use common::proc::Proc as Peer;
use common::tools::free_tcp_port;
use std::process::Output;
use support::{mote_send, readings, text, Pki, NAME, PSK_HEX, PSK_ID};

/// `openssl s_server` for one connection; its stdin stays open (it exits at end of input).
fn s_server(args: &[&str]) -> (Peer, String) {
    let port = free_tcp_port();
    (tls13_server(port, 1, args), format!("127.0.0.1:{port}"))
}

fn cert_server(pki: &Pki, cert: &str, key: &str, extra: &[&str]) -> (Peer, String) {
    let (c, k) = (pki.path(cert), pki.path(key));
    let mut a = vec!["-cert", &c, "-key", &k];
    a.extend_from_slice(extra);
    s_server(&a)
}

fn context(o: &Output, server: &Peer) -> String {
    format!(
        "exit {:?}\n--- mote stdout\n{}--- mote stderr\n{}--- s_server\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr),
        server.output()
    )
}

/// mote send exited 0 after sending every line, and s_server printed each one.
fn assert_sent(o: &Output, server: &Peer, lines: &[String]) {
    assert_exchange(o, server, lines.len(), lines);
}

/// mote send exited 0 after sending `sent` lines, and s_server printed each of `printed`.
fn assert_exchange(o: &Output, server: &Peer, sent: usize, printed: &[String]) {
    assert_eq!(o.status.code(), Some(0), "{}", context(o, server));
    let out = text(&o.stdout);
    assert!(out.contains("connected: TLS 1.3"), "{}", context(o, server));
    assert!(
        out.contains(&format!("closed with close_notify: {sent} readings sent")),
        "{}",
        context(o, server)
    );
    for l in printed {
        assert!(
            server.wait_for(l, 10),
            "s_server did not print {l}\n{}",
            context(o, server)
        );
    }
}

/// mote send exited 1 with `check` in its message, and s_server got alert `alert`.
fn assert_refused(o: &Output, server: &Peer, check: &str, alert: Option<u8>) {
    assert_eq!(o.status.code(), Some(1), "{}", context(o, server));
    let err = text(&o.stderr);
    assert!(err.contains("handshake with"), "{}", context(o, server));
    assert!(err.contains(check), "{}", context(o, server));
    assert!(
        !text(&o.stdout).contains("reading 1"),
        "{}",
        context(o, server)
    );
    let needle = match alert {
        Some(a) => format!("SSL alert number {a}"),
        None => "SSL alert number".into(),
    };
    assert!(
        server.wait_for(&needle, 10),
        "s_server did not get the alert ({needle})\n{}",
        context(o, server)
    );
}

fn write_readings(pki: &Pki, lines: &[String]) -> String {
    pki.dir.write("readings.txt", &(lines.join("\n") + "\n"))
}

/// `mote send --ca ca.pem --server-name NAME` to s_server with `cert` and `key` of a new
/// Pki tagged `tag`: every reading must arrive. mote's stdout.
fn send_with_ca(tag: &str, cert: &str, key: &str) -> String {
    let pki = Pki::new(tag);
    let lines = readings(tag);
    let (srv, addr) = cert_server(&pki, cert, key, &[]);
    let ca = pki.path("ca.pem");
    let o = mote_send(
        &addr,
        &["--ca", &ca, "--server-name", NAME],
        &write_readings(&pki, &lines),
    );
    assert_sent(&o, &srv, &lines);
    text(&o.stdout)
}

#[test]
fn ecdsa_p256_certificate_with_ca() {
    let out = send_with_ca("ecdsa", "server.pem", "server.key");
    assert!(
        out.contains("server signed with ecdsa_secp256r1_sha256"),
        "{out}"
    );
    assert!(out.contains(&format!("(server_name {NAME})")), "{out}");
}

#[test]
fn ip_address_is_matched_against_the_ip_san() {
    // No --server-name: the name checked is 127.0.0.1, in the certificate as an IP SAN.
    let pki = Pki::new("ip-san");
    let lines = readings("ip-san");
    let (srv, addr) = cert_server(&pki, "server.pem", "server.key", &[]);
    let ca = pki.path("ca.pem");
    let o = mote_send(&addr, &["--ca", &ca], &write_readings(&pki, &lines));
    assert_sent(&o, &srv, &lines);
}

#[test]
fn rsa_2048_certificate() {
    let out = send_with_ca("rsa", "rsa.pem", "rsa.key");
    assert!(
        out.contains("server signed with rsa_pss_rsae_sha256"),
        "{out}"
    );
}

#[test]
fn pinned_spki_sha256() {
    let pki = Pki::new("pin");
    let lines = readings("pin");
    let pin = pki.spki_pin("server.pem");
    assert_eq!(pin.len(), 44, "{pin}");
    let (srv, addr) = cert_server(&pki, "server.pem", "server.key", &[]);
    // No --ca: the pin alone authenticates the server.
    let o = mote_send(
        &addr,
        &["--pin-sha256", &pin],
        &write_readings(&pki, &lines),
    );
    assert_sent(&o, &srv, &lines);
}

#[test]
fn wrong_pin_is_refused() {
    let pki = Pki::new("pin-wrong");
    let pin = pki.spki_pin("rsa.pem");
    let (srv, addr) = cert_server(&pki, "server.pem", "server.key", &[]);
    let o = mote_send(
        &addr,
        &["--pin-sha256", &pin],
        &write_readings(&pki, &readings("pin-wrong")),
    );
    assert_refused(&o, &srv, "public key does not match the pin", None);
}

#[test]
fn psk_with_gcm_ccm_and_ccm_8() {
    for suite in [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    ] {
        let pki = Pki::new(&format!("psk-{suite}"));
        let lines = readings(&format!("psk-{suite}"));
        let (srv, addr) = s_server(&[
            "-nocert",
            "-psk",
            PSK_HEX,
            "-psk_identity",
            PSK_ID,
            "-ciphersuites",
            suite,
        ]);
        let o = mote_send(
            &addr,
            &[
                "--psk-identity",
                PSK_ID,
                "--psk",
                PSK_HEX,
                "--cipher",
                suite,
            ],
            &write_readings(&pki, &lines),
        );
        assert_sent(&o, &srv, &lines);
        let out = text(&o.stdout);
        assert!(
            out.contains(&format!("{suite}, PSK with x25519 (psk_dhe_ke)")),
            "{out}"
        );
    }
}

#[test]
fn max_fragment_length_512() {
    let pki = Pki::new("mfl");
    // A reading longer than two 512-byte fragments: mote must split it.
    let mut lines = readings("mfl");
    let long = format!(
        r#"[{{"bn":"urn:dev:mote:mfl:","n":"trace","vs":"{}"}}]"#,
        "fedcba9876543210".repeat(80)
    );
    lines.push(long.clone());
    // -msg logs each record's header, so the client's record sizes can be checked.
    let (srv, addr) = cert_server(&pki, "server.pem", "server.key", &["-msg"]);
    let ca = pki.path("ca.pem");
    let o = mote_send(
        &addr,
        &[
            "--ca",
            &ca,
            "--server-name",
            NAME,
            "--max-fragment-length",
            "512",
        ],
        &write_readings(&pki, &lines),
    );
    assert_exchange(&o, &srv, 4, &lines[..3]);
    let out = text(&o.stdout);
    assert!(out.contains("max_fragment_length 512"), "{out}");
    assert!(out.contains("reading 4: "), "{out}");
    // s_server prints each record's data after its -msg lines: the long reading (with its
    // newline) arrives as 512-byte fragments in order.
    let data = format!("{long}\n");
    for chunk in data.as_bytes().chunks(512) {
        let chunk = std::str::from_utf8(chunk).unwrap();
        assert!(
            srv.wait_for(chunk, 10),
            "s_server did not print the fragment {chunk}\n{}",
            context(&o, &srv)
        );
    }
    // The client's protected records (17 03 03 LEN): at most 512 bytes of content, its
    // content type and a 16-byte tag.
    let server = srv.output();
    let lens: Vec<usize> = server
        .split("<<< TLS 1.2, RecordHeader [length 0005]")
        .skip(1)
        .filter_map(|r| r.lines().nth(1))
        .filter_map(|h| h.trim().strip_prefix("17 03 03 "))
        .filter_map(|l| usize::from_str_radix(&l.replace(' ', ""), 16).ok())
        .collect();
    assert!(
        lens.iter().all(|&n| n <= 512 + 1 + 16) && lens.iter().filter(|&&n| n == 529).count() >= 2,
        "client record lengths {lens:?}\n{}",
        context(&o, &srv)
    );
}

#[test]
fn client_certificate() {
    let pki = Pki::new("client-cert");
    let lines = readings("client-cert");
    let ca = pki.path("ca.pem");
    let (srv, addr) = cert_server(
        &pki,
        "server.pem",
        "server.key",
        &["-Verify", "1", "-CAfile", &ca],
    );
    let (cert, key) = (pki.path("client.pem"), pki.path("client.key"));
    let o = mote_send(
        &addr,
        &[
            "--ca",
            &ca,
            "--server-name",
            NAME,
            "--client-cert",
            &cert,
            "--client-key",
            &key,
        ],
        &write_readings(&pki, &lines),
    );
    assert_sent(&o, &srv, &lines);
    assert!(
        text(&o.stdout).contains("client certificate sent"),
        "{}",
        context(&o, &srv)
    );
    let server = srv.output();
    assert!(
        server.contains("Client certificate") && server.contains(&format!("CN = {PSK_ID}")),
        "{}",
        context(&o, &srv)
    );
}

/// `mote send --ca CA --server-name NAME` to s_server with `cert` (key `server.key`) of a
/// new Pki tagged `tag` must be refused: exit 1 naming `check`, and alert `alert` sent.
fn refused_with_ca(tag: &str, cert: &str, ca: &str, name: &str, check: &str, alert: u8) {
    let pki = Pki::new(tag);
    let (srv, addr) = cert_server(&pki, cert, "server.key", &[]);
    let ca = pki.path(ca);
    let o = mote_send(
        &addr,
        &["--ca", &ca, "--server-name", name],
        &write_readings(&pki, &readings(tag)),
    );
    assert_refused(&o, &srv, check, Some(alert));
}

#[test]
fn expired_certificate_is_refused() {
    let check = "certificate 0 (end-entity): expired";
    refused_with_ca("expired", "expired.pem", "ca.pem", NAME, check, 45);
}

#[test]
fn wrong_name_is_refused() {
    let check = "subjectAltName does not match the server name";
    refused_with_ca(
        "wrong-name",
        "server.pem",
        "ca.pem",
        "other.example",
        check,
        42,
    );
}

#[test]
fn unknown_issuer_is_refused() {
    let check = "issuer is not a trust anchor";
    refused_with_ca("unknown-ca", "server.pem", "other-ca.pem", NAME, check, 48);
}
