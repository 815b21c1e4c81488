//! The RustCrypto provider: [`RustCrypto`] implements [`Provider`] with the audited
//! RustCrypto and dalek crates only (`sha2`, `hmac`, `hkdf`, `aes-gcm`, `ccm` over `aes`,
//! `chacha20poly1305`, `x25519-dalek`, `p256`, `ed25519-dalek`, and `rsa` with feature
//! `alloc`). Nothing here is a primitive or a constant-time comparison of its own: this
//! module only picks the crate type for a run-time algorithm and maps errors.
//!
//! Everything is `no_std` and heap-free except RSA verification and signing (feature
//! `alloc`).
//!
//! # Features
//!
//! Feature `rustcrypto` alone builds SHA-256, HMAC-SHA256 and HKDF-SHA256; each algorithm
//! is added by its own feature, and its crate is not even compiled without it:
//!
//! | feature | adds |
//! |---|---|
//! | `sha384` | SHA-384, HMAC-SHA384, HKDF-SHA384 (and AES-256-GCM, with `aes-gcm`) |
//! | `aes-gcm` | AES-128-GCM |
//! | `aes-ccm` | AES-128-CCM and AES-128-CCM_8 |
//! | `chacha20poly1305` | ChaCha20-Poly1305 |
//! | `x25519` | the x25519 group |
//! | `p256` | the secp256r1 group, `ecdsa_secp256r1_sha256` and `EcdsaP256Signer` |
//! | `ed25519` | `ed25519` and `Ed25519Signer` |
//! | `alloc` | the RSA schemes and `RsaPssSigner` (needs an allocator) |
//! | `all` | all of the above but `alloc` (with `rustcrypto`: the default) |
//!
//! What is compiled out behaves as an algorithm this provider does not implement:
//! [`Provider::aead`], [`Provider::key_exchange`], [`Provider::verify`] and
//! [`Provider::verify_prehashed`] return [`CryptoError::Unsupported`], and
//! [`Provider::supports_group`] and [`Provider::supports_signature`] say `false`. The
//! suites whose AEAD or hash is compiled out have no [`SuiteInfo`](crate::SuiteInfo), so an
//! engine neither offers nor accepts them. The hash entry points cannot fail: without
//! `sha384` they answer SHA-384 requests with SHA-256 and `hkdf_expand` returns
//! `Unsupported` (see [`RustCrypto::hash`]).
//!
//! # Policies
//!
//! - **Key exchange.** x25519 shares are 32 bytes; P-256 shares are 65-byte uncompressed
//!   points (RFC 8446 section 4.2.8.2): a compressed or identity encoding, a point off the
//!   curve or any other length is [`CryptoError::BadPublicKey`]. An all-zero x25519 shared
//!   secret (a low-order peer share) is also `BadPublicKey`, as RFC 8446 section 7.4.2 and
//!   RFC 7748 section 6.1 require the exchange to be aborted.
//! - **Signatures.** [`Provider::verify`] checks the scheme first (one this provider does not
//!   implement is [`CryptoError::Unsupported`]), then parses the DER SubjectPublicKeyInfo (a
//!   malformed one, or a key the crate rejects, is [`CryptoError::BadPublicKey`]), then
//!   matches the key's algorithm to the scheme: a well-formed key of another algorithm or
//!   curve than the scheme names (an Ed25519 key for `ecdsa_secp256r1_sha256`, a P-384 key
//!   for it, an RSA key for `ed25519`, ...) is [`CryptoError::BadSignature`], since the peer
//!   signed with a scheme its key cannot produce. Anything wrong with the signature itself is
//!   `BadSignature`.
//! - **ECDSA** signatures are DER (RFC 8446 section 4.2.3) and parsed strictly by the
//!   `ecdsa` crate. High-S signatures are accepted (P-256 ECDSA does not normalize S, and
//!   OpenSSL produces both), as Project Wycheproof expects.
//! - **Ed25519** uses `ed25519-dalek`'s `verify_strict` (rejects non-canonical and
//!   small-order keys and R, and malleable S), which passes every Wycheproof vector.
//! - **RSA** (feature `alloc`): `rsa_pkcs1_sha256/384/512` and `rsa_pss_rsae_sha256/384/512`
//!   with an rsaEncryption key; PSS requires the salt length to equal the digest length
//!   (RFC 8446 section 4.2.3). `rsa_pss_pss_*` (id-RSASSA-PSS keys) is `Unsupported`.

mod aead;
mod hash;
mod kx;
mod rng;
#[cfg(feature = "alloc")]
mod rsa;
#[cfg(feature = "alloc")]
mod rsa_signer;
mod sig;
#[cfg(any(feature = "p256", feature = "ed25519"))]
mod signer;

pub use aead::RcAead;
pub use hash::RcHash;
pub use kx::RcKx;
pub use rng::{InfallibleRng, RngAdapter, RngError};
#[cfg(feature = "alloc")]
pub use rsa_signer::{RsaPssSigner, MAX_RSA_SIGNATURE, RSA_SIGNER_MAX_BITS, RSA_SIGNER_MIN_BITS};
#[cfg(feature = "p256")]
pub use signer::EcdsaP256Signer;
#[cfg(feature = "ed25519")]
pub use signer::Ed25519Signer;

use crate::suites::{AeadAlgorithm, HashAlgorithm};
use crate::traits::{CryptoError, Digest, Provider, Rng};
use mote_wire::{NamedGroup, SignatureScheme};

/// The RustCrypto provider. It holds no state: every keyed object it returns owns its key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RustCrypto;

impl Provider for RustCrypto {
    type Hash = RcHash;
    type Aead = RcAead;
    type KeyExchange = RcKx;

    /// A fresh hash of `alg`.
    ///
    /// Without feature `sha384`, `HashAlgorithm::Sha384` gives a **SHA-256** state (its
    /// [`Hash::algorithm`](crate::Hash::algorithm) says `Sha256`, and its digest is 32 bytes,
    /// which no SHA-384 length check accepts). `hmac` and `hkdf_extract`, which cannot fail
    /// either, likewise compute HMAC-SHA256 then; `hkdf_expand` returns `Unsupported`, so no
    /// TLS 1.3 secret is ever derived from them. A correct engine never asks:
    /// [`SuiteInfo::of`](crate::SuiteInfo::of) returns `None` for every SHA-384 suite in
    /// that build.
    fn hash(&self, alg: HashAlgorithm) -> RcHash {
        RcHash::new(alg)
    }

    fn hmac(&self, alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Digest {
        hash::hmac(alg, key, parts)
    }

    fn hkdf_extract(&self, alg: HashAlgorithm, salt: &[u8], ikm: &[u8]) -> Digest {
        hash::hkdf_extract(alg, salt, ikm)
    }

    fn hkdf_expand(
        &self,
        alg: HashAlgorithm,
        prk: &[u8],
        info: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        hash::hkdf_expand(alg, prk, info, out)
    }

    fn aead(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<RcAead, CryptoError> {
        RcAead::new(alg, key)
    }

    fn key_exchange(&self, group: NamedGroup, rng: &mut dyn Rng) -> Result<RcKx, CryptoError> {
        RcKx::generate(group, rng)
    }

    fn verify(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        sig::verify(scheme, spki, sig::Signed::Message(message), signature)
    }

    fn verify_prehashed(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        sig::verify(scheme, spki, sig::Signed::Digest(digest), signature)
    }

    fn supports_signature(&self, scheme: SignatureScheme) -> bool {
        sig::supported(scheme)
    }

    fn supports_group(&self, group: NamedGroup) -> bool {
        kx::supported(group)
    }
}
