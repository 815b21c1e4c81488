//! The flight retransmission timer of RFC 6347 section 4.2.4: armed when a flight that
//! expects an answer goes out, doubled on each expiry up to a maximum, cancelled when the
//! answer starts arriving. Time is the caller's (milliseconds); nothing here reads a clock.

use crate::error::Error;

/// Retransmission settings. RFC 6347 recommends 1 s initially and a 60 s ceiling; RFC 7925
/// section 11 suggests longer initial timers for constrained networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitConfig {
    /// The first timeout, in milliseconds.
    pub initial_ms: u32,
    /// What each expiry multiplies the timeout by (RFC 6347 doubles it: 2; 1 keeps it
    /// constant, for links where a fixed period is known to be right).
    pub backoff: u8,
    /// The ceiling the timeout doubles up to, in milliseconds.
    pub max_ms: u32,
    /// Retransmissions of one flight before the handshake fails.
    pub max_retransmissions: u8,
}

impl RetransmitConfig {
    pub const fn new() -> Self {
        RetransmitConfig {
            initial_ms: 1_000,
            backoff: 2,
            max_ms: 60_000,
            max_retransmissions: 7,
        }
    }
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// One flight's timer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timer {
    cfg: RetransmitConfig,
    /// When it fires (ms), if armed.
    deadline: Option<u64>,
    /// The current timeout (ms).
    timeout: u32,
    /// Retransmissions of the current flight so far.
    pub retransmissions: u8,
    /// Retransmissions over the whole connection, for statistics.
    pub total_retransmissions: u32,
}

impl Timer {
    pub fn new(cfg: RetransmitConfig) -> Self {
        Timer {
            cfg,
            deadline: None,
            timeout: cfg.initial_ms.max(1),
            retransmissions: 0,
            total_retransmissions: 0,
        }
    }

    /// A new flight went out at `now`: arm with the initial timeout.
    pub fn start(&mut self, now: u64) {
        self.timeout = self.cfg.initial_ms.max(1);
        self.retransmissions = 0;
        self.deadline = Some(now + u64::from(self.timeout));
    }

    /// The peer's answer is arriving (a new message of it was taken): the flight is not
    /// unanswered, so the count toward giving up starts again; the timeout keeps its
    /// current value. Bounded: a handshake has a handful of messages.
    pub fn progress(&mut self) {
        self.retransmissions = 0;
    }

    pub fn cancel(&mut self) {
        self.deadline = None;
    }

    /// The configured first timeout (ms).
    pub fn initial_ms(&self) -> u32 {
        self.cfg.initial_ms.max(1)
    }

    pub fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Whether the timer fired at `now`; if so it is re-armed with the doubled timeout (the
    /// caller retransmits), or the handshake has failed after too many retransmissions.
    pub fn expired(&mut self, now: u64) -> Result<bool, Error> {
        match self.deadline {
            Some(d) if now >= d => {
                if self.retransmissions >= self.cfg.max_retransmissions {
                    self.deadline = None;
                    return Err(Error::HandshakeTimeout {
                        retransmissions: self.retransmissions,
                    });
                }
                self.retransmissions += 1;
                self.total_retransmissions += 1;
                self.timeout = self
                    .timeout
                    .saturating_mul(u32::from(self.cfg.backoff.max(1)))
                    .min(self.cfg.max_ms.max(1));
                self.deadline = Some(now + u64::from(self.timeout));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling_then_gives_up() {
        let mut t = Timer::new(RetransmitConfig {
            initial_ms: 1000,
            backoff: 2,
            max_ms: 4000,
            max_retransmissions: 3,
        });
        assert_eq!(t.expired(0), Ok(false));
        t.start(0);
        assert_eq!(t.expired(999), Ok(false));
        assert_eq!(t.expired(1000), Ok(true));
        assert_eq!(t.deadline(), Some(3000));
        assert_eq!(t.expired(3000), Ok(true));
        assert_eq!(t.deadline(), Some(7000));
        assert_eq!(t.expired(7000), Ok(true));
        assert_eq!(t.deadline(), Some(11000));
        assert!(matches!(
            t.expired(11000),
            Err(Error::HandshakeTimeout { retransmissions: 3 })
        ));
        t.start(20000);
        assert_eq!(t.deadline(), Some(21000));
        t.cancel();
        assert_eq!(t.expired(50000), Ok(false));
    }

    #[test]
    fn a_backoff_of_1_keeps_the_period_and_3_triples_it() {
        let cfg = |backoff| RetransmitConfig {
            initial_ms: 500,
            backoff,
            max_ms: 60_000,
            max_retransmissions: 5,
        };
        let mut t = Timer::new(cfg(1));
        t.start(0);
        assert_eq!(t.expired(500), Ok(true));
        assert_eq!(t.deadline(), Some(1000));
        let mut t = Timer::new(cfg(3));
        t.start(0);
        assert_eq!(t.expired(500), Ok(true));
        assert_eq!(t.deadline(), Some(500 + 1500));
    }
}
