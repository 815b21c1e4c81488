//! Key schedules: TLS 1.3 (RFC 8446 section 7.1) as typestates.

pub(crate) mod tls12;
pub mod tls13;
