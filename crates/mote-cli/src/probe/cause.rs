//! From a refused ClientHello to its most likely cause: the decode errors mote found in the
//! bytes sent first, then what the alert usually means given what the hello offered.

use crate::dissect::model::Report;
use mote_wire::extensions::ExtensionBody;
use mote_wire::handshake::{parse_handshake, ClientHello, HandshakeMessage};
use mote_wire::{AlertDescription, Context, ExtensionType, NamedGroup, PskKeyExchangeMode, Reader};
use mote_x509::{Certificate, GeneralName};

/// The first alert in the server's answer, if it is a plaintext alert record.
fn first_alert(answer: &[u8]) -> Option<AlertDescription> {
    match answer {
        [21, 3, _, 0, 2, _, d, ..] => Some(AlertDescription(*d)),
        _ => None,
    }
}

/// Whether the server refused (answered with an alert).
pub fn refused(answer: &[u8]) -> bool {
    first_alert(answer).is_some()
}

/// The ClientHello inside the first record (or the bytes themselves when they have no
/// record header).
fn client_hello(sent: &[u8]) -> Option<ClientHello<'_>> {
    let body = match sent {
        [22, 3, _, hi, lo, rest @ ..] => rest.get(..usize::from(u16::from_be_bytes([*hi, *lo])))?,
        other => other,
    };
    match parse_handshake(&mut Reader::new(body), &Context::TLS12)
        .ok()?
        .1
    {
        HandshakeMessage::ClientHello(ch) => Some(ch),
        _ => None,
    }
}

/// A paragraph for the person who built the hello.
pub fn explain(sent: &[u8], answer: &[u8], before: &Report) -> String {
    let mut out = Vec::new();
    let diags: Vec<_> = before
        .flows
        .iter()
        .flat_map(|f| {
            f.records
                .iter()
                .flat_map(|r| r.diagnostics.iter())
                .chain(f.diagnostics.iter())
        })
        .collect();
    let Some(alert) = first_alert(answer) else {
        if answer.is_empty() {
            out.push("The server closed the connection (or stayed silent) without an alert. Servers do this when what arrived is not TLS at all, or when they gave up before they could parse it.".to_string());
            if let Some(d) = diags.first() {
                out.push(format!(
                    "mote finds this in the bytes sent, the most likely cause: {d}"
                ));
            }
        } else {
            out.push(
                "The server answered with a handshake, not an alert: see its ServerHello above."
                    .to_string(),
            );
            if !diags.is_empty() {
                out.push(format!("mote still finds {} problem(s) in the bytes sent; a stricter server would refuse them.", diags.len()));
            }
        }
        return out.join("\n");
    };
    out.push(format!(
        "The server refused with the alert {alert} ({}): {}.",
        alert.0,
        alert.meaning()
    ));
    if !diags.is_empty() {
        out.push(format!(
            "mote finds {} problem(s) in the bytes that were sent:",
            diags.len()
        ));
        for d in &diags {
            out.push(format!("  {d}"));
        }
        if let Some(d) = diags.iter().find(|d| d.alert == alert.to_string()) {
            out.push(format!(
                "Most likely cause: {} {} — a server answers exactly this with {alert}.",
                d.path, d.message
            ));
        } else {
            out.push("Most likely cause: the first of these; fix it and probe again.".to_string());
        }
        return out.join("\n");
    }
    let Some(ch) = client_hello(sent) else {
        out.push("mote could not find a ClientHello in the bytes sent.".into());
        return out.join("\n");
    };
    out.push(format!(
        "mote finds no malformed field in the ClientHello, so the cause is in what it offers: {}",
        offer_hint(&ch, alert)
    ));
    out.join("\n")
}

fn offer_hint(ch: &ClientHello<'_>, alert: AlertDescription) -> String {
    let exts = ch.extensions;
    let has = |t: ExtensionType| exts.is_some_and(|e| e.find(t).is_some());
    let suites: Vec<String> = ch.cipher_suites.iter().map(|s| s.to_string()).collect();
    let groups: Vec<NamedGroup> = match exts
        .and_then(|e| e.find(ExtensionType::SUPPORTED_GROUPS))
        .map(|e| e.body)
    {
        Some(ExtensionBody::NamedGroupList(l)) => l.iter().collect(),
        _ => Vec::new(),
    };
    let shares: Vec<(NamedGroup, usize)> = match exts
        .and_then(|e| e.find(ExtensionType::KEY_SHARE))
        .map(|e| e.body)
    {
        Some(ExtensionBody::KeyShareClientHello(l)) => {
            l.iter().map(|k| (k.group, k.key_exchange.len())).collect()
        }
        _ => Vec::new(),
    };
    let psk_modes: Vec<PskKeyExchangeMode> = match exts
        .and_then(|e| e.find(ExtensionType::PSK_KEY_EXCHANGE_MODES))
        .map(|e| e.body)
    {
        Some(ExtensionBody::PskKeyExchangeModes(l)) => l.iter().collect(),
        _ => Vec::new(),
    };
    match alert {
        AlertDescription::PROTOCOL_VERSION => {
            if has(ExtensionType::SUPPORTED_VERSIONS) {
                "the versions in supported_versions are not ones the server accepts.".into()
            } else {
                format!("there is no supported_versions extension, so the hello offers only {} (legacy_version); TLS 1.3 needs supported_versions with 0x0304 (RFC 8446 section 4.2.1).", ch.legacy_version)
            }
        }
        AlertDescription::MISSING_EXTENSION => {
            let mut missing = Vec::new();
            if !has(ExtensionType::SUPPORTED_VERSIONS) {
                missing.push("supported_versions");
            }
            let psk = has(ExtensionType::PRE_SHARED_KEY);
            if !psk && !has(ExtensionType::SIGNATURE_ALGORITHMS) {
                missing.push("signature_algorithms");
            }
            if !psk_modes.contains(&PskKeyExchangeMode::PSK_KE) || !psk {
                if !has(ExtensionType::SUPPORTED_GROUPS) {
                    missing.push("supported_groups");
                }
                if !has(ExtensionType::KEY_SHARE) {
                    missing.push("key_share");
                }
            }
            if psk && !has(ExtensionType::PSK_KEY_EXCHANGE_MODES) {
                missing.push("psk_key_exchange_modes");
            }
            if missing.is_empty() {
                "every extension RFC 8446 section 9.2 requires is present; the server may require others (server_name?).".into()
            } else {
                format!("RFC 8446 section 9.2 requires {} here, and the hello lacks it.", missing.join(", "))
            }
        }
        AlertDescription::HANDSHAKE_FAILURE | AlertDescription::INSUFFICIENT_SECURITY => format!(
            "nothing it offers is acceptable to the server. It offers the cipher suites {} and the groups {:?}. Offer a suite and a group the server has (for TLS 1.3 at least TLS_AES_128_GCM_SHA256 and x25519 or secp256r1).",
            suites.join(", "),
            groups.iter().map(|g| g.to_string()).collect::<Vec<_>>()
        ),
        AlertDescription::ILLEGAL_PARAMETER => {
            if let Some((g, _)) = shares.iter().find(|(g, _)| !groups.contains(g)) {
                return format!("key_share holds a {g} share, but {g} is not in supported_groups (RFC 8446 section 4.2.8).");
            }
            if let Some((g, n)) = shares.iter().find(|(g, n)| (*g == NamedGroup::X25519 && *n != 32) || (*g == NamedGroup::SECP256R1 && *n != 65)) {
                return format!("the {g} key share is {n} bytes; it must be {} (RFC 8446 section 4.2.8.2).", if *g == NamedGroup::X25519 { 32 } else { 65 });
            }
            if ch.legacy_compression_methods.iter().any(|m| m.0 != 0) {
                return "legacy_compression_methods must be exactly [0] in TLS 1.3 (RFC 8446 section 4.1.2).".into();
            }
            "a value is out of range or inconsistent: check that each key share is a valid point, and that extensions appear only once.".into()
        }
        AlertDescription::DECODE_ERROR => "mote reads every length as consistent, yet the server could not decode it: check the record header (type 22, version 0x0301 or 0x0303) and that the server speaks TLS on this port.".into(),
        AlertDescription::UNRECOGNIZED_NAME => "the server does not know the name in server_name.".into(),
        AlertDescription::DECRYPT_ERROR | AlertDescription::UNKNOWN_PSK_IDENTITY if has(ExtensionType::PRE_SHARED_KEY) => {
            "the PSK binder does not verify, or the identity is unknown: check the PSK, its identity, and that the binder covers the hello up to the binders list (RFC 8446 section 4.2.11.2).".into()
        }
        _ => format!("{}.", alert.meaning()),
    }
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date(t: i64) -> String {
    let (y, m, d) = civil(t.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn name(n: mote_x509::Name<'_>) -> String {
    let parts: Vec<String> = n
        .attributes()
        .map(|a| {
            let key = match a.oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x07] => "L",
                [0x55, 0x04, 0x08] => "ST",
                _ => "?",
            };
            format!("{key}={}", String::from_utf8_lossy(a.value))
        })
        .collect();
    parts.join(", ")
}

/// One certificate of the server's chain, for a person.
pub fn describe_certificate(i: usize, der: &[u8]) -> String {
    let c = match Certificate::parse(der) {
        Ok(c) => c,
        Err(e) => {
            return format!(
                "certificate[{i}]: {} bytes that do not parse: {e}",
                der.len()
            )
        }
    };
    let mut s = format!(
        "certificate[{i}]: subject {}\n  issuer {}\n  valid {} to {}\n  signed with {}",
        name(c.subject()),
        name(c.issuer()),
        date(c.not_before()),
        date(c.not_after()),
        c.signature_scheme()
    );
    if let Some(sans) = c.subject_alt_names() {
        let names: Vec<String> = sans
            .iter()
            .map(|n| match n {
                GeneralName::Dns(d) => format!("DNS:{d}"),
                GeneralName::Ip(b) => match b.len() {
                    4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                    16 => format!(
                        "IP:{}",
                        std::net::Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap_or([0; 16]))
                    ),
                    _ => "IP:?".into(),
                },
                GeneralName::Uri(u) => format!("URI:{u}"),
                GeneralName::Other { tag } => format!("other[0x{tag:02x}]"),
            })
            .collect();
        s.push_str(&format!("\n  subjectAltName {}", names.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_764_288_000), "2025-11-28");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
