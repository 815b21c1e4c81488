//! CertificateVerify: RFC 8446 section 4.4.3, RFC 5246 section 7.4.8; and the
//! `digitally-signed` encoding both share with ServerKeyExchange (RFC 5246 section 4.7).
//!
//! ```text
//! struct {
//!     SignatureScheme algorithm;
//!     opaque signature<0..2^16-1>;
//! } CertificateVerify;
//! ```
//!
//! TLS 1.2's `digitally-signed` element is a SignatureAndHashAlgorithm (two bytes, the same
//! code space as TLS 1.3's SignatureScheme) followed by `opaque signature<0..2^16-1>`, so one
//! type serves both versions. (TLS 1.0 and 1.1 had no algorithm field; mote does not speak
//! them.)

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::SignatureScheme;
use crate::writer::Writer;

/// A signature and the algorithm that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigitallySigned<'a> {
    pub algorithm: SignatureScheme,
    pub signature: &'a [u8],
}

impl<'a> DigitallySigned<'a> {
    /// Reads `algorithm`, `signature_length` and `signature` in the current node.
    pub fn read(r: &mut Reader<'a, '_>) -> Result<Self, DecodeError> {
        let algorithm = r.code::<SignatureScheme>("algorithm")?;
        let signature = r.opaque(
            Len::U16,
            "signature_length",
            "signature",
            Bounds::new(0, 0xffff),
        )?;
        Ok(DigitallySigned {
            algorithm,
            signature,
        })
    }

    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.algorithm)?;
        w.opaque(Len::U16, self.signature)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertificateVerify<'a> {
    pub algorithm: SignatureScheme,
    pub signature: &'a [u8],
}

impl<'a> CertificateVerify<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        let DigitallySigned {
            algorithm,
            signature,
        } = DigitallySigned::read(r)?;
        Ok(CertificateVerify {
            algorithm,
            signature,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        DigitallySigned {
            algorithm: self.algorithm,
            signature: self.signature,
        }
        .write(w)
    }
}
