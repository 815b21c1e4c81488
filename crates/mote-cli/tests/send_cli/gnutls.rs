//! `mote send` against `gnutls-serv` (Debian package `gnutls-bin`). gnutls-serv binds every
//! address, so it runs in a private network namespace, and `mote send` with it: the test
//! starts `unshare -n -p -f --kill-child sh script`, where the script brings `lo` up, starts
//! gnutls-serv in echo mode, waits (bounded) until it listens, runs `mote send`, then stops
//! the server. The PID namespace makes the kernel kill gnutls-serv if the test kills
//! `unshare` (a failed test drops its guard). Needs root, as CI has.

use super::support::{readings, text, Pki, PSK_HEX, PSK_ID};
use crate::common::proc::run_bounded;
use crate::common::tools::{free_tcp_port, require};
use std::process::Command;

const TLS13: &str = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

/// What one run left behind.
struct Run {
    code: Option<i32>,
    mote_out: String,
    mote_err: String,
    server: String,
}

impl Run {
    fn context(&self) -> String {
        format!(
            "exit {:?}\n--- mote stdout\n{}--- mote stderr\n{}--- gnutls-serv\n{}",
            self.code, self.mote_out, self.mote_err, self.server
        )
    }

    /// mote send succeeded, and gnutls-serv printed every reading it echoed.
    fn assert_sent(&self, lines: &[String]) {
        assert_eq!(self.code, Some(0), "{}", self.context());
        assert!(
            self.mote_out.contains("connected: TLS 1.3"),
            "{}",
            self.context()
        );
        for l in lines {
            assert!(
                self.server.contains(&format!("received cmd: {l}")),
                "gnutls-serv did not receive {l}\n{}",
                self.context()
            );
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs gnutls-serv with `server_args` and `mote send` with `mote_args` in a fresh network
/// namespace, sending `lines`.
fn run(pki: &Pki, server_args: &[&str], mote_args: &[&str], lines: &[String]) -> Run {
    for (tool, package) in [
        ("gnutls-serv", "gnutls-bin"),
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
        ("stdbuf", "coreutils"),
    ] {
        require(tool, package);
    }
    let dir = &pki.dir;
    let port = free_tcp_port();
    let readings = dir.write("readings.txt", &(lines.join("\n") + "\n"));
    let server: Vec<String> = server_args.iter().map(|a| quote(a)).collect();
    let mote: Vec<String> = mote_args.iter().map(|a| quote(a)).collect();
    let script = format!(
        r#"set -u
cd {dir}
rm -f srv.log mote.out mote.err
ip link set lo up || {{ echo "ip link set lo up failed in the namespace" > mote.err; exit 97; }}
stdbuf -oL -eL gnutls-serv -p {port} {server} > srv.log 2>&1 &
srv=$!
i=0
until grep -q 'listening on IPv4' srv.log 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 200 ] || ! kill -0 $srv 2>/dev/null; then
    echo "gnutls-serv did not start listening" > mote.err; exit 98
  fi
  sleep 0.05
done
{mote_bin} send 127.0.0.1:{port} {mote} --readings {readings} --interval 0 > mote.out 2> mote.err
rc=$?
kill $srv
wait $srv
exit $rc
"#,
        dir = quote(&dir.0.to_string_lossy()),
        server = server.join(" "),
        mote_bin = quote(env!("CARGO_BIN_EXE_mote")),
        mote = mote.join(" "),
        readings = quote(&readings),
    );
    let script_path = dir.write("run.sh", &script);
    let o = run_bounded(
        Command::new("unshare").args(["-n", "-p", "-f", "--kill-child", "sh", &script_path]),
        60,
    );
    let read = |f: &str| std::fs::read_to_string(dir.path(f)).unwrap_or_default();
    let r = Run {
        code: o.status.code(),
        mote_out: read("mote.out"),
        mote_err: read("mote.err") + &text(&o.stderr),
        server: read("srv.log"),
    };
    assert!(
        !matches!(r.code, Some(97 | 98)),
        "the namespace or gnutls-serv did not come up (unshare needs root):\n{}",
        r.context()
    );
    r
}

fn cert_args(pki: &Pki) -> Vec<String> {
    vec![
        "--x509certfile".into(),
        pki.path("server.pem"),
        "--x509keyfile".into(),
        pki.path("server.key"),
    ]
}

#[test]
fn gnutls_ecdsa_p256_certificate() {
    let pki = Pki::new("gnutls-ecdsa");
    let lines = readings("gnutls-ecdsa");
    let mut s = cert_args(&pki);
    s.extend(["--priority".into(), TLS13.into(), "--echo".into()]);
    let s: Vec<&str> = s.iter().map(String::as_str).collect();
    let ca = pki.path("ca.pem");
    let r = run(
        &pki,
        &s,
        &["--ca", &ca, "--server-name", "sensor.example"],
        &lines,
    );
    r.assert_sent(&lines);
    assert!(
        r.mote_out
            .contains("server signed with ecdsa_secp256r1_sha256"),
        "{}",
        r.context()
    );
    // gnutls-serv asks for a client certificate unless told not to: mote sends an empty
    // Certificate and the server goes on.
    assert!(
        r.mote_out
            .contains("client certificate requested, none sent"),
        "{}",
        r.context()
    );
    for needle in [
        "Version: TLS1.3",
        "Server Signature: ECDSA-SECP256R1-SHA256",
        "Given server name[1]: sensor.example",
        "Using curve: X25519",
    ] {
        assert!(r.server.contains(needle), "{needle}\n{}", r.context());
    }
}

fn psk_file(pki: &Pki) -> String {
    pki.dir.write("psk.txt", &format!("{PSK_ID}:{PSK_HEX}\n"))
}

#[test]
fn gnutls_psk_ke_without_key_share() {
    let pki = Pki::new("gnutls-psk-ke");
    let lines = readings("gnutls-psk-ke");
    let psk = psk_file(&pki);
    let prio = format!("{TLS13}:+PSK:-ECDHE-PSK:-DHE-PSK");
    let r = run(
        &pki,
        &["--pskpasswd", &psk, "--priority", &prio, "--echo"],
        &["--psk-identity", PSK_ID, "--psk", PSK_HEX, "--psk-ke"],
        &lines,
    );
    r.assert_sent(&lines);
    assert!(
        r.mote_out.contains("PSK without (EC)DHE (psk_ke)"),
        "{}",
        r.context()
    );
    assert!(
        r.server
            .contains(&format!("PSK authentication. Connected as '{PSK_ID}'")),
        "{}",
        r.context()
    );
    assert!(
        !r.server.contains("Using curve"),
        "psk_ke must not use (EC)DHE\n{}",
        r.context()
    );
}

#[test]
fn gnutls_psk_dhe_ke() {
    let pki = Pki::new("gnutls-psk-dhe");
    let lines = readings("gnutls-psk-dhe");
    let psk = psk_file(&pki);
    let prio = format!("{TLS13}:+ECDHE-PSK");
    let r = run(
        &pki,
        &["--pskpasswd", &psk, "--priority", &prio, "--echo"],
        &["--psk-identity", PSK_ID, "--psk", PSK_HEX],
        &lines,
    );
    r.assert_sent(&lines);
    assert!(
        r.mote_out.contains("PSK with x25519 (psk_dhe_ke)"),
        "{}",
        r.context()
    );
    for needle in [
        format!("PSK authentication. Connected as '{PSK_ID}'"),
        "Using curve: X25519".into(),
    ] {
        assert!(r.server.contains(&needle), "{needle}\n{}", r.context());
    }
}

#[test]
fn gnutls_psk_aes_128_ccm_8() {
    let pki = Pki::new("gnutls-ccm8");
    let lines = readings("gnutls-ccm8");
    let psk = psk_file(&pki);
    let prio = format!("{TLS13}:+PSK:-ECDHE-PSK:-DHE-PSK:+AES-128-CCM-8");
    let r = run(
        &pki,
        &["--pskpasswd", &psk, "--priority", &prio, "--echo"],
        &[
            "--psk-identity",
            PSK_ID,
            "--psk",
            PSK_HEX,
            "--psk-ke",
            "--cipher",
            "TLS_AES_128_CCM_8_SHA256",
        ],
        &lines,
    );
    r.assert_sent(&lines);
    assert!(
        r.mote_out.contains("TLS_AES_128_CCM_8_SHA256"),
        "{}",
        r.context()
    );
    assert!(
        r.server.contains("Cipher: AES-128-CCM-8"),
        "{}",
        r.context()
    );
}

#[test]
fn gnutls_record_size_limit_512() {
    let pki = Pki::new("gnutls-rsl");
    // A reading longer than two records of 512 bytes: mote must split it to the server's
    // limit, or gnutls-serv refuses the oversized record.
    let mut lines = readings("gnutls-rsl");
    let long = format!(
        r#"[{{"bn":"urn:dev:mote:gnutls-rsl:","n":"trace","vs":"{}"}}]"#,
        "0123456789abcdef".repeat(80)
    );
    lines.push(long.clone());
    let mut s = cert_args(&pki);
    s.extend([
        "--priority".into(),
        TLS13.into(),
        "--echo".into(),
        "--recordsize".into(),
        "512".into(),
        "-a".into(),
        // Debug level 5 logs each record's length.
        "-d".into(),
        "5".into(),
    ]);
    let s: Vec<&str> = s.iter().map(String::as_str).collect();
    let ca = pki.path("ca.pem");
    let r = run(
        &pki,
        &s,
        &[
            "--ca",
            &ca,
            "--server-name",
            "sensor.example",
            "--record-size-limit",
            "512",
        ],
        &lines,
    );
    r.assert_sent(&lines[..3]);
    // RFC 8449 section 4: in TLS 1.3 the limit counts the content type byte.
    let limit = r
        .mote_out
        .split("server record_size_limit ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("no server record_size_limit\n{}", r.context()));
    assert!((64..=513).contains(&limit), "{limit}\n{}", r.context());
    // The long reading arrived whole, in pieces the server's limit allows.
    let received: String = r
        .server
        .lines()
        .filter_map(|l| l.strip_prefix("received cmd: "))
        .collect();
    assert!(received.contains(&long), "{}", r.context());
    // Every application data record from mote fits the server's limit, and the long
    // reading took several.
    let lens: Vec<usize> = r
        .server
        .lines()
        .filter_map(|l| l.split("Decrypted Packet[").nth(1))
        .filter_map(|l| l.split("Application Data(23) with length: ").nth(1))
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    assert!(
        lens.iter().all(|&n| n < limit as usize) && lens.iter().filter(|&&n| n > 400).count() >= 2,
        "record lengths {lens:?} against limit {limit}\n{}",
        r.context()
    );
    assert!(
        r.mote_out.contains(&format!("reading 4: {long}")),
        "{}",
        r.context()
    );
}
