//! Shared pieces of the engine's interop tests: an OS RNG, a peer process that is killed
//! when the test ends, and a loop that drives a client over a TCP stream. Each test file
//! compiles this module on its own (`mod common;`) and uses only part of it, hence
//! `dead_code` is allowed. In the submodules:
//!
//! - `dtls_peers`: mote's DTLS server and client against real DTLS peers, and the Python
//!   peers (tests/peers/*.py);
//! - `dtls_script`: records, messages, length fields and outcomes of the scripted DTLS
//!   peers (dtls12_bad_client_*.rs, dtls12_bad_server_*.rs), and `scripted_client` /
//!   `scripted_server`: what is particular to each of the two;
//! - `netns`: re-running a test in a private network namespace (the gnutls tests);
//! - `netsim`: a simulated lossy link and virtual clock (dtls12_lossy_link.rs);
//! - `tls_serve`: mote's TLS server over TCP, one connection at a time.
#![allow(dead_code)]

use mote::{Client, Status};
use mote_crypto::{CryptoError, Provider, Rng};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod dtls_peers;
pub mod dtls_script;
pub mod netns;
pub mod netsim;
pub mod record_keys;
pub mod scripted_client;
pub mod scripted_server;
pub mod tls_serve;

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

    /// The server certificate (DER) and the P-256 signer of its key, of a PKI made with
    /// `key` `ec`.
    pub fn ecdsa_leaf_and_signer(&self) -> (Vec<u8>, mote_crypto::rustcrypto::EcdsaP256Signer) {
        let leaf = self.openssl_der(&["x509", "-in", "server.pem"], "server.der");
        let key = self.openssl_der(&["pkey", "-in", "server.key"], "server.key.der");
        let signer = mote_crypto::rustcrypto::EcdsaP256Signer::from_der(&key).unwrap();
        (leaf, signer)
    }

    /// Runs `openssl <args> -outform DER -out <out>` in the PKI's folder and returns the
    /// DER it wrote (a certificate or key in the form mote loads).
    pub fn openssl_der(&self, args: &[&str], out: &str) -> Vec<u8> {
        let o = Command::new("openssl")
            .args(args)
            .args(["-outform", "DER", "-out", out])
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(self.dir.join(out)).unwrap()
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

/// Panics unless `tool` is on PATH, naming the Debian `package` that provides it (a missing
/// peer is a failure, never a skip).
pub fn require_tool(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    assert!(
        found,
        "`{tool}` is missing: install the Debian package `{package}` (./scripts/test does)"
    );
}

/// A stream that keeps a copy of every byte written to it (to look at the records a
/// server sent) and read from it.
pub struct Recording<S> {
    pub inner: S,
    pub written: Vec<u8>,
    pub read: Vec<u8>,
}

impl<S> Recording<S> {
    pub fn new(inner: S) -> Self {
        Recording {
            inner,
            written: Vec::new(),
            read: Vec::new(),
        }
    }
}

impl<S: Read> Read for Recording<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<S: Write> Write for Recording<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Splits a TLS byte stream into records: (content type, whole record length with its
/// 5-byte header). Panics on a truncated record.
pub fn tls_records(mut bytes: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "truncated record header");
        let total = 5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        assert!(bytes.len() >= total, "truncated record");
        out.push((bytes[0], total));
        bytes = &bytes[total..];
    }
    out
}

/// Sends everything a server has queued.
pub fn server_flush<P: Provider, W: Write>(
    s: &mut mote::Server<'_, '_, P>,
    sock: &mut W,
) -> Result<(), String> {
    while !s.transmit().is_empty() {
        let n = sock.write(s.transmit()).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("socket took nothing".into());
        }
        s.transmit_done(n);
    }
    Ok(())
}

/// Reads once from the socket into the server and sends what it answers; false at end of
/// stream.
pub fn server_feed<P: Provider, S: Read + Write>(
    s: &mut mote::Server<'_, '_, P>,
    sock: &mut S,
) -> Result<bool, String> {
    let buf = s.recv_buf();
    if buf.is_empty() {
        return Err("server receive buffer full".into());
    }
    let n = sock.read(buf).map_err(|e| format!("socket: {e}"))?;
    if n == 0 {
        return Ok(false);
    }
    let r = s.recv_done(n, &mut OsRng);
    server_flush(s, sock)?;
    r.map_err(|e| format!("server failed: {e}"))?;
    Ok(true)
}

/// What [`serve_echo`] saw.
#[derive(Debug, Default)]
pub struct Echoed {
    /// The lines received, without their newline.
    pub lines: Vec<String>,
    /// The client's close_notify arrived (the server answered it, or had sent its own).
    pub peer_closed: bool,
    /// The server sent close_notify first (after the line `bye`).
    pub server_closed_first: bool,
}

/// `n` bytes of a repeating pattern: the long answer to the line `big <n>`.
pub fn big_answer(n: usize) -> String {
    "0123456789abcdef".chars().cycle().take(n).collect()
}

/// The collector's side of the interop tests: answers each line `L` the client sends with
/// `ack L` (and `ack bye` then close_notify for the line `bye`; the line `big <n>` with
/// `ack big <n>: ` and [`big_answer`]), until the client's close_notify, or the end of the
/// stream after the server's own close_notify.
pub fn serve_echo<P: Provider, S: Read + Write>(
    s: &mut mote::Server<'_, '_, P>,
    sock: &mut S,
) -> Result<Echoed, String> {
    let mut e = Echoed::default();
    let mut pending = Vec::new();
    loop {
        server_flush(s, sock)?;
        match s.status() {
            Status::Handshaking | Status::Connected => {}
            Status::Failed => return Err(format!("server failed: {:?}", s.error())),
            // The client's close_notify: every line before it is answered; now ours (a
            // no-op when the engine already answered, or when ours went first).
            _ => {
                s.close();
                server_flush(s, sock)?;
                e.peer_closed = true;
                return Ok(e);
            }
        }
        if !server_feed(s, sock)? {
            if e.server_closed_first {
                return Ok(e);
            }
            return Err(format!("end of stream without close_notify after {e:?}"));
        }
        let mut buf = [0u8; 1024];
        while s.has_app_data() {
            let n = s.read(&mut buf);
            pending.extend_from_slice(&buf[..n]);
        }
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line[..pos])
                .trim_end_matches('\r')
                .to_string();
            let answer = match line.strip_prefix("big ").and_then(|n| n.parse().ok()) {
                Some(n) => format!("ack {line}: {}\n", big_answer(n)),
                None => format!("ack {line}\n"),
            };
            let mut rest = answer.as_bytes();
            while !rest.is_empty() {
                let n = s.write(rest).map_err(|e| format!("server write: {e}"))?;
                rest = &rest[n..];
                server_flush(s, sock)?;
            }
            if line == "bye" {
                s.close();
                e.server_closed_first = true;
            }
            e.lines.push(line);
        }
    }
}

// ---------------------------------------------------------------------------------------
// conformance helpers (server_conformance*.rs): a seeded RNG for reproducible hellos,
// record keys from a key-log secret to forge or read protected records, record splitting,
// and a fresh server that answers a sequence of received chunks.
// ---------------------------------------------------------------------------------------

/// A deterministic RNG (xorshift64*), so that a generated ClientHello is the same each run.
pub struct SeededRng(pub u64);

impl Rng for SeededRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
        Ok(())
    }
}

/// One direction's record protection from a logged traffic secret (RFC 8446 sections 5.2,
/// 5.3, 7.3), independent of the engine's own record layer: seals records with any header
/// and inner content, and opens what an endpoint sent.
pub struct RecordKeys {
    aead: <mote_crypto::rustcrypto::RustCrypto as Provider>::Aead,
    iv: [u8; 12],
    tag_len: usize,
    pub seq: u64,
}

impl RecordKeys {
    pub fn new(suite: mote_wire::CipherSuite, secret: &[u8]) -> RecordKeys {
        use mote_crypto::Aead;
        let p = mote_crypto::rustcrypto::RustCrypto;
        let info = mote_crypto::SuiteInfo::of(suite).expect("a TLS 1.3 suite");
        let k = mote::key_schedule::tls13::TrafficKeys::derive(
            &p,
            info.hash,
            info.aead.key_len(),
            secret,
        );
        let aead = p.aead(info.aead, k.key()).unwrap();
        let tag_len = aead.algorithm().tag_len();
        RecordKeys {
            aead,
            iv: k.iv,
            tag_len,
            seq: 0,
        }
    }

    fn nonce(&self) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// A protected record holding `content` of inner type `inner`, with `padding` zeros,
    /// under the outer header `[23, version, length]` (the header is the AAD).
    pub fn seal_with(
        &mut self,
        version: [u8; 2],
        inner: u8,
        content: &[u8],
        padding: usize,
    ) -> Vec<u8> {
        use mote_crypto::Aead;
        let mut body = content.to_vec();
        body.push(inner);
        body.resize(body.len() + padding, 0);
        let len = body.len() + self.tag_len;
        let header = [23, version[0], version[1], (len >> 8) as u8, len as u8];
        let mut tag = vec![0u8; self.tag_len];
        self.aead
            .seal_in_place(&self.nonce(), &header, &mut body, &mut tag)
            .unwrap();
        self.seq += 1;
        [&header[..], &body, &tag].concat()
    }

    /// A protected record as RFC 8446 section 5.2 builds it (legacy_record_version 0x0303).
    pub fn seal(&mut self, inner: u8, content: &[u8]) -> Vec<u8> {
        self.seal_with([3, 3], inner, content, 0)
    }

    /// Opens one whole protected record: the inner content type and the content, padding
    /// stripped; `None` when it does not authenticate.
    pub fn open(&mut self, record: &[u8]) -> Option<(u8, Vec<u8>)> {
        use mote_crypto::Aead;
        let (header, rest) = record.split_at(5);
        let (body, tag) = rest.split_at(rest.len().checked_sub(self.tag_len)?);
        let mut body = body.to_vec();
        self.aead
            .open_in_place(&self.nonce(), header, &mut body, tag)
            .ok()?;
        self.seq += 1;
        let at = body.iter().rposition(|&b| b != 0)?;
        Some((body[at], body[..at].to_vec()))
    }
}

/// Splits transmitted bytes into whole records (header included); panics on a partial one.
pub fn split_records(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "partial record header: {bytes:?}");
        let total = 5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        assert!(bytes.len() >= total, "partial record");
        out.push(bytes[..total].to_vec());
        bytes = &bytes[total..];
    }
    out
}

/// A plaintext record of content type `ct` (legacy_record_version 0x0301, as a first
/// ClientHello may carry).
pub fn plain_record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 1, (body.len() >> 8) as u8, body.len() as u8];
    r.extend_from_slice(body);
    r
}

/// The plaintext fatal alert a server sends before it has keys.
pub fn plain_alert(desc: mote_wire::AlertDescription) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, 2, desc.0]
}

/// Feeds `chunks`, one `recv_done` each, to a fresh server (a PSK for `sensor-0001` with
/// key `[7; 32]`, and an ECDSA identity with a placeholder chain) and returns what it
/// transmitted, its status and its error.
pub fn server_answer(chunks: &[&[u8]]) -> (Vec<u8>, Status, Option<mote::Error>) {
    let key = [7u8; 32];
    let psks = [mote::ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: mote_crypto::HashAlgorithm::Sha256,
    }];
    let signer = mote_crypto::rustcrypto::EcdsaP256Signer::from_scalar(&[3; 32]).unwrap();
    let chain: [&[u8]; 1] = [b"not a real certificate"];
    let mut cfg = mote::ServerConfig::new();
    cfg.psks = &psks;
    cfg.identity = Some(mote::ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let mut s = mote::Server::new(
        mote_crypto::rustcrypto::RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(0),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    for part in chunks {
        s.recv_buf()[..part.len()].copy_from_slice(part);
        let _ = s.recv_done(part.len(), &mut OsRng);
    }
    (s.transmit().to_vec(), s.status(), s.error())
}
