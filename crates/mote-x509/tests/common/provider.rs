//! A test-only `Provider` wrapping RustCrypto crates directly (sha2 0.11, p256 0.14,
//! ed25519-dalek 3: the generation mote-crypto's RustCrypto provider uses), so mote-x509's
//! chain tests do not depend on that provider; rsa 0.10 plays mote-crypto's `alloc` feature.
//! Only hashing and signature verification work; the rest returns `Unsupported`.

use std::cell::Cell;

use ed25519_dalek::pkcs8::DecodePublicKey as _;
use mote_crypto::{
    Aead, AeadAlgorithm, CryptoError, Digest, Hash, HashAlgorithm, KeyExchange, Provider, Rng,
    MAX_SHARED_SECRET,
};
use mote_wire::{NamedGroup, SignatureScheme};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::ecdsa::signature::Verifier as _;
use sha2::Digest as _;

#[derive(Default)]
pub struct TestProvider {
    /// How many signature verifications were attempted (to show ignored certificates are
    /// never looked at).
    pub verifications: Cell<u32>,
    /// Whether RSA is offered (mote-crypto offers it only with `alloc`).
    pub rsa: bool,
}

impl TestProvider {
    pub fn with_rsa() -> TestProvider {
        TestProvider {
            rsa: true,
            ..TestProvider::default()
        }
    }
}

#[derive(Clone)]
pub enum TestHash {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
}

impl Hash for TestHash {
    fn algorithm(&self) -> HashAlgorithm {
        match self {
            TestHash::Sha256(_) => HashAlgorithm::Sha256,
            TestHash::Sha384(_) => HashAlgorithm::Sha384,
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            TestHash::Sha256(h) => h.update(data),
            TestHash::Sha384(h) => h.update(data),
        }
    }
    fn finish(self) -> Digest {
        match self {
            TestHash::Sha256(h) => Digest::new(&h.finalize()),
            TestHash::Sha384(h) => Digest::new(&h.finalize()),
        }
    }
}

pub struct NoAead;

impl Aead for NoAead {
    fn algorithm(&self) -> AeadAlgorithm {
        AeadAlgorithm::Aes128Gcm
    }
    fn seal_in_place(
        &self,
        _: &[u8; 12],
        _: &[u8],
        _: &mut [u8],
        _: &mut [u8],
    ) -> Result<(), CryptoError> {
        Err(CryptoError::Unsupported)
    }
    fn open_in_place(
        &self,
        _: &[u8; 12],
        _: &[u8],
        _: &mut [u8],
        _: &[u8],
    ) -> Result<(), CryptoError> {
        Err(CryptoError::Unsupported)
    }
}

pub struct NoKeyExchange;

impl KeyExchange for NoKeyExchange {
    fn group(&self) -> NamedGroup {
        NamedGroup(0)
    }
    fn public_share(&self) -> &[u8] {
        &[]
    }
    fn agree(self, _: &[u8], _: &mut [u8; MAX_SHARED_SECRET]) -> Result<usize, CryptoError> {
        Err(CryptoError::Unsupported)
    }
}

/// RSA PKCS #1 v1.5 or PSS (salt as long as the hash) with SHA-256/384/512, over the message
/// or its digest.
fn rsa_verify(
    scheme: SignatureScheme,
    spki: &[u8],
    data: &[u8],
    signature: &[u8],
    prehashed: bool,
) -> Result<(), CryptoError> {
    use rsa::signature::hazmat::PrehashVerifier;
    use rsa::signature::Verifier;
    let key = rsa::PublicKey::from_public_key_der(spki).map_err(|_| CryptoError::BadPublicKey)?;
    let bad = |_| CryptoError::BadSignature;
    macro_rules! check {
        ($kind:ident, $hash:ty) => {{
            let k = rsa::$kind::VerifyingKey::<$hash>::new(key);
            let s = rsa::$kind::Signature::try_from(signature).map_err(bad)?;
            if prehashed {
                k.verify_prehash(data, &s).map_err(bad)
            } else {
                k.verify(data, &s).map_err(bad)
            }
        }};
    }
    match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => check!(pkcs1v15, sha2::Sha256),
        SignatureScheme::RSA_PKCS1_SHA384 => check!(pkcs1v15, sha2::Sha384),
        SignatureScheme::RSA_PKCS1_SHA512 => check!(pkcs1v15, sha2::Sha512),
        SignatureScheme::RSA_PSS_RSAE_SHA256 => check!(pss, sha2::Sha256),
        SignatureScheme::RSA_PSS_RSAE_SHA384 => check!(pss, sha2::Sha384),
        SignatureScheme::RSA_PSS_RSAE_SHA512 => check!(pss, sha2::Sha512),
        _ => Err(CryptoError::Unsupported),
    }
}

fn is_rsa(scheme: SignatureScheme) -> bool {
    (0x0401..=0x0601).contains(&scheme.0) && scheme.0 & 0xff == 0x01
        || (0x0804..=0x0806).contains(&scheme.0)
}

fn p256_key(spki: &[u8]) -> Result<p256::ecdsa::VerifyingKey, CryptoError> {
    p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(|_| CryptoError::BadPublicKey)
}

fn p256_sig(sig: &[u8]) -> Result<p256::ecdsa::Signature, CryptoError> {
    p256::ecdsa::Signature::from_der(sig).map_err(|_| CryptoError::BadSignature)
}

impl Provider for TestProvider {
    type Hash = TestHash;
    type Aead = NoAead;
    type KeyExchange = NoKeyExchange;

    fn hash(&self, alg: HashAlgorithm) -> TestHash {
        match alg {
            HashAlgorithm::Sha256 => TestHash::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha384 => TestHash::Sha384(sha2::Sha384::new()),
        }
    }
    fn hmac(&self, _: HashAlgorithm, _: &[u8], _: &[&[u8]]) -> Digest {
        Digest::new(&[])
    }
    fn hkdf_extract(&self, _: HashAlgorithm, _: &[u8], _: &[u8]) -> Digest {
        Digest::new(&[])
    }
    fn hkdf_expand(
        &self,
        _: HashAlgorithm,
        _: &[u8],
        _: &[&[u8]],
        _: &mut [u8],
    ) -> Result<(), CryptoError> {
        Err(CryptoError::Unsupported)
    }
    fn aead(&self, _: AeadAlgorithm, _: &[u8]) -> Result<NoAead, CryptoError> {
        Err(CryptoError::Unsupported)
    }
    fn key_exchange(&self, _: NamedGroup, _: &mut dyn Rng) -> Result<NoKeyExchange, CryptoError> {
        Err(CryptoError::Unsupported)
    }

    fn verify(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.verifications.set(self.verifications.get() + 1);
        match scheme {
            SignatureScheme::ECDSA_SECP256R1_SHA256 => p256_key(spki)?
                .verify(message, &p256_sig(signature)?)
                .map_err(|_| CryptoError::BadSignature),
            SignatureScheme::ED25519 => {
                let key = ed25519_dalek::VerifyingKey::from_public_key_der(spki)
                    .map_err(|_| CryptoError::BadPublicKey)?;
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| CryptoError::BadSignature)?;
                key.verify_strict(message, &sig)
                    .map_err(|_| CryptoError::BadSignature)
            }
            s if self.rsa && is_rsa(s) => rsa_verify(s, spki, message, signature, false),
            _ => Err(CryptoError::Unsupported),
        }
    }

    fn verify_prehashed(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.verifications.set(self.verifications.get() + 1);
        match scheme {
            SignatureScheme::ECDSA_SECP256R1_SHA256 if digest.len() == 32 => p256_key(spki)?
                .verify_prehash(digest, &p256_sig(signature)?)
                .map_err(|_| CryptoError::BadSignature),
            s if self.rsa && is_rsa(s) => rsa_verify(s, spki, digest, signature, true),
            _ => Err(CryptoError::Unsupported),
        }
    }

    fn supports_signature(&self, scheme: SignatureScheme) -> bool {
        self.rsa && is_rsa(scheme)
            || matches!(
                scheme,
                SignatureScheme::ECDSA_SECP256R1_SHA256 | SignatureScheme::ED25519
            )
    }
    fn supports_group(&self, _: NamedGroup) -> bool {
        false
    }
}
