//! RFC 8448 replayed through the client engine with the RFC's randoms and keys injected:
//! every record the client sends must equal the trace byte for byte, and every record the
//! server sent must be accepted.
//!
//! - Section 3, simple 1-RTT handshake (RSA certificate, x25519, TLS_AES_128_GCM_SHA256),
//!   including the NewSessionTicket, application data and close_notify.
//! - Section 4, resumption with the section 3 ticket and 0-RTT data.
//! - Section 5, HelloRetryRequest (x25519 share, server asks for secp256r1, cookie).
//! - Section 7, middlebox compatibility mode.
//!
//! Vectors: `../shared/vectors/rfc8448/rfc8448_vectors.txt` (transcribed from RFC 8448).
//! The RFC's ClientHellos carry extensions mote does not build (renegotiation_info,
//! session_ticket, psk_key_exchange_modes without a PSK) in an order of their own: the
//! configuration's `extra_extensions` and `extension_order` reproduce them.

use mote::{Client, ClientConfig, Status, TicketRef, TicketStore, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{CryptoError, Rng};
use mote_wire::{CipherSuite as C, ExtensionType as E, NamedGroup as G, SignatureScheme};
use std::collections::HashMap;
use std::sync::Mutex;

fn vectors() -> HashMap<String, Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/rfc8448/rfc8448_vectors.txt"
    );
    std::fs::read_to_string(path)
        .expect("RFC 8448 vectors in ../shared/vectors")
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .filter(|(_, v)| v.trim().bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(k, v)| {
            let v = v.trim();
            (
                k.trim().to_string(),
                (0..v.len() / 2)
                    .map(|i| u8::from_str_radix(&v[2 * i..2 * i + 2], 16).unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// Replays fixed bytes: the ClientHello random, then the ephemeral private key(s).
struct Fixed(Vec<u8>);

impl Rng for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        if self.0.len() < dest.len() {
            return Err(CryptoError::RngFailure);
        }
        dest.copy_from_slice(&self.0[..dest.len()]);
        self.0.drain(..dest.len());
        Ok(())
    }
}

#[derive(Default)]
struct Tickets(Mutex<Vec<Stored>>);

/// psk, identity, age_add, lifetime, received_at_ms, max_early_data
type Stored = (Vec<u8>, Vec<u8>, u32, u32, u64, u32);

impl TicketStore for Tickets {
    fn store(&self, t: &TicketRef<'_>) {
        self.0.lock().unwrap().push((
            t.psk.to_vec(),
            t.identity.to_vec(),
            t.age_add,
            t.lifetime,
            t.received_at_ms,
            t.max_early_data,
        ));
    }
}

const SCHEMES: [SignatureScheme; 15] = [
    SignatureScheme(0x0403),
    SignatureScheme(0x0503),
    SignatureScheme(0x0603),
    SignatureScheme(0x0203),
    SignatureScheme(0x0804),
    SignatureScheme(0x0805),
    SignatureScheme(0x0806),
    SignatureScheme(0x0401),
    SignatureScheme(0x0501),
    SignatureScheme(0x0601),
    SignatureScheme(0x0201),
    SignatureScheme(0x0402),
    SignatureScheme(0x0502),
    SignatureScheme(0x0602),
    SignatureScheme(0x0202),
];
const SUITES: [C; 3] = [
    C::TLS_AES_128_GCM_SHA256,
    C::TLS_CHACHA20_POLY1305_SHA256,
    C::TLS_AES_256_GCM_SHA384,
];
const GROUPS: [G; 9] = [
    G::X25519,
    G::SECP256R1,
    G::SECP384R1,
    G::SECP521R1,
    G::FFDHE2048,
    G::FFDHE3072,
    G::FFDHE4096,
    G::FFDHE6144,
    G::FFDHE8192,
];
// psk_key_exchange_modes comes from the engine itself here: a ticket store is configured.
const EXTRAS_S3: [(E, &[u8]); 2] = [(E::RENEGOTIATION_INFO, &[0]), (E::SESSION_TICKET, &[])];
const ORDER: [E; 12] = [
    E::SERVER_NAME,
    E::RENEGOTIATION_INFO,
    E::SUPPORTED_GROUPS,
    E::SESSION_TICKET,
    E::KEY_SHARE,
    E::EARLY_DATA,
    E::SUPPORTED_VERSIONS,
    E::SIGNATURE_ALGORITHMS,
    E::COOKIE,
    E::PSK_KEY_EXCHANGE_MODES,
    E::RECORD_SIZE_LIMIT,
    E::PADDING,
];

/// 2020-01-01: inside the RFC's RSA certificate's validity (2016-07-30 to 2026-07-30).
const NOW: u64 = 1_577_836_800;

/// The server certificate of the RFC, pinned by its SPKI (it has no subjectAltName).
fn pin(v: &HashMap<String, Vec<u8>>) -> mote_x509::ServerAuth<'static> {
    let cert_msg = &v["s3.16.certificate"];
    // Certificate: type(1) len(3) context_len(1)=0 list_len(3) entry_len(3) DER...
    let der = &cert_msg[11..];
    let len = u32::from_be_bytes([0, cert_msg[8], cert_msg[9], cert_msg[10]]) as usize;
    let c = mote_x509::Certificate::parse(&der[..len]).unwrap();
    mote_x509::ServerAuth::PinnedSpki(mote_x509::PinnedSpki::of_spki(&RustCrypto, c.spki()))
}

fn base_config(auth: mote_x509::ServerAuth<'static>) -> ClientConfig<'static> {
    let mut cfg = ClientConfig::new();
    cfg.cipher_suites = &SUITES;
    cfg.groups = &GROUPS;
    cfg.signature_schemes = &SCHEMES;
    cfg.server_name = Some("server");
    cfg.server_auth = Some(auth);
    cfg.record_size_limit = Some(0x4001);
    cfg.extension_order = &ORDER;
    // The RFC's hellos of 256..511 bytes are padded to 512 (sections 4 and 5).
    cfg.pad_client_hello = true;
    cfg
}

/// Takes everything the client queued.
fn sent<P: mote_crypto::Provider>(c: &mut Client<'_, '_, P>) -> Vec<u8> {
    let out = c.transmit().to_vec();
    c.transmit_done(out.len());
    out
}

fn feed<P: mote_crypto::Provider>(c: &mut Client<'_, '_, P>, bytes: &[u8]) {
    c.recv_buf()[..bytes.len()].copy_from_slice(bytes);
    c.recv_done(bytes.len(), &mut Fixed(Vec::new()))
        .unwrap_or_else(|e| panic!("client refused the trace: {e}"));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn assert_bytes(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what} differs from the trace:\n got {}\nwant {}",
        hex(got),
        hex(want)
    );
}

#[test]
fn section3_simple_1rtt() {
    let v = vectors();
    let tickets = Tickets::default();
    let mut cfg = base_config(pin(&v));
    cfg.extra_extensions = &EXTRAS_S3;
    cfg.ticket_store = Some(&tickets);
    let ch = &v["s3.02.clienthello"];
    let mut rng = Fixed([&ch[6..38], &v["s3.01.private_key"][..]].concat());
    let (mut rx, mut tx) = (vec![0u8; 20_000], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut rng,
        UnixTime::from_secs(NOW),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    assert_bytes(
        "ClientHello record (s3.03)",
        &sent(&mut c),
        &v["s3.03.complete_record"],
    );
    feed(&mut c, &v["s3.13.complete_record"]);
    feed(&mut c, &v["s3.20.complete_record"]);
    assert_eq!(c.status(), Status::Connected);
    assert_bytes(
        "client Finished record (s3.42)",
        &sent(&mut c),
        &v["s3.42.complete_record"],
    );
    feed(&mut c, &v["s3.50.complete_record"]);
    let t = tickets.0.lock().unwrap()[0].clone();
    assert_bytes("resumption PSK (s3.48)", &t.0, &v["s3.48.expanded"]);
    assert_eq!(
        c.write(&v["s3.52.payload"]).unwrap(),
        v["s3.52.payload"].len()
    );
    assert_bytes(
        "client application data (s3.52)",
        &sent(&mut c),
        &v["s3.52.complete_record"],
    );
    feed(&mut c, &v["s3.53.complete_record"]);
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf);
    assert_bytes(
        "server application data (s3.53)",
        &buf[..n],
        &v["s3.53.payload"],
    );
    c.close();
    assert_bytes(
        "client close_notify (s3.54)",
        &sent(&mut c),
        &v["s3.54.complete_record"],
    );
    feed(&mut c, &v["s3.55.complete_record"]);
    assert_eq!(c.status(), Status::Closed);
}

#[test]
fn section4_resumed_0rtt() {
    let v = vectors();
    // The ticket of section 3 (s3.49), with the PSK derived from it (s3.48).
    let nst = &v["s3.49.newsessionticket"];
    let lifetime = u32::from_be_bytes(nst[4..8].try_into().unwrap());
    let age_add = u32::from_be_bytes(nst[8..12].try_into().unwrap());
    let nonce_len = nst[12] as usize;
    let at = 13 + nonce_len;
    let tlen = u16::from_be_bytes([nst[at], nst[at + 1]]) as usize;
    let identity = nst[at + 2..at + 2 + tlen].to_vec();
    // The hello's obfuscated_ticket_age fixes how long ago the ticket arrived.
    let ch = &v["s4.03.clienthello"];
    let pos = ch
        .windows(identity.len())
        .position(|w| w == &identity[..])
        .unwrap()
        + identity.len();
    let obfuscated = u32::from_be_bytes(ch[pos..pos + 4].try_into().unwrap());
    let age_ms = obfuscated.wrapping_sub(age_add) as u64;
    let now_ms = NOW * 1000;
    let psk = v["s3.48.expanded"].clone();
    let extras: [(E, &[u8]); 1] = [(E::RENEGOTIATION_INFO, &[0])];
    let mut cfg = base_config(pin(&v));
    cfg.extra_extensions = &extras;
    cfg.early_data = true;
    cfg.resume = Some(TicketRef {
        suite: C::TLS_AES_128_GCM_SHA256,
        psk: &psk,
        identity: &identity,
        age_add,
        lifetime,
        received_at_ms: now_ms - age_ms,
        max_early_data: 1024,
    });
    let mut rng = Fixed([&ch[6..38], &v["s4.01.private_key"][..]].concat());
    let (mut rx, mut tx) = (vec![0u8; 20_000], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut rng,
        UnixTime::from_millis(now_ms),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    assert_bytes(
        "ClientHello record with PSK binder (s4.05)",
        &sent(&mut c),
        &v["s4.05.complete_record"],
    );
    assert_eq!(
        c.write_early(&v["s4.09.payload"]).unwrap(),
        v["s4.09.payload"].len()
    );
    assert_bytes(
        "0-RTT application data (s4.09)",
        &sent(&mut c),
        &v["s4.09.complete_record"],
    );
    feed(&mut c, &v["s4.22.complete_record"]);
    feed(&mut c, &v["s4.27.complete_record"]);
    assert_eq!(c.status(), Status::Connected);
    assert!(c.negotiated().resumed && c.negotiated().early_data_accepted);
    let flight = sent(&mut c);
    let eoed = &v["s4.45.complete_record"];
    assert_bytes("EndOfEarlyData record (s4.45)", &flight[..eoed.len()], eoed);
    assert_bytes(
        "client Finished record (s4.50)",
        &flight[eoed.len()..],
        &v["s4.50.complete_record"],
    );
    c.write(&v["s4.57.payload"]).unwrap();
    assert_bytes(
        "client application data (s4.57)",
        &sent(&mut c),
        &v["s4.57.complete_record"],
    );
    feed(&mut c, &v["s4.58.complete_record"]);
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf);
    assert_bytes(
        "server application data (s4.58)",
        &buf[..n],
        &v["s4.58.payload"],
    );
    c.close();
    assert_bytes(
        "client close_notify (s4.59)",
        &sent(&mut c),
        &v["s4.59.complete_record"],
    );
    feed(&mut c, &v["s4.60.complete_record"]);
    assert_eq!(c.status(), Status::Closed);
}

const EXTRAS: [(E, &[u8]); 2] = [
    (E::RENEGOTIATION_INFO, &[0]),
    (E::PSK_KEY_EXCHANGE_MODES, &[1, 1]),
];

#[test]
fn section5_hello_retry_request() {
    let v = vectors();
    const GROUPS5: [G; 3] = [G::X25519, G::SECP256R1, G::SECP384R1];
    let mut cfg = base_config(pin(&v));
    cfg.groups = &GROUPS5;
    cfg.extra_extensions = &EXTRAS;
    let ch = &v["s5.02.clienthello"];
    // The random, the x25519 key of the first hello, then the P-256 key of the second.
    let mut rng = Fixed(
        [
            &ch[6..38],
            &v["s5.01.private_key"][..],
            &v["s5.06.private_key"][..],
        ]
        .concat(),
    );
    let (mut rx, mut tx) = (vec![0u8; 20_000], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut rng,
        UnixTime::from_secs(NOW),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    assert_bytes(
        "first ClientHello (s5.03)",
        &sent(&mut c),
        &v["s5.03.complete_record"],
    );
    let hrr = &v["s5.05.complete_record"];
    c.recv_buf()[..hrr.len()].copy_from_slice(hrr);
    c.recv_done(hrr.len(), &mut rng).unwrap();
    assert_bytes(
        "second ClientHello with P-256 share and cookie (s5.08)",
        &sent(&mut c),
        &v["s5.08.complete_record"],
    );
    feed(&mut c, &v["s5.18.complete_record"]);
    feed(&mut c, &v["s5.25.complete_record"]);
    assert_eq!(c.status(), Status::Connected);
    assert!(c.negotiated().hello_retry);
    assert_eq!(c.negotiated().group, Some(G::SECP256R1));
    assert_bytes(
        "client Finished (s5.47)",
        &sent(&mut c),
        &v["s5.47.complete_record"],
    );
}

#[test]
fn section7_middlebox_compatibility() {
    let v = vectors();
    let mut cfg = base_config(pin(&v));
    cfg.extra_extensions = &EXTRAS;
    cfg.middlebox_compat = true;
    let ch = &v["s7.02.clienthello"];
    // The random, the 32-byte legacy_session_id, then the x25519 key.
    let mut rng = Fixed([&ch[6..38], &ch[39..71], &v["s7.01.private_key"][..]].concat());
    let (mut rx, mut tx) = (vec![0u8; 20_000], vec![0u8; 4096]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut rng,
        UnixTime::from_secs(NOW),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    assert_bytes(
        "ClientHello with a session ID (s7.03)",
        &sent(&mut c),
        &v["s7.03.complete_record"],
    );
    feed(&mut c, &v["s7.07.complete_record"]);
    feed(&mut c, &v["s7.08.complete_record"]);
    feed(&mut c, &v["s7.21.complete_record"]);
    assert_eq!(c.status(), Status::Connected);
    let flight = sent(&mut c);
    let ccs = &v["s7.39.complete_record"];
    assert_bytes(
        "client change_cipher_spec (s7.39)",
        &flight[..ccs.len()],
        ccs,
    );
    assert_bytes(
        "client Finished (s7.44)",
        &flight[ccs.len()..],
        &v["s7.44.complete_record"],
    );
    c.close();
    assert_bytes(
        "client close_notify (s7.50)",
        &sent(&mut c),
        &v["s7.50.complete_record"],
    );
}
