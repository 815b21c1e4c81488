//! The TLS 1.3 key schedule (RFC 8446 section 7.1) as typestates.
//!
//! Each stage owns its secret and is consumed by the move to the next stage, so a handshake
//! secret cannot be derived from a master secret, nor an old stage reused after the schedule
//! has moved on. Secrets are [`Digest`]s, which never print their bytes.

use mote_crypto::{Digest, HashAlgorithm, Provider, MAX_DIGEST};

/// HKDF-Expand-Label (RFC 8446 section 7.1): `HKDF-Expand(secret, HkdfLabel, out.len())` with
/// `HkdfLabel = length(2) || "tls13 " + label (1-byte prefix) || context (1-byte prefix)`.
/// The label is passed to HKDF in parts so no buffer is needed.
pub fn hkdf_expand_label<P: Provider>(
    p: &P,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) {
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let ctx_len = [context.len() as u8];
    // Every caller asks for at most 48 bytes with labels and contexts of at most 48 bytes:
    // HKDF-Expand cannot fail for those lengths (its limit is 255 * hash length).
    let _ = p.hkdf_expand(
        alg,
        secret,
        &[&len, &label_len, b"tls13 ", label, &ctx_len, context],
        out,
    );
}

/// Derive-Secret(secret, label, messages) with the transcript hash already computed.
pub fn derive_secret<P: Provider>(
    p: &P,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    transcript_hash: &[u8],
) -> Digest {
    let mut out = [0u8; MAX_DIGEST];
    let n = alg.output_len();
    hkdf_expand_label(p, alg, secret, label, transcript_hash, &mut out[..n]);
    Digest::new(&out[..n])
}

/// The hash of the empty string, the context of "derived" and of binder keys.
fn empty_hash<P: Provider>(p: &P, alg: HashAlgorithm) -> Digest {
    use mote_crypto::Hash;
    p.hash(alg).finish()
}

/// The stage before any (EC)DHE: HKDF-Extract(0, PSK or zeros).
pub struct EarlySecret {
    alg: HashAlgorithm,
    secret: Digest,
}

impl EarlySecret {
    /// `psk` is the external or resumption PSK; `None` for a full handshake (zeros).
    pub fn new<P: Provider>(p: &P, alg: HashAlgorithm, psk: Option<&[u8]>) -> EarlySecret {
        let zeros = [0u8; MAX_DIGEST];
        let n = alg.output_len();
        let ikm = psk.unwrap_or(&zeros[..n]);
        EarlySecret {
            alg,
            secret: p.hkdf_extract(alg, &zeros[..n], ikm),
        }
    }

    pub fn secret(&self) -> &Digest {
        &self.secret
    }

    /// The binder key (RFC 8446 section 4.2.11.2): "ext binder" for external PSKs,
    /// "res binder" for resumption.
    pub fn binder_key<P: Provider>(&self, p: &P, resumption: bool) -> Digest {
        let label: &[u8] = if resumption {
            b"res binder"
        } else {
            b"ext binder"
        };
        let eh = empty_hash(p, self.alg);
        derive_secret(p, self.alg, self.secret.as_bytes(), label, eh.as_bytes())
    }

    /// client_early_traffic_secret over ClientHello.
    pub fn client_early_traffic_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"c e traffic", th)
    }

    /// Moves to the handshake secret, mixing in the (EC)DHE shared secret (zeros for psk_ke).
    pub fn into_handshake<P: Provider>(self, p: &P, shared: Option<&[u8]>) -> HandshakeSecret {
        let n = self.alg.output_len();
        let eh = empty_hash(p, self.alg);
        let salt = derive_secret(
            p,
            self.alg,
            self.secret.as_bytes(),
            b"derived",
            eh.as_bytes(),
        );
        let zeros = [0u8; MAX_DIGEST];
        let ikm = shared.unwrap_or(&zeros[..n]);
        HandshakeSecret {
            alg: self.alg,
            secret: p.hkdf_extract(self.alg, salt.as_bytes(), ikm),
        }
    }
}

/// The handshake secret: source of the handshake traffic secrets.
pub struct HandshakeSecret {
    alg: HashAlgorithm,
    secret: Digest,
}

impl HandshakeSecret {
    pub fn secret(&self) -> &Digest {
        &self.secret
    }

    /// client_handshake_traffic_secret over ClientHello..ServerHello.
    pub fn client_traffic_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"c hs traffic", th)
    }

    /// server_handshake_traffic_secret over ClientHello..ServerHello.
    pub fn server_traffic_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"s hs traffic", th)
    }

    /// Moves to the master secret.
    pub fn into_master<P: Provider>(self, p: &P) -> MasterSecret {
        let n = self.alg.output_len();
        let eh = empty_hash(p, self.alg);
        let salt = derive_secret(
            p,
            self.alg,
            self.secret.as_bytes(),
            b"derived",
            eh.as_bytes(),
        );
        let zeros = [0u8; MAX_DIGEST];
        MasterSecret {
            alg: self.alg,
            secret: p.hkdf_extract(self.alg, salt.as_bytes(), &zeros[..n]),
        }
    }
}

/// The master secret: source of application traffic, exporter and resumption secrets.
pub struct MasterSecret {
    alg: HashAlgorithm,
    secret: Digest,
}

impl MasterSecret {
    pub fn secret(&self) -> &Digest {
        &self.secret
    }

    /// client_application_traffic_secret_0 over ClientHello..server Finished.
    pub fn client_traffic_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"c ap traffic", th)
    }

    /// server_application_traffic_secret_0 over ClientHello..server Finished.
    pub fn server_traffic_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"s ap traffic", th)
    }

    /// exporter_master_secret over ClientHello..server Finished.
    pub fn exporter_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"exp master", th)
    }

    /// resumption_master_secret over ClientHello..client Finished.
    pub fn resumption_secret<P: Provider>(&self, p: &P, th: &[u8]) -> Digest {
        derive_secret(p, self.alg, self.secret.as_bytes(), b"res master", th)
    }
}

/// The PSK a NewSessionTicket yields (RFC 8446 section 4.6.1).
pub fn resumption_psk<P: Provider>(
    p: &P,
    alg: HashAlgorithm,
    resumption_secret: &[u8],
    ticket_nonce: &[u8],
) -> Digest {
    let mut out = [0u8; MAX_DIGEST];
    let n = alg.output_len();
    hkdf_expand_label(
        p,
        alg,
        resumption_secret,
        b"resumption",
        ticket_nonce,
        &mut out[..n],
    );
    Digest::new(&out[..n])
}

/// The next traffic secret after a KeyUpdate (RFC 8446 section 7.2).
pub fn next_traffic_secret<P: Provider>(p: &P, alg: HashAlgorithm, secret: &[u8]) -> Digest {
    let mut out = [0u8; MAX_DIGEST];
    let n = alg.output_len();
    hkdf_expand_label(p, alg, secret, b"traffic upd", &[], &mut out[..n]);
    Digest::new(&out[..n])
}

/// Finished verify_data (RFC 8446 section 4.4.4): HMAC(finished_key, transcript hash).
pub fn finished_verify_data<P: Provider>(
    p: &P,
    alg: HashAlgorithm,
    base_key: &[u8],
    transcript_hash: &[u8],
) -> Digest {
    let mut key = [0u8; MAX_DIGEST];
    let n = alg.output_len();
    hkdf_expand_label(p, alg, base_key, b"finished", &[], &mut key[..n]);
    p.hmac(alg, &key[..n], &[transcript_hash])
}

/// A traffic key and IV (RFC 8446 section 7.3).
pub struct TrafficKeys {
    pub key: [u8; 32],
    pub key_len: usize,
    pub iv: [u8; 12],
}

impl TrafficKeys {
    pub fn derive<P: Provider>(
        p: &P,
        alg: HashAlgorithm,
        key_len: usize,
        secret: &[u8],
    ) -> TrafficKeys {
        let mut key = [0u8; 32];
        let key_len = key_len.min(32);
        let mut iv = [0u8; 12];
        hkdf_expand_label(p, alg, secret, b"key", &[], &mut key[..key_len]);
        hkdf_expand_label(p, alg, secret, b"iv", &[], &mut iv);
        TrafficKeys { key, key_len, iv }
    }

    pub fn key(&self) -> &[u8] {
        &self.key[..self.key_len]
    }
}
