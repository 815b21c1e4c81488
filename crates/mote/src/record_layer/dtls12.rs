//! DTLS 1.2 record protection with AEAD ciphers (RFC 6347 section 4.1, RFC 5246 section
//! 6.2.3.3), including RFC 9146 connection-ID records, plus the epoch-0 plaintext records
//! of the first flights.
//!
//! Nonces:
//! - AES-GCM (RFC 5288) and AES-CCM / CCM_8 (RFC 6655): a 4-byte salt from the key block
//!   followed by an 8-byte explicit nonce carried in the record. mote sends epoch||seq as
//!   the explicit nonce (as OpenSSL and mbed TLS do) and accepts whatever the peer sent.
//! - ChaCha20-Poly1305 (RFC 7905): the 12-byte IV XOR the left-padded epoch||seq; no
//!   explicit nonce.
//!
//! Additional data:
//! - Without a connection ID (RFC 5246 6.2.3.3, RFC 6347 4.1.2.1):
//!   `epoch(2) || sequence_number(6) || type(1) || version(2) || length(2)`, the length
//!   being that of the plaintext.
//! - With a connection ID (RFC 9146 section 5.3): `ff*8 || 25 || cid_length(1) || 25 ||
//!   version(2) || epoch(2) || sequence_number(6) || cid || length_of_DTLSInnerPlaintext(2)`.
//!
//! Record layout, `h = 13 + cid_len` and `e` the explicit nonce length (8, or 0 for
//! ChaCha20-Poly1305):
//!
//! ```text
//! [0..h)          header: type, version, epoch, sequence_number, [cid], length
//! [h..h+e)        explicit nonce
//! [h+e..)         ciphertext of the content (with a CID: content || real_type || zeros)
//! last tag bytes  the AEAD tag
//! ```
//!
//! RFC 6347 section 4.1.2.7: a record that fails here should be discarded silently (no
//! alert); whether to do so is the caller's decision, as is the replay check
//! ([`super::replay::ReplayWindow`]) with the sequence number [`Dtls12Protector::open`]
//! returns.

// Used by the DTLS 1.2 engine, coming.
#![allow(dead_code)]

use core::ops::Range;

use crate::error::{ApiMisuse, Error, PeerMisbehaved};
use mote_crypto::{Aead, AeadAlgorithm, CryptoError, Provider};
use mote_wire::record::{DtlsRecord, DTLS_HEADER_LEN};
use mote_wire::{ContentType, ProtocolVersion, Reader};

/// The largest plaintext (or DTLSInnerPlaintext) of a record: 2^14 (RFC 5246 6.2.1,
/// RFC 9146 section 5).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// The largest sequence number: they are 48 bits (RFC 6347 section 4.1).
pub const MAX_SEQ: u64 = (1 << 48) - 1;
/// The longest connection ID (cid_length is one byte, RFC 9146 section 3).
pub const MAX_CID_LEN: usize = 255;
/// The explicit nonce of the GCM and CCM suites (RFC 5288 section 3, RFC 6655 section 3).
pub const EXPLICIT_NONCE_LEN: usize = 8;
/// The additional data without a CID: seq_num(8) + type + version + length.
const AAD_LEN: usize = 13;
/// The fixed part of the CID additional data: ff*8, 25, cid_length, 25, version, epoch,
/// sequence_number, length_of_DTLSInnerPlaintext.
const CID_AAD_FIXED: usize = 8 + 1 + 1 + 1 + 2 + 2 + 6 + 2;
const MAX_AAD: usize = CID_AAD_FIXED + MAX_CID_LEN;

/// The explicit nonce length of `alg` in DTLS 1.2: 0 for ChaCha20-Poly1305 (RFC 7905),
/// 8 otherwise.
pub const fn explicit_nonce_len(alg: AeadAlgorithm) -> usize {
    match alg {
        AeadAlgorithm::ChaCha20Poly1305 => 0,
        _ => EXPLICIT_NONCE_LEN,
    }
}

/// The length of the fixed (implicit) IV `alg` takes from the key block: 12 for
/// ChaCha20-Poly1305 (RFC 7905), the 4-byte salt otherwise (RFC 5288, RFC 6655).
pub const fn fixed_iv_len(alg: AeadAlgorithm) -> usize {
    match alg {
        AeadAlgorithm::ChaCha20Poly1305 => 12,
        _ => 4,
    }
}

/// Writes a DTLS 1.2 record header (RFC 6347 4.1; with a CID, RFC 9146 section 4).
fn write_header(
    buf: &mut [u8],
    content_type: ContentType,
    version: ProtocolVersion,
    epoch: u16,
    seq: u64,
    cid: &[u8],
    length: u16,
) {
    buf[0] = content_type.0;
    buf[1..3].copy_from_slice(&version.0.to_be_bytes());
    buf[3..5].copy_from_slice(&epoch.to_be_bytes());
    buf[5..11].copy_from_slice(&seq.to_be_bytes()[2..]);
    buf[11..11 + cid.len()].copy_from_slice(cid);
    buf[11 + cid.len()..13 + cid.len()].copy_from_slice(&length.to_be_bytes());
}

/// The AEAD additional data for a record (see the module documentation), written to `out`;
/// returns its length. `length` is the plaintext length without a CID and the
/// DTLSInnerPlaintext length with one.
fn additional_data(
    out: &mut [u8; MAX_AAD],
    content_type: ContentType,
    version: ProtocolVersion,
    epoch: u16,
    seq: u64,
    cid: Option<&[u8]>,
    length: u16,
) -> usize {
    let epoch_seq = epoch_seq(epoch, seq);
    match cid {
        None => {
            out[..8].copy_from_slice(&epoch_seq);
            out[8] = content_type.0;
            out[9..11].copy_from_slice(&version.0.to_be_bytes());
            out[11..13].copy_from_slice(&length.to_be_bytes());
            AAD_LEN
        }
        Some(cid) => {
            let n = cid.len();
            out[..8].fill(0xff);
            out[8] = ContentType::TLS12_CID.0;
            out[9] = n as u8;
            out[10] = ContentType::TLS12_CID.0;
            out[11..13].copy_from_slice(&version.0.to_be_bytes());
            out[13..21].copy_from_slice(&epoch_seq);
            out[21..21 + n].copy_from_slice(cid);
            out[21 + n..23 + n].copy_from_slice(&length.to_be_bytes());
            CID_AAD_FIXED + n
        }
    }
}

/// epoch(2) || sequence_number(6), the DTLS seq_num of RFC 6347 section 4.1.2.1.
fn epoch_seq(epoch: u16, seq: u64) -> [u8; 8] {
    ((u64::from(epoch) << 48) | (seq & MAX_SEQ)).to_be_bytes()
}

/// One direction's protection state for one epoch.
pub struct Dtls12Protector<A: Aead> {
    aead: A,
    /// GCM/CCM: the 4-byte salt in `iv[..4]`, the rest unused. ChaCha20-Poly1305: the IV.
    iv: [u8; 12],
    explicit_len: usize,
    epoch: u16,
    /// The next sequence number to send.
    seq: u64,
}

impl<A: Aead> Dtls12Protector<A> {
    /// A protector for `epoch` (1 or more: epoch 0 is unprotected) from a keyed AEAD and
    /// the fixed IV from the key block ([`fixed_iv_len`] bytes: 4 for GCM and CCM, 12 for
    /// ChaCha20-Poly1305). Sending starts at sequence number 0.
    pub fn new(aead: A, fixed_iv: &[u8], epoch: u16) -> Result<Self, Error> {
        let alg = aead.algorithm();
        if fixed_iv.len() != fixed_iv_len(alg) {
            return Err(Error::Crypto(CryptoError::BadLength));
        }
        if epoch == 0 {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "DTLS epoch 0 is unprotected",
            )));
        }
        let mut iv = [0u8; 12];
        iv[..fixed_iv.len()].copy_from_slice(fixed_iv);
        Ok(Dtls12Protector {
            aead,
            iv,
            explicit_len: explicit_nonce_len(alg),
            epoch,
            seq: 0,
        })
    }

    /// Keys a protector from the key block's write key and IV.
    pub fn from_keys<P: Provider<Aead = A>>(
        p: &P,
        alg: AeadAlgorithm,
        key: &[u8],
        fixed_iv: &[u8],
        epoch: u16,
    ) -> Result<Self, Error> {
        Self::new(p.aead(alg, key).map_err(Error::Crypto)?, fixed_iv, epoch)
    }

    pub fn epoch(&self) -> u16 {
        self.epoch
    }

    /// The sequence number the next sealed record gets.
    pub fn sequence(&self) -> u64 {
        self.seq
    }

    pub fn tag_len(&self) -> usize {
        self.aead.algorithm().tag_len()
    }

    /// The explicit nonce length: 8, or 0 for ChaCha20-Poly1305.
    pub fn explicit_nonce_len(&self) -> usize {
        self.explicit_len
    }

    /// Where [`seal`](Self::seal) expects the plaintext and where [`open`](Self::open)'s
    /// plaintext starts: the header (13 + `cid_len` bytes) plus the explicit nonce.
    pub fn payload_offset(&self, cid_len: usize) -> usize {
        DTLS_HEADER_LEN + cid_len + self.explicit_len
    }

    /// The bytes a record adds to its content: header, explicit nonce and tag, plus the
    /// inner content type when `cid_len` is not 0 (padding not included).
    pub fn overhead(&self, cid_len: usize) -> usize {
        self.payload_offset(cid_len) + self.tag_len() + usize::from(cid_len != 0)
    }

    /// The length of the record [`seal`](Self::seal) writes for `plaintext_len` bytes of
    /// content (and, with a CID, `padding` zeros).
    pub fn sealed_len(&self, cid_len: usize, plaintext_len: usize, padding: usize) -> usize {
        let padding = if cid_len != 0 { padding } else { 0 };
        self.overhead(cid_len) + plaintext_len + padding
    }

    /// The per-record nonce. `explicit` is the record's explicit nonce (GCM and CCM);
    /// ChaCha20-Poly1305 uses `epoch_seq` instead.
    fn nonce(&self, epoch_seq: &[u8; 8], explicit: &[u8]) -> [u8; 12] {
        let mut n = self.iv;
        if self.explicit_len == 0 {
            for (b, s) in n[4..].iter_mut().zip(epoch_seq) {
                *b ^= s;
            }
        } else {
            n[4..].copy_from_slice(explicit);
        }
        n
    }

    /// Seals a record in place and returns its length.
    ///
    /// The caller puts the content at `buf[payload_offset(cid_len)..][..plaintext_len]`
    /// (`cid_len` being `cid`'s length, 0 for `None`); this writes the header, the explicit
    /// nonce, with a CID the real content type and `padding` zeros after the content,
    /// encrypts, and appends the tag: the record is `buf[..returned length]`, of
    /// [`sealed_len`](Self::sealed_len) bytes.
    ///
    /// `cid`: the peer's connection ID. With `Some` non-empty CID the record is a
    /// tls12_cid record (RFC 9146); `None` or an empty CID give an ordinary record, where
    /// `padding` must be 0. The record gets this protector's epoch and next sequence
    /// number, which then advances; after 2^48 - 1 it is exhausted
    /// ([`Error::SequenceExhausted`]: the epoch must change or the connection end).
    pub fn seal(
        &mut self,
        content_type: ContentType,
        version: ProtocolVersion,
        cid: Option<&[u8]>,
        buf: &mut [u8],
        plaintext_len: usize,
        padding: usize,
    ) -> Result<usize, Error> {
        let cid = cid.filter(|c| !c.is_empty());
        let cid_len = cid.map_or(0, <[u8]>::len);
        if cid_len > MAX_CID_LEN {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "connection ID longer than 255 bytes",
            )));
        }
        if content_type == ContentType::TLS12_CID {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "tls12_cid is not a content type to send",
            )));
        }
        if cid.is_none() && padding != 0 {
            return Err(Error::Api(ApiMisuse::BadConfig(
                "DTLS 1.2 records pad only with a connection ID",
            )));
        }
        if self.seq > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        let inner_len = match cid {
            Some(_) => plaintext_len.saturating_add(1).saturating_add(padding),
            None => plaintext_len,
        };
        if inner_len > MAX_PLAINTEXT {
            return Err(Error::Capacity {
                needed: inner_len,
                available: MAX_PLAINTEXT,
            });
        }
        let header_len = DTLS_HEADER_LEN + cid_len;
        let start = header_len + self.explicit_len;
        let inner_end = start + inner_len;
        let tag_len = self.tag_len();
        let total = inner_end + tag_len;
        if total > buf.len() {
            return Err(Error::Api(ApiMisuse::BufferTooSmall {
                needed: total,
                available: buf.len(),
            }));
        }
        if cid.is_some() {
            buf[start + plaintext_len] = content_type.0;
            buf[start + plaintext_len + 1..inner_end].fill(0);
        }
        let outer_type = if cid.is_some() {
            ContentType::TLS12_CID
        } else {
            content_type
        };
        // At most 2^14 + 8 + 16: fits.
        let fragment_len = (total - header_len) as u16;
        write_header(
            buf,
            outer_type,
            version,
            self.epoch,
            self.seq,
            cid.unwrap_or(&[]),
            fragment_len,
        );
        let epoch_seq = epoch_seq(self.epoch, self.seq);
        buf[header_len..start].copy_from_slice(&epoch_seq[..self.explicit_len]);
        let nonce = self.nonce(&epoch_seq, &epoch_seq);
        let mut aad = [0u8; MAX_AAD];
        let aad_len = additional_data(
            &mut aad,
            content_type,
            version,
            self.epoch,
            self.seq,
            cid,
            inner_len as u16,
        );
        let (body, tail) = buf[start..total].split_at_mut(inner_len);
        self.aead
            .seal_in_place(&nonce, &aad[..aad_len], body, tail)
            .map_err(Error::Crypto)?;
        self.seq += 1;
        Ok(total)
    }

    /// Opens one whole record (header included, nothing after it) in place.
    ///
    /// `cid_len` is the length of the connection ID this side receives (0 for none): with
    /// it, only tls12_cid records are accepted, without it none are. The CID's value is
    /// not checked here (it chose the connection): it is at `record[11..11 + cid_len]`.
    ///
    /// Returns the content type (with a CID, the real one from the DTLSInnerPlaintext,
    /// padding stripped), where the content lies in `record`, and the record's sequence
    /// number for the replay window ([`super::replay::ReplayWindow::accept`], to call now
    /// that the record authenticated). The version is authenticated but not checked.
    ///
    /// Errors: a record of another epoch, or of the wrong type for `cid_len`, is
    /// `UnexpectedRecord`-like misbehaviour; a malformed header a decode error; failed
    /// authentication [`PeerMisbehaved::BadRecordMac`]; a CID record of only zeros
    /// [`PeerMisbehaved::EmptyRecord`]. RFC 6347 4.1.2.7 has the caller drop such records.
    pub fn open(
        &self,
        record: &mut [u8],
        cid_len: usize,
    ) -> Result<(ContentType, Range<usize>, u64), Error> {
        let outer_type = ContentType(record.first().copied().unwrap_or(0));
        if (cid_len != 0) != (outer_type == ContentType::TLS12_CID) {
            return Err(PeerMisbehaved::UnexpectedRecord {
                content_type: outer_type.0,
            }
            .into());
        }
        let (version, epoch, seq, fragment_len) = {
            let mut r = Reader::new(record);
            let rec = DtlsRecord::parse(&mut r, (cid_len != 0).then_some(cid_len))?;
            let DtlsRecord::Plaintext(p) = rec else {
                return Err(PeerMisbehaved::UnexpectedRecord {
                    content_type: outer_type.0,
                }
                .into());
            };
            if r.remaining() != 0 {
                return Err(PeerMisbehaved::IllegalParameter("DTLS record length").into());
            }
            (p.version, p.epoch, p.sequence_number, p.fragment.len())
        };
        if epoch != self.epoch {
            return Err(PeerMisbehaved::IllegalParameter("DTLS record epoch").into());
        }
        let tag_len = self.tag_len();
        let header_len = DTLS_HEADER_LEN + cid_len;
        let start = header_len + self.explicit_len;
        let min = self.explicit_len + tag_len + usize::from(cid_len != 0);
        if fragment_len < min {
            // Too short to hold a nonce and a tag: it cannot authenticate.
            return Err(PeerMisbehaved::BadRecordMac.into());
        }
        let inner_len = fragment_len - self.explicit_len - tag_len;
        if inner_len > MAX_PLAINTEXT {
            return Err(PeerMisbehaved::RecordOverflow {
                len: inner_len,
                max: MAX_PLAINTEXT,
            }
            .into());
        }
        let epoch_seq = epoch_seq(epoch, seq);
        let nonce = self.nonce(&epoch_seq, &record[header_len..start]);
        let mut aad = [0u8; MAX_AAD];
        let cid = (cid_len != 0).then(|| &record[11..11 + cid_len]);
        let aad_len = additional_data(
            &mut aad,
            outer_type,
            version,
            epoch,
            seq,
            cid,
            inner_len as u16,
        );
        let (body, tag) = record[start..].split_at_mut(inner_len);
        self.aead
            .open_in_place(&nonce, &aad[..aad_len], body, tag)
            .map_err(|_| Error::Peer(PeerMisbehaved::BadRecordMac))?;
        if cid_len == 0 {
            return Ok((outer_type, start..start + inner_len, seq));
        }
        // Strip the zero padding: the last non-zero byte is the real type (RFC 9146 4).
        let Some(type_at) = body.iter().rposition(|&b| b != 0) else {
            return Err(PeerMisbehaved::EmptyRecord.into());
        };
        let real_type = ContentType(body[type_at]);
        if real_type == ContentType::TLS12_CID {
            return Err(PeerMisbehaved::UnexpectedRecord {
                content_type: real_type.0,
            }
            .into());
        }
        Ok((real_type, start..start + type_at, seq))
    }

    #[cfg(test)]
    fn set_sequence(&mut self, seq: u64) {
        self.seq = seq;
    }
}

/// The sequence numbers of epoch 0 (the unprotected first flights). They run on across
/// flights and retransmissions (RFC 6347 4.1: each record, retransmissions too, gets a new
/// one), so the caller keeps one counter for the handshake, apart from the protectors of
/// later epochs. A stateless server answering a ClientHello with HelloVerifyRequest starts
/// at the ClientHello's number ([`PlainSeq::starting_at`], RFC 6347 4.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlainSeq {
    next: u64,
}

impl PlainSeq {
    pub const fn new() -> Self {
        PlainSeq { next: 0 }
    }

    pub const fn starting_at(seq: u64) -> Self {
        PlainSeq { next: seq }
    }

    /// The number the next record gets.
    pub const fn peek(&self) -> u64 {
        self.next
    }

    /// Takes the next number, or [`Error::SequenceExhausted`] past 2^48 - 1.
    pub fn take(&mut self) -> Result<u64, Error> {
        if self.next > MAX_SEQ {
            return Err(Error::SequenceExhausted);
        }
        let seq = self.next;
        self.next += 1;
        Ok(seq)
    }
}

/// Writes the header of an epoch-0 (plaintext) record around content the caller put at
/// `buf[DTLS_HEADER_LEN..][..len]`, taking the next number from `seq`. Returns the record's
/// length, `DTLS_HEADER_LEN + len`.
pub fn write_plain(
    content_type: ContentType,
    version: ProtocolVersion,
    seq: &mut PlainSeq,
    buf: &mut [u8],
    len: usize,
) -> Result<usize, Error> {
    if len > MAX_PLAINTEXT {
        return Err(Error::Capacity {
            needed: len,
            available: MAX_PLAINTEXT,
        });
    }
    let total = DTLS_HEADER_LEN + len;
    if total > buf.len() {
        return Err(Error::Api(ApiMisuse::BufferTooSmall {
            needed: total,
            available: buf.len(),
        }));
    }
    let n = seq.take()?;
    write_header(buf, content_type, version, 0, n, &[], len as u16);
    Ok(total)
}

#[cfg(test)]
#[path = "dtls12_tests.rs"]
mod tests;
