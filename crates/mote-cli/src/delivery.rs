//! Acknowledged delivery (`mote send --ack`, and the sensors of `mote demo`): every reading
//! is numbered (`"seq"` in its first record, see `serve::senml`), kept until the collector
//! acknowledges it, and sent again after a broken connection; reconnections resume the
//! session with the newest ticket the collector sent.
//!
//! One thread, blocking I/O: up to `window` readings are in flight; between readings the
//! socket's read timeout wakes the loop to send the next one when it is due.

use mote::{Client, ClientConfig};
use mote_crypto::rustcrypto::RustCrypto;
use mote_std::{Buffers, LatestTicket, OsRng, TlsStream};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How the delivery behaves.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Readings sent but not yet acknowledged, at most.
    pub window: usize,
    /// A connection with readings in flight and no answer for this long is broken.
    pub ack_timeout: Duration,
    /// Give up when no connection could be made for this long.
    pub retry_for: Duration,
    /// Receive buffer size: a record size limit when the device asks for small records.
    pub record_size_limit: Option<u16>,
    /// Close the connection after this many acknowledged readings and reconnect (resuming
    /// the session) when the next is due, as a device that sleeps between bursts does.
    pub reconnect_after: Option<usize>,
}

/// What happened, for the caller to show.
#[derive(Debug)]
pub enum Event<'a> {
    Connected {
        resumed: bool,
        describe: String,
    },
    Sent {
        seq: u64,
        line: &'a str,
        resent: bool,
    },
    Acked {
        seq: u64,
    },
    Refused {
        seq: u64,
        why: &'a str,
    },
    /// A line that cannot be numbered (not a SenML pack) is not sent.
    Skipped {
        line: &'a str,
        why: String,
    },
    Lost {
        why: String,
        unacked: usize,
    },
    Retrying {
        after: Duration,
    },
}

/// The totals at the end.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub acked: usize,
    pub refused: usize,
    pub skipped: usize,
    pub connections: usize,
    pub resumed: usize,
}

struct Pending {
    seq: u64,
    line: String,
    /// Sent on the current connection.
    sent: bool,
    /// Sent on an earlier connection too (a resend).
    tried: bool,
}

/// Sends `lines` (one due every `interval`) to `server`, numbering packs that carry no
/// `seq` from `first_seq` on, until every one is acknowledged or refused. An error means
/// the collector could not be reached for `policy.retry_for`: the readings still pending
/// are lost to this run, and the error says how many.
pub fn deliver(
    server: &str,
    base: &ClientConfig<'_>,
    lines: &mut dyn Iterator<Item = String>,
    interval: Duration,
    first_seq: u64,
    policy: &Policy,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, String> {
    let tickets = LatestTicket::new();
    let mut d = Delivery {
        queue: VecDeque::new(),
        lines,
        exhausted: false,
        next_seq: first_seq,
        next_due: Instant::now(),
        interval,
        summary: Summary::default(),
    };
    let mut last_progress = Instant::now();
    let mut backoff = Duration::from_millis(100);
    loop {
        d.fill_due(on);
        if d.exhausted && d.queue.is_empty() {
            return Ok(d.summary);
        }
        let ticket = tickets.get();
        let mut cfg = *base;
        cfg.ticket_store = Some(&tickets);
        cfg.resume = ticket.as_ref().map(|t| t.as_ref());
        let mut bufs = match policy.record_size_limit {
            Some(l) => Buffers::for_record_size_limit(l),
            None => Buffers::full(),
        };
        let failure = match connect(server, &cfg, &mut bufs) {
            Ok(mut tls) => {
                let n = tls.client().negotiated();
                d.summary.connections += 1;
                d.summary.resumed += usize::from(n.resumed);
                on(Event::Connected {
                    resumed: n.resumed,
                    describe: crate::send::describe(tls.client()),
                });
                let acked = d.summary.acked + d.summary.refused;
                let r = d.session(&mut tls, policy, on);
                if d.summary.acked + d.summary.refused > acked {
                    last_progress = Instant::now();
                    backoff = Duration::from_millis(100);
                }
                match r {
                    Ok(finished) => {
                        let _ = tls.close();
                        if finished {
                            return Ok(d.summary);
                        }
                        // A pause: reconnect when the next reading is due.
                        std::thread::sleep(d.next_due.saturating_duration_since(Instant::now()));
                        continue;
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        let why = match failure {
            // A collector restarted with new ticket keys refuses the ticket, and a PSK
            // device's handshake then fails: go on without the ticket.
            Failure::Fatal(e) if ticket.is_some() => {
                tickets.clear();
                on(Event::Lost {
                    why: format!("{e} (the session ticket was refused: a full handshake next)"),
                    unacked: d.queue.len(),
                });
                for p in d.queue.iter_mut() {
                    p.sent = false;
                }
                continue;
            }
            Failure::Fatal(e) => {
                return Err(format!(
                    "{e}: {} reading{} not delivered",
                    d.queue.len(),
                    if d.queue.len() == 1 { "" } else { "s" }
                ))
            }
            Failure::Transient(e) => e,
        };
        for p in d.queue.iter_mut() {
            p.sent = false;
        }
        on(Event::Lost {
            why,
            unacked: d.queue.len(),
        });
        if last_progress.elapsed() > policy.retry_for {
            return Err(format!(
                "nothing delivered to {server} for {:?}: {} reading{} not acknowledged",
                policy.retry_for,
                d.queue.len(),
                if d.queue.len() == 1 { "" } else { "s" }
            ));
        }
        on(Event::Retrying { after: backoff });
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Why a connection ended: the link (try again) or TLS itself (an alert sent or received:
/// credentials or configuration, which trying again does not change).
enum Failure {
    Transient(String),
    Fatal(String),
}

impl Failure {
    fn of(what: &str, e: &io::Error) -> Failure {
        let text = format!("{what}: {e}");
        // mote-std reports a received alert as ConnectionAborted and a refused message as
        // InvalidData; everything else is the socket's.
        match e.kind() {
            io::ErrorKind::ConnectionAborted | io::ErrorKind::InvalidData => Failure::Fatal(text),
            _ => Failure::Transient(text),
        }
    }
}

fn connect<'a>(
    server: &str,
    cfg: &'a ClientConfig<'a>,
    bufs: &'a mut Buffers,
) -> Result<TlsStream<'a, 'a, RustCrypto, TcpStream>, Failure> {
    let sock = TcpStream::connect(server).map_err(|e| Failure::of("cannot connect", &e))?;
    sock.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let _ = sock.set_nodelay(true);
    let client = Client::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    )
    .map_err(|e| Failure::Fatal(format!("cannot start: {e}")))?;
    TlsStream::connect(client, sock).map_err(|e| Failure::of("handshake failed", &e))
}

struct Delivery<'l> {
    queue: VecDeque<Pending>,
    lines: &'l mut dyn Iterator<Item = String>,
    exhausted: bool,
    next_seq: u64,
    next_due: Instant,
    interval: Duration,
    summary: Summary,
}

impl Delivery<'_> {
    /// Takes the readings that are due (all of them with no interval) into the queue.
    fn fill_due(&mut self, on: &mut dyn FnMut(Event<'_>)) {
        while !self.exhausted && Instant::now() >= self.next_due && self.queue.len() < 4096 {
            let Some(line) = self.lines.next() else {
                self.exhausted = true;
                break;
            };
            self.next_due += self.interval;
            let line = line.trim().to_string();
            if line.is_empty() {
                continue;
            }
            match numbered(&line, self.next_seq) {
                Ok((seq, text)) => {
                    if seq >= self.next_seq {
                        self.next_seq = seq + 1;
                    }
                    self.queue.push_back(Pending {
                        seq,
                        line: text,
                        sent: false,
                        tried: false,
                    });
                }
                Err(why) => {
                    self.summary.skipped += 1;
                    on(Event::Skipped { line: &line, why });
                }
            }
            if !self.interval.is_zero() {
                break;
            }
        }
    }

    /// Runs one connection until everything is delivered (`Ok(true)`), it pauses as
    /// [`Policy::reconnect_after`] asks (`Ok(false)`) or it breaks.
    fn session(
        &mut self,
        tls: &mut TlsStream<'_, '_, RustCrypto, TcpStream>,
        policy: &Policy,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<bool, Failure> {
        let settled_before = self.summary.acked + self.summary.refused;
        let mut inbox = Vec::new();
        let mut buf = [0u8; 1024];
        let mut waiting_since: Option<Instant> = None;
        loop {
            self.fill_due(on);
            let mut in_flight = self.queue.iter().filter(|p| p.sent).count();
            for p in self.queue.iter_mut().filter(|p| !p.sent) {
                if in_flight >= policy.window.max(1) {
                    break;
                }
                let mut data = p.line.clone().into_bytes();
                data.push(b'\n');
                tls.write_all(&data)
                    .map_err(|e| Failure::of("sending", &e))?;
                p.sent = true;
                let resent = std::mem::replace(&mut p.tried, true);
                on(Event::Sent {
                    seq: p.seq,
                    line: &p.line,
                    resent,
                });
                in_flight += 1;
            }
            if self.exhausted && self.queue.is_empty() {
                return Ok(true);
            }
            let settled = self.summary.acked + self.summary.refused - settled_before;
            if in_flight == 0 && policy.reconnect_after.is_some_and(|n| settled >= n.max(1)) {
                return Ok(false);
            }
            if in_flight == 0 {
                waiting_since = None;
                std::thread::sleep(self.next_due.saturating_duration_since(Instant::now()));
                continue;
            }
            let since = *waiting_since.get_or_insert_with(Instant::now);
            if since.elapsed() > policy.ack_timeout {
                return Err(Failure::Transient(format!(
                    "no answer for {:?}",
                    policy.ack_timeout
                )));
            }
            // Wake for the next due reading, or within a second to check the ack timeout.
            let wait = self
                .next_due
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(10), Duration::from_secs(1));
            tls.get_ref().set_read_timeout(Some(wait)).ok();
            match tls.read(&mut buf) {
                Ok(0) => {
                    return Err(Failure::Transient(
                        "the collector closed the connection".into(),
                    ))
                }
                Ok(n) => inbox.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(Failure::of("receiving", &e)),
            }
            while let Some(pos) = inbox.iter().position(|&b| b == b'\n') {
                let answer: Vec<u8> = inbox.drain(..=pos).collect();
                let answer = String::from_utf8_lossy(&answer);
                if let Some(why) = answer.strip_prefix("error ? not identified") {
                    // The collector does not know this device: resending cannot help.
                    return Err(Failure::Fatal(format!(
                        "the collector refused the device{}",
                        why.trim_end()
                    )));
                }
                if self.answer(&answer, on) {
                    waiting_since = None;
                }
            }
        }
    }

    /// Applies one answer line; whether it settled a reading.
    fn answer(&mut self, text: &str, on: &mut dyn FnMut(Event<'_>)) -> bool {
        let mut words = text.trim().splitn(3, ' ');
        let (kind, seq, why) = (words.next(), words.next(), words.next().unwrap_or(""));
        let Some(seq) = seq.and_then(|s| s.parse::<u64>().ok()) else {
            return false;
        };
        let Some(i) = self.queue.iter().position(|p| p.seq == seq && p.sent) else {
            return false;
        };
        match kind {
            Some("ack") => {
                self.queue.remove(i);
                self.summary.acked += 1;
                on(Event::Acked { seq });
                true
            }
            Some("error") => {
                self.queue.remove(i);
                self.summary.refused += 1;
                on(Event::Refused { seq, why });
                true
            }
            _ => false,
        }
    }
}

/// The pack's `seq`, adding `"seq":next` to its first record when it has none.
pub fn numbered(line: &str, next: u64) -> Result<(u64, String), String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let first = v
        .as_array()
        .and_then(|a| a.first())
        .and_then(|r| r.as_object())
        .ok_or("not a SenML pack (an array of records)")?;
    if let Some(s) = first.get("seq") {
        let seq = s.as_u64().ok_or("\"seq\" is not a non-negative integer")?;
        return Ok((seq, line.to_string()));
    }
    // Insert as text so the rest of the line is sent exactly as given.
    let brace = line.find('{').ok_or("no record")?;
    let sep = if first.is_empty() { "" } else { "," };
    Ok((
        next,
        format!(
            "{}{{\"seq\":{next}{sep}{}",
            &line[..brace],
            &line[brace + 1..]
        ),
    ))
}

/// A first sequence number no earlier run of this device has used: microseconds since the
/// Unix epoch (one run would have to send a million readings a second to catch up).
pub fn fresh_seq_base() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_keeps_or_adds_seq() {
        assert_eq!(
            numbered(r#"[{"n":"t","v":1}]"#, 7).unwrap(),
            (7, r#"[{"seq":7,"n":"t","v":1}]"#.to_string())
        );
        assert_eq!(numbered(r#"[{"seq":3,"n":"t","v":1}]"#, 7).unwrap().0, 3);
        assert_eq!(numbered("[{}]", 1).unwrap().1, r#"[{"seq":1}]"#);
        assert!(numbered("[]", 1).is_err());
        assert!(numbered("{\"n\":1}", 1).is_err());
        assert!(numbered(r#"[{"seq":-1}]"#, 1).is_err());
        assert!(numbered("not json", 1).is_err());
    }
}
