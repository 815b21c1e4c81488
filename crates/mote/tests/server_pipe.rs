//! mote's Server against mote's own Client over an in-memory pipe (no sockets): external
//! PSK with psk_dhe_ke and psk_ke, and ECDSA P-256 certificates (rcgen), with each suite;
//! application data both ways, a KeyUpdate from the client, close_notify.

mod common;

use common::OsRng;
use mote::{
    Client, ClientConfig, ExternalPsk, Server, ServerConfig, ServerIdentity, Status, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::{HashAlgorithm, SuiteInfo};
use mote_wire::{CipherSuite, NamedGroup, PskKeyExchangeMode, SignatureScheme};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

const NAME: &str = "collector.example";
const KEY: [u8; 32] = [7; 32];

type C<'a, 'b> = Client<'a, 'b, RustCrypto>;
type S<'a, 'b> = Server<'a, 'b, RustCrypto>;

/// Moves bytes both ways until neither side has anything to send.
fn shuttle(c: &mut C<'_, '_>, s: &mut S<'_, '_>) -> Result<(), String> {
    for _ in 0..100 {
        let mut moved = false;
        while !c.transmit().is_empty() {
            let buf = s.recv_buf();
            let n = c.transmit().len().min(buf.len());
            if n == 0 {
                return Err("server receive buffer full".into());
            }
            buf[..n].copy_from_slice(&c.transmit()[..n]);
            c.transmit_done(n);
            moved = true;
            s.recv_done(n, &mut OsRng)
                .map_err(|e| format!("server: {e}"))?;
        }
        while !s.transmit().is_empty() {
            let buf = c.recv_buf();
            let n = s.transmit().len().min(buf.len());
            if n == 0 {
                return Err("client receive buffer full".into());
            }
            buf[..n].copy_from_slice(&s.transmit()[..n]);
            s.transmit_done(n);
            moved = true;
            c.recv_done(n, &mut OsRng)
                .map_err(|e| format!("client: {e}"))?;
        }
        if !moved {
            return Ok(());
        }
    }
    Err("no progress".into())
}

fn read_all_client(c: &mut C<'_, '_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while c.has_app_data() {
        let n = c.read(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn read_all_server(s: &mut S<'_, '_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while s.has_app_data() {
        let n = s.read(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Handshake, a line each way, a KeyUpdate asked of the server, another line each way, a
/// KeyUpdate from the server, a last line sent with the client's close_notify and answered
/// after it (half-close).
fn converse(ccfg: &ClientConfig<'_>, scfg: &ServerConfig<'_>) -> mote::Negotiated {
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(mote_std::unix_time());
    let mut c = Client::new(RustCrypto, ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(c.status(), Status::Connected, "client: {:?}", c.error());
    assert_eq!(s.status(), Status::Connected, "server: {:?}", s.error());
    assert_eq!(c.negotiated().suite, s.negotiated().suite);
    for round in 0..2 {
        let line = format!("[{{\"n\":\"temperature\",\"v\":21.{round}}}]\n");
        assert_eq!(c.write(line.as_bytes()).unwrap(), line.len());
        shuttle(&mut c, &mut s).unwrap();
        assert_eq!(read_all_server(&mut s), line.as_bytes());
        let ack = format!("ack {round}\n");
        assert_eq!(s.write(ack.as_bytes()).unwrap(), ack.len());
        shuttle(&mut c, &mut s).unwrap();
        assert_eq!(read_all_client(&mut c), ack.as_bytes());
        if round == 0 {
            c.key_update(true).unwrap();
            shuttle(&mut c, &mut s).unwrap();
        } else {
            // The server's own KeyUpdate, asking the client for one too: the lines after
            // it travel under new keys both ways.
            s.key_update(true).unwrap();
            shuttle(&mut c, &mut s).unwrap();
        }
    }
    // Half-close (RFC 8446 section 6.1): after the client's close_notify the server still
    // answers the last line, then closes its side.
    let last = b"[{\"n\":\"temperature\",\"v\":22}]\n";
    assert_eq!(c.write(last).unwrap(), last.len());
    c.close();
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(read_all_server(&mut s), last);
    assert_eq!(s.status(), Status::PeerClosed);
    assert_eq!(s.write(b"ack 2\n").unwrap(), 6);
    s.close();
    assert_eq!(s.status(), Status::Closed);
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(read_all_client(&mut c), b"ack 2\n");
    assert_eq!(c.status(), Status::Closed);
    *s.negotiated()
}

fn psk_case(suite: CipherSuite, modes: &[PskKeyExchangeMode]) {
    let hash = SuiteInfo::of(suite).unwrap().hash;
    let key: &[u8] = if hash == HashAlgorithm::Sha384 {
        &[9; 48]
    } else {
        &KEY
    };
    let psk = ExternalPsk {
        identity: b"sensor-0001",
        key,
        hash,
    };
    let suites = [suite];
    let mut ccfg = ClientConfig::new();
    ccfg.cipher_suites = &suites;
    ccfg.psk = Some(psk);
    ccfg.psk_only = true;
    ccfg.psk_modes = modes;
    let other = ExternalPsk {
        identity: b"sensor-0002",
        key: &[1; 32],
        hash: HashAlgorithm::Sha256,
    };
    let psks = [other, psk];
    let mut scfg = ServerConfig::new();
    scfg.psks = &psks;
    let n = converse(&ccfg, &scfg);
    assert!(n.psk);
    assert_eq!(n.suite, Some(suite));
    let dhe = modes.contains(&PskKeyExchangeMode::PSK_DHE_KE);
    assert_eq!(n.group.is_some(), dhe, "{suite:?} {modes:?}");
}

#[test]
fn psk_dhe_ke_each_suite() {
    for s in SuiteInfo::TLS13 {
        psk_case(s, &[PskKeyExchangeMode::PSK_DHE_KE]);
    }
}

#[test]
fn psk_ke_each_suite() {
    for s in SuiteInfo::TLS13 {
        psk_case(s, &[PskKeyExchangeMode::PSK_KE]);
    }
}

#[test]
fn wrong_psk_key_is_decrypt_error() {
    let good = ExternalPsk {
        identity: b"sensor-0001",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    };
    let bad = ExternalPsk {
        key: &[8; 32],
        ..good
    };
    let mut ccfg = ClientConfig::new();
    ccfg.psk = Some(bad);
    ccfg.psk_only = true;
    let psks = [good];
    let mut scfg = ServerConfig::new();
    scfg.psks = &psks;
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(0);
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    let e = shuttle(&mut c, &mut s).unwrap_err();
    assert!(e.contains("binder"), "{e}");
    // The server's alert reaches the client.
    let alert = s.transmit().to_vec();
    assert_eq!(alert, [21, 3, 3, 0, 2, 2, 51]);
    c.recv_buf()[..alert.len()].copy_from_slice(&alert);
    let _ = c.recv_done(alert.len(), &mut OsRng);
    assert_eq!(
        c.error(),
        Some(mote::Error::AlertReceived(
            mote_wire::AlertDescription::DECRYPT_ERROR
        ))
    );
}

pub struct Issued {
    pub ca: Vec<u8>,
    pub leaf: Vec<u8>,
    /// PKCS#8.
    pub key: Vec<u8>,
}

pub fn issue() -> Issued {
    issue_with(&rcgen::PKCS_ECDSA_P256_SHA256)
}

pub fn issue_with(alg: &'static rcgen::SignatureAlgorithm) -> Issued {
    let year = 1970 + (mote_std::unix_time() / 31_556_952) as i32;
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "mote test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let ca = p.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(alg).unwrap();
    let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "collector");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let leaf = p.signed_by(&key, &ca, &ca_key).unwrap();
    Issued {
        ca: ca.der().to_vec(),
        leaf: leaf.der().to_vec(),
        key: key.serialize_der(),
    }
}

fn cert_case(issued: &Issued, suite: CipherSuite, group: NamedGroup, limit: Option<u16>) {
    let signer = EcdsaP256Signer::from_pkcs8_der(&issued.key).unwrap();
    let n = cert_case_with(issued, &signer, suite, group, limit);
    assert_eq!(
        n.server_signature,
        Some(SignatureScheme::ECDSA_SECP256R1_SHA256)
    );
}

fn cert_case_with(
    issued: &Issued,
    signer: &dyn mote_crypto::Signer,
    suite: CipherSuite,
    group: NamedGroup,
    limit: Option<u16>,
) -> mote::Negotiated {
    let chain = [issued.leaf.as_slice()];
    let mut scfg = ServerConfig::new();
    scfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer,
    });
    let anchors = [mote_x509::TrustAnchor::from_cert(&issued.ca).unwrap()];
    let suites = [suite];
    let groups = [group];
    let mut ccfg = ClientConfig::new();
    ccfg.cipher_suites = &suites;
    ccfg.groups = &groups;
    ccfg.server_name = Some(NAME);
    ccfg.record_size_limit = limit;
    ccfg.middlebox_compat = limit.is_some();
    ccfg.server_auth = Some(mote_x509::ServerAuth::Chain {
        anchors: &anchors,
        name: mote_x509::ServerName::parse(NAME),
    });
    let n = converse(&ccfg, &scfg);
    assert!(!n.psk);
    assert_eq!(n.suite, Some(suite));
    assert_eq!(n.group, Some(group));
    assert_eq!(n.peer_record_size_limit, limit);
    n
}

#[test]
fn ed25519_certificate() {
    let issued = issue_with(&rcgen::PKCS_ED25519);
    let signer = mote_crypto::rustcrypto::Ed25519Signer::from_pkcs8_der(&issued.key).unwrap();
    let n = cert_case_with(
        &issued,
        &signer,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        NamedGroup::X25519,
        None,
    );
    assert_eq!(n.server_signature, Some(SignatureScheme::ED25519));
}

#[test]
fn ecdsa_p256_certificate_each_suite_and_group() {
    let issued = issue();
    for s in SuiteInfo::TLS13 {
        cert_case(&issued, s, NamedGroup::X25519, None);
        cert_case(&issued, s, NamedGroup::SECP256R1, None);
    }
}

#[test]
fn record_size_limit_and_middlebox_compat() {
    let issued = issue();
    // A 256-byte limit splits the Certificate message into several records.
    cert_case(
        &issued,
        CipherSuite::TLS_AES_128_GCM_SHA256,
        NamedGroup::X25519,
        Some(256),
    );
}

fn psk_configs<'a>(psks: &'a [ExternalPsk<'a>]) -> (ClientConfig<'a>, ServerConfig<'a>) {
    let mut ccfg = ClientConfig::new();
    ccfg.psk = Some(psks[0]);
    ccfg.psk_only = true;
    let mut scfg = ServerConfig::new();
    scfg.psks = psks;
    (ccfg, scfg)
}

#[test]
fn refused_early_data_is_skipped() {
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let (mut ccfg, scfg) = psk_configs(&psks);
    // A client that announces 0-RTT (early_data in its hello) and sends records under early
    // keys: the server does not acknowledge it and drops those records (RFC 8446 4.2.10).
    let extra = [(mote_wire::ExtensionType::EARLY_DATA, &[][..])];
    ccfg.extra_extensions = &extra;
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(0);
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    let mut first = c.transmit().to_vec();
    c.transmit_done(first.len());
    for len in [40usize, 300] {
        first.extend_from_slice(&[23, 3, 3, (len >> 8) as u8, len as u8]);
        first.extend(std::iter::repeat_n(0xa5, len));
    }
    s.recv_buf()[..first.len()].copy_from_slice(&first);
    s.recv_done(first.len(), &mut OsRng).unwrap();
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(s.status(), Status::Connected, "{:?}", s.error());
    assert!(!c.negotiated().early_data_accepted);
    assert_eq!(c.write(b"hello\n").unwrap(), 6);
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(read_all_server(&mut s), b"hello\n");
}

#[test]
fn plaintext_alert_after_handshake_is_unexpected_message() {
    let psks = [ExternalPsk {
        identity: b"sensor-0001",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }];
    let (ccfg, scfg) = psk_configs(&psks);
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = UnixTime::from_secs(0);
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now, &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s).unwrap();
    assert_eq!(s.status(), Status::Connected);
    let alert = [21, 3, 3, 0, 2, 1, 0];
    s.recv_buf()[..7].copy_from_slice(&alert);
    let e = s.recv_done(7, &mut OsRng).unwrap_err();
    assert_eq!(
        e.alert(),
        Some(mote_wire::AlertDescription::UNEXPECTED_MESSAGE)
    );
    assert_eq!(s.status(), Status::Failed);
    // The alert goes out protected: the client reads unexpected_message.
    shuttle(&mut c, &mut s).unwrap_err();
    assert_eq!(
        c.error(),
        Some(mote::Error::AlertReceived(
            mote_wire::AlertDescription::UNEXPECTED_MESSAGE
        ))
    );
}

#[test]
fn hello_retry_request_for_secp256r1() {
    // The client sends an x25519 share; the server takes only secp256r1 and asks for it.
    let issued = issue();
    let signer = EcdsaP256Signer::from_pkcs8_der(&issued.key).unwrap();
    let chain = [issued.leaf.as_slice()];
    let server_groups = [NamedGroup::SECP256R1];
    let mut scfg = ServerConfig::new();
    scfg.groups = &server_groups;
    scfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    let anchors = [mote_x509::TrustAnchor::from_cert(&issued.ca).unwrap()];
    for compat in [false, true] {
        let mut ccfg = ClientConfig::new();
        ccfg.server_name = Some(NAME);
        ccfg.middlebox_compat = compat;
        ccfg.server_auth = Some(mote_x509::ServerAuth::Chain {
            anchors: &anchors,
            name: mote_x509::ServerName::parse(NAME),
        });
        let n = converse(&ccfg, &scfg);
        assert!(n.hello_retry);
        assert_eq!(n.group, Some(NamedGroup::SECP256R1));
    }
}

#[test]
fn hello_retry_request_with_psk_dhe_ke() {
    for suite in [
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
    ] {
        let hash = SuiteInfo::of(suite).unwrap().hash;
        let psks = [ExternalPsk {
            identity: b"sensor-0001",
            key: &KEY,
            hash,
        }];
        let (mut ccfg, mut scfg) = psk_configs(&psks);
        let suites = [suite];
        ccfg.cipher_suites = &suites;
        ccfg.middlebox_compat = true;
        let server_groups = [NamedGroup::SECP256R1];
        scfg.groups = &server_groups;
        let n = converse(&ccfg, &scfg);
        assert!(n.hello_retry && n.psk);
        assert_eq!(n.group, Some(NamedGroup::SECP256R1));
    }
}
