//! Shared pieces of the engine's interop tests: an OS RNG, a peer process that is killed
//! when the test ends, and a loop that drives a client over a TCP stream.
#![allow(dead_code)]

use mote::{Client, Status};
use mote_crypto::{CryptoError, Provider, Rng};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The OS random number generator.
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(dest))
            .map_err(|_| CryptoError::RngFailure)
    }
}

/// A peer process, killed on drop, whose output is collected.
pub struct Peer {
    pub child: Child,
    pub out: Arc<Mutex<String>>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    pub fn spawn(cmd: &mut Command) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e} (install the Debian package that provides it; ./scripts/test does)"));
        let out = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let o = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut g = o.lock().unwrap();
                    g.push_str(&line);
                    g.push('\n');
                }
            });
        }
        Peer { child, out }
    }

    pub fn wait_for(&self, needle: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.out.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    pub fn stdin(&mut self, s: &str) {
        let _ = self.child.stdin.as_mut().unwrap().write_all(s.as_bytes());
        let _ = self.child.stdin.as_mut().unwrap().flush();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Connects to 127.0.0.1:port, retrying while the server starts.
pub fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                return s;
            }
            Err(e) if Instant::now() > deadline => {
                panic!("cannot connect to 127.0.0.1:{port}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Sends what the client has, then reads and feeds until `done(client)` or failure.
pub fn pump<P: Provider>(
    c: &mut Client<'_, '_, P>,
    s: &mut TcpStream,
    done: impl Fn(&Client<'_, '_, P>) -> bool,
) -> Result<(), String> {
    loop {
        while !c.transmit().is_empty() {
            let n = s.write(c.transmit()).map_err(|e| e.to_string())?;
            c.transmit_done(n);
        }
        if done(c) {
            return Ok(());
        }
        match c.status() {
            Status::Failed => {
                return Err(format!(
                    "client failed: {}",
                    c.error().map(|e| e.to_string()).unwrap_or_default()
                ))
            }
            Status::Closed => return Ok(()),
            _ => {}
        }
        let buf = c.recv_buf();
        if buf.is_empty() {
            return Err("receive buffer full".into());
        }
        let n = s.read(buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("peer closed the connection".into());
        }
        if let Err(e) = c.recv_done(n, &mut OsRng) {
            // Flush the alert owed before reporting.
            while !c.transmit().is_empty() {
                let n = s.write(c.transmit()).unwrap_or(0);
                if n == 0 {
                    break;
                }
                c.transmit_done(n);
            }
            return Err(format!("client failed: {e}"));
        }
    }
}
