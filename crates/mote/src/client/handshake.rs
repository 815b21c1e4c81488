//! The client's handshake: ClientHello, HelloRetryRequest and ServerHello (RFC 8446
//! sections 4.1.2-4.1.4), then dispatch to the server flight's messages.

use super::{Core, Secrets, State};
use crate::error::{Error, Incompatible, PeerMisbehaved};
use crate::key_schedule::tls13::{finished_verify_data, EarlySecret, TrafficKeys};
use crate::record_layer::tls13::Protector;
use crate::transcript::Transcript;
use mote_crypto::{CryptoError, Digest, KeyExchange, Provider, Rng, SuiteInfo, MAX_SHARED_SECRET};
use mote_wire::extensions::ExtensionBody;
#[cfg(feature = "x509")]
use mote_wire::handshake::CertificateVerify;
use mote_wire::handshake::{
    CertificateRequest, EncryptedExtensions, Finished, HandshakeMessage, KeyUpdate,
    NewSessionTicket, ServerHello,
};
use mote_wire::{
    CipherSuite, ContentType, Context, ExtensionType, HandshakeType, NamedGroup, ProtocolVersion,
    PskKeyExchangeMode, Reader,
};

use super::hello::{write_client_hello, HelloParams, PskOffer};

/// The PSK a ClientHello offers.
#[derive(Clone, Copy)]
pub(crate) struct PskSource<'a> {
    pub identity: &'a [u8],
    pub key: &'a [u8],
    pub hash: mote_crypto::HashAlgorithm,
    pub suite: Option<SuiteInfo>,
    pub resumption: bool,
    pub obfuscated_age: u32,
    pub max_early_data: u32,
}

/// What the client remembers while it waits for ServerHello.
pub(crate) struct Hello<P: Provider> {
    kx: Option<P::KeyExchange>,
    group: Option<NamedGroup>,
    random: [u8; 32],
    session_id: [u8; 32],
    session_id_len: usize,
    /// The suite a HelloRetryRequest chose; ServerHello must choose the same.
    hrr_suite: Option<CipherSuite>,
    /// 0-RTT data is offered in this hello.
    early: bool,
}

/// What the handshake has negotiated, for the caller to show or check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    pub suite: Option<CipherSuite>,
    /// The (EC)DHE group; `None` for a psk_ke handshake.
    pub group: Option<NamedGroup>,
    pub psk: bool,
    /// The PSK was a resumption ticket (and the server accepted it).
    pub resumed: bool,
    /// The server accepted the 0-RTT data (otherwise send it again now).
    pub early_data_accepted: bool,
    pub hello_retry: bool,
    /// The server's record_size_limit, if it sent one.
    pub peer_record_size_limit: Option<u16>,
    /// The max_fragment_length the server accepted (RFC 6066).
    pub max_fragment_length: Option<mote_wire::MaxFragmentLength>,
    /// Whether the server asked for a client certificate, and whether we sent one.
    pub client_auth_requested: bool,
    pub client_cert_sent: bool,
    /// The index of the ALPN protocol chosen among those offered.
    pub alpn: Option<u8>,
    /// The signature scheme of the server's CertificateVerify.
    pub server_signature: Option<mote_wire::SignatureScheme>,
    pub tickets_received: u32,
    /// Server side: who the client is, once connected (always `None` on the client).
    pub client_identity: Option<crate::server::ClientId>,
}

/// Handshake state after ServerHello.
pub(crate) struct Keys {
    pub secrets: Secrets,
    pub suite: SuiteInfo,
    pub psk: bool,
    pub cert_request: bool,
    /// The server's end-entity public key (DER SubjectPublicKeyInfo), once verified.
    #[cfg(feature = "x509")]
    pub server_key: super::verify::ServerKey,
}

/// Application traffic secrets, kept for KeyUpdate and resumption.
pub(crate) struct AppSecrets {
    pub suite: SuiteInfo,
    pub client: Digest,
    pub server: Digest,
    /// The source of ticket PSKs.
    pub resumption: Digest,
}

impl<'a, P: Provider> Core<'a, '_, P> {
    /// Builds and queues the first ClientHello.
    pub(crate) fn start(&mut self, rng: &mut dyn Rng) -> Result<Hello<P>, Error> {
        let mut random = [0u8; 32];
        rng.fill(&mut random).map_err(Error::Crypto)?;
        self.client_random = random;
        let mut session_id = [0u8; 32];
        let session_id_len = if self.cfg.middlebox_compat {
            // RFC 8446 appendix D.4: a non-empty session ID makes the handshake look like a
            // TLS 1.2 resumption to middleboxes.
            rng.fill(&mut session_id).map_err(Error::Crypto)?;
            32
        } else {
            0
        };
        let want_kx =
            !self.cfg.psk_only || self.cfg.psk_modes.contains(&PskKeyExchangeMode::PSK_DHE_KE);
        let (kx, group) = match (want_kx, self.cfg.groups.first()) {
            (true, Some(&g)) => (
                Some(self.p.key_exchange(g, rng).map_err(Error::Crypto)?),
                Some(g),
            ),
            _ => (None, None),
        };
        let early_offer = self
            .psk_offer()
            .filter(|o| self.cfg.early_data && o.resumption && o.max_early_data > 0);
        let hello = Hello {
            kx,
            group,
            random,
            session_id,
            session_id_len,
            hrr_suite: None,
            early: early_offer.is_some(),
        };
        self.send_client_hello(&hello, None, 0x0301)?;
        if let Some(o) = early_offer {
            self.start_early_data(&o)?;
        }
        Ok(hello)
    }

    fn send_client_hello(
        &mut self,
        h: &Hello<P>,
        cookie: Option<&[u8]>,
        record_version: u16,
    ) -> Result<(), Error> {
        let psk = self.psk_offer();
        let offer = psk.map(|k| PskOffer {
            identity: k.identity,
            obfuscated_ticket_age: k.obfuscated_age,
            binder_len: k.hash.output_len(),
        });
        let share = match (&h.kx, h.group) {
            (Some(kx), Some(g)) => Some((g, kx.public_share())),
            _ => None,
        };
        let params = HelloParams {
            random: &h.random,
            session_id: &h.session_id[..h.session_id_len],
            key_share: share,
            cookie,
            psk: offer,
            suites: self.cfg.cipher_suites,
            early_data: h.early,
        };
        let free = self.tx.free();
        let Some(body) = free.get_mut(5..) else {
            return Err(Error::Capacity {
                needed: 5,
                available: 0,
            });
        };
        let (len, binders_at) = write_client_hello(self.cfg, &params, body)?;
        if let (Some(at), Some(k)) = (binders_at, psk) {
            let binder = binder(&self.p, &self.transcript, &k, &body[..at]);
            // binders list: u16 length, u8 binder length, binder.
            body[at + 3..at + 3 + binder.len()].copy_from_slice(binder.as_bytes());
        }
        self.transcript.update(&body[..len]);
        let v = record_version.to_be_bytes();
        let l = (len as u16).to_be_bytes();
        self.tx.free()[..5].copy_from_slice(&[22, v[0], v[1], l[0], l[1]]);
        self.tx.commit(5 + len);
        Ok(())
    }

    /// Switches the write side to the client early traffic keys after the ClientHello
    /// (RFC 8446 section 7.1), with the compatibility change_cipher_spec first (appendix D.4).
    fn start_early_data(&mut self, o: &PskSource<'a>) -> Result<(), Error> {
        let Some(suite) = o.suite else { return Ok(()) };
        let th = self.transcript.current(o.hash);
        let secret = EarlySecret::new(&self.p, o.hash, Some(o.key))
            .client_early_traffic_secret(&self.p, th.as_bytes());
        self.log_secret("CLIENT_EARLY_TRAFFIC_SECRET", &secret);
        self.compat_ccs()?;
        self.write = Some(self.protector(&suite, &secret)?);
        self.early_active = true;
        self.early_left = o.max_early_data;
        Ok(())
    }

    /// The PSK to offer: a still-valid resumption ticket, else the external PSK.
    pub(crate) fn psk_offer(&self) -> Option<PskSource<'a>> {
        if let Some(t) = self.cfg.resume {
            let age_ms = self.now_ms.saturating_sub(t.received_at_ms);
            let valid =
                age_ms < u64::from(t.lifetime) * 1000 && self.cfg.cipher_suites.contains(&t.suite);
            if let (true, Some(suite)) = (valid, SuiteInfo::of(t.suite)) {
                return Some(PskSource {
                    identity: t.identity,
                    key: t.psk,
                    hash: suite.hash,
                    suite: Some(suite),
                    resumption: true,
                    // RFC 8446 section 4.2.11.1: milliseconds since the ticket arrived, plus
                    // ticket_age_add, modulo 2^32.
                    obfuscated_age: (age_ms as u32).wrapping_add(t.age_add),
                    max_early_data: t.max_early_data,
                });
            }
        }
        self.cfg.psk.map(|k| PskSource {
            identity: k.identity,
            key: k.key,
            hash: k.hash,
            suite: None,
            resumption: false,
            // External PSKs have no age (RFC 8446 section 4.2.11).
            obfuscated_age: 0,
            max_early_data: 0,
        })
    }

    /// Handles one whole handshake message. Returns whether the receive keys changed.
    pub(crate) fn on_handshake(
        &mut self,
        msg: &[u8],
        rng: &mut Option<&mut dyn Rng>,
    ) -> Result<bool, Error> {
        let state = core::mem::replace(&mut self.state, State::Failed);
        let ctx = Context {
            cert_type: self.server_cert_type,
            ..Context::TLS13
        };
        let got = HandshakeType(msg[0]);
        let unexpected = |expected: &'static str| -> Error {
            PeerMisbehaved::UnexpectedMessage { expected, got }.into()
        };
        // Only the message the state expects is parsed: the type is checked first, then
        // that message's own parser runs. Besides refusing the unexpected early, this keeps
        // the parsers of messages a client never receives out of a device's flash.
        type T = HandshakeType;
        let (next, keys_changed) = match (state, got) {
            (State::WaitServerHello(h), T::SERVER_HELLO) => {
                let sh = parse_as(msg, &ctx, ServerHello::parse)?;
                if sh.is_hello_retry_request() {
                    let rng = rng.take().ok_or_else(|| unexpected("ServerHello"))?;
                    (
                        State::WaitServerHello(self.on_hello_retry(h, &sh, msg, rng)?),
                        false,
                    )
                } else {
                    (
                        State::WaitEncryptedExtensions(self.on_server_hello(h, &sh, msg)?),
                        true,
                    )
                }
            }
            (State::WaitServerHello(_), _) => return Err(unexpected("ServerHello")),
            (State::WaitEncryptedExtensions(k), T::ENCRYPTED_EXTENSIONS) => {
                let ee = parse_as(msg, &ctx, EncryptedExtensions::parse)?;
                self.on_encrypted_extensions(&ee, msg)?;
                if k.psk {
                    (State::WaitFinished(k), false)
                } else if cfg!(feature = "x509") {
                    (State::WaitCertificateOrRequest(k), false)
                } else {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "PSK (certificates are not compiled in)",
                    )));
                }
            }
            (State::WaitEncryptedExtensions(_), _) => {
                return Err(unexpected("EncryptedExtensions"))
            }
            (State::WaitCertificateOrRequest(k), T::CERTIFICATE_REQUEST) => {
                let cr = parse_as(msg, &ctx, CertificateRequest::parse)?;
                (
                    State::WaitCertificate(self.on_certificate_request(k, &cr, msg)?),
                    false,
                )
            }
            (State::WaitCertificateOrRequest(_), _) => {
                return Err(unexpected("Certificate or CertificateRequest"))
            }
            (State::WaitCertificate(_), _) => return Err(unexpected("Certificate")),
            #[cfg(feature = "x509")]
            (State::WaitCertificateVerify(k), T::CERTIFICATE_VERIFY) => {
                let cv = parse_as(msg, &ctx, CertificateVerify::parse)?;
                (
                    State::WaitFinished(self.on_certificate_verify(k, &cv, msg)?),
                    false,
                )
            }
            (State::WaitCertificateVerify(_), _) => return Err(unexpected("CertificateVerify")),
            (State::WaitFinished(k), T::FINISHED) => {
                let f = parse_as(msg, &ctx, Finished::parse)?;
                (State::Connected(self.on_finished(k, &f, msg)?), true)
            }
            (State::WaitFinished(_), _) => return Err(unexpected("Finished")),
            (State::Connected(a), T::NEW_SESSION_TICKET) => {
                let m = parse_as(msg, &ctx, NewSessionTicket::parse)?;
                self.post_handshake(a, HandshakeMessage::NewSessionTicket(m), msg)?
            }
            (State::Connected(a), T::KEY_UPDATE) => {
                let m = parse_as(msg, &ctx, KeyUpdate::parse)?;
                self.post_handshake(a, HandshakeMessage::KeyUpdate(m), msg)?
            }
            (State::Connected(_), _) => return Err(unexpected("NewSessionTicket or KeyUpdate")),
            (State::Closed, _) | (State::Failed, _) => return Err(unexpected("nothing")),
        };
        self.state = next;
        Ok(keys_changed)
    }

    fn on_hello_retry(
        &mut self,
        h: Hello<P>,
        sh: &ServerHello<'_>,
        msg: &[u8],
        rng: &mut dyn Rng,
    ) -> Result<Hello<P>, Error> {
        if h.hrr_suite.is_some() {
            // RFC 8446 section 4.1.4: a second HelloRetryRequest is unexpected_message.
            return Err(PeerMisbehaved::UnexpectedMessage {
                expected: "ServerHello",
                got: HandshakeType::HELLO_RETRY_REQUEST,
            }
            .into());
        }
        let suite = self.check_common(sh, &h)?;
        let exts = sh.extensions.unwrap_or(mote_wire::List::Raw(
            &[],
            mote_wire::ExtensionContext::HelloRetryRequest,
        ));
        let mut group = None;
        let mut cookie = None;
        for e in exts.iter() {
            match e.body {
                ExtensionBody::KeyShareHelloRetryRequest(g) => group = Some(g),
                ExtensionBody::Cookie(c) => cookie = Some(c),
                ExtensionBody::SupportedVersionsServerHello(_) => {}
                _ => return Err(PeerMisbehaved::UnsupportedExtension(e.typ).into()),
            }
        }
        // The retry must change something (RFC 8446 section 4.1.4), and a group asked for
        // must be one we offered but did not send a share for.
        if let Some(g) = group {
            if !self.cfg.groups.contains(&g) || Some(g) == h.group {
                return Err(PeerMisbehaved::IllegalParameter(
                    "key_share group in HelloRetryRequest",
                )
                .into());
            }
        } else if cookie.is_none() {
            return Err(
                PeerMisbehaved::IllegalParameter("HelloRetryRequest that changes nothing").into(),
            );
        }
        self.neg.hello_retry = true;
        self.transcript.restart_after_hrr(&self.p, suite.hash);
        self.transcript.update(msg);
        self.compat_ccs()?;
        let (kx, group) = match group {
            Some(g) => (
                Some(self.p.key_exchange(g, rng).map_err(Error::Crypto)?),
                Some(g),
            ),
            None => (h.kx, h.group),
        };
        // A HelloRetryRequest rejects 0-RTT: the second hello offers none (RFC 8446 4.2.10).
        if self.early_active {
            self.early_active = false;
            self.write = None;
        }
        let h2 = Hello {
            kx,
            group,
            hrr_suite: Some(suite.suite),
            early: false,
            ..h
        };
        self.send_client_hello(&h2, cookie, 0x0303)?;
        Ok(h2)
    }

    /// Checks shared by ServerHello and HelloRetryRequest; returns the chosen suite.
    fn check_common(&self, sh: &ServerHello<'_>, h: &Hello<P>) -> Result<SuiteInfo, Error> {
        let version = sh
            .extensions
            .and_then(|x| x.find(ExtensionType::SUPPORTED_VERSIONS));
        match version.map(|e| e.body) {
            Some(ExtensionBody::SupportedVersionsServerHello(ProtocolVersion::TLS13)) => {}
            // A server that chose TLS 1.2 or older: this client speaks only TLS 1.3.
            None => return Err(Error::Incompatible(Incompatible::Version)),
            Some(_) => return Err(PeerMisbehaved::IllegalParameter("supported_versions").into()),
        }
        if sh.legacy_session_id_echo != &h.session_id[..h.session_id_len] {
            return Err(PeerMisbehaved::IllegalParameter("legacy_session_id_echo").into());
        }
        if sh.legacy_compression_method.0 != 0 {
            return Err(PeerMisbehaved::IllegalParameter("legacy_compression_method").into());
        }
        if !self.cfg.cipher_suites.contains(&sh.cipher_suite) {
            return Err(PeerMisbehaved::IllegalParameter("cipher_suite").into());
        }
        if h.hrr_suite.is_some_and(|s| s != sh.cipher_suite) {
            return Err(PeerMisbehaved::IllegalParameter(
                "cipher_suite differs from HelloRetryRequest",
            )
            .into());
        }
        SuiteInfo::of(sh.cipher_suite)
            .ok_or(PeerMisbehaved::IllegalParameter("cipher_suite").into())
    }

    fn on_server_hello(
        &mut self,
        h: Hello<P>,
        sh: &ServerHello<'_>,
        msg: &[u8],
    ) -> Result<Keys, Error> {
        let suite = self.check_common(sh, &h)?;
        let exts = sh.extensions.unwrap_or(mote_wire::List::Raw(
            &[],
            mote_wire::ExtensionContext::ServerHello,
        ));
        let mut share = None;
        let mut psk = false;
        for e in exts.iter() {
            match e.body {
                ExtensionBody::SupportedVersionsServerHello(_) => {}
                ExtensionBody::KeyShareServerHello(k) => {
                    if Some(k.group) != h.group {
                        return Err(PeerMisbehaved::IllegalParameter("key_share group").into());
                    }
                    share = Some(k.key_exchange);
                }
                ExtensionBody::PreSharedKeyServerHello(i) => {
                    if self.psk_offer().is_none() || i != 0 {
                        return Err(PeerMisbehaved::IllegalParameter("selected_identity").into());
                    }
                    psk = true;
                }
                _ => {
                    return Err(
                        if e.typ == ExtensionType::COOKIE || e.typ.name().is_none() {
                            PeerMisbehaved::UnsupportedExtension(e.typ).into()
                        } else {
                            PeerMisbehaved::IllegalParameter("extension in ServerHello").into()
                        },
                    )
                }
            }
        }
        let offer = self.psk_offer();
        let psk_key = match (psk, offer) {
            (true, Some(k)) => {
                if k.hash != suite.hash {
                    return Err(PeerMisbehaved::IllegalParameter(
                        "cipher_suite hash differs from the PSK's",
                    )
                    .into());
                }
                Some(k.key)
            }
            _ => None,
        };
        self.neg.resumed = psk && offer.is_some_and(|o| o.resumption);
        if !psk && self.cfg.psk_only {
            return Err(Error::Incompatible(Incompatible::NoCommonParameters("PSK")));
        }
        let mut shared = [0u8; MAX_SHARED_SECRET];
        let shared = match (share, h.kx) {
            (Some(peer), Some(kx)) => {
                let n = kx.agree(peer, &mut shared).map_err(|e| match e {
                    CryptoError::BadPublicKey => {
                        Error::Peer(PeerMisbehaved::IllegalParameter("key_share"))
                    }
                    e => Error::Crypto(e),
                })?;
                self.neg.group = h.group;
                Some(&shared[..n])
            }
            (None, _) if psk && self.cfg.psk_modes.contains(&PskKeyExchangeMode::PSK_KE) => None,
            (None, _) => {
                return Err(PeerMisbehaved::MissingExtension(ExtensionType::KEY_SHARE).into())
            }
            (Some(_), None) => {
                return Err(PeerMisbehaved::UnsupportedExtension(ExtensionType::KEY_SHARE).into())
            }
        };
        self.transcript.choose(suite.hash);
        self.transcript.update(msg);
        let th = self.transcript.current(suite.hash);
        let hs = EarlySecret::new(&self.p, suite.hash, psk_key).into_handshake(&self.p, shared);
        let client = hs.client_traffic_secret(&self.p, th.as_bytes());
        let server = hs.server_traffic_secret(&self.p, th.as_bytes());
        self.log_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &client);
        self.log_secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", &server);
        self.read = Some(self.protector(&suite, &server)?);
        if self.early_active && !psk {
            // The server declined the PSK, so it ignores the 0-RTT records too.
            self.early_active = false;
        }
        if !self.early_active {
            self.write = Some(self.protector(&suite, &client)?);
        }
        self.neg.suite = Some(suite.suite);
        self.neg.psk = psk;
        Ok(Keys {
            secrets: Secrets { hs, client, server },
            suite,
            psk,
            cert_request: false,
            #[cfg(feature = "x509")]
            server_key: super::verify::ServerKey::none(),
        })
    }

    pub(crate) fn protector(
        &self,
        suite: &SuiteInfo,
        secret: &Digest,
    ) -> Result<Protector<P::Aead>, Error> {
        let k = TrafficKeys::derive(&self.p, suite.hash, suite.aead.key_len(), secret.as_bytes());
        Protector::from_keys(&self.p, suite.aead, k.key(), k.iv)
    }

    pub(crate) fn log_secret(&self, label: &str, secret: &Digest) {
        if let Some(log) = self.cfg.key_log {
            log.log(label, &self.client_random, secret.as_bytes());
        }
    }

    /// A change_cipher_spec for middleboxes, once, before the first protected flight.
    pub(crate) fn compat_ccs(&mut self) -> Result<(), Error> {
        if self.cfg.middlebox_compat && !self.sent_ccs {
            self.plain_record(ContentType::CHANGE_CIPHER_SPEC, 0x0303, &[1])?;
            self.sent_ccs = true;
        }
        Ok(())
    }
}

/// The PSK binder over the transcript so far plus the ClientHello up to its binders
/// (RFC 8446 section 4.2.11.2).
fn binder<P: Provider>(
    p: &P,
    t: &Transcript<P::Hash>,
    k: &PskSource<'_>,
    truncated_hello: &[u8],
) -> Digest {
    use mote_crypto::Hash;
    let early = EarlySecret::new(p, k.hash, Some(k.key));
    let key = early.binder_key(p, k.resumption);
    let mut h = t.fork(k.hash);
    h.update(truncated_hello);
    finished_verify_data(p, k.hash, key.as_bytes(), h.finish().as_bytes())
}

/// Parses a whole handshake message `msg` whose type was already checked, with `body`
/// reading the body: the same paths and errors as `mote_wire::handshake::parse_handshake`
/// (`handshake.length`, `handshake.<message>....`), without linking every message's parser.
fn parse_as<'m, T>(
    msg: &'m [u8],
    ctx: &Context,
    body: fn(&mut Reader<'m, '_>, &Context) -> Result<T, mote_wire::DecodeError>,
) -> Result<T, Error> {
    let mut r = Reader::new(msg);
    let t = HandshakeType(msg[0]);
    let v = r.node("handshake", None, |r| {
        let _ = r.code::<HandshakeType>("msg_type")?;
        let len_at = r.offset();
        let len = r.length("length", mote_wire::Len::U24)?;
        r.limited(len, "length", len_at, |r| {
            r.node(t.name().unwrap_or("unknown"), None, |r| {
                let v = body(r, ctx)?;
                r.expect_end("")?;
                Ok(v)
            })
        })
    })?;
    r.expect_end("")?;
    Ok(v)
}
