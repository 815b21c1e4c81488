//! NewSessionTicket: RFC 5077 section 3.3 (TLS 1.2), RFC 8446 section 4.6.1 (TLS 1.3).
//!
//! ```text
//! struct {                                          // TLS 1.2 (RFC 5077)
//!     uint32 ticket_lifetime_hint;
//!     opaque ticket<0..2^16-1>;
//! } NewSessionTicket;
//!
//! struct {                                          // TLS 1.3
//!     uint32 ticket_lifetime;
//!     uint32 ticket_age_add;
//!     opaque ticket_nonce<0..255>;
//!     opaque ticket<1..2^16-1>;
//!     Extension extensions<0..2^16-2>;
//! } NewSessionTicket;
//! ```
//!
//! The same message type with two unrelated bodies: the negotiated version decides.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, EncodeError};
use crate::extensions::{read_extensions, write_extensions, Extensions};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NewSessionTicket<'a> {
    /// TLS 1.2 session ticket (RFC 5077 section 3.3). An empty ticket tells the client the
    /// server will not resume with the ticket it sent.
    Tls12 {
        ticket_lifetime_hint: u32,
        ticket: &'a [u8],
    },
    /// TLS 1.3 ticket (RFC 8446 section 4.6.1).
    Tls13 {
        ticket_lifetime: u32,
        ticket_age_add: u32,
        ticket_nonce: &'a [u8],
        ticket: &'a [u8],
        extensions: Extensions<'a>,
    },
}

impl<'a> NewSessionTicket<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self, DecodeError> {
        if !ctx.is_tls13() {
            let ticket_lifetime_hint = r.u32("ticket_lifetime_hint")?;
            let ticket = r.opaque(Len::U16, "ticket_length", "ticket", Bounds::new(0, 0xffff))?;
            return Ok(NewSessionTicket::Tls12 {
                ticket_lifetime_hint,
                ticket,
            });
        }
        let ticket_lifetime = r.u32("ticket_lifetime")?;
        let ticket_age_add = r.u32("ticket_age_add")?;
        let ticket_nonce = r.opaque(
            Len::U8,
            "ticket_nonce_length",
            "ticket_nonce",
            Bounds::new(0, 0xff),
        )?;
        let ticket = r.opaque(Len::U16, "ticket_length", "ticket", Bounds::new(1, 0xffff))?;
        let extensions = read_extensions(r, ExtensionContext::NewSessionTicket)?;
        Ok(NewSessionTicket::Tls13 {
            ticket_lifetime,
            ticket_age_add,
            ticket_nonce,
            ticket,
            extensions,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            NewSessionTicket::Tls12 {
                ticket_lifetime_hint,
                ticket,
            } => {
                w.u32(*ticket_lifetime_hint)?;
                w.opaque(Len::U16, ticket)
            }
            NewSessionTicket::Tls13 {
                ticket_lifetime,
                ticket_age_add,
                ticket_nonce,
                ticket,
                extensions,
            } => {
                w.u32(*ticket_lifetime)?;
                w.u32(*ticket_age_add)?;
                w.opaque(Len::U8, ticket_nonce)?;
                w.opaque(Len::U16, ticket)?;
                write_extensions(extensions, w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    #[test]
    fn tls12_shape() {
        let b = [0, 0, 0x1c, 0x20, 0, 2, 0xaa, 0xbb];
        let t = NewSessionTicket::parse(&mut Reader::new(&b), &Context::TLS12).unwrap();
        assert_eq!(
            t,
            NewSessionTicket::Tls12 {
                ticket_lifetime_hint: 7200,
                ticket: &[0xaa, 0xbb]
            }
        );
        let mut out = [0u8; 16];
        let mut w = Writer::new(&mut out);
        t.emit(&mut w).unwrap();
        assert_eq!(w.written(), &b);
    }

    #[test]
    fn tls13_empty_ticket_is_out_of_range() {
        let b = [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0];
        let e = NewSessionTicket::parse(&mut Reader::new(&b), &Context::TLS13).unwrap_err();
        assert_eq!(e.offset, 9);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 0,
                min: 1,
                max: 0xffff
            }
        );
    }
}
