//! The firmware on an emulated Cortex-M4 (QEMU mps2-an386; Debian package
//! `qemu-system-arm`) talking TLS 1.3 over its UART, through `mote bridge`, to a real
//! `openssl s_server` on 127.0.0.1: once with PSK and AES-128-CCM_8, once with an ECDSA
//! P-256 certificate chain. The server must print the readings, the firmware must report
//! success by semihosting, and the bridge's capture must dissect cleanly.
//!
//! The firmware is built here (`cargo build --release` in `firmware/`, for
//! thumbv7em-none-eabihf; `./scripts/test` installs the target).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Proc {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn spawn(cmd: &mut Command, what: &str, package: &str) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}: install the Debian package `{package}` (./scripts/test does)"));
        let out = Arc::new(Mutex::new(String::new()));
        let streams: Vec<Box<dyn Read + Send>> = vec![
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for s in streams {
            let o = out.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(s).lines().map_while(Result::ok) {
                    o.lock().unwrap().push_str(&(l + "\n"));
                }
            });
        }
        Proc { child, out }
    }

    fn wait_for(&self, needle: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.out.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits for the process to exit; its status code.
    fn exit_code(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                // Let the reader threads drain.
                std::thread::sleep(Duration::from_millis(100));
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Builds the firmware for `features` and returns a copy of the ELF (the two profiles share
/// one target directory).
fn build_firmware(features: &str, dir: &Path) -> PathBuf {
    let fw = root().join("firmware");
    let o = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--no-default-features",
            "--features",
            features,
        ])
        .current_dir(&fw)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo");
    assert!(
        o.status.success(),
        "building the firmware failed (is the thumbv7em-none-eabihf target installed? ./scripts/test installs it):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let elf = dir.join(format!("mote-firmware-{features}"));
    std::fs::copy(
        fw.join("target/thumbv7em-none-eabihf/release/mote-firmware"),
        &elf,
    )
    .unwrap();
    elf
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn seed() -> String {
    let mut s = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut s)
        .unwrap();
    hex(&s)
}

/// Runs the firmware against the server on `server_port`; returns QEMU's output and the
/// capture the bridge wrote.
fn run_board(elf: &Path, server_port: u16, args: &[String], capture: &Path) -> String {
    let serial = free_port();
    let mut semihosting = String::from("enable=on,target=native,arg=mote-fw");
    for a in args {
        semihosting.push_str(",arg=");
        semihosting.push_str(a);
    }
    let mut qemu = Proc::spawn(
        Command::new("qemu-system-arm")
            .args(["-M", "mps2-an386", "-nographic", "-monitor", "none"])
            .args([
                "-serial",
                &format!("tcp:127.0.0.1:{serial},server=on,wait=on"),
            ])
            .args(["-semihosting-config", &semihosting, "-kernel"])
            .arg(elf),
        "qemu-system-arm",
        "qemu-system-arm",
    );
    assert!(
        qemu.wait_for("waiting for connection", 20),
        "QEMU did not start: {}",
        qemu.output()
    );
    let mut bridge = Proc::spawn(
        Command::new(env!("CARGO_BIN_EXE_mote"))
            .args([
                "bridge",
                "--serial",
                &format!("tcp:127.0.0.1:{serial}"),
                "--connect",
                &format!("127.0.0.1:{server_port}"),
                "--capture",
            ])
            .arg(capture),
        "mote bridge",
        "-",
    );
    let code = qemu.exit_code(180);
    let out = qemu.output();
    assert_eq!(
        code,
        Some(0),
        "the firmware failed:\n{out}\nbridge:\n{}",
        bridge.output()
    );
    // The board is gone: the bridge sees the serial line close and finishes its capture.
    let _ = bridge.exit_code(10);
    out
}

fn openssl(args: &[&str], dir: &Path) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("install the Debian package `openssl`");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn dissect_ok(capture: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_mote"))
        .arg("dissect")
        .arg(capture)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("client_hello") && out.contains("server_hello"),
        "{out}"
    );
}

#[test]
fn firmware_in_qemu_sends_readings_over_tls13_psk_and_certificates() {
    let dir = std::env::temp_dir().join(format!("mote-fw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // PSK with TLS_AES_128_CCM_8_SHA256, RFC 7925's suite for constrained devices.
    let elf = build_firmware("psk", &dir);
    let psk = "0102030405060708090a0b0c0d0e0f10";
    let port = free_port();
    let server = Proc::spawn(
        Command::new("openssl").args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-nocert",
            "-psk",
            psk,
            "-psk_identity",
            "sensor-0001",
            "-ciphersuites",
            "TLS_AES_128_CCM_8_SHA256",
            "-naccept",
            "1",
        ]),
        "openssl",
        "openssl",
    );
    assert!(server.wait_for("ACCEPT", 10));
    let capture = dir.join("psk.pcapng");
    let args = [
        format!("seed={}", seed()),
        format!("time={now}"),
        "id=sensor-0001".into(),
        format!("psk={psk}"),
        "readings=3".into(),
    ];
    let out = run_board(&elf, port, &args, &capture);
    assert!(
        out.contains("mote-firmware: ok suite=TLS_AES_128_CCM_8_SHA256 readings=3"),
        "{out}"
    );
    for i in 0..3 {
        assert!(
            server.wait_for(&format!("\"v\":21.{i}"), 10),
            "reading {i} missing:\n{}",
            server.output()
        );
    }
    drop(server);
    dissect_ok(&capture);

    // An ECDSA P-256 certificate under a CA, x25519 and AES-128-GCM.
    let elf = build_firmware("cert", &dir);
    openssl(
        &[
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
            "/CN=board CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        &dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=collector",
            "-keyout",
            "s.key",
            "-out",
            "s.csr",
        ],
        &dir,
    );
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:collector.example\n").unwrap();
    openssl(
        &[
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
        ],
        &dir,
    );
    openssl(
        &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
        &dir,
    );
    let ca = std::fs::read(dir.join("ca.der")).unwrap();
    // The certificate was made just now: give the board a clock read after that, or it is
    // not yet valid.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let port = free_port();
    let server = Proc::spawn(
        Command::new("openssl")
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
                "1",
            ])
            .current_dir(&dir),
        "openssl",
        "openssl",
    );
    assert!(server.wait_for("ACCEPT", 10));
    let capture = dir.join("cert.pcapng");
    let args = [
        format!("seed={}", seed()),
        format!("time={now}"),
        format!("ca={}", hex(&ca)),
        "name=collector.example".into(),
        "readings=2".into(),
    ];
    let out = run_board(&elf, port, &args, &capture);
    assert!(
        out.contains("mote-firmware: ok suite=TLS_AES_128_GCM_SHA256 readings=2"),
        "{out}"
    );
    for i in 0..2 {
        assert!(
            server.wait_for(&format!("\"v\":21.{i}"), 10),
            "reading {i} missing:\n{}",
            server.output()
        );
    }
    drop(server);
    dissect_ok(&capture);
    std::fs::remove_dir_all(&dir).ok();
}
