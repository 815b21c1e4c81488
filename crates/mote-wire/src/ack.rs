//! The DTLS 1.3 ACK message (content type 26): RFC 9147 section 7.
//!
//! ```text
//! struct {
//!     uint64 epoch;
//!     uint64 sequence_number;
//! } RecordNumber;
//! struct {
//!     RecordNumber record_numbers<0..2^16-1>;
//! } ACK;
//! ```
//!
//! ACK is its own content type rather than a handshake message so that it stays out of the
//! transcript (section 7). Like [`crate::Alert::parse`], parsing reads one ACK and leaves it to
//! the caller to require that nothing follows it in the record.

use crate::error::{DecodeError, EncodeError};
use crate::list::{Item, List};
use crate::reader::{Bounds, Len, Reader};
use crate::writer::Writer;

/// A record's epoch and sequence number, unpacked to 64 bits each (RFC 9147 section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordNumber {
    pub epoch: u64,
    pub sequence_number: u64,
}

impl<'a> Item<'a> for RecordNumber {
    type Ctx = ();
    fn read(r: &mut Reader<'a, '_>, _: ()) -> Result<Self, DecodeError> {
        Ok(RecordNumber {
            epoch: r.u64("epoch")?,
            sequence_number: r.u64("sequence_number")?,
        })
    }
    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u64(self.epoch)?;
        w.u64(self.sequence_number)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ack<'a> {
    /// In numerically increasing order, by the RFC; not checked here.
    pub record_numbers: List<'a, RecordNumber>,
}

impl<'a> Ack<'a> {
    /// Reads an ACK inside node "ack". The list length must be a multiple of 16 bytes (one
    /// RecordNumber), else `NotMultiple`.
    pub fn parse(r: &mut Reader<'a, '_>) -> Result<Self, DecodeError> {
        r.node("ack", None, |r| {
            let record_numbers = List::read(
                r,
                Len::U16,
                "record_numbers_length",
                "record_numbers",
                "record_number",
                Bounds::units(0, 0xffff, 16),
                (),
            )?;
            Ok(Ack { record_numbers })
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        self.record_numbers.write_prefixed(Len::U16, w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use std::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn round_trip(b: &[u8]) -> Vec<RecordNumber> {
        let mut r = Reader::new(b);
        let ack = Ack::parse(&mut r).unwrap();
        assert!(r.is_empty());
        let items: Vec<RecordNumber> = ack.record_numbers.iter().collect();
        let mut out = [0u8; 128];
        for a in [
            ack,
            Ack {
                record_numbers: List::Items(&items),
            },
        ] {
            let mut w = Writer::new(&mut out);
            a.emit(&mut w).unwrap();
            assert_eq!(w.written(), b);
        }
        items
    }

    // pion/dtls pkg/protocol/ack_test.go (TestACK, TestACK_MultipleRecords and the two
    // unmarshal error tests), from ../shared/vectors/parser/pion_dtls_vectors.txt.
    #[test]
    fn pion_vectors() {
        let one = round_trip(&hex("00100000000000000001000000000000002a"));
        assert_eq!(
            one,
            [RecordNumber {
                epoch: 1,
                sequence_number: 42
            }]
        );
        let three = round_trip(&hex(
            "0030000000000000000100000000000000010000000000000001000000000000000200000000000000020000000000000000",
        ));
        assert_eq!(three.len(), 3);
        assert_eq!(
            three[2],
            RecordNumber {
                epoch: 2,
                sequence_number: 0
            }
        );

        let truncated = hex("001000000000000000");
        let e = Ack::parse(&mut Reader::new(&truncated)).unwrap_err();
        assert_eq!(e.offset, 0);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthExceeds {
                declared: 16,
                available: 7
            }
        );
        assert_eq!(std::format!("{}", e.path), "ack.record_numbers_length");

        // Two bytes after a complete ACK: parse stops at the ACK's end; the record layer
        // rejects what follows.
        let trailing = hex("001000000000000000010000000000000001dead");
        let mut r = Reader::new(&trailing);
        Ack::parse(&mut r).unwrap();
        assert_eq!(r.remaining(), 2);
        assert!(r.expect_end("").is_err());
    }

    // Illustrated DTLS 1.3 (../shared/vectors/captures/illustrated-dtls/captures/caps/
    // record-sack, from syncsynchalt/illustrated-dtls): the decrypted ACK record, followed by
    // its inner content type (26).
    #[test]
    fn illustrated_dtls_server_ack() {
        let b = hex("0010000000000000000200000000000000001a");
        let (ack, ct) = b.split_at(b.len() - 1);
        assert_eq!(ct, [26]);
        let rn = round_trip(ack);
        assert_eq!(
            rn,
            [RecordNumber {
                epoch: 2,
                sequence_number: 0
            }]
        );
    }

    #[test]
    fn partial_record_number_is_not_multiple() {
        let b = [0, 8, 0, 0, 0, 0, 0, 0, 0, 1];
        let e = Ack::parse(&mut Reader::new(&b)).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NotMultiple { len: 8, unit: 16 });
    }
}
