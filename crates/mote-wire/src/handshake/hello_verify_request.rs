//! HelloVerifyRequest (DTLS 1.2 only): RFC 6347 section 4.2.1.
//!
//! ```text
//! struct {
//!     ProtocolVersion server_version;
//!     opaque cookie<0..2^8-1>;
//! } HelloVerifyRequest;
//! ```
//!
//! The server answers a cookieless ClientHello with a stateless cookie the client must echo,
//! so that an attacker with a spoofed source address cannot make the server do work or
//! amplify traffic. DTLS 1.3 uses a HelloRetryRequest with a cookie extension instead.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::ProtocolVersion;
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelloVerifyRequest<'a> {
    /// RFC 6347 section 4.2.1: DTLS 1.2 servers should send DTLS 1.0 (0xfeff) here, since
    /// the version is not yet negotiated.
    pub server_version: ProtocolVersion,
    pub cookie: &'a [u8],
}

impl<'a> HelloVerifyRequest<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        let server_version = r.code::<ProtocolVersion>("server_version")?;
        // <0..2^8-1> in DTLS 1.2 (RFC 6347 section 4.2.1); DTLS 1.0 allowed only 32.
        let cookie = r.opaque(Len::U8, "cookie_length", "cookie", Bounds::new(0, 0xff))?;
        Ok(HelloVerifyRequest {
            server_version,
            cookie,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.server_version)?;
        w.opaque(Len::U8, self.cookie)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    #[test]
    fn cookie_longer_than_the_message_is_length_exceeds() {
        let b = [0xfe, 0xff, 0x05, 1, 2, 3];
        let e = HelloVerifyRequest::parse(&mut Reader::new(&b), &Context::DTLS12).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthExceeds {
                declared: 5,
                available: 3
            }
        );
    }

    #[test]
    fn round_trip() {
        let b = [0xfe, 0xff, 0x02, 0xaa, 0xbb];
        let m = HelloVerifyRequest::parse(&mut Reader::new(&b), &Context::DTLS12).unwrap();
        assert_eq!(m.server_version, ProtocolVersion::DTLS10);
        assert_eq!(m.cookie, &[0xaa, 0xbb]);
        let mut out = [0u8; 8];
        let mut w = Writer::new(&mut out);
        m.emit(&mut w).unwrap();
        assert_eq!(w.written(), &b);
    }
}
