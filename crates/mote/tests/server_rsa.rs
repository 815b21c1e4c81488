//! mote's Server with an RSA-2048 certificate, signing CertificateVerify with
//! `rsa_pss_rsae_sha256` through mote-crypto's `RsaPssSigner` (feature `alloc`), over TCP on
//! 127.0.0.1: against `openssl s_client -tls1_3` (Debian package `openssl`; a missing one
//! fails the test), and against mote's own Client trusting the test CA. In each case a line
//! goes from client to server and the server's answer comes back.

mod common;

use common::tls_serve::{identity_config, serve_line};
use common::{pump, OsRng, Peer, Pki};
use mote::{Client, ClientConfig, Status, UnixTime};
use mote_crypto::rustcrypto::{RsaPssSigner, RustCrypto};
use mote_crypto::Signer;
use mote_wire::SignatureScheme;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

const NAME: &str = "collector.example";

/// The server's certificate (DER) and its RSA-PSS signer (PKCS #8 key, OS generator), from
/// a [`Pki`] made with `openssl req -newkey rsa:2048`.
fn identity(pki: &Pki) -> (Vec<u8>, RsaPssSigner<mote_std::OsRng>) {
    let chain = mote_std::load_certificates(Path::new(&pki.path("server.pem"))).unwrap();
    let key = match mote_std::load_private_key(Path::new(&pki.path("server.key"))).unwrap() {
        mote_std::PrivateKey::Pkcs8(der) => der,
        other => panic!("openssl wrote an unexpected key form: {other:?}"),
    };
    let signer = RsaPssSigner::from_pkcs8_der(&key, mote_std::OsRng).unwrap();
    assert_eq!(signer.modulus_bits(), 2048);
    assert_eq!(signer.scheme(), SignatureScheme::RSA_PSS_RSAE_SHA256);
    (chain.into_iter().next().unwrap(), signer)
}

#[test]
fn rsa_pss_certificate_with_s_client() {
    let pki = Pki::new("mote-server-rsa", "rsa", NAME);
    let (leaf, signer) = identity(&pki);
    let chain = [leaf.as_slice()];
    let cfg = identity_config(&chain, &signer);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ca = pki.path("ca.pem");
    let mut client = Peer::spawn(
        Command::new("openssl")
            .args(["s_client", "-tls1_3", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-CAfile", &ca, "-servername", NAME, "-verify_return_error"]),
    );
    let reading = "[{\"n\":\"temperature\",\"v\":21.4,\"key\":\"rsa-2048\"}]";
    client.stdin(&format!("{reading}\n"));
    let (got, neg) = serve_line(&listener, &cfg)
        .unwrap_or_else(|e| panic!("{e}\ns_client said:\n{}", client.output()));
    assert_eq!(got, reading);
    assert!(
        client.wait_for(&format!("ack {reading}"), 10),
        "s_client did not print the answer:\n{}",
        client.output()
    );
    let out = client.output();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
    assert!(out.contains("Peer signature type: RSA-PSS"), "{out}");
    assert!(out.contains("Peer signing digest: SHA256"), "{out}");
    assert_eq!(
        neg.server_signature,
        Some(SignatureScheme::RSA_PSS_RSAE_SHA256)
    );
}

#[test]
fn rsa_pss_certificate_with_mote_client() {
    let pki = Pki::new("mote-server-rsa-mote", "rsa", NAME);
    let (leaf, signer) = identity(&pki);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reading = "[{\"n\":\"temperature\",\"v\":21.4,\"peer\":\"mote\"}]";

    let (server, client_neg, answer) = std::thread::scope(|scope| {
        // The signer moves to the server's thread: its generator is in a `RefCell`, so it
        // is `Send` but not `Sync`.
        let listener = &listener;
        let server = scope.spawn(move || {
            let chain = [leaf.as_slice()];
            let cfg = identity_config(&chain, &signer);
            serve_line(listener, &cfg)
        });

        let anchors = [mote_x509::TrustAnchor::from_cert(&pki.ca_der).unwrap()];
        let mut cfg = ClientConfig::new();
        cfg.server_name = Some(NAME);
        cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
            anchors: &anchors,
            name: mote_x509::ServerName::parse(NAME),
        });
        let (mut rx, mut tx) = (vec![0u8; 40 * 1024], vec![0u8; 8 * 1024]);
        let mut c = Client::new(
            RustCrypto,
            &cfg,
            &mut OsRng,
            UnixTime::from_secs(mote_std::unix_time()),
            &mut rx,
            &mut tx,
        )
        .unwrap();
        let mut sock = common::connect(port);
        pump(&mut c, &mut sock, |c| c.status() == Status::Connected).expect("handshake");
        c.write(format!("{reading}\n").as_bytes()).unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"\n") {
            pump(&mut c, &mut sock, |c| c.has_app_data()).expect("answer");
            if !c.has_app_data() {
                break;
            }
            let mut buf = [0u8; 512];
            while c.has_app_data() {
                let n = c.read(&mut buf);
                answer.extend_from_slice(&buf[..n]);
            }
        }
        let neg = *c.negotiated();
        c.close();
        let _ = pump(&mut c, &mut sock, |c| c.transmit().is_empty());
        (
            server.join().unwrap(),
            neg,
            String::from_utf8_lossy(&answer).into_owned(),
        )
    });
    let (line, server_neg) = server.expect("server");
    assert_eq!(line, reading);
    assert_eq!(answer, format!("ack {reading}\n"));
    for neg in [client_neg, server_neg] {
        assert_eq!(
            neg.server_signature,
            Some(SignatureScheme::RSA_PSS_RSAE_SHA256)
        );
        assert!(!neg.psk);
    }
}
