//! Stream mode: the serial line's bytes relayed both ways over a TCP connection.
//!
//! The connection is opened when the board sends a byte and none is open, so a board that
//! reboots after the server closed starts a fresh connection with its first byte. Bytes that
//! arrive while the connection cannot be opened are dropped (and counted): a board speaking
//! TLS retries its handshake anyway.

use super::capture::{board_address, TcpFlow};
use super::{bytes, count, to_board, Ctx, End, Event};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// At the end, how long the server gets to close its side after the bridge closed its own.
const LINGER: Duration = Duration::from_secs(1);

struct Conn {
    id: u64,
    stream: TcpStream,
    /// Bytes from the board (up) and to the board (down).
    up: u64,
    down: u64,
    flow: Option<TcpFlow>,
}

#[derive(Default)]
struct Totals {
    /// Connections attempted (each gets the next id) and opened.
    attempts: u64,
    connections: u64,
    up: u64,
    down: u64,
    dropped: u64,
}

pub(super) fn run(mut ctx: Ctx) -> (End, String) {
    let mut conn: Option<Conn> = None;
    let mut totals = Totals::default();
    let end = loop {
        let Ok(event) = ctx.rx.recv() else {
            break End::SerialClosed;
        };
        match event {
            Event::Serial(data) => {
                if conn.is_none() {
                    totals.attempts += 1;
                    match open(&mut ctx, totals.attempts) {
                        Ok(c) => {
                            totals.connections += 1;
                            conn = Some(c);
                        }
                        Err(e) => {
                            eprintln!(
                                "mote bridge: connection {}: cannot connect to {}: {e}; {} \
                                 from the board dropped",
                                totals.attempts,
                                ctx.target,
                                bytes(data.len() as u64)
                            );
                            totals.dropped += data.len() as u64;
                            continue;
                        }
                    }
                }
                let Some(c) = conn.as_mut() else { continue };
                if let Err(e) = c.stream.write_all(&data) {
                    eprintln!(
                        "mote bridge: connection {}: sending to the server failed: {e}; {} \
                         from the board dropped",
                        c.id,
                        bytes(data.len() as u64)
                    );
                    totals.dropped += data.len() as u64;
                    if let Some(c) = conn.take() {
                        close(&mut ctx, c, Some(e), "after a failed send");
                    }
                    continue;
                }
                c.up += data.len() as u64;
                totals.up += data.len() as u64;
                if let Some(flow) = c.flow.as_mut() {
                    ctx.capture(|cap| cap.tcp_data(flow, true, &data));
                }
            }
            Event::Net { conn: id, data } => {
                let Some(c) = conn.as_mut().filter(|c| c.id == id) else {
                    continue;
                };
                c.down += data.len() as u64;
                totals.down += data.len() as u64;
                if let Some(flow) = c.flow.as_mut() {
                    ctx.capture(|cap| cap.tcp_data(flow, false, &data));
                }
                if let Err(end) = to_board(&mut ctx, &data) {
                    break end;
                }
            }
            Event::NetClosed { conn: id, error } => {
                if conn.as_ref().is_some_and(|c| c.id == id) {
                    if let Some(c) = conn.take() {
                        close(&mut ctx, c, error, "by the server");
                    }
                }
            }
            Event::SerialClosed(None) => break End::SerialClosed,
            Event::SerialClosed(Some(e)) => break End::SerialError(e),
            Event::Signal(sig) => break End::Signal(sig),
            Event::Datagram(_) | Event::DatagramError(_) => {}
        }
    };
    if let Some(c) = conn.take() {
        totals.down += finish(&mut ctx, c);
    }
    let mut summary = format!(
        "mote bridge: {} to {}, {} from the board, {} to the board",
        count(totals.connections, "connection"),
        ctx.target,
        bytes(totals.up),
        bytes(totals.down)
    );
    if totals.dropped > 0 {
        summary.push_str(&format!(", {} dropped", bytes(totals.dropped)));
    }
    (end, summary)
}

/// Opens connection `id` (1-based) and starts its reader thread and its capture flow.
fn open(ctx: &mut Ctx, id: u64) -> io::Result<Conn> {
    let stream = TcpStream::connect_timeout(&ctx.target, CONNECT_TIMEOUT)?;
    let _ = stream.set_nodelay(true);
    spawn_reader(id, stream.try_clone()?, ctx.tx.clone());
    let board = board_address(ctx.target, id - 1);
    let mut flow = None;
    let target = ctx.target;
    ctx.capture(|cap| {
        flow = Some(cap.tcp_open(board, target)?);
        Ok(())
    });
    let shown = if ctx.capturing() {
        format!(" (captured as {board})")
    } else {
        String::new()
    };
    eprintln!(
        "mote bridge: connection {id}: connected to {}{shown}",
        ctx.target
    );
    Ok(Conn {
        id,
        stream,
        up: 0,
        down: 0,
        flow,
    })
}

fn spawn_reader(id: u64, mut stream: TcpStream, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.send(Event::NetClosed {
                        conn: id,
                        error: None,
                    });
                    return;
                }
                Ok(n) => {
                    let data = buf[..n].to_vec();
                    if tx.send(Event::Net { conn: id, data }).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Event::NetClosed {
                        conn: id,
                        error: Some(e),
                    });
                    return;
                }
            }
        }
    });
}

/// The server closed (or the connection failed): close the bridge's side too.
fn close(ctx: &mut Ctx, mut c: Conn, error: Option<io::Error>, how: &str) {
    let _ = c.stream.shutdown(Shutdown::Both);
    if let Some(flow) = c.flow.as_mut() {
        ctx.capture(|cap| match &error {
            None => {
                cap.tcp_fin(flow, false)?;
                cap.tcp_fin(flow, true)
            }
            Some(_) => cap.tcp_reset(flow, false),
        });
    }
    let why = error.map_or(String::new(), |e| format!(" ({e})"));
    eprintln!(
        "mote bridge: connection {}: closed {how}{why}: {} from the board, {} to the board",
        c.id,
        bytes(c.up),
        bytes(c.down)
    );
}

/// The bridge is stopping: close its side, then give the server a moment to close its own,
/// still passing on (best effort) whatever it sends meanwhile, whose length is returned.
fn finish(ctx: &mut Ctx, mut c: Conn) -> u64 {
    let before = c.down;
    let _ = c.stream.shutdown(Shutdown::Write);
    if let Some(flow) = c.flow.as_mut() {
        ctx.capture(|cap| cap.tcp_fin(flow, true));
    }
    let deadline = Instant::now() + LINGER;
    let mut server_closed = false;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match ctx.rx.recv_timeout(left) {
            Ok(Event::Net { conn, data }) if conn == c.id => {
                c.down += data.len() as u64;
                if let Some(flow) = c.flow.as_mut() {
                    ctx.capture(|cap| cap.tcp_data(flow, false, &data));
                }
                let _ = to_board(ctx, &data);
            }
            Ok(Event::NetClosed { conn, error }) if conn == c.id => {
                if let Some(flow) = c.flow.as_mut() {
                    ctx.capture(|cap| match error {
                        None => cap.tcp_fin(flow, false),
                        Some(_) => cap.tcp_reset(flow, false),
                    });
                }
                server_closed = true;
                break;
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = c.stream.shutdown(Shutdown::Read);
    let state = if server_closed {
        ""
    } else {
        " (the server had not closed its side)"
    };
    eprintln!(
        "mote bridge: connection {}: closed by the bridge{state}: {} from the board, {} to the \
         board",
        c.id,
        bytes(c.up),
        bytes(c.down)
    );
    c.down - before
}
