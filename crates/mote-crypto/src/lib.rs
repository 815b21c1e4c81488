//! Cryptography for mote, behind traits: the engine names algorithms, a provider supplies
//! them. The default provider ([`rustcrypto`], feature `rustcrypto`) is built on the audited
//! RustCrypto crates; a device can swap in hardware AES or a secure element by implementing
//! the same traits. Nothing here is a hand-written primitive.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod suites;
mod traits;

#[cfg(feature = "rustcrypto")]
pub mod rustcrypto;

pub use suites::{AeadAlgorithm, HashAlgorithm, SuiteInfo};
pub use traits::*;
