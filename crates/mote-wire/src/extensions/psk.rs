//! pre_shared_key in a ClientHello (RFC 8446 section 4.2.11): the offered identities and
//! one binder per identity. (The ServerHello form, a bare `uint16 selected_identity`, and
//! psk_key_exchange_modes are read in `mod.rs` and `code_lists.rs`.)

use super::ExtensionBody;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

/// `struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PskIdentity<'a> {
    pub identity: &'a [u8],
    pub obfuscated_ticket_age: u32,
}

impl<'a> Item<'a> for PskIdentity<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        let identity = r.opaque(
            Len::U16,
            "identity_length",
            "identity",
            Bounds::new(1, 0xffff),
        )?;
        let obfuscated_ticket_age = r.u32("obfuscated_ticket_age")?;
        Ok(PskIdentity {
            identity,
            obfuscated_ticket_age,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U16, self.identity)?;
        w.u32(self.obfuscated_ticket_age)
    }
}

/// `opaque PskBinderEntry<32..255>;`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PskBinder<'a>(pub &'a [u8]);

impl<'a> Item<'a> for PskBinder<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque(Len::U8, "binder_length", "binder", Bounds::new(32, 255))
            .map(PskBinder)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U8, self.0)
    }
}

/// `struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; }
/// OfferedPsks;`
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OfferedPsks<'a> {
    pub identities: List<'a, PskIdentity<'a>>,
    pub binders: List<'a, PskBinder<'a>>,
}

impl OfferedPsks<'_> {
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.identities.write_prefixed(Len::U16, w)?;
        self.binders.write_prefixed(Len::U16, w)
    }
}

/// Reads the elements of the current scope as `item[i]` with `T::read`, and counts them.
fn count<'a, T: Item<'a, Ctx = ()>>(
    r: &mut Reader<'a, '_>,
    item: &'static str,
) -> Result<(&'a [u8], usize), DecodeError> {
    let raw = r.peek_rest();
    let mut n = 0;
    r.each(item, |r, _| {
        T::read(r, ())?;
        n += 1;
        Ok(())
    })?;
    Ok((raw, n))
}

pub(super) fn read_offered<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    let bounds = Bounds::new(7, 0xffff);
    let (identities, ni) = r.vector(Len::U16, "identities_length", "identities", bounds, |r| {
        count::<PskIdentity>(r, "psk_identity")
    })?;
    let binders_at = r.offset();
    let bounds = Bounds::new(33, 0xffff);
    let (binders, nb) = r.vector(Len::U16, "binders_length", "binders", bounds, |r| {
        count::<PskBinder>(r, "binder")
    })?;
    // "binders: A series of HMAC values, one for each value in the identities list". A
    // count mismatch is well-formed but inconsistent, hence illegal_parameter (as
    // BoringSSL does); the value reported is the number of binders. (Counted while reading:
    // during blame analysis, reading the raw lists again would not see a corrected length.)
    if ni != nb {
        return Err(r.error_at(
            binders_at,
            "binders_length",
            DecodeErrorKind::IllegalValue { value: nb as u64 },
        ));
    }
    Ok(ExtensionBody::PreSharedKeyClientHello(OfferedPsks {
        identities: List::Raw(identities, ()),
        binders: List::Raw(binders, ()),
    }))
}
