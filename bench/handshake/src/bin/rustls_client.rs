//! rustls 0.23 (ring provider, std, TLS 1.3 only): one handshake with TLS13_AES_128_GCM_SHA256
//! and x25519 (or P-256 with `--group p256`), the server certificate checked by rustls' default
//! webpki verifier against `--ca` for the name sensor.example. rustls has no external-PSK
//! support, so `--mode psk` prints n/a and exits 3.

use mote_bench_handshake::{
    connect, fail, report, Args, Counters, Counting, Group, Mode, APP_LINE, SERVER_NAME,
};
use rustls::crypto::ring as provider;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;

/// From creating the connection (key share, ClientHello) to the handshake complete: the only
/// function callgrind counts.
#[inline(never)]
fn handshake_only<'c>(
    cfg: Arc<ClientConfig>,
    mut sock: Counting<'c, TcpStream>,
) -> StreamOwned<ClientConnection, Counting<'c, TcpStream>> {
    let name = ServerName::try_from(SERVER_NAME).expect("server name");
    let mut conn =
        ClientConnection::new(cfg, name).unwrap_or_else(|e| fail(&format!("rustls: {e}")));
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .unwrap_or_else(|e| fail(&format!("rustls: handshake: {e}")));
    }
    // Anything still queued (the client Finished) goes out before the handshake is counted
    // as done, as with the other clients.
    while conn.wants_write() {
        conn.write_tls(&mut sock)
            .unwrap_or_else(|e| fail(&format!("rustls: write: {e}")));
    }
    StreamOwned::new(conn, sock)
}

fn main() {
    let args = Args::parse();
    if args.mode == Mode::Psk {
        println!(
            "n/a reason=rustls has no external (out-of-band) PSK support, only resumption tickets"
        );
        std::process::exit(3);
    }
    let group = match args.group {
        Group::X25519 => provider::kx_group::X25519,
        Group::P256 => provider::kx_group::SECP256R1,
    };
    let crypto = rustls::crypto::CryptoProvider {
        cipher_suites: vec![provider::cipher_suite::TLS13_AES_128_GCM_SHA256],
        kx_groups: vec![group],
        ..provider::default_provider()
    };
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(args.ca_der()))
        .unwrap_or_else(|e| fail(&format!("CA: {e}")));
    let cfg = ClientConfig::builder_with_provider(Arc::new(crypto))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap_or_else(|e| fail(&format!("rustls config: {e}")))
        .with_root_certificates(roots)
        .with_no_client_auth();
    let cfg = Arc::new(cfg);
    let counters = Counters::default();
    let sock = Counting::new(connect(args.port), &counters);

    let mut tls = handshake_only(cfg, sock);
    let counted = counters.snapshot();

    let negotiated = format!(
        "{} {} psk=false",
        tls.conn
            .negotiated_cipher_suite()
            .map_or("-".into(), |s| format!("{:?}", s.suite())),
        tls.conn
            .negotiated_key_exchange_group()
            .map_or("-".into(), |g| format!("{:?}", g.name())),
    );
    tls.write_all(APP_LINE)
        .unwrap_or_else(|e| fail(&format!("rustls: write: {e}")));
    tls.flush()
        .unwrap_or_else(|e| fail(&format!("rustls: flush: {e}")));
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    report(counted, &negotiated);
}
