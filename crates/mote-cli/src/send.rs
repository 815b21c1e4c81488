//! `mote send`: connect, handshake, send readings one per line, close with close_notify.

use crate::client_args::ClientArgs;
use crate::delivery::{deliver, fresh_seq_base, Event, Policy};
use crate::sensor::Sensor;
use clap::Args;
use mote::Client;
use mote_crypto::rustcrypto::RustCrypto;
use mote_std::{Buffers, OsRng, TlsStream};
use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct SendArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// How many simulated readings to send (ignored with --readings).
    #[arg(long, default_value_t = 5)]
    pub count: u32,
    /// Seconds between readings.
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
    /// Send the lines of FILE (or `-` for standard input) instead of simulated readings.
    #[arg(long, value_name = "FILE|-")]
    pub readings: Option<String>,
    /// The device ID in simulated readings' base name (urn:dev:mote:ID:).
    #[arg(long, default_value = "0001")]
    pub device: String,
    /// Wait for the collector's `ack SEQ` for every reading (as `mote serve` answers),
    /// numbering packs that carry no "seq"; keep unacknowledged readings, reconnect after a
    /// broken connection (resuming the session) and send them again.
    #[arg(long)]
    pub ack: bool,
    /// With --ack: readings sent and not yet acknowledged, at most.
    #[arg(long, default_value_t = 8, value_name = "N", requires = "ack")]
    pub window: usize,
    /// With --ack: seconds without an answer before the connection counts as broken.
    #[arg(long, default_value_t = 10.0, value_name = "SECS", requires = "ack")]
    pub ack_timeout: f64,
    /// With --ack: close the connection after N acknowledged readings and reconnect when
    /// the next is due, resuming the session (as a device sleeping between bursts would).
    #[arg(long, value_name = "N", requires = "ack")]
    pub reconnect_after: Option<usize>,
    /// Send over DTLS 1.2 (UDP), one reading per datagram; --cipher then takes DTLS 1.2
    /// suite names (default: RFC 7925's PSK and ECDHE-ECDSA AES-128-CCM_8 first).
    #[arg(long)]
    pub dtls: bool,
    /// With --dtls: the largest datagram to send.
    #[arg(long, default_value_t = 1200, value_name = "BYTES", requires = "dtls")]
    pub mtu: u16,
    /// With --dtls: negotiate connection IDs (RFC 9146), so the session survives an
    /// address change.
    #[arg(long, requires = "dtls")]
    pub cid: bool,
    /// With --ack: seconds to keep trying to reach the collector before giving up.
    #[arg(long, default_value_t = 60.0, value_name = "SECS", requires = "ack")]
    pub retry_for: f64,
}

/// Connects and completes the handshake; errors are one line for the user.
pub fn connect<'a>(
    args: &ClientArgs,
    cfg: &'a mote::ClientConfig<'a>,
    bufs: &'a mut Buffers,
) -> Result<TlsStream<'a, 'a, RustCrypto, TcpStream>, String> {
    let sock = TcpStream::connect(&args.server)
        .map_err(|e| format!("cannot connect to {}: {e}", args.server))?;
    sock.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let _ = sock.set_nodelay(true);
    let client = Client::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    )
    .map_err(|e| format!("cannot start: {e}"))?;
    TlsStream::connect(client, sock)
        .map_err(|e| format!("handshake with {} failed: {e}", args.server))
}

/// One line describing what was negotiated.
pub fn describe(c: &Client<'_, '_, RustCrypto>) -> String {
    let n = c.negotiated();
    let mut parts = vec!["TLS 1.3".to_string()];
    if let Some(s) = n.suite {
        parts.push(s.to_string());
    }
    match (n.psk, n.group) {
        (true, Some(g)) => parts.push(format!("PSK with {g} (psk_dhe_ke)")),
        (true, None) => parts.push("PSK without (EC)DHE (psk_ke)".into()),
        (false, Some(g)) => parts.push(g.to_string()),
        (false, None) => {}
    }
    if let Some(s) = n.server_signature {
        parts.push(format!("server signed with {s}"));
    }
    if n.resumed {
        parts.push("session resumed".into());
    }
    if n.hello_retry {
        parts.push("after HelloRetryRequest".into());
    }
    if let Some(l) = n.peer_record_size_limit {
        parts.push(format!("server record_size_limit {l}"));
    }
    if let Some(b) = n.max_fragment_length.and_then(|m| m.bytes()) {
        parts.push(format!("max_fragment_length {b}"));
    }
    if n.client_auth_requested {
        parts.push(
            if n.client_cert_sent {
                "client certificate sent"
            } else {
                "client certificate requested, none sent"
            }
            .into(),
        );
    }
    parts.join(", ")
}

pub fn run(args: &SendArgs) -> ExitCode {
    if args.dtls {
        return crate::send_dtls::run(args);
    }
    let owned = match args.client.load() {
        Ok(o) => Box::leak(Box::new(o)),
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = owned.config(&args.client);
    let small = args
        .client
        .record_size_limit
        .or(args.client.max_fragment_length.map(|n| n + 1));
    let mut bufs = match small {
        Some(l) => Buffers::for_record_size_limit(l),
        None => Buffers::full(),
    };
    println!(
        "mote send: connecting to {} (server_name {})",
        args.client.server, owned.host
    );
    if args.ack {
        return run_acked(args, &cfg, small);
    }
    let mut tls = match connect(&args.client, &cfg, &mut bufs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(1);
        }
    };
    println!("connected: {}", describe(tls.client()));
    let lines = match readings(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sent = 0u32;
    for (i, line) in lines.enumerate() {
        if i > 0 && args.interval > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(args.interval));
        }
        let mut data = line.trim_end().as_bytes().to_vec();
        data.push(b'\n');
        if let Err(e) = tls.write_all(&data) {
            eprintln!("mote send: sending reading {}: {e}", i + 1);
            return ExitCode::from(1);
        }
        sent += 1;
        println!(
            "reading {}: {} ({} bytes)",
            i + 1,
            line.trim_end(),
            data.len()
        );
    }
    if let Err(e) = tls.close() {
        eprintln!("mote send: closing: {e}");
        return ExitCode::from(1);
    }
    println!(
        "closed with close_notify: {sent} reading{} sent",
        if sent == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}

/// The readings to send: the lines of --readings, or simulated ones.
pub(crate) fn readings(args: &SendArgs) -> Result<Box<dyn Iterator<Item = String>>, String> {
    Ok(match &args.readings {
        Some(f) if f == "-" => Box::new(std::io::stdin().lock().lines().map_while(Result::ok)),
        Some(f) => {
            let file = std::fs::File::open(f).map_err(|e| format!("--readings {f}: {e}"))?;
            Box::new(std::io::BufReader::new(file).lines().map_while(Result::ok))
        }
        None => {
            let mut sensor = Sensor::new(&args.device);
            Box::new((0..args.count).map(move |_| sensor.next_reading(mote_std::unix_time())))
        }
    })
}

fn secs(s: f64, what: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(format!(
            "--{what} {s}: must be a positive number of seconds"
        ))
}

/// `--ack`: acknowledged delivery with resending (see [`crate::delivery`]).
fn run_acked(args: &SendArgs, cfg: &mote::ClientConfig<'_>, small: Option<u16>) -> ExitCode {
    let policy = match (
        secs(args.ack_timeout, "ack-timeout"),
        secs(args.retry_for, "retry-for"),
        Duration::try_from_secs_f64(args.interval).map_err(|e| format!("--interval: {e}")),
    ) {
        (Ok(ack_timeout), Ok(retry_for), Ok(_)) => Policy {
            window: args.window,
            ack_timeout,
            retry_for,
            record_size_limit: small,
            reconnect_after: args.reconnect_after,
        },
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let mut lines = match readings(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sent = 0usize;
    let r = deliver(
        &args.client.server,
        cfg,
        &mut lines,
        Duration::from_secs_f64(args.interval),
        fresh_seq_base(),
        &policy,
        &mut |e| match e {
            Event::Connected { resumed, describe } => println!(
                "connected{}: {describe}",
                if resumed { " (session resumed)" } else { "" }
            ),
            Event::Sent { seq, line, resent } => {
                if resent {
                    println!("resending seq {seq}");
                } else {
                    sent += 1;
                    println!("reading {sent}: {line} (seq {seq})");
                }
            }
            Event::Acked { seq } => println!("ack {seq}"),
            Event::Refused { seq, why } => println!("refused {seq}: {why}"),
            Event::Skipped { line, why } => println!("not sent: {line}: {why}"),
            Event::Lost { why, unacked } => {
                println!("connection lost: {why}; {unacked} unacknowledged")
            }
            Event::Retrying { after } => println!("reconnecting in {after:?}"),
        },
    );
    match r {
        Ok(s) => {
            println!(
                "closed with close_notify: {} acknowledged, {} refused, {} not sent; {} connection{} ({} resumed)",
                s.acked,
                s.refused,
                s.skipped,
                s.connections,
                if s.connections == 1 { "" } else { "s" },
                s.resumed
            );
            if s.refused + s.skipped > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("mote send: {e}");
            ExitCode::from(1)
        }
    }
}
