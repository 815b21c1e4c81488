//! NewConnectionId (DTLS 1.3): RFC 9147 section 9.
//!
//! ```text
//! enum { cid_immediate(0), cid_spare(1), (255) } ConnectionIdUsage;
//! opaque ConnectionId<0..2^8-1>;
//! struct {
//!     ConnectionId cids<0..2^16-1>;
//!     ConnectionIdUsage usage;
//! } NewConnectionId;
//! ```

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

crate::open_enum! {
    /// ConnectionIdUsage (RFC 9147 section 9): whether the new CIDs replace the current one
    /// at once or are spares.
    pub struct ConnectionIdUsage(u8) {
        CID_IMMEDIATE = 0 => "cid_immediate",
        CID_SPARE = 1 => "cid_spare",
    }
}

/// One connection ID: `opaque ConnectionId<0..2^8-1>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionId<'a>(pub &'a [u8]);

impl<'a> Item<'a> for ConnectionId<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque(Len::U8, "cid_length", "cid", Bounds::new(0, 0xff))
            .map(ConnectionId)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U8, self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewConnectionId<'a> {
    pub cids: List<'a, ConnectionId<'a>>,
    pub usage: ConnectionIdUsage,
}

impl<'a> NewConnectionId<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        let cids = List::read(
            r,
            Len::U16,
            "cids_length",
            "cids",
            "cid",
            Bounds::new(0, 0xffff),
            (),
        )?;
        let usage = r.code::<ConnectionIdUsage>("usage")?;
        Ok(NewConnectionId { cids, usage })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.cids.write_prefixed(Len::U16, w)?;
        w.code(self.usage)
    }
}
