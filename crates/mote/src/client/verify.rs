//! Server authentication: certificate chains through mote-x509, pinned keys, RFC 7250 raw
//! public keys. (Being wired to mote-x509.)

use super::Core;
use crate::error::Error;
use mote_crypto::Provider;
use mote_wire::CertificateType;

/// The largest end-entity SubjectPublicKeyInfo kept for CertificateVerify: an RSA-4096 key
/// is 550 bytes; P-256 is 91, Ed25519 44.
pub const MAX_SPKI: usize = 600;

/// The server's verified public key.
pub(crate) struct ServerKey {
    spki: [u8; MAX_SPKI],
    len: usize,
}

impl ServerKey {
    pub fn none() -> Self {
        ServerKey {
            spki: [0; MAX_SPKI],
            len: 0,
        }
    }
    pub fn spki(&self) -> &[u8] {
        &self.spki[..self.len]
    }
}

impl<P: Provider> Core<'_, '_, P> {
    pub(crate) fn verify_server_chain<'c>(
        &mut self,
        certs: impl Iterator<Item = &'c [u8]>,
    ) -> Result<ServerKey, Error> {
        let _ = certs;
        Err(Error::Api(crate::error::ApiMisuse::BadConfig(
            "certificate verification not wired yet",
        )))
    }

    pub(crate) fn accept_server_cert_type(&mut self, t: CertificateType) -> Result<(), Error> {
        let _ = t;
        Ok(())
    }
}
