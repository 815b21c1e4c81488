//! RequestConnectionId (DTLS 1.3): RFC 9147 section 9.
//!
//! ```text
//! struct {
//!   uint8 num_cids;
//! } RequestConnectionId;
//! ```
//!
//! Asks the peer for spare connection IDs, to be sent in a NewConnectionId.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestConnectionId {
    pub num_cids: u8,
}

impl RequestConnectionId {
    pub fn parse(r: &mut Reader<'_, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        Ok(RequestConnectionId {
            num_cids: r.u8("num_cids")?,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(self.num_cids)
    }
}
