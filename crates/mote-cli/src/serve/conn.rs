//! One device connection: handshake within the handshake timeout, identify the device,
//! then a line in, an answer out, until the device closes, goes quiet or the collector
//! stops.

use super::config::device_of_certificate;
use super::senml::{parse, peek_seq};
use super::store::Stored;
use super::Ctx;
use mote::{CertificateObserver, ClientId, Server};
use mote_crypto::rustcrypto::RustCrypto;
use mote_std::tokio_io::{accept, TlsServerStream};
use mote_std::{Buffers, OsRng};
use mote_x509::{Certificate, PinnedSpki};
use std::cell::RefCell;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};

/// The longest line taken.
const MAX_LINE: usize = 64 * 1024;

/// Keeps the client's end-entity certificate seen during the handshake.
#[derive(Default)]
struct Leaf(RefCell<Option<Vec<u8>>>);

impl CertificateObserver for Leaf {
    fn certificate(&self, index: usize, der: &[u8]) {
        if index == 0 {
            *self.0.borrow_mut() = Some(der.to_vec());
        }
    }
}

/// The device a connected client is.
fn identify(ctx: &Ctx, server: &Server<'_, '_, RustCrypto>, leaf: &Leaf) -> Result<String, String> {
    match server.negotiated().client_identity {
        Some(ClientId::Psk(i)) => ctx
            .creds
            .psk_devices
            .get(i)
            .cloned()
            .ok_or_else(|| format!("PSK {i} is not configured")),
        Some(ClientId::CertificateSpki(hash)) => match leaf.0.borrow().as_deref() {
            Some(der) => {
                let cert = Certificate::parse(der).map_err(|e| format!("certificate: {e}"))?;
                // The observer sees certificates before validation: bind the name to the
                // key the engine validated.
                if PinnedSpki::of_spki(&RustCrypto, cert.spki()).sha256 != hash {
                    return Err("the certificate seen is not the one validated".into());
                }
                let device = device_of_certificate(der)?;
                ctx.cert_devices.borrow_mut().insert(hash, device.clone());
                Ok(device)
            }
            None => ctx
                .cert_devices
                .borrow()
                .get(&hash)
                .cloned()
                .ok_or_else(|| {
                    "a resumed session for a certificate this collector has not seen".into()
                }),
        },
        None => {
            Err("no device identity: the client neither used a PSK nor sent a certificate".into())
        }
    }
}

pub(super) async fn connection(
    ctx: &Ctx,
    sock: TcpStream,
    peer: String,
    mut stop: watch::Receiver<bool>,
) {
    let _ = sock.set_nodelay(true);
    let keys = ctx.tickets.borrow_mut().current();
    let leaf = Leaf::default();
    let mut cfg = *ctx.creds.base;
    cfg.ticket_keys = &keys;
    cfg.client_certificate_observer = Some(&leaf);
    let mut bufs = Buffers::server(ctx.creds.chain_len);
    let server = match Server::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote_std::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{peer}: cannot start: {e}");
            return;
        }
    };
    let mut tls = match timeout(ctx.handshake_timeout, accept(server, sock)).await {
        Err(_) => {
            ctx.say(format_args!(
                "{peer}: dropped: no handshake within the handshake timeout"
            ));
            return;
        }
        Ok(Err(e)) => {
            ctx.say(format_args!("{peer}: handshake failed: {e}"));
            return;
        }
        Ok(Ok(t)) => t,
    };
    let device = match identify(ctx, tls.server(), &leaf) {
        Ok(d) => d,
        Err(e) => {
            ctx.say(format_args!("{peer}: refused: {e}"));
            let _ = tls
                .write_all(format!("error ? not identified: {e}\n").as_bytes())
                .await;
            let _ = timeout(Duration::from_secs(2), tls.close()).await;
            return;
        }
    };
    let n = tls.server().negotiated();
    ctx.say(format_args!(
        "{peer}: device {device} connected: TLS 1.3, {}, {}{}",
        n.suite.map_or("?".to_string(), |s| s.to_string()),
        if n.client_cert_sent || matches!(n.client_identity, Some(ClientId::CertificateSpki(_))) {
            "client certificate"
        } else {
            "PSK"
        },
        if n.resumed { ", resumed" } else { "" }
    ));
    let (stored, why) = lines(ctx, &mut tls, &peer, &device, &mut stop).await;
    // Bounded: a client that does not read must not hold the connection.
    let closed = timeout(Duration::from_secs(2), tls.close()).await;
    ctx.say(format_args!(
        "{peer}: {why}; {}; {stored} line{} answered",
        match closed {
            Ok(Ok(())) => "closed with close_notify",
            _ => "dropped",
        },
        if stored == 1 { "" } else { "s" }
    ));
}

/// One line in, one line out (`None` for a blank line).
pub(super) fn handle_line(ctx: &Ctx, raw: &[u8], peer: &str, device: &str) -> Option<String> {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Some("error ? not UTF-8\n".into());
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let label = peek_seq(text).map_or("?".to_string(), |s| s.to_string());
    let now = mote_std::now().as_millis() as f64 / 1000.0;
    let pack = match parse(text, device, now) {
        Ok(p) => p,
        Err(e) => {
            ctx.say(format_args!(
                "{peer}: device {device}: refused {label}: {e}"
            ));
            return Some(format!("error {label} {e}\n"));
        }
    };
    let label = pack.label();
    match ctx.store.borrow_mut().store(device, &pack, now) {
        Ok(Stored::New(n)) => {
            ctx.say(format_args!(
                "{peer}: device {device}: stored {label} ({n} new)"
            ));
            Some(format!("ack {label}\n"))
        }
        Ok(Stored::Duplicate) => {
            ctx.say(format_args!(
                "{peer}: device {device}: {label} already stored"
            ));
            Some(format!("ack {label}\n"))
        }
        Err(e) => {
            eprintln!("{peer}: device {device}: {label} not stored: {e}");
            Some(format!("error {label} not stored: {e}\n"))
        }
    }
}

/// Reads and answers lines until the client closes, times out or the server stops; how
/// many lines were answered, and why it ended.
async fn lines(
    ctx: &Ctx,
    tls: &mut TlsServerStream<'_, '_, RustCrypto, TcpStream>,
    peer: &str,
    device: &str,
    stop: &mut watch::Receiver<bool>,
) -> (usize, &'static str) {
    let mut line = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut answered = 0;
    let mut deadline = Instant::now() + ctx.idle_timeout;
    loop {
        while let Some(pos) = line.iter().position(|&b| b == b'\n') {
            let l: Vec<u8> = line.drain(..=pos).collect();
            if let Some(reply) = handle_line(ctx, &l, peer, device) {
                // After the client's close_notify this still goes out (half-close).
                if let Err(e) = tls.write_all(reply.as_bytes()).await {
                    ctx.say(format_args!("{peer}: cannot answer: {e}"));
                    return (answered, "client gone");
                }
                answered += 1;
            }
            deadline = Instant::now() + ctx.idle_timeout;
        }
        if line.len() > MAX_LINE {
            let _ = tls
                .write_all(format!("error ? line longer than {MAX_LINE} bytes\n").as_bytes())
                .await;
            return (answered, "line too long");
        }
        if *stop.borrow() {
            return (answered, "server stopping");
        }
        tokio::select! {
            r = timeout_at(deadline, tls.read(&mut buf)) => match r {
                Err(_) => return (answered, "idle timeout"),
                Ok(Ok(0)) => {
                    if !line.is_empty() {
                        ctx.say(format_args!("{peer}: {} bytes after the last newline dropped", line.len()));
                    }
                    return (answered, "client sent close_notify");
                }
                Ok(Ok(n)) => line.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => {
                    ctx.say(format_args!("{peer}: {e}"));
                    return (answered, "connection failed");
                }
            },
            _ = stop.changed() => return (answered, "server stopping"),
        }
    }
}
