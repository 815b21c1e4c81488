//! `mote probe` against a real `openssl s_server` on 127.0.0.1 (Debian package `openssl`):
//! a hand-made ClientHello with a wrong length is refused with decode_error and the verdict
//! names the field; mote's own hello completes and the chain is shown.
//!
//! The ClientHello mutated here is the one in `samples/openssl-tls13.pcap` (recorded by
//! `scripts/make-samples` from OpenSSL 3.0's s_client).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    out: Arc<Mutex<String>>,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let o = cmd
        .output()
        .expect("openssl is missing: install the Debian package `openssl` (./scripts/test does)");
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// An openssl s_server with a CA-signed P-256 certificate for 127.0.0.1, accepting `n`
/// connections.
fn server(tag: &str, n: u32) -> (Server, u16) {
    let dir = std::env::temp_dir().join(format!("mote-probe-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ossl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(&dir));
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=probe CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=probe server",
        "-keyout",
        "s.key",
        "-out",
        "s.csr",
    ]);
    std::fs::write(dir.join("ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "s.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "ext",
        "-out",
        "s.pem",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-cert",
            "s.pem",
            "-key",
            "s.key",
            "-naccept",
            &n.to_string(),
        ])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is missing: install the Debian package `openssl`");
    let out = Arc::new(Mutex::new(String::new()));
    let o = out.clone();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            o.lock().unwrap().push_str(&(l + "\n"));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !out.lock().unwrap().contains("ACCEPT") {
        assert!(Instant::now() < deadline, "s_server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Server { child, out, dir }, port)
}

fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

fn sample_hello() -> Vec<u8> {
    let pcap = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/openssl-tls13.pcap"),
    )
    .unwrap();
    let at = pcap
        .windows(6)
        .position(|w| w == [0x16, 0x03, 0x01, 0x00, 0xf3, 0x01])
        .expect("ClientHello in the sample");
    pcap[at..at + 248].to_vec()
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
    let mut hello = sample_hello();
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
    let _ = srv.out.lock().unwrap().len();
}
