//! The server's handshake (RFC 6347 section 4.2, RFC 5246 section 7.3), after the cookie
//! exchange: ClientHello → ServerHello, [Certificate], [ServerKeyExchange],
//! ServerHelloDone; then the client's ClientKeyExchange, change_cipher_spec and Finished →
//! change_cipher_spec, Finished. The suite is the server's first preference the client
//! offers and the credentials allow; the extended master secret (RFC 7627) is required.

use super::ServerRole as Core;
use crate::dtls::endpoint::Phase;
use crate::dtls::incoming::whole_header;
use crate::dtls::outgoing::Flight;
use crate::error::{ApiMisuse, Error, Incompatible, PeerMisbehaved};
use crate::key_schedule::tls12::{
    ecdhe_premaster, ecdhe_psk_premaster, psk_premaster, MasterSecret12,
};
use crate::record_layer::dtls12::Dtls12Protector;
use crate::transcript::Transcript;
use mote_crypto::{HashAlgorithm, KeyExchange as _, Provider, Rng, SuiteInfo};
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::empty::ServerHelloDone;
use mote_wire::handshake::key_exchange::ServerEcdhParams;
use mote_wire::handshake::{
    Asn1Cert, Certificate, ClientHello, ClientKeyExchange, DigitallySigned, Finished,
    HandshakeMessage, ServerHello, ServerKeyExchange,
};
use mote_wire::{
    CertificateType, CipherSuite, CompressionMethod, Context, EcPointFormat, ExtensionType,
    HandshakeType, KeyExchange, List, NamedGroup, Reader, SignatureScheme,
};
use subtle::ConstantTimeEq;

/// Where the server's handshake stands.
#[allow(clippy::large_enum_variant)] // one lives per connection; no allocator to box it
pub(crate) enum State<P: Provider> {
    WaitClientHello,
    /// The server's flight is out: the ClientKeyExchange is next.
    WaitKeyExchange(Pending<P>),
    /// The client's change_cipher_spec is next.
    WaitCcs(Keys<P>),
    /// The client's Finished is next.
    WaitFinished(Keys<P>),
    Done,
    Failed,
}

pub(crate) struct Pending<P: Provider> {
    suite: SuiteInfo,
    kx: KeyExchange,
    transcript: Transcript<P::Hash>,
    client_random: [u8; 32],
    server_random: [u8; 32],
    ecdhe: Option<P::KeyExchange>,
}

pub(crate) struct Keys<P: Provider> {
    transcript: Transcript<P::Hash>,
    master: MasterSecret12,
    /// The server's write keys: used from its change_cipher_spec on.
    write: Dtls12Protector<P::Aead>,
    expected: [u8; 12],
}

/// What the ClientHello offers that the choice depends on.
#[derive(Default)]
struct Offer<'m> {
    groups: Option<List<'m, NamedGroup>>,
    sig_algs: Option<List<'m, SignatureScheme>>,
    point_formats: bool,
    ems: bool,
    reneg: bool,
    cid: Option<&'m [u8]>,
    server_cert_types: Option<List<'m, CertificateType>>,
}

const MAX_EXTENSIONS: usize = 8;

impl<P: Provider> Core<'_, P> {
    pub(crate) fn handle(
        &mut self,
        t: HandshakeType,
        seq: u16,
        body: &[u8],
        flight: &mut Flight<'_>,
        rng: Option<&mut dyn Rng>,
    ) -> Result<Option<u16>, Error> {
        let state = core::mem::replace(&mut self.state, State::Failed);
        let mut ctx = Context::DTLS12;
        if let State::WaitKeyExchange(p) = &state {
            ctx.key_exchange = p.kx;
        }
        let msg = HandshakeMessage::parse_body(t, &mut Reader::new(body), &ctx)?;
        let unexpected =
            |expected| -> Error { PeerMisbehaved::UnexpectedMessage { expected, got: t }.into() };
        match (state, msg) {
            (State::WaitClientHello, HandshakeMessage::ClientHello(ch)) => {
                let rng = rng.ok_or(Error::Api(ApiMisuse::NotReady))?;
                let p = self.on_client_hello(&ch, seq, body, flight, rng)?;
                self.shared.timer.start(self.shared.now_ms);
                self.state = State::WaitKeyExchange(p);
                Ok(None)
            }
            (State::WaitKeyExchange(mut p), HandshakeMessage::ClientKeyExchange(cke)) => {
                // The timer runs on until the client's Finished: a client that goes quiet
                // after its key exchange still ends in HandshakeTimeout.
                p.transcript.update(&whole_header(t, seq, body.len()));
                p.transcript.update(body);
                let keys = self.on_key_exchange(p, &cke)?;
                self.state = State::WaitCcs(keys);
                Ok(None)
            }
            (State::WaitFinished(mut k), HandshakeMessage::Finished(fin)) => {
                if !bool::from(fin.verify_data.ct_eq(&k.expected)) {
                    return Err(PeerMisbehaved::DecryptError("the client's Finished").into());
                }
                k.transcript.update(&whole_header(t, seq, body.len()));
                k.transcript.update(body);
                let th = k.transcript.current(HashAlgorithm::Sha256);
                let verify = k.master.server_verify_data(&self.p, th.as_bytes());
                // The last flight: no timer (section 4.2.4); it goes again only when the
                // client's Finished does.
                self.shared.timer.cancel();
                flight.clear();
                flight.push_ccs(0)?;
                self.shared.records.start_writing(k.write);
                flight.push_message(
                    1,
                    &HandshakeMessage::Finished(Finished {
                        verify_data: &verify,
                    }),
                )?;
                self.state = State::Done;
                self.shared.phase = Phase::Connected;
                Ok(None)
            }
            (State::Done, HandshakeMessage::ClientHello(_)) => {
                // RFC 5746 section 4.4 (and 3.7): renegotiation is refused with a warning;
                // the connection goes on under its keys.
                self.shared.alert = Some((
                    mote_wire::AlertLevel::WARNING,
                    mote_wire::AlertDescription::NO_RENEGOTIATION,
                ));
                self.state = State::Done;
                Ok(None)
            }
            (_, _) => Err(unexpected("the client's next handshake message")),
        }
    }

    fn usable(&self, s: CipherSuite, o: &Offer<'_>, group: Option<NamedGroup>) -> bool {
        let Some(info) = SuiteInfo::of(s) else {
            return false;
        };
        if info.tls13 || info.hash != HashAlgorithm::Sha256 {
            return false;
        }
        match KeyExchange::of(s) {
            KeyExchange::Psk => !self.cfg.psks.is_empty(),
            KeyExchange::EcdhePsk => !self.cfg.psks.is_empty() && group.is_some(),
            KeyExchange::Ecdhe => {
                let Some(id) = self.cfg.identity else {
                    return false;
                };
                let scheme = id.signer.scheme();
                let ecdsa = s.name().is_some_and(|n| n.contains("_ECDSA_"));
                ecdsa
                    && group.is_some()
                    && o.sig_algs.is_some_and(|l| l.iter().any(|a| a == scheme))
            }
            _ => false,
        }
    }

    fn on_client_hello(
        &mut self,
        ch: &ClientHello<'_>,
        seq: u16,
        body: &[u8],
        flight: &mut Flight<'_>,
        rng: &mut dyn Rng,
    ) -> Result<Pending<P>, Error> {
        // DTLS versions count down: 0xfefd is 1.2, 0xfeff 1.0.
        if ch.legacy_version.0 > crate::dtls::DTLS12.0 {
            return Err(Error::Incompatible(Incompatible::Version));
        }
        let mut o = Offer::default();
        for e in ch.extensions.iter().flat_map(|l| l.iter()) {
            match e.body {
                ExtensionBody::NamedGroupList(l) => o.groups = Some(l),
                ExtensionBody::SignatureSchemeList(l)
                    if e.typ == ExtensionType::SIGNATURE_ALGORITHMS =>
                {
                    o.sig_algs = Some(l)
                }
                ExtensionBody::EcPointFormatList(_) => o.point_formats = true,
                ExtensionBody::RenegotiationInfo(b) => {
                    if !b.is_empty() {
                        // RFC 5746 section 3.4 (3.6 for a server): handshake_failure.
                        return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                            "secure renegotiation (renegotiation_info not empty)",
                        )));
                    }
                    o.reneg = true;
                }
                ExtensionBody::ConnectionId(c) => o.cid = Some(c),
                ExtensionBody::CertificateTypeList(l)
                    if e.typ == ExtensionType::SERVER_CERTIFICATE_TYPE =>
                {
                    o.server_cert_types = Some(l)
                }
                _ if e.typ == ExtensionType::EXTENDED_MASTER_SECRET => o.ems = true,
                _ => {}
            }
        }
        if ch
            .cipher_suites
            .iter()
            .any(|s| s == CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
        {
            o.reneg = true;
        }
        let mut methods = ch.legacy_compression_methods.iter();
        if !methods.any(|m| m == CompressionMethod::NULL) {
            return Err(PeerMisbehaved::IllegalParameter("compression_methods").into());
        }
        // RFC 7627 section 5.3: no fallback to the classic master secret.
        if !o.ems {
            return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                "extended_master_secret",
            )));
        }
        // No supported_groups: the client takes any curve (RFC 8422 section 4).
        let group = self
            .cfg
            .groups
            .iter()
            .copied()
            .find(|g| o.groups.is_none_or(|l| l.iter().any(|c| c == *g)));
        let suite = self
            .cfg
            .cipher_suites
            .iter()
            .copied()
            .find(|s| ch.cipher_suites.iter().any(|c| c == *s) && self.usable(*s, &o, group))
            .ok_or(Error::Incompatible(Incompatible::NoCommonParameters(
                "cipher suite",
            )))?;
        let info = SuiteInfo::of(suite).ok_or(Error::Api(ApiMisuse::NotReady))?;
        let kx = KeyExchange::of(suite);
        // RFC 7250: a raw public key when the client asks for one and we have it.
        let raw_key = match (o.server_cert_types, kx) {
            (Some(l), KeyExchange::Ecdhe) => {
                if self.cfg.raw_public_key.is_some()
                    && l.iter().any(|c| c == CertificateType::RAW_PUBLIC_KEY)
                {
                    true
                } else if l.iter().any(|c| c == CertificateType::X509) {
                    false
                } else {
                    return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                        "server certificate type",
                    )));
                }
            }
            _ => false,
        };
        // RFC 9146: grant connection IDs when the client offers them and we use them.
        let mut cid_answer = None;
        if let (Some(theirs), Some(ours)) = (o.cid, self.cfg.connection_id) {
            let c = crate::dtls::records::Cid::new(theirs)
                .ok_or(PeerMisbehaved::IllegalParameter("connection_id"))?;
            self.shared.records.peer_cid = (!theirs.is_empty()).then_some(c);
            self.shared.records.own_cid_len = ours.len();
            self.neg.peer_cid_len = Some(theirs.len() as u8);
            cid_answer = Some(ours);
        }
        let mut server_random = [0u8; 32];
        rng.fill(&mut server_random).map_err(Error::Crypto)?;
        self.neg.suite = Some(suite);
        self.neg.raw_public_key = raw_key;

        let mut transcript = Transcript::new(&self.p, true, false);
        transcript.update(&whole_header(HandshakeType::CLIENT_HELLO, seq, body.len()));
        transcript.update(body);
        flight.clear();
        flight.next_seq = seq;

        // ServerHello.
        let formats = [EcPointFormat::UNCOMPRESSED];
        let rpk = CertificateType::RAW_PUBLIC_KEY;
        let mut list = [Extension {
            typ: ExtensionType(0),
            body: ExtensionBody::Empty,
        }; MAX_EXTENSIONS];
        let mut n = 0;
        macro_rules! push {
            ($e:expr) => {{
                if n < MAX_EXTENSIONS {
                    list[n] = $e;
                    n += 1;
                }
            }};
        }
        if o.reneg {
            push!(Extension {
                typ: ExtensionType::RENEGOTIATION_INFO,
                body: ExtensionBody::RenegotiationInfo(&[]),
            });
        }
        push!(Extension {
            typ: ExtensionType::EXTENDED_MASTER_SECRET,
            body: ExtensionBody::Empty,
        });
        if o.point_formats && kx != KeyExchange::Psk {
            push!(Extension {
                typ: ExtensionType::EC_POINT_FORMATS,
                body: ExtensionBody::EcPointFormatList(List::Items(&formats)),
            });
        }
        if let Some(c) = cid_answer {
            push!(Extension {
                typ: ExtensionType::CONNECTION_ID,
                body: ExtensionBody::ConnectionId(c),
            });
        }
        if raw_key {
            push!(Extension {
                typ: ExtensionType::SERVER_CERTIFICATE_TYPE,
                body: ExtensionBody::CertificateType(rpk),
            });
        }
        let sh = ServerHello {
            legacy_version: crate::dtls::DTLS12,
            random: server_random,
            legacy_session_id_echo: &[],
            cipher_suite: suite,
            legacy_compression_method: CompressionMethod::NULL,
            extensions: Some(List::Items(&list[..n])),
        };
        transcript.update(flight.push_message(0, &HandshakeMessage::ServerHello(sh))?);

        // Certificate (or raw public key), ServerKeyExchange.
        let mut ecdhe = None;
        match kx {
            KeyExchange::Ecdhe => {
                let id = self.cfg.identity.ok_or(Error::Api(ApiMisuse::NotReady))?;
                let mut certs = [Asn1Cert(&[]); 8];
                let c = if raw_key {
                    Certificate::Tls12RawPublicKey {
                        asn1_subject_public_key_info: self.cfg.raw_public_key.unwrap_or(&[]),
                    }
                } else {
                    let k = id.chain.len().min(certs.len());
                    for (slot, der) in certs.iter_mut().zip(id.chain) {
                        *slot = Asn1Cert(der);
                    }
                    Certificate::Tls12 {
                        certificate_list: List::Items(&certs[..k]),
                    }
                };
                transcript.update(flight.push_message(0, &HandshakeMessage::Certificate(c))?);
                let group = group.ok_or(Error::Api(ApiMisuse::NotReady))?;
                let key = self.p.key_exchange(group, rng).map_err(Error::Crypto)?;
                // RFC 8422 section 5.4: signed over both randoms and the params.
                let point = key.public_share();
                let mut signed = [0u8; 64 + 4 + 97];
                let plen = point.len().min(97);
                signed[..32].copy_from_slice(&ch.random);
                signed[32..64].copy_from_slice(&server_random);
                signed[64] = 3;
                signed[65..67].copy_from_slice(&group.0.to_be_bytes());
                signed[67] = plen as u8;
                signed[68..68 + plen].copy_from_slice(&point[..plen]);
                let mut sig = [0u8; mote_crypto::MAX_SIGNATURE];
                let sig_len = id
                    .signer
                    .sign(&signed[..68 + plen], &mut sig)
                    .map_err(Error::Crypto)?;
                let ske = ServerKeyExchange::Ecdhe {
                    params: ServerEcdhParams {
                        named_curve: group,
                        public: point,
                    },
                    signed_params: Some(DigitallySigned {
                        algorithm: id.signer.scheme(),
                        signature: &sig[..sig_len],
                    }),
                };
                transcript
                    .update(flight.push_message(0, &HandshakeMessage::ServerKeyExchange(ske))?);
                self.neg.group = Some(group);
                ecdhe = Some(key);
            }
            KeyExchange::EcdhePsk => {
                let group = group.ok_or(Error::Api(ApiMisuse::NotReady))?;
                let key = self.p.key_exchange(group, rng).map_err(Error::Crypto)?;
                let ske = ServerKeyExchange::EcdhePsk {
                    psk_identity_hint: self.cfg.psk_identity_hint.unwrap_or(&[]),
                    params: ServerEcdhParams {
                        named_curve: group,
                        public: key.public_share(),
                    },
                };
                transcript
                    .update(flight.push_message(0, &HandshakeMessage::ServerKeyExchange(ske))?);
                self.neg.group = Some(group);
                ecdhe = Some(key);
            }
            _ => {
                if let Some(hint) = self.cfg.psk_identity_hint {
                    let ske = ServerKeyExchange::Psk {
                        psk_identity_hint: hint,
                    };
                    transcript
                        .update(flight.push_message(0, &HandshakeMessage::ServerKeyExchange(ske))?);
                }
            }
        }
        transcript
            .update(flight.push_message(0, &HandshakeMessage::ServerHelloDone(ServerHelloDone))?);
        Ok(Pending {
            suite: info,
            kx,
            transcript,
            client_random: ch.random,
            server_random,
            ecdhe,
        })
    }

    /// The premaster secret from the client's key exchange, then every key.
    fn on_key_exchange(
        &mut self,
        mut p: Pending<P>,
        cke: &ClientKeyExchange<'_>,
    ) -> Result<Keys<P>, Error> {
        let find_psk = |identity: &[u8]| -> Result<usize, Error> {
            // RFC 4279 section 2: an unknown identity may be answered as a failed
            // Finished would be, so that identities cannot be probed.
            self.cfg
                .psks
                .iter()
                .position(|k| k.identity == identity)
                .ok_or(PeerMisbehaved::DecryptError("the client's PSK identity").into())
        };
        let mut premaster = [0u8; 2 + 48 + 2 + 64];
        let mut z = [0u8; 48];
        let pms_len = match (p.kx, cke) {
            (KeyExchange::Psk, ClientKeyExchange::Psk { psk_identity }) => {
                let i = find_psk(psk_identity)?;
                self.neg.psk = Some(i);
                psk_premaster(self.cfg.psks[i].key, &mut premaster).map_err(Error::Crypto)?
            }
            (
                KeyExchange::EcdhePsk,
                ClientKeyExchange::EcdhePsk {
                    psk_identity,
                    ecdh_yc,
                },
            ) => {
                let i = find_psk(psk_identity)?;
                self.neg.psk = Some(i);
                let key = p.ecdhe.take().ok_or(Error::Api(ApiMisuse::NotReady))?;
                let zl = key.agree(ecdh_yc, &mut z).map_err(Error::Crypto)?;
                ecdhe_psk_premaster(&z[..zl], self.cfg.psks[i].key, &mut premaster)
                    .map_err(Error::Crypto)?
            }
            (KeyExchange::Ecdhe, ClientKeyExchange::Ecdhe { ecdh_yc }) => {
                let key = p.ecdhe.take().ok_or(Error::Api(ApiMisuse::NotReady))?;
                let zl = key.agree(ecdh_yc, &mut z).map_err(Error::Crypto)?;
                ecdhe_premaster(&z[..zl], &mut premaster).map_err(Error::Crypto)?
            }
            _ => return Err(PeerMisbehaved::IllegalParameter("ClientKeyExchange").into()),
        };
        z.fill(0);
        let session_hash = p.transcript.current(HashAlgorithm::Sha256);
        let master = MasterSecret12::extended(
            &self.p,
            HashAlgorithm::Sha256,
            &premaster[..pms_len],
            session_hash.as_bytes(),
        );
        premaster.fill(0);
        if let Some(log) = self.cfg.key_log {
            log.log("CLIENT_RANDOM", &p.client_random, master.as_bytes());
        }
        let kb = master.key_block(&self.p, p.suite.aead, &p.client_random, &p.server_random);
        let read = Dtls12Protector::from_keys(
            &self.p,
            p.suite.aead,
            kb.client_write_key(),
            kb.client_write_iv(),
            1,
        )?;
        let write = Dtls12Protector::from_keys(
            &self.p,
            p.suite.aead,
            kb.server_write_key(),
            kb.server_write_iv(),
            1,
        )?;
        self.shared.records.prepare_read(read);
        let th = p.transcript.current(HashAlgorithm::Sha256);
        let expected = master.client_verify_data(&self.p, th.as_bytes());
        Ok(Keys {
            transcript: p.transcript,
            master,
            write,
            expected,
        })
    }

    /// The client's change_cipher_spec: its Finished comes under epoch 1.
    pub(crate) fn change_cipher_spec(&mut self) -> Result<(), Error> {
        let state = core::mem::replace(&mut self.state, State::Failed);
        self.state = match state {
            State::WaitCcs(k) => {
                if !self.shared.records.peer_changed_cipher() {
                    return Err(PeerMisbehaved::UnexpectedRecord { content_type: 20 }.into());
                }
                State::WaitFinished(k)
            }
            // A CCS before the key exchange arrived (reordered) or again (retransmitted):
            // dropped, as RFC 6347 section 4.1.2.7 has for what cannot be used.
            s => s,
        };
        Ok(())
    }
}
