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
        self.der.get(name).unwrap_or_else(|| panic!("no fixture {name}"))
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
            .keys()
            .filter(|k| !k.starts_with("rsa"))
            .map(|k| self.parsed(k).not_before())
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

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `openssl` ({e}): install the Debian package `openssl`")
        });
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn key(dir: &Path, name: &str, kind: &str) {
    let file = format!("{name}.key");
    match kind {
        "p256" => openssl(dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &file]),
        "ed25519" => openssl(dir, &["genpkey", "-algorithm", "ED25519", "-out", &file]),
        "rsa" => openssl(dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &file]),
        _ => unreachable!(),
    }
    openssl(dir, &["pkey", "-in", &file, "-pubout", "-outform", "DER", "-out", &format!("{name}.spki")]);
}

/// A self-signed certificate `name` for key `name`.
fn self_signed(dir: &Path, name: &str, cn: &str, section: &str, serial: &str) {
    openssl(dir, &[
        "req", "-new", "-x509", "-config", "x509.cnf", "-extensions", section, "-key",
        &format!("{name}.key"), "-subj", &format!("/CN={cn}"), "-days", "3650", "-set_serial",
        serial, "-out", &format!("{name}.pem"),
    ]);
}

/// Certificate `name` for key `key`, issued by certificate/key `issuer`.
fn issued(dir: &Path, name: &str, key: &str, cn: &str, issuer: &str, section: &str, days: &str, extra: &[&str]) {
    let csr = format!("{name}.csr");
    openssl(dir, &["req", "-new", "-config", "x509.cnf", "-key", &format!("{key}.key"), "-subj", &format!("/CN={cn}"), "-out", &csr]);
    let (ca, ca_key, out) = (format!("{issuer}.pem"), format!("{issuer}.key"), format!("{name}.pem"));
    let mut args = vec![
        "x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-set_serial", "4660",
        "-days", days, "-extfile", "x509.cnf", "-extensions", section, "-out", &out,
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args);
}

fn make() -> Fixtures {
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mote-x509-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x509.cnf"), CONFIG).unwrap();
    let d = dir.as_path();

    for k in ["root", "int", "leaf", "sub", "other", "fake_root", "self", "ca_bad_ku"] {
        key(d, k, "p256");
    }
    for k in ["ed_root", "ed_int", "ed_leaf"] {
        key(d, k, "ed25519");
    }
    for k in ["rsa_root", "rsa_leaf"] {
        key(d, k, "rsa");
    }

    // P-256: root -> intermediate (pathlen 0) -> leaves.
    self_signed(d, "root", "Mote Test Root", "root", "1");
    self_signed(d, "other", "Mote Other Root", "root", "2");
    // Same name as the root, another key: the anchor is found by name but does not verify.
    self_signed(d, "fake_root", "Mote Test Root", "root", "3");
    self_signed(d, "self", "device.example", "self", "4");
    issued(d, "int", "int", "Mote Test Intermediate", "root", "int", "1095", &[]);
    issued(d, "leaf", "leaf", "sensor.example", "int", "leaf", "365", &[]);
    issued(d, "leaf_long", "leaf", "sensor.example", "int", "leaf", "3000", &[]);
    issued(d, "wild", "leaf", "wildcard", "int", "wild", "365", &[]);
    issued(d, "client_only", "leaf", "client", "int", "client_only", "365", &[]);
    issued(d, "ku_bad", "leaf", "sensor.example", "int", "ku_bad", "365", &[]);
    issued(d, "no_san", "leaf", "sensor.example", "int", "no_san", "365", &[]);
    issued(d, "crit", "leaf", "sensor.example", "int", "crit", "365", &[]);
    issued(d, "noncrit", "leaf", "sensor.example", "int", "noncrit", "365", &[]);
    // A leaf (cA false) used as an issuer.
    issued(d, "under_leaf", "sub", "sensor.example", "leaf", "leaf", "365", &[]);
    // A second intermediate below the pathlen-0 one.
    issued(d, "sub", "sub", "Mote Sub CA", "int", "sub", "365", &[]);
    issued(d, "under_sub", "leaf", "sensor.example", "sub", "leaf", "365", &[]);
    // A CA whose keyUsage lacks keyCertSign.
    issued(d, "ca_bad_ku", "ca_bad_ku", "Mote Bad KU CA", "root", "ca_bad_ku", "365", &[]);
    issued(d, "under_bad_ku", "leaf", "sensor.example", "ca_bad_ku", "leaf", "365", &[]);

    // Ed25519: root -> leaf, and root -> intermediate -> leaf.
    self_signed(d, "ed_root", "Mote Ed25519 Root", "root", "5");
    issued(d, "ed_leaf", "ed_leaf", "sensor.example", "ed_root", "leaf", "365", &[]);
    issued(d, "ed_int", "ed_int", "Mote Ed25519 Intermediate", "ed_root", "int", "365", &[]);
    issued(d, "ed_under_int", "ed_leaf", "sensor.example", "ed_int", "leaf", "365", &[]);

    // RSA-2048: PKCS #1 v1.5 and PSS leaves.
    self_signed(d, "rsa_root", "Mote RSA Root", "root", "6");
    issued(d, "rsa_leaf", "rsa_leaf", "sensor.example", "rsa_root", "leaf", "365", &["-sha256"]);
    issued(d, "rsa_pss_leaf", "rsa_leaf", "sensor.example", "rsa_root", "leaf", "365", &[
        "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
    ]);
    issued(d, "rsa_leaf_384", "rsa_leaf", "sensor.example", "rsa_root", "leaf", "365", &["-sha384"]);

    let names = [
        "root", "other", "fake_root", "self", "int", "leaf", "leaf_long", "wild", "client_only",
        "ku_bad", "no_san", "crit", "noncrit", "under_leaf", "sub", "under_sub", "ca_bad_ku",
        "under_bad_ku", "ed_root", "ed_leaf", "ed_int", "ed_under_int", "rsa_root", "rsa_leaf",
        "rsa_pss_leaf", "rsa_leaf_384",
    ];
    let mut der = HashMap::new();
    for n in names {
        let file = format!("{n}.der");
        openssl(d, &["x509", "-in", &format!("{n}.pem"), "-outform", "DER", "-out", &file]);
        der.insert(n, std::fs::read(dir.join(file)).unwrap());
    }
    let mut spki = HashMap::new();
    for k in [
        "root", "int", "leaf", "sub", "other", "fake_root", "self", "ca_bad_ku", "ed_root",
        "ed_int", "ed_leaf", "rsa_root", "rsa_leaf",
    ] {
        spki.insert(k, std::fs::read(dir.join(format!("{k}.spki"))).unwrap());
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
