//! `mote send --dtls`: readings over DTLS 1.2, one per datagram. With `--ack` each waits
//! for the collector's ack datagram and is sent again (same `seq`) until it comes; a link
//! that stays silent through three tries gets a new handshake. UDP keeps no connection, so
//! a device can sleep between readings, and with `--cid` change its address, without a new
//! handshake. [`deliver`] is also what `mote demo`'s DTLS sensor runs.

use crate::delivery::{fresh_seq_base, numbered, Event, Summary};
use crate::send::SendArgs;
use mote::{DtlsClient, DtlsClientConfig, DtlsNegotiated};
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

type Socket<'a> = DtlsClientSocket<'a, 'a, RustCrypto>;

/// How a DTLS sender behaves.
#[derive(Clone, Copy, Debug)]
pub struct DtlsPolicy {
    /// Wait for each reading's ack (and resend until it comes).
    pub ack: bool,
    pub ack_timeout: Duration,
    /// Give up on a reading no ack came for in this long.
    pub retry_for: Duration,
}

/// A handshake over a fresh UDP socket connected to `server`, given up after `limit`.
fn connect<'a>(
    server: &str,
    cfg: &'a DtlsClientConfig<'a>,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
    limit: Duration,
) -> Result<Socket<'a>, String> {
    let sock = UdpSocket::bind(if server.starts_with('[') {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    })
    .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    sock.connect(server)
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let c = DtlsClient::new(RustCrypto, cfg, &mut OsRng, mote_std::now(), rx, 4096, tx)
        .map_err(|e| format!("cannot start: {e}"))?;
    DtlsClientSocket::connect_within(c, sock, limit)
        .map_err(|e| format!("handshake with {server} failed: {e}"))
}

/// Sends `lines` (one due every `interval`) to `server` over DTLS, numbering packs that
/// carry no `seq` from `first_seq` on when acks are awaited. An error: no handshake, or a
/// reading without ack for `policy.retry_for`.
pub fn deliver(
    server: &str,
    cfg: &DtlsClientConfig<'_>,
    lines: &mut dyn Iterator<Item = String>,
    interval: Duration,
    first_seq: u64,
    policy: &DtlsPolicy,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, String> {
    let mut rx = vec![0u8; 8192];
    let mut tx = vec![0u8; usize::from(cfg.mtu) + 4096];
    let mut summary = Summary::default();
    let mut tls = connect(server, cfg, &mut rx, &mut tx, policy.retry_for)?;
    summary.connections += 1;
    on(Event::Connected {
        resumed: false,
        describe: describe(&tls.client().negotiated()),
    });
    let mut next_seq = first_seq;
    for (i, line) in lines.enumerate() {
        if i > 0 && !interval.is_zero() {
            std::thread::sleep(interval);
        }
        let line = line.trim().to_string();
        let (seq, text) = if policy.ack {
            match numbered(&line, next_seq) {
                Ok(v) => v,
                Err(why) => {
                    summary.skipped += 1;
                    on(Event::Skipped { line: &line, why });
                    continue;
                }
            }
        } else {
            (next_seq, line)
        };
        next_seq = next_seq.max(seq + 1);
        let since = Instant::now();
        let mut tries = 0u32;
        loop {
            tls.send(text.as_bytes())
                .map_err(|e| format!("sending: {e}"))?;
            on(Event::Sent {
                seq,
                line: &text,
                resent: tries > 0,
            });
            if !policy.ack {
                break;
            }
            match wait_ack(&mut tls, seq, policy.ack_timeout) {
                Ok(Some(Ok(()))) => {
                    summary.acked += 1;
                    on(Event::Acked { seq });
                    break;
                }
                Ok(Some(Err(why))) => {
                    summary.refused += 1;
                    on(Event::Refused { seq, why: &why });
                    break;
                }
                Ok(None) => {}
                Err(e) => on(Event::Lost {
                    why: e.to_string(),
                    unacked: 1,
                }),
            }
            tries += 1;
            if since.elapsed() > policy.retry_for {
                return Err(format!("no ack for seq {seq} in {:?}", policy.retry_for));
            }
            if tries.is_multiple_of(3) {
                // Silent through three tries: perhaps the collector lost the session (a
                // restart): a new handshake.
                drop(tls);
                on(Event::Lost {
                    why: format!("no ack for seq {seq}: a new handshake"),
                    unacked: 1,
                });
                tls = loop {
                    match connect(server, cfg, &mut rx, &mut tx, policy.retry_for) {
                        Ok(t) => break t,
                        Err(e) if since.elapsed() > policy.retry_for => return Err(e),
                        Err(_) => std::thread::sleep(Duration::from_millis(500)),
                    }
                };
                summary.connections += 1;
                on(Event::Connected {
                    resumed: false,
                    describe: describe(&tls.client().negotiated()),
                });
            }
        }
    }
    let _ = tls.close();
    Ok(summary)
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
    let cfg = owned.dtls_config(args.mtu, cid);
    println!(
        "mote send: DTLS to {} (server_name {}, MTU {})",
        args.client.server, owned.host, args.mtu
    );
    let mut lines = match crate::send::readings(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote send: {e}");
            return ExitCode::from(2);
        }
    };
    let policy = DtlsPolicy {
        ack: args.ack,
        ack_timeout: Duration::from_secs_f64(args.ack_timeout.clamp(0.05, 600.0)),
        retry_for: Duration::from_secs_f64(args.retry_for.clamp(0.1, 86_400.0)),
    };
    let mut sent = 0u32;
    let r = deliver(
        &args.client.server,
        &cfg,
        &mut lines,
        Duration::from_secs_f64(args.interval.max(0.0)),
        fresh_seq_base(),
        &policy,
        &mut |e| match e {
            Event::Connected { describe, .. } => println!("connected: {describe}"),
            Event::Sent { seq, line, resent } => {
                if resent {
                    println!("resending seq {seq}");
                } else {
                    sent += 1;
                    match args.ack {
                        true => println!("reading {sent}: {line} (seq {seq})"),
                        false => println!("reading {sent}: {line}"),
                    }
                }
            }
            Event::Acked { seq } => println!("ack {seq}"),
            Event::Refused { seq, why } => println!("refused {seq}: {why}"),
            Event::Skipped { line, why } => println!("not sent: {line}: {why}"),
            Event::Lost { why, .. } => println!("{why}"),
            Event::Retrying { .. } => {}
        },
    );
    match r {
        Ok(s) => {
            if args.ack {
                println!(
                    "closed with close_notify: {} acknowledged, {} refused",
                    s.acked,
                    s.refused + s.skipped
                );
            } else {
                println!("closed with close_notify: {sent} readings sent");
            }
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

/// Waits for the ack (or error) datagram naming `seq`; `None` on timeout.
fn wait_ack(
    tls: &mut Socket<'_>,
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
            continue; // an answer to an earlier try
        }
        match kind {
            Some("ack") => return Ok(Some(Ok(()))),
            Some("error") => return Ok(Some(Err(why.to_string()))),
            _ => {}
        }
    }
}
