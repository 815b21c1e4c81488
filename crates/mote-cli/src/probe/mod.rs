//! `mote probe`: ask a server what it makes of a ClientHello. The hello (mote's own, or the
//! exact bytes of a hand-made one) is dissected first; then the server's answer is reported:
//! what it chose, its certificate chain, or the alert with its meaning and the most likely
//! cause in the bytes that were sent.

mod cause;

use crate::client_args::ClientArgs;
use crate::dissect::{self, render};
use crate::input::{self, Flow, Format, Loaded, Segment, Transport};
use clap::Args;
use mote::{CertificateObserver, Client, Status};
use mote_crypto::rustcrypto::RustCrypto;
use mote_std::{Buffers, OsRng};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Send these exact bytes (a raw file or a hex dump, with or without the record header)
    /// instead of mote's ClientHello.
    #[arg(long, value_name = "FILE")]
    pub hello: Option<String>,
    /// Seconds to wait for the server's answer to a hand-made hello.
    #[arg(long, default_value_t = 3.0)]
    pub wait: f64,
}

/// Collects the server's certificates as the engine reads them.
#[derive(Default)]
struct Chain(Mutex<Vec<Vec<u8>>>);

impl CertificateObserver for Chain {
    fn certificate(&self, _index: usize, der: &[u8]) {
        if let Ok(mut v) = self.0.lock() {
            v.push(der.to_vec());
        }
    }
}

pub fn run(args: &ProbeArgs) -> ExitCode {
    match &args.hello {
        Some(file) => probe_bytes(args, file),
        None => probe_engine(args),
    }
}

/// Dissects `bytes` as what the client sends (and, with `answer`, what the server said).
fn dissect_exchange(sent: &[u8], answer: Option<&[u8]>) -> dissect::model::Report {
    let mut segments = vec![Segment {
        frame: 0,
        from_client: true,
        data: sent.to_vec(),
    }];
    if let Some(a) = answer {
        segments.push(Segment {
            frame: 0,
            from_client: false,
            data: a.to_vec(),
        });
    }
    let flow = Flow {
        index: 0,
        transport: if answer.is_some() {
            Transport::Tcp
        } else {
            Transport::Unknown
        },
        client: None,
        server: None,
        segments,
        notes: Vec::new(),
    };
    let loaded = Loaded {
        format: Format::Raw,
        flows: vec![flow],
    };
    dissect::dissect(&loaded, &dissect::Options::default())
}

/// A hand-made hello: send its exact bytes and report the raw answer.
fn probe_bytes(args: &ProbeArgs, file: &str) -> ExitCode {
    let raw = match input::read_input(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("mote probe: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let sent = match input::load(&raw, Format::Auto) {
        Ok(l) => l
            .flows
            .iter()
            .flat_map(|f| f.segments.iter().filter(|s| s.from_client))
            .next()
            .map(|s| s.data.clone())
            .unwrap_or_default(),
        Err(e) => {
            eprintln!("mote probe: {file}: {e}");
            return ExitCode::from(2);
        }
    };
    if sent.is_empty() {
        eprintln!("mote probe: {file}: no bytes to send");
        return ExitCode::from(2);
    }
    println!("== what will be sent ({} bytes from {file})", sent.len());
    let before = dissect_exchange(&sent, None);
    print!("{}", render::text(&before, file));
    let answer = match exchange(
        &args.client.server,
        &sent,
        Duration::from_secs_f64(args.wait),
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mote probe: {e}");
            return ExitCode::from(1);
        }
    };
    println!(
        "\n== what {} answered ({} bytes)",
        args.client.server,
        answer.len()
    );
    if answer.is_empty() {
        println!("nothing: the server closed the connection or stayed silent");
    } else {
        let after = dissect_exchange(&sent, Some(&answer));
        print!("{}", render::text(&after, &args.client.server));
    }
    let verdict = cause::explain(&sent, &answer, &before);
    println!("\n== verdict\n{verdict}");
    if cause::refused(&answer) || answer.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Sends `sent` and collects what comes back until the server closes, goes quiet, or has
/// sent a ServerHello flight.
fn exchange(server: &str, sent: &[u8], wait: Duration) -> Result<Vec<u8>, String> {
    let mut s =
        TcpStream::connect(server).map_err(|e| format!("cannot connect to {server}: {e}"))?;
    s.write_all(sent)
        .map_err(|e| format!("sending to {server}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200))).ok();
    let deadline = Instant::now() + wait;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !answer.is_empty() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Ok(answer)
}

/// mote's own hello: run the handshake and report what was negotiated and the chain.
fn probe_engine(args: &ProbeArgs) -> ExitCode {
    let owned = match args.client.load() {
        Ok(o) => Box::leak(Box::new(o)),
        Err(e) => {
            eprintln!("mote probe: {e}");
            return ExitCode::from(2);
        }
    };
    let chain: &'static Chain = Box::leak(Box::default());
    let mut cfg = owned.config(&args.client);
    cfg.certificate_observer = Some(chain);
    let cfg: &'static mote::ClientConfig<'static> = Box::leak(Box::new(cfg));
    let mut bufs = Buffers::full();
    let mut c = match Client::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mote probe: {e}");
            return ExitCode::from(2);
        }
    };
    let hello = c.transmit().to_vec();
    println!(
        "== what will be sent: mote's ClientHello ({} bytes)",
        hello.len()
    );
    print!(
        "{}",
        render::text(&dissect_exchange(&hello, None), "ClientHello")
    );
    let mut s = match TcpStream::connect(&args.client.server) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mote probe: cannot connect to {}: {e}", args.client.server);
            return ExitCode::from(1);
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let result = drive(&mut c, &mut s);
    println!("\n== what {} answered", args.client.server);
    let certs = chain.0.lock().map(|v| v.clone()).unwrap_or_default();
    for (i, der) in certs.iter().enumerate() {
        println!("{}", cause::describe_certificate(i, der));
    }
    match result {
        Ok(()) => {
            println!("handshake complete: {}", crate::send::describe(&c));
            c.close();
            let _ = s.write_all(c.transmit());
            ExitCode::SUCCESS
        }
        Err(Failure::Closed) => {
            println!(
                "the server closed the connection without an alert before the handshake finished"
            );
            let before = dissect_exchange(&hello, None);
            println!("\n== verdict\n{}", cause::explain(&hello, &[], &before));
            ExitCode::from(1)
        }
        Err(Failure::Engine(e)) => {
            println!("handshake failed: {e}");
            if let Some(a) = e.alert() {
                println!("mote sent the alert {a}: {}.", a.meaning());
            }
            if let mote::Error::AlertReceived(a) = e {
                let before = dissect_exchange(&hello, None);
                println!(
                    "\n== verdict\n{}",
                    cause::explain(&hello, &[21, 3, 3, 0, 2, 2, a.0], &before)
                );
            }
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Engine(mote::Error),
    Closed,
}

fn drive(c: &mut Client<'_, '_, RustCrypto>, s: &mut TcpStream) -> Result<(), Failure> {
    let fail =
        |c: &Client<'_, '_, RustCrypto>| c.error().map(Failure::Engine).unwrap_or(Failure::Closed);
    loop {
        while !c.transmit().is_empty() {
            let n = s.write(c.transmit()).unwrap_or(0);
            if n == 0 {
                break;
            }
            c.transmit_done(n);
        }
        match c.status() {
            Status::Connected => return Ok(()),
            Status::Failed | Status::Closed | Status::PeerClosed => return Err(fail(c)),
            Status::Handshaking => {}
        }
        let n = s.read(c.recv_buf()).unwrap_or(0);
        if n == 0 {
            return Err(fail(c));
        }
        if c.recv_done(n, &mut OsRng).is_err() {
            // Send the alert owed before reporting.
            let _ = s.write_all(c.transmit());
            return Err(fail(c));
        }
    }
}
