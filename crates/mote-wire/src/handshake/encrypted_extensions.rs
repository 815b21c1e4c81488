//! EncryptedExtensions (TLS 1.3, DTLS 1.3): RFC 8446 section 4.3.1.
//!
//! ```text
//! struct {
//!     Extension extensions<0..2^16-1>;
//! } EncryptedExtensions;
//! ```
//!
//! The extensions that need no per-certificate context and are not needed to set up keys,
//! sent encrypted under the handshake keys.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, EncodeError};
use crate::extensions::{read_extensions, write_extensions, Extensions};
use crate::reader::Reader;
use crate::writer::Writer;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncryptedExtensions<'a> {
    pub extensions: Extensions<'a>,
}

impl<'a> EncryptedExtensions<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        Ok(EncryptedExtensions {
            extensions: read_extensions(r, ExtensionContext::EncryptedExtensions)?,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        write_extensions(&self.extensions, w)
    }
}
