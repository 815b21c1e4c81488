//! The RustCrypto provider (being written).
