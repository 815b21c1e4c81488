//! The chains of tests/chain.rs through mote-crypto's RustCrypto provider (with `alloc` for
//! RSA), the provider the engine uses, rather than the test-only one.

mod common;

use common::{fixtures, tampered};
use mote_crypto::rustcrypto::RustCrypto;
use mote_x509::{
    RsaChainValidator, ServerAuth, ServerName, TrustAnchor, Usage, VerifiedChain, X509Error,
};

fn run(auth: &ServerAuth<'_>, chain: &[&[u8]]) -> Result<VerifiedChain, X509Error> {
    let p = RustCrypto;
    let mut v = RsaChainValidator::for_auth(auth, fixtures().now(), Usage::ServerAuth);
    for (i, der) in chain.iter().enumerate() {
        v.add(&p, i, der)?;
    }
    v.finish(&p)
}

fn chain_auth<'a>(anchors: &'a [TrustAnchor<'a>]) -> ServerAuth<'a> {
    ServerAuth::Chain {
        anchors,
        name: ServerName::Dns("sensor.example"),
    }
}

#[test]
fn p256_through_the_rustcrypto_provider() {
    let f = fixtures();
    let anchors = [TrustAnchor::from_cert(f.cert("root")).unwrap()];
    let auth = chain_auth(&anchors);
    let v = run(&auth, &[f.cert("leaf"), f.cert("int")]).unwrap();
    assert_eq!(v.end_entity_spki(), f.spki("leaf"));
    let bad = tampered(f.cert("leaf"));
    assert_eq!(
        run(&auth, &[&bad, f.cert("int")]).unwrap_err(),
        X509Error::BadSignature { index: 0 }
    );
    let bad = tampered(f.cert("int"));
    assert_eq!(
        run(&auth, &[f.cert("leaf"), &bad]).unwrap_err(),
        X509Error::BadSignature { index: 1 }
    );
}

#[test]
fn ed25519_through_the_rustcrypto_provider() {
    let f = fixtures();
    let anchors = [TrustAnchor::from_cert(f.cert("ed_root")).unwrap()];
    let auth = chain_auth(&anchors);
    run(&auth, &[f.cert("ed_leaf")]).unwrap();
    assert_eq!(
        run(&auth, &[&tampered(f.cert("ed_leaf"))]).unwrap_err(),
        X509Error::BadSignature { index: 0 }
    );
}

#[test]
fn rsa_through_the_rustcrypto_provider() {
    let f = fixtures();
    let anchors = [TrustAnchor::from_cert(f.cert("rsa_root")).unwrap()];
    let auth = chain_auth(&anchors);
    for leaf in ["rsa_leaf", "rsa_leaf_384", "rsa_pss_leaf"] {
        run(&auth, &[f.cert(leaf)]).unwrap();
    }
    for leaf in ["rsa_under_int", "rsa_pss_under_int"] {
        run(&auth, &[f.cert(leaf), f.cert("rsa_int")]).unwrap();
        assert_eq!(
            run(&auth, &[&tampered(f.cert(leaf)), f.cert("rsa_int")]).unwrap_err(),
            X509Error::BadSignature { index: 0 }
        );
    }
}
