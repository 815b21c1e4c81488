//! Record protection.

pub(crate) mod outgoing;
pub mod tls13;
