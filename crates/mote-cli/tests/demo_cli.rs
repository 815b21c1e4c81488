//! `mote demo` end to end: the binary alone, on loopback.

mod common;

use common::collector::mote;
use common::mote::stdout_ok;
use common::tools::TempDir;

/// `mote demo ARGS --dir DIR/d`, which must succeed; its standard output.
fn demo(dir: &TempDir, args: &[&str]) -> String {
    stdout_ok(
        mote()
            .arg("demo")
            .args(args)
            .args(["--dir", &dir.path("d")]),
    )
}

#[test]
fn demo_delivers_every_sensors_readings_and_lists_them() {
    let dir = TempDir::new("demo");
    let out = demo(&dir, &["--seconds", "2", "--interval", "0.2"]);
    assert!(
        out.contains("every acknowledged reading is in the database, once"),
        "{out}"
    );
    // Each kind of device connected the way it should.
    assert!(
        out.contains("TLS_AES_128_CCM_8_SHA256, PSK with x25519"),
        "{out}"
    );
    assert!(out.contains("PSK without (EC)DHE (psk_ke)"), "{out}");
    assert!(out.contains("client certificate sent"), "{out}");
    assert!(
        out.contains(
            "DTLS 1.2, TLS_PSK_WITH_AES_128_CCM_8, after HelloVerifyRequest, connection ID"
        ),
        "{out}"
    );
    assert!(
        out.contains("resumed)"),
        "the sleeping sensor resumes: {out}"
    );
    // The summary rows: each device's readings, as many as were acknowledged.
    let table = out.split("what arrived").nth(1).unwrap();
    for device in ["greenhouse", "cellar", "attic", "porch"] {
        let row: Vec<&str> = table
            .lines()
            .find(|l| l.trim_start().starts_with(device))
            .unwrap_or_else(|| panic!("no row for {device}: {out}"))
            .split_whitespace()
            .collect();
        let (stored, acked): (u32, u32) = (row[1].parse().unwrap(), row[4].parse().unwrap());
        assert!(
            stored >= 5,
            "{device}: {stored} readings in 2 s at 0.2 s: {out}"
        );
        assert_eq!(stored, acked, "{out}");
    }
    // `mote readings` lists the same database.
    let db = dir.path("d/readings.sqlite");
    let r = mote()
        .args([
            "readings", "--db", &db, "--device", "attic", "--format", "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(v.as_array().unwrap().len() >= 5, "{v}");
    assert_eq!(v[0]["name"], "urn:dev:mote:attic:temperature");
}

#[test]
fn demo_with_more_sensors_names_them_apart() {
    let dir = TempDir::new("demo5");
    let out = demo(
        &dir,
        &["--sensors", "5", "--seconds", "1", "--interval", "0.2"],
    );
    for d in [
        "greenhouse-1",
        "cellar-1",
        "attic-1",
        "porch-1",
        "greenhouse-2",
    ] {
        assert!(out.contains(&format!("  {d} ")), "{d}: {out}");
    }
    assert!(
        out.contains("every acknowledged reading is in the database, once"),
        "{out}"
    );
}
