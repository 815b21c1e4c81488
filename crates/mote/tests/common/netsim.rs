//! A simulated lossy link between mote's DTLS 1.2 client and server, on a virtual clock: no
//! sockets and no sleeping, every run reproducible from its seed (after quinn-proto's
//! `tests/util.rs` pair and smoltcp's netsim). Used by dtls12_lossy_link.rs.
//!
//! - [`Link`]: a queue of `(deliver_at, datagram)` per direction with loss, duplication,
//!   reordering (a random extra delay), a base latency and an MTU (larger datagrams are
//!   dropped, as by a link that does not fragment);
//! - [`Sim`]: the event loop. The clock jumps to the next event (the earliest delivery, the
//!   earliest `next_timeout()` of either side, or an application timer); due datagrams are
//!   delivered and due timers handled, and both sides' `transmit()` is drained into the link
//!   after every step. Until a connection exists the server side answers statelessly with
//!   `verify_client_hello` and makes a `DtlsServer` only on `Accept`, as a real server does.
//! - The application: the client sends numbered readings, one per datagram, each resent
//!   every 500 ms until the server's ack arrives (application data over DTLS is
//!   unreliable); the server delivers each reading once (deduplicated by number) and acks
//!   every copy it reads.
//!
//! The credentials, configurations and per-run figures of the tests are in [`fixtures`].

pub mod fixtures;

use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, Error, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{CryptoError, Rng};
use mote_wire::CipherSuite;
use std::collections::{HashSet, VecDeque};
use std::fmt::Write as _;

/// Unix time (ms) of the start of every run: certificates are checked against it.
pub const BASE_MS: u64 = 1_700_000_000_000;
pub const SECRET: [u8; 32] = [7; 32];
pub const CLIENT_ADDR: &[u8] = b"192.0.2.7:5684";
pub const KEY: [u8; 16] = *b"0123456789abcdef";
pub const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
pub const ECDHE_ECDSA_CCM_8: CipherSuite = CipherSuite(0xc0ae);
pub const C2S: usize = 0;
pub const S2C: usize = 1;
pub const RESEND_MS: u64 = 500;
pub const TRACE_KEEP: usize = 60;

// ---------------------------------------------------------------------------------------
// Deterministic randomness.

/// xorshift64* seeded through splitmix64: the link's dice and the engines' randomness.
#[derive(Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

impl Rng for XorShift {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in dest.chunks_mut(8) {
            let b = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The link.

#[derive(Clone, Copy, Debug)]
pub struct LinkConfig {
    /// Every datagram takes at least this long (ms, at least 1).
    pub latency_ms: u64,
    /// Loss probability per direction ([`C2S`], [`S2C`]).
    pub loss: [f64; 2],
    /// Probability that a datagram is delivered twice (each copy may still be lost).
    pub duplicate: f64,
    /// Probability that a copy is held back by a random extra delay of up to `reorder_ms`.
    pub reorder: f64,
    pub reorder_ms: u64,
    /// Larger datagrams are dropped.
    pub mtu: usize,
    /// Scripted loss: datagrams for which this says true (direction, datagram) are lost.
    pub drop_if: Option<fn(usize, &[u8]) -> bool>,
}

impl LinkConfig {
    pub fn perfect(mtu: usize) -> Self {
        LinkConfig {
            latency_ms: 20,
            loss: [0.0; 2],
            duplicate: 0.0,
            reorder: 0.0,
            reorder_ms: 0,
            mtu,
            drop_if: None,
        }
    }
}

pub struct InFlight {
    pub at: u64,
    pub order: u64,
    pub data: Vec<u8>,
}

#[derive(Default, Debug, Clone, Copy)]
pub struct LinkStats {
    pub sent: [u32; 2],
    pub lost: [u32; 2],
    pub oversize: [u32; 2],
    pub duplicated: [u32; 2],
    pub delivered: [u32; 2],
    pub largest: [usize; 2],
}

pub struct Link {
    pub cfg: LinkConfig,
    pub rng: XorShift,
    pub queues: [Vec<InFlight>; 2],
    pub order: u64,
    pub stats: LinkStats,
}

impl Link {
    pub fn new(cfg: LinkConfig, seed: u64) -> Self {
        assert!(cfg.latency_ms >= 1);
        Link {
            cfg,
            rng: XorShift::new(seed ^ 0x6c69_6e6b),
            queues: [Vec::new(), Vec::new()],
            order: 0,
            stats: LinkStats::default(),
        }
    }

    /// Puts `data` on the link in direction `dir` at `now`; returns how many copies will
    /// arrive.
    pub fn send(&mut self, dir: usize, now: u64, data: &[u8]) -> usize {
        self.stats.sent[dir] += 1;
        self.stats.largest[dir] = self.stats.largest[dir].max(data.len());
        if data.len() > self.cfg.mtu {
            self.stats.oversize[dir] += 1;
            return 0;
        }
        if self.cfg.drop_if.is_some_and(|f| f(dir, data)) {
            self.stats.lost[dir] += 1;
            return 0;
        }
        let copies = if self.rng.chance(self.cfg.duplicate) {
            self.stats.duplicated[dir] += 1;
            2
        } else {
            1
        };
        let mut arriving = 0;
        for copy in 0..copies {
            if self.rng.chance(self.cfg.loss[dir]) {
                self.stats.lost[dir] += 1;
                continue;
            }
            let mut at = now + self.cfg.latency_ms;
            if self.rng.chance(self.cfg.reorder) {
                at += 1 + self.rng.below(self.cfg.reorder_ms);
            }
            if copy == 1 {
                // A duplicate is never quite simultaneous.
                at += 1 + self.rng.below(self.cfg.reorder_ms.max(1));
            }
            self.queues[dir].push(InFlight {
                at,
                order: self.order,
                data: data.to_vec(),
            });
            self.order += 1;
            arriving += 1;
        }
        arriving
    }

    pub fn next_delivery(&self) -> Option<u64> {
        self.queues.iter().flatten().map(|f| f.at).min()
    }

    /// The earliest datagram due at `now`, with its direction.
    pub fn pop_due(&mut self, now: u64) -> Option<(usize, Vec<u8>)> {
        let mut best: Option<(usize, usize, u64, u64)> = None;
        for (dir, q) in self.queues.iter().enumerate() {
            for (i, f) in q.iter().enumerate() {
                if f.at <= now && best.is_none_or(|b| (f.at, f.order) < (b.2, b.3)) {
                    best = Some((dir, i, f.at, f.order));
                }
            }
        }
        let (dir, i, _, _) = best?;
        self.stats.delivered[dir] += 1;
        Some((dir, self.queues[dir].swap_remove(i).data))
    }
}

// ---------------------------------------------------------------------------------------
// Describing datagrams for the event trace.

pub fn describe(d: &[u8]) -> String {
    let mut s = String::new();
    let mut rest = d;
    while rest.len() >= 13 {
        let ct = rest[0];
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let seq = u64::from_be_bytes([0, 0, rest[5], rest[6], rest[7], rest[8], rest[9], rest[10]]);
        let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let Some(body) = rest.get(13..13 + len) else {
            s.push_str(" [cut]");
            break;
        };
        let what = match ct {
            20 => "CCS".to_string(),
            21 if epoch == 0 => format!("alert{:?}", body),
            21 => "alert(enc)".to_string(),
            22 if epoch == 0 && body.len() >= 12 => {
                let n = |b: &[u8]| (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize;
                let name = match body[0] {
                    1 => "CH",
                    2 => "SH",
                    3 => "HVR",
                    11 => "Cert",
                    12 => "SKE",
                    13 => "CR",
                    14 => "SHD",
                    16 => "CKE",
                    _ => "hs?",
                };
                format!(
                    "{name}#{} {}+{}/{}",
                    u16::from_be_bytes([body[4], body[5]]),
                    n(&body[6..9]),
                    n(&body[9..12]),
                    n(&body[1..4])
                )
            }
            22 => "Fin(enc)".to_string(),
            23 => "app".to_string(),
            _ => format!("ct{ct}"),
        };
        let _ = write!(s, " [e{epoch}/{seq} {what}]");
        rest = &rest[13 + len..];
    }
    s
}

// ---------------------------------------------------------------------------------------
// The simulation.

pub struct Bufs {
    pub crx: Vec<u8>,
    pub ctx: Vec<u8>,
    pub srx: Vec<u8>,
    pub stx: Vec<u8>,
}

impl Bufs {
    pub fn new() -> Self {
        Bufs {
            crx: vec![0; 6000],
            ctx: vec![0; 4000],
            srx: vec![0; 4000],
            stx: vec![0; 6000],
        }
    }
}

/// The readings exchange at the application level.
pub struct Readings {
    pub total: u32,
    /// How many readings may be unacked at once.
    pub window: u32,
    pub acked: Vec<bool>,
    pub attempts: Vec<u32>,
    pub resend_at: Vec<Option<u64>>,
    /// Readings the server's application took (deduplicated by number).
    pub delivered: Vec<u32>,
    pub seen: HashSet<u32>,
}

impl Readings {
    pub fn new(total: u32, window: u32) -> Self {
        let n = total as usize;
        Readings {
            total,
            window,
            acked: vec![false; n],
            attempts: vec![0; n],
            resend_at: vec![None; n],
            delivered: Vec::new(),
            seen: HashSet::new(),
        }
    }

    pub fn all_acked(&self) -> bool {
        self.acked.iter().all(|a| *a)
    }
}

/// Why a run stopped short.
#[derive(Debug)]
pub enum Stop {
    ClientFailed(Error),
    ServerFailed(Error),
    /// Nothing is scheduled any more: no datagram on the link, no timer.
    Deadlock,
    TimeLimit,
}

pub struct Sim<'a, 'b> {
    pub start: u64,
    pub now: u64,
    pub link: Link,
    pub rng: XorShift,
    pub client: DtlsClient<'a, 'b, RustCrypto>,
    pub server: Option<DtlsServer<'a, 'b, RustCrypto>>,
    pub server_bufs: Option<(&'b mut [u8], &'b mut [u8])>,
    pub scfg: &'a DtlsServerConfig<'a>,
    /// HelloVerifyRequests sent by the stateless side, and connections made.
    pub hvrs: u32,
    pub servers_made: u32,
    pub client_error: Option<Error>,
    pub server_error: Option<Error>,
    /// Everything `read()` returned, per side.
    pub client_reads: Vec<Vec<u8>>,
    pub server_reads: Vec<Vec<u8>>,
    /// Application records written successfully, per side.
    pub client_writes: u32,
    pub server_writes: u32,
    pub client_outbox: VecDeque<Vec<u8>>,
    pub server_outbox: VecDeque<Vec<u8>>,
    pub readings: Option<Readings>,
    /// When both sides were first connected.
    pub connected_at: Option<u64>,
    pub retx_at_connect: u32,
    pub trace: VecDeque<String>,
}

impl<'a, 'b> Sim<'a, 'b> {
    pub fn new(
        ccfg: &'a DtlsClientConfig<'a>,
        scfg: &'a DtlsServerConfig<'a>,
        bufs: &'b mut Bufs,
        link: LinkConfig,
        seed: u64,
    ) -> Self {
        let mut rng = XorShift::new(seed);
        let start = BASE_MS;
        let client = DtlsClient::new(
            RustCrypto,
            ccfg,
            &mut rng,
            UnixTime::from_millis(start),
            &mut bufs.crx,
            3000,
            &mut bufs.ctx,
        )
        .expect("client");
        Sim {
            start,
            now: start,
            link: Link::new(link, seed),
            rng,
            client,
            server: None,
            server_bufs: Some((&mut bufs.srx, &mut bufs.stx)),
            scfg,
            hvrs: 0,
            servers_made: 0,
            client_error: None,
            server_error: None,
            client_reads: Vec::new(),
            server_reads: Vec::new(),
            client_writes: 0,
            server_writes: 0,
            client_outbox: VecDeque::new(),
            server_outbox: VecDeque::new(),
            readings: None,
            connected_at: None,
            retx_at_connect: 0,
            trace: VecDeque::new(),
        }
    }

    pub fn elapsed(&self) -> u64 {
        self.now - self.start
    }

    pub fn log(&mut self, line: String) {
        if self.trace.len() == TRACE_KEEP {
            self.trace.pop_front();
        }
        let t = self.elapsed();
        self.trace.push_back(format!("+{t:>7}ms {line}"));
    }

    pub fn trace_text(&self) -> String {
        self.trace.iter().map(|l| format!("    {l}\n")).collect()
    }

    pub fn both_connected(&self) -> bool {
        self.client.status() == Status::Connected
            && self
                .server
                .as_ref()
                .is_some_and(|s| s.status() == Status::Connected)
    }

    pub fn retransmissions(&self) -> u32 {
        self.client.retransmissions() + self.server.as_ref().map_or(0, |s| s.retransmissions())
    }

    /// Drains both sides' datagrams into the link, writing queued application records as
    /// the datagram slot frees.
    pub fn flush(&mut self) {
        let now = self.now;
        loop {
            let mut moved = false;
            while !self.client.transmit().is_empty() {
                let d = self.client.transmit().to_vec();
                self.client.transmit_done();
                let n = self.link.send(C2S, now, &d);
                self.log(format!("c->s {:>3}B x{n}{}", d.len(), describe(&d)));
                moved = true;
            }
            while let Some(s) = self.server.as_mut().filter(|s| !s.transmit().is_empty()) {
                let d = s.transmit().to_vec();
                s.transmit_done();
                let n = self.link.send(S2C, now, &d);
                self.log(format!("s->c {:>3}B x{n}{}", d.len(), describe(&d)));
                moved = true;
            }
            if self.client.status() == Status::Connected {
                if let Some(m) = self.client_outbox.front() {
                    if let Ok(n) = self.client.write(m) {
                        if n > 0 {
                            assert_eq!(n, m.len(), "a reading was cut");
                            self.client_outbox.pop_front();
                            self.client_writes += 1;
                            moved = true;
                        }
                    }
                }
            }
            if let Some(s) = self.server.as_mut() {
                if s.status() == Status::Connected {
                    if let Some(m) = self.server_outbox.front() {
                        if let Ok(n) = s.write(m) {
                            if n > 0 {
                                assert_eq!(n, m.len(), "an ack was cut");
                                self.server_outbox.pop_front();
                                self.server_writes += 1;
                                moved = true;
                            }
                        }
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// The client application: (re)sends the first `window` unacked readings whose resend
    /// time came; returns its next wake-up.
    pub fn app_tick(&mut self) -> Option<u64> {
        if self.client.status() != Status::Connected {
            return None;
        }
        let now = self.now;
        let r = self.readings.as_mut()?;
        let mut wake: Option<u64> = None;
        let mut open = 0;
        for n in 0..r.total as usize {
            if r.acked[n] {
                continue;
            }
            if open == r.window {
                break;
            }
            open += 1;
            if r.resend_at[n].is_none_or(|t| t <= now) {
                r.attempts[n] += 1;
                self.client_outbox
                    .push_back(format!("r{n}#{}", r.attempts[n]).into_bytes());
                r.resend_at[n] = Some(now + RESEND_MS);
            }
            wake = match (wake, r.resend_at[n]) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        wake
    }

    /// One datagram arrives.
    pub fn deliver(&mut self, dir: usize, d: Vec<u8>) {
        let now = UnixTime::from_millis(self.now);
        if dir == C2S && self.server.is_none() {
            // No connection yet: the stateless cookie exchange.
            let mut hvr = [0u8; 128];
            match verify_client_hello(&RustCrypto, &SECRET, None, CLIENT_ADDR, &d, &mut hvr) {
                HelloVerdict::Verify(n) => {
                    self.hvrs += 1;
                    let k = self.link.send(S2C, self.now, &hvr[..n]);
                    self.log(format!("  stateless: HVR {n}B x{k}"));
                    return;
                }
                HelloVerdict::Drop => {
                    self.log("  stateless: dropped".into());
                    return;
                }
                HelloVerdict::Accept => {
                    let (rx, tx) = self.server_bufs.take().expect("one connection");
                    let s =
                        DtlsServer::new(RustCrypto, self.scfg, now, rx, 2000, tx).expect("server");
                    self.server = Some(s);
                    self.servers_made += 1;
                    self.log("  stateless: accept, connection made".into());
                }
            }
        }
        let mut got = Vec::new();
        let (result, status) = if dir == C2S {
            let s = self.server.as_mut().expect("server");
            let buf = s.recv_buf();
            assert!(buf.len() >= d.len(), "server recv_buf busy or short");
            buf[..d.len()].copy_from_slice(&d);
            let r = s.recv_datagram(d.len(), now, &mut self.rng);
            let mut out = [0u8; 512];
            while s.has_app_data() {
                let n = s.read(&mut out);
                got.push(out[..n].to_vec());
            }
            (r, s.status())
        } else {
            let c = &mut self.client;
            let buf = c.recv_buf();
            assert!(buf.len() >= d.len(), "client recv_buf busy or short");
            buf[..d.len()].copy_from_slice(&d);
            let r = c.recv_datagram(d.len(), now, &mut self.rng);
            let mut out = [0u8; 512];
            while c.has_app_data() {
                let n = c.read(&mut out);
                got.push(out[..n].to_vec());
            }
            (r, c.status())
        };
        let who = if dir == C2S { "server" } else { "client" };
        if let Err(e) = result {
            self.log(format!("  {who} recv error {e:?} -> {status:?}"));
            if dir == C2S {
                self.server_error.get_or_insert(e);
            } else {
                self.client_error.get_or_insert(e);
            }
        }
        for m in got {
            self.log(format!("  {who} read {:?}", String::from_utf8_lossy(&m)));
            if dir == C2S {
                self.on_server_read(&m);
                self.server_reads.push(m);
            } else {
                self.on_client_read(&m);
                self.client_reads.push(m);
            }
        }
    }

    pub fn on_server_read(&mut self, m: &[u8]) {
        let Some(r) = self.readings.as_mut() else {
            return;
        };
        let text = String::from_utf8_lossy(m);
        let n: u32 = text
            .strip_prefix('r')
            .and_then(|t| t.split('#').next())
            .and_then(|t| t.parse().ok())
            .expect("a reading");
        if r.seen.insert(n) {
            r.delivered.push(n);
        }
        // Every copy is acked: the previous ack may have been lost.
        self.server_outbox.push_back(format!("a{n}").into_bytes());
    }

    pub fn on_client_read(&mut self, m: &[u8]) {
        let Some(r) = self.readings.as_mut() else {
            return;
        };
        let text = String::from_utf8_lossy(m);
        let n: usize = text[1..].parse().expect("an ack");
        r.acked[n] = true;
        r.resend_at[n] = None;
    }

    /// Advances to the next event and handles everything due then; `false` when nothing is
    /// scheduled.
    pub fn step(&mut self) -> bool {
        let app = self.app_tick();
        self.flush();
        let next = [
            self.link.next_delivery(),
            self.client.next_timeout(),
            self.server.as_ref().and_then(|s| s.next_timeout()),
            app,
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(t) = next else {
            return false;
        };
        self.now = self.now.max(t);
        while let Some((dir, d)) = self.link.pop_due(self.now) {
            self.deliver(dir, d);
            self.flush();
        }
        let now = UnixTime::from_millis(self.now);
        if self.client.next_timeout().is_some_and(|t| t <= self.now) {
            let before = self.client.retransmissions();
            let r = self.client.handle_timeout(now);
            let after = self.client.retransmissions();
            self.log(format!(
                "client timer: {r:?}, retransmissions {before}->{after}"
            ));
            if let Err(e) = r {
                self.client_error.get_or_insert(e);
            }
        }
        if let Some(s) = self.server.as_mut() {
            if s.next_timeout().is_some_and(|t| t <= self.now) {
                let before = s.retransmissions();
                let r = s.handle_timeout(now);
                let after = s.retransmissions();
                self.log(format!(
                    "server timer: {r:?}, retransmissions {before}->{after}"
                ));
                if let Err(e) = r {
                    self.server_error.get_or_insert(e);
                }
            }
        }
        if self.connected_at.is_none() && self.both_connected() {
            self.connected_at = Some(self.now);
            self.retx_at_connect = self.retransmissions();
            self.log("both connected".into());
        }
        self.flush();
        true
    }

    /// Runs until `done`, a failure, nothing scheduled, or `limit_ms` of virtual time.
    pub fn run_until(&mut self, limit_ms: u64, done: impl Fn(&Self) -> bool) -> Result<(), Stop> {
        let limit = self.now + limit_ms;
        loop {
            if done(self) {
                return Ok(());
            }
            if let Some(e) = self.client_error {
                return Err(Stop::ClientFailed(e));
            }
            if let Some(e) = self.server_error {
                return Err(Stop::ServerFailed(e));
            }
            if self.now > limit {
                return Err(Stop::TimeLimit);
            }
            if !self.step() {
                return if done(self) {
                    Ok(())
                } else {
                    Err(Stop::Deadlock)
                };
            }
        }
    }

    pub fn handshake(&mut self, limit_ms: u64) -> Result<(), Stop> {
        self.run_until(limit_ms, |s| s.both_connected())
    }

    pub fn report(&self, what: &str, seed: u64, stop: &Stop) -> String {
        format!(
            "{what}, seed {seed}: {stop:?} at +{} ms; client {:?} {:?} (next timeout {:?}), \
             server {:?} {:?} (next timeout {:?}); retransmissions {}; link {:?}\n\
             last events:\n{}",
            self.elapsed(),
            self.client.status(),
            self.client.error(),
            self.client
                .next_timeout()
                .map(|t| t.saturating_sub(self.start)),
            self.server.as_ref().map(|s| s.status()),
            self.server.as_ref().and_then(|s| s.error()),
            self.server
                .as_ref()
                .and_then(|s| s.next_timeout())
                .map(|t| t.saturating_sub(self.start)),
            self.retransmissions(),
            self.link.stats,
            self.trace_text()
        )
    }
}
