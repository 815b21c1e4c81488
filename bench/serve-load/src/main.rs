//! Load benchmark: a collector-shaped TLS 1.3 server (lines of SenML JSON in, `ack SEQ` out,
//! no database) built on mote (mote-std's tokio adapter, as `mote serve` runs it) and on
//! tokio + rustls, with the same certificate, suite and group, each on one current-thread
//! runtime in a child process of its own; the clients are tokio-rustls on this process's
//! multi-thread runtime. Run it with scripts/bench-serve; `--help` lists the options.

mod client;
mod pki;
mod server;

use client::{Clients, Conn};
use server::Kind;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

const USAGE: &str = "\
usage: mote-bench-serve-load [--connections N] [--readings R] [--rounds K] [--in-flight M]
                             [--client-threads T] [--quick]

  --connections N     concurrent clients (default 1000)
  --readings R        readings per connection in the readings phase (default 20)
  --rounds K          full handshakes per client in the handshake phase (default 5)
  --in-flight M       handshakes in flight at most (default 256)
  --client-threads T  worker threads of the clients' runtime (default: the number of cores)
  --quick             a smoke run: --connections 100 --readings 5 --rounds 2 (later options win)
";

/// Clock ticks per second in /proc/PID/stat (USER_HZ: 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;
/// Error messages kept per phase.
const KEEP_ERRORS: usize = 5;

struct Opts {
    connections: usize,
    readings: u64,
    rounds: usize,
    in_flight: usize,
    client_threads: usize,
}

fn parse_opts(args: &[String]) -> Result<Opts, String> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut o = Opts {
        connections: 1000,
        readings: 20,
        rounds: 5,
        in_flight: 256,
        client_threads: cores,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            match v.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{name} {v}: expected a positive integer")),
            }
        };
        match a.as_str() {
            "--connections" => o.connections = num(a)? as usize,
            "--readings" => o.readings = num(a)?,
            "--rounds" => o.rounds = num(a)? as usize,
            "--in-flight" => o.in_flight = num(a)? as usize,
            "--client-threads" => o.client_threads = num(a)? as usize,
            "--quick" => {
                o.connections = 100;
                o.readings = 5;
                o.rounds = 2;
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok(o)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit; an error when that is below `needed`.
pub fn raise_nofile(needed: u64) -> Result<u64, String> {
    let lim = rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot raise RLIMIT_NOFILE: {e}"))?;
    if lim < needed {
        return Err(format!(
            "RLIMIT_NOFILE is {lim} at most (hard limit) but {needed} descriptors are needed: \
             raise it (ulimit -Hn, as root) or use fewer --connections"
        ));
    }
    Ok(lim)
}

// --- /proc -----------------------------------------------------------------------------------

fn rss_bytes(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other("no VmRSS in /proc/PID/status"))
}

/// CPU time of the process in seconds: the sum of its threads' run time in nanoseconds
/// (/proc/PID/task/TID/schedstat, first field) where the kernel has schedstats, else
/// utime + stime from /proc/PID/stat (10 ms ticks).
fn cpu_seconds(pid: u32) -> io::Result<f64> {
    match schedstat_seconds(pid) {
        Some(s) => Ok(s),
        None => stat_seconds(pid),
    }
}

fn schedstat_seconds(pid: u32) -> Option<f64> {
    let mut ns = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = t.ok()?.path().join("schedstat");
        match std::fs::read_to_string(&path) {
            Ok(s) => ns += s.split_whitespace().next()?.parse::<u64>().ok()?,
            // A thread that ended between the listing and the read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
    }
    Some(ns as f64 / 1e9)
}

/// utime + stime of the process (all its threads), in seconds.
fn stat_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| io::Error::other("unexpected /proc/PID/stat"))?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> io::Result<f64> {
        f.get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|t| t as f64 / USER_HZ)
            .ok_or_else(|| io::Error::other("unexpected /proc/PID/stat"))
    };
    // utime is field 14 and stime field 15: indexes 11 and 12 from field 3.
    Ok(tick(11)? + tick(12)?)
}

fn read_trim(p: &str) -> String {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into())
}

// --- the server child -------------------------------------------------------------------------

struct ServerChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
    pid: u32,
    port: u16,
}

/// What the server child said of its connections when it stopped.
#[derive(Default)]
struct ServerFailures {
    handshake: u64,
    connection: u64,
    first: Vec<String>,
}

impl ServerChild {
    fn spawn(kind: Kind, cert: &Path, key: &Path) -> Result<ServerChild, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .arg("--server")
            .arg(kind.name())
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the {} server: {e}", kind.name()))?;
        let stdin = child.stdin.take();
        let pid = child.id();
        let stdout = child.stdout.take().map(BufReader::new);
        let mut sc = ServerChild {
            child,
            stdin,
            stdout,
            pid,
            port: 0,
        };
        let mut line = String::new();
        sc.stdout
            .as_mut()
            .ok_or("no stdout")?
            .read_line(&mut line)
            .map_err(|e| format!("{} server: {e}", kind.name()))?;
        sc.port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("{} server did not start (said {line:?})", kind.name()))?;
        Ok(sc)
    }
}

impl ServerChild {
    /// Closes the child's stdin and reads its failure summary (5 s at most).
    fn stop(mut self) -> ServerFailures {
        drop(self.stdin.take()); // the child prints its summary and exits
        let mut f = ServerFailures::default();
        let Some(mut out) = self.stdout.take() else {
            return f;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = io::Read::read_to_string(&mut out, &mut text);
            let _ = tx.send(text);
        });
        if let Ok(text) = rx.recv_timeout(Duration::from_secs(5)) {
            let mut lines = text.lines();
            if let Some(counts) = lines.next().and_then(|l| l.strip_prefix("failures ")) {
                let mut n = counts.split(' ').map(|v| v.parse().unwrap_or(0));
                f.handshake = n.next().unwrap_or(0);
                f.connection = n.next().unwrap_or(0);
            }
            f.first = lines.map(str::to_string).collect();
        }
        f
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        drop(self.stdin.take()); // the child exits when its stdin closes
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- phases ----------------------------------------------------------------------------------

#[derive(Default)]
struct Errors {
    count: usize,
    first: Vec<String>,
}

impl Errors {
    fn add(&mut self, phase: &str, e: impl std::fmt::Display) {
        self.count += 1;
        if self.first.len() < KEEP_ERRORS {
            self.first.push(format!("{phase}: {e}"));
        }
    }
}

fn join_error(e: tokio::task::JoinError) -> io::Error {
    io::Error::other(format!("client task: {e}"))
}

/// Opens `n` connections (at most `in_flight` handshakes at once), each sending one reading
/// (seq 0) and waiting for its ack; the connections stay open.
async fn open_idle(
    clients: &Clients,
    n: usize,
    in_flight: usize,
    errs: &mut Errors,
) -> Vec<(usize, Conn)> {
    let sem = Arc::new(Semaphore::new(in_flight));
    let mut set = JoinSet::new();
    for i in 0..n {
        let (c, sem) = (clients.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.map_err(io::Error::other)?;
            let mut conn = c.open().await?;
            client::reading(&mut conn, i as u64 * 1_000_000, &mut Vec::new()).await?;
            Ok::<_, io::Error>((i, conn))
        });
    }
    let mut conns = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        match r.map_err(join_error).and_then(|r| r) {
            Ok(c) => conns.push(c),
            Err(e) => errs.add("open", e),
        }
    }
    conns
}

struct Timed {
    done: u64,
    wall: Duration,
    cpu: f64,
}

/// Every connection sends `r` readings, one at a time, each waiting for its ack; timed from
/// the start signal to the last ack.
async fn readings(
    conns: Vec<(usize, Conn)>,
    r: u64,
    pid: u32,
    errs: &mut Errors,
) -> io::Result<(Vec<(usize, Conn)>, Timed)> {
    let (go_tx, go_rx) = watch::channel(false);
    let mut set = JoinSet::new();
    for (i, mut conn) in conns {
        let mut go = go_rx.clone();
        set.spawn(async move {
            let mut pending = Vec::new();
            if go.wait_for(|g| *g).await.is_err() {
                return (0, Some((i, conn)), None);
            }
            for k in 1..=r {
                if let Err(e) =
                    client::reading(&mut conn, i as u64 * 1_000_000 + k, &mut pending).await
                {
                    return (k - 1, None, Some(e));
                }
            }
            (r, Some((i, conn)), None)
        });
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // every task waiting for the signal
    let cpu0 = cpu_seconds(pid)?;
    let t0 = Instant::now();
    let _ = go_tx.send(true);
    let mut kept = Vec::new();
    let mut done = 0;
    while let Some(res) = set.join_next().await {
        match res {
            Ok((n, conn, e)) => {
                done += n;
                kept.extend(conn);
                if let Some(e) = e {
                    errs.add("reading", e);
                }
            }
            Err(e) => errs.add("reading", join_error(e)),
        }
    }
    let wall = t0.elapsed();
    let cpu = cpu_seconds(pid)? - cpu0;
    Ok((kept, Timed { done, wall, cpu }))
}

async fn close_all(conns: Vec<(usize, Conn)>, errs: &mut Errors) {
    let mut set = JoinSet::new();
    for (_, c) in conns {
        set.spawn(client::close(c));
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = r.map_err(join_error).and_then(|r| r) {
            errs.add("close", e);
        }
    }
}

/// `n` clients, each doing `rounds` full handshakes one after another (connect, handshake,
/// close_notify, wait for the server's close), at most `in_flight` at once.
async fn handshakes(
    clients: &Clients,
    n: usize,
    rounds: usize,
    in_flight: usize,
    pid: u32,
    errs: &mut Errors,
) -> io::Result<Timed> {
    let sem = Arc::new(Semaphore::new(in_flight));
    let cpu0 = cpu_seconds(pid)?;
    let t0 = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (c, sem) = (clients.clone(), sem.clone());
        set.spawn(async move {
            let mut ok = 0u64;
            let mut errs = Vec::new();
            for _ in 0..rounds {
                let Ok(_permit) = sem.acquire().await else {
                    break;
                };
                match c.open().await {
                    Ok(conn) => match client::close(conn).await {
                        Ok(()) => ok += 1,
                        Err(e) => errs.push(e),
                    },
                    Err(e) => errs.push(e),
                }
            }
            (ok, errs)
        });
    }
    let mut done = 0;
    while let Some(r) = set.join_next().await {
        match r {
            Ok((ok, es)) => {
                done += ok;
                for e in es {
                    errs.add("handshake", e);
                }
            }
            Err(e) => errs.add("handshake", join_error(e)),
        }
    }
    let wall = t0.elapsed();
    let cpu = cpu_seconds(pid)? - cpu0;
    Ok(Timed { done, wall, cpu })
}

struct Figures {
    kind: Kind,
    negotiated: String,
    handshakes: Timed,
    readings: Timed,
    rss_before: u64,
    rss_after: u64,
    idle: usize,
    errors: Errors,
    server_failures: ServerFailures,
}

fn measure(
    kind: Kind,
    o: &Opts,
    rt: &tokio::runtime::Runtime,
    pki: &pki::Pki,
    cert: &Path,
    key: &Path,
) -> Result<Figures, String> {
    let io = |e: io::Error| e.to_string();
    let child = ServerChild::spawn(kind, cert, key)?;
    let pid = child.pid;
    let clients = Clients::new(&pki.ca_der, child.port)?;
    let mut errors = Errors::default();
    eprintln!(
        "==> {}: server pid {pid}, 127.0.0.1:{}",
        kind.name(),
        child.port
    );

    // One connection first: what was negotiated, and one-time initialisation out of the way.
    let negotiated = rt.block_on(async {
        let mut c = clients.open().await?;
        let n = client::negotiated(&c);
        client::reading(&mut c, 1, &mut Vec::new()).await?;
        client::close(c).await?;
        Ok::<_, io::Error>(n)
    });
    let negotiated = negotiated.map_err(|e| format!("{}: first connection: {e}", kind.name()))?;
    eprintln!("    negotiated {negotiated}");
    std::thread::sleep(Duration::from_millis(200));
    let rss_before = rss_bytes(pid).map_err(io)?;

    eprintln!(
        "    opening {} connections (handshake + one reading each), left idle",
        o.connections
    );
    let conns = rt.block_on(open_idle(&clients, o.connections, o.in_flight, &mut errors));
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = rss_bytes(pid).map_err(io)?;
    let idle = conns.len();

    eprintln!(
        "    readings: {} per connection on {idle} connections",
        o.readings
    );
    let (conns, readings) = rt
        .block_on(readings(conns, o.readings, pid, &mut errors))
        .map_err(io)?;
    rt.block_on(close_all(conns, &mut errors));

    eprintln!(
        "    handshakes: {} clients x {} rounds, {} in flight at most",
        o.connections, o.rounds, o.in_flight
    );
    let handshakes = rt
        .block_on(handshakes(
            &clients,
            o.connections,
            o.rounds,
            o.in_flight,
            pid,
            &mut errors,
        ))
        .map_err(io)?;
    let server_failures = child.stop();
    Ok(Figures {
        kind,
        negotiated,
        handshakes,
        readings,
        rss_before,
        rss_after,
        idle,
        errors,
        server_failures,
    })
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn per_sec(t: &Timed) -> u64 {
    (t.done as f64 / t.wall.as_secs_f64()).round() as u64
}

fn cpu_us_per(t: &Timed) -> String {
    if t.done == 0 {
        return "-".into();
    }
    format!("{:.0}", t.cpu * 1e6 / t.done as f64)
}

fn busy(t: &Timed) -> String {
    format!("{:.0}%", 100.0 * t.cpu / t.wall.as_secs_f64())
}

fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Mote => "mote (mote-std tokio_io, RustCrypto)",
        Kind::Rustls => "tokio + rustls (tokio-rustls, ring)",
    }
}

fn report(o: &Opts, f: &[Figures], chain_len: usize, somaxconn: &str) -> String {
    let mut s = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    s += "\n## Collector load: mote vs tokio + rustls\n\n";
    s += &format!(
        "Each server alone in a child process on one tokio current-thread runtime + LocalSet \
         (one core), 127.0.0.1, listen backlog {} (net.core.somaxconn {somaxconn}); TLS 1.3, \
         TLS_AES_128_GCM_SHA256, x25519, ECDSA P-256 server certificate (signed by a P-256 CA, \
         chain of 1 certificate sent). Clients: tokio-rustls (ring) on a {}-thread runtime in \
         the parent, verifying the chain to the CA, no resumption. Machine: {cores} cores, {}, \
         Linux {}.\n\n",
        server::BACKLOG,
        o.client_threads,
        cpu_model(),
        read_trim("/proc/sys/kernel/osrelease"),
    );
    s += &format!(
        "Parameters: --connections {} --readings {} --rounds {} --in-flight {}.\n\n",
        o.connections, o.readings, o.rounds, o.in_flight
    );
    s += "| server | handshakes/s | server CPU µs/handshake | readings/s | RSS per idle connection (bytes) | server CPU µs/reading | server core busy (handshakes / readings) |\n";
    s += "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for x in f {
        let rss = if x.idle > 0 {
            thousands(x.rss_after.saturating_sub(x.rss_before) / x.idle as u64)
        } else {
            "-".into()
        };
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} / {} |\n",
            label(x.kind),
            thousands(per_sec(&x.handshakes)),
            cpu_us_per(&x.handshakes),
            thousands(per_sec(&x.readings)),
            rss,
            cpu_us_per(&x.readings),
            busy(&x.handshakes),
            busy(&x.readings),
        );
    }
    s += "\n";
    s += "- No database: both servers parse each line as JSON (serde_json::Value) and answer \
          `ack SEQ`; this measures TLS and connection handling, not SQLite or its fsync (which \
          `mote serve` does before each ack).\n";
    s += &format!(
        "- handshakes/s: {} clients each doing {} full handshakes one after another (TCP \
         connect, handshake, close_notify both ways, wait for the server's close), at most {} \
         in flight; total / wall time. Server CPU is the server process's CPU time over the \
         same interval (the sum of its threads' /proc/PID/task/TID/schedstat run time, in ns; \
         the same as utime+stime of /proc/PID/stat without its 10 ms ticks), per handshake.\n",
        o.connections, o.rounds, o.in_flight
    );
    s += &format!(
        "- readings/s: {} connections already open, each sending {} SenML packs (~100 bytes) one \
         at a time and waiting for each `ack SEQ`; total readings / wall time.\n",
        o.connections, o.readings
    );
    s += &format!(
        "- RSS per idle connection: server VmRSS (/proc/PID/status) with {} connections open \
         after their handshake and one reading each, idle, minus VmRSS before they were opened, \
         divided by the connections. mote allocates Buffers::server({chain_len}) per connection \
         ({} bytes of rx + tx) plus the 4 KiB read buffer both servers have.\n",
        o.connections,
        {
            let b = mote_std::Buffers::server(chain_len);
            thousands((b.rx.len() + b.tx.len()) as u64)
        }
    );
    s += "- Crypto: mote's server uses mote-crypto's RustCrypto provider (pure Rust: p256 \
          ECDSA signing, x25519-dalek, aes-gcm, sha2); the rustls server and all clients use \
          ring (assembly for P-256, x25519, AES-GCM and SHA-256).\n";
    s += "- server core busy: server CPU time / wall time. Below 100% the server was waiting \
          for the clients, which share the machine's cores with it: handshakes/s is then a \
          bound of the machine, and server CPU µs/handshake is the figure to compare.\n";
    for x in f {
        s += &format!(
            "- {}: negotiated {}; VmRSS {} -> {} bytes; {} handshakes in {:.2} s; {} readings \
             in {:.2} s.\n",
            x.kind.name(),
            x.negotiated,
            thousands(x.rss_before),
            thousands(x.rss_after),
            thousands(x.handshakes.done),
            x.handshakes.wall.as_secs_f64(),
            thousands(x.readings.done),
            x.readings.wall.as_secs_f64(),
        );
        let sf = &x.server_failures;
        if sf.handshake + sf.connection > 0 {
            s += &format!(
                "- {} server: {} accepted connection(s) failed in the handshake, {} after it; \
                 first: {}\n",
                x.kind.name(),
                sf.handshake,
                sf.connection,
                sf.first.join("; ")
            );
            if x.kind == Kind::Mote
                && sf
                    .first
                    .iter()
                    .any(|m| m.contains("connection closed during the handshake"))
            {
                s += "  (the clients of the handshake phase send close_notify right after \
                      their Finished; when the server reads both at once the engine ends the \
                      handshake already closed by the peer rather than Connected, and mote_std::tokio_io::accept \
                      reports that as this error, although the handshake completed and was \
                      paid for; the server then sends no close_notify of its own.)\n";
            }
        }
        if x.errors.count > 0 {
            s += &format!(
                "- {}: {} client error(s), first: {}\n",
                x.kind.name(),
                x.errors.count,
                x.errors.first.join("; ")
            );
        }
    }
    s
}

/// The certificate and key files the server children read, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench(o: &Opts) -> Result<bool, String> {
    let needed = (o.connections + o.in_flight + 256) as u64;
    let lim = raise_nofile(needed)?;
    let somaxconn = read_trim("/proc/sys/net/core/somaxconn");
    if somaxconn.parse::<usize>().is_ok_and(|s| s < o.in_flight) {
        eprintln!(
            "warning: net.core.somaxconn is {somaxconn}, below --in-flight {}: the accept queue \
             may overflow and clients then wait for SYN retransmissions",
            o.in_flight
        );
    }
    eprintln!("==> RLIMIT_NOFILE {lim}; generating a P-256 CA and server certificate (rcgen)");
    let pki = pki::generate().map_err(|e| format!("rcgen: {e}"))?;
    let dir =
        TempDir(std::env::temp_dir().join(format!("mote-bench-serve.{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).map_err(|e| format!("{}: {e}", dir.0.display()))?;
    let (cert, key) = (dir.0.join("server.der"), dir.0.join("server.key.der"));
    std::fs::write(&cert, &pki.cert_der).map_err(|e| e.to_string())?;
    std::fs::write(&key, &pki.key_der).map_err(|e| e.to_string())?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.client_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let mut figures = Vec::new();
    for kind in [Kind::Mote, Kind::Rustls] {
        figures.push(measure(kind, o, &rt, &pki, &cert, &key)?);
    }
    print!(
        "{}",
        report(o, &figures, pki.cert_der.len() + 3, &somaxconn)
    );
    Ok(figures.iter().all(|f| f.errors.count == 0))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--server") {
        // The child: --server mote|rustls --cert FILE --key FILE
        let r = match &args[..] {
            [_, kind, c, cert, k, key] if c == "--cert" && k == "--key" => {
                match Kind::parse(kind) {
                    Some(kind) => server::run(kind, Path::new(cert), Path::new(key)),
                    None => Err(format!("unknown server {kind}")),
                }
            }
            _ => Err("usage: --server mote|rustls --cert FILE --key FILE".into()),
        };
        if let Err(e) = r {
            eprintln!("server: {e}");
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let o = match parse_opts(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(64);
        }
    };
    match bench(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("some client operations failed (see the notes under the table)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("mote-bench-serve-load: {e}");
            ExitCode::FAILURE
        }
    }
}
