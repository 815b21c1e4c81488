//! DTLS 1.2 (RFC 6347) for lossy links: datagrams instead of a byte stream.
//!
//! The API keeps the engine's shape with datagrams as the unit: the caller copies one
//! received datagram into [`DtlsClient::recv_buf`] and reports it with
//! [`DtlsClient::recv_datagram`]; takes the next datagram to send from
//! [`DtlsClient::transmit`] and reports it sent with [`DtlsClient::transmit_done`]; and
//! drives the retransmission timer with [`DtlsClient::next_timeout`] and
//! [`DtlsClient::handle_timeout`] (time is the caller's: quinn-proto's shape).
//!
//! - `outgoing.rs`: the current flight, kept for retransmission and cut into datagrams of
//!   at most the MTU when it goes out;
//! - `timer.rs`: the retransmission timer (RFC 6347 section 4.2.4);
//! - `records.rs`: epochs, sequence numbers, the replay window and record protection;
//! - `incoming.rs`: records out of a datagram, handshake fragments reassembled in order;
//! - `endpoint.rs`: the datagram loop both roles share ([`Dtls`]);
//! - `client/`, `server/`: each role's handshake; `server/cookie.rs` the stateless
//!   HelloVerifyRequest exchange.
//!
//! Key exchange: PSK (RFC 4279), ECDHE_PSK (RFC 5489) and ECDHE_ECDSA (RFC 8422), with the
//! extended master secret (RFC 7627) required and renegotiation refused (RFC 5746: the
//! empty renegotiation_info is sent, and a HelloRequest is answered with no_renegotiation).

pub(crate) mod client;
mod config;
pub(crate) mod endpoint;
pub(crate) mod incoming;
pub(crate) mod outgoing;
pub(crate) mod records;
pub(crate) mod server;
pub(crate) mod timer;

pub use client::{ClientRole, DtlsClient};
pub use config::{
    DtlsClientConfig, DtlsNegotiated, DtlsServerConfig, DtlsServerNegotiated, DEFAULT_DTLS12_SUITES,
};
pub use endpoint::{Dtls, Role};
pub use server::{verify_client_hello, DtlsServer, HelloVerdict, ServerRole, COOKIE_LEN};
pub use timer::RetransmitConfig;

/// DTLS 1.2 on the wire.
pub(crate) const DTLS12: mote_wire::ProtocolVersion = mote_wire::ProtocolVersion::DTLS12;
