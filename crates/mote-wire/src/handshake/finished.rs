//! Finished: RFC 8446 section 4.4.4, RFC 5246 section 7.4.9.
//!
//! ```text
//! struct {
//!     opaque verify_data[Hash.length];          // TLS 1.3
//!     opaque verify_data[verify_data_length];   // TLS 1.2 (12 unless the suite says)
//! } Finished;
//! ```
//!
//! The size depends on the negotiated hash (or cipher suite), which the wire format does
//! not carry, so verify_data is the rest of the body; the engine checks its length when it
//! verifies it.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished<'a> {
    pub verify_data: &'a [u8],
}

impl<'a> Finished<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        Ok(Finished {
            verify_data: r.rest("verify_data"),
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.bytes(self.verify_data)
    }
}
