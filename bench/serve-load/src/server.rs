//! The two servers under test, each run in a child process of the benchmark (`--server mote`
//! or `--server rustls`): one tokio current-thread runtime with a `LocalSet`, as `mote serve`
//! runs its connections, listening on 127.0.0.1 (a free port, backlog `BACKLOG`). The child
//! prints `port N` on stdout once it listens and exits when its standard input closes (the
//! parent holds it open), so it never outlives the benchmark; before it exits it prints how
//! many connections failed (see `print_summary`).
//!
//! Both do the same work per connection: TCP_NODELAY, the TLS 1.3 handshake (10 s at most),
//! then lines: each is parsed as JSON (`serde_json::Value`) and answered `ack SEQ` (`seq` of
//! the first record; `ack ?` without one), until the client's close_notify, which is answered
//! with close_notify and a TCP shutdown. No database: this measures TLS and connection
//! handling, not SQLite.

use mote::{Server, ServerConfig, ServerIdentity};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_std::tokio_io::{accept, TlsServerStream};
use mote_std::{Buffers, OsRng};
use mote_wire::{CipherSuite, NamedGroup};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

/// The listen backlog asked for (the kernel caps it at net.core.somaxconn).
pub const BACKLOG: u32 = 4096;
/// The longest line taken (as `mote serve`).
const MAX_LINE: usize = 64 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Failure messages kept for the summary.
const KEEP: usize = 3;

/// Connections whose handshake failed, and established ones that ended in an error.
static HANDSHAKE_FAILURES: AtomicUsize = AtomicUsize::new(0);
static CONNECTION_FAILURES: AtomicUsize = AtomicUsize::new(0);
static FIRST_FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn failed(handshake: bool, e: &dyn std::fmt::Display) {
    let (counter, what) = if handshake {
        (&HANDSHAKE_FAILURES, "handshake")
    } else {
        (&CONNECTION_FAILURES, "connection")
    };
    counter.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut first) = FIRST_FAILURES.lock() {
        if first.len() < KEEP {
            first.push(format!("{what}: {e}"));
        }
    }
}

/// What the child prints on stdout when its stdin closes, just before it exits:
/// `failures H C` then up to `KEEP` messages, one a line.
fn print_summary() {
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "failures {} {}",
        HANDSHAKE_FAILURES.load(Ordering::Relaxed),
        CONNECTION_FAILURES.load(Ordering::Relaxed)
    );
    if let Ok(first) = FIRST_FAILURES.lock() {
        for m in first.iter() {
            let _ = writeln!(out, "{}", m.replace('\n', " "));
        }
    }
    let _ = out.flush();
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mote,
    Rustls,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mote => "mote",
            Kind::Rustls => "rustls",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "mote" => Some(Kind::Mote),
            "rustls" => Some(Kind::Rustls),
            _ => None,
        }
    }
}

/// One line in, the answer out (`None` for a blank line).
pub fn answer(raw: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Some("error ? not UTF-8\n".into());
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(match serde_json::from_str::<Value>(text) {
        Ok(v) => match v
            .as_array()
            .and_then(|a| a.first())
            .and_then(|r| r.get("seq"))
            .and_then(Value::as_u64)
        {
            Some(seq) => format!("ack {seq}\n"),
            None => "ack ?\n".into(),
        },
        Err(_) => "error ? not JSON\n".into(),
    })
}

/// What the line loop needs of a TLS stream; both servers' streams provide it.
trait LineStream {
    async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    async fn send(&mut self, data: &[u8]) -> io::Result<()>;
    async fn finish(&mut self) -> io::Result<()>;
}

impl LineStream for TlsServerStream<'_, '_, RustCrypto, TcpStream> {
    async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read(buf).await
    }
    async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_all(data).await
    }
    async fn finish(&mut self) -> io::Result<()> {
        self.close().await
    }
}

impl LineStream for tokio_rustls::server::TlsStream<TcpStream> {
    async fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read(buf).await
    }
    async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_all(data).await?;
        self.flush().await
    }
    async fn finish(&mut self) -> io::Result<()> {
        self.shutdown().await
    }
}

/// Reads and answers lines until the client's close_notify, then closes (2 s at most).
async fn lines(tls: &mut impl LineStream) -> io::Result<()> {
    let mut line = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        while let Some(pos) = line.iter().position(|&b| b == b'\n') {
            let reply = answer(&line[..pos]);
            line.drain(..=pos);
            if let Some(r) = reply {
                tls.send(r.as_bytes()).await?;
            }
        }
        if line.len() > MAX_LINE {
            return Err(io::Error::other("line too long"));
        }
        match tls.read_some(&mut buf).await? {
            0 => break,
            n => line.extend_from_slice(&buf[..n]),
        }
    }
    match timeout(Duration::from_secs(2), tls.finish()).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::other("close timed out")),
    }
}

async fn mote_connection(cfg: &'static ServerConfig<'static>, chain_len: usize, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let mut bufs = Buffers::server(chain_len);
    let server = match Server::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    ) {
        Ok(s) => s,
        Err(e) => return failed(true, &e),
    };
    let mut tls = match timeout(HANDSHAKE_TIMEOUT, accept(server, sock)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return failed(true, &e),
        Err(e) => return failed(true, &e),
    };
    if let Err(e) = lines(&mut tls).await {
        failed(false, &e);
    }
}

async fn rustls_connection(acceptor: TlsAcceptor, sock: TcpStream) {
    let _ = sock.set_nodelay(true);
    let mut tls = match timeout(HANDSHAKE_TIMEOUT, acceptor.accept(sock)).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return failed(true, &e),
        Err(e) => return failed(true, &e),
    };
    if let Err(e) = lines(&mut tls).await {
        failed(false, &e);
    }
}

/// mote's configuration as `mote serve` builds it, leaked (it lives as long as the process),
/// narrowed to TLS_AES_128_GCM_SHA256 and x25519.
fn mote_config(cert: Vec<u8>, key: &[u8]) -> Result<&'static ServerConfig<'static>, String> {
    static SUITES: [CipherSuite; 1] = [CipherSuite::TLS_AES_128_GCM_SHA256];
    static GROUPS: [NamedGroup; 1] = [NamedGroup::X25519];
    let signer = EcdsaP256Signer::from_pkcs8_der(key).map_err(|e| format!("key: {e:?}"))?;
    let signer: &'static EcdsaP256Signer = Box::leak(Box::new(signer));
    let cert: &'static [u8] = Box::leak(cert.into_boxed_slice());
    let chain: &'static [&'static [u8]] = Box::leak(Box::new([cert]));
    let mut cfg = ServerConfig::new();
    cfg.cipher_suites = &SUITES;
    cfg.groups = &GROUPS;
    cfg.identity = Some(ServerIdentity { chain, signer });
    Ok(Box::leak(Box::new(cfg)))
}

/// rustls with the same certificate, suite and group; no session tickets (mote issues none
/// without ticket keys), no client authentication.
fn rustls_config(cert: Vec<u8>, key: Vec<u8>) -> Result<Arc<rustls::ServerConfig>, String> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(crate::pki::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .map_err(|e| e.to_string())?;
    cfg.send_tls13_tickets = 0;
    Ok(Arc::new(cfg))
}

async fn listen() -> io::Result<TcpListener> {
    let sock = TcpSocket::new_v4()?;
    sock.bind((std::net::Ipv4Addr::LOCALHOST, 0).into())?;
    sock.listen(BACKLOG)
}

/// The child process: serves until its standard input closes.
pub fn run(kind: Kind, cert: &Path, key: &Path) -> Result<(), String> {
    crate::raise_nofile(0)?;
    let cert = std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        let mut stdin = io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        print_summary();
        std::process::exit(0);
    });
    enum Tls {
        Mote(&'static ServerConfig<'static>, usize),
        Rustls(TlsAcceptor),
    }
    let tls = match kind {
        Kind::Mote => {
            let chain_len = cert.len() + 3;
            Tls::Mote(mote_config(cert, &key)?, chain_len)
        }
        Kind::Rustls => Tls::Rustls(TlsAcceptor::from(rustls_config(cert, key)?)),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = listen().await.map_err(|e| format!("listen: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        {
            let mut out = io::stdout().lock();
            writeln!(out, "port {port}")
                .and_then(|_| out.flush())
                .map_err(|e| e.to_string())?;
        }
        loop {
            match listener.accept().await {
                Ok((sock, _)) => match &tls {
                    Tls::Mote(cfg, chain_len) => {
                        let (cfg, chain_len) = (*cfg, *chain_len);
                        tokio::task::spawn_local(async move {
                            mote_connection(cfg, chain_len, sock).await
                        });
                    }
                    Tls::Rustls(acceptor) => {
                        let acceptor = acceptor.clone();
                        tokio::task::spawn_local(
                            async move { rustls_connection(acceptor, sock).await },
                        );
                    }
                },
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    eprintln!("server: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::answer;

    #[test]
    fn answers_the_first_records_seq() {
        let line = br#"[{"bn":"urn:dev:mote:0001:","n":"t","v":1,"seq":42},{"n":"h","v":2}]"#;
        assert_eq!(answer(line).as_deref(), Some("ack 42\n"));
        assert_eq!(answer(br#"[{"n":"t","v":1}]"#).as_deref(), Some("ack ?\n"));
        assert_eq!(answer(b"  ").as_deref(), None);
        assert_eq!(answer(b"[{").as_deref(), Some("error ? not JSON\n"));
    }
}
