//! The client's handshake (RFC 6347 section 4.2, RFC 5246 section 7.3):
//!
//! ```text
//! ClientHello            -->
//!                        <--  HelloVerifyRequest (cookie)
//! ClientHello (cookie)   -->
//!                        <--  ServerHello, [Certificate], [ServerKeyExchange],
//!                             [CertificateRequest], ServerHelloDone
//! [Certificate], ClientKeyExchange, [ChangeCipherSpec], Finished  -->
//!                        <--  [ChangeCipherSpec], Finished
//! ```
//!
//! The transcript starts at the ClientHello the ServerHello answers (section 4.2.6: the
//! HelloVerifyRequest exchange is left out) and hashes every message in its unfragmented
//! form. The master secret is always the extended one (RFC 7627).

use super::ClientRole as Core;
use crate::config::ExternalPsk;
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
use mote_wire::extensions::{Extension, ExtensionBody, ServerName};
use mote_wire::handshake::{
    Certificate, ClientHello, ClientKeyExchange, Finished, HandshakeMessage, ServerKeyExchange,
};
use mote_wire::{
    CertificateType, CipherSuite, CompressionMethod, Context, EcPointFormat, ExtensionType,
    HandshakeType, KeyExchange, List, NamedGroup, Reader,
};
use subtle::ConstantTimeEq;

/// Where the handshake stands; one variant per expected step. The server flight's state is
/// the large one (its ECDHE share and validated key): without an allocator it lives in the
/// connection anyway.
#[allow(clippy::large_enum_variant)]
pub(crate) enum State<P: Provider> {
    Start,
    /// A ClientHello went out: a HelloVerifyRequest or the ServerHello is next.
    WaitHello,
    /// The server's flight is arriving.
    WaitFlight(ServerFlight<P>),
    /// Our Finished went out: the server's change_cipher_spec is next.
    WaitCcs(Ending<P>),
    /// The server's Finished is next.
    WaitFinished(Ending<P>),
    /// The handshake is over (see [`Phase`] for the connection).
    Done,
    Failed,
}

/// What the server's first flight builds up.
pub(crate) struct ServerFlight<P: Provider> {
    suite: SuiteInfo,
    kx: KeyExchange,
    transcript: Transcript<P::Hash>,
    server_random: [u8; 32],
    #[cfg(feature = "x509")]
    server_key: Option<mote_x509::VerifiedChain>,
    /// The server's ECDHE share.
    peer: Option<(NamedGroup, [u8; 97], usize)>,
    cert_requested: bool,
    /// The next message type expected (a hint for errors).
    got_ske: bool,
}

/// After our Finished: the transcript and the server's expected verify_data.
pub(crate) struct Ending<P: Provider> {
    expected: [u8; 12],
    _p: core::marker::PhantomData<P>,
}

const MAX_EXTENSIONS: usize = 10;

impl<P: Provider> Core<'_, P> {
    /// Whether a suite may be offered with this configuration.
    fn offerable(&self, s: CipherSuite) -> bool {
        let Some(info) = SuiteInfo::of(s) else {
            return false;
        };
        if info.tls13 || info.hash != HashAlgorithm::Sha256 {
            return false;
        }
        match KeyExchange::of(s) {
            KeyExchange::Psk => self.cfg.psk.is_some(),
            KeyExchange::EcdhePsk => self.cfg.psk.is_some() && !self.cfg.groups.is_empty(),
            #[cfg(feature = "x509")]
            KeyExchange::Ecdhe => {
                self.cfg.server_auth.is_some()
                    && !self.cfg.groups.is_empty()
                    && s.name().is_some_and(|n| n.contains("_ECDSA_"))
            }
            _ => false,
        }
    }

    pub(crate) fn check_config(&self) -> Result<(), Error> {
        if !self.cfg.cipher_suites.iter().any(|s| self.offerable(*s)) {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "no DTLS 1.2 suite the credentials allow (PSK suites need a PSK, ECDSA ones server_auth)",
            )));
        }
        Ok(())
    }

    /// Puts the ClientHello (with the server's cookie after a HelloVerifyRequest) in a new
    /// flight.
    pub(crate) fn send_client_hello(
        &mut self,
        flight: &mut Flight<'_>,
        cookie: Option<&[u8]>,
    ) -> Result<(), Error> {
        let mut suites = [CipherSuite(0); 16];
        let mut n = 0;
        for s in self
            .cfg
            .cipher_suites
            .iter()
            .filter(|s| self.offerable(**s))
        {
            if n < suites.len() {
                suites[n] = *s;
                n += 1;
            }
        }
        let ecdhe = suites[..n].iter().any(|s| {
            matches!(
                KeyExchange::of(*s),
                KeyExchange::Ecdhe | KeyExchange::EcdhePsk
            )
        });
        let sni;
        let mut list = [Extension {
            typ: ExtensionType(0),
            body: ExtensionBody::Empty,
        }; MAX_EXTENSIONS];
        let mut count = 0;
        macro_rules! push {
            ($e:expr) => {{
                if count < MAX_EXTENSIONS {
                    list[count] = $e;
                    count += 1;
                }
            }};
        }
        // Not a reference to `list`'s lifetime: the extensions below borrow locals only.
        let formats = [EcPointFormat::UNCOMPRESSED];
        let raw_key = [CertificateType::RAW_PUBLIC_KEY];
        if let Some(name) = self
            .cfg
            .server_name
            .filter(|n| n.parse::<core::net::IpAddr>().is_err())
        {
            sni = [ServerName::host_name(name.as_bytes())];
            push!(Extension {
                typ: ExtensionType::SERVER_NAME,
                body: ExtensionBody::ServerNameList(List::Items(&sni)),
            });
        }
        if ecdhe {
            push!(Extension {
                typ: ExtensionType::SUPPORTED_GROUPS,
                body: ExtensionBody::NamedGroupList(List::Items(self.cfg.groups)),
            });
            push!(Extension {
                typ: ExtensionType::EC_POINT_FORMATS,
                body: ExtensionBody::EcPointFormatList(List::Items(&formats)),
            });
        }
        #[cfg(feature = "x509")]
        if let Some(auth) = self.cfg.server_auth {
            push!(Extension {
                typ: ExtensionType::SIGNATURE_ALGORITHMS,
                body: ExtensionBody::SignatureSchemeList(List::Items(self.cfg.signature_schemes)),
            });
            if auth.certificate_type() == CertificateType::RAW_PUBLIC_KEY {
                push!(Extension {
                    typ: ExtensionType::SERVER_CERTIFICATE_TYPE,
                    body: ExtensionBody::CertificateTypeList(List::Items(&raw_key)),
                });
            }
        }
        #[cfg(not(feature = "x509"))]
        let _ = raw_key;
        push!(Extension {
            typ: ExtensionType::EXTENDED_MASTER_SECRET,
            body: ExtensionBody::Empty,
        });
        // RFC 5746 section 3.4: an initial handshake sends it empty (no renegotiation).
        push!(Extension {
            typ: ExtensionType::RENEGOTIATION_INFO,
            body: ExtensionBody::RenegotiationInfo(&[]),
        });
        if let Some(cid) = self.cfg.connection_id {
            push!(Extension {
                typ: ExtensionType::CONNECTION_ID,
                body: ExtensionBody::ConnectionId(cid),
            });
        }
        let compression = [CompressionMethod::NULL];
        let ch = ClientHello {
            legacy_version: crate::dtls::DTLS12,
            random: self.client_random,
            legacy_session_id: &[],
            cookie: Some(cookie.unwrap_or(&[])),
            cipher_suites: List::Items(&suites[..n]),
            legacy_compression_methods: List::Items(&compression),
            extensions: Some(List::Items(&list[..count])),
        };
        flight.clear();
        flight.push_message(0, &HandshakeMessage::ClientHello(ch))?;
        self.state = State::WaitHello;
        Ok(())
    }

    /// Handles one whole handshake message. Returns the message_seq to expect next when it
    /// is not simply the following one (after a HelloVerifyRequest: the server numbers its
    /// ServerHello after our second ClientHello).
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
        if let State::WaitFlight(f) = &state {
            ctx.key_exchange = f.kx;
            #[cfg(feature = "x509")]
            if self.cfg.server_auth.map(|a| a.certificate_type())
                == Some(CertificateType::RAW_PUBLIC_KEY)
            {
                ctx.cert_type = CertificateType::RAW_PUBLIC_KEY;
            }
        }
        let mut r = Reader::new(body);
        let msg = HandshakeMessage::parse_body(t, &mut r, &ctx)?;
        let unexpected =
            |expected| -> Error { PeerMisbehaved::UnexpectedMessage { expected, got: t }.into() };
        match (state, msg) {
            (State::WaitHello, HandshakeMessage::HelloVerifyRequest(hvr)) => {
                if hvr.cookie.len() > 255 {
                    return Err(PeerMisbehaved::IllegalParameter("cookie").into());
                }
                self.neg.hello_verify = true;
                let mut cookie = [0u8; 255];
                let c = &mut cookie[..hvr.cookie.len()];
                c.copy_from_slice(hvr.cookie);
                self.send_client_hello(flight, Some(c))?;
                self.shared.timer.start(self.shared.now_ms);
                // The ServerHello answers our second ClientHello and takes its number.
                Ok(Some(flight.next_seq.wrapping_sub(1)))
            }
            (State::WaitHello, HandshakeMessage::ServerHello(sh)) => {
                // The timer keeps running until the server's flight is whole: if the rest
                // is lost, our hello goes again and the server answers it with its whole
                // flight (RFC 6347 4.2.4); ServerHelloDone restarts it for our next flight.
                let f = self.on_server_hello(&sh, seq, body, flight)?;
                self.state = State::WaitFlight(f);
                Ok(None)
            }
            (State::WaitFlight(mut f), m) => {
                f.transcript.update(&whole_header(t, seq, body.len()));
                f.transcript.update(body);
                match m {
                    #[cfg(feature = "x509")]
                    HandshakeMessage::Certificate(c)
                        if f.kx == KeyExchange::Ecdhe && f.server_key.is_none() =>
                    {
                        f.server_key = Some(self.on_certificate(&c)?);
                        self.state = State::WaitFlight(f);
                    }
                    HandshakeMessage::ServerKeyExchange(ske) if !f.got_ske => {
                        self.on_server_key_exchange(&mut f, &ske)?;
                        f.got_ske = true;
                        self.state = State::WaitFlight(f);
                    }
                    HandshakeMessage::CertificateRequest(_)
                        if f.kx == KeyExchange::Ecdhe && !f.cert_requested =>
                    {
                        f.cert_requested = true;
                        self.state = State::WaitFlight(f);
                    }
                    HandshakeMessage::ServerHelloDone(_) => {
                        let rng = rng.ok_or(Error::Api(ApiMisuse::NotReady))?;
                        let ending = self.send_key_exchange(f, flight, rng)?;
                        self.shared.timer.start(self.shared.now_ms);
                        self.state = State::WaitCcs(ending);
                    }
                    _ => return Err(unexpected("the server's next handshake message")),
                }
                Ok(None)
            }
            (State::WaitFinished(e), HandshakeMessage::Finished(fin)) => {
                if !bool::from(fin.verify_data.ct_eq(&e.expected)) {
                    return Err(PeerMisbehaved::DecryptError("the server's Finished").into());
                }
                self.shared.timer.cancel();
                // Our last flight needs no retransmission any more (the server's Finished
                // says it arrived).
                flight.clear();
                self.state = State::Done;
                self.shared.phase = Phase::Connected;
                Ok(None)
            }
            (State::Done, HandshakeMessage::HelloRequest(_)) => {
                // RFC 5746: renegotiation is refused with a warning.
                self.shared.alert = Some((
                    mote_wire::AlertLevel::WARNING,
                    mote_wire::AlertDescription::NO_RENEGOTIATION,
                ));
                self.state = State::Done;
                Ok(None)
            }
            (_, _) => Err(unexpected("another handshake message")),
        }
    }

    fn on_server_hello(
        &mut self,
        sh: &mote_wire::handshake::ServerHello<'_>,
        seq: u16,
        body: &[u8],
        flight: &Flight<'_>,
    ) -> Result<ServerFlight<P>, Error> {
        if sh.legacy_version != crate::dtls::DTLS12 {
            return Err(Error::Incompatible(Incompatible::Version));
        }
        let suite = sh.cipher_suite;
        if !self.cfg.cipher_suites.contains(&suite) || !self.offerable(suite) {
            return Err(PeerMisbehaved::IllegalParameter("cipher_suite").into());
        }
        let info = SuiteInfo::of(suite).ok_or(PeerMisbehaved::IllegalParameter("cipher_suite"))?;
        if sh.legacy_compression_method != CompressionMethod::NULL {
            return Err(PeerMisbehaved::IllegalParameter("compression_method").into());
        }
        let mut ems = false;
        let mut reneg = false;
        if let Some(exts) = sh.extensions {
            for e in exts.iter() {
                match e.body {
                    _ if e.typ == ExtensionType::EXTENDED_MASTER_SECRET => ems = true,
                    ExtensionBody::RenegotiationInfo(b) => {
                        if !b.is_empty() {
                            // RFC 5746 section 3.4: handshake_failure.
                            return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                                "secure renegotiation (renegotiation_info not empty)",
                            )));
                        }
                        reneg = true;
                    }
                    ExtensionBody::ConnectionId(cid) => {
                        if self.cfg.connection_id.is_none() {
                            return Err(PeerMisbehaved::UnsupportedExtension(
                                ExtensionType::CONNECTION_ID,
                            )
                            .into());
                        }
                        let c = crate::dtls::records::Cid::new(cid)
                            .ok_or(PeerMisbehaved::IllegalParameter("connection_id"))?;
                        self.shared.records.peer_cid = (!cid.is_empty()).then_some(c);
                        self.shared.records.own_cid_len =
                            self.cfg.connection_id.map_or(0, <[u8]>::len);
                        self.neg.peer_cid_len = Some(cid.len() as u8);
                    }
                    _ => {}
                }
            }
        }
        // RFC 7627 section 5.3: without the extended master secret the session is open to
        // the triple handshake attack; mote does not fall back.
        if !ems {
            return Err(Error::Incompatible(Incompatible::NoCommonParameters(
                "extended_master_secret",
            )));
        }
        let _ = reneg;
        let mut transcript = Transcript::new(&self.p, true, false);
        if let Some(ch) = flight.first_message() {
            transcript.update(ch);
        }
        transcript.update(&whole_header(HandshakeType::SERVER_HELLO, seq, body.len()));
        transcript.update(body);
        self.neg.suite = Some(suite);
        let kx = KeyExchange::of(suite);
        self.neg.psk = matches!(kx, KeyExchange::Psk | KeyExchange::EcdhePsk);
        Ok(ServerFlight {
            suite: info,
            kx,
            transcript,
            server_random: sh.random,
            #[cfg(feature = "x509")]
            server_key: None,
            peer: None,
            cert_requested: false,
            got_ske: false,
        })
    }

    #[cfg(feature = "x509")]
    fn on_certificate(&self, c: &Certificate<'_>) -> Result<mote_x509::VerifiedChain, Error> {
        let auth = self
            .cfg
            .server_auth
            .ok_or(PeerMisbehaved::IllegalParameter("Certificate"))?;
        let mut v = auth.validator(self.shared.now_ms / 1000, mote_x509::Usage::ServerAuth);
        match c {
            Certificate::Tls12 { certificate_list } => {
                for (i, cert) in certificate_list.iter().enumerate() {
                    v.add(&self.p, i, cert.0).map_err(Error::Certificate)?;
                }
            }
            Certificate::Tls12RawPublicKey {
                asn1_subject_public_key_info,
            } => {
                v.add(&self.p, 0, asn1_subject_public_key_info)
                    .map_err(Error::Certificate)?;
            }
            _ => return Err(PeerMisbehaved::IllegalParameter("Certificate").into()),
        }
        v.finish(&self.p).map_err(Error::Certificate)
    }

    fn on_server_key_exchange(
        &mut self,
        f: &mut ServerFlight<P>,
        ske: &ServerKeyExchange<'_>,
    ) -> Result<(), Error> {
        let params = match ske {
            ServerKeyExchange::Psk { .. } if f.kx == KeyExchange::Psk => return Ok(()),
            ServerKeyExchange::EcdhePsk { params, .. } if f.kx == KeyExchange::EcdhePsk => params,
            #[cfg(feature = "x509")]
            ServerKeyExchange::Ecdhe {
                params,
                signed_params: Some(sig),
            } if f.kx == KeyExchange::Ecdhe => {
                let key = f
                    .server_key
                    .as_ref()
                    .ok_or(PeerMisbehaved::UnexpectedMessage {
                        expected: "Certificate",
                        got: HandshakeType::SERVER_KEY_EXCHANGE,
                    })?;
                if !self.cfg.signature_schemes.contains(&sig.algorithm) {
                    return Err(PeerMisbehaved::IllegalParameter("signature algorithm").into());
                }
                // RFC 8422 section 5.4: signed over both randoms and the ServerECDHParams.
                let mut signed = [0u8; 64 + 4 + 97];
                let plen = params.public.len();
                if plen > 97 {
                    return Err(PeerMisbehaved::IllegalParameter("ECPoint").into());
                }
                signed[..32].copy_from_slice(&self.client_random);
                signed[32..64].copy_from_slice(&f.server_random);
                signed[64] = 3; // named_curve
                signed[65..67].copy_from_slice(&params.named_curve.0.to_be_bytes());
                signed[67] = plen as u8;
                signed[68..68 + plen].copy_from_slice(params.public);
                self.p
                    .verify(
                        sig.algorithm,
                        key.end_entity_spki(),
                        &signed[..68 + plen],
                        sig.signature,
                    )
                    .map_err(|_| PeerMisbehaved::DecryptError("the ServerKeyExchange signature"))?;
                self.neg.server_signature = Some(sig.algorithm);
                params
            }
            _ => {
                return Err(PeerMisbehaved::UnexpectedMessage {
                    expected: "a ServerKeyExchange of the suite's key exchange",
                    got: HandshakeType::SERVER_KEY_EXCHANGE,
                }
                .into())
            }
        };
        if !self.cfg.groups.contains(&params.named_curve) {
            return Err(PeerMisbehaved::IllegalParameter("named_curve").into());
        }
        let mut point = [0u8; 97];
        let p = point
            .get_mut(..params.public.len())
            .ok_or(PeerMisbehaved::IllegalParameter("ECPoint"))?;
        p.copy_from_slice(params.public);
        f.peer = Some((params.named_curve, point, params.public.len()));
        Ok(())
    }

    /// The client's second flight: [empty Certificate], ClientKeyExchange, change_cipher_spec,
    /// Finished; keys derived on the way.
    fn send_key_exchange(
        &mut self,
        mut f: ServerFlight<P>,
        flight: &mut Flight<'_>,
        rng: &mut dyn Rng,
    ) -> Result<Ending<P>, Error> {
        if f.kx != KeyExchange::Psk && f.peer.is_none() {
            return Err(PeerMisbehaved::UnexpectedMessage {
                expected: "ServerKeyExchange",
                got: HandshakeType::SERVER_HELLO_DONE,
            }
            .into());
        }
        flight.clear();
        if f.cert_requested {
            // No client certificate: an empty list (RFC 5246 section 7.4.6).
            let empty = Certificate::Tls12 {
                certificate_list: List::Items(&[]),
            };
            let m = flight.push_message(0, &HandshakeMessage::Certificate(empty))?;
            f.transcript.update(m);
        }
        // Our share, and the shared secret.
        let mut premaster = [0u8; 2 + 66 + 2 + 64];
        let mut share = [0u8; 97];
        let mut share_len = 0;
        let psk: Option<ExternalPsk<'_>> = self.cfg.psk;
        let pms_len = match (f.kx, f.peer) {
            (KeyExchange::Psk, _) => {
                let k = psk.ok_or(Error::Api(ApiMisuse::NotReady))?;
                psk_premaster(k.key, &mut premaster).map_err(Error::Crypto)?
            }
            (_, Some((group, point, len))) => {
                let kx = self.p.key_exchange(group, rng).map_err(Error::Crypto)?;
                let pub_share = kx.public_share();
                share_len = pub_share.len();
                share[..share_len].copy_from_slice(pub_share);
                let mut z = [0u8; 48];
                let zl = kx.agree(&point[..len], &mut z).map_err(Error::Crypto)?;
                self.neg.group = Some(group);
                if f.kx == KeyExchange::EcdhePsk {
                    let k = psk.ok_or(Error::Api(ApiMisuse::NotReady))?;
                    ecdhe_psk_premaster(&z[..zl], k.key, &mut premaster).map_err(Error::Crypto)?
                } else {
                    ecdhe_premaster(&z[..zl], &mut premaster).map_err(Error::Crypto)?
                }
            }
            _ => return Err(Error::Api(ApiMisuse::NotReady)),
        };
        let identity = psk.map_or(&[][..], |k| k.identity);
        let cke = match f.kx {
            KeyExchange::Psk => ClientKeyExchange::Psk {
                psk_identity: identity,
            },
            KeyExchange::EcdhePsk => ClientKeyExchange::EcdhePsk {
                psk_identity: identity,
                ecdh_yc: &share[..share_len],
            },
            _ => ClientKeyExchange::Ecdhe {
                ecdh_yc: &share[..share_len],
            },
        };
        let m = flight.push_message(0, &HandshakeMessage::ClientKeyExchange(cke))?;
        f.transcript.update(m);
        let session_hash = f.transcript.current(HashAlgorithm::Sha256);
        let master = MasterSecret12::extended(
            &self.p,
            HashAlgorithm::Sha256,
            &premaster[..pms_len],
            session_hash.as_bytes(),
        );
        premaster.fill(0);
        if let Some(log) = self.cfg.key_log {
            log.log("CLIENT_RANDOM", &self.client_random, master.as_bytes());
        }
        let kb = master.key_block(&self.p, f.suite.aead, &self.client_random, &f.server_random);
        let write = Dtls12Protector::from_keys(
            &self.p,
            f.suite.aead,
            kb.client_write_key(),
            kb.client_write_iv(),
            1,
        )?;
        let read = Dtls12Protector::from_keys(
            &self.p,
            f.suite.aead,
            kb.server_write_key(),
            kb.server_write_iv(),
            1,
        )?;
        flight.push_ccs(0)?;
        self.shared.records.install(write, read);
        let th = f.transcript.current(HashAlgorithm::Sha256);
        let verify = master.client_verify_data(&self.p, th.as_bytes());
        let fin = Finished {
            verify_data: &verify,
        };
        let m = flight.push_message(1, &HandshakeMessage::Finished(fin))?;
        f.transcript.update(m);
        let th = f.transcript.current(HashAlgorithm::Sha256);
        Ok(Ending {
            expected: master.server_verify_data(&self.p, th.as_bytes()),
            _p: core::marker::PhantomData,
        })
    }

    /// The server's change_cipher_spec: its Finished comes under epoch 1.
    pub(crate) fn change_cipher_spec(&mut self) -> Result<(), Error> {
        let state = core::mem::replace(&mut self.state, State::Failed);
        match state {
            State::WaitCcs(e) => {
                if !self.shared.records.peer_changed_cipher() {
                    return Err(PeerMisbehaved::UnexpectedRecord { content_type: 20 }.into());
                }
                self.state = State::WaitFinished(e);
                Ok(())
            }
            // A retransmitted CCS (its Finished was lost, or ours): nothing changes.
            s @ (State::WaitFinished(_) | State::Done) => {
                self.state = s;
                Ok(())
            }
            s => {
                // Before our keys exist a CCS cannot be honoured: drop it, as a reordered
                // datagram would be.
                self.state = s;
                Ok(())
            }
        }
    }
}
