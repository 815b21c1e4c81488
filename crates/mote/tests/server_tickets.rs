//! Stateless session tickets on mote's Server, with mote's Client over an in-memory pipe: a
//! full handshake (with a client certificate) yields a ticket; resuming with it skips both
//! certificates and keeps the device identity; a ticket sealed under an older key is still
//! accepted after a rotation; a tampered, expired or unknown-key ticket falls back to a full
//! handshake (no error).

mod common;

use common::OsRng;
use mote::{
    Client, ClientAuth, ClientConfig, ClientId, ClientIdentity, Server, ServerConfig,
    ServerIdentity, Status, TicketKey, TicketRef, TicketStore, UnixTime,
};
use mote_crypto::rustcrypto::{EcdsaP256Signer, RustCrypto};
use mote_wire::CipherSuite;
use mote_x509::{ServerAuth, ServerName, TrustAnchor};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::cell::RefCell;

const NAME: &str = "collector.example";
const OLD: TicketKey = TicketKey {
    id: *b"k001",
    key: [0x11; 16],
};
const NEW: TicketKey = TicketKey {
    id: *b"k002",
    key: [0x22; 16],
};

type C<'a, 'b> = Client<'a, 'b, RustCrypto>;
type S<'a, 'b> = Server<'a, 'b, RustCrypto>;

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

#[derive(Clone, Debug)]
struct Stored {
    suite: CipherSuite,
    psk: Vec<u8>,
    identity: Vec<u8>,
    age_add: u32,
    lifetime: u32,
    received_at_ms: u64,
}

#[derive(Default)]
struct Store(RefCell<Vec<Stored>>);

impl TicketStore for Store {
    fn store(&self, t: &TicketRef<'_>) {
        self.0.borrow_mut().push(Stored {
            suite: t.suite,
            psk: t.psk.to_vec(),
            identity: t.identity.to_vec(),
            age_add: t.age_add,
            lifetime: t.lifetime,
            received_at_ms: t.received_at_ms,
        });
    }
}

fn year() -> i32 {
    1970 + (mote_std::unix_time() / 31_556_952) as i32
}

/// A CA (DER) and a leaf it issued (DER, PKCS#8).
fn issue(cn: &str, sans: Vec<String>, eku: ExtendedKeyUsagePurpose) -> [Vec<u8>; 3] {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    p.not_before = rcgen::date_time_ymd(year() - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year() + 2, 1, 1);
    let ca = p.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(sans).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    p.not_before = rcgen::date_time_ymd(year() - 1, 1, 1);
    p.not_after = rcgen::date_time_ymd(year() + 2, 1, 1);
    let leaf = p.signed_by(&key, &ca, &ca_key).unwrap();
    [ca.der().to_vec(), leaf.der().to_vec(), key.serialize_der()]
}

struct Run {
    client: mote::Negotiated,
    server: mote::Negotiated,
}

/// One connection; `server_now` may differ from the client's clock.
fn connect(ccfg: &ClientConfig<'_>, scfg: &ServerConfig<'_>, server_skew_s: u64) -> Run {
    let (mut crx, mut ctx) = (vec![0u8; 18 * 1024], vec![0u8; 4096]);
    let (mut srx, mut stx) = (vec![0u8; 18 * 1024], vec![0u8; 8192]);
    let now = mote_std::unix_time();
    let cnow = UnixTime::from_secs(now);
    let snow = UnixTime::from_secs(now + server_skew_s);
    let mut c = Client::new(RustCrypto, ccfg, &mut OsRng, cnow, &mut crx, &mut ctx).unwrap();
    let mut s = Server::new(RustCrypto, scfg, &mut OsRng, snow, &mut srx, &mut stx).unwrap();
    shuttle(&mut c, &mut s);
    assert_eq!(s.status(), Status::Connected, "server: {:?}", s.error());
    assert_eq!(c.status(), Status::Connected, "client: {:?}", c.error());
    c.write(b"reading\n").unwrap();
    shuttle(&mut c, &mut s);
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf);
    assert_eq!(&buf[..n], b"reading\n");
    Run {
        client: *c.negotiated(),
        server: *s.negotiated(),
    }
}

/// Runs `f` with: a first full handshake (server certificate, required client certificate,
/// tickets sealed with `first_keys`), then hands the stored ticket and configs to `f`.
fn with_ticket(
    first_keys: &[TicketKey],
    f: impl FnOnce(&Stored, &ClientConfig<'_>, &mut ServerConfig<'_>, ClientId),
) {
    let server = issue(
        "collector",
        vec![NAME.into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let device = issue("sensor-0001", vec![], ExtendedKeyUsagePurpose::ClientAuth);
    let server_signer = EcdsaP256Signer::from_pkcs8_der(&server[2]).unwrap();
    let device_signer = EcdsaP256Signer::from_pkcs8_der(&device[2]).unwrap();
    let server_chain = [server[1].as_slice()];
    let device_chain = [device[1].as_slice()];
    let server_anchors = [TrustAnchor::from_cert(&server[0]).unwrap()];
    let device_anchors = [TrustAnchor::from_cert(&device[0]).unwrap()];
    let mut scfg = ServerConfig::new();
    scfg.identity = Some(ServerIdentity {
        chain: &server_chain,
        signer: &server_signer,
    });
    scfg.client_auth = ClientAuth::Required(&device_anchors);
    scfg.ticket_keys = first_keys;
    let store = Store::default();
    let mut ccfg = ClientConfig::new();
    ccfg.server_name = Some(NAME);
    ccfg.server_auth = Some(ServerAuth::Chain {
        anchors: &server_anchors,
        name: ServerName::parse(NAME),
    });
    ccfg.client_identity = Some(ClientIdentity {
        chain: &device_chain,
        signer: &device_signer,
    });
    ccfg.ticket_store = Some(&store);
    let first = connect(&ccfg, &scfg, 0);
    assert!(!first.client.resumed && first.client.client_cert_sent);
    assert_eq!(first.client.tickets_received, 1);
    let id = first.server.client_identity.expect("identity");
    assert!(matches!(id, ClientId::CertificateSpki(_)));
    let stored = store.0.borrow()[0].clone();
    assert_eq!(stored.lifetime, 86_400);
    f(&stored, &ccfg, &mut scfg, id);
}

fn resume_with<'a>(ccfg: &ClientConfig<'a>, t: &'a Stored) -> ClientConfig<'a> {
    let mut c = *ccfg;
    c.ticket_store = None;
    c.resume = Some(TicketRef {
        suite: t.suite,
        psk: &t.psk,
        identity: &t.identity,
        age_add: t.age_add,
        lifetime: t.lifetime,
        received_at_ms: t.received_at_ms,
        max_early_data: 0,
    });
    c
}

#[test]
fn resumption_skips_certificates_and_keeps_identity() {
    with_ticket(&[OLD], |t, ccfg, scfg, id| {
        let ccfg = resume_with(ccfg, t);
        let r = connect(&ccfg, scfg, 0);
        assert!(r.client.resumed && r.server.resumed);
        assert!(r.server.psk);
        // psk_dhe_ke is preferred.
        assert!(r.server.group.is_some());
        assert!(!r.client.client_auth_requested && !r.client.client_cert_sent);
        assert_eq!(r.client.server_signature, None);
        assert_eq!(r.server.client_identity, Some(id));
    });
}

#[test]
fn rotated_key_still_opens_old_tickets() {
    with_ticket(&[OLD], |t, ccfg, scfg, _| {
        let keys = [NEW, OLD];
        let mut rotated: ServerConfig<'_> = *scfg;
        rotated.ticket_keys = &keys;
        let r = connect(&resume_with(ccfg, t), &rotated, 0);
        assert!(r.client.resumed && r.server.resumed);
        // Once the old key is dropped its tickets are ignored.
        let keys = [NEW];
        rotated.ticket_keys = &keys;
        let r = connect(&resume_with(ccfg, t), &rotated, 0);
        assert!(!r.client.resumed && !r.server.resumed);
        assert!(r.client.client_cert_sent);
    });
}

#[test]
fn tampered_ticket_is_a_full_handshake() {
    with_ticket(&[OLD], |t, ccfg, scfg, id| {
        for at in [0, 5, 40, t.identity.len() - 1] {
            let mut bad = t.clone();
            bad.identity[at] ^= 0x40;
            let r = connect(&resume_with(ccfg, &bad), scfg, 0);
            assert!(!r.client.resumed && !r.server.resumed, "byte {at}");
            assert!(r.client.client_cert_sent);
            assert_eq!(r.server.client_identity, Some(id));
        }
    });
}

#[test]
fn expired_ticket_is_a_full_handshake() {
    with_ticket(&[OLD], |t, ccfg, scfg, _| {
        // The server's clock is past the ticket's lifetime; the client still offers it.
        let r = connect(&resume_with(ccfg, t), scfg, u64::from(t.lifetime) + 1);
        assert!(!r.client.resumed && !r.server.resumed);
        // A ticket is fine a little before that.
        let r = connect(&resume_with(ccfg, t), scfg, u64::from(t.lifetime) - 60);
        assert!(r.client.resumed && r.server.resumed);
    });
}

#[test]
fn no_ticket_keys_no_tickets() {
    with_ticket(&[OLD], |t, ccfg, scfg, _| {
        scfg.ticket_keys = &[];
        let r = connect(&resume_with(ccfg, t), scfg, 0);
        assert!(!r.server.resumed);
        assert_eq!(r.client.tickets_received, 0);
    });
}
