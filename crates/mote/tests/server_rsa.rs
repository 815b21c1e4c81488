//! mote's Server with an RSA-2048 certificate, signing CertificateVerify with
//! `rsa_pss_rsae_sha256` through mote-crypto's `RsaPssSigner` (feature `alloc`), over TCP on
//! 127.0.0.1: against `openssl s_client -tls1_3` (Debian package `openssl`; a missing one
//! fails the test), and against mote's own Client trusting the test CA. In each case a line
//! goes from client to server and the server's answer comes back.

mod common;

use common::{pump, OsRng, Peer, Pki};
use mote::{Client, ClientConfig, Server, ServerConfig, ServerIdentity, Status, UnixTime};
use mote_crypto::rustcrypto::{RsaPssSigner, RustCrypto};
use mote_crypto::Signer;
use mote_wire::SignatureScheme;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

fn flush(s: &mut Server<'_, '_, RustCrypto>, sock: &mut TcpStream) -> Result<(), String> {
    while !s.transmit().is_empty() {
        let n = sock.write(s.transmit()).map_err(|e| e.to_string())?;
        s.transmit_done(n);
    }
    Ok(())
}

/// Reads once from the socket into the server; false at end of stream.
fn feed(s: &mut Server<'_, '_, RustCrypto>, sock: &mut TcpStream) -> Result<bool, String> {
    let buf = s.recv_buf();
    if buf.is_empty() {
        return Err("receive buffer full".into());
    }
    let n = sock.read(buf).map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(false);
    }
    let r = s.recv_done(n, &mut OsRng);
    flush(s, sock)?;
    r.map_err(|e| format!("server failed: {e}"))?;
    Ok(true)
}

/// Accepts one connection, completes the handshake, reads a line, answers `ack <line>` and
/// closes. Returns the line and what was negotiated.
fn serve_one(
    listener: &TcpListener,
    cfg: &ServerConfig<'_>,
) -> Result<(String, mote::Negotiated), String> {
    let (mut sock, _) = listener.accept().map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut rx, mut tx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let mut s = Server::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        UnixTime::from_secs(mote_std::unix_time()),
        &mut rx,
        &mut tx,
    )
    .map_err(|e| e.to_string())?;
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        if !feed(&mut s, &mut sock)? {
            return Err("client closed before sending a line".into());
        }
        let mut buf = [0u8; 512];
        while s.has_app_data() {
            let n = s.read(&mut buf);
            line.extend_from_slice(&buf[..n]);
        }
    }
    let line = String::from_utf8_lossy(&line).trim_end().to_string();
    let answer = format!("ack {line}\n");
    s.write(answer.as_bytes()).map_err(|e| e.to_string())?;
    s.close();
    flush(&mut s, &mut sock)?;
    while s.status() == Status::Connected {
        match feed(&mut s, &mut sock) {
            Ok(true) => {}
            _ => break,
        }
    }
    Ok((line, *s.negotiated()))
}

fn server_config<'a>(chain: &'a [&'a [u8]], signer: &'a dyn Signer) -> ServerConfig<'a> {
    let mut cfg = ServerConfig::new();
    cfg.identity = Some(ServerIdentity { chain, signer });
    cfg
}

#[test]
fn rsa_pss_certificate_with_s_client() {
    let pki = Pki::new("mote-server-rsa", "rsa", NAME);
    let (leaf, signer) = identity(&pki);
    let chain = [leaf.as_slice()];
    let cfg = server_config(&chain, &signer);
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
    let (got, neg) = serve_one(&listener, &cfg)
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
            let cfg = server_config(&chain, &signer);
            serve_one(listener, &cfg)
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
