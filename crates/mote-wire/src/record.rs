//! Record headers: TLS (RFC 8446 section 5.1), DTLS 1.2 (RFC 6347 section 4.1) with the
//! RFC 9146 connection ID, and the DTLS 1.3 unified header (RFC 9147 section 4).

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::{ContentType, ProtocolVersion};
use crate::writer::Writer;

/// Size of a TLS record header.
pub const TLS_HEADER_LEN: usize = 5;
/// Size of a DTLS 1.2 / DTLSPlaintext record header without a connection ID.
pub const DTLS_HEADER_LEN: usize = 13;
/// The largest record fragment any version allows on the wire: TLS 1.2's TLSCiphertext
/// bound of 2^14 + 2048 (RFC 5246 section 6.2.3). TLS 1.3 narrows it to 2^14 + 256, which
/// the engine enforces; the codec accepts what some version allows.
pub const MAX_FRAGMENT_LEN: usize = (1 << 14) + 2048;

type Result<T> = core::result::Result<T, DecodeError>;

/// A TLS record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsRecord<'a> {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub fragment: &'a [u8],
}

impl<'a> TlsRecord<'a> {
    /// Reads the header and fragment. A length beyond the bytes present is `LengthExceeds`
    /// on `length` (a record cut short); beyond [`MAX_FRAGMENT_LEN`] `LengthOutOfRange`.
    pub fn parse(r: &mut Reader<'a, '_>) -> Result<Self> {
        let content_type = r.code::<ContentType>("content_type")?;
        let version = r.code::<ProtocolVersion>("version")?;
        let fragment = r.opaque(
            Len::U16,
            "length",
            "fragment",
            Bounds::new(0, MAX_FRAGMENT_LEN),
        )?;
        Ok(TlsRecord {
            content_type,
            version,
            fragment,
        })
    }

    /// Reads only the 5-byte header: content type, version and declared length.
    pub fn parse_header(r: &mut Reader<'a, '_>) -> Result<(ContentType, ProtocolVersion, usize)> {
        let content_type = r.code::<ContentType>("content_type")?;
        let version = r.code::<ProtocolVersion>("version")?;
        let len_at = r.offset();
        let len = r.length("length", Len::U16)?;
        r.check_bounds(len_at, "length", len, Bounds::new(0, MAX_FRAGMENT_LEN))?;
        Ok((content_type, version, len))
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> core::result::Result<(), EncodeError> {
        w.code(self.content_type)?;
        w.code(self.version)?;
        w.opaque(Len::U16, self.fragment)
    }
}

/// A DTLS 1.2 record, or a DTLS 1.3 record with the full DTLSPlaintext header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtlsPlaintext<'a> {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub epoch: u16,
    /// 48-bit sequence number.
    pub sequence_number: u64,
    /// Present when the content type is tls12_cid (RFC 9146 section 4).
    pub cid: Option<&'a [u8]>,
    pub fragment: &'a [u8],
}

/// A DTLS 1.3 record with the unified header (RFC 9147 section 4):
/// `0|0|1|C|S|L|E E`, then the connection ID if C, 8 or 16 bits of sequence number, the
/// length if L, and the encrypted record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnifiedRecord<'a> {
    /// The first byte, kept whole so unknown combinations round-trip.
    pub flags: u8,
    pub cid: Option<&'a [u8]>,
    /// The (still encrypted, RFC 9147 section 4.2.3) low bits of the sequence number.
    pub sequence_bits: u16,
    pub encrypted_record: &'a [u8],
}

impl UnifiedRecord<'_> {
    pub const fn cid_present(&self) -> bool {
        self.flags & 0x10 != 0
    }
    pub const fn seq_is_16_bit(&self) -> bool {
        self.flags & 0x08 != 0
    }
    pub const fn length_present(&self) -> bool {
        self.flags & 0x04 != 0
    }
    pub const fn epoch_low_bits(&self) -> u8 {
        self.flags & 0x03
    }
}

/// A record in a DTLS datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtlsRecord<'a> {
    Plaintext(DtlsPlaintext<'a>),
    Unified(UnifiedRecord<'a>),
}

/// True when a DTLS record starts with the unified header's fixed bits `001`.
pub const fn is_unified_header(first: u8) -> bool {
    first & 0xe0 == 0x20
}

impl<'a> DtlsRecord<'a> {
    /// Reads one record from a datagram. `cid_len` is the length of the connection ID this
    /// side negotiated to receive (needed to find the length field; RFC 9146 section 4).
    pub fn parse(r: &mut Reader<'a, '_>, cid_len: Option<usize>) -> Result<Self> {
        let first = r.peek_rest().first().copied().unwrap_or(0);
        if r.remaining() > 0 && is_unified_header(first) {
            return Self::parse_unified(r, cid_len).map(DtlsRecord::Unified);
        }
        let content_type = r.code::<ContentType>("content_type")?;
        let version = r.code::<ProtocolVersion>("version")?;
        let epoch = r.u16("epoch")?;
        let sequence_number = r.u48("sequence_number")?;
        let cid = if content_type == ContentType::TLS12_CID {
            let n = cid_len.ok_or_else(|| {
                r.error(
                    "cid",
                    DecodeErrorKind::IllegalValue {
                        value: u64::from(content_type.0),
                    },
                )
            })?;
            Some(r.bytes("cid", n)?)
        } else {
            None
        };
        let fragment = r.opaque(
            Len::U16,
            "length",
            "fragment",
            Bounds::new(0, MAX_FRAGMENT_LEN),
        )?;
        Ok(DtlsRecord::Plaintext(DtlsPlaintext {
            content_type,
            version,
            epoch,
            sequence_number,
            cid,
            fragment,
        }))
    }

    fn parse_unified(r: &mut Reader<'a, '_>, cid_len: Option<usize>) -> Result<UnifiedRecord<'a>> {
        let at = r.offset();
        let flags = r.u8("unified_header_flags")?;
        r.note(at, 1, "unified header: 0|0|1|C|S|L|E|E");
        let cid = if flags & 0x10 != 0 {
            // The C bit says a CID is present but not its length: only the handshake that
            // negotiated it knows.
            let n = cid_len.ok_or_else(|| {
                r.error_at(
                    at,
                    "unified_header_flags",
                    DecodeErrorKind::IllegalValue {
                        value: u64::from(flags),
                    },
                )
            })?;
            Some(r.bytes("connection_id", n)?)
        } else {
            None
        };
        let sequence_bits = if flags & 0x08 != 0 {
            r.u16("sequence_number")?
        } else {
            u16::from(r.u8("sequence_number")?)
        };
        let encrypted_record = if flags & 0x04 != 0 {
            r.opaque(
                Len::U16,
                "length",
                "encrypted_record",
                Bounds::new(0, MAX_FRAGMENT_LEN),
            )?
        } else {
            // Without a length the record runs to the end of the datagram.
            r.rest("encrypted_record")
        };
        Ok(UnifiedRecord {
            flags,
            cid,
            sequence_bits,
            encrypted_record,
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> core::result::Result<(), EncodeError> {
        match self {
            DtlsRecord::Plaintext(p) => {
                w.code(p.content_type)?;
                w.code(p.version)?;
                w.u16(p.epoch)?;
                w.u48(p.sequence_number)?;
                if let Some(cid) = p.cid {
                    w.bytes(cid)?;
                }
                w.opaque(Len::U16, p.fragment)
            }
            DtlsRecord::Unified(u) => {
                w.u8(u.flags)?;
                if let Some(cid) = u.cid {
                    w.bytes(cid)?;
                }
                if u.seq_is_16_bit() {
                    w.u16(u.sequence_bits)?;
                } else {
                    w.u8(u.sequence_bits as u8)?;
                }
                if u.length_present() {
                    w.opaque(Len::U16, u.encrypted_record)
                } else {
                    w.bytes(u.encrypted_record)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_record_round_trip_and_cut_short() {
        let rec = [0x16, 0x03, 0x01, 0x00, 0x03, 1, 2, 3];
        let mut r = Reader::new(&rec);
        let t = TlsRecord::parse(&mut r).unwrap();
        assert_eq!(t.content_type, ContentType::HANDSHAKE);
        assert_eq!(t.fragment, &[1, 2, 3]);
        let mut out = [0u8; 16];
        let mut w = Writer::new(&mut out);
        t.emit(&mut w).unwrap();
        assert_eq!(w.written(), &rec);

        let e = TlsRecord::parse(&mut Reader::new(&rec[..7])).unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthExceeds {
                declared: 3,
                available: 2
            }
        );
        assert_eq!(std::format!("{}", e.path), "length");
    }

    // Record headers from pion/dtls tests (../shared/vectors/parser/pion_dtls_vectors.txt,
    // conn_test.go:3910 `frag`): a DTLS 1.2 handshake record, epoch 0, sequence 1.
    #[test]
    fn dtls12_record_from_pion() {
        let b = [
            0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x30, 0x03,
        ];
        let e = DtlsRecord::parse(&mut Reader::new(&b), None).unwrap_err();
        assert_eq!(e.offset, 11);
        let mut full = std::vec::Vec::from(&b[..13]);
        full.extend_from_slice(&[0u8; 0x30]);
        let rec = DtlsRecord::parse(&mut Reader::new(&full), None).unwrap();
        match rec {
            DtlsRecord::Plaintext(p) => {
                assert_eq!(p.version, ProtocolVersion::DTLS12);
                assert_eq!(p.sequence_number, 1);
                assert_eq!(p.fragment.len(), 0x30);
            }
            DtlsRecord::Unified(_) => panic!("not a unified header"),
        }
        let mut out = [0u8; 128];
        let mut w = Writer::new(&mut out);
        rec.emit(&mut w).unwrap();
        assert_eq!(w.written(), &full[..]);
    }

    #[test]
    fn dtls12_cid_record() {
        // tls12_cid record with a 4-byte CID (RFC 9146 section 4).
        let b = [
            25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0xaa, 0xbb, 0xcc, 0xdd, 0, 2, 9, 9,
        ];
        let rec = DtlsRecord::parse(&mut Reader::new(&b), Some(4)).unwrap();
        let DtlsRecord::Plaintext(p) = rec else {
            panic!("plaintext header expected")
        };
        assert_eq!(p.cid, Some(&[0xaa, 0xbb, 0xcc, 0xdd][..]));
        assert_eq!(p.fragment, &[9, 9]);
        // Without knowing the CID length the record cannot be framed.
        assert!(DtlsRecord::parse(&mut Reader::new(&b), None).is_err());
    }

    #[test]
    fn dtls13_unified_header() {
        // Illustrated DTLS 1.3 (../shared/vectors/captures/illustrated-dtls/captures/caps/
        // 03-encext-shs-prot starts with 0x2e: C=0, S=1, L=1, epoch bits 2).
        let b = [0x2e, 0x12, 0x34, 0x00, 0x03, 1, 2, 3];
        let rec = DtlsRecord::parse(&mut Reader::new(&b), None).unwrap();
        let DtlsRecord::Unified(u) = rec else {
            panic!("unified header expected")
        };
        assert!(u.seq_is_16_bit() && u.length_present() && !u.cid_present());
        assert_eq!(u.epoch_low_bits(), 2);
        assert_eq!(u.sequence_bits, 0x1234);
        assert_eq!(u.encrypted_record, &[1, 2, 3]);
        let mut out = [0u8; 16];
        let mut w = Writer::new(&mut out);
        rec.emit(&mut w).unwrap();
        assert_eq!(w.written(), &b);
        // No length: the record runs to the end of the datagram.
        let b2 = [0x20, 0x05, 7, 7, 7, 7];
        let DtlsRecord::Unified(u2) = DtlsRecord::parse(&mut Reader::new(&b2), None).unwrap()
        else {
            panic!("unified header expected")
        };
        assert_eq!(u2.encrypted_record.len(), 4);
    }
}
