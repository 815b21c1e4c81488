//! Extensions that limit record sizes: max_fragment_length (RFC 6066 section 4) and
//! record_size_limit (RFC 8449 section 4). Both refuse values their RFC forbids, with
//! illegal_parameter.

use super::ExtensionBody;
use crate::error::{DecodeError, DecodeErrorKind};
use crate::reader::Reader;
use crate::registry::MaxFragmentLength;

/// `enum { 2^9(1), 2^10(2), 2^11(3), 2^12(4), (255) } MaxFragmentLength;`
pub(super) fn max_fragment_length<'a>(
    r: &mut Reader<'a, '_>,
) -> Result<ExtensionBody<'a>, DecodeError> {
    let at = r.offset();
    let v = r.code::<MaxFragmentLength>("max_fragment_length")?;
    // RFC 6066 section 4: "If a server receives a maximum fragment length negotiation
    // request for a value other than the allowed values, it MUST abort the handshake with
    // an "illegal_parameter" alert." A client receiving one is in the same position.
    if v.bytes().is_none() {
        return Err(r.error_at(
            at,
            "max_fragment_length",
            DecodeErrorKind::IllegalValue {
                value: u64::from(v.0),
            },
        ));
    }
    Ok(ExtensionBody::MaxFragmentLength(v))
}

/// The smallest record_size_limit an endpoint may send.
pub const MIN_RECORD_SIZE_LIMIT: u16 = 64;

/// `uint16 RecordSizeLimit;`
pub(super) fn record_size_limit<'a>(
    r: &mut Reader<'a, '_>,
) -> Result<ExtensionBody<'a>, DecodeError> {
    let at = r.offset();
    let v = r.u16("record_size_limit")?;
    // RFC 8449 section 4: "Endpoints MUST NOT send a "record_size_limit" extension with a
    // value smaller than 64. An endpoint MUST treat receipt of a smaller value as a fatal
    // error and generate an "illegal_parameter" alert." Values above the protocol's
    // maximum are legal (the peer just never sends records that large).
    if v < MIN_RECORD_SIZE_LIMIT {
        return Err(r.error_at(
            at,
            "record_size_limit",
            DecodeErrorKind::IllegalValue {
                value: u64::from(v),
            },
        ));
    }
    Ok(ExtensionBody::RecordSizeLimit(v))
}
