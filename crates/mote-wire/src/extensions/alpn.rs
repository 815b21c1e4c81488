//! application_layer_protocol_negotiation (RFC 7301 section 3.1): the client's list of
//! protocols, or in a ServerHello or EncryptedExtensions the one the server selected (a
//! list of exactly one name; the count is the engine's to check, not the grammar's).

use super::ExtensionBody;
use crate::error::{DecodeError, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

/// `opaque ProtocolName<1..2^8-1>;` such as `h2` or `http/1.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolName<'a>(pub &'a [u8]);

impl<'a> Item<'a> for ProtocolName<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque_text(Len::U8, "name_length", "name", Bounds::new(1, 0xff))
            .map(ProtocolName)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U8, self.0)
    }
}

/// `ProtocolName protocol_name_list<2..2^16-1>`.
pub(super) fn read<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    List::read(
        r,
        Len::U16,
        "protocol_name_list_length",
        "protocol_name_list",
        "protocol_name",
        Bounds::new(2, 0xffff),
        (),
    )
    .map(ExtensionBody::ProtocolNameList)
}
