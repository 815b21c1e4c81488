//! Shared pieces of the engine's interop tests: an OS RNG, a peer process that is killed
//! when the test ends, and a loop that drives a client over a TCP stream.
#![allow(dead_code)]

use mote::{Client, Status};
use mote_crypto::{CryptoError, Provider, Rng};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The OS random number generator.
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(dest))
            .map_err(|_| CryptoError::RngFailure)
    }
}

/// A peer process, killed on drop, whose output is collected.
pub struct Peer {
    pub child: Child,
    pub out: Arc<Mutex<String>>,
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
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e} (install the Debian package that provides it; ./scripts/test does)"));
        let out = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let o = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut g = o.lock().unwrap();
                    g.push_str(&line);
                    g.push('\n');
                }
            });
        }
        Peer { child, out }
    }

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

    pub fn stdin(&mut self, s: &str) {
        let _ = self.child.stdin.as_mut().unwrap().write_all(s.as_bytes());
        let _ = self.child.stdin.as_mut().unwrap().flush();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Connects to 127.0.0.1:port, retrying while the server starts.
pub fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return s;
            }
            Err(e) if Instant::now() > deadline => {
                panic!("cannot connect to 127.0.0.1:{port}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends what the client has, then reads and feeds until `done(client)` or failure.
pub fn pump<P: Provider>(
    c: &mut Client<'_, '_, P>,
    s: &mut TcpStream,
    done: impl Fn(&Client<'_, '_, P>) -> bool,
) -> Result<(), String> {
    loop {
        while !c.transmit().is_empty() {
            let n = s.write(c.transmit()).map_err(|e| e.to_string())?;
            c.transmit_done(n);
        }
        if done(c) {
            return Ok(());
        }
        match c.status() {
            Status::Failed => {
                return Err(format!(
                    "client failed: {}",
                    c.error().map(|e| e.to_string()).unwrap_or_default()
                ))
            }
            Status::Closed => return Ok(()),
            _ => {}
        }
        let buf = c.recv_buf();
        if buf.is_empty() {
            return Err("receive buffer full".into());
        }
        let n = s.read(buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("peer closed the connection".into());
        }
        if let Err(e) = c.recv_done(n, &mut OsRng) {
            // Flush the alert owed before reporting.
            while !c.transmit().is_empty() {
                let n = s.write(c.transmit()).unwrap_or(0);
                if n == 0 {
                    break;
                }
                c.transmit_done(n);
            }
            return Err(format!("client failed: {e}"));
        }
    }
}

/// A CA and a server certificate made with `openssl` for a test, in a temporary directory.
pub struct Pki {
    pub dir: std::path::PathBuf,
    pub ca_der: Vec<u8>,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is missing: install the Debian package `openssl` (./scripts/test does)");
    assert!(
        o.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl Pki {
    /// `key` is `ec` (P-256), `rsa` (2048) or `ed25519`; the leaf has SAN DNS:`name` and
    /// IP:127.0.0.1 and is valid for `days` from now (negative: expired).
    pub fn new(tag: &str, key: &str, name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("mote-pki-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let newkey: Vec<&str> = match key {
            "ec" => vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "rsa" => vec!["-newkey", "rsa:2048"],
            _ => vec!["-newkey", "ed25519"],
        };
        let mut a = vec![
            "req",
            "-x509",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=mote test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ];
        a.extend_from_slice(&newkey);
        openssl(&a, &dir);
        let mut a = vec![
            "req",
            "-nodes",
            "-subj",
            "/CN=server",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ];
        a.extend_from_slice(&newkey);
        openssl(&a, &dir);
        let san = format!("subjectAltName=DNS:{name},IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n");
        std::fs::write(dir.join("ext.cnf"), san).unwrap();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
                "-out",
                "server.pem",
            ],
            &dir,
        );
        openssl(
            &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
            &dir,
        );
        let ca_der = std::fs::read(dir.join("ca.der")).unwrap();
        Pki { dir, ca_der }
    }

    pub fn path(&self, f: &str) -> String {
        self.dir.join(f).to_string_lossy().into_owned()
    }
}

/// A key log shared with another thread (a test's man-in-the-middle): the engine logs each
/// secret when it derives it, and the other side waits for the one it needs.
#[derive(Clone, Default)]
pub struct SharedKeyLog(Arc<(Mutex<Vec<LoggedSecret>>, std::sync::Condvar)>);

/// A key log line: label and secret.
pub type LoggedSecret = (String, Vec<u8>);

impl mote::KeyLog for SharedKeyLog {
    fn log(&self, label: &str, _client_random: &[u8; 32], secret: &[u8]) {
        let (lock, cv) = &*self.0;
        lock.lock()
            .unwrap()
            .push((label.to_string(), secret.to_vec()));
        cv.notify_all();
    }
}

impl SharedKeyLog {
    /// The secret logged under `label`, waiting up to `timeout` for the engine to log it.
    pub fn wait(&self, label: &str, timeout: Duration) -> Option<Vec<u8>> {
        let (lock, cv) = &*self.0;
        let guard = lock.lock().unwrap();
        let (guard, _) = cv
            .wait_timeout_while(guard, timeout, |v| !v.iter().any(|(l, _)| l == label))
            .unwrap();
        guard
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, s)| s.clone())
    }
}

/// Seconds since the Unix epoch from the system clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Pki {
    /// A second server certificate from the same CA and key, with the same names, that
    /// expired in 2020 (`expired.pem`). OpenSSL 3.0 has no `x509 -not_after`, so it is
    /// issued with `openssl ca -startdate -enddate`, which sets both dates explicitly.
    pub fn expired_leaf(&self, name: &str) -> String {
        let conf = format!(
            "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\nnew_certs_dir = .\n\
             serial = ca.serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
             x509_extensions = leaf\n[any]\ncommonName = supplied\n[leaf]\n\
             subjectAltName = DNS:{name},IP:127.0.0.1\nextendedKeyUsage = serverAuth\n\
             keyUsage = digitalSignature\n"
        );
        std::fs::write(self.dir.join("ca.cnf"), conf).unwrap();
        std::fs::write(self.dir.join("index.txt"), "").unwrap();
        std::fs::write(self.dir.join("ca.serial"), "1000\n").unwrap();
        openssl(
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                "ca.cnf",
                "-cert",
                "ca.pem",
                "-keyfile",
                "ca.key",
                "-in",
                "server.csr",
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200201000000Z",
                "-out",
                "expired.pem",
            ],
            &self.dir,
        );
        self.path("expired.pem")
    }
}

/// A self-signed P-256 CA named `cn` (DER), unrelated to any [`Pki`]: an issuer the server's
/// chain does not lead to.
pub fn unrelated_ca(tag: &str, cn: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("mote-ca-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let subj = format!("/CN={cn}");
    openssl(
        &[
            "req",
            "-x509",
            "-nodes",
            "-days",
            "30",
            "-subj",
            &subj,
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "ca.key",
            "-outform",
            "DER",
            "-out",
            "ca.der",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        &dir,
    );
    let der = std::fs::read(dir.join("ca.der")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    der
}

/// `openssl s_server -tls1_3` on a free port of 127.0.0.1 for `accept` connections, with
/// `args` added; waits until it listens.
pub fn s_server(accept: u32, args: &[&str]) -> (Peer, u16) {
    let port = free_port();
    let p = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-tls1_3",
            ])
            .args(["-naccept", &accept.to_string()])
            .args(args),
    );
    assert!(
        p.wait_for("ACCEPT", 10),
        "s_server did not start: {}",
        p.output()
    );
    (p, port)
}
