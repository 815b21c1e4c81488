//! Acknowledged delivery between `mote send --ack` and `mote serve`, end to end: the real
//! binaries on 127.0.0.1, several devices from one `--psk-file`, a collector that drops
//! idle links (the sender reconnects and resumes), half-close, and a collector killed with
//! SIGKILL mid-stream and restarted on the same port and database, after which every
//! acknowledged reading must be stored exactly once. `openssl s_client` comes from the
//! Debian package `openssl`.

mod common;

use common::collector::{mote, Collector, PSK_HEX, PSK_ID};
use common::openssl::command;
use common::proc::{run_bounded, Proc};
use common::tools::{free_tcp_port, TempDir};
use std::collections::{HashMap, HashSet};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// The devices of the `--psk-file`: identity and key, each key different.
const DEVICES: [(&str, &str); 3] = [
    (
        "dev-a",
        "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
    ),
    (
        "dev-b",
        "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2",
    ),
    (
        "dev-c",
        "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3",
    ),
];

/// Writes the `--psk-file` for [`DEVICES`], with a comment line, a blank line and a
/// trailing comment; its path.
fn psk_file(dir: &TempDir) -> String {
    let [(a, ka), (b, kb), (c, kc)] = DEVICES;
    dir.write(
        "devices.psk",
        &format!("# the test's devices\n{a} {ka}\n\n{b}  {kb}\n{c}\t{kc} # the third\n"),
    )
}

/// `mote send ADDR --psk-identity ID --psk KEY ARGS`, bounded; its output, whatever the exit.
fn send_as(addr: &str, id: &str, key: &str, args: &[&str], secs: u64) -> Output {
    run_bounded(
        mote()
            .args(["send", addr, "--psk-identity", id, "--psk", key])
            .args(args),
        secs,
    )
}

/// `mote send --ack` as the collector's own device ([`PSK_ID`]): `count` readings
/// `interval` seconds apart, bounded by 60 s; its standard output, once it succeeded.
fn send_acked(addr: &str, count: &str, interval: &str) -> String {
    let o = send_as(
        addr,
        PSK_ID,
        PSK_HEX,
        &[
            "--device",
            PSK_ID,
            "--ack",
            "--count",
            count,
            "--interval",
            interval,
        ],
        60,
    );
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The sequence numbers of `ack SEQ` lines.
fn acks(out: &str) -> Vec<i64> {
    out.lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|s| s.trim().parse().unwrap())
        .collect()
}

/// The stored readings' sequence numbers for `device`, in the database's order.
fn stored_seqs(c: &Collector, device: &str) -> Vec<i64> {
    c.readings(&["--device", device])
        .iter()
        .map(|r| {
            assert_eq!(r["device"], device, "{r}");
            r["seq"].as_i64().unwrap_or_else(|| panic!("no seq: {r}"))
        })
        .collect()
}

fn distinct(v: &[i64]) -> usize {
    v.iter().collect::<HashSet<_>>().len()
}

/// Waits (bounded by `secs`) until `done` holds; whether it did.
fn poll(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn ack_mode_delivers_every_reading_once() {
    let dir = TempDir::new("delivery-ack");
    let c = Collector::psk(&dir, &[]);
    let out = send_acked(&c.addr, "20", "0.02");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ack ")).count(),
        20,
        "{out}"
    );
    assert!(out.contains("20 acknowledged, 0 refused"), "{out}");
    let seqs = stored_seqs(&c, PSK_ID);
    assert_eq!(seqs.len(), 20, "{seqs:?}\n{}", c.proc.output());
    assert_eq!(distinct(&seqs), 20, "{seqs:?}");
    let mut acked = acks(&out);
    acked.sort_unstable();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(
        acked, sorted,
        "the acknowledged readings are the stored ones"
    );
}

#[test]
fn psk_file_serves_several_devices() {
    let dir = TempDir::new("delivery-pskfile");
    let c = Collector::start(&dir, &["--psk-file", &psk_file(&dir)]);
    for (i, (id, key)) in DEVICES.iter().enumerate() {
        let n = (i + 2).to_string();
        let o = send_as(
            &c.addr,
            id,
            key,
            &["--device", id, "--ack", "--count", &n, "--interval", "0.05"],
            30,
        );
        let out = text(&o.stdout);
        assert!(o.status.success(), "{id}: {out}{}", text(&o.stderr));
        assert!(out.contains(&format!("{n} acknowledged")), "{out}");
    }
    for (i, (id, _)) in DEVICES.iter().enumerate() {
        let r = c.readings(&["--device", id]);
        assert_eq!(r.len(), i + 2, "{id}: {r:?}\n{}", c.proc.output());
        let prefix = format!("urn:dev:mote:{id}:");
        assert!(
            r.iter()
                .all(|x| x["name"].as_str().unwrap().starts_with(&prefix)),
            "{r:?}"
        );
    }
    // dev-a writing dev-b's names: refused, nothing stored.
    let (a, ka) = DEVICES[0];
    let file = dir.write(
        "as-dev-b.json",
        concat!(
            r#"[{"bn":"urn:dev:mote:dev-b:","n":"t","v":1}]"#,
            "\n",
            r#"[{"n":"urn:dev:mote:dev-b:t","v":2}]"#,
            "\n",
        ),
    );
    let o = send_as(
        &c.addr,
        a,
        ka,
        &["--readings", &file, "--interval", "0", "--ack"],
        30,
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", text(&o.stderr));
    assert_eq!(out.matches("refused ").count(), 2, "{out}");
    assert!(out.contains("0 acknowledged, 2 refused"), "{out}");
    assert_eq!(c.readings(&["--device", "dev-a"]).len(), 2);
    assert_eq!(c.readings(&["--device", "dev-b"]).len(), 3);
    // The wrong key for dev-a: the binder does not verify; the sender gives up at once.
    let wrong = DEVICES[2].1;
    let start = Instant::now();
    let o = send_as(
        &c.addr,
        a,
        wrong,
        &["--device", a, "--ack", "--count", "2", "--retry-for", "2"],
        20,
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}{err}", text(&o.stdout));
    assert!(err.contains("alert decrypt_error"), "{err}");
    eprintln!("wrong key: gave up after {:?}", start.elapsed());
    assert!(
        c.proc.wait_for("PSK binder did not verify", 10),
        "{}",
        c.proc.output()
    );
    assert_eq!(c.readings(&["--device", "dev-a"]).len(), 2);
    // An identity given twice: the collector does not start, naming the line.
    let [(a, ka), (b, kb), _] = DEVICES;
    let dup = dir.write(
        "dup.psk",
        &format!("{a} {ka}\n# again:\n{a} {kb}\n{b} {kb}\n"),
    );
    let o = run_bounded(
        mote().args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            &dir.path("dup.sqlite"),
            "--psk-file",
            &dup,
        ]),
        10,
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("\"dev-a\" given twice"), "{err}");
}

#[test]
fn reconnects_and_resumes_after_the_collector_drops_the_link() {
    let dir = TempDir::new("delivery-resume");
    let c = Collector::psk(&dir, &["--idle-timeout", "1"]);
    let out = send_acked(&c.addr, "4", "1.6");
    assert!(out.contains("connection lost: "), "{out}");
    assert!(out.contains("connected (session resumed): "), "{out}");
    assert!(
        out.contains("closed with close_notify: 4 acknowledged"),
        "{out}"
    );
    let log = c.proc.output();
    assert!(log.contains("idle timeout"), "{log}");
    assert!(log.contains(", PSK, resumed"), "{log}");
    let seqs = stored_seqs(&c, PSK_ID);
    assert_eq!(seqs.len(), 4, "{seqs:?}\n{log}");
    assert_eq!(distinct(&seqs), 4, "{seqs:?}");
}

#[test]
fn last_line_before_close_notify_is_answered() {
    let dir = TempDir::new("delivery-halfclose");
    let c = Collector::psk(&dir, &[]);
    // Without --ack: three lines, then close_notify at once, answers unread.
    let o = send_as(
        &c.addr,
        PSK_ID,
        PSK_HEX,
        &["--device", PSK_ID, "--count", "3", "--interval", "0"],
        30,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(c.proc.wait_for(" answered", 10), "{}", c.proc.output());
    let log = c.proc.output();
    let end = log.lines().find(|l| l.contains(" answered")).unwrap();
    assert!(
        end.ends_with("client sent close_notify; closed with close_notify; 3 lines answered"),
        "{log}"
    );
    assert!(!end.contains("dropped"), "{log}");
    assert_eq!(c.readings(&["--device", PSK_ID]).len(), 3, "{log}");
    // s_client with -quiet implies -ign_eof (no close_notify at the end of its input);
    // -no_ign_eof makes it send close_notify when stdin ends.
    let line = dir.write(
        "line.json",
        concat!(
            r#"[{"bn":"urn:dev:mote:dev1:","n":"h","v":7,"seq":7}]"#,
            "\n"
        ),
    );
    let mut s = Proc::start(
        command("s_client")
            .args(["-connect", &c.addr, "-tls1_3"])
            .args(["-psk_identity", PSK_ID, "-psk", PSK_HEX])
            .args(["-quiet", "-no_ign_eof"])
            .stdin(std::fs::File::open(&line).unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    assert_eq!(s.exit_code(10), Some(0), "{}", s.output());
    assert!(
        c.proc.wait_for("1 line answered", 10),
        "{}",
        c.proc.output()
    );
    let log = c.proc.output();
    let end = log
        .lines()
        .find(|l| l.ends_with("1 line answered"))
        .unwrap();
    assert!(
        end.contains("client sent close_notify; closed with close_notify"),
        "{log}"
    );
    assert!(log.contains("stored 7 (1 new)"), "{log}");
    assert_eq!(c.readings(&[]).len(), 4, "{log}");
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_reading() {
    let dir = TempDir::new("delivery-sigkill");
    let psk = psk_file(&dir);
    let listen = format!("127.0.0.1:{}", free_tcp_port());
    let c = Collector::start_on(&dir, &listen, &["--psk-file", &psk]);
    let mut senders: Vec<(&str, Proc)> = DEVICES
        .iter()
        .map(|(id, key)| {
            let p = Proc::spawn(
                mote()
                    .args(["send", &listen, "--psk-identity", id, "--psk", key])
                    .args(["--device", id, "--ack", "--count", "40"])
                    .args(["--interval", "0.05", "--retry-for", "30"]),
            );
            (*id, p)
        })
        .collect();
    let stored = |c: &Collector| c.proc.stdout().matches(": stored ").count();
    assert!(poll(20, || stored(&c) >= 15), "{}", c.proc.output());
    c.signal("-KILL");
    let mut c = c;
    assert!(
        c.proc.wait_within(10).is_some(),
        "mote serve survived SIGKILL"
    );
    let before = c.proc.output();
    eprintln!("killed after {} packs stored", stored(&c));
    drop(c);
    // Leave the senders a moment without a collector (they retry with backoff).
    std::thread::sleep(Duration::from_secs(1));
    let c = Collector::start_on(&dir, &listen, &["--psk-file", &psk]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut resent_total = 0;
    let mut lost_seen = 0;
    for (id, p) in senders.iter_mut() {
        let left = deadline.saturating_duration_since(Instant::now()).as_secs();
        let code = p.exit_code(left.max(1));
        let out = p.stdout();
        assert_eq!(
            code,
            Some(0),
            "{id}: {}\nfirst collector: {before}\nsecond: {}",
            p.output(),
            c.proc.output()
        );
        assert!(out.contains("40 acknowledged, 0 refused"), "{id}: {out}");
        if out.contains("connection lost: ") {
            lost_seen += 1;
        }
        // Resends are `resending seq S` lines; `reading N: ... (seq S)` names each seq once.
        let resending = out.matches("resending seq ").count();
        let mut sent: HashMap<&str, usize> = HashMap::new();
        for l in out.lines().filter(|l| l.starts_with("reading ")) {
            let seq = l.rsplit_once("(seq ").unwrap().1.trim_end_matches(')');
            *sent.entry(seq).or_default() += 1;
        }
        let again: usize = sent.values().map(|n| n - 1).sum();
        assert_eq!(again, 0, "{id}: a resend shown as a new reading: {out}");
        eprintln!(
            "{id}: {} reading lines, {again} of them for a seq already sent, {resending} `resending seq` lines; {}",
            sent.values().sum::<usize>(),
            out.lines().last().unwrap_or("")
        );
        resent_total += resending + again;
        let acked = acks(&out);
        assert_eq!(acked.len(), 40, "{id}: {out}");
        assert_eq!(distinct(&acked), 40, "{id}: {out}");
        let seqs = stored_seqs(&c, id);
        assert_eq!(seqs.len(), 40, "{id}: {seqs:?}");
        assert_eq!(distinct(&seqs), 40, "{id}: {seqs:?}");
        let mut count: HashMap<i64, usize> = HashMap::new();
        for s in &seqs {
            *count.entry(*s).or_default() += 1;
        }
        for a in &acked {
            assert_eq!(
                count.get(a),
                Some(&1),
                "{id}: acked seq {a} stored {count:?}"
            );
        }
    }
    eprintln!("{resent_total} readings sent again after the collector was killed");
    assert!(lost_seen >= 1, "no sender saw the collector go");
}
