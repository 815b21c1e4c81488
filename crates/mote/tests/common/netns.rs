//! Running a test in a private network namespace, for the tests whose peer (gnutls-serv,
//! gnutls-cli) binds every address or would otherwise see other tests' ports
//! (server_gnutls.rs, dtls12_gnutls.rs, dtls12_server_gnutls.rs). The test re-executes its
//! own binary (the same test, with the file's own environment variable set, so that two
//! files never take each other's inner run for theirs) under `unshare -n -p -f
//! --kill-child` after `ip link set lo up`; the PID namespace makes the kernel kill the peer
//! if the outer test kills `unshare`. Needs root, as CI has.

use super::{require_tool, Peer};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `body` in a fresh network namespace: outside it (`inner_var` unset), checks that
/// the test's `peer_tools` (command, Debian package) and what every such test needs
/// (openssl for its `Pki`, unshare, ip) are installed, re-executes `test` there and checks
/// that it passed; inside, runs `body`.
pub fn in_netns(inner_var: &str, peer_tools: &[(&str, &str)], test: &str, body: impl FnOnce()) {
    if std::env::var_os(inner_var).is_some() {
        body();
        return;
    }
    let always = [
        ("openssl", "openssl"),
        ("unshare", "util-linux"),
        ("ip", "iproute2"),
    ];
    for &(tool, package) in peer_tools.iter().chain(&always) {
        require_tool(tool, package);
    }
    let exe = std::env::current_exe().unwrap();
    let mut inner = Peer::spawn(
        Command::new("unshare")
            .args(["-n", "-p", "-f", "--kill-child", "sh", "-c"])
            .arg(r#"ip link set lo up || { echo "ip link set lo up failed"; exit 97; }; exec "$0" "$@""#)
            .arg(&exe)
            .args(["--exact", test, "--include-ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(inner_var, "1"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = inner.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "{test} did not finish in 60 s in the namespace:\n{}",
            inner.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the output threads drain.
    inner.wait_for("test result:", 2);
    let out = inner.output();
    assert_ne!(
        status.code(),
        Some(97),
        "the namespace did not come up (unshare needs root):\n{out}"
    );
    assert!(
        status.success() && out.contains("1 passed"),
        "{test} failed in the namespace ({status}):\n{out}"
    );
}

/// A suffix for temporary file and directory names made inside the namespace: there every
/// run has the same small PID (which is what `Pki` and friends name their folders by), so
/// concurrent runs of one binary would share them; the clock and a counter tell them apart.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
