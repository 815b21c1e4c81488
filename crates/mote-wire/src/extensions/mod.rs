//! Extensions (RFC 8446 section 4.2 and the RFCs that define each type).
//!
//! The same extension type has different bodies in different messages (the table in RFC
//! 8446 section 4.2), so reading takes an [`ExtensionContext`]. A known type in a message
//! its RFC gives no body for, and any unknown type, decodes as [`ExtensionBody::Unknown`]
//! with its bytes, so it re-emits unchanged. Refusing such an extension (RFC 8446 section
//! 4.2: illegal_parameter for a recognised extension in the wrong message, and the TLS
//! 1.2-versus-1.3 rules) is the engine's policy, not the grammar's.
//!
//! Each element of an extensions list is read in node `extensions[i]`: its `type`, its
//! `length`, then the body in a node named after the type, so an error reads as
//! `extensions[0].server_name.list_length`. A body shorter or longer than `length` blames
//! `length` with both numbers. When an inner length is off, the error surfaces later; which
//! length field is then blamed is worked out for the whole block by [`read_extensions`]
//! (or, inside a handshake message, for the whole message) as `blame.rs` describes.
//!
//! Parsed lists keep their validated bytes ([`List::Raw`]); built ones borrow the caller's
//! elements ([`List::Items`]). Writing a parsed extension gives back its exact bytes.

mod alpn;
mod authorities;
mod code_lists;
mod key_share;
mod limits;
mod opaque;
mod psk;
mod server_name;
mod status_request;

pub use alpn::ProtocolName;
pub use authorities::DistinguishedName;
pub use key_share::KeyShareEntry;
pub use limits::MIN_RECORD_SIZE_LIMIT;
pub use psk::{OfferedPsks, PskBinder, PskIdentity};
pub use server_name::ServerName;
pub use status_request::{CertificateStatus, CertificateStatusRequest, STATUS_TYPE_OCSP};

use crate::context::ExtensionContext;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Len, Reader};
use crate::registry::{
    CertificateType, EcPointFormat, ExtensionType, MaxFragmentLength, NamedGroup, ProtocolVersion,
    PskKeyExchangeMode, SignatureScheme,
};
use crate::writer::Writer;

/// The decoded body of an extension. Which variant a type decodes to depends on the
/// message (see [`read_extensions`]); the variant must match the extension's type when
/// building one to emit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExtensionBody<'a> {
    /// An empty extension_data: server_name in ServerHello/EncryptedExtensions,
    /// status_request in ServerHello/CertificateRequest, early_data in
    /// ClientHello/EncryptedExtensions, session_ticket in ServerHello,
    /// extended_master_secret, encrypt_then_mac, post_handshake_auth, and
    /// signed_certificate_timestamp in ClientHello/CertificateRequest.
    Empty,
    /// server_name in a ClientHello (RFC 6066 section 3).
    ServerNameList(List<'a, ServerName<'a>>),
    /// max_fragment_length, one of the four values RFC 6066 section 4 defines.
    MaxFragmentLength(MaxFragmentLength),
    /// status_request in a ClientHello (RFC 6066 section 8).
    StatusRequest(CertificateStatusRequest<'a>),
    /// status_request in a TLS 1.3 Certificate entry (RFC 8446 section 4.4.2.1).
    CertificateStatus(CertificateStatus<'a>),
    /// supported_groups (RFC 8446 section 4.2.7).
    NamedGroupList(List<'a, NamedGroup>),
    /// ec_point_formats (RFC 8422 section 5.1.2).
    EcPointFormatList(List<'a, EcPointFormat>),
    /// signature_algorithms and signature_algorithms_cert (RFC 8446 section 4.2.3).
    SignatureSchemeList(List<'a, SignatureScheme>),
    /// application_layer_protocol_negotiation (RFC 7301 section 3.1).
    ProtocolNameList(List<'a, ProtocolName<'a>>),
    /// client_certificate_type or server_certificate_type in a ClientHello (RFC 7250).
    CertificateTypeList(List<'a, CertificateType>),
    /// client_certificate_type or server_certificate_type in a ServerHello or
    /// EncryptedExtensions (RFC 7250).
    CertificateType(CertificateType),
    /// padding (RFC 7685): the bytes as sent, zero or not.
    Padding(&'a [u8]),
    /// record_size_limit, at least 64 (RFC 8449 section 4).
    RecordSizeLimit(u16),
    /// session_ticket in a ClientHello: the ticket, possibly empty (RFC 5077 section 3.2).
    SessionTicket(&'a [u8]),
    /// pre_shared_key in a ClientHello (RFC 8446 section 4.2.11).
    PreSharedKeyClientHello(OfferedPsks<'a>),
    /// pre_shared_key in a ServerHello: selected_identity.
    PreSharedKeyServerHello(u16),
    /// early_data in a NewSessionTicket: max_early_data_size (RFC 8446 section 4.2.10).
    MaxEarlyDataSize(u32),
    /// supported_versions in a ClientHello (RFC 8446 section 4.2.1).
    SupportedVersionsClientHello(List<'a, ProtocolVersion>),
    /// supported_versions in a ServerHello or HelloRetryRequest: selected_version.
    SupportedVersionsServerHello(ProtocolVersion),
    /// cookie (RFC 8446 section 4.2.2).
    Cookie(&'a [u8]),
    /// psk_key_exchange_modes (RFC 8446 section 4.2.9).
    PskKeyExchangeModes(List<'a, PskKeyExchangeMode>),
    /// certificate_authorities (RFC 8446 section 4.2.4).
    CertificateAuthorities(List<'a, DistinguishedName<'a>>),
    /// key_share in a ClientHello: client_shares (RFC 8446 section 4.2.8).
    KeyShareClientHello(List<'a, KeyShareEntry<'a>>),
    /// key_share in a ServerHello: server_share.
    KeyShareServerHello(KeyShareEntry<'a>),
    /// key_share in a HelloRetryRequest: selected_group.
    KeyShareHelloRetryRequest(NamedGroup),
    /// connection_id: the CID the sender wants to receive, possibly empty (RFC 9146).
    ConnectionId(&'a [u8]),
    /// renegotiation_info: renegotiated_connection (RFC 5746 section 3.2).
    RenegotiationInfo(&'a [u8]),
    /// A type this crate does not decode, or does not decode in this context.
    Unknown(&'a [u8]),
}

impl ExtensionBody<'_> {
    /// Writes the extension_data (without the type and length).
    pub fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        use ExtensionBody as B;
        match self {
            B::Empty => Ok(()),
            B::ServerNameList(l) => l.write_prefixed(Len::U16, w),
            B::MaxFragmentLength(v) => w.code(*v),
            B::StatusRequest(s) => s.write(w),
            B::CertificateStatus(s) => s.write(w),
            B::NamedGroupList(l) => l.write_prefixed(Len::U16, w),
            B::EcPointFormatList(l) => l.write_prefixed(Len::U8, w),
            B::SignatureSchemeList(l) => l.write_prefixed(Len::U16, w),
            B::ProtocolNameList(l) => l.write_prefixed(Len::U16, w),
            B::CertificateTypeList(l) => l.write_prefixed(Len::U8, w),
            B::CertificateType(t) => w.code(*t),
            B::RecordSizeLimit(v) => w.u16(*v),
            B::PreSharedKeyClientHello(p) => p.write(w),
            B::PreSharedKeyServerHello(v) => w.u16(*v),
            B::MaxEarlyDataSize(v) => w.u32(*v),
            B::SupportedVersionsClientHello(l) => l.write_prefixed(Len::U8, w),
            B::SupportedVersionsServerHello(v) => w.code(*v),
            B::Cookie(b) => w.opaque(Len::U16, b),
            B::PskKeyExchangeModes(l) => l.write_prefixed(Len::U8, w),
            B::CertificateAuthorities(l) => l.write_prefixed(Len::U16, w),
            B::KeyShareClientHello(l) => l.write_prefixed(Len::U16, w),
            B::KeyShareServerHello(e) => e.write(w),
            B::KeyShareHelloRetryRequest(g) => w.code(*g),
            B::ConnectionId(b) | B::RenegotiationInfo(b) => w.opaque(Len::U8, b),
            B::Padding(b) | B::SessionTicket(b) | B::Unknown(b) => w.bytes(b),
        }
    }

    /// For [`ExtensionBody::Padding`]: whether every byte is zero, as RFC 7685 section 3
    /// requires of the sender (the parser accepts other bytes; see `opaque.rs`).
    pub fn padding_is_zero(&self) -> Option<bool> {
        match self {
            ExtensionBody::Padding(b) => Some(b.iter().all(|&x| x == 0)),
            _ => None,
        }
    }
}

/// One extension: its type and body.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extension<'a> {
    pub typ: ExtensionType,
    pub body: ExtensionBody<'a>,
}

impl<'a> Item<'a> for Extension<'a> {
    type Ctx = ExtensionContext;
    fn read(r: &mut Reader<'a, '_>, ctx: ExtensionContext) -> Result<Self, DecodeError> {
        read_one(r, ctx, None)
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.code(self.typ)?;
        w.vector(Len::U16, |w| self.body.write(w))
    }
}

/// An extension list.
pub type Extensions<'a> = List<'a, Extension<'a>>;

/// Reads `Extension extensions<0..2^16-1>`: the length field "extensions_length", then the
/// elements as `extensions[i]`. Refuses a type that appears twice, at the second one's
/// `type` (RFC 8446 section 4.2: "There MUST NOT be more than one extension of the same
/// type in a given extension block"), and in a ClientHello a pre_shared_key that is not
/// last, at its `type` (RFC 8446 section 4.2.11). Both are illegal_parameter.
///
/// On an error, the length field to blame is worked out for the whole block
/// ([`Reader::diagnosed`]), what follows the block being acceptable when it is nothing or
/// starts where `extensions_length` says the block ends.
pub fn read_extensions<'a>(
    r: &mut Reader<'a, '_>,
    ctx: ExtensionContext,
) -> Result<Extensions<'a>, DecodeError> {
    let left = r.remaining();
    let declared = match *r.peek_rest() {
        [hi, lo, ..] => usize::from(u16::from_be_bytes([hi, lo])),
        _ => 0,
    };
    let rest_left = left.checked_sub(2 + declared);
    r.diagnosed(
        |_, rest| rest.is_empty() || Some(rest.len()) == rest_left,
        |r| read_list(r, ctx),
    )
}

fn read_list<'a>(
    r: &mut Reader<'a, '_>,
    ctx: ExtensionContext,
) -> Result<Extensions<'a>, DecodeError> {
    let len_at = r.offset();
    let n = r.length("extensions_length", Len::U16)?;
    let raw = r.limited(n, "extensions_length", len_at, |r| {
        let raw = r.peek_rest();
        let start = r.position();
        r.each("extensions", |r, _| {
            let type_at = r.offset();
            let ext = read_one(r, ctx, Some(start))?;
            if ctx == ExtensionContext::ClientHello
                && ext.typ == ExtensionType::PRE_SHARED_KEY
                && !r.is_empty()
            {
                return Err(r.error_at(
                    type_at,
                    "type",
                    DecodeErrorKind::IllegalValue {
                        value: u64::from(ext.typ.0),
                    },
                ));
            }
            Ok(())
        })?;
        Ok(raw)
    })?;
    Ok(List::Raw(raw, ctx))
}

/// Reads one extension. `list_start`, the position where the list's elements start, is
/// where a duplicate of its type is looked for, up to this one (walking the earlier
/// extensions' headers again, so nothing is allocated).
fn read_one<'a>(
    r: &mut Reader<'a, '_>,
    ctx: ExtensionContext,
    list_start: Option<usize>,
) -> Result<Extension<'a>, DecodeError> {
    let type_at = r.offset();
    let here = r.position();
    let typ = r.code::<ExtensionType>("type")?;
    let len_at = r.offset();
    let n = r.length("length", Len::U16)?;
    let body = r.limited(n, "length", len_at, |r| {
        r.node(node_name(typ), None, |r| read_body(r, typ, ctx))
    })?;
    // Checked after the framing: a list misread because of a wrong length must be blamed
    // on the length (decode_error), not on a "duplicate" read out of step.
    if list_start.is_some_and(|s| has_type(r.earlier(s, here), typ)) {
        return Err(r.error_at(
            type_at,
            "type",
            DecodeErrorKind::Duplicate {
                value: u64::from(typ.0),
            },
        ));
    }
    Ok(Extension { typ, body })
}

/// Whether the extensions read by `r` (each `type(2) length(2) body`) include type `typ`.
fn has_type(mut r: Reader<'_, '_>, typ: ExtensionType) -> bool {
    while !r.is_empty() {
        let (Ok(t), Ok(n)) = (r.code::<ExtensionType>(""), r.length("", Len::U16)) else {
            return false;
        };
        if t == typ {
            return true;
        }
        if r.skip("", n).is_err() {
            return false;
        }
    }
    false
}

/// The node an extension's body is read in: its registry name.
fn node_name(typ: ExtensionType) -> &'static str {
    match typ {
        ExtensionType::CONNECTION_ID_DEPRECATED => "connection_id",
        _ => typ.name().unwrap_or("unknown"),
    }
}

/// Decodes extension_data by type and message (RFC 8446 section 4.2's table, plus the TLS
/// 1.2 ServerHello for the extensions that predate TLS 1.3).
fn read_body<'a>(
    r: &mut Reader<'a, '_>,
    typ: ExtensionType,
    ctx: ExtensionContext,
) -> Result<ExtensionBody<'a>, DecodeError> {
    use ExtensionBody as B;
    use ExtensionContext::{
        Certificate as CT, CertificateRequest as CR, ClientHello as CH, EncryptedExtensions as EE,
        HelloRetryRequest as HRR, NewSessionTicket as NST, ServerHello as SH,
    };
    use ExtensionType as T;
    Ok(match (typ, ctx) {
        (T::SERVER_NAME, CH) => server_name::read(r)?,
        (T::SERVER_NAME, SH | EE) => B::Empty,
        (T::MAX_FRAGMENT_LENGTH, CH | SH | EE) => limits::max_fragment_length(r)?,
        (T::STATUS_REQUEST, CH) => status_request::read_request(r)?,
        (T::STATUS_REQUEST, SH | CR) => B::Empty,
        (T::STATUS_REQUEST, CT) => status_request::read_status(r)?,
        (T::SUPPORTED_GROUPS, CH | EE) => code_lists::named_groups(r)?,
        (T::EC_POINT_FORMATS, CH | SH) => code_lists::ec_point_formats(r)?,
        (T::SIGNATURE_ALGORITHMS | T::SIGNATURE_ALGORITHMS_CERT, CH | CR) => {
            code_lists::signature_schemes(r)?
        }
        (T::ALPN, CH | SH | EE) => alpn::read(r)?,
        (T::SIGNED_CERTIFICATE_TIMESTAMP, CH | CR) => B::Empty,
        (T::CLIENT_CERTIFICATE_TYPE | T::SERVER_CERTIFICATE_TYPE, CH) => {
            code_lists::certificate_types(r, typ)?
        }
        (T::CLIENT_CERTIFICATE_TYPE | T::SERVER_CERTIFICATE_TYPE, SH | EE) => {
            code_lists::certificate_type(r, typ)?
        }
        (T::PADDING, CH) => opaque::padding(r),
        // RFC 7366 section 2 and RFC 7627 section 5.1: empty in both hellos.
        (T::ENCRYPT_THEN_MAC | T::EXTENDED_MASTER_SECRET, CH | SH) => B::Empty,
        (T::RECORD_SIZE_LIMIT, CH | SH | EE) => limits::record_size_limit(r)?,
        (T::SESSION_TICKET, CH) => opaque::session_ticket(r),
        (T::SESSION_TICKET, SH) => B::Empty,
        (T::PRE_SHARED_KEY, CH) => psk::read_offered(r)?,
        (T::PRE_SHARED_KEY, SH) => B::PreSharedKeyServerHello(r.u16("selected_identity")?),
        (T::EARLY_DATA, CH | EE) => B::Empty,
        (T::EARLY_DATA, NST) => B::MaxEarlyDataSize(r.u32("max_early_data_size")?),
        (T::SUPPORTED_VERSIONS, CH) => code_lists::versions(r)?,
        (T::SUPPORTED_VERSIONS, SH | HRR) => {
            B::SupportedVersionsServerHello(r.code("selected_version")?)
        }
        (T::COOKIE, CH | HRR) => opaque::cookie(r)?,
        (T::PSK_KEY_EXCHANGE_MODES, CH) => code_lists::psk_modes(r)?,
        (T::CERTIFICATE_AUTHORITIES, CH | CR) => authorities::read(r)?,
        (T::POST_HANDSHAKE_AUTH, CH) => B::Empty,
        (T::KEY_SHARE, CH) => key_share::read_client(r)?,
        (T::KEY_SHARE, SH) => key_share::read_server(r)?,
        (T::KEY_SHARE, HRR) => B::KeyShareHelloRetryRequest(r.code("selected_group")?),
        // RFC 9146 section 3 (DTLS 1.2 hellos); RFC 9147 section 9 moves the server's to
        // EncryptedExtensions in DTLS 1.3.
        (T::CONNECTION_ID | T::CONNECTION_ID_DEPRECATED, CH | SH | EE) => opaque::connection_id(r)?,
        (T::RENEGOTIATION_INFO, CH | SH) => opaque::renegotiation_info(r)?,
        _ => B::Unknown(r.rest("data")),
    })
}

/// Writes an extension list with its u16 length prefix.
pub fn write_extensions(list: &Extensions<'_>, w: &mut Writer<'_>) -> Result<(), EncodeError> {
    list.write_prefixed(Len::U16, w)
}

impl<'a> List<'a, Extension<'a>> {
    /// The first extension of type `typ`.
    pub fn find(&self, typ: ExtensionType) -> Option<Extension<'a>> {
        self.iter().find(|e| e.typ == typ)
    }
}
