//! Certificates made with `openssl req` and `openssl x509` in a test's directory, valid for
//! 30 days from now.

use super::openssl::run;
use std::path::{Path, PathBuf};

/// `-newkey` for an ECDSA P-256 key.
pub const P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
/// `-newkey` for an RSA-2048 key.
pub const RSA2048: &[&str] = &["-newkey", "rsa:2048"];

/// A self-signed P-256 certificate `cert` with its key `key`, for `subject` (as `/CN=...`),
/// with each of `addext` (`-addext`); their paths.
pub fn self_signed(
    dir: &Path,
    cert: &str,
    key: &str,
    subject: &str,
    addext: &[&str],
) -> (PathBuf, PathBuf) {
    let mut args = vec!["req", "-x509"];
    args.extend_from_slice(P256);
    args.extend_from_slice(&["-nodes", "-days", "30", "-subj", subject]);
    for e in addext {
        args.extend_from_slice(&["-addext", e]);
    }
    args.extend_from_slice(&["-keyout", key, "-out", cert]);
    run(dir, &args);
    (dir.join(cert), dir.join(key))
}

/// A P-256 CA `{name}.pem` with its key `{name}.key`: basicConstraints CA:TRUE (critical),
/// and each of `addext`.
pub fn ca(dir: &Path, name: &str, subject: &str, addext: &[&str]) -> PathBuf {
    let mut ext = vec!["basicConstraints=critical,CA:TRUE"];
    ext.extend_from_slice(addext);
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    self_signed(dir, &cert, &key, subject, &ext).0
}

/// `{name}.key` (made with `newkey`), its request `{name}.csr`, and `{name}.pem` for
/// `subject` issued by the CA `{ca}.pem`/`{ca}.key` with the extensions `ext` (the lines of
/// an extfile, kept as `{name}.ext`); the certificate's path.
pub fn issue(
    dir: &Path,
    ca: &str,
    name: &str,
    newkey: &[&str],
    subject: &str,
    ext: &str,
) -> PathBuf {
    let (key, csr, pem, extfile) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let mut args = vec!["req"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-nodes", "-subj", subject, "-keyout", &key, "-out", &csr]);
    run(dir, &args);
    std::fs::write(dir.join(&extfile), ext).unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            &extfile,
            "-out",
            &pem,
        ],
    );
    dir.join(pem)
}
