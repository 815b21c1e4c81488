//! One DTLS 1.2 endpoint's record state: epoch 0 in the clear with its own sequence
//! numbers (continued across flights and retransmissions, RFC 6347 section 4.1), epoch 1
//! under the negotiated keys from the change_cipher_spec on, a replay window per readable
//! epoch (section 4.1.2.6), and the connection IDs of RFC 9146 once agreed.

use super::outgoing::Sealer;
use super::DTLS12;
use crate::error::Error;
use crate::record_layer::dtls12::{write_plain, Dtls12Protector, PlainSeq, MAX_CID_LEN};
use crate::record_layer::replay::ReplayWindow;
use core::ops::Range;
use mote_crypto::Aead;
use mote_wire::record::DTLS_HEADER_LEN;
use mote_wire::ContentType;

/// A connection ID (at most 255 bytes) kept inline.
#[derive(Clone, Copy)]
pub(crate) struct Cid {
    bytes: [u8; MAX_CID_LEN],
    len: u8,
}

impl Cid {
    pub fn new(c: &[u8]) -> Option<Cid> {
        let mut bytes = [0u8; MAX_CID_LEN];
        bytes.get_mut(..c.len())?.copy_from_slice(c);
        Some(Cid {
            bytes,
            len: c.len() as u8,
        })
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

pub(crate) struct RecordState<A: Aead> {
    plain_seq: PlainSeq,
    /// Epoch 1 keys for sending, installed when our change_cipher_spec goes out.
    write: Option<Dtls12Protector<A>>,
    /// Epoch 1 keys for receiving: ready once derived, used after the peer's CCS.
    read_ready: Option<Dtls12Protector<A>>,
    read: Option<Dtls12Protector<A>>,
    replay0: ReplayWindow,
    replay1: ReplayWindow,
    /// The CID records to the peer carry (epoch 1 only, RFC 9146 section 3).
    pub peer_cid: Option<Cid>,
    /// The length of the CID the peer puts in records to us (epoch 1 only).
    pub own_cid_len: usize,
}

/// What opening a record gave.
pub(crate) struct Opened {
    pub ct: ContentType,
    pub epoch: u16,
    /// The content within the record.
    pub content: Range<usize>,
}

impl<A: Aead> RecordState<A> {
    pub fn new() -> Self {
        RecordState {
            plain_seq: PlainSeq::new(),
            write: None,
            read_ready: None,
            read: None,
            replay0: ReplayWindow::new(),
            replay1: ReplayWindow::new(),
            peer_cid: None,
            own_cid_len: 0,
        }
    }

    /// Continue epoch-0 numbering at `seq` (a server answering a ClientHello statelessly).
    pub fn start_plain_at(&mut self, seq: u64) {
        self.plain_seq = PlainSeq::starting_at(seq);
    }

    /// The keys derived from the master secret: ours for writing (used from our CCS on),
    /// the peer's for reading (from its CCS on).
    pub fn install(&mut self, write: Dtls12Protector<A>, read: Dtls12Protector<A>) {
        self.write = Some(write);
        self.read_ready = Some(read);
    }

    /// The peer's keys, used from its change_cipher_spec on (a server derives them before
    /// it sends its own).
    pub fn prepare_read(&mut self, read: Dtls12Protector<A>) {
        self.read_ready = Some(read);
    }

    /// Our keys, used from our change_cipher_spec on.
    pub fn start_writing(&mut self, write: Dtls12Protector<A>) {
        self.write = Some(write);
    }

    /// The peer's change_cipher_spec: its records are epoch 1 from now on. False when no
    /// keys are ready (a CCS too early).
    pub fn peer_changed_cipher(&mut self) -> bool {
        match self.read_ready.take() {
            Some(r) => {
                self.read = Some(r);
                self.replay1.reset();
                true
            }
            None => false,
        }
    }

    /// Opens the record `rec` (one whole record, header first) in place, or says why it is
    /// to be dropped. Duplicates and records older than the window are dropped; a record
    /// only moves the window once it authenticated.
    pub fn open(&mut self, rec: &mut [u8], epoch: u16, seq: u64) -> Result<Opened, Error> {
        match epoch {
            0 => {
                if !self.replay0.check(seq) || rec.first() == Some(&ContentType::TLS12_CID.0) {
                    return Err(crate::error::PeerMisbehaved::BadRecordMac.into());
                }
                self.replay0.accept(seq);
                Ok(Opened {
                    ct: ContentType(rec[0]),
                    epoch: 0,
                    content: DTLS_HEADER_LEN..rec.len(),
                })
            }
            1 => {
                let Some(r) = self.read.as_ref() else {
                    return Err(crate::error::PeerMisbehaved::BadRecordMac.into());
                };
                if !self.replay1.check(seq) {
                    return Err(crate::error::PeerMisbehaved::BadRecordMac.into());
                }
                let (ct, content, seq) = r.open(rec, self.own_cid_len)?;
                self.replay1.accept(seq);
                Ok(Opened {
                    ct,
                    epoch: 1,
                    content,
                })
            }
            _ => Err(crate::error::PeerMisbehaved::BadRecordMac.into()),
        }
    }

    /// The epoch application data and alerts go out under.
    pub fn write_epoch(&self) -> u16 {
        u16::from(self.write.is_some())
    }

    fn cid_len(&self) -> usize {
        self.peer_cid.map_or(0, |c| c.as_slice().len())
    }
}

impl<A: Aead> Sealer for RecordState<A> {
    fn overhead(&self, epoch: u16) -> (usize, usize) {
        match (&self.write, epoch) {
            (Some(w), 1) => {
                let cid = self.cid_len();
                let before = w.payload_offset(cid);
                (before, w.overhead(cid) - before)
            }
            _ => (DTLS_HEADER_LEN, 0),
        }
    }

    fn seal(
        &mut self,
        epoch: u16,
        ct: ContentType,
        record: &mut [u8],
        len: usize,
    ) -> Result<usize, Error> {
        let cid = self.peer_cid;
        match (self.write.as_mut(), epoch) {
            (Some(w), 1) => w.seal(ct, DTLS12, cid.as_ref().map(Cid::as_slice), record, len, 0),
            _ => write_plain(ct, DTLS12, &mut self.plain_seq, record, len),
        }
    }
}
