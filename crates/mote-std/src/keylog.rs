//! An NSS key log writer (SSLKEYLOGFILE, draft-ietf-tls-keylogfile), so Wireshark,
//! `tshark -o tls.keylog_file:FILE` and `mote dissect --keylog FILE` decrypt mote's traffic.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

pub struct KeyLogFile {
    file: Mutex<File>,
}

impl KeyLogFile {
    /// Appends to `path`, creating it.
    pub fn open(path: &Path) -> std::io::Result<KeyLogFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(KeyLogFile {
            file: Mutex::new(file),
        })
    }

    /// The file named by the SSLKEYLOGFILE environment variable, if it is set.
    pub fn from_env() -> Option<KeyLogFile> {
        let p = std::env::var_os("SSLKEYLOGFILE")?;
        KeyLogFile::open(Path::new(&p)).ok()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl mote::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8; 32], secret: &[u8]) {
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        if let Ok(mut f) = self.file.lock() {
            // A key log is a debugging aid: failing to write it must not break the connection.
            let _ = f.write_all(line.as_bytes());
        }
    }
}
