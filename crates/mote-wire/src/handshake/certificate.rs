//! Certificate: RFC 5246 section 7.4.2 (TLS 1.2), RFC 8446 section 4.4.2 (TLS 1.3), and
//! raw public keys in place of certificates (RFC 7250 section 3).
//!
//! ```text
//! opaque ASN.1Cert<1..2^24-1>;
//! struct {                                          // TLS 1.2
//!     ASN.1Cert certificate_list<0..2^24-1>;
//! } Certificate;
//!
//! struct {                                          // TLS 1.2, RFC 7250 RawPublicKey
//!     opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>;
//! } Certificate;
//!
//! struct {                                          // TLS 1.3
//!     select (certificate_type) {
//!         case RawPublicKey: opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;
//!         case X509:         opaque cert_data<1..2^24-1>;
//!     };
//!     Extension extensions<0..2^16-1>;
//! } CertificateEntry;
//! struct {
//!     opaque certificate_request_context<0..2^8-1>;
//!     CertificateEntry certificate_list<0..2^24-1>;
//! } Certificate;
//! ```
//!
//! Which shape applies is not on the wire: the negotiated version and the certificate type
//! (from the server_certificate_type / client_certificate_type extensions) decide, and come
//! from the [`Context`]. With raw public keys, TLS 1.2 sends one SubjectPublicKeyInfo instead
//! of a list; TLS 1.3 keeps the list and only the entry's meaning changes.

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, EncodeError};
use crate::extensions::{read_extensions, write_extensions, Extensions};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::CertificateType;
use crate::writer::Writer;

/// `<1..2^24-1>`: certificates and keys are never empty.
const CERT_BOUNDS: Bounds = Bounds::new(1, 0xff_ffff);
/// `<0..2^24-1>`: an empty list is how a client declines to authenticate.
const LIST_BOUNDS: Bounds = Bounds::new(0, 0xff_ffff);

/// One DER certificate of a TLS 1.2 chain: `opaque ASN.1Cert<1..2^24-1>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asn1Cert<'a>(pub &'a [u8]);

impl<'a> Item<'a> for Asn1Cert<'a> {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        r.opaque(Len::U24, "asn1_cert_length", "asn1_cert", CERT_BOUNDS)
            .map(Asn1Cert)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U24, self.0)
    }
}

/// A TLS 1.3 CertificateEntry. Read with the sender's certificate type, which only renames
/// `data`: a DER certificate (X509) or a DER SubjectPublicKeyInfo (RawPublicKey).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CertificateEntry<'a> {
    pub data: &'a [u8],
    pub extensions: Extensions<'a>,
}

impl<'a> Item<'a> for CertificateEntry<'a> {
    type Ctx = CertificateType;
    fn read(r: &mut Reader<'a, '_>, cert_type: CertificateType) -> Result<Self, DecodeError> {
        let data = if cert_type == CertificateType::RAW_PUBLIC_KEY {
            r.opaque(
                Len::U24,
                "asn1_subject_public_key_info_length",
                "asn1_subject_public_key_info",
                CERT_BOUNDS,
            )?
        } else {
            r.opaque(Len::U24, "cert_data_length", "cert_data", CERT_BOUNDS)?
        };
        let extensions = read_extensions(r, ExtensionContext::Certificate)?;
        Ok(CertificateEntry { data, extensions })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.opaque(Len::U24, self.data)?;
        write_extensions(&self.extensions, w)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Certificate<'a> {
    /// TLS 1.2 (and DTLS 1.2) X.509 chain, sender's certificate first (RFC 5246 7.4.2).
    Tls12 {
        certificate_list: List<'a, Asn1Cert<'a>>,
    },
    /// TLS 1.2 with RFC 7250 raw public keys: the key alone, no list.
    Tls12RawPublicKey {
        asn1_subject_public_key_info: &'a [u8],
    },
    /// TLS 1.3 (and DTLS 1.3). The context echoes a post-handshake CertificateRequest's and
    /// is empty during the handshake (RFC 8446 section 4.4.2).
    Tls13 {
        certificate_request_context: &'a [u8],
        certificate_list: List<'a, CertificateEntry<'a>>,
    },
}

impl<'a> Certificate<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self, DecodeError> {
        let rpk = ctx.cert_type == CertificateType::RAW_PUBLIC_KEY;
        if ctx.is_tls13() {
            let certificate_request_context = r.opaque(
                Len::U8,
                "certificate_request_context_length",
                "certificate_request_context",
                Bounds::new(0, 0xff),
            )?;
            let certificate_list = List::read(
                r,
                Len::U24,
                "certificate_list_length",
                "certificate_list",
                "certificate_entry",
                LIST_BOUNDS,
                ctx.cert_type,
            )?;
            Ok(Certificate::Tls13 {
                certificate_request_context,
                certificate_list,
            })
        } else if rpk {
            let asn1_subject_public_key_info = r.opaque(
                Len::U24,
                "asn1_subject_public_key_info_length",
                "asn1_subject_public_key_info",
                CERT_BOUNDS,
            )?;
            Ok(Certificate::Tls12RawPublicKey {
                asn1_subject_public_key_info,
            })
        } else {
            let certificate_list = List::read(
                r,
                Len::U24,
                "certificate_list_length",
                "certificate_list",
                "asn1_cert",
                LIST_BOUNDS,
                (),
            )?;
            Ok(Certificate::Tls12 { certificate_list })
        }
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Certificate::Tls12 { certificate_list } => certificate_list.write_prefixed(Len::U24, w),
            Certificate::Tls12RawPublicKey {
                asn1_subject_public_key_info,
            } => w.opaque(Len::U24, asn1_subject_public_key_info),
            Certificate::Tls13 {
                certificate_request_context,
                certificate_list,
            } => {
                w.opaque(Len::U8, certificate_request_context)?;
                certificate_list.write_prefixed(Len::U24, w)
            }
        }
    }

    /// Number of certificates (or keys) carried.
    pub fn len(&self) -> usize {
        match self {
            Certificate::Tls12 { certificate_list } => certificate_list.len(),
            Certificate::Tls12RawPublicKey { .. } => 1,
            Certificate::Tls13 {
                certificate_list, ..
            } => certificate_list.len(),
        }
    }

    /// True when no certificate is sent (a client declining to authenticate).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The end-entity certificate (or raw key): the first of the list (RFC 8446 4.4.2,
    /// RFC 5246 7.4.2: "the sender's certificate MUST come first in the list").
    pub fn end_entity(&self) -> Option<&'a [u8]> {
        match self {
            Certificate::Tls12 { certificate_list } => certificate_list.iter().next().map(|c| c.0),
            Certificate::Tls12RawPublicKey {
                asn1_subject_public_key_info,
            } => Some(asn1_subject_public_key_info),
            Certificate::Tls13 {
                certificate_list, ..
            } => certificate_list.iter().next().map(|e| e.data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;

    fn parse<'a>(b: &'a [u8], ctx: &Context) -> Result<Certificate<'a>, DecodeError> {
        let mut r = Reader::new(b);
        let c = Certificate::parse(&mut r, ctx)?;
        r.expect_end("")?;
        Ok(c)
    }

    fn emit(c: &Certificate<'_>) -> std::vec::Vec<u8> {
        let mut out = [0u8; 256];
        let mut w = Writer::new(&mut out);
        c.emit(&mut w).unwrap();
        w.written().to_vec()
    }

    #[test]
    fn tls12_chain_and_empty_chain() {
        let b = [0, 0, 8, 0, 0, 2, 0xaa, 0xbb, 0, 0, 0, 0, 0, 1, 0xcc];
        // The second certificate has length 0, which <1..2^24-1> forbids.
        let e = parse(&b[..8 + 3], &Context::TLS12);
        assert!(e.is_err());
        let b = [0, 0, 9, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc];
        let c = parse(&b, &Context::TLS12).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.end_entity(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(emit(&c), b);
        let c = parse(&[0, 0, 0], &Context::TLS12).unwrap();
        assert!(c.is_empty());
    }

    #[test]
    fn zero_length_certificate_is_out_of_range() {
        let b = [0, 0, 3, 0, 0, 0];
        let e = parse(&b, &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 0,
                min: 1,
                max: 0xff_ffff
            }
        );
        assert_eq!(
            std::format!("{}", e.path),
            "certificate_list.asn1_cert[0].asn1_cert_length"
        );
    }

    #[test]
    fn raw_public_key_shapes() {
        let ctx12 = Context {
            cert_type: CertificateType::RAW_PUBLIC_KEY,
            ..Context::TLS12
        };
        let b = [0, 0, 2, 0x30, 0x00];
        let c = parse(&b, &ctx12).unwrap();
        assert_eq!(
            c,
            Certificate::Tls12RawPublicKey {
                asn1_subject_public_key_info: &[0x30, 0x00]
            }
        );
        assert_eq!(emit(&c), b);

        let ctx13 = Context {
            cert_type: CertificateType::RAW_PUBLIC_KEY,
            ..Context::TLS13
        };
        let b = [0, 0, 0, 7, 0, 0, 2, 0x30, 0x00, 0, 0];
        let c = parse(&b, &ctx13).unwrap();
        assert_eq!(c.end_entity(), Some(&[0x30, 0x00][..]));
        assert_eq!(emit(&c), b);
    }
}
