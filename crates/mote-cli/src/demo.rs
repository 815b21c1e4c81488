//! `mote demo`: the whole path on loopback with nothing but this binary. A collector (the
//! code of `mote serve`) starts with a fresh self-signed certificate, a PSK file and a
//! device CA; simulated sensors send readings with acknowledged delivery (the code of
//! `mote send --ack`), each the way a different device would; a progress display runs
//! meanwhile, and what arrived is printed from the database at the end.

use crate::client_args::ClientArgs;
use crate::delivery::{deliver, fresh_seq_base, Event, Policy};
use crate::sensor::Sensor;
use crate::serve::{self, ServeArgs};
use clap::Args;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType,
    PKCS_ECDSA_P256_SHA256,
};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// How many simulated sensors (each kind of device in turn: PSK with AES-128-CCM_8 and
    /// 512-byte records, PSK without (EC)DHE, client certificate, DTLS over UDP).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub sensors: usize,
    /// How long the sensors send readings, in seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub seconds: f64,
    /// Seconds between a sensor's readings.
    #[arg(long, default_value_t = 0.5, value_name = "SECS")]
    pub interval: f64,
    /// Where to put the keys, certificates and database (default: a new directory under
    /// the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The kinds of device the sensors play.
#[derive(Clone, Copy)]
enum Kind {
    /// A constrained board: PSK, AES-128-CCM_8, records of at most 512 bytes.
    PskCcm8,
    /// PSK only, no (EC)DHE (psk_ke): the cheapest handshake.
    PskKe,
    /// An ECDSA P-256 client certificate from the demo's device CA; it sleeps between
    /// bursts and resumes its session on waking.
    Certificate,
    /// DTLS 1.2 over UDP: PSK with AES-128-CCM_8, one reading per datagram, datagrams of
    /// at most 256 bytes, the collector's connection ID on its records.
    Dtls,
}

impl Kind {
    fn of(i: usize) -> Kind {
        [Kind::PskCcm8, Kind::PskKe, Kind::Certificate, Kind::Dtls][i % 4]
    }
    fn name(self) -> &'static str {
        match self {
            Kind::PskCcm8 => "greenhouse",
            Kind::PskKe => "cellar",
            Kind::Certificate => "attic",
            Kind::Dtls => "porch",
        }
    }
}

/// What each sensor thread reports to the display.
#[derive(Default)]
struct Progress {
    sent: AtomicUsize,
    acked: AtomicUsize,
    connections: AtomicUsize,
    resumed: AtomicUsize,
    how: Mutex<String>,
    outcome: Mutex<Option<Result<(), String>>>,
}

/// The demo's credentials, written as the files `mote serve` and `mote send` take.
struct Files {
    dir: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    device_ca: PathBuf,
    psk_file: PathBuf,
    psks: Vec<(String, String)>,
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(p)
}

fn make_files(dir: &Path, devices: &[(String, Kind)]) -> Result<Files, String> {
    let err = |e: rcgen::Error| format!("generating certificates: {e}");
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // The collector: a fresh self-signed certificate for localhost and 127.0.0.1.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
    p.subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    p.distinguished_name
        .push(DnType::CommonName, "mote demo collector");
    let cert = p.self_signed(&key).map_err(err)?;
    let server_cert = write(dir, "collector.pem", &cert.pem())?;
    let server_key = write(dir, "collector.key", &key.serialize_pem())?;
    // The devices' CA, and a certificate naming each certificate device.
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "mote demo devices");
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let device_ca = write(dir, "devices.pem", &ca_cert.pem())?;
    let mut psks = Vec::new();
    let mut psk_lines = String::from("# IDENTITY HEX: one PSK per device\n");
    for (name, kind) in devices {
        match kind {
            Kind::Certificate => {
                let k = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
                let mut d = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
                d.distinguished_name.push(DnType::CommonName, name.as_str());
                let uri = format!("urn:dev:mote:{name}")
                    .try_into()
                    .map_err(|_| "device name".to_string())?;
                d.subject_alt_names.push(SanType::URI(uri));
                d.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
                let c = d.signed_by(&k, &ca_cert, &ca_key).map_err(err)?;
                write(dir, &format!("{name}.pem"), &c.pem())?;
                write(dir, &format!("{name}.key"), &k.serialize_pem())?;
            }
            _ => {
                let mut key = [0u8; 32];
                mote_crypto::Rng::fill(&mut mote_std::OsRng, &mut key)
                    .map_err(|_| "the OS random number generator failed".to_string())?;
                let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
                psk_lines.push_str(&format!("{name} {hex}\n"));
                psks.push((name.clone(), hex));
            }
        }
    }
    let psk_file = write(dir, "devices.psk", &psk_lines)?;
    Ok(Files {
        dir: dir.to_path_buf(),
        server_cert,
        server_key,
        device_ca,
        psk_file,
        psks,
    })
}

/// The `mote send` options of a sensor of `kind`.
fn client_args(files: &Files, addr: &str, name: &str, kind: Kind) -> ClientArgs {
    let mut a = ClientArgs {
        server: addr.to_string(),
        ca: vec![files.server_cert.clone()],
        pin_sha256: None,
        server_name: Some("localhost".into()),
        psk_identity: None,
        psk: None,
        psk_ke: false,
        ciphers: Vec::new(),
        groups: Vec::new(),
        client_cert: None,
        client_key: None,
        record_size_limit: None,
        max_fragment_length: None,
        keylog: None,
        middlebox_compat: false,
    };
    let psk = files
        .psks
        .iter()
        .find(|(n, _)| n == name)
        .map(|p| p.1.clone());
    match kind {
        Kind::PskCcm8 => {
            a.psk_identity = Some(name.into());
            a.psk = psk;
            a.ciphers = vec!["TLS_AES_128_CCM_8_SHA256".into()];
            a.record_size_limit = Some(512);
        }
        Kind::PskKe => {
            a.psk_identity = Some(name.into());
            a.psk = psk;
            a.psk_ke = true;
        }
        Kind::Certificate => {
            a.client_cert = Some(files.dir.join(format!("{name}.pem")));
            a.client_key = Some(files.dir.join(format!("{name}.key")));
        }
        Kind::Dtls => {
            a.psk_identity = Some(name.into());
            a.psk = psk;
            a.ciphers = vec!["TLS_PSK_WITH_AES_128_CCM_8".into()];
        }
    }
    a
}

/// One sensor: readings every `interval` until `until`, delivered with acks.
fn sensor(
    args: ClientArgs,
    (name, kind): (String, Kind),
    interval: Duration,
    until: Instant,
    p: &Progress,
) {
    let outcome = (|| {
        let dtls = matches!(kind, Kind::Dtls);
        let owned = Box::leak(Box::new(args.load_for(dtls)?));
        let mut sim = Sensor::new(&name);
        let mut lines = std::iter::from_fn(|| {
            (Instant::now() < until).then(|| sim.next_reading(mote_std::unix_time()))
        });
        let mut on = |e: Event<'_>| match e {
            Event::Connected { resumed, describe } => {
                p.connections.fetch_add(1, Relaxed);
                p.resumed.fetch_add(usize::from(resumed), Relaxed);
                // The first handshake shows the device's kind; later ones resume.
                if let Ok(mut h) = p.how.lock() {
                    if h.is_empty() {
                        *h = describe;
                    }
                }
            }
            Event::Sent { resent: false, .. } => {
                p.sent.fetch_add(1, Relaxed);
            }
            Event::Acked { .. } => {
                p.acked.fetch_add(1, Relaxed);
            }
            _ => {}
        };
        let refused = |s: crate::delivery::Summary| {
            if s.refused + s.skipped > 0 {
                Err(format!("{} readings refused", s.refused + s.skipped))
            } else {
                Ok(())
            }
        };
        if dtls {
            // Datagrams of at most 256 bytes; the collector's CID on every record, so the
            // session would survive an address change.
            let cfg = owned.dtls_config(256, Some(&[]));
            let policy = crate::send_dtls::DtlsPolicy {
                ack: true,
                ack_timeout: Duration::from_secs(1),
                retry_for: Duration::from_secs(10),
            };
            return crate::send_dtls::deliver(
                &args.server,
                &cfg,
                &mut lines,
                interval,
                fresh_seq_base(),
                &policy,
                &mut on,
            )
            .and_then(refused);
        }
        let cfg = owned.config(&args);
        let policy = Policy {
            window: 4,
            ack_timeout: Duration::from_secs(5),
            retry_for: Duration::from_secs(10),
            record_size_limit: args.record_size_limit,
            // The certificate device sleeps between bursts of three readings: its
            // reconnections resume the session instead of signing and verifying again.
            reconnect_after: matches!(kind, Kind::Certificate).then_some(3),
        };
        deliver(
            &args.server,
            &cfg,
            &mut lines,
            interval,
            fresh_seq_base(),
            &policy,
            &mut on,
        )
        .and_then(refused)
    })();
    if let Ok(mut o) = p.outcome.lock() {
        *o = Some(outcome);
    }
}

pub fn run(args: &DemoArgs) -> ExitCode {
    match demo(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mote demo: {e}");
            ExitCode::from(1)
        }
    }
}

fn demo(args: &DemoArgs) -> Result<bool, String> {
    let interval =
        Duration::try_from_secs_f64(args.interval).map_err(|e| format!("--interval: {e}"))?;
    let seconds =
        Duration::try_from_secs_f64(args.seconds).map_err(|e| format!("--seconds: {e}"))?;
    if args.sensors == 0 {
        return Err("--sensors: at least one".into());
    }
    let devices: Vec<(String, Kind)> = (0..args.sensors)
        .map(|i| {
            let k = Kind::of(i);
            let name = if args.sensors <= 4 {
                k.name().to_string()
            } else {
                format!("{}-{}", k.name(), i / 4 + 1)
            };
            (name, k)
        })
        .collect();
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "mote-demo-{}-{}",
            std::process::id(),
            fresh_seq_base()
        ))
    });
    let files = make_files(&dir, &devices)?;
    let db = dir.join("readings.sqlite");
    println!(
        "mote demo: keys, certificates and database in {}",
        dir.display()
    );

    // The collector, on its own thread (its connections share one thread, as in `mote serve`).
    let serve_args = ServeArgs {
        listen: "127.0.0.1:0".into(),
        cert: Some(files.server_cert.clone()),
        key: Some(files.server_key.clone()),
        client_ca: Some(files.device_ca.clone()),
        psk_identity: None,
        psk: None,
        psk_file: Some(files.psk_file.clone()),
        db: db.clone(),
        max_connections: 64,
        handshake_timeout: 10.0,
        idle_timeout: 60.0,
        dtls_listen: Some("127.0.0.1:0".into()),
        quiet: true,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let collector = std::thread::spawn(move || {
        serve::run_until(&serve_args, Some(stop_rx), |a, u| {
            let _ = addr_tx.send((a, u));
        })
    });
    let (addr, udp) = addr_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the collector did not start".to_string())?;
    let udp = udp.ok_or("the collector did not open its DTLS port")?;
    println!(
        "mote demo: collector on {addr} (TLS) and {udp} (DTLS): self-signed certificate for localhost, {} PSK{}, device CA",
        files.psks.len(),
        if files.psks.len() == 1 { "" } else { "s" }
    );

    let start = Instant::now();
    let until = start + seconds;
    let progress: Vec<Arc<Progress>> = devices.iter().map(|_| Arc::default()).collect();
    let threads: Vec<_> = devices
        .iter()
        .zip(&progress)
        .map(|((name, kind), p)| {
            let (a, name, p) = (
                client_args(
                    &files,
                    &match kind {
                        Kind::Dtls => udp,
                        _ => addr,
                    }
                    .to_string(),
                    name,
                    *kind,
                ),
                name.clone(),
                p.clone(),
            );
            let kind = *kind;
            std::thread::spawn(move || sensor(a, (name, kind), interval, until, &p))
        })
        .collect();
    display(&devices, &progress, start, seconds, &threads);
    for t in threads {
        let _ = t.join();
    }
    let _ = stop_tx.send(());
    let _ = collector.join();

    let mut ok = true;
    for ((name, _), p) in devices.iter().zip(&progress) {
        if let Some(Err(e)) = p.outcome.lock().ok().and_then(|o| o.clone()) {
            eprintln!("mote demo: sensor {name}: {e}");
            ok = false;
        }
    }
    ok &= arrived(&db, &devices, &progress)?;
    println!(
        "\nlist them again with: mote readings --db {}",
        db.display()
    );
    Ok(ok)
}

/// Redraws one line per sensor while they run (a line per second when not on a terminal).
fn display(
    devices: &[(String, Kind)],
    progress: &[Arc<Progress>],
    start: Instant,
    seconds: Duration,
    threads: &[std::thread::JoinHandle<()>],
) {
    let tty = std::io::stdout().is_terminal();
    let width = devices.iter().map(|d| d.0.len()).max().unwrap_or(0);
    let mut drawn = false;
    let mut last_plain = Instant::now();
    loop {
        let done = threads.iter().all(|t| t.is_finished());
        let frac = (start.elapsed().as_secs_f64() / seconds.as_secs_f64()).min(1.0);
        let lines: Vec<String> = devices
            .iter()
            .zip(progress)
            .map(|((name, _), p)| {
                let filled = (frac * 20.0).round() as usize;
                let how = p.how.lock().map(|h| h.clone()).unwrap_or_default();
                format!(
                    "  {name:<width$}  [{}{}]  {:>3} sent {:>3} acked  {} conn{}  {how}",
                    "#".repeat(filled),
                    ".".repeat(20 - filled),
                    p.sent.load(Relaxed),
                    p.acked.load(Relaxed),
                    p.connections.load(Relaxed),
                    match p.resumed.load(Relaxed) {
                        0 => String::new(),
                        r => format!(" ({r} resumed)"),
                    },
                )
            })
            .collect();
        let mut out = std::io::stdout().lock();
        if tty {
            if drawn {
                let _ = write!(out, "\x1b[{}A", lines.len());
            }
            for l in &lines {
                let _ = writeln!(out, "\x1b[2K{l}");
            }
            drawn = true;
        } else if done || last_plain.elapsed() >= Duration::from_secs(1) {
            let _ = writeln!(out, "after {:.1} s:", start.elapsed().as_secs_f64());
            for l in &lines {
                let _ = writeln!(out, "{l}");
            }
            last_plain = Instant::now();
        }
        let _ = out.flush();
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Prints what the database holds per device; whether every acknowledged reading is there.
fn arrived(
    db: &Path,
    devices: &[(String, Kind)],
    progress: &[Arc<Progress>],
) -> Result<bool, String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("{}: {e}", db.display()))?;
    println!("\nwhat arrived ({}):", db.display());
    println!(
        "  {:<12} {:>8} {:>8} {:>8} {:>8}  last",
        "device", "readings", "min °C", "max °C", "acked"
    );
    let mut ok = true;
    for ((name, _), p) in devices.iter().zip(progress) {
        let (n, min, max, last): (i64, Option<f64>, Option<f64>, Option<String>) = conn
            .query_row(
                "SELECT count(*), min(v), max(v),
                        (SELECT v || ' ' || unit FROM readings WHERE device = ?1 ORDER BY time DESC, id DESC LIMIT 1)
                 FROM readings WHERE device = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(|e| format!("{}: {e}", db.display()))?;
        let acked = p.acked.load(Relaxed);
        ok &= n as usize == acked;
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "  {name:<12} {n:>8} {:>8} {:>8} {acked:>8}  {}",
            f(min),
            f(max),
            last.unwrap_or_default()
        );
    }
    if ok {
        println!("every acknowledged reading is in the database, once");
    } else {
        println!("the database and the acknowledgements disagree");
    }
    Ok(ok)
}
