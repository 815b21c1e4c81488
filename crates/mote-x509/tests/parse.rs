//! Certificate parsing: fields of certificates made by openssl and of the Illustrated TLS 1.3
//! server certificate, and robustness against truncated and corrupted input. No test here
//! reads the clock.

mod common;

use common::fixtures;
use mote_wire::SignatureScheme;
use mote_x509::{
    BasicConstraints, Certificate, GeneralName, KeyUsage, TrustAnchor, X509Error, OID_COMMON_NAME,
};

/// Standard base64 (RFC 4648 4) for PEM bodies.
fn base64(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The server certificate of "The Illustrated TLS 1.3 Connection"
/// (github.com/syncsynchalt/illustrated-tls13, commit 8d83cef, MIT), from
/// shared/vectors/captures/illustrated-tls13/keys/server.crt.
fn illustrated_server_cert() -> Vec<u8> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let path = format!("{dir}/../../../shared/vectors/captures/illustrated-tls13/keys/server.crt");
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64(&body)
}

#[test]
fn illustrated_tls13_server_certificate() {
    let der = illustrated_server_cert();
    let c = Certificate::parse(&der).unwrap();
    assert_eq!(c.version(), 3);
    assert_eq!(
        c.serial(),
        &[0x15, 0x5a, 0x92, 0xad, 0xc2, 0x04, 0x8f, 0x90]
    );
    assert_eq!(c.signature_scheme(), SignatureScheme::RSA_PKCS1_SHA256);
    assert_eq!(c.signature().len(), 256);
    assert_eq!(c.subject().common_name(), Some(&b"example.ulfheim.net"[..]));
    let subject: Vec<_> = c.subject().attributes().map(|a| a.value).collect();
    assert_eq!(subject, [&b"US"[..], b"example.ulfheim.net"]);
    let issuer: Vec<_> = c.issuer().attributes().map(|a| a.value).collect();
    assert_eq!(issuer, [&b"US"[..], b"Example CA"]);
    assert_eq!(c.issuer().common_name(), None);
    // Oct  5 01:38:17 2018 GMT and Oct  5 01:38:17 2019 GMT (UTCTime).
    assert_eq!(c.not_before(), 1_538_703_497);
    assert_eq!(c.not_after(), 1_538_703_497 + 365 * 86_400);
    // No subjectAltName: the name is only in the Common Name, which mote never matches.
    assert!(c.subject_alt_names().is_none());
    assert_eq!(
        c.key_usage(),
        Some(KeyUsage(
            KeyUsage::DIGITAL_SIGNATURE | KeyUsage::KEY_ENCIPHERMENT
        ))
    );
    let eku = c.ext_key_usage().unwrap();
    assert!(eku.server_auth && eku.client_auth && !eku.any);
    assert_eq!(c.basic_constraints(), None);
    // rsaEncryption SPKI of a 2048-bit key: 30 82 01 22 ...
    assert_eq!(c.spki().len(), 294);
    assert_eq!(&c.spki()[..4], &[0x30, 0x82, 0x01, 0x22]);
    assert_eq!(c.tbs().len(), 4 + 0x209);
    assert_eq!(c.as_der().len(), der.len());
}

#[test]
fn p256_leaf_fields() {
    let f = fixtures();
    let c = f.parsed("leaf");
    let int = f.parsed("int");
    assert_eq!(c.version(), 3);
    assert_eq!(c.serial(), &[0x12, 0x34]);
    assert_eq!(
        c.signature_scheme(),
        SignatureScheme::ECDSA_SECP256R1_SHA256
    );
    assert_eq!(c.issuer(), int.subject());
    assert_eq!(c.subject().common_name(), Some(&b"sensor.example"[..]));
    assert_eq!(
        int.subject().common_name(),
        Some(&b"Mote Test Intermediate"[..])
    );
    assert_eq!(c.spki(), f.spki("leaf"), "SPKI as openssl exports it");
    assert_eq!(c.not_after() - c.not_before(), 365 * 86_400);
    assert_eq!(
        c.basic_constraints(),
        Some(BasicConstraints {
            ca: false,
            path_len: None
        })
    );
    assert_eq!(c.key_usage(), Some(KeyUsage(KeyUsage::DIGITAL_SIGNATURE)));
    let eku = c.ext_key_usage().unwrap();
    assert!(eku.server_auth && !eku.client_auth);
    let san: Vec<_> = c.subject_alt_names().unwrap().iter().collect();
    assert_eq!(
        san,
        [
            GeneralName::Dns("sensor.example"),
            GeneralName::Ip(&[127, 0, 0, 1])
        ]
    );
    assert!(!c.is_self_issued());
    // The TBS is the first element of the certificate, tag and length included.
    assert_eq!(
        &c.as_der()[c.as_der().len() - c.signature().len()..],
        c.signature()
    );
    assert!(c.as_der().windows(c.tbs().len()).any(|w| w == c.tbs()));
}

#[test]
fn ca_fields() {
    let f = fixtures();
    let root = f.parsed("root");
    assert!(root.is_self_issued());
    assert_eq!(
        root.basic_constraints(),
        Some(BasicConstraints {
            ca: true,
            path_len: None
        })
    );
    assert_eq!(
        root.key_usage(),
        Some(KeyUsage(KeyUsage::KEY_CERT_SIGN | KeyUsage::CRL_SIGN))
    );
    let int = f.parsed("int");
    assert_eq!(
        int.basic_constraints(),
        Some(BasicConstraints {
            ca: true,
            path_len: Some(0)
        })
    );
    let a = TrustAnchor::from_cert(f.cert("root")).unwrap();
    assert_eq!(a.subject, root.subject().as_der());
    assert_eq!(a.spki, f.spki("root"));
    let name: Vec<_> = root.subject().attributes().collect();
    assert_eq!(name.len(), 1);
    assert_eq!(name[0].oid, OID_COMMON_NAME);
    assert_eq!(name[0].tag, 0x0c, "openssl writes UTF8String");
}

#[test]
fn signature_algorithms() {
    let f = fixtures();
    for (name, scheme) in [
        ("ed_leaf", SignatureScheme::ED25519),
        ("ed_root", SignatureScheme::ED25519),
        ("rsa_root", SignatureScheme::RSA_PKCS1_SHA256),
        ("rsa_leaf", SignatureScheme::RSA_PKCS1_SHA256),
        ("rsa_leaf_384", SignatureScheme::RSA_PKCS1_SHA384),
        ("rsa_pss_leaf", SignatureScheme::RSA_PSS_RSAE_SHA256),
        ("root", SignatureScheme::ECDSA_SECP256R1_SHA256),
    ] {
        assert_eq!(f.parsed(name).signature_scheme(), scheme, "{name}");
    }
    assert_eq!(f.parsed("ed_leaf").signature().len(), 64);
    assert_eq!(f.parsed("rsa_leaf").signature().len(), 256);
    assert_eq!(f.parsed("ed_leaf").spki(), f.spki("ed_leaf"));
    assert_eq!(f.parsed("rsa_leaf").spki(), f.spki("rsa_leaf"));
}

#[test]
fn unknown_signature_algorithm_is_reported_but_anchors_tolerate_it() {
    // Rewrite ecdsa-with-SHA256 (2a 86 48 ce 3d 04 03 02) into ecdsa-with-SHA512 (.. 03 04)
    // in both AlgorithmIdentifiers: the certificate no longer verifies, but it parses.
    let f = fixtures();
    let mut der = f.cert("root").to_vec();
    let oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let mut n = 0;
    for i in 0..der.len() - oid.len() {
        if der[i..i + oid.len()] == oid {
            der[i + 7] = 0x04;
            n += 1;
        }
    }
    assert_eq!(n, 2);
    assert_eq!(
        Certificate::parse(&der).unwrap_err(),
        X509Error::UnsupportedSignatureAlgorithm { index: 0 }
    );
    let a = TrustAnchor::from_cert(&der).unwrap();
    assert_eq!(a.spki, f.spki("root"));
}

#[test]
fn mismatched_algorithm_identifiers() {
    // Only the outer signatureAlgorithm changed: RFC 5280 4.1.1.2.
    let f = fixtures();
    let mut der = f.cert("root").to_vec();
    let oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let last = (0..der.len() - oid.len())
        .rev()
        .find(|&i| der[i..i + oid.len()] == oid)
        .unwrap();
    der[last + 7] = 0x03;
    let e = Certificate::parse_at(&der, 2).unwrap_err();
    assert_eq!(e, X509Error::AlgorithmMismatch { index: 2 });
    assert_eq!(e.alert(), mote_wire::AlertDescription::BAD_CERTIFICATE);
}

#[test]
fn critical_extensions() {
    let f = fixtures();
    assert_eq!(
        Certificate::parse_at(f.cert("crit"), 1).unwrap_err(),
        X509Error::UnsupportedCriticalExtension { index: 1 }
    );
    // The same unknown extension, not critical, is ignored (RFC 5280 4.2).
    Certificate::parse(f.cert("noncrit")).unwrap();
}

#[test]
fn every_truncation_errors_without_panic() {
    let f = fixtures();
    let illustrated = illustrated_server_cert();
    let mut certs: Vec<(&str, &[u8])> = f.all().collect();
    certs.push(("illustrated", &illustrated));
    for (name, der) in certs {
        for len in 0..der.len() {
            let e = Certificate::parse_at(&der[..len], 4)
                .err()
                .unwrap_or_else(|| panic!("{name} cut to {len} bytes parsed"));
            match e {
                X509Error::Malformed { index, offset, .. } => {
                    assert_eq!(index, 4);
                    assert!((offset as usize) <= len, "{name}/{len}: offset {offset}");
                }
                other => panic!("{name} cut to {len}: {other}"),
            }
        }
        // Trailing garbage is refused too.
        let mut longer = der.to_vec();
        longer.push(0);
        assert!(matches!(
            Certificate::parse(&longer),
            Err(X509Error::Malformed { .. })
        ));
    }
}

#[test]
fn every_byte_corruption_is_handled() {
    // Not a correctness check (many flips still parse): no input may panic, and errors must
    // point inside the certificate.
    let f = fixtures();
    for name in ["leaf", "wild", "rsa_pss_leaf", "ed_leaf", "crit"] {
        let der = f.cert(name);
        for i in 0..der.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut v = der.to_vec();
                v[i] ^= flip;
                if let Err(X509Error::Malformed { offset, .. }) = Certificate::parse(&v) {
                    assert!((offset as usize) < v.len(), "{name} byte {i}");
                }
                let _ = TrustAnchor::from_cert(&v);
            }
        }
    }
}

#[test]
fn errors_name_the_field_and_offset() {
    let f = fixtures();
    let der = f.cert("leaf");
    // Break the notBefore time: find the first UTCTime (tag 0x17, length 13).
    let i = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
    let mut v = der.to_vec();
    v[i + 2 + 2] = b'1';
    v[i + 2 + 3] = b'3'; // month 13
    let e = Certificate::parse_at(&v, 3).unwrap_err();
    assert_eq!(
        e,
        X509Error::Malformed {
            index: 3,
            offset: i as u32,
            what: "validity.notBefore"
        }
    );
    assert_eq!(
        e.to_string(),
        format!("certificate 3: malformed at byte {i}: validity.notBefore")
    );
    assert_eq!(e.alert(), mote_wire::AlertDescription::DECODE_ERROR);
}
