//! Client certificates on mote's Server, with mote's Client over an in-memory pipe: required
//! and sent (the device identity is the SHA-256 of the client key's SPKI), required but none
//! sent (certificate_required on the wire), optional and none (connected, no identity), a
//! certificate from another CA (unknown_ca), and a PSK client (identity = the PSK, no
//! CertificateRequest).

mod common;

use common::OsRng;
use mote::{
    Client, ClientAuth, ClientConfig, ClientId, ClientIdentity, Error, ExternalPsk, Server,
    ServerConfig, ServerIdentity, Status, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::HashAlgorithm;
use mote_wire::AlertDescription;
use mote_x509::{PinnedSpki, ServerAuth, ServerName, TrustAnchor};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

const NAME: &str = "collector.example";

type C<'a, 'b> = Client<'a, 'b, RustCrypto>;
type S<'a, 'b> = Server<'a, 'b, RustCrypto>;

/// Moves bytes both ways until neither side has anything to send, whatever fails.
fn shuttle(c: &mut C<'_, '_>, s: &mut S<'_, '_>) {
    for _ in 0..100 {
        let mut moved = false;
        while !c.transmit().is_empty() && !s.recv_buf().is_empty() {
            let buf = s.recv_buf();
            let n = c.transmit().len().min(buf.len());
            buf[..n].copy_from_slice(&c.transmit()[..n]);
            c.transmit_done(n);
            moved = true;
            let _ = s.recv_done(n, &mut OsRng);
        }
        while !s.transmit().is_empty() && !c.recv_buf().is_empty() {
            let buf = c.recv_buf();
            let n = s.transmit().len().min(buf.len());
            buf[..n].copy_from_slice(&s.transmit()[..n]);
            s.transmit_done(n);
            moved = true;
            let _ = c.recv_done(n, &mut OsRng);
        }
        if !moved {
            return;
        }
    }
    panic!("no progress");
}

struct Ca {
    der: Vec<u8>,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn year() -> i32 {
    1970 + (mote_std::unix_time() / 31_556_952) as i32
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(year() - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year() + 2, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    Ca {
        der: cert.der().to_vec(),
        cert,
        key,
    }
}

/// A leaf (DER, PKCS#8 key, DER SPKI) issued by `ca`.
fn leaf(ca: &Ca, cn: &str, sans: Vec<String>, eku: ExtendedKeyUsagePurpose) -> [Vec<u8>; 3] {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(sans).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    p.not_before = rcgen::date_time_ymd(year() - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year() + 2, 1, 1);
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    [
        cert.der().to_vec(),
        key.serialize_der(),
        key.public_key_der(),
    ]
}

struct Outcome {
    client: Status,
    server: Status,
    client_error: Option<Error>,
    server_error: Option<Error>,
    server_neg: mote::Negotiated,
    client_neg: mote::Negotiated,
    received: Vec<u8>,
}

/// Runs a handshake and one line from the client.
fn run(ccfg: &ClientConfig<'_>, scfg: &ServerConfig<'_>) -> Outcome {
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut c = Client::new(RustCrypto, ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s);
    let mut received = Vec::new();
    if c.status() == Status::Connected && s.status() == Status::Connected {
        c.write(b"reading 1\n").unwrap();
        shuttle(&mut c, &mut s);
        let mut buf = [0u8; 64];
        while s.has_app_data() {
            let n = s.read(&mut buf);
            received.extend_from_slice(&buf[..n]);
        }
    }
    Outcome {
        client: c.status(),
        server: s.status(),
        client_error: c.error(),
        server_error: s.error(),
        server_neg: *s.negotiated(),
        client_neg: *c.negotiated(),
        received,
    }
}

struct Pki {
    server_ca: Ca,
    server: [Vec<u8>; 3],
    device_ca: Ca,
    device: [Vec<u8>; 3],
    other_ca: Ca,
    stranger: [Vec<u8>; 3],
}

fn pki() -> Pki {
    let server_ca = ca("mote server CA");
    let server = leaf(
        &server_ca,
        "collector",
        vec![NAME.into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let device_ca = ca("mote device CA");
    let device = leaf(
        &device_ca,
        "sensor-0001",
        vec![],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let other_ca = ca("someone else's CA");
    let stranger = leaf(
        &other_ca,
        "sensor-0001",
        vec![],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    Pki {
        server_ca,
        server,
        device_ca,
        device,
        other_ca,
        stranger,
    }
}

/// Runs `f` with a server config (certificate, `client_auth` over the device CA) and a
/// client config trusting the server, with `client_cert` as its identity.
fn case(
    pki: &Pki,
    required: bool,
    client_cert: Option<&[Vec<u8>; 3]>,
    check: impl FnOnce(Outcome),
) {
    let server_signer = EcdsaP256Signer::from_pkcs8_der(&pki.server[1]).unwrap();
    let server_chain = [pki.server[0].as_slice()];
    let device_anchors = [TrustAnchor::from_cert(&pki.device_ca.der).unwrap()];
    let mut scfg = ServerConfig::new();
    scfg.identity = Some(ServerIdentity {
        chain: &server_chain,
        signer: &server_signer,
    });
    scfg.client_auth = if required {
        ClientAuth::Required(&device_anchors)
    } else {
        ClientAuth::Optional(&device_anchors)
    };
    let server_anchors = [TrustAnchor::from_cert(&pki.server_ca.der).unwrap()];
    let mut ccfg = ClientConfig::new();
    ccfg.server_name = Some(NAME);
    ccfg.server_auth = Some(ServerAuth::Chain {
        anchors: &server_anchors,
        name: ServerName::parse(NAME),
    });
    let signer = client_cert.map(|c| EcdsaP256Signer::from_pkcs8_der(&c[1]).unwrap());
    let chain = client_cert.map(|c| [c[0].as_slice()]);
    if let (Some(signer), Some(chain)) = (signer.as_ref(), chain.as_ref()) {
        ccfg.client_identity = Some(ClientIdentity { chain, signer });
    }
    check(run(&ccfg, &scfg));
}

fn spki_id(spki: &[u8]) -> ClientId {
    ClientId::CertificateSpki(PinnedSpki::of_spki(&RustCrypto, spki).sha256)
}

#[test]
fn required_and_sent() {
    let pki = pki();
    for required in [true, false] {
        case(&pki, required, Some(&pki.device), |o| {
            assert_eq!(o.server, Status::Connected, "{:?}", o.server_error);
            assert_eq!(o.client, Status::Connected, "{:?}", o.client_error);
            assert!(o.client_neg.client_auth_requested);
            assert!(o.client_neg.client_cert_sent);
            assert_eq!(o.server_neg.client_identity, Some(spki_id(&pki.device[2])));
            assert_eq!(o.received, b"reading 1\n");
        });
    }
}

#[test]
fn required_but_none_is_certificate_required() {
    let pki = pki();
    case(&pki, true, None, |o| {
        assert_eq!(o.server, Status::Failed);
        assert_eq!(
            o.server_error,
            Some(Error::Peer(mote::PeerMisbehaved::CertificateRequired))
        );
        // The client read the alert from the wire.
        assert_eq!(
            o.client_error,
            Some(Error::AlertReceived(AlertDescription::CERTIFICATE_REQUIRED))
        );
        assert!(o.received.is_empty());
    });
}

#[test]
fn optional_and_none_connects_without_identity() {
    let pki = pki();
    case(&pki, false, None, |o| {
        assert_eq!(o.server, Status::Connected, "{:?}", o.server_error);
        assert_eq!(o.client, Status::Connected, "{:?}", o.client_error);
        assert!(o.client_neg.client_auth_requested);
        assert!(!o.client_neg.client_cert_sent);
        assert_eq!(o.server_neg.client_identity, None);
        assert_eq!(o.received, b"reading 1\n");
    });
}

#[test]
fn other_ca_is_unknown_ca() {
    let pki = pki();
    let _ = &pki.other_ca;
    for required in [true, false] {
        case(&pki, required, Some(&pki.stranger), |o| {
            assert_eq!(o.server, Status::Failed);
            assert_eq!(
                o.server_error.and_then(|e| e.alert()),
                Some(AlertDescription::UNKNOWN_CA)
            );
            assert_eq!(
                o.client_error,
                Some(Error::AlertReceived(AlertDescription::UNKNOWN_CA))
            );
            assert!(o.received.is_empty());
        });
    }
}

#[test]
fn server_certificate_as_client_certificate_is_refused() {
    // A certificate from the right CA but for serverAuth only (extKeyUsage).
    let pki = pki();
    let wrong_use = leaf(
        &pki.device_ca,
        "sensor-0001",
        vec![],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    case(&pki, true, Some(&wrong_use), |o| {
        assert_eq!(o.server, Status::Failed);
        assert!(matches!(o.server_error, Some(Error::Certificate(_))));
        assert!(o.received.is_empty());
    });
}

#[test]
fn psk_client_is_identified_by_its_psk() {
    let pki = pki();
    let device_anchors = [TrustAnchor::from_cert(&pki.device_ca.der).unwrap()];
    let psk = ExternalPsk {
        identity: b"sensor-0002",
        key: &[5; 32],
        hash: HashAlgorithm::Sha256,
    };
    let other = ExternalPsk {
        identity: b"sensor-0001",
        key: &[6; 32],
        hash: HashAlgorithm::Sha256,
    };
    let psks = [other, psk];
    let mut scfg = ServerConfig::new();
    scfg.psks = &psks;
    scfg.client_auth = ClientAuth::Required(&device_anchors);
    let mut ccfg = ClientConfig::new();
    ccfg.psk = Some(psk);
    ccfg.psk_only = true;
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s);
    assert_eq!(s.status(), Status::Connected, "{:?}", s.error());
    assert_eq!(c.status(), Status::Connected, "{:?}", c.error());
    // RFC 8446 section 4.3.2: no CertificateRequest in a PSK handshake.
    assert!(!c.negotiated().client_auth_requested);
    assert_eq!(s.negotiated().client_identity, Some(ClientId::Psk(1)));
    assert_eq!(s.client_psk_identity(), Some(&b"sensor-0002"[..]));
}

#[test]
fn signature_by_another_key_is_decrypt_error() {
    // The device's certificate, but CertificateVerify signed by the stranger's key.
    let pki = pki();
    let mut mixed = pki.device.clone();
    mixed[1] = pki.stranger[1].clone();
    case(&pki, true, Some(&mixed), |o| {
        assert_eq!(o.server, Status::Failed);
        assert_eq!(
            o.client_error,
            Some(Error::AlertReceived(AlertDescription::DECRYPT_ERROR))
        );
        assert_eq!(o.server_neg.client_identity, None);
        assert!(o.received.is_empty());
    });
}
