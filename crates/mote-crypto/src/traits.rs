//! The provider traits.

use crate::suites::{AeadAlgorithm, HashAlgorithm};
use mote_wire::{NamedGroup, SignatureScheme};

/// The largest digest any supported hash produces (SHA-384).
pub const MAX_DIGEST: usize = 48;
/// The largest public key share: an uncompressed P-384 point (mote offers x25519 and P-256;
/// the room is there for P-384 peers' ServerKeyExchange parsing).
pub const MAX_SHARE: usize = 97;
/// The largest shared secret (P-384 x-coordinate).
pub const MAX_SHARED_SECRET: usize = 48;
/// The largest signature mote produces or checks without `alloc` (ECDSA P-256 DER: 72 bytes;
/// Ed25519: 64). RSA signatures are verified from the peer's buffer, never copied.
pub const MAX_SIGNATURE: usize = 72;

/// Why a cryptographic operation failed. Deliberately coarse: which check of an AEAD tag
/// failed must not leak, and callers map each to one alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// An AEAD tag did not verify (bad_record_mac).
    BadTag,
    /// A signature did not verify (decrypt_error / bad_certificate).
    BadSignature,
    /// A public key or key share is malformed or not on the curve (illegal_parameter).
    BadPublicKey,
    /// A private key is malformed.
    BadPrivateKey,
    /// The algorithm is not supported by this provider (or not compiled in).
    Unsupported,
    /// An output or input has the wrong length.
    BadLength,
    /// The random number generator failed.
    RngFailure,
}

/// A digest value of up to [`MAX_DIGEST`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    bytes: [u8; MAX_DIGEST],
    len: u8,
}

impl Digest {
    /// A digest from its bytes (at most [`MAX_DIGEST`]; longer input is truncated, which no
    /// caller does: lengths come from [`HashAlgorithm::output_len`]).
    pub fn new(b: &[u8]) -> Digest {
        let len = b.len().min(MAX_DIGEST);
        let mut bytes = [0u8; MAX_DIGEST];
        bytes[..len].copy_from_slice(&b[..len]);
        Digest {
            bytes,
            len: len as u8,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl core::fmt::Debug for Digest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Digests here are often secrets (HKDF outputs): never print them.
        write!(f, "Digest({} bytes)", self.len)
    }
}

/// A source of cryptographically secure random bytes. The engine never reads an OS RNG
/// itself: `mote-std` passes the OS generator, firmware its TRNG.
pub trait Rng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// A running hash: the transcript hash is one, forked (cloned) wherever the key schedule
/// needs the hash of the messages so far.
pub trait Hash: Clone {
    fn algorithm(&self) -> HashAlgorithm;
    fn update(&mut self, data: &[u8]);
    /// The digest of everything so far; the state continues.
    fn current(&self) -> Digest {
        self.clone().finish()
    }
    fn finish(self) -> Digest;
}

/// An AEAD keyed for one direction, sealing and opening in place (RFC 5116).
pub trait Aead {
    fn algorithm(&self) -> AeadAlgorithm;
    /// Encrypts `buf` in place and writes the tag (of `algorithm().tag_len()` bytes) to `tag`.
    fn seal_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), CryptoError>;
    /// Decrypts `buf` in place if `tag` verifies; on failure `buf` is unspecified.
    fn open_in_place(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), CryptoError>;
}

/// An ephemeral key pair for (EC)DHE.
pub trait KeyExchange {
    fn group(&self) -> NamedGroup;
    /// The public share as sent in key_share (x25519: 32 bytes; P-256: 65-byte uncompressed
    /// point, RFC 8446 section 4.2.8.2).
    fn public_share(&self) -> &[u8];
    /// Completes the exchange with the peer's share, writing the shared secret to `out` and
    /// returning its length. Consumes the key: ephemeral keys are used once.
    fn agree(
        self,
        peer_share: &[u8],
        out: &mut [u8; MAX_SHARED_SECRET],
    ) -> Result<usize, CryptoError>;
}

/// A private key that signs handshakes (a client certificate's key, a server's key, or a key
/// held in a secure element).
pub trait Signer {
    fn scheme(&self) -> SignatureScheme;
    /// Signs `message` (the caller builds the RFC 8446 section 4.4.3 content) into `out`,
    /// returning the signature length.
    fn sign(&self, message: &[u8], out: &mut [u8]) -> Result<usize, CryptoError>;
}

/// What a provider supplies. Algorithms are chosen at run time (a peer negotiates them), so
/// each constructor takes the algorithm; a provider returns `Unsupported` for what it was
/// not built with.
pub trait Provider {
    type Hash: Hash;
    type Aead: Aead;
    type KeyExchange: KeyExchange;

    fn hash(&self, alg: HashAlgorithm) -> Self::Hash;

    /// HMAC over the concatenation of `parts` (RFC 2104).
    fn hmac(&self, alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Digest;

    /// HKDF-Extract (RFC 5869 section 2.2).
    fn hkdf_extract(&self, alg: HashAlgorithm, salt: &[u8], ikm: &[u8]) -> Digest;

    /// HKDF-Expand with `info` given as the concatenation of `info` parts, so HKDF-Expand-Label
    /// needs no buffer (RFC 5869 section 2.3).
    fn hkdf_expand(
        &self,
        alg: HashAlgorithm,
        prk: &[u8],
        info: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError>;

    fn aead(&self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::Aead, CryptoError>;

    /// A fresh ephemeral key for `group`.
    fn key_exchange(
        &self,
        group: NamedGroup,
        rng: &mut dyn Rng,
    ) -> Result<Self::KeyExchange, CryptoError>;

    /// Verifies `signature` over `message` with a public key given as a DER
    /// SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7), as certificates and RFC 7250 raw
    /// public keys carry it.
    fn verify(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Verifies a signature given the digest of the signed message rather than the message,
    /// so a certificate's signature can be checked after its bytes are gone (streaming chain
    /// validation keeps only the TBS digest). Valid for ECDSA and RSA schemes, where `digest`
    /// is the scheme's hash of the message; Ed25519 signs the message itself, so it returns
    /// `Unsupported`.
    fn verify_prehashed(
        &self,
        scheme: SignatureScheme,
        spki: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Whether this provider can verify `scheme` (for the signature_algorithms it offers).
    fn supports_signature(&self, scheme: SignatureScheme) -> bool;

    /// Whether this provider implements `group`.
    fn supports_group(&self, group: NamedGroup) -> bool;
}
