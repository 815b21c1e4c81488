//! `RsaPssSigner` (feature `alloc`): keys made by `openssl` (Debian package `openssl`) at
//! test time in a temporary directory, in PKCS #8 and PKCS #1 DER; every signature is
//! checked by the provider's `verify` with `rsa_pss_rsae_sha256` and by `openssl dgst`
//! with PSS padding and a 32-byte salt.
#![cfg(feature = "alloc")]

use mote_crypto::rustcrypto::{RsaPssSigner, RustCrypto, MAX_RSA_SIGNATURE};
use mote_crypto::{CryptoError, Provider, Rng, Signer};
use mote_wire::SignatureScheme;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The OS random number generator.
struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(dest))
            .map_err(|_| CryptoError::RngFailure)
    }
}

/// A generator that always fails.
struct BrokenRng;

impl Rng for BrokenRng {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), CryptoError> {
        Err(CryptoError::RngFailure)
    }
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("mote-rsa-signer-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }

    fn read(&self, f: &str) -> Vec<u8> {
        std::fs::read(self.path(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl args` in `dir`; returns whether it succeeded and what it printed. A missing
/// `openssl` is a failure naming its Debian package.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("openssl is missing ({e}): install the Debian package `openssl`")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

fn openssl_ok(dir: &Path, args: &[&str]) {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed: {text}");
}

/// A new key made by `openssl genpkey -algorithm ALGORITHM -pkeyopt PKEYOPT` in `dir`, as
/// PEM in `pem` and as PKCS #8 DER (`openssl pkcs8 -topk8`) in `der`.
fn genpkey_pkcs8(dir: &Path, algorithm: &str, pkeyopt: &str, pem: &str, der: &str) {
    openssl_ok(
        dir,
        &[
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            pkeyopt,
            "-out",
            pem,
        ],
    );
    openssl_ok(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", pem, "-outform", "DER", "-out", der,
        ],
    );
}

/// An RSA key of `bits` made by openssl: `key.p8.der` (PKCS #8, `openssl pkcs8 -topk8`:
/// OpenSSL 3.0's `pkey -outform DER` writes PKCS #1 for RSA), `key.p1.der` (PKCS #1,
/// `openssl rsa -traditional`), `pub.pem` and `pub.der` (SubjectPublicKeyInfo).
fn rsa_key(tag: &str, bits: u32) -> TempDir {
    let t = TempDir::new(tag);
    let opt = format!("rsa_keygen_bits:{bits}");
    genpkey_pkcs8(&t.0, "RSA", &opt, "key.pem", "key.p8.der");
    openssl_ok(
        &t.0,
        &[
            "rsa",
            "-in",
            "key.pem",
            "-traditional",
            "-outform",
            "DER",
            "-out",
            "key.p1.der",
        ],
    );
    openssl_ok(
        &t.0,
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    openssl_ok(
        &t.0,
        &[
            "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
        ],
    );
    t
}

/// Whether `openssl dgst` accepts `sig` over `msg` as RSASSA-PSS with SHA-256 and a 32-byte
/// salt under `pub.pem`.
fn openssl_verifies(t: &TempDir, msg: &[u8], sig: &[u8]) -> (bool, String) {
    openssl_verifies_with(
        t,
        msg,
        sig,
        &[
            "rsa_padding_mode:pss",
            "rsa_pss_saltlen:32",
            "rsa_mgf1_md:sha256",
        ],
    )
}

/// Whether `openssl dgst -sha256` with the `-sigopt`s `sigopts` accepts `sig` over `msg`
/// under `pub.pem`.
fn openssl_verifies_with(t: &TempDir, msg: &[u8], sig: &[u8], sigopts: &[&str]) -> (bool, String) {
    std::fs::write(t.path("msg.bin"), msg).unwrap();
    std::fs::write(t.path("sig.bin"), sig).unwrap();
    let mut args = vec!["dgst", "-sha256"];
    for o in sigopts {
        args.extend(["-sigopt", o]);
    }
    args.extend(["-verify", "pub.pem", "-signature", "sig.bin", "msg.bin"]);
    openssl(&t.0, &args)
}

/// The RFC 8446 section 4.4.3 content a server signs (64 spaces, context, 0, a hash).
fn cv_content() -> Vec<u8> {
    let mut m = vec![0x20u8; 64];
    m.extend_from_slice(b"TLS 1.3, server CertificateVerify");
    m.push(0);
    m.extend((0u8..32).map(|i| i.wrapping_mul(7)));
    m
}

fn sign(s: &impl Signer, msg: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_RSA_SIGNATURE];
    let n = s.sign(msg, &mut out).unwrap();
    out[..n].to_vec()
}

/// Signs with `s` and checks the signature every way; returns it.
fn check(t: &TempDir, s: &impl Signer, spki: &[u8], msg: &[u8], len: usize) -> Vec<u8> {
    assert_eq!(s.scheme(), SignatureScheme::RSA_PSS_RSAE_SHA256);
    let sig = sign(s, msg);
    assert_eq!(sig.len(), len);
    RustCrypto
        .verify(SignatureScheme::RSA_PSS_RSAE_SHA256, spki, msg, &sig)
        .expect("provider verify");
    // Not a PKCS #1 v1.5 signature, nor PSS with SHA-384.
    for other in [
        SignatureScheme::RSA_PKCS1_SHA256,
        SignatureScheme::RSA_PSS_RSAE_SHA384,
    ] {
        assert_eq!(
            RustCrypto.verify(other, spki, msg, &sig),
            Err(CryptoError::BadSignature),
            "{other:?}"
        );
    }
    let (ok, text) = openssl_verifies(t, msg, &sig);
    assert!(ok && text.contains("Verified OK"), "openssl dgst: {text}");
    sig
}

#[test]
fn pkcs8_and_pkcs1_2048_sign_and_verify() {
    let t = rsa_key("2048", 2048);
    let pub_der = t.read("pub.der");
    let msg = cv_content();
    for (form, der) in [
        ("pkcs8", t.read("key.p8.der")),
        ("pkcs1", t.read("key.p1.der")),
    ] {
        let s = if form == "pkcs8" {
            RsaPssSigner::from_pkcs8_der(&der, OsRng).unwrap()
        } else {
            RsaPssSigner::from_pkcs1_der(&der, OsRng).unwrap()
        };
        assert_eq!(s.modulus_bits(), 2048, "{form}");
        assert_eq!(s.signature_len(), 256, "{form}");
        // from_der takes either form.
        assert_eq!(
            RsaPssSigner::from_der(&der, OsRng).unwrap().modulus_bits(),
            2048
        );
        // Debug hides the key.
        let dbg = format!("{s:?}");
        assert_eq!(dbg, "RsaPssSigner(2048 bits, ..)");

        let mut spki = [0u8; 600];
        let n = s.public_key_spki(&mut spki).unwrap();
        assert_eq!(
            &spki[..n],
            pub_der.as_slice(),
            "{form}: SPKI differs from openssl's"
        );
        let mut short = [0u8; 100];
        assert_eq!(s.public_key_spki(&mut short), Err(CryptoError::BadLength));

        let a = check(&t, &s, &pub_der, &msg, 256);
        let b = check(&t, &s, &pub_der, &msg, 256);
        assert_ne!(
            a, b,
            "{form}: two signatures of one message are equal (no salt?)"
        );

        // A tampered signature fails both verifiers; so does another message.
        for i in [0, 100, 255] {
            let mut bad = a.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                RustCrypto.verify(SignatureScheme::RSA_PSS_RSAE_SHA256, &pub_der, &msg, &bad),
                Err(CryptoError::BadSignature),
                "{form}: byte {i}"
            );
            let (ok, text) = openssl_verifies(&t, &msg, &bad);
            assert!(
                !ok && text.contains("Verification failure"),
                "{form}: {text}"
            );
        }
        let mut other = msg.clone();
        other[70] ^= 0x20;
        assert_eq!(
            RustCrypto.verify(SignatureScheme::RSA_PSS_RSAE_SHA256, &pub_der, &other, &a),
            Err(CryptoError::BadSignature)
        );
        // The signature is PSS with SHA-256 and a 32-byte salt: openssl with any other salt
        // length refuses it.
        let (ok, _) = openssl_verifies_with(
            &t,
            &msg,
            &a,
            &["rsa_padding_mode:pss", "rsa_pss_saltlen:20"],
        );
        assert!(!ok, "{form}: openssl took a 20-byte salt");
    }
}

#[test]
fn pkeyutl_verifies_over_the_digest() {
    let t = rsa_key("pkeyutl", 2048);
    let s = RsaPssSigner::from_pkcs8_der(&t.read("key.p8.der"), OsRng).unwrap();
    let msg = b"mote RSA-PSS over pkeyutl";
    let sig = sign(&s, msg);
    std::fs::write(t.path("msg.bin"), msg).unwrap();
    std::fs::write(t.path("sig.bin"), &sig).unwrap();
    openssl_ok(
        &t.0,
        &[
            "dgst",
            "-sha256",
            "-binary",
            "-out",
            "digest.bin",
            "msg.bin",
        ],
    );
    let (ok, text) = openssl(
        &t.0,
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-in",
            "digest.bin",
            "-sigfile",
            "sig.bin",
            "-pkeyopt",
            "digest:sha256",
            "-pkeyopt",
            "rsa_padding_mode:pss",
            "-pkeyopt",
            "rsa_pss_saltlen:32",
        ],
    );
    assert!(
        ok && text.contains("Signature Verified Successfully"),
        "{text}"
    );
}

#[test]
fn rsa_4096_makes_512_byte_signatures() {
    let t = rsa_key("4096", 4096);
    let s = RsaPssSigner::from_pkcs1_der(&t.read("key.p1.der"), OsRng).unwrap();
    assert_eq!(s.modulus_bits(), 4096);
    assert_eq!(s.signature_len(), MAX_RSA_SIGNATURE);
    check(&t, &s, &t.read("pub.der"), &cv_content(), 512);
}

#[test]
fn short_output_is_bad_length() {
    let t = rsa_key("short", 2048);
    let s = RsaPssSigner::from_pkcs8_der(&t.read("key.p8.der"), OsRng).unwrap();
    let mut out = [0u8; 255];
    assert_eq!(s.sign(b"x", &mut out), Err(CryptoError::BadLength));
    let mut out = [0u8; 72];
    assert_eq!(s.sign(b"x", &mut out), Err(CryptoError::BadLength));
    // Exactly the modulus length is enough; more is left alone.
    let mut out = [0xAAu8; 300];
    assert_eq!(s.sign(b"x", &mut out), Ok(256));
    assert!(out[256..].iter().all(|&b| b == 0xAA));
}

#[test]
fn a_failing_generator_is_rng_failure() {
    let t = rsa_key("broken-rng", 2048);
    let s = RsaPssSigner::from_pkcs8_der(&t.read("key.p8.der"), BrokenRng).unwrap();
    let mut out = [0u8; 256];
    assert_eq!(s.sign(b"x", &mut out), Err(CryptoError::RngFailure));
    assert!(
        out.iter().all(|&b| b == 0),
        "a partial signature was written"
    );
}

#[test]
fn bad_keys_are_refused() {
    // Too small.
    let t = rsa_key("1024", 1024);
    for der in [t.read("key.p8.der"), t.read("key.p1.der")] {
        assert_eq!(
            RsaPssSigner::from_der(&der, OsRng).err(),
            Some(CryptoError::BadPrivateKey)
        );
    }
    // An id-RSASSA-PSS key is not an rsaEncryption key.
    genpkey_pkcs8(
        &t.0,
        "RSA-PSS",
        "rsa_keygen_bits:2048",
        "pss.der.pem",
        "pss.der",
    );
    assert_eq!(
        RsaPssSigner::from_pkcs8_der(&t.read("pss.der"), OsRng).err(),
        Some(CryptoError::BadPrivateKey)
    );
    // A P-256 key, and garbage.
    genpkey_pkcs8(
        &t.0,
        "EC",
        "ec_paramgen_curve:P-256",
        "ec.der.pem",
        "ec.der",
    );
    let ec = t.read("ec.der");
    assert_eq!(
        RsaPssSigner::from_pkcs8_der(&ec, OsRng).err(),
        Some(CryptoError::BadPrivateKey)
    );
    assert_eq!(
        RsaPssSigner::from_pkcs1_der(&ec, OsRng).err(),
        Some(CryptoError::BadPrivateKey)
    );
    assert_eq!(
        RsaPssSigner::from_der(&[0x30, 0x03, 0x02, 0x01, 0x00], OsRng).err(),
        Some(CryptoError::BadPrivateKey)
    );
    // A PKCS #8 key given as PKCS #1 and the reverse.
    let t2 = rsa_key("swap", 2048);
    assert!(RsaPssSigner::from_pkcs1_der(&t2.read("key.p8.der"), OsRng).is_err());
    assert!(RsaPssSigner::from_pkcs8_der(&t2.read("key.p1.der"), OsRng).is_err());
}
