//! Record protection.

pub(crate) mod closing;
pub(crate) mod dtls12;
pub(crate) mod outgoing;
pub(crate) mod replay;
pub mod tls13;
