//! Loading a handshake signing key (client or server) from PEM, for every key type mote
//! signs with.

use mote_crypto::rustcrypto::{EcdsaP256Signer, Ed25519Signer, RsaPssSigner};
use mote_crypto::Signer;
use mote_std::{OsRng, PrivateKey};
use std::path::Path;

/// A P-256 (SEC 1 or PKCS #8), Ed25519 (PKCS #8) or RSA (PKCS #1 or PKCS #8, 2048 to 4096
/// bits, signing rsa_pss_rsae_sha256) key; `what` names the option in errors.
pub fn load_signer(path: &Path, what: &str) -> Result<Box<dyn Signer>, String> {
    let key = mote_std::load_private_key(path).map_err(|e| format!("{what}: {e}"))?;
    Ok(match key {
        PrivateKey::Sec1(d) => {
            Box::new(EcdsaP256Signer::from_sec1_der(&d).map_err(|e| format!("{what}: {e:?}"))?)
        }
        PrivateKey::Pkcs1(d) => Box::new(
            RsaPssSigner::from_pkcs1_der(&d, OsRng)
                .map_err(|_| format!("{what}: not an RSA key of 2048 to 4096 bits"))?,
        ),
        PrivateKey::Pkcs8(d) => {
            if let Ok(s) = EcdsaP256Signer::from_pkcs8_der(&d) {
                Box::new(s)
            } else if let Ok(s) = Ed25519Signer::from_pkcs8_der(&d) {
                Box::new(s)
            } else {
                Box::new(RsaPssSigner::from_pkcs8_der(&d, OsRng).map_err(|_| {
                    format!("{what}: not a P-256, Ed25519 or RSA (2048 to 4096 bits) key")
                })?)
            }
        }
    })
}
