//! mote: one TLS 1.3 handshake with TLS_AES_128_GCM_SHA256 and x25519 (or P-256 with
//! `--group p256`), the certificate chain validated against `--ca` with the name
//! sensor.example, or PSK-only (psk_dhe_ke). Driven by mote-std's blocking `TlsStream`.

use mote::{Client, ClientConfig, ExternalPsk};
use mote_bench_handshake::{
    connect, fail, report, Args, Counters, Counting, Group, Mode, APP_LINE, SERVER_NAME,
};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_std::{OsRng, TlsStream};
use mote_wire::{CipherSuite, NamedGroup};
use std::io::Write;
use std::net::TcpStream;

type Stream<'a, 'b, 'c> = TlsStream<'a, 'b, RustCrypto, Counting<'c, TcpStream>>;

/// Everything from creating the engine (key share, ClientHello) to the handshake complete:
/// the only function callgrind counts.
#[inline(never)]
fn handshake_only<'a, 'b, 'c>(
    cfg: &'a ClientConfig<'a>,
    now: mote::UnixTime,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
    sock: Counting<'c, TcpStream>,
) -> Stream<'a, 'b, 'c> {
    let client = Client::new(RustCrypto, cfg, &mut OsRng, now, rx, tx)
        .unwrap_or_else(|e| fail(&format!("mote: Client::new: {e}")));
    TlsStream::connect(client, sock).unwrap_or_else(|e| fail(&format!("mote: handshake: {e}")))
}

fn main() {
    let args = Args::parse();
    let suites = [CipherSuite::TLS_AES_128_GCM_SHA256];
    let groups = [match args.group {
        Group::X25519 => NamedGroup::X25519,
        Group::P256 => NamedGroup::SECP256R1,
    }];
    let ca = if args.mode == Mode::Cert {
        args.ca_der()
    } else {
        Vec::new()
    };
    let anchors;
    let mut cfg = ClientConfig::new();
    cfg.cipher_suites = &suites;
    cfg.groups = &groups;
    cfg.server_name = Some(SERVER_NAME);
    match args.mode {
        Mode::Cert => {
            anchors = [mote_x509::TrustAnchor::from_cert(&ca)
                .unwrap_or_else(|e| fail(&format!("CA: {e:?}")))];
            cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
                anchors: &anchors,
                name: mote_x509::ServerName::parse(SERVER_NAME),
            });
        }
        Mode::Psk => {
            cfg.psk = Some(ExternalPsk {
                identity: args.psk_identity.as_bytes(),
                key: &args.psk,
                hash: HashAlgorithm::Sha256,
            });
            cfg.psk_only = true;
        }
    }
    let mut bufs = mote_std::Buffers::full();
    let now = mote_std::now();
    let counters = Counters::default();
    let sock = Counting::new(connect(args.port), &counters);

    let mut tls = handshake_only(&cfg, now, &mut bufs.rx, &mut bufs.tx, sock);
    let counted = counters.snapshot();

    let n = tls.client().negotiated();
    let negotiated = format!(
        "{} {} psk={}",
        n.suite.map_or("-".into(), |s| format!("{s:?}")),
        n.group.map_or("-".into(), |g| format!("{g:?}")),
        n.psk
    );
    tls.write_all(APP_LINE)
        .unwrap_or_else(|e| fail(&format!("mote: write: {e}")));
    tls.flush()
        .unwrap_or_else(|e| fail(&format!("mote: flush: {e}")));
    let _ = tls.close();
    report(counted, &negotiated);
}
