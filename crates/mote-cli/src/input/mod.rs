//! The input side of `mote dissect`: turns a file (or stdin) into flows of bytes.
//!
//! A capture (pcap or pcapng) becomes one [`Flow`] per TCP connection or UDP 4-tuple, with each
//! TCP direction reassembled; a hex dump or a raw binary file becomes a single flow holding all
//! its bytes. What the TLS decoder then does with the bytes is not this module's business.

mod hex;
mod net;
mod pcap;
mod tcp;

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;

/// The kind of input, as asked for by the user or as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Detect from the content: capture magic numbers first, then hex-dump text, else raw.
    Auto,
    /// Classic libpcap file (micro- or nanosecond, either byte order).
    Pcap,
    /// pcapng file.
    Pcapng,
    /// A textual hex dump (plain, `xxd`, `hexdump -C`, Wireshark, C array, ...).
    Hex,
    /// The bytes themselves.
    Raw,
}

impl Format {
    /// The lower-case name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
            Format::Hex => "hex",
            Format::Raw => "raw",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Format::Auto),
            "pcap" => Ok(Format::Pcap),
            "pcapng" => Ok(Format::Pcapng),
            "hex" => Ok(Format::Hex),
            "raw" | "bin" | "binary" => Ok(Format::Raw),
            _ => Err(format!(
                "unknown input format '{s}' (expected auto, pcap, pcapng, hex or raw)"
            )),
        }
    }
}

/// The transport a flow was carried on; `Unknown` for hex dumps and raw files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
    Unknown,
}

/// A run of bytes from one side: a UDP datagram, or the TCP bytes that one frame made
/// contiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// 1-based frame number in the capture (as Wireshark counts), 0 for non-captures.
    pub frame: u64,
    pub from_client: bool,
    pub data: Vec<u8>,
}

/// One conversation: both directions, interleaved in capture order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Position of this flow in [`Loaded::flows`] (0-based).
    pub index: usize,
    pub transport: Transport,
    pub client: Option<SocketAddr>,
    pub server: Option<SocketAddr>,
    pub segments: Vec<Segment>,
    /// Things the reader had to work around: gaps, truncated frames, skipped fragments.
    pub notes: Vec<String>,
}

/// What [`load`] made of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The format actually read (never `Auto`).
    pub format: Format,
    pub flows: Vec<Flow>,
}

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// A hex dump that does not parse; line and column are 1-based.
    Hex {
        line: usize,
        column: usize,
        message: String,
    },
    /// A capture file that is damaged at the given byte offset.
    Capture { offset: u64, message: String },
    /// An input this reader cannot handle at all (wrong format asked for, unknown link type).
    Unsupported(String),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Hex {
                line,
                column,
                message,
            } => write!(f, "hex dump, line {line}, column {column}: {message}"),
            InputError::Capture { offset, message } => {
                write!(f, "capture file, byte offset {offset}: {message}")
            }
            InputError::Unsupported(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for InputError {}

/// Reads the whole input: a file path, or `-` for stdin.
pub fn read_input(path: &str) -> std::io::Result<Vec<u8>> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

/// Turns the input bytes into flows. `format` may force a reading; `Auto` detects it.
pub fn load(bytes: &[u8], format: Format) -> Result<Loaded, InputError> {
    let format = match format {
        Format::Auto => match detect(bytes)? {
            // Detection already parsed the dump; no need to do it twice.
            Detected::Hex(data) => {
                return Ok(Loaded {
                    format: Format::Hex,
                    flows: single_flow(data),
                })
            }
            Detected::Other(format) => format,
        },
        other => other,
    };
    let flows = match format {
        Format::Pcap => pcap::load_pcap(bytes)?,
        Format::Pcapng => pcap::load_pcapng(bytes)?,
        Format::Hex => {
            let text = std::str::from_utf8(bytes).map_err(|e| not_text(bytes, e))?;
            single_flow(hex::parse(text)?)
        }
        Format::Raw | Format::Auto => single_flow(bytes.to_vec()),
    };
    Ok(Loaded { format, flows })
}

enum Detected {
    Hex(Vec<u8>),
    Other(Format),
}

/// Picks the format from the content. Capture files are recognised by their magic numbers;
/// text is a hex dump if it parses as one. Text that clearly tries to be a hex dump but does
/// not parse is reported as an error rather than silently dissected as raw bytes, since raw
/// TLS or DTLS never consists of printable text (its first byte is a control character).
fn detect(bytes: &[u8]) -> Result<Detected, InputError> {
    if let Some(magic) = bytes.get(..4) {
        match magic {
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x34, 0xcd, 0xb2, 0xa1] => return Ok(Detected::Other(Format::Pcap)),
            [0x0a, 0x0d, 0x0d, 0x0a] => return Ok(Detected::Other(Format::Pcapng)),
            _ => {}
        }
    }
    let raw = Ok(Detected::Other(Format::Raw));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return raw;
    };
    if !is_plain_text(text) {
        return raw;
    }
    match hex::parse(text) {
        Ok(data) if !data.is_empty() => Ok(Detected::Hex(data)),
        Ok(_) => raw,
        Err(e) if hex::looks_like_hex(text) => Err(e),
        Err(_) => raw,
    }
}

/// True when the text has no control characters besides line breaks, tabs and form feeds.
fn is_plain_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

fn not_text(bytes: &[u8], e: std::str::Utf8Error) -> InputError {
    let at = e.valid_up_to();
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    InputError::Hex {
        line,
        column,
        message: "not text: invalid UTF-8 (is this a binary file? try the raw format)".into(),
    }
}

fn single_flow(data: Vec<u8>) -> Vec<Flow> {
    vec![Flow {
        index: 0,
        transport: Transport::Unknown,
        client: None,
        server: None,
        segments: vec![Segment {
            frame: 0,
            from_client: true,
            data,
        }],
        notes: Vec::new(),
    }]
}
