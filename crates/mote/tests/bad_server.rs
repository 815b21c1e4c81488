//! Refusals checked from the wire: a man-in-the-middle proxy on 127.0.0.1 sits between
//! mote's client and a real `openssl s_server` (Debian package `openssl`), tampers with the
//! server's first flight, and reports the alert the client sends back (decrypted with the
//! client handshake traffic secret when it is protected). Each case checks that alert, the
//! engine's own error, and that the server received the alert too.
//!
//! The proxy learns the traffic secrets through the client's key log (`ClientConfig::key_log`),
//! so it can decrypt the server's handshake records, alter one message and re-encrypt it
//! validly: the client's refusal is then the check it exists for, not a MAC failure.

mod common;
#[path = "bad_server/proxy.rs"]
mod proxy;

use common::{connect, pump, OsRng, Peer, Pki, SharedKeyLog};
use mote::{Client, ClientConfig, Error, PeerMisbehaved, Status};
use mote_crypto::rustcrypto::RustCrypto;
use mote_wire::{AlertDescription as A, CipherSuite};
use proxy::{Seen, Tamper};

const NAME: &str = "sensor.example";

/// `openssl s_server` for one connection with `cert`/`key` from `pki`.
fn server(pki: &Pki, cert: &str) -> (Peer, u16) {
    common::s_server(
        1,
        &[
            "-cert",
            &pki.path(cert),
            "-key",
            &pki.path("server.key"),
            "-ciphersuites",
            "TLS_AES_128_GCM_SHA256",
        ],
    )
}

/// What the client and the proxy saw.
struct Outcome {
    error: Option<Error>,
    seen: Seen,
}

/// Runs mote's client through the proxy, trusting `anchor` (DER) and checking `name`.
fn through_proxy(server_port: u16, tamper: Tamper, anchor: &[u8], name: &str) -> Outcome {
    let keys = SharedKeyLog::default();
    let (port, proxy) = proxy::start(server_port, tamper.clone(), keys.clone());
    let anchors = [mote_x509::TrustAnchor::from_cert(anchor).unwrap()];
    let mut cfg = ClientConfig::new();
    // One suite, so the proxy can offer the client one it did not offer.
    let suites = [CipherSuite::TLS_AES_128_GCM_SHA256];
    cfg.cipher_suites = &suites;
    cfg.server_name = Some(name);
    cfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse(name),
    });
    cfg.key_log = Some(&keys);
    let (mut rx, mut tx) = (vec![0u8; 40 * 1024], vec![0u8; 8 * 1024]);
    let mut c = Client::new(
        RustCrypto,
        &cfg,
        &mut OsRng,
        mote::UnixTime::from_secs(common::unix_now()),
        &mut rx,
        &mut tx,
    )
    .unwrap();
    let mut s = connect(port);
    let r = pump(&mut c, &mut s, |c| c.status() == Status::Connected);
    // Closing our side ends the proxy's wait if the client sent nothing.
    drop(s);
    let seen = proxy
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("{tamper:?}: proxy: {e} (client: {r:?})"));
    assert!(r.is_err(), "{tamper:?}: the client accepted the server");
    assert_eq!(c.status(), Status::Failed);
    Outcome {
        error: c.error(),
        seen,
    }
}

/// The client sent `alert` as a fatal alert, protected or not as expected, its error owes
/// exactly that alert, and the server (which the proxy relays the alert to) printed it.
fn check(o: &Outcome, alert: A, encrypted: bool, server: &Peer) {
    assert_eq!(
        o.seen.alert,
        [2, alert.0],
        "expected a fatal {alert}, the client sent {:?} (error: {:?})",
        o.seen.alert,
        o.error
    );
    assert_eq!(o.seen.encrypted, encrypted, "alert protection");
    let e = o.error.expect("the client has no error");
    assert_eq!(e.alert(), Some(alert), "{e:?}");
    let needle = format!("SSL alert number {}", alert.0);
    assert!(
        server.wait_for(&needle, 10),
        "s_server did not report the client's {alert}:\n{}",
        server.output()
    );
}

#[test]
fn a_flipped_bit_in_an_encrypted_record_is_bad_record_mac() {
    let pki = Pki::new("mitm-mac", "ec", NAME);
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::FlipFirstEncryptedRecord, &pki.ca_der, NAME);
    check(&o, A::BAD_RECORD_MAC, true, &srv);
    assert_eq!(o.error, Some(Error::Peer(PeerMisbehaved::BadRecordMac)));
}

#[test]
fn an_altered_certificate_verify_is_decrypt_error() {
    let pki = Pki::new("mitm-cv", "ec", NAME);
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::CertificateVerifySignature, &pki.ca_der, NAME);
    check(&o, A::DECRYPT_ERROR, true, &srv);
    let e = o.error.unwrap().to_string();
    assert!(e.contains("CertificateVerify"), "{e}");
}

#[test]
fn an_altered_finished_is_decrypt_error() {
    let pki = Pki::new("mitm-fin", "ec", NAME);
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::FinishedVerifyData, &pki.ca_der, NAME);
    check(&o, A::DECRYPT_ERROR, true, &srv);
    assert_eq!(
        o.error,
        Some(Error::Peer(PeerMisbehaved::DecryptError(
            "the server's Finished"
        )))
    );
}

#[test]
fn an_expired_certificate_is_certificate_expired() {
    let pki = Pki::new("mitm-expired", "ec", NAME);
    pki.expired_leaf(NAME);
    let (srv, port) = server(&pki, "expired.pem");
    let o = through_proxy(port, Tamper::Nothing, &pki.ca_der, NAME);
    check(&o, A::CERTIFICATE_EXPIRED, true, &srv);
    assert!(
        matches!(
            o.error,
            Some(Error::Certificate(mote_x509::X509Error::Expired {
                index: 0,
                not_after: 1_580_515_200,
                ..
            }))
        ),
        "{:?}",
        o.error
    );
}

#[test]
fn a_wrong_name_is_bad_certificate() {
    let pki = Pki::new("mitm-name", "ec", NAME);
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::Nothing, &pki.ca_der, "other.example");
    // mote-x509 maps a name mismatch to bad_certificate.
    check(&o, A::BAD_CERTIFICATE, true, &srv);
    assert!(
        matches!(
            o.error,
            Some(Error::Certificate(mote_x509::X509Error::NameMismatch {
                index: 0
            }))
        ),
        "{:?}",
        o.error
    );
}

#[test]
fn an_unknown_issuer_is_unknown_ca() {
    let pki = Pki::new("mitm-ca", "ec", NAME);
    let other = common::unrelated_ca("mitm-ca", "another CA");
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::Nothing, &other, NAME);
    check(&o, A::UNKNOWN_CA, true, &srv);
    assert!(
        matches!(
            o.error,
            Some(Error::Certificate(mote_x509::X509Error::UnknownIssuer {
                index: 0
            }))
        ),
        "{:?}",
        o.error
    );
}

#[test]
fn an_impostor_ca_with_the_issuers_name_is_bad_certificate() {
    // Another CA with the same subject name but its own key: the name matches the anchor,
    // the signature on the server's certificate does not verify with it.
    let pki = Pki::new("mitm-impostor", "ec", NAME);
    let other = Pki::new("mitm-impostor-other", "ec", NAME);
    let (srv, port) = server(&pki, "server.pem");
    let o = through_proxy(port, Tamper::Nothing, &other.ca_der, NAME);
    check(&o, A::BAD_CERTIFICATE, true, &srv);
    assert!(
        matches!(
            o.error,
            Some(Error::Certificate(mote_x509::X509Error::BadSignature {
                index: 0
            }))
        ),
        "{:?}",
        o.error
    );
}

#[test]
fn plaintext_garbage_instead_of_server_hello() {
    let pki = Pki::new("mitm-garbage", "ec", NAME);
    // RFC 8446 section 6.2: a message that does not decode is decode_error; section 5: an
    // unexpected record type, or a handshake message out of order (section 4), is
    // unexpected_message.
    let cases: [(&str, Vec<u8>, A); 4] = [
        (
            "a ServerHello cut short",
            vec![22, 3, 3, 0, 7, 2, 0, 0, 3, 0xde, 0xad, 0xbe],
            A::DECODE_ERROR,
        ),
        (
            "EncryptedExtensions in the clear",
            vec![22, 3, 3, 0, 6, 8, 0, 0, 2, 0, 0],
            A::UNEXPECTED_MESSAGE,
        ),
        (
            "application data before any key",
            vec![23, 3, 3, 0, 4, 1, 2, 3, 4],
            A::UNEXPECTED_MESSAGE,
        ),
        (
            "a record of an unknown content type",
            vec![0x63, 3, 3, 0, 4, 1, 2, 3, 4],
            A::UNEXPECTED_MESSAGE,
        ),
    ];
    for (what, garbage, alert) in cases {
        let (srv, port) = server(&pki, "server.pem");
        let o = through_proxy(port, Tamper::ReplaceServerHello(garbage), &pki.ca_der, NAME);
        assert_eq!(
            o.seen.alert,
            [2, alert.0],
            "{what}: expected {alert}, got {:?} ({:?})",
            o.seen.alert,
            o.error
        );
        check(&o, alert, false, &srv);
    }
}

#[test]
fn a_server_hello_with_a_suite_not_offered_is_illegal_parameter() {
    let pki = Pki::new("mitm-suite", "ec", NAME);
    // The client offers only TLS_AES_128_GCM_SHA256: AES-256-GCM (which mote implements)
    // and an unassigned value are both suites it did not offer (RFC 8446 4.1.3).
    for suite in [CipherSuite::TLS_AES_256_GCM_SHA384.0, 0x13ff] {
        let (srv, port) = server(&pki, "server.pem");
        let o = through_proxy(port, Tamper::ServerHelloSuite(suite), &pki.ca_der, NAME);
        check(&o, A::ILLEGAL_PARAMETER, false, &srv);
        assert_eq!(
            o.error,
            Some(Error::Peer(PeerMisbehaved::IllegalParameter(
                "cipher_suite"
            ))),
            "{suite:#06x}"
        );
    }
}
