//! The RustCrypto provider's policies and its signers, through the traits: key-exchange
//! share validation, RNG failures, AEAD length errors, which error a signature/key mismatch
//! gives, and that what the signers sign verifies. Each algorithm's tests run when its feature
//! is on; what is compiled out is checked to be `Unsupported`.
#![cfg(feature = "rustcrypto")]

mod common;

#[cfg(feature = "p256")]
use common::Fixed;
#[cfg(any(feature = "x25519", feature = "p256"))]
use common::TestRng;
use common::{hex, Broken};
#[cfg(any(all(feature = "p256", feature = "ed25519"), feature = "alloc"))]
use common::{hx, wycheproof};
#[cfg(feature = "p256")]
use mote_crypto::rustcrypto::EcdsaP256Signer;
#[cfg(feature = "ed25519")]
use mote_crypto::rustcrypto::Ed25519Signer;
use mote_crypto::rustcrypto::RustCrypto;
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
use mote_crypto::Aead;
use mote_crypto::{AeadAlgorithm, CryptoError, Hash, HashAlgorithm, Provider, SuiteInfo};
#[cfg(any(feature = "x25519", feature = "p256"))]
use mote_crypto::{KeyExchange, MAX_SHARED_SECRET};
#[cfg(any(feature = "p256", feature = "ed25519"))]
use mote_crypto::{Signer, MAX_SIGNATURE};
use mote_wire::{CipherSuite, NamedGroup, SignatureScheme};

const P: RustCrypto = RustCrypto;

// A P-256 key made with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, in
// its PKCS #8, SEC1 and SubjectPublicKeyInfo DER forms.
#[cfg(any(feature = "p256", feature = "ed25519"))]
const P256_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420bb3af48c84c6564725806f9ed3fc3df2758b932f2d795e41520b7a1eb4cd2059a144034200040a540c8d179c8c2ed9d3a8acc419b55c2fd92b4adf0e784932ab18624c91d91306039d764ebb677e4f4e6f6ba23aa3a1f93bcef6f701482b17db612ebb4ab258";
#[cfg(feature = "p256")]
const P256_SEC1: &str = "30770201010420bb3af48c84c6564725806f9ed3fc3df2758b932f2d795e41520b7a1eb4cd2059a00a06082a8648ce3d030107a144034200040a540c8d179c8c2ed9d3a8acc419b55c2fd92b4adf0e784932ab18624c91d91306039d764ebb677e4f4e6f6ba23aa3a1f93bcef6f701482b17db612ebb4ab258";
const P256_SPKI: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200040a540c8d179c8c2ed9d3a8acc419b55c2fd92b4adf0e784932ab18624c91d91306039d764ebb677e4f4e6f6ba23aa3a1f93bcef6f701482b17db612ebb4ab258";
// An Ed25519 key made with `openssl genpkey -algorithm ED25519`.
#[cfg(feature = "ed25519")]
const ED25519_PKCS8: &str =
    "302e020100300506032b657004220420cb0a8ad3278b0737d3644d014699672b10596967355902ad55fc8cda23f7e107";
const ED25519_SPKI: &str =
    "302a300506032b657003210025065ba45fba037936876f53d496bdbd8cf16185a4e8ae2885303ab2e8dcfb73";

#[cfg(any(feature = "p256", feature = "ed25519"))]
fn spki_of(f: impl Fn(&mut [u8]) -> Result<usize, CryptoError>) -> Vec<u8> {
    let mut buf = [0u8; 128];
    let n = f(&mut buf).expect("spki");
    buf[..n].to_vec()
}

#[cfg(any(feature = "p256", feature = "ed25519"))]
fn sign(s: &impl Signer, msg: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_SIGNATURE];
    let n = s.sign(msg, &mut out).expect("sign");
    out[..n].to_vec()
}

fn sha256(msg: &[u8]) -> Vec<u8> {
    let mut h = P.hash(HashAlgorithm::Sha256);
    h.update(msg);
    h.finish().as_bytes().to_vec()
}

#[cfg(feature = "p256")]
#[test]
fn ecdsa_signer_key_forms_and_signatures_verify() {
    let a = EcdsaP256Signer::from_pkcs8_der(&hex(P256_PKCS8)).unwrap();
    let b = EcdsaP256Signer::from_sec1_der(&hex(P256_SEC1)).unwrap();
    let c = EcdsaP256Signer::from_der(&hex(P256_SEC1)).unwrap();
    assert_eq!(
        EcdsaP256Signer::from_der(&hex(P256_PKCS8))
            .unwrap()
            .public_key(),
        a.public_key()
    );
    assert_eq!(a.public_key(), b.public_key());
    assert_eq!(a.public_key(), c.public_key());
    // Our SPKI encoding is byte for byte OpenSSL's.
    let spki = spki_of(|o| a.public_key_spki(o));
    assert_eq!(spki, hex(P256_SPKI));
    assert_eq!(a.scheme(), SignatureScheme::ECDSA_SECP256R1_SHA256);

    let scheme = a.scheme();
    for msg in [&b""[..], b"hello", &[0x20; 64][..]] {
        let sig = sign(&a, msg);
        assert!(sig.len() <= MAX_SIGNATURE && sig[0] == 0x30);
        // RFC 6979: deterministic.
        assert_eq!(sig, sign(&b, msg));
        assert_eq!(P.verify(scheme, &spki, msg, &sig), Ok(()));
        assert_eq!(
            P.verify_prehashed(scheme, &spki, &sha256(msg), &sig),
            Ok(())
        );
        assert_eq!(
            P.verify(scheme, &spki, b"other", &sig),
            Err(CryptoError::BadSignature)
        );
    }
    // Wrong prehash length.
    let sig = sign(&a, b"x");
    assert_eq!(
        P.verify_prehashed(scheme, &spki, &[0; 20], &sig),
        Err(CryptoError::BadLength)
    );
    // A too-short output buffer.
    assert_eq!(a.sign(b"x", &mut [0u8; 8]), Err(CryptoError::BadLength));
    // Malformed keys.
    assert_eq!(
        EcdsaP256Signer::from_pkcs8_der(&hex(P256_SEC1)).unwrap_err(),
        CryptoError::BadPrivateKey
    );
    assert_eq!(
        EcdsaP256Signer::from_der(&[0x30, 0x00]).unwrap_err(),
        CryptoError::BadPrivateKey
    );
    assert_eq!(
        EcdsaP256Signer::from_scalar(&[0; 32]).unwrap_err(),
        CryptoError::BadPrivateKey
    );
    assert_eq!(
        EcdsaP256Signer::from_scalar(&[1; 31]).unwrap_err(),
        CryptoError::BadPrivateKey
    );
}

#[cfg(feature = "p256")]
#[test]
fn ecdsa_signer_matches_rfc6979_a_2_5() {
    // RFC 6979 appendix A.2.5, P-256, SHA-256, message "sample".
    let s = EcdsaP256Signer::from_scalar(&hex(
        "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
    ))
    .unwrap();
    let r = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
    let sv = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
    // DER: both integers have the top bit set, so each takes a 0x00 sign byte.
    let want = hex(&format!("3046022100{r}022100{sv}"));
    assert_eq!(sign(&s, b"sample"), want);
}

#[cfg(feature = "ed25519")]
#[test]
fn ed25519_signer_rfc8032_and_pkcs8() {
    // RFC 8032 section 7.1, TEST 1.
    let seed: [u8; 32] = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        .try_into()
        .unwrap();
    let s = Ed25519Signer::from_seed(&seed);
    assert_eq!(
        s.public_key().to_vec(),
        hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    );
    assert_eq!(
        sign(&s, b""),
        hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    );
    assert_eq!(s.scheme(), SignatureScheme::ED25519);

    let k = Ed25519Signer::from_pkcs8_der(&hex(ED25519_PKCS8)).unwrap();
    let spki = spki_of(|o| k.public_key_spki(o));
    assert_eq!(spki, hex(ED25519_SPKI));
    let sig = sign(&k, b"CertificateVerify content");
    assert_eq!(sig.len(), 64);
    assert_eq!(
        P.verify(
            SignatureScheme::ED25519,
            &spki,
            b"CertificateVerify content",
            &sig
        ),
        Ok(())
    );
    assert_eq!(
        P.verify(SignatureScheme::ED25519, &spki, b"other", &sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        P.verify_prehashed(SignatureScheme::ED25519, &spki, &sha256(b"x"), &sig),
        Err(CryptoError::Unsupported)
    );
    assert_eq!(
        Ed25519Signer::from_pkcs8_der(&hex(P256_PKCS8)).unwrap_err(),
        CryptoError::BadPrivateKey
    );
}

#[cfg(all(feature = "p256", feature = "ed25519"))]
#[test]
fn verify_error_policy() {
    let ec = EcdsaP256Signer::from_pkcs8_der(&hex(P256_PKCS8)).unwrap();
    let ed = Ed25519Signer::from_pkcs8_der(&hex(ED25519_PKCS8)).unwrap();
    let (ec_spki, ed_spki) = (hex(P256_SPKI), hex(ED25519_SPKI));
    let (ec_sig, ed_sig) = (sign(&ec, b"m"), sign(&ed, b"m"));
    let ecdsa = SignatureScheme::ECDSA_SECP256R1_SHA256;
    let ed25519 = SignatureScheme::ED25519;

    // Scheme/key mismatch: BadSignature.
    assert_eq!(
        P.verify(ecdsa, &ed_spki, b"m", &ec_sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        P.verify(ed25519, &ec_spki, b"m", &ed_sig),
        Err(CryptoError::BadSignature)
    );
    let p384_spki = hx(
        &wycheproof("ecdsa_secp384r1_sha384_test.json")["testGroups"][0],
        "publicKeyDer",
    );
    assert_eq!(
        P.verify(ecdsa, &p384_spki, b"m", &ec_sig),
        Err(CryptoError::BadSignature)
    );
    // Schemes the provider does not implement: Unsupported, whatever the key.
    for s in [
        SignatureScheme::ECDSA_SECP384R1_SHA384,
        SignatureScheme::ED448,
        SignatureScheme::RSA_PKCS1_SHA1,
        SignatureScheme::RSA_PSS_PSS_SHA256,
        SignatureScheme(0xfefe),
    ] {
        assert!(!P.supports_signature(s));
        assert_eq!(
            P.verify(s, &ec_spki, b"m", &ec_sig),
            Err(CryptoError::Unsupported)
        );
    }
    // Malformed SPKI: BadPublicKey.
    let mut trailing = ec_spki.clone();
    trailing.push(0);
    let mut off_curve = ec_spki.clone();
    *off_curve.last_mut().unwrap() ^= 1;
    for bad in [
        &[][..],
        &[0x30, 0x00],
        &ec_spki[..40],
        &trailing,
        &off_curve,
    ] {
        assert_eq!(
            P.verify(ecdsa, bad, b"m", &ec_sig),
            Err(CryptoError::BadPublicKey)
        );
    }
    // Malformed signatures: BadSignature.
    for bad in [&[][..], &ec_sig[..ec_sig.len() - 1], &ed_sig] {
        assert_eq!(
            P.verify(ecdsa, &ec_spki, b"m", bad),
            Err(CryptoError::BadSignature)
        );
    }
    assert_eq!(
        P.verify(ed25519, &ed_spki, b"m", &ed_sig[..63]),
        Err(CryptoError::BadSignature)
    );

    assert!(P.supports_signature(ecdsa) && P.supports_signature(ed25519));
    let rsa = [
        SignatureScheme::RSA_PKCS1_SHA256,
        SignatureScheme::RSA_PKCS1_SHA384,
        SignatureScheme::RSA_PKCS1_SHA512,
        SignatureScheme::RSA_PSS_RSAE_SHA256,
        SignatureScheme::RSA_PSS_RSAE_SHA384,
        SignatureScheme::RSA_PSS_RSAE_SHA512,
    ];
    for s in rsa {
        assert_eq!(P.supports_signature(s), cfg!(feature = "alloc"));
        let want = if cfg!(feature = "alloc") {
            CryptoError::BadSignature
        } else {
            CryptoError::Unsupported
        };
        assert_eq!(P.verify(s, &ec_spki, b"m", &ec_sig), Err(want));
    }
}

#[cfg(feature = "alloc")]
#[test]
fn rsa_key_with_other_schemes() {
    let file = wycheproof("rsa_pss_2048_sha256_mgf1_32_test.json");
    let g = &file["testGroups"][0];
    let spki = hx(g, "publicKeyDer");
    let t = &g["tests"][0];
    let (msg, sig) = (hx(t, "msg"), hx(t, "sig"));
    assert_eq!(
        P.verify(SignatureScheme::RSA_PSS_RSAE_SHA256, &spki, &msg, &sig),
        Ok(())
    );
    // The same key and signature under the wrong hash or padding fail.
    for s in [
        SignatureScheme::RSA_PSS_RSAE_SHA384,
        SignatureScheme::RSA_PKCS1_SHA256,
    ] {
        assert_eq!(
            P.verify(s, &spki, &msg, &sig),
            Err(CryptoError::BadSignature)
        );
    }
    // An RSA key under ECDSA is a mismatch (when ECDSA is compiled in).
    assert_eq!(
        P.verify(SignatureScheme::ECDSA_SECP256R1_SHA256, &spki, &msg, &sig),
        Err(if cfg!(feature = "p256") {
            CryptoError::BadSignature
        } else {
            CryptoError::Unsupported
        })
    );
    assert_eq!(
        P.verify_prehashed(SignatureScheme::RSA_PSS_RSAE_SHA256, &spki, &[0; 48], &sig),
        Err(CryptoError::BadLength)
    );
}

/// The groups this provider may implement, with whether this build does.
const GROUPS: [(NamedGroup, bool); 2] = [
    (NamedGroup::X25519, cfg!(feature = "x25519")),
    (NamedGroup::SECP256R1, cfg!(feature = "p256")),
];

#[cfg(any(feature = "x25519", feature = "p256"))]
fn kx_round_trip(group: NamedGroup, share_len: usize) {
    let a = P.key_exchange(group, &mut TestRng(1)).unwrap();
    let b = P.key_exchange(group, &mut TestRng(2)).unwrap();
    assert_eq!(a.public_share().len(), share_len);
    assert_ne!(a.public_share(), b.public_share());
    let (pa, pb) = (a.public_share().to_vec(), b.public_share().to_vec());
    let (mut sa, mut sb) = ([0u8; MAX_SHARED_SECRET], [0u8; MAX_SHARED_SECRET]);
    let na = a.agree(&pb, &mut sa).unwrap();
    let nb = b.agree(&pa, &mut sb).unwrap();
    assert_eq!(na, 32);
    assert_eq!(sa[..na], sb[..nb]);
}

#[test]
fn key_exchange_round_trips() {
    #[cfg(feature = "x25519")]
    kx_round_trip(NamedGroup::X25519, 32);
    #[cfg(feature = "p256")]
    kx_round_trip(NamedGroup::SECP256R1, 65);
    for (g, compiled_in) in GROUPS {
        assert_eq!(P.supports_group(g), compiled_in, "{g:?}");
    }
    let compiled_out = GROUPS.iter().filter(|(_, on)| !on).map(|(g, _)| *g);
    for g in [
        NamedGroup::SECP384R1,
        NamedGroup::X448,
        NamedGroup::X25519_MLKEM768,
    ]
    .into_iter()
    .chain(compiled_out)
    {
        assert!(!P.supports_group(g));
        assert_eq!(
            P.key_exchange(g, &mut common::TestRng(3)).unwrap_err(),
            CryptoError::Unsupported
        );
    }
}

#[cfg(feature = "x25519")]
#[test]
fn key_exchange_rejects_bad_x25519_shares() {
    let x = || P.key_exchange(NamedGroup::X25519, &mut TestRng(5)).unwrap();
    let mut out = [0u8; MAX_SHARED_SECRET];
    // Low-order x25519 shares (all-zero secret), wrong lengths.
    for bad in [
        &[0u8; 32][..],
        &hex("0100000000000000000000000000000000000000000000000000000000000000"),
        &[9; 31],
        &[9; 33],
        &[],
    ] {
        assert_eq!(x().agree(bad, &mut out), Err(CryptoError::BadPublicKey));
    }
}

#[cfg(feature = "p256")]
#[test]
fn key_exchange_rejects_bad_p256_shares() {
    let mut out = [0u8; MAX_SHARED_SECRET];
    let p = || {
        P.key_exchange(NamedGroup::SECP256R1, &mut TestRng(6))
            .unwrap()
    };
    let peer = P
        .key_exchange(NamedGroup::SECP256R1, &mut TestRng(7))
        .unwrap();
    let share = peer.public_share().to_vec();
    assert_eq!(share[0], 0x04);
    // The compressed form of a valid point, a point off the curve, the identity, lengths.
    let mut compressed = vec![0x02 | (share[64] & 1)];
    compressed.extend_from_slice(&share[1..33]);
    let mut off_curve = share.clone();
    off_curve[64] ^= 1;
    let mut hybrid = share.clone();
    hybrid[0] = 0x06 | (share[64] & 1);
    for bad in [
        &compressed[..],
        &off_curve,
        &hybrid,
        &[0x00],
        &share[..64],
        &[],
    ] {
        assert_eq!(p().agree(bad, &mut out), Err(CryptoError::BadPublicKey));
    }
    assert_eq!(p().agree(&share, &mut out), Ok(32));
}

#[test]
fn key_exchange_rng_failures() {
    for (g, compiled_in) in GROUPS {
        let want = if compiled_in {
            CryptoError::RngFailure
        } else {
            CryptoError::Unsupported
        };
        assert_eq!(P.key_exchange(g, &mut Broken).unwrap_err(), want);
    }
}

#[cfg(feature = "p256")]
#[test]
fn p256_keygen_rejection_is_bounded() {
    // A generator stuck on zeros never yields a P-256 scalar: bounded, then RngFailure.
    assert_eq!(
        P.key_exchange(NamedGroup::SECP256R1, &mut Fixed(vec![]))
            .unwrap_err(),
        CryptoError::RngFailure
    );
    // ...and one stuck on 0xff (above the group order) likewise.
    assert_eq!(
        P.key_exchange(NamedGroup::SECP256R1, &mut Fixed(vec![0xff; 32 * 8]))
            .unwrap_err(),
        CryptoError::RngFailure
    );
    // One rejected draw, then a good one.
    let mut bytes = vec![0xff; 32];
    bytes.extend_from_slice(&[0x11; 32]);
    assert!(P
        .key_exchange(NamedGroup::SECP256R1, &mut Fixed(bytes))
        .is_ok());
}

#[test]
fn aead_lengths_and_tampering() {
    let all = [
        AeadAlgorithm::Aes128Gcm,
        AeadAlgorithm::Aes256Gcm,
        AeadAlgorithm::ChaCha20Poly1305,
        AeadAlgorithm::Aes128Ccm,
        AeadAlgorithm::Aes128Ccm8,
    ];
    for alg in all {
        if !alg.compiled_in() {
            // Compiled out: Unsupported, whatever the key.
            for len in [alg.key_len(), 0] {
                assert_eq!(
                    P.aead(alg, &vec![7; len]).unwrap_err(),
                    CryptoError::Unsupported
                );
            }
            continue;
        }
        assert_eq!(
            P.aead(alg, &vec![7; alg.key_len() + 1]).unwrap_err(),
            CryptoError::BadLength
        );
        assert_eq!(P.aead(alg, &[]).unwrap_err(), CryptoError::BadLength);
        #[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
        aead_round_trip(alg);
    }
}

/// Sealing and opening with `alg` (compiled in): lengths, tampering, empty plaintext.
#[cfg(any(feature = "aes-gcm", feature = "aes-ccm", feature = "chacha20poly1305"))]
fn aead_round_trip(alg: AeadAlgorithm) {
    let a = P.aead(alg, &vec![7; alg.key_len()]).unwrap();
    assert_eq!(a.algorithm(), alg);
    let nonce = [3u8; 12];
    let msg = b"a record of some length, longer than one block".to_vec();
    let mut buf = msg.clone();
    let mut tag = vec![0u8; alg.tag_len()];
    assert_eq!(
        a.seal_in_place(&nonce, b"hdr", &mut buf, &mut vec![0u8; alg.tag_len() + 1]),
        Err(CryptoError::BadLength)
    );
    let mut buf2 = msg.clone();
    a.seal_in_place(&nonce, b"hdr", &mut buf2, &mut tag)
        .unwrap();
    buf.copy_from_slice(&buf2);
    assert_ne!(buf, msg);
    // Wrong tag length, tampered tag, ciphertext, AAD or nonce.
    assert_eq!(
        a.open_in_place(&nonce, b"hdr", &mut buf.clone(), &tag[1..]),
        Err(CryptoError::BadLength)
    );
    let mut bad_tag = tag.clone();
    bad_tag[0] ^= 1;
    assert_eq!(
        a.open_in_place(&nonce, b"hdr", &mut buf.clone(), &bad_tag),
        Err(CryptoError::BadTag)
    );
    let mut bad_ct = buf.clone();
    bad_ct[5] ^= 0x80;
    assert_eq!(
        a.open_in_place(&nonce, b"hdr", &mut bad_ct, &tag),
        Err(CryptoError::BadTag)
    );
    assert_eq!(
        a.open_in_place(&nonce, b"hdR", &mut buf.clone(), &tag),
        Err(CryptoError::BadTag)
    );
    assert_eq!(
        a.open_in_place(&[4; 12], b"hdr", &mut buf.clone(), &tag),
        Err(CryptoError::BadTag)
    );
    a.open_in_place(&nonce, b"hdr", &mut buf, &tag).unwrap();
    assert_eq!(buf, msg);
    // Empty plaintext.
    let mut empty = [];
    a.seal_in_place(&nonce, &[], &mut empty, &mut tag).unwrap();
    a.open_in_place(&nonce, &[], &mut empty, &tag).unwrap();
}

#[test]
fn hashes_and_kdf_errors() {
    let mut h = P.hash(HashAlgorithm::Sha256);
    h.update(b"a");
    let mid = h.current();
    h.update(b"bc");
    assert_eq!(h.algorithm(), HashAlgorithm::Sha256);
    assert_eq!(mid.as_bytes(), &sha256(b"a")[..]);
    assert_eq!(
        h.finish().as_bytes(),
        &hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..]
    );
    #[cfg(feature = "sha384")]
    {
        let mut h = P.hash(HashAlgorithm::Sha384);
        h.update(b"abc");
        assert_eq!(h.algorithm(), HashAlgorithm::Sha384);
        assert_eq!(
            h.finish().as_bytes(),
            &hex("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")[..]
        );
    }
    for alg in [HashAlgorithm::Sha256, HashAlgorithm::Sha384] {
        if !alg.compiled_in() {
            continue;
        }
        let prk = P.hkdf_extract(alg, b"", b"ikm");
        assert_eq!(prk.len(), alg.output_len());
        // A PRK shorter than the hash, or more than 255 blocks of output.
        let mut out = [0u8; 16];
        assert_eq!(
            P.hkdf_expand(alg, &prk.as_bytes()[1..], &[], &mut out),
            Err(CryptoError::BadLength)
        );
        let mut big = vec![0u8; 255 * alg.output_len() + 1];
        assert_eq!(
            P.hkdf_expand(alg, prk.as_bytes(), &[], &mut big),
            Err(CryptoError::BadLength)
        );
        big.pop();
        assert_eq!(
            P.hkdf_expand(alg, prk.as_bytes(), &[b"a", b"b"], &mut big),
            Ok(())
        );
        // Info parts concatenate.
        let (mut x, mut y) = ([0u8; 40], [0u8; 40]);
        P.hkdf_expand(alg, prk.as_bytes(), &[b"ab", b"", b"c"], &mut x)
            .unwrap();
        P.hkdf_expand(alg, prk.as_bytes(), &[b"abc"], &mut y)
            .unwrap();
        assert_eq!(x, y);
        assert_eq!(
            P.hmac(alg, b"k", &[b"ab", b"c"]),
            P.hmac(alg, b"k", &[b"abc"])
        );
    }
}

/// Without `sha384`, the infallible hash entry points answer SHA-384 with SHA-256 (which no
/// SHA-384 length check accepts) and `hkdf_expand` refuses, so no secret is derived.
#[cfg(not(feature = "sha384"))]
#[test]
fn sha384_compiled_out_falls_back_to_sha256() {
    let mut h = P.hash(HashAlgorithm::Sha384);
    h.update(b"abc");
    assert_eq!(h.algorithm(), HashAlgorithm::Sha256);
    assert_eq!(h.finish().as_bytes(), &sha256(b"abc")[..]);
    assert_eq!(
        P.hmac(HashAlgorithm::Sha384, b"k", &[b"m"]),
        P.hmac(HashAlgorithm::Sha256, b"k", &[b"m"])
    );
    let prk = P.hkdf_extract(HashAlgorithm::Sha384, b"salt", b"ikm");
    assert_eq!(prk, P.hkdf_extract(HashAlgorithm::Sha256, b"salt", b"ikm"));
    assert_eq!(prk.len(), 32);
    let mut out = [0u8; 48];
    assert_eq!(
        P.hkdf_expand(HashAlgorithm::Sha384, &[7; 48], &[b"info"], &mut out),
        Err(CryptoError::Unsupported)
    );
}

/// The suites follow the features: a suite whose AEAD or hash is compiled out has no
/// descriptor and is not in `SuiteInfo::TLS13`, which keeps its order.
#[test]
fn suites_follow_features() {
    let tls13 = [
        (
            CipherSuite::TLS_AES_128_GCM_SHA256,
            cfg!(feature = "aes-gcm"),
        ),
        (
            CipherSuite::TLS_AES_128_CCM_SHA256,
            cfg!(feature = "aes-ccm"),
        ),
        (
            CipherSuite::TLS_AES_128_CCM_8_SHA256,
            cfg!(feature = "aes-ccm"),
        ),
        (
            CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
            cfg!(feature = "chacha20poly1305"),
        ),
        (
            CipherSuite::TLS_AES_256_GCM_SHA384,
            cfg!(all(feature = "aes-gcm", feature = "sha384")),
        ),
    ];
    let want: Vec<CipherSuite> = tls13
        .iter()
        .filter(|(_, on)| *on)
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(SuiteInfo::TLS13.to_vec(), want);
    for (suite, on) in tls13 {
        assert_eq!(SuiteInfo::of(suite).is_some(), on, "{suite:?}");
    }
    // Every suite with a descriptor has an AEAD the provider can key.
    for code in 0..=u16::MAX {
        if let Some(info) = SuiteInfo::of(CipherSuite(code)) {
            assert!(info.aead.compiled_in() && info.hash.compiled_in());
            let key = vec![1; info.aead.key_len()];
            assert!(P.aead(info.aead, &key).is_ok(), "{code:#06x}");
        }
    }
}

/// Signature schemes compiled out are `Unsupported` (and not offered), whatever the key.
#[test]
fn signature_schemes_follow_features() {
    let (ec_spki, ed_spki) = (hex(P256_SPKI), hex(ED25519_SPKI));
    for (scheme, spki, on) in [
        (
            SignatureScheme::ECDSA_SECP256R1_SHA256,
            &ec_spki,
            cfg!(feature = "p256"),
        ),
        (
            SignatureScheme::ED25519,
            &ed_spki,
            cfg!(feature = "ed25519"),
        ),
        (
            SignatureScheme::RSA_PSS_RSAE_SHA256,
            &ec_spki,
            cfg!(feature = "alloc"),
        ),
    ] {
        assert_eq!(P.supports_signature(scheme), on, "{scheme:?}");
        let got = P.verify(scheme, spki, b"m", &[0x30; 64]);
        let pre = P.verify_prehashed(scheme, spki, &[0; 32], &[0x30; 64]);
        if on {
            assert_ne!(got, Err(CryptoError::Unsupported), "{scheme:?}");
        } else {
            assert_eq!(got, Err(CryptoError::Unsupported), "{scheme:?}");
            assert_eq!(pre, Err(CryptoError::Unsupported), "{scheme:?}");
        }
    }
}
