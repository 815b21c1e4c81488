//! mote's DTLS 1.2 client and server over a simulated lossy link, on a virtual clock: no
//! sockets and no sleeping, every run reproducible from its seed (after quinn-proto's
//! `tests/util.rs` pair and smoltcp's netsim).
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

use mote::dtls::{verify_client_hello, HelloVerdict, COOKIE_LEN};
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, Error, ExternalPsk,
    RetransmitConfig, ServerIdentity, Status, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::{CryptoError, HashAlgorithm, Rng};
use mote_wire::CipherSuite;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;

/// Unix time (ms) of the start of every run: certificates are checked against it.
const BASE_MS: u64 = 1_700_000_000_000;
const SECRET: [u8; 32] = [7; 32];
const CLIENT_ADDR: &[u8] = b"192.0.2.7:5684";
const KEY: [u8; 16] = *b"0123456789abcdef";
const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
const ECDHE_ECDSA_CCM_8: CipherSuite = CipherSuite(0xc0ae);
const C2S: usize = 0;
const S2C: usize = 1;
const RESEND_MS: u64 = 500;
const TRACE_KEEP: usize = 60;

// ---------------------------------------------------------------------------------------
// Deterministic randomness.

/// xorshift64* seeded through splitmix64: the link's dice and the engines' randomness.
#[derive(Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        XorShift((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    fn below(&mut self, n: u64) -> u64 {
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
struct LinkConfig {
    /// Every datagram takes at least this long (ms, at least 1).
    latency_ms: u64,
    /// Loss probability per direction ([`C2S`], [`S2C`]).
    loss: [f64; 2],
    /// Probability that a datagram is delivered twice (each copy may still be lost).
    duplicate: f64,
    /// Probability that a copy is held back by a random extra delay of up to `reorder_ms`.
    reorder: f64,
    reorder_ms: u64,
    /// Larger datagrams are dropped.
    mtu: usize,
    /// Scripted loss: datagrams for which this says true (direction, datagram) are lost.
    drop_if: Option<fn(usize, &[u8]) -> bool>,
}

impl LinkConfig {
    fn perfect(mtu: usize) -> Self {
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

struct InFlight {
    at: u64,
    order: u64,
    data: Vec<u8>,
}

#[derive(Default, Debug, Clone, Copy)]
struct LinkStats {
    sent: [u32; 2],
    lost: [u32; 2],
    oversize: [u32; 2],
    duplicated: [u32; 2],
    delivered: [u32; 2],
    largest: [usize; 2],
}

struct Link {
    cfg: LinkConfig,
    rng: XorShift,
    queues: [Vec<InFlight>; 2],
    order: u64,
    stats: LinkStats,
}

impl Link {
    fn new(cfg: LinkConfig, seed: u64) -> Self {
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
    fn send(&mut self, dir: usize, now: u64, data: &[u8]) -> usize {
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

    fn next_delivery(&self) -> Option<u64> {
        self.queues.iter().flatten().map(|f| f.at).min()
    }

    /// The earliest datagram due at `now`, with its direction.
    fn pop_due(&mut self, now: u64) -> Option<(usize, Vec<u8>)> {
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

fn describe(d: &[u8]) -> String {
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

struct Bufs {
    crx: Vec<u8>,
    ctx: Vec<u8>,
    srx: Vec<u8>,
    stx: Vec<u8>,
}

impl Bufs {
    fn new() -> Self {
        Bufs {
            crx: vec![0; 6000],
            ctx: vec![0; 4000],
            srx: vec![0; 4000],
            stx: vec![0; 6000],
        }
    }
}

/// The readings exchange at the application level.
struct Readings {
    total: u32,
    /// How many readings may be unacked at once.
    window: u32,
    acked: Vec<bool>,
    attempts: Vec<u32>,
    resend_at: Vec<Option<u64>>,
    /// Readings the server's application took (deduplicated by number).
    delivered: Vec<u32>,
    seen: HashSet<u32>,
}

impl Readings {
    fn new(total: u32, window: u32) -> Self {
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

    fn all_acked(&self) -> bool {
        self.acked.iter().all(|a| *a)
    }
}

/// Why a run stopped short.
#[derive(Debug)]
enum Stop {
    ClientFailed(Error),
    ServerFailed(Error),
    /// Nothing is scheduled any more: no datagram on the link, no timer.
    Deadlock,
    TimeLimit,
}

struct Sim<'a, 'b> {
    start: u64,
    now: u64,
    link: Link,
    rng: XorShift,
    client: DtlsClient<'a, 'b, RustCrypto>,
    server: Option<DtlsServer<'a, 'b, RustCrypto>>,
    server_bufs: Option<(&'b mut [u8], &'b mut [u8])>,
    scfg: &'a DtlsServerConfig<'a>,
    /// HelloVerifyRequests sent by the stateless side, and connections made.
    hvrs: u32,
    servers_made: u32,
    client_error: Option<Error>,
    server_error: Option<Error>,
    /// Everything `read()` returned, per side.
    client_reads: Vec<Vec<u8>>,
    server_reads: Vec<Vec<u8>>,
    /// Application records written successfully, per side.
    client_writes: u32,
    server_writes: u32,
    client_outbox: VecDeque<Vec<u8>>,
    server_outbox: VecDeque<Vec<u8>>,
    readings: Option<Readings>,
    /// When both sides were first connected.
    connected_at: Option<u64>,
    retx_at_connect: u32,
    trace: VecDeque<String>,
}

impl<'a, 'b> Sim<'a, 'b> {
    fn new(
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

    fn elapsed(&self) -> u64 {
        self.now - self.start
    }

    fn log(&mut self, line: String) {
        if self.trace.len() == TRACE_KEEP {
            self.trace.pop_front();
        }
        let t = self.elapsed();
        self.trace.push_back(format!("+{t:>7}ms {line}"));
    }

    fn trace_text(&self) -> String {
        self.trace.iter().map(|l| format!("    {l}\n")).collect()
    }

    fn both_connected(&self) -> bool {
        self.client.status() == Status::Connected
            && self
                .server
                .as_ref()
                .is_some_and(|s| s.status() == Status::Connected)
    }

    fn retransmissions(&self) -> u32 {
        self.client.retransmissions() + self.server.as_ref().map_or(0, |s| s.retransmissions())
    }

    /// Drains both sides' datagrams into the link, writing queued application records as
    /// the datagram slot frees.
    fn flush(&mut self) {
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
    fn app_tick(&mut self) -> Option<u64> {
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
    fn deliver(&mut self, dir: usize, d: Vec<u8>) {
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

    fn on_server_read(&mut self, m: &[u8]) {
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

    fn on_client_read(&mut self, m: &[u8]) {
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
    fn step(&mut self) -> bool {
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
    fn run_until(&mut self, limit_ms: u64, done: impl Fn(&Self) -> bool) -> Result<(), Stop> {
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

    fn handshake(&mut self, limit_ms: u64) -> Result<(), Stop> {
        self.run_until(limit_ms, |s| s.both_connected())
    }

    fn report(&self, what: &str, seed: u64, stop: &Stop) -> String {
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

// ---------------------------------------------------------------------------------------
// Credentials.

fn psks() -> [ExternalPsk<'static>; 1] {
    [ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }]
}

/// A certificate chain for "sensor.example": DER certificates (end-entity first), the
/// trust anchor's DER, and the end-entity's key.
struct Pki {
    chain: Vec<Vec<u8>>,
    anchor: Vec<u8>,
    signer: EcdsaP256Signer,
}

/// A self-signed end-entity certificate, or (with `ca`) a leaf under a CA sent together
/// with it: a chain of about 600 bytes or more.
fn pki(ca: bool) -> Pki {
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["sensor.example".into()]).unwrap();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "sensor.example");
    let signer = EcdsaP256Signer::from_pkcs8_der(&leaf_key.serialize_der()).unwrap();
    if !ca {
        let cert = leaf.self_signed(&leaf_key).unwrap();
        let der = cert.der().to_vec();
        return Pki {
            chain: vec![der.clone()],
            anchor: der,
            signer,
        };
    }
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mote lossy-link test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    Pki {
        chain: vec![leaf_cert.der().to_vec(), ca_cert.der().to_vec()],
        anchor: ca_cert.der().to_vec(),
        signer,
    }
}

/// The PSK pair of the tests: the client offers TLS_PSK_WITH_AES_128_CCM_8 alone with
/// `psks[0]`, the server (its default suites) knows `psks`; both at `mtu` if given.
fn psk_configs<'a>(
    psks: &'a [ExternalPsk<'a>],
    mtu: Option<u16>,
) -> (DtlsClientConfig<'a>, DtlsServerConfig<'a>) {
    let mut c = DtlsClientConfig::new();
    c.cipher_suites = &[PSK_CCM_8];
    c.psk = Some(psks[0]);
    let mut s = DtlsServerConfig::new();
    s.psks = psks;
    if let Some(mtu) = mtu {
        c.mtu = mtu;
        s.mtu = mtu;
    }
    (c, s)
}

/// The certificate pair at MTU 256: both take TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 alone; the
/// server sends `chain` and signs with `signer`, the client checks it against `anchors`
/// and the name sensor.example.
fn ecdsa_configs_256<'a>(
    chain: &'a [&'a [u8]],
    signer: &'a EcdsaP256Signer,
    anchors: &'a [mote_x509::TrustAnchor<'a>],
) -> (DtlsClientConfig<'a>, DtlsServerConfig<'a>) {
    let mut c = DtlsClientConfig::new();
    c.cipher_suites = &[ECDHE_ECDSA_CCM_8];
    c.mtu = 256;
    c.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors,
        name: mote_x509::ServerName::parse("sensor.example"),
    });
    let mut s = DtlsServerConfig::new();
    s.cipher_suites = &[ECDHE_ECDSA_CCM_8];
    s.mtu = 256;
    s.identity = Some(ServerIdentity { chain, signer });
    (c, s)
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The lossy link of the first test: 30% loss each way, 10% duplication, 20% of the
/// datagrams held back up to 300 ms. `MOTE_LOSSY_{LOSS,DUP,REORDER}` override it for
/// exploring (the assertions on timeouts assume the defaults).
fn lossy(mtu: usize) -> LinkConfig {
    let loss = env("MOTE_LOSSY_LOSS", 0.3);
    LinkConfig {
        latency_ms: 20,
        loss: [loss, loss],
        duplicate: env("MOTE_LOSSY_DUP", 0.1),
        reorder: env("MOTE_LOSSY_REORDER", 0.2),
        reorder_ms: 300,
        mtu,
        drop_if: None,
    }
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() - 1) * p / 100]
}

/// The time from a flight's start to the HandshakeTimeout of `cfg`: every timeout of the
/// schedule, the one after the last retransmission included.
fn timeout_budget_ms(cfg: RetransmitConfig) -> u64 {
    let mut t = u64::from(cfg.initial_ms);
    let mut total = 0;
    for _ in 0..=cfg.max_retransmissions {
        total += t;
        t = (t * 2).min(u64::from(cfg.max_ms));
    }
    total
}

/// The schedule's retransmission instants only (1+2+...+60 s: when the last retransmission
/// goes out).
fn last_retransmission_ms(cfg: RetransmitConfig) -> u64 {
    let mut t = u64::from(cfg.initial_ms);
    let mut total = 0;
    for _ in 0..cfg.max_retransmissions {
        total += t;
        t = (t * 2).min(u64::from(cfg.max_ms));
    }
    total
}

struct RunFigures {
    handshake_ms: u64,
    retransmissions: u32,
    datagrams: u32,
    hvrs: u32,
    readings_ms: u64,
    reading_attempts: u32,
}

/// One seed of the first test: the handshake, then 20 readings, over the lossy link.
fn lossy_run(
    ccfg: &DtlsClientConfig<'_>,
    scfg: &DtlsServerConfig<'_>,
    link: LinkConfig,
    seed: u64,
    what: &str,
) -> Result<RunFigures, (Option<Stop>, String)> {
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(ccfg, scfg, &mut bufs, link, seed);
    let budget = timeout_budget_ms(ccfg.retransmit);
    if let Err(stop) = sim.handshake(2 * budget) {
        let r = sim.report(&format!("{what}: handshake"), seed, &stop);
        return Err((Some(stop), r));
    }
    let connected = sim.connected_at.unwrap();
    let handshake_ms = connected - sim.start;
    if handshake_ms >= budget {
        let what = format!("{what}: handshake took {handshake_ms} ms, budget {budget} ms");
        return Err((None, sim.report(&what, seed, &Stop::TimeLimit)));
    }
    let datagrams = sim.link.stats.sent[0] + sim.link.stats.sent[1];
    sim.readings = Some(Readings::new(20, 4));
    if let Err(stop) = sim.run_until(600_000, |s| {
        s.readings.as_ref().is_some_and(Readings::all_acked)
    }) {
        return Err((None, sim.report(&format!("{what}: readings"), seed, &stop)));
    }
    let r = sim.readings.as_ref().unwrap();
    let mut delivered = r.delivered.clone();
    delivered.sort_unstable();
    assert_eq!(delivered, (0..20).collect::<Vec<_>>(), "{what} seed {seed}");
    // The engine: no record read twice. Every write is unique (number and attempt), so a
    // repeated read is a record the replay window let through again.
    let unique: HashSet<&Vec<u8>> = sim.server_reads.iter().collect();
    assert_eq!(
        unique.len(),
        sim.server_reads.len(),
        "{what} seed {seed}: the server read a record twice"
    );
    assert!(sim.server_reads.len() as u32 <= sim.client_writes);
    let acks: BTreeMap<&Vec<u8>, usize> =
        sim.client_reads.iter().fold(BTreeMap::new(), |mut m, a| {
            *m.entry(a).or_default() += 1;
            m
        });
    // Acks repeat (one per copy of a reading read), but never more than were written.
    assert!(sim.client_reads.len() as u32 <= sim.server_writes);
    assert_eq!(acks.len(), 20);
    assert!(sim.client.error().is_none() && sim.server.as_ref().unwrap().error().is_none());
    Ok(RunFigures {
        handshake_ms,
        retransmissions: sim.retx_at_connect,
        datagrams,
        hvrs: sim.hvrs,
        readings_ms: sim.now - connected,
        reading_attempts: r.attempts.iter().sum(),
    })
}

fn summarize(what: &str, figs: &[RunFigures]) {
    let mut ms: Vec<u64> = figs.iter().map(|f| f.handshake_ms).collect();
    let mut rt: Vec<u64> = figs.iter().map(|f| u64::from(f.retransmissions)).collect();
    let mut dg: Vec<u64> = figs.iter().map(|f| u64::from(f.datagrams)).collect();
    let mut rd: Vec<u64> = figs.iter().map(|f| f.readings_ms).collect();
    let mut at: Vec<u64> = figs.iter().map(|f| u64::from(f.reading_attempts)).collect();
    let hv: u32 = figs.iter().map(|f| f.hvrs).sum();
    for v in [&mut ms, &mut rt, &mut dg, &mut rd, &mut at] {
        v.sort_unstable();
    }
    let line = |name: &str, v: &[u64]| {
        format!(
            "{name}: min {} p10 {} median {} p90 {} max {}",
            v[0],
            percentile(v, 10),
            percentile(v, 50),
            percentile(v, 90),
            v[v.len() - 1]
        )
    };
    let mut hist = BTreeMap::new();
    for r in &rt {
        *hist.entry(*r).or_insert(0) += 1;
    }
    eprintln!(
        "[{what}] {} runs\n  {}\n  {} (histogram retx->runs {:?})\n  {}\n  \
         HelloVerifyRequests sent: {hv}\n  {}\n  {}",
        figs.len(),
        line("handshake virtual ms", &ms),
        line("retransmissions (client+server)", &rt),
        hist,
        line("datagrams sent during the handshake", &dg),
        line("20 readings, virtual ms", &rd),
        line("reading writes (20 = none resent)", &at),
    );
}

// ---------------------------------------------------------------------------------------
// The tests.

const SEEDS: u64 = 50;

#[test]
fn handshake_and_readings_under_30_percent_loss_reordering_duplication_mtu_256() {
    let psks = psks();
    let pki = pki(false);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let budget = timeout_budget_ms(RetransmitConfig::new());
    let seeds = env("MOTE_LOSSY_SEEDS", SEEDS);
    let mut failures = Vec::new();
    let mut timeouts = Vec::new();
    for suite in [PSK_CCM_8, ECDHE_ECDSA_CCM_8] {
        let suites = [suite];
        let mut c = DtlsClientConfig::new();
        c.cipher_suites = &suites;
        c.mtu = 256;
        let mut s = DtlsServerConfig::new();
        s.cipher_suites = &suites;
        s.mtu = 256;
        if suite == PSK_CCM_8 {
            c.psk = Some(psks[0]);
            s.psks = &psks;
        } else {
            c.server_auth = Some(mote_x509::ServerAuth::Chain {
                anchors: &anchors,
                name: mote_x509::ServerName::parse("sensor.example"),
            });
            s.identity = Some(ServerIdentity {
                chain: &chain,
                signer: &pki.signer,
            });
        }
        let what = format!("{suite:?}");
        let mut figs = Vec::new();
        // Independent dice for the two suites.
        let first = if suite == PSK_CCM_8 { 0 } else { 1_000 };
        for seed in first..first + seeds {
            match lossy_run(&c, &s, lossy(256), seed, &what) {
                Ok(f) => figs.push(f),
                Err((Some(stop @ Stop::ClientFailed(Error::HandshakeTimeout { .. })), e)) => {
                    eprintln!("[{what}] seed {seed}: {stop:?}, every exchange of a flight lost");
                    timeouts.push(e)
                }
                Err((Some(Stop::ServerFailed(e)), r)) => {
                    failures.push(format!("server failed with {e:?}: {r}"))
                }
                Err((_, e)) => failures.push(e),
            }
        }
        if !figs.is_empty() {
            summarize(
                &format!("{what}, 30% loss, 10% dup, 20% reordered, MTU 256"),
                &figs,
            );
            assert!(figs.iter().all(|f| f.handshake_ms < budget));
        }
    }
    eprintln!(
        "budget to the client's HandshakeTimeout from one flight: {budget} ms \
         (last retransmission at {} ms)",
        last_retransmission_ms(RetransmitConfig::new())
    );
    // A deadlock, an error on either side, a handshake over the budget or a lost reading
    // fails the test outright.
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n{}",
        failures.len(),
        2 * seeds,
        failures.join("\n")
    );
    // A client that gives up with HandshakeTimeout after 8 unanswered transmissions of one
    // flight is the schedule working as specified: at 30% loss each way a round trip fails
    // with p = 1 - 0.7 * 0.7 = 0.51, and all 8 of a flight with 0.51^8 = 0.5%, for each of
    // the handshake's three exchanges (the link's dice are the same for both suites, so
    // such a seed fails for both). Allowed at that rate, not more.
    eprintln!(
        "{} of {} handshakes ended in the client's HandshakeTimeout (each flight exchange about 0.5%)",
        timeouts.len(),
        2 * seeds
    );
    assert!(
        timeouts.len() as u64 * 100 <= 2 * seeds * 4,
        "too many handshake timeouts:\n{}",
        timeouts.join("\n")
    );
}

#[test]
fn duplicated_datagrams_are_read_once() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, Some(256));
    for seed in 0..10 {
        let mut link = LinkConfig::perfect(256);
        link.duplicate = 1.0;
        link.reorder = 0.3;
        link.reorder_ms = 50;
        let mut bufs = Bufs::new();
        let mut sim = Sim::new(&c, &s, &mut bufs, link, seed);
        if let Err(stop) = sim.handshake(60_000) {
            panic!("{}", sim.report("duplicating link: handshake", seed, &stop));
        }
        let hs_datagrams = sim.link.stats.sent;
        sim.readings = Some(Readings::new(20, 4));
        if let Err(stop) = sim.run_until(60_000, |s| {
            s.readings.as_ref().is_some_and(Readings::all_acked)
        }) {
            panic!("{}", sim.report("duplicating link: readings", seed, &stop));
        }
        // Let the last duplicates arrive.
        sim.run_until(2_000, |s| s.link.next_delivery().is_none())
            .unwrap();
        let r = sim.readings.as_ref().unwrap();
        // Nothing lost: every reading went once and every record arrived twice, yet each
        // was read once.
        assert_eq!(r.attempts, vec![1; 20], "seed {seed}");
        assert_eq!(sim.client_writes, 20);
        assert_eq!(
            sim.server_reads.len(),
            20,
            "seed {seed}: {:?}",
            sim.server_reads
        );
        assert_eq!(
            sim.server_reads.iter().collect::<HashSet<_>>().len(),
            20,
            "seed {seed}"
        );
        assert_eq!(sim.server_writes, 20);
        assert_eq!(
            sim.client_reads.len(),
            20,
            "seed {seed}: {:?}",
            sim.client_reads
        );
        assert_eq!(sim.link.stats.delivered[C2S], 2 * sim.link.stats.sent[C2S]);
        if seed == 0 {
            eprintln!(
                "every datagram duplicated: the handshake took {} ms, {} + {} datagrams \
                 sent (client, server; 3 + 3 without duplicates), retransmissions {}",
                sim.connected_at.unwrap() - sim.start,
                hs_datagrams[C2S],
                hs_datagrams[S2C],
                sim.retx_at_connect
            );
        }
    }
}

#[test]
fn replayed_record_is_dropped() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, None);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, LinkConfig::perfect(1500), 1);
    if let Err(stop) = sim.handshake(10_000) {
        panic!("{}", sim.report("replay: handshake", 1, &stop));
    }
    sim.run_until(1_000, |s| s.link.next_delivery().is_none())
        .unwrap();
    let now = UnixTime::from_millis(sim.now);
    let mut rng = XorShift::new(99);
    let capture = |c: &mut DtlsClient<'_, '_, RustCrypto>, m: &[u8]| -> Vec<u8> {
        assert_eq!(c.write(m).unwrap(), m.len());
        let d = c.transmit().to_vec();
        c.transmit_done();
        d
    };
    /// Delivers `d` to the server; what `read()` gave.
    fn feed(
        s: &mut DtlsServer<'_, '_, RustCrypto>,
        d: &[u8],
        now: UnixTime,
        rng: &mut XorShift,
    ) -> Vec<Vec<u8>> {
        s.recv_buf()[..d.len()].copy_from_slice(d);
        s.recv_datagram(d.len(), now, rng).unwrap();
        let mut out = Vec::new();
        let mut b = [0u8; 256];
        while s.has_app_data() {
            let n = s.read(&mut b);
            out.push(b[..n].to_vec());
        }
        out
    }
    let client = &mut sim.client;
    let server = sim.server.as_mut().unwrap();
    let d1 = capture(client, b"reading 1");
    assert_eq!(
        feed(server, &d1, now, &mut rng),
        vec![b"reading 1".to_vec()]
    );
    // The same datagram again, at once: dropped.
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // Newer records, then the first once more: still dropped.
    for i in 2..6 {
        let d = capture(client, format!("reading {i}").as_bytes());
        assert_eq!(feed(server, &d, now, &mut rng).len(), 1);
    }
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // A record held back behind 10 newer ones (reordering within the window) is read once.
    let late = capture(client, b"late");
    let newer: Vec<Vec<u8>> = (0..10)
        .map(|i| capture(client, format!("newer {i}").as_bytes()))
        .collect();
    for d in &newer {
        assert_eq!(feed(server, d, now, &mut rng).len(), 1);
    }
    assert_eq!(feed(server, &late, now, &mut rng), vec![b"late".to_vec()]);
    assert!(feed(server, &late, now, &mut rng).is_empty());
    // An old record after 100 newer ones (outside the 64-record window): dropped, whether
    // it was read before or never arrived.
    let seen = capture(client, b"old, seen");
    assert_eq!(feed(server, &seen, now, &mut rng).len(), 1);
    let unseen = capture(client, b"old, never delivered");
    for i in 0..100 {
        let d = capture(client, format!("n{i}").as_bytes());
        assert_eq!(feed(server, &d, now, &mut rng).len(), 1);
    }
    assert!(feed(server, &seen, now, &mut rng).is_empty());
    assert!(feed(server, &unseen, now, &mut rng).is_empty());
    assert!(feed(server, &d1, now, &mut rng).is_empty());
    // And the connection is unharmed: the next record is read.
    let d = capture(client, b"after");
    assert_eq!(feed(server, &d, now, &mut rng), vec![b"after".to_vec()]);
    assert_eq!(server.status(), Status::Connected);
    assert_eq!(server.error(), None);
}

#[test]
fn mtu_256_fragments_the_certificate_flight() {
    let pki = pki(true);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let chain_len: usize = chain.iter().map(|c| c.len()).sum();
    assert!(chain_len >= 550, "chain of {chain_len} bytes");
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let (c, s) = ecdsa_configs_256(&chain, &pki.signer, &anchors);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, LinkConfig::perfect(256), 7);
    if let Err(stop) = sim.handshake(10_000) {
        panic!("{}", sim.report("MTU 256 certificate flight", 7, &stop));
    }
    let st = sim.link.stats;
    assert_eq!(st.oversize, [0, 0], "{st:?}");
    assert!(st.largest[C2S] <= 256 && st.largest[S2C] <= 256, "{st:?}");
    assert_eq!(st.lost, [0, 0]);
    assert_eq!(sim.retx_at_connect, 0);
    // The server's flight (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone)
    // went out in pieces: HVR + at least ceil(chain / 256) datagrams, then CCS+Finished.
    assert!(
        st.sent[S2C] as usize >= chain_len.div_ceil(256) + 2,
        "{st:?}"
    );
    let hs_ms = sim.connected_at.unwrap() - sim.start;
    // One round trip for the cookie, two for the handshake: 6 one-way latencies.
    assert_eq!(hs_ms, 6 * 20);
    eprintln!(
        "MTU 256, chain of {chain_len} bytes ({} certificates): datagrams client {} server {} \
         (largest {} / {}), handshake {hs_ms} ms",
        chain.len(),
        st.sent[C2S],
        st.sent[S2C],
        st.largest[C2S],
        st.largest[S2C]
    );
    // Data both ways over the same link.
    sim.readings = Some(Readings::new(3, 3));
    sim.run_until(10_000, |s| {
        s.readings.as_ref().is_some_and(Readings::all_acked)
    })
    .unwrap();
    assert_eq!(sim.link.stats.oversize, [0, 0]);
}

#[test]
fn total_loss_ends_in_handshake_timeout() {
    let psks = psks();
    let (c, s) = psk_configs(&psks, Some(256));
    let cfg = RetransmitConfig::new();
    assert_eq!(cfg.initial_ms, 1_000);
    assert_eq!(cfg.max_ms, 60_000);
    assert_eq!(cfg.max_retransmissions, 7);
    let mut link = LinkConfig::perfect(256);
    link.loss = [1.0, 1.0];
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, link, 3);
    let stop = sim.handshake(1_000_000).unwrap_err();
    let Stop::ClientFailed(e) = stop else {
        panic!("{}", sim.report("total loss", 3, &stop));
    };
    assert_eq!(e, Error::HandshakeTimeout { retransmissions: 7 });
    assert_eq!(sim.client.status(), Status::Failed);
    assert_eq!(sim.client.error(), Some(e));
    assert_eq!(sim.client.retransmissions(), 7);
    // The hello and its 7 retransmissions, at 0, 1, 3, 7, 15, 31, 63 and 123 s; the
    // timeout after the last one (60 s more) fails the handshake at 183 s.
    assert_eq!(sim.link.stats.sent, [8, 0]);
    assert_eq!(
        last_retransmission_ms(cfg),
        1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 32_000 + 60_000
    );
    assert_eq!(sim.elapsed(), timeout_budget_ms(cfg));
    assert_eq!(sim.elapsed(), 183_000);
    assert!(sim.server.is_none() && sim.hvrs == 0);
    // No alert for a timeout, and nothing more scheduled.
    assert!(sim.client.transmit().is_empty());
    assert_eq!(sim.client.next_timeout(), None);
    sim.client_error = None;
    assert!(matches!(sim.handshake(1_000_000), Err(Stop::Deadlock)));
    eprintln!(
        "total loss: HandshakeTimeout after {} ms virtual, {} retransmissions",
        183_000,
        sim.client.retransmissions()
    );
}

#[test]
fn client_hello_flood_keeps_no_server_state() {
    let psks = psks();
    let suites = [PSK_CCM_8];
    let mut c = DtlsClientConfig::new();
    c.cipher_suites = &suites;
    c.psk = Some(psks[0]);
    let now = UnixTime::from_millis(BASE_MS);
    let mut rng = XorShift::new(5);
    let mut crx = vec![0u8; 2000];
    let mut ctx = vec![0u8; 2000];
    let hvr_len = 13 + 12 + 2 + 1 + COOKIE_LEN;
    let mut cookies = HashSet::new();
    let mut accepted = 0;
    let mut hello_len = 0;
    for i in 0u32..10_000 {
        let addr = format!("10.{}.{}.{}:{}", i >> 16, (i >> 8) & 0xff, i & 0xff, 5684);
        let mut client =
            DtlsClient::new(RustCrypto, &c, &mut rng, now, &mut crx, 1000, &mut ctx).unwrap();
        let hello = client.transmit().to_vec();
        client.transmit_done();
        hello_len = hello.len();
        let mut out = [0u8; 128];
        let v = verify_client_hello(
            &RustCrypto,
            &SECRET,
            None,
            addr.as_bytes(),
            &hello,
            &mut out,
        );
        let n = match v {
            HelloVerdict::Verify(n) => n,
            HelloVerdict::Accept => {
                accepted += 1;
                continue;
            }
            HelloVerdict::Drop => panic!("hello {i} dropped"),
        };
        assert_eq!(n, hvr_len);
        // A HelloVerifyRequest (type 3) in the hello's record sequence number, with a
        // 16-byte cookie; smaller than the hello (no amplification).
        assert_eq!(out[0], 22);
        assert_eq!(&out[3..11], &hello[3..11]);
        assert_eq!(out[13], 3);
        assert_eq!(usize::from(out[13 + 12 + 2]), COOKIE_LEN);
        assert!(n < hello.len());
        cookies.insert(out[n - COOKIE_LEN..n].to_vec());
        if i % 1000 == 0 {
            // The hello with the cookie passes from that address only.
            client.recv_buf()[..n].copy_from_slice(&out[..n]);
            client.recv_datagram(n, now, &mut rng).unwrap();
            let second = client.transmit().to_vec();
            let mut o = [0u8; 128];
            assert_eq!(
                verify_client_hello(&RustCrypto, &SECRET, None, addr.as_bytes(), &second, &mut o),
                HelloVerdict::Accept
            );
            let other = format!("10.255.{}.1:5684", i % 250);
            assert_eq!(
                verify_client_hello(
                    &RustCrypto,
                    &SECRET,
                    None,
                    other.as_bytes(),
                    &second,
                    &mut o
                ),
                HelloVerdict::Verify(hvr_len)
            );
            // Another port of the same host is another address.
            let port = format!("10.{}.{}.{}:5685", i >> 16, (i >> 8) & 0xff, i & 0xff);
            assert_eq!(
                verify_client_hello(&RustCrypto, &SECRET, None, port.as_bytes(), &second, &mut o),
                HelloVerdict::Verify(hvr_len)
            );
            // A rotated secret still accepts it as the previous one, and no more after.
            let next = [8u8; 32];
            assert_eq!(
                verify_client_hello(
                    &RustCrypto,
                    &next,
                    Some(&SECRET),
                    addr.as_bytes(),
                    &second,
                    &mut o
                ),
                HelloVerdict::Accept
            );
            assert_eq!(
                verify_client_hello(&RustCrypto, &next, None, addr.as_bytes(), &second, &mut o),
                HelloVerdict::Verify(hvr_len)
            );
        }
    }
    // No connection made for any of them (the test's server side makes one on Accept
    // only), and every address got its own cookie.
    assert_eq!(accepted, 0);
    assert_eq!(cookies.len(), 10_000);
    eprintln!(
        "flood: 10000 hellos of {hello_len} bytes, each answered with a {hvr_len}-byte \
         HelloVerifyRequest, no state"
    );
}

/// Whether `d`'s first record is a Certificate fragment that does not start the message.
fn later_certificate_fragment(dir: usize, d: &[u8]) -> bool {
    dir == S2C
        && d.len() >= 25
        && d[0] == 22
        && d[3..5] == [0, 0]
        && d[13] == 11
        && d[19..22] != [0, 0, 0]
}

/// What [`lost_fragment`] saw.
struct LostFragment {
    end: Result<(), Stop>,
    /// Why the client failed, if it did.
    client_error: Option<Error>,
    client_retransmissions: u32,
    sent: [u32; 2],
    lost: [u32; 2],
    elapsed: u64,
    report: String,
}

/// The server's flight is cut into datagrams at MTU 256; the one with the Certificate's
/// second fragment never arrives (every other datagram does, at once). Runs until the
/// client leaves Handshaking or nothing is scheduled, letting the server give up.
fn lost_fragment() -> LostFragment {
    let pki = pki(false);
    let chain: Vec<&[u8]> = pki.chain.iter().map(Vec::as_slice).collect();
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.anchor).unwrap()];
    let (c, s) = ecdsa_configs_256(&chain, &pki.signer, &anchors);
    let mut link = LinkConfig::perfect(256);
    link.drop_if = Some(later_certificate_fragment);
    let mut bufs = Bufs::new();
    let mut sim = Sim::new(&c, &s, &mut bufs, link, 11);
    let end = loop {
        match sim.run_until(1_000_000, |s| s.client.status() != Status::Handshaking) {
            // The server giving up is right; the client has to follow on its own.
            Err(Stop::ServerFailed(e)) => {
                assert!(matches!(e, Error::HandshakeTimeout { .. }), "{e:?}");
                sim.server_error = None;
                sim.log(format!("server gave up: {e:?}"));
            }
            other => break other,
        }
    };
    let report = match &end {
        Err(stop) => sim.report("rest of the server flight lost", 11, stop),
        Ok(()) => String::new(),
    };
    assert!(sim.link.stats.lost[S2C] > 0, "no scripted loss: {report}");
    LostFragment {
        end,
        client_error: sim.client.error(),
        client_retransmissions: sim.client.retransmissions(),
        sent: sim.link.stats.sent,
        lost: sim.link.stats.lost,
        elapsed: sim.elapsed(),
        report,
    }
}

/// With the rest of the server's flight lost for good, the server retransmits on its timer
/// and gives up after its 7th retransmission; the client, which got the ServerHello, must
/// go on retransmitting its ClientHello on its own timer and end in HandshakeTimeout, not
/// wait forever.
#[test]
fn client_times_out_when_the_rest_of_the_server_flight_never_arrives() {
    let r = lost_fragment();
    assert!(
        matches!(
            r.end,
            Err(Stop::ClientFailed(Error::HandshakeTimeout { .. }))
        ) || matches!(r.client_error, Some(Error::HandshakeTimeout { .. })),
        "{:?} after {} ms, sent {:?} lost {:?}: {}",
        r.end,
        r.elapsed,
        r.sent,
        r.lost,
        r.report
    );
    assert!(r.client_retransmissions > 0);
}

/// The same loss: while the client holds part of the server's flight, the server's
/// retransmission of that same flight must not make the client resend its ClientHello
/// (that is not the peer's previous flight), which makes the server resend its flight, and
/// so on. Within the server's 183 s schedule the exchange should stay near its 8
/// transmissions of a 3-datagram flight and the client's few answers.
#[test]
fn a_partly_received_flight_does_not_start_a_retransmission_storm() {
    let r = lost_fragment();
    eprintln!(
        "one fragment lost for good: datagrams sent {:?} (lost {:?}) in {} ms",
        r.sent, r.lost, r.elapsed
    );
    assert!(
        r.sent[C2S] + r.sent[S2C] <= 100,
        "{:?} datagrams sent: {}",
        r.sent,
        r.report
    );
}
