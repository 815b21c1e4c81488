//! Helpers shared by the integration tests.
#![allow(dead_code)]

use mote_crypto::{CryptoError, Rng};
use serde_json::Value;

/// Project Wycheproof test vectors (C2SP/wycheproof, `testvectors_v1`, Apache-2.0), as
/// copied into the shared vectors folder.
pub fn wycheproof(name: &str) -> Value {
    let path = format!(
        "{}/../../../shared/vectors/wycheproof/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A vector file from the shared `kdf` folder.
pub fn kdf_file(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/vectors/kdf/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The hex string field `key` of a JSON object.
pub fn hx(v: &Value, key: &str) -> Vec<u8> {
    hex(v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string field {key}")))
}

/// Every test of a Wycheproof file with its group.
pub fn tests(file: &Value) -> Vec<(&Value, &Value)> {
    file["testGroups"]
        .as_array()
        .expect("testGroups")
        .iter()
        .flat_map(|g| {
            g["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .map(move |t| (g, t))
        })
        .collect()
}

pub fn result(t: &Value) -> &str {
    t["result"].as_str().expect("result")
}

pub fn has_flag(t: &Value, flag: &str) -> bool {
    t["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(flag)))
}

/// Counts of the Wycheproof verdicts a test ran.
#[derive(Debug, Default)]
pub struct Tally {
    pub valid: usize,
    pub invalid: usize,
    /// "acceptable" vectors that mote's policy accepts.
    pub acceptable_accepted: usize,
    /// "acceptable" vectors that mote's policy rejects.
    pub acceptable_rejected: usize,
    /// Vectors outside what the provider implements (another key size, nonce length...).
    pub skipped: usize,
}

impl Tally {
    pub fn report(&self, what: &str) {
        println!("{what}: {self:?}");
        assert!(self.valid > 0, "{what}: no valid vector ran");
    }
}

/// An RNG that replays fixed bytes, then zeros: it injects test vectors' private keys.
pub struct Fixed(pub Vec<u8>);

impl Rng for Fixed {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        let n = dest.len().min(self.0.len());
        dest[..n].copy_from_slice(&self.0[..n]);
        dest[n..].fill(0);
        self.0.drain(..n);
        Ok(())
    }
}

/// An RNG that always fails.
pub struct Broken;

impl Rng for Broken {
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::RngFailure)
    }
}

/// A deterministic non-cryptographic generator for tests (xorshift64*).
pub struct TestRng(pub u64);

impl Rng for TestRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest.iter_mut() {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
        Ok(())
    }
}
