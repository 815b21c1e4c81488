//! CertificateRequest: RFC 5246 section 7.4.4 (TLS 1.2), RFC 8446 section 4.3.2 (TLS 1.3).
//!
//! ```text
//! opaque DistinguishedName<1..2^16-1>;
//! struct {                                                    // TLS 1.2
//!     ClientCertificateType certificate_types<1..2^8-1>;
//!     SignatureAndHashAlgorithm
//!       supported_signature_algorithms<2..2^16-2>;
//!     DistinguishedName certificate_authorities<0..2^16-1>;
//! } CertificateRequest;
//!
//! struct {                                                    // TLS 1.3
//!     opaque certificate_request_context<0..2^8-1>;
//!     Extension extensions<2..2^16-1>;
//! } CertificateRequest;
//! ```
//!
//! (RFC 5246 section 7.4.4 writes the algorithms as `<2^16-1>`; section 7.4.1.4.1 gives
//! the vector as `<2..2^16-2>`, which is what a list of two-byte pairs allows.) TLS 1.3 moved
//! all three TLS 1.2 fields into extensions, which must include signature_algorithms, so the
//! list cannot be empty: the `<2..>` bound is checked here; which extensions are present is
//! the engine's check.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::extensions::{read_extensions, write_extensions, Extensions};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::{ClientCertificateType, SignatureScheme};
use crate::writer::Writer;

/// A DER-encoded X.501 distinguished name: `opaque DistinguishedName<1..2^16-1>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistinguishedName<'a>(pub &'a [u8]);

impl<'a> Item<'a> for DistinguishedName<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque(
            Len::U16,
            "distinguished_name_length",
            "distinguished_name",
            Bounds::new(1, 0xffff),
        )
        .map(DistinguishedName)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U16, self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CertificateRequest<'a> {
    /// TLS 1.2 and DTLS 1.2.
    Tls12 {
        certificate_types: List<'a, ClientCertificateType>,
        supported_signature_algorithms: List<'a, SignatureScheme>,
        certificate_authorities: List<'a, DistinguishedName<'a>>,
    },
    /// TLS 1.3 and DTLS 1.3.
    Tls13 {
        certificate_request_context: &'a [u8],
        extensions: Extensions<'a>,
    },
}

impl<'a> CertificateRequest<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self, DecodeError> {
        if ctx.is_tls13() {
            let certificate_request_context = r.opaque(
                Len::U8,
                "certificate_request_context_length",
                "certificate_request_context",
                Bounds::new(0, 0xff),
            )?;
            let len_at = r.offset();
            let extensions = read_extensions(r, ExtensionContext::CertificateRequest)?;
            if extensions.is_empty() {
                return Err(r.error_at(
                    len_at,
                    "extensions_length",
                    DecodeErrorKind::LengthOutOfRange {
                        len: 0,
                        min: 2,
                        max: 0xffff,
                    },
                ));
            }
            return Ok(CertificateRequest::Tls13 {
                certificate_request_context,
                extensions,
            });
        }
        let types = r.code_list::<ClientCertificateType>(
            Len::U8,
            "certificate_types_length",
            "certificate_types",
            "certificate_type",
            Bounds::new(1, 0xff),
        )?;
        let algs = r.code_list::<SignatureScheme>(
            Len::U16,
            "supported_signature_algorithms_length",
            "supported_signature_algorithms",
            "signature_algorithm",
            Bounds::new(2, 0xfffe),
        )?;
        let certificate_authorities = List::read(
            r,
            Len::U16,
            "certificate_authorities_length",
            "certificate_authorities",
            "distinguished_name",
            Bounds::new(0, 0xffff),
            (),
        )?;
        Ok(CertificateRequest::Tls12 {
            certificate_types: List::Raw(types, "certificate_type"),
            supported_signature_algorithms: List::Raw(algs, "signature_algorithm"),
            certificate_authorities,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            CertificateRequest::Tls12 {
                certificate_types,
                supported_signature_algorithms,
                certificate_authorities,
            } => {
                certificate_types.write_prefixed(Len::U8, w)?;
                supported_signature_algorithms.write_prefixed(Len::U16, w)?;
                certificate_authorities.write_prefixed(Len::U16, w)
            }
            CertificateRequest::Tls13 {
                certificate_request_context,
                extensions,
            } => {
                w.opaque(Len::U8, certificate_request_context)?;
                write_extensions(extensions, w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls13_needs_at_least_one_extension() {
        let b = [0, 0, 0];
        let e = CertificateRequest::parse(&mut Reader::new(&b), &Context::TLS13).unwrap_err();
        assert_eq!(e.offset, 1);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 0,
                min: 2,
                max: 0xffff
            }
        );
    }

    #[test]
    fn tls12_odd_algorithms_length() {
        // certificate_types [rsa_sign], algorithms length 3.
        let b = [1, 1, 0, 3, 4, 1, 4, 0, 0];
        let e = CertificateRequest::parse(&mut Reader::new(&b), &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(e.kind, DecodeErrorKind::NotMultiple { len: 3, unit: 2 });
    }
}
