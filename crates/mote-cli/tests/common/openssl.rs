//! `openssl` (Debian package `openssl`): one-shot commands, and `s_server`/`s_client` peers
//! that are killed on drop.

use super::proc::Proc;
use super::tools::require;
use std::path::Path;
use std::process::Command;

/// `openssl SUBCOMMAND`, ready for its arguments; fails naming the package when openssl is
/// missing.
pub fn command(subcommand: &str) -> Command {
    require("openssl", "openssl");
    let mut c = Command::new("openssl");
    c.arg(subcommand);
    c
}

/// Runs `openssl ARGS` in `dir`; its stdout. Panics with its stderr when it fails.
pub fn run(dir: &Path, args: &[&str]) -> String {
    require("openssl", "openssl");
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Starts `cmd` (an `openssl s_server` from `command`) and waits until it accepts.
pub fn start_server(cmd: &mut Command) -> Proc {
    let p = Proc::spawn(cmd);
    assert!(
        p.wait_for("ACCEPT", 10),
        "s_server did not start: {}",
        p.output()
    );
    p
}

/// `openssl s_server -accept 127.0.0.1:PORT -tls1_3 -naccept N ARGS`, accepting.
pub fn tls13_server(port: u16, naccept: u32, args: &[&str]) -> Proc {
    let accept = format!("127.0.0.1:{port}");
    let naccept = naccept.to_string();
    start_server(
        command("s_server")
            .args(["-accept", &accept, "-tls1_3", "-naccept", &naccept])
            .args(args),
    )
}

/// `openssl s_server ARGS`, accepting.
pub fn s_server(args: &[&str]) -> Proc {
    start_server(command("s_server").args(args))
}

/// `openssl s_client ARGS`; send it lines with `Proc::send_line`.
pub fn s_client(args: &[&str]) -> Proc {
    Proc::spawn(command("s_client").args(args))
}
