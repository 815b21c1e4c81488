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
mod tests {
    use super::*;
    use mote_crypto::rustcrypto::RustCrypto;
    use mote_crypto::{Hash, KeyExchange, Rng};
    use mote_wire::NamedGroup;
    use std::string::String;
    use std::vec::Vec;

    /// `../shared/vectors/...` from the crate (the repository's sibling `shared` directory,
    /// located as `tests/rfc8448_schedule.rs` does).
    macro_rules! shared {
        ($rel:literal) => {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/vectors/",
                $rel
            )
        };
    }

    fn read(path: &str) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn read_bytes(path: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn hex(s: &str) -> Vec<u8> {
        let s = s.trim();
        assert!(s.len().is_multiple_of(2), "odd hex: {s}");
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn hash_of(name: &str) -> Option<HashAlgorithm> {
        match name.to_ascii_uppercase().as_str() {
            "SHA256" | "SHA-256" => Some(HashAlgorithm::Sha256),
            "SHA384" | "SHA-384" => Some(HashAlgorithm::Sha384),
            _ => None,
        }
    }

    /// The IETF TLS WG list vectors (msg03416), as transcribed in
    /// `shared/vectors/kdf/tls12_prf_ietf_vectors.txt` (see its header for the origin):
    /// PRF with label "test label" and one seed, SHA-256 (100 bytes) and SHA-384 (148 bytes).
    /// Its SHA-512 vector is skipped: no TLS 1.2 suite mote implements uses SHA-512.
    #[test]
    fn prf_ietf_vectors() {
        let text = read(shared!("kdf/tls12_prf_ietf_vectors.txt"));
        let field = |alg: &str, key: &str| -> Option<String> {
            text.lines()
                .filter_map(|l| l.split_once(" = "))
                .find(|(k, _)| k.trim() == std::format!("{alg}.{key}"))
                .map(|(_, v)| String::from(v.trim()))
        };
        let mut ran = 0;
        for (alg, hash) in [
            ("sha256", HashAlgorithm::Sha256),
            ("sha384", HashAlgorithm::Sha384),
        ] {
            let secret = hex(&field(alg, "secret").unwrap());
            let seed = hex(&field(alg, "seed").unwrap());
            let label = hex(&field(alg, "label").unwrap());
            let len: usize = field(alg, "length").unwrap().parse().unwrap();
            let expected = hex(&field(alg, "output").unwrap());
            assert_eq!(expected.len(), len, "{alg}");
            assert_eq!(label, b"test label");

            let mut out = std::vec![0u8; len];
            prf(&RustCrypto, hash, &secret, &label, &[&seed], &mut out).unwrap();
            assert_eq!(out, expected, "{alg}");

            // The same output with the seed split in parts, and any prefix length (the PRF
            // streams: a shorter output is a prefix of a longer one).
            let mut split = std::vec![0u8; len];
            let (s1, s2) = seed.split_at(5);
            prf(
                &RustCrypto,
                hash,
                &secret,
                &label,
                &[s1, &[], s2],
                &mut split,
            )
            .unwrap();
            assert_eq!(split, expected, "{alg} split seed");
            for n in [0, 1, 12, 31, 32, 33, 47, 48, 49, 64, 97] {
                let mut short = std::vec![0u8; n];
                prf(&RustCrypto, hash, &secret, &label, &[&seed], &mut short).unwrap();
                assert_eq!(short, expected[..n], "{alg} prefix {n}");
            }
            ran += 1;
        }
        assert_eq!(ran, 2);
        assert!(
            field("sha512", "output").is_some(),
            "the file changed shape"
        );
    }

    #[test]
    fn prf_rejects_too_many_seeds() {
        let mut out = [0xaa; 8];
        let seeds: [&[u8]; MAX_PRF_SEEDS + 1] = [b"x"; MAX_PRF_SEEDS + 1];
        let r = prf(
            &RustCrypto,
            HashAlgorithm::Sha256,
            b"k",
            b"l",
            &seeds,
            &mut out,
        );
        assert_eq!(r, Err(CryptoError::BadLength));
        assert_eq!(out, [0xaa; 8]);
        prf(
            &RustCrypto,
            HashAlgorithm::Sha256,
            b"k",
            b"l",
            &seeds[..MAX_PRF_SEEDS],
            &mut out,
        )
        .unwrap();
    }

    /// OpenSSL's `test/recipes/30-test_evp_data/evpkdf_tls12_prf.txt` (from NIST CAVP test
    /// vectors; Apache-2.0), copied to `shared/vectors/kdf/openssl_evpkdf_tls12_prf.txt`.
    /// Every stanza `KDF = TLS1-PRF` with a SHA-256/SHA-384 digest and an `Output` (no
    /// expected error) is run: OpenSSL's "label" is the first seed and the other seeds follow
    /// in the file's order. The "master secret" and "key expansion" stanzas are also run
    /// through [`MasterSecret12::classic`] and [`MasterSecret12::key_expansion`].
    #[test]
    fn prf_openssl_vectors() {
        let text = read(shared!("kdf/openssl_evpkdf_tls12_prf.txt"));
        let mut ran = 0;
        let mut ran_master = 0;
        let mut ran_expansion = 0;
        for stanza in text.split("\n\n") {
            let lines: Vec<(&str, &str)> = stanza
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            let get = |key: &str| lines.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            if !get("KDF").is_some_and(|k| k.eq_ignore_ascii_case("TLS1-PRF"))
                || get("Result").is_some()
            {
                continue;
            }
            let Some(expected) = get("Output").map(hex) else {
                continue;
            };
            let Some(hash) = get("Ctrl.digest")
                .and_then(|d| d.strip_prefix("digest:"))
                .and_then(hash_of)
            else {
                continue;
            };
            let secret = hex(get("Ctrl.Secret")
                .unwrap()
                .strip_prefix("hexsecret:")
                .unwrap());
            // Every seed control in order: `seed:` is ASCII, `hexseed:` hex.
            let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
            for (k, v) in &lines {
                if let Some(s) = v.strip_prefix("hexseed:") {
                    seeds.push((k, hex(s)));
                } else if let Some(s) = v.strip_prefix("seed:") {
                    seeds.push((k, s.as_bytes().to_vec()));
                }
            }
            let (label, rest) = seeds.split_first().unwrap();
            let parts: Vec<&[u8]> = rest.iter().map(|(_, s)| &s[..]).collect();
            let mut out = std::vec![0u8; expected.len()];
            prf(&RustCrypto, hash, &secret, &label.1, &parts, &mut out).unwrap();
            assert_eq!(out, expected, "stanza:\n{stanza}");
            ran += 1;

            let random = |name: &str| -> [u8; 32] {
                let (_, r) = seeds.iter().find(|(k, _)| *k == name).unwrap();
                r[..].try_into().unwrap()
            };
            match &label.1[..] {
                b"master secret" => {
                    let ms = MasterSecret12::classic(
                        &RustCrypto,
                        hash,
                        &secret,
                        &random("Ctrl.client_random"),
                        &random("Ctrl.server_random"),
                    );
                    assert_eq!(&ms.as_bytes()[..], &expected[..]);
                    ran_master += 1;
                }
                b"key expansion" => {
                    let ms = MasterSecret12::from_bytes(hash, secret[..].try_into().unwrap());
                    let mut kb = std::vec![0u8; expected.len()];
                    ms.key_expansion(
                        &RustCrypto,
                        &random("Ctrl.client_random"),
                        &random("Ctrl.server_random"),
                        &mut kb,
                    );
                    assert_eq!(kb, expected);
                    ran_expansion += 1;
                }
                _ => {}
            }
        }
        // Three SHA-256 stanzas plus the FIPS-indicator one (SHA-256 "master secret").
        assert_eq!((ran, ran_master, ran_expansion), (4, 2, 2));
    }

    /// An RNG that replays fixed bytes: it injects a capture's ephemeral private key.
    struct Fixed(Vec<u8>);

    impl Rng for Fixed {
        fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
            let n = dest.len().min(self.0.len());
            dest[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(())
        }
    }

    /// The body of a PEM file (RFC 7468), base64-decoded (RFC 4648 section 4).
    fn pem(text: &str) -> Vec<u8> {
        let b64: Vec<u8> = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.trim().bytes())
            .filter(|&c| c != b'=')
            .collect();
        let val = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => (c - b'A') as u32,
                b'a'..=b'z' => (c - b'a' + 26) as u32,
                b'0'..=b'9' => (c - b'0' + 52) as u32,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {c}"),
            }
        };
        let mut out = Vec::new();
        for chunk in b64.chunks(4) {
            let mut acc = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                acc |= val(c) << (18 - 6 * i);
            }
            out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
        }
        out
    }

    /// The Illustrated TLS 1.2 connection (github.com/syncsynchalt/illustrated-tls12, commit
    /// in `shared/vectors/captures/illustrated-tls12/SOURCE.txt`): X25519 from the published
    /// ephemeral private keys, the classic master secret against the capture's NSS key log,
    /// the key expansion against the page's "Client/Server Encryption Keys Calculation", and
    /// both Finished verify_data against the decrypted Finished messages in `captures/caps`.
    /// The suite is TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (SHA-256 PRF, no EMS), so the key
    /// block (MAC keys, CBC keys and IVs: 2*20 + 2*16 + 2*16 = 104 bytes) is checked as raw
    /// key expansion output.
    #[test]
    fn illustrated_tls12_capture() {
        let dir = shared!("captures/illustrated-tls12/");
        let cap = |name: &str| read_bytes(&std::format!("{dir}captures/caps/{name}"));
        // Each capture file is one record: 5 bytes of record header, then handshake messages.
        let hs = |name: &str| cap(name)[5..].to_vec();
        let p = RustCrypto;
        let hash = HashAlgorithm::Sha256;

        let client_hello = hs("clienthello");
        let server_hello = hs("serverhello");
        // Handshake header (4), version (2), random (32).
        let client_random: [u8; 32] = client_hello[6..38].try_into().unwrap();
        let server_random: [u8; 32] = server_hello[6..38].try_into().unwrap();
        // ServerHello: session_id length 0, then the suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA.
        assert_eq!(server_hello[38], 0);
        assert_eq!(server_hello[39..41], [0xc0, 0x13]);

        // The client's X25519 key (a PKCS#8 PrivateKeyInfo whose last 32 bytes are the key).
        let der = pem(&read(&std::format!(
            "{dir}keys/client-ephemeral-private.key"
        )));
        let private = der[der.len() - 32..].to_vec();
        let kx = p
            .key_exchange(NamedGroup::X25519, &mut Fixed(private))
            .unwrap();
        // ClientKeyExchange: header (4), point length (1), point.
        let cke = hs("clientkeyexchange");
        assert_eq!(cke[4], 32);
        assert_eq!(kx.public_share(), &cke[5..37]);
        // ServerKeyExchange: header (4), curve_type named_curve (1), x25519 (2), length (1).
        let ske = hs("serverkeyexchange");
        assert_eq!(ske[4..8], [3, 0x00, 0x1d, 32]);
        let mut shared = [0u8; 48];
        let n = kx.agree(&ske[8..40], &mut shared).unwrap();

        let mut pms = [0u8; 48];
        let pms_len = ecdhe_premaster(&shared[..n], &mut pms).unwrap();
        assert_eq!(pms_len, 32);
        let ms = MasterSecret12::classic(&p, hash, &pms[..pms_len], &client_random, &server_random);

        // keylog.txt: "CLIENT_RANDOM <client random> <master secret>".
        let keylog = read(&std::format!("{dir}captures/keylog.txt"));
        let line = keylog
            .lines()
            .find(|l| l.starts_with("CLIENT_RANDOM "))
            .unwrap();
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(hex(fields[1]), client_random);
        assert_eq!(&ms.as_bytes()[..], &hex(fields[2])[..]);

        // The page's key calculation (client MAC key, server MAC key, client write key,
        // server write key, client IV, server IV); these keys decrypt the capture's Finished
        // records (checked when the vectors were added, with Python's `cryptography`).
        let mut kb = [0u8; 104];
        ms.key_expansion(&p, &client_random, &server_random, &mut kb);
        let expected = hex(concat!(
            "1b7d117c7d5f690bc263cae8ef60af0f1878acc2",
            "2ad8bdd8c601a617126f63540eb20906f781fad2",
            "f656d037b173ef3e11169f27231a84b6",
            "752a18e7a9fcb7cbcdd8f98dd8f769eb",
            "a0d2550c9238eebfef5c32251abb67d6",
            "434528db4937d540d393135e06a11bb8",
        ));
        assert_eq!(kb[..], expected[..]);

        // Finished (RFC 5246 section 7.4.9) over the handshake messages, record headers
        // stripped; the decrypted Finished messages are in the *plain captures (the server's
        // followed by its MAC and padding).
        let mut transcript = p.hash(hash);
        for name in [
            "clienthello",
            "serverhello",
            "servercert",
            "serverkeyexchange",
            "serverhellodone",
            "clientkeyexchange",
        ] {
            transcript.update(&hs(name));
        }
        let client_finished = cap("clientfinishedplain");
        assert_eq!(client_finished[..4], [20, 0, 0, 12]);
        let vd = ms.client_verify_data(&p, transcript.current().as_bytes());
        assert_eq!(vd[..], client_finished[4..16]);

        transcript.update(&client_finished[..16]);
        let server_finished = cap("serverfinishedplain");
        assert_eq!(server_finished[..4], [20, 0, 0, 12]);
        let vd = ms.server_verify_data(&p, transcript.current().as_bytes());
        assert_eq!(vd[..], server_finished[4..16]);
    }

    /// RFC 4279 section 2, built by hand: "the premaster secret is formed as follows: if the
    /// PSK is N octets long, concatenate a uint16 with the value N, N zero octets, a second
    /// uint16 with the value N, and the PSK itself."
    #[test]
    fn psk_premaster_rfc4279() {
        let psk = [0x11u8, 0x22, 0x33, 0x44, 0x55];
        let mut out = [0xffu8; 64];
        let n = psk_premaster(&psk, &mut out).unwrap();
        assert_eq!(n, psk_premaster_len(psk.len()));
        assert_eq!(
            out[..n],
            [0, 5, 0, 0, 0, 0, 0, 0, 5, 0x11, 0x22, 0x33, 0x44, 0x55]
        );
        assert_eq!(out[n..], [0xff; 64 - 14]);

        // A 32-byte PSK (RFC 7925's typical size): 2 + 32 + 2 + 32.
        let psk32: Vec<u8> = (1..=32).collect();
        let mut expected = std::vec![0, 32];
        expected.extend_from_slice(&[0; 32]);
        expected.extend_from_slice(&[0, 32]);
        expected.extend_from_slice(&psk32);
        let mut out = [0u8; 68];
        assert_eq!(psk_premaster(&psk32, &mut out), Ok(68));
        assert_eq!(out[..], expected[..]);

        // Too short a buffer is refused, not truncated.
        assert_eq!(
            psk_premaster(&psk32, &mut [0u8; 67]),
            Err(CryptoError::BadLength)
        );
    }

    /// RFC 5489 section 2: `uint16 len(Z) || Z || uint16 len(psk) || psk`.
    #[test]
    fn ecdhe_psk_and_ecdhe_premaster() {
        let z = [0xabu8; 32];
        let psk = [7u8, 8, 9];
        let mut out = [0u8; 64];
        let n = ecdhe_psk_premaster(&z, &psk, &mut out).unwrap();
        assert_eq!(n, ecdhe_psk_premaster_len(32, 3));
        let mut expected = std::vec![0, 32];
        expected.extend_from_slice(&z);
        expected.extend_from_slice(&[0, 3, 7, 8, 9]);
        assert_eq!(out[..n], expected[..]);
        assert_eq!(
            ecdhe_psk_premaster(&z, &psk, &mut out[..n - 1]),
            Err(CryptoError::BadLength)
        );

        let mut out = [0u8; 48];
        assert_eq!(ecdhe_premaster(&z, &mut out), Ok(32));
        assert_eq!(out[..32], z);
        assert_eq!(
            ecdhe_premaster(&z, &mut [0u8; 31]),
            Err(CryptoError::BadLength)
        );
    }

    /// The extended master secret is the PRF over the session hash with its own label
    /// (RFC 7627 section 4), and differs from the classic one.
    #[test]
    fn extended_master_secret_is_the_prf() {
        let p = RustCrypto;
        for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha384] {
            let pms = [3u8; 36];
            let session_hash = p.hash(hash).finish();
            let ems = MasterSecret12::extended(&p, hash, &pms, session_hash.as_bytes());
            let mut expected = [0u8; 48];
            prf(
                &p,
                hash,
                &pms,
                b"extended master secret",
                &[session_hash.as_bytes()],
                &mut expected,
            )
            .unwrap();
            assert_eq!(ems.as_bytes(), &expected);
            assert_eq!(ems.hash(), hash);
            let classic = MasterSecret12::classic(&p, hash, &pms, &[1; 32], &[2; 32]);
            assert_ne!(classic.as_bytes(), ems.as_bytes());
            assert_eq!(
                std::format!("{ems:?}"),
                std::format!("MasterSecret12({hash:?}, 48 bytes)")
            );
        }
    }

    /// The AEAD key block is the key expansion split as RFC 5288 / 6655 / 7905 say: two keys
    /// of the AEAD's length, then two fixed IVs (4 bytes for GCM and CCM, 12 for ChaCha20).
    #[test]
    fn aead_key_block_split() {
        let p = RustCrypto;
        let ms = MasterSecret12::from_bytes(HashAlgorithm::Sha256, [9; 48]);
        let (cr, sr) = ([1u8; 32], [2u8; 32]);
        for (aead, key_len, iv_len) in [
            (AeadAlgorithm::Aes128Gcm, 16, 4),
            (AeadAlgorithm::Aes128Ccm, 16, 4),
            (AeadAlgorithm::Aes128Ccm8, 16, 4),
            (AeadAlgorithm::Aes256Gcm, 32, 4),
            (AeadAlgorithm::ChaCha20Poly1305, 32, 12),
        ] {
            let kb = ms.key_block(&p, aead, &cr, &sr);
            let mut raw = [0u8; 88];
            let raw = &mut raw[..2 * key_len + 2 * iv_len];
            ms.key_expansion(&p, &cr, &sr, raw);
            assert_eq!(kb.aead(), aead);
            assert_eq!((kb.key_len(), kb.iv_len()), (key_len, iv_len));
            let (ck, rest) = raw.split_at(key_len);
            let (sk, rest) = rest.split_at(key_len);
            let (civ, siv) = rest.split_at(iv_len);
            assert_eq!(kb.client_write_key(), ck, "{aead:?}");
            assert_eq!(kb.server_write_key(), sk, "{aead:?}");
            assert_eq!(kb.client_write_iv(), civ, "{aead:?}");
            assert_eq!(kb.server_write_iv(), siv, "{aead:?}");
            assert_eq!(std::format!("{kb:?}"), std::format!("KeyBlock({aead:?})"));
        }
    }
}
