//! Server authentication through mote-x509: certificate chains validated as each certificate
//! is read, pinned SPKI hashes, and RFC 7250 raw public keys.

use super::Core;
use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use mote_crypto::Provider;
use mote_wire::CertificateType;
use mote_x509::{Usage, VerifiedChain};

/// With RSA, intermediates' signatures need a 512-byte buffer while the chain streams by;
/// without it 104 bytes do (ECDSA P-384 at most), which matters on a device.
#[cfg(feature = "rsa")]
type Validator<'a> = mote_x509::ChainValidator<'a, { mote_x509::RSA_SIGNATURE_CAPACITY }>;
#[cfg(not(feature = "rsa"))]
type Validator<'a> = mote_x509::ChainValidator<'a>;

/// The server's verified public key: only a [`VerifiedChain`] can make one, so a key that
/// did not pass validation cannot reach the CertificateVerify check.
pub(crate) struct ServerKey(Option<VerifiedChain>);

impl ServerKey {
    pub fn none() -> Self {
        ServerKey(None)
    }
    pub fn spki(&self) -> &[u8] {
        self.0
            .as_ref()
            .map(VerifiedChain::end_entity_spki)
            .unwrap_or(&[])
    }
}

impl<P: Provider> Core<'_, '_, P> {
    /// Validates the server's certificates in the order they were sent.
    pub(crate) fn verify_server_chain<'c>(
        &mut self,
        certs: impl Iterator<Item = &'c [u8]>,
    ) -> Result<ServerKey, Error> {
        let Some(auth) = self.cfg.server_auth else {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "the server sent a certificate but no trust anchors, pin or raw key are configured",
            )));
        };
        let mut v = Validator::for_auth(&auth, self.now_ms / 1000, Usage::ServerAuth);
        let mut failed = None;
        for (i, der) in certs.enumerate() {
            if let Some(o) = self.cfg.certificate_observer {
                o.certificate(i, der);
            }
            // After a failure the rest is only shown to the observer, not validated.
            if failed.is_none() {
                failed = v.add(&self.p, i, der).err();
            }
        }
        if let Some(e) = failed {
            return Err(Error::Certificate(e));
        }
        let chain = v.finish(&self.p).map_err(Error::Certificate)?;
        Ok(ServerKey(Some(chain)))
    }

    /// RFC 7250: the server may choose a raw public key only if we offered it.
    pub(crate) fn accept_server_cert_type(&mut self, t: CertificateType) -> Result<(), Error> {
        let offered = self
            .cfg
            .server_auth
            .map(|a| a.certificate_type())
            .unwrap_or(CertificateType::X509);
        if t != offered {
            return Err(PeerMisbehaved::IllegalParameter("server_certificate_type").into());
        }
        self.server_cert_type = t;
        Ok(())
    }
}
