//! The TLS 1.3 client against a rustls server running in-process on 127.0.0.1 (rustls with
//! the ring provider, certificates made with rcgen): each signature algorithm and cipher
//! suite rustls has, x25519 and a HelloRetryRequest to secp256r1, a server-initiated
//! KeyUpdate, session tickets, and client authentication required with and without a
//! client certificate. Each case sends readings, reads the server's answer back, and checks
//! what the server saw, not only what the client reports.

mod common;

use mote::{Client, ClientConfig, ClientIdentity, Negotiated, TicketRef, TicketStore};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_std::{Buffers, OsRng, TlsStream};
use mote_wire::{AlertDescription, CipherSuite, NamedGroup, SignatureScheme};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::{ring as rr, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned, SupportedCipherSuite};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const SERVER_NAME: &str = "sensor.example";

/// A CA and certificates it issued, made with rcgen (DER).
#[derive(Clone)]
struct Issued {
    ca: Vec<u8>,
    chain: Vec<Vec<u8>>,
    /// PKCS#8.
    key: Vec<u8>,
}

/// The validity window: from a year ago to two years ahead, from the system clock.
fn validity(p: &mut CertificateParams) {
    let year = 1970 + (mote_std::unix_time() / 31_556_952) as i32;
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

struct Ca {
    key: KeyPair,
    cert: rcgen::Certificate,
}

fn ca(cn: &str) -> Ca {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut p);
    let cert = p.self_signed(&key).unwrap();
    Ca { key, cert }
}

/// A leaf issued by `ca` with key algorithm `alg`, for `eku` (serverAuth or clientAuth).
fn leaf(
    ca: &Ca,
    alg: &'static rcgen::SignatureAlgorithm,
    cn: &str,
    eku: ExtendedKeyUsagePurpose,
) -> Issued {
    let key = KeyPair::generate_for(alg).unwrap();
    let mut p = CertificateParams::new(vec![SERVER_NAME.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    validity(&mut p);
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    Issued {
        ca: ca.cert.der().to_vec(),
        chain: vec![cert.der().to_vec()],
        key: key.serialize_der(),
    }
}

fn server_certs(alg: &'static rcgen::SignatureAlgorithm) -> Issued {
    leaf(
        &ca("mote test CA"),
        alg,
        "server",
        ExtendedKeyUsagePurpose::ServerAuth,
    )
}

/// How the rustls server is set up.
struct ServerSetup {
    suites: Vec<SupportedCipherSuite>,
    groups: Vec<&'static dyn SupportedKxGroup>,
    certs: Issued,
    /// Trust anchor for client certificates: client authentication is then required.
    client_ca: Option<Vec<u8>>,
    tickets: usize,
    /// Send a KeyUpdate (rustls requests the client's too) before answering the first line.
    key_update: bool,
}

impl ServerSetup {
    fn new(certs: Issued) -> ServerSetup {
        let p = rr::default_provider();
        ServerSetup {
            suites: p.cipher_suites,
            groups: p.kx_groups,
            certs,
            client_ca: None,
            tickets: 0,
            key_update: false,
        }
    }
}

/// What the server saw.
#[derive(Debug, Default)]
struct ServerReport {
    lines: Vec<String>,
    suite: Option<u16>,
    group: Option<u16>,
    client_certs: Vec<Vec<u8>>,
    /// Why the server ended the connection, if it was not a clean close_notify.
    error: Option<String>,
    key_update_sent: bool,
}

/// The io::Error's rustls error, as Debug text, or the io::Error.
fn describe(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(r) => format!("{r:?}"),
        None => e.to_string(),
    }
}

/// A rustls server on 127.0.0.1 for one connection: it answers each line `L` with `ack L`
/// and ends with close_notify once the client has sent its own.
fn start_server(setup: ServerSetup) -> (u16, JoinHandle<ServerReport>) {
    let provider = Arc::new(CryptoProvider {
        cipher_suites: setup.suites,
        kx_groups: setup.groups,
        ..rr::default_provider()
    });
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap();
    let builder = match &setup.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(CertificateDer::from(ca.clone())).unwrap();
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    let chain = setup
        .certs
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(setup.certs.key.clone()));
    let mut cfg = builder.with_single_cert(chain, key).unwrap();
    cfg.send_tls13_tickets = setup.tickets;
    let cfg = Arc::new(cfg);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let key_update = setup.key_update;
    let h = std::thread::spawn(move || serve(listener, cfg, key_update));
    (port, h)
}

fn serve(listener: TcpListener, cfg: Arc<ServerConfig>, key_update: bool) -> ServerReport {
    let mut report = ServerReport::default();
    // Bounded accept: the test's client connects at once or has already failed.
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                report.error = Some(format!("no client connected: {e}"));
                return report;
            }
        }
    };
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let conn = ServerConnection::new(cfg).unwrap();
    let mut tls = StreamOwned::new(conn, sock);
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match tls.read(&mut buf) {
            Ok(0) => {
                // close_notify: answer with ours.
                tls.conn.send_close_notify();
                let _ = tls.flush();
                break;
            }
            Ok(n) => n,
            Err(e) => {
                report.error = Some(describe(&e));
                // Send the alert rustls queued, then drain until the client closes: closing
                // with its data unread would make the kernel reset the connection, and the
                // client could lose the alert.
                let _ = tls.conn.complete_io(&mut tls.sock);
                let _ = tls.sock.shutdown(std::net::Shutdown::Write);
                let mut sink = [0u8; 1024];
                while matches!(tls.sock.read(&mut sink), Ok(n) if n > 0) {}
                break;
            }
        };
        if report.suite.is_none() {
            report.suite = tls
                .conn
                .negotiated_cipher_suite()
                .map(|s| u16::from(s.suite()));
            report.group = tls
                .conn
                .negotiated_key_exchange_group()
                .map(|g| u16::from(g.name()));
            report.client_certs = tls
                .conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.to_vec()).collect())
                .unwrap_or_default();
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&pending[..at]).into_owned();
            pending.drain(..=at);
            if key_update && !report.key_update_sent {
                tls.conn.refresh_traffic_keys().unwrap();
                report.key_update_sent = true;
            }
            let answer = format!("ack {line}\n");
            report.lines.push(line);
            if let Err(e) = tls.write_all(answer.as_bytes()).and_then(|_| tls.flush()) {
                report.error = Some(describe(&e));
                return report;
            }
        }
    }
    report
}

/// Tickets handed to the client's store.
#[derive(Default)]
struct Tickets(Mutex<Vec<(CipherSuite, u32, usize)>>);

impl TicketStore for Tickets {
    fn store(&self, t: &TicketRef<'_>) {
        self.0
            .lock()
            .unwrap()
            .push((t.suite, t.lifetime, t.identity.len()));
    }
}

/// What the client saw.
struct ClientReport {
    negotiated: Negotiated,
    answers: Vec<String>,
    /// The engine's error, if the connection failed.
    error: Option<mote::Error>,
    /// The I/O error that stopped the exchange.
    failure: Option<String>,
}

fn anchors(ca: &[u8]) -> Vec<mote_x509::TrustAnchor<'_>> {
    vec![mote_x509::TrustAnchor::from_cert(ca).unwrap()]
}

fn base_config<'a>(anchors: &'a [mote_x509::TrustAnchor<'a>]) -> ClientConfig<'a> {
    let mut cfg = ClientConfig::new();
    cfg.server_name = Some(SERVER_NAME);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors,
        name: mote_x509::ServerName::parse(SERVER_NAME),
    });
    cfg
}

/// Connects through mote_std's blocking stream, sends each line, reads each answer, and
/// closes with close_notify.
fn talk(port: u16, cfg: &ClientConfig<'_>, lines: &[&str]) -> ClientReport {
    let mut bufs = Buffers::full();
    let client = Client::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(mote_std::unix_time()),
        &mut bufs.rx,
        &mut bufs.tx,
    )
    .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = match TlsStream::connect(client, sock) {
        Ok(t) => t,
        Err(e) => {
            return ClientReport {
                negotiated: Negotiated::default(),
                answers: vec![],
                error: None,
                failure: Some(format!("handshake: {e}")),
            }
        }
    };
    let mut answers = Vec::new();
    let mut failure = None;
    'lines: for line in lines {
        if let Err(e) = tls.write_all(format!("{line}\n").as_bytes()) {
            failure = Some(format!("write: {e}"));
            break;
        }
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match tls.read(&mut byte) {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) => answer.push(byte[0]),
                Ok(_) => {
                    failure = Some("server closed before answering".into());
                    break 'lines;
                }
                Err(e) => {
                    failure = Some(format!("read: {e}"));
                    break 'lines;
                }
            }
        }
        answers.push(String::from_utf8_lossy(&answer).into_owned());
    }
    if failure.is_none() {
        if let Err(e) = tls.close() {
            failure = Some(format!("close: {e}"));
        }
    }
    ClientReport {
        negotiated: *tls.client().negotiated(),
        answers,
        error: tls.client().error(),
        failure,
    }
}

const READINGS: [&str; 2] = [
    r#"[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4}]"#,
    r#"[{"bn":"urn:dev:mote:0001:","n":"humidity","u":"%RH","v":48.0}]"#,
];

/// Runs one connection and checks that both readings went through both ways.
fn exchange(setup: ServerSetup, cfg: &ClientConfig<'_>) -> (ClientReport, ServerReport) {
    let (port, server) = start_server(setup);
    let c = talk(port, cfg, &READINGS);
    let s = server.join().unwrap();
    assert!(
        c.failure.is_none() && c.error.is_none(),
        "client: {:?} / {:?}\nserver: {s:?}",
        c.failure,
        c.error
    );
    assert_eq!(s.error, None, "server failed: {s:?}");
    assert_eq!(s.lines, READINGS, "the server did not receive the readings");
    let expected: Vec<String> = READINGS.iter().map(|r| format!("ack {r}")).collect();
    assert_eq!(c.answers, expected, "the client did not read the answers");
    (c, s)
}

#[test]
fn ecdsa_p256_with_x25519() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let a = anchors(&certs.ca);
    let cfg = base_config(&a);
    let mut setup = ServerSetup::new(certs.clone());
    setup.groups = vec![rr::kx_group::X25519];
    let (c, s) = exchange(setup, &cfg);
    assert_eq!(c.negotiated.group, Some(NamedGroup::X25519));
    assert!(!c.negotiated.hello_retry);
    assert_eq!(
        c.negotiated.server_signature,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
    assert_eq!(s.group, Some(NamedGroup::X25519.0));
}

#[test]
fn secp256r1_only_server_sends_hello_retry_request() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let a = anchors(&certs.ca);
    // mote's default: a key share for x25519, secp256r1 offered in supported_groups.
    let cfg = base_config(&a);
    let mut setup = ServerSetup::new(certs.clone());
    setup.groups = vec![rr::kx_group::SECP256R1];
    let (c, s) = exchange(setup, &cfg);
    assert!(c.negotiated.hello_retry, "{:?}", c.negotiated);
    assert_eq!(c.negotiated.group, Some(NamedGroup::SECP256R1));
    assert_eq!(s.group, Some(NamedGroup::SECP256R1.0));
}

#[test]
fn ed25519_certificate() {
    let certs = server_certs(&rcgen::PKCS_ED25519);
    let a = anchors(&certs.ca);
    let cfg = base_config(&a);
    let (c, _) = exchange(ServerSetup::new(certs.clone()), &cfg);
    assert_eq!(
        c.negotiated.server_signature,
        Some(SignatureScheme::ED25519)
    );
}

#[test]
fn each_rustls_suite() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let a = anchors(&certs.ca);
    let cfg = base_config(&a);
    for (theirs, ours) in [
        (
            rr::cipher_suite::TLS13_AES_128_GCM_SHA256,
            CipherSuite::TLS_AES_128_GCM_SHA256,
        ),
        (
            rr::cipher_suite::TLS13_AES_256_GCM_SHA384,
            CipherSuite::TLS_AES_256_GCM_SHA384,
        ),
        (
            rr::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        ),
    ] {
        let mut setup = ServerSetup::new(certs.clone());
        setup.suites = vec![theirs];
        let (c, s) = exchange(setup, &cfg);
        assert_eq!(c.negotiated.suite, Some(ours));
        assert_eq!(s.suite, Some(ours.0), "{ours}");
    }
}

#[test]
fn key_update_from_the_server_then_data_still_flows() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let a = anchors(&certs.ca);
    let cfg = base_config(&a);
    let mut setup = ServerSetup::new(certs.clone());
    setup.key_update = true;
    // The first answer comes under the server's new keys; rustls asks for the client's
    // update too, so the second reading goes under the client's new keys.
    let (_, s) = exchange(setup, &cfg);
    assert!(s.key_update_sent);
}

/// rustls sends tickets only to a client that sent psk_key_exchange_modes with psk_dhe_ke
/// (rustls server/tls13.rs: "Client unwilling to resume, PSK_DHE_KE not offered"), as RFC
/// 8446 section 4.2.9 lets it: a client that wants tickets (a `ticket_store` is configured)
/// has to offer the modes even without a PSK to offer yet.
#[test]
fn new_session_tickets_are_counted_and_stored() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let a = anchors(&certs.ca);
    let store = Tickets::default();
    let mut cfg = base_config(&a);
    cfg.ticket_store = Some(&store);
    let mut setup = ServerSetup::new(certs.clone());
    setup.tickets = 3;
    let (c, _) = exchange(setup, &cfg);
    assert_eq!(c.negotiated.tickets_received, 3, "{:?}", c.negotiated);
    let stored = store.0.lock().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|&(suite, lifetime, len)| suite
        == CipherSuite::TLS_AES_128_GCM_SHA256
        && lifetime > 0
        && len > 0));
}

#[test]
fn client_certificate_required_and_sent() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let client_ca = ca("mote client CA");
    let client = leaf(
        &client_ca,
        &rcgen::PKCS_ECDSA_P256_SHA256,
        "sensor-0001",
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let a = anchors(&certs.ca);
    let signer = EcdsaP256Signer::from_pkcs8_der(&client.key).unwrap();
    let chain: Vec<&[u8]> = client.chain.iter().map(Vec::as_slice).collect();
    let mut cfg = base_config(&a);
    cfg.client_identity = Some(ClientIdentity {
        chain: &chain,
        signer: &signer,
    });
    let mut setup = ServerSetup::new(certs.clone());
    setup.client_ca = Some(client.ca.clone());
    let (c, s) = exchange(setup, &cfg);
    assert!(c.negotiated.client_auth_requested && c.negotiated.client_cert_sent);
    assert_eq!(
        s.client_certs, client.chain,
        "the server did not get the client's certificate"
    );
}

#[test]
fn client_certificate_required_but_none_is_refused() {
    let certs = server_certs(&rcgen::PKCS_ECDSA_P256_SHA256);
    let client_ca = ca("mote client CA");
    let a = anchors(&certs.ca);
    let cfg = base_config(&a);
    let mut setup = ServerSetup::new(certs.clone());
    setup.client_ca = Some(client_ca.cert.der().to_vec());
    let (port, server) = start_server(setup);
    let c = talk(port, &cfg, &READINGS);
    let s = server.join().unwrap();
    // The server refuses the empty Certificate with certificate_required (RFC 8446 4.4.2.4)
    // and never sees a reading.
    assert_eq!(
        s.error.as_deref(),
        Some("NoCertificatesPresented"),
        "server: {s:?}"
    );
    assert!(s.lines.is_empty(), "{s:?}");
    assert!(c.negotiated.client_auth_requested);
    assert!(!c.negotiated.client_cert_sent);
    assert!(c.answers.is_empty());
    assert_eq!(
        c.error,
        Some(mote::Error::AlertReceived(
            AlertDescription::CERTIFICATE_REQUIRED
        )),
        "client: {:?}",
        c.failure
    );
    let f = c.failure.unwrap_or_default();
    assert!(f.contains("certificate_required"), "{f}");
}
