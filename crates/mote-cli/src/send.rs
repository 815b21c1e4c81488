//! `mote send`: connect, handshake, send readings one per line, close with close_notify.

use crate::client_args::ClientArgs;
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
    let mut tls = match connect(&args.client, &cfg, &mut bufs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(1);
        }
    };
    println!("connected: {}", describe(tls.client()));
    let lines: Box<dyn Iterator<Item = String>> = match &args.readings {
        Some(f) if f == "-" => Box::new(std::io::stdin().lock().lines().map_while(Result::ok)),
        Some(f) => match std::fs::File::open(f) {
            Ok(file) => Box::new(std::io::BufReader::new(file).lines().map_while(Result::ok)),
            Err(e) => {
                eprintln!("mote send: --readings {f}: {e}");
                return ExitCode::from(2);
            }
        },
        None => {
            let mut sensor = Sensor::new(&args.device);
            Box::new((0..args.count).map(move |_| sensor.next_reading(mote_std::unix_time())))
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
