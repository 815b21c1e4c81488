//! The lossy-link tests' credentials (a PSK, an ECDSA certificate chain), their client and
//! server configurations, the lossy link of the first test, the retransmission schedule's
//! budgets, and one seed's run of the handshake and readings with its summary.

use super::{Bufs, LinkConfig, Readings, Sim, Stop, ECDHE_ECDSA_CCM_8, KEY, PSK_CCM_8};
use mote::{DtlsClientConfig, DtlsServerConfig, ExternalPsk, RetransmitConfig, ServerIdentity};
use mote_crypto::rustcrypto::EcdsaP256Signer;
use mote_crypto::HashAlgorithm;
use std::collections::{BTreeMap, HashSet};

// ---------------------------------------------------------------------------------------
// Credentials.

pub fn psks() -> [ExternalPsk<'static>; 1] {
    [ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }]
}

/// A certificate chain for "sensor.example": DER certificates (end-entity first), the
/// trust anchor's DER, and the end-entity's key.
pub struct Pki {
    pub chain: Vec<Vec<u8>>,
    pub anchor: Vec<u8>,
    pub signer: EcdsaP256Signer,
}

/// A self-signed end-entity certificate, or (with `ca`) a leaf under a CA sent together
/// with it: a chain of about 600 bytes or more.
pub fn pki(ca: bool) -> Pki {
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
pub fn psk_configs<'a>(
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
pub fn ecdsa_configs_256<'a>(
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

pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The lossy link of the first test: 30% loss each way, 10% duplication, 20% of the
/// datagrams held back up to 300 ms. `MOTE_LOSSY_{LOSS,DUP,REORDER}` override it for
/// exploring (the assertions on timeouts assume the defaults).
pub fn lossy(mtu: usize) -> LinkConfig {
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

pub fn percentile(sorted: &[u64], p: usize) -> u64 {
    sorted[(sorted.len() - 1) * p / 100]
}

/// The time from a flight's start to the HandshakeTimeout of `cfg`: every timeout of the
/// schedule, the one after the last retransmission included.
pub fn timeout_budget_ms(cfg: RetransmitConfig) -> u64 {
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
pub fn last_retransmission_ms(cfg: RetransmitConfig) -> u64 {
    let mut t = u64::from(cfg.initial_ms);
    let mut total = 0;
    for _ in 0..cfg.max_retransmissions {
        total += t;
        t = (t * 2).min(u64::from(cfg.max_ms));
    }
    total
}

pub struct RunFigures {
    pub handshake_ms: u64,
    pub retransmissions: u32,
    pub datagrams: u32,
    pub hvrs: u32,
    pub readings_ms: u64,
    pub reading_attempts: u32,
}

/// One seed of the first test: the handshake, then 20 readings, over the lossy link.
pub fn lossy_run(
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

pub fn summarize(what: &str, figs: &[RunFigures]) {
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
