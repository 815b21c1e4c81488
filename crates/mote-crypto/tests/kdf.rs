//! HKDF through the provider: the RFC 5869 appendix A vectors (SHA-256 cases) and OpenSSL's
//! TLS 1.3 KDF vectors (`evpkdf_tls13_kdf.txt`, from NIST ACVP; Apache-2.0), with
//! HKDF-Expand-Label (RFC 8446 section 7.1) built on `hkdf_expand`'s info parts.
#![cfg(feature = "rustcrypto")]

mod common;

use common::{hex, kdf_file};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{Digest, Hash, HashAlgorithm, Provider};
use std::collections::HashMap;

const P: RustCrypto = RustCrypto;

#[test]
fn rfc5869_sha256_cases() {
    let text = kdf_file("rfc5869_hkdf_vectors.txt");
    let mut cases: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut sha256_cases = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# Test Case ") {
            // "# Test Case 1 (SHA-256)"
            if let Some((n, alg)) = rest.split_once(' ') {
                if alg == "(SHA-256)" {
                    sha256_cases.push(format!("tc{n}"));
                }
            }
        } else if let Some((k, v)) = line.split_once(" =") {
            if let Some((case, field)) = k.split_once('.') {
                cases
                    .entry(case.to_string())
                    .or_default()
                    .insert(field.to_string(), v.trim().to_string());
            }
        }
    }
    for case in &sha256_cases {
        let c = &cases[case];
        let field = |k: &str| hex(if c[k] == "<absent>" { "" } else { &c[k] });
        // An absent salt is HashLen zeros, which HMAC treats as the empty key.
        let prk = P.hkdf_extract(HashAlgorithm::Sha256, &field("salt"), &field("ikm"));
        assert_eq!(prk.as_bytes(), &field("prk")[..], "{case} PRK");
        let mut okm = vec![0u8; c["l"].parse().expect("L")];
        let info = field("info");
        P.hkdf_expand(HashAlgorithm::Sha256, prk.as_bytes(), &[&info], &mut okm)
            .expect("expand");
        assert_eq!(okm, field("okm"), "{case} OKM");
    }
    println!("rfc5869: {} SHA-256 cases", sha256_cases.len());
    assert_eq!(sha256_cases.len(), 3);
}

/// HKDF-Expand-Label (RFC 8446 section 7.1) over `hkdf_expand`'s info parts.
fn expand_label(
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    ctx: &[u8],
    len: usize,
) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let length = (len as u16).to_be_bytes();
    let label_len = [(6 + label.len()) as u8];
    let ctx_len = [ctx.len() as u8];
    P.hkdf_expand(
        alg,
        secret,
        &[&length, &label_len, b"tls13 ", label, &ctx_len, ctx],
        &mut out,
    )
    .expect("expand label");
    out
}

fn hash_of(alg: HashAlgorithm, data: &[u8]) -> Digest {
    let mut h = P.hash(alg);
    h.update(data);
    h.finish()
}

#[test]
fn openssl_tls13_kdf() {
    let text = kdf_file("openssl_evpkdf_tls13_kdf.txt");
    let (mut extract, mut expand, mut skipped) = (0, 0, 0);
    for stanza in text.split("\n\n") {
        let mut f: HashMap<&str, &str> = HashMap::new();
        for line in stanza.lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.split_once(" = ") {
                // "Ctrl.key = hexkey:..." keeps what follows the colon.
                let v = v.split_once(':').map_or(v, |(_, x)| x);
                f.insert(k, v);
            }
        }
        if f.get("KDF") != Some(&"TLS13-KDF") {
            continue;
        }
        let alg = match f.get("Ctrl.digest") {
            Some(&"SHA2-256") => HashAlgorithm::Sha256,
            Some(&"SHA2-384") if HashAlgorithm::Sha384.compiled_in() => HashAlgorithm::Sha384,
            _ => {
                // SHA512-256, SHAKE-256 and the control-error cases: not TLS 1.3 hashes
                // (and SHA-384 when feature `sha384` is off).
                skipped += 1;
                continue;
            }
        };
        if f.contains_key("Result") || f.contains_key("Unapproved") {
            skipped += 1;
            continue;
        }
        if let Some(prefix) = f.get("Ctrl.prefix") {
            assert_eq!(hex(prefix), b"tls13 ");
        }
        let get = |k: &str| f.get(k).map(|v| hex(v));
        let want = get("Output").expect("Output");
        let zeros = vec![0u8; alg.output_len()];
        match f.get("Ctrl.mode") {
            Some(&"EXTRACT_ONLY") => {
                // OpenSSL's TLS 1.3 extract: a missing key is HashLen zeros; a salt, when
                // given, is first turned into Derive-Secret(salt, label, "").
                let ikm = get("Ctrl.key").unwrap_or_else(|| zeros.clone());
                let salt = match get("Ctrl.salt") {
                    Some(prev) => {
                        let label = get("Ctrl.label").expect("label with salt");
                        let empty = hash_of(alg, b"");
                        expand_label(alg, &prev, &label, empty.as_bytes(), alg.output_len())
                    }
                    None => zeros.clone(),
                };
                let prk = P.hkdf_extract(alg, &salt, &ikm);
                assert_eq!(prk.as_bytes(), &want[..], "extract:\n{stanza}");
                extract += 1;
            }
            Some(&"EXPAND_ONLY") => {
                let secret = get("Ctrl.key").expect("key");
                let label = get("Ctrl.label").expect("label");
                let ctx = get("Ctrl.data").unwrap_or_default();
                let out = expand_label(alg, &secret, &label, &ctx, want.len());
                assert_eq!(out, want, "expand:\n{stanza}");
                expand += 1;
            }
            m => panic!("mode {m:?}"),
        }
    }
    println!("openssl tls13 kdf: {extract} extract, {expand} expand-label, {skipped} skipped");
    // About half the vectors are SHA-384 (153 extract, 408 expand-label in all).
    if HashAlgorithm::Sha384.compiled_in() {
        assert!(extract > 100 && expand > 300);
    } else {
        assert!(extract > 50 && expand > 150);
    }
}
