//! certificate_authorities (RFC 8446 section 4.2.4): the distinguished names of the CAs the
//! sender accepts, in a ClientHello or CertificateRequest.

use super::ExtensionBody;
use crate::error::{DecodeError, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

/// `opaque DistinguishedName<1..2^16-1>;` a DER-encoded X.501 Name, kept as bytes (decoding
/// it is mote-x509's business).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistinguishedName<'a>(pub &'a [u8]);

impl<'a> Item<'a> for DistinguishedName<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque(Len::U16, "name_length", "name", Bounds::new(1, 0xffff))
            .map(DistinguishedName)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U16, self.0)
    }
}

/// `DistinguishedName authorities<3..2^16-1>`.
pub(super) fn read<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    List::read(
        r,
        Len::U16,
        "authorities_length",
        "authorities",
        "distinguished_name",
        Bounds::new(3, 0xffff),
        (),
    )
    .map(ExtensionBody::CertificateAuthorities)
}
