//! server_name (RFC 6066 section 3). In a ClientHello the body is a ServerNameList; in a
//! ServerHello or EncryptedExtensions the server acknowledges it with an empty body
//! (handled as [`super::ExtensionBody::Empty`]).

use super::ExtensionBody;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::list::{Item, List, ListIter};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::NameType;
use crate::writer::Writer;

/// One entry of a ServerNameList.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerName<'a> {
    pub name_type: NameType,
    /// The host name for `host_name` (ASCII, without a trailing dot, not checked here);
    /// for other name types, the bytes after their 16-bit length.
    pub name: &'a [u8],
}

impl<'a> ServerName<'a> {
    /// A `host_name` entry.
    pub const fn host_name(name: &'a [u8]) -> Self {
        ServerName {
            name_type: NameType::HOST_NAME,
            name,
        }
    }
}

impl<'a> Item<'a> for ServerName<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        let name_type = r.code::<NameType>("name_type")?;
        let name = if name_type == NameType::HOST_NAME {
            // opaque HostName<1..2^16-1>
            r.opaque_text(
                Len::U16,
                "host_name_length",
                "host_name",
                Bounds::new(1, 0xffff),
            )?
        } else {
            // RFC 6066 section 3: data of future name types must begin with a 16-bit
            // length, so an unknown type can still be stepped over.
            r.opaque(Len::U16, "name_length", "name", Bounds::ANY)?
        };
        Ok(ServerName { name_type, name })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.name_type)?;
        w.opaque(Len::U16, self.name)
    }
}

/// `ServerName server_name_list<1..2^16-1>`.
pub(super) fn read<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    let bounds = Bounds::new(1, 0xffff);
    let raw = r.vector(Len::U16, "list_length", "server_name_list", bounds, |r| {
        let raw = r.peek_rest();
        let start = r.position();
        r.each("server_name", |r, _| {
            let (at, here) = (r.offset(), r.position());
            let sn = ServerName::read(r, ())?;
            // RFC 6066 section 3: "The ServerNameList MUST NOT contain more than one name
            // of the same name_type."
            let mut earlier = ListIter::<ServerName>::Raw(r.earlier(start, here), ());
            if earlier.any(|p| p.name_type == sn.name_type) {
                return Err(r.error_at(
                    at,
                    "name_type",
                    DecodeErrorKind::Duplicate {
                        value: u64::from(sn.name_type.0),
                    },
                ));
            }
            Ok(())
        })?;
        Ok(raw)
    })?;
    Ok(ExtensionBody::ServerNameList(List::Raw(raw, ())))
}
