//! `mote dissect --keylog`: TLS 1.3 records decrypted with an NSS key log
//! (draft-ietf-tls-keylogfile-05).
//!
//! Inputs:
//! - `../shared/vectors/captures/illustrated-tls13/captures/{capture.pcap,keylog.txt}`: The
//!   Illustrated TLS 1.3 Connection (github.com/syncsynchalt/illustrated-tls13, commit
//!   8d83cef0, MIT), TLS_AES_256_GCM_SHA384; its `caps/` directory holds each record's
//!   plaintext: the client sends "ping", the server "pong", and two NewSessionTickets.
//! - `illustrated-tls12` and `illustrated-dtls` from the same author, for what is not
//!   decrypted.
//!
//! Live captures with OpenSSL are in `dissect_keylog_live.rs`.

mod common;

use common::mote::{dissect_keylog, mote, records, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

fn illustrated(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/captures")
        .join(name)
        .join("captures")
}

/// The summary line of `record[i]`.
fn summary(out: &str, i: usize) -> &str {
    let tag = format!("record[{i}] ");
    out.lines()
        .find(|l| l.starts_with(&tag))
        .unwrap_or_else(|| panic!("no record[{i}]: {out}"))
}

/// The lines of `record[i]`: its summary line through the line before the next record.
fn record_lines(out: &str, i: usize) -> String {
    let tag = format!("record[{i}] ");
    out.lines()
        .skip_while(|l| !l.starts_with(&tag))
        .enumerate()
        .take_while(|(n, l)| *n == 0 || !l.starts_with("record["))
        .map(|(_, l)| format!("{l}\n"))
        .collect()
}

/// A scratch file for a test, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // The directory goes with the last file (removing a non-empty one fails).
        if let Some(d) = self.0.parent() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn scratch(name: &str, contents: &[u8]) -> Scratch {
    let dir = std::env::temp_dir().join(format!("mote-keylog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    Scratch(p)
}

fn tls13_keylog() -> String {
    std::fs::read_to_string(illustrated("illustrated-tls13").join("keylog.txt")).unwrap()
}

fn dissect_tls13(keylog: &Path, json: bool) -> Output {
    let cap = illustrated("illustrated-tls13").join("capture.pcap");
    let mut args = vec!["dissect", cap.to_str().unwrap(), "--keylog"];
    args.push(keylog.to_str().unwrap());
    if json {
        args.push("--json");
    }
    mote(&args)
}

#[test]
fn illustrated_tls13_every_record_decrypts() {
    let kl = illustrated("illustrated-tls13").join("keylog.txt");
    let o = dissect_tls13(&kl, false);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(", 0 diagnostics"), "{out}");
    assert!(
        out.contains("note: key log: 9 of 9 encrypted records decrypted"),
        "{out}"
    );
    let s = records(&out);
    assert_eq!(s.len(), 13, "{out}");
    // Everything after ServerHello is either compatibility change_cipher_spec or decrypted.
    for l in &s[2..] {
        assert!(
            l.ends_with("(decrypted)") || l.ends_with("change_cipher_spec"),
            "{l}"
        );
    }
    let want = [
        (
            3,
            "server->client",
            "encrypted_extensions",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ),
        (
            4,
            "server->client",
            "certificate",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ),
        (
            5,
            "server->client",
            "certificate_verify",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ),
        (
            6,
            "server->client",
            "finished",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        ),
        (
            8,
            "client->server",
            "finished",
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        ),
        (
            9,
            "client->server",
            "application_data 4 bytes \"ping\"",
            "CLIENT_TRAFFIC_SECRET_0",
        ),
        (
            10,
            "server->client",
            "new_session_ticket",
            "SERVER_TRAFFIC_SECRET_0",
        ),
        (
            11,
            "server->client",
            "new_session_ticket",
            "SERVER_TRAFFIC_SECRET_0",
        ),
        (
            12,
            "server->client",
            "application_data 4 bytes \"pong\"",
            "SERVER_TRAFFIC_SECRET_0",
        ),
    ];
    for (i, dir, what, label) in want {
        let l = summary(&out, i);
        assert!(l.contains(dir), "{l}");
        assert!(l.contains(": application_data TLS 1.2 "), "{l}");
        assert!(
            l.ends_with(&format!(" bytes: {what} (decrypted)")),
            "record[{i}] should hold {what}: {l}"
        );
        let rec = record_lines(&out, i);
        assert!(rec.contains(&format!("(decrypted with {label})")), "{rec}");
        assert!(rec.contains("inner_content_type"), "{rec}");
    }
    // The handshake flight is parsed field by field, not shown as opaque bytes.
    assert!(
        out.contains("algorithm: rsa_pss_rsae_sha256 (0x0804)"),
        "{out}"
    );
    assert!(out.contains("cert_data: 3082032130820209"), "{out}");
    // Finished moves each side to its application secret.
    assert!(record_lines(&out, 6).contains(
        "key change: the next server->client records are protected with SERVER_TRAFFIC_SECRET_0"
    ));
    // Plaintext offsets are those of the ciphertext bytes that carry them: record[9]'s
    // fragment starts at 0x0152 of the client's stream, and so does "ping".
    let ping = record_lines(&out, 9);
    assert!(
        ping.contains("  0152    21    encrypted_record: 21 bytes: 4 bytes of application_data"),
        "{ping}"
    );
    assert!(
        ping.contains("  0152     4      application_data: \"ping\""),
        "{ping}"
    );
    assert!(
        ping.contains("  0156     1      inner_content_type: application_data (0x17)"),
        "{ping}"
    );
    assert!(ping.contains("  0157    16      tag: 16 bytes"), "{ping}");
}

#[test]
fn illustrated_tls13_flipped_secret_byte_is_a_diagnostic() {
    // One bit of the server's handshake secret flipped: the server's first protected record
    // does not decrypt; its later records cannot be followed; the client's still decrypt.
    let kl = tls13_keylog().replacen(
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 23",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 22",
        1,
    );
    assert_ne!(kl, tls13_keylog());
    let p = scratch("flipped-shts.txt", kl.as_bytes());
    let o = dissect_tls13(&p, false);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains(", 1 diagnostic\n"), "{out}");
    assert!(
        out.contains(
            "! error at byte 138 (0x008a) record[3]: does not decrypt with \
             SERVER_HANDSHAKE_TRAFFIC_SECRET (wrong key log or tampered record)"
        ),
        "{out}"
    );
    assert!(out.contains("(a peer answers this with a bad_record_mac alert)"));
    assert!(summary(&out, 3).ends_with("encrypted"), "{out}");
    for i in [4, 5, 6, 10, 11, 12] {
        assert!(summary(&out, i).ends_with("encrypted"), "{out}");
        assert!(
            record_lines(&out, i).contains("not decrypted: record[3] did not decrypt"),
            "{out}"
        );
    }
    assert!(summary(&out, 8).ends_with("finished (decrypted)"), "{out}");
    assert!(summary(&out, 9).ends_with("\"ping\" (decrypted)"), "{out}");

    // The same for an application secret: only the record protected with it fails.
    let kl = tls13_keylog().replacen(
        "CLIENT_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 9e",
        "CLIENT_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 9f",
        1,
    );
    let p = scratch("flipped-cats.txt", kl.as_bytes());
    let o = dissect_tls13(&p, false);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "record[9]: does not decrypt with CLIENT_TRAFFIC_SECRET_0 (wrong key log or \
             tampered record)"
        ),
        "{out}"
    );
    assert!(summary(&out, 8).ends_with("finished (decrypted)"), "{out}");
    assert!(summary(&out, 12).ends_with("\"pong\" (decrypted)"), "{out}");
}

#[test]
fn illustrated_tls13_tampered_record_is_a_diagnostic() {
    // One ciphertext byte of the first NewSessionTicket record flipped in the capture (the
    // pcap reader does not check TCP checksums): that record fails, the key log is right.
    let dir = illustrated("illustrated-tls13");
    let mut pcap = std::fs::read(dir.join("capture.pcap")).unwrap();
    let rec = std::fs::read(dir.join("caps/serverencticket1")).unwrap();
    let at = pcap
        .windows(rec.len())
        .position(|w| w == &rec[..])
        .expect("record bytes in the capture");
    pcap[at + 40] ^= 0x01;
    let p = scratch("tampered.pcap", &pcap);
    let kl = dir.join("keylog.txt");
    let o = dissect_keylog(&p, &kl);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "record[10]: does not decrypt with SERVER_TRAFFIC_SECRET_0 (wrong key log or \
             tampered record)"
        ),
        "{out}"
    );
    assert!(summary(&out, 9).ends_with("\"ping\" (decrypted)"), "{out}");
    assert!(summary(&out, 6).ends_with("finished (decrypted)"), "{out}");
}

#[test]
fn illustrated_tls13_other_client_random_is_a_note() {
    let kl = tls13_keylog().replace(
        " 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f ",
        " 0000000000000000000000000000000000000000000000000000000000000000 ",
    );
    let p = scratch("other-random.txt", kl.as_bytes());
    let o = dissect_tls13(&p, false);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(
            "note: no key log entry for this client random \
             (000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f); \
             records are shown encrypted"
        ),
        "{out}"
    );
    assert!(!out.contains("(decrypted)"), "{out}");
    for l in &records(&out)[3..] {
        assert!(
            l.ends_with("encrypted") || l.ends_with("change_cipher_spec"),
            "{l}"
        );
    }
}

#[test]
fn illustrated_tls13_missing_label_is_a_note() {
    // A key log without the server's application secret: the handshake still decrypts.
    let kl: String = tls13_keylog()
        .lines()
        .filter(|l| !l.starts_with("SERVER_TRAFFIC_SECRET_0"))
        .map(|l| format!("{l}\n"))
        .collect();
    let p = scratch("no-sats.txt", kl.as_bytes());
    let o = dissect_tls13(&p, false);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("note: not decrypted: the key log has no SERVER_TRAFFIC_SECRET_0"),
        "{out}"
    );
    assert!(summary(&out, 6).ends_with("finished (decrypted)"), "{out}");
    assert!(summary(&out, 10).ends_with("encrypted"), "{out}");
    assert!(summary(&out, 9).ends_with("\"ping\" (decrypted)"), "{out}");
}

/// Finds the first node named `name` in a JSON tree.
fn find<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    if v["name"] == name {
        return Some(v);
    }
    v["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| find(c, name))
}

#[test]
fn illustrated_tls13_json_has_the_decrypted_tree() {
    let kl = illustrated("illustrated-tls13").join("keylog.txt");
    let o = dissect_tls13(&kl, true);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["diagnostics"], 0);
    let recs = v["flows"][0]["records"].as_array().unwrap();
    assert_eq!(recs.len(), 13);
    // record[4]: the server's Certificate.
    let r = &recs[4];
    assert!(r["summary"]
        .as_str()
        .unwrap()
        .ends_with("certificate (decrypted)"));
    let enc = find(&r["tree"], "encrypted_record").expect("encrypted_record node");
    assert_eq!(
        enc["notes"][0],
        "decrypted with SERVER_HANDSHAKE_TRAFFIC_SECRET"
    );
    assert_eq!(enc["length"], 835);
    let ict = find(enc, "inner_content_type").unwrap();
    assert_eq!(ict["value"], 22);
    assert_eq!(find(enc, "padding").unwrap()["value"], 0);
    assert_eq!(find(enc, "tag").unwrap()["length"], 16);
    let mt = find(enc, "msg_type").unwrap();
    assert_eq!(mt["display"], "certificate (0x0b)");
    assert_eq!(mt["offset"], enc["offset"]);
    assert!(find(enc, "cert_data").is_some());
    // record[12]: "pong" as text.
    let enc = find(&recs[12]["tree"], "encrypted_record").unwrap();
    assert_eq!(enc["notes"][0], "decrypted with SERVER_TRAFFIC_SECRET_0");
    assert_eq!(
        find(enc, "application_data").unwrap()["display"],
        "\"pong\""
    );
    let notes = v["flows"][0]["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n == "key log: 9 of 9 encrypted records decrypted"));
}

#[test]
fn tls12_and_dtls_with_a_keylog_are_notes() {
    for (name, note) in [
        (
            "illustrated-tls12",
            "note: TLS 1.2 records are not decrypted: --keylog supports TLS 1.3 only (the key \
             log has its CLIENT_RANDOM entry); they are shown encrypted",
        ),
        (
            "illustrated-dtls",
            "note: DTLS records are not decrypted: --keylog supports TLS 1.3 over TCP only; \
             they are shown encrypted",
        ),
    ] {
        let d = illustrated(name);
        let (cap, kl) = (d.join("capture.pcap"), d.join("keylog.txt"));
        let o = dissect_keylog(&cap, &kl);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{name}: {out}");
        assert!(out.contains(note), "{name}: {out}");
        assert!(!out.contains("(decrypted)"), "{name}: {out}");
    }
}

#[test]
fn keylog_file_problems() {
    let cap = illustrated("illustrated-tls13").join("capture.pcap");
    let cap = cap.to_str().unwrap();
    // Unreadable: exit 2, like an unreadable input.
    let o = mote(&["dissect", cap, "--keylog", "/nonexistent/keylog.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read key log"));
    // Lines that do not conform are skipped with a warning; the rest is used (CRLF, upper
    // case hex and comments are all allowed).
    let kl = format!(
        "# comment\r\nnot a key log line\r\n{}",
        tls13_keylog().to_uppercase().replace('\n', "\r\n")
    );
    let p = scratch("crlf.txt", kl.as_bytes());
    let o = mote(&["dissect", cap, "--keylog", p.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2: ignored: not three fields"), "{err}");
    assert!(
        out.contains("key log: 9 of 9 encrypted records decrypted"),
        "{out}"
    );
    // Without --keylog nothing changes: the records are encrypted, exit 0.
    let o = mote(&["dissect", cap]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !out.contains("(decrypted)") && !out.contains("key log"),
        "{out}"
    );
}
