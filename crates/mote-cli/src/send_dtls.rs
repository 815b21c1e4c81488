//! `mote send --dtls`: readings over DTLS 1.2, one per datagram. With `--ack` each waits
//! for the collector's ack datagram and is sent again (same `seq`) until it comes; a link
//! that stays silent gets a new handshake. UDP keeps no connection, so a device can sleep
//! between readings, and with `--cid` change its address, without a new handshake.

use crate::delivery::{fresh_seq_base, numbered};
use crate::send::SendArgs;
use mote::{DtlsClient, DtlsNegotiated};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::Rng;
use mote_std::{DtlsClientSocket, OsRng};
use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One line describing what was negotiated.
pub fn describe(n: &DtlsNegotiated) -> String {
    let mut parts = vec!["DTLS 1.2".to_string()];
    if let Some(s) = n.suite {
        parts.push(s.to_string());
    }
    if let Some(g) = n.group {
        parts.push(g.to_string());
    }
    if let Some(s) = n.server_signature {
        parts.push(format!("server signed with {s}"));
    }
    if n.hello_verify {
        parts.push("after HelloVerifyRequest".into());
    }
    if let Some(l) = n.peer_cid_len {
        parts.push(format!("connection ID ({l}-byte CID to the server)"));
    }
    if n.retransmissions > 0 {
        parts.push(format!("{} retransmissions", n.retransmissions));
    }
    parts.join(", ")
}

type Socket = DtlsClientSocket<'static, 'static, RustCrypto>;

fn connect(
    args: &SendArgs,
    cfg: &'static mote::DtlsClientConfig<'static>,
) -> Result<Socket, String> {
    let sock = UdpSocket::bind(if args.client.server.starts_with('[') {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    })
    .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    sock.connect(&args.client.server)
        .map_err(|e| format!("cannot reach {}: {e}", args.client.server))?;
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 8192].into_boxed_slice());
    let tx: &'static mut [u8] =
        Box::leak(vec![0u8; usize::from(args.mtu) + 4096].into_boxed_slice());
    let c = DtlsClient::new(RustCrypto, cfg, &mut OsRng, mote_std::now(), rx, 4096, tx)
        .map_err(|e| format!("cannot start: {e}"))?;
    DtlsClientSocket::connect(c, sock)
        .map_err(|e| format!("handshake with {} failed: {e}", args.client.server))
}

pub fn run(args: &SendArgs) -> ExitCode {
    let owned = match args.client.load_for(true) {
        Ok(o) => Box::leak(Box::new(o)),
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let cid: Option<&'static [u8]> = args.cid.then(|| {
        let mut c = [0u8; 4];
        let _ = OsRng.fill(&mut c);
        &*Box::leak(Box::new(c)) as &[u8]
    });
    let cfg: &'static _ = Box::leak(Box::new(owned.dtls_config(args.mtu, cid)));
    println!(
        "mote send: DTLS to {} (server_name {}, MTU {})",
        args.client.server, owned.host, args.mtu
    );
    let mut tls = match connect(args, cfg) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(1);
        }
    };
    println!("connected: {}", describe(&tls.client().negotiated()));
    let lines = match crate::send::readings(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let ack_timeout = Duration::from_secs_f64(args.ack_timeout.clamp(0.05, 600.0));
    let mut next_seq = fresh_seq_base();
    let (mut acked, mut refused, mut sent) = (0u32, 0u32, 0u32);
    let start = Instant::now();
    for (i, line) in lines.enumerate() {
        if i > 0 && args.interval > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(args.interval));
        }
        let (seq, text) = if args.ack {
            match numbered(line.trim(), next_seq) {
                Ok(v) => v,
                Err(e) => {
                    println!("not sent: {}: {e}", line.trim());
                    refused += 1;
                    continue;
                }
            }
        } else {
            (next_seq, line.trim().to_string())
        };
        next_seq = next_seq.max(seq + 1);
        sent += 1;
        println!(
            "reading {sent}: {text}{}",
            if args.ack {
                format!(" (seq {seq})")
            } else {
                String::new()
            }
        );
        let mut tries = 0;
        loop {
            if let Err(e) = tls.send(text.as_bytes()) {
                eprintln!("mote send: sending: {e}");
                return ExitCode::from(1);
            }
            if !args.ack {
                break;
            }
            match wait_ack(&mut tls, seq, ack_timeout) {
                Ok(Some(Ok(()))) => {
                    println!("ack {seq}");
                    acked += 1;
                    break;
                }
                Ok(Some(Err(why))) => {
                    println!("refused {seq}: {why}");
                    refused += 1;
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    println!("connection lost: {e}");
                }
            }
            tries += 1;
            if start.elapsed().as_secs_f64() > args.retry_for + args.interval * f64::from(sent) {
                eprintln!("mote send: no ack for seq {seq}: giving up (--retry-for)");
                return ExitCode::from(1);
            }
            if tries % 3 == 0 {
                // Silence through three tries: perhaps the collector lost the session
                // (restarted): a new handshake.
                println!("no ack for seq {seq}: new handshake");
                match connect(args, cfg) {
                    Ok(t) => {
                        tls = t;
                        println!("connected: {}", describe(&tls.client().negotiated()));
                    }
                    Err(e) => println!("{e}"),
                }
            } else {
                println!("resending seq {seq}");
            }
        }
    }
    let _ = tls.close();
    if args.ack {
        println!("closed with close_notify: {acked} acknowledged, {refused} refused");
    } else {
        println!("closed with close_notify: {sent} readings sent");
    }
    if refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Waits for the ack (or error) datagram naming `seq`; `None` on timeout.
fn wait_ack(
    tls: &mut Socket,
    seq: u64,
    timeout: Duration,
) -> std::io::Result<Option<Result<(), String>>> {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let Some(n) = tls.recv(&mut buf, left)? else {
            return Ok(None);
        };
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the collector closed the session",
            ));
        }
        let text = String::from_utf8_lossy(&buf[..n]);
        let mut w = text.trim().splitn(3, ' ');
        let (kind, s, why) = (w.next(), w.next(), w.next().unwrap_or(""));
        if s.and_then(|s| s.parse::<u64>().ok()) != Some(seq) {
            continue; // an ack for an earlier resend
        }
        match kind {
            Some("ack") => return Ok(Some(Ok(()))),
            Some("error") => return Ok(Some(Err(why.to_string()))),
            _ => {}
        }
    }
}
