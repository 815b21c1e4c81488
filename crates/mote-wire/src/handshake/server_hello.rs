//! ServerHello and HelloRetryRequest: RFC 8446 sections 4.1.3 and 4.1.4, RFC 5246 section
//! 7.4.1.3, RFC 9147 section 5.4.
//!
//! ```text
//! struct {
//!     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
//!     Random random;
//!     opaque legacy_session_id_echo<0..32>;
//!     CipherSuite cipher_suite;
//!     uint8 legacy_compression_method = 0;
//!     Extension extensions<6..2^16-1>;
//! } ServerHello;
//! ```
//!
//! A HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest")
//! (RFC 8446 section 4.1.3); its extensions mean different things (section 4.1.4), so they
//! are parsed in [`ExtensionContext::HelloRetryRequest`]. A TLS 1.2 ServerHello may end
//! after the compression method (RFC 5246 section 7.4.1.3), hence `Option` extensions.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, EncodeError};
use crate::extensions::Extensions;
use crate::reader::{Bounds, Len, Reader};
use crate::registry::{CipherSuite, CompressionMethod, ProtocolVersion};
use crate::writer::Writer;

use super::client_hello::MAX_SESSION_ID;
use super::{read_optional_extensions, write_opaque_max, write_optional_extensions};

/// The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 section
/// 4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The last 8 bytes of a TLS 1.3 server's random when it negotiates TLS 1.2 (RFC 8446
/// section 4.1.3): a client that offered 1.3 must then abort (downgrade protection).
pub const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";
/// The same, when it negotiates TLS 1.1 or below.
pub const DOWNGRADE_TLS11: [u8; 8] = *b"DOWNGRD\x00";

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServerHello<'a> {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub legacy_session_id_echo: &'a [u8],
    pub cipher_suite: CipherSuite,
    pub legacy_compression_method: CompressionMethod,
    /// `None` when the message ends after the compression method.
    pub extensions: Option<Extensions<'a>>,
}

impl<'a> ServerHello<'a> {
    /// True when this is a HelloRetryRequest (RFC 8446 section 4.1.3).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The downgrade sentinel in the random's last 8 bytes, if any (RFC 8446 4.1.3).
    pub fn downgrade_sentinel(&self) -> Option<&'static [u8; 8]> {
        let tail = self.random.get(24..)?;
        if tail == DOWNGRADE_TLS12 {
            Some(&DOWNGRADE_TLS12)
        } else if tail == DOWNGRADE_TLS11 {
            Some(&DOWNGRADE_TLS11)
        } else {
            None
        }
    }

    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        let legacy_version = r.code::<ProtocolVersion>("legacy_version")?;
        let random_at = r.offset();
        let random = *r.array::<32>("random")?;
        let hrr = random == HELLO_RETRY_REQUEST_RANDOM;
        if hrr {
            r.note(
                random_at,
                32,
                "HelloRetryRequest: random is SHA-256(\"HelloRetryRequest\") (RFC 8446 4.1.3)",
            );
        }
        let legacy_session_id_echo = r.opaque(
            Len::U8,
            "legacy_session_id_echo_length",
            "legacy_session_id_echo",
            Bounds::new(0, MAX_SESSION_ID),
        )?;
        let cipher_suite = r.code::<CipherSuite>("cipher_suite")?;
        let legacy_compression_method = r.code::<CompressionMethod>("legacy_compression_method")?;
        let ectx = if hrr {
            ExtensionContext::HelloRetryRequest
        } else {
            ExtensionContext::ServerHello
        };
        let extensions = read_optional_extensions(r, ectx)?;
        let sh = ServerHello {
            legacy_version,
            random,
            legacy_session_id_echo,
            cipher_suite,
            legacy_compression_method,
            extensions,
        };
        if sh.downgrade_sentinel().is_some() {
            r.note(
                random_at + 24,
                8,
                "downgrade sentinel: a TLS 1.3 server negotiated an older version (RFC 8446 4.1.3)",
            );
        }
        Ok(sh)
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.legacy_version)?;
        w.bytes(&self.random)?;
        write_opaque_max(w, Len::U8, MAX_SESSION_ID, self.legacy_session_id_echo)?;
        w.code(self.cipher_suite)?;
        w.code(self.legacy_compression_method)?;
        write_optional_extensions(&self.extensions, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list::List;

    fn hello<'a>(random: [u8; 32]) -> ServerHello<'a> {
        ServerHello {
            legacy_version: ProtocolVersion::TLS12,
            random,
            legacy_session_id_echo: &[],
            cipher_suite: CipherSuite::TLS_AES_128_GCM_SHA256,
            legacy_compression_method: CompressionMethod::NULL,
            extensions: Some(List::Items(&[])),
        }
    }

    #[test]
    fn hello_retry_request_is_recognised_by_its_random() {
        assert!(hello(HELLO_RETRY_REQUEST_RANDOM).is_hello_retry_request());
        assert!(!hello([0; 32]).is_hello_retry_request());
    }

    #[test]
    fn downgrade_sentinels() {
        let mut r = [7u8; 32];
        assert_eq!(hello(r).downgrade_sentinel(), None);
        r[24..].copy_from_slice(&DOWNGRADE_TLS12);
        assert_eq!(hello(r).downgrade_sentinel(), Some(&DOWNGRADE_TLS12));
        r[24..].copy_from_slice(&DOWNGRADE_TLS11);
        assert_eq!(hello(r).downgrade_sentinel(), Some(&DOWNGRADE_TLS11));
    }

    #[test]
    fn emit_then_parse() {
        let sh = hello(HELLO_RETRY_REQUEST_RANDOM);
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        sh.emit(&mut w).unwrap();
        let n = w.len();
        assert_eq!(n, 2 + 32 + 1 + 2 + 1 + 2);
        let back = ServerHello::parse(&mut Reader::new(&out[..n]), &Context::TLS13).unwrap();
        assert_eq!(back, sh);
        assert!(back.is_hello_retry_request());
    }
}
