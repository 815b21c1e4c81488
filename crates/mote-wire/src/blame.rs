//! Which length field to blame when a parse fails (the `diagnose` feature).
//!
//! Why this exists: a length field one too small does not fail at that field. The scope it
//! declares is simply shorter, and the error surfaces later, at some inner field that runs
//! out of bytes; a session id one byte short makes the cipher suites' length read from the
//! wrong bytes. One too large swallows the first byte of what follows, which then fails to
//! parse. Reporting the field where the parse stopped points the reader of a dissection at
//! the wrong bytes.
//!
//! So when an entry point ([`Reader::diagnosed`]: a whole handshake message, a body, an
//! extension block) fails, its error is weighed against the single-error explanations "the
//! length field at X is wrong by d". An explanation holds when the entry point, run again on
//! the same bytes with only that field read as corrected, succeeds, and its caller accepts
//! the result and what it leaves after itself (`accept`: after an extension block, nothing;
//! after a handshake message, whole messages, and a DTLS message that was whole must not
//! become an unparsed fragment). Re-running is safe because the parsers are deterministic
//! and only read; the re-runs have no sink and allocate nothing.
//!
//! The fields weighed (the candidates) are found by running the entry point once more with a
//! [`Trace`] that records, without allocating:
//! 1. the field the error is at, when it is a length field;
//! 2. the length fields whose scopes enclose the error, innermost first;
//! 3. the last [`RECENT`] length fields read before the error (a session id before the
//!    cipher suites, the previous element of a list, a field in the previous element),
//!    oldest first: once a length is wrong, the fields after it are read from the wrong
//!    bytes, and a correction of one of those that happens to make the rest parse is a
//!    coincidence, while the oldest field that explains the error was read where it lies.
//!
//! The corrections tried are +-1 for every candidate, then +-k for 1 and 2, where k is the
//! amount the error is off by (bytes missing, or left over). The smallest correction wins;
//! among equal ones, the first candidate in the order above, then the smaller value. If none
//! holds, the error stands. If the winner is the field the error is already at, the error
//! stands as it was (it already names both numbers); otherwise the winner is reported as
//! `TrailingBytes { declared, used }`, `used` being where its contents really end. This can
//! be larger than `declared` ("declares 10 bytes but its contents end after 11"), which is
//! exactly the statement being made.
//!
//! An error about a value rather than the framing (a value the RFC forbids, a duplicate, a
//! DTLS fragment_offset past its message) is weighed only against length fields whose bytes
//! end before the value: a wrong length there has the value read from the wrong bytes (a
//! duplicate extension type read one byte early), while a length that frames nothing before
//! the value cannot explain it.
//!
//! Cost: nothing on success. After an error, one traced run and at most
//! `2 * (RECENT + OPEN) + 2 * (OPEN + 1)` (50) corrected runs of the entry point, each
//! stopping at its own error or at the end; no allocation, and about a kilobyte of stack on
//! a 32-bit device. Nested entry points (an extension block inside a ClientHello) leave the
//! analysis to the outermost one, and corrected runs do no analysis of their own. Parsers
//! that look again at what they read (duplicate checks) do so through [`Reader::earlier`],
//! which sees the corrected length too.

use crate::error::{DecodeError, DecodeErrorKind, Path};
use crate::reader::{Mark, Reader};

/// How many of the most recently read length fields are candidates.
pub(crate) const RECENT: usize = 8;
/// How many enclosing scopes are candidates (the outermost, when nested deeper; handshake
/// messages nest at most five deep: body, extensions, extension, list, element's vector).
pub(crate) const OPEN: usize = 8;

/// A length field as read: absolute offset, width in bytes, value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field {
    at: usize,
    width: usize,
    value: usize,
}

impl Field {
    fn max(&self) -> usize {
        match self.width {
            1 => 0xff,
            2 => 0xffff,
            _ => 0xff_ffff,
        }
    }
}

/// What a run of the parser records for blame analysis.
pub(crate) struct Trace {
    /// Record candidates (the traced run); otherwise only note the patched field's path.
    record: bool,
    /// The last length fields read, a ring indexed by `reads % RECENT`.
    recent: [Field; RECENT],
    reads: usize,
    /// The length fields of the scopes entered and not yet left, outermost first; `depth`
    /// can exceed `OPEN`, and scopes past it are not kept.
    open: [Field; OPEN],
    depth: usize,
    /// In a corrected run: the path of the corrected field, once it is read.
    patched_path: Option<Path>,
}

impl Trace {
    fn new(record: bool) -> Self {
        Trace {
            record,
            recent: [Field::default(); RECENT],
            reads: 0,
            open: [Field::default(); OPEN],
            depth: 0,
            patched_path: None,
        }
    }

    /// Most recent first.
    fn recent(&self) -> impl DoubleEndedIterator<Item = Field> + '_ {
        let n = self.reads.min(RECENT);
        (1..=n).map(move |i| self.recent[(self.reads - i) % RECENT])
    }

    fn open(&self) -> impl Iterator<Item = Field> + '_ {
        self.open[..self.depth.min(OPEN)].iter().rev().copied()
    }
}

/// A reader's part in blame analysis.
pub(crate) struct Probe<'t> {
    /// Read the length field at this absolute offset as this value.
    patch: Option<(usize, usize)>,
    trace: Option<&'t mut Trace>,
    /// An outer [`Reader::diagnosed`] is in charge (or this is a run of the analysis).
    pub(crate) busy: bool,
}

impl Probe<'_> {
    /// A reader that is not part of an analysis.
    pub(crate) const OFF: Probe<'static> = Probe {
        patch: None,
        trace: None,
        busy: false,
    };

    /// For [`Reader::earlier`]: the same correction, nothing recorded, no analysis.
    pub(crate) fn inherit(&self) -> Probe<'static> {
        Probe {
            patch: self.patch,
            trace: None,
            busy: true,
        }
    }

    /// A length field `v` read at absolute offset `at`: what the parser is to see.
    pub(crate) fn length(
        &mut self,
        at: usize,
        width: usize,
        v: usize,
        path: &Path,
        name: &'static str,
    ) -> usize {
        let v = match self.patch {
            Some((p, value)) if p == at => {
                if let Some(t) = self.trace.as_deref_mut() {
                    let mut path = *path;
                    path.push(name, None);
                    t.patched_path = Some(path);
                }
                value
            }
            _ => v,
        };
        if let Some(t) = self.trace.as_deref_mut().filter(|t| t.record) {
            t.recent[t.reads % RECENT] = Field {
                at,
                width,
                value: v,
            };
            t.reads += 1;
        }
        v
    }

    /// A scope of `n` bytes declared by the length field at `len_at` is entered.
    pub(crate) fn open(&mut self, len_at: usize, n: usize) {
        let Some(t) = self.trace.as_deref_mut().filter(|t| t.record) else {
            return;
        };
        if t.depth < OPEN {
            // The field was read just before (in a DTLS header, a few fields before).
            let width = t.recent().find(|f| f.at == len_at).map_or(0, |f| f.width);
            t.open[t.depth] = Field {
                at: len_at,
                width,
                value: n,
            };
        }
        t.depth += 1;
    }

    /// The innermost open scope was read whole.
    pub(crate) fn close(&mut self) {
        if let Some(t) = self.trace.as_deref_mut().filter(|t| t.record) {
            t.depth = t.depth.saturating_sub(1);
        }
    }
}

/// How far `e` is off, in bytes, when it says (bytes missing or left over).
fn magnitude(e: &DecodeError) -> usize {
    match e.kind {
        DecodeErrorKind::Truncated { needed, available } => needed.saturating_sub(available),
        DecodeErrorKind::LengthExceeds {
            declared,
            available,
        } => declared.saturating_sub(available),
        DecodeErrorKind::TrailingBytes { declared, used } => declared.abs_diff(used),
        DecodeErrorKind::UnexpectedTrailing { count } => count,
        _ => 0,
    }
}

/// A candidate and whether it may be corrected by the error's magnitude.
#[derive(Clone, Copy, Default)]
struct Candidate {
    field: Field,
    by_k: bool,
}

const MAX_CANDIDATES: usize = RECENT + OPEN;

/// The candidates in the order of the module documentation, without duplicates.
fn candidates(t: &Trace, e: &DecodeError) -> ([Candidate; MAX_CANDIDATES], usize) {
    let mut out = [Candidate::default(); MAX_CANDIDATES];
    let mut n = 0;
    let at_error = t.recent().filter(|f| f.at == e.offset).take(1);
    let open = t.open();
    let oldest_first = t.recent().rev();
    let ordered = at_error
        .map(|f| (f, true))
        .chain(open.map(|f| (f, true)))
        .chain(oldest_first.map(|f| (f, false)));
    for (field, by_k) in ordered {
        if field.width == 0 || out[..n].iter().any(|c| c.field.at == field.at) {
            continue;
        }
        if n == MAX_CANDIDATES {
            break;
        }
        out[n] = Candidate { field, by_k };
        n += 1;
    }
    (out, n)
}

/// Re-examines `e`, the error of `parse` run from `mark` (see the module documentation).
pub(crate) fn diagnose<'a, T>(
    mark: &Mark<'a>,
    e: DecodeError,
    parse: &impl Fn(&mut Reader<'a, '_>) -> Result<T, DecodeError>,
    accept: &impl Fn(&T, &[u8]) -> bool,
) -> DecodeError {
    let (cands, n, value_error) = {
        let mut trace = Trace::new(true);
        let again = parse(&mut mark.reader(Probe {
            patch: None,
            trace: Some(&mut trace),
            busy: true,
        }));
        // The same error again, or the parser is not what this analysis assumes.
        if again.err() != Some(e) {
            return e;
        }
        // A value error (a value the RFC forbids, a duplicate, a range error at a field that
        // is not a length, such as a DTLS fragment_offset past its message): see the module
        // documentation.
        let at_length = trace.recent().any(|f| f.at == e.offset);
        let value_error = match e.kind {
            DecodeErrorKind::IllegalValue { .. } | DecodeErrorKind::Duplicate { .. } => true,
            DecodeErrorKind::LengthOutOfRange { .. } => !at_length,
            _ => false,
        };
        let (cands, n) = candidates(&trace, &e);
        (cands, n, value_error)
    };
    let cands = &cands[..n];
    let frames_before = |f: &Field| f.at + f.width + f.value <= e.offset;
    let k = magnitude(&e);
    let holds = |f: &Field, v: usize| -> Option<Path> {
        let mut t = Trace::new(false);
        let ok = {
            let mut r = mark.reader(Probe {
                patch: Some((f.at, v)),
                trace: Some(&mut t),
                busy: true,
            });
            parse(&mut r).is_ok_and(|v| accept(&v, r.peek_rest()))
        };
        t.patched_path.filter(|_| ok)
    };
    for (d, only_by_k) in [(1, false), (k, true)] {
        if d == 0 || (only_by_k && d == 1) {
            continue;
        }
        let weighed =
            |c: &&Candidate| (c.by_k || !only_by_k) && (!value_error || frames_before(&c.field));
        for c in cands.iter().filter(weighed) {
            let f = c.field;
            let tries = [f.value.checked_sub(d), f.value.checked_add(d)];
            for v in tries.into_iter().flatten().filter(|&v| v <= f.max()) {
                let Some(path) = holds(&f, v) else {
                    continue;
                };
                if f.at == e.offset {
                    return e;
                }
                return DecodeError {
                    offset: f.at,
                    path,
                    kind: DecodeErrorKind::TrailingBytes {
                        declared: f.value,
                        used: v,
                    },
                };
            }
        }
    }
    e
}
