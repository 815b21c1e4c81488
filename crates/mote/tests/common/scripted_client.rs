//! The scripted client of dtls12_bad_client_hello.rs and dtls12_bad_client_flight.rs: mote's
//! DTLS 1.2 server (PSK only) under test, mote's own client for the genuine exchanges, the
//! hand-built ClientHello with the cookie `verify_client_hello` made for it, and what one
//! datagram does to the server as an [`Outcome`].

use super::dtls_script::*;
use mote::dtls::{verify_client_hello, HelloVerdict};
use mote::{
    DtlsClient, DtlsClientConfig, DtlsServer, DtlsServerConfig, Error, ExternalPsk, KeyLog,
    UnixTime,
};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::{ClientHello, HandshakeMessage};
use mote_wire::{
    CipherSuite, CompressionMethod, EcPointFormat, ExtensionType, HandshakeType, List, NamedGroup,
    ProtocolVersion, SignatureScheme,
};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
pub const ECDSA_CCM_8: CipherSuite = CipherSuite(0xc0ae);
pub const KEY: [u8; 16] = [0x11; 16];
pub const WRONG_KEY: [u8; 16] = [0x22; 16];
pub const IDENTITY: &[u8] = b"sensor-1";
pub const SECRET: [u8; 32] = [7; 32];
pub const PEER: &[u8] = b"192.0.2.1:5684";

pub type S = DtlsServer<'static, 'static, RustCrypto>;
pub type C = DtlsClient<'static, 'static, RustCrypto>;

pub fn leak<T>(t: T) -> &'static T {
    Box::leak(Box::new(t))
}

pub fn buf(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// The server: PSK only ("sensor-1"), every default suite (the PSK ones are usable).
pub fn server() -> S {
    let psks: &'static [ExternalPsk<'static>] = leak([ExternalPsk {
        identity: IDENTITY,
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    }]);
    let mut cfg = DtlsServerConfig::new();
    cfg.psks = psks;
    let cfg = leak(cfg);
    DtlsServer::new(
        RustCrypto,
        cfg,
        UnixTime::from_millis(T0),
        buf(4096),
        2048,
        buf(4096),
    )
    .unwrap()
}

/// mote's client with the PSK `key` under the identity "sensor-1".
pub fn real_client(key: &'static [u8; 16], log: Option<&'static dyn KeyLog>) -> C {
    let suites: &'static [CipherSuite] = leak([PSK_CCM_8]);
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = suites;
    cfg.psk = Some(ExternalPsk {
        identity: IDENTITY,
        key,
        hash: HashAlgorithm::Sha256,
    });
    cfg.key_log = log;
    DtlsClient::new(
        RustCrypto,
        leak(cfg),
        &mut Counter(0),
        UnixTime::from_millis(T0),
        buf(4096),
        2048,
        buf(4096),
    )
    .unwrap()
}

pub fn client_feed(c: &mut C, d: &[u8], now: u64) -> Result<(), Error> {
    let buf = c.recv_buf();
    buf[..d.len()].copy_from_slice(d);
    c.recv_datagram(d.len(), UnixTime::from_millis(now), &mut Counter(0x40))
}

// ----------------------------------------------------------------------------- the wire

/// The records of a datagram the server wrote (all must be whole).
pub fn records(d: &[u8]) -> Vec<Rec> {
    records_of(&SERVER, d)
}

pub fn all_records(out: &[Vec<u8>]) -> Vec<Rec> {
    out.iter().flat_map(|d| records(d)).collect()
}

/// The (type, message_seq) of a plaintext handshake record's first fragment.
pub fn hs_of(r: &Rec) -> (u8, u16) {
    (r.body[0], u16::from_be_bytes([r.body[4], r.body[5]]))
}

// ----------------------------------------------------------------------------- the hello

/// What a ClientHello is built from; `good()` is the one the server accepts.
#[derive(Clone)]
pub struct Ch {
    pub version: ProtocolVersion,
    pub suites: Vec<CipherSuite>,
    pub compression: Vec<CompressionMethod>,
    pub ems: bool,
    /// `None`: no renegotiation_info.
    pub reneg: Option<&'static [u8]>,
}

impl Ch {
    pub fn good() -> Ch {
        Ch {
            version: ProtocolVersion::DTLS12,
            suites: vec![PSK_CCM_8, ECDSA_CCM_8],
            compression: vec![CompressionMethod::NULL],
            ems: true,
            reneg: Some(&[]),
        }
    }

    pub fn body(&self, cookie: &[u8]) -> Vec<u8> {
        let groups = [NamedGroup::X25519, NamedGroup::SECP256R1];
        let formats = [EcPointFormat::UNCOMPRESSED];
        let schemes = [SignatureScheme::ECDSA_SECP256R1_SHA256];
        let mut exts = vec![
            Extension {
                typ: ExtensionType::SUPPORTED_GROUPS,
                body: ExtensionBody::NamedGroupList(List::Items(&groups)),
            },
            Extension {
                typ: ExtensionType::EC_POINT_FORMATS,
                body: ExtensionBody::EcPointFormatList(List::Items(&formats)),
            },
            Extension {
                typ: ExtensionType::SIGNATURE_ALGORITHMS,
                body: ExtensionBody::SignatureSchemeList(List::Items(&schemes)),
            },
        ];
        exts.extend(ems_and_reneg(self.ems, self.reneg));
        body_of(HandshakeMessage::ClientHello(ClientHello {
            legacy_version: self.version,
            random: [0xc1; 32],
            legacy_session_id: &[],
            cookie: Some(cookie),
            cipher_suites: List::Items(&self.suites),
            legacy_compression_methods: List::Items(&self.compression),
            extensions: Some(List::Items(&exts)),
        }))
    }

    /// The hello as the second ClientHello of an exchange (record 1, message 1), with the
    /// cookie `verify_client_hello` makes for it and `PEER`.
    pub fn dgram(&self) -> Vec<u8> {
        let first = record(
            HANDSHAKE,
            0,
            0,
            &message(HandshakeType::CLIENT_HELLO, 0, &self.body(&[])),
        );
        let mut hvr = [0u8; 128];
        let HelloVerdict::Verify(n) = verdict_into(&first, &mut hvr) else {
            panic!("no HelloVerifyRequest for the first hello")
        };
        let r = records(&hvr[..n]);
        let cookie = &r[0].body[12 + 3..];
        assert_eq!(cookie.len(), 16);
        record(
            HANDSHAKE,
            0,
            1,
            &message(HandshakeType::CLIENT_HELLO, 1, &self.body(cookie)),
        )
    }
}

pub fn hello() -> Vec<u8> {
    Ch::good().dgram()
}

pub fn verdict_into(d: &[u8], out: &mut [u8]) -> HelloVerdict {
    verify_client_hello(&RustCrypto, &SECRET, None, PEER, d, out)
}

/// `verify_client_hello` on `d`; a panic is reported as `Err`.
pub fn verdict(d: &[u8]) -> Result<HelloVerdict, String> {
    let mut out = [0u8; 128];
    catch_unwind(AssertUnwindSafe(|| verdict_into(d, &mut out))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// `verify_client_hello` on `d`, which must not panic nor be `Accept`: `want` if given.
pub fn check_verdict(d: &[u8], want: Option<HelloVerdict>, what: &str) {
    match verdict(d) {
        Ok(v) => {
            if let Some(w) = want {
                assert_eq!(v, w, "verify_client_hello: {what}");
            }
            assert_ne!(v, HelloVerdict::Accept, "verify_client_hello: {what}");
        }
        Err(p) => panic!("verify_client_hello panicked on {what}: {p}"),
    }
}

// ----------------------------------------------------------------------------- outcomes

pub fn outcome_at(s: &mut S, d: &[u8], now: u64) -> Outcome {
    let r = feed_at(s, d, now);
    outcome_of(&SERVER, s, r, |s| {
        // Nothing after the alert, whatever arrives or the clock does. (A failed
        // server may offer no receive buffer at all: the rest of the datagram it failed
        // on is never read.)
        let h = hello();
        if s.recv_buf().len() >= h.len() {
            feed(s, &h).unwrap();
        }
        s.handle_timeout(UnixTime::from_millis(T0 + 200_000))
            .unwrap();
        assert!(sent(s).is_empty(), "a failed server sent more");
    })
}

pub fn outcome(s: &mut S, d: &[u8]) -> Outcome {
    outcome_at(s, d, T0 + 10)
}

/// The server's flight for a PSK suite without a hint: ServerHello, ServerHelloDone, as
/// message_seq 1 and 2 (the hello was 1), record numbers continuing the hello's.
pub fn check_server_flight(out: &[Vec<u8>]) {
    let recs = all_records(out);
    let msgs: Vec<(u8, u16)> = recs.iter().map(hs_of).collect();
    assert!(recs.iter().all(|r| r.ct == HANDSHAKE && r.epoch == 0));
    assert_eq!(
        msgs,
        [
            (HandshakeType::SERVER_HELLO.0, 1),
            (HandshakeType::SERVER_HELLO_DONE.0, 2)
        ]
    );
}

/// A server that took the good hello and sent its flight.
pub fn after_hello() -> S {
    let mut s = server();
    feed(&mut s, &hello()).unwrap();
    check_server_flight(&sent(&mut s));
    s
}
