//! Project Wycheproof vectors (C2SP/wycheproof, `testvectors_v1`, Apache-2.0) run through the
//! [`Provider`] trait of the RustCrypto provider: every "valid" vector must pass and every
//! "invalid" one must fail; "acceptable" ones are held to mote's documented policy. Each
//! algorithm's vectors run when its feature is on.
#![cfg(feature = "rustcrypto")]

mod common;

#[cfg(any(feature = "x25519", feature = "p256"))]
use common::{has_flag, Fixed};
use common::{hx, result, tests, wycheproof, Tally};
use mote_crypto::rustcrypto::RustCrypto;
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
use mote_crypto::{Aead, AeadAlgorithm};
use mote_crypto::{CryptoError, HashAlgorithm, Provider};
#[cfg(any(feature = "x25519", feature = "p256"))]
use mote_crypto::{KeyExchange, MAX_SHARED_SECRET};
#[cfg(any(feature = "x25519", feature = "p256"))]
use mote_wire::NamedGroup;
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
use mote_wire::SignatureScheme;

const P: RustCrypto = RustCrypto;

/// Runs the AEAD vectors of the groups `pick` maps to an algorithm (by key, IV and tag size
/// in bits); the others are counted as skipped.
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
fn aead_file(name: &str, pick: impl Fn(u64, u64, u64) -> Option<AeadAlgorithm>) -> Tally {
    let file = wycheproof(name);
    let mut tally = Tally::default();
    for (g, t) in tests(&file) {
        let size = |k: &str| g[k].as_u64().expect("size");
        let Some(alg) = pick(size("keySize"), size("ivSize"), size("tagSize")) else {
            tally.skipped += 1;
            continue;
        };
        let id = &t["tcId"];
        let (key, iv, aad) = (hx(t, "key"), hx(t, "iv"), hx(t, "aad"));
        let (msg, ct, tag) = (hx(t, "msg"), hx(t, "ct"), hx(t, "tag"));
        let nonce: [u8; 12] = iv.as_slice().try_into().expect("12-byte IV group");
        let aead = P.aead(alg, &key).expect("key of the algorithm's length");
        assert_eq!(aead.algorithm(), alg);
        let mut buf = ct.clone();
        let opened = aead.open_in_place(&nonce, &aad, &mut buf, &tag);
        match result(t) {
            "valid" => {
                assert_eq!(opened, Ok(()), "{name} tc {id}: open");
                assert_eq!(buf, msg, "{name} tc {id}: plaintext");
                let mut buf = msg.clone();
                let mut out_tag = vec![0u8; alg.tag_len()];
                aead.seal_in_place(&nonce, &aad, &mut buf, &mut out_tag)
                    .expect("seal");
                assert_eq!(buf, ct, "{name} tc {id}: ciphertext");
                assert_eq!(out_tag, tag, "{name} tc {id}: tag");
                tally.valid += 1;
            }
            "invalid" => {
                assert!(opened.is_err(), "{name} tc {id}: invalid vector opened");
                tally.invalid += 1;
            }
            r => panic!("{name} tc {id}: unexpected result {r}"),
        }
    }
    tally
}

#[cfg(feature = "aes-gcm")]
#[test]
fn aes_gcm() {
    // AES-256-GCM is compiled in with `sha384` (TLS_AES_256_GCM_SHA384); else skipped.
    let tally = aead_file("aes_gcm_test.json", |k, iv, tag| match (k, iv, tag) {
        (128, 96, 128) => Some(AeadAlgorithm::Aes128Gcm),
        (256, 96, 128) if AeadAlgorithm::Aes256Gcm.compiled_in() => Some(AeadAlgorithm::Aes256Gcm),
        _ => None,
    });
    tally.report("aes_gcm_test.json");
    assert!(tally.invalid > 0);
}

#[cfg(feature = "aes-ccm")]
#[test]
fn aes_ccm() {
    // CCM (16-byte tag) and CCM_8 (8-byte tag), 12-byte nonce (L = 3), AES-128 only.
    let tally = aead_file("aes_ccm_test.json", |k, iv, tag| match (k, iv, tag) {
        (128, 96, 128) => Some(AeadAlgorithm::Aes128Ccm),
        (128, 96, 64) => Some(AeadAlgorithm::Aes128Ccm8),
        _ => None,
    });
    tally.report("aes_ccm_test.json");
    assert!(tally.invalid > 0);
}

#[cfg(feature = "chacha20poly1305")]
#[test]
fn chacha20_poly1305() {
    let tally = aead_file("chacha20_poly1305_test.json", |k, iv, tag| {
        ((k, iv, tag) == (256, 96, 128)).then_some(AeadAlgorithm::ChaCha20Poly1305)
    });
    tally.report("chacha20_poly1305_test.json");
    assert!(tally.invalid > 0);
}

/// Completes a key exchange whose private key is injected through the RNG.
#[cfg(any(feature = "x25519", feature = "p256"))]
fn agree(group: NamedGroup, private: Vec<u8>, public: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kx = P.key_exchange(group, &mut Fixed(private))?;
    assert_eq!(kx.group(), group);
    let mut out = [0u8; MAX_SHARED_SECRET];
    let n = kx.agree(public, &mut out)?;
    Ok(out[..n].to_vec())
}

#[cfg(feature = "x25519")]
#[test]
fn x25519() {
    // Policy: every share is accepted (RFC 7748 x25519 takes any 32 bytes, including
    // non-canonical and twist points, "acceptable" here) except when the shared secret is
    // all zeros (low-order shares, flag ZeroSharedSecret), which RFC 8446 section 7.4.2
    // requires mote to reject: BadPublicKey.
    let file = wycheproof("x25519_test.json");
    let mut tally = Tally::default();
    for (_, t) in tests(&file) {
        let id = &t["tcId"];
        let shared = hx(t, "shared");
        let got = agree(NamedGroup::X25519, hx(t, "private"), &hx(t, "public"));
        let zero = shared.iter().all(|&b| b == 0);
        assert_eq!(zero, has_flag(t, "ZeroSharedSecret"), "tc {id}");
        if zero {
            assert_eq!(got, Err(CryptoError::BadPublicKey), "tc {id}: zero secret");
        } else {
            assert_eq!(got.as_deref(), Ok(&shared[..]), "tc {id}");
        }
        match (result(t), zero) {
            ("valid", false) => tally.valid += 1,
            ("acceptable", false) => tally.acceptable_accepted += 1,
            ("acceptable", true) => tally.acceptable_rejected += 1,
            (r, _) => panic!("tc {id}: unexpected result {r} (zero secret {zero})"),
        }
    }
    tally.report("x25519_test.json");
    assert!(tally.acceptable_rejected > 0 && tally.acceptable_accepted > 0);
}

#[cfg(feature = "p256")]
#[test]
fn ecdh_secp256r1_ecpoint() {
    // Policy: uncompressed points only (RFC 8446 section 4.2.8.2), so the "acceptable"
    // compressed public key is rejected, as are all "invalid" ones: BadPublicKey.
    let file = wycheproof("ecdh_secp256r1_ecpoint_test.json");
    let mut tally = Tally::default();
    for (_, t) in tests(&file) {
        let id = &t["tcId"];
        // Wycheproof's private keys are ASN.1 INTEGER contents: strip a sign byte, left-pad.
        let raw = hx(t, "private");
        let raw = &raw[raw.len().saturating_sub(32)..];
        let mut private = vec![0u8; 32 - raw.len()];
        private.extend_from_slice(raw);
        let got = agree(NamedGroup::SECP256R1, private, &hx(t, "public"));
        match result(t) {
            "valid" => {
                assert_eq!(got.as_deref(), Ok(&hx(t, "shared")[..]), "tc {id}");
                tally.valid += 1;
            }
            "invalid" => {
                assert_eq!(got, Err(CryptoError::BadPublicKey), "tc {id}");
                tally.invalid += 1;
            }
            "acceptable" => {
                assert!(has_flag(t, "CompressedPublic"), "tc {id}");
                assert_eq!(got, Err(CryptoError::BadPublicKey), "tc {id}");
                tally.acceptable_rejected += 1;
            }
            r => panic!("tc {id}: unexpected result {r}"),
        }
    }
    tally.report("ecdh_secp256r1_ecpoint_test.json");
    assert!(tally.invalid > 0);
}

#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
fn sha(alg: HashAlgorithm, msg: &[u8]) -> Vec<u8> {
    use mote_crypto::Hash;
    let mut h = P.hash(alg);
    h.update(msg);
    h.finish().as_bytes().to_vec()
}

/// Signature vectors against an SPKI per group; `prehash` also checks that
/// `verify_prehashed` over the scheme's digest agrees with `verify`.
#[cfg(any(feature = "p256", feature = "ed25519", feature = "alloc"))]
fn signature_file(name: &str, scheme: SignatureScheme, prehash: Option<HashAlgorithm>) -> Tally {
    let file = wycheproof(name);
    let mut tally = Tally::default();
    for (g, t) in tests(&file) {
        let id = &t["tcId"];
        let spki = hx(g, "publicKeyDer");
        let (msg, sig) = (hx(t, "msg"), hx(t, "sig"));
        let got = P.verify(scheme, &spki, &msg, &sig);
        match prehash {
            Some(alg) => {
                let pre = P.verify_prehashed(scheme, &spki, &sha(alg, &msg), &sig);
                assert_eq!(pre, got, "{name} tc {id}: verify_prehashed disagrees");
            }
            None => assert_eq!(
                P.verify_prehashed(scheme, &spki, &msg, &sig),
                Err(CryptoError::Unsupported)
            ),
        }
        match result(t) {
            "valid" => {
                assert_eq!(got, Ok(()), "{name} tc {id}: {}", t["comment"]);
                tally.valid += 1;
            }
            "invalid" => {
                assert!(got.is_err(), "{name} tc {id}: {}", t["comment"]);
                tally.invalid += 1;
            }
            r => panic!("{name} tc {id}: unexpected result {r}"),
        }
    }
    tally
}

#[cfg(feature = "p256")]
#[test]
fn ecdsa_secp256r1_sha256() {
    let tally = signature_file(
        "ecdsa_secp256r1_sha256_test.json",
        SignatureScheme::ECDSA_SECP256R1_SHA256,
        Some(HashAlgorithm::Sha256),
    );
    tally.report("ecdsa_secp256r1_sha256_test.json");
    assert!(tally.invalid > 0);
}

#[cfg(feature = "ed25519")]
#[test]
fn ed25519() {
    let tally = signature_file("ed25519_test.json", SignatureScheme::ED25519, None);
    tally.report("ed25519_test.json");
    assert!(tally.invalid > 0);
}

#[cfg(feature = "alloc")]
#[test]
fn rsa_pss_2048_sha256_mgf1_32() {
    let tally = signature_file(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        SignatureScheme::RSA_PSS_RSAE_SHA256,
        Some(HashAlgorithm::Sha256),
    );
    tally.report("rsa_pss_2048_sha256_mgf1_32_test.json");
    assert!(tally.invalid > 0);
}

fn hmac_file(name: &str, alg: HashAlgorithm) {
    let file = wycheproof(name);
    let mut tally = Tally::default();
    for (g, t) in tests(&file) {
        let id = &t["tcId"];
        let tag_len = g["tagSize"].as_u64().expect("tagSize") as usize / 8;
        let (key, msg, tag) = (hx(t, "key"), hx(t, "msg"), hx(t, "tag"));
        // Split the message to exercise the parts interface.
        let (a, b) = msg.split_at(msg.len() / 2);
        let mac = P.hmac(alg, &key, &[a, b]);
        assert_eq!(mac.len(), alg.output_len());
        let matches = mac.as_bytes()[..tag_len] == tag[..];
        match result(t) {
            "valid" => {
                assert!(matches, "{name} tc {id}");
                tally.valid += 1;
            }
            "invalid" => {
                assert!(!matches, "{name} tc {id}");
                tally.invalid += 1;
            }
            r => panic!("{name} tc {id}: unexpected result {r}"),
        }
    }
    tally.report(name);
    assert!(tally.invalid > 0);
}

#[test]
fn hmac_sha256() {
    hmac_file("hmac_sha256_test.json", HashAlgorithm::Sha256);
}

#[cfg(feature = "sha384")]
#[test]
fn hmac_sha384() {
    hmac_file("hmac_sha384_test.json", HashAlgorithm::Sha384);
}

fn hkdf_file(name: &str, alg: HashAlgorithm) {
    let file = wycheproof(name);
    let mut tally = Tally::default();
    for (_, t) in tests(&file) {
        let id = &t["tcId"];
        let prk = P.hkdf_extract(alg, &hx(t, "salt"), &hx(t, "ikm"));
        let info = hx(t, "info");
        let mut okm = vec![0u8; t["size"].as_u64().expect("size") as usize];
        let got = P.hkdf_expand(alg, prk.as_bytes(), &[&info], &mut okm);
        match result(t) {
            "valid" => {
                assert_eq!(got, Ok(()), "{name} tc {id}");
                assert_eq!(okm, hx(t, "okm"), "{name} tc {id}");
                tally.valid += 1;
            }
            "invalid" => {
                // Only SizeTooLarge: more than 255 hash blocks.
                assert_eq!(got, Err(CryptoError::BadLength), "{name} tc {id}");
                tally.invalid += 1;
            }
            r => panic!("{name} tc {id}: unexpected result {r}"),
        }
    }
    tally.report(name);
    assert!(tally.invalid > 0);
}

#[test]
fn hkdf_sha256() {
    hkdf_file("hkdf_sha256_test.json", HashAlgorithm::Sha256);
}

#[cfg(feature = "sha384")]
#[test]
fn hkdf_sha384() {
    hkdf_file("hkdf_sha384_test.json", HashAlgorithm::Sha384);
}
