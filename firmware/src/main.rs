//! mote on a microcontroller: QEMU's mps2-an386 (Cortex-M4F) runs mote's TLS 1.3 client over
//! the board's UART, through `mote bridge` on the host to a real server. It does a handshake,
//! sends a few SenML readings, closes with close_notify, and reports by semihosting:
//! `mote-firmware: ok ...` and exit status 0, or the reason and status 1.
//!
//! Profiles (cargo features): `psk` (external PSK, x25519, TLS_AES_128_CCM_8_SHA256) and
//! `cert` (ECDSA P-256 chain to a trust anchor, x25519, TLS_AES_128_GCM_SHA256). Both ask the
//! server for 512-byte records (max_fragment_length, which OpenSSL honours), so the buffers
//! are about 1 KB.
#![no_std]
#![no_main]

mod host;
mod rng;
mod stack;
mod uart;

use core::fmt::Write;
use cortex_m_rt::entry;
use host::Console;
use mote::{Client, ClientConfig, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_wire::{CipherSuite, MaxFragmentLength, NamedGroup};
#[cfg(feature = "cert")]
use mote_wire::SignatureScheme;

/// Receive buffer: one 512-byte record with its header and AEAD overhead, plus (with
/// certificates) one certificate of the chain being read.
#[cfg(feature = "cert")]
const RX: usize = 1400;
#[cfg(not(feature = "cert"))]
const RX: usize = 900;
/// Transmit buffer: the ClientHello and one record of our own.
const TX: usize = 640;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Console, "mote-firmware: panic: {info}");
    host::exit(false)
}

struct Outcome {
    suite: Option<CipherSuite>,
    readings: u32,
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
            let _ = writeln!(
                Console,
                "mote-firmware: ok suite={} readings={} stack_peak={} rx_buffer={} tx_buffer={}",
                o.suite.map(|s| s.name().unwrap_or("?")).unwrap_or("?"),
                o.readings,
                peak,
                RX,
                TX
            );
            host::exit(true)
        }
        Err(e) => {
            let _ = writeln!(Console, "mote-firmware: failed: {e} (stack_peak={peak})");
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

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Args(s) => write!(f, "bad command line: {s}"),
            Failure::Tls(e) => write!(f, "{e}"),
            Failure::Closed => f.write_str("the connection closed early"),
        }
    }
}

fn run(rx: &'static mut [u8], tx: &'static mut [u8]) -> Result<Outcome, Failure> {
    let mut line = [0u8; 2048];
    let cmd = host::cmdline(&mut line);
    let mut seed = [0u8; 32];
    host::arg(cmd, "seed")
        .and_then(|s| host::hex(s, &mut seed))
        .filter(|s| s.len() == 32)
        .ok_or(Failure::Args("seed=<64 hex digits> (the emulated board has no TRNG)"))?;
    let now: u64 = host::arg(cmd, "time").and_then(|t| t.parse().ok()).ok_or(Failure::Args("time=<unix seconds>"))?;
    let readings: u32 = host::arg(cmd, "readings").and_then(|t| t.parse().ok()).unwrap_or(3);
    let mut rng = rng::SeededRng::new(&seed);

    let mut cfg = ClientConfig::new();
    cfg.groups = &[NamedGroup::X25519];
    cfg.max_fragment_length = Some(MaxFragmentLength::L512);
    let mut secret = [0u8; 1024];
    let anchors: [mote_x509::TrustAnchor<'_>; 1];
    #[cfg(not(feature = "cert"))]
    {
        // The PSK profile: no certificate code is reachable.
        anchors = [mote_x509::TrustAnchor::new(&[], &[])];
        let _ = &anchors;
        cfg.cipher_suites = &[CipherSuite::TLS_AES_128_CCM_8_SHA256];
        let id = host::arg(cmd, "id").ok_or(Failure::Args("id=<PSK identity>"))?;
        let psk = host::arg(cmd, "psk").and_then(|k| host::hex(k, &mut secret)).ok_or(Failure::Args("psk=<hex>"))?;
        cfg.psk = Some(mote::ExternalPsk { identity: id.as_bytes(), key: psk, hash: mote_crypto::HashAlgorithm::Sha256 });
        cfg.psk_only = true;
    }
    #[cfg(feature = "cert")]
    {
        cfg.cipher_suites = &[CipherSuite::TLS_AES_128_GCM_SHA256];
        cfg.signature_schemes = &[SignatureScheme::ECDSA_SECP256R1_SHA256];
        let der = host::arg(cmd, "ca").and_then(|c| host::hex(c, &mut secret)).ok_or(Failure::Args("ca=<DER hex>"))?;
        anchors = [mote_x509::TrustAnchor::from_cert(der).map_err(|_| Failure::Args("ca: not a certificate"))?];
        let name = host::arg(cmd, "name").ok_or(Failure::Args("name=<server name>"))?;
        cfg.server_name = Some(name);
        cfg.server_auth = Some(mote_x509::ServerAuth::Chain { anchors: &anchors, name: mote_x509::ServerName::parse(name) });
    }

    let uart = uart::Uart::uart0();
    let mut c = Client::new(RustCrypto, &cfg, &mut rng, UnixTime::from_secs(now), rx, tx).map_err(Failure::Tls)?;
    pump(&mut c, &uart, &mut rng, |c| c.status() == Status::Connected)?;
    let suite = c.negotiated().suite;
    let mut sent = 0;
    let mut buf = [0u8; 128];
    for i in 0..readings {
        let mut w = Cursor { buf: &mut buf, len: 0 };
        let _ = write!(
            w,
            "[{{\"bn\":\"urn:dev:mote:qemu:\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":{}.{},\"t\":{}}}]\n",
            21 + i / 10,
            i % 10,
            now + u64::from(i)
        );
        let n = w.len;
        c.write(&buf[..n]).map_err(Failure::Tls)?;
        pump(&mut c, &uart, &mut rng, |c| c.transmit().is_empty())?;
        sent += 1;
    }
    c.close();
    pump(&mut c, &uart, &mut rng, |c| c.transmit().is_empty())?;
    Ok(Outcome { suite, readings: sent })
}

/// Moves bytes between the engine and the UART until `done`.
fn pump(
    c: &mut Client<'_, '_, RustCrypto>,
    uart: &uart::Uart,
    rng: &mut rng::SeededRng,
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
        if let Err(e) = c.recv_done(n, rng) {
            let out = c.transmit();
            uart.write_all(out);
            return Err(Failure::Tls(e));
        }
    }
}

/// `core::fmt::Write` into a byte buffer.
struct Cursor<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
