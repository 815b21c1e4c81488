//! Loading certificates and keys from PEM files (RFC 7468).

use std::io;
use std::path::Path;

fn read_pem(path: &Path) -> io::Result<Vec<pem::Pem>> {
    let text = std::fs::read(path)?;
    pem::parse_many(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not PEM: {e}", path.display()),
        )
    })
}

/// Every `CERTIFICATE` block of a PEM file, as DER, in file order.
pub fn load_certificates(path: &Path) -> io::Result<Vec<Vec<u8>>> {
    let certs: Vec<Vec<u8>> = read_pem(path)?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.into_contents())
        .collect();
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: no CERTIFICATE block", path.display()),
        ));
    }
    Ok(certs)
}

/// A private key as found in a PEM file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateKey {
    /// `PRIVATE KEY`: PKCS#8 (RFC 5208), any algorithm.
    Pkcs8(Vec<u8>),
    /// `EC PRIVATE KEY`: SEC 1 (RFC 5915).
    Sec1(Vec<u8>),
    /// `RSA PRIVATE KEY`: PKCS #1 RSAPrivateKey (RFC 8017 appendix A.1.2).
    Pkcs1(Vec<u8>),
}

/// The first private key block of a PEM file.
pub fn load_private_key(path: &Path) -> io::Result<PrivateKey> {
    for p in read_pem(path)? {
        match p.tag() {
            "PRIVATE KEY" => return Ok(PrivateKey::Pkcs8(p.into_contents())),
            "EC PRIVATE KEY" => return Ok(PrivateKey::Sec1(p.into_contents())),
            "RSA PRIVATE KEY" => return Ok(PrivateKey::Pkcs1(p.into_contents())),
            _ => {}
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{}: no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block (encrypted keys are not supported)",
            path.display()
        ),
    ))
}
