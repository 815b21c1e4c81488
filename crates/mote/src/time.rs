//! Time as the caller gives it: the engine never reads a clock.

/// A point in time: milliseconds since the Unix epoch. Certificate validity needs seconds,
/// the obfuscated ticket age milliseconds (RFC 8446 section 4.2.11.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnixTime {
    ms: u64,
}

impl UnixTime {
    pub const fn from_secs(s: u64) -> Self {
        UnixTime {
            ms: s.saturating_mul(1000),
        }
    }
    pub const fn from_millis(ms: u64) -> Self {
        UnixTime { ms }
    }
    pub const fn as_secs(self) -> u64 {
        self.ms / 1000
    }
    pub const fn as_millis(self) -> u64 {
        self.ms
    }
}
