//! Extensions whose body is one list of registry code points, or in server messages a
//! single code point: supported_groups (RFC 8446 section 4.2.7), ec_point_formats
//! (RFC 8422 section 5.1.2), signature_algorithms and signature_algorithms_cert (RFC 8446
//! section 4.2.3), supported_versions (RFC 8446 section 4.2.1), psk_key_exchange_modes
//! (RFC 8446 section 4.2.9), client_certificate_type and server_certificate_type (RFC 7250
//! section 3).

use super::ExtensionBody;
use crate::error::DecodeError;
use crate::list::{Item, List};
use crate::reader::{Bounds, Code, Len, Reader};
use crate::registry::{
    CertificateType, EcPointFormat, ExtensionType, NamedGroup, ProtocolVersion, PskKeyExchangeMode,
    SignatureScheme,
};

/// A length-prefixed list of code points that makes up the whole extension body. The
/// length must be a whole number of code points (RFC 8446 section 3.4).
pub(super) fn code_list<'a, T>(
    r: &mut Reader<'a, '_>,
    len: Len,
    len_name: &'static str,
    node: &'static str,
    item: &'static str,
    bounds: Bounds,
) -> Result<List<'a, T>, DecodeError>
where
    T: Code + Item<'a, Ctx = &'static str>,
{
    let raw = r.code_list::<T>(len, len_name, node, item, bounds)?;
    Ok(List::Raw(raw, item))
}

/// `NamedGroup named_group_list<2..2^16-1>` (RFC 8446 section 4.2.7).
pub(super) fn named_groups<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    code_list::<NamedGroup>(
        r,
        Len::U16,
        "named_group_list_length",
        "named_group_list",
        "named_group",
        Bounds::new(2, 0xffff),
    )
    .map(ExtensionBody::NamedGroupList)
}

/// `ECPointFormat ec_point_format_list<1..2^8-1>` (RFC 8422 section 5.1.2).
pub(super) fn ec_point_formats<'a>(
    r: &mut Reader<'a, '_>,
) -> Result<ExtensionBody<'a>, DecodeError> {
    code_list::<EcPointFormat>(
        r,
        Len::U8,
        "ec_point_format_list_length",
        "ec_point_format_list",
        "ec_point_format",
        Bounds::new(1, 0xff),
    )
    .map(ExtensionBody::EcPointFormatList)
}

/// `SignatureScheme supported_signature_algorithms<2..2^16-2>` (RFC 8446 section 4.2.3),
/// the body of both signature_algorithms and signature_algorithms_cert.
pub(super) fn signature_schemes<'a>(
    r: &mut Reader<'a, '_>,
) -> Result<ExtensionBody<'a>, DecodeError> {
    code_list::<SignatureScheme>(
        r,
        Len::U16,
        "supported_signature_algorithms_length",
        "supported_signature_algorithms",
        "signature_scheme",
        Bounds::new(2, 0xfffe),
    )
    .map(ExtensionBody::SignatureSchemeList)
}

/// ClientHello: `ProtocolVersion versions<2..254>` (RFC 8446 section 4.2.1).
pub(super) fn versions<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    code_list::<ProtocolVersion>(
        r,
        Len::U8,
        "versions_length",
        "versions",
        "version",
        Bounds::new(2, 254),
    )
    .map(ExtensionBody::SupportedVersionsClientHello)
}

/// `PskKeyExchangeMode ke_modes<1..255>` (RFC 8446 section 4.2.9).
pub(super) fn psk_modes<'a>(r: &mut Reader<'a, '_>) -> Result<ExtensionBody<'a>, DecodeError> {
    code_list::<PskKeyExchangeMode>(
        r,
        Len::U8,
        "ke_modes_length",
        "ke_modes",
        "ke_mode",
        Bounds::new(1, 255),
    )
    .map(ExtensionBody::PskKeyExchangeModes)
}

/// ClientHello: `CertificateType client_certificate_types<1..2^8-1>` or
/// `server_certificate_types` (RFC 7250 section 3).
pub(super) fn certificate_types<'a>(
    r: &mut Reader<'a, '_>,
    typ: ExtensionType,
) -> Result<ExtensionBody<'a>, DecodeError> {
    let (len_name, node) = if typ == ExtensionType::CLIENT_CERTIFICATE_TYPE {
        (
            "client_certificate_types_length",
            "client_certificate_types",
        )
    } else {
        (
            "server_certificate_types_length",
            "server_certificate_types",
        )
    };
    code_list::<CertificateType>(
        r,
        Len::U8,
        len_name,
        node,
        "certificate_type",
        Bounds::new(1, 0xff),
    )
    .map(ExtensionBody::CertificateTypeList)
}

/// ServerHello and EncryptedExtensions: the one type the server chose (RFC 7250 section 3).
pub(super) fn certificate_type<'a>(
    r: &mut Reader<'a, '_>,
    typ: ExtensionType,
) -> Result<ExtensionBody<'a>, DecodeError> {
    let name = if typ == ExtensionType::CLIENT_CERTIFICATE_TYPE {
        "client_certificate_type"
    } else {
        "server_certificate_type"
    };
    Ok(ExtensionBody::CertificateType(r.code(name)?))
}
