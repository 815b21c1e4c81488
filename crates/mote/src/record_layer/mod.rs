//! Record protection.

pub mod tls13;
