//! Key schedules: TLS 1.3 (RFC 8446 section 7.1) as typestates.

pub mod tls13;
