//! `mote probe` against a real `openssl s_server` on 127.0.0.1 (Debian package `openssl`):
//! a hand-made ClientHello with a wrong length is refused with decode_error and the verdict
//! names the field; mote's own hello completes and the chain is shown.
//!
//! The ClientHello mutated here is the one in `samples/openssl-tls13.pcap` (recorded by
//! `scripts/make-samples` from OpenSSL 3.0's s_client).

mod common;

use common::mote::{mote, sample_client_hello};
use common::openssl::tls13_server;
use common::pki::{ca, issue, P256};
use common::proc::Proc;
use common::tools::{free_tcp_port, TempDir};
use std::path::Path;

/// An openssl s_server and its directory (CA `ca.pem`, certificate `s.pem`), both gone on
/// drop.
struct Server {
    proc: Proc,
    dir: TempDir,
}

/// An openssl s_server with a CA-signed P-256 certificate for 127.0.0.1, accepting `n`
/// connections.
fn server(tag: &str, n: u32) -> (Server, u16) {
    let dir = TempDir::new(&format!("probe-{tag}"));
    ca(&dir, "ca", "/CN=probe CA", &[]);
    issue(
        &dir,
        "ca",
        "s",
        P256,
        "/CN=probe server",
        "subjectAltName=IP:127.0.0.1\n",
    );
    let port = free_tcp_port();
    let (cert, key) = (dir.path("s.pem"), dir.path("s.key"));
    let proc = tls13_server(port, n, &["-cert", &cert, "-key", &key]);
    (Server { proc, dir }, port)
}

fn write_hex(dir: &Path, name: &str, b: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        b.iter().map(|x| format!("{x:02x} ")).collect::<String>(),
    )
    .unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn refused_hand_made_hello_is_explained() {
    let (srv, port) = server("refused", 2);
    let mut hello = sample_client_hello();
    // server_name list_length 17 -> 16 (offset 0x5e in the record).
    hello[0x5f] = 16;
    let f = write_hex(&srv.dir, "broken.hex", &hello);
    let o = mote(&["probe", &format!("127.0.0.1:{port}"), "--hello", &f]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("The server refused with the alert decode_error (50)"),
        "{out}"
    );
    assert!(out.contains("Most likely cause: record[0].handshake.client_hello.extensions[0].server_name.list_length"), "{out}");
    // The dissection of what was sent comes first, with the field's offset.
    assert!(out.find("== what will be sent").unwrap() < out.find("== verdict").unwrap());
    assert!(out.contains("error at byte 94 (0x005e)"), "{out}");

    // The same hello with the length restored is accepted: exit 0, ServerHello shown.
    hello[0x5f] = 17;
    let f = write_hex(&srv.dir, "good.hex", &hello);
    let o = mote(&["probe", &format!("127.0.0.1:{port}"), "--hello", &f]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("server_hello"), "{out}");
    assert!(
        out.contains("The server answered with a handshake"),
        "{out}"
    );
}

#[test]
fn motes_own_hello_shows_the_chain() {
    let (srv, port) = server("own", 1);
    let ca = srv.dir.join("ca.pem");
    let o = mote(&[
        "probe",
        &format!("127.0.0.1:{port}"),
        "--ca",
        ca.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("certificate[0]: subject CN=probe server"),
        "{out}"
    );
    assert!(out.contains("issuer CN=probe CA"), "{out}");
    assert!(out.contains("subjectAltName IP:127.0.0.1"), "{out}");
    assert!(out.contains("handshake complete: TLS 1.3"), "{out}");
    drop(srv);
}

#[test]
fn untrusted_server_is_reported_with_the_check_that_failed() {
    let (srv, port) = server("untrusted", 1);
    // A pin that is not the server's key.
    let o = mote(&[
        "probe",
        &format!("127.0.0.1:{port}"),
        "--pin-sha256",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("handshake failed: server certificate rejected"),
        "{out}"
    );
    assert!(
        out.contains("certificate[0]: subject CN=probe server"),
        "the chain is shown even when refused: {out}"
    );
    let _ = srv.proc.output().len();
}
