//! What the `mote send` tests share beyond `common`: the names and keys they use,
//! certificates made with `openssl`, and running `mote send` with a bounded wait.
#![allow(dead_code)]

use crate::common::pki::{ca, issue, P256, RSA2048};
use crate::common::proc::run_bounded;
use crate::common::tools::{sh, TempDir};
use std::process::{Command, Output};

pub const NAME: &str = "sensor.example";
pub const PSK_HEX: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
pub const PSK_ID: &str = "sensor-0001";

/// Certificates made with `openssl` in a temporary directory:
/// - `ca.pem`/`ca.key`: a P-256 CA; `other-ca.pem`: an unrelated CA with another name;
/// - `server.pem`/`server.key`: P-256, SAN DNS:sensor.example and IP:127.0.0.1;
/// - `rsa.pem`/`rsa.key`: RSA-2048 with the same names;
/// - `expired.pem` (key `server.key`): valid only in January 2020;
/// - `client.pem`/`client.key`: P-256, CN sensor-0001, clientAuth.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new(tag: &str) -> Pki {
        let dir = TempDir::new(&format!("send-pki-{tag}"));
        let d = &dir.0;
        let key_cert_sign = ["keyUsage=critical,keyCertSign"];
        ca(d, "ca", "/CN=mote test CA", &key_cert_sign);
        ca(d, "other-ca", "/CN=another CA", &key_cert_sign);
        let server = format!(
            "subjectAltName=DNS:{NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n\
             keyUsage=digitalSignature\n"
        );
        let client = "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n";
        for (name, key, cn, ext) in [
            ("server", P256, "server", server.as_str()),
            ("rsa", RSA2048, "server", server.as_str()),
            ("client", P256, PSK_ID, client),
        ] {
            issue(d, "ca", name, key, &format!("/CN={cn}"), ext);
        }
        // OpenSSL 3.0 (Debian 12) has no `x509 -not_after`; `openssl ca` sets both dates.
        std::fs::write(
            d.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = index.txt\n\
                 new_certs_dir = .\nserial = ca.serial\ndefault_md = sha256\npolicy = any\n\
                 unique_subject = no\nx509_extensions = leaf\n[any]\ncommonName = supplied\n\
                 [leaf]\nsubjectAltName = DNS:{NAME},IP:127.0.0.1\n\
                 extendedKeyUsage = serverAuth\nkeyUsage = digitalSignature\n"
            ),
        )
        .unwrap();
        sh(
            d,
            "touch index.txt && echo 1000 > ca.serial && openssl ca -batch -notext \
             -config ca.cnf -cert ca.pem -keyfile ca.key -in server.csr \
             -startdate 20200101000000Z -enddate 20200201000000Z -out expired.pem 2>&1",
        );
        Pki { dir }
    }

    pub fn path(&self, f: &str) -> String {
        self.dir.path(f)
    }

    /// base64(SHA-256(SubjectPublicKeyInfo)) of a certificate, as `--pin-sha256` takes it.
    pub fn spki_pin(&self, cert: &str) -> String {
        sh(
            &self.dir.0,
            &format!(
                "openssl x509 -in {cert} -pubkey -noout | openssl pkey -pubin -outform DER \
                 | openssl dgst -sha256 -binary | base64"
            ),
        )
        .trim()
        .to_string()
    }
}

/// `mote send SERVER ARGS... --readings FILE --interval 0`, with a bounded wait.
pub fn mote_send(server: &str, args: &[&str], readings: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mote"));
    cmd.arg("send")
        .arg(server)
        .args(args)
        .args(["--readings", readings, "--interval", "0"]);
    run_bounded(&mut cmd, 60)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Readings, one SenML record a line, tagged so each test finds its own in a server's log.
pub fn readings(tag: &str) -> Vec<String> {
    (1..=3)
        .map(|i| {
            format!(r#"[{{"bn":"urn:dev:mote:{tag}:","n":"temperature","u":"Cel","v":2{i}.5}}]"#)
        })
        .collect()
}
