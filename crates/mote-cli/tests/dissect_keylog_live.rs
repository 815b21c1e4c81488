//! `mote dissect --keylog` on live captures: `openssl s_server -tls1_3` and `openssl
//! s_client -keylogfile` on 127.0.0.1 recorded by tcpdump, then dissected with the key log
//! OpenSSL wrote. Covers TLS_AES_128_GCM_SHA256 and TLS_CHACHA20_POLY1305_SHA256, a
//! KeyUpdate in each direction, a Certificate spanning protected records, and 0-RTT data.
//!
//! Helpers are copied from `dissect_live.rs`. Needs the Debian packages `openssl` and
//! `tcpdump`, and root for tcpdump on `lo` (`./scripts/test` installs the packages; CI runs
//! as root). A missing tool is a failure that names the package, never a skip.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn summaries(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("record[")).collect()
}

/// Kills the child when dropped, so a failing test leaves no peer running.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require(tool: &str, package: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{tool}` is missing: install the Debian package `{package}` (./scripts/test does)"
    );
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mote-live-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts tcpdump on `lo` with `filter` and waits until it is listening.
fn tcpdump(out: &Path, filter: &str) -> Guard {
    require("tcpdump", "tcpdump");
    let mut c = Command::new("tcpdump")
        .args(["-i", "lo", "--immediate-mode", "-U", "-w"])
        .arg(out)
        .arg(filter)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tcpdump");
    let stderr = c.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        first.contains("listening on"),
        "tcpdump did not start (it needs root for lo): {first}"
    );
    std::thread::spawn(move || for _ in lines {});
    Guard(c)
}

/// Stops tcpdump with SIGINT so it flushes the capture.
fn stop_tcpdump(mut g: Guard) {
    // Packets still in the kernel ring when SIGINT arrives can be lost: give the
    // capture a moment to drain first.
    std::thread::sleep(Duration::from_millis(800));
    let _ = Command::new("kill")
        .args(["-INT", &g.0.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = g.0.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = g.0.kill();
}

/// Collects a child's output lines (stdout, or stderr when `stderr`) into a string.
fn collect(child: &mut Child, stderr: bool) -> Arc<Mutex<String>> {
    let seen = Arc::new(Mutex::new(String::new()));
    let out: Box<dyn std::io::Read + Send> = if stderr {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let s = seen.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let mut g = s.lock().unwrap();
            g.push_str(&line);
            g.push('\n');
        }
    });
    seen
}

fn wait_for(seen: &Arc<Mutex<String>>, needle: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if seen.lock().unwrap().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn send_line(c: &mut Guard, line: &str) {
    c.0.stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{line}\n").as_bytes())
        .unwrap();
}

/// An ECDSA P-256 certificate for `sensor.test` (with 40 more names when `big`, about
/// 2 KiB) and its key, made with `openssl req`.
fn make_cert(dir: &Path, big: bool) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut san = "subjectAltName=DNS:sensor.test".to_string();
    if big {
        for i in 0..40 {
            san.push_str(&format!(
                ",DNS:sensor-{i:02}.gateway.floor-3.building-7.test"
            ));
        }
    }
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=sensor.test",
            "-addext",
            &san,
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl req failed");
    (cert, key)
}

/// What a live run produced: the capture and key log.
struct Live {
    dir: PathBuf,
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
    require("openssl", "openssl");
    let dir = tmpdir(tag);
    let (cert, key) = make_cert(&dir, big_cert);
    let port = free_tcp_port();
    let pcap = dir.join("tls13.pcap");
    let keylog = dir.join("keylog.txt");
    let td = tcpdump(&pcap, &format!("tcp port {port}"));
    let mut server = Command::new("openssl");
    server
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
        ])
        .args(["-naccept", "1", "-ciphersuites", suite])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key);
    if big_cert {
        server.args(["-max_send_frag", "512"]);
    }
    let mut server = server
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let server_out = collect(&mut server, false);
    let mut server = Guard(server);
    assert!(
        wait_for(&server_out, "ACCEPT", 10),
        "s_server did not start"
    );
    // Not -quiet: s_client's command letters (K: KeyUpdate, Q: close) stay on.
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
        ])
        .args([
            "-ciphersuites",
            suite,
            "-servername",
            "sensor.test",
            "-keylogfile",
        ])
        .arg(&keylog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start openssl s_client");
    let client_out = collect(&mut client, false);
    let client_err = collect(&mut client, true);
    let mut client = Guard(client);
    assert!(
        wait_for(&client_out, "Verify return code", 10),
        "handshake did not finish: {}",
        client_out.lock().unwrap()
    );
    send_line(&mut client, reading);
    assert!(
        wait_for(&server_out, reading, 10),
        "s_server never printed the reading: {}",
        server_out.lock().unwrap()
    );
    // KeyUpdate with update_requested: the server answers with its own.
    send_line(&mut client, "K");
    assert!(
        wait_for(&client_err, "KEYUPDATE", 10),
        "s_client did not send a KeyUpdate: {}",
        client_err.lock().unwrap()
    );
    std::thread::sleep(Duration::from_millis(200));
    send_line(&mut client, after);
    assert!(
        wait_for(&server_out, after, 10),
        "{}",
        server_out.lock().unwrap()
    );
    send_line(&mut server, reply);
    assert!(
        wait_for(&client_out, reply, 10),
        "{}",
        client_out.lock().unwrap()
    );
    send_line(&mut client, "Q");
    assert!(
        wait_for(&server_out, "CONNECTION CLOSED", 10),
        "{}",
        server_out.lock().unwrap()
    );
    drop(client);
    drop(server);
    stop_tcpdump(td);
    Live { dir, pcap, keylog }
}

/// Dissects a live capture with its key log and checks what every live run must show.
fn check_live(live: &Live, suite: &str, reading: &str, after: &str, reply: &str) -> String {
    let o = mote(&[
        "dissect",
        live.pcap.to_str().unwrap(),
        "--keylog",
        live.keylog.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("negotiated TLS 1.3, {suite}")),
        "{out}"
    );
    let s = summaries(&out);
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
    std::fs::remove_dir_all(&live.dir).ok();
    assert!(out.contains("16-byte tag"), "{out}");
}

#[test]
fn live_openssl_keylog_chacha20_reassembles_certificate_across_records() {
    let suite = "TLS_CHACHA20_POLY1305_SHA256";
    let reading = r#"[{"n":"humidity","u":"%RH","v":48.0}]"#;
    let (after, reply) = ("second reading", "ok");
    let live = live_connection("keylog-chacha20", suite, reading, after, reply, true);
    let out = check_live(&live, suite, reading, after, reply);
    std::fs::remove_dir_all(&live.dir).ok();
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
    require("openssl", "openssl");
    let dir = tmpdir("keylog-0rtt");
    let (cert, key) = make_cert(&dir, false);
    let (pcap, keylog) = (dir.join("0rtt.pcap"), dir.join("keylog.txt"));
    let (sess, early) = (dir.join("session.pem"), dir.join("early.txt"));
    let reading = r#"[{"n":"temperature","u":"Cel","v":19.5}]"#;
    std::fs::write(&early, format!("{reading}\n")).unwrap();
    let port = free_tcp_port();
    let td = tcpdump(&pcap, &format!("tcp port {port}"));
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
        ])
        .args(["-naccept", "2", "-early_data"])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let server_out = collect(&mut server, false);
    let server = Guard(server);
    assert!(
        wait_for(&server_out, "ACCEPT", 10),
        "s_server did not start"
    );
    let client = |extra: &[&std::ffi::OsStr]| {
        let mut c = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-tls1_3",
            ])
            .args(["-servername", "sensor.test", "-keylogfile"])
            .arg(&keylog)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start openssl s_client");
        let out = collect(&mut c, false);
        (Guard(c), out)
    };
    // A full handshake whose NewSessionTicket s_client saves.
    let (mut c1, out1) = client(&["-sess_out".as_ref(), sess.as_os_str()]);
    assert!(
        wait_for(&out1, "Verify return code", 10),
        "{}",
        out1.lock().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&sess)
        .unwrap_or_default()
        .contains("END SSL SESSION PARAMETERS")
    {
        assert!(Instant::now() < deadline, "s_client saved no session");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_line(&mut c1, "Q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !matches!(c1.0.try_wait(), Ok(Some(_))) {
        assert!(Instant::now() < deadline, "s_client did not close");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(c1);
    // The resumption, with the reading sent as 0-RTT data.
    let (mut c2, out2) = client(&[
        "-sess_in".as_ref(),
        sess.as_os_str(),
        "-early_data".as_ref(),
        early.as_os_str(),
    ]);
    assert!(
        wait_for(&out2, "Early data was accepted", 10),
        "{}",
        out2.lock().unwrap()
    );
    assert!(wait_for(&server_out, "End of early data", 10));
    send_line(&mut c2, "Q");
    std::thread::sleep(Duration::from_millis(300));
    drop(c2);
    drop(server);
    stop_tcpdump(td);
    let o = mote(&[
        "dissect",
        pcap.to_str().unwrap(),
        "--keylog",
        keylog.to_str().unwrap(),
    ]);
    let out = text(&o);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(", 2 flows,"), "{out}");
    let flow1 = &out[out.find("\nflow 1 ").expect("second flow")..];
    let s = summaries(flow1);
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
