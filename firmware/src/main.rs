//! mote on a microcontroller: QEMU's mps2-an386 (Cortex-M4F) runs mote's TLS 1.3 client over
//! the board's UART, through `mote bridge` on the host to a real server. It does a handshake,
//! sends a few SenML readings, closes with close_notify, and reports by semihosting:
//! `mote-firmware: ok ...` and exit status 0, or the reason and status 1.
//!
//! Profiles (cargo features): `psk` (external PSK, x25519, TLS_AES_128_CCM_8_SHA256) and
//! `cert` (ECDSA P-256 chain to a trust anchor, x25519, TLS_AES_128_GCM_SHA256). Both ask the
//! server for 512-byte records (record_size_limit, and max_fragment_length for servers such as
//! OpenSSL that only know that), so the buffers are about 1 KB.
#![no_std]
#![no_main]

mod host;
mod rng;
mod stack;
mod uart;

use cortex_m_rt::entry;
use mote::{Client, ClientConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
#[cfg(feature = "cert")]
use mote_wire::SignatureScheme;
use mote_wire::{CipherSuite, MaxFragmentLength, NamedGroup};

/// Receive buffer: one 512-byte record with its header and AEAD overhead, plus (with
/// certificates) one certificate of the chain being read.
#[cfg(feature = "cert")]
const RX: usize = 1400;
#[cfg(not(feature = "cert"))]
const RX: usize = 900;
/// Transmit buffer: the ClientHello and one record of our own.
const TX: usize = 640;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // Only the firmware's own code could panic (the engine has no reachable panics); the
    // message would cost the formatting machinery, so it is not printed.
    host::print("mote-firmware: panic\n");
    host::exit(false)
}

struct Outcome {
    suite: Option<CipherSuite>,
    readings: u32,
    /// Timer ticks spent inside the engine (`Client::new` and every `recv_done`) until
    /// Connected: 40 instructions each under `-icount shift=0`. Time waiting on the UART is
    /// not counted, so this is the handshake's CPU cost.
    handshake_ticks: u32,
}

#[entry]
fn main() -> ! {
    let bottom = stack::paint();
    let rx = cortex_m::singleton!(: [u8; RX] = [0; RX]).unwrap_or_else(|| host::exit(false));
    let tx = cortex_m::singleton!(: [u8; TX] = [0; TX]).unwrap_or_else(|| host::exit(false));
    let result = run(rx, tx);
    let peak = stack::peak(bottom);
    match result {
        Ok(o) => {
            host::print("mote-firmware: ok suite=");
            host::print(o.suite.and_then(|s| s.name()).unwrap_or("?"));
            host::print(" readings=");
            host::print_num(u64::from(o.readings));
            host::print(" stack_peak=");
            host::print_num(peak as u64);
            host::print(" rx_buffer=");
            host::print_num(RX as u64);
            host::print(" tx_buffer=");
            host::print_num(TX as u64);
            // Valid only under `-icount shift=0` (1 instruction per ns, 40 per tick).
            host::print(" handshake_insns=");
            host::print_num(u64::from(o.handshake_ticks) * 40);
            host::print("\n");
            host::exit(true)
        }
        Err(e) => {
            host::print("mote-firmware: failed: ");
            e.print();
            host::print(" stack_peak=");
            host::print_num(peak as u64);
            host::print("\n");
            host::exit(false)
        }
    }
}

/// An error worth one line on the host's console.
enum Failure {
    Args(&'static str),
    Tls(mote::Error),
    Closed,
}

impl Failure {
    /// One line without `core::fmt`: the kind of failure and the alert's code, which
    /// `mote probe` or the RFC's table turns into words on the host.
    fn print(&self) {
        match self {
            Failure::Args(s) => {
                host::print("bad command line: ");
                host::print(s);
            }
            Failure::Tls(e) => {
                host::print(match e {
                    mote::Error::Decode(_) => "peer sent a malformed message",
                    mote::Error::Peer(_) => "peer broke the protocol",
                    mote::Error::Incompatible(_) => "no parameters in common",
                    #[cfg(feature = "cert")]
                    mote::Error::Certificate(_) => "server certificate rejected",
                    mote::Error::Crypto(_) => "cryptographic failure",
                    mote::Error::AlertReceived(_) => "peer sent an alert",
                    mote::Error::Api(_) => "engine misuse",
                    mote::Error::Capacity { .. } => "a message does not fit the buffers",
                    mote::Error::SequenceExhausted => "sequence numbers exhausted",
                    mote::Error::HandshakeTimeout { .. } => "no answer from the peer",
                });
                let alert = match e {
                    mote::Error::AlertReceived(a) => Some(*a),
                    e => e.alert(),
                };
                if let Some(a) = alert {
                    host::print(" alert=");
                    host::print_num(u64::from(a.0));
                }
            }
            Failure::Closed => host::print("the connection closed early"),
        }
    }
}

fn run(rx: &'static mut [u8], tx: &'static mut [u8]) -> Result<Outcome, Failure> {
    // In static memory, not on the stack: the peak-stack figure should be the engine's.
    let line = cortex_m::singleton!(: [u8; 2048] = [0; 2048]).ok_or(Failure::Args("boot"))?;
    let cmd = host::cmdline(line);
    let mut seed = [0u8; 32];
    host::arg(cmd, "seed")
        .and_then(|s| host::hex(s, &mut seed))
        .filter(|s| s.len() == 32)
        .ok_or(Failure::Args(
            "seed=<64 hex digits> (the emulated board has no TRNG)",
        ))?;
    let now: u64 = host::arg(cmd, "time")
        .and_then(|t| t.parse().ok())
        .ok_or(Failure::Args("time=<unix seconds>"))?;
    let readings: u32 = host::arg(cmd, "readings")
        .and_then(|t| t.parse().ok())
        .unwrap_or(3);
    let mut rng = rng::SeededRng::new(&seed);

    let mut cfg = ClientConfig::new();
    cfg.groups = &[NamedGroup::X25519];
    // 512-byte records: record_size_limit (RFC 8449; 513 counts TLS 1.3's content-type byte)
    // for servers that know it, max_fragment_length (RFC 6066) for those that only know that,
    // such as OpenSSL. A server that knows both uses record_size_limit (RFC 8449 section 5).
    cfg.record_size_limit = Some(513);
    cfg.max_fragment_length = Some(MaxFragmentLength::L512);
    let secret = cortex_m::singleton!(: [u8; 1024] = [0; 1024]).ok_or(Failure::Args("boot"))?;
    #[cfg(not(feature = "cert"))]
    configure_psk(&mut cfg, cmd, secret)?;
    #[cfg(feature = "cert")]
    let anchors = [anchor(cmd, secret)?];
    #[cfg(feature = "cert")]
    configure_cert(&mut cfg, cmd, &anchors)?;

    let uart = uart::Uart::uart0();
    let timer = uart::Timer::start();
    let t0 = timer.ticks();
    let mut c = Client::new(RustCrypto, &cfg, &mut rng, UnixTime::from_secs(now), rx, tx)
        .map_err(Failure::Tls)?;
    let mut engine_ticks = timer.ticks().wrapping_sub(t0);
    pump(&mut c, &uart, &mut rng, &timer, &mut engine_ticks, |c| {
        c.status() == Status::Connected
    })?;
    let handshake_ticks = engine_ticks;
    let suite = c.negotiated().suite;
    let mut sent = 0;
    for i in 0..readings {
        let mut line = Line::default();
        line.push(b"[{\"bn\":\"urn:dev:mote:qemu:\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.");
        line.num(u64::from(i % 10));
        line.push(b",\"t\":");
        line.num(now + u64::from(i));
        line.push(b"}]\n");
        c.write(line.bytes()).map_err(Failure::Tls)?;
        pump(&mut c, &uart, &mut rng, &timer, &mut engine_ticks, |c| {
            c.transmit().is_empty()
        })?;
        sent += 1;
    }
    c.close();
    pump(&mut c, &uart, &mut rng, &timer, &mut engine_ticks, |c| {
        c.transmit().is_empty()
    })?;
    Ok(Outcome {
        suite,
        readings: sent,
        handshake_ticks,
    })
}

/// The PSK profile: no certificate code is compiled in.
#[cfg(not(feature = "cert"))]
fn configure_psk<'a>(
    cfg: &mut ClientConfig<'a>,
    cmd: &'a str,
    secret: &'a mut [u8],
) -> Result<(), Failure> {
    cfg.cipher_suites = &[CipherSuite::TLS_AES_128_CCM_8_SHA256];
    let id = host::arg(cmd, "id").ok_or(Failure::Args("id=<PSK identity>"))?;
    let psk = host::arg(cmd, "psk")
        .and_then(|k| host::hex(k, secret))
        .ok_or(Failure::Args("psk=<hex>"))?;
    cfg.psk = Some(mote::ExternalPsk {
        identity: id.as_bytes(),
        key: psk,
        hash: mote_crypto::HashAlgorithm::Sha256,
    });
    cfg.psk_only = true;
    Ok(())
}

/// The trust anchor given on the command line (`ca=<DER hex>`).
#[cfg(feature = "cert")]
fn anchor<'a>(cmd: &'a str, secret: &'a mut [u8]) -> Result<mote_x509::TrustAnchor<'a>, Failure> {
    let der = host::arg(cmd, "ca")
        .and_then(|c| host::hex(c, secret))
        .ok_or(Failure::Args("ca=<DER hex>"))?;
    mote_x509::TrustAnchor::from_cert(der).map_err(|_| Failure::Args("ca: not a certificate"))
}

/// The certificate profile: an ECDSA P-256 chain to the anchor, checked against `name=`.
#[cfg(feature = "cert")]
fn configure_cert<'a>(
    cfg: &mut ClientConfig<'a>,
    cmd: &'a str,
    anchors: &'a [mote_x509::TrustAnchor<'a>],
) -> Result<(), Failure> {
    cfg.cipher_suites = &[CipherSuite::TLS_AES_128_GCM_SHA256];
    cfg.signature_schemes = &[SignatureScheme::ECDSA_SECP256R1_SHA256];
    let name = host::arg(cmd, "name").ok_or(Failure::Args("name=<server name>"))?;
    cfg.server_name = Some(name);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors,
        name: mote_x509::ServerName::parse(name),
    });
    Ok(())
}

/// Moves bytes between the engine and the UART until `done`.
fn pump(
    c: &mut Client<'_, '_, RustCrypto>,
    uart: &uart::Uart,
    rng: &mut rng::SeededRng,
    timer: &uart::Timer,
    engine_ticks: &mut u32,
    done: impl Fn(&Client<'_, '_, RustCrypto>) -> bool,
) -> Result<(), Failure> {
    loop {
        let out = c.transmit();
        if !out.is_empty() {
            let n = out.len();
            uart.write_all(out);
            c.transmit_done(n);
        }
        if done(c) {
            return Ok(());
        }
        match c.status() {
            Status::Failed => return Err(c.error().map(Failure::Tls).unwrap_or(Failure::Closed)),
            Status::Closed => return Err(Failure::Closed),
            _ => {}
        }
        let buf = c.recv_buf();
        let n = uart.read_some(buf);
        let t = timer.ticks();
        let r = c.recv_done(n, rng);
        *engine_ticks = engine_ticks.wrapping_add(timer.ticks().wrapping_sub(t));
        if let Err(e) = r {
            let out = c.transmit();
            uart.write_all(out);
            return Err(Failure::Tls(e));
        }
    }
}

/// A reading being built, without `core::fmt`.
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Line {
            buf: [0; 128],
            len: 0,
        }
    }
}

impl Line {
    fn push(&mut self, b: &[u8]) {
        let n = b.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }

    fn num(&mut self, mut n: u64) {
        let mut d = [0u8; 20];
        let mut i = d.len();
        loop {
            i -= 1;
            d[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&d[i..]);
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
