//! key_share (RFC 8446 section 4.2.8): the client's shares, the server's share, or in a
//! HelloRetryRequest the group the server wants a share for.

use super::ExtensionBody;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::list::{Item, List, ListIter};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::NamedGroup;
use crate::writer::Writer;

/// `struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyShareEntry<'a> {
    pub group: NamedGroup,
    pub key_exchange: &'a [u8],
}

const KEY_EXCHANGE: Bounds = Bounds::new(1, 0xffff);

impl<'a> Item<'a> for KeyShareEntry<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        let group = r.code::<NamedGroup>("group")?;
        let key_exchange = r.opaque(
            Len::U16,
            "key_exchange_length",
            "key_exchange",
            KEY_EXCHANGE,
        )?;
        Ok(KeyShareEntry {
            group,
            key_exchange,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.group)?;
        w.opaque(Len::U16, self.key_exchange)
    }
}

/// ClientHello: `KeyShareEntry client_shares<0..2^16-1>`.
pub(super) fn read_client<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    let node = "client_shares";
    let raw = r.vector(Len::U16, "client_shares_length", node, Bounds::ANY, |r| {
        let raw = r.peek_rest();
        let start = r.position();
        r.each("key_share_entry", |r, _| {
            let (at, here) = (r.offset(), r.position());
            let entry = KeyShareEntry::read(r, ())?;
            // "Clients MUST NOT offer multiple KeyShareEntry values for the same group ...
            // Servers MAY check for violations of these rules and abort the handshake with
            // an "illegal_parameter" alert."
            let mut earlier = ListIter::<KeyShareEntry>::Raw(r.earlier(start, here), ());
            if earlier.any(|e| e.group == entry.group) {
                return Err(r.error_at(
                    at,
                    "group",
                    DecodeErrorKind::Duplicate {
                        value: u64::from(entry.group.0),
                    },
                ));
            }
            Ok(())
        })?;
        Ok(raw)
    })?;
    Ok(ExtensionBody::KeyShareClientHello(List::Raw(raw, ())))
}

/// ServerHello: `KeyShareEntry server_share`, read in node "server_share".
pub(super) fn read_server<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    let entry = r.node("server_share", None, |r| KeyShareEntry::read(r, ()))?;
    Ok(ExtensionBody::KeyShareServerHello(entry))
}
