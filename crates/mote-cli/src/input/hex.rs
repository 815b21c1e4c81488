//! Hex dumps in the shapes people paste: plain hex (any whitespace, `xxd -p`, Wireshark's hex
//! stream), colon-separated, `0x`/`\x`-prefixed, C arrays (`xxd -i`), and offset dumps (`xxd`,
//! `hexdump -C`, `od -Ax -tx1`, Wireshark's "Copy as Hex Dump", `tshark -x`).
//!
//! Offset dumps are the dangerous ones: their ASCII column can look like hex ("dead beef cafe")
//! and must never be read as data. The offsets are what makes this safe: on every line but
//! the last of a run, the byte count is known exactly (next offset minus this one), so the
//! ASCII column there is simply what follows those bytes. Only the last line needs the layout
//! rules: the ASCII column starts at the column learned from the full lines, or after a run of
//! two or more spaces (the one exception being `hexdump -C`'s double space after eight bytes).

use super::InputError;

/// Bytes a `*` (squeezed repeated lines) may expand to; offsets are attacker-controlled and
/// must not be able to ask for terabytes.
const MAX_SQUEEZE_FILL: u64 = 64 << 20;

/// One non-blank, non-comment line: its 1-based number and its characters (columns are
/// character indices, so a UTF-8 ASCII column cannot shift them).
struct Line {
    no: usize,
    chars: Vec<char>,
}

/// Parses a hex dump in any of the supported shapes.
pub(super) fn parse(text: &str) -> Result<Vec<u8>, InputError> {
    let lines = data_lines(text);
    // Offsets are hexadecimal in every common tool, but plain `od` counts in octal and
    // `od -Ad` in decimal; whichever radix makes the offsets agree with the bytes wins.
    let mut offset_err: Option<InputError> = None;
    for radix in [16, 8, 10] {
        let Some(entries) = offset_layout(&lines, radix) else {
            continue;
        };
        match parse_offset_dump(&lines, &entries) {
            Ok(data) if !data.is_empty() => return Ok(data),
            Ok(_) => {}
            // Keep the error that got furthest: its radix is the likelier one.
            Err(e) => {
                let further = match &offset_err {
                    None => true,
                    Some(old) => error_line(&e) > error_line(old),
                };
                if further {
                    offset_err = Some(e);
                }
            }
        }
    }
    // An offset dump whose offsets agreed past its first line, or that has xxd's colon, is
    // an offset dump with a damaged line: report it rather than read it another way (plain
    // hex would take the offsets, and an ASCII column of hex-looking text, as data).
    let first_no = lines.first().map_or(0, |l| l.no);
    if let Some(e) = offset_err {
        let xxd_colon = lines
            .first()
            .and_then(|l| offset_token(&l.chars, 16))
            .is_some_and(|t| t.colon);
        if xxd_colon || error_line(&e) > first_no {
            return Err(e);
        }
    }
    // A '{' is only a C array outside offset dumps, whose ASCII column may contain one.
    if lines.iter().any(|l| l.chars.contains(&'{')) {
        return parse_c_array(&lines);
    }
    parse_plain(&lines)
}

fn error_line(e: &InputError) -> usize {
    match e {
        InputError::Hex { line, .. } => *line,
        _ => 0,
    }
}

/// True when the text is mostly hex digits (and hex-dump punctuation), so that a failure to
/// parse it is worth reporting instead of falling back to raw bytes.
pub(super) fn looks_like_hex(text: &str) -> bool {
    let (mut hexish, mut total) = (0usize, 0usize);
    for line in data_lines(text).iter().take(8) {
        for &c in line.chars.iter().filter(|c| !c.is_whitespace()) {
            total += 1;
            if c.is_ascii_hexdigit() || matches!(c, ',' | ':' | 'x' | 'X') {
                hexish += 1;
            }
        }
    }
    total > 0 && hexish * 10 >= total * 6
}

/// Splits the text into lines, dropping blank lines and whole-line `#` or `//` comments.
fn data_lines(text: &str) -> Vec<Line> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .enumerate()
        .filter_map(|(i, raw)| {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = raw.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
                return None;
            }
            Some(Line {
                no: i + 1,
                chars: raw.chars().collect(),
            })
        })
        .collect()
}

fn err(line: &Line, idx: usize, message: impl Into<String>) -> InputError {
    InputError::Hex {
        line: line.no,
        column: idx + 1,
        message: message.into(),
    }
}

fn hex_value(c: char) -> u8 {
    // Only called on ASCII hex digits, so the fallback is unreachable in practice.
    c.to_digit(16).map_or(0, |d| d as u8)
}

fn push_digits(digits: &[char], out: &mut Vec<u8>) {
    for pair in digits.chunks(2) {
        if let [hi, lo] = pair {
            out.push(hex_value(*hi) << 4 | hex_value(*lo));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plain hex, colon/comma separated, 0x and \x prefixes, C arrays.

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | ':' | '"' | '\'')
}

fn parse_plain(lines: &[Line]) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::new();
    for line in lines {
        // A trailing '#' or '//' comment ends the data on this line.
        let mut end = line.chars.len();
        for (i, &c) in line.chars.iter().enumerate() {
            if c == '#' || (c == '/' && line.chars.get(i + 1) == Some(&'/')) {
                end = i;
                break;
            }
        }
        parse_tokens(line, 0, end, &mut out)?;
    }
    Ok(out)
}

/// Reads hex tokens in `line.chars[from..to]`. A token is an optional `0x` or `\x` prefix and
/// a run of hex digits; unprefixed runs must have an even number of digits (an odd one is a
/// lost digit, not a value to pad), while `0x7`-style tokens are one byte each, as in C.
fn parse_tokens(line: &Line, from: usize, to: usize, out: &mut Vec<u8>) -> Result<(), InputError> {
    let chars = &line.chars[..to.min(line.chars.len())];
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        if is_separator(c) {
            i += 1;
            continue;
        }
        let start = i;
        let prefixed = matches!(
            (c, chars.get(i + 1)),
            ('0', Some('x' | 'X')) | ('\\', Some('x' | 'X'))
        );
        if prefixed {
            i += 2;
        }
        let digits_start = i;
        while i < chars.len() && chars[i].is_ascii_hexdigit() {
            i += 1;
        }
        let digits = &chars[digits_start..i];
        // "\x16\x03" chains tokens without separators.
        let chained = chars.get(i) == Some(&'\\') && matches!(chars.get(i + 1), Some('x' | 'X'));
        if i < chars.len() && !is_separator(chars[i]) && !chained {
            return Err(err(
                line,
                i,
                format!("unexpected character '{}' in a hex dump", chars[i]),
            ));
        }
        if digits.is_empty() {
            return Err(err(line, start, "expected hex digits after the prefix"));
        }
        if prefixed && digits.len() <= 2 {
            let value = digits.iter().fold(0u8, |acc, &d| acc << 4 | hex_value(d));
            out.push(value);
        } else if digits.len() & 1 != 0 {
            return Err(err(
                line,
                digits_start,
                format!(
                    "odd number of hex digits ({}) in '{}'",
                    digits.len(),
                    digits.iter().collect::<String>()
                ),
            ));
        } else {
            push_digits(digits, out);
        }
    }
    Ok(())
}

/// Reads the inside of `{ ... }` (so `unsigned char x[] = {` and `unsigned int x_len = 59;`
/// from `xxd -i` are skipped), ignoring `/* */` and `//` comments.
fn parse_c_array(lines: &[Line]) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_comment = false;
    for line in lines {
        let chars = &line.chars;
        let mut run_start = 0;
        let mut i = 0;
        while i < chars.len() {
            let next = chars.get(i + 1).copied();
            if in_comment {
                if chars[i] == '*' && next == Some('/') {
                    in_comment = false;
                    i += 2;
                    run_start = i;
                    continue;
                }
                i += 1;
                continue;
            }
            match (chars[i], next) {
                ('/', Some('*')) | ('/', Some('/')) => {
                    if depth > 0 {
                        parse_tokens(line, run_start, i, &mut out)?;
                    }
                    if next == Some('/') {
                        run_start = chars.len();
                        break;
                    }
                    in_comment = true;
                    i += 2;
                    continue;
                }
                ('{', _) => {
                    if depth > 0 {
                        parse_tokens(line, run_start, i, &mut out)?;
                    }
                    depth += 1;
                    run_start = i + 1;
                }
                ('}', _) => {
                    if depth > 0 {
                        parse_tokens(line, run_start, i, &mut out)?;
                    }
                    depth = depth.saturating_sub(1);
                    run_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if depth > 0 && !in_comment {
            parse_tokens(line, run_start, chars.len(), &mut out)?;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Offset dumps.

struct OffsetToken {
    value: u64,
    /// Index just past the token (and its colon).
    end: usize,
    colon: bool,
}

/// Recognises a leading offset: 4 to 16 digits of the radix, an optional colon, then
/// whitespace or the end of the line.
fn offset_token(chars: &[char], radix: u32) -> Option<OffsetToken> {
    let start = chars.iter().position(|c| !c.is_whitespace())?;
    let len = chars[start..]
        .iter()
        .take_while(|c| c.is_digit(radix))
        .count();
    if !(4..=16).contains(&len) {
        return None;
    }
    let digits: String = chars[start..start + len].iter().collect();
    let value = u64::from_str_radix(&digits, radix).ok()?;
    let mut end = start + len;
    let colon = chars.get(end) == Some(&':');
    if colon {
        end += 1;
    }
    match chars.get(end) {
        None => {}
        Some(c) if c.is_whitespace() => {}
        Some(_) => return None,
    }
    Some(OffsetToken { value, end, colon })
}

enum Entry {
    Line {
        idx: usize,
        offset: u64,
        data_at: usize,
    },
    /// `*`: lines identical to the previous one were left out.
    Star { idx: usize },
}

/// Returns the entries if every line is an offset line or a `*`, else `None`.
fn offset_layout(lines: &[Line], radix: u32) -> Option<Vec<Entry>> {
    let mut entries = Vec::with_capacity(lines.len());
    for (idx, line) in lines.iter().enumerate() {
        if line
            .chars
            .iter()
            .filter(|c| !c.is_whitespace())
            .eq(['*'].iter())
        {
            entries.push(Entry::Star { idx });
            continue;
        }
        let token = offset_token(&line.chars, radix)?;
        entries.push(Entry::Line {
            idx,
            offset: token.value,
            data_at: token.end,
        });
    }
    // A single line such as "1603 0100 f801" is plain hex, not an offset and two groups: a
    // lone line counts as an offset dump only with xxd's colon or when it starts at zero.
    let lines_with_offsets = entries
        .iter()
        .filter(|e| matches!(e, Entry::Line { .. }))
        .count();
    let any_colon = lines
        .iter()
        .any(|l| offset_token(&l.chars, radix).is_some_and(|t| t.colon));
    match entries.first() {
        Some(Entry::Line { offset, .. })
            if lines_with_offsets >= 2 || any_colon || *offset == 0 =>
        {
            Some(entries)
        }
        _ => None,
    }
}

/// Reads offset dumps. A new run starts wherever the offset drops back to zero (several
/// packets copied one after another); the runs are concatenated.
fn parse_offset_dump(lines: &[Line], entries: &[Entry]) -> Result<Vec<u8>, InputError> {
    let mut out = Vec::new();
    let mut run_start = 0;
    for i in 1..=entries.len() {
        let restart = match entries.get(i) {
            None => true,
            Some(Entry::Line { offset, .. }) => *offset == 0,
            Some(Entry::Star { .. }) => false,
        };
        if restart {
            parse_run(lines, &entries[run_start..i], &mut out)?;
            run_start = i;
        }
    }
    Ok(out)
}

/// What the full lines of a run taught about its layout.
#[derive(Default)]
struct Layout {
    /// Bytes per full line.
    width: Option<usize>,
    /// Column where the ASCII column starts.
    ascii_col: Option<usize>,
}

fn parse_run(lines: &[Line], entries: &[Entry], out: &mut Vec<u8>) -> Result<(), InputError> {
    let mut layout = Layout::default();
    // The previous line's bytes, for '*'.
    let mut prev: Option<(u64, Vec<u8>)> = None;
    for (i, entry) in entries.iter().enumerate() {
        match *entry {
            Entry::Star { idx } => {
                let line = &lines[idx];
                let bad = || err(line, 0, "'*' must follow a data line and precede an offset");
                let (end, bytes) = prev.as_ref().ok_or_else(bad)?;
                let Some(Entry::Line { offset: next, .. }) = entries.get(i + 1) else {
                    return Err(bad());
                };
                let n = bytes.len() as u64;
                let fill = next.checked_sub(*end).ok_or_else(bad)?;
                if n == 0 || fill % n != 0 || fill > MAX_SQUEEZE_FILL {
                    return Err(err(
                        line,
                        0,
                        format!("'*' cannot fill {fill} bytes with copies of a {n}-byte line"),
                    ));
                }
                for _ in 0..fill / n {
                    out.extend_from_slice(bytes);
                }
            }
            Entry::Line {
                idx,
                offset,
                data_at,
            } => {
                let line = &lines[idx];
                let known = match entries.get(i + 1) {
                    Some(Entry::Line { offset: next, .. }) => {
                        let n = next.checked_sub(offset).filter(|&n| n > 0);
                        let n = n.ok_or_else(|| {
                            err(line, 0, "the offset of the next line does not increase")
                        })?;
                        Some(usize::try_from(n).unwrap_or(usize::MAX))
                    }
                    _ => None,
                };
                let bytes = match known {
                    Some(n) => full_line(line, data_at, n, &mut layout)?,
                    None => last_line(line, data_at, &layout)?,
                };
                out.extend_from_slice(&bytes);
                prev = Some((offset.saturating_add(bytes.len() as u64), bytes));
            }
        }
    }
    Ok(())
}

/// A hex token of an offset dump: a run of non-space characters starting at `start`.
fn token_at(chars: &[char], start: usize) -> (usize, bool) {
    let end = chars[start..]
        .iter()
        .position(|c| c.is_whitespace())
        .map_or(chars.len(), |p| start + p);
    let hex = chars[start..end].iter().all(char::is_ascii_hexdigit);
    (end, hex)
}

/// A line whose byte count the offsets fix: read exactly `n` bytes, the rest is ASCII.
fn full_line(
    line: &Line,
    from: usize,
    n: usize,
    layout: &mut Layout,
) -> Result<Vec<u8>, InputError> {
    let chars = &line.chars;
    let mut bytes = Vec::new();
    let mut i = from;
    while bytes.len() < n {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            return Err(err(
                line,
                i,
                format!(
                    "line has {} bytes but the next offset says {n}",
                    bytes.len()
                ),
            ));
        }
        let (end, hex) = token_at(chars, i);
        let digits = &chars[i..end];
        if !hex || digits.len() & 1 != 0 || bytes.len() + digits.len() / 2 > n {
            return Err(bad_token(line, i, digits, n - bytes.len()));
        }
        push_digits(digits, &mut bytes);
        i = end;
    }
    check_ascii_tail(line, i, n)?;
    layout.width.get_or_insert(n);
    if let Some(p) = chars[i..].iter().position(|c| !c.is_whitespace()) {
        layout.ascii_col.get_or_insert(i + p);
    }
    Ok(bytes)
}

/// What follows the hex columns can only be an ASCII column: one character per byte, perhaps
/// fenced by `|`. Anything longer means the hex columns were misread (a damaged token, or
/// offsets in another radix that happen to agree), so it is an error, not data to drop.
fn check_ascii_tail(line: &Line, from: usize, bytes: usize) -> Result<(), InputError> {
    let tail = &line.chars[from.min(line.chars.len())..];
    let Some(start) = tail.iter().position(|c| !c.is_whitespace()) else {
        return Ok(());
    };
    // Every layout puts at least two spaces (or hexdump's '|') before its ASCII column; hex
    // after a single space is more data than the line should have.
    if start < 2 && tail[start] != '|' {
        return Err(err(
            line,
            from + start,
            format!("more than the {bytes} bytes this line should hold"),
        ));
    }
    let end = tail
        .iter()
        .rposition(|c| !c.is_whitespace())
        .map_or(start, |e| e + 1);
    if end - start > bytes + 2 {
        return Err(err(
            line,
            from + start,
            format!("unexpected text after the {bytes} bytes of this line"),
        ));
    }
    Ok(())
}

fn bad_token(line: &Line, at: usize, digits: &[char], wanted: usize) -> InputError {
    if let Some(p) = digits.iter().position(|c| !c.is_ascii_hexdigit()) {
        err(
            line,
            at + p,
            format!("unexpected character '{}' in the hex columns", digits[p]),
        )
    } else if digits.len() & 1 != 0 {
        err(
            line,
            at,
            format!(
                "odd number of hex digits ({}) in '{}'",
                digits.len(),
                digits.iter().collect::<String>()
            ),
        )
    } else {
        err(
            line,
            at,
            format!("more bytes than the offsets allow ({wanted} left on this line)"),
        )
    }
}

/// The last line of a run, whose byte count is unknown: data runs until the learned ASCII
/// column, a gap of two or more spaces, or the line width, whichever comes first.
fn last_line(line: &Line, from: usize, layout: &Layout) -> Result<Vec<u8>, InputError> {
    let chars = &line.chars;
    let cap = layout.width.unwrap_or(16).max(16);
    let mut bytes = Vec::new();
    let mut all_single = true;
    let mut i = from;
    while bytes.len() < cap {
        let gap_start = i;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        // hexdump -C fences its ASCII column with '|', whatever the spacing before it.
        // (Breaking rewinds to the gap, so that the tail check sees the spaces before it.)
        if i >= chars.len() || chars[i] == '|' || layout.ascii_col.is_some_and(|col| i >= col) {
            i = gap_start;
            break;
        }
        let gap = i - gap_start;
        // hexdump -C puts two spaces after the eighth byte; elsewhere two spaces end the data.
        let hexdump_middle = gap == 2 && bytes.len() == 8 && all_single;
        if !bytes.is_empty() && gap >= 2 && !hexdump_middle {
            i = gap_start;
            break;
        }
        let (end, hex) = token_at(chars, i);
        let digits = &chars[i..end];
        if !hex || digits.len() & 1 != 0 || bytes.len() + digits.len() / 2 > cap {
            return Err(bad_token(line, i, digits, cap - bytes.len()));
        }
        all_single &= digits.len() == 2;
        push_digits(digits, &mut bytes);
        i = end;
    }
    check_ascii_tail(line, i, bytes.len())?;
    Ok(bytes)
}
