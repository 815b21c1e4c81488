//! Streaming chain validation on chains made by openssl at test time. `now` is always
//! derived from the certificates, never read from the clock.

mod common;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::provider::TestProvider;
use common::{fixtures, tampered};
use mote_wire::AlertDescription;
use mote_x509::{
    ChainValidator, Method, RsaChainValidator, ServerAuth, ServerName, TrustAnchor, Usage,
    VerifiedChain, X509Error, RSA_SIGNATURE_CAPACITY,
};

fn anchor(name: &str) -> TrustAnchor<'static> {
    TrustAnchor::from_cert(fixtures().cert(name)).unwrap()
}

/// Runs the validator over `chain` the way the engine does and returns the first error.
fn run_with<const SIG: usize>(
    mut v: ChainValidator<'_, SIG>,
    chain: &[&[u8]],
) -> Result<VerifiedChain, X509Error> {
    let p = TestProvider::default();
    for (i, der) in chain.iter().enumerate() {
        v.add(&p, i, der)?;
    }
    v.finish(&p)
}

fn validate(
    chain: &[&str],
    anchors: &[&str],
    name: ServerName<'_>,
    now: u64,
    usage: Usage,
) -> Result<VerifiedChain, X509Error> {
    let f = fixtures();
    let anchors: Vec<_> = anchors.iter().map(|a| anchor(a)).collect();
    let certs: Vec<&[u8]> = chain.iter().map(|c| f.cert(c)).collect();
    run_with(ChainValidator::new(&anchors, name, now, usage), &certs)
}

fn server(chain: &[&str], anchors: &[&str], name: &str) -> Result<VerifiedChain, X509Error> {
    validate(
        chain,
        anchors,
        ServerName::parse(name),
        fixtures().now(),
        Usage::ServerAuth,
    )
}

#[test]
fn valid_p256_chain() {
    let v = server(&["leaf", "int"], &["root"], "sensor.example").unwrap();
    assert_eq!(v.end_entity_spki(), fixtures().spki("leaf"));
    assert_eq!(v.depth(), 2);
    assert_eq!(v.method(), Method::Chain);
    // By address, and with a root sent along (ignored after the anchor: RFC 8446 4.4.2).
    server(&["leaf", "int", "root"], &["other", "root"], "127.0.0.1").unwrap();
    // The intermediate itself as the anchor.
    server(&["leaf", "int"], &["int"], "sensor.example").unwrap();
}

#[test]
fn certificates_after_the_anchor_are_not_examined() {
    let f = fixtures();
    let anchors = [anchor("root")];
    let p = TestProvider::default();
    let mut v: ChainValidator =
        ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    v.add(&p, 0, f.cert("leaf")).unwrap();
    v.add(&p, 1, f.cert("int")).unwrap();
    let checks = p.verifications.get();
    assert_eq!(checks, 2);
    v.add(&p, 2, b"not even DER").unwrap();
    v.add(&p, 3, &tampered(f.cert("root"))).unwrap();
    assert_eq!(p.verifications.get(), checks);
    assert_eq!(v.finish(&p).unwrap().depth(), 2);
}

#[test]
fn directly_trusted_self_signed_certificate() {
    let v = server(&["self"], &["self"], "device.example").unwrap();
    assert_eq!(v.depth(), 1);
    assert_eq!(
        server(&["self"], &["root"], "device.example").unwrap_err(),
        X509Error::UnknownIssuer { index: 0 }
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let f = fixtures();
    let leaf = f.parsed("leaf");
    let after = leaf.not_after() as u64 + 1;
    let e = validate(
        &["leaf", "int"],
        &["root"],
        ServerName::None,
        after,
        Usage::ServerAuth,
    )
    .unwrap_err();
    assert_eq!(
        e,
        X509Error::Expired {
            index: 0,
            not_after: leaf.not_after(),
            now: after
        }
    );
    assert_eq!(e.alert(), AlertDescription::CERTIFICATE_EXPIRED);
    // notAfter itself is still valid (RFC 5280 4.1.2.5).
    let at = leaf.not_after() as u64;
    validate(
        &["leaf", "int"],
        &["root"],
        ServerName::None,
        at,
        Usage::ServerAuth,
    )
    .unwrap();
    let before = leaf.not_before() as u64 - 1;
    assert!(matches!(
        validate(
            &["leaf", "int"],
            &["root"],
            ServerName::None,
            before,
            Usage::ServerAuth
        ),
        Err(X509Error::NotYetValid { index: 0, .. })
    ));
    // An intermediate that expired before its leaf did.
    let int_after = f.parsed("int").not_after() as u64 + 1;
    assert!(matches!(
        validate(
            &["leaf_long", "int"],
            &["root"],
            ServerName::None,
            int_after,
            Usage::ServerAuth
        ),
        Err(X509Error::Expired { index: 1, .. })
    ));
}

#[test]
fn server_name_must_be_in_subject_alt_name() {
    server(&["leaf", "int"], &["root"], "Sensor.Example.").unwrap();
    for name in [
        "other.example",
        "127.0.0.2",
        "::1",
        "example",
        "sensor.example.com",
    ] {
        let e = server(&["leaf", "int"], &["root"], name).unwrap_err();
        assert_eq!(e, X509Error::NameMismatch { index: 0 }, "{name}");
        assert_eq!(e.alert(), AlertDescription::BAD_CERTIFICATE);
    }
    // An IP written as a DNS name is matched as an address, never against dNSName.
    let f = fixtures();
    let anchors = [anchor("root")];
    let chain: [&[u8]; 2] = [f.cert("leaf"), f.cert("int")];
    let v = ChainValidator::new(
        &anchors,
        ServerName::Dns("127.0.0.1"),
        f.now(),
        Usage::ServerAuth,
    );
    run_with(v, &chain).unwrap();
    let v = ChainValidator::new(
        &anchors,
        ServerName::Ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))),
        f.now(),
        Usage::ServerAuth,
    );
    run_with(v, &chain).unwrap();
}

#[test]
fn no_common_name_fallback() {
    // CN=sensor.example but no subjectAltName.
    assert_eq!(
        server(&["no_san", "int"], &["root"], "sensor.example").unwrap_err(),
        X509Error::NameMismatch { index: 0 }
    );
}

#[test]
fn wildcard_rules() {
    // SAN: *.sensors.example, f*.partial.example, *.example, IP ::1.
    let ok = |n: &str| server(&["wild", "int"], &["root"], n).is_ok();
    assert!(ok("a.sensors.example"));
    assert!(ok("A.SENSORS.EXAMPLE"));
    assert!(!ok("sensors.example"), "a wildcard stands for one label");
    assert!(!ok("a.b.sensors.example"), "and only one");
    assert!(
        !ok("foo.partial.example"),
        "partial-label wildcards never match"
    );
    assert!(!ok("f.partial.example"));
    assert!(
        !ok("a.example"),
        "no wildcard directly above a single label"
    );
    assert!(ok("::1"));
    let f = fixtures();
    let anchors = [anchor("root")];
    let chain: [&[u8]; 2] = [f.cert("wild"), f.cert("int")];
    let ip6 = ServerName::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
    run_with(
        ChainValidator::new(&anchors, ip6, f.now(), Usage::ServerAuth),
        &chain,
    )
    .unwrap();
}

#[test]
fn unknown_issuer() {
    let e = server(&["leaf", "int"], &["other"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::UnknownIssuer { index: 1 });
    assert_eq!(e.alert(), AlertDescription::UNKNOWN_CA);
    // The intermediate left out.
    assert_eq!(
        server(&["leaf"], &["root"], "sensor.example").unwrap_err(),
        X509Error::UnknownIssuer { index: 0 }
    );
    // An untrusted root sent along.
    assert_eq!(
        server(&["leaf", "int", "root"], &["other"], "sensor.example").unwrap_err(),
        X509Error::UnknownIssuer { index: 2 }
    );
    // Out of order: the streaming validator needs each certificate's issuer next.
    let e = server(&["leaf", "root", "int"], &["other"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::IssuerMismatch { index: 1 });
    // No anchors at all.
    assert_eq!(
        server(&["leaf", "int"], &[], "sensor.example").unwrap_err(),
        X509Error::UnknownIssuer { index: 1 }
    );
}

#[test]
fn anchor_with_the_right_name_but_another_key() {
    let e = server(&["leaf", "int"], &["fake_root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::BadSignature { index: 1 });
    // With both, the genuine one is found.
    server(&["leaf", "int"], &["fake_root", "root"], "sensor.example").unwrap();
}

#[test]
fn tampered_signatures() {
    let f = fixtures();
    let anchors = [anchor("root")];
    let mk = || ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    let leaf = tampered(f.cert("leaf"));
    let e = run_with(mk(), &[&leaf, f.cert("int")]).unwrap_err();
    assert_eq!(e, X509Error::BadSignature { index: 0 });
    assert_eq!(e.alert(), AlertDescription::BAD_CERTIFICATE);
    let int = tampered(f.cert("int"));
    let e = run_with(mk(), &[f.cert("leaf"), &int]).unwrap_err();
    assert_eq!(e, X509Error::BadSignature { index: 1 });
    // A changed TBS byte (the serial) with the original signature.
    let mut leaf = f.cert("leaf").to_vec();
    let at = leaf
        .windows(4)
        .position(|w| w == [0x02, 0x02, 0x12, 0x34])
        .unwrap();
    leaf[at + 3] = 0x35;
    let e = run_with(mk(), &[&leaf, f.cert("int")]).unwrap_err();
    assert_eq!(e, X509Error::BadSignature { index: 0 });
}

#[test]
fn leaf_used_as_ca() {
    let e = server(&["under_leaf", "leaf", "int"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::NotACa { index: 1 });
    assert_eq!(e.alert(), AlertDescription::BAD_CERTIFICATE);
}

#[test]
fn path_len_violation() {
    // int has pathLenConstraint 0, so sub (a CA it issued) may not issue certificates.
    let e = server(&["under_sub", "sub", "int"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(
        e,
        X509Error::PathLenExceeded {
            index: 2,
            max: 0,
            found: 1
        }
    );
    // With sub's issuer as the anchor, int is not part of the path: no constraint applies.
    server(&["under_sub", "sub"], &["int"], "sensor.example").unwrap();
}

#[test]
fn issuer_key_usage_needs_key_cert_sign() {
    let e = server(&["under_bad_ku", "ca_bad_ku"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::KeyUsage { index: 1 });
}

#[test]
fn end_entity_key_usage_needs_digital_signature() {
    let e = server(&["ku_bad", "int"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::KeyUsage { index: 0 });
    assert_eq!(e.alert(), AlertDescription::UNSUPPORTED_CERTIFICATE);
}

#[test]
fn missing_server_auth_eku() {
    let e = server(&["client_only", "int"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::ExtKeyUsage { index: 0 });
    // The same certificate is fine as a client certificate.
    let f = fixtures();
    validate(
        &["client_only", "int"],
        &["root"],
        ServerName::None,
        f.now(),
        Usage::ClientAuth,
    )
    .unwrap();
    // And a serverAuth-only leaf is not.
    assert_eq!(
        validate(
            &["leaf", "int"],
            &["root"],
            ServerName::None,
            f.now(),
            Usage::ClientAuth
        )
        .unwrap_err(),
        X509Error::ExtKeyUsage { index: 0 }
    );
}

#[test]
fn unknown_critical_extension() {
    let e = server(&["crit", "int"], &["root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::UnsupportedCriticalExtension { index: 0 });
    assert_eq!(e.alert(), AlertDescription::UNSUPPORTED_CERTIFICATE);
    server(&["noncrit", "int"], &["root"], "sensor.example").unwrap();
}

#[test]
fn ed25519_chains() {
    let v = server(&["ed_leaf"], &["ed_root"], "sensor.example").unwrap();
    assert_eq!(v.end_entity_spki(), fixtures().spki("ed_leaf"));
    // Signed by an intermediate: the TBS is gone by the time the issuer's key arrives.
    let e = server(&["ed_under_int", "ed_int"], &["ed_root"], "sensor.example").unwrap_err();
    assert_eq!(e, X509Error::Ed25519NeedsIssuerAnchor { index: 0 });
    // Unless the intermediate is the anchor.
    server(&["ed_under_int", "ed_int"], &["ed_int"], "sensor.example").unwrap();
    let f = fixtures();
    let bad = tampered(f.cert("ed_leaf"));
    let anchors = [anchor("ed_root")];
    let v = ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    assert_eq!(
        run_with(v, &[&bad]).unwrap_err(),
        X509Error::BadSignature { index: 0 }
    );
}

#[test]
fn rsa_chains_need_an_rsa_provider() {
    // Without RSA in the provider (mote-crypto without `alloc`): unsupported, not a bad
    // signature.
    let f = fixtures();
    let now = f.now();
    let e = validate(
        &["rsa_leaf"],
        &["rsa_root"],
        ServerName::None,
        now,
        Usage::ServerAuth,
    )
    .unwrap_err();
    assert_eq!(e, X509Error::UnsupportedSignatureAlgorithm { index: 0 });
    let chain: [&[u8]; 2] = [f.cert("rsa_under_int"), f.cert("rsa_int")];
    let anchors = [anchor("rsa_root")];
    let v = ChainValidator::new(&anchors, ServerName::None, now, Usage::ServerAuth);
    assert_eq!(
        run_with(v, &chain).unwrap_err(),
        X509Error::UnsupportedSignatureAlgorithm { index: 0 }
    );
}

/// Like `run_with`, with a provider that verifies RSA.
fn run_rsa<const SIG: usize>(
    mut v: ChainValidator<'_, SIG>,
    chain: &[&[u8]],
) -> Result<VerifiedChain, X509Error> {
    let p = TestProvider::with_rsa();
    for (i, der) in chain.iter().enumerate() {
        v.add(&p, i, der)?;
    }
    v.finish(&p)
}

#[test]
fn rsa_chains_with_an_rsa_provider() {
    let f = fixtures();
    let now = f.now();
    let anchors = [anchor("rsa_root")];
    let auth = ServerAuth::Chain {
        anchors: &anchors,
        name: ServerName::Dns("sensor.example"),
    };
    // Signed directly by the anchor: verified over the whole TBS (PKCS #1 v1.5 and PSS).
    for leaf in ["rsa_leaf", "rsa_leaf_384", "rsa_pss_leaf"] {
        let v = run_rsa(auth.validator(now, Usage::ServerAuth), &[f.cert(leaf)]).unwrap();
        assert_eq!(v.end_entity_spki(), f.spki("rsa_leaf"), "{leaf}");
    }
    // Below an intermediate, a 256-byte signature must be held until the issuer arrives:
    // the default capacity (ECDSA up to P-384) says so, the RSA capacity verifies it from
    // the kept SHA-256 or SHA-384 digest.
    for leaf in ["rsa_under_int", "rsa_pss_under_int"] {
        let chain: [&[u8]; 2] = [f.cert(leaf), f.cert("rsa_int")];
        assert_eq!(
            run_rsa(auth.validator(now, Usage::ServerAuth), &chain).unwrap_err(),
            X509Error::SignatureTooLarge {
                index: 0,
                len: 256,
                max: 104
            }
        );
        run_rsa(
            RsaChainValidator::for_auth(&auth, now, Usage::ServerAuth),
            &chain,
        )
        .unwrap();
        let bad = tampered(f.cert(leaf));
        assert_eq!(
            run_rsa(
                RsaChainValidator::for_auth(&auth, now, Usage::ServerAuth),
                &[&bad, f.cert("rsa_int")]
            )
            .unwrap_err(),
            X509Error::BadSignature { index: 0 }
        );
    }
    let bad = tampered(f.cert("rsa_pss_leaf"));
    assert_eq!(
        run_rsa(auth.validator(now, Usage::ServerAuth), &[&bad]).unwrap_err(),
        X509Error::BadSignature { index: 0 }
    );
}

#[test]
fn chain_too_long() {
    let f = fixtures();
    let anchors = [anchor("root")];
    let v = ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth)
        .with_max_depth(1);
    let e = run_with(v, &[f.cert("leaf"), f.cert("int")]).unwrap_err();
    assert_eq!(e, X509Error::ChainTooLong { max: 1 });
    let v = ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth)
        .with_max_depth(2);
    run_with(v, &[f.cert("leaf"), f.cert("int")]).unwrap();
}

#[test]
fn empty_chain_and_errors_stick() {
    let f = fixtures();
    let p = TestProvider::default();
    let anchors = [anchor("root")];
    let mut v: ChainValidator =
        ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    let e = v.finish(&p).unwrap_err();
    assert_eq!(
        e,
        X509Error::Empty {
            usage: Usage::ServerAuth
        }
    );
    assert_eq!(e.alert(), AlertDescription::DECODE_ERROR);
    let e = X509Error::Empty {
        usage: Usage::ClientAuth,
    };
    assert_eq!(e.alert(), AlertDescription::CERTIFICATE_REQUIRED);

    // After a failure, neither more certificates nor finish can turn it into success.
    let mut v: ChainValidator =
        ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    let bad = tampered(f.cert("leaf"));
    v.add(&p, 0, &bad).unwrap();
    let e = v.add(&p, 1, f.cert("int")).unwrap_err();
    assert_eq!(e, X509Error::BadSignature { index: 0 });
    assert_eq!(v.add(&p, 2, f.cert("root")).unwrap_err(), e);
    assert_eq!(v.finish(&p).unwrap_err(), e);

    // Indices must run 0, 1, 2, ...
    let mut v: ChainValidator =
        ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    assert_eq!(
        v.add(&p, 1, f.cert("int")).unwrap_err(),
        X509Error::OutOfOrder {
            index: 1,
            expected: 0
        }
    );
}

#[test]
fn malformed_certificate_in_chain_names_its_index() {
    let f = fixtures();
    let anchors = [anchor("root")];
    let v = ChainValidator::new(&anchors, ServerName::None, f.now(), Usage::ServerAuth);
    let int = f.cert("int");
    let e = run_with(v, &[f.cert("leaf"), &int[..int.len() - 1]]).unwrap_err();
    assert!(matches!(e, X509Error::Malformed { index: 1, .. }), "{e}");
    assert!(e
        .to_string()
        .starts_with("certificate 1: malformed at byte"));
}

#[test]
fn summary_state_size() {
    let small = core::mem::size_of::<ChainValidator<'static>>();
    let rsa = core::mem::size_of::<ChainValidator<'static, RSA_SIGNATURE_CAPACITY>>();
    let proof = core::mem::size_of::<VerifiedChain>();
    println!(
        "size_of ChainValidator = {small}, with RSA capacity = {rsa}, VerifiedChain = {proof}"
    );
    assert!(small <= 900, "{small}");
    assert!(rsa <= small + 512, "{rsa}");
}
