//! What the collector authenticates with and how it tells devices apart: PSKs (the
//! identity is the device ID), a server certificate, client certificates (the device ID is
//! in the certificate), and the rotating keys for session tickets and HelloRetryRequest
//! cookies.

use super::ServeArgs;
use mote::{ClientAuth, ExternalPsk, ServerConfig, ServerIdentity, TicketKey};
use mote_crypto::{HashAlgorithm, Rng, Signer};
use mote_std::OsRng;
use mote_x509::{Certificate, GeneralName, TrustAnchor};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a session ticket is accepted. Ticket keys rotate every `TICKET_LIFETIME` and
/// the previous key is kept for as long, so every ticket opens for its whole lifetime.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(3600);

/// The engine configuration every connection starts from (leaked: it lives as long as
/// the process), and the device each PSK belongs to.
pub struct Credentials {
    pub base: &'static ServerConfig<'static>,
    /// Device ID of each of `base.psks`, by index.
    pub psk_devices: Vec<String>,
    /// Bytes of the certificate chain, to size transmit buffers.
    pub chain_len: usize,
}

pub fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{s:?} is not an even number of hex digits"));
    }
    Ok((0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect())
}

/// A device ID as it appears in urn:dev:mote:ID: names.
pub fn valid_device(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

/// `IDENTITY HEX` lines (`#` starts a comment); each identity is a device ID.
pub fn load_psk_file(p: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let at = |n: usize| format!("--psk-file {} line {n}", p.display());
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("--psk-file {}: {e}", p.display()))?;
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let (id, k) = l
            .split_once(char::is_whitespace)
            .ok_or(format!("{}: expected `IDENTITY HEX`", at(i + 1)))?;
        let key = hex(k).map_err(|e| format!("{}: {e}", at(i + 1)))?;
        if out.iter().any(|(o, _)| o == id) {
            return Err(format!("{}: identity {id:?} given twice", at(i + 1)));
        }
        out.push((id.to_string(), key));
    }
    if out.is_empty() {
        return Err(format!(
            "--psk-file {}: no `IDENTITY HEX` line",
            p.display()
        ));
    }
    Ok(out)
}

fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

/// Builds the configuration from the command line.
pub fn configure(args: &ServeArgs) -> Result<Credentials, String> {
    let psks = match (&args.psk_identity, &args.psk, &args.psk_file) {
        (Some(id), Some(k), _) => vec![(id.clone(), hex(k).map_err(|e| format!("--psk: {e}"))?)],
        (_, _, Some(f)) => load_psk_file(f)?,
        _ => Vec::new(),
    };
    let mut cfg = ServerConfig::new();
    let mut chain_len = 0;
    if let (Some(c), Some(k)) = (&args.cert, &args.key) {
        let chain = mote_std::load_certificates(c).map_err(|e| format!("--cert: {e}"))?;
        chain_len = chain.iter().map(|c| c.len() + 3).sum();
        let chain = leak(chain);
        let signer: &'static dyn Signer = Box::leak(crate::keys::load_signer(k, "--key")?);
        cfg.identity = Some(ServerIdentity {
            chain: leak(chain.iter().map(|c| c.as_slice()).collect()),
            signer,
        });
    }
    if let Some(p) = &args.client_ca {
        if cfg.identity.is_none() {
            return Err("--client-ca needs --cert and --key (client certificates are asked for in certificate handshakes)".into());
        }
        let cas = leak(mote_std::load_certificates(p).map_err(|e| format!("--client-ca: {e}"))?);
        let anchors = cas
            .iter()
            .map(|d| TrustAnchor::from_cert(d).map_err(|e| format!("--client-ca: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        cfg.client_auth = ClientAuth::Required(leak(anchors));
    }
    let mut psk_devices = Vec::new();
    let mut entries = Vec::new();
    for (id, key) in psks {
        if !valid_device(&id) {
            return Err(format!(
                "PSK identity {id:?}: a device ID is 1 to 64 letters, digits, '-', '.' and '_'"
            ));
        }
        entries.push(ExternalPsk {
            identity: leak(id.clone().into_bytes()),
            key: leak(key),
            hash: HashAlgorithm::Sha256,
        });
        psk_devices.push(id);
    }
    cfg.psks = leak(entries);
    if psk_devices.is_empty() && args.client_ca.is_none() {
        return Err(
            "no way to identify devices: give --psk-identity and --psk, --psk-file, or --cert, --key and --client-ca"
                .into(),
        );
    }
    cfg.ticket_lifetime = TICKET_LIFETIME.as_secs() as u32;
    cfg.cookie_key = Some(random_key()?);
    Ok(Credentials {
        base: Box::leak(Box::new(cfg)),
        psk_devices,
        chain_len,
    })
}

/// A fresh AES-128 key with a random id.
pub fn random_key() -> Result<TicketKey, String> {
    let mut k = TicketKey {
        id: [0; 4],
        key: [0; 16],
    };
    OsRng
        .fill(&mut k.id)
        .and_then(|_| OsRng.fill(&mut k.key))
        .map_err(|_| "the OS random number generator failed".to_string())?;
    Ok(k)
}

/// The ticket keys: the newest seals, both open; rotated every [`TICKET_LIFETIME`]. They
/// live in memory only, so tickets do not outlive the process (a restarted collector
/// makes devices do a full handshake, which they fall back to by themselves).
pub struct TicketKeys {
    keys: [TicketKey; 2],
    rotated: Instant,
}

impl TicketKeys {
    pub fn new() -> Result<TicketKeys, String> {
        Ok(TicketKeys {
            keys: [random_key()?, random_key()?],
            rotated: Instant::now(),
        })
    }

    /// The keys to use now, rotating first when due.
    pub fn current(&mut self) -> [TicketKey; 2] {
        if self.rotated.elapsed() >= TICKET_LIFETIME {
            if let Ok(k) = random_key() {
                self.keys = [k, self.keys[0]];
                self.rotated = Instant::now();
            }
        }
        self.keys
    }
}

/// The device ID a client certificate names: a URI subjectAltName `urn:dev:mote:ID` (with
/// or without a trailing `:`), else the subject's commonName. The certificate chain was
/// validated by the engine; this only reads names.
pub fn device_of_certificate(der: &[u8]) -> Result<String, String> {
    let cert = Certificate::parse(der).map_err(|e| format!("certificate: {e}"))?;
    if let Some(sans) = cert.subject_alt_names() {
        for n in sans.iter() {
            if let GeneralName::Uri(u) = n {
                if let Some(id) = u.strip_prefix("urn:dev:mote:") {
                    let id = id.trim_end_matches(':');
                    return if valid_device(id) {
                        Ok(id.to_string())
                    } else {
                        Err(format!(
                            "URI name urn:dev:mote:{id} is not a valid device ID"
                        ))
                    };
                }
            }
        }
    }
    let cn = cert
        .subject()
        .common_name()
        .ok_or("no urn:dev:mote: URI and no commonName to name the device")?;
    match std::str::from_utf8(cn) {
        Ok(id) if valid_device(id) => Ok(id.to_string()),
        _ => Err(format!(
            "commonName {:?} is not a valid device ID",
            String::from_utf8_lossy(cn)
        )),
    }
}
