//! `mote bridge` end to end: the test plays the board's side of the serial line (a
//! TcpListener, as QEMU's `-serial tcp:...,server=on` is one; or a pseudo-terminal for a
//! device path), and the server is an echo server or OpenSSL on 127.0.0.1.
//!
//! The OpenSSL tests need the Debian package `openssl` (`./scripts/test` installs it); a
//! missing tool is a failure that names the package, never a skip.

mod common;

use common::mote::{assert_records_mention, dissect_ok, records};
use common::openssl;
use common::proc::Proc;
use common::tools::{free_udp_port, TempDir};
use mote_cli::bridge::slip::{self, Decoded, Decoder};
use mote_cli::input::{self, Format, Transport};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PSK: &str = "00112233445566778899aabbccddeeff";

/// A running `mote bridge` (killed on drop) and what it printed.
struct Bridge(Proc);

impl Bridge {
    fn start(args: &[&str]) -> Bridge {
        Bridge(Proc::start(
            Command::new(env!("CARGO_BIN_EXE_mote"))
                .arg("bridge")
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        ))
    }

    /// Waits (bounded) for the bridge to exit, and for all its output.
    fn wait(&mut self, secs: u64) -> ExitStatus {
        self.0
            .wait_within(secs)
            .unwrap_or_else(|| panic!("the bridge did not stop: {}", self.0.stderr()))
    }

    /// A bridge to `connect` whose serial line is a new listener of the test's, and the
    /// test's (the board's) end of that line once the bridge has connected to it.
    fn with_board(connect: &str, extra: &[&str]) -> (Bridge, TcpStream) {
        let (board, board_addr) = listener();
        let serial = format!("tcp:{board_addr}");
        let bridge =
            Bridge::start(&[&["--serial", &serial, "--connect", connect][..], extra].concat());
        (bridge, accept_within(&board, 10))
    }

    fn stdout(&self) -> String {
        self.0.stdout()
    }

    fn stderr(&self) -> String {
        self.0.stderr()
    }

    fn wait_for_stderr(&self, needle: &str, secs: u64) -> bool {
        self.0.wait_for_stderr(needle, secs)
    }

    fn log(&self) -> String {
        format!("stdout:\n{}stderr:\n{}", self.stdout(), self.stderr())
    }
}

fn tmpdir(tag: &str) -> TempDir {
    TempDir::new(&format!("bridge-{tag}"))
}

fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Accepts one connection, giving up after `secs`.
fn accept_within(l: &TcpListener, secs: u64) -> TcpStream {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "nothing connected within {secs} s"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// A TCP echo server: echoes each connection's bytes, and closes a connection once it has
/// echoed the word "close".
fn tcp_echo_server() -> SocketAddr {
    let (l, addr) = listener();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = s.read(&mut buf) {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if seen.windows(5).any(|w| w == b"close") {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn expect_echo(serial: &mut TcpStream, sent: &[u8]) {
    serial.write_all(sent).unwrap();
    let mut back = vec![0u8; sent.len()];
    serial.read_exact(&mut back).expect("the echo came back");
    assert_eq!(back, sent);
}

/// (client, server, bytes from the client, bytes from the server) of each flow.
type FlowSummary = (Transport, SocketAddr, SocketAddr, Vec<u8>, Vec<u8>);

fn flows(capture: &Path) -> Vec<FlowSummary> {
    let bytes = std::fs::read(capture).expect("the capture exists");
    let loaded = input::load(&bytes, Format::Auto).expect("the capture loads");
    assert_eq!(loaded.format, Format::Pcapng);
    loaded
        .flows
        .iter()
        .map(|f| {
            assert!(f.notes.is_empty(), "{:?}", f.notes);
            let (mut up, mut down) = (Vec::new(), Vec::new());
            for s in &f.segments {
                if s.from_client { &mut up } else { &mut down }.extend_from_slice(&s.data);
            }
            (f.transport, f.client.unwrap(), f.server.unwrap(), up, down)
        })
        .collect()
}

#[test]
fn stream_relays_both_ways_and_reconnects_after_the_server_closes() {
    let dir = tmpdir("stream");
    let cap = dir.join("stream.pcapng");
    let echo = tcp_echo_server();
    let (mut bridge, mut serial) =
        Bridge::with_board(&echo.to_string(), &["--capture", cap.to_str().unwrap()]);
    expect_echo(&mut serial, b"hello board");
    // The echo server closes after this; the bridge must notice before the next bytes.
    expect_echo(&mut serial, b"please close");
    assert!(
        bridge.wait_for_stderr("connection 1: closed by the server", 10),
        "{}",
        bridge.log()
    );
    expect_echo(&mut serial, &[0xc0, 0, 0xff, b'\n']);
    assert!(bridge.wait_for_stderr("connection 2: connected", 10));
    serial.shutdown(Shutdown::Both).unwrap();
    let status = bridge.wait(10);
    assert!(status.success(), "{}", bridge.log());
    let log = bridge.log();
    assert_eq!(
        bridge.stdout(),
        format!(
            "mote bridge: 2 connections to {echo}, 27 bytes from the board, 27 bytes to the \
             board\n"
        ),
        "{log}"
    );
    for line in [
        format!("connection 1: connected to {echo} (captured as 127.0.0.2:49152)"),
        "connection 1: closed by the server: 23 bytes from the board, 23 bytes to the board"
            .to_string(),
        "connection 2: closed by the bridge: 4 bytes from the board, 4 bytes to the board"
            .to_string(),
        "the serial line closed".to_string(),
    ] {
        assert!(log.contains(&line), "{line} missing: {log}");
    }
    let got = flows(&cap);
    drop(dir);
    let expected = [
        (49152, &b"hello boardplease close"[..]),
        (49153, b"\xc0\0\xff\n"),
    ]
    .map(|(port, b)| {
        (
            Transport::Tcp,
            ([127, 0, 0, 2], port).into(),
            echo,
            b.into(),
            b.into(),
        )
    });
    assert_eq!(got, expected);
}

#[test]
fn stream_drops_bytes_while_the_server_is_unreachable() {
    let (closed, closed_addr) = listener();
    drop(closed);
    let (mut bridge, mut serial) = Bridge::with_board(&closed_addr.to_string(), &[]);
    serial.write_all(b"lost").unwrap();
    assert!(
        bridge.wait_for_stderr("4 bytes from the board dropped", 10),
        "{}",
        bridge.log()
    );
    assert!(bridge
        .stderr()
        .contains(&format!("connection 1: cannot connect to {closed_addr}")));
    drop(serial);
    assert!(bridge.wait(10).success(), "{}", bridge.log());
    assert!(
        bridge.stdout().contains("0 connections") && bridge.stdout().contains("4 bytes dropped"),
        "{}",
        bridge.log()
    );
}

/// The bytes of every TCP packet's flags in a capture, with whether the board sent it.
fn tcp_flags(capture: &Path) -> Vec<(bool, u8)> {
    let bytes = std::fs::read(capture).unwrap();
    let mut rest = &bytes[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (after, block) = pcap_parser::parse_block_le(rest).unwrap();
        if let pcap_parser::pcapng::Block::EnhancedPacket(epb) = block {
            let p = &epb.data[..epb.caplen as usize];
            assert_eq!((p[0], p[9]), (0x45, 6), "an IPv4 TCP packet");
            out.push((p[12..16] == [127, 0, 0, 2], p[20 + 13]));
        }
        rest = after;
    }
    out
}

#[test]
fn sigint_stops_the_bridge_with_a_summary_and_a_closed_capture() {
    let dir = tmpdir("sigint");
    let cap = dir.join("sigint.pcapng");
    let echo = tcp_echo_server();
    let (mut bridge, mut serial) =
        Bridge::with_board(&echo.to_string(), &["--capture", cap.to_str().unwrap()]);
    expect_echo(&mut serial, b"ping");
    assert!(bridge.0.interrupt());
    let status = bridge.wait(10);
    assert!(status.success(), "{}", bridge.log());
    assert!(
        bridge.stderr().contains("stopped by signal 2"),
        "{}",
        bridge.log()
    );
    assert!(
        bridge.stdout().contains("1 connection to"),
        "{}",
        bridge.log()
    );
    // SYN, SYN-ACK, ACK, ping, its echo, then the bridge's FIN, the server's, the last ACK.
    let flags = tcp_flags(&cap);
    drop(dir);
    assert_eq!(
        flags,
        [
            (true, 0x02),
            (false, 0x12),
            (true, 0x10),
            (true, 0x18),
            (false, 0x18),
            (true, 0x11),
            (false, 0x11),
            (true, 0x10)
        ]
    );
    drop(serial);
}

/// Starts `openssl s_server` with `args` (and the PSK) and waits until it accepts.
fn s_server(args: &[&str]) -> Proc {
    openssl::start_server(
        openssl::command("s_server")
            .args(args)
            .args(["-nocert", "-psk", PSK, "-psk_identity", "sensor-0001"])
            .args(["-naccept", "1"]),
    )
}

/// Starts `openssl s_client` with `args` (and the PSK), sending `line` once connected.
fn s_client(args: &[&str], line: &str) -> Proc {
    let mut c = openssl::s_client(
        &[
            args,
            &["-psk", PSK, "-psk_identity", "sensor-0001", "-quiet"],
        ]
        .concat(),
    );
    c.send_line(line);
    c
}

/// Waits until `server` printed `reading`, then hangs up the serial line: the bridge must
/// exit 0. Stops the client and the server.
fn delivered(server: Proc, client: Proc, reading: &str, serial: TcpStream, bridge: &mut Bridge) {
    assert!(
        server.wait_for(reading, 15),
        "s_server never printed the reading: {}\n{}",
        server.output(),
        bridge.log()
    );
    serial.shutdown(Shutdown::Both).unwrap();
    assert!(bridge.wait(10).success(), "{}", bridge.log());
    drop(client);
    drop(server);
}

fn relay(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

#[test]
fn stream_carries_an_openssl_tls13_psk_handshake_that_dissects() {
    let dir = tmpdir("tls13");
    let cap = dir.join("tls13.pcapng");
    let server_addr = listener().1.to_string();
    let server = s_server(&["-accept", &server_addr, "-tls1_3"]);
    let (mut bridge, serial) =
        Bridge::with_board(&server_addr, &["--capture", cap.to_str().unwrap()]);
    // The "board" is s_client, whose TCP bytes the test passes over the fake serial line.
    let (client_side, client_addr) = listener();
    let reading = r#"[{"bn":"urn:dev:mote:0001:","n":"temperature","u":"Cel","v":21.4}]"#;
    let client = s_client(&["-connect", &client_addr.to_string(), "-tls1_3"], reading);
    let tls = accept_within(&client_side, 10);
    relay(tls.try_clone().unwrap(), serial.try_clone().unwrap());
    relay(serial.try_clone().unwrap(), tls);
    delivered(server, client, reading, serial, &mut bridge);
    assert!(
        bridge.stdout().contains("1 connection to"),
        "{}",
        bridge.log()
    );
    let out = dissect_ok(&cap);
    assert!(out.contains("negotiated TLS 1.3"), "{out}");
    let recs = records(&out);
    assert!(
        recs.len() > 2 && recs[0].ends_with("client_hello") && recs[1].ends_with("server_hello"),
        "{out}"
    );
}

/// A UDP echo server that also records what it received.
fn udp_echo_server() -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let addr = s.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65_536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            g.lock().unwrap().push(buf[..n].to_vec());
            let _ = s.send_to(&buf[..n], from);
        }
    });
    (addr, got)
}

/// Reads SLIP frames from the serial line until `n` have arrived.
fn read_frames(serial: &mut TcpStream, n: usize) -> Vec<Vec<u8>> {
    let mut d = Decoder::new(65_536);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < n {
        let got = serial.read(&mut buf).expect("frames come back");
        assert!(got > 0, "the bridge closed the serial line");
        for f in d.push(&buf[..got]) {
            match f {
                Decoded::Frame(f) => out.push(f),
                Decoded::Dropped(e) => panic!("the bridge sent a bad frame: {e}"),
            }
        }
    }
    out
}

#[test]
fn udp_relays_slip_frames_as_datagrams_and_back() {
    let dir = tmpdir("udp");
    let cap = dir.join("udp.pcapng");
    let (echo, received) = udp_echo_server();
    let (mut bridge, mut serial) = Bridge::with_board(
        &echo.to_string(),
        &[
            "--udp",
            "--max-frame",
            "64",
            "--capture",
            cap.to_str().unwrap(),
        ],
    );
    let payloads: Vec<Vec<u8>> = vec![
        b"plain reading".to_vec(),
        vec![slip::END, slip::ESC, slip::END],
        vec![slip::ESC, slip::ESC_END, slip::ESC_ESC, 0],
        (0u8..62)
            .map(|i| i.wrapping_mul(67))
            .chain([0xc0, 0xdb])
            .collect(),
    ];
    let mut wire = vec![slip::END, slip::END];
    slip::encode_into(&payloads[0], &mut wire);
    // A frame with an invalid escape, and one past --max-frame: both dropped.
    wire.extend_from_slice(&[b'b', b'a', b'd', slip::ESC, b'x', slip::END]);
    slip::encode_into(&[7; 100], &mut wire);
    for p in &payloads[1..] {
        slip::encode_into(p, &mut wire);
    }
    // Several pieces, cut inside frames and escapes.
    for piece in wire.chunks(7) {
        serial.write_all(piece).unwrap();
    }
    let echoed = read_frames(&mut serial, payloads.len());
    assert_eq!(echoed, payloads, "{}", bridge.log());
    assert_eq!(*received.lock().unwrap(), payloads);
    // Datagrams are numbered in both directions together, in the order the bridge saw them.
    // The bridge's stderr is read by a thread: wait (bounded) for each line to arrive.
    for line in [
        "invalid SLIP escape 0xdb 0x78 after 3 bytes".to_string(),
        "SLIP frame of 100 bytes is larger than the maximum of 64".to_string(),
        format!("datagram 1: board -> {echo}, 13 bytes"),
        format!(": {echo} -> board, 13 bytes"),
    ] {
        assert!(
            bridge.0.wait_for_stderr(&line, 10),
            "{line} missing: {}",
            bridge.stderr()
        );
    }
    serial.shutdown(Shutdown::Both).unwrap();
    assert!(bridge.wait(10).success(), "{}", bridge.log());
    assert_eq!(
        bridge.stdout(),
        format!(
            "mote bridge: 4 datagrams from the board (84 bytes), 4 to the board (84 bytes) via \
             {echo}; frames dropped: 1 with an invalid escape, 1 oversize\n"
        )
    );
    let bytes = std::fs::read(&cap).unwrap();
    drop(dir);
    let loaded = input::load(&bytes, Format::Pcapng).unwrap();
    assert_eq!(loaded.flows.len(), 1);
    let f = &loaded.flows[0];
    assert_eq!(f.transport, Transport::Udp);
    assert_eq!(f.client, Some("127.0.0.2:49152".parse().unwrap()));
    assert_eq!(f.server, Some(echo));
    for from_client in [true, false] {
        let datagrams: Vec<Vec<u8>> = f
            .segments
            .iter()
            .filter(|s| s.from_client == from_client)
            .map(|s| s.data.clone())
            .collect();
        assert_eq!(datagrams, payloads);
    }
}

#[test]
fn udp_carries_an_openssl_dtls12_handshake_that_dissects() {
    let dir = tmpdir("dtls");
    let cap = dir.join("dtls.pcapng");
    let server_addr = format!("127.0.0.1:{}", free_udp_port());
    let server = s_server(&[
        "-dtls1_2",
        "-accept",
        &server_addr,
        "-cipher",
        "PSK-AES128-CCM8",
    ]);
    let (mut bridge, serial) =
        Bridge::with_board(&server_addr, &["--udp", "--capture", cap.to_str().unwrap()]);
    // The "board" is s_client, whose datagrams the test SLIP-frames over the serial line.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let udp_addr = udp.local_addr().unwrap();
    let peer: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    {
        let (udp, peer, mut serial) = (
            udp.try_clone().unwrap(),
            peer.clone(),
            serial.try_clone().unwrap(),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 65_536];
            while let Ok((n, from)) = udp.recv_from(&mut buf) {
                *peer.lock().unwrap() = Some(from);
                if serial.write_all(&slip::encode(&buf[..n])).is_err() {
                    return;
                }
            }
        });
    }
    {
        let (mut serial, peer) = (serial.try_clone().unwrap(), peer.clone());
        std::thread::spawn(move || {
            let mut d = Decoder::new(65_536);
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = serial.read(&mut buf) {
                for f in d.push(&buf[..n]) {
                    let (Decoded::Frame(f), Some(to)) = (f, *peer.lock().unwrap()) else {
                        continue;
                    };
                    let _ = udp.send_to(&f, to);
                }
            }
        });
    }
    let reading = r#"[{"n":"temperature","u":"Cel","v":21.4}]"#;
    let client = s_client(
        &[
            "-dtls1_2",
            "-connect",
            &udp_addr.to_string(),
            "-cipher",
            "PSK-AES128-CCM8",
        ],
        reading,
    );
    delivered(server, client, reading, serial, &mut bridge);
    let out = dissect_ok(&cap);
    assert!(
        out.contains("negotiated DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8"),
        "{out}"
    );
    assert_records_mention(
        &out,
        &[
            "client_hello",
            "hello_verify_request",
            "server_hello",
            "client_key_exchange",
        ],
    );
}

#[cfg(unix)]
#[test]
fn serial_device_path_is_opened_raw_and_relayed() {
    use serialport::SerialPort;
    // A pseudo-terminal stands in for /dev/ttyUSB0: the test holds the master side. `pair`
    // opens it without close-on-exec, so only close-on-exec copies are kept: the bridge must
    // not inherit the master, or closing it here would not hang up the line. (A child that a
    // parallel test spawns in the instant before the originals are closed could still.)
    let (inheritable_master, inheritable_slave) =
        serialport::TTYPort::pair().expect("a pseudo-terminal");
    let mut master = inheritable_master.try_clone_native().unwrap();
    let slave = inheritable_slave.try_clone_native().unwrap();
    drop((inheritable_master, inheritable_slave));
    master.set_timeout(Duration::from_secs(10)).unwrap();
    let echo = tcp_echo_server();
    let path = slave.name().expect("the pty has a name");
    let mut bridge = Bridge::start(&[
        "--serial",
        &path,
        "--baud",
        "9600",
        "--connect",
        &echo.to_string(),
    ]);
    assert!(
        bridge.wait_for_stderr(&format!("serial {path} <->"), 10),
        "{}",
        bridge.log()
    );
    // Bytes a line discipline would eat or rewrite (CR, ^C, ^D, DEL) must pass untouched.
    let sent = b"raw\r\n\x03\x04\x7f\xc0 line";
    master.write_all(sent).unwrap();
    let mut back = Vec::new();
    let mut buf = [0u8; 64];
    while back.len() < sent.len() {
        let n = master
            .read(&mut buf)
            .expect("the echo comes back over the pty");
        back.extend_from_slice(&buf[..n]);
    }
    assert_eq!(back, sent);
    drop(master);
    drop(slave);
    assert!(bridge.wait(10).success(), "{}", bridge.log());
    assert!(
        bridge
            .stdout()
            .contains("14 bytes from the board, 14 bytes to the board"),
        "{}",
        bridge.log()
    );
}

#[test]
fn setup_errors_exit_2_with_a_reason() {
    let (closed, closed_addr) = listener();
    drop(closed);
    let closed_serial = format!("tcp:{closed_addr}");
    // (--serial, --connect, more arguments, the reason expected)
    let cases: [(&str, &str, &[&str], &str); 4] = [
        (
            "/nonexistent/ttyUSB9",
            "127.0.0.1:1",
            &[],
            "cannot open the serial device",
        ),
        (
            &closed_serial,
            "127.0.0.1:1",
            &[],
            "cannot connect to the serial line",
        ),
        (
            "tcp:127.0.0.1:1",
            "no-port-here",
            &[],
            "cannot resolve no-port-here",
        ),
        (
            "tcp:127.0.0.1:1",
            "127.0.0.1:1",
            &["--capture", "/nonexistent/d/x"],
            "cannot create the capture",
        ),
    ];
    for (serial, connect, more, want) in cases {
        let args = [&["--serial", serial, "--connect", connect][..], more].concat();
        let mut bridge = Bridge::start(&args);
        let status = bridge.wait(10);
        assert_eq!(status.code(), Some(2), "{args:?}: {}", bridge.log());
        assert!(bridge.stderr().contains(want), "{args:?}: {}", bridge.log());
        assert_eq!(bridge.stdout(), "", "{args:?}");
    }
}
