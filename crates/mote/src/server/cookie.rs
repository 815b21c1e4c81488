//! The HelloRetryRequest (RFC 8446 section 4.1.4) and its stateless cookie (section
//! 4.2.2). With
//! [`ServerConfig::cookie_key`] set, the HelloRetryRequest carries a cookie that seals what
//! the second ClientHello needs: the suite and group asked for, whether a compatibility
//! change_cipher_spec went out, and the hash of the first ClientHello. The second ClientHello
//! must echo it; the server then takes suite and group from the cookie and rebuilds the
//! transcript (message_hash of ClientHello1, then the HelloRetryRequest re-encoded from the
//! second hello's session id and the cookie), keeping nothing of its own between the hellos.
//! A missing or tampered cookie is illegal_parameter. Layout (85 bytes):
//!
//! ```text
//! key id (4) | GCM nonce (12, random) | sealed: suite (2) | group (2) | ccs sent (1) |
//!   ClientHello1 hash (48, zero padded) | tag (16)
//! ```
//!
//! Like any stateless cookie it can be replayed by whoever saw it; it proves only that this
//! server sent it, which is what the transcript needs.
//!
//! [`ServerConfig::cookie_key`]: crate::config::ServerConfig::cookie_key

use super::{Core, Retry};
use crate::config::TicketKey;
use crate::error::{Error, PeerMisbehaved};
use crate::transcript::Transcript;
use mote_crypto::{Aead, AeadAlgorithm, Digest, Provider, Rng, SuiteInfo, MAX_DIGEST};
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::{
    ClientHello, HandshakeMessage, ServerHello, HELLO_RETRY_REQUEST_RANDOM,
};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{
    CipherSuite, CompressionMethod, ContentType, ExtensionType, HandshakeType, List, NamedGroup,
    ProtocolVersion,
};

const PLAIN_LEN: usize = 2 + 2 + 1 + MAX_DIGEST;
pub(crate) const COOKIE_LEN: usize = 4 + 12 + PLAIN_LEN + 16;

fn bad_cookie() -> Error {
    PeerMisbehaved::IllegalParameter("cookie").into()
}

impl<P: Provider> Core<'_, '_, P> {
    /// Sends a HelloRetryRequest for `group` and replaces the first ClientHello in the
    /// transcript by its message_hash (RFC 8446 sections 4.1.4, 4.4.1); with a cookie key,
    /// the HelloRetryRequest carries the sealed cookie.
    pub(crate) fn send_retry(
        &mut self,
        ch: &ClientHello<'_>,
        msg: &[u8],
        suite: SuiteInfo,
        group: NamedGroup,
        rng: &mut dyn Rng,
    ) -> Result<Retry, Error> {
        let mut t = Transcript::One(self.p.hash(suite.hash));
        t.update(msg);
        let ch1 = t.current(suite.hash);
        t.restart_after_hrr(&self.p, suite.hash);
        self.transcript = Some(t);
        let retry = Retry {
            suite,
            group,
            sent_ccs: !ch.legacy_session_id.is_empty(),
        };
        let mut cookie = [0u8; COOKIE_LEN];
        let cookie = match self.cfg.cookie_key {
            Some(key) => {
                self.seal_cookie(&key, &retry, &ch1, rng, &mut cookie)?;
                Some(&cookie[..])
            }
            None => None,
        };
        let len = self.emit_retry(ch.legacy_session_id, &retry, cookie)?;
        self.plain_record(ContentType::HANDSHAKE, len)?;
        if retry.sent_ccs {
            if self.tx.free_len() < TLS_HEADER_LEN + 1 {
                return Err(self.capacity(TLS_HEADER_LEN + 1));
            }
            self.tx.free()[TLS_HEADER_LEN] = 1;
            self.plain_record(ContentType::CHANGE_CIPHER_SPEC, 1)?;
        }
        self.neg.hello_retry = true;
        Ok(retry)
    }

    /// Emits the HelloRetryRequest (into the transcript and `tx.free()[5..]`, uncommitted).
    pub(crate) fn emit_retry(
        &mut self,
        session_id: &[u8],
        r: &Retry,
        cookie: Option<&[u8]>,
    ) -> Result<usize, Error> {
        let exts = [
            Extension {
                typ: ExtensionType::SUPPORTED_VERSIONS,
                body: ExtensionBody::SupportedVersionsServerHello(ProtocolVersion::TLS13),
            },
            Extension {
                typ: ExtensionType::KEY_SHARE,
                body: ExtensionBody::KeyShareHelloRetryRequest(r.group),
            },
            Extension {
                typ: ExtensionType::COOKIE,
                body: ExtensionBody::Cookie(cookie.unwrap_or(&[])),
            },
        ];
        let n = if cookie.is_some() { 3 } else { 2 };
        let hrr = HandshakeMessage::ServerHello(ServerHello {
            legacy_version: ProtocolVersion::TLS12,
            random: HELLO_RETRY_REQUEST_RANDOM,
            legacy_session_id_echo: session_id,
            cipher_suite: r.suite.suite,
            legacy_compression_method: CompressionMethod::NULL,
            extensions: Some(List::Items(&exts[..n])),
        });
        self.emit(HandshakeType::SERVER_HELLO, &hrr)
    }

    /// Seals the cookie for a HelloRetryRequest; `ch1` is the first ClientHello's hash.
    pub(crate) fn seal_cookie(
        &self,
        key: &TicketKey,
        r: &Retry,
        ch1: &Digest,
        rng: &mut dyn Rng,
        out: &mut [u8; COOKIE_LEN],
    ) -> Result<(), Error> {
        out[..4].copy_from_slice(&key.id);
        rng.fill(&mut out[4..16]).map_err(Error::Crypto)?;
        let (head, rest) = out.split_at_mut(16);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        body.fill(0);
        body[0..2].copy_from_slice(&r.suite.suite.0.to_be_bytes());
        body[2..4].copy_from_slice(&r.group.0.to_be_bytes());
        body[4] = u8::from(r.sent_ccs);
        let h = ch1.as_bytes();
        let n = h.len().min(MAX_DIGEST);
        body[5..5 + n].copy_from_slice(&h[..n]);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&head[4..16]);
        self.p
            .aead(AeadAlgorithm::Aes128Gcm, &key.key)
            .and_then(|a| a.seal_in_place(&nonce, &head[..4], body, tag))
            .map_err(Error::Crypto)
    }

    /// Opens the cookie echoed in the second ClientHello and rebuilds the transcript up to
    /// ClientHello1's message_hash. Returns what the HelloRetryRequest asked for.
    pub(crate) fn open_cookie(
        &mut self,
        key: &TicketKey,
        cookie: Option<&[u8]>,
    ) -> Result<Retry, Error> {
        let cookie = cookie.ok_or_else(|| {
            Error::from(PeerMisbehaved::IllegalParameter(
                "no cookie after HelloRetryRequest",
            ))
        })?;
        if cookie.len() != COOKIE_LEN || cookie[..4] != key.id {
            return Err(bad_cookie());
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&cookie[4..16]);
        let mut b = [0u8; PLAIN_LEN];
        b.copy_from_slice(&cookie[16..16 + PLAIN_LEN]);
        self.p
            .aead(AeadAlgorithm::Aes128Gcm, &key.key)
            .and_then(|a| a.open_in_place(&nonce, &cookie[..4], &mut b, &cookie[16 + PLAIN_LEN..]))
            .map_err(|_| bad_cookie())?;
        let suite = SuiteInfo::of(CipherSuite(u16::from_be_bytes([b[0], b[1]])))
            .filter(|s| s.tls13)
            .ok_or_else(bad_cookie)?;
        let group = NamedGroup(u16::from_be_bytes([b[2], b[3]]));
        let n = suite.hash.output_len();
        // RFC 8446 section 4.4.1: message_hash, 00 00 Hash.length, Hash(ClientHello1).
        let mut t = Transcript::One(self.p.hash(suite.hash));
        t.update(&[HandshakeType::MESSAGE_HASH.0, 0, 0, n as u8]);
        t.update(&b[5..5 + n]);
        self.transcript = Some(t);
        Ok(Retry {
            suite,
            group,
            sent_ccs: b[4] != 0,
        })
    }
}
