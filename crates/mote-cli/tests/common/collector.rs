//! A running `mote serve` for the collector tests, and `mote send` against it.

use super::proc::Proc;
use super::tools::TempDir;
use std::process::{Command, Output, Stdio};

pub const PSK_ID: &str = "dev1";
pub const PSK_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub fn mote() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mote"))
}

/// A running `mote serve`, killed on drop.
pub struct Collector {
    pub proc: Proc,
    pub pid: u32,
    pub addr: String,
    pub db: String,
}

impl Collector {
    pub fn start(dir: &TempDir, extra: &[&str]) -> Collector {
        Collector::start_on(dir, "127.0.0.1:0", extra)
    }

    /// On a given ADDR:PORT (to restart on the same port), with `dir`'s database.
    pub fn start_on(dir: &TempDir, listen: &str, extra: &[&str]) -> Collector {
        let db = dir.path("readings.sqlite");
        let child = mote()
            .args(["serve", "--listen", listen, "--db", &db])
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mote serve");
        let pid = child.id();
        let proc = Proc::adopt(child);
        assert!(
            proc.wait_for_stdout("mote serve: listening on ", 10),
            "mote serve did not start: {}",
            proc.output()
        );
        let out = proc.stdout();
        let addr = out
            .lines()
            .find_map(|l| l.strip_prefix("mote serve: listening on "))
            .unwrap()
            .trim()
            .to_string();
        Collector {
            proc,
            pid,
            addr,
            db,
        }
    }

    pub fn psk(dir: &TempDir, extra: &[&str]) -> Collector {
        let mut a = vec!["--psk-identity", PSK_ID, "--psk", PSK_HEX];
        a.extend_from_slice(extra);
        Collector::start(dir, &a)
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig}");
    }

    /// `mote readings --format json` for this collector's database.
    pub fn readings(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let o = mote()
            .args(["readings", "--db", &self.db, "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

pub fn send(addr: &str, args: &[&str]) -> Output {
    let o = mote()
        .args(["send", addr])
        .args(args)
        .output()
        .expect("run mote send");
    assert!(
        o.status.success(),
        "mote send failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}
