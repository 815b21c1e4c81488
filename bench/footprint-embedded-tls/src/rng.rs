// ADAPTED COPY of firmware/src/rng.rs: the same ChaCha20 keystream (chacha20 0.10, the 32-byte
// seed from the command line as key, an all-zero nonce), so both firmwares draw the same bytes
// from the same seed; only the trait differs. mote takes `mote_crypto::Rng`, embedded-tls takes
// rand_core 0.6's `CryptoRngCore` (`RngCore + CryptoRng`).

//! A ChaCha20 keystream as the TLS library's RNG. The emulated board has no hardware random
//! number generator, so the demo seeds it with 32 bytes from the host at boot. A real board
//! must seed from its TRNG instead: a predictable seed makes every key predictable.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;

pub struct SeededRng(ChaCha20);

impl SeededRng {
    pub fn new(seed: &[u8; 32]) -> SeededRng {
        SeededRng(ChaCha20::new(seed.into(), &[0u8; 12].into()))
    }

    fn fill(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        self.0.try_apply_keystream(dest).map_err(|_| {
            // The keystream of one seed is exhausted after 256 GiB: not within one handshake.
            rand_core::Error::from(
                core::num::NonZeroU32::new(rand_core::Error::CUSTOM_START).unwrap(),
            )
        })
    }
}

impl rand_core::RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // rand_core 0.6's infallible entry point: on the (unreachable) exhaustion, stop the
        // board rather than hand out predictable bytes.
        if self.fill(dest).is_err() {
            crate::host::print("embedded-tls-firmware: failed: RNG exhausted\n");
            crate::host::exit(false);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill(dest)
    }
}

impl rand_core::CryptoRng for SeededRng {}
