//! A man-in-the-middle on 127.0.0.1 between mote's client and a real server. It reads TLS
//! records, tampers with the server's first flight as told, and reports the alert the client
//! sends back, decrypting it when it is protected.
//!
//! The proxy knows the handshake traffic secrets because the test gives the client a
//! [`SharedKeyLog`]. Synchronisation: the engine logs both handshake secrets while it
//! processes ServerHello, so the proxy forwards ServerHello on its own, then waits (bounded)
//! for SERVER_HANDSHAKE_TRAFFIC_SECRET before it touches the encrypted records that follow;
//! it holds the whole encrypted flight until then.

use crate::common::SharedKeyLog;
use mote::key_schedule::tls13::TrafficKeys;
use mote::record_layer::tls13::Protector;
use mote_crypto::rustcrypto::{RcAead, RustCrypto};
use mote_crypto::SuiteInfo;
use mote_wire::{CipherSuite, ContentType};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// What the proxy does to the server's first flight.
#[derive(Clone, Debug)]
pub enum Tamper {
    /// Relay everything unchanged.
    Nothing,
    /// Flip a bit in the tag of the first encrypted record.
    FlipFirstEncryptedRecord,
    /// Decrypt the flight, flip a bit in CertificateVerify's signature, re-encrypt.
    CertificateVerifySignature,
    /// Decrypt the flight, flip a bit in Finished's verify_data, re-encrypt.
    FinishedVerifyData,
    /// Send these bytes instead of the ServerHello record (and nothing after them).
    ReplaceServerHello(Vec<u8>),
    /// Rewrite ServerHello's cipher_suite.
    ServerHelloSuite(u16),
}

/// What the proxy saw the client send after the tampering.
#[derive(Debug)]
pub struct Seen {
    /// (level, description) of the client's alert.
    pub alert: [u8; 2],
    /// Whether the alert came protected under the client handshake traffic key.
    pub encrypted: bool,
}

/// One TLS record: the header's content type and the whole record, header included.
struct Record {
    typ: u8,
    bytes: Vec<u8>,
}

fn read_record(s: &mut TcpStream, from: &str) -> Result<Record, String> {
    let mut header = [0u8; 5];
    s.read_exact(&mut header)
        .map_err(|e| format!("reading a record header from the {from}: {e}"))?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut bytes = header.to_vec();
    bytes.resize(5 + len, 0);
    s.read_exact(&mut bytes[5..])
        .map_err(|e| format!("reading a {len}-byte record from the {from}: {e}"))?;
    Ok(Record {
        typ: header[0],
        bytes,
    })
}

fn send(s: &mut TcpStream, b: &[u8], to: &str) -> Result<(), String> {
    s.write_all(b)
        .and_then(|_| s.flush())
        .map_err(|e| format!("writing to the {to}: {e}"))
}

/// ServerHello's cipher_suite offset inside the record (header, handshake header, version,
/// random, session id).
fn suite_offset(sh: &[u8]) -> Result<usize, String> {
    let sid_len = *sh.get(5 + 4 + 2 + 32).ok_or("ServerHello too short")? as usize;
    let at = 5 + 4 + 2 + 32 + 1 + sid_len;
    if sh.len() < at + 2 || sh[5] != 2 {
        return Err(format!(
            "not a ServerHello: {:02x?}",
            &sh[..sh.len().min(16)]
        ));
    }
    Ok(at)
}

fn protector(suite: &SuiteInfo, secret: &[u8]) -> Protector<RcAead> {
    let k = TrafficKeys::derive(&RustCrypto, suite.hash, suite.aead.key_len(), secret);
    Protector::from_keys(&RustCrypto, suite.aead, k.key(), k.iv).unwrap()
}

/// Starts the proxy for one connection to `server_port`; returns its port.
pub fn start(
    server_port: u16,
    tamper: Tamper,
    keys: SharedKeyLog,
) -> (u16, JoinHandle<Result<Seen, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || run(listener, server_port, tamper, keys));
    (port, h)
}

fn accept(listener: &TcpListener) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return Ok(s);
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("the client never connected: {e}")),
        }
    }
}

fn run(
    listener: TcpListener,
    server_port: u16,
    tamper: Tamper,
    keys: SharedKeyLog,
) -> Result<Seen, String> {
    let mut client = accept(&listener)?;
    let mut server = TcpStream::connect(("127.0.0.1", server_port))
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    for s in [&client, &server] {
        s.set_read_timeout(Some(WAIT)).unwrap();
    }
    let ch = read_record(&mut client, "client")?;
    if ch.typ != 22 || ch.bytes.get(5) != Some(&1) {
        return Err("the client's first record is not a ClientHello".into());
    }
    send(&mut server, &ch.bytes, "server")?;
    let sh = read_record(&mut server, "server")?;
    let at = suite_offset(&sh.bytes)?;
    let suite = CipherSuite(u16::from_be_bytes([sh.bytes[at], sh.bytes[at + 1]]));
    match &tamper {
        Tamper::ReplaceServerHello(garbage) => {
            send(&mut client, garbage, "client")?;
            return client_alert(&mut client, &mut server, None);
        }
        Tamper::ServerHelloSuite(s) => {
            let mut m = sh.bytes.clone();
            m[at..at + 2].copy_from_slice(&s.to_be_bytes());
            send(&mut client, &m, "client")?;
            return client_alert(&mut client, &mut server, None);
        }
        _ => send(&mut client, &sh.bytes, "client")?,
    }
    let suite = SuiteInfo::of(suite).ok_or(format!("server chose {suite}"))?;
    let s_secret = keys
        .wait("SERVER_HANDSHAKE_TRAFFIC_SECRET", WAIT)
        .ok_or("the client logged no server handshake secret")?;
    let c_secret = keys
        .wait("CLIENT_HANDSHAKE_TRAFFIC_SECRET", WAIT)
        .ok_or("the client logged no client handshake secret")?;

    // Hold the server's flight until its Finished has been decrypted.
    let mut open = protector(&suite, &s_secret);
    let mut records = Vec::new();
    let mut plain = Vec::new();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    while !messages.iter().any(|m| m[0] == 20) {
        let r = read_record(&mut server, "server")?;
        if r.typ == 23 {
            let mut copy = r.bytes.clone();
            let (ct, len) = open
                .open(&mut copy, 1 << 14)
                .map_err(|e| format!("cannot decrypt the server's flight: {e}"))?;
            if ct != ContentType::HANDSHAKE {
                return Err(format!("server sent inner content type {}", ct.0));
            }
            plain.extend_from_slice(&copy[5..5 + len]);
            while plain.len() >= 4 {
                let n = 4
                    + (usize::from(plain[1]) << 16
                        | usize::from(plain[2]) << 8
                        | usize::from(plain[3]));
                if plain.len() < n {
                    break;
                }
                messages.push(plain.drain(..n).collect());
            }
        } else if r.typ != 20 {
            return Err(format!(
                "server sent a record of type {} in its flight",
                r.typ
            ));
        }
        records.push(r);
    }

    let out: Vec<u8> = match tamper {
        Tamper::Nothing => records.iter().flat_map(|r| r.bytes.clone()).collect(),
        Tamper::FlipFirstEncryptedRecord => {
            let first = records.iter().position(|r| r.typ == 23).unwrap();
            let last = records[first].bytes.len() - 1;
            records[first].bytes[last] ^= 0x01;
            records.iter().flat_map(|r| r.bytes.clone()).collect()
        }
        Tamper::CertificateVerifySignature | Tamper::FinishedVerifyData => {
            let typ = if matches!(tamper, Tamper::FinishedVerifyData) {
                20
            } else {
                15
            };
            let m = messages
                .iter_mut()
                .find(|m| m[0] == typ)
                .ok_or(format!("the server sent no handshake message {typ}"))?;
            // The last byte of the signature (inside ECDSA's s, so the DER stays valid) or
            // of verify_data.
            let last = m.len() - 1;
            m[last] ^= 0x01;
            // Re-encrypt: one record per message, sequence numbers from zero again.
            let mut seal = protector(&suite, &s_secret);
            let mut out: Vec<u8> = records
                .iter()
                .filter(|r| r.typ == 20)
                .flat_map(|r| r.bytes.clone())
                .collect();
            for m in &messages {
                let mut buf = vec![0u8; 5 + m.len() + 1 + 16];
                buf[5..5 + m.len()].copy_from_slice(m);
                let n = seal
                    .seal(&mut buf, m.len(), ContentType::HANDSHAKE, 0)
                    .unwrap();
                out.extend_from_slice(&buf[..n]);
            }
            out
        }
        Tamper::ReplaceServerHello(_) | Tamper::ServerHelloSuite(_) => unreachable!(),
    };
    send(&mut client, &out, "client")?;
    client_alert(&mut client, &mut server, Some(protector(&suite, &c_secret)))
}

/// Reads the client's records, relaying them to the server, until an alert: in the clear,
/// or protected under the client handshake traffic key.
fn client_alert(
    client: &mut TcpStream,
    server: &mut TcpStream,
    mut keys: Option<Protector<RcAead>>,
) -> Result<Seen, String> {
    loop {
        let mut r = read_record(client, "client")?;
        // The server hears the alert too; it may already have given up.
        let _ = send(server, &r.bytes, "server");
        match (r.typ, keys.as_mut()) {
            (20, _) => {}
            (21, _) if r.bytes.len() == 7 => {
                return Ok(Seen {
                    alert: [r.bytes[5], r.bytes[6]],
                    encrypted: false,
                })
            }
            (23, Some(p)) => {
                let (ct, len) = p
                    .open(&mut r.bytes, 1 << 14)
                    .map_err(|e| format!("cannot decrypt the client's record: {e}"))?;
                if ct == ContentType::ALERT && len == 2 {
                    return Ok(Seen {
                        alert: [r.bytes[5], r.bytes[6]],
                        encrypted: true,
                    });
                }
                return Err(format!(
                    "the client sent protected content type {} instead of an alert",
                    ct.0
                ));
            }
            (t, _) => {
                return Err(format!(
                    "the client sent a record of type {t}: {:02x?}",
                    r.bytes
                ))
            }
        }
    }
}
