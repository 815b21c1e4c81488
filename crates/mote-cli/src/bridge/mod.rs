//! `mote bridge`: the computer's side of a board's serial line.
//!
//! The serial line is a device (`/dev/ttyUSB0`, opened raw 8N1 at `--baud` with the
//! `serialport` crate) or `tcp:HOST:PORT`, a TCP socket to connect to, which is what QEMU's
//! `-serial tcp:HOST:PORT,server=on,wait=on` offers. In stream mode the bytes are relayed to a
//! TCP connection to `--connect`, opened when the board sends its first byte (and again after
//! the server closed, at the board's next byte); with `--udp` the line carries SLIP frames
//! (RFC 1055), each relayed as one UDP datagram, and each datagram coming back is SLIP-encoded
//! onto the line. `--capture` records it all as a pcapng file that `mote dissect` reads.
//!
//! Every source of input (the serial line, each TCP connection, the UDP socket, SIGINT and
//! SIGTERM) has a thread that turns it into [`Event`]s on one channel; the main thread handles
//! them in order and does all the writing, so no state is shared.

pub mod capture;
mod datagram;
pub mod pcapng;
pub mod slip;
mod stream;

use capture::Capture;
use clap::Args;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct BridgeArgs {
    /// The board's serial line: a device such as /dev/ttyUSB0, or tcp:HOST:PORT to connect to
    /// (QEMU's -serial tcp:HOST:PORT,server=on).
    #[arg(long, value_name = "PATH|tcp:HOST:PORT")]
    pub serial: String,
    /// Where to relay to: a TCP server, or with --udp a UDP server.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: String,
    /// Datagram mode: the serial line carries SLIP frames, each relayed as one UDP datagram.
    #[arg(long)]
    pub udp: bool,
    /// Record everything relayed as a pcapng file (raw IPv4 packets, TCP or UDP).
    #[arg(long, value_name = "FILE")]
    pub capture: Option<String>,
    /// Baud rate for a serial device (8N1, no flow control); ignored for tcp:HOST:PORT.
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// With --udp: SLIP frames longer than this (decoded) are dropped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub max_frame: usize,
}

/// How long a serial device read or write may wait before it is retried.
const SERIAL_TIMEOUT: Duration = Duration::from_secs(1);
/// How many timed-out serial writes in a row end the bridge.
const SERIAL_WRITE_TRIES: u32 = 10;

/// Something that happened on one of the bridge's inputs.
pub(crate) enum Event {
    /// Bytes from the board.
    Serial(Vec<u8>),
    /// The serial line closed: `None` for an ordinary end (EOF, hang-up), else the error.
    SerialClosed(Option<String>),
    /// Bytes from the server on stream connection `conn`.
    Net { conn: u64, data: Vec<u8> },
    /// The server closed connection `conn` (`None`) or it failed.
    NetClosed { conn: u64, error: Option<io::Error> },
    /// A datagram from the server (--udp).
    Datagram(Vec<u8>),
    /// Receiving from the UDP socket failed (an ICMP unreachable shows up here).
    DatagramError(io::Error),
    /// SIGINT or SIGTERM (its number).
    Signal(i32),
}

/// Why the bridge stopped.
pub(crate) enum End {
    SerialClosed,
    SerialError(String),
    Signal(i32),
}

/// What the two modes share: the event channel, the serial line's writing half, the target
/// and the capture.
pub(crate) struct Ctx {
    pub rx: Receiver<Event>,
    pub tx: Sender<Event>,
    pub serial: Box<dyn Write + Send>,
    pub target: SocketAddr,
    capture: Option<(String, Capture<File>)>,
}

impl Ctx {
    /// Runs `f` on the capture, if there is one; a failure is reported once and stops it (the
    /// relaying goes on).
    pub fn capture(&mut self, f: impl FnOnce(&mut Capture<File>) -> io::Result<()>) {
        if let Some((path, cap)) = &mut self.capture {
            if let Err(e) = f(cap) {
                eprintln!("mote bridge: cannot write the capture {path}: {e}; capture stopped");
                self.capture = None;
            }
        }
    }

    pub fn capturing(&self) -> bool {
        self.capture.is_some()
    }
}

pub fn run(args: &BridgeArgs) -> ExitCode {
    let (tx, rx) = mpsc::channel();
    let target = match resolve(&args.connect) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let capture = match &args.capture {
        None => None,
        Some(path) => match File::create(path).and_then(Capture::new) {
            Ok(c) => Some((path.clone(), c)),
            Err(e) => return fail(&format!("cannot create the capture {path}: {e}")),
        },
    };
    // The UDP socket exists before the board is connected, so no datagram can be lost.
    let udp = if args.udp {
        match datagram::open(target, tx.clone()) {
            Ok(s) => Some(s),
            Err(e) => return fail(&e),
        }
    } else {
        None
    };
    if let Err(e) = catch_signals(tx.clone()) {
        return fail(&e);
    }
    let (reader, writer) = match open_serial(&args.serial, args.baud) {
        Ok(halves) => halves,
        Err(e) => return fail(&e),
    };
    spawn_serial_reader(reader, tx.clone());
    let mode = match &udp {
        Some(s) => format!(
            "UDP {} (from {})",
            target,
            s.local_addr().map_or("?".into(), |a| a.to_string())
        ),
        None => format!("TCP {target}, connecting at the board's first byte"),
    };
    eprintln!("mote bridge: serial {} <-> {mode}", args.serial);
    let ctx = Ctx {
        rx,
        tx,
        serial: writer,
        target,
        capture,
    };
    let (end, summary) = match udp {
        Some(sock) => datagram::run(ctx, &sock, args.max_frame),
        None => stream::run(ctx),
    };
    let code = match &end {
        End::SerialClosed => {
            eprintln!("mote bridge: the serial line closed");
            ExitCode::SUCCESS
        }
        End::Signal(sig) => {
            eprintln!("mote bridge: stopped by signal {sig}");
            ExitCode::SUCCESS
        }
        End::SerialError(e) => {
            eprintln!("mote bridge: serial line failed: {e}");
            ExitCode::from(1)
        }
    };
    println!("{summary}");
    code
}

fn fail(message: &str) -> ExitCode {
    eprintln!("mote bridge: {message}");
    ExitCode::from(2)
}

/// Resolves HOST:PORT, preferring an IPv4 address (the capture's made-up board is 127.0.0.2).
pub(crate) fn resolve(spec: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = spec
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {spec}: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{spec} resolves to no address"))
}

type Halves = (Box<dyn Read + Send>, Box<dyn Write + Send>);

/// Opens the serial line: `tcp:HOST:PORT` is connected to, anything else is a device path.
fn open_serial(spec: &str, baud: u32) -> Result<Halves, String> {
    if let Some(addr) = spec.strip_prefix("tcp:") {
        let sock = TcpStream::connect(addr).map_err(|e| {
            format!(
                "cannot connect to the serial line at {addr}: {e} (is QEMU running with \
                 -serial tcp:{addr},server=on?)"
            )
        })?;
        let _ = sock.set_nodelay(true);
        let reader = sock
            .try_clone()
            .map_err(|e| format!("serial line {addr}: {e}"))?;
        return Ok((Box::new(reader), Box::new(sock)));
    }
    let port = serialport::new(spec, baud)
        .timeout(SERIAL_TIMEOUT)
        .open()
        .map_err(|e| format!("cannot open the serial device {spec}: {e}"))?;
    let reader = port
        .try_clone()
        .map_err(|e| format!("serial device {spec}: {e}"))?;
    Ok((Box::new(Device(reader)), Box::new(Device(port))))
}

/// A serial device, whose reads and writes time out after [`SERIAL_TIMEOUT`] so that a
/// quiet line is not an error: reads are retried by the reader thread, writes here.
struct Device(Box<dyn serialport::SerialPort>);

impl Read for Device {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Device {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut tries = 0;
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::TimedOut && tries < SERIAL_WRITE_TRIES => {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn spawn_serial_reader(mut reader: Box<dyn Read + Send>, tx: Sender<Event>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        loop {
            let event = match reader.read(&mut buf) {
                Ok(0) => Event::SerialClosed(None),
                Ok(n) => {
                    if tx.send(Event::Serial(buf[..n].to_vec())).is_err() {
                        return;
                    }
                    continue;
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::Interrupted
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::WouldBlock => continue,
                    // A device's hang-up, QEMU going away: the line ended.
                    io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof => Event::SerialClosed(None),
                    _ => Event::SerialClosed(Some(e.to_string())),
                },
            };
            let _ = tx.send(event);
            return;
        }
    });
}

/// The first SIGINT or SIGTERM ends the bridge cleanly (closing connections and the capture,
/// printing the summary); a second one exits at once.
fn catch_signals(tx: Sender<Event>) -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install a signal handler: {e}"))?;
    std::thread::spawn(move || {
        let mut seen = false;
        for sig in signals.forever() {
            if seen {
                std::process::exit(128 + sig);
            }
            seen = true;
            let _ = tx.send(Event::Signal(sig));
        }
    });
    Ok(())
}

/// Writes bytes to the board; a failure ends the bridge.
pub(crate) fn to_board(ctx: &mut Ctx, data: &[u8]) -> Result<(), End> {
    ctx.serial
        .write_all(data)
        .and_then(|()| ctx.serial.flush())
        .map_err(|e| End::SerialError(format!("writing to the board: {e}")))
}

/// "1 byte", "2 bytes".
pub(crate) fn bytes(n: u64) -> String {
    count(n, "byte")
}

/// `n` and the noun, with an "s" unless `n` is 1.
pub(crate) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
