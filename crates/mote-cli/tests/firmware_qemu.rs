//! The firmware on an emulated Cortex-M4 (QEMU mps2-an386; Debian package
//! `qemu-system-arm`) talking TLS 1.3 over its UART, through `mote bridge`, to a real
//! `openssl s_server` on 127.0.0.1: once with PSK and AES-128-CCM_8, once with an ECDSA
//! P-256 certificate chain. The server must print the readings, the firmware must report
//! success by semihosting, and the bridge's capture must dissect cleanly.
//!
//! The firmware is built here (`cargo build --release` in `firmware/`, for
//! thumbv7em-none-eabihf; `./scripts/test` installs the target).

mod common;

use common::mote::dissect_ok;
use common::openssl::tls13_server;
use common::pki::{ca, issue, P256};
use common::proc::Proc;
use common::tools::{free_tcp_port, require, root, TempDir};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let serial = free_tcp_port();
    let mut semihosting = String::from("enable=on,target=native,arg=mote-fw");
    for a in args {
        semihosting.push_str(",arg=");
        semihosting.push_str(a);
    }
    require("qemu-system-arm", "qemu-system-arm");
    let mut qemu = Proc::spawn(
        Command::new("qemu-system-arm")
            .args(["-M", "mps2-an386", "-nographic", "-monitor", "none"])
            .args([
                "-serial",
                &format!("tcp:127.0.0.1:{serial},server=on,wait=on"),
            ])
            .args(["-semihosting-config", &semihosting, "-kernel"])
            .arg(elf),
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

/// Runs the firmware with `args` against `server` on `port`: the firmware must report
/// `suite` and `readings` readings sent, the server must print each, and the capture must
/// dissect cleanly.
fn board_sends(
    elf: &Path,
    server: Proc,
    port: u16,
    args: &[String],
    capture: &Path,
    suite: &str,
    readings: u32,
) {
    let out = run_board(elf, port, args, capture);
    assert!(
        out.contains(&format!(
            "mote-firmware: ok suite={suite} readings={readings}"
        )),
        "{out}"
    );
    for i in 0..readings {
        assert!(
            server.wait_for(&format!("\"v\":21.{i}"), 10),
            "reading {i} missing:\n{}",
            server.output()
        );
    }
    drop(server);
    let out = dissect_ok(capture);
    assert!(
        out.contains("client_hello") && out.contains("server_hello"),
        "{out}"
    );
}

#[test]
fn firmware_in_qemu_sends_readings_over_tls13_psk_and_certificates() {
    let dir = TempDir::new("fw");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // PSK with TLS_AES_128_CCM_8_SHA256, RFC 7925's suite for constrained devices.
    let elf = build_firmware("psk", &dir);
    let psk = "0102030405060708090a0b0c0d0e0f10";
    let port = free_tcp_port();
    let server = tls13_server(
        port,
        1,
        &[
            "-nocert",
            "-psk",
            psk,
            "-psk_identity",
            "sensor-0001",
            "-ciphersuites",
            "TLS_AES_128_CCM_8_SHA256",
        ],
    );
    let capture = dir.join("psk.pcapng");
    let args = [
        format!("seed={}", seed()),
        format!("time={now}"),
        "id=sensor-0001".into(),
        format!("psk={psk}"),
        "readings=3".into(),
    ];
    let suite = "TLS_AES_128_CCM_8_SHA256";
    board_sends(&elf, server, port, &args, &capture, suite, 3);

    // An ECDSA P-256 certificate under a CA, x25519 and AES-128-GCM.
    let elf = build_firmware("cert", &dir);
    ca(&dir, "ca", "/CN=board CA", &[]);
    issue(
        &dir,
        "ca",
        "s",
        P256,
        "/CN=collector",
        "subjectAltName=DNS:collector.example\n",
    );
    common::openssl::run(
        &dir,
        &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
    );
    let ca = std::fs::read(dir.join("ca.der")).unwrap();
    // The certificate was made just now: give the board a clock read after that, or it is
    // not yet valid.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let port = free_tcp_port();
    let (cert, key) = (dir.path("s.pem"), dir.path("s.key"));
    let server = tls13_server(port, 1, &["-cert", &cert, "-key", &key]);
    let capture = dir.join("cert.pcapng");
    let args = [
        format!("seed={}", seed()),
        format!("time={now}"),
        format!("ca={}", hex(&ca)),
        "name=collector.example".into(),
        "readings=2".into(),
    ];
    board_sends(
        &elf,
        server,
        port,
        &args,
        &capture,
        "TLS_AES_128_GCM_SHA256",
        2,
    );
}
