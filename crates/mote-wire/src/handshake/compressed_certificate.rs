//! CompressedCertificate (TLS 1.3): RFC 8879 section 4.
//!
//! ```text
//! struct {
//!      CertificateCompressionAlgorithm algorithm;
//!      uint24 uncompressed_length;
//!      opaque compressed_certificate_message<1..2^24-1>;
//! } CompressedCertificate;
//! ```
//!
//! Replaces a Certificate message when both sides offered compress_certificate. The
//! compressed bytes are kept as they are: decompressing is the engine's business, and the
//! result is an ordinary Certificate body.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

crate::open_enum! {
    /// CertificateCompressionAlgorithm (RFC 8879 section 7.3).
    pub struct CertificateCompressionAlgorithm(u16) {
        ZLIB = 1 => "zlib",
        BROTLI = 2 => "brotli",
        ZSTD = 3 => "zstd",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressedCertificate<'a> {
    pub algorithm: CertificateCompressionAlgorithm,
    pub uncompressed_length: u32,
    pub compressed_certificate_message: &'a [u8],
}

impl<'a> CompressedCertificate<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        Ok(CompressedCertificate {
            algorithm: r.code::<CertificateCompressionAlgorithm>("algorithm")?,
            uncompressed_length: r.u24("uncompressed_length")?,
            compressed_certificate_message: r.opaque(
                Len::U24,
                "compressed_certificate_message_length",
                "compressed_certificate_message",
                Bounds::new(1, 0xff_ffff),
            )?,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.algorithm)?;
        w.u24(self.uncompressed_length)?;
        w.opaque(Len::U24, self.compressed_certificate_message)
    }
}
