//! `mote serve`: a TLS 1.3 collector. Devices send SenML JSON packs (RFC 8428), one per
//! line; each is checked, committed to SQLite, and only then acknowledged with `ack SEQ`
//! (or refused with `error SEQ WHAT`, `?` when the line names no sequence). See
//! [`senml`] for the sequence convention.
//!
//! Devices are identified by their PSK identity or their client certificate (see
//! [`config`]); a device writes only names under `urn:dev:mote:ID:`.
//!
//! Connections run on one thread (a tokio current-thread runtime with a `LocalSet`): the
//! engine's configuration holds `&dyn Signer`, which is not `Sync`, so connections are not
//! moved between threads. Commits block that thread for the fsync; a writer thread with
//! group commit is the next step for load.

pub mod config;
mod conn;
mod dtls;
pub mod senml;
pub mod store;

use clap::Args;
use config::{configure, Credentials, TicketKeys};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

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
    /// Require client certificates issued by these CAs (PEM): the device ID is the
    /// certificate's `urn:dev:mote:ID` URI name, else its commonName.
    #[arg(long, requires = "cert", value_name = "PEM")]
    pub client_ca: Option<PathBuf>,
    /// External PSK identity (with --psk): also the device ID, so the device writes only
    /// names under urn:dev:mote:ID:.
    #[arg(long, requires = "psk", conflicts_with = "psk_file")]
    pub psk_identity: Option<String>,
    /// External PSK as hex (with --psk-identity).
    #[arg(long, requires = "psk_identity")]
    pub psk: Option<String>,
    /// A file of PSKs, one `IDENTITY HEX` per line (`#` starts a comment); each identity
    /// is a device ID.
    #[arg(long, value_name = "FILE")]
    pub psk_file: Option<PathBuf>,
    /// The SQLite database.
    #[arg(long, default_value = "readings.sqlite", value_name = "FILE")]
    pub db: PathBuf,
    /// Connections served at once; more are closed as they arrive.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub max_connections: usize,
    /// Seconds a client has to complete the handshake.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub handshake_timeout: f64,
    /// Seconds a client has to complete each line (after the handshake or the previous
    /// line): one that sends nothing, or a byte at a time, is dropped.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub idle_timeout: f64,
    /// Also take readings over DTLS 1.2 on this UDP ADDR:PORT (PSK devices; one reading
    /// per datagram, one ack datagram back; connection IDs granted).
    #[arg(long, value_name = "ADDR:PORT")]
    pub dtls_listen: Option<String>,
    /// Print only errors, not a line per connection and reading.
    #[arg(long)]
    pub quiet: bool,
}

/// What every connection shares.
pub(crate) struct Ctx {
    pub creds: Credentials,
    /// Device IDs of client certificates seen, by SPKI SHA-256: a resumed session names
    /// its device by key only (tickets carry the key's hash, not the certificate).
    pub cert_devices: RefCell<HashMap<[u8; 32], String>>,
    pub tickets: RefCell<TicketKeys>,
    pub store: RefCell<Store>,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub active: Cell<usize>,
    /// Connections (and DTLS sessions) served at once.
    pub max_connections: usize,
    /// Print only errors (`--quiet`).
    pub quiet: bool,
}

impl Ctx {
    /// A line of the collector's log, unless quiet.
    pub fn say(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            println!("{line}");
        }
    }
}

/// What ends the collector, besides SIGINT and SIGTERM.
pub type StopSignal = tokio::sync::oneshot::Receiver<()>;

pub fn run(args: &ServeArgs) -> ExitCode {
    run_until(args, None, |_, _| {})
}

/// Runs the collector on this thread until SIGINT, SIGTERM or `stop`; `listening` is told
/// the TCP address (and the UDP one with --dtls-listen) once it listens (for `mote demo`, which runs it beside its sensors).
pub fn run_until(
    args: &ServeArgs,
    stop: Option<StopSignal>,
    listening: impl FnOnce(std::net::SocketAddr, Option<std::net::SocketAddr>),
) -> ExitCode {
    let creds = match configure(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mote serve: {e}");
            return ExitCode::from(2);
        }
    };
    let tickets = match TicketKeys::new() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mote serve: {e}");
            return ExitCode::from(1);
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
    raise_fd_limit(args.max_connections);
    let ctx = Rc::new(Ctx {
        creds,
        cert_devices: RefCell::new(HashMap::new()),
        tickets: RefCell::new(tickets),
        store: RefCell::new(store),
        handshake_timeout,
        idle_timeout,
        active: Cell::new(0),
        max_connections: args.max_connections,
        quiet: args.quiet,
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
    local.block_on(&rt, serve(ctx, args, stop, listening))
}

async fn serve(
    ctx: Rc<Ctx>,
    args: &ServeArgs,
    stop: Option<StopSignal>,
    listening: impl FnOnce(std::net::SocketAddr, Option<std::net::SocketAddr>),
) -> ExitCode {
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
    let tcp_addr = listener.local_addr();
    match &tcp_addr {
        Ok(a) => ctx.say(format_args!("mote serve: listening on {a}")),
        Err(_) => ctx.say(format_args!("mote serve: listening on {}", args.listen)),
    }
    ctx.say(format_args!(
        "mote serve: storing readings in {}",
        args.db.display()
    ));
    let stop = async move {
        match stop {
            Some(rx) => {
                let _ = rx.await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut udp_addr = None;
    if let Some(addr) = &args.dtls_listen {
        let sock = match tokio::net::UdpSocket::bind(addr).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mote serve: cannot listen on UDP {addr}: {e}");
                return ExitCode::from(1);
            }
        };
        match sock.local_addr() {
            Ok(a) => {
                ctx.say(format_args!("mote serve: DTLS on {a}"));
                udp_addr = Some(a);
            }
            Err(_) => ctx.say(format_args!("mote serve: DTLS on {addr}")),
        }
        tokio::task::spawn_local(dtls::serve(ctx.clone(), sock, stop_rx.clone()));
    }
    if let Ok(a) = tcp_addr {
        listening(a, udp_addr);
    }
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
                        conn::connection(&ctx, sock, peer.to_string(), stop).await;
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
            _ = &mut stop => break "asked to stop",
        }
    };
    drop(listener);
    ctx.say(format_args!(
        "mote serve: {why}: no new connections; closing {} open",
        ctx.active.get()
    ));
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ctx.active.get() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ctx.say("mote serve: stopped");
    ExitCode::SUCCESS
}

/// Lets the process hold `connections` sockets (plus files and the listener), as far as
/// the hard limit allows; says so when it does not.
fn raise_fd_limit(connections: usize) {
    let want = connections as u64 + 64;
    match rlimit::increase_nofile_limit(want) {
        Ok(got) if got < want => eprintln!(
            "mote serve: only {got} open files allowed (ulimit -n): fewer than --max-connections {connections} connections will be served"
        ),
        _ => {}
    }
}
