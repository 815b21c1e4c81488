//! The TLS 1.2 / DTLS 1.2 key derivation (RFC 5246 sections 5, 6.3, 7.4.9 and 8.1; DTLS 1.2,
//! RFC 6347 section 4.2, uses it unchanged), for the AEAD suites mote implements.
//!
//! The premaster secret is built in a caller buffer ([`psk_premaster`],
//! [`ecdhe_psk_premaster`], [`ecdhe_premaster`]), turned into a [`MasterSecret12`] (extended,
//! RFC 7627, which the engine requires; or classic, for published vectors), which yields the
//! [`KeyBlock`] of record keys and the Finished verify_data. The PRF streams its output into
//! the caller's slice: nothing is allocated and no label or seed is concatenated into a
//! buffer (the provider's HMAC takes its message in parts).
//!
//! Secrets never print (their `Debug` shows lengths only). Like the TLS 1.3 schedule, they
//! are not wiped on drop: the crate has no zeroizing pattern (and no `unsafe` for volatile
//! writes), so that is left to a later, crate-wide change.

// Used by the DTLS 1.2 engine, coming: until it calls these, only the tests do.
#![allow(dead_code)]

use mote_crypto::{AeadAlgorithm, CryptoError, Digest, HashAlgorithm, Provider};

/// The most seed parts [`prf`] takes after its label (the handshake uses at most two: the
/// two randoms).
pub const MAX_PRF_SEEDS: usize = 4;

/// The length of the master secret (RFC 5246 section 8.1).
pub const MASTER_SECRET_LEN: usize = 48;

/// The length of Finished verify_data for every suite here (RFC 5246 section 7.4.9).
pub const VERIFY_DATA_LEN: usize = 12;

/// The length of ClientHello.random and ServerHello.random (RFC 5246 section 7.4.1.2).
pub const RANDOM_LEN: usize = 32;

/// The HMAC message of one PRF step: the chaining value A(i) (or nothing), the label and up
/// to [`MAX_PRF_SEEDS`] seeds; unused parts are empty and add nothing to the HMAC input.
type Parts<'a> = [&'a [u8]; 2 + MAX_PRF_SEEDS];

/// P_hash (RFC 5246 section 5) over `label || seeds...`, with `parts[0]` free for A(i):
///
/// ```text
/// P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret, A(2) + seed) + ...
/// A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
/// ```
///
/// The output is written block by block; the last block is truncated to fit `out`.
fn p_hash<P: Provider>(
    p: &P,
    hash: HashAlgorithm,
    secret: &[u8],
    seed: &Parts<'_>,
    out: &mut [u8],
) {
    // A(1) = HMAC(secret, A(0)) with A(0) = label || seeds (parts[0] is empty here).
    let mut a: Digest = p.hmac(hash, secret, &seed[1..]);
    let mut chunks = out.chunks_mut(hash.output_len()).peekable();
    while let Some(chunk) = chunks.next() {
        let mut parts = *seed;
        parts[0] = a.as_bytes();
        let block = p.hmac(hash, secret, &parts);
        chunk.copy_from_slice(&block.as_bytes()[..chunk.len()]);
        if chunks.peek().is_some() {
            a = p.hmac(hash, secret, &[a.as_bytes()]);
        }
    }
}

/// The TLS 1.2 PRF (RFC 5246 section 5):
/// `PRF(secret, label, seed) = P_<hash>(secret, label + seed)` with the suite's hash (SHA-256
/// for every suite here, SHA-384 for `_SHA384` suites), filling all of `out`. The seed is the
/// concatenation of `seeds`, which are passed to HMAC in parts rather than copied.
///
/// Fails with [`CryptoError::BadLength`] for more than [`MAX_PRF_SEEDS`] seeds (nothing is
/// written then).
pub fn prf<P: Provider>(
    p: &P,
    hash: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seeds: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if seeds.len() > MAX_PRF_SEEDS {
        return Err(CryptoError::BadLength);
    }
    let mut parts: Parts<'_> = [&[]; 2 + MAX_PRF_SEEDS];
    parts[1] = label;
    parts[2..2 + seeds.len()].copy_from_slice(seeds);
    p_hash(p, hash, secret, &parts, out);
    Ok(())
}

/// [`prf`] with at most two seeds, which cannot fail.
fn prf2<P: Provider>(
    p: &P,
    hash: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seed1: &[u8],
    seed2: &[u8],
    out: &mut [u8],
) {
    let mut parts: Parts<'_> = [&[]; 2 + MAX_PRF_SEEDS];
    parts[1] = label;
    parts[2] = seed1;
    parts[3] = seed2;
    p_hash(p, hash, secret, &parts, out);
}

/// The length of a plain-PSK premaster secret for a PSK of `psk_len` bytes.
pub const fn psk_premaster_len(psk_len: usize) -> usize {
    2 + psk_len + 2 + psk_len
}

/// The length of an ECDHE_PSK premaster secret for a shared secret of `z_len` bytes and a PSK
/// of `psk_len` bytes.
pub const fn ecdhe_psk_premaster_len(z_len: usize, psk_len: usize) -> usize {
    2 + z_len + 2 + psk_len
}

/// Writes `uint16 len(first) || first || uint16 len(second) || second` to the start of `out`
/// and returns its length; `first` is `zeros_len` zero bytes when `first` is `None`.
fn two_opaque16(
    first: Option<&[u8]>,
    zeros_len: usize,
    second: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    let n1 = first.map_or(zeros_len, <[u8]>::len);
    let n2 = second.len();
    let (Ok(l1), Ok(l2)) = (u16::try_from(n1), u16::try_from(n2)) else {
        return Err(CryptoError::BadLength);
    };
    let total = 2 + n1 + 2 + n2;
    let out = out.get_mut(..total).ok_or(CryptoError::BadLength)?;
    let (len1, rest) = out.split_at_mut(2);
    let (body1, rest) = rest.split_at_mut(n1);
    let (len2, body2) = rest.split_at_mut(2);
    len1.copy_from_slice(&l1.to_be_bytes());
    match first {
        Some(f) => body1.copy_from_slice(f),
        None => body1.fill(0),
    }
    len2.copy_from_slice(&l2.to_be_bytes());
    body2.copy_from_slice(second);
    Ok(total)
}

/// The premaster secret of the plain PSK key exchange (RFC 4279 section 2): with N the PSK
/// length, `uint16 N || N zero bytes || uint16 N || psk`. Written to the start of `out`;
/// returns its length ([`psk_premaster_len`]).
///
/// Fails with [`CryptoError::BadLength`] if `out` is too short or the PSK is longer than
/// 65535 bytes.
pub fn psk_premaster(psk: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
    two_opaque16(None, psk.len(), psk, out)
}

/// The premaster secret of ECDHE_PSK (RFC 5489 section 2): `uint16 len(Z) || Z || uint16
/// len(psk) || psk`, Z being the ECDH shared secret (the x-coordinate, or the X25519 output).
/// Written to the start of `out`; returns its length ([`ecdhe_psk_premaster_len`]).
///
/// Fails with [`CryptoError::BadLength`] if `out` is too short or a part is longer than 65535
/// bytes.
pub fn ecdhe_psk_premaster(
    shared: &[u8],
    psk: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    two_opaque16(Some(shared), 0, psk, out)
}

/// The premaster secret of (EC)DHE (RFC 8422 section 5.10; RFC 7748 section 6.1 for X25519):
/// the shared secret itself. Copied to the start of `out` (so every key exchange fills the
/// same buffer); returns its length.
///
/// Fails with [`CryptoError::BadLength`] if `out` is too short.
pub fn ecdhe_premaster(shared: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
    out.get_mut(..shared.len())
        .ok_or(CryptoError::BadLength)?
        .copy_from_slice(shared);
    Ok(shared.len())
}

/// The fixed (implicit) part of the AEAD nonce taken from the key block, client_write_IV and
/// server_write_IV: 4 bytes for AES-GCM (RFC 5288 section 3) and AES-CCM (RFC 6655 section
/// 3), 12 for ChaCha20-Poly1305 (RFC 7905 section 2, which XORs it with the sequence number).
pub const fn fixed_iv_len(aead: AeadAlgorithm) -> usize {
    match aead {
        AeadAlgorithm::ChaCha20Poly1305 => 12,
        AeadAlgorithm::Aes128Gcm
        | AeadAlgorithm::Aes256Gcm
        | AeadAlgorithm::Aes128Ccm
        | AeadAlgorithm::Aes128Ccm8 => 4,
    }
}

/// The TLS 1.2 master secret (RFC 5246 section 8.1), 48 bytes, with the PRF hash of the suite
/// that made it. Consumed by nothing: the key block and both Finished values are derived from
/// it by reference.
pub struct MasterSecret12 {
    hash: HashAlgorithm,
    secret: [u8; MASTER_SECRET_LEN],
}

impl MasterSecret12 {
    /// The extended master secret (RFC 7627 section 4), which mote requires:
    /// `PRF(pre_master_secret, "extended master secret", session_hash)[0..47]`, where
    /// `session_hash` is the hash of the handshake messages up to and including the
    /// ClientKeyExchange (RFC 7627 section 3), computed with the PRF hash.
    pub fn extended<P: Provider>(
        p: &P,
        hash: HashAlgorithm,
        premaster: &[u8],
        session_hash: &[u8],
    ) -> MasterSecret12 {
        let mut secret = [0u8; MASTER_SECRET_LEN];
        prf2(
            p,
            hash,
            premaster,
            b"extended master secret",
            session_hash,
            &[],
            &mut secret,
        );
        MasterSecret12 { hash, secret }
    }

    /// The classic master secret (RFC 5246 section 8.1): `PRF(pre_master_secret, "master
    /// secret", ClientHello.random + ServerHello.random)[0..47]`. The engine does not
    /// negotiate it (it requires extended_master_secret); it reproduces published traces.
    pub fn classic<P: Provider>(
        p: &P,
        hash: HashAlgorithm,
        premaster: &[u8],
        client_random: &[u8; RANDOM_LEN],
        server_random: &[u8; RANDOM_LEN],
    ) -> MasterSecret12 {
        let mut secret = [0u8; MASTER_SECRET_LEN];
        prf2(
            p,
            hash,
            premaster,
            b"master secret",
            client_random,
            server_random,
            &mut secret,
        );
        MasterSecret12 { hash, secret }
    }

    /// A master secret kept from an earlier handshake (session resumption, RFC 5246 section
    /// 7.3 / RFC 5077), with the PRF hash of its suite.
    pub fn from_bytes(hash: HashAlgorithm, secret: [u8; MASTER_SECRET_LEN]) -> MasterSecret12 {
        MasterSecret12 { hash, secret }
    }

    /// The PRF hash this master secret was made with.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    pub fn as_bytes(&self) -> &[u8; MASTER_SECRET_LEN] {
        &self.secret
    }

    /// Key expansion (RFC 5246 section 6.3): `PRF(master_secret, "key expansion",
    /// ServerHello.random + ClientHello.random)`, filling `out` (any length). Note the
    /// randoms' order, the reverse of the master secret's.
    pub fn key_expansion<P: Provider>(
        &self,
        p: &P,
        client_random: &[u8; RANDOM_LEN],
        server_random: &[u8; RANDOM_LEN],
        out: &mut [u8],
    ) {
        prf2(
            p,
            self.hash,
            &self.secret,
            b"key expansion",
            server_random,
            client_random,
            out,
        );
    }

    /// The key block of an AEAD suite (RFC 5246 section 6.3 with no MAC keys, as RFC 5288
    /// section 3, RFC 6655 section 3 and RFC 7905 section 2 specify): client_write_key,
    /// server_write_key, client_write_IV, server_write_IV, in that order.
    pub fn key_block<P: Provider>(
        &self,
        p: &P,
        aead: AeadAlgorithm,
        client_random: &[u8; RANDOM_LEN],
        server_random: &[u8; RANDOM_LEN],
    ) -> KeyBlock {
        let key_len = aead.key_len();
        let iv_len = fixed_iv_len(aead);
        let mut block = [0u8; 2 * MAX_KEY + 2 * MAX_FIXED_IV];
        let block = &mut block[..2 * key_len + 2 * iv_len];
        self.key_expansion(p, client_random, server_random, block);
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        let mut kb = KeyBlock {
            aead,
            client_key: [0; MAX_KEY],
            server_key: [0; MAX_KEY],
            client_iv: [0; MAX_FIXED_IV],
            server_iv: [0; MAX_FIXED_IV],
        };
        kb.client_key[..key_len].copy_from_slice(client_key);
        kb.server_key[..key_len].copy_from_slice(server_key);
        kb.client_iv[..iv_len].copy_from_slice(client_iv);
        kb.server_iv[..iv_len].copy_from_slice(server_iv);
        kb
    }

    /// The client's Finished verify_data (RFC 5246 section 7.4.9): `PRF(master_secret,
    /// "client finished", Hash(handshake_messages))[0..11]`, `handshake_hash` being the PRF
    /// hash of every handshake message before this Finished (in DTLS, RFC 6347 section 4.2.6,
    /// as reconstructed without fragmentation and with HelloVerifyRequest exchanges omitted).
    pub fn client_verify_data<P: Provider>(
        &self,
        p: &P,
        handshake_hash: &[u8],
    ) -> [u8; VERIFY_DATA_LEN] {
        self.verify_data(p, b"client finished", handshake_hash)
    }

    /// The server's Finished verify_data: as [`Self::client_verify_data`] with "server
    /// finished", over the messages up to and including the client's Finished.
    pub fn server_verify_data<P: Provider>(
        &self,
        p: &P,
        handshake_hash: &[u8],
    ) -> [u8; VERIFY_DATA_LEN] {
        self.verify_data(p, b"server finished", handshake_hash)
    }

    fn verify_data<P: Provider>(
        &self,
        p: &P,
        label: &[u8],
        handshake_hash: &[u8],
    ) -> [u8; VERIFY_DATA_LEN] {
        let mut out = [0u8; VERIFY_DATA_LEN];
        prf2(
            p,
            self.hash,
            &self.secret,
            label,
            handshake_hash,
            &[],
            &mut out,
        );
        out
    }
}

impl core::fmt::Debug for MasterSecret12 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // A secret: never print it.
        write!(f, "MasterSecret12({:?}, 48 bytes)", self.hash)
    }
}

/// The longest AEAD key here (AES-256-GCM, ChaCha20-Poly1305).
const MAX_KEY: usize = 32;
/// The longest fixed IV here (ChaCha20-Poly1305).
const MAX_FIXED_IV: usize = 12;

/// The record keys of a TLS 1.2 AEAD suite, as [`MasterSecret12::key_block`] splits the key
/// expansion: each direction's write key and fixed IV (no MAC keys: AEAD suites have none).
pub struct KeyBlock {
    aead: AeadAlgorithm,
    client_key: [u8; MAX_KEY],
    server_key: [u8; MAX_KEY],
    client_iv: [u8; MAX_FIXED_IV],
    server_iv: [u8; MAX_FIXED_IV],
}

impl KeyBlock {
    /// The AEAD the keys are for.
    pub fn aead(&self) -> AeadAlgorithm {
        self.aead
    }

    /// The key length: 16 bytes for AES-128 (GCM, CCM, CCM_8), 32 for AES-256-GCM and
    /// ChaCha20-Poly1305.
    pub fn key_len(&self) -> usize {
        self.aead.key_len()
    }

    /// The fixed IV length ([`fixed_iv_len`]).
    pub fn iv_len(&self) -> usize {
        fixed_iv_len(self.aead)
    }

    pub fn client_write_key(&self) -> &[u8] {
        &self.client_key[..self.key_len()]
    }

    pub fn server_write_key(&self) -> &[u8] {
        &self.server_key[..self.key_len()]
    }

    pub fn client_write_iv(&self) -> &[u8] {
        &self.client_iv[..self.iv_len()]
    }

    pub fn server_write_iv(&self) -> &[u8] {
        &self.server_iv[..self.iv_len()]
    }
}

impl core::fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys: never print them.
        write!(f, "KeyBlock({:?})", self.aead)
    }
}

#[cfg(test)]
#[path = "tls12_tests.rs"]
mod tests;
