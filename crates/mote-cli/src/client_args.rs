//! The options `mote send` and `mote probe` share, and turning them into an engine
//! configuration.

use base64::Engine;
use clap::Args;
use mote::{ClientConfig, ClientIdentity, DtlsClientConfig, ExternalPsk};
use mote_crypto::{HashAlgorithm, Signer};
use mote_wire::{CipherSuite, MaxFragmentLength, NamedGroup, PskKeyExchangeMode};
use mote_x509::{PinnedSpki, ServerAuth, ServerName, TrustAnchor};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// HOST:PORT of the server.
    pub server: String,
    /// Trust anchors (PEM); repeat for several files.
    #[arg(long = "ca", value_name = "PEM")]
    pub ca: Vec<PathBuf>,
    /// Accept the server's key if the SHA-256 of its SubjectPublicKeyInfo is this (base64).
    #[arg(long = "pin-sha256", value_name = "B64")]
    pub pin_sha256: Option<String>,
    /// The name to send in server_name and to match the certificate against (default: the
    /// host of HOST:PORT).
    #[arg(long)]
    pub server_name: Option<String>,
    /// External PSK identity (with --psk).
    #[arg(long, requires = "psk")]
    pub psk_identity: Option<String>,
    /// External PSK as hex (with --psk-identity); the handshake then uses the PSK only.
    #[arg(long, requires = "psk_identity")]
    pub psk: Option<String>,
    /// With a PSK, skip (EC)DHE (psk_ke): cheapest, but without forward secrecy.
    #[arg(long)]
    pub psk_ke: bool,
    /// Cipher suites to offer, by IANA name, in order (default: all five TLS 1.3 suites).
    #[arg(long = "cipher", value_name = "NAME")]
    pub ciphers: Vec<String>,
    /// Groups to offer, by name (x25519, secp256r1), in order.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// Client certificate chain (PEM), for servers that ask for one.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, PKCS#8 or SEC 1; P-256 or Ed25519).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Ask the server to send records of at most N bytes (RFC 8449), so small buffers do.
    #[arg(long, value_name = "N")]
    pub record_size_limit: Option<u16>,
    /// Ask for records of at most N bytes with RFC 6066 max_fragment_length (512, 1024,
    /// 2048 or 4096), for servers such as OpenSSL that do not know record_size_limit.
    #[arg(long, value_name = "N")]
    pub max_fragment_length: Option<u16>,
    /// Append the traffic secrets to FILE (NSS key log) for Wireshark or `mote dissect`.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Send a change_cipher_spec and session ID for middleboxes (RFC 8446 appendix D.4).
    #[arg(long)]
    pub middlebox_compat: bool,
}

/// Everything a configuration borrows, owned here so it lives as long as the connection.
pub struct Owned {
    pub cas: Vec<Vec<u8>>,
    pub anchors: Vec<TrustAnchor<'static>>,
    pub psk: Option<(Vec<u8>, Vec<u8>)>,
    pub suites: Vec<CipherSuite>,
    pub groups: Vec<NamedGroup>,
    pub chain: Vec<Vec<u8>>,
    pub chain_refs: Vec<&'static [u8]>,
    pub signer: Option<Box<dyn Signer>>,
    pub host: String,
    pub pin: Option<PinnedSpki>,
    pub keylog: Option<mote_std::KeyLogFile>,
    pub modes: Vec<PskKeyExchangeMode>,
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("--psk: {s:?} is not an even number of hex digits"));
    }
    Ok((0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect())
}

/// The host part of HOST:PORT (brackets removed from an IPv6 literal).
pub fn host_of(server: &str) -> &str {
    let host = server.rsplit_once(':').map(|(h, _)| h).unwrap_or(server);
    host.trim_start_matches('[').trim_end_matches(']')
}

impl ClientArgs {
    /// Loads files and parses names; errors are messages for the user.
    pub fn load(&self) -> Result<Owned, String> {
        self.load_for(false)
    }

    /// As [`ClientArgs::load`], with `--cipher` names of DTLS 1.2 suites when `dtls`.
    pub fn load_for(&self, dtls: bool) -> Result<Owned, String> {
        let mut cas = Vec::new();
        for p in &self.ca {
            cas.extend(
                mote_std::load_certificates(p).map_err(|e| format!("--ca {}: {e}", p.display()))?,
            );
        }
        // The anchors borrow the DER; leak it, as it lives for the whole process anyway.
        let leaked: &'static [Vec<u8>] = Box::leak(cas.clone().into_boxed_slice());
        let mut anchors = Vec::new();
        for (der, p) in leaked.iter().zip(self.ca.iter().cycle()) {
            anchors.push(
                TrustAnchor::from_cert(der).map_err(|e| format!("--ca {}: {e}", p.display()))?,
            );
        }
        let pin = match &self.pin_sha256 {
            Some(b) => {
                let d = base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .map_err(|e| format!("--pin-sha256: not base64: {e}"))?;
                let sha256: [u8; 32] = d
                    .try_into()
                    .map_err(|_| "--pin-sha256: must be 32 bytes (a SHA-256)".to_string())?;
                Some(PinnedSpki { sha256 })
            }
            None => None,
        };
        let psk = match (&self.psk_identity, &self.psk) {
            (Some(id), Some(k)) => Some((id.as_bytes().to_vec(), hex(k)?)),
            _ => None,
        };
        let suites = self
            .ciphers
            .iter()
            .map(|n| {
                CipherSuite::from_name(n)
                    .filter(|s| {
                        s.is_tls13() != dtls
                            && mote_crypto::SuiteInfo::of(*s).is_some_and(|i| i.tls13 != dtls)
                    })
                    .ok_or(if dtls {
                        format!("--cipher {n}: not a DTLS 1.2 suite mote implements (e.g. TLS_PSK_WITH_AES_128_CCM_8)")
                    } else {
                        format!("--cipher {n}: not a TLS 1.3 suite name (e.g. TLS_AES_128_CCM_8_SHA256)")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let groups = self
            .groups
            .iter()
            .map(|n| {
                NamedGroup::from_name(n)
                    .ok_or(format!("--group {n}: unknown group (x25519, secp256r1)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (chain, signer) = match (&self.client_cert, &self.client_key) {
            (Some(c), Some(k)) => {
                let chain =
                    mote_std::load_certificates(c).map_err(|e| format!("--client-cert: {e}"))?;
                let signer = crate::keys::load_signer(k, "--client-key")?;
                (chain, Some(signer))
            }
            _ => (Vec::new(), None),
        };
        let chain_refs: Vec<&'static [u8]> = Box::leak(chain.clone().into_boxed_slice())
            .iter()
            .map(|v| v.as_slice())
            .collect();
        let host = self
            .server_name
            .clone()
            .unwrap_or_else(|| host_of(&self.server).to_string());
        if psk.is_none() && anchors.is_empty() && pin.is_none() {
            return Err("the server cannot be authenticated: give --ca PEM, --pin-sha256 B64, or --psk-identity with --psk".into());
        }
        let keylog = match &self.keylog {
            Some(p) => Some(
                mote_std::KeyLogFile::open(p)
                    .map_err(|e| format!("--keylog {}: {e}", p.display()))?,
            ),
            None => None,
        };
        if let Some(n) = self.max_fragment_length {
            if ![512, 1024, 2048, 4096].contains(&n) {
                return Err(format!(
                    "--max-fragment-length {n}: must be 512, 1024, 2048 or 4096 (RFC 6066)"
                ));
            }
        }
        let modes = if self.psk_ke {
            vec![PskKeyExchangeMode::PSK_KE]
        } else {
            vec![PskKeyExchangeMode::PSK_DHE_KE]
        };
        Ok(Owned {
            cas,
            anchors,
            psk,
            suites,
            groups,
            chain,
            chain_refs,
            signer,
            host,
            pin,
            keylog,
            modes,
        })
    }
}

impl Owned {
    /// How the server is authenticated: a pinned key, else the CAs (by name).
    fn server_auth(&'static self) -> Option<ServerAuth<'static>> {
        match self.pin {
            Some(pin) => Some(ServerAuth::PinnedSpki(pin)),
            None if !self.anchors.is_empty() => Some(ServerAuth::Chain {
                anchors: &self.anchors,
                name: ServerName::parse(&self.host),
            }),
            None => None,
        }
    }

    fn external_psk(&'static self) -> Option<ExternalPsk<'static>> {
        self.psk.as_ref().map(|(id, key)| ExternalPsk {
            identity: id,
            key,
            hash: HashAlgorithm::Sha256,
        })
    }

    /// The engine configuration, borrowing from `self`.
    pub fn config(&'static self, args: &ClientArgs) -> ClientConfig<'static> {
        let mut cfg = ClientConfig::new();
        if !self.suites.is_empty() {
            cfg.cipher_suites = &self.suites;
        }
        if !self.groups.is_empty() {
            cfg.groups = &self.groups;
        }
        cfg.server_name = Some(&self.host);
        cfg.server_auth = self.server_auth();
        cfg.psk = self.external_psk();
        if cfg.psk.is_some() {
            cfg.psk_only = true;
            cfg.psk_modes = &self.modes;
        }
        if let Some(s) = &self.signer {
            cfg.client_identity = Some(ClientIdentity {
                chain: &self.chain_refs,
                signer: s.as_ref(),
            });
        }
        cfg.record_size_limit = args.record_size_limit;
        cfg.max_fragment_length = args.max_fragment_length.and_then(|n| match n {
            512 => Some(MaxFragmentLength::L512),
            1024 => Some(MaxFragmentLength::L1024),
            2048 => Some(MaxFragmentLength::L2048),
            4096 => Some(MaxFragmentLength::L4096),
            _ => None,
        });
        cfg.middlebox_compat = args.middlebox_compat;
        cfg.key_log = self.keylog.as_ref().map(|k| k as &dyn mote::KeyLog);
        cfg
    }

    /// The DTLS 1.2 configuration, borrowing from `self`; `mtu` and `cid` (the connection
    /// ID to ask for) come from `mote send`.
    pub fn dtls_config(
        &'static self,
        mtu: u16,
        cid: Option<&'static [u8]>,
    ) -> DtlsClientConfig<'static> {
        let mut cfg = DtlsClientConfig::new();
        if !self.suites.is_empty() {
            cfg.cipher_suites = &self.suites;
        }
        if !self.groups.is_empty() {
            cfg.groups = &self.groups;
        }
        cfg.server_name = Some(&self.host);
        cfg.server_auth = self.server_auth();
        cfg.psk = self.external_psk();
        cfg.mtu = mtu;
        cfg.connection_id = cid;
        cfg.key_log = self.keylog.as_ref().map(|k| k as &dyn mote::KeyLog);
        cfg
    }
}
