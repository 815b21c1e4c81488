//! The scripted server of dtls12_bad_server_hello.rs and dtls12_bad_server_flight.rs: mote's
//! DTLS 1.2 client (TLS_PSK_WITH_AES_128_CCM_8) under test, the server's first flight
//! (HelloVerifyRequest, ServerHello, ServerHelloDone) built by hand, and what one datagram
//! does to the client as an [`Outcome`].

use super::dtls_script::*;
use mote::{DtlsClient, DtlsClientConfig, ExternalPsk, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use mote_wire::handshake::{HandshakeMessage, HelloVerifyRequest, ServerHello, ServerHelloDone};
use mote_wire::{CipherSuite, CompressionMethod, HandshakeType, List, ProtocolVersion};

pub const PSK_CCM_8: CipherSuite = CipherSuite(0xc0a8);
pub const PSK_GCM: CipherSuite = CipherSuite(0x00a8);
pub const SUITES: [CipherSuite; 1] = [PSK_CCM_8];
pub const KEY: [u8; 16] = [0x11; 16];
pub const COOKIE: &[u8] = b"cookie-0123456789";
pub type C = DtlsClient<'static, 'static, RustCrypto>;

pub fn config() -> DtlsClientConfig<'static> {
    let mut cfg = DtlsClientConfig::new();
    cfg.cipher_suites = &SUITES;
    cfg.psk = Some(ExternalPsk {
        identity: b"sensor-1",
        key: &KEY,
        hash: HashAlgorithm::Sha256,
    });
    cfg
}

/// A client (its buffers and configuration leaked: tests only) started at `T0`.
pub fn client_with(cfg: DtlsClientConfig<'static>) -> C {
    let cfg: &'static DtlsClientConfig<'static> = Box::leak(Box::new(cfg));
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let tx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    DtlsClient::new(
        RustCrypto,
        cfg,
        &mut Counter(0),
        UnixTime::from_millis(T0),
        rx,
        2048,
        tx,
    )
    .unwrap()
}

pub fn client() -> C {
    client_with(config())
}

// ----------------------------------------------------------------------------- the wire

/// The records of a datagram the client wrote (all must be whole).
pub fn records(d: &[u8]) -> Vec<Rec> {
    records_of(&CLIENT, d)
}

/// The (type, message_seq, fragment_offset, fragment_length, body) of a handshake record's
/// first fragment.
pub fn hs_of(r: &Rec) -> (u8, u16, u32, u32, Vec<u8>) {
    let b = &r.body;
    let u24 = |x: &[u8]| u32::from(x[0]) << 16 | u32::from(x[1]) << 8 | u32::from(x[2]);
    (
        b[0],
        u16::from_be_bytes([b[4], b[5]]),
        u24(&b[6..9]),
        u24(&b[9..12]),
        b[12..].to_vec(),
    )
}

pub fn hvr_body(cookie: &[u8]) -> Vec<u8> {
    // RFC 6347 section 4.2.1: DTLS 1.0 in server_version whatever is negotiated later.
    body_of(HandshakeMessage::HelloVerifyRequest(HelloVerifyRequest {
        server_version: ProtocolVersion::DTLS10,
        cookie,
    }))
}

/// What a ServerHello is built from; `good()` is the one the client accepts.
#[derive(Clone)]
pub struct Sh {
    pub version: ProtocolVersion,
    pub suite: CipherSuite,
    pub compression: CompressionMethod,
    pub ems: bool,
    /// `None`: no renegotiation_info.
    pub reneg: Option<&'static [u8]>,
    pub random: [u8; 32],
}

impl Sh {
    pub fn good() -> Sh {
        Sh {
            version: ProtocolVersion::DTLS12,
            suite: PSK_CCM_8,
            compression: CompressionMethod::NULL,
            ems: true,
            reneg: Some(&[]),
            random: [0x5e; 32],
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let exts = ems_and_reneg(self.ems, self.reneg);
        body_of(HandshakeMessage::ServerHello(ServerHello {
            legacy_version: self.version,
            random: self.random,
            legacy_session_id_echo: &[],
            cipher_suite: self.suite,
            legacy_compression_method: self.compression,
            extensions: Some(List::Items(&exts)),
        }))
    }
}

pub fn shd_body() -> Vec<u8> {
    body_of(HandshakeMessage::ServerHelloDone(ServerHelloDone))
}

/// The server's datagrams of a whole exchange with a HelloVerifyRequest: record sequence
/// numbers 0, 1, 2; message_seq 0 for the HelloVerifyRequest (it answers ClientHello 0), 1
/// and 2 for the ServerHello and ServerHelloDone (the second ClientHello was 1).
pub fn hvr_dgram() -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        0,
        &message(HandshakeType::HELLO_VERIFY_REQUEST, 0, &hvr_body(COOKIE)),
    )
}

pub fn sh_dgram_with(sh: &Sh) -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        1,
        &message(HandshakeType::SERVER_HELLO, 1, &sh.body()),
    )
}

pub fn sh_dgram() -> Vec<u8> {
    sh_dgram_with(&Sh::good())
}

pub fn shd_dgram() -> Vec<u8> {
    record(
        HANDSHAKE,
        0,
        2,
        &message(HandshakeType::SERVER_HELLO_DONE, 2, &shd_body()),
    )
}

// ----------------------------------------------------------------------------- outcomes

pub fn outcome(c: &mut C, d: &[u8]) -> Outcome {
    let r = feed(c, d);
    outcome_of(&CLIENT, c, r, |_| {})
}

/// A client that has had the HelloVerifyRequest (its second ClientHello sent).
pub fn after_hvr() -> C {
    let mut c = client();
    sent(&mut c);
    assert_eq!(outcome(&mut c, &hvr_dgram()), Outcome::Sent(1));
    c
}

/// A client that has had the HelloVerifyRequest and the ServerHello.
pub fn after_sh() -> C {
    let mut c = after_hvr();
    assert_eq!(outcome(&mut c, &sh_dgram()), Outcome::Quiet);
    c
}

/// The client's second flight: ClientKeyExchange (epoch 0), change_cipher_spec (epoch 0),
/// Finished (epoch 1, sealed), checked in outline.
pub fn check_second_flight(out: &[Vec<u8>]) {
    let recs: Vec<Rec> = out.iter().flat_map(|d| records(d)).collect();
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!((recs[0].ct, recs[0].epoch), (HANDSHAKE, 0));
    let (t, seq, off, flen, body) = hs_of(&recs[0]);
    assert_eq!((t, seq, off), (HandshakeType::CLIENT_KEY_EXCHANGE.0, 2, 0));
    // psk_identity<0..2^16-1>
    assert_eq!(body, [&[0, 8][..], b"sensor-1"].concat());
    assert_eq!(flen as usize, body.len());
    assert_eq!(
        (recs[1].ct, recs[1].epoch, &recs[1].body[..]),
        (CCS, 0, &[1u8][..])
    );
    // epoch 1, sequence 0: 8-byte explicit nonce, 12+12 bytes of Finished, 8-byte CCM_8 tag.
    assert_eq!((recs[2].ct, recs[2].epoch), (HANDSHAKE, 1));
    assert_eq!(recs[2].body.len(), 8 + 24 + 8);
}

pub fn fresh() -> C {
    let mut c = client();
    sent(&mut c);
    c
}
