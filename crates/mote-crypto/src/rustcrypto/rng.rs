//! Adapters from mote's [`Rng`](crate::Rng) to `rand_core` 0.10's traits, so the crates draw
//! their randomness from the caller's generator (the OS's on a host, a TRNG on a device).

use crate::traits::Rng;
use rand_core::{Infallible, TryCryptoRng, TryRng};

/// The caller's generator failed ([`CryptoError::RngFailure`](crate::CryptoError)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngError;

impl core::fmt::Display for RngError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("random number generator failure")
    }
}

impl core::error::Error for RngError {}

/// A `rand_core` [`TryRng`] + [`TryCryptoRng`] over `&mut dyn Rng`: a failure of the
/// caller's generator is an [`RngError`], and is remembered ([`RngAdapter::failed`]).
///
/// For APIs that take an infallible `CryptoRng` (`rand_core::CryptoRng`), use
/// [`RngAdapter::infallible`].
pub struct RngAdapter<'a> {
    rng: &'a mut dyn Rng,
    failed: bool,
}

impl<'a> RngAdapter<'a> {
    pub fn new(rng: &'a mut dyn Rng) -> RngAdapter<'a> {
        RngAdapter { rng, failed: false }
    }

    /// Whether the caller's generator has failed since this adapter was made.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// An infallible view for APIs that take `rand_core::CryptoRng`: when the generator
    /// fails it zero-fills the request and records the failure, which the caller MUST check
    /// with [`RngAdapter::failed`] before using what was generated. Only suitable for APIs
    /// that draw a fixed number of bytes (a rejection-sampling API could loop on zeros).
    pub fn infallible(&mut self) -> InfallibleRng<'_, 'a> {
        InfallibleRng(self)
    }

    fn fill(&mut self, dst: &mut [u8]) -> Result<(), RngError> {
        match self.rng.fill(dst) {
            Ok(()) => Ok(()),
            Err(_) => {
                self.failed = true;
                Err(RngError)
            }
        }
    }
}

impl core::fmt::Debug for RngAdapter<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RngAdapter")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl TryRng for RngAdapter<'_> {
    type Error = RngError;

    fn try_next_u32(&mut self) -> Result<u32, RngError> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, RngError> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngError> {
        self.fill(dst)
    }
}

impl TryCryptoRng for RngAdapter<'_> {}

/// See [`RngAdapter::infallible`].
pub struct InfallibleRng<'r, 'a>(&'r mut RngAdapter<'a>);

impl core::fmt::Debug for InfallibleRng<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("InfallibleRng").field(&self.0).finish()
    }
}

impl TryRng for InfallibleRng<'_, '_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.try_next_u32().unwrap_or(0))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.try_next_u64().unwrap_or(0))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        if self.0.fill(dst).is_err() {
            dst.fill(0);
        }
        Ok(())
    }
}

impl TryCryptoRng for InfallibleRng<'_, '_> {}
