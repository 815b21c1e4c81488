//! `mote dissect` end to end: the binary on the shipped samples, the Illustrated TLS/DTLS
//! captures, and hand-broken ClientHellos, checking exit status, names and diagnostics.
//!
//! Inputs:
//! - `samples/openssl-tls13.pcap`, `samples/openssl-dtls12-psk-ccm8.pcap`: real OpenSSL 3.0
//!   handshakes on 127.0.0.1 recorded by `scripts/make-samples` with tcpdump.
//! - `../shared/vectors/captures/illustrated-{tls12,tls13,dtls}/captures/capture.pcap`: the
//!   Illustrated TLS 1.2 / TLS 1.3 / DTLS 1.3 captures (syncsynchalt, MIT).

mod common;

use common::mote::{mote, mote_stdin, records, stdout};
use common::tools::root;
use std::path::PathBuf;

fn vectors() -> PathBuf {
    root().join("../shared/vectors")
}

#[test]
fn openssl_tls13_sample_dissects_cleanly() {
    let p = root().join("samples/openssl-tls13.pcap");
    let o = mote(&["dissect", p.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(
            "negotiated TLS 1.3, TLS_AES_256_GCM_SHA384, x25519, server_name \"sensor.example\""
        ),
        "{out}"
    );
    let s = records(&out);
    assert!(
        s[0].contains("client->server") && s[0].ends_with("client_hello"),
        "{}",
        s[0]
    );
    assert!(
        s[1].contains("server->client") && s[1].ends_with("server_hello"),
        "{}",
        s[1]
    );
    assert!(s[2].ends_with("change_cipher_spec"));
    // Everything after ServerHello except change_cipher_spec is ciphertext.
    for l in &s[3..] {
        assert!(
            l.ends_with("encrypted") || l.ends_with("change_cipher_spec"),
            "{l}"
        );
    }
    assert!(out.contains("host_name: \"sensor.example\""));
    assert!(out.contains("cipher_suite: TLS_AES_256_GCM_SHA384 (0x1302)"));
}

#[test]
fn openssl_dtls12_sample_dissects_cleanly() {
    let p = root().join("samples/openssl-dtls12-psk-ccm8.pcap");
    let o = mote(&["dissect", p.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("negotiated DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8"),
        "{out}"
    );
    let s = records(&out);
    let want = [
        "client_hello",
        "hello_verify_request",
        "client_hello",
        "server_hello",
        "server_hello_done",
        "client_key_exchange",
        "change_cipher_spec",
        "encrypted",
        "new_session_ticket",
        "change_cipher_spec",
        "encrypted",
        "encrypted",
    ];
    assert_eq!(s.len(), want.len(), "{out}");
    for (l, w) in s.iter().zip(want) {
        assert!(l.ends_with(w), "{l} should end with {w}");
    }
    // The cookie from HelloVerifyRequest is echoed in the second ClientHello.
    assert!(out.contains("cookie_length"), "{out}");
}

#[test]
fn illustrated_captures_dissect_cleanly() {
    for (name, first, n) in [
        ("illustrated-tls12", "client_hello", 13),
        ("illustrated-tls13", "client_hello", 13),
        ("illustrated-dtls", "client_hello", 11),
    ] {
        let p = vectors().join(name).join("captures/capture.pcap");
        let p = if p.exists() {
            p
        } else {
            vectors()
                .join("captures")
                .join(name)
                .join("captures/capture.pcap")
        };
        let o = mote(&["dissect", p.to_str().unwrap()]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{name}: {out}");
        let s = records(&out);
        assert_eq!(s.len(), n, "{name}: {out}");
        assert!(s[0].ends_with(first), "{name}: {}", s[0]);
    }
}

/// The ClientHello of the OpenSSL sample (record 0, 248 bytes), taken from the capture so the
/// mutations below start from a real, valid message.
fn sample_client_hello() -> Vec<u8> {
    let p = root().join("samples/openssl-tls13.pcap");
    let o = mote(&["dissect", "--json", p.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let rec = &v["flows"][0]["records"][0]["tree"];
    assert_eq!(rec["length"], 248);
    // The record bytes come from the pcap itself: 16 03 01 00 f3 01 found in the file.
    common::mote::sample_client_hello()
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Dissects `bytes` given as a hex dump on stdin; returns exit code and the diagnostics.
fn diagnose(bytes: &[u8]) -> (i32, Vec<String>) {
    let o = mote_stdin(&["dissect", "-"], hex(bytes).as_bytes());
    let out = stdout(&o);
    let d = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("! ").map(str::to_string))
        .collect();
    (o.status.code().unwrap_or(-1), d)
}

fn set_u16(b: &mut [u8], at: usize, v: usize) {
    b[at..at + 2].copy_from_slice(&(v as u16).to_be_bytes());
}

#[test]
fn valid_client_hello_from_stdin_is_clean() {
    let ch = sample_client_hello();
    let (code, d) = diagnose(&ch);
    assert_eq!((code, d.len()), (0, 0), "{d:?}");
}

#[test]
fn handshake_length_four_too_large() {
    let mut ch = sample_client_hello();
    // handshake.length sits at bytes 6..9: 239 -> 243.
    ch[8] += 4;
    let (code, d) = diagnose(&ch);
    assert_eq!(code, 1);
    assert_eq!(
        d,
        ["error at byte 6 (0x0006) record[0].handshake.length: declares 243 bytes but 239 follow"]
    );
}

#[test]
fn extensions_length_off_by_one() {
    let mut ch = sample_client_hello();
    // extensions_length at 0x58 is 158.
    set_u16(&mut ch, 0x58, 159);
    let (code, d) = diagnose(&ch);
    assert_eq!(code, 1);
    assert_eq!(
        d,
        ["error at byte 88 (0x0058) record[0].handshake.client_hello.extensions_length: declares 159 bytes but 158 follow"]
    );
}

#[test]
fn inner_server_name_length_wrong() {
    let mut ch = sample_client_hello();
    // server_name list_length at 0x5e is 17; make it 16.
    set_u16(&mut ch, 0x5e, 16);
    let (code, d) = diagnose(&ch);
    assert_eq!(code, 1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].starts_with("error at byte 94 (0x005e) record[0].handshake.client_hello.extensions[0].server_name.list_length: declares 16 bytes"),
        "{d:?}"
    );
    assert!(d[0].contains("17"), "{d:?}");
}

#[test]
fn odd_cipher_suites_length() {
    let mut ch = sample_client_hello();
    set_u16(&mut ch, 0x4c, 7);
    let (code, d) = diagnose(&ch);
    assert_eq!(code, 1);
    assert_eq!(
        d,
        ["error at byte 76 (0x004c) record[0].handshake.client_hello.cipher_suites_length: length 7 is not a multiple of 2"]
    );
}

#[test]
fn record_cut_short() {
    let ch = sample_client_hello();
    let (code, d) = diagnose(&ch[..200]);
    assert_eq!(code, 1);
    assert_eq!(
        d,
        ["error at byte 3 (0x0003) record[0].length: declares 243 bytes but 195 follow"]
    );
}

#[test]
fn json_has_the_same_tree_and_counts_diagnostics() {
    let mut ch = sample_client_hello();
    ch[8] += 4;
    let o = mote_stdin(&["dissect", "--json", "-"], hex(&ch).as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["diagnostics"], 1);
    let rec = &v["flows"][0]["records"][0];
    assert_eq!(rec["tree"]["name"], "record");
    assert_eq!(rec["tree"]["children"][0]["name"], "content_type");
    assert_eq!(rec["tree"]["children"][0]["display"], "handshake (0x16)");
    let d = &rec["diagnostics"][0];
    assert_eq!(d["offset"], 6);
    assert_eq!(d["path"], "record[0].handshake.length");
    assert_eq!(d["alert"], "decode_error");
}

#[test]
fn unreadable_input_exits_2() {
    let o = mote(&["dissect", "/nonexistent/capture.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    // A pcap header followed by garbage.
    let mut bad = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    bad.extend_from_slice(&[0xff; 40]);
    let dir = std::env::temp_dir().join(format!("mote-bad-{}.pcap", std::process::id()));
    std::fs::write(&dir, &bad).unwrap();
    let o = mote(&["dissect", dir.to_str().unwrap()]);
    std::fs::remove_file(&dir).ok();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}

#[test]
fn xxd_dump_of_a_client_hello() {
    // xxd prints an offset column and an ASCII column; both must be ignored.
    let ch = sample_client_hello();
    let mut dump = String::new();
    for (i, line) in ch.chunks(16).enumerate() {
        let groups: Vec<String> = line
            .chunks(2)
            .map(|g| g.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let ascii: String = line
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        dump.push_str(&format!(
            "{:08x}: {:<40} {}\n",
            i * 16,
            groups.join(" "),
            ascii
        ));
    }
    let o = mote_stdin(&["dissect", "-"], dump.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("client_hello"));
}

#[test]
fn bare_handshake_message_without_record_header() {
    let ch = sample_client_hello();
    let o = mote_stdin(&["dissect", "-"], hex(&ch[5..]).as_bytes());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("client_hello (no record header)"), "{out}");
}
