//! Running the `mote` binary, and reading what `mote dissect` printed.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `mote ARGS`, run to completion.
pub fn mote(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .output()
        .expect("run mote")
}

/// `mote ARGS` with `stdin` as its input.
pub fn mote_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mote");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("mote finishes")
}

/// A run's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `cmd` to completion, which must succeed (else a failure showing its stdout and
/// stderr); its stdout as text.
pub fn stdout_ok(cmd: &mut Command) -> String {
    let o = cmd.output().expect("run mote");
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// `mote dissect CAPTURE`: its exit code (-1 for a signal) and stdout.
pub fn dissect(capture: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mote"))
        .arg("dissect")
        .arg(capture)
        .output()
        .expect("run mote dissect");
    (o.status.code().unwrap_or(-1), stdout(&o))
}

/// `mote dissect CAPTURE`, which must exit 0; its stdout.
pub fn dissect_ok(capture: &Path) -> String {
    let (code, out) = dissect(capture);
    assert_eq!(code, 0, "{out}");
    out
}

/// `mote dissect CAPTURE --keylog KEYLOG`.
pub fn dissect_keylog(capture: &Path, keylog: &Path) -> Output {
    mote(&[
        "dissect",
        capture.to_str().unwrap(),
        "--keylog",
        keylog.to_str().unwrap(),
    ])
}

/// The summary lines of records: `record[N] direction ...: summary`.
pub fn records(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("record[")).collect()
}

/// Every one of `names` is on some record's summary line.
pub fn assert_records_mention(out: &str, names: &[&str]) {
    for m in names {
        assert!(
            records(out).iter().any(|l| l.contains(m)),
            "{m} missing: {out}"
        );
    }
}

/// The ClientHello record of `samples/openssl-tls13.pcap` (248 bytes, recorded by
/// `scripts/make-samples` from OpenSSL 3.0's s_client), found in the file by its first bytes.
pub fn sample_client_hello() -> Vec<u8> {
    let pcap = std::fs::read(super::tools::root().join("samples/openssl-tls13.pcap")).unwrap();
    let at = pcap
        .windows(6)
        .position(|w| w == [0x16, 0x03, 0x01, 0x00, 0xf3, 0x01])
        .expect("ClientHello in the sample");
    pcap[at..at + 248].to_vec()
}
