//! mote's Server against a real `openssl s_client -tls1_3` (Debian package `openssl`) on
//! 127.0.0.1: the test thread accepts on a free port and drives the server over the socket.
//! Certificate authentication (the chain checked by s_client against `-CAfile`) and external
//! PSK with TLS_AES_128_GCM_SHA256 and TLS_AES_128_CCM_8_SHA256; in each case the server
//! must receive the line s_client sent and s_client must print the server's answer. Client
//! certificates: s_client `-cert/-key` with a device certificate (rcgen) the server requires.

mod common;

use common::tls_serve::{identity_config, serve_line};
use common::{Peer, Pki};
use mote::{ExternalPsk, ServerConfig, ServerIdentity};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use std::net::TcpListener;
use std::process::Command;

const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const NAME: &str = "collector.example";

fn psk() -> Vec<u8> {
    (0..PSK_HEX.len() / 2)
        .map(|i| u8::from_str_radix(&PSK_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn s_client(port: u16, args: &[&str]) -> Peer {
    Peer::spawn(
        Command::new("openssl")
            .args(["s_client", "-tls1_3", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(args),
    )
}

fn run(cfg: &ServerConfig<'_>, args: &[&str], what: &str) -> (Peer, mote::Negotiated) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = s_client(port, args);
    let reading = format!("[{{\"n\":\"temperature\",\"v\":21.4,\"case\":\"{what}\"}}]");
    client.stdin(&format!("{reading}\n"));
    let (got, neg) = serve_line(&listener, cfg)
        .unwrap_or_else(|e| panic!("{what}: {e}\ns_client said:\n{}", client.output()));
    assert_eq!(got.trim(), reading, "{what}");
    assert!(
        client.wait_for(&format!("ack {reading}"), 10),
        "{what}: s_client did not print the answer:\n{}",
        client.output()
    );
    (client, neg)
}

#[test]
fn certificate_with_s_client() {
    certificate_case("mote-server", None, None);
}

#[test]
fn hello_retry_request_with_s_client() {
    // s_client sends an x25519 share; the server takes only secp256r1 and asks for it.
    certificate_case(
        "mote-server-hrr",
        Some(&[mote_wire::NamedGroup::SECP256R1]),
        None,
    );
}

#[test]
fn hello_retry_request_cookie_with_s_client() {
    // The same, with the stateless cookie that s_client must echo.
    let key = mote::TicketKey {
        id: *b"ck01",
        key: [0x44; 16],
    };
    certificate_case(
        "mote-server-cookie",
        Some(&[mote_wire::NamedGroup::SECP256R1]),
        Some(key),
    );
}

fn certificate_case(
    tag: &str,
    groups: Option<&[mote_wire::NamedGroup]>,
    cookie_key: Option<mote::TicketKey>,
) {
    let pki = Pki::new(tag, "ec", NAME);
    let (leaf, signer) = pki.ecdsa_leaf_and_signer();
    let chain = [leaf.as_slice()];
    let mut cfg = identity_config(&chain, &signer);
    if let Some(g) = groups {
        cfg.groups = g;
    }
    cfg.cookie_key = cookie_key;
    let ca = pki.path("ca.pem");
    let (client, neg) = run(
        &cfg,
        &[
            "-CAfile",
            &ca,
            "-servername",
            NAME,
            "-verify_return_error",
            "-groups",
            "X25519:P-256",
        ],
        tag,
    );
    let out = client.output();
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
    assert_eq!(neg.hello_retry, groups.is_some());
    assert_eq!(
        neg.server_signature,
        Some(mote_wire::SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
}

#[test]
fn psk_each_suite_with_s_client() {
    let key = psk();
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &key,
        hash: HashAlgorithm::Sha256,
    }];
    let mut cfg = ServerConfig::new();
    cfg.psks = &psks;
    for suite in ["TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_8_SHA256"] {
        let (client, neg) = run(
            &cfg,
            &[
                "-psk",
                PSK_HEX,
                "-psk_identity",
                "sensor-0001",
                "-ciphersuites",
                suite,
            ],
            suite,
        );
        let out = client.output();
        assert!(out.contains(&format!("Cipher is {suite}")), "{out}");
        assert!(neg.psk && neg.group.is_some(), "{neg:?}");
    }
}

#[test]
fn client_certificate_with_s_client() {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let pki = Pki::new("mote-server-client-auth", "ec", NAME);
    let (leaf, signer) = pki.ecdsa_leaf_and_signer();
    // The device CA and certificate.
    let year = 1970 + (mote_std::unix_time() / 31_556_952) as i32;
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "mote device CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let device_ca = p.self_signed(&ca_key).unwrap();
    let device_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "sensor-0001");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let device = p.signed_by(&device_key, &device_ca, &ca_key).unwrap();
    std::fs::write(pki.dir.join("device.pem"), device.pem()).unwrap();
    std::fs::write(pki.dir.join("device.key"), device_key.serialize_pem()).unwrap();

    let chain = [leaf.as_slice()];
    let anchors = [mote_x509::TrustAnchor::from_cert(device_ca.der()).unwrap()];
    let mut cfg = ServerConfig::new();
    cfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    cfg.client_auth = mote::ClientAuth::Required(&anchors);
    let ca = pki.path("ca.pem");
    let cert = pki.path("device.pem");
    let key = pki.path("device.key");
    let (_client, neg) = run(
        &cfg,
        &[
            "-CAfile",
            &ca,
            "-servername",
            NAME,
            "-verify_return_error",
            "-cert",
            &cert,
            "-key",
            &key,
        ],
        "client-certificate",
    );
    let spki = device_key.public_key_der();
    let id = mote_x509::PinnedSpki::of_spki(&RustCrypto, &spki).sha256;
    assert_eq!(
        neg.client_identity,
        Some(mote::ClientId::CertificateSpki(id))
    );
}

#[test]
fn resumption_with_s_client_sess_out_sess_in() {
    let pki = Pki::new("mote-server-resume", "ec", NAME);
    let (leaf, signer) = pki.ecdsa_leaf_and_signer();
    let chain = [leaf.as_slice()];
    let keys = [mote::TicketKey {
        id: *b"tk01",
        key: [0x55; 16],
    }];
    let mut cfg = ServerConfig::new();
    cfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    cfg.ticket_keys = &keys;
    let ca = pki.path("ca.pem");
    let sess = pki.path("session.pem");
    let common = ["-CAfile", &ca, "-servername", NAME, "-verify_return_error"];
    let mut first = common.to_vec();
    first.extend(["-sess_out", &sess]);
    let (client, neg) = run(&cfg, &first, "first");
    assert!(!neg.resumed);
    drop(client);
    assert!(
        std::fs::metadata(&sess).is_ok_and(|m| m.len() > 0),
        "s_client saved no session"
    );
    let mut second = common.to_vec();
    second.extend(["-sess_in", &sess]);
    let (client, neg) = run(&cfg, &second, "second");
    assert!(neg.resumed && neg.psk, "{neg:?}");
    let out = client.output();
    assert!(out.contains("Reused"), "{out}");
}
