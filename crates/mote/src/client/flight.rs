//! The server's flight after ServerHello (EncryptedExtensions, CertificateRequest,
//! Certificate, CertificateVerify, Finished), the client's answer, and post-handshake
//! messages (NewSessionTicket, KeyUpdate).

use super::handshake::{AppSecrets, Keys};
use super::{Core, State};
use crate::config::TicketRef;
use crate::error::{Error, PeerMisbehaved};
use crate::key_schedule::tls13::{finished_verify_data, next_traffic_secret, resumption_psk};
use mote_crypto::{Provider, MAX_DIGEST};
use mote_wire::extensions::ExtensionBody;
use mote_wire::handshake::{
    emit_handshake_tls, Certificate, CertificateEntry, CertificateRequest, CertificateVerify,
    EncryptedExtensions, EndOfEarlyData, Finished, HandshakeMessage, KeyUpdate, NewSessionTicket,
};
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{ExtensionType, HandshakeType, KeyUpdateRequest, List, Writer};
use subtle::ConstantTimeEq;

/// The context string of CertificateVerify signatures (RFC 8446 section 4.4.3).
#[cfg(feature = "x509")]
pub(crate) const SERVER_CV_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify";
pub(crate) const CLIENT_CV_CONTEXT: &[u8] = b"TLS 1.3, client CertificateVerify";

/// 64 spaces, the context string, a zero byte and the transcript hash.
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

impl<P: Provider> Core<'_, '_, P> {
    pub(crate) fn on_encrypted_extensions(
        &mut self,
        ee: &EncryptedExtensions<'_>,
        msg: &[u8],
    ) -> Result<(), Error> {
        for e in ee.extensions.iter() {
            match (e.typ, e.body) {
                (ExtensionType::SERVER_NAME, ExtensionBody::Empty)
                    if self.cfg.server_name.is_some() => {}
                // The server's groups, for later connections (RFC 8446 section 4.2.7).
                (ExtensionType::SUPPORTED_GROUPS, _) => {}
                (ExtensionType::RECORD_SIZE_LIMIT, ExtensionBody::RecordSizeLimit(l))
                    if self.cfg.record_size_limit.is_some() =>
                {
                    // RFC 8449 section 4: the limit counts the inner content type in TLS 1.3.
                    self.max_send = self.max_send.min(usize::from(l).saturating_sub(1)).max(1);
                    self.neg.peer_record_size_limit = Some(l);
                }
                (ExtensionType::MAX_FRAGMENT_LENGTH, ExtensionBody::MaxFragmentLength(m)) => {
                    // RFC 6066 section 4: the server echoes the client's value or nothing.
                    if Some(m) != self.cfg.max_fragment_length {
                        return Err(PeerMisbehaved::IllegalParameter("max_fragment_length").into());
                    }
                    if let Some(b) = m.bytes() {
                        self.max_send = self.max_send.min(b);
                    }
                    self.neg.max_fragment_length = Some(m);
                }
                (ExtensionType::ALPN, ExtensionBody::ProtocolNameList(names))
                    if !self.cfg.alpn.is_empty() =>
                {
                    let mut it = names.iter();
                    let (Some(p), None) = (it.next(), it.next()) else {
                        return Err(PeerMisbehaved::IllegalParameter("ALPN list").into());
                    };
                    let Some(i) = self.cfg.alpn.iter().position(|a| *a == p.0) else {
                        return Err(PeerMisbehaved::IllegalParameter("ALPN protocol").into());
                    };
                    self.neg.alpn = Some(i as u8);
                }
                (ExtensionType::EARLY_DATA, ExtensionBody::Empty) if self.early_active => {
                    self.neg.early_data_accepted = true;
                }
                #[cfg(feature = "x509")]
                (ExtensionType::SERVER_CERTIFICATE_TYPE, ExtensionBody::CertificateType(t)) => {
                    self.accept_server_cert_type(t)?;
                }
                (t, _) if is_client_hello_only(t) => {
                    return Err(PeerMisbehaved::IllegalParameter(
                        "extension not allowed in EncryptedExtensions",
                    )
                    .into())
                }
                (t, _) => return Err(PeerMisbehaved::UnsupportedExtension(t).into()),
            }
        }
        self.transcript.update(msg);
        Ok(())
    }

    pub(crate) fn on_certificate_request(
        &mut self,
        mut k: Keys,
        cr: &CertificateRequest<'_>,
        msg: &[u8],
    ) -> Result<Keys, Error> {
        let CertificateRequest::Tls13 {
            certificate_request_context,
            extensions,
        } = cr
        else {
            return Err(PeerMisbehaved::IllegalParameter("CertificateRequest").into());
        };
        // RFC 8446 section 4.3.2: empty except in post-handshake authentication.
        if !certificate_request_context.is_empty() {
            return Err(PeerMisbehaved::IllegalParameter("certificate_request_context").into());
        }
        let Some(algs) = extensions.find(ExtensionType::SIGNATURE_ALGORITHMS) else {
            return Err(
                PeerMisbehaved::MissingExtension(ExtensionType::SIGNATURE_ALGORITHMS).into(),
            );
        };
        self.client_auth_schemes = match algs.body {
            ExtensionBody::SignatureSchemeList(l) => self
                .cfg
                .client_identity
                .map(|id| l.iter().any(|s| s == id.signer.scheme()))
                .unwrap_or(false),
            _ => false,
        };
        self.transcript.update(msg);
        self.neg.client_auth_requested = true;
        k.cert_request = true;
        Ok(k)
    }

    #[cfg(feature = "x509")]
    pub(crate) fn on_certificate_verify(
        &mut self,
        k: Keys,
        cv: &CertificateVerify<'_>,
        msg: &[u8],
    ) -> Result<Keys, Error> {
        if !self.cfg.signature_schemes.contains(&cv.algorithm) {
            return Err(
                PeerMisbehaved::IllegalParameter("CertificateVerify signature scheme").into(),
            );
        }
        let th = self.transcript.current(k.suite.hash);
        let mut buf = [0u8; 64 + 34 + MAX_DIGEST];
        let content = signed_content(SERVER_CV_CONTEXT, th.as_bytes(), &mut buf);
        self.p
            .verify(cv.algorithm, k.server_key.spki(), content, cv.signature)
            .map_err(|_| {
                PeerMisbehaved::DecryptError("the server's CertificateVerify signature")
            })?;
        self.neg.server_signature = Some(cv.algorithm);
        self.transcript.update(msg);
        Ok(k)
    }

    pub(crate) fn on_finished(
        &mut self,
        k: Keys,
        f: &Finished<'_>,
        msg: &[u8],
    ) -> Result<AppSecrets, Error> {
        let alg = k.suite.hash;
        let expected = finished_verify_data(
            &self.p,
            alg,
            k.secrets.server.as_bytes(),
            self.transcript.current(alg).as_bytes(),
        );
        if !bool::from(expected.as_bytes().ct_eq(f.verify_data)) {
            return Err(PeerMisbehaved::DecryptError("the server's Finished").into());
        }
        self.transcript.update(msg);
        let th = self.transcript.current(alg);
        let master = k.secrets.hs.into_master(&self.p);
        let c_ap = master.client_traffic_secret(&self.p, th.as_bytes());
        let s_ap = master.server_traffic_secret(&self.p, th.as_bytes());
        self.log_secret("CLIENT_TRAFFIC_SECRET_0", &c_ap);
        self.log_secret("SERVER_TRAFFIC_SECRET_0", &s_ap);
        self.log_secret(
            "EXPORTER_SECRET",
            &master.exporter_secret(&self.p, th.as_bytes()),
        );
        self.read = Some(self.protector(&k.suite, &s_ap)?);

        // 0-RTT ends with EndOfEarlyData under the early keys if the server took it
        // (RFC 8446 section 4.5); either way the flight goes on under the handshake keys.
        if self.early_active {
            if self.neg.early_data_accepted {
                self.send_handshake(
                    HandshakeType::END_OF_EARLY_DATA,
                    &HandshakeMessage::EndOfEarlyData(EndOfEarlyData),
                )?;
            }
            self.early_active = false;
            self.write = Some(self.protector(&k.suite, &k.secrets.client)?);
        }
        // The client's flight, under the client handshake keys.
        self.compat_ccs()?;
        if k.cert_request {
            self.send_client_certificate(alg)?;
        }
        let vd = finished_verify_data(
            &self.p,
            alg,
            k.secrets.client.as_bytes(),
            self.transcript.current(alg).as_bytes(),
        );
        let fin = HandshakeMessage::Finished(Finished {
            verify_data: vd.as_bytes(),
        });
        self.send_handshake(HandshakeType::FINISHED, &fin)?;
        let resumption = master.resumption_secret(&self.p, self.transcript.current(alg).as_bytes());
        self.write = Some(self.protector(&k.suite, &c_ap)?);
        Ok(AppSecrets {
            suite: k.suite,
            client: c_ap,
            server: s_ap,
            resumption,
        })
    }

    /// Certificate (our chain, or empty when we have none that fits) and, with a chain,
    /// CertificateVerify (RFC 8446 section 4.4.2, 4.4.3).
    fn send_client_certificate(&mut self, alg: mote_crypto::HashAlgorithm) -> Result<(), Error> {
        let identity = self
            .cfg
            .client_identity
            .filter(|_| self.client_auth_schemes);
        let mut entries = [CertificateEntry {
            data: &[],
            extensions: List::Items(&[]),
        }; 4];
        let chain = identity.map(|i| i.chain).unwrap_or(&[]);
        let n = chain.len().min(entries.len());
        for (e, der) in entries.iter_mut().zip(chain) {
            e.data = der;
        }
        let cert = HandshakeMessage::Certificate(Certificate::Tls13 {
            certificate_request_context: &[],
            certificate_list: List::Items(&entries[..n]),
        });
        self.send_handshake(HandshakeType::CERTIFICATE, &cert)?;
        let Some(id) = identity.filter(|_| n > 0) else {
            return Ok(());
        };
        let th = self.transcript.current(alg);
        let mut buf = [0u8; 64 + 34 + MAX_DIGEST];
        let content = signed_content(CLIENT_CV_CONTEXT, th.as_bytes(), &mut buf);
        #[cfg(feature = "rsa")]
        let mut sig = [0u8; mote_x509::RSA_SIGNATURE_CAPACITY];
        #[cfg(not(feature = "rsa"))]
        let mut sig = [0u8; mote_crypto::MAX_SIGNATURE];
        let len = id.signer.sign(content, &mut sig).map_err(Error::Crypto)?;
        let cv = HandshakeMessage::CertificateVerify(CertificateVerify {
            algorithm: id.signer.scheme(),
            signature: &sig[..len],
        });
        self.send_handshake(HandshakeType::CERTIFICATE_VERIFY, &cv)?;
        self.neg.client_cert_sent = true;
        Ok(())
    }

    /// Writes a handshake message, adds it to the transcript, and seals it.
    pub(crate) fn send_handshake(
        &mut self,
        t: HandshakeType,
        m: &HandshakeMessage<'_>,
    ) -> Result<(), Error> {
        let free = self.tx.free();
        let room = free.len();
        let Some(body) = free.get_mut(TLS_HEADER_LEN..) else {
            return Err(Error::Capacity {
                needed: TLS_HEADER_LEN,
                available: room,
            });
        };
        let mut w = Writer::new(body);
        emit_handshake_tls(t, m, &mut w).map_err(|_| Error::Capacity {
            needed: room + 1,
            available: room,
        })?;
        let len = w.len();
        self.transcript.update(&body[..len]);
        self.seal_handshake(len)
    }

    /// Messages after the handshake: NewSessionTicket, KeyUpdate (RFC 8446 section 4.6).
    pub(crate) fn post_handshake(
        &mut self,
        mut a: AppSecrets,
        m: HandshakeMessage<'_>,
        msg: &[u8],
    ) -> Result<(State<P>, bool), Error> {
        match m {
            HandshakeMessage::NewSessionTicket(NewSessionTicket::Tls13 {
                ticket_lifetime,
                ticket_age_add,
                ticket_nonce,
                ticket,
                extensions,
            }) => {
                self.neg.tickets_received += 1;
                // RFC 8446 section 4.6.1: lifetimes over 7 days are not allowed; zero means
                // "do not use".
                if ticket_lifetime > 604_800 {
                    return Err(PeerMisbehaved::IllegalParameter("ticket_lifetime").into());
                }
                if let (Some(store), true) = (self.cfg.ticket_store, ticket_lifetime > 0) {
                    let psk = resumption_psk(
                        &self.p,
                        a.suite.hash,
                        a.resumption.as_bytes(),
                        ticket_nonce,
                    );
                    store.store(&TicketRef {
                        suite: a.suite.suite,
                        psk: psk.as_bytes(),
                        identity: ticket,
                        age_add: ticket_age_add,
                        lifetime: ticket_lifetime,
                        received_at_ms: self.now_ms,
                        max_early_data: match extensions
                            .find(ExtensionType::EARLY_DATA)
                            .map(|e| e.body)
                        {
                            Some(ExtensionBody::MaxEarlyDataSize(n)) => n,
                            _ => 0,
                        },
                    });
                }
                Ok((State::Connected(a), false))
            }
            HandshakeMessage::KeyUpdate(KeyUpdate { request_update }) => {
                if request_update != KeyUpdateRequest::UPDATE_NOT_REQUESTED
                    && request_update != KeyUpdateRequest::UPDATE_REQUESTED
                {
                    return Err(PeerMisbehaved::IllegalParameter("request_update").into());
                }
                a.server = next_traffic_secret(&self.p, a.suite.hash, a.server.as_bytes());
                self.read = Some(self.protector(&a.suite, &a.server)?);
                if request_update == KeyUpdateRequest::UPDATE_REQUESTED && !self.closing.sent {
                    self.send_key_update(&mut a, KeyUpdateRequest::UPDATE_NOT_REQUESTED)?;
                }
                Ok((State::Connected(a), true))
            }
            _ => Err(PeerMisbehaved::UnexpectedMessage {
                expected: "NewSessionTicket or KeyUpdate",
                got: HandshakeType(msg[0]),
            }
            .into()),
        }
    }

    /// Sends KeyUpdate under the current keys, then moves to the next write keys.
    pub(crate) fn send_key_update(
        &mut self,
        a: &mut AppSecrets,
        req: KeyUpdateRequest,
    ) -> Result<(), Error> {
        self.out().seal_key_update(req)?;
        a.client = next_traffic_secret(&self.p, a.suite.hash, a.client.as_bytes());
        self.write = Some(self.protector(&a.suite, &a.client)?);
        Ok(())
    }
}

/// Extensions that only a ClientHello may carry: in EncryptedExtensions they are
/// illegal_parameter (RFC 8446 section 4.2), not merely unsolicited.
fn is_client_hello_only(t: ExtensionType) -> bool {
    matches!(
        t,
        ExtensionType::KEY_SHARE
            | ExtensionType::PRE_SHARED_KEY
            | ExtensionType::SUPPORTED_VERSIONS
            | ExtensionType::PSK_KEY_EXCHANGE_MODES
            | ExtensionType::SIGNATURE_ALGORITHMS
            | ExtensionType::SIGNATURE_ALGORITHMS_CERT
            | ExtensionType::COOKIE
            | ExtensionType::CERTIFICATE_AUTHORITIES
            | ExtensionType::POST_HANDSHAKE_AUTH
    )
}
