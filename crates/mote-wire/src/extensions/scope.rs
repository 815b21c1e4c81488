//! Length-prefixed scopes inside extensions, and the choice of which length field to blame
//! when a scope's declared length and its contents disagree.
//!
//! Why this exists: a length one too small does not fail at that length. The scope it
//! declares is simply shorter, and the error surfaces later at some inner field that runs
//! out of bytes. A length one too large leaves a fragment that then fails to parse as one
//! more list element. Reporting the inner field in those cases points the reader of a
//! dissection at the wrong bytes.
//!
//! So when the contents of a scope overrun or underrun it, the scope weighs the
//! single-error explanations:
//! 1. the inner field is wrong, and the scope is right;
//! 2. the scope's own length is too short by the overrun;
//! 3. the scope's own length is too long (the list ends in a fragment);
//! 4. the previous list element's length is too short (so its tail became a fragment);
//! 5. inside the failing element, its length field is too long (it swallowed the fixed-width
//!    field after it).
//!
//! An explanation only counts if, under it, the bytes after the scope parse as what the
//! parent expects next (the [`Then`] predicate: "nothing", "more extension headers up to the
//! end", "one u16 vector"). Among the explanations that hold, the one that needs the smallest
//! correction wins (with ties going in the order above). If none holds, the error stands.
//!
//! Only the innermost scope around the failing field may do this: once a scope has looked at
//! an error it is [`Fail::Settled`] and outer scopes pass it through unchanged.
//!
//! A blamed length is reported as `TrailingBytes { declared, used }`, where `used` is where the
//! contents actually end. This can be larger than `declared` ("declares 10 bytes but its
//! contents end after 11"), which is exactly the statement being made.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::reader::{Bounds, Len, Reader};

/// An error on its way out of nested scopes.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Raised directly in the current scope; the enclosing scope may re-blame it.
    Open(DecodeError),
    /// Already examined by the innermost scope; passed through unchanged.
    Settled(DecodeError),
}

impl From<DecodeError> for Fail {
    fn from(e: DecodeError) -> Self {
        Fail::Open(e)
    }
}

impl Fail {
    pub(crate) fn error(self) -> DecodeError {
        match self {
            Fail::Open(e) | Fail::Settled(e) => e,
        }
    }
}

pub(crate) type PResult<T> = Result<T, Fail>;

/// Whether `rest`, the parent's bytes after a scope, parse as what the parent expects there.
pub(crate) type Then = fn(&[u8]) -> bool;

/// The scope is the last thing in its parent.
pub(crate) fn ends(rest: &[u8]) -> bool {
    rest.is_empty()
}

/// The parent's continuation is not known (for example extensions inside a Certificate
/// entry, followed by further entries): never re-blame.
pub(crate) fn unknown(_: &[u8]) -> bool {
    false
}

/// More extensions follow, each `type(2) length(2) body`, ending exactly at the end.
pub(crate) fn extension_chain(mut rest: &[u8]) -> bool {
    while let [_, _, hi, lo, ref tail @ ..] = *rest {
        match tail.get(usize::from(u16::from_be_bytes([hi, lo]))..) {
            Some(t) => rest = t,
            None => return false,
        }
    }
    rest.is_empty()
}

/// Exactly one u16-prefixed vector follows (the binders after the PSK identities, the
/// request extensions after the OCSP responder ids).
pub(crate) fn u16_vector(rest: &[u8]) -> bool {
    match *rest {
        [hi, lo, ref tail @ ..] => usize::from(u16::from_be_bytes([hi, lo])) == tail.len(),
        _ => false,
    }
}

/// Whether the extension chain in `before` already holds an extension of type `typ`.
pub(crate) fn chain_has(mut before: &[u8], typ: u16) -> bool {
    while let [t0, t1, hi, lo, ref tail @ ..] = *before {
        if u16::from_be_bytes([t0, t1]) == typ {
            return true;
        }
        match tail.get(usize::from(u16::from_be_bytes([hi, lo]))..) {
            Some(t) => before = t,
            None => return false,
        }
    }
    false
}

/// A length field that has been read and checked, and the scope it declares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub(crate) n: usize,
    pub(crate) len_at: usize,
    pub(crate) len_name: &'static str,
}

/// Reads a length field, checks it against `bounds` and against the bytes that remain.
pub(crate) fn frame(
    r: &mut Reader<'_, '_>,
    len: Len,
    len_name: &'static str,
    bounds: Bounds,
) -> PResult<Frame> {
    let len_at = r.offset();
    let n = r.length(len_name, len)?;
    r.check_bounds(len_at, len_name, n, bounds)?;
    if n > r.remaining() {
        return Err(Fail::Open(r.error_at(
            len_at,
            len_name,
            DecodeErrorKind::LengthExceeds {
                declared: n,
                available: r.remaining(),
            },
        )));
    }
    Ok(Frame {
        n,
        len_at,
        len_name,
    })
}

/// A length-prefixed opaque vector that should end its scope. Bytes left after it are
/// reported at its length field (as contents that run on), so that the enclosing scope can
/// weigh "this length is short" against "the enclosing length is long".
pub(crate) fn opaque_last<'a>(
    r: &mut Reader<'a, '_>,
    len: Len,
    len_name: &'static str,
    name: &'static str,
    bounds: Bounds,
) -> PResult<&'a [u8]> {
    let fr = frame(r, len, len_name, bounds)?;
    let b = r.bytes(name, fr.n)?;
    fills(r, fr, 1, bounds.max.min(len.max()))?;
    Ok(b)
}

/// After a vector that should end its scope: if `t` bytes are left and the vector could have
/// held them (whole elements of `unit` bytes, still within `max`), say that its contents run
/// on. Otherwise leave the leftover to the enclosing scope's own trailing-bytes check.
pub(crate) fn fills(r: &Reader<'_, '_>, fr: Frame, unit: usize, max: usize) -> PResult<()> {
    let t = r.remaining();
    if t == 0 || t.checked_rem(unit) != Some(0) || fr.n.saturating_add(t) > max {
        return Ok(());
    }
    Err(Fail::Open(r.error_at(
        fr.len_at,
        fr.len_name,
        DecodeErrorKind::TrailingBytes {
            declared: fr.n,
            used: fr.n + t,
        },
    )))
}

/// Where a list element keeps its one length field, for explanations 4 and 5.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tail {
    /// Offset of the length field from the element's start.
    pub(crate) at: usize,
    pub(crate) len: Len,
    pub(crate) name: &'static str,
    /// Largest value the field may hold.
    pub(crate) max: usize,
    /// Fixed-width bytes that follow the vector inside the element.
    pub(crate) after: usize,
}

impl Tail {
    fn value(&self, elem: &[u8]) -> Option<usize> {
        let b = elem.get(self.at..)?.get(..self.len.size())?;
        Some(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
    }
}

/// How a list names itself and its elements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Elements {
    /// Node around the whole list (`None` for the extensions list, whose elements are
    /// `extensions[i]` directly).
    pub(crate) node: Option<&'static str>,
    pub(crate) item: &'static str,
    pub(crate) tail: Option<Tail>,
}

/// Which element a list was reading when it failed (offsets relative to the list's start).
#[derive(Clone, Copy, Debug, Default)]
struct Track {
    /// `Some(settled)` once the contents failed.
    inner: Option<bool>,
    index: u16,
    start: usize,
    prev: usize,
}

fn split(f: Fail, slot: &mut Option<bool>) -> DecodeError {
    match f {
        Fail::Open(e) => {
            *slot = Some(false);
            e
        }
        Fail::Settled(e) => {
            *slot = Some(true);
            e
        }
    }
}

/// What [`diagnose`] needs to know about the scope.
struct Site<'p> {
    fr: Frame,
    /// Absolute offset of the scope's first byte.
    data_at: usize,
    /// The parent's bytes from the scope's first byte to the parent's end.
    parent: &'p [u8],
    then: Then,
}

/// Runs `f` inside node `node` over exactly the frame's bytes.
pub(crate) fn scope<'a, 's, T>(
    r: &mut Reader<'a, 's>,
    fr: Frame,
    then: Then,
    node: &'static str,
    f: impl FnOnce(&mut Reader<'a, 's>) -> PResult<T>,
) -> PResult<T> {
    let site = Site {
        fr,
        data_at: r.offset(),
        parent: r.peek_rest(),
        then,
    };
    let mut inner = None;
    let res = r.limited(fr.n, fr.len_name, fr.len_at, |r| {
        r.node(node, None, |r| f(r).map_err(|e| split(e, &mut inner)))
    });
    res.map_err(|e| match inner {
        Some(false) => Fail::Settled(diagnose(r, e, &site, None)),
        _ => Fail::Settled(e),
    })
}

/// Reads the elements of a list over exactly the frame's bytes, each in node
/// `item[i]`. `each` gets the bytes of the elements before it (for duplicate checks,
/// which so need no allocation). Returns the list's bytes.
pub(crate) fn elements<'a, 's>(
    r: &mut Reader<'a, 's>,
    fr: Frame,
    then: Then,
    el: Elements,
    mut each: impl FnMut(&mut Reader<'a, 's>, &'a [u8]) -> PResult<()>,
) -> PResult<&'a [u8]> {
    let parent = r.peek_rest();
    let raw = parent.get(..fr.n).unwrap_or(&[]);
    let site = Site {
        fr,
        data_at: r.offset(),
        parent,
        then,
    };
    let base = r.position();
    let mut t = Track::default();
    let res = r.limited(fr.n, fr.len_name, fr.len_at, |r| {
        let mut body = |r: &mut Reader<'a, 's>| {
            let mut i: u16 = 0;
            while !r.is_empty() {
                let at = r.position().saturating_sub(base);
                t.prev = t.start;
                t.start = at;
                t.index = i;
                let before = raw.get(..at).unwrap_or(&[]);
                r.node(el.item, Some(i), |r| {
                    each(r, before).map_err(|e| split(e, &mut t.inner))
                })?;
                i = i.saturating_add(1);
            }
            Ok(raw)
        };
        match el.node {
            Some(node) => r.node(node, None, body),
            None => body(r),
        }
    });
    res.map_err(|e| match t.inner {
        Some(false) => Fail::Settled(diagnose(r, e, &site, Some((el, t)))),
        _ => Fail::Settled(e),
    })
}

/// Picks the single-error explanation for an error raised directly inside a scope (see the
/// module documentation).
fn diagnose(
    r: &Reader<'_, '_>,
    e: DecodeError,
    site: &Site<'_>,
    list: Option<(Elements, Track)>,
) -> DecodeError {
    let n = site.fr.n;
    let then = site.then;
    let after = site.parent.get(n..).unwrap_or(&[]);
    let blame = |used: usize| {
        r.error_at(
            site.fr.len_at,
            site.fr.len_name,
            DecodeErrorKind::TrailingBytes { declared: n, used },
        )
    };
    let mut best: Option<(usize, DecodeError)> = None;
    let mut offer = |delta: usize, err: DecodeError| {
        if !matches!(best, Some((d, _)) if d <= delta) {
            best = Some((delta, err));
        }
    };
    // The contents overran the scope by `k` bytes.
    let (k, is_len) = match e.kind {
        DecodeErrorKind::Truncated { needed, available } => {
            (needed.saturating_sub(available), false)
        }
        DecodeErrorKind::LengthExceeds {
            declared,
            available,
        } => (declared.saturating_sub(available), true),
        // A vector that should have ended the scope stopped `used - declared` bytes early:
        // either it is short (the scope is right), or the scope is long.
        DecodeErrorKind::TrailingBytes { declared, used } if used > declared => {
            let t = used - declared;
            if then(after) {
                offer(t, e);
            }
            if t <= n && site.parent.get(n - t..).is_some_and(then) {
                offer(t, blame(n - t));
            }
            return best.map_or(e, |(_, err)| err);
        }
        _ => return e,
    };
    // 1. The inner length field is too long; the scope is right.
    if is_len && then(after) {
        offer(k, e);
    }
    // 2. The scope is too short by k.
    if after.get(k..).is_some_and(then) {
        offer(k, blame(n + k));
    }
    if let Some((el, t)) = list {
        let path_to = |index: u16, name: &'static str| {
            let mut p = *r.path();
            if let Some(node) = el.node {
                p.push(node, None);
            }
            p.push(el.item, Some(index));
            p.push(name, None);
            p
        };
        let a = n.saturating_sub(t.start);
        // 3. The list is too long: it should end where the fragment starts.
        if t.index > 0 && site.parent.get(t.start..).is_some_and(then) {
            offer(a, blame(t.start));
        }
        if let Some(tail) = el.tail {
            // 4. The previous element's length is short by the fragment's size.
            let prev = site.parent.get(t.prev..t.start);
            if let (true, Some(d)) = (t.index > 0, prev.and_then(|p| tail.value(p))) {
                if d.saturating_add(a) <= tail.max && then(after) {
                    offer(
                        a,
                        DecodeError {
                            offset: site.data_at + t.prev + tail.at,
                            path: path_to(t.index - 1, tail.name),
                            kind: DecodeErrorKind::TrailingBytes {
                                declared: d,
                                used: d + a,
                            },
                        },
                    );
                }
            }
            // 5. The failing element's length is too long by k and swallowed the
            //    fixed-width field after it.
            let len_at = site.data_at + t.start + tail.at;
            let cur = site.parent.get(t.start..n).and_then(|c| tail.value(c));
            if let (false, true, Some(d)) = (is_len, tail.after > 0, cur) {
                let fits = d >= k
                    && e.offset >= len_at + tail.len.size()
                    && t.start + tail.at + tail.len.size() + (d - k) + tail.after == n;
                if fits && then(after) {
                    offer(
                        k,
                        DecodeError {
                            offset: len_at,
                            path: path_to(t.index, tail.name),
                            kind: DecodeErrorKind::LengthExceeds {
                                declared: d,
                                available: d - k,
                            },
                        },
                    );
                }
            }
        }
    }
    best.map_or(e, |(_, err)| err)
}
