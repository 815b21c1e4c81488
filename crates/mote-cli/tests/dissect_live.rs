//! Live captures: a real OpenSSL handshake on 127.0.0.1 (TLS 1.3 with an ECDSA P-256
//! certificate; DTLS 1.2 with PSK and AES-128-CCM_8, RFC 7925's suite) is recorded with
//! tcpdump while the test runs, then `mote dissect` must explain every record with exit 0.
//!
//! Needs the Debian packages `openssl` and `tcpdump`, and root for tcpdump on `lo`
//! (`./scripts/test` installs the packages; CI runs as root). A missing tool is a failure
//! that names the package, never a skip.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
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

/// Waits until `child`'s stdout (collected by a thread into `seen`) contains `needle`.
fn collect_stdout(child: &mut Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let out = child.stdout.take().unwrap();
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

fn wait_for(seen: &std::sync::Arc<std::sync::Mutex<String>>, needle: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if seen.lock().unwrap().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn dissect(pcap: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mote"))
        .arg("dissect")
        .arg(pcap)
        .output()
        .expect("run mote");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn live_openssl_tls13_handshake_dissects_cleanly() {
    require("openssl", "openssl");
    let dir = tmpdir("tls13");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-days",
            "30",
            "-subj",
            "/CN=sensor.test",
            "-addext",
            "subjectAltName=DNS:sensor.test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl req failed");
    let port = free_tcp_port();
    let pcap = dir.join("tls13.pcap");
    let td = tcpdump(&pcap, &format!("tcp port {port}"));
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-naccept",
            "1",
        ])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let seen = collect_stdout(&mut server);
    let server = Guard(server);
    assert!(wait_for(&seen, "ACCEPT", 10), "s_server did not start");
    let reading = r#"[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4}]"#;
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-servername",
            "sensor.test",
            "-quiet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_client");
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{reading}\n").as_bytes())
        .unwrap();
    let client = Guard(client);
    // The server printing the reading proves a whole handshake and a data record happened.
    assert!(
        wait_for(&seen, reading, 10),
        "s_server never printed the reading: {}",
        seen.lock().unwrap()
    );
    drop(client);
    drop(server);
    stop_tcpdump(td);
    let (code, out) = dissect(&pcap);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("negotiated TLS 1.3"), "{out}");
    assert!(out.contains("server_name \"sensor.test\""), "{out}");
    let recs: Vec<&str> = out.lines().filter(|l| l.starts_with("record[")).collect();
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
    require("openssl", "openssl");
    let dir = tmpdir("dtls12");
    let port = free_udp_port();
    let pcap = dir.join("dtls12.pcap");
    let td = tcpdump(&pcap, &format!("udp port {port}"));
    let psk = "00112233445566778899aabbccddeeff";
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-dtls1_2",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-nocert",
        ])
        .args([
            "-psk",
            psk,
            "-psk_identity",
            "sensor-0001",
            "-cipher",
            "PSK-AES128-CCM8",
            "-naccept",
            "1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_server");
    let seen = collect_stdout(&mut server);
    let server = Guard(server);
    assert!(wait_for(&seen, "ACCEPT", 10), "s_server did not start");
    let reading = r#"[{"n":"temperature","u":"Cel","v":21.4}]"#;
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-dtls1_2",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "-psk",
            psk,
            "-psk_identity",
            "sensor-0001",
            "-cipher",
            "PSK-AES128-CCM8",
            "-quiet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start openssl s_client");
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(format!("{reading}\n").as_bytes())
        .unwrap();
    let client = Guard(client);
    assert!(
        wait_for(&seen, reading, 10),
        "s_server never printed the reading: {}",
        seen.lock().unwrap()
    );
    drop(client);
    drop(server);
    stop_tcpdump(td);
    let (code, out) = dissect(&pcap);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("negotiated DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8"),
        "{out}"
    );
    for m in [
        "hello_verify_request",
        "server_hello",
        "client_key_exchange",
        "change_cipher_spec",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("record[") && l.contains(m)),
            "{m} missing: {out}"
        );
    }
    assert!(
        out.lines().any(|l| l.starts_with("record[")
            && l.contains("application_data")
            && l.contains("encrypted")),
        "{out}"
    );
}
