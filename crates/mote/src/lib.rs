//! mote: a sans-I/O TLS and DTLS engine for microcontrollers: `no_std`, no allocator, no
//! `unsafe`, caller-owned buffers, time and randomness supplied by the caller.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

mod buffers;
pub mod client;
pub mod config;
mod connection;
pub mod dtls;
pub mod error;
pub mod key_schedule;
pub mod record_layer;
pub mod server;
mod time;
mod transcript;

pub use client::{Client, Negotiated, Status};
#[cfg(feature = "x509")]
pub use config::ClientAuth;
pub use config::{
    CertificateObserver, ClientConfig, ClientIdentity, ExternalPsk, KeyLog, ServerConfig,
    ServerIdentity, TicketKey, TicketRef, TicketStore,
};
pub use connection::Connection;
pub use dtls::{
    DtlsClient, DtlsClientConfig, DtlsNegotiated, DtlsServer, DtlsServerConfig,
    DtlsServerNegotiated, RetransmitConfig,
};
pub use error::{ApiMisuse, Error, Incompatible, PeerMisbehaved};
pub use server::{ClientId, Server};
pub use time::UnixTime;
