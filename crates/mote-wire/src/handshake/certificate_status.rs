//! CertificateStatus (TLS 1.2 OCSP stapling): RFC 6066 section 8.
//!
//! ```text
//! enum { ocsp(1), (255) } CertificateStatusType;
//! opaque OCSPResponse<1..2^24-1>;
//! struct {
//!     CertificateStatusType status_type;
//!     select (status_type) {
//!         case ocsp: OCSPResponse response;
//!     } response;
//! } CertificateStatus;
//! ```
//!
//! TLS 1.3 carries the OCSP response in the status_request extension of a CertificateEntry
//! instead (RFC 8446 section 4.4.2.1). Other status types have no defined body here, so it
//! is kept as bytes.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

crate::open_enum! {
    /// CertificateStatusType (RFC 6066 section 8, RFC 6961).
    pub struct CertificateStatusType(u8) {
        OCSP = 1 => "ocsp",
        OCSP_MULTI = 2 => "ocsp_multi",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateStatus<'a> {
    /// A DER-encoded OCSPResponse.
    Ocsp { response: &'a [u8] },
    /// A status type without a body defined here (RFC 6961's ocsp_multi among them).
    Unknown {
        status_type: CertificateStatusType,
        data: &'a [u8],
    },
}

impl<'a> CertificateStatus<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
        let status_type = r.code::<CertificateStatusType>("status_type")?;
        if status_type == CertificateStatusType::OCSP {
            let response = r.opaque(
                Len::U24,
                "response_length",
                "response",
                Bounds::new(1, 0xff_ffff),
            )?;
            return Ok(CertificateStatus::Ocsp { response });
        }
        Ok(CertificateStatus::Unknown {
            status_type,
            data: r.rest("data"),
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            CertificateStatus::Ocsp { response } => {
                w.code(CertificateStatusType::OCSP)?;
                w.opaque(Len::U24, response)
            }
            CertificateStatus::Unknown { status_type, data } => {
                w.code(*status_type)?;
                w.bytes(data)
            }
        }
    }
}
