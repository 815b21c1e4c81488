//! The DTLS 1.2 peers of the interop tests, both ways round.
//!
//! mote's server, for the tests that drive a real DTLS client against it
//! (dtls12_server_gnutls.rs, dtls12_server_python.rs): a thread that binds 127.0.0.1 on a
//! free port, answers ClientHellos statelessly (HelloVerifyRequest) through
//! `mote_std::DtlsServerSocket::accept`, completes the handshake with the one client whose
//! cookie checked out, reads one line, answers `ack <line>` and waits a little for the
//! client's close_notify.
//!
//! mote's client, for the tests that drive it against a real DTLS server
//! (dtls12_openssl.rs, dtls12_gnutls.rs, dtls12_mbedtls.rs, dtls12_tinydtls.rs): its
//! configurations, its connection over UDP, the Python peers (tests/peers/*.py) it talks to
//! and the line each way they answer. Also the Python of the peers' venv and the test PSK.

use super::{free_port, Peer};
use mote::dtls::ClientRole;
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServerConfig, DtlsServerNegotiated, ExternalPsk, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::HashAlgorithm;
use mote_std::DtlsSocket;
use mote_wire::CipherSuite;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

pub const PSK_ID: &str = "sensor-1";
pub const PSK_HEX: &str = "00112233445566778899aabbccddeeff";
/// The reading each client sends (one SenML pack and a newline).
pub const LINE: &str = "[{\"n\":\"temperature\",\"v\":21.5}]";

pub fn psk_bytes() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The Python with DTLSSocket and python-mbedtls installed (`MOTE_PEERS_PYTHON`, else the
/// venv ./scripts/test makes); a failure naming what to install if there is none.
pub fn peers_python() -> PathBuf {
    let p = std::env::var_os("MOTE_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers-venv/bin/python")
        });
    assert!(
        p.is_file(),
        "no Python for the DTLS peers at {}: run ./scripts/test, which makes the venv \
         target/peers-venv with the PyPI packages DTLSSocket and python-mbedtls (building \
         DTLSSocket needs the Debian packages python3-venv, python3-dev, autoconf, automake, \
         libtool and build-essential), or set MOTE_PEERS_PYTHON to a Python that has them",
        p.display()
    );
    p
}

/// What mote's server authenticates with.
pub enum Credentials {
    /// The test PSK ([`PSK_ID`], [`PSK_HEX`]).
    Psk,
    /// A P-256 certificate chain and key (PEM files, as `Pki` writes them).
    Ecdsa { chain_pem: String, key_pem: String },
}

/// What one served connection gave.
#[derive(Debug)]
pub struct Served {
    pub negotiated: DtlsServerNegotiated,
    pub psk_identity: Option<Vec<u8>>,
    /// The application data of the client's first record.
    pub line: Vec<u8>,
    /// The client's close_notify arrived after the answer.
    pub peer_closed: bool,
}

/// mote's DTLS server on its thread; [`MoteDtlsServer::port`] is where it listens.
pub struct MoteDtlsServer {
    pub port: u16,
    done: mpsc::Receiver<Result<Served, String>>,
}

/// The P-256 signer of the PEM key file `key_pem`.
pub fn ecdsa_signer(key_pem: &str) -> EcdsaP256Signer {
    match mote_std::load_private_key(Path::new(key_pem)).unwrap() {
        mote_std::PrivateKey::Pkcs8(d) => EcdsaP256Signer::from_pkcs8_der(&d).unwrap(),
        mote_std::PrivateKey::Sec1(d) => EcdsaP256Signer::from_sec1_der(&d).unwrap(),
        other => panic!("not a P-256 key: {other:?}"),
    }
}

impl MoteDtlsServer {
    /// Starts the server offering `suites` (in that order) with `creds`.
    pub fn start(creds: Credentials, suites: &[CipherSuite]) -> MoteDtlsServer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let suites = suites.to_vec();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let r = serve(creds, &suites, sock);
            let _ = tx.send(r);
        });
        MoteDtlsServer { port, done }
    }

    /// Waits up to `secs` for the connection to be served; `peer_output` (the client's
    /// output) goes into the failure message.
    pub fn finish(self, secs: u64, peer_output: impl Fn() -> String) -> Served {
        match self.done.recv_timeout(Duration::from_secs(secs)) {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => panic!("mote's server: {e}\nclient:\n{}", peer_output()),
            Err(_) => panic!(
                "mote's server did not finish in {secs} s\nclient:\n{}",
                peer_output()
            ),
        }
    }
}

fn serve(creds: Credentials, suites: &[CipherSuite], sock: UdpSocket) -> Result<Served, String> {
    let key = psk_bytes();
    let psks = [ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let mut cfg = DtlsServerConfig::new();
    cfg.cipher_suites = suites;
    let (chain, signer) = match &creds {
        Credentials::Psk => (Vec::new(), None),
        Credentials::Ecdsa { chain_pem, key_pem } => (
            mote_std::load_certificates(Path::new(chain_pem)).unwrap(),
            Some(ecdsa_signer(key_pem)),
        ),
    };
    let refs: Vec<&[u8]> = chain.iter().map(|c| c.as_slice()).collect();
    match &signer {
        None => cfg.psks = &psks,
        Some(s) => {
            cfg.identity = Some(mote::ServerIdentity {
                chain: &refs,
                signer: s,
            })
        }
    }
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let s = mote::DtlsServer::new(RustCrypto, &cfg, now, &mut rx, 2048, &mut tx)
        .map_err(|e| format!("new: {e}"))?;
    let mut cookie_secret = [0u8; 32];
    mote_crypto::Rng::fill(&mut mote_std::OsRng, &mut cookie_secret).unwrap();
    let mut s = mote_std::DtlsServerSocket::accept(&RustCrypto, &cookie_secret, s, sock)
        .map_err(|e| format!("handshake failed: {e}"))?;
    let mut buf = [0u8; 512];
    let n = s
        .recv(&mut buf, Duration::from_secs(10))
        .map_err(|e| format!("recv: {e}"))?
        .ok_or("no line from the client in 10 s")?;
    let line = buf[..n].to_vec();
    let mut answer = b"ack ".to_vec();
    answer.extend_from_slice(&line);
    s.send(&answer).map_err(|e| format!("send: {e}"))?;
    // The client closes after printing the answer; its close_notify ends the wait.
    let mut peer_closed = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        match s.recv(&mut buf, Duration::from_millis(200)) {
            Ok(Some(0)) => {
                peer_closed = true;
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(Served {
        negotiated: s.server().negotiated(),
        psk_identity: s.server().client_psk_identity().map(<[u8]>::to_vec),
        line,
        peer_closed,
    })
}

// ----------------------------------------------------------------------------- mote's client

/// mote's client offering `suites` with the test PSK `key` ([`PSK_ID`], [`psk_bytes`]).
pub fn psk_client_config<'a>(suites: &'a [CipherSuite], key: &'a [u8]) -> DtlsClientConfig<'a> {
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = suites;
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key,
        hash: HashAlgorithm::Sha256,
    });
    cfg
}

/// mote's client offering `suites` and checking the server's chain against `anchors` and
/// the name `name` (which it also sends as SNI).
pub fn chain_client_config<'a>(
    suites: &'a [CipherSuite],
    anchors: &'a [mote_x509::TrustAnchor<'a>],
    name: &'a str,
) -> DtlsClientConfig<'a> {
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = suites;
    cfg.server_name = Some(name);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors,
        name: mote_x509::ServerName::parse(name),
    });
    cfg
}

/// The receive and send buffers of one client connection, which its socket borrows.
pub struct ClientBuffers {
    rx: Vec<u8>,
    tx: Vec<u8>,
}

impl ClientBuffers {
    pub fn new() -> ClientBuffers {
        ClientBuffers {
            rx: vec![0u8; 8192],
            tx: vec![0u8; 4096],
        }
    }
}

/// A UDP socket on 127.0.0.1 connected to 127.0.0.1:`port`.
pub fn udp_to(port: u16) -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.connect(("127.0.0.1", port)).unwrap();
    s
}

/// mote's client with `cfg` after its handshake with the server on 127.0.0.1:`port`; a
/// failed handshake panics with the output of `server` (called `name`).
pub fn connect_client<'a, 'b>(
    cfg: &'a DtlsClientConfig<'a>,
    bufs: &'b mut ClientBuffers,
    port: u16,
    server: &Peer,
    name: &str,
) -> DtlsSocket<'b, ClientRole<'a, RustCrypto>> {
    let now = UnixTime::from_secs(mote_std::unix_time());
    let c = DtlsClient::new(
        RustCrypto,
        cfg,
        &mut mote_std::OsRng,
        now,
        &mut bufs.rx,
        4096,
        &mut bufs.tx,
    )
    .unwrap();
    DtlsSocket::connect(c, udp_to(port))
        .unwrap_or_else(|e| panic!("handshake failed: {e}\n{name}: {}", server.output()))
}

/// tests/peers/`script` (a Python DTLS server) on a free port with `args`, waiting until it
/// listens; a failure names the PyPI `package` it needs.
pub fn python_server(script: &str, args: &[&str], package: &str) -> (Peer, u16) {
    let python = peers_python();
    // A free TCP port is very likely a free UDP port too.
    let port = free_port();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(script);
    let p = Peer::spawn(
        Command::new(&python)
            .arg("-u")
            .arg(&path)
            .args(["--port", &port.to_string()])
            .args(args),
    );
    assert!(
        p.wait_for("listening", 10),
        "{script} did not start (the venv needs the PyPI package {package}; \
         ./scripts/test installs it): {}",
        p.output()
    );
    (p, port)
}

/// A line each way with a Python peer (`name`): [`LINE`] goes out, the peer prints
/// `received: <line>` and answers `ack <line>`.
pub fn python_line_each_way(
    s: &mut DtlsSocket<'_, ClientRole<'_, RustCrypto>>,
    server: &Peer,
    name: &str,
) {
    let line = format!("{LINE}\n");
    s.send(line.as_bytes()).unwrap();
    assert!(
        server.wait_for(&format!("received: {LINE}"), 5),
        "{name} did not print the line: {}",
        server.output()
    );
    let mut buf = [0u8; 512];
    let got = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\n{name}: {}", server.output()))
        .unwrap_or_else(|| panic!("no answer\n{name}: {}", server.output()));
    assert_eq!(
        &buf[..got],
        [&b"ack "[..], line.as_bytes()].concat(),
        "{name}' answer"
    );
}
