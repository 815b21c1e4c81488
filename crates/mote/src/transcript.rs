//! The transcript hash (RFC 8446 section 4.4.1). Before ServerHello the hash is not known:
//! when the offered suites use both SHA-256 and SHA-384, both run and ServerHello picks one;
//! when they all use one hash (the usual case on a device) only that one runs, and the other
//! is never linked.

use mote_crypto::{Digest, Hash, HashAlgorithm, Provider};
use mote_wire::HandshakeType;

pub enum Transcript<H: Hash> {
    Both(H, H),
    One(H),
}

impl<H: Hash> Transcript<H> {
    /// A transcript for hellos whose suites (and PSK) use `sha256` and/or `sha384`.
    pub fn new<P: Provider<Hash = H>>(p: &P, sha256: bool, sha384: bool) -> Self {
        match (sha256, sha384) {
            (true, true) => {
                Transcript::Both(p.hash(HashAlgorithm::Sha256), p.hash(HashAlgorithm::Sha384))
            }
            (false, true) => Transcript::One(p.hash(HashAlgorithm::Sha384)),
            _ => Transcript::One(p.hash(HashAlgorithm::Sha256)),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Transcript::Both(a, b) => {
                a.update(data);
                b.update(data);
            }
            Transcript::One(h) => h.update(data),
        }
    }

    /// The running hash for `alg` (a copy: the transcript goes on).
    pub fn fork(&self, alg: HashAlgorithm) -> H {
        match self {
            Transcript::Both(a, b) => {
                if alg == HashAlgorithm::Sha256 {
                    a.clone()
                } else {
                    b.clone()
                }
            }
            Transcript::One(h) => h.clone(),
        }
    }

    /// The hash so far under the chosen (or given) algorithm.
    pub fn current(&self, alg: HashAlgorithm) -> Digest {
        self.fork(alg).finish()
    }

    /// Keeps only `alg` (ServerHello chose the suite).
    pub fn choose(&mut self, alg: HashAlgorithm) {
        if let Transcript::Both(..) = self {
            *self = Transcript::One(self.fork(alg));
        }
    }

    /// After a HelloRetryRequest the first ClientHello is replaced by
    /// `message_hash || 00 00 Hash.length || Hash(ClientHello1)` (RFC 8446 section 4.4.1).
    pub fn restart_after_hrr<P: Provider<Hash = H>>(&mut self, p: &P, alg: HashAlgorithm) {
        let ch1 = self.current(alg);
        let mut h = p.hash(alg);
        h.update(&[HandshakeType::MESSAGE_HASH.0, 0, 0, ch1.len() as u8]);
        h.update(ch1.as_bytes());
        *self = Transcript::One(h);
    }
}
