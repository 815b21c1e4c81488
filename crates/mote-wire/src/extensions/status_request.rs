//! status_request (RFC 6066 section 8; RFC 8446 section 4.4.2.1): a client's OCSP request,
//! and in a TLS 1.3 Certificate entry the OCSP response. In a TLS 1.2 ServerHello and a
//! TLS 1.3 CertificateRequest the body is empty ([`super::ExtensionBody::Empty`]).

use super::ExtensionBody;
use crate::error::{DecodeError, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

/// `CertificateStatusType` ocsp(1), the only type RFC 6066 defines. A body with another
/// type cannot be parsed further and is kept as [`ExtensionBody::Unknown`].
pub const STATUS_TYPE_OCSP: u8 = 1;

/// `struct { CertificateStatusType status_type = ocsp; OCSPStatusRequest request; }` with
/// `struct { ResponderID responder_id_list<0..2^16-1>; Extensions request_extensions; }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertificateStatusRequest<'a> {
    pub status_type: u8,
    /// The responder_id_list's bytes (a list of `opaque ResponderID<1..2^16-1>`, not
    /// split here: mote never sends one and does not interpret a peer's).
    pub responder_id_list: &'a [u8],
    /// DER-encoded OCSP request extensions (`opaque Extensions<0..2^16-1>`).
    pub request_extensions: &'a [u8],
}

impl CertificateStatusRequest<'_> {
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(self.status_type)?;
        w.opaque(Len::U16, self.responder_id_list)?;
        w.opaque(Len::U16, self.request_extensions)
    }
}

/// `struct { CertificateStatusType status_type = ocsp; opaque OCSPResponse<1..2^24-1>; }`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertificateStatus<'a> {
    pub status_type: u8,
    /// A DER-encoded OCSPResponse (RFC 6960).
    pub response: &'a [u8],
}

impl CertificateStatus<'_> {
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(self.status_type)?;
        w.opaque(Len::U24, self.response)
    }
}

fn is_ocsp(r: &Reader<'_, '_>) -> bool {
    r.peek_rest().first() == Some(&STATUS_TYPE_OCSP)
}

/// ClientHello: CertificateStatusRequest.
pub(super) fn read_request<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    if !r.is_empty() && !is_ocsp(r) {
        return Ok(ExtensionBody::Unknown(r.rest("data")));
    }
    let status_type = r.u8("status_type")?;
    let responder_id_list = r.opaque(
        Len::U16,
        "responder_id_list_length",
        "responder_id_list",
        Bounds::ANY,
    )?;
    let request_extensions = r.opaque(
        Len::U16,
        "request_extensions_length",
        "request_extensions",
        Bounds::ANY,
    )?;
    Ok(ExtensionBody::StatusRequest(CertificateStatusRequest {
        status_type,
        responder_id_list,
        request_extensions,
    }))
}

/// TLS 1.3 Certificate entry: CertificateStatus.
pub(super) fn read_status<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    if !r.is_empty() && !is_ocsp(r) {
        return Ok(ExtensionBody::Unknown(r.rest("data")));
    }
    let status_type = r.u8("status_type")?;
    let response = r.opaque(
        Len::U24,
        "response_length",
        "response",
        Bounds::new(1, 0xff_ffff),
    )?;
    Ok(ExtensionBody::CertificateStatus(CertificateStatus {
        status_type,
        response,
    }))
}
