//! The plain model `mote_wire::reassembly::FragmentAssembler` is checked against, by the
//! targets reassembly.rs (the assembler alone) and dtls_reassembly.rs (DTLS handshake
//! fragments, as the engine feeds them): the message length, which bytes arrived, their
//! values (the last written wins), and the ranges inserted (zero-length ones included, as
//! the assembler keeps them too) merged wherever they touch.

use mote_wire::reassembly::{FragmentError, TooLarge, MAX_RANGES};

#[derive(Default)]
pub struct AssemblyModel {
    pub total: Option<usize>,
    pub have: Vec<bool>,
    pub bytes: Vec<u8>,
    pub ranges: Vec<(usize, usize)>,
}

impl AssemblyModel {
    /// The ranges once `s..e` is added.
    pub fn merged_with(&self, s: usize, e: usize) -> Vec<(usize, usize)> {
        let mut all = self.ranges.clone();
        all.push((s, e));
        all.sort_unstable();
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (a, b) in all {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }

    /// What an assembler of capacity `cap` must answer to `len` bytes at `offset` of a
    /// message of `total` bytes: the ranges it then holds, or the error.
    pub fn expect_insert(
        &self,
        cap: usize,
        total: usize,
        offset: usize,
        len: usize,
    ) -> Result<Vec<(usize, usize)>, FragmentError> {
        if self.total.is_some_and(|t| t != total) {
            return Err(FragmentError::Inconsistent);
        }
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= total)
            .ok_or(FragmentError::Inconsistent)?;
        if total > cap {
            return Err(FragmentError::TooLarge(TooLarge {
                needed: total,
                capacity: cap,
            }));
        }
        let merged = self.merged_with(offset, end);
        if merged.len() > MAX_RANGES {
            return Err(FragmentError::TooScattered);
        }
        Ok(merged)
    }

    /// Records an insert [`AssemblyModel::expect_insert`] accepted with `merged`.
    pub fn apply(&mut self, total: usize, offset: usize, data: &[u8], merged: Vec<(usize, usize)>) {
        if self.total.is_none() {
            self.total = Some(total);
            self.have = vec![false; total];
            self.bytes = vec![0; total];
        }
        for (i, &b) in data.iter().enumerate() {
            self.have[offset + i] = true;
            self.bytes[offset + i] = b;
        }
        self.ranges = merged;
    }

    pub fn reset(&mut self) {
        *self = AssemblyModel::default();
    }

    /// The message, once every byte of it arrived.
    pub fn complete(&self) -> Option<&[u8]> {
        self.total?;
        self.have.iter().all(|&h| h).then_some(&self.bytes[..])
    }
}
