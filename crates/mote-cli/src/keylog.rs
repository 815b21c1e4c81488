//! NSS key log files (SSLKEYLOGFILE, draft-ietf-tls-keylogfile-05 section 2): one secret a
//! line, `LABEL <client_random hex> <secret hex>`, as OpenSSL's `s_client -keylogfile`,
//! browsers and curl write them. `mote dissect --keylog` uses the TLS 1.3 labels to decrypt
//! records; `CLIENT_RANDOM` (the TLS 1.2 master secret) is read but not used yet.
//!
//! Parsing follows the draft: CRLF, CR and LF all end a line; empty lines and lines starting
//! with `#` are ignored; hex is accepted in either case. A line that does not conform is
//! skipped and reported (the draft lets diagnostic tools ignore such lines so that secrets
//! can still be taken from a damaged file).

use std::collections::HashMap;

pub const CLIENT_EARLY_TRAFFIC_SECRET: &str = "CLIENT_EARLY_TRAFFIC_SECRET";
pub const CLIENT_HANDSHAKE_TRAFFIC_SECRET: &str = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
pub const SERVER_HANDSHAKE_TRAFFIC_SECRET: &str = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
pub const CLIENT_TRAFFIC_SECRET_0: &str = "CLIENT_TRAFFIC_SECRET_0";
pub const SERVER_TRAFFIC_SECRET_0: &str = "SERVER_TRAFFIC_SECRET_0";
pub const EXPORTER_SECRET: &str = "EXPORTER_SECRET";
/// TLS 1.2 and earlier: the master secret.
pub const CLIENT_RANDOM: &str = "CLIENT_RANDOM";

/// A line of the file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// 1-based line number.
    pub line: usize,
    pub reason: &'static str,
}

/// The secrets of a key log, by client random and label. Its `Debug` form never shows a
/// secret.
#[derive(Default)]
pub struct KeyLog {
    conns: HashMap<[u8; 32], HashMap<String, Vec<u8>>>,
    /// Lines that do not conform to the format, in file order.
    pub ignored: Vec<Ignored>,
}

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyLog({} connections, {} secrets, {} lines ignored)",
            self.conns.len(),
            self.len(),
            self.ignored.len()
        )
    }
}

impl KeyLog {
    /// Parses a key log. Never fails: lines that do not conform land in `ignored`.
    pub fn parse(bytes: &[u8]) -> KeyLog {
        let text = String::from_utf8_lossy(bytes);
        // A byte order mark is forbidden by the draft, but costs nothing to tolerate.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut log = KeyLog::default();
        for (i, line) in lines(text).enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_line(line) {
                Ok((label, random, secret)) => {
                    // A label logged twice for one connection: the later line wins.
                    log.conns
                        .entry(random)
                        .or_default()
                        .insert(label.to_string(), secret);
                }
                Err(reason) => log.ignored.push(Ignored {
                    line: i + 1,
                    reason,
                }),
            }
        }
        log
    }

    /// The secret logged under `label` for the connection whose ClientHello carried `random`.
    pub fn secret(&self, random: &[u8; 32], label: &str) -> Option<&[u8]> {
        self.conns.get(random)?.get(label).map(Vec::as_slice)
    }

    /// Whether any secret was logged for this client random.
    pub fn has_random(&self, random: &[u8; 32]) -> bool {
        self.conns.contains_key(random)
    }

    /// How many secrets the log holds.
    pub fn len(&self) -> usize {
        self.conns.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Splits on CRLF, CR or LF (draft section 2: all three must be accepted).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

fn parse_line(line: &str) -> Result<(&str, [u8; 32], Vec<u8>), &'static str> {
    // The draft separates the three values with one space; runs of spaces or tabs (a file
    // edited by hand) are accepted too.
    let mut fields = line.split_ascii_whitespace();
    let (Some(label), Some(random), Some(secret), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err("not three fields `LABEL CLIENT_RANDOM SECRET`");
    };
    if !label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err("the label is not upper-case letters, digits and `_`");
    }
    let random: [u8; 32] = hex(random)
        .ok_or("the client random is not hex")?
        .try_into()
        .map_err(|_| "the client random is not 32 bytes (64 hex digits)")?;
    let secret = hex(secret).ok_or("the secret is not hex")?;
    if secret.is_empty() {
        return Err("the secret is empty");
    }
    Ok((label, random, secret))
}

/// Decodes hex of either case; `None` for an odd length or a non-hex digit.
fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn random() -> [u8; 32] {
        core::array::from_fn(|i| i as u8)
    }

    #[test]
    fn parses_labels_with_any_line_ending_and_case() {
        let text = format!(
            "# a comment\r\nCLIENT_TRAFFIC_SECRET_0 {R} AABB\rSERVER_TRAFFIC_SECRET_0 {} ccdd\n\n",
            R.to_uppercase()
        );
        let log = KeyLog::parse(text.as_bytes());
        assert!(log.ignored.is_empty(), "{:?}", log.ignored);
        assert_eq!(log.len(), 2);
        assert_eq!(
            log.secret(&random(), CLIENT_TRAFFIC_SECRET_0),
            Some(&[0xaa, 0xbb][..])
        );
        assert_eq!(
            log.secret(&random(), SERVER_TRAFFIC_SECRET_0),
            Some(&[0xcc, 0xdd][..])
        );
        assert!(log.has_random(&random()));
        assert!(!log.has_random(&[0; 32]));
    }

    #[test]
    fn reports_lines_that_do_not_conform() {
        let text = format!(
            "EXPORTER_SECRET {R}\nEXPORTER_SECRET abcd 00\nexporter {R} 00\nX {R} 0g\nX {R} 0\nX {R} 00 extra\n"
        );
        let log = KeyLog::parse(text.as_bytes());
        assert!(log.is_empty());
        let lines: Vec<usize> = log.ignored.iter().map(|i| i.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
        assert!(log.ignored[1].reason.contains("32 bytes"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let log = KeyLog::parse(format!("EXPORTER_SECRET {R} deadbeef\n").as_bytes());
        let d = format!("{log:?}");
        assert!(!d.contains("deadbeef"), "{d}");
    }
}
