//! The TLS and DTLS wire format: parse, emit and explain, without an allocator.
//!
//! Every parser reads through a [`Reader`], which names each field it reads. Errors carry the
//! absolute byte offset, the field path and the numbers that disagree; a [`Sink`] given to the
//! reader receives every field, which is how the dissector builds its tree from the very code
//! the engine parses with. Every message and extension emits through a [`Writer`], and
//! emitting what was parsed gives the same bytes.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod ack;
pub mod alert;
#[cfg(feature = "diagnose")]
mod blame;
pub mod codes;
pub mod context;
pub mod error;
pub mod extensions;
pub mod handshake;
pub mod list;
pub mod reader;
pub mod reassembly;
pub mod record;
pub mod registry;
pub mod sink;
pub mod writer;

pub use alert::{Alert, AlertDescription};
pub use context::{Context, ExtensionContext, KeyExchange};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, Path};
pub use list::{Item, List};
pub use reader::{Bounds, Code, Len, Reader};
pub use registry::*;
pub use sink::{Sink, Value};
pub use writer::Writer;
