//! `mote serve --dtls-listen`: readings over DTLS 1.2, one per datagram, one ack datagram
//! back, into the same store.
//!
//! One UDP socket; datagrams are demultiplexed by RFC 9146 connection ID (tls12_cid records
//! carry the 4-byte CID this collector gave the session) and otherwise by the peer's
//! address. A peer without a session first passes the stateless cookie exchange
//! (`verify_client_hello`): a flood of forged hellos costs a HelloVerifyRequest each and no
//! memory. Sessions are tasks on the collector's thread, each owning its engine and
//! buffers and fed through a channel; the table is bounded by --max-connections and a
//! session ends at the idle timeout. A session whose CID records arrive from a new
//! address moves there once a record from it authenticated (the client roamed).

use super::conn::handle_line;
use super::Ctx;
use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{DtlsServer, DtlsServerConfig, Status};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::Rng;
use mote_std::OsRng;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};

/// The length of the connection IDs this collector hands out.
const CID_LEN: usize = 4;
const MTU: u16 = 1200;

/// Live sessions by address and by connection ID.
#[derive(Default)]
struct Table {
    by_addr: HashMap<SocketAddr, mpsc::Sender<(Vec<u8>, SocketAddr)>>,
    by_cid: HashMap<[u8; CID_LEN], SocketAddr>,
}

/// The session a datagram from `from` belongs to.
fn route(t: &Table, d: &[u8], from: SocketAddr) -> Option<mpsc::Sender<(Vec<u8>, SocketAddr)>> {
    if d.first() == Some(&25) {
        if let Some(cid) = d.get(11..11 + CID_LEN) {
            let addr = t.by_cid.get(cid)?;
            return t.by_addr.get(addr).cloned();
        }
    }
    t.by_addr.get(&from).cloned()
}

/// Receives datagrams until the collector stops.
pub(super) async fn serve(ctx: Rc<Ctx>, sock: UdpSocket, mut stop: watch::Receiver<bool>) {
    let sock = Rc::new(sock);
    let mut secret = [0u8; 32];
    if OsRng.fill(&mut secret).is_err() {
        eprintln!("mote serve: DTLS: the OS random number generator failed");
        return;
    }
    let table = Rc::new(RefCell::new(Table::default()));
    let mut buf = vec![0u8; 2048];
    let mut hvr = [0u8; 128];
    loop {
        let (n, from) = tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok(v) => v,
                Err(_) => continue,
            },
            _ = stop.changed() => break,
        };
        let d = &buf[..n];
        if let Some(tx) = route(&table.borrow(), d, from) {
            let _ = tx.try_send((d.to_vec(), from));
            continue;
        }
        let addr = from.to_string();
        match verify_client_hello(&RustCrypto, &secret, None, addr.as_bytes(), d, &mut hvr) {
            HelloVerdict::Verify(len) => {
                let _ = sock.send_to(&hvr[..len], from).await;
            }
            HelloVerdict::Drop => {}
            HelloVerdict::Accept => {
                if ctx.active.get() >= ctx.max_connections {
                    eprintln!("{from}: DTLS refused: {} sessions open", ctx.active.get());
                    continue;
                }
                let (tx, rx) = mpsc::channel(16);
                let mut cid = [0u8; CID_LEN];
                let _ = OsRng.fill(&mut cid);
                table.borrow_mut().by_addr.insert(from, tx);
                table.borrow_mut().by_cid.insert(cid, from);
                ctx.active.set(ctx.active.get() + 1);
                let (ctx, sock, table, stop) =
                    (ctx.clone(), sock.clone(), table.clone(), stop.clone());
                let first = d.to_vec();
                tokio::task::spawn_local(async move {
                    let mut peer = from;
                    session(&ctx, &sock, &table, &mut peer, cid, first, rx, stop).await;
                    let mut t = table.borrow_mut();
                    t.by_addr.remove(&peer);
                    t.by_cid.remove(&cid);
                    ctx.active.set(ctx.active.get() - 1);
                });
            }
        }
    }
}

/// Sends every datagram the engine has ready to `peer`.
async fn flush(sock: &UdpSocket, s: &mut DtlsServer<'_, '_, RustCrypto>, peer: SocketAddr) {
    while !s.transmit().is_empty() {
        let _ = sock.send_to(s.transmit(), peer).await;
        s.transmit_done();
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    ctx: &Ctx,
    sock: &UdpSocket,
    table: &RefCell<Table>,
    peer: &mut SocketAddr,
    cid: [u8; CID_LEN],
    first: Vec<u8>,
    mut rx: mpsc::Receiver<(Vec<u8>, SocketAddr)>,
    mut stop: watch::Receiver<bool>,
) {
    let base = ctx.creds.base;
    let mut cfg = DtlsServerConfig::new();
    cfg.psks = base.psks;
    cfg.identity = base.identity;
    cfg.mtu = MTU;
    cfg.connection_id = Some(&cid);
    let mut rxb = vec![0u8; 4096];
    let mut txb = vec![0u8; usize::from(MTU) + ctx.creds.chain_len + 2048];
    let mut s = match DtlsServer::new(RustCrypto, &cfg, mote_std::now(), &mut rxb, 1024, &mut txb) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{peer}: DTLS: cannot start: {e}");
            return;
        }
    };
    let label = format!("{peer} (DTLS)");
    let buf = s.recv_buf();
    buf[..first.len()].copy_from_slice(&first);
    let _ = s.recv_datagram(first.len(), mote_std::now(), &mut OsRng);
    flush(sock, &mut s, *peer).await;
    let handshake_deadline = Instant::now() + ctx.handshake_timeout;
    let mut idle = Instant::now() + ctx.idle_timeout;
    let mut device: Option<String> = None;
    let mut answered = 0usize;
    let why = loop {
        match s.status() {
            Status::Failed => {
                break format!(
                    "failed: {}",
                    s.error().map_or("?".into(), |e| e.to_string())
                )
            }
            Status::Closed | Status::PeerClosed => break "client sent close_notify".into(),
            Status::Handshaking if Instant::now() > handshake_deadline => {
                break "no handshake within the handshake timeout".into()
            }
            Status::Connected if device.is_none() => {
                let n = s.negotiated();
                match n.psk.and_then(|i| ctx.creds.psk_devices.get(i)) {
                    Some(d) => {
                        ctx.say(format_args!(
                            "{label}: device {d} connected: DTLS 1.2, {}{}",
                            n.suite.map_or("?".into(), |s| s.to_string()),
                            match n.peer_cid_len {
                                Some(_) => ", connection ID",
                                None => "",
                            }
                        ));
                        device = Some(d.clone());
                    }
                    None => {
                        let _ = s.write(b"error ? not identified: DTLS devices use a PSK\n");
                        flush(sock, &mut s, *peer).await;
                        break "refused: no PSK identity".into();
                    }
                }
            }
            _ => {}
        }
        // Application data: one reading per record, one answer per reading.
        while s.has_app_data() {
            let mut line = vec![0u8; 2048];
            let n = s.read(&mut line);
            if let Some(d) = &device {
                if let Some(reply) = handle_line(ctx, &line[..n], &label, d) {
                    // The newline keeps line-oriented clients (openssl s_client) happy. The
                    // datagram slot may hold a retransmitted flight: send it first.
                    for _ in 0..3 {
                        flush(sock, &mut s, *peer).await;
                        match s.write(reply.as_bytes()) {
                            Ok(0) => continue,
                            Ok(_) => answered += 1,
                            Err(_) => {}
                        }
                        break;
                    }
                    flush(sock, &mut s, *peer).await;
                }
            }
            idle = Instant::now() + ctx.idle_timeout;
        }
        let wake = match s.next_timeout() {
            Some(ms) => {
                let now = mote_std::now().as_millis();
                Instant::now() + Duration::from_millis(ms.saturating_sub(now))
            }
            None => idle,
        }
        .min(idle)
        .min(if device.is_none() {
            handshake_deadline
        } else {
            idle
        });
        tokio::select! {
            d = rx.recv() => {
                let Some((d, from)) = d else { break "dropped".into() };
                let buf = s.recv_buf();
                if buf.len() < d.len() {
                    continue;
                }
                buf[..d.len()].copy_from_slice(&d);
                let _ = s.recv_datagram(d.len(), mote_std::now(), &mut OsRng);
                if from != *peer && s.has_app_data() {
                    // A record from the new address authenticated: the client moved.
                    ctx.say(format_args!("{label}: moved to {from} (connection ID)"));
                    let mut t = table.borrow_mut();
                    if let Some(tx) = t.by_addr.remove(peer) {
                        t.by_addr.insert(from, tx);
                    }
                    t.by_cid.insert(cid, from);
                    *peer = from;
                }
                flush(sock, &mut s, *peer).await;
            }
            _ = sleep_until(wake) => {
                if Instant::now() >= idle && device.is_some() {
                    break "idle timeout".into();
                }
                let _ = s.handle_timeout(mote_std::now());
                flush(sock, &mut s, *peer).await;
            }
            _ = stop.changed() => break "server stopping".into(),
        }
    };
    s.close();
    flush(sock, &mut s, *peer).await;
    ctx.say(format_args!(
        "{label}: {why}; {answered} reading{} answered",
        if answered == 1 { "" } else { "s" }
    ));
}
