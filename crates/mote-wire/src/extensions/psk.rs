//! pre_shared_key in a ClientHello (RFC 8446 section 4.2.11): the offered identities and
//! one binder per identity. (The ServerHello form, a bare `uint16 selected_identity`, and
//! psk_key_exchange_modes are read in `mod.rs` and `code_lists.rs`.)

use super::scope::{elements, ends, fills, frame, u16_vector, Elements, Fail, PResult, Tail};
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

const IDENTITY_TAIL: Tail = Tail {
    at: 0,
    len: Len::U16,
    name: "identity_length",
    max: 0xffff,
    after: 4,
};

const BINDER_TAIL: Tail = Tail {
    at: 0,
    len: Len::U8,
    name: "binder_length",
    max: 0xff,
    after: 0,
};

pub(super) fn read_offered<'a>(r: &mut Reader<'a, '_>) -> PResult<ExtensionBody<'a>> {
    let fr = frame(r, Len::U16, "identities_length", Bounds::new(7, 0xffff))?;
    let el = Elements {
        node: Some("identities"),
        item: "psk_identity",
        tail: Some(IDENTITY_TAIL),
    };
    // What follows the identities is exactly the binders vector.
    let identities = elements(r, fr, u16_vector, el, |r, _| {
        PskIdentity::read(r, ())?;
        Ok(())
    })?;
    let bfr = frame(r, Len::U16, "binders_length", Bounds::new(33, 0xffff))?;
    let el = Elements {
        node: Some("binders"),
        item: "binder",
        tail: Some(BINDER_TAIL),
    };
    let binders = elements(r, bfr, ends, el, |r, _| {
        PskBinder::read(r, ())?;
        Ok(())
    })?;
    fills(r, bfr, 1, 0xffff)?;
    let psks = OfferedPsks {
        identities: List::Raw(identities, ()),
        binders: List::Raw(binders, ()),
    };
    // "binders: A series of HMAC values, one for each value in the identities list". A
    // count mismatch is well-formed but inconsistent, hence illegal_parameter (as
    // BoringSSL does); the value reported is the number of binders.
    let (ni, nb) = (psks.identities.len(), psks.binders.len());
    if ni != nb {
        return Err(Fail::Open(r.error_at(
            bfr.len_at,
            bfr.len_name,
            DecodeErrorKind::IllegalValue { value: nb as u64 },
        )));
    }
    Ok(ExtensionBody::PreSharedKeyClientHello(psks))
}
