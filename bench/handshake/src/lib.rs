//! What the three benchmark clients share: argument parsing, the byte-counting stream
//! wrapper, the PSK both sides know, and PEM loading.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The external PSK the script gives `openssl s_server -psk`.
pub const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
/// The identity the script gives `openssl s_server -psk_identity`.
pub const PSK_IDENTITY: &str = "sensor-0001";
/// The name in the server certificate (SAN DNS) and sent as SNI.
pub const SERVER_NAME: &str = "sensor.example";
/// The application line sent after the handshake; the script looks for it in the server's
/// output to confirm the connection really worked.
pub const APP_LINE: &[u8] = b"bench-handshake: hello from the client\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Cert,
    Psk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    X25519,
    P256,
}

pub struct Args {
    pub port: u16,
    pub mode: Mode,
    pub ca: Option<String>,
    pub group: Group,
    pub psk: Vec<u8>,
    pub psk_identity: String,
}

fn usage(prog: &str, msg: &str) -> ! {
    eprintln!("{prog}: {msg}");
    eprintln!(
        "usage: {prog} --port N --mode cert|psk [--ca CA.pem] [--group x25519|p256] \
         [--psk HEX] [--psk-identity ID]"
    );
    std::process::exit(64)
}

impl Args {
    pub fn parse() -> Args {
        let mut it = std::env::args();
        let prog = it.next().unwrap_or_else(|| "client".into());
        let (mut port, mut mode, mut ca) = (None, None, None);
        let mut group = Group::X25519;
        let mut psk = PSK_HEX.to_string();
        let mut psk_identity = PSK_IDENTITY.to_string();
        while let Some(a) = it.next() {
            let mut val = || {
                it.next()
                    .unwrap_or_else(|| usage(&prog, &format!("{a} needs a value")))
            };
            match a.as_str() {
                "--port" => {
                    port = Some(val().parse().unwrap_or_else(|_| usage(&prog, "bad --port")))
                }
                "--mode" => {
                    mode = Some(match val().as_str() {
                        "cert" => Mode::Cert,
                        "psk" => Mode::Psk,
                        _ => usage(&prog, "--mode is cert or psk"),
                    })
                }
                "--ca" => ca = Some(val()),
                "--group" => {
                    group = match val().as_str() {
                        "x25519" => Group::X25519,
                        "p256" | "P-256" | "secp256r1" => Group::P256,
                        _ => usage(&prog, "--group is x25519 or p256"),
                    }
                }
                "--psk" => psk = val(),
                "--psk-identity" => psk_identity = val(),
                _ => usage(&prog, &format!("unknown argument {a}")),
            }
        }
        let port = port.unwrap_or_else(|| usage(&prog, "--port is required"));
        let mode = mode.unwrap_or_else(|| usage(&prog, "--mode is required"));
        if mode == Mode::Cert && ca.is_none() {
            usage(&prog, "--mode cert needs --ca");
        }
        let psk = hex(&psk).unwrap_or_else(|| usage(&prog, "--psk is not hex"));
        Args {
            port,
            mode,
            ca,
            group,
            psk,
            psk_identity,
        }
    }

    /// The CA certificate (first one in the PEM file), DER.
    pub fn ca_der(&self) -> Vec<u8> {
        let path = self.ca.as_deref().expect("--ca");
        let text =
            std::fs::read(path).unwrap_or_else(|e| fail(&format!("cannot read {path}: {e}")));
        let p = pem::parse(text).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
        p.into_contents()
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Prints the error and exits non-zero.
pub fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}

/// Connects to 127.0.0.1:port (the script waited for the server's ACCEPT), with bounded
/// read and write timeouts.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| fail(&format!("cannot connect to 127.0.0.1:{port}: {e}")));
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.set_nodelay(true);
    s
}

/// Bytes sent and received through a [`Counting`] stream.
#[derive(Default)]
pub struct Counters {
    pub sent: Cell<u64>,
    pub received: Cell<u64>,
}

impl Counters {
    pub fn snapshot(&self) -> (u64, u64) {
        (self.sent.get(), self.received.get())
    }
}

/// A `Read + Write` that counts the bytes that really went through the socket.
pub struct Counting<'c, S> {
    pub inner: S,
    pub counters: &'c Counters,
}

impl<'c, S> Counting<'c, S> {
    pub fn new(inner: S, counters: &'c Counters) -> Self {
        Counting { inner, counters }
    }
}

impl<S: Read> Read for Counting<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counters
            .received
            .set(self.counters.received.get() + n as u64);
        Ok(n)
    }
}

impl<S: Write> Write for Counting<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counters.sent.set(self.counters.sent.get() + n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The one line each client prints on stdout (the script parses it); what was negotiated
/// goes to stderr.
pub fn report(handshake: (u64, u64), negotiated: &str) {
    println!("bytes_sent={} bytes_received={}", handshake.0, handshake.1);
    eprintln!("negotiated: {negotiated}");
}
