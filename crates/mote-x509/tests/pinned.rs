//! Device alternatives to a PKI: a pinned SPKI hash and RFC 7250 raw public keys, driven
//! through the same `add`/`finish` calls as chain validation.

mod common;

use common::provider::TestProvider;
use common::{fixtures, tampered};
use mote_wire::{AlertDescription, CertificateType};
use mote_x509::{
    Method, PinnedRawKey, PinnedSpki, ServerAuth, ServerName, TrustAnchor, Usage, VerifiedChain,
    X509Error,
};
use sha2::Digest as _;

/// What the engine does with a Certificate message, whatever `auth` is.
fn engine(auth: &ServerAuth<'_>, now: u64, entries: &[&[u8]]) -> Result<VerifiedChain, X509Error> {
    let p = TestProvider::default();
    let mut v = auth.validator(now, Usage::ServerAuth);
    for (i, entry) in entries.iter().enumerate() {
        v.add(&p, i, entry)?;
    }
    v.finish(&p)
}

fn pin_of(key: &str) -> PinnedSpki {
    // As `openssl pkey -pubout -outform DER | sha256sum` computes it.
    PinnedSpki {
        sha256: sha2::Sha256::digest(fixtures().spki(key)).into(),
    }
}

#[test]
fn pinned_spki_good() {
    let f = fixtures();
    let auth = ServerAuth::PinnedSpki(pin_of("leaf"));
    assert_eq!(auth.certificate_type(), CertificateType::X509);
    // Issuer, name and the rest of the chain do not matter; the intermediate is ignored.
    let v = engine(&auth, f.now(), &[f.cert("leaf"), f.cert("int")]).unwrap();
    assert_eq!(v.method(), Method::PinnedSpki);
    assert_eq!(v.end_entity_spki(), f.spki("leaf"));
    assert_eq!(v.depth(), 1);
    // Another certificate for the same key also matches: the pin is on the key.
    engine(&auth, f.now(), &[f.cert("wild")]).unwrap();
    // The pin computed through the provider is the same.
    let p = TestProvider::default();
    assert_eq!(PinnedSpki::of_spki(&p, f.spki("leaf")), pin_of("leaf"));
}

#[test]
fn pinned_spki_bad() {
    let f = fixtures();
    let auth = ServerAuth::PinnedSpki(pin_of("int"));
    let e = engine(&auth, f.now(), &[f.cert("leaf"), f.cert("int")]).unwrap_err();
    assert_eq!(e, X509Error::PinMismatch { index: 0 });
    assert_eq!(e.alert(), AlertDescription::CERTIFICATE_UNKNOWN);
    // Validity is still checked.
    let auth = ServerAuth::PinnedSpki(pin_of("leaf"));
    let after = f.parsed("leaf").not_after() as u64 + 1;
    assert!(matches!(
        engine(&auth, after, &[f.cert("leaf")]),
        Err(X509Error::Expired { index: 0, .. })
    ));
    // A malformed certificate is an error, not a mismatch.
    let leaf = f.cert("leaf");
    assert!(matches!(
        engine(&auth, f.now(), &[&leaf[..leaf.len() - 1]]),
        Err(X509Error::Malformed { index: 0, .. })
    ));
    // The signature is not what a pin checks: a tampered one still matches.
    engine(&auth, f.now(), &[&tampered(leaf)]).unwrap();
    assert_eq!(
        engine(&auth, f.now(), &[]).unwrap_err(),
        X509Error::Empty {
            usage: Usage::ServerAuth
        }
    );
}

#[test]
fn raw_public_key_good() {
    let f = fixtures();
    for key in ["leaf", "ed_leaf", "rsa_leaf"] {
        let auth = ServerAuth::RawPublicKey(PinnedRawKey { spki: f.spki(key) });
        assert_eq!(auth.certificate_type(), CertificateType::RAW_PUBLIC_KEY);
        // RFC 7250: the entry is the SubjectPublicKeyInfo; raw keys have no dates.
        let v = engine(&auth, 0, &[f.spki(key)]).unwrap();
        assert_eq!(v.method(), Method::RawPublicKey);
        assert_eq!(v.end_entity_spki(), f.spki(key));
    }
}

#[test]
fn raw_public_key_bad() {
    let f = fixtures();
    let auth = ServerAuth::RawPublicKey(PinnedRawKey {
        spki: f.spki("leaf"),
    });
    assert_eq!(
        engine(&auth, 0, &[f.spki("int")]).unwrap_err(),
        X509Error::PinMismatch { index: 0 }
    );
    // A certificate is not a raw key, even one holding the right key.
    assert_eq!(
        engine(&auth, 0, &[f.cert("leaf")]).unwrap_err(),
        X509Error::PinMismatch { index: 0 }
    );
    let spki = f.spki("leaf");
    assert_eq!(
        engine(&auth, 0, &[&spki[..spki.len() - 1]]).unwrap_err(),
        X509Error::PinMismatch { index: 0 }
    );
    assert!(matches!(
        engine(&auth, 0, &[]),
        Err(X509Error::Empty { .. })
    ));
}

#[test]
fn one_engine_loop_for_all_three() {
    let f = fixtures();
    let anchors = [TrustAnchor::from_cert(f.cert("root")).unwrap()];
    let cases: [(ServerAuth<'_>, Vec<&[u8]>, Method); 3] = [
        (
            ServerAuth::Chain {
                anchors: &anchors,
                name: ServerName::Dns("sensor.example"),
            },
            vec![f.cert("leaf"), f.cert("int")],
            Method::Chain,
        ),
        (
            ServerAuth::PinnedSpki(pin_of("leaf")),
            vec![f.cert("leaf")],
            Method::PinnedSpki,
        ),
        (
            ServerAuth::RawPublicKey(PinnedRawKey {
                spki: f.spki("leaf"),
            }),
            vec![f.spki("leaf")],
            Method::RawPublicKey,
        ),
    ];
    for (auth, entries, method) in cases {
        let v = engine(&auth, f.now(), &entries).unwrap();
        assert_eq!(v.method(), method);
        assert_eq!(v.end_entity_spki(), f.spki("leaf"));
    }
}
