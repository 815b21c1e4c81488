//! mote's Server against an in-process rustls 0.23 client (ring provider, certificates made
//! with rcgen), over TCP on 127.0.0.1: ECDSA P-256 and Ed25519 server certificates, a
//! HelloRetryRequest, a required client certificate (the device identity is the SHA-256 of
//! its SPKI), resumption with mote's ticket, KeyUpdates initiated by rustls, and
//! close_notify started by either side. Each case sends lines, which the server answers
//! with `ack <line>`, and checks what both sides saw.

mod common;

use common::tls_serve::{identity_config, serve_echo_one, EchoServed};
use mote::{ClientAuth, ClientId, ServerConfig};
use mote_crypto::rustcrypto::{EcdsaP256Signer, Ed25519Signer};
use mote_wire::{CipherSuite, NamedGroup, SignatureScheme};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::ring as rr;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConnection, HandshakeKind, RootCertStore, StreamOwned};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

const NAME: &str = "collector.example";

/// The validity window: from a year ago to two years ahead, from the system clock.
fn validity(p: &mut CertificateParams) {
    let year = 1970 + (mote_std::unix_time() / 31_556_952) as i32;
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

/// A CA and a leaf it issued (DER certificate, PKCS#8 key, DER SPKI).
struct Issued {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
    spki: Vec<u8>,
}

fn issue(alg: &'static rcgen::SignatureAlgorithm, eku: ExtendedKeyUsagePurpose) -> Issued {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "mote test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    validity(&mut p);
    let ca = p.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(alg).unwrap();
    let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "leaf");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    validity(&mut p);
    let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
    Issued {
        ca: ca.der().to_vec(),
        cert: cert.der().to_vec(),
        key: key.serialize_der(),
        spki: key.public_key_der(),
    }
}

/// What the server saw of one connection.
type Served = EchoServed;

/// Runs mote's echo server on `listener` for `n` connections, one after the other.
fn serve(listener: &TcpListener, cfg: &ServerConfig<'_>, n: usize) -> Vec<Result<Served, String>> {
    (0..n).map(|_| serve_one(listener, cfg)).collect()
}

fn serve_one(listener: &TcpListener, cfg: &ServerConfig<'_>) -> Result<Served, String> {
    serve_echo_one(listener, cfg, "no client connected")
}

/// How the rustls client behaves.
#[derive(Clone, Copy, Default)]
struct Script {
    /// refresh_traffic_keys() before every line but the first.
    key_updates: bool,
    /// End with the line `bye` (the server closes first) instead of a close_notify.
    server_closes: bool,
}

/// What the rustls client saw.
#[derive(Debug)]
struct Talk {
    kind: Option<HandshakeKind>,
    suite: Option<rustls::CipherSuite>,
    group: Option<rustls::NamedGroup>,
    answers: Vec<String>,
}

fn client_config(ca: &[u8], client: Option<&Issued>) -> Arc<rustls::ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(rr::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let cfg = match client {
        Some(c) => b
            .with_client_auth_cert(
                vec![CertificateDer::from(c.cert.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.clone())),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    Arc::new(cfg)
}

/// Reads until a whole line arrived; the line without its newline.
fn read_line(tls: &mut StreamOwned<ClientConnection, TcpStream>) -> Result<String, String> {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\n") {
        match tls.read(&mut b) {
            Ok(0) => return Err(format!("closed after {:?}", String::from_utf8_lossy(&got))),
            Ok(_) => got.push(b[0]),
            Err(e) => return Err(format!("rustls read: {e}")),
        }
    }
    got.pop();
    Ok(String::from_utf8(got).unwrap())
}

fn talk(
    cfg: Arc<rustls::ClientConfig>,
    port: u16,
    lines: &[&str],
    script: Script,
) -> Result<Talk, String> {
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let conn = ClientConnection::new(cfg, ServerName::try_from(NAME).unwrap()).unwrap();
    let mut tls = StreamOwned::new(conn, sock);
    let mut answers = Vec::new();
    let mut all: Vec<&str> = lines.to_vec();
    if script.server_closes {
        all.push("bye");
    }
    for (i, line) in all.iter().enumerate() {
        if script.key_updates && i > 0 {
            tls.conn
                .refresh_traffic_keys()
                .map_err(|e| format!("refresh_traffic_keys: {e:?}"))?;
        }
        tls.write_all(format!("{line}\n").as_bytes())
            .and_then(|_| tls.flush())
            .map_err(|e| format!("rustls write: {e}"))?;
        answers.push(read_line(&mut tls)?);
    }
    let t = Talk {
        kind: tls.conn.handshake_kind(),
        suite: tls.conn.negotiated_cipher_suite().map(|s| s.suite()),
        group: tls.conn.negotiated_key_exchange_group().map(|g| g.name()),
        answers,
    };
    if !script.server_closes {
        tls.conn.send_close_notify();
        tls.flush()
            .map_err(|e| format!("sending close_notify: {e}"))?;
    }
    // The server's close_notify (first, or in answer to ours): a clean end of stream. A
    // TCP end without it is an UnexpectedEof error.
    let mut b = [0u8; 64];
    match tls.read(&mut b) {
        Ok(0) => {}
        other => return Err(format!("expected the server's close_notify, got {other:?}")),
    }
    if script.server_closes {
        tls.conn.send_close_notify();
        tls.flush()
            .map_err(|e| format!("answering close_notify: {e}"))?;
    }
    Ok(t)
}

/// One or more rustls connections (one per entry of `runs`, the same client config) to a
/// mote server with `cfg`; both sides' results, checked for the echo and close_notify.
fn exchange(
    cfg: &ServerConfig<'_>,
    client: Arc<rustls::ClientConfig>,
    runs: &[Script],
    what: &str,
) -> Vec<(Talk, Served)> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = [
        "[{\"n\":\"temperature\",\"v\":21.4}]",
        "[{\"n\":\"humidity\",\"v\":40}]",
        "[{\"n\":\"pressure\",\"v\":1013.2}]",
    ];
    // The server's configuration borrows a `dyn Signer`, which is not Sync: the server runs
    // on the test thread and rustls on another.
    let scripts = runs.to_vec();
    let h = std::thread::spawn(move || {
        scripts
            .iter()
            .map(|s| talk(client.clone(), port, &lines, *s))
            .collect::<Vec<_>>()
    });
    let served = serve(&listener, cfg, runs.len());
    let talks = h.join().unwrap();
    let mut out = Vec::new();
    for ((t, s), script) in talks.into_iter().zip(served).zip(runs) {
        let (t, s) = match (t, s) {
            (Ok(t), Ok(s)) => (t, s),
            (t, s) => panic!("{what}: client {t:?}\nserver {s:?}"),
        };
        let mut sent: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if script.server_closes {
            sent.push("bye".into());
        }
        let e = &s.echo;
        assert_eq!(e.lines, sent, "{what}: lines the server received");
        let acks: Vec<String> = sent.iter().map(|l| format!("ack {l}")).collect();
        assert_eq!(t.answers, acks, "{what}: answers rustls received");
        assert!(e.peer_closed, "{what}: no close_notify from rustls: {e:?}");
        assert_eq!(e.server_closed_first, script.server_closes, "{what}");
        out.push((t, s));
    }
    out
}

/// One connection of rustls with `client` (and the default [`Script`]) to a server of `cfg`.
fn exchange_once(
    cfg: &ServerConfig<'_>,
    client: Arc<rustls::ClientConfig>,
    what: &str,
) -> (Talk, Served) {
    exchange(cfg, client, &[Script::default()], what)
        .pop()
        .unwrap()
}

fn ecdsa_identity() -> (Issued, EcdsaP256Signer) {
    let certs = issue(
        &rcgen::PKCS_ECDSA_P256_SHA256,
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let signer = EcdsaP256Signer::from_pkcs8_der(&certs.key).unwrap();
    (certs, signer)
}

#[test]
fn ecdsa_p256_certificate() {
    let (certs, signer) = ecdsa_identity();
    let chain = [certs.cert.as_slice()];
    let cfg = identity_config(&chain, &signer);
    let r = exchange_once(&cfg, client_config(&certs.ca, None), "ecdsa");
    let (t, neg) = (&r.0, &r.1.neg);
    assert_eq!(t.kind, Some(HandshakeKind::Full));
    assert_eq!(
        neg.server_signature,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
    assert_eq!(neg.group, Some(NamedGroup::X25519));
    assert_eq!(t.group, Some(rustls::NamedGroup::X25519));
    // Both sides agree on the suite: mote's first choice that rustls offers.
    let suite = neg.suite.unwrap();
    assert_eq!(t.suite.map(u16::from), Some(suite.0), "{neg:?}");
    assert!(!neg.psk && !neg.resumed && !neg.hello_retry, "{neg:?}");
}

#[test]
fn ed25519_certificate() {
    let certs = issue(&rcgen::PKCS_ED25519, ExtendedKeyUsagePurpose::ServerAuth);
    let signer = Ed25519Signer::from_pkcs8_der(&certs.key).unwrap();
    let chain = [certs.cert.as_slice()];
    let cfg = identity_config(&chain, &signer);
    let r = exchange_once(&cfg, client_config(&certs.ca, None), "ed25519");
    let (t, neg) = (&r.0, &r.1.neg);
    assert_eq!(t.kind, Some(HandshakeKind::Full));
    assert_eq!(neg.server_signature, Some(SignatureScheme::ED25519));
}

#[test]
fn hello_retry_request_to_secp256r1() {
    // rustls sends a key share for x25519 only (its first group); the server takes only
    // secp256r1 and must ask for it.
    let (certs, signer) = ecdsa_identity();
    let chain = [certs.cert.as_slice()];
    let mut cfg = identity_config(&chain, &signer);
    cfg.groups = &[NamedGroup::SECP256R1];
    cfg.cipher_suites = &[CipherSuite::TLS_CHACHA20_POLY1305_SHA256];
    let r = exchange_once(&cfg, client_config(&certs.ca, None), "hrr");
    let (t, neg) = (&r.0, &r.1.neg);
    assert_eq!(t.kind, Some(HandshakeKind::FullWithHelloRetryRequest));
    assert!(neg.hello_retry, "{neg:?}");
    assert_eq!(neg.group, Some(NamedGroup::SECP256R1));
    assert_eq!(t.group, Some(rustls::NamedGroup::secp256r1));
    assert_eq!(
        t.suite,
        Some(rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256)
    );
}

#[test]
fn required_client_certificate_is_the_device_identity() {
    let (certs, signer) = ecdsa_identity();
    let device = issue(
        &rcgen::PKCS_ECDSA_P256_SHA256,
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let chain = [certs.cert.as_slice()];
    let anchors = [mote_x509::TrustAnchor::from_cert(&device.ca).unwrap()];
    let mut cfg = identity_config(&chain, &signer);
    cfg.client_auth = ClientAuth::Required(&anchors);
    let r = exchange_once(
        &cfg,
        client_config(&certs.ca, Some(&device)),
        "client certificate",
    );
    let neg = &r.1.neg;
    // SHA-256 of the device's SPKI, computed by ring (through rustls), not by mote.
    let sha256 = rr::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .unwrap()
        .common
        .hash_provider
        .hash(&device.spki);
    let want: [u8; 32] = sha256.as_ref().try_into().unwrap();
    assert_eq!(neg.client_identity, Some(ClientId::CertificateSpki(want)));
}

#[test]
fn resumption_with_mote_ticket() {
    let (certs, signer) = ecdsa_identity();
    let chain = [certs.cert.as_slice()];
    let keys = [mote::TicketKey {
        id: *b"tk01",
        key: [0x5a; 16],
    }];
    let mut cfg = identity_config(&chain, &signer);
    cfg.ticket_keys = &keys;
    // The same rustls config (and so its session cache) for both connections.
    let r = exchange(
        &cfg,
        client_config(&certs.ca, None),
        &[Script::default(), Script::default()],
        "resumption",
    );
    let (t1, n1) = (&r[0].0, &r[0].1.neg);
    assert_eq!(t1.kind, Some(HandshakeKind::Full));
    assert!(!n1.resumed && !n1.psk, "{n1:?}");
    let (t2, n2) = (&r[1].0, &r[1].1.neg);
    assert_eq!(t2.kind, Some(HandshakeKind::Resumed), "{t2:?}");
    assert!(n2.resumed && n2.psk, "{n2:?}");
    // psk_dhe_ke: resumption keeps forward secrecy.
    assert!(n2.group.is_some(), "{n2:?}");
    assert_eq!(n2.server_signature, None, "{n2:?}");
}

#[test]
fn key_update_from_rustls() {
    let (certs, signer) = ecdsa_identity();
    let chain = [certs.cert.as_slice()];
    let cfg = identity_config(&chain, &signer);
    // Each line after the first follows a KeyUpdate with update_requested: the server must
    // take the client's new keys and answer with new keys of its own that rustls reads.
    let r = exchange(
        &cfg,
        client_config(&certs.ca, None),
        &[Script {
            key_updates: true,
            server_closes: false,
        }],
        "key update",
    );
    // The server's answers (RFC 8446 section 4.6.3: update_requested obliges the receiver
    // to send a KeyUpdate of its own) are protected records of 5 + 4 + 1 + 1 + 16 bytes
    // (no ticket keys: no NewSessionTicket; every `ack` line is longer).
    let key_updates = r[0].1.written.iter().filter(|&&w| w == (23, 27)).count();
    assert_eq!(key_updates, 2, "{:?}", r[0].1.written);
}

#[test]
fn close_notify_from_either_side() {
    let (certs, signer) = ecdsa_identity();
    let chain = [certs.cert.as_slice()];
    let cfg = identity_config(&chain, &signer);
    // rustls closes first and reads the server's answering close_notify; then the server
    // closes first (after `bye`) and reads rustls' answer. `exchange` checks both.
    exchange(
        &cfg,
        client_config(&certs.ca, None),
        &[
            Script::default(),
            Script {
                key_updates: false,
                server_closes: true,
            },
        ],
        "close_notify",
    );
}
