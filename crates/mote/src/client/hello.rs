//! Building the ClientHello (RFC 8446 section 4.1.2) from the configuration, with PSK
//! binders computed over the truncated message (section 4.2.11.2).

use crate::config::ClientConfig;
use crate::error::{ApiMisuse, Error};
use mote_wire::extensions::{
    Extension, ExtensionBody, KeyShareEntry, OfferedPsks, ProtocolName, PskBinder, PskIdentity,
    ServerName,
};
use mote_wire::handshake::{emit_handshake_tls, ClientHello, HandshakeMessage};
use mote_wire::{
    CipherSuite, CompressionMethod, ExtensionType, HandshakeType, List, NamedGroup,
    ProtocolVersion, PskKeyExchangeMode, Writer,
};

/// The most extensions a ClientHello of ours carries (including configured extras).
const MAX_EXTENSIONS: usize = 20;
/// The most ALPN names offered.
const MAX_ALPN: usize = 4;

/// A PSK offered in pre_shared_key.
pub struct PskOffer<'a> {
    pub identity: &'a [u8],
    pub obfuscated_ticket_age: u32,
    /// The binder's length: the PSK hash's output length.
    pub binder_len: usize,
}

/// What varies between the first and second ClientHello.
pub struct HelloParams<'a> {
    pub random: &'a [u8; 32],
    pub session_id: &'a [u8],
    pub key_share: Option<(NamedGroup, &'a [u8])>,
    pub cookie: Option<&'a [u8]>,
    pub psk: Option<PskOffer<'a>>,
    /// Only suites usable with the offered PSK's hash, when a PSK-only handshake is wanted.
    pub suites: &'a [CipherSuite],
    /// Offer 0-RTT data (RFC 8446 section 4.2.10).
    pub early_data: bool,
}

/// Writes the ClientHello handshake message (header included) into `out` and returns its
/// length and, when a PSK is offered, the offset where the binders list (with its 2-byte
/// length) starts, so the caller can fill in the binder after hashing what precedes it.
pub fn write_client_hello(
    cfg: &ClientConfig<'_>,
    params: &HelloParams<'_>,
    out: &mut [u8],
) -> Result<(usize, Option<usize>), Error> {
    let (len, binders) = write_hello(cfg, params, out, 0)?;
    if cfg.pad_client_hello && (256..512).contains(&len) {
        // The padding extension's header takes 4 of the missing bytes; at least one byte of
        // body keeps the extension well-formed.
        let body = (512 - len).saturating_sub(4).max(1);
        return write_hello(cfg, params, out, body);
    }
    Ok((len, binders))
}

fn write_hello(
    cfg: &ClientConfig<'_>,
    params: &HelloParams<'_>,
    out: &mut [u8],
    padding: usize,
) -> Result<(usize, Option<usize>), Error> {
    let zeros = [0u8; 256];
    let versions = [ProtocolVersion::TLS13];
    let share;
    let shares: &[KeyShareEntry<'_>] = match params.key_share {
        Some((group, key_exchange)) => {
            share = [KeyShareEntry {
                group,
                key_exchange,
            }];
            &share
        }
        None => &[],
    };
    let sni;
    let names;
    let zero_binder = [0u8; 48];
    let identity;
    let binder;
    let mut alpn = [ProtocolName(&[]); MAX_ALPN];
    let n_alpn = cfg.alpn.len().min(MAX_ALPN);
    for (slot, name) in alpn.iter_mut().zip(cfg.alpn) {
        *slot = ProtocolName(name);
    }

    let mut list = [Extension {
        typ: ExtensionType(0),
        body: ExtensionBody::Empty,
    }; MAX_EXTENSIONS];
    let mut count = 0;
    macro_rules! push {
        ($e:expr) => {{
            if count < MAX_EXTENSIONS {
                list[count] = $e;
                count += 1;
            }
        }};
    }
    if let Some(name) = cfg.server_name {
        // RFC 6066 section 3: literal IP addresses are not sent in server_name.
        if !is_ip_literal(name) {
            sni = [ServerName::host_name(name.as_bytes())];
            names = sni;
            push!(Extension {
                typ: ExtensionType::SERVER_NAME,
                body: ExtensionBody::ServerNameList(List::Items(&names)),
            });
        }
    }
    if params.key_share.is_some() || !cfg.psk_only {
        push!(Extension {
            typ: ExtensionType::SUPPORTED_GROUPS,
            body: ExtensionBody::NamedGroupList(List::Items(cfg.groups)),
        });
    }
    if !cfg.psk_only {
        push!(Extension {
            typ: ExtensionType::SIGNATURE_ALGORITHMS,
            body: ExtensionBody::SignatureSchemeList(List::Items(cfg.signature_schemes)),
        });
    }
    push!(Extension {
        typ: ExtensionType::SUPPORTED_VERSIONS,
        body: ExtensionBody::SupportedVersionsClientHello(List::Items(&versions)),
    });
    if params.key_share.is_some() {
        push!(Extension {
            typ: ExtensionType::KEY_SHARE,
            body: ExtensionBody::KeyShareClientHello(List::Items(shares)),
        });
    }
    if let Some(limit) = cfg.record_size_limit {
        push!(Extension {
            typ: ExtensionType::RECORD_SIZE_LIMIT,
            body: ExtensionBody::RecordSizeLimit(limit),
        });
    }
    if let Some(mfl) = cfg.max_fragment_length {
        push!(Extension {
            typ: ExtensionType::MAX_FRAGMENT_LENGTH,
            body: ExtensionBody::MaxFragmentLength(mfl),
        });
    }
    if n_alpn > 0 {
        push!(Extension {
            typ: ExtensionType::ALPN,
            body: ExtensionBody::ProtocolNameList(List::Items(&alpn[..n_alpn])),
        });
    }
    #[cfg(feature = "x509")]
    let raw_key = [mote_wire::CertificateType::RAW_PUBLIC_KEY];
    #[cfg(feature = "x509")]
    if cfg.server_auth.map(|a| a.certificate_type())
        == Some(mote_wire::CertificateType::RAW_PUBLIC_KEY)
    {
        // RFC 7250 section 4.1: offer only raw public keys when that is all we accept.
        push!(Extension {
            typ: ExtensionType::SERVER_CERTIFICATE_TYPE,
            body: ExtensionBody::CertificateTypeList(List::Items(&raw_key)),
        });
    }
    if let Some(c) = params.cookie {
        push!(Extension {
            typ: ExtensionType::COOKIE,
            body: ExtensionBody::Cookie(c),
        });
    }
    if params.early_data {
        push!(Extension {
            typ: ExtensionType::EARLY_DATA,
            body: ExtensionBody::Empty,
        });
    }
    if padding > 0 {
        push!(Extension {
            typ: ExtensionType::PADDING,
            body: ExtensionBody::Padding(&zeros[..padding.min(zeros.len())]),
        });
    }
    for &(typ, body) in cfg.extra_extensions {
        push!(Extension {
            typ,
            body: ExtensionBody::Unknown(body),
        });
    }
    let modes: &[PskKeyExchangeMode] = cfg.psk_modes;
    // psk_key_exchange_modes also says "I can resume": without it a server must not send
    // tickets (RFC 8446 section 4.2.9), so it goes out whenever tickets are kept.
    if params.psk.is_some() || cfg.ticket_store.is_some() {
        push!(Extension {
            typ: ExtensionType::PSK_KEY_EXCHANGE_MODES,
            body: ExtensionBody::PskKeyExchangeModes(List::Items(modes)),
        });
    }
    if let Some(psk) = &params.psk {
        identity = [PskIdentity {
            identity: psk.identity,
            obfuscated_ticket_age: psk.obfuscated_ticket_age,
        }];
        binder = [PskBinder(&zero_binder[..psk.binder_len.min(48)])];
        // pre_shared_key must be the last extension (RFC 8446 section 4.2.11).
        push!(Extension {
            typ: ExtensionType::PRE_SHARED_KEY,
            body: ExtensionBody::PreSharedKeyClientHello(OfferedPsks {
                identities: List::Items(&identity),
                binders: List::Items(&binder),
            }),
        });
    }
    // A configured order (to match another stack's hello, or a trace), stable for what it
    // does not name; pre_shared_key stays last whatever the order says (RFC 8446 4.2.11).
    if !cfg.extension_order.is_empty() {
        let rank = |t: ExtensionType| {
            if t == ExtensionType::PRE_SHARED_KEY {
                usize::MAX
            } else {
                cfg.extension_order
                    .iter()
                    .position(|&o| o == t)
                    .unwrap_or(cfg.extension_order.len())
            }
        };
        // Insertion sort: stable, no allocation, and n is at most MAX_EXTENSIONS.
        for i in 1..count {
            let mut j = i;
            while j > 0 && rank(list[j - 1].typ) > rank(list[j].typ) {
                list.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    let compression = [CompressionMethod::NULL];
    let ch = ClientHello {
        legacy_version: ProtocolVersion::TLS12,
        random: *params.random,
        legacy_session_id: params.session_id,
        cookie: None,
        cipher_suites: List::Items(params.suites),
        legacy_compression_methods: List::Items(&compression),
        extensions: Some(List::Items(&list[..count])),
    };
    let mut w = Writer::new(out);
    emit_handshake_tls(
        HandshakeType::CLIENT_HELLO,
        &HandshakeMessage::ClientHello(ch),
        &mut w,
    )
    .map_err(|_| {
        Error::Api(ApiMisuse::BufferTooSmall {
            needed: 512,
            available: out_len_hint(&w),
        })
    })?;
    let len = w.len();
    let binders_at = params.psk.as_ref().map(|p| len - (2 + 1 + p.binder_len));
    Ok((len, binders_at))
}

fn out_len_hint(w: &Writer<'_>) -> usize {
    w.len() + w.remaining()
}

/// Whether `name` is an IPv4 or IPv6 literal rather than a host name. Cheaper than a full
/// address parser (which costs about a kilobyte of flash): a host name has a letter in its
/// last label (RFC 1123 section 2.1 forbids an all-numeric top-level domain) and never a ':'.
fn is_ip_literal(name: &str) -> bool {
    name.contains(':') || name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}
