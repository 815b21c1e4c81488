//! mote on an operating system: a blocking TLS stream over any `Read + Write`, the OS random
//! number generator and clock, PEM loading, and an SSLKEYLOGFILE writer. Everything here is
//! built on the engine's public API; no protocol logic lives in this crate.

mod dtls;
mod keylog;
mod pem_files;
mod server;
mod stream;
#[cfg(test)]
mod test_peer;
mod tickets;
/// The async server adapter over tokio (feature `tokio`).
#[cfg(feature = "tokio")]
pub mod tokio_io;

pub use dtls::{DtlsClientSocket, DtlsServerSocket, DtlsSocket};
pub use keylog::KeyLogFile;
pub use pem_files::{load_certificates, load_private_key, PrivateKey};
pub use stream::{Stream, TlsServerStream, TlsStream};
pub use tickets::{LatestTicket, OwnedTicket};

use mote_crypto::{CryptoError, Rng};

/// The operating system's random number generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::fill(dest).map_err(|_| CryptoError::RngFailure)
    }
}

/// The system clock as the engine takes time.
pub fn now() -> mote::UnixTime {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    mote::UnixTime::from_millis(ms)
}

/// Unix time in seconds from the system clock.
pub fn unix_time() -> u64 {
    now().as_secs()
}

/// Receive and transmit buffers sized for a client: the largest TLS record (2^14 + 256 bytes
/// of ciphertext plus header) plus room for the largest handshake message a server usually
/// sends (a certificate chain), and a transmit buffer for the client's flights.
pub struct Buffers {
    pub rx: Vec<u8>,
    pub tx: Vec<u8>,
}

impl Buffers {
    /// Buffers for a peer that may send full-size records.
    pub fn full() -> Buffers {
        Buffers {
            rx: vec![0; (1 << 14) + 256 + 5 + 16 * 1024],
            tx: vec![0; (1 << 14) + 256 + 5 + 4096],
        }
    }

    /// Buffers for a peer that honours `record_size_limit` (RFC 8449).
    pub fn for_record_size_limit(limit: u16) -> Buffers {
        let rec = usize::from(limit) + 256 + 5;
        Buffers {
            rx: vec![0; rec + 16 * 1024],
            tx: vec![0; rec + 4096],
        }
    }

    /// Buffers for a server: a full-size record plus the ClientHello to receive, and the
    /// server's flight (ServerHello to Finished, with a certificate chain of up to
    /// `chain_len` bytes) to transmit.
    pub fn server(chain_len: usize) -> Buffers {
        Buffers {
            rx: vec![0; (1 << 14) + 256 + 5 + 4096],
            // The flight must fit whole; application data is sealed in pieces as room
            // allows, so a full-size record is not needed here (it saves 14 KB per idle
            // connection of a collector).
            tx: vec![0; (chain_len + 2048).max(4096)],
        }
    }
}
