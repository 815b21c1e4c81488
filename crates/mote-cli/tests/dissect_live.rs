//! Live captures: a real OpenSSL handshake on 127.0.0.1 (TLS 1.3 with an ECDSA P-256
//! certificate; DTLS 1.2 with PSK and AES-128-CCM_8, RFC 7925's suite) is recorded with
//! tcpdump while the test runs, then `mote dissect` must explain every record with exit 0.
//!
//! Needs the Debian packages `openssl` and `tcpdump`, and root for tcpdump on `lo`
//! (`./scripts/test` installs the packages; CI runs as root). A missing tool is a failure
//! that names the package, never a skip.

mod common;

use common::capture_live::Tcpdump;
use common::mote::{assert_records_mention, dissect_ok, records};
use common::openssl::{s_client, s_server, tls13_server};
use common::pki::self_signed;
use common::proc::Proc;
use common::tools::{free_tcp_port, free_udp_port, TempDir};
use std::path::Path;

/// Sends `reading` from `client` and waits until `server` printed it, which proves a whole
/// handshake and a data record happened; then stops both and the capture, and dissects it
/// (exit 0).
fn exchange(server: Proc, mut client: Proc, reading: &str, td: Tcpdump, pcap: &Path) -> String {
    client.send_line(reading);
    assert!(
        server.wait_for(reading, 10),
        "s_server never printed the reading: {}",
        server.output()
    );
    drop(client);
    drop(server);
    td.stop();
    dissect_ok(pcap)
}

#[test]
fn live_openssl_tls13_handshake_dissects_cleanly() {
    let dir = TempDir::new("live-tls13");
    let (cert, key) = self_signed(
        &dir,
        "cert.pem",
        "key.pem",
        "/CN=sensor.test",
        &["subjectAltName=DNS:sensor.test"],
    );
    let port = free_tcp_port();
    let pcap = dir.join("tls13.pcap");
    let td = Tcpdump::start(&pcap, &format!("tcp port {port}"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = tls13_server(port, 1, &["-cert", cert, "-key", key]);
    let reading = r#"[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4}]"#;
    let client = s_client(&[
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-tls1_3",
        "-servername",
        "sensor.test",
        "-quiet",
    ]);
    let out = exchange(server, client, reading, td, &pcap);
    assert!(out.contains("negotiated TLS 1.3"), "{out}");
    assert!(out.contains("server_name \"sensor.test\""), "{out}");
    let recs = records(&out);
    assert!(
        recs[0].ends_with("client_hello") && recs[1].ends_with("server_hello"),
        "{out}"
    );
    assert!(
        recs.iter()
            .skip(2)
            .all(|l| l.ends_with("encrypted") || l.ends_with("change_cipher_spec")),
        "{out}"
    );
    // Server flight (EncryptedExtensions..Finished), client Finished, and the reading.
    assert!(
        recs.iter().filter(|l| l.ends_with("encrypted")).count() >= 3,
        "{out}"
    );
}

#[test]
fn live_openssl_dtls12_psk_ccm8_handshake_dissects_cleanly() {
    let dir = TempDir::new("live-dtls12");
    let port = free_udp_port();
    let pcap = dir.join("dtls12.pcap");
    let td = Tcpdump::start(&pcap, &format!("udp port {port}"));
    // The same key, identity and suite on both sides.
    let psk = [
        "-psk",
        "00112233445566778899aabbccddeeff",
        "-psk_identity",
        "sensor-0001",
        "-cipher",
        "PSK-AES128-CCM8",
    ];
    let accept = format!("127.0.0.1:{port}");
    let server = s_server(
        &[
            &["-dtls1_2", "-accept", &accept, "-nocert"],
            &psk[..],
            &["-naccept", "1"],
        ]
        .concat(),
    );
    let reading = r#"[{"n":"temperature","u":"Cel","v":21.4}]"#;
    let client = s_client(&[&["-dtls1_2", "-connect", &accept], &psk[..], &["-quiet"]].concat());
    let out = exchange(server, client, reading, td, &pcap);
    assert!(
        out.contains("negotiated DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8"),
        "{out}"
    );
    assert_records_mention(
        &out,
        &[
            "hello_verify_request",
            "server_hello",
            "client_key_exchange",
            "change_cipher_spec",
        ],
    );
    assert!(
        records(&out)
            .iter()
            .any(|l| l.contains("application_data") && l.contains("encrypted")),
        "{out}"
    );
}
