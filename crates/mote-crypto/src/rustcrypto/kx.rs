//! Ephemeral (EC)DHE: x25519 (`x25519-dalek`, feature `x25519`) and secp256r1 (`p256`,
//! feature `p256`). A group compiled out is `Unsupported`; with neither feature, [`RcKx`] has
//! no value at all.

#[cfg(feature = "x25519")]
use super::rng::RngAdapter;
use crate::traits::{CryptoError, KeyExchange, Rng, MAX_SHARED_SECRET};
use mote_wire::NamedGroup;
#[cfg(feature = "p256")]
use p256::elliptic_curve::sec1::ToSec1Point;
#[cfg(feature = "p256")]
use zeroize::Zeroize;

/// The length of an x25519 key share and shared secret.
#[cfg(feature = "x25519")]
pub const X25519_SHARE_LEN: usize = 32;
/// The length of a P-256 key share: an uncompressed SEC1 point (0x04 || x || y).
#[cfg(feature = "p256")]
pub const P256_SHARE_LEN: usize = 65;
/// How many 32-byte draws a P-256 private key may take before the generator is declared
/// broken. A uniform draw is rejected (zero or at least the group order) with probability
/// about 2^-32, so a generator that exhausts this is returning constants.
#[cfg(feature = "p256")]
const P256_KEYGEN_ATTEMPTS: usize = 8;

/// An ephemeral key pair of x25519 or secp256r1 (those compiled in), used once by
/// [`KeyExchange::agree`].
pub enum RcKx {
    #[cfg(feature = "x25519")]
    X25519 {
        secret: x25519_dalek::EphemeralSecret,
        public: [u8; X25519_SHARE_LEN],
    },
    #[cfg(feature = "p256")]
    P256 {
        secret: p256::SecretKey,
        public: [u8; P256_SHARE_LEN],
    },
}

impl core::fmt::Debug for RcKx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the secret.
        f.debug_struct("RcKx")
            .field("group", &self.group())
            .finish_non_exhaustive()
    }
}

/// Whether the provider implements `group` (x25519 with feature `x25519`, secp256r1 with
/// feature `p256`).
pub(super) fn supported(group: NamedGroup) -> bool {
    (cfg!(feature = "x25519") && group == NamedGroup::X25519)
        || (cfg!(feature = "p256") && group == NamedGroup::SECP256R1)
}

impl RcKx {
    /// A fresh key pair for `group` drawn from `rng`.
    ///
    /// x25519 draws exactly 32 bytes (the scalar, clamped when used, RFC 7748 section 5).
    /// P-256 draws 32 bytes as a big-endian scalar, drawing again while it is zero or not
    /// below the group order (at most 8 draws, then `RngFailure`). A failing `rng` is
    /// `RngFailure`; a group other than x25519 and secp256r1, or one not compiled in, is
    /// `Unsupported`.
    #[allow(unused_variables)] // with no group compiled in, `rng` is never used
    pub fn generate(group: NamedGroup, rng: &mut dyn Rng) -> Result<RcKx, CryptoError> {
        #[cfg(feature = "x25519")]
        if group == NamedGroup::X25519 {
            let mut adapter = RngAdapter::new(rng);
            // `random_from_rng` fills exactly 32 bytes once: no rejection loop, so the
            // infallible view's zero-fill on failure is safe; the failure is checked below.
            let secret = x25519_dalek::EphemeralSecret::random_from_rng(&mut adapter.infallible());
            if adapter.failed() {
                return Err(CryptoError::RngFailure);
            }
            let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
            return Ok(RcKx::X25519 { secret, public });
        }
        #[cfg(feature = "p256")]
        if group == NamedGroup::SECP256R1 {
            let secret = p256_secret(rng)?;
            let point = secret.public_key().to_sec1_point(false);
            let public = <[u8; P256_SHARE_LEN]>::try_from(point.as_bytes())
                .map_err(|_| CryptoError::BadPublicKey)?;
            return Ok(RcKx::P256 { secret, public });
        }
        Err(CryptoError::Unsupported)
    }
}

#[cfg(feature = "p256")]
fn p256_secret(rng: &mut dyn Rng) -> Result<p256::SecretKey, CryptoError> {
    let mut bytes = [0u8; 32];
    for _ in 0..P256_KEYGEN_ATTEMPTS {
        if rng.fill(&mut bytes).is_err() {
            bytes.zeroize();
            return Err(CryptoError::RngFailure);
        }
        let key = p256::SecretKey::from_slice(&bytes);
        bytes.zeroize();
        if let Ok(key) = key {
            return Ok(key);
        }
    }
    Err(CryptoError::RngFailure)
}

impl KeyExchange for RcKx {
    fn group(&self) -> NamedGroup {
        match *self {
            #[cfg(feature = "x25519")]
            RcKx::X25519 { .. } => NamedGroup::X25519,
            #[cfg(feature = "p256")]
            RcKx::P256 { .. } => NamedGroup::SECP256R1,
        }
    }

    fn public_share(&self) -> &[u8] {
        match *self {
            #[cfg(feature = "x25519")]
            RcKx::X25519 { ref public, .. } => public,
            #[cfg(feature = "p256")]
            RcKx::P256 { ref public, .. } => public,
        }
    }

    /// A peer share of the wrong length or encoding, a P-256 point not on the curve, or an
    /// x25519 share that makes the shared secret all zeros, is `BadPublicKey`.
    #[allow(unused_variables)] // with no group compiled in, `self` has no value
    fn agree(
        self,
        peer_share: &[u8],
        out: &mut [u8; MAX_SHARED_SECRET],
    ) -> Result<usize, CryptoError> {
        match self {
            #[cfg(feature = "x25519")]
            RcKx::X25519 { secret, .. } => {
                let peer = <[u8; X25519_SHARE_LEN]>::try_from(peer_share)
                    .map_err(|_| CryptoError::BadPublicKey)?;
                let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
                // RFC 8446 section 7.4.2, RFC 7748 section 6.1: abort on an all-zero
                // output (the crate's constant-time identity check).
                if !shared.was_contributory() {
                    return Err(CryptoError::BadPublicKey);
                }
                write_secret(shared.as_bytes(), out)
            }
            #[cfg(feature = "p256")]
            RcKx::P256 { secret, .. } => {
                // Uncompressed points only (RFC 8446 section 4.2.8.2).
                if peer_share.len() != P256_SHARE_LEN || peer_share.first() != Some(&0x04) {
                    return Err(CryptoError::BadPublicKey);
                }
                // Rejects points not on the curve (and the identity).
                let peer = p256::PublicKey::from_sec1_bytes(peer_share)
                    .map_err(|_| CryptoError::BadPublicKey)?;
                let shared = secret.diffie_hellman(&peer);
                write_secret(shared.raw_secret_bytes(), out)
            }
        }
    }
}

#[cfg(any(feature = "x25519", feature = "p256"))]
fn write_secret(secret: &[u8], out: &mut [u8; MAX_SHARED_SECRET]) -> Result<usize, CryptoError> {
    out.get_mut(..secret.len())
        .ok_or(CryptoError::BadLength)?
        .copy_from_slice(secret);
    Ok(secret.len())
}
