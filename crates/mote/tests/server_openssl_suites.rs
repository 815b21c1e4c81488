//! mote's Server against `openssl s_client -tls1_3` (Debian package `openssl`) on
//! 127.0.0.1, one external-PSK handshake per TLS 1.3 cipher suite mote implements, and the
//! key log: the secrets s_client writes with `-keylogfile` must be those mote's
//! `ServerConfig::key_log` reports for the same connection, named by the ClientHello.random
//! seen on the wire. Each connection carries lines both ways (the server answers each line
//! with `ack <line>`, and closes after `bye`).
//!
//! s_client's `-psk` binds the key to SHA-256 (it builds its PSK session with
//! TLS_AES_128_GCM_SHA256), so it can never be used with TLS_AES_256_GCM_SHA384. For that
//! suite the test writes an SSL_SESSION (DER, turned into PEM by `openssl sess_id`) whose
//! cipher is TLS_AES_256_GCM_SHA384 and passes it with `-psk_session`.

mod common;

use common::tls_serve::identity_config;
use common::{require_tool, serve_echo, Echoed, OsRng, Peer, Pki, Recording};
use mote::{ExternalPsk, KeyLog, Negotiated, Server, ServerConfig, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{HashAlgorithm, SuiteInfo};
use mote_wire::CipherSuite;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const ID_SHA256: &str = "sensor-0256";
const ID_SHA384: &str = "sensor-0384";
const NAME: &str = "collector.example";
/// The secrets a TLS 1.3 handshake without early data logs.
const LABELS: [&str; 5] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A key log line: label, client random, secret.
type Line = (String, [u8; 32], Vec<u8>);

/// mote's key log, in the order the engine logged the secrets.
#[derive(Default)]
struct Logged(Mutex<Vec<Line>>);

impl KeyLog for Logged {
    fn log(&self, label: &str, client_random: &[u8; 32], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((label.into(), *client_random, secret.to_vec()));
    }
}

/// What the server saw of one connection.
struct Served {
    echo: Echoed,
    neg: Negotiated,
    /// ClientHello.random as it arrived on the wire.
    wire_random: [u8; 32],
    psk_identity: Option<String>,
}

fn serve_one(listener: &TcpListener, cfg: &ServerConfig<'_>) -> Result<Served, String> {
    let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sock = Recording::new(sock);
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut s = Server::new(RustCrypto, cfg, &mut OsRng, now, &mut rx, &mut tx)
        .map_err(|e| e.to_string())?;
    let echo = serve_echo(&mut s, &mut sock)?;
    // Record header (5), handshake header (4), legacy_version (2), then the random.
    let wire_random = sock.read[11..43].try_into().unwrap();
    assert_eq!(
        sock.read[0], 22,
        "the first record is not a handshake record"
    );
    assert_eq!(sock.read[5], 1, "the first message is not a ClientHello");
    Ok(Served {
        echo,
        neg: *s.negotiated(),
        wire_random,
        psk_identity: s
            .client_psk_identity()
            .map(|i| String::from_utf8_lossy(i).into_owned()),
    })
}

/// Runs s_client with `args` (and a key log) against one mote connection with `cfg`;
/// checks the echo both ways and the key log; returns s_client and what the server saw.
fn run(cfg: &ServerConfig<'_>, dir: &std::path::Path, args: &[&str], what: &str) -> (Peer, Served) {
    require_tool("openssl", "openssl");
    let log = Logged::default();
    let mut cfg = *cfg;
    cfg.key_log = Some(&log);
    let keylog = dir.join(format!("keylog-{what}.txt"));
    let _ = std::fs::remove_file(&keylog);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Peer::spawn(
        Command::new("openssl")
            .args(["s_client", "-tls1_3", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-keylogfile")
            .arg(&keylog)
            .args(args),
    );
    let lines = [
        format!("[{{\"n\":\"temperature\",\"v\":21.4,\"case\":\"{what}\"}}]"),
        format!("[{{\"n\":\"humidity\",\"v\":40,\"case\":\"{what}\"}}]"),
    ];
    // After the readings, `bye`: the server answers it and sends close_notify.
    client.stdin(&format!("{}\n{}\nbye\n", lines[0], lines[1]));
    let served = serve_one(&listener, &cfg)
        .unwrap_or_else(|e| panic!("{what}: {e}\ns_client said:\n{}", client.output()));
    let mut want: Vec<String> = lines.to_vec();
    want.push("bye".into());
    assert_eq!(served.echo.lines, want, "{what}");
    assert!(served.echo.server_closed_first, "{what}");
    for l in &want {
        assert!(
            client.wait_for(&format!("ack {l}"), 10),
            "{what}: s_client did not print `ack {l}`:\n{}",
            client.output()
        );
    }
    // s_client writes the key log as the handshake goes; it is complete once the answers
    // are printed.
    check_key_log(&log, &served, &keylog, what);
    (client, served)
}

/// mote logged each of [`LABELS`] once, under the ClientHello.random from the wire, and
/// s_client's key log holds the same secrets for that random.
fn check_key_log(log: &Logged, served: &Served, keylog: &std::path::Path, what: &str) {
    let ours = log.0.lock().unwrap();
    let mut mote: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (label, random, secret) in ours.iter() {
        assert_eq!(
            random, &served.wire_random,
            "{what}: {label} logged under another random"
        );
        assert!(
            mote.insert(label.clone(), secret.clone()).is_none(),
            "{what}: {label} logged twice"
        );
    }
    let labels: Vec<&str> = mote.keys().map(String::as_str).collect();
    let mut want = LABELS.to_vec();
    want.sort();
    assert_eq!(labels, want, "{what}: labels mote logged");
    let suite = SuiteInfo::of(served.neg.suite.unwrap()).unwrap();
    let len = suite.hash.output_len();
    assert!(
        mote.values().all(|s| s.len() == len),
        "{what}: secret lengths"
    );

    let text = std::fs::read_to_string(keylog)
        .unwrap_or_else(|e| panic!("{what}: s_client wrote no key log {keylog:?}: {e}"));
    let random = hex(&served.wire_random);
    let mut theirs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 3, "{what}: key log line {line:?}");
        assert_eq!(
            f[1].to_lowercase(),
            random,
            "{what}: key log line for another random"
        );
        theirs.insert(f[0].to_string(), unhex(f[2]));
    }
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        mote.keys().collect::<Vec<_>>(),
        "{what}: labels s_client logged\n{text}"
    );
    for (label, secret) in &mote {
        assert_eq!(
            hex(&theirs[label]),
            hex(secret),
            "{what}: {label} differs between s_client and mote"
        );
    }
}

/// A DER length.
fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        128..=255 => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(body.len()));
    v.extend_from_slice(body);
    v
}

fn der_uint(n: u64) -> Vec<u8> {
    let mut b: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|&x| x == 0)
        .collect();
    if b.first().is_none_or(|&x| x & 0x80 != 0) {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}

/// An OpenSSL SSL_SESSION in PEM carrying `psk` as an external PSK for `suite` (the
/// SSL_SESSION_ASN1 sequence of ssl/ssl_asn1.c: version 1, TLS 1.3, the suite, an empty
/// session id, the key as master_key, [1] time, [2] timeout), converted and so checked by
/// `openssl sess_id`.
fn psk_session(dir: &std::path::Path, suite: CipherSuite, psk: &[u8]) -> String {
    let mut body = der_uint(1);
    body.extend(der_uint(0x0304));
    body.extend(tlv(0x04, &suite.0.to_be_bytes()));
    body.extend(tlv(0x04, &[]));
    body.extend(tlv(0x04, psk));
    body.extend(tlv(0xa1, &der_uint(mote_std::unix_time())));
    body.extend(tlv(0xa2, &der_uint(7200)));
    let der = dir.join("psk-session.der");
    std::fs::write(&der, tlv(0x30, &body)).unwrap();
    let pem = dir.join("psk-session.pem");
    let o = Command::new("openssl")
        .args(["sess_id", "-inform", "DER", "-in"])
        .arg(&der)
        .arg("-out")
        .arg(&pem)
        .output()
        .expect("openssl is missing: install the Debian package `openssl`");
    assert!(
        o.status.success(),
        "openssl sess_id: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    pem.to_string_lossy().into_owned()
}

/// A scratch directory removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("mote-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn psk_with_each_tls13_suite() {
    require_tool("openssl", "openssl");
    let dir = Scratch::new("openssl-suites");
    let key = unhex(PSK_HEX);
    let psks = [
        ExternalPsk {
            identity: ID_SHA256.as_bytes(),
            key: &key,
            hash: HashAlgorithm::Sha256,
        },
        ExternalPsk {
            identity: ID_SHA384.as_bytes(),
            key: &key,
            hash: HashAlgorithm::Sha384,
        },
    ];
    let mut cfg = ServerConfig::new();
    cfg.psks = &psks;
    // Every suite mote implements for TLS 1.3 (the build's full list).
    assert_eq!(SuiteInfo::TLS13.len(), 5, "{:?}", SuiteInfo::TLS13);
    let mut seen = Vec::new();
    for suite in SuiteInfo::TLS13 {
        let info = SuiteInfo::of(suite).unwrap();
        let name = suite
            .name()
            .unwrap_or_else(|| panic!("{suite:?} has no name"));
        // The CCM suites are off in OpenSSL's default list; naming them enables them.
        let mut args = vec!["-ciphersuites", name];
        let session;
        let id = if info.hash == HashAlgorithm::Sha384 {
            session = psk_session(&dir.0, suite, &key);
            args.extend(["-psk_session", &session, "-psk_identity", ID_SHA384]);
            ID_SHA384
        } else {
            args.extend(["-psk", PSK_HEX, "-psk_identity", ID_SHA256]);
            ID_SHA256
        };
        let (client, served) = run(&cfg, &dir.0, &args, name);
        let out = client.output();
        assert!(out.contains(&format!("Cipher is {name}")), "{name}: {out}");
        let neg = served.neg;
        assert_eq!(neg.suite, Some(suite), "{name}: {neg:?}");
        assert!(neg.psk && !neg.resumed, "{name}: {neg:?}");
        // s_client offers psk_dhe_ke only.
        assert!(neg.group.is_some(), "{name}: {neg:?}");
        assert_eq!(served.psk_identity.as_deref(), Some(id), "{name}");
        assert_eq!(neg.server_signature, None, "{name}");
        seen.push(name);
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn key_log_of_a_certificate_handshake() {
    let pki = Pki::new("openssl-keylog", "ec", NAME);
    let (leaf, signer) = pki.ecdsa_leaf_and_signer();
    let chain = [leaf.as_slice()];
    let mut cfg = identity_config(&chain, &signer);
    // A SHA-384 suite first, so that the secrets are 48 bytes.
    cfg.cipher_suites = &[
        CipherSuite::TLS_AES_256_GCM_SHA384,
        CipherSuite::TLS_AES_128_GCM_SHA256,
    ];
    let ca = pki.path("ca.pem");
    let (client, served) = run(
        &cfg,
        &pki.dir,
        &["-CAfile", &ca, "-servername", NAME, "-verify_return_error"],
        "certificate",
    );
    let out = client.output();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert_eq!(
        served.neg.suite,
        Some(CipherSuite::TLS_AES_256_GCM_SHA384),
        "{out}"
    );
    assert!(!served.neg.psk);
}
