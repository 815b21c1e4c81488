//! Epoch-1 record keys of a DTLS 1.2 TLS_PSK_WITH_AES_128_CCM_8 connection, derived in the
//! test from the master secret a key log saw (the TLS 1.2 PRF, RFC 5246 section 5, written
//! here so the engine's own is not what checks it), and records opened and forged with them.

use super::dtls_script::{put, record};
use mote::KeyLog;
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{Aead as _, AeadAlgorithm, HashAlgorithm, Provider as _};
use std::sync::Mutex;

/// The master secret a key log saw.
pub struct Log(pub Mutex<Vec<u8>>);

impl KeyLog for Log {
    fn log(&self, label: &str, _client_random: &[u8; 32], secret: &[u8]) {
        assert_eq!(label, "CLIENT_RANDOM");
        *self.0.lock().unwrap() = secret.to_vec();
    }
}

/// The TLS 1.2 PRF with SHA-256 (RFC 5246 section 5).
pub fn prf(secret: &[u8], label: &[u8], seed: &[u8], n: usize) -> Vec<u8> {
    let p = RustCrypto;
    let mut a = p.hmac(HashAlgorithm::Sha256, secret, &[label, seed]);
    let mut out = Vec::new();
    while out.len() < n {
        let block = p.hmac(HashAlgorithm::Sha256, secret, &[a.as_bytes(), label, seed]);
        out.extend_from_slice(block.as_bytes());
        a = p.hmac(HashAlgorithm::Sha256, secret, &[a.as_bytes()]);
    }
    out.truncate(n);
    out
}

/// One direction's epoch-1 write key and salt for TLS_PSK_WITH_AES_128_CCM_8.
#[derive(Clone)]
pub struct Keys {
    pub key: Vec<u8>,
    pub salt: Vec<u8>,
}

/// The client's and the server's epoch-1 write keys (RFC 5246 section 6.3: the key block
/// is client key, server key, client IV, server IV).
pub fn write_keys(master: &[u8], client_random: &[u8], server_random: &[u8]) -> (Keys, Keys) {
    let seed = [server_random, client_random].concat();
    let kb = prf(master, b"key expansion", &seed, 2 * 16 + 2 * 4);
    (
        Keys {
            key: kb[..16].to_vec(),
            salt: kb[32..36].to_vec(),
        },
        Keys {
            key: kb[16..32].to_vec(),
            salt: kb[36..40].to_vec(),
        },
    )
}

/// The AEAD nonce and additional data of an epoch-1 DTLS 1.2 record (RFC 6655, RFC 6347).
pub fn nonce_aad(salt: &[u8], header: &[u8], explicit: &[u8], len: usize) -> ([u8; 12], Vec<u8>) {
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(salt);
    nonce[4..].copy_from_slice(explicit);
    let mut aad = header[3..11].to_vec();
    aad.extend_from_slice(&header[..3]);
    aad.extend_from_slice(&(len as u16).to_be_bytes());
    (nonce, aad)
}

/// Opens an epoch-1 record (header included) with `k`: its plaintext, `None` when it does
/// not authenticate.
pub fn open(k: &Keys, rec: &[u8]) -> Option<Vec<u8>> {
    let aead = RustCrypto.aead(AeadAlgorithm::Aes128Ccm8, &k.key).unwrap();
    let body = &rec[13..];
    let (explicit, rest) = body.split_at(8);
    let (ct, tag) = rest.split_at(rest.len().checked_sub(8)?);
    let (nonce, aad) = nonce_aad(&k.salt, &rec[..13], explicit, ct.len());
    let mut buf = ct.to_vec();
    aead.open_in_place(&nonce, &aad, &mut buf, tag).ok()?;
    Some(buf)
}

/// Seals `plain` as an epoch-1 record of content type `ct` with record number `seq`.
pub fn seal(k: &Keys, ct: u8, seq: u64, plain: &[u8]) -> Vec<u8> {
    let aead = RustCrypto.aead(AeadAlgorithm::Aes128Ccm8, &k.key).unwrap();
    let mut header = record(ct, 1, seq, &[]);
    let explicit = header[3..11].to_vec();
    put(&mut header, 11, 2, (8 + plain.len() + 8) as u64);
    let (nonce, aad) = nonce_aad(&k.salt, &header, &explicit, plain.len());
    let mut buf = plain.to_vec();
    let mut tag = [0u8; 8];
    aead.seal_in_place(&nonce, &aad, &mut buf, &mut tag)
        .unwrap();
    [header, explicit, buf, tag.to_vec()].concat()
}
