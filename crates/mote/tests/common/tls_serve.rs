//! mote's TLS server over TCP on 127.0.0.1, one connection at a time, for the tests that
//! drive a real TLS client against it: one line answered with `ack <line>`
//! (server_openssl.rs, server_rsa.rs), or [`serve_echo`]'s conversation with the records
//! the server wrote kept (server_gnutls.rs, server_rustls_client.rs).

use super::{serve_echo, server_feed, server_flush, tls_records, Echoed, OsRng, Recording};
use mote::ServerIdentity;
use mote::{Negotiated, Server, ServerConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::Signer;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The next connection on `listener` within 10 s, blocking with a 10 s read timeout; on
/// none, `Err("<none>: <error>")` (`none` saying who did not connect).
pub fn accept_within(listener: &TcpListener, none: &str) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("{none}: {e}")),
        }
    };
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    Ok(sock)
}

/// What the server saw of one [`serve_echo`] connection.
#[derive(Debug)]
pub struct EchoServed {
    pub echo: Echoed,
    pub neg: Negotiated,
    /// The identity of the external PSK the client used, if it used one.
    pub psk_identity: Option<String>,
    /// Every record the server wrote: (content type, length on the wire).
    pub written: Vec<(u8, usize)>,
}

/// Accepts one connection (see [`accept_within`]) and runs [`serve_echo`] on it with a
/// server of `cfg`, recording what it writes.
pub fn serve_echo_one(
    listener: &TcpListener,
    cfg: &ServerConfig<'_>,
    none: &str,
) -> Result<EchoServed, String> {
    let mut sock = Recording::new(accept_within(listener, none)?);
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 18 * 1024]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut s = Server::new(RustCrypto, cfg, &mut OsRng, now, &mut rx, &mut tx)
        .map_err(|e| e.to_string())?;
    let echo = serve_echo(&mut s, &mut sock)?;
    Ok(EchoServed {
        echo,
        neg: *s.negotiated(),
        psk_identity: s
            .client_psk_identity()
            .map(|i| String::from_utf8_lossy(i).into_owned()),
        written: tls_records(&sock.written),
    })
}

/// Accepts one connection, completes the handshake, reads a line, answers `ack <line>` and
/// closes. Returns the line (without its line end) and what was negotiated.
pub fn serve_line(
    listener: &TcpListener,
    cfg: &ServerConfig<'_>,
) -> Result<(String, Negotiated), String> {
    let (mut sock, _) = listener.accept().map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let mut s = Server::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        UnixTime::from_secs(mote_std::unix_time()),
        &mut rx,
        &mut tx,
    )
    .map_err(|e| e.to_string())?;
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        if !server_feed(&mut s, &mut sock)? {
            return Err("client closed before sending a line".into());
        }
        let mut buf = [0u8; 512];
        while s.has_app_data() {
            let n = s.read(&mut buf);
            line.extend_from_slice(&buf[..n]);
        }
    }
    let line = String::from_utf8_lossy(&line).trim_end().to_string();
    let answer = format!("ack {line}\n");
    s.write(answer.as_bytes()).map_err(|e| e.to_string())?;
    s.close();
    server_flush(&mut s, &mut sock)?;
    // The client answers close_notify with its own (or just goes away).
    while s.status() == Status::Connected {
        match server_feed(&mut s, &mut sock) {
            Ok(true) => {}
            _ => break,
        }
    }
    Ok((line, *s.negotiated()))
}

/// A server configuration with the certificate `chain` and its `signer`, otherwise the
/// defaults.
pub fn identity_config<'a>(chain: &'a [&'a [u8]], signer: &'a dyn Signer) -> ServerConfig<'a> {
    let mut cfg = ServerConfig::new();
    cfg.identity = Some(ServerIdentity { chain, signer });
    cfg
}
