//! Certificates made at test time with the `openssl` command line (Debian package `openssl`),
//! once per test binary, and the test provider.
#![allow(dead_code)]

pub mod provider;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mote_x509::Certificate;

/// The extension sections used below (openssl x509v3_config syntax).
const CONFIG: &str = r#"
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
extendedKeyUsage = serverAuth,clientAuth

[sub]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign

[ca_bad_ku]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature

[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:sensor.example,IP:127.0.0.1
authorityKeyIdentifier = keyid

[wild]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.sensors.example,DNS:f*.partial.example,DNS:*.example,IP:::1

[client_only]
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:sensor.example

[ku_bad]
keyUsage = critical,keyAgreement
subjectAltName = DNS:sensor.example

[no_san]
keyUsage = critical,digitalSignature

[crit]
subjectAltName = DNS:sensor.example
1.2.3.4 = critical,DER:0500

[noncrit]
subjectAltName = DNS:sensor.example
1.2.3.4 = DER:0500

[self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:device.example
"#;

pub struct Fixtures {
    der: HashMap<&'static str, Vec<u8>>,
    /// DER SubjectPublicKeyInfo of each key, as `openssl pkey -pubout -outform DER` gives it.
    spki: HashMap<&'static str, Vec<u8>>,
}

impl Fixtures {
    pub fn cert(&self, name: &str) -> &[u8] {
        self.der
            .get(name)
            .unwrap_or_else(|| panic!("no fixture {name}"))
    }
    pub fn spki(&self, key: &str) -> &[u8] {
        self.spki.get(key).unwrap_or_else(|| panic!("no key {key}"))
    }
    pub fn parsed(&self, name: &str) -> Certificate<'_> {
        Certificate::parse(self.cert(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
    /// A time inside every fixture's validity: a minute after the latest notBefore (they were
    /// all made just now), so tests never read the clock.
    pub fn now(&self) -> u64 {
        let latest = self
            .der
            .values()
            .filter_map(|d| Certificate::parse(d).ok())
            .map(|c| c.not_before())
            .max()
            .unwrap();
        latest as u64 + 60
    }
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &[u8])> {
        self.der.iter().map(|(k, v)| (*k, v.as_slice()))
    }
}

pub fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(make)
}

/// Runs `openssl` with `args` (split on spaces) plus `more` (kept whole) in `dir`.
fn openssl(dir: &Path, args: &str, more: &[&str]) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .args(more)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `openssl` ({e}): install the Debian package `openssl`")
        });
    assert!(
        out.status.success(),
        "openssl {args} {more:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keys: name and `genpkey` options.
const KEYS: &[(&str, &str)] = &[
    ("root", P256),
    ("int", P256),
    ("leaf", P256),
    ("sub", P256),
    ("other", P256),
    ("fake_root", P256),
    ("self", P256),
    ("ca_bad_ku", P256),
    ("ed_root", "-algorithm ED25519"),
    ("ed_int", "-algorithm ED25519"),
    ("ed_leaf", "-algorithm ED25519"),
    ("rsa_root", RSA),
    ("rsa_int", RSA),
    ("rsa_leaf", RSA),
];
const P256: &str = "-algorithm EC -pkeyopt ec_paramgen_curve:P-256";
const RSA: &str = "-algorithm RSA -pkeyopt rsa_keygen_bits:2048";
const PSS: &str = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest";

/// Self-signed certificates (key of the same name): name, subject CN, extension section,
/// serial.
const ROOTS: &[(&str, &str, &str, &str)] = &[
    ("root", "Mote Test Root", "root", "1"),
    ("other", "Mote Other Root", "root", "2"),
    // Same name as the root, another key: the anchor is found by name but does not verify.
    ("fake_root", "Mote Test Root", "root", "3"),
    ("self", "device.example", "self", "4"),
    ("ed_root", "Mote Ed25519 Root", "root", "5"),
    ("rsa_root", "Mote RSA Root", "root", "6"),
];

/// Issued certificates, in order: name, key, subject CN, issuer, extension section,
/// further `openssl x509 -req` options.
const ISSUED: &[(&str, &str, &str, &str, &str, &str)] = &[
    // P-256: root -> intermediate (pathlen 0) -> leaves.
    (
        "int",
        "int",
        "Mote Test Intermediate",
        "root",
        "int",
        "-days 1095",
    ),
    ("leaf", "leaf", "sensor.example", "int", "leaf", "-days 365"),
    (
        "leaf_long",
        "leaf",
        "sensor.example",
        "int",
        "leaf",
        "-days 3000",
    ),
    ("wild", "leaf", "wildcard", "int", "wild", "-days 365"),
    (
        "client_only",
        "leaf",
        "client",
        "int",
        "client_only",
        "-days 365",
    ),
    (
        "ku_bad",
        "leaf",
        "sensor.example",
        "int",
        "ku_bad",
        "-days 365",
    ),
    (
        "no_san",
        "leaf",
        "sensor.example",
        "int",
        "no_san",
        "-days 365",
    ),
    ("crit", "leaf", "sensor.example", "int", "crit", "-days 365"),
    (
        "noncrit",
        "leaf",
        "sensor.example",
        "int",
        "noncrit",
        "-days 365",
    ),
    // A leaf (cA false) used as an issuer.
    (
        "under_leaf",
        "sub",
        "sensor.example",
        "leaf",
        "leaf",
        "-days 365",
    ),
    // A second intermediate below the pathlen-0 one.
    ("sub", "sub", "Mote Sub CA", "int", "sub", "-days 365"),
    (
        "under_sub",
        "leaf",
        "sensor.example",
        "sub",
        "leaf",
        "-days 365",
    ),
    // A CA whose keyUsage lacks keyCertSign.
    (
        "ca_bad_ku",
        "ca_bad_ku",
        "Mote Bad KU CA",
        "root",
        "ca_bad_ku",
        "-days 365",
    ),
    (
        "under_bad_ku",
        "leaf",
        "sensor.example",
        "ca_bad_ku",
        "leaf",
        "-days 365",
    ),
    // Ed25519: root -> leaf, and root -> intermediate -> leaf.
    (
        "ed_leaf",
        "ed_leaf",
        "sensor.example",
        "ed_root",
        "leaf",
        "-days 365",
    ),
    (
        "ed_int",
        "ed_int",
        "Mote Ed25519 Intermediate",
        "ed_root",
        "int",
        "-days 365",
    ),
    (
        "ed_under_int",
        "ed_leaf",
        "sensor.example",
        "ed_int",
        "leaf",
        "-days 365",
    ),
    // RSA-2048: PKCS #1 v1.5 and PSS, below the root and below an intermediate (where the
    // signature is verified from the kept digest).
    (
        "rsa_leaf",
        "rsa_leaf",
        "sensor.example",
        "rsa_root",
        "leaf",
        "-days 365 -sha256",
    ),
    (
        "rsa_leaf_384",
        "rsa_leaf",
        "sensor.example",
        "rsa_root",
        "leaf",
        "-days 365 -sha384",
    ),
    (
        "rsa_pss_leaf",
        "rsa_leaf",
        "sensor.example",
        "rsa_root",
        "leaf",
        "-days 365 -sha256 PSS",
    ),
    (
        "rsa_int",
        "rsa_int",
        "Mote RSA Intermediate",
        "rsa_root",
        "int",
        "-days 365 -sha256",
    ),
    (
        "rsa_under_int",
        "rsa_leaf",
        "sensor.example",
        "rsa_int",
        "leaf",
        "-days 365 -sha256",
    ),
    (
        "rsa_pss_under_int",
        "rsa_leaf",
        "sensor.example",
        "rsa_int",
        "leaf",
        "-days 365 -sha384 PSS",
    ),
];

fn make() -> Fixtures {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir: PathBuf = tmp.join(format!("mote-x509-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x509.cnf"), CONFIG).unwrap();
    let d = dir.as_path();
    let mut spki = HashMap::new();
    for &(name, opts) in KEYS {
        openssl(d, &format!("genpkey {opts} -out {name}.key"), &[]);
        openssl(
            d,
            &format!("pkey -in {name}.key -pubout -outform DER -out {name}.spki"),
            &[],
        );
        spki.insert(
            name,
            std::fs::read(dir.join(format!("{name}.spki"))).unwrap(),
        );
    }
    let mut names = Vec::new();
    for &(name, cn, section, serial) in ROOTS {
        let args = format!(
            "req -new -x509 -config x509.cnf -extensions {section} -key {name}.key -days 3650 \
             -set_serial {serial} -out {name}.pem -subj"
        );
        openssl(d, &args, &[&format!("/CN={cn}")]);
        names.push(name);
    }
    for &(name, key, cn, issuer, section, extra) in ISSUED {
        let csr = format!("req -new -config x509.cnf -key {key}.key -out {name}.csr -subj");
        openssl(d, &csr, &[&format!("/CN={cn}")]);
        let extra = extra.replace("PSS", PSS);
        let args = format!(
            "x509 -req -in {name}.csr -CA {issuer}.pem -CAkey {issuer}.key -set_serial 4660 \
             -extfile x509.cnf -extensions {section} -out {name}.pem {extra}"
        );
        openssl(d, &args, &[]);
        names.push(name);
    }
    let mut der = HashMap::new();
    for name in names {
        openssl(
            d,
            &format!("x509 -in {name}.pem -outform DER -out {name}.der"),
            &[],
        );
        der.insert(
            name,
            std::fs::read(dir.join(format!("{name}.der"))).unwrap(),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Fixtures { der, spki }
}

/// A copy of `der` with one byte of its signature flipped (the last byte of a certificate is
/// the last signature byte).
pub fn tampered(der: &[u8]) -> Vec<u8> {
    let mut v = der.to_vec();
    *v.last_mut().unwrap() ^= 0x01;
    v
}
