//! KeyUpdate (TLS 1.3, DTLS 1.3): RFC 8446 section 4.6.3, RFC 9147 section 8.
//!
//! ```text
//! enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest;
//! struct { KeyUpdateRequest request_update; } KeyUpdate;
//! ```
//!
//! Values other than 0 and 1 parse (the registry is open) so the dissector can show them;
//! RFC 8446 section 4.6.3 has the receiver answer them with illegal_parameter, which is
//! the engine's decision.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::registry::KeyUpdateRequest;
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUpdate {
    pub request_update: KeyUpdateRequest,
}

impl KeyUpdate {
    pub fn parse(r: &mut Reader<'_, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        Ok(KeyUpdate {
            request_update: r.code::<KeyUpdateRequest>("request_update")?,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.request_update)
    }
}
