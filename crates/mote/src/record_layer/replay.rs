//! The DTLS anti-replay window (RFC 6347 section 4.1.2.6): a 64-record sliding bitmap below
//! the highest sequence number authenticated so far, for one epoch.
//!
//! The caller checks a record's sequence number with [`ReplayWindow::check`] before opening
//! it and marks it with [`ReplayWindow::accept`] only after it authenticated, so forged
//! records never move the window. On an epoch change it starts a fresh window
//! ([`ReplayWindow::reset`] or [`ReplayWindow::new`]).

// Used by the DTLS 1.2 engine, coming.
#![allow(dead_code)]

/// How many sequence numbers at and below the highest one the window remembers.
pub const WINDOW_SIZE: u64 = 64;

/// Which sequence numbers of one epoch have been received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// The highest sequence number accepted, or `None` before the first.
    highest: Option<u64>,
    /// Bit `i` set: `highest - i` was accepted (bit 0 is `highest` itself).
    bitmap: u64,
}

impl ReplayWindow {
    pub const fn new() -> Self {
        ReplayWindow {
            highest: None,
            bitmap: 0,
        }
    }

    /// Forgets everything (on an epoch change).
    pub fn reset(&mut self) {
        *self = ReplayWindow::new();
    }

    /// The highest sequence number accepted so far in this epoch.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Whether a record with `seq` may be processed: false for a sequence number already
    /// accepted and for one too old to tell (64 or more below the highest), which RFC 6347
    /// section 4.1.2.6 has the receiver discard.
    pub const fn check(&self, seq: u64) -> bool {
        let Some(highest) = self.highest else {
            return true;
        };
        if seq > highest {
            return true;
        }
        let behind = highest - seq;
        behind < WINDOW_SIZE && self.bitmap & (1 << behind) == 0
    }

    /// Marks `seq` received. Call only once the record authenticated; a sequence number
    /// above the highest slides the window up.
    pub fn accept(&mut self, seq: u64) {
        match self.highest {
            Some(highest) if seq <= highest => {
                let behind = highest - seq;
                if behind < WINDOW_SIZE {
                    self.bitmap |= 1 << behind;
                }
            }
            Some(highest) => {
                let ahead = seq - highest;
                self.bitmap = if ahead >= WINDOW_SIZE {
                    0
                } else {
                    self.bitmap << ahead
                } | 1;
                self.highest = Some(seq);
            }
            None => {
                self.bitmap = 1;
                self.highest = Some(seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// check then accept, as the record layer does for an authentic record.
    fn receive(w: &mut ReplayWindow, seq: u64) -> bool {
        if w.check(seq) {
            w.accept(seq);
            true
        } else {
            false
        }
    }

    #[test]
    fn in_order() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.highest(), None);
        for s in 0..200 {
            assert!(receive(&mut w, s), "seq {s}");
            assert_eq!(w.highest(), Some(s));
        }
        for s in 0..200 {
            assert!(!w.check(s), "seq {s} replayed");
        }
    }

    #[test]
    fn first_record_need_not_be_zero() {
        let mut w = ReplayWindow::new();
        assert!(receive(&mut w, 1000));
        // Below the first record but within the window: not seen, so acceptable.
        assert!(receive(&mut w, 999));
        assert!(receive(&mut w, 1000 - 63));
        assert!(!w.check(1000 - 64));
        assert!(!w.check(1000));
    }

    #[test]
    fn out_of_order_within_window() {
        let mut w = ReplayWindow::new();
        for s in [5u64, 3, 4, 0, 10, 1, 2, 9, 6, 8, 7] {
            assert!(receive(&mut w, s), "seq {s}");
        }
        assert_eq!(w.highest(), Some(10));
        for s in 0..=10 {
            assert!(!w.check(s), "seq {s}");
        }
        assert!(w.check(11));
    }

    #[test]
    fn duplicates_rejected() {
        let mut w = ReplayWindow::new();
        assert!(receive(&mut w, 7));
        assert!(!receive(&mut w, 7));
        assert!(receive(&mut w, 3));
        assert!(!receive(&mut w, 3));
        assert!(receive(&mut w, 70));
        assert!(!receive(&mut w, 7)); // now 63 behind: still remembered
        assert!(!receive(&mut w, 70));
    }

    #[test]
    fn window_edges() {
        let mut w = ReplayWindow::new();
        assert!(receive(&mut w, 100));
        // 63 behind is the oldest the window holds; 64 behind is too old.
        assert!(w.check(37));
        assert!(!w.check(36));
        assert!(!w.check(0));
        assert!(receive(&mut w, 37));
        assert!(!w.check(37));
        // Sliding by one pushes 37 out of the window: too old now, still refused.
        assert!(receive(&mut w, 101));
        assert!(!w.check(37));
        assert!(w.check(38));
    }

    #[test]
    fn large_jumps() {
        let mut w = ReplayWindow::new();
        for s in 0..10 {
            assert!(receive(&mut w, s));
        }
        // A jump of exactly 64 and of far more clears the bitmap.
        assert!(receive(&mut w, 73));
        assert!(!w.check(9));
        assert!(w.check(10));
        assert!(receive(&mut w, 10));
        let top = (1u64 << 48) - 1;
        assert!(receive(&mut w, top));
        assert_eq!(w.highest(), Some(top));
        assert!(!w.check(73));
        assert!(!w.check(top));
        assert!(w.check(top - 1));
        assert!(w.check(top - 63));
        assert!(!w.check(top - 64));
        // A jump of 63 keeps the old highest's bit at the window's far end.
        let mut w = ReplayWindow::new();
        assert!(receive(&mut w, 0));
        assert!(receive(&mut w, 63));
        assert!(!w.check(0));
        assert!(w.check(1));
    }

    #[test]
    fn check_alone_does_not_move_the_window() {
        // A record that fails to authenticate is checked but never accepted.
        let mut w = ReplayWindow::new();
        assert!(receive(&mut w, 5));
        assert!(w.check(1_000_000));
        assert_eq!(w.highest(), Some(5));
        assert!(w.check(4));
        w.reset();
        assert_eq!(w, ReplayWindow::new());
        assert!(w.check(5));
    }
}
