//! Client certificates (RFC 8446 sections 4.3.2, 4.4.2, 4.4.3): the CertificateRequest, the
//! client's Certificate validated through mote-x509 with `Usage::ClientAuth`, and its
//! CertificateVerify.
//!
//! Unlike the client, which streams the server's chain through the validator as it arrives,
//! the server reads the client's Certificate as one handshake message: the receive buffer
//! must hold the whole message (the chain plus 4 bytes per certificate and 8 bytes of
//! headers), or the handshake ends with internal_error. A device chain is typically one or
//! two certificates of under 1 KB each.

use super::hello::signed_content;
use super::{ClientId, Core, Pending};
use crate::config::ClientAuth;
use crate::error::{Error, PeerMisbehaved};
use mote_crypto::{Provider, MAX_DIGEST};
use mote_wire::extensions::{Extension, ExtensionBody};
use mote_wire::handshake::{Certificate, CertificateRequest, CertificateVerify, HandshakeMessage};
use mote_wire::{ExtensionType, HandshakeType, List, SignatureScheme};
use mote_x509::{PinnedSpki, ServerAuth, ServerName, TrustAnchor, Usage, VerifiedChain};

const CLIENT_CV_CONTEXT: &[u8] = b"TLS 1.3, client CertificateVerify";

/// The schemes asked for in signature_algorithms, kept if the provider verifies them.
const SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::ECDSA_SECP256R1_SHA256,
    SignatureScheme::ED25519,
    SignatureScheme::ECDSA_SECP384R1_SHA384,
    SignatureScheme::RSA_PSS_RSAE_SHA256,
    SignatureScheme::RSA_PSS_RSAE_SHA384,
    SignatureScheme::RSA_PSS_RSAE_SHA512,
];

/// With RSA, intermediates' signatures need a 512-byte buffer while the chain is checked.
#[cfg(feature = "rsa")]
type Validator<'a> = mote_x509::ChainValidator<'a, { mote_x509::RSA_SIGNATURE_CAPACITY }>;
#[cfg(not(feature = "rsa"))]
type Validator<'a> = mote_x509::ChainValidator<'a>;

impl<'a, P: Provider> Core<'a, '_, P> {
    /// The anchors and whether a certificate is required, when client certificates are on.
    fn client_anchors(&self) -> Option<(&'a [TrustAnchor<'a>], bool)> {
        match self.cfg.client_auth {
            ClientAuth::None => None,
            ClientAuth::Optional(a) => Some((a, false)),
            ClientAuth::Required(a) => Some((a, true)),
        }
    }

    /// The schemes the server asks for and accepts in the client's CertificateVerify.
    fn client_schemes(&self) -> ([SignatureScheme; SCHEMES.len()], usize) {
        let mut out = SCHEMES;
        let mut n = 0;
        for s in SCHEMES {
            if self.p.supports_signature(s) {
                out[n] = s;
                n += 1;
            }
        }
        (out, n)
    }

    /// Sends a CertificateRequest (empty context, signature_algorithms) when configured;
    /// returns whether it did.
    pub(crate) fn send_certificate_request(&mut self) -> Result<bool, Error> {
        if self.client_anchors().is_none() {
            return Ok(false);
        }
        let (schemes, n) = self.client_schemes();
        let exts = [Extension {
            typ: ExtensionType::SIGNATURE_ALGORITHMS,
            body: ExtensionBody::SignatureSchemeList(List::Items(&schemes[..n])),
        }];
        let cr = HandshakeMessage::CertificateRequest(CertificateRequest::Tls13 {
            certificate_request_context: &[],
            extensions: List::Items(&exts),
        });
        self.send_handshake(HandshakeType::CERTIFICATE_REQUEST, &cr)?;
        self.neg.client_auth_requested = true;
        Ok(true)
    }

    /// Validates the client's Certificate (whole, from the receive buffer). `None`: the
    /// client sent none and none is required.
    pub(crate) fn on_client_certificate(
        &mut self,
        c: &Certificate<'_>,
        msg: &[u8],
    ) -> Result<Option<VerifiedChain>, Error> {
        let Certificate::Tls13 {
            certificate_request_context,
            certificate_list,
        } = c
        else {
            return Err(PeerMisbehaved::IllegalParameter("Certificate").into());
        };
        if !certificate_request_context.is_empty() {
            return Err(PeerMisbehaved::IllegalParameter("certificate_request_context").into());
        }
        let Some((anchors, required)) = self.client_anchors() else {
            return Err(PeerMisbehaved::UnexpectedMessage {
                expected: "Finished",
                got: HandshakeType::CERTIFICATE,
            }
            .into());
        };
        if let Some(t) = self.transcript.as_mut() {
            t.update(msg);
        }
        let mut entries = certificate_list.iter().peekable();
        if entries.peek().is_none() {
            // RFC 8446 section 4.4.2.4.
            return if required {
                Err(PeerMisbehaved::CertificateRequired.into())
            } else {
                Ok(None)
            };
        }
        let auth = ServerAuth::Chain {
            anchors,
            name: ServerName::None,
        };
        let mut v = Validator::for_auth(&auth, self.now_ms / 1000, Usage::ClientAuth);
        for (i, e) in entries.enumerate() {
            if let Some(o) = self.cfg.client_certificate_observer {
                o.certificate(i, e.data);
            }
            v.add(&self.p, i, e.data).map_err(Error::Certificate)?;
        }
        let chain = v.finish(&self.p).map_err(Error::Certificate)?;
        Ok(Some(chain))
    }

    /// Verifies the client's CertificateVerify over the transcript up to its Certificate
    /// and records the client's identity.
    pub(crate) fn on_client_certificate_verify(
        &mut self,
        k: &Pending,
        chain: &VerifiedChain,
        cv: &CertificateVerify<'_>,
        msg: &[u8],
    ) -> Result<(), Error> {
        let (schemes, n) = self.client_schemes();
        if !schemes[..n].contains(&cv.algorithm) {
            return Err(
                PeerMisbehaved::IllegalParameter("CertificateVerify signature scheme").into(),
            );
        }
        let th = self.th(k.suite);
        let mut buf = [0u8; 64 + 34 + MAX_DIGEST];
        let content = signed_content(CLIENT_CV_CONTEXT, th.as_bytes(), &mut buf);
        self.p
            .verify(cv.algorithm, chain.end_entity_spki(), content, cv.signature)
            .map_err(|_| {
                PeerMisbehaved::DecryptError("the client's CertificateVerify signature")
            })?;
        if let Some(t) = self.transcript.as_mut() {
            t.update(msg);
        }
        let pin = PinnedSpki::of_spki(&self.p, chain.end_entity_spki());
        self.neg.client_identity = Some(ClientId::CertificateSpki(pin.sha256));
        self.neg.client_cert_sent = true;
        Ok(())
    }
}
