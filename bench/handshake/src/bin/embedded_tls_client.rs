//! embedded-tls 0.19 (blocking API, features std + rustpki): one handshake with
//! TLS_AES_128_GCM_SHA256. embedded-tls implements only secp256r1 (P-256) for the key
//! exchange, so it cannot use x25519: `--group x25519` is refused and the script runs it with
//! P-256. Certificate mode validates the chain with its `rustpki` CertVerifier against `--ca`
//! (P-256 ECDSA, validity from the system clock, name sensor.example against the SAN DNS
//! names / CN). PSK mode offers the external PSK with psk_dhe_ke (P-256).

use embedded_io_adapters::std::FromStd;
use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CryptoProvider, TlsConfig, TlsConnection, TlsContext, TlsError,
    TlsVerifier, UnsecureProvider,
};
use embedded_tls::pki::CertVerifier;
use mote_bench_handshake::{
    connect, fail, report, Args, Counters, Counting, Group, Mode, APP_LINE, SERVER_NAME,
};
use std::net::TcpStream;
use std::time::SystemTime;

/// The largest TLS record (2^14 + 256) for both buffers, as embedded-tls recommends.
const RECORD: usize = 16640;
/// Room for the server's certificate chain the verifier keeps.
const CERT_SIZE: usize = 4096;

type Conn<'a, 'c> = TlsConnection<'a, FromStd<Counting<'c, TcpStream>>, Aes128GcmSha256>;

/// A provider with the OS RNG and the rustpki chain verifier.
struct Verifying<'a> {
    rng: rand_core::OsRng,
    verifier: CertVerifier<'a, Aes128GcmSha256, SystemTime, CERT_SIZE>,
}

impl CryptoProvider for Verifying<'_> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate: the default `signer` refuses.
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// From creating the connection to the handshake complete: the only function callgrind
/// counts. Generic over the provider would make several copies; the two modes are two
/// arms of one function instead.
#[inline(never)]
fn handshake_only<'a, 'c>(
    cfg: &'a TlsConfig<'a>,
    ca: Option<&'a [u8]>,
    rbuf: &'a mut [u8],
    wbuf: &'a mut [u8],
    sock: Counting<'c, TcpStream>,
) -> Conn<'a, 'c> {
    let mut tls = TlsConnection::new(FromStd::new(sock), rbuf, wbuf);
    let r = match ca {
        Some(ca) => tls.open(TlsContext::new(
            cfg,
            Verifying {
                rng: rand_core::OsRng,
                verifier: CertVerifier::new(Certificate::X509(ca)),
            },
        )),
        None => tls.open(TlsContext::new(
            cfg,
            UnsecureProvider::new::<Aes128GcmSha256>(rand_core::OsRng),
        )),
    };
    r.unwrap_or_else(|e| fail(&format!("embedded-tls: handshake: {e:?}")));
    tls
}

fn main() {
    let args = Args::parse();
    if args.group != Group::P256 {
        println!(
            "n/a reason=embedded-tls implements only secp256r1 (P-256) key exchange, not x25519"
        );
        std::process::exit(3);
    }
    let ca = if args.mode == Mode::Cert {
        Some(args.ca_der())
    } else {
        None
    };
    let identity = args.psk_identity.as_bytes();
    let identities = [identity];
    let mut cfg = TlsConfig::new().with_server_name(SERVER_NAME);
    if args.mode == Mode::Psk {
        cfg = cfg.with_psk(&args.psk, &identities);
    }
    let mut rbuf = vec![0u8; RECORD];
    let mut wbuf = vec![0u8; RECORD];
    let counters = Counters::default();
    let sock = Counting::new(connect(args.port), &counters);

    let mut tls = handshake_only(&cfg, ca.as_deref(), &mut rbuf, &mut wbuf, sock);
    let counted = counters.snapshot();

    tls.write(APP_LINE)
        .unwrap_or_else(|e| fail(&format!("embedded-tls: write: {e:?}")));
    tls.flush()
        .unwrap_or_else(|e| fail(&format!("embedded-tls: flush: {e:?}")));
    let _ = tls.close();
    let negotiated = format!(
        "TLS_AES_128_GCM_SHA256 secp256r1 psk={}",
        args.mode == Mode::Psk
    );
    report(counted, &negotiated);
}
