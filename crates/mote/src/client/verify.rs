//! Server authentication through mote-x509: certificate chains validated as each certificate
//! is read, pinned SPKI hashes, and RFC 7250 raw public keys.

use super::Core;
use crate::error::{Error, PeerMisbehaved};
use mote_crypto::Provider;
use mote_wire::CertificateType;
use mote_x509::VerifiedChain;

/// With RSA, intermediates' signatures need a 512-byte buffer while the chain streams by;
/// without it 104 bytes do (ECDSA P-384 at most), which matters on a device.
#[cfg(feature = "rsa")]
pub(crate) type Validator<'a> =
    mote_x509::ChainValidator<'a, { mote_x509::RSA_SIGNATURE_CAPACITY }>;
#[cfg(not(feature = "rsa"))]
pub(crate) type Validator<'a> = mote_x509::ChainValidator<'a>;

/// The server's verified public key: only a [`VerifiedChain`] can make one, so a key that
/// did not pass validation cannot reach the CertificateVerify check.
pub(crate) struct ServerKey(Option<VerifiedChain>);

impl ServerKey {
    pub fn none() -> Self {
        ServerKey(None)
    }
    pub fn verified(chain: VerifiedChain) -> Self {
        ServerKey(Some(chain))
    }
    pub fn spki(&self) -> &[u8] {
        self.0
            .as_ref()
            .map(VerifiedChain::end_entity_spki)
            .unwrap_or(&[])
    }
}

impl<P: Provider> Core<'_, '_, P> {
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
