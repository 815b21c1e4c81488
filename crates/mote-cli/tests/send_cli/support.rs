//! What the `mote send` tests share: required tools, certificates made with `openssl`, peer
//! processes killed on drop, and running the `mote` binary with a bounded wait.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const NAME: &str = "sensor.example";
pub const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
pub const PSK_ID: &str = "sensor-0001";

/// Fails (never skips) when `tool` is missing, naming the Debian package.
pub fn require(tool: &str, package: &str) {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("mote-send-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    pub fn path(&self, f: &str) -> String {
        self.0.join(f).to_string_lossy().into_owned()
    }

    pub fn write(&self, f: &str, text: &str) -> String {
        std::fs::write(self.0.join(f), text).unwrap();
        self.path(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `sh -c script` in `dir`; panics with its stderr when it fails.
pub fn sh(dir: &Path, script: &str) -> String {
    let o = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "`{script}` failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const EC: &str = "-newkey ec -pkeyopt ec_paramgen_curve:P-256";

/// Certificates made with `openssl` in a temporary directory:
/// - `ca.pem`/`ca.key`: a P-256 CA; `other-ca.pem`: an unrelated CA with another name;
/// - `server.pem`/`server.key`: P-256, SAN DNS:sensor.example and IP:127.0.0.1;
/// - `rsa.pem`/`rsa.key`: RSA-2048 with the same names;
/// - `expired.pem` (key `server.key`): valid only in January 2020;
/// - `client.pem`/`client.key`: P-256, CN sensor-0001, clientAuth.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new(tag: &str) -> Pki {
        require("openssl", "openssl");
        let dir = TempDir::new(&format!("pki-{tag}"));
        let d = &dir.0;
        let ca = "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
        sh(
            d,
            &format!(
                "openssl req -x509 -nodes -days 30 {EC} -subj '/CN=mote test CA' {ca} \
                 -keyout ca.key -out ca.pem 2>&1 && \
                 openssl req -x509 -nodes -days 30 {EC} -subj '/CN=another CA' {ca} \
                 -keyout other-ca.key -out other-ca.pem 2>&1"
            ),
        );
        std::fs::write(
            d.join("server.cnf"),
            format!(
                "subjectAltName=DNS:{NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n\
                 keyUsage=digitalSignature\n"
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("client.cnf"),
            "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n",
        )
        .unwrap();
        for (name, key, cn, ext) in [
            ("server", EC, "server", "server.cnf"),
            ("rsa", "-newkey rsa:2048", "server", "server.cnf"),
            ("client", EC, PSK_ID, "client.cnf"),
        ] {
            sh(
                d,
                &format!(
                    "openssl req -nodes {key} -subj '/CN={cn}' -keyout {name}.key \
                     -out {name}.csr 2>&1 && \
                     openssl x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key \
                     -CAcreateserial -days 30 -extfile {ext} -out {name}.pem 2>&1"
                ),
            );
        }
        // OpenSSL 3.0 (Debian 12) has no `x509 -not_after`; `openssl ca` sets both dates.
        std::fs::write(
            d.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\n\
                 new_certs_dir = .\nserial = ca.serial\ndefault_md = sha256\npolicy = any\n\
                 unique_subject = no\nx509_extensions = leaf\n[any]\ncommonName = supplied\n\
                 [leaf]\nsubjectAltName = DNS:{NAME},IP:127.0.0.1\n\
                 extendedKeyUsage = serverAuth\nkeyUsage = digitalSignature\n"
            ),
        )
        .unwrap();
        sh(
            d,
            "touch index.txt && echo 1000 > ca.serial && openssl ca -batch -notext \
             -config ca.cnf -cert ca.pem -keyfile ca.key -in server.csr \
             -startdate 20200101000000Z -enddate 20200201000000Z -out expired.pem 2>&1",
        );
        Pki { dir }
    }

    pub fn path(&self, f: &str) -> String {
        self.dir.path(f)
    }

    /// base64(SHA-256(SubjectPublicKeyInfo)) of a certificate, as `--pin-sha256` takes it.
    pub fn spki_pin(&self, cert: &str) -> String {
        sh(
            &self.dir.0,
            &format!(
                "openssl x509 -in {cert} -pubkey -noout | openssl pkey -pubin -outform DER \
                 | openssl dgst -sha256 -binary | base64"
            ),
        )
        .trim()
        .to_string()
    }
}

/// A peer process whose stdout and stderr are collected, killed on drop. Its stdin stays
/// open (a pipe), as `openssl s_server` exits at end of input.
pub struct Peer {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    pub fn spawn(cmd: &mut Command) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let out = Arc::new(Mutex::new(String::new()));
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as _),
            child.stderr.take().map(|s| Box::new(s) as _),
        ];
        for s in streams.into_iter().flatten() {
            let o = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(s).lines().map_while(Result::ok) {
                    let mut g = o.lock().unwrap();
                    g.push_str(&line);
                    g.push('\n');
                }
            });
        }
        Peer { child, out }
    }

    /// Waits (bounded) until the output contains `needle`.
    pub fn wait_for(&self, needle: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.out.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

/// Runs `cmd` to completion within `secs` seconds (killed past that, and on panic).
pub fn run_bounded(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut pipes: Vec<std::thread::JoinHandle<Vec<u8>>> = Vec::new();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child.stdout.take().map(|s| Box::new(s) as _),
        child.stderr.take().map(|s| Box::new(s) as _),
    ];
    for mut s in streams.into_iter().flatten() {
        pipes.push(std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = s.read_to_end(&mut b);
            b
        }));
    }
    // Killed on drop: when the deadline assertion fails, too.
    let mut guard = Peer {
        child,
        out: Arc::default(),
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = guard.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "{cmd:?} did not finish within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = pipes.pop().unwrap().join().unwrap();
    let stdout = pipes.pop().unwrap().join().unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// `mote send SERVER ARGS... --readings FILE --interval 0`, with a bounded wait.
pub fn mote_send(server: &str, args: &[&str], readings: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mote"));
    cmd.arg("send")
        .arg(server)
        .args(args)
        .args(["--readings", readings, "--interval", "0"]);
    run_bounded(&mut cmd, 60)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Readings, one SenML record a line, tagged so each test finds its own in a server's log.
pub fn readings(tag: &str) -> Vec<String> {
    (1..=3)
        .map(|i| {
            format!(r#"[{{"bn":"urn:dev:mote:{tag}:","n":"temperature","u":"Cel","v":2{i}.5}}]"#)
        })
        .collect()
}
