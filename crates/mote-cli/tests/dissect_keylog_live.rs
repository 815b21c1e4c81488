//! `mote dissect --keylog` on live captures: `openssl s_server -tls1_3` and `openssl
//! s_client -keylogfile` on 127.0.0.1 recorded by tcpdump, then dissected with the key log
//! OpenSSL wrote. Covers TLS_AES_128_GCM_SHA256 and TLS_CHACHA20_POLY1305_SHA256, a
//! KeyUpdate in each direction, a Certificate spanning protected records, and 0-RTT data.
//!
//! Needs the Debian packages `openssl` and `tcpdump`, and root for tcpdump on `lo`
//! (`./scripts/test` installs the packages; CI runs as root). A missing tool is a failure
//! that names the package, never a skip.

mod common;

use common::capture_live::Tcpdump;
use common::mote::{dissect_keylog, records, stdout};
use common::openssl::{command, tls13_server};
use common::pki::self_signed;
use common::proc::Proc;
use common::tools::{free_tcp_port, TempDir};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An ECDSA P-256 certificate for `sensor.test` (with 40 more names when `big`, about
/// 2 KiB) and its key, made with `openssl req`.
fn make_cert(dir: &Path, big: bool) -> (PathBuf, PathBuf) {
    let mut san = "subjectAltName=DNS:sensor.test".to_string();
    if big {
        for i in 0..40 {
            san.push_str(&format!(
                ",DNS:sensor-{i:02}.gateway.floor-3.building-7.test"
            ));
        }
    }
    self_signed(dir, "cert.pem", "key.pem", "/CN=sensor.test", &[&san])
}

/// What a live run produced: the capture and key log, in a directory removed with this.
struct Live {
    _dir: TempDir,
    pcap: PathBuf,
    keylog: PathBuf,
}

/// A TLS 1.3 connection with `suite` between `openssl s_server` and `openssl s_client
/// -keylogfile`: the client sends `reading`, a KeyUpdate asking for the server's, and
/// `after`; the server answers `reply`; the client closes with close_notify (`Q`). With
/// `big_cert` the certificate carries enough names, and the server a small enough record
/// limit, that its Certificate message spans records.
fn live_connection(
    tag: &str,
    suite: &str,
    reading: &str,
    after: &str,
    reply: &str,
    big_cert: bool,
) -> Live {
    let dir = TempDir::new(&format!("live-{tag}"));
    let (cert, key) = make_cert(&dir, big_cert);
    let port = free_tcp_port();
    let pcap = dir.join("tls13.pcap");
    let keylog = dir.join("keylog.txt");
    let td = Tcpdump::start(&pcap, &format!("tcp port {port}"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let mut args = vec!["-ciphersuites", suite, "-cert", cert, "-key", key];
    if big_cert {
        args.extend(["-max_send_frag", "512"]);
    }
    let mut server = tls13_server(port, 1, &args);
    // Not -quiet: s_client's command letters (K: KeyUpdate, Q: close) stay on.
    let mut client = Proc::spawn(
        command("s_client")
            .args(["-connect", &format!("127.0.0.1:{port}"), "-tls1_3"])
            .args([
                "-ciphersuites",
                suite,
                "-servername",
                "sensor.test",
                "-keylogfile",
            ])
            .arg(&keylog),
    );
    assert!(
        client.wait_for_stdout("Verify return code", 10),
        "handshake did not finish: {}",
        client.stdout()
    );
    client.send_line(reading);
    assert!(
        server.wait_for(reading, 10),
        "s_server never printed the reading: {}",
        server.output()
    );
    // KeyUpdate with update_requested: the server answers with its own.
    client.send_line("K");
    assert!(
        client.wait_for_stderr("KEYUPDATE", 10),
        "s_client did not send a KeyUpdate: {}",
        client.stderr()
    );
    std::thread::sleep(Duration::from_millis(200));
    client.send_line(after);
    assert!(server.wait_for(after, 10), "{}", server.output());
    server.send_line(reply);
    assert!(client.wait_for_stdout(reply, 10), "{}", client.stdout());
    client.send_line("Q");
    assert!(
        server.wait_for("CONNECTION CLOSED", 10),
        "{}",
        server.output()
    );
    drop(client);
    drop(server);
    td.stop();
    Live {
        _dir: dir,
        pcap,
        keylog,
    }
}

/// Dissects a live capture with its key log and checks what every live run must show.
fn check_live(live: &Live, suite: &str, reading: &str, after: &str, reply: &str) -> String {
    let o = dissect_keylog(&live.pcap, &live.keylog);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("negotiated TLS 1.3, {suite}")),
        "{out}"
    );
    let s = records(&out);
    assert!(
        s[0].ends_with("client_hello") && s[1].ends_with("server_hello"),
        "{out}"
    );
    for l in &s[2..] {
        assert!(
            l.ends_with("(decrypted)") || l.ends_with("change_cipher_spec"),
            "{l}"
        );
    }
    let line = |dir: &str, what: &str| {
        s.iter()
            .any(|l| l.contains(dir) && l.contains(what) && l.ends_with("(decrypted)"))
    };
    assert!(line("server->client", "certificate"), "{out}");
    assert!(line("server->client", "certificate_verify"), "{out}");
    assert!(line("server->client", "finished"), "{out}");
    assert!(line("client->server", "finished"), "{out}");
    assert!(line("client->server", "key_update"), "{out}");
    assert!(line("server->client", "key_update"), "{out}");
    assert!(line("client->server", "close_notify"), "{out}");
    // The server's certificate, decrypted: the subject name is in it.
    assert!(out.contains("cert_data: 3082"), "{out}");
    // The application lines as text, with the secret each was protected with.
    for (text, label) in [
        (reading, "CLIENT_TRAFFIC_SECRET_0"),
        (after, "CLIENT_TRAFFIC_SECRET_1"),
        (reply, "SERVER_TRAFFIC_SECRET_1"),
    ] {
        let shown = format!("application_data: {:?}", format!("{text}\n"));
        let i = out
            .lines()
            .position(|l| l.contains(&shown))
            .unwrap_or_else(|| panic!("{shown} missing: {out}"));
        let before: Vec<&str> = out.lines().take(i).collect();
        let note = before
            .iter()
            .rev()
            .find(|l| l.contains("(decrypted with "))
            .unwrap();
        assert!(
            note.contains(label),
            "{text} should be under {label}: {out}"
        );
    }
    assert!(
        out.contains(
            "key change: the next client->server records are protected with \
             CLIENT_TRAFFIC_SECRET_1, derived from CLIENT_TRAFFIC_SECRET_0 by KeyUpdate"
        ),
        "{out}"
    );
    out
}

#[test]
fn live_openssl_keylog_aes128gcm_decrypts_handshake_data_and_key_updates() {
    let suite = "TLS_AES_128_GCM_SHA256";
    let reading = r#"[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4}]"#;
    let (after, reply) = ("reading 2 after the key update", "ack from the collector");
    let live = live_connection("keylog-aes128gcm", suite, reading, after, reply, false);
    let out = check_live(&live, suite, reading, after, reply);
    drop(live);
    assert!(out.contains("16-byte tag"), "{out}");
}

#[test]
fn live_openssl_keylog_chacha20_reassembles_certificate_across_records() {
    let suite = "TLS_CHACHA20_POLY1305_SHA256";
    let reading = r#"[{"n":"humidity","u":"%RH","v":48.0}]"#;
    let (after, reply) = ("second reading", "ok");
    let live = live_connection("keylog-chacha20", suite, reading, after, reply, true);
    let out = check_live(&live, suite, reading, after, reply);
    drop(live);
    // With 512-byte records the Certificate spans several protected records and is joined
    // from their plaintexts.
    assert!(out.contains("(partial message) (decrypted)"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("handshake") && l.contains("reassembled from")),
        "{out}"
    );
}

#[test]
fn live_openssl_keylog_decrypts_0rtt_early_data() {
    let dir = TempDir::new("live-keylog-0rtt");
    let (cert, key) = make_cert(&dir, false);
    let (pcap, keylog) = (dir.join("0rtt.pcap"), dir.join("keylog.txt"));
    let (sess, early) = (dir.join("session.pem"), dir.join("early.txt"));
    let reading = r#"[{"n":"temperature","u":"Cel","v":19.5}]"#;
    std::fs::write(&early, format!("{reading}\n")).unwrap();
    let port = free_tcp_port();
    let td = Tcpdump::start(&pcap, &format!("tcp port {port}"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = tls13_server(port, 2, &["-early_data", "-cert", cert, "-key", key]);
    let client = |extra: &[&std::ffi::OsStr]| {
        Proc::spawn(
            command("s_client")
                .args(["-connect", &format!("127.0.0.1:{port}"), "-tls1_3"])
                .args(["-servername", "sensor.test", "-keylogfile"])
                .arg(&keylog)
                .args(extra),
        )
    };
    // A full handshake whose NewSessionTicket s_client saves.
    let mut c1 = client(&["-sess_out".as_ref(), sess.as_os_str()]);
    assert!(
        c1.wait_for_stdout("Verify return code", 10),
        "{}",
        c1.stdout()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&sess)
        .unwrap_or_default()
        .contains("END SSL SESSION PARAMETERS")
    {
        assert!(Instant::now() < deadline, "s_client saved no session");
        std::thread::sleep(Duration::from_millis(50));
    }
    c1.send_line("Q");
    assert!(c1.wait_within(10).is_some(), "s_client did not close");
    drop(c1);
    // The resumption, with the reading sent as 0-RTT data.
    let mut c2 = client(&[
        "-sess_in".as_ref(),
        sess.as_os_str(),
        "-early_data".as_ref(),
        early.as_os_str(),
    ]);
    assert!(
        c2.wait_for_stdout("Early data was accepted", 10),
        "{}",
        c2.stdout()
    );
    assert!(server.wait_for("End of early data", 10));
    c2.send_line("Q");
    std::thread::sleep(Duration::from_millis(300));
    drop(c2);
    drop(server);
    td.stop();
    let o = dissect_keylog(&pcap, &keylog);
    let out = stdout(&o);
    drop(dir);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(", 2 flows,"), "{out}");
    let flow1 = &out[out.find("\nflow 1 ").expect("second flow")..];
    let s = records(flow1);
    // ClientHello, change_cipher_spec (compatibility mode), then the early data.
    assert!(s[0].ends_with("client_hello"), "{out}");
    // The summary names the data (shortened); the tree shows it whole.
    let shown = format!("application_data {} bytes \"[{{", reading.len() + 1);
    let at = s
        .iter()
        .position(|l| l.contains("client->server") && l.contains(&shown))
        .unwrap_or_else(|| panic!("{shown} missing: {out}"));
    assert!(s[at].ends_with("(decrypted)"), "{out}");
    assert!(
        flow1.contains(&format!("application_data: {:?}", format!("{reading}\n"))),
        "{out}"
    );
    let sh = s.iter().position(|l| l.ends_with("server_hello")).unwrap();
    assert!(at < sh, "the early data comes before ServerHello: {out}");
    assert!(
        flow1.contains("(decrypted with CLIENT_EARLY_TRAFFIC_SECRET)"),
        "{out}"
    );
    assert!(
        s.iter()
            .any(|l| l.contains("client->server") && l.ends_with("end_of_early_data (decrypted)")),
        "{out}"
    );
    for l in &s[1..] {
        assert!(
            l.ends_with("(decrypted)")
                || l.ends_with("change_cipher_spec")
                || l.ends_with("server_hello"),
            "{l}"
        );
    }
}
