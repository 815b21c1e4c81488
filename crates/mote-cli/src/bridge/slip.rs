//! SLIP framing (RFC 1055) for `mote bridge --udp`: a board sends each datagram on its serial
//! line as `END payload END`, with END (0xC0) and ESC (0xDB) inside the payload written as
//! `ESC ESC_END` and `ESC ESC_ESC`.
//!
//! The decoder is streaming: bytes arrive in whatever pieces the serial line delivers, so a
//! frame, or an escape sequence, may be split across any number of reads, and one read may
//! hold several frames. A leading END (which RFC 1055 recommends, to flush line noise) simply
//! ends an empty frame, and empty frames are dropped silently. A frame with an invalid escape
//! or one longer than the maximum is dropped whole, reported once when it ends, and counted.

use std::fmt;

/// Frame delimiter.
pub const END: u8 = 0xC0;
/// Escape byte.
pub const ESC: u8 = 0xDB;
/// `ESC ESC_END` stands for an END byte inside a frame.
pub const ESC_END: u8 = 0xDC;
/// `ESC ESC_ESC` stands for an ESC byte inside a frame.
pub const ESC_ESC: u8 = 0xDD;

/// Appends the SLIP encoding of `payload` to `out`: END, the escaped payload, END.
pub fn encode_into(payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len() + 2 + payload.len() / 16);
    out.push(END);
    for &b in payload {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            _ => out.push(b),
        }
    }
    out.push(END);
}

/// The SLIP encoding of `payload`, with an END on both sides.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(payload, &mut out);
    out
}

/// Why a frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlipError {
    /// ESC followed by `byte`, which is neither ESC_END nor ESC_ESC (END included), after
    /// `at` decoded bytes of the frame.
    InvalidEscape { byte: u8, at: usize },
    /// The frame decoded to `len` bytes, more than the maximum `max`.
    Oversize { len: usize, max: usize },
}

impl fmt::Display for SlipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlipError::InvalidEscape { byte, at } => write!(
                f,
                "invalid SLIP escape 0xdb 0x{byte:02x} after {at} bytes of a frame: frame dropped"
            ),
            SlipError::Oversize { len, max } => write!(
                f,
                "SLIP frame of {len} bytes is larger than the maximum of {max}: frame dropped"
            ),
        }
    }
}

impl std::error::Error for SlipError {}

/// What the decoder made of a completed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Frame(Vec<u8>),
    Dropped(SlipError),
}

/// Counts of what the decoder has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames: u64,
    pub empty: u64,
    pub invalid_escape: u64,
    pub oversize: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Collecting,
    /// Dropping the rest of a frame that held an invalid escape.
    Invalid {
        byte: u8,
        at: usize,
    },
    /// Dropping (but counting) the rest of a frame that grew past the maximum.
    Oversize {
        len: usize,
    },
}

/// A streaming SLIP decoder; see the module documentation.
#[derive(Debug, Clone)]
pub struct Decoder {
    max: usize,
    buf: Vec<u8>,
    escaped: bool,
    state: State,
    stats: Stats,
}

impl Decoder {
    /// A decoder that drops frames longer than `max_frame` decoded bytes.
    pub fn new(max_frame: usize) -> Self {
        Decoder {
            max: max_frame,
            buf: Vec::new(),
            escaped: false,
            state: State::Collecting,
            stats: Stats::default(),
        }
    }

    /// Feeds bytes as they came off the line; returns the frames (and drops) they completed.
    pub fn push(&mut self, data: &[u8]) -> Vec<Decoded> {
        let mut out = Vec::new();
        for &b in data {
            if b == END {
                if let Some(d) = self.end_frame() {
                    out.push(d);
                }
                continue;
            }
            let escaped = std::mem::replace(&mut self.escaped, false);
            let byte = match (escaped, b) {
                (false, ESC) => {
                    self.escaped = true;
                    continue;
                }
                (false, b) => b,
                (true, ESC_END) => END,
                (true, ESC_ESC) => ESC,
                (true, other) => {
                    if self.state == State::Collecting {
                        self.state = State::Invalid {
                            byte: other,
                            at: self.buf.len(),
                        };
                        self.buf = Vec::new();
                    }
                    continue;
                }
            };
            match &mut self.state {
                State::Collecting if self.buf.len() < self.max => self.buf.push(byte),
                State::Collecting => {
                    self.state = State::Oversize {
                        len: self.buf.len() + 1,
                    };
                    self.buf = Vec::new();
                }
                State::Oversize { len } => *len += 1,
                State::Invalid { .. } => {}
            }
        }
        out
    }

    /// Decoded bytes of the unfinished frame (counted even when it is being dropped).
    pub fn pending(&self) -> usize {
        match self.state {
            State::Collecting => self.buf.len(),
            State::Invalid { at, .. } => at,
            State::Oversize { len } => len,
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    fn end_frame(&mut self) -> Option<Decoded> {
        let escaped = std::mem::replace(&mut self.escaped, false);
        let state = std::mem::replace(&mut self.state, State::Collecting);
        let buf = std::mem::take(&mut self.buf);
        let error = match state {
            // ESC END: the END still ends the frame, which is then invalid.
            State::Collecting if escaped => SlipError::InvalidEscape {
                byte: END,
                at: buf.len(),
            },
            State::Collecting if buf.is_empty() => {
                self.stats.empty += 1;
                return None;
            }
            State::Collecting => {
                self.stats.frames += 1;
                return Some(Decoded::Frame(buf));
            }
            State::Invalid { byte, at } => SlipError::InvalidEscape { byte, at },
            State::Oversize { len } => SlipError::Oversize { len, max: self.max },
        };
        match error {
            SlipError::InvalidEscape { .. } => self.stats.invalid_escape += 1,
            SlipError::Oversize { .. } => self.stats.oversize += 1,
        }
        Some(Decoded::Dropped(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Payload bytes biased towards the ones SLIP must escape.
        fn payload(&mut self, len: usize) -> Vec<u8> {
            (0..len)
                .map(|_| match self.next() % 4 {
                    0 => END,
                    1 => ESC,
                    _ => self.next() as u8,
                })
                .collect()
        }
    }

    fn frames(out: Vec<Decoded>) -> Vec<Vec<u8>> {
        out.into_iter()
            .map(|d| match d {
                Decoded::Frame(f) => f,
                Decoded::Dropped(e) => panic!("unexpected drop: {e}"),
            })
            .collect()
    }

    #[test]
    fn encoding_escapes_end_and_esc() {
        assert_eq!(
            encode(&[1, END, 2, ESC, 3]),
            [END, 1, ESC, ESC_END, 2, ESC, ESC_ESC, 3, END]
        );
        assert_eq!(encode(&[]), [END, END]);
    }

    #[test]
    fn random_payloads_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let len = (rng.next() % 300) as usize + 1;
            let payload = rng.payload(len);
            let wire = encode(&payload);
            assert!(!wire[1..wire.len() - 1].contains(&END));
            let mut d = Decoder::new(1024);
            assert_eq!(frames(d.push(&wire)), vec![payload]);
            assert_eq!(d.pending(), 0);
        }
    }

    #[test]
    fn frames_split_at_every_byte_boundary() {
        let payloads = [vec![END, ESC, 0x41, ESC, END], b"reading".to_vec()];
        let mut wire = Vec::new();
        for p in &payloads {
            encode_into(p, &mut wire);
        }
        for cut in 0..=wire.len() {
            let mut d = Decoder::new(64);
            let mut out = d.push(&wire[..cut]);
            out.extend(d.push(&wire[cut..]));
            assert_eq!(frames(out), payloads, "cut at {cut}");
        }
        // And one byte per read, which splits every escape.
        let mut d = Decoder::new(64);
        let out: Vec<Decoded> = wire.iter().flat_map(|b| d.push(&[*b])).collect();
        assert_eq!(frames(out), payloads);
        assert_eq!(
            d.stats(),
            // The leading END of each frame ends an empty one.
            Stats {
                frames: 2,
                empty: 2,
                ..Stats::default()
            }
        );
    }

    #[test]
    fn several_frames_in_one_read_and_frames_without_leading_end() {
        let mut rng = Rng(7);
        let payloads: Vec<Vec<u8>> = (0..20).map(|i| rng.payload(i * 7 + 1)).collect();
        let mut wire = Vec::new();
        for p in &payloads {
            encode_into(p, &mut wire);
        }
        let mut d = Decoder::new(1024);
        assert_eq!(frames(d.push(&wire)), payloads);
        // Plain "payload END" framing, without the leading END, decodes the same.
        let mut d = Decoder::new(1024);
        assert_eq!(frames(d.push(b"one\xc0two\xc0")), [b"one", b"two"]);
    }

    #[test]
    fn empty_frames_are_dropped_silently() {
        let mut d = Decoder::new(16);
        assert_eq!(frames(d.push(&[END, END, END, b'x', END, END])), [b"x"]);
        assert_eq!(d.stats().empty, 4);
        assert_eq!(d.stats().frames, 1);
    }

    #[test]
    fn invalid_escapes_drop_only_their_frame() {
        let mut d = Decoder::new(64);
        let mut wire = vec![END, b'a', b'b', ESC, 0x41, b'c', END];
        encode_into(b"good", &mut wire);
        let out = d.push(&wire);
        assert_eq!(
            out,
            [
                Decoded::Dropped(SlipError::InvalidEscape { byte: 0x41, at: 2 }),
                Decoded::Frame(b"good".to_vec())
            ]
        );
        // ESC END: the END still ends the frame, which is dropped; the next one is fine.
        let out = d.push(&[b'x', ESC, END, b'y', END]);
        assert_eq!(
            out,
            [
                Decoded::Dropped(SlipError::InvalidEscape { byte: END, at: 1 }),
                Decoded::Frame(b"y".to_vec())
            ]
        );
        // An invalid escape split across reads, and ESC ESC inside a dropped frame.
        assert!(d.push(&[b'q', ESC]).is_empty());
        assert!(d.push(&[0x00, ESC, ESC, b'r']).is_empty());
        assert_eq!(
            d.push(&[END]),
            [Decoded::Dropped(SlipError::InvalidEscape {
                byte: 0,
                at: 1
            })]
        );
        assert_eq!(d.stats().invalid_escape, 3);
        assert_eq!(d.stats().frames, 2);
        assert_eq!(
            SlipError::InvalidEscape { byte: 0, at: 1 }.to_string(),
            "invalid SLIP escape 0xdb 0x00 after 1 bytes of a frame: frame dropped"
        );
    }

    #[test]
    fn oversize_frames_are_dropped_and_counted() {
        let mut d = Decoder::new(4);
        let mut wire = encode(&[1, 2, 3, 4]);
        encode_into(&[1, 2, 3, 4, END], &mut wire);
        encode_into(&[9; 3], &mut wire);
        let out = d.push(&wire);
        assert_eq!(
            out,
            [
                Decoded::Frame(vec![1, 2, 3, 4]),
                Decoded::Dropped(SlipError::Oversize { len: 5, max: 4 }),
                Decoded::Frame(vec![9; 3]),
            ]
        );
        // A long frame arriving in pieces: memory stays bounded, the length is still counted.
        let mut d = Decoder::new(4);
        for _ in 0..100 {
            assert!(d.push(&[7; 10]).is_empty());
            assert!(d.buf.capacity() <= 4);
        }
        assert_eq!(d.pending(), 1000);
        assert_eq!(
            d.push(&[ESC, ESC_ESC, END]),
            [Decoded::Dropped(SlipError::Oversize { len: 1001, max: 4 })]
        );
        assert_eq!(d.stats().oversize, 1);
    }
}
