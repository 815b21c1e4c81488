//! Datagram mode (`--udp`): SLIP frames on the serial line, UDP datagrams on the network.
//!
//! All datagrams leave from one UDP socket, connected to `--connect` so that only that peer's
//! answers come back; each answer is SLIP-encoded onto the line.

use super::capture::board_address;
use super::slip::{self, Decoded, Decoder};
use super::{bytes, count, to_board, Ctx, End, Event};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::mpsc::Sender;

/// Binds the bridge's UDP socket and starts its reader thread. The socket is bound to the
/// loopback address when the target is on loopback (127.0.0.1:0 in the usual case), else to
/// the unspecified address of the target's family.
pub(super) fn open(target: SocketAddr, tx: Sender<Event>) -> Result<UdpSocket, String> {
    let ip = match target.ip() {
        IpAddr::V4(a) if a.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(a) if a.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let sock = UdpSocket::bind(SocketAddr::new(ip, 0))
        .and_then(|s| s.connect(target).map(|()| s))
        .map_err(|e| format!("cannot open a UDP socket for {target}: {e}"))?;
    let reader = sock
        .try_clone()
        .map_err(|e| format!("cannot open a UDP socket for {target}: {e}"))?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            // An ICMP unreachable (the server is not there yet) is reported once per
            // datagram that caused it; any other error stops receiving.
            let (event, go_on) = match reader.recv(&mut buf) {
                Ok(n) => (Event::Datagram(buf[..n].to_vec()), true),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let go_on = e.kind() == io::ErrorKind::ConnectionRefused;
                    (Event::DatagramError(e), go_on)
                }
            };
            if tx.send(event).is_err() || !go_on {
                return;
            }
        }
    });
    Ok(sock)
}

#[derive(Default)]
struct Totals {
    up: u64,
    up_bytes: u64,
    down: u64,
    down_bytes: u64,
    unsent: u64,
}

pub(super) fn run(mut ctx: Ctx, sock: &UdpSocket, max_frame: usize) -> (End, String) {
    let board = board_address(ctx.target, 0);
    let target = ctx.target;
    let mut decoder = Decoder::new(max_frame);
    let mut totals = Totals::default();
    // Datagrams are numbered in both directions together, as a capture numbers frames.
    let mut number = 0u64;
    let end = loop {
        let Ok(event) = ctx.rx.recv() else {
            break End::SerialClosed;
        };
        match event {
            Event::Serial(data) => {
                for d in decoder.push(&data) {
                    let frame = match d {
                        Decoded::Frame(f) => f,
                        Decoded::Dropped(e) => {
                            eprintln!("mote bridge: from the board: {e}");
                            continue;
                        }
                    };
                    number += 1;
                    let len = frame.len() as u64;
                    if let Err(e) = sock.send(&frame) {
                        eprintln!(
                            "mote bridge: datagram {number}: board -> {target}, {}: not sent: {e}",
                            bytes(len)
                        );
                        totals.unsent += 1;
                        continue;
                    }
                    eprintln!(
                        "mote bridge: datagram {number}: board -> {target}, {}",
                        bytes(len)
                    );
                    totals.up += 1;
                    totals.up_bytes += len;
                    ctx.capture(|cap| cap.udp(board, target, &frame));
                }
            }
            Event::Datagram(data) => {
                number += 1;
                let len = data.len() as u64;
                eprintln!(
                    "mote bridge: datagram {number}: {target} -> board, {}",
                    bytes(len)
                );
                totals.down += 1;
                totals.down_bytes += len;
                ctx.capture(|cap| cap.udp(target, board, &data));
                if let Err(end) = to_board(&mut ctx, &slip::encode(&data)) {
                    break end;
                }
            }
            Event::DatagramError(e) => eprintln!("mote bridge: receiving from {target}: {e}"),
            Event::SerialClosed(None) => break End::SerialClosed,
            Event::SerialClosed(Some(e)) => break End::SerialError(e),
            Event::Signal(sig) => break End::Signal(sig),
            Event::Net { .. } | Event::NetClosed { .. } => {}
        }
    };
    if decoder.pending() > 0 {
        eprintln!(
            "mote bridge: {} of an unfinished SLIP frame discarded",
            bytes(decoder.pending() as u64)
        );
    }
    let stats = decoder.stats();
    let mut summary = format!(
        "mote bridge: {} from the board ({}), {} to the board ({}) via {target}",
        count(totals.up, "datagram"),
        bytes(totals.up_bytes),
        totals.down,
        bytes(totals.down_bytes)
    );
    let dropped = [
        (stats.invalid_escape, "with an invalid escape"),
        (stats.oversize, "oversize"),
        (totals.unsent, "not sent"),
    ];
    if dropped.iter().any(|(n, _)| *n > 0) {
        let parts: Vec<String> = dropped
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        summary.push_str(&format!("; frames dropped: {}", parts.join(", ")));
    }
    (end, summary)
}
