//! The server's handshake: reading the ClientHello (RFC 8446 section 4.1.2 and the checks of
//! sections 4.2 and 9.2), choosing suite, group and authentication, sending the flight
//! (ServerHello, EncryptedExtensions, Certificate, CertificateVerify, Finished), checking the
//! client's Finished, and KeyUpdate afterwards.

use super::{AppSecrets, Core, Pending, Retry, State};
use crate::config::ExternalPsk;
use crate::error::{Error, Incompatible, PeerMisbehaved};
use crate::key_schedule::tls13::{
    finished_verify_data, next_traffic_secret, EarlySecret, TrafficKeys,
};
use crate::record_layer::tls13::Protector;
use crate::transcript::Transcript;
use mote_crypto::{
    CryptoError, Digest, Hash, KeyExchange, Provider, Rng, SuiteInfo, MAX_DIGEST, MAX_SHARED_SECRET,
};
use mote_wire::extensions::{Extension, ExtensionBody, KeyShareEntry, OfferedPsks};
use mote_wire::handshake::{
    emit_handshake_tls, Certificate, CertificateEntry, CertificateVerify, ClientHello,
    EncryptedExtensions, Finished, HandshakeMessage, KeyUpdate, ServerHello,
};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{
    CipherSuite, CompressionMethod, ContentType, Context, ExtensionType, HandshakeType,
    KeyUpdateRequest, List, MaxFragmentLength, NamedGroup, ProtocolVersion, PskKeyExchangeMode,
    Reader, SignatureScheme, Writer,
};
use subtle::ConstantTimeEq;

const SERVER_CV_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify";
/// The longest certificate chain sent.
const MAX_CHAIN: usize = 8;

/// What the ClientHello's extensions said.
#[derive(Default)]
struct Offer<'m> {
    versions: Option<List<'m, ProtocolVersion>>,
    groups: Option<List<'m, NamedGroup>>,
    shares: Option<List<'m, KeyShareEntry<'m>>>,
    sig_algs: Option<List<'m, SignatureScheme>>,
    psk: Option<OfferedPsks<'m>>,
    psk_modes: Option<List<'m, PskKeyExchangeMode>>,
    sni: bool,
    record_size_limit: Option<u16>,
    mfl: Option<MaxFragmentLength>,
    early_data: bool,
    cookie: Option<&'m [u8]>,
}

/// What a ClientHello leads to.
enum Next {
    Flight(Pending),
    Retry(Retry),
}

/// How the handshake authenticates.
enum Auth<'k> {
    Psk {
        index: u16,
        key: &'k [u8],
        dhe: bool,
    },
    Certificate(SignatureScheme),
}

impl<'a, P: Provider> Core<'a, '_, P> {
    /// Handles one whole handshake message. Returns whether the receive keys changed.
    pub(crate) fn on_handshake(
        &mut self,
        msg: &[u8],
        rng: &mut Option<&mut dyn Rng>,
    ) -> Result<bool, Error> {
        let state = core::mem::replace(&mut self.state, State::Failed);
        let got = HandshakeType(msg[0]);
        let unexpected = |expected: &'static str| -> Error {
            PeerMisbehaved::UnexpectedMessage { expected, got }.into()
        };
        type T = HandshakeType;
        let (next, changed) = match (state, got) {
            (State::WaitClientHello, T::CLIENT_HELLO) => {
                let ch = parse_as(msg, ClientHello::parse)?;
                let rng = rng.take().ok_or_else(|| unexpected("nothing"))?;
                match self.on_client_hello(&ch, msg, rng, None)? {
                    Next::Flight(k) => (after_flight(k), true),
                    Next::Retry(r) => (State::WaitClientHello2(r), false),
                }
            }
            (State::WaitClientHello2(r), T::CLIENT_HELLO) => {
                let ch = parse_as(msg, ClientHello::parse)?;
                let rng = rng.take().ok_or_else(|| unexpected("nothing"))?;
                match self.on_client_hello(&ch, msg, rng, Some(&r))? {
                    Next::Flight(k) => (after_flight(k), true),
                    Next::Retry(_) => return Err(unexpected("ClientHello")),
                }
            }
            (State::WaitClientHello | State::WaitClientHello2(_), _) => {
                return Err(unexpected("ClientHello"))
            }
            (State::WaitFinished(k), T::FINISHED) => {
                let f = parse_as(msg, Finished::parse)?;
                (State::Connected(self.on_finished(k, &f, msg, rng)?), true)
            }
            (State::WaitFinished(_), _) => return Err(unexpected("Finished")),
            #[cfg(feature = "x509")]
            (State::WaitCertificate(k), T::CERTIFICATE) => {
                let c = parse_as(msg, Certificate::parse)?;
                match self.on_client_certificate(&c, msg)? {
                    Some(chain) => (State::WaitCertificateVerify(k, chain), false),
                    None => (State::WaitFinished(k), false),
                }
            }
            #[cfg(feature = "x509")]
            (State::WaitCertificate(_), _) => return Err(unexpected("Certificate")),
            #[cfg(feature = "x509")]
            (State::WaitCertificateVerify(k, chain), T::CERTIFICATE_VERIFY) => {
                let cv = parse_as(msg, CertificateVerify::parse)?;
                self.on_client_certificate_verify(&k, &chain, &cv, msg)?;
                (State::WaitFinished(k), false)
            }
            #[cfg(feature = "x509")]
            (State::WaitCertificateVerify(..), _) => return Err(unexpected("CertificateVerify")),
            (State::Connected(a), T::KEY_UPDATE) => {
                let m = parse_as(msg, KeyUpdate::parse)?;
                (State::Connected(self.on_key_update(a, m)?), true)
            }
            (State::Connected(_), _) => return Err(unexpected("KeyUpdate")),
            (State::Closed | State::Failed, _) => return Err(unexpected("nothing")),
        };
        self.state = next;
        Ok(changed)
    }

    fn on_client_hello(
        &mut self,
        ch: &ClientHello<'_>,
        msg: &[u8],
        rng: &mut dyn Rng,
        retry: Option<&Retry>,
    ) -> Result<Next, Error> {
        self.client_random = ch.random;
        let o = read_offer(ch)?;
        if self.hello_not_last {
            return Err(PeerMisbehaved::FragmentedAcrossKeyChange.into());
        }
        // With a cookie key, what the HelloRetryRequest asked for comes from the cookie the
        // second ClientHello echoes, not from kept state (see cookie.rs).
        let from_cookie;
        let retry = match (retry, self.cfg.cookie_key) {
            (Some(_), Some(key)) => {
                from_cookie = self.open_cookie(&key, o.cookie)?;
                self.emit_retry(ch.legacy_session_id, &from_cookie, o.cookie)?;
                Some(&from_cookie)
            }
            (r, _) => r,
        };
        if retry.is_some() && o.early_data {
            // RFC 8446 section 4.2.10: no early data after a HelloRetryRequest.
            return Err(
                PeerMisbehaved::IllegalParameter("early_data after HelloRetryRequest").into(),
            );
        }
        // Appendix D.5: SSL 3.0 or older in legacy_version is refused outright.
        if ch.legacy_version.0 <= 0x0300 {
            return Err(Error::Incompatible(Incompatible::Version));
        }
        // RFC 8446 section 4.2.1: without supported_versions the client offers TLS 1.2 or
        // older, which this server does not speak.
        let tls13 = o
            .versions
            .is_some_and(|v| v.iter().any(|v| v == ProtocolVersion::TLS13));
        if !tls13 {
            return Err(Error::Incompatible(Incompatible::Version));
        }
        // Section 4.1.2: in TLS 1.3 the only compression method is null, sent alone.
        let mut methods = ch.legacy_compression_methods.iter();
        if (methods.next(), methods.next()) != (Some(CompressionMethod::NULL), None) {
            return Err(PeerMisbehaved::IllegalParameter("legacy_compression_methods").into());
        }
        // Section 9.2: the extensions a TLS 1.3 ClientHello must carry.
        if o.psk.is_none() {
            if o.sig_algs.is_none() {
                return Err(missing(ExtensionType::SIGNATURE_ALGORITHMS));
            }
            if o.groups.is_none() {
                return Err(missing(ExtensionType::SUPPORTED_GROUPS));
            }
        }
        match (o.groups.is_some(), o.shares.is_some()) {
            (true, false) => return Err(missing(ExtensionType::KEY_SHARE)),
            (false, true) => return Err(missing(ExtensionType::SUPPORTED_GROUPS)),
            _ => {}
        }
        // Section 4.2.8: a share for a group the client does not list is a violation the
        // server may refuse; it does, rather than use a group the client did not offer.
        if let (Some(groups), Some(shares)) = (o.groups, o.shares) {
            if shares.iter().any(|k| !groups.iter().any(|g| g == k.group)) {
                return Err(PeerMisbehaved::IllegalParameter("key_share group not offered").into());
            }
        }
        if o.psk.is_some() && o.psk_modes.is_none() {
            // Section 4.2.9: pre_shared_key without psk_key_exchange_modes.
            return Err(missing(ExtensionType::PSK_KEY_EXCHANGE_MODES));
        }
        if o.record_size_limit.is_some_and(|l| l < 64) {
            return Err(PeerMisbehaved::IllegalParameter("record_size_limit").into());
        }
        let client_suites = ch.cipher_suites;
        // After a HelloRetryRequest only its suite will do (RFC 8446 section 4.1.4).
        let only = retry.map(|r| r.suite.suite);
        let offered =
            |s: CipherSuite| client_suites.iter().any(|c| c == s) && only.is_none_or(|o| o == s);
        // The key share: the server's most preferred group the client sent a share for, or
        // after a HelloRetryRequest the group it asked for.
        let share = match retry {
            Some(r) => o.shares.and_then(|l| l.iter().find(|e| e.group == r.group)),
            None => self.cfg.groups.iter().find_map(|&g| {
                o.shares
                    .and_then(|l| l.iter().find(|e| e.group == g))
                    .filter(|_| self.p.supports_group(g))
            }),
        };

        // The group a HelloRetryRequest would ask for when no share fits.
        let hrr_group = self
            .cfg
            .groups
            .iter()
            .copied()
            .filter(|_| retry.is_none() && share.is_none())
            .find(|&g| {
                self.p.supports_group(g) && o.groups.is_some_and(|l| l.iter().any(|c| c == g))
            });
        // A PSK the server knows, its suite and mode (sections 4.2.9, 4.2.11).
        let mut chosen: Option<(SuiteInfo, Auth<'_>)> = None;
        // A ticket that opened (its PSK is borrowed from here).
        let mut ticket = None;
        if let (Some(offer), Some(modes)) = (o.psk, o.psk_modes) {
            // The first identity that is an external PSK or one of our tickets; tickets that
            // do not open or have expired are skipped (RFC 8446 section 4.2.11).
            let mut found = None;
            for (i, id) in offer.identities.iter().enumerate().take(0x10000) {
                if let Some(j) = self.cfg.psks.iter().position(|k| k.identity == id.identity) {
                    found = Some((i as u16, Some(j)));
                    break;
                }
                if let Some(t) = self.open_ticket(id.identity, id.obfuscated_ticket_age) {
                    found = Some((i as u16, None));
                    ticket = Some(t);
                    break;
                }
            }
            let k = match (found, &ticket) {
                (Some((_, Some(j))), _) => self.cfg.psks.get(j).copied(),
                (Some(_), Some(t)) => Some(ExternalPsk {
                    identity: &[],
                    key: t.psk(),
                    hash: t.hash,
                }),
                _ => None,
            };
            let suite = k.and_then(|k| self.suite_for(&offered, Some(k.hash)));
            let mode = self.cfg.psk_modes.iter().copied().find(|m| {
                modes.iter().any(|c| c == *m)
                    && (*m == PskKeyExchangeMode::PSK_KE
                        || (*m == PskKeyExchangeMode::PSK_DHE_KE
                            && (share.is_some() || hrr_group.is_some())))
            });
            if let (Some((index, ext)), Some(k), Some(suite), Some(mode)) = (found, k, suite, mode)
            {
                self.check_binder(&offer, index, &k, msg, ext.is_none())?;
                self.neg.client_identity = match (ext, &ticket) {
                    (Some(j), _) => Some(super::ClientId::Psk(j)),
                    (None, Some(t)) => t.client,
                    (None, None) => None,
                };
                self.neg.resumed = ext.is_none();
                let dhe = mode == PskKeyExchangeMode::PSK_DHE_KE;
                chosen = Some((
                    suite,
                    Auth::Psk {
                        index,
                        key: k.key,
                        dhe,
                    },
                ));
            }
        }
        let (suite, auth) = match chosen {
            Some(c) => c,
            None => {
                let Some(id) = self.cfg.identity else {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "PSK identity",
                    )));
                };
                let scheme = id.signer.scheme();
                if !o.sig_algs.is_some_and(|l| l.iter().any(|s| s == scheme)) {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "signature scheme",
                    )));
                }
                let Some(suite) = self.suite_for(&offered, None) else {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "cipher suite",
                    )));
                };
                (suite, Auth::Certificate(scheme))
            }
        };
        let dhe = !matches!(auth, Auth::Psk { dhe: false, .. });
        let share = match (dhe, share) {
            (true, Some(s)) => Some(s),
            (true, None) if retry.is_some() => {
                return Err(
                    PeerMisbehaved::IllegalParameter("key_share after HelloRetryRequest").into(),
                );
            }
            (true, None) => {
                // No usable share: ask for the server's most preferred group among the
                // client's supported_groups (RFC 8446 section 4.1.4).
                let Some(group) = hrr_group else {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "key share group",
                    )));
                };
                return Ok(Next::Retry(self.send_retry(ch, msg, suite, group, rng)?));
            }
            (false, _) => None,
        };

        // The key exchange.
        let mut secret = [0u8; MAX_SHARED_SECRET];
        let mut our_share = [0u8; mote_crypto::MAX_SHARE];
        let (shared, share_out) = match share {
            Some(e) => {
                let kx = self.p.key_exchange(e.group, rng).map_err(Error::Crypto)?;
                let pub_len = kx.public_share().len().min(our_share.len());
                our_share[..pub_len].copy_from_slice(&kx.public_share()[..pub_len]);
                let n = kx.agree(e.key_exchange, &mut secret).map_err(|e| match e {
                    CryptoError::BadPublicKey | CryptoError::BadLength => {
                        Error::Peer(PeerMisbehaved::IllegalParameter("key_share"))
                    }
                    e => Error::Crypto(e),
                })?;
                self.neg.group = Some(e.group);
                (Some(&secret[..n]), Some((e.group, pub_len)))
            }
            None => (None, None),
        };

        // ServerHello.
        let mut random = [0u8; 32];
        rng.fill(&mut random).map_err(Error::Crypto)?;
        if retry.is_none() {
            self.transcript = Some(Transcript::One(self.p.hash(suite.hash)));
        }
        if let Some(t) = self.transcript.as_mut() {
            t.update(msg);
        }
        let ks;
        let mut exts = [Extension {
            typ: ExtensionType::SUPPORTED_VERSIONS,
            body: ExtensionBody::SupportedVersionsServerHello(ProtocolVersion::TLS13),
        }; 3];
        let mut n_ext = 1;
        if let Some((group, len)) = share_out {
            ks = KeyShareEntry {
                group,
                key_exchange: &our_share[..len],
            };
            exts[n_ext] = Extension {
                typ: ExtensionType::KEY_SHARE,
                body: ExtensionBody::KeyShareServerHello(ks),
            };
            n_ext += 1;
        }
        let psk_key = match auth {
            Auth::Psk { index, key, .. } => {
                exts[n_ext] = Extension {
                    typ: ExtensionType::PRE_SHARED_KEY,
                    body: ExtensionBody::PreSharedKeyServerHello(index),
                };
                n_ext += 1;
                Some(key)
            }
            Auth::Certificate(_) => None,
        };
        let sh = HandshakeMessage::ServerHello(ServerHello {
            legacy_version: ProtocolVersion::TLS12,
            random,
            legacy_session_id_echo: ch.legacy_session_id,
            cipher_suite: suite.suite,
            legacy_compression_method: CompressionMethod::NULL,
            extensions: Some(List::Items(&exts[..n_ext])),
        });
        let len = self.emit(HandshakeType::SERVER_HELLO, &sh)?;
        self.plain_record(ContentType::HANDSHAKE, len)?;
        // Appendix D.4: a client in compatibility mode (non-empty session id) expects a
        // change_cipher_spec after ServerHello.
        if !ch.legacy_session_id.is_empty() && !retry.is_some_and(|r| r.sent_ccs) {
            if self.tx.free_len() < TLS_HEADER_LEN + 1 {
                return Err(self.capacity(TLS_HEADER_LEN + 1));
            }
            self.tx.free()[TLS_HEADER_LEN] = 1;
            self.plain_record(ContentType::CHANGE_CIPHER_SPEC, 1)?;
        }

        // Handshake keys.
        let th = self.th(suite);
        let hs = EarlySecret::new(&self.p, suite.hash, psk_key).into_handshake(&self.p, shared);
        let client_hs = hs.client_traffic_secret(&self.p, th.as_bytes());
        let server_hs = hs.server_traffic_secret(&self.p, th.as_bytes());
        self.log_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &client_hs);
        self.log_secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", &server_hs);
        self.read = Some(self.protector(&suite, &client_hs)?);
        self.write = Some(self.protector(&suite, &server_hs)?);
        if o.early_data {
            // Section 4.2.10: early_data is not acknowledged, so the client's 0-RTT records
            // (under keys never derived here) are skipped.
            self.early_skip = super::records::MAX_SKIPPED_EARLY_DATA;
        }

        // EncryptedExtensions.
        let rsl_ours = self
            .cfg
            .record_size_limit
            .unwrap_or((1 << 14) + 1)
            .min((1 << 14) + 1);
        let mut ee = [Extension {
            typ: ExtensionType::SERVER_NAME,
            body: ExtensionBody::Empty,
        }; 2];
        let mut n_ee = 0;
        if o.sni {
            n_ee += 1;
        }
        if let Some(l) = o.record_size_limit {
            // RFC 8449 section 4: the limit counts the inner content type in TLS 1.3.
            self.max_send = usize::from(l).saturating_sub(1).min(1 << 14);
            self.neg.peer_record_size_limit = Some(l);
            ee[n_ee] = Extension {
                typ: ExtensionType::RECORD_SIZE_LIMIT,
                body: ExtensionBody::RecordSizeLimit(rsl_ours),
            };
            n_ee += 1;
        } else if let Some(m) = o.mfl.filter(|m| m.bytes().is_some()) {
            // RFC 6066 section 4: echo the client's max_fragment_length.
            self.max_send = m.bytes().unwrap_or(1 << 14);
            self.neg.max_fragment_length = Some(m);
            ee[n_ee] = Extension {
                typ: ExtensionType::MAX_FRAGMENT_LENGTH,
                body: ExtensionBody::MaxFragmentLength(m),
            };
            n_ee += 1;
        }
        let ee = HandshakeMessage::EncryptedExtensions(EncryptedExtensions {
            extensions: List::Items(&ee[..n_ee]),
        });
        self.send_handshake(HandshakeType::ENCRYPTED_EXTENSIONS, &ee)?;
        #[cfg(feature = "x509")]
        let cert_requested =
            matches!(auth, Auth::Certificate(_)) && self.send_certificate_request()?;
        #[cfg(not(feature = "x509"))]
        let cert_requested = false;

        // Certificate and CertificateVerify.
        if let (Auth::Certificate(scheme), Some(id)) = (&auth, self.cfg.identity) {
            let mut entries = [CertificateEntry {
                data: &[],
                extensions: List::Items(&[]),
            }; MAX_CHAIN];
            let n = id.chain.len().min(MAX_CHAIN);
            for (e, der) in entries.iter_mut().zip(id.chain) {
                e.data = der;
            }
            let cert = HandshakeMessage::Certificate(Certificate::Tls13 {
                certificate_request_context: &[],
                certificate_list: List::Items(&entries[..n]),
            });
            self.send_handshake(HandshakeType::CERTIFICATE, &cert)?;
            let th = self.th(suite);
            let mut buf = [0u8; 64 + 34 + MAX_DIGEST];
            let content = signed_content(SERVER_CV_CONTEXT, th.as_bytes(), &mut buf);
            // An RSA key signs with its modulus length (512 bytes for RSA-4096).
            #[cfg(feature = "rsa")]
            let mut sig = [0u8; mote_x509::RSA_SIGNATURE_CAPACITY];
            #[cfg(not(feature = "rsa"))]
            let mut sig = [0u8; mote_crypto::MAX_SIGNATURE];
            let len = id.signer.sign(content, &mut sig).map_err(Error::Crypto)?;
            let cv = HandshakeMessage::CertificateVerify(CertificateVerify {
                algorithm: *scheme,
                signature: sig.get(..len).unwrap_or(&sig),
            });
            self.send_handshake(HandshakeType::CERTIFICATE_VERIFY, &cv)?;
            self.neg.server_signature = Some(*scheme);
        }

        // Finished, then the application keys (the server may send from now on, but this
        // phase waits for the client's Finished).
        let vd = finished_verify_data(
            &self.p,
            suite.hash,
            server_hs.as_bytes(),
            self.th(suite).as_bytes(),
        );
        let fin = HandshakeMessage::Finished(Finished {
            verify_data: vd.as_bytes(),
        });
        self.send_handshake(HandshakeType::FINISHED, &fin)?;
        let th = self.th(suite);
        let master = hs.into_master(&self.p);
        let client_ap = master.client_traffic_secret(&self.p, th.as_bytes());
        let server_ap = master.server_traffic_secret(&self.p, th.as_bytes());
        self.log_secret("CLIENT_TRAFFIC_SECRET_0", &client_ap);
        self.log_secret("SERVER_TRAFFIC_SECRET_0", &server_ap);
        self.log_secret(
            "EXPORTER_SECRET",
            &master.exporter_secret(&self.p, th.as_bytes()),
        );
        self.write = Some(self.protector(&suite, &server_ap)?);
        self.neg.suite = Some(suite.suite);
        self.neg.psk = psk_key.is_some();
        // Tickets only for a client that can resume (RFC 8446 section 4.2.9).
        let tickets = !self.cfg.ticket_keys.is_empty()
            && o.psk_modes
                .is_some_and(|l| l.iter().any(|m| self.cfg.psk_modes.contains(&m)));
        Ok(Next::Flight(Pending {
            suite,
            client_hs,
            client_ap,
            server_ap,
            master,
            tickets,
            cert_requested,
        }))
    }

    /// The first suite in the server's order that the client offered (and, for a PSK, that
    /// uses the PSK's hash).
    fn suite_for(
        &self,
        offered: &dyn Fn(CipherSuite) -> bool,
        hash: Option<mote_crypto::HashAlgorithm>,
    ) -> Option<SuiteInfo> {
        self.cfg
            .cipher_suites
            .iter()
            .filter(|s| offered(**s))
            .filter_map(|s| SuiteInfo::of(*s))
            .find(|i| i.tls13 && hash.is_none_or(|h| h == i.hash))
    }

    /// Verifies the binder of identity `index` over the ClientHello up to its binders list
    /// (RFC 8446 section 4.2.11.2), in constant time.
    fn check_binder(
        &self,
        offer: &OfferedPsks<'_>,
        index: u16,
        k: &ExternalPsk<'_>,
        msg: &[u8],
        resumption: bool,
    ) -> Result<(), Error> {
        if offer.identities.iter().count() != offer.binders.iter().count() {
            return Err(PeerMisbehaved::IllegalParameter("PSK binders count").into());
        }
        // pre_shared_key is the last extension (checked in read_offer), so the binders list
        // (a 2-byte length and each binder with its 1-byte length) ends the message.
        let binders_len: usize = 2 + offer.binders.iter().map(|b| 1 + b.0.len()).sum::<usize>();
        let Some(truncated) = msg
            .len()
            .checked_sub(binders_len)
            .and_then(|n| msg.get(..n))
        else {
            return Err(PeerMisbehaved::IllegalParameter("PSK binders").into());
        };
        let Some(got) = offer.binders.iter().nth(usize::from(index)) else {
            return Err(PeerMisbehaved::IllegalParameter("PSK binders").into());
        };
        // After a HelloRetryRequest the binder covers message_hash and the retry request too.
        let mut h = match &self.transcript {
            Some(t) => t.fork(k.hash),
            None => self.p.hash(k.hash),
        };
        h.update(truncated);
        let key = EarlySecret::new(&self.p, k.hash, Some(k.key)).binder_key(&self.p, resumption);
        let expected = finished_verify_data(&self.p, k.hash, key.as_bytes(), h.finish().as_bytes());
        if !bool::from(expected.as_bytes().ct_eq(got.0)) {
            return Err(PeerMisbehaved::DecryptError("the client's PSK binder").into());
        }
        Ok(())
    }

    fn on_finished(
        &mut self,
        k: Pending,
        f: &Finished<'_>,
        msg: &[u8],
        rng: &mut Option<&mut dyn Rng>,
    ) -> Result<AppSecrets, Error> {
        let expected = finished_verify_data(
            &self.p,
            k.suite.hash,
            k.client_hs.as_bytes(),
            self.th(k.suite).as_bytes(),
        );
        if !bool::from(expected.as_bytes().ct_eq(f.verify_data)) {
            return Err(PeerMisbehaved::DecryptError("the client's Finished").into());
        }
        self.read = Some(self.protector(&k.suite, &k.client_ap)?);
        // RFC 8446 section 4.6.1: the resumption secret covers the client's Finished.
        if let (true, Some(rng)) = (k.tickets, rng.as_deref_mut()) {
            if let Some(t) = self.transcript.as_mut() {
                t.update(msg);
            }
            self.send_ticket(k.suite, &k.master, rng)?;
        }
        Ok(AppSecrets {
            suite: k.suite,
            client: k.client_ap,
            server: k.server_ap,
        })
    }

    /// RFC 8446 section 4.6.3: the client's next keys; answer a request with ours.
    fn on_key_update(&mut self, mut a: AppSecrets, m: KeyUpdate) -> Result<AppSecrets, Error> {
        let req = m.request_update;
        if req != KeyUpdateRequest::UPDATE_NOT_REQUESTED
            && req != KeyUpdateRequest::UPDATE_REQUESTED
        {
            return Err(PeerMisbehaved::IllegalParameter("request_update").into());
        }
        a.client = next_traffic_secret(&self.p, a.suite.hash, a.client.as_bytes());
        self.read = Some(self.protector(&a.suite, &a.client)?);
        if req == KeyUpdateRequest::UPDATE_REQUESTED && !self.closing.sent {
            self.send_key_update(&mut a, KeyUpdateRequest::UPDATE_NOT_REQUESTED)?;
        }
        Ok(a)
    }

    /// Sends a KeyUpdate under the current keys, then moves to the next write keys.
    pub(crate) fn send_key_update(
        &mut self,
        a: &mut AppSecrets,
        req: KeyUpdateRequest,
    ) -> Result<(), Error> {
        self.out().seal_key_update(req)?;
        a.server = next_traffic_secret(&self.p, a.suite.hash, a.server.as_bytes());
        self.write = Some(self.protector(&a.suite, &a.server)?);
        Ok(())
    }

    /// Emits a handshake message at `tx.free()[5..]`; returns its length.
    pub(crate) fn emit(
        &mut self,
        t: HandshakeType,
        m: &HandshakeMessage<'_>,
    ) -> Result<usize, Error> {
        let full = self.capacity(self.tx.free_len() + 1);
        let Some(body) = self.tx.free().get_mut(TLS_HEADER_LEN..) else {
            return Err(full);
        };
        let mut w = Writer::new(body);
        emit_handshake_tls(t, m, &mut w).map_err(|_| full)?;
        let len = w.len();
        if let Some(t) = self.transcript.as_mut() {
            if m.msg_type() != Some(HandshakeType::KEY_UPDATE) {
                t.update(&self.tx.free()[TLS_HEADER_LEN..TLS_HEADER_LEN + len]);
            }
        }
        Ok(len)
    }

    /// Emits, adds to the transcript and seals a handshake message.
    pub(crate) fn send_handshake(
        &mut self,
        t: HandshakeType,
        m: &HandshakeMessage<'_>,
    ) -> Result<(), Error> {
        let len = self.emit(t, m)?;
        self.seal_handshake(len)
    }

    pub(crate) fn capacity(&self, needed: usize) -> Error {
        Error::Capacity {
            needed: self.tx.capacity() - self.tx.free_len() + needed,
            available: self.tx.capacity(),
        }
    }

    /// The transcript hash so far.
    pub(crate) fn th(&self, suite: SuiteInfo) -> Digest {
        match &self.transcript {
            Some(t) => t.current(suite.hash),
            None => self.p.hash(suite.hash).finish(),
        }
    }

    fn protector(&self, suite: &SuiteInfo, secret: &Digest) -> Result<Protector<P::Aead>, Error> {
        let k = TrafficKeys::derive(&self.p, suite.hash, suite.aead.key_len(), secret.as_bytes());
        Protector::from_keys(&self.p, suite.aead, k.key(), k.iv)
    }

    fn log_secret(&self, label: &str, secret: &Digest) {
        if let Some(log) = self.cfg.key_log {
            log.log(label, &self.client_random, secret.as_bytes());
        }
    }
}

/// The state after the server's flight: the client's Certificate when one was requested.
fn after_flight(k: Pending) -> State {
    #[cfg(feature = "x509")]
    if k.cert_requested {
        return State::WaitCertificate(k);
    }
    State::WaitFinished(k)
}

fn missing(t: ExtensionType) -> Error {
    PeerMisbehaved::MissingExtension(t).into()
}

/// Collects the ClientHello extensions the server acts on. pre_shared_key must come last
/// (RFC 8446 section 4.2.11: illegal_parameter otherwise).
fn read_offer<'m>(ch: &ClientHello<'m>) -> Result<Offer<'m>, Error> {
    let mut o = Offer::default();
    let Some(exts) = ch.extensions else {
        return Ok(o);
    };
    for e in exts.iter() {
        if o.psk.is_some() {
            return Err(PeerMisbehaved::IllegalParameter("pre_shared_key not last").into());
        }
        match e.body {
            ExtensionBody::SupportedVersionsClientHello(l) => o.versions = Some(l),
            ExtensionBody::NamedGroupList(l) => o.groups = Some(l),
            ExtensionBody::KeyShareClientHello(l) => o.shares = Some(l),
            ExtensionBody::SignatureSchemeList(l)
                if e.typ == ExtensionType::SIGNATURE_ALGORITHMS =>
            {
                o.sig_algs = Some(l)
            }
            ExtensionBody::PreSharedKeyClientHello(p) => o.psk = Some(p),
            ExtensionBody::PskKeyExchangeModes(l) => o.psk_modes = Some(l),
            ExtensionBody::ServerNameList(_) => o.sni = true,
            ExtensionBody::RecordSizeLimit(l) => o.record_size_limit = Some(l),
            ExtensionBody::MaxFragmentLength(m) => o.mfl = Some(m),
            ExtensionBody::Cookie(c) => o.cookie = Some(c),
            _ if e.typ == ExtensionType::EARLY_DATA => o.early_data = true,
            _ => {}
        }
    }
    Ok(o)
}

/// 64 spaces, the context string, a zero byte and the transcript hash (RFC 8446 4.4.3).
pub(crate) fn signed_content<'o>(
    context: &[u8],
    th: &[u8],
    out: &'o mut [u8; 64 + 34 + MAX_DIGEST],
) -> &'o [u8] {
    out[..64].fill(0x20);
    out[64..64 + context.len()].copy_from_slice(context);
    out[64 + context.len()] = 0;
    let at = 65 + context.len();
    out[at..at + th.len()].copy_from_slice(th);
    &out[..at + th.len()]
}

/// Parses a whole handshake message whose type was already checked (as the client does).
fn parse_as<'m, T>(
    msg: &'m [u8],
    body: fn(&mut Reader<'m, '_>, &Context) -> Result<T, mote_wire::DecodeError>,
) -> Result<T, Error> {
    let ctx = Context::TLS13;
    let mut r = Reader::new(msg);
    let t = HandshakeType(msg[0]);
    let v = r.node("handshake", None, |r| {
        let _ = r.code::<HandshakeType>("msg_type")?;
        let len_at = r.offset();
        let len = r.length("length", mote_wire::Len::U24)?;
        r.limited(len, "length", len_at, |r| {
            r.node(t.name().unwrap_or("unknown"), None, |r| {
                let v = body(r, &ctx)?;
                r.expect_end("")?;
                Ok(v)
            })
        })
    })?;
    r.expect_end("")?;
    Ok(v)
}
