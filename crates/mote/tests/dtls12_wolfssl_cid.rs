//! RFC 9146 connection IDs against a real peer that implements them: wolfSSL 5.9.4's example
//! DTLS server and client (`--cid`), built by interop/wolfssl/build.sh into
//! target/wolfssl/bin (./scripts/test runs it when they are missing). wolfSSL is GPL: it is
//! only ever a separate process here, never linked into mote.
//!
//! Every connection goes through a UDP relay in the test, which keeps a copy of each
//! datagram, so the test sees what went on the wire: after the handshake's epoch 0, every
//! record both ways must be a tls12_cid record (content type 25) carrying the CID the
//! receiver asked for, and wolfSSL must have accepted mote's (and mote wolfSSL's) records:
//! data goes both ways through them.
//!
//! The examples' PSK is fixed: identity `Client_identity`, key 0x1a2b3c4d (wolfssl/test.h).
//! Their `--cid STRING` is the CID they want to receive records with.

mod common;

use common::{require_tool, Peer, Pki};
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::{DtlsSocket, OsRng};
use mote_wire::CipherSuite;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PSK_ID: &[u8] = b"Client_identity";
const PSK_KEY: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// tls12_cid (RFC 9146 section 4).
const TLS12_CID: u8 = 25;

/// target/wolfssl of the workspace.
fn wolfssl_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/wolfssl")
}

/// target/wolfssl/bin/`name`; a failure naming how to build it if it is not there.
fn wolfssl_bin(name: &str) -> PathBuf {
    let p = wolfssl_dir().join("bin").join(name);
    assert!(
        p.is_file() && wolfssl_dir().join("run/certs/dh2048.pem").is_file(),
        "wolfSSL's example {name} is missing at {}: run interop/wolfssl/build.sh (./scripts/test \
         does when it is missing); it needs the Debian packages build-essential, autoconf, \
         automake and libtool, and cargo to fetch the crate wolfssl-sys that carries \
         wolfSSL's source",
        p.display()
    );
    p
}

/// A wolfSSL example (`server` or `client`) with DTLS 1.2 (`-u -v 3`) and `args`, run in
/// target/wolfssl/run (the examples look for a certs/ directory from where they run), its
/// stdout line-buffered by `stdbuf` (what it prints comes as it happens, not at exit).
fn wolfssl(name: &str, args: &[&str]) -> Peer {
    let bin = wolfssl_bin(name);
    require_tool("stdbuf", "coreutils");
    Peer::spawn(
        Command::new("stdbuf")
            .arg("-oL")
            .arg(bin)
            .current_dir(wolfssl_dir().join("run"))
            .args(["-u", "-v", "3"])
            .args(args),
    )
}

/// The wolfSSL example server on an ephemeral port (`-p 0`, learnt from its ready file);
/// waits until it listens.
fn wolfssl_server(tag: &str, args: &[&str]) -> (Peer, u16) {
    let ready =
        std::env::temp_dir().join(format!("mote-wolfssl-{tag}-{}.ready", std::process::id()));
    let _ = std::fs::remove_file(&ready);
    let ready_s = ready.to_string_lossy().into_owned();
    let mut a = vec!["-p", "0", "-R", &ready_s];
    a.extend_from_slice(args);
    let p = wolfssl("server", &a);
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        if let Some(port) = std::fs::read_to_string(&ready)
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
        {
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "wolfSSL's server did not start: {}",
            p.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_file(&ready);
    (p, port)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

/// The datagrams a relay passed on, in order.
type Seen = Arc<Mutex<Vec<(Dir, Vec<u8>)>>>;

/// A UDP relay on 127.0.0.1 between one client and `server`, keeping every datagram.
struct Relay {
    addr: SocketAddr,
    seen: Seen,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(server: SocketAddr) -> Relay {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut client: Option<SocketAddr> = None;
            let mut buf = [0u8; 65536];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let d = buf[..n].to_vec();
                if from == server {
                    if let Some(c) = client {
                        let _ = sock.send_to(&d, c);
                    }
                    seen2.lock().unwrap().push((Dir::ToClient, d));
                } else {
                    client = Some(from);
                    let _ = sock.send_to(&d, server);
                    seen2.lock().unwrap().push((Dir::ToServer, d));
                }
            }
        });
        Relay {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn datagrams(&self) -> Vec<(Dir, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One DTLS 1.2 record header (RFC 6347 section 4.1; RFC 9146 section 4 for type 25).
#[derive(Debug)]
struct Record {
    content_type: u8,
    epoch: u16,
    cid: Option<Vec<u8>>,
}

/// The records of a datagram; `cid_len` is the length of the CID records of this direction
/// carry (the receiver's: it is not on the wire).
fn records(mut d: &[u8], cid_len: usize) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    while !d.is_empty() {
        if d.len() < 13 {
            return Err(format!("short record header: {d:02x?}"));
        }
        let content_type = d[0];
        let epoch = u16::from_be_bytes([d[3], d[4]]);
        let (cid, rest) = if content_type == TLS12_CID {
            if d.len() < 11 + cid_len + 2 {
                return Err(format!("short tls12_cid header: {d:02x?}"));
            }
            (Some(d[11..11 + cid_len].to_vec()), &d[11 + cid_len..])
        } else {
            (None, &d[11..])
        };
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len {
            return Err(format!("record longer than its datagram: {d:02x?}"));
        }
        out.push(Record {
            content_type,
            epoch,
            cid,
        });
        d = &rest[2 + len..];
    }
    Ok(out)
}

/// The point of the test: on the wire, epoch 0 has plain records, and every record of a
/// later epoch is tls12_cid with the CID its receiver asked for (`to_server_cid`: the
/// server's, `to_client_cid`: the client's). At least `min_protected` such records each way.
fn assert_cid_records(
    relay: &Relay,
    to_server_cid: &[u8],
    to_client_cid: &[u8],
    min_protected: usize,
    peer: &Peer,
) {
    let mut protected = [0usize; 2];
    for (i, (dir, d)) in relay.datagrams().iter().enumerate() {
        let (cid, k) = match dir {
            Dir::ToServer => (to_server_cid, 0),
            Dir::ToClient => (to_client_cid, 1),
        };
        let recs = records(d, cid.len())
            .unwrap_or_else(|e| panic!("datagram {i} {dir:?}: {e}\nwolfSSL: {}", peer.output()));
        for r in recs {
            if r.epoch == 0 {
                assert_ne!(
                    r.content_type, TLS12_CID,
                    "datagram {i} {dir:?}: tls12_cid in epoch 0: {d:02x?}"
                );
                continue;
            }
            assert_eq!(
                r.content_type, TLS12_CID,
                "datagram {i} {dir:?}: a record of epoch {} is not tls12_cid: {d:02x?}",
                r.epoch
            );
            assert_eq!(
                r.cid.as_deref(),
                Some(cid),
                "datagram {i} {dir:?}: wrong CID: {d:02x?}"
            );
            protected[k] += 1;
        }
    }
    assert!(
        protected[0] >= min_protected && protected[1] >= min_protected,
        "too few tls12_cid records (to the server, to the client): {protected:?}"
    );
}

/// A CID as the examples print it (printBuffer in wolfssl/test.h: `%x` per byte, unpadded).
fn wolfssl_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:x}")).collect()
}

/// mote's client (CID 01020304) through the relay to wolfSSL's server (`server_args`, CID
/// `server_cid`): handshake, a line each way, close_notify; checks the records.
fn client_case(
    tag: &str,
    cfg: &DtlsClientConfig<'_>,
    server_args: &[&str],
    server_cid: &str,
) -> mote::DtlsNegotiated {
    let client_cid = cfg.connection_id.expect("the client offers a CID");
    let mut args = server_args.to_vec();
    args.extend_from_slice(&["--cid", server_cid]);
    let (server, port) = wolfssl_server(tag, &args);
    let relay = Relay::start(SocketAddr::from(([127, 0, 0, 1], port)));

    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let c = DtlsClient::new(RustCrypto, cfg, &mut OsRng, now, &mut rx, 4096, &mut tx).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(relay.addr).unwrap();
    let mut s = DtlsSocket::connect(c, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\nwolfSSL: {}", server.output()));
    let n = s.client().negotiated();
    assert_eq!(
        n.peer_cid_len,
        Some(server_cid.len() as u8),
        "mote did not agree wolfSSL's CID\nwolfSSL: {}",
        server.output()
    );
    // wolfSSL prints the CID it sends with: mote's.
    assert!(
        server.wait_for("CID extension was negotiated", 5)
            && server.wait_for(&format!("Sending CID is {}", wolfssl_hex(client_cid)), 5),
        "wolfSSL did not agree mote's CID: {}",
        server.output()
    );

    s.send(b"reading 21.5").unwrap();
    assert!(
        server.wait_for("Client message: reading 21.5", 10),
        "wolfSSL did not take mote's tls12_cid record: {}",
        server.output()
    );
    let mut buf = [0u8; 256];
    let got = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\nwolfSSL: {}", server.output()))
        .unwrap_or_else(|| panic!("no answer from wolfSSL\nwolfSSL: {}", server.output()));
    assert!(
        buf[..got].starts_with(b"I hear you fa shizzle!"),
        "wolfSSL's answer: {:?}",
        String::from_utf8_lossy(&buf[..got])
    );
    s.close().unwrap();
    // Let the server finish (it sends its own close_notify and exits): all its records pass.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut server = server;
    while server.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    // Finished, the line and close_notify to the server; Finished and the answer back.
    assert_cid_records(&relay, server_cid.as_bytes(), client_cid, 2, &server);
    n
}

fn psk_client_cfg<'a>(suites: &'a [CipherSuite], cid: &'a [u8]) -> DtlsClientConfig<'a> {
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = suites;
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID,
        key: &PSK_KEY,
        hash: HashAlgorithm::Sha256,
    });
    cfg.connection_id = Some(cid);
    cfg
}

#[test]
fn mote_client_psk_ccm_8_with_wolfssl_server() {
    let suites = [CipherSuite(0xc0a8)];
    let cfg = psk_client_cfg(&suites, &[1, 2, 3, 4]);
    let n = client_case(
        "psk-ccm8",
        &cfg,
        &["-s", "-l", "PSK-AES128-CCM-8"],
        "ABCDEFGH",
    );
    assert_eq!(n.suite, Some(CipherSuite(0xc0a8)));
    assert!(n.psk);
}

#[test]
fn mote_client_psk_ccm_with_wolfssl_server() {
    // AES-128-CCM with its 16-byte tag; a 1-byte CID from wolfSSL.
    let suites = [CipherSuite(0xc0a4)];
    let cfg = psk_client_cfg(&suites, &[1, 2, 3, 4]);
    let n = client_case("psk-ccm", &cfg, &["-s", "-l", "PSK-AES128-CCM"], "w");
    assert_eq!(n.suite, Some(CipherSuite(0xc0a4)));
}

#[test]
fn mote_client_ecdhe_ecdsa_ccm_8_with_wolfssl_server() {
    require_tool("openssl", "openssl");
    const NAME: &str = "sensor.example";
    let pki = Pki::new("wolfssl-cid", "ec", NAME);
    let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
    let suites = [CipherSuite(0xc0ae)];
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = &suites;
    cfg.server_name = Some(NAME);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse(NAME),
    });
    cfg.connection_id = Some(&[1, 2, 3, 4]);
    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let n = client_case(
        "ecdsa-ccm8",
        &cfg,
        // -d: no client certificate asked for.
        &[
            "-d",
            "-c",
            &cert,
            "-k",
            &key,
            "-l",
            "ECDHE-ECDSA-AES128-CCM-8",
        ],
        "ABCDEFGH",
    );
    assert_eq!(n.suite, Some(CipherSuite(0xc0ae)));
    assert!(!n.psk);
}

#[test]
fn wolfssl_client_with_mote_server() {
    let server_cid: &[u8] = &[9, 9, 9];
    let client_cid = "wolf";
    let psks = [ExternalPsk {
        identity: PSK_ID,
        key: &PSK_KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let suites = [CipherSuite(0xc0a8)];
    let mut scfg = mote::DtlsServerConfig::new();
    scfg.cipher_suites = &suites;
    scfg.psks = &psks;
    scfg.connection_id = Some(server_cid);

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let relay = Relay::start(sock.local_addr().unwrap());
    let relay_port = relay.addr.port().to_string();
    let client = wolfssl(
        "client",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &relay_port,
            "-s",
            "-l",
            "PSK-AES128-CCM-8",
            "--cid",
            client_cid,
        ],
    );
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let s = mote::DtlsServer::new(RustCrypto, &scfg, now, &mut rx, 1024, &mut tx).unwrap();
    let mut s = mote_std::DtlsServerSocket::accept(&RustCrypto, &[9; 32], s, sock)
        .unwrap_or_else(|e| panic!("handshake failed: {e}\nwolfSSL: {}", client.output()));
    let n = s.server().negotiated();
    assert_eq!(n.suite, Some(CipherSuite(0xc0a8)));
    assert_eq!(n.psk, Some(0));
    assert_eq!(
        n.peer_cid_len,
        Some(client_cid.len() as u8),
        "mote did not agree wolfSSL's CID\nwolfSSL: {}",
        client.output()
    );
    assert!(
        client.wait_for("CID extension was negotiated", 5)
            && client.wait_for(&format!("Sending CID is {}", wolfssl_hex(server_cid)), 5),
        "wolfSSL did not agree mote's CID: {}",
        client.output()
    );

    let mut buf = [0u8; 256];
    let got = s
        .recv(&mut buf, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("recv: {e}\nwolfSSL: {}", client.output()))
        .unwrap_or_else(|| panic!("nothing from wolfSSL\nwolfSSL: {}", client.output()));
    assert!(
        buf[..got].starts_with(b"hello wolfssl!"),
        "wolfSSL's line: {:?}",
        String::from_utf8_lossy(&buf[..got])
    );
    s.send(b"ack from mote").unwrap();
    assert!(
        client.wait_for("ack from mote", 10),
        "wolfSSL did not take mote's tls12_cid record: {}",
        client.output()
    );
    // wolfSSL's client then sends close_notify, also a tls12_cid record.
    let got = s
        .recv(&mut buf, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("recv: {e}\nwolfSSL: {}", client.output()));
    assert_eq!(got, Some(0), "close_notify from wolfSSL");
    s.close().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_cid_records(&relay, server_cid, client_cid.as_bytes(), 2, &client);
}
