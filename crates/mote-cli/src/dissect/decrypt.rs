//! TLS 1.3 record decryption with a key log (`mote dissect --keylog`, NSS key log format,
//! draft-ietf-tls-keylogfile-05).
//!
//! The key log names a connection by its ClientHello random, which [`FlowState`] records;
//! the ServerHello gives the suite. Each direction then goes through the secrets of RFC 8446
//! section 7.1: records after ServerHello are protected with the sender's handshake traffic
//! secret until (and including) its Finished, then with its application traffic secret
//! `_0`; each KeyUpdate it sends moves it to the next secret (section 7.2). A client that
//! offered 0-RTT data starts with CLIENT_EARLY_TRAFFIC_SECRET until EndOfEarlyData, or
//! until a record decrypts with its handshake secret (the server rejected the early data).
//!
//! What is reported:
//! - no key log entry for the flow's client random, a label missing from the key log, no
//!   ClientHello in the capture: a *note* (dissecting without keys is normal; exit 0);
//! - a record that does not decrypt with a secret the key log has for this connection (a
//!   key log of another run, or a tampered record), or that decrypts to nonsense: a
//!   *diagnostic* (exit 1). After a failure the direction's later records are shown
//!   encrypted: which key and sequence number they use is no longer known.
//!
//! Not supported (said in a flow note when a key log is given): TLS 1.2 (`CLIENT_RANDOM`
//! master secrets) and DTLS (1.2 and 1.3); their records are shown encrypted.

use super::content::{self, ContentOut, Pending};
use super::state::FlowState;
use super::tree::{hex_preview, Diagnostic, Node};
use crate::keylog::{self, KeyLog};
use mote::error::{Error, PeerMisbehaved};
use mote::key_schedule::tls13::{next_traffic_secret, TrafficKeys};
use mote::record_layer::tls13::Protector;
use mote_crypto::rustcrypto::{RcAead, RustCrypto};
use mote_crypto::SuiteInfo;
use mote_wire::record::TLS_HEADER_LEN;
use mote_wire::{ContentType, HandshakeType, Path};

/// The largest TLSInnerPlaintext content (RFC 8446 section 5.4: 2^14 bytes).
const MAX_PLAINTEXT: usize = 1 << 14;

/// Which secret protects a direction's records.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Client only: 0-RTT data after a ClientHello that offered early_data.
    Early,
    /// From ServerHello through the sender's Finished.
    Handshake,
    /// After Finished: application traffic secret N (N counts the sender's KeyUpdates).
    Application(u32),
}

/// A secret with the record protection keyed from it.
struct Keyed {
    /// How the secret is named: a key log label, or `SERVER_TRAFFIC_SECRET_2` for one
    /// derived by KeyUpdates from `_0`.
    label: String,
    info: SuiteInfo,
    secret: Vec<u8>,
    prot: Protector<RcAead>,
}

impl Keyed {
    fn new(label: String, info: SuiteInfo, secret: &[u8]) -> Result<Keyed, String> {
        let p = RustCrypto;
        let keys = TrafficKeys::derive(&p, info.hash, info.aead.key_len(), secret);
        let prot = Protector::from_keys(&p, info.aead, keys.key(), keys.iv)
            .map_err(|e| format!("cannot key {:?}: {e}", info.aead))?;
        Ok(Keyed {
            label,
            info,
            secret: secret.to_vec(),
            prot,
        })
    }

    /// Opens a copy of `record` (header included: it is the AEAD's additional data).
    fn open(&mut self, record: &[u8]) -> Result<Plain, Error> {
        let mut buf = record.to_vec();
        let (inner, len) = self.prot.open(&mut buf, MAX_PLAINTEXT)?;
        let tag_len = self.prot.tag_len();
        let body = record.len() - TLS_HEADER_LEN;
        Ok(Plain {
            label: self.label.clone(),
            inner,
            content: buf[TLS_HEADER_LEN..TLS_HEADER_LEN + len].to_vec(),
            padding: body - tag_len - len - 1,
            tag_len,
        })
    }
}

/// One direction's keys.
#[derive(Default)]
struct DirKeys {
    /// `None` until the direction's first protected record.
    phase: Option<Phase>,
    current: Option<Keyed>,
    /// The client's early traffic secret while in [`Phase::Early`].
    early: Option<Keyed>,
    /// Set when a 0-RTT record failed to decrypt: later ones are not tried.
    early_failed: bool,
    /// Why this direction's later records are not tried.
    stopped: Option<String>,
}

/// A record the decryptor opened: the TLSInnerPlaintext without the tag.
pub struct Plain {
    pub label: String,
    pub inner: ContentType,
    pub content: Vec<u8>,
    pub padding: usize,
    pub tag_len: usize,
}

/// What became of an encrypted record.
pub enum Opened {
    /// Not decrypted, and nothing is wrong: no key log, no entry for this connection, a
    /// version that is not supported. The note, if any, is for the record.
    Skipped(Option<String>),
    /// Not decrypted although the key log has secrets for this connection.
    Failed(Diagnostic),
    Plain(Plain),
}

/// An encrypted record to open.
pub struct Record<'a> {
    /// The whole record, header included (the header is the AEAD's additional data).
    pub bytes: &'a [u8],
    /// The record's number in the flow.
    pub index: usize,
    /// Input offset of the ciphertext (the record's fragment).
    pub at: usize,
    pub from_client: bool,
}

impl Record<'_> {
    fn diagnostic(&self, message: String, alert: &str) -> Diagnostic {
        Diagnostic {
            offset: self.at,
            path: format!("record[{}]", self.index),
            message,
            alert: alert.into(),
        }
    }
}

/// A flow's decryption state.
pub struct Decryptor<'k> {
    keylog: Option<&'k KeyLog>,
    dirs: [DirKeys; 2],
    /// Notes for the flow, each given once.
    pub notes: Vec<String>,
    /// Records decrypted, and encrypted records seen, while a key log was given.
    pub decrypted: usize,
    pub encrypted: usize,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn side(from_client: bool) -> &'static str {
    if from_client {
        "client->server"
    } else {
        "server->client"
    }
}

fn label_of(phase: Phase, from_client: bool) -> String {
    let who = if from_client { "CLIENT" } else { "SERVER" };
    match phase {
        Phase::Early => keylog::CLIENT_EARLY_TRAFFIC_SECRET.into(),
        Phase::Handshake => format!("{who}_HANDSHAKE_TRAFFIC_SECRET"),
        Phase::Application(n) => format!("{who}_TRAFFIC_SECRET_{n}"),
    }
}

impl<'k> Decryptor<'k> {
    pub fn new(keylog: Option<&'k KeyLog>) -> Decryptor<'k> {
        Decryptor {
            keylog,
            dirs: Default::default(),
            notes: Vec::new(),
            decrypted: 0,
            encrypted: 0,
        }
    }

    pub fn active(&self) -> bool {
        self.keylog.is_some()
    }

    fn note_once(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// Tries to decrypt a record protected under what `st` knows of the flow.
    pub fn open(&mut self, st: &FlowState, rec: &Record<'_>) -> Opened {
        let from_client = rec.from_client;
        let Some(log) = self.keylog else {
            return Opened::Skipped(None);
        };
        self.encrypted += 1;
        let early_before_hello = from_client && st.early_data_offered && st.version.is_none();
        if st.dtls || !(st.is_tls13() || early_before_hello) {
            let entry = match st.client_random {
                Some(r) if log.secret(&r, keylog::CLIENT_RANDOM).is_some() => {
                    " (the key log has its CLIENT_RANDOM entry)"
                }
                _ => "",
            };
            let what = if st.dtls { "DTLS" } else { "TLS 1.2" };
            self.note_once(format!(
                "{what} records are not decrypted: --keylog supports TLS 1.3 only{entry}; \
                 they are shown encrypted"
            ));
            return Opened::Skipped(None);
        }
        let Some(random) = st.client_random else {
            self.note_once(
                "the capture holds no ClientHello, so the client random that names this \
                 connection in the key log is unknown; records are shown encrypted"
                    .into(),
            );
            return Opened::Skipped(None);
        };
        if !log.has_random(&random) {
            self.note_once(format!(
                "no key log entry for this client random ({}); records are shown encrypted",
                hex(&random)
            ));
            return Opened::Skipped(None);
        }
        let d = usize::from(!from_client);
        if self.dirs[d].phase.is_none() {
            self.dirs[d].phase = Some(if from_client && st.early_data_offered {
                Phase::Early
            } else {
                Phase::Handshake
            });
        }
        if let Some(why) = &self.dirs[d].stopped {
            return Opened::Skipped(Some(why.clone()));
        }
        let out = if self.dirs[d].phase == Some(Phase::Early) {
            self.open_early(st, log, &random, rec)
        } else {
            self.open_current(st, log, &random, rec)
        };
        if matches!(out, Opened::Plain(_)) {
            self.decrypted += 1;
        }
        out
    }

    /// Keys the direction's current secret from the key log if it is not keyed yet.
    fn key_current(
        &mut self,
        st: &FlowState,
        log: &KeyLog,
        random: &[u8; 32],
        rec: &Record<'_>,
    ) -> Result<(), Opened> {
        let from_client = rec.from_client;
        let d = usize::from(!from_client);
        if self.dirs[d].current.is_some() {
            return Ok(());
        }
        let phase = self.dirs[d].phase.unwrap_or(Phase::Handshake);
        let label = label_of(phase, from_client);
        let Some(secret) = log.secret(random, &label) else {
            let why = format!(
                "not decrypted: the key log has no {label} for this connection, so the rest \
                 of {} is shown encrypted",
                side(from_client)
            );
            self.note_once(why.clone());
            self.dirs[d].stopped = Some(why.clone());
            return Err(Opened::Skipped(Some(why)));
        };
        let Some(info) = st.suite.and_then(SuiteInfo::of).filter(|i| i.tls13) else {
            let why = format!(
                "not decrypted: cipher suite {} is not a TLS 1.3 suite mote implements",
                st.suite.map(|s| s.to_string()).unwrap_or_default()
            );
            self.note_once(why.clone());
            self.dirs[d].stopped = Some(why.clone());
            return Err(Opened::Skipped(Some(why)));
        };
        let fail = |msg: String| Opened::Failed(rec.diagnostic(msg, "bad_record_mac"));
        if secret.len() != info.hash.output_len() {
            self.dirs[d].stopped = Some(format!("not decrypted: {label} has the wrong length"));
            return Err(fail(format!(
                "the key log's {label} is {} bytes, but {} needs {} (a key log of another \
                 connection or suite?)",
                secret.len(),
                info.suite,
                info.hash.output_len()
            )));
        }
        match Keyed::new(label, info, secret) {
            Ok(k) => {
                self.dirs[d].current = Some(k);
                Ok(())
            }
            Err(e) => {
                self.dirs[d].stopped = Some(format!("not decrypted: {e}"));
                Err(fail(e))
            }
        }
    }

    fn open_current(
        &mut self,
        st: &FlowState,
        log: &KeyLog,
        random: &[u8; 32],
        rec: &Record<'_>,
    ) -> Opened {
        if let Err(o) = self.key_current(st, log, random, rec) {
            return o;
        }
        let (from_client, index) = (rec.from_client, rec.index);
        let d = usize::from(!from_client);
        let Some(k) = self.dirs[d].current.as_mut() else {
            return Opened::Skipped(None);
        };
        let label = k.label.clone();
        match k.open(rec.bytes) {
            Ok(p) => Opened::Plain(p),
            Err(e) => {
                let (message, alert, stop) = failure(&e, &label);
                if stop {
                    self.dirs[d].stopped = Some(format!(
                        "not decrypted: record[{index}] did not decrypt with {label}, so the \
                         keys of the rest of {} are unknown",
                        side(from_client)
                    ));
                }
                Opened::Failed(rec.diagnostic(message, alert))
            }
        }
    }

    /// A client record while 0-RTT data may still be coming: the early secret, else (once
    /// the server has answered) the handshake secret, which ends the early phase.
    fn open_early(
        &mut self,
        st: &FlowState,
        log: &KeyLog,
        random: &[u8; 32],
        rec: &Record<'_>,
    ) -> Opened {
        let cets = log.secret(random, keylog::CLIENT_EARLY_TRAFFIC_SECRET);
        let mut tried = Vec::new();
        let dir = &mut self.dirs[0];
        if let (Some(secret), false) = (cets, dir.early_failed) {
            tried.push(keylog::CLIENT_EARLY_TRAFFIC_SECRET);
            if let Some(k) = dir.early.as_mut() {
                if let Some(o) = trial(k, rec) {
                    return o;
                }
            } else {
                // Before ServerHello the suite is the PSK's, which the capture does not
                // show: try each TLS 1.3 suite whose hash fits the secret.
                let candidates: Vec<SuiteInfo> = match st.suite.and_then(SuiteInfo::of) {
                    Some(i) => vec![i],
                    None => SuiteInfo::TLS13
                        .iter()
                        .filter_map(|s| SuiteInfo::of(*s))
                        .collect(),
                };
                for info in candidates
                    .into_iter()
                    .filter(|i| i.hash.output_len() == secret.len())
                {
                    let label = keylog::CLIENT_EARLY_TRAFFIC_SECRET.to_string();
                    if let Ok(mut k) = Keyed::new(label, info, secret) {
                        if let Some(o) = trial(&mut k, rec) {
                            dir.early = Some(k);
                            return o;
                        }
                    }
                }
            }
        }
        // Once the server has answered, the client may have moved to its handshake secret
        // (after EndOfEarlyData, or at once when the server rejected the early data).
        let chts = log.secret(random, keylog::CLIENT_HANDSHAKE_TRAFFIC_SECRET);
        let info = st.suite.and_then(SuiteInfo::of).filter(|i| i.tls13);
        if let (true, Some(secret), Some(info)) = (st.tls13_keys, chts, info) {
            tried.push(keylog::CLIENT_HANDSHAKE_TRAFFIC_SECRET);
            let label = keylog::CLIENT_HANDSHAKE_TRAFFIC_SECRET.to_string();
            if let Ok(mut k) = Keyed::new(label, info, secret) {
                if let Some(o) = trial(&mut k, rec) {
                    dir.phase = Some(Phase::Handshake);
                    dir.early = None;
                    dir.current = Some(k);
                    return o;
                }
            }
        }
        if cets.is_none() {
            return Opened::Skipped(Some(
                "0-RTT early data, not decrypted: the key log has no \
                 CLIENT_EARLY_TRAFFIC_SECRET for this connection"
                    .into(),
            ));
        }
        if dir.early_failed {
            return Opened::Skipped(Some(
                "not decrypted: an earlier 0-RTT record did not decrypt".into(),
            ));
        }
        dir.early_failed = true;
        Opened::Failed(rec.diagnostic(
            format!(
                "does not decrypt with {} (wrong key log or tampered record)",
                tried.join(" nor ")
            ),
            "bad_record_mac",
        ))
    }

    /// Follows the key changes the handshake messages of a decrypted record cause. Returns
    /// a note for the record when the sender's next record uses another secret.
    pub fn after(&mut self, from_client: bool, types: &[HandshakeType]) -> Option<String> {
        let d = usize::from(!from_client);
        let dir = &mut self.dirs[d];
        let mut changed = false;
        for t in types {
            match (dir.phase, *t) {
                (Some(Phase::Early), HandshakeType::END_OF_EARLY_DATA) => {
                    dir.phase = Some(Phase::Handshake);
                    dir.early = None;
                    changed = true;
                }
                (Some(Phase::Handshake), HandshakeType::FINISHED) => {
                    dir.phase = Some(Phase::Application(0));
                    dir.current = None;
                    changed = true;
                }
                (Some(Phase::Application(n)), HandshakeType::KEY_UPDATE) => {
                    dir.phase = Some(Phase::Application(n + 1));
                    // RFC 8446 section 7.2: the next secret is
                    // HKDF-Expand-Label(secret, "traffic upd", "", Hash.length).
                    dir.current = dir.current.take().and_then(|k| {
                        let next = next_traffic_secret(&RustCrypto, k.info.hash, &k.secret);
                        let label = label_of(Phase::Application(n + 1), from_client);
                        Keyed::new(label, k.info, next.as_bytes()).ok()
                    });
                    changed = true;
                }
                _ => {}
            }
        }
        let phase = dir.phase?;
        changed.then(|| {
            let label = label_of(phase, from_client);
            let how = match phase {
                Phase::Application(n) if n > 0 => {
                    format!(
                        ", derived from {} by KeyUpdate",
                        label_of(Phase::Application(n - 1), from_client)
                    )
                }
                _ => String::new(),
            };
            format!(
                "key change: the next {} records are protected with {label}{how}",
                side(from_client)
            )
        })
    }
}

/// Trial decryption: `None` when the tag does not verify with `k` (the record is not
/// protected with it), else the outcome, which advanced `k`'s sequence number.
fn trial(k: &mut Keyed, rec: &Record<'_>) -> Option<Opened> {
    match k.open(rec.bytes) {
        Ok(p) => Some(Opened::Plain(p)),
        Err(Error::Peer(PeerMisbehaved::BadRecordMac)) => None,
        Err(e) => {
            let (message, alert, _) = failure(&e, &k.label);
            Some(Opened::Failed(rec.diagnostic(message, alert)))
        }
    }
}

/// The diagnostic for a record that does not open, its alert, and whether the direction's
/// keys are lost (the sequence number did not advance).
fn failure(e: &Error, label: &str) -> (String, &'static str, bool) {
    match e {
        Error::Peer(PeerMisbehaved::BadRecordMac) => (
            format!("does not decrypt with {label} (wrong key log or tampered record)"),
            "bad_record_mac",
            true,
        ),
        Error::Peer(PeerMisbehaved::EmptyRecord) => (
            format!(
                "decrypts with {label} but is all zeros: no inner content type \
                 (RFC 8446 section 5.4)"
            ),
            "unexpected_message",
            false,
        ),
        Error::Peer(PeerMisbehaved::RecordOverflow { len, max }) if *max != MAX_PLAINTEXT => (
            format!(
                "is {len} bytes of ciphertext, more than the {max} RFC 8446 section 5.2 allows; \
                 not decrypted"
            ),
            "record_overflow",
            true,
        ),
        Error::Peer(PeerMisbehaved::RecordOverflow { len, max }) => (
            format!(
                "decrypts with {label} to {len} bytes of content, more than \
                 the {max} RFC 8446 section 5.4 allows"
            ),
            "record_overflow",
            false,
        ),
        other => (
            format!("does not decrypt with {label}: {other}"),
            "bad_record_mac",
            true,
        ),
    }
}

/// Dissects the content of a decrypted record whose ciphertext (`fragment_len` bytes)
/// starts at input offset `at`. Returns the `encrypted_record` node, with the content,
/// inner content type, padding and tag as its children, and the content's findings.
///
/// Offsets: the TLS 1.3 AEADs (AES-GCM, AES-CCM, ChaCha20-Poly1305) are stream ciphers, so
/// plaintext byte i sits at ciphertext byte i; a decrypted field is shown at the offset of
/// the ciphertext bytes that carry it.
#[allow(clippy::too_many_arguments)]
pub fn dissect_opened(
    p: &Plain,
    fragment_len: usize,
    at: usize,
    record: usize,
    path: &Path,
    from_client: bool,
    pending: &mut Pending,
    st: &mut FlowState,
) -> (Node, ContentOut) {
    let mut out = match p.inner {
        ContentType::HANDSHAKE | ContentType::ALERT | ContentType::APPLICATION_DATA => {
            content::dissect_plain(
                p.inner,
                &p.content,
                at,
                record,
                path,
                from_client,
                pending,
                st,
                true,
            )
        }
        other => {
            // RFC 8446 section 5: a protected change_cipher_spec, or a type no version
            // defines, is an unexpected_message.
            let mut n = Node::new(other.name().unwrap_or("content"), None, at);
            n.length = p.content.len();
            n.display = Some(hex_preview(&p.content));
            ContentOut {
                nodes: vec![n],
                diagnostics: vec![Diagnostic {
                    offset: at + p.content.len(),
                    path: format!("{path}.inner_content_type"),
                    message: format!(
                        "content type {other} is not allowed inside a protected record \
                         (only handshake, alert and application_data)"
                    ),
                    alert: "unexpected_message".into(),
                }],
                summary: format!("{other}"),
                ..Default::default()
            }
        }
    };
    let mut node = Node::new("encrypted_record", None, at);
    node.length = fragment_len;
    node.display = Some(format!(
        "{fragment_len} bytes: {} bytes of {}, {} bytes of padding, {}-byte tag (decrypted)",
        p.content.len(),
        p.inner,
        p.padding,
        p.tag_len
    ));
    node.notes.push(format!("decrypted with {}", p.label));
    node.children.append(&mut out.nodes);
    let type_at = at + p.content.len();
    let mut t = Node::new("inner_content_type", None, type_at);
    t.length = 1;
    t.value = Some(u64::from(p.inner.0));
    t.display = Some(match p.inner.name() {
        Some(n) => format!("{n} (0x{:02x})", p.inner.0),
        None => format!("unknown (0x{:02x})", p.inner.0),
    });
    node.children.push(t);
    let mut pad = Node::new("padding", None, type_at + 1);
    pad.length = p.padding;
    pad.value = Some(p.padding as u64);
    pad.display = Some(match p.padding {
        0 => "none".to_string(),
        n => format!("{n} zero bytes"),
    });
    node.children.push(pad);
    let mut tag = Node::new("tag", None, at + fragment_len - p.tag_len);
    tag.length = p.tag_len;
    tag.display = Some(format!("{} bytes (authenticated)", p.tag_len));
    node.children.push(tag);
    (node, out)
}
