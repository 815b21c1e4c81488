//! `mote serve`: a TLS 1.3 collector. Devices send SenML JSON packs (RFC 8428), one per
//! line; each is checked, committed to SQLite, and only then acknowledged with `ack SEQ`
//! (or refused with `error SEQ WHAT`, `?` when the line names no sequence). See
//! [`senml`] for the sequence convention.
//!
//! Connections run on one thread (a tokio current-thread runtime with a `LocalSet`): the
//! engine's configuration holds `&dyn Signer`, which is not `Sync`, so connections are not
//! moved between threads. Commits block that thread for the fsync; a writer thread with
//! group commit is the next step for load.

pub mod senml;
pub mod store;

use clap::Args;
use mote::{ExternalPsk, Server, ServerConfig, ServerIdentity};
use mote_crypto::rustcrypto::{EcdsaP256Signer, Ed25519Signer, RustCrypto};
use mote_crypto::{HashAlgorithm, Signer};
use mote_std::tokio_io::{accept, TlsServerStream};
use mote_std::{Buffers, OsRng, PrivateKey};
use senml::{parse, peek_seq};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;
use store::{Store, Stored};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// ADDR:PORT to listen on (port 0: any free port; the line `mote serve: listening on
    /// ADDR:PORT` says which).
    #[arg(long, default_value = "127.0.0.1:4433", value_name = "ADDR:PORT")]
    pub listen: String,
    /// Certificate chain (PEM), end-entity first.
    #[arg(long, requires = "key", value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM, PKCS#8 or SEC 1; P-256 or Ed25519).
    #[arg(long, requires = "cert", value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// External PSK identity (with --psk): also the device ID, so the device writes only
    /// names under urn:dev:mote:ID:.
    #[arg(long, requires = "psk", conflicts_with = "psk_file")]
    pub psk_identity: Option<String>,
    /// External PSK as hex (with --psk-identity).
    #[arg(long, requires = "psk_identity")]
    pub psk: Option<String>,
    /// A file with `IDENTITY HEX` (one entry for now; `#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub psk_file: Option<PathBuf>,
    /// The SQLite database.
    #[arg(long, default_value = "readings.sqlite", value_name = "FILE")]
    pub db: PathBuf,
    /// Connections served at once; more are closed as they arrive.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_connections: usize,
    /// Seconds a client has to complete the handshake.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub handshake_timeout: f64,
    /// Seconds a client has to complete each line (after the handshake or the previous
    /// line): one that sends nothing, or a byte at a time, is dropped.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub idle_timeout: f64,
}

/// The longest line taken.
const MAX_LINE: usize = 64 * 1024;

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{s:?} is not an even number of hex digits"));
    }
    Ok((0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect())
}

/// A device ID as it appears in urn:dev:mote:ID: names.
fn valid_device(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

fn load_psk_file(p: &Path) -> Result<(String, Vec<u8>), String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("--psk-file {}: {e}", p.display()))?;
    let entries: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let [entry] = entries[..] else {
        return Err(format!(
            "--psk-file {}: exactly one `IDENTITY HEX` line is supported for now (found {})",
            p.display(),
            entries.len()
        ));
    };
    let (id, k) = entry.split_once(char::is_whitespace).ok_or(format!(
        "--psk-file {}: expected `IDENTITY HEX`",
        p.display()
    ))?;
    Ok((
        id.to_string(),
        hex(k).map_err(|e| format!("--psk-file {}: {e}", p.display()))?,
    ))
}

fn load_signer(p: &Path) -> Result<Box<dyn Signer>, String> {
    let key = mote_std::load_private_key(p).map_err(|e| format!("--key: {e}"))?;
    Ok(match key {
        PrivateKey::Sec1(d) => {
            Box::new(EcdsaP256Signer::from_sec1_der(&d).map_err(|e| format!("--key: {e:?}"))?)
        }
        PrivateKey::Pkcs8(d) => match EcdsaP256Signer::from_pkcs8_der(&d) {
            Ok(s) => Box::new(s),
            Err(_) => Box::new(
                Ed25519Signer::from_pkcs8_der(&d)
                    .map_err(|_| "--key: not a P-256 or Ed25519 key".to_string())?,
            ),
        },
    })
}

/// What every connection shares.
struct Ctx {
    cfg: &'static ServerConfig<'static>,
    /// The device every PSK client is (the single configured identity); `None` in
    /// certificate-only mode, where the device is taken from the names (unauthenticated).
    device: Option<String>,
    chain_len: usize,
    store: RefCell<Store>,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    active: Cell<usize>,
}

/// The engine configuration, leaked: it lives as long as the process.
fn configure(args: &ServeArgs) -> Result<(ServerConfig<'static>, Option<String>, usize), String> {
    let psk = match (&args.psk_identity, &args.psk, &args.psk_file) {
        (Some(id), Some(k), _) => Some((id.clone(), hex(k).map_err(|e| format!("--psk: {e}"))?)),
        (_, _, Some(f)) => Some(load_psk_file(f)?),
        _ => None,
    };
    let mut cfg = ServerConfig::new();
    let mut chain_len = 0;
    if let (Some(c), Some(k)) = (&args.cert, &args.key) {
        let chain = mote_std::load_certificates(c).map_err(|e| format!("--cert: {e}"))?;
        chain_len = chain.iter().map(|c| c.len() + 3).sum();
        let chain: &'static [Vec<u8>] = Box::leak(chain.into_boxed_slice());
        let refs: &'static [&'static [u8]] = Box::leak(
            chain
                .iter()
                .map(|c| c.as_slice())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let signer: &'static dyn Signer = Box::leak(load_signer(k)?);
        cfg.identity = Some(ServerIdentity {
            chain: refs,
            signer,
        });
    }
    let device = match psk {
        Some((id, key)) => {
            if !valid_device(&id) {
                return Err(format!(
                    "PSK identity {id:?}: a device ID is letters, digits, '-', '.' and '_'"
                ));
            }
            let id_bytes: &'static [u8] = Box::leak(id.clone().into_bytes().into_boxed_slice());
            let key: &'static [u8] = Box::leak(key.into_boxed_slice());
            cfg.psks = Box::leak(Box::new([ExternalPsk {
                identity: id_bytes,
                key,
                hash: HashAlgorithm::Sha256,
            }]));
            Some(id)
        }
        None => None,
    };
    if cfg.identity.is_none() && device.is_none() {
        return Err(
            "nothing to authenticate with: give --cert and --key, or --psk-identity and --psk, or --psk-file"
                .into(),
        );
    }
    Ok((cfg, device, chain_len))
}

pub fn run(args: &ServeArgs) -> ExitCode {
    let (cfg, device, chain_len) = match configure(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mote serve: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = |s: f64, what: &str| {
        Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or(format!(
                "--{what} {s}: must be a positive number of seconds"
            ))
    };
    let (handshake_timeout, idle_timeout) = match (
        secs(args.handshake_timeout, "handshake-timeout"),
        secs(args.idle_timeout, "idle-timeout"),
    ) {
        (Ok(h), Ok(i)) => (h, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("mote serve: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::open(&args.db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mote serve: --db {e}");
            return ExitCode::from(2);
        }
    };
    if device.is_none() {
        eprintln!(
            "mote serve: certificate only: clients are not authenticated, each device is taken from its readings' names"
        );
    }
    let ctx = Rc::new(Ctx {
        cfg: Box::leak(Box::new(cfg)),
        device,
        chain_len,
        store: RefCell::new(store),
        handshake_timeout,
        idle_timeout,
        active: Cell::new(0),
    });
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mote serve: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve(ctx, args))
}

async fn serve(ctx: Rc<Ctx>, args: &ServeArgs) -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = match TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote serve: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            eprintln!("mote serve: cannot handle signals");
            return ExitCode::from(1);
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("mote serve: listening on {a}"),
        Err(_) => println!("mote serve: listening on {}", args.listen),
    }
    println!("mote serve: storing readings in {}", args.db.display());
    let (stop_tx, stop_rx) = watch::channel(false);
    let why = loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((sock, peer)) => {
                    if ctx.active.get() >= args.max_connections {
                        eprintln!("{peer}: refused: {} connections open (--max-connections)", ctx.active.get());
                        drop(sock);
                        continue;
                    }
                    ctx.active.set(ctx.active.get() + 1);
                    let (ctx, stop) = (ctx.clone(), stop_rx.clone());
                    tokio::task::spawn_local(async move {
                        connection(&ctx, sock, peer.to_string(), stop).await;
                        ctx.active.set(ctx.active.get() - 1);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    eprintln!("mote serve: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
        }
    };
    drop(listener);
    println!(
        "mote serve: {why}: no new connections; closing {} open",
        ctx.active.get()
    );
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ctx.active.get() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("mote serve: stopped");
    ExitCode::SUCCESS
}

/// One line in, one line out (`None` for a blank line).
fn handle_line(ctx: &Ctx, raw: &[u8], peer: &str) -> Option<String> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Some("error ? not UTF-8\n".into());
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let label = peek_seq(text).map_or("?".to_string(), |s| s.to_string());
    let device = match &ctx.device {
        Some(d) => d.clone(),
        None => match device_of(text) {
            Some(d) => d,
            None => {
                return Some(format!(
                    "error {label} no urn:dev:mote:ID: name to take the device from\n"
                ))
            }
        },
    };
    let now = mote_std::now().as_millis() as f64 / 1000.0;
    let pack = match parse(text, &device, now) {
        Ok(p) => p,
        Err(e) => {
            println!("{peer}: device {device}: refused {label}: {e}");
            return Some(format!("error {label} {e}\n"));
        }
    };
    let label = pack.label();
    match ctx.store.borrow_mut().store(&device, &pack, now) {
        Ok(Stored::New(n)) => {
            println!("{peer}: device {device}: stored {label} ({n} new)");
            Some(format!("ack {label}\n"))
        }
        Ok(Stored::Duplicate) => {
            println!("{peer}: device {device}: {label} already stored");
            Some(format!("ack {label}\n"))
        }
        Err(e) => {
            eprintln!("{peer}: device {device}: {label} not stored: {e}");
            Some(format!("error {label} not stored: {e}\n"))
        }
    }
}

/// In certificate-only mode, the device ID in the first record's name.
fn device_of(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let r = v.as_array()?.first()?;
    let name = format!(
        "{}{}",
        r.get("bn").and_then(|b| b.as_str()).unwrap_or(""),
        r.get("n").and_then(|b| b.as_str()).unwrap_or("")
    );
    let id = name.strip_prefix("urn:dev:mote:")?.split(':').next()?;
    valid_device(id).then(|| id.to_string())
}

async fn connection(ctx: &Ctx, sock: TcpStream, peer: String, mut stop: watch::Receiver<bool>) {
    let _ = sock.set_nodelay(true);
    let mut bufs = Buffers::server(ctx.chain_len);
    let server = match Server::new(
        RustCrypto,
        ctx.cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{peer}: cannot start: {e}");
            return;
        }
    };
    let mut tls = match timeout(ctx.handshake_timeout, accept(server, sock)).await {
        Err(_) => {
            println!("{peer}: dropped: no handshake within the handshake timeout");
            return;
        }
        Ok(Err(e)) => {
            println!("{peer}: handshake failed: {e}");
            return;
        }
        Ok(Ok(t)) => t,
    };
    let n = tls.server().negotiated();
    println!(
        "{peer}: connected: TLS 1.3, {}{}",
        n.suite.map_or("?".to_string(), |s| s.to_string()),
        if n.psk { ", PSK" } else { ", certificate" }
    );
    let (stored, why) = lines(ctx, &mut tls, &peer, &mut stop).await;
    // Bounded: a client that does not read must not hold the connection.
    let closed = timeout(Duration::from_secs(2), tls.close()).await;
    println!(
        "{peer}: {why}; {}; {stored} line{} answered",
        match closed {
            Ok(Ok(())) => "closed with close_notify",
            _ => "dropped",
        },
        if stored == 1 { "" } else { "s" }
    );
}

/// Reads and answers lines until the client closes, times out or the server stops; how
/// many lines were answered, and why it ended.
async fn lines(
    ctx: &Ctx,
    tls: &mut TlsServerStream<'_, '_, RustCrypto, TcpStream>,
    peer: &str,
    stop: &mut watch::Receiver<bool>,
) -> (usize, &'static str) {
    let mut line = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut answered = 0;
    let mut deadline = Instant::now() + ctx.idle_timeout;
    loop {
        while let Some(pos) = line.iter().position(|&b| b == b'\n') {
            let l: Vec<u8> = line.drain(..=pos).collect();
            if let Some(reply) = handle_line(ctx, &l, peer) {
                if let Err(e) = tls.write_all(reply.as_bytes()).await {
                    if tls.server().status() == mote::Status::Closed {
                        // The engine takes no data after the client's close_notify.
                        return (answered, "client sent close_notify before its last answer");
                    }
                    println!("{peer}: cannot answer: {e}");
                    return (answered, "client gone");
                }
                answered += 1;
            }
            deadline = Instant::now() + ctx.idle_timeout;
        }
        if line.len() > MAX_LINE {
            let _ = tls
                .write_all(format!("error ? line longer than {MAX_LINE} bytes\n").as_bytes())
                .await;
            return (answered, "line too long");
        }
        if *stop.borrow() {
            return (answered, "server stopping");
        }
        tokio::select! {
            r = timeout_at(deadline, tls.read(&mut buf)) => match r {
                Err(_) => return (answered, "idle timeout"),
                Ok(Ok(0)) => {
                    if !line.is_empty() {
                        println!("{peer}: {} bytes after the last newline dropped", line.len());
                    }
                    return (answered, "client sent close_notify");
                }
                Ok(Ok(n)) => line.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => {
                    println!("{peer}: {e}");
                    return (answered, "connection failed");
                }
            },
            _ = stop.changed() => return (answered, "server stopping"),
        }
    }
}
