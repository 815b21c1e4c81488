//! A ChaCha20 keystream as the engine's RNG. The emulated board has no hardware random number
//! generator, so the demo seeds it with 32 bytes from the host at boot. A real board must seed
//! from its TRNG instead: a predictable seed makes every key predictable.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use mote_crypto::{CryptoError, Rng};

pub struct SeededRng(ChaCha20);

impl SeededRng {
    pub fn new(seed: &[u8; 32]) -> SeededRng {
        SeededRng(ChaCha20::new(seed.into(), &[0u8; 12].into()))
    }
}

impl Rng for SeededRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        dest.fill(0);
        self.0
            .try_apply_keystream(dest)
            .map_err(|_| CryptoError::RngFailure)
    }
}
