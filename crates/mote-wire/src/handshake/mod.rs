//! Handshake messages of TLS 1.2 (RFC 5246 section 7.4), TLS 1.3 (RFC 8446 section 4),
//! DTLS 1.2 (RFC 6347 section 4.2) and DTLS 1.3 (RFC 9147 section 5).
//!
//! Every message type `Foo<'a>` has `Foo::parse(r, ctx)`, which reads the message *body*
//! (the caller has entered the node named after the message), and `Foo::emit(w)`, which
//! writes the body. [`parse_handshake`] reads a whole message, header included, and
//! [`emit_handshake`] writes one with its length back-patched.
//!
//! The same wire type can have two shapes (Certificate, CertificateRequest and
//! NewSessionTicket differ between TLS 1.2 and 1.3; ServerKeyExchange and ClientKeyExchange
//! depend on the key exchange): the [`Context`] decides, since the bytes alone cannot.

pub mod certificate;
pub mod certificate_request;
pub mod certificate_status;
pub mod certificate_verify;
pub mod client_hello;
pub mod compressed_certificate;
pub mod empty;
pub mod encrypted_extensions;
pub mod finished;
pub mod hello_verify_request;
pub mod key_exchange;
pub mod key_update;
pub mod new_connection_id;
pub mod new_session_ticket;
pub mod request_connection_id;
pub mod server_hello;

pub use certificate::{Asn1Cert, Certificate, CertificateEntry};
pub use certificate_request::{CertificateRequest, DistinguishedName};
pub use certificate_status::{CertificateStatus, CertificateStatusType};
pub use certificate_verify::{CertificateVerify, DigitallySigned};
pub use client_hello::ClientHello;
pub use compressed_certificate::{CertificateCompressionAlgorithm, CompressedCertificate};
pub use empty::{EndOfEarlyData, HelloRequest, ServerHelloDone};
pub use encrypted_extensions::EncryptedExtensions;
pub use finished::Finished;
pub use hello_verify_request::HelloVerifyRequest;
pub use key_exchange::{ClientKeyExchange, ServerDhParams, ServerEcdhParams, ServerKeyExchange};
pub use key_update::KeyUpdate;
pub use new_connection_id::{ConnectionId, ConnectionIdUsage, NewConnectionId};
pub use new_session_ticket::NewSessionTicket;
pub use request_connection_id::RequestConnectionId;
pub use server_hello::{ServerHello, HELLO_RETRY_REQUEST_RANDOM};

use crate::context::{Context, ExtensionContext};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::extensions::{read_extensions, write_extensions, Extensions};
use crate::reader::{Len, Reader};
use crate::registry::HandshakeType;
use crate::writer::Writer;

type Result<T> = core::result::Result<T, DecodeError>;

/// The DTLS additions to the handshake header (RFC 6347 section 4.2.2, RFC 9147 section
/// 5.2): a message may arrive in pieces, each saying where it belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtlsFragment {
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

/// A handshake message header: 4 bytes in TLS, 12 in DTLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: HandshakeType,
    /// Length of the whole message body (in DTLS, of the reassembled message).
    pub length: u32,
    /// Present in DTLS.
    pub dtls: Option<DtlsFragment>,
}

impl HandshakeHeader {
    /// Size of a TLS handshake header.
    pub const TLS_LEN: usize = 4;
    /// Size of a DTLS handshake header.
    pub const DTLS_LEN: usize = 12;

    /// A header for [`emit_handshake`]: lengths are filled in when the message is written.
    /// `message_seq` is `Some` for DTLS.
    pub fn new(msg_type: HandshakeType, message_seq: Option<u16>) -> Self {
        HandshakeHeader {
            msg_type,
            length: 0,
            dtls: message_seq.map(|message_seq| DtlsFragment {
                message_seq,
                fragment_offset: 0,
                fragment_length: 0,
            }),
        }
    }

    /// Bytes the header takes on the wire.
    pub fn size(&self) -> usize {
        if self.dtls.is_some() {
            Self::DTLS_LEN
        } else {
            Self::TLS_LEN
        }
    }

    /// True for a DTLS header that carries only part of its message (RFC 6347 section
    /// 4.2.3): such a body cannot be parsed until the message is reassembled.
    pub fn is_fragment(&self) -> bool {
        match self.dtls {
            Some(f) => f.fragment_offset != 0 || f.fragment_length != self.length,
            None => false,
        }
    }

    /// Reads the header; the DTLS fields when `ctx.dtls`. A DTLS fragment must lie inside
    /// its message (RFC 9147 section 5.5), or reassembly would write past the message end.
    pub fn parse(r: &mut Reader<'_, '_>, ctx: &Context) -> Result<Self> {
        let msg_type = r.code::<HandshakeType>("msg_type")?;
        let length = r.length("length", Len::U24)? as u32;
        if !ctx.dtls {
            return Ok(HandshakeHeader {
                msg_type,
                length,
                dtls: None,
            });
        }
        let message_seq = r.u16("message_seq")?;
        let offset_at = r.offset();
        let fragment_offset = r.u24("fragment_offset")?;
        let flen_at = r.offset();
        let fragment_length = r.length("fragment_length", Len::U24)? as u32;
        if fragment_offset > length {
            return Err(r.error_at(
                offset_at,
                "fragment_offset",
                DecodeErrorKind::LengthOutOfRange {
                    len: fragment_offset as usize,
                    min: 0,
                    max: length as usize,
                },
            ));
        }
        if fragment_length > length - fragment_offset {
            return Err(r.error_at(
                flen_at,
                "fragment_length",
                DecodeErrorKind::LengthOutOfRange {
                    len: fragment_length as usize,
                    min: 0,
                    max: (length - fragment_offset) as usize,
                },
            ));
        }
        Ok(HandshakeHeader {
            msg_type,
            length,
            dtls: Some(DtlsFragment {
                message_seq,
                fragment_offset,
                fragment_length,
            }),
        })
    }

    /// Writes the header as it is (no length is computed here; see [`emit_handshake`]).
    pub fn emit(&self, w: &mut Writer<'_>) -> core::result::Result<(), EncodeError> {
        w.code(self.msg_type)?;
        w.u24(self.length)?;
        if let Some(f) = self.dtls {
            w.u16(f.message_seq)?;
            w.u24(f.fragment_offset)?;
            w.u24(f.fragment_length)?;
        }
        Ok(())
    }
}

/// A handshake message body, decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HandshakeMessage<'a> {
    HelloRequest(HelloRequest),
    ClientHello(ClientHello<'a>),
    /// Also a HelloRetryRequest: see [`ServerHello::is_hello_retry_request`].
    ServerHello(ServerHello<'a>),
    HelloVerifyRequest(HelloVerifyRequest<'a>),
    NewSessionTicket(NewSessionTicket<'a>),
    EndOfEarlyData(EndOfEarlyData),
    EncryptedExtensions(EncryptedExtensions<'a>),
    RequestConnectionId(RequestConnectionId),
    NewConnectionId(NewConnectionId<'a>),
    Certificate(Certificate<'a>),
    ServerKeyExchange(ServerKeyExchange<'a>),
    CertificateRequest(CertificateRequest<'a>),
    ServerHelloDone(ServerHelloDone),
    CertificateVerify(CertificateVerify<'a>),
    ClientKeyExchange(ClientKeyExchange<'a>),
    Finished(Finished<'a>),
    CertificateStatus(CertificateStatus<'a>),
    KeyUpdate(KeyUpdate),
    CompressedCertificate(CompressedCertificate<'a>),
    /// A type this crate does not decode (message_hash, certificate_url, unassigned
    /// values): the body as bytes, so it still round-trips.
    Unknown(HandshakeType, &'a [u8]),
    /// Part of a DTLS message (fragment_offset != 0 or fragment_length != length): its bytes
    /// wait for reassembly; the header says which message they belong to.
    Fragment(&'a [u8]),
}

impl<'a> HandshakeMessage<'a> {
    /// The message type, or `None` for a [`HandshakeMessage::Fragment`], which does not
    /// know it (its header does).
    pub fn msg_type(&self) -> Option<HandshakeType> {
        use HandshakeMessage as M;
        Some(match self {
            M::HelloRequest(_) => HandshakeType::HELLO_REQUEST,
            M::ClientHello(_) => HandshakeType::CLIENT_HELLO,
            M::ServerHello(_) => HandshakeType::SERVER_HELLO,
            M::HelloVerifyRequest(_) => HandshakeType::HELLO_VERIFY_REQUEST,
            M::NewSessionTicket(_) => HandshakeType::NEW_SESSION_TICKET,
            M::EndOfEarlyData(_) => HandshakeType::END_OF_EARLY_DATA,
            M::EncryptedExtensions(_) => HandshakeType::ENCRYPTED_EXTENSIONS,
            M::RequestConnectionId(_) => HandshakeType::REQUEST_CONNECTION_ID,
            M::NewConnectionId(_) => HandshakeType::NEW_CONNECTION_ID,
            M::Certificate(_) => HandshakeType::CERTIFICATE,
            M::ServerKeyExchange(_) => HandshakeType::SERVER_KEY_EXCHANGE,
            M::CertificateRequest(_) => HandshakeType::CERTIFICATE_REQUEST,
            M::ServerHelloDone(_) => HandshakeType::SERVER_HELLO_DONE,
            M::CertificateVerify(_) => HandshakeType::CERTIFICATE_VERIFY,
            M::ClientKeyExchange(_) => HandshakeType::CLIENT_KEY_EXCHANGE,
            M::Finished(_) => HandshakeType::FINISHED,
            M::CertificateStatus(_) => HandshakeType::CERTIFICATE_STATUS,
            M::KeyUpdate(_) => HandshakeType::KEY_UPDATE,
            M::CompressedCertificate(_) => HandshakeType::COMPRESSED_CERTIFICATE,
            M::Unknown(t, _) => *t,
            M::Fragment(_) => return None,
        })
    }

    /// Parses a body of type `msg_type` that fills the reader's current scope, inside node
    /// `msg_type` (its registry name, or "unknown"). The body must be consumed exactly:
    /// bytes after a complete message are an error (RFC 8446 section 6.2, decode_error).
    ///
    /// On an error, the length field to blame is worked out as [`Reader::diagnosed`] says.
    pub fn parse_body(
        msg_type: HandshakeType,
        r: &mut Reader<'a, '_>,
        ctx: &Context,
    ) -> Result<Self> {
        r.diagnosed(|_, _| true, |r| Self::read_body(msg_type, r, ctx))
    }

    fn read_body(msg_type: HandshakeType, r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self> {
        let name = msg_type.name().unwrap_or("unknown");
        r.node(name, None, |r| {
            let m = Self::dispatch(msg_type, r, ctx)?;
            r.expect_end("")?;
            Ok(m)
        })
    }

    fn dispatch(msg_type: HandshakeType, r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self> {
        use HandshakeMessage as M;
        use HandshakeType as T;
        Ok(match msg_type {
            T::HELLO_REQUEST => M::HelloRequest(HelloRequest::parse(r, ctx)?),
            T::CLIENT_HELLO => M::ClientHello(ClientHello::parse(r, ctx)?),
            T::SERVER_HELLO => M::ServerHello(ServerHello::parse(r, ctx)?),
            T::HELLO_VERIFY_REQUEST => M::HelloVerifyRequest(HelloVerifyRequest::parse(r, ctx)?),
            T::NEW_SESSION_TICKET => M::NewSessionTicket(NewSessionTicket::parse(r, ctx)?),
            T::END_OF_EARLY_DATA => M::EndOfEarlyData(EndOfEarlyData::parse(r, ctx)?),
            T::ENCRYPTED_EXTENSIONS => M::EncryptedExtensions(EncryptedExtensions::parse(r, ctx)?),
            T::REQUEST_CONNECTION_ID => M::RequestConnectionId(RequestConnectionId::parse(r, ctx)?),
            T::NEW_CONNECTION_ID => M::NewConnectionId(NewConnectionId::parse(r, ctx)?),
            T::CERTIFICATE => M::Certificate(Certificate::parse(r, ctx)?),
            T::SERVER_KEY_EXCHANGE => M::ServerKeyExchange(ServerKeyExchange::parse(r, ctx)?),
            T::CERTIFICATE_REQUEST => M::CertificateRequest(CertificateRequest::parse(r, ctx)?),
            T::SERVER_HELLO_DONE => M::ServerHelloDone(ServerHelloDone::parse(r, ctx)?),
            T::CERTIFICATE_VERIFY => M::CertificateVerify(CertificateVerify::parse(r, ctx)?),
            T::CLIENT_KEY_EXCHANGE => M::ClientKeyExchange(ClientKeyExchange::parse(r, ctx)?),
            T::FINISHED => M::Finished(Finished::parse(r, ctx)?),
            T::CERTIFICATE_STATUS => M::CertificateStatus(CertificateStatus::parse(r, ctx)?),
            T::KEY_UPDATE => M::KeyUpdate(KeyUpdate::parse(r, ctx)?),
            T::COMPRESSED_CERTIFICATE => {
                M::CompressedCertificate(CompressedCertificate::parse(r, ctx)?)
            }
            t => M::Unknown(t, r.rest("body")),
        })
    }

    /// Writes the body.
    pub fn emit_body(&self, w: &mut Writer<'_>) -> core::result::Result<(), EncodeError> {
        use HandshakeMessage as M;
        match self {
            M::HelloRequest(m) => m.emit(w),
            M::ClientHello(m) => m.emit(w),
            M::ServerHello(m) => m.emit(w),
            M::HelloVerifyRequest(m) => m.emit(w),
            M::NewSessionTicket(m) => m.emit(w),
            M::EndOfEarlyData(m) => m.emit(w),
            M::EncryptedExtensions(m) => m.emit(w),
            M::RequestConnectionId(m) => m.emit(w),
            M::NewConnectionId(m) => m.emit(w),
            M::Certificate(m) => m.emit(w),
            M::ServerKeyExchange(m) => m.emit(w),
            M::CertificateRequest(m) => m.emit(w),
            M::ServerHelloDone(m) => m.emit(w),
            M::CertificateVerify(m) => m.emit(w),
            M::ClientKeyExchange(m) => m.emit(w),
            M::Finished(m) => m.emit(w),
            M::CertificateStatus(m) => m.emit(w),
            M::KeyUpdate(m) => m.emit(w),
            M::CompressedCertificate(m) => m.emit(w),
            M::Unknown(_, b) | M::Fragment(b) => w.bytes(b),
        }
    }
}

/// Reads one handshake message, header and body, inside node "handshake".
///
/// The body is read over exactly `length` bytes, so a length beyond the bytes present is
/// `LengthExceeds` on `handshake.length` at the length field's offset, and a body that ends
/// early is `UnexpectedTrailing`. A DTLS fragment is not parsed: its bytes (named
/// "fragment", bounded by `fragment_length`) come back as [`HandshakeMessage::Fragment`].
///
/// On an error, the length field to blame is worked out as [`Reader::diagnosed`] says, the
/// bytes after the message being acceptable when they are nothing or whole handshake
/// messages ([`is_message_chain`]). So a TLS `length` one short of a body that parses with
/// it, followed by one byte that is no message, is blamed on `handshake.length`, and in DTLS
/// a `length` and `fragment_length` that disagree blame the one whose correction makes the
/// message parse. A correction that turns a whole DTLS message into a fragment explains
/// nothing (a fragment's body is not parsed), so it is not taken.
pub fn parse_handshake<'a>(
    r: &mut Reader<'a, '_>,
    ctx: &Context,
) -> Result<(HandshakeHeader, HandshakeMessage<'a>)> {
    // Whether the header, as sent, describes a fragment (offset, or lengths that differ).
    let fragment = ctx.dtls && {
        let h = r.peek_rest();
        h.get(6..9).is_some_and(|o| o != [0, 0, 0]) || h.get(1..4) != h.get(9..12)
    };
    r.diagnosed(
        |(_, m), rest| {
            (fragment || !matches!(m, HandshakeMessage::Fragment(_)))
                && is_message_chain(rest, ctx.dtls)
        },
        |r| read_handshake(r, ctx),
    )
}

/// Whether `rest` is a run of whole handshake messages (headers whose lengths, in DTLS
/// `fragment_length`, fit the bytes exactly), or nothing.
pub fn is_message_chain(mut rest: &[u8], dtls: bool) -> bool {
    // The length that frames the bytes ends the header: `length` in TLS, `fragment_length`
    // in DTLS.
    let hl = if dtls { 12 } else { 4 };
    while !rest.is_empty() {
        let Some(len) = rest.get(hl - 3..hl) else {
            return false;
        };
        let n = len
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        match rest.get(hl + n..) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    true
}

fn read_handshake<'a>(
    r: &mut Reader<'a, '_>,
    ctx: &Context,
) -> Result<(HandshakeHeader, HandshakeMessage<'a>)> {
    r.node("handshake", None, |r| {
        let start = r.offset();
        let header = HandshakeHeader::parse(r, ctx)?;
        if let (true, Some(f)) = (header.is_fragment(), header.dtls) {
            // fragment_length sits after msg_type(1) length(3) message_seq(2)
            // fragment_offset(3).
            let n = f.fragment_length as usize;
            let body = r.limited(n, "fragment_length", start + 9, |r| r.bytes("fragment", n))?;
            r.note(
                start,
                header.size() + n,
                "fragment of a handshake message: parsed once reassembled",
            );
            return Ok((header, HandshakeMessage::Fragment(body)));
        }
        let n = header.length as usize;
        let msg = r.limited(n, "length", start + 1, |r| {
            HandshakeMessage::read_body(header.msg_type, r, ctx)
        })?;
        Ok((header, msg))
    })
}

/// Writes a whole handshake message, header and body, at the start of `out` and returns its
/// size. The header's msg_type (and, in DTLS, message_seq) are used; its length is that of
/// the body written, and a DTLS message is written whole (fragment_offset 0,
/// fragment_length = length). A [`HandshakeMessage::Fragment`] keeps the header's length and
/// fragment_offset, with fragment_length its byte count.
///
/// This takes a slice rather than a [`Writer`]: in DTLS the length field is separated from
/// the body by message_seq and the fragment fields, so it cannot be back-patched the way
/// [`Writer::vector`] patches a prefix that immediately precedes its contents. The body is
/// written first, after room for the header, then the header in front of it.
pub fn emit_handshake(
    header: &HandshakeHeader,
    msg: &HandshakeMessage<'_>,
    out: &mut [u8],
) -> core::result::Result<usize, EncodeError> {
    let hs = header.size();
    if out.len() < hs {
        return Err(EncodeError::BufferTooSmall {
            needed: hs,
            available: out.len(),
        });
    }
    let (head, rest) = out.split_at_mut(hs);
    let n = {
        let mut bw = Writer::new(rest);
        msg.emit_body(&mut bw).map_err(|e| match e {
            EncodeError::BufferTooSmall { needed, available } => EncodeError::BufferTooSmall {
                needed: needed.saturating_add(hs),
                available: available.saturating_add(hs),
            },
            e => e,
        })?;
        bw.len()
    };
    let n24 = u24_len(n)?;
    let mut h = *header;
    let fragment = matches!(msg, HandshakeMessage::Fragment(_));
    if !fragment {
        h.length = n24;
    }
    if let Some(f) = h.dtls.as_mut() {
        if !fragment {
            f.fragment_offset = 0;
        }
        f.fragment_length = n24;
    }
    h.emit(&mut Writer::new(head))?;
    Ok(hs + n)
}

/// Writes `msg` with a TLS handshake header (msg_type, u24 length) into `w`, the length
/// back-patched by [`Writer::vector`]. This is also the framing the DTLS 1.3 transcript
/// hashes (RFC 9147 section 5.2: the transcript omits message_seq and the fragment fields).
pub fn emit_handshake_tls(
    msg_type: HandshakeType,
    msg: &HandshakeMessage<'_>,
    w: &mut Writer<'_>,
) -> core::result::Result<(), EncodeError> {
    w.code(msg_type)?;
    w.vector(Len::U24, |w| msg.emit_body(w))
}

/// A body length as a u24, or `TooLong`.
fn u24_len(n: usize) -> core::result::Result<u32, EncodeError> {
    if n > Len::U24.max() {
        return Err(EncodeError::TooLong {
            len: n,
            max: Len::U24.max(),
        });
    }
    Ok(n as u32)
}

/// `Extension extensions<..>` when bytes remain, else `None`: TLS 1.2 hellos may omit the
/// extensions block entirely (RFC 5246 section 7.4.1.2), and keeping absent apart from
/// empty lets re-emission give the same bytes.
pub(crate) fn read_optional_extensions<'a>(
    r: &mut Reader<'a, '_>,
    ctx: ExtensionContext,
) -> Result<Option<Extensions<'a>>> {
    if r.is_empty() {
        Ok(None)
    } else {
        read_extensions(r, ctx).map(Some)
    }
}

pub(crate) fn write_optional_extensions(
    e: &Option<Extensions<'_>>,
    w: &mut Writer<'_>,
) -> core::result::Result<(), EncodeError> {
    match e {
        Some(list) => write_extensions(list, w),
        None => Ok(()),
    }
}

/// A length-prefixed opaque whose RFC maximum is below what its prefix can express
/// (a 32-byte session id in a u8 prefix): refuses to emit what no parser would accept.
pub(crate) fn write_opaque_max(
    w: &mut Writer<'_>,
    len: Len,
    max: usize,
    b: &[u8],
) -> core::result::Result<(), EncodeError> {
    if b.len() > max {
        return Err(EncodeError::TooLong { len: b.len(), max });
    }
    w.opaque(len, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    /// A TLS ServerHelloDone and a DTLS one (message_seq 2).
    const SHD_TLS: [u8; 4] = [14, 0, 0, 0];
    const SHD_DTLS: [u8; 12] = [14, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];

    #[test]
    fn headers_parse_and_emit() {
        let mut r = Reader::new(&SHD_DTLS);
        let h = HandshakeHeader::parse(&mut r, &Context::DTLS12).unwrap();
        assert_eq!(
            h,
            HandshakeHeader::new(HandshakeType::SERVER_HELLO_DONE, Some(2))
        );
        assert!(!h.is_fragment());
        assert_eq!(h.size(), 12);
        let mut out = [0u8; 12];
        let mut w = Writer::new(&mut out);
        h.emit(&mut w).unwrap();
        assert_eq!(w.written(), &SHD_DTLS);

        let h = HandshakeHeader::parse(&mut Reader::new(&SHD_TLS), &Context::TLS13).unwrap();
        assert_eq!(
            h,
            HandshakeHeader::new(HandshakeType::SERVER_HELLO_DONE, None)
        );
    }

    #[test]
    fn whole_messages_round_trip_through_emit_handshake() {
        for (b, ctx) in [
            (&SHD_TLS[..], Context::TLS12),
            (&SHD_DTLS[..], Context::DTLS12),
        ] {
            let mut r = Reader::new(b);
            let (h, m) = parse_handshake(&mut r, &ctx).unwrap();
            assert!(r.is_empty());
            assert_eq!(m, HandshakeMessage::ServerHelloDone(ServerHelloDone));
            assert_eq!(m.msg_type(), Some(HandshakeType::SERVER_HELLO_DONE));
            let mut out = [0u8; 16];
            let n = emit_handshake(&h, &m, &mut out).unwrap();
            assert_eq!(&out[..n], b);
        }
    }

    #[test]
    fn unknown_types_keep_their_bytes() {
        let b = [0x42, 0, 0, 2, 0xab, 0xcd];
        let (h, m) = parse_handshake(&mut Reader::new(&b), &Context::TLS12).unwrap();
        assert_eq!(
            m,
            HandshakeMessage::Unknown(HandshakeType(0x42), &[0xab, 0xcd])
        );
        let mut out = [0u8; 8];
        let n = emit_handshake(&h, &m, &mut out).unwrap();
        assert_eq!(&out[..n], &b);
        let mut w = Writer::new(&mut out);
        emit_handshake_tls(HandshakeType(0x42), &m, &mut w).unwrap();
        assert_eq!(w.written(), &b);
    }

    #[test]
    fn length_beyond_the_bytes_blames_handshake_length() {
        // A record header in front, so the offset is absolute: the length field is at 6.
        let b = [22, 3, 3, 0, 8, 14, 0, 0, 8, 0, 0, 0, 0];
        let mut r = Reader::new(&b);
        r.skip("record", 5).unwrap();
        let e = parse_handshake(&mut r, &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(format!("{}", e.path), "handshake.length");
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthExceeds {
                declared: 8,
                available: 4
            }
        );
        assert_eq!(
            format!("{e}"),
            "error at byte 6 (0x0006) handshake.length: declares 8 bytes but 4 follow"
        );
    }

    #[test]
    fn trailing_bytes_in_a_body_are_refused() {
        let b = [14, 0, 0, 1, 0];
        let e = parse_handshake(&mut Reader::new(&b), &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(format!("{}", e.path), "handshake.server_hello_done");
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedTrailing { count: 1 });
    }

    #[test]
    fn dtls_fragments_are_not_parsed() {
        // Bytes 2..5 of a 10-byte Finished, message_seq 7.
        let b = [20, 0, 0, 10, 0, 7, 0, 0, 2, 0, 0, 3, 0xa, 0xb, 0xc];
        let mut r = Reader::new(&b);
        let (h, m) = parse_handshake(&mut r, &Context::DTLS13).unwrap();
        assert!(h.is_fragment());
        assert_eq!(m, HandshakeMessage::Fragment(&[0xa, 0xb, 0xc]));
        assert_eq!(m.msg_type(), None);
        let mut out = [0u8; 32];
        let n = emit_handshake(&h, &m, &mut out).unwrap();
        assert_eq!(&out[..n], &b);

        // fragment_length 4 but 3 bytes follow: blamed on fragment_length, at offset 9.
        let mut cut = b;
        cut[11] = 4;
        let e = parse_handshake(&mut Reader::new(&cut), &Context::DTLS13).unwrap_err();
        assert_eq!(e.offset, 9);
        assert_eq!(format!("{}", e.path), "handshake.fragment_length");
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthExceeds {
                declared: 4,
                available: 3
            }
        );
    }

    #[test]
    fn fragments_must_lie_inside_their_message() {
        // offset 9 + length 3 > 10.
        let b = [20, 0, 0, 10, 0, 7, 0, 0, 9, 0, 0, 3, 1, 2, 3];
        let e = parse_handshake(&mut Reader::new(&b), &Context::DTLS12).unwrap_err();
        assert_eq!(format!("{}", e.path), "handshake.fragment_length");
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 3,
                min: 0,
                max: 1
            }
        );
        let b = [20, 0, 0, 10, 0, 7, 0, 0, 11, 0, 0, 0];
        let e = parse_handshake(&mut Reader::new(&b), &Context::DTLS12).unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(format!("{}", e.path), "handshake.fragment_offset");
    }

    /// A ClientHello body: session id [0x5e], in DTLS an empty cookie, one suite, null
    /// compression, no extensions (42 bytes, 43 in DTLS), behind a TLS or DTLS header.
    #[cfg(feature = "diagnose")]
    fn hello(dtls: bool) -> std::vec::Vec<u8> {
        let mut body = std::vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.extend_from_slice(&[1, 0x5e]);
        if dtls {
            body.push(0);
        }
        body.extend_from_slice(&[0, 2, 0x13, 1, 1, 0]);
        let n = body.len() as u8;
        let mut m = if dtls {
            std::vec![1, 0, 0, n, 0, 0, 0, 0, 0, 0, 0, n]
        } else {
            std::vec![1, 0, 0, n]
        };
        m.extend_from_slice(&body);
        m
    }

    #[cfg(feature = "diagnose")]
    fn blame(b: &[u8], ctx: &Context) -> std::string::String {
        let e = parse_handshake(&mut Reader::new(b), ctx).unwrap_err();
        format!("{e}")
    }

    #[cfg(feature = "diagnose")]
    #[test]
    fn a_short_tls_length_is_blamed_with_both_numbers() {
        // 42 -> 41: the body stops before the compression method.
        let mut b = hello(false);
        b[3] = 41;
        let want = "error at byte 1 (0x0001) handshake.length: declares 41 bytes but its \
                    contents end after 42";
        assert_eq!(blame(&b, &Context::TLS12), want);
        // The same when another message follows.
        b.extend_from_slice(&SHD_TLS);
        assert_eq!(blame(&b, &Context::TLS12), want);
        // When what follows is no message, the length cannot be the only error: the parse
        // error stands.
        b.truncate(b.len() - 4);
        b.push(0xff);
        assert!(blame(&b, &Context::TLS12).contains("legacy_compression_method"));
    }

    #[cfg(feature = "diagnose")]
    #[test]
    fn dtls_length_and_fragment_length_blame_the_one_that_is_off() {
        let mut b = hello(true);
        b[3] = 42;
        assert_eq!(
            blame(&b, &Context::DTLS12),
            "error at byte 1 (0x0001) handshake.length: declares 42 bytes but its contents \
             end after 43"
        );
        let mut b = hello(true);
        b[11] = 44;
        assert_eq!(
            blame(&b, &Context::DTLS12),
            "error at byte 9 (0x0009) handshake.fragment_length: length 44 is outside the \
             allowed range 0..=43"
        );
        // Cut short, the two lengths agree: the message is incomplete (fragment_length 25
        // would make it a fragment, but that explains nothing).
        let b = hello(true);
        assert_eq!(
            blame(&b[..37], &Context::DTLS12),
            "error at byte 1 (0x0001) handshake.length: declares 43 bytes but 25 follow"
        );
    }

    #[cfg(feature = "diagnose")]
    #[test]
    fn a_short_session_id_is_blamed_not_the_suites_after_it() {
        let mut b = hello(false);
        b[4 + 34] = 0;
        let e = parse_handshake(&mut Reader::new(&b), &Context::TLS12).unwrap_err();
        assert_eq!(e.offset, 4 + 34);
        assert_eq!(
            format!("{}", e.path),
            "handshake.client_hello.legacy_session_id_length"
        );
        assert_eq!(
            e.kind,
            DecodeErrorKind::TrailingBytes {
                declared: 0,
                used: 1
            }
        );
    }

    #[test]
    fn emit_handshake_reports_a_small_buffer() {
        let m = HandshakeMessage::Finished(Finished {
            verify_data: &[1; 12],
        });
        let h = HandshakeHeader::new(HandshakeType::FINISHED, Some(0));
        let mut out = [0u8; 20];
        assert_eq!(
            emit_handshake(&h, &m, &mut out),
            Err(EncodeError::BufferTooSmall {
                needed: 24,
                available: 20
            })
        );
        let mut tiny = [0u8; 3];
        assert!(emit_handshake(&h, &m, &mut tiny).is_err());
        let mut out = [0u8; 24];
        assert_eq!(emit_handshake(&h, &m, &mut out), Ok(24));
        assert_eq!(&out[..12], &[20, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 12]);
    }
}
