//! ClientHello: RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2; in DTLS with a cookie
//! after the session id (RFC 6347 section 4.2.1, RFC 9147 section 5.3).
//!
//! ```text
//! struct {
//!     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//!     Random random;
//!     opaque legacy_session_id<0..32>;
//!     opaque legacy_cookie<0..2^8-1>;             // DTLS only
//!     CipherSuite cipher_suites<2..2^16-2>;
//!     opaque legacy_compression_methods<1..2^8-1>;
//!     Extension extensions<8..2^16-1>;
//! } ClientHello;
//! ```
//!
//! The shape is the same in every version, which is what lets a server read it before any
//! version is negotiated. Extensions may be absent (a TLS 1.2 or older client, RFC 5246
//! section 7.4.1.2: "the presence of extensions can be detected by determining whether
//! there are bytes following the compression_methods"), so they are an `Option`.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, EncodeError};
use crate::extensions::Extensions;
use crate::list::List;
use crate::reader::{Bounds, Len, Reader};
use crate::registry::{CipherSuite, CompressionMethod, ProtocolVersion};
use crate::writer::Writer;

use super::{read_optional_extensions, write_opaque_max, write_optional_extensions};

/// Largest legacy_session_id (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2).
pub const MAX_SESSION_ID: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClientHello<'a> {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub legacy_session_id: &'a [u8],
    /// The DTLS cookie (`legacy_cookie` in DTLS 1.3, which always sends it empty);
    /// `None` in TLS, where the field does not exist.
    pub cookie: Option<&'a [u8]>,
    pub cipher_suites: List<'a, CipherSuite>,
    pub legacy_compression_methods: List<'a, CompressionMethod>,
    /// `None` when the message ends after the compression methods.
    pub extensions: Option<Extensions<'a>>,
}

impl<'a> ClientHello<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self, DecodeError> {
        let legacy_version = r.code::<ProtocolVersion>("legacy_version")?;
        let random = *r.array::<32>("random")?;
        let legacy_session_id = r.opaque(
            Len::U8,
            "legacy_session_id_length",
            "legacy_session_id",
            Bounds::new(0, MAX_SESSION_ID),
        )?;
        let cookie = if ctx.dtls {
            Some(r.opaque(Len::U8, "cookie_length", "cookie", Bounds::new(0, 0xff))?)
        } else {
            None
        };
        // The unit of 2 (one CipherSuite) makes an odd length NotMultiple.
        let suites = r.code_list::<CipherSuite>(
            Len::U16,
            "cipher_suites_length",
            "cipher_suites",
            "cipher_suite",
            Bounds::new(2, 0xfffe),
        )?;
        let methods = r.code_list::<CompressionMethod>(
            Len::U8,
            "legacy_compression_methods_length",
            "legacy_compression_methods",
            "legacy_compression_method",
            Bounds::new(1, 0xff),
        )?;
        let extensions = read_optional_extensions(r, ExtensionContext::ClientHello)?;
        Ok(ClientHello {
            legacy_version,
            random,
            legacy_session_id,
            cookie,
            cipher_suites: List::Raw(suites, "cipher_suite"),
            legacy_compression_methods: List::Raw(methods, "legacy_compression_method"),
            extensions,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.legacy_version)?;
        w.bytes(&self.random)?;
        write_opaque_max(w, Len::U8, MAX_SESSION_ID, self.legacy_session_id)?;
        if let Some(cookie) = self.cookie {
            w.opaque(Len::U8, cookie)?;
        }
        self.cipher_suites.write_prefixed(Len::U16, w)?;
        self.legacy_compression_methods.write_prefixed(Len::U8, w)?;
        write_optional_extensions(&self.extensions, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use crate::handshake::HandshakeMessage;
    use crate::registry::HandshakeType;
    use std::vec::Vec;

    /// A minimal TLS 1.2 ClientHello body: no session id, one suite, null compression,
    /// no extensions.
    fn minimal() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&[0x03, 0x03]);
        b.extend_from_slice(&[0x11; 32]);
        b.extend_from_slice(&[0x00, 0x00, 0x02, 0x13, 0x01, 0x01, 0x00]);
        b
    }

    fn parse<'a>(b: &'a [u8], ctx: &Context) -> Result<HandshakeMessage<'a>, DecodeError> {
        HandshakeMessage::parse_body(HandshakeType::CLIENT_HELLO, &mut Reader::new(b), ctx)
    }

    #[test]
    fn absent_and_empty_extensions_round_trip() {
        let b = minimal();
        let Ok(HandshakeMessage::ClientHello(ch)) = parse(&b, &Context::TLS12) else {
            panic!("parse")
        };
        assert!(ch.extensions.is_none());
        assert_eq!(ch.cookie, None);
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        ch.emit(&mut w).unwrap();
        assert_eq!(w.written(), &b[..]);

        let mut b2 = b.clone();
        b2.extend_from_slice(&[0, 0]);
        let Ok(HandshakeMessage::ClientHello(ch)) = parse(&b2, &Context::TLS12) else {
            panic!("parse")
        };
        assert!(ch.extensions.is_some_and(|e| e.is_empty()));
        let mut w = Writer::new(&mut out);
        ch.emit(&mut w).unwrap();
        assert_eq!(w.written(), &b2[..]);
    }

    #[test]
    fn odd_cipher_suites_length_is_not_multiple() {
        let mut b = minimal();
        // cipher_suites_length 3 at offset 35, plus a third byte.
        b[36] = 3;
        b.insert(39, 0x02);
        let e = parse(&b, &Context::TLS12).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NotMultiple { len: 3, unit: 2 });
        assert_eq!(e.offset, 35);
        assert_eq!(
            std::format!("{}", e.path),
            "client_hello.cipher_suites_length"
        );
    }

    #[test]
    fn empty_cipher_suites_and_long_session_id_are_out_of_range() {
        let mut b = minimal();
        b[35] = 0;
        b[36] = 0;
        b.drain(37..39);
        let e = parse(&b, &Context::TLS12).unwrap_err();
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 0,
                min: 2,
                max: 0xfffe
            }
        );

        let mut b = minimal();
        b[34] = 33;
        b.splice(35..35, [0u8; 33]);
        let e = parse(&b, &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 34);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 33,
                min: 0,
                max: 32
            }
        );
    }

    #[test]
    fn dtls_has_a_cookie() {
        let mut b = minimal();
        b.splice(35..35, [2u8, 0xaa, 0xbb]);
        let Ok(HandshakeMessage::ClientHello(ch)) = parse(&b, &Context::DTLS12) else {
            panic!("parse")
        };
        assert_eq!(ch.cookie, Some(&[0xaa, 0xbb][..]));
        // The same bytes read as TLS put the cookie where the suites should be.
        assert!(parse(&b, &Context::TLS12).is_err());
    }

    #[test]
    fn emit_refuses_a_long_session_id() {
        let b = minimal();
        let Ok(HandshakeMessage::ClientHello(mut ch)) = parse(&b, &Context::TLS12) else {
            panic!("parse")
        };
        let sid = [0u8; 33];
        ch.legacy_session_id = &sid;
        let mut out = [0u8; 128];
        assert_eq!(
            ch.emit(&mut Writer::new(&mut out)),
            Err(EncodeError::TooLong { len: 33, max: 32 })
        );
    }

    #[test]
    fn trailing_byte_after_extensions_is_an_error() {
        let mut b = minimal();
        b.extend_from_slice(&[0, 0, 0x42]);
        let e = parse(&b, &Context::TLS12).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedTrailing { count: 1 });
        assert_eq!(e.offset, b.len() - 1);
    }
}
