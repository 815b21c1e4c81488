//! embedded-tls (the published crate, 0.19) on a microcontroller, for comparison with mote's
//! firmware (firmware/): the same board (QEMU mps2-an386, Cortex-M4F), the same board glue
//! (uart.rs, stack.rs and host.rs are copies of the firmware's, rng.rs an adapted copy), the
//! same semihosting command line (`seed= time= readings= id= psk= ca= name=`) and the same
//! work: a handshake, `readings` SenML lines, close_notify. It reports by semihosting one line,
//! `embedded-tls-firmware: ok suite=... readings=N stack_peak=B rx_buffer=B tx_buffer=B
//! handshake_insns=N notes=...` and exit status 0, or `embedded-tls-firmware: failed: <reason>`
//! and status 1, which scripts/footprint parses like mote's.
//!
//! Profiles (cargo features), each as close to mote's as embedded-tls allows:
//! - `psk`: external PSK (`TlsConfig::with_psk`). embedded-tls always sends psk_dhe_ke with a
//!   secp256r1 key share (it implements no x25519) and has no AES-CCM suite, so this is
//!   P-256 ECDHE + TLS_AES_128_GCM_SHA256 where mote does x25519 + TLS_AES_128_CCM_8_SHA256.
//! - `cert`: embedded-tls's own no_std, no-alloc verifier (`rustpki`'s `pki::CertVerifier`):
//!   every certificate the server sends is checked, from the last to the leaf, to be signed
//!   (ECDSA P-256/SHA-256) by the one before it, starting at the CA given as `ca=`, and to be
//!   within its validity at `time=`; `name=` must match one of the leaf's SAN DNS names or,
//!   failing that, its CN (even when it has SANs); CertificateVerify is checked with the
//!   leaf's key. Only one certificate fits: the Certificate message must fit one 512-byte
//!   record, as embedded-tls does not join a handshake message across records. It does NOT check
//!   basicConstraints/keyUsage/extendedKeyUsage, issuer/subject name chaining, or the CA
//!   certificate's own validity. secp256r1 key exchange, TLS_AES_128_GCM_SHA256.
//!
//! Both ask for 512-byte records (max_fragment_length, `with_max_fragment_length(Bits9)`).
#![no_std]
#![no_main]

mod host;
mod rng;
mod stack;
mod uart;

use core::cell::Cell;

use cortex_m_rt::entry;
use embedded_io::Write as _;
#[cfg(feature = "cert")]
use embedded_tls::blocking::TlsVerifier;
use embedded_tls::blocking::{
    Aes128GcmSha256, CryptoProvider, MaxFragmentLength, TlsConfig, TlsConnection, TlsContext,
    TlsError,
};

/// Receive record buffer: embedded-tls reads each record's 5-byte header into a local and
/// keeps only the record's body here, and it must hold the whole body of any record the
/// server may send. Under max_fragment_length 512 an unpadded TLS 1.3 record body is at most
/// 512 (plaintext) + 1 (content type) + 16 (GCM tag) = 529 bytes (OpenSSL does not pad; a
/// server that pads needs more). This handshake alone needs less (the largest record it
/// receives is 129 bytes (the ServerHello) with the PSK, and the Certificate message, 427
/// bytes with this single 397-byte certificate, with certificates), but then a full-size
/// record from the server would not fit: 529 is the smallest for 512-byte records.
const RX: usize = 529;
/// Transmit record buffer: the smallest that works. embedded-tls builds the ClientHello in it
/// as one record, 223 bytes with the PSK (identity `sensor-0001` and a SHA-256 binder) and 191
/// bytes with `name=collector.example`, both with the 65-byte uncompressed P-256 key share (a
/// byte less fails; a longer identity or server name needs
/// more). For application data it keeps `TLS_RECORD_OVERHEAD` (128) bytes of the buffer free
/// and cuts longer writes into several records: so the PSK profile sends each 82-byte reading
/// as one record (up to 95 bytes each), the certificate profile as two (up to 63). Sending full
/// 512-byte records would take 512 + 128 = 640 bytes, mote's firmware's TX.
#[cfg(feature = "cert")]
const TX: usize = 191;
#[cfg(not(feature = "cert"))]
const TX: usize = 223;

/// The certificate verifier keeps a copy of the server's certificate entries (to check
/// CertificateVerify with the leaf's key later) in a buffer of this size, inside the verifier
/// on the stack. embedded-tls does not join a handshake message across records, so the
/// Certificate message has to fit one 512-byte record, and its entries at most 504 bytes.
#[cfg(feature = "cert")]
const CERT_SIZE: usize = 504;

/// The only suite offered (the type parameter below); the handshake cannot complete on another.
const SUITE: &str = "TLS_AES_128_GCM_SHA256";
/// What the table cannot say: both profiles use P-256 for the key exchange (embedded-tls has
/// no x25519), the PSK profile AES-GCM (it has no AES-CCM).
#[cfg(feature = "cert")]
const NOTES: &str = "p256-kx,no-x25519,verify=rustpki:sig-chain+validity+san-or-cn,1-cert-max";
#[cfg(not(feature = "cert"))]
const NOTES: &str = "p256-kx,no-x25519,no-ccm8-so-gcm";

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    // embedded-tls has `unwrap!`s and `todo!`s; the message would cost the formatting
    // machinery (charged to the library in the footprint), so it is not printed.
    host::print("embedded-tls-firmware: panic\n");
    host::exit(false)
}

struct Outcome {
    readings: u32,
    /// Timer ticks spent inside embedded-tls (`TlsConnection::new` and `open`) less the ticks
    /// its transport spent in the UART (see `BoardIo`): 40 instructions each under
    /// `-icount shift=0`. This is the handshake's CPU cost, as mote's firmware measures it.
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
            host::print("embedded-tls-firmware: ok suite=");
            host::print(SUITE);
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
            host::print(" notes=");
            host::print(NOTES);
            host::print("\n");
            host::exit(true)
        }
        Err(e) => {
            host::print("embedded-tls-firmware: failed: ");
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
    Tls(TlsError),
}

impl Failure {
    /// One line without `core::fmt` (TlsError's Debug would pull it in).
    fn print(&self) {
        match self {
            Failure::Args(s) => {
                host::print("bad command line: ");
                host::print(s);
            }
            Failure::Tls(e) => {
                host::print(match e {
                    TlsError::HandshakeAborted(..) => "peer sent an alert",
                    TlsError::AbortHandshake(..) => "handshake aborted, alert sent",
                    TlsError::ConnectionClosed => "the connection closed early",
                    TlsError::InsufficientSpace | TlsError::OutOfMemory => {
                        "a message does not fit the buffers"
                    }
                    TlsError::InvalidCertificate | TlsError::InvalidCertificateEntry => {
                        "server certificate rejected"
                    }
                    TlsError::InvalidSignature => "bad signature or Finished",
                    TlsError::InvalidSignatureScheme => "unsupported signature scheme",
                    TlsError::CryptoError => "cryptographic failure (record did not decrypt)",
                    TlsError::InvalidKeyShare => "bad key share",
                    TlsError::InvalidHandshake | TlsError::InvalidRecord => {
                        "peer broke the protocol"
                    }
                    TlsError::DecodeError | TlsError::ParseError(_) => {
                        "peer sent a malformed message"
                    }
                    TlsError::Io(_) | TlsError::IoError => "transport error",
                    TlsError::Unimplemented => "unimplemented in embedded-tls",
                    _ => "other TLS error",
                });
                if let TlsError::HandshakeAborted(_, d) | TlsError::AbortHandshake(_, d) = e {
                    host::print(" alert=");
                    host::print_num(*d as u64);
                }
            }
        }
    }
}

/// The crypto provider: the board's RNG and, with certificates, the verifier. Not
/// embedded-tls's `UnsecureProvider`, whose client-certificate signer would link ECDSA
/// signing code that neither profile uses.
struct Board<'a> {
    rng: rng::SeededRng,
    #[cfg(feature = "cert")]
    verifier: embedded_tls::pki::CertVerifier<'a, Aes128GcmSha256, BoardClock, CERT_SIZE>,
    #[cfg(not(feature = "cert"))]
    _unused: core::marker::PhantomData<&'a ()>,
}

impl CryptoProvider for Board<'_> {
    type CipherSuite = Aes128GcmSha256;
    /// No client certificate, so no signature: the default `signer` says Unimplemented.
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    #[cfg(feature = "cert")]
    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// The time given on the command line, for the verifier's validity check. embedded-tls asks
/// its clock through a function without `self`, hence a static.
#[cfg(feature = "cert")]
static NOW: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

#[cfg(feature = "cert")]
struct BoardClock;

#[cfg(feature = "cert")]
impl embedded_tls::TlsClock for BoardClock {
    fn now() -> Option<u64> {
        Some(u64::from(NOW.load(core::sync::atomic::Ordering::Relaxed)))
    }
}

/// The UART as embedded-tls's blocking transport. With the blocking API the UART is read and
/// written from inside `open()`, so, to count only the library's own work as mote's firmware
/// does (which keeps the UART outside its `recv_done` calls), every read and write adds the
/// timer ticks it spent, waiting for bytes included, to `io_ticks`; the handshake's cost is the
/// ticks across `open()` less those.
struct BoardIo<'a> {
    uart: &'a uart::Uart,
    timer: &'a uart::Timer,
    io_ticks: &'a Cell<u32>,
}

impl BoardIo<'_> {
    fn paused<R>(&mut self, f: impl FnOnce(&uart::Uart) -> R) -> R {
        let t = self.timer.ticks();
        let r = f(self.uart);
        let spent = self.timer.ticks().wrapping_sub(t);
        self.io_ticks.set(self.io_ticks.get().wrapping_add(spent));
        r
    }
}

impl embedded_io::ErrorType for BoardIo<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Read for BoardIo<'_> {
    /// At least one byte (blocking), then whatever else is already waiting: embedded-tls asks
    /// for exactly the rest of the record header or body, so this never reads past a record.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        Ok(self.paused(|u| u.read_some(buf)))
    }
}

impl embedded_io::Write for BoardIo<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.paused(|u| u.write_all(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn run(rx: &'static mut [u8], tx: &'static mut [u8]) -> Result<Outcome, Failure> {
    let mut line = [0u8; 2048];
    let cmd = host::cmdline(&mut line);
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

    let config = TlsConfig::new().with_max_fragment_length(MaxFragmentLength::Bits9);
    let mut secret = [0u8; 1024];

    #[cfg(not(feature = "cert"))]
    let id = host::arg(cmd, "id").ok_or(Failure::Args("id=<PSK identity>"))?;
    #[cfg(not(feature = "cert"))]
    let identities = [id.as_bytes()];
    #[cfg(not(feature = "cert"))]
    let (config, mut board) = {
        let psk = host::arg(cmd, "psk")
            .and_then(|k| host::hex(k, &mut secret))
            .ok_or(Failure::Args("psk=<hex>"))?;
        let _ = now;
        (
            config.with_psk(psk, &identities),
            Board {
                rng: rng::SeededRng::new(&seed),
                _unused: core::marker::PhantomData,
            },
        )
    };

    #[cfg(feature = "cert")]
    let (config, mut board) = {
        let ca = host::arg(cmd, "ca")
            .and_then(|c| host::hex(c, &mut secret))
            .ok_or(Failure::Args("ca=<DER hex>"))?;
        let name = host::arg(cmd, "name").ok_or(Failure::Args("name=<server name>"))?;
        NOW.store(
            u32::try_from(now).unwrap_or(u32::MAX),
            core::sync::atomic::Ordering::Relaxed,
        );
        (
            config.with_server_name(name),
            Board {
                rng: rng::SeededRng::new(&seed),
                verifier: embedded_tls::pki::CertVerifier::new(embedded_tls::Certificate::X509(ca)),
            },
        )
    };

    let uart = uart::Uart::uart0();
    let timer = uart::Timer::start();
    let io_ticks = Cell::new(0u32);
    let mut io = BoardIo {
        uart: &uart,
        timer: &timer,
        io_ticks: &io_ticks,
    };
    let t0 = timer.ticks();
    let mut tls: TlsConnection<'_, _, Aes128GcmSha256> = TlsConnection::new(&mut io, rx, tx);
    let opened = tls.open(TlsContext::new(&config, &mut board));
    let handshake_ticks = timer.ticks().wrapping_sub(t0).wrapping_sub(io_ticks.get());
    opened.map_err(Failure::Tls)?;

    let mut sent = 0;
    for i in 0..readings {
        let mut line = Line::default();
        line.push(b"[{\"bn\":\"urn:dev:mote:qemu:\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":21.");
        line.num(u64::from(i % 10));
        line.push(b",\"t\":");
        line.num(now + u64::from(i));
        line.push(b"}]\n");
        // Flushed per reading, as mote's firmware sends them: one record each, or two where the
        // reading is longer than the write buffer's record (see `TX`).
        tls.write_all(line.bytes()).map_err(Failure::Tls)?;
        tls.flush().map_err(Failure::Tls)?;
        sent += 1;
    }
    tls.close().map_err(|(_, e)| Failure::Tls(e))?;
    Ok(Outcome {
        readings: sent,
        handshake_ticks,
    })
}

/// A reading being built, without `core::fmt` (as in mote's firmware).
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
