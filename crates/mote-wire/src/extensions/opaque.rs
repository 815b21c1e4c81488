//! Extensions whose body is one opaque value: cookie (RFC 8446 section 4.2.2),
//! connection_id (RFC 9146 section 3), renegotiation_info (RFC 5746 section 3.2), and the
//! unprefixed session_ticket (RFC 5077 section 3.2) and padding (RFC 7685 section 3).

use super::ExtensionBody;
use crate::error::DecodeError;
use crate::reader::{Bounds, Len, Reader};

/// `struct { opaque cookie<1..2^16-1>; } Cookie;`
pub(super) fn cookie<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    r.opaque(Len::U16, "cookie_length", "cookie", Bounds::new(1, 0xffff))
        .map(ExtensionBody::Cookie)
}

/// `struct { opaque cid<0..2^8-1>; } ConnectionId;` An empty cid means "send me records
/// with a CID but I will not use one" (RFC 9146 section 3). The pre-RFC code point 53 used
/// the same structure (draft-ietf-tls-dtls-connection-id), so it is read the same way.
pub(super) fn connection_id<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    r.opaque(Len::U8, "cid_length", "cid", Bounds::ANY)
        .map(ExtensionBody::ConnectionId)
}

/// `struct { opaque renegotiated_connection<0..255>; } RenegotiationInfo;` Empty on an
/// initial handshake; the verify_data of the previous handshake when renegotiating.
pub(super) fn renegotiation_info<'a>(
    r: &mut Reader<'a, '_>,
) -> Result<ExtensionBody<'a>, DecodeError> {
    r.opaque(
        Len::U8,
        "renegotiated_connection_length",
        "renegotiated_connection",
        Bounds::ANY,
    )
    .map(ExtensionBody::RenegotiationInfo)
}

/// RFC 5077 section 3.2: in a ClientHello the whole extension_data is the ticket, without
/// a length of its own, and may be empty (asking for a ticket). The server's empty
/// acknowledgement is [`ExtensionBody::Empty`].
pub(super) fn session_ticket<'a>(r: &mut Reader<'a, '_>) -> ExtensionBody<'a> {
    ExtensionBody::SessionTicket(r.rest("ticket"))
}

/// RFC 7685 section 3: "The client MUST fill the padding extension completely with zero
/// bytes". Non-zero padding is accepted and kept: the RFC gives the receiver no duty to
/// check it, servers in the field ignore it, and keeping the bytes lets a parsed
/// ClientHello re-emit exactly (its transcript hash depends on that). Use
/// [`ExtensionBody::padding_is_zero`] to check.
pub(super) fn padding<'a>(r: &mut Reader<'a, '_>) -> ExtensionBody<'a> {
    ExtensionBody::Padding(r.rest("padding"))
}
