//! Child processes for the live tests: killed (and reaped) on drop, so a failing test leaves
//! no peer running, with what they print collected line by line by threads.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Text a process printed, appended to by a reader thread.
type Text = Arc<Mutex<String>>;

/// Waits (bounded) until `seen` contains `needle`.
fn wait_until(seen: &Text, needle: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if seen.lock().unwrap().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A child process, killed on drop, whose stdout and stderr (those that are pipes) are
/// collected: each on its own, and both together in the order their lines arrived.
pub struct Proc {
    child: Child,
    stdout: Text,
    stderr: Text,
    out: Text,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `cmd` with stdin, stdout and stderr piped. Its stdin stays open, as
    /// `openssl s_server` exits at end of input.
    pub fn spawn(cmd: &mut Command) -> Proc {
        Proc::start(
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
    }

    /// Starts `cmd` with the stdio it was given.
    pub fn start(cmd: &mut Command) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Proc::adopt(child)
    }

    /// Takes charge of a started child: collects whichever of its stdout and stderr are
    /// still there to take.
    pub fn adopt(mut child: Child) -> Proc {
        let (stdout, stderr, out) = (Text::default(), Text::default(), Text::default());
        let streams: [(Option<Box<dyn Read + Send>>, &Text); 2] = [
            (child.stdout.take().map(|s| Box::new(s) as _), &stdout),
            (child.stderr.take().map(|s| Box::new(s) as _), &stderr),
        ];
        let mut readers = Vec::new();
        for (pipe, own) in streams {
            let Some(pipe) = pipe else { continue };
            let (own, all) = (own.clone(), out.clone());
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    for t in [&own, &all] {
                        let mut g = t.lock().unwrap();
                        g.push_str(&line);
                        g.push('\n');
                    }
                }
            }));
        }
        Proc {
            child,
            stdout,
            stderr,
            out,
            readers,
        }
    }

    /// Waits (bounded) until stdout and stderr together contain `needle`.
    pub fn wait_for(&self, needle: &str, secs: u64) -> bool {
        wait_until(&self.out, needle, secs)
    }

    /// Waits (bounded) until stdout contains `needle`.
    pub fn wait_for_stdout(&self, needle: &str, secs: u64) -> bool {
        wait_until(&self.stdout, needle, secs)
    }

    /// Waits (bounded) until stderr contains `needle`.
    pub fn wait_for_stderr(&self, needle: &str, secs: u64) -> bool {
        wait_until(&self.stderr, needle, secs)
    }

    /// Stdout and stderr so far, interleaved by line.
    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Writes `line` and a newline to the process's stdin.
    pub fn send_line(&mut self, line: &str) {
        self.child
            .stdin
            .as_mut()
            .expect("stdin is a pipe")
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    /// Sends SIGINT; whether `kill` succeeded.
    pub fn interrupt(&self) -> bool {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits up to `secs` for the process to exit, then for the rest of its output; `None`
    /// when it is still running.
    pub fn wait_within(&mut self, secs: u64) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                for r in self.readers.drain(..) {
                    r.join().unwrap();
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `secs` for the process to exit; its status code.
    pub fn exit_code(&mut self, secs: u64) -> Option<i32> {
        self.wait_within(secs).and_then(|s| s.code())
    }
}

/// Runs `cmd` to completion within `secs` seconds (killed past that, and on panic), with its
/// output kept byte for byte.
pub fn run_bounded(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let read_all = |mut s: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = s.read_to_end(&mut b);
            b
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    // Killed on drop: when the deadline assertion fails, too.
    let mut guard = Proc::adopt(child);
    let status = guard
        .wait_within(secs)
        .unwrap_or_else(|| panic!("{cmd:?} did not finish within {secs} s"));
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
