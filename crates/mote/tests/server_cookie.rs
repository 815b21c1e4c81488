//! The stateless HelloRetryRequest cookie on mote's Server, with mote's Client over an
//! in-memory pipe: the client sends an x25519 share, the server takes only secp256r1 and asks
//! for it with a sealed cookie; the second ClientHello echoes it (certificate and PSK
//! handshakes, the PSK binder covering the rebuilt transcript). A tampered cookie, or a second
//! ClientHello without one, is illegal_parameter on the wire.

mod common;

use common::OsRng;
use mote::{
    Client, ClientConfig, Error, ExternalPsk, PeerMisbehaved, Server, ServerConfig, ServerIdentity,
    Status, TicketKey, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_crypto::HashAlgorithm;
use mote_wire::NamedGroup;
use mote_x509::{ServerAuth, ServerName, TrustAnchor};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

const NAME: &str = "collector.example";
const COOKIE_KEY: TicketKey = TicketKey {
    id: *b"ck01",
    key: [0x33; 16],
};
const ONLY_P256: [NamedGroup; 1] = [NamedGroup::SECP256R1];
const ILLEGAL_PARAMETER_ALERT: [u8; 7] = [21, 3, 3, 0, 2, 2, 47];

type C<'a, 'b> = Client<'a, 'b, RustCrypto>;
type S<'a, 'b> = Server<'a, 'b, RustCrypto>;

/// Moves what the client has queued to the server, through `edit`.
fn c_to_s(c: &mut C<'_, '_>, s: &mut S<'_, '_>, edit: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = c.transmit().to_vec();
    c.transmit_done(bytes.len());
    edit(&mut bytes);
    let buf = s.recv_buf();
    buf[..bytes.len()].copy_from_slice(&bytes);
    let _ = s.recv_done(bytes.len(), &mut OsRng);
}

fn s_to_c(s: &mut S<'_, '_>, c: &mut C<'_, '_>) -> Vec<u8> {
    let bytes = s.transmit().to_vec();
    s.transmit_done(bytes.len());
    let buf = c.recv_buf();
    buf[..bytes.len()].copy_from_slice(&bytes);
    let _ = c.recv_done(bytes.len(), &mut OsRng);
    bytes
}

fn shuttle(c: &mut C<'_, '_>, s: &mut S<'_, '_>) {
    for _ in 0..50 {
        if c.transmit().is_empty() && s.transmit().is_empty() {
            return;
        }
        if !c.transmit().is_empty() {
            c_to_s(c, s, |_| {});
        }
        if !s.transmit().is_empty() {
            s_to_c(s, c);
        }
    }
    panic!("no progress");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Server certificate material: CA DER, leaf DER, PKCS#8 key.
fn issue() -> [Vec<u8>; 3] {
    let year = 1970 + (mote_std::unix_time() / 31_556_952) as i32;
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let ca = p.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(vec![NAME.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "collector");
    p.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
    let leaf = p.signed_by(&key, &ca, &ca_key).unwrap();
    [ca.der().to_vec(), leaf.der().to_vec(), key.serialize_der()]
}

/// Runs `f` with certificate configs: a client sending an x25519 share (and offering
/// secp256r1) and a server taking only secp256r1, with a cookie key.
fn with_cert_configs(f: impl FnOnce(&ClientConfig<'_>, &ServerConfig<'_>)) {
    let m = issue();
    let signer = EcdsaP256Signer::from_pkcs8_der(&m[2]).unwrap();
    let chain = [m[1].as_slice()];
    let anchors = [TrustAnchor::from_cert(&m[0]).unwrap()];
    let mut scfg = ServerConfig::new();
    scfg.identity = Some(ServerIdentity {
        chain: &chain,
        signer: &signer,
    });
    scfg.groups = &ONLY_P256;
    scfg.cookie_key = Some(COOKIE_KEY);
    let mut ccfg = ClientConfig::new();
    ccfg.server_name = Some(NAME);
    ccfg.server_auth = Some(ServerAuth::Chain {
        anchors: &anchors,
        name: ServerName::parse(NAME),
    });
    f(&ccfg, &scfg);
}

fn buffers() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        vec![0u8; 18 * 1024],
        vec![0u8; 4096],
        vec![0u8; 18 * 1024],
        vec![0u8; 8192],
    )
}

fn now() -> UnixTime {
    UnixTime::from_secs(mote_std::unix_time())
}

#[test]
fn cookie_round_trip_with_certificate_and_middlebox_compat() {
    with_cert_configs(|ccfg, scfg| {
        for compat in [false, true] {
            let mut ccfg = *ccfg;
            ccfg.middlebox_compat = compat;
            let (mut crx, mut ctx, mut srx, mut stx) = buffers();
            let mut c =
                Client::new(RustCrypto, &ccfg, &mut OsRng, now(), &mut crx, &mut ctx).unwrap();
            let mut s =
                Server::new(RustCrypto, scfg, &mut OsRng, now(), &mut srx, &mut stx).unwrap();
            c_to_s(&mut c, &mut s, |_| {});
            let hrr = s_to_c(&mut s, &mut c);
            assert!(find(&hrr, &COOKIE_KEY.id).is_some(), "no cookie in the HRR");
            shuttle(&mut c, &mut s);
            assert_eq!(s.status(), Status::Connected, "{:?}", s.error());
            assert_eq!(c.status(), Status::Connected, "{:?}", c.error());
            assert!(s.negotiated().hello_retry && c.negotiated().hello_retry);
            assert_eq!(s.negotiated().group, Some(NamedGroup::SECP256R1));
        }
    });
}

#[test]
fn cookie_round_trip_with_psk_binder() {
    let psk = ExternalPsk {
        identity: b"sensor-0001",
        key: &[4; 32],
        hash: HashAlgorithm::Sha256,
    };
    let psks = [psk];
    let mut scfg = ServerConfig::new();
    scfg.psks = &psks;
    scfg.groups = &ONLY_P256;
    scfg.cookie_key = Some(COOKIE_KEY);
    let mut ccfg = ClientConfig::new();
    ccfg.psk = Some(psk);
    ccfg.psk_only = true;
    let (mut crx, mut ctx, mut srx, mut stx) = buffers();
    let mut c = Client::new(RustCrypto, &ccfg, &mut OsRng, now(), &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, &scfg, &mut OsRng, now(), &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s);
    assert_eq!(s.status(), Status::Connected, "{:?}", s.error());
    assert_eq!(c.status(), Status::Connected, "{:?}", c.error());
    assert!(s.negotiated().hello_retry && s.negotiated().psk);
}

#[test]
fn tampered_cookie_is_illegal_parameter() {
    with_cert_configs(|ccfg, scfg| {
        // A byte of the key id, of the nonce, of the sealed body, of the tag.
        for offset in [0, 6, 30, 80] {
            let (mut crx, mut ctx, mut srx, mut stx) = buffers();
            let mut c =
                Client::new(RustCrypto, ccfg, &mut OsRng, now(), &mut crx, &mut ctx).unwrap();
            let mut s =
                Server::new(RustCrypto, scfg, &mut OsRng, now(), &mut srx, &mut stx).unwrap();
            c_to_s(&mut c, &mut s, |_| {});
            s_to_c(&mut s, &mut c);
            c_to_s(&mut c, &mut s, |ch2| {
                let at = find(ch2, &COOKIE_KEY.id).expect("cookie echoed");
                ch2[at + offset] ^= 1;
            });
            assert_eq!(s.status(), Status::Failed);
            assert_eq!(
                s.error(),
                Some(Error::Peer(PeerMisbehaved::IllegalParameter("cookie"))),
                "offset {offset}"
            );
            assert_eq!(s.transmit(), ILLEGAL_PARAMETER_ALERT);
        }
    });
}

#[test]
fn second_hello_without_cookie_is_illegal_parameter() {
    with_cert_configs(|ccfg, scfg| {
        let (mut crx, mut ctx, mut srx, mut stx) = buffers();
        let mut c = Client::new(RustCrypto, ccfg, &mut OsRng, now(), &mut crx, &mut ctx).unwrap();
        let mut s = Server::new(RustCrypto, scfg, &mut OsRng, now(), &mut srx, &mut stx).unwrap();
        c_to_s(&mut c, &mut s, |_| {});
        s_to_c(&mut s, &mut c);
        // A fresh ClientHello with the right share but no cookie.
        let mut other = *ccfg;
        other.groups = &ONLY_P256;
        let (mut orx, mut otx) = (vec![0u8; 4096], vec![0u8; 4096]);
        let mut o = Client::new(RustCrypto, &other, &mut OsRng, now(), &mut orx, &mut otx).unwrap();
        c_to_s(&mut o, &mut s, |_| {});
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(
            s.error(),
            Some(Error::Peer(PeerMisbehaved::IllegalParameter(
                "no cookie after HelloRetryRequest"
            )))
        );
        assert_eq!(s.transmit(), ILLEGAL_PARAMETER_ALERT);
    });
}
