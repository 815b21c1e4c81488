//! Recording a live run: tcpdump (Debian package `tcpdump`) on `lo`, which needs root
//! (`./scripts/test` installs the package; CI runs as root).

use super::proc::Proc;
use super::tools::require;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// tcpdump writing what passes `lo` to a file; killed on drop, flushed by `stop`.
pub struct Tcpdump(Proc);

impl Tcpdump {
    /// Starts tcpdump on `lo` with `filter`, writing `out`, and waits until it is listening.
    pub fn start(out: &Path, filter: &str) -> Tcpdump {
        require("tcpdump", "tcpdump");
        let mut c = Command::new("tcpdump")
            .args(["-i", "lo", "--immediate-mode", "-U", "-w"])
            .arg(out)
            .arg(filter)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start tcpdump");
        let stderr = c.stderr.take().unwrap();
        // Killed on drop from here on: when the assertion below fails, too.
        let p = Tcpdump(Proc::adopt(c));
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            first.contains("listening on"),
            "tcpdump did not start (it needs root for lo): {first}"
        );
        std::thread::spawn(move || for _ in lines {});
        p
    }

    /// Stops tcpdump with SIGINT so it flushes the capture.
    pub fn stop(mut self) {
        // Packets still in the kernel ring when SIGINT arrives can be lost: give the
        // capture a moment to drain first.
        std::thread::sleep(Duration::from_millis(800));
        self.0.interrupt();
        // Killed on drop if it has not exited by then.
        let _ = self.0.wait_within(5);
    }
}
