//! `mote serve --dtls-listen` end to end on 127.0.0.1: readings over DTLS 1.2 from
//! `mote send --dtls`, from `openssl s_client -dtls1_2` (Debian package `openssl`) and from
//! mote's engine in-process (to move a session to another address with a connection ID),
//! the session bound, and the stateless answer to hellos without a cookie.

mod common;

use common::collector::{mote, Collector, PSK_HEX, PSK_ID};
use common::mote::stdout_ok;
use common::openssl::s_client;
use common::tools::{free_udp_port, require, TempDir};
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::OsRng;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn psk() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// mote's DTLS client configuration with the collector's PSK ([`PSK_ID`], `key`).
fn psk_config(key: &[u8]) -> DtlsClientConfig<'_> {
    let mut cfg = DtlsClientConfig::new();
    cfg.psk = Some(ExternalPsk {
        identity: PSK_ID.as_bytes(),
        key,
        hash: HashAlgorithm::Sha256,
    });
    cfg
}

/// A new mote DTLS client of `cfg` (its first flight queued) in the buffers `rx` and `tx`.
fn new_client<'a, 'b>(
    cfg: &'a DtlsClientConfig<'a>,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> DtlsClient<'a, 'b, RustCrypto> {
    DtlsClient::new(RustCrypto, cfg, &mut OsRng, mote_std::now(), rx, 1024, tx).unwrap()
}

/// A PSK collector with DTLS on a free UDP port; that port.
fn collector(dir: &TempDir, extra: &[&str]) -> (Collector, String) {
    let udp = format!("127.0.0.1:{}", free_udp_port());
    let mut a = vec!["--dtls-listen", udp.as_str()];
    a.extend_from_slice(extra);
    let c = Collector::psk(dir, &a);
    assert!(
        c.proc.wait_for_stdout("mote serve: DTLS on", 10),
        "{}",
        c.proc.output()
    );
    (c, udp)
}

fn send_dtls(addr: &str, extra: &[&str]) -> String {
    stdout_ok(
        mote()
            .args([
                "send",
                addr,
                "--dtls",
                "--psk-identity",
                PSK_ID,
                "--psk",
                PSK_HEX,
            ])
            .args(["--device", PSK_ID, "--interval", "0.05"])
            .args(extra),
    )
}

#[test]
fn mote_send_dtls_readings_are_acked_and_stored() {
    let dir = TempDir::new("serve-dtls");
    let (c, udp) = collector(&dir, &[]);
    let out = send_dtls(&udp, &["--ack", "--count", "5"]);
    assert!(
        out.contains("DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8, after HelloVerifyRequest"),
        "{out}"
    );
    assert!(out.contains("5 acknowledged, 0 refused"), "{out}");
    let out = send_dtls(&udp, &["--ack", "--count", "3", "--cid", "--mtu", "256"]);
    assert!(
        out.contains("connection ID (4-byte CID to the server)"),
        "{out}"
    );
    assert!(out.contains("3 acknowledged"), "{out}");
    assert!(
        c.proc.wait_for(" readings answered", 10),
        "{}",
        c.proc.output()
    );
    assert_eq!(
        c.readings(&["--device", PSK_ID]).len(),
        8,
        "{}",
        c.proc.output()
    );
}

#[test]
fn openssl_dtls_client_gets_its_ack() {
    require("openssl", "openssl");
    let dir = TempDir::new("serve-dtls-openssl");
    let (c, udp) = collector(&dir, &[]);
    let mut p = s_client(&[
        "-dtls1_2",
        "-connect",
        &udp,
        "-psk_identity",
        PSK_ID,
        "-psk",
        PSK_HEX,
        "-cipher",
        "PSK-AES128-CCM8",
        "-quiet",
    ]);
    p.send_line(r#"[{"bn":"urn:dev:mote:dev1:","n":"humidity","v":40.5,"seq":41}]"#);
    assert!(
        p.wait_for("ack 41", 10),
        "{}\ncollector: {}",
        p.output(),
        c.proc.output()
    );
    assert_eq!(c.readings(&[]).len(), 1);
}

/// An in-process DTLS client whose datagrams go out through whichever socket the test
/// chooses: the session survives the move only with a connection ID.
struct Roamer<'a> {
    conn: DtlsClient<'a, 'a, RustCrypto>,
}

impl Roamer<'_> {
    fn flush(&mut self, s: &UdpSocket) {
        while !self.conn.transmit().is_empty() {
            s.send(self.conn.transmit()).unwrap();
            self.conn.transmit_done();
        }
    }

    /// Waits (bounded) for one datagram on `s` and feeds it; handles timeouts.
    fn pump(&mut self, s: &UdpSocket, until: Instant) -> bool {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        while Instant::now() < until {
            let buf = self.conn.recv_buf();
            match s.recv(buf) {
                Ok(n) => {
                    let now = UnixTime::from_millis(mote_std::now().as_millis());
                    let _ = self.conn.recv_datagram(n, now, &mut OsRng);
                    self.flush(s);
                    return true;
                }
                Err(_) => {
                    let _ = self.conn.handle_timeout(mote_std::now());
                    self.flush(s);
                }
            }
        }
        false
    }

    /// Sends a reading through `s`; the answer that comes back, if any within 3 s.
    fn reading(&mut self, s: &UdpSocket, seq: u32) -> Option<String> {
        let line = format!(r#"[{{"bn":"urn:dev:mote:dev1:","n":"t","v":{seq},"seq":{seq}}}]"#);
        assert!(self.conn.write(line.as_bytes()).unwrap() > 0);
        self.flush(s);
        let until = Instant::now() + Duration::from_secs(3);
        while self.pump(s, until) {
            if self.conn.has_app_data() {
                let mut b = [0u8; 256];
                let n = self.conn.read(&mut b);
                return Some(String::from_utf8_lossy(&b[..n]).trim_end().to_string());
            }
        }
        None
    }
}

fn roam(with_cid: bool) -> (Vec<Option<String>>, Collector) {
    let dir = TempDir::new(if with_cid {
        "dtls-roam-cid"
    } else {
        "dtls-roam"
    });
    let (c, udp) = collector(&dir, &[]);
    let key = psk();
    let mut cfg = psk_config(&key);
    cfg.connection_id = with_cid.then_some(&[][..]);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let conn = new_client(&cfg, &mut rx, &mut tx);
    let mut r = Roamer { conn };
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(&udp).unwrap();
    r.flush(&a);
    let until = Instant::now() + Duration::from_secs(10);
    while r.conn.status() == Status::Handshaking && r.pump(&a, until) {}
    assert_eq!(r.conn.status(), Status::Connected, "{:?}", r.conn.error());
    assert_eq!(r.conn.negotiated().peer_cid_len.is_some(), with_cid);
    let first = r.reading(&a, 1);
    // The device wakes up behind a new address (a NAT rebinding, another network).
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    b.connect(&udp).unwrap();
    let second = r.reading(&b, 2);
    (vec![first, second], c)
}

#[test]
fn a_session_with_a_connection_id_follows_the_client_to_a_new_address() {
    let (answers, c) = roam(true);
    let log = c.proc.output();
    assert_eq!(answers[0].as_deref(), Some("ack 1"), "{log}");
    assert_eq!(answers[1].as_deref(), Some("ack 2"), "{log}");
    assert!(
        c.proc.wait_for("moved to 127.0.0.1:", 5),
        "{}",
        c.proc.output()
    );
}

#[test]
fn without_a_connection_id_a_new_address_is_a_stranger() {
    let (answers, c) = roam(false);
    let log = c.proc.output();
    assert_eq!(answers[0].as_deref(), Some("ack 1"), "{log}");
    // The record from the new address belongs to no session and is no hello: dropped.
    assert_eq!(answers[1], None, "{log}");
    assert!(!log.contains("moved to"), "{log}");
}

#[test]
fn hellos_without_cookies_get_hello_verify_requests_and_no_session() {
    let dir = TempDir::new("dtls-flood");
    let (c, udp) = collector(&dir, &["--max-connections", "4"]);
    // Real hellos from mote's engine, never answered past the HelloVerifyRequest.
    let key = psk();
    let cfg = psk_config(&key);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let conn = new_client(&cfg, &mut rx, &mut tx);
    let hello = conn.transmit().to_vec();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.connect(&udp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut sizes = std::collections::BTreeSet::new();
    for _ in 0..1000 {
        s.send(&hello).unwrap();
        let mut b = [0u8; 512];
        let n = s.recv(&mut b).expect("a HelloVerifyRequest");
        assert_eq!(b[13], 3, "hello_verify_request");
        sizes.insert(n);
    }
    assert_eq!(sizes.len(), 1, "one size of answer: {sizes:?}");
    // No session was made: a real client still gets in, and the log shows no refusal.
    let out = send_dtls(&udp, &["--ack", "--count", "1"]);
    assert!(out.contains("1 acknowledged"), "{out}");
    assert!(
        !c.proc.output().contains("DTLS refused"),
        "{}",
        c.proc.output()
    );
}

#[test]
fn dissect_names_the_connection_ids_of_a_captured_session() {
    let dir = TempDir::new("dtls-cid-capture");
    let (c, udp) = collector(&dir, &[]);
    let port = udp.rsplit_once(':').unwrap().1.to_string();
    let pcap = dir.join("cid.pcap");
    let td = common::capture_live::Tcpdump::start(&pcap, &format!("udp port {port}"));
    let out = send_dtls(&udp, &["--ack", "--count", "2", "--cid"]);
    assert!(out.contains("2 acknowledged"), "{out}");
    td.stop();
    drop(c);
    let d = common::mote::dissect_ok(&pcap);
    // The flow summary names both CIDs, and the protected records carry the server's.
    let summary = d
        .lines()
        .find(|l| l.contains("negotiated DTLS 1.2"))
        .unwrap_or_else(|| panic!("{d}"));
    assert!(summary.contains("TLS_PSK_WITH_AES_128_CCM_8"), "{summary}");
    let server_cid = summary
        .split("server cid ")
        .nth(1)
        .unwrap_or_else(|| panic!("{summary}"))
        .trim();
    assert_eq!(server_cid.len(), 8, "a 4-byte CID: {summary}");
    assert!(summary.contains("client cid "), "{summary}");
    let cid_records = d
        .lines()
        .filter(|l| l.contains(": tls12_cid DTLS 1.2 epoch 1"))
        .count();
    // Finished, two readings, close_notify from the client; the server's Finished and acks.
    assert!(cid_records >= 6, "{cid_records} tls12_cid records: {d}");
    assert!(d.contains(&format!("cid: {server_cid}")), "{d}");
}

#[test]
fn the_session_table_is_bounded_by_max_connections() {
    let dir = TempDir::new("dtls-bound");
    let (c, udp) = collector(&dir, &["--max-connections", "1", "--idle-timeout", "300"]);
    // One device holds the only session open.
    let key = psk();
    let cfg = psk_config(&key);
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut r = Roamer {
        conn: new_client(&cfg, &mut rx, &mut tx),
    };
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(&udp).unwrap();
    r.flush(&a);
    let until = Instant::now() + Duration::from_secs(10);
    while r.conn.status() == Status::Handshaking && r.pump(&a, until) {}
    assert_eq!(r.conn.status(), Status::Connected, "{:?}", r.conn.error());
    // A second device passes the cookie exchange but gets no session: its handshake
    // goes unanswered until it gives up.
    let o = mote()
        .args([
            "send",
            &udp,
            "--dtls",
            "--psk-identity",
            PSK_ID,
            "--psk",
            PSK_HEX,
        ])
        .args(["--count", "1", "--ack", "--retry-for", "1"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        c.proc.wait_for("DTLS refused: 1 sessions open", 5),
        "{}",
        c.proc.output()
    );
    // The first session still works.
    assert_eq!(
        r.reading(&a, 7).as_deref(),
        Some("ack 7"),
        "{}",
        c.proc.output()
    );
}
