//! Extensions (RFC 8446 section 4.2 and the RFCs that define each type).
//!
//! PLACEHOLDER: the extension bodies are being filled in; the API below is fixed.

use crate::context::ExtensionContext;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::ExtensionType;
use crate::writer::Writer;

/// The decoded body of an extension.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExtensionBody<'a> {
    /// A type this crate does not decode, or does not decode in this context.
    Unknown(&'a [u8]),
}

/// One extension: its type and body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extension<'a> {
    pub typ: ExtensionType,
    pub body: ExtensionBody<'a>,
}

impl<'a> Item<'a> for Extension<'a> {
    type Ctx = ExtensionContext;
    fn read(r: &mut Reader<'a, '_>, _ctx: ExtensionContext) -> Result<Self, DecodeError> {
        let typ = r.code::<ExtensionType>("type")?;
        let data = r.opaque(Len::U16, "length", "data", Bounds::ANY)?;
        Ok(Extension {
            typ,
            body: ExtensionBody::Unknown(data),
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.typ)?;
        match self.body {
            ExtensionBody::Unknown(b) => w.opaque(Len::U16, b),
        }
    }
}

/// An extension list.
pub type Extensions<'a> = List<'a, Extension<'a>>;

/// Reads `Extension extensions<0..2^16-1>` ("extensions_length", node "extensions", elements
/// "extensions[i]"), refusing duplicate types (RFC 8446 section 4.2: illegal_parameter).
pub fn read_extensions<'a>(
    r: &mut Reader<'a, '_>,
    ctx: ExtensionContext,
) -> Result<Extensions<'a>, DecodeError> {
    let list = List::<Extension>::read(
        r,
        Len::U16,
        "extensions_length",
        "extensions",
        "extensions",
        Bounds::ANY,
        ctx,
    )?;
    // Duplicate check: quadratic, but lists are short and this needs no allocation.
    for (i, a) in list.iter().enumerate() {
        if list.iter().skip(i + 1).any(|b| b.typ == a.typ) {
            return Err(r.error(
                "extensions",
                DecodeErrorKind::Duplicate {
                    value: u64::from(a.typ.0),
                },
            ));
        }
    }
    Ok(list)
}

/// Writes an extension list with its u16 length prefix.
pub fn write_extensions(list: &Extensions<'_>, w: &mut Writer<'_>) -> Result<(), EncodeError> {
    list.write_prefixed(Len::U16, w)
}

impl<'a> List<'a, Extension<'a>> {
    /// The first extension of type `typ`.
    pub fn find(&self, typ: ExtensionType) -> Option<Extension<'a>> {
        self.iter().find(|e| e.typ == typ)
    }
}
