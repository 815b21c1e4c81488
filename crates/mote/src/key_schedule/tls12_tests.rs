//! Unit tests of `tls12` (kept apart so the module stays readable).

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
