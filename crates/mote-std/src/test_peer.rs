//! What the unit tests of the blocking and async server streams share: a PSK, a blocking
//! client on its own thread, and a server engine over test buffers.

use crate::{Buffers, OsRng, TlsStream};
use mote::{Client, ClientConfig, ExternalPsk, Server, ServerConfig};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::HashAlgorithm;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;

pub const PSK: ExternalPsk<'static> = ExternalPsk {
    identity: b"dev1",
    key: &[7; 32],
    hash: HashAlgorithm::Sha256,
};

pub const PSKS: [ExternalPsk<'static>; 1] = [PSK];

/// mote's blocking PSK client on a thread: connects to `addr`, sends `line`, and returns
/// the line it reads back.
pub fn client_thread(addr: SocketAddr, line: &'static [u8]) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut cfg = ClientConfig::new();
        cfg.psk = Some(PSK);
        cfg.psk_only = true;
        let mut bufs = Buffers::full();
        let sock = std::net::TcpStream::connect(addr).unwrap();
        let c = Client::new(
            RustCrypto,
            &cfg,
            &mut OsRng,
            crate::now(),
            &mut bufs.rx,
            &mut bufs.tx,
        )
        .unwrap();
        let mut tls = TlsStream::connect(c, sock).unwrap();
        tls.write_all(line).unwrap();
        let mut got = String::new();
        BufReader::new(&mut tls).read_line(&mut got).unwrap();
        got
    })
}

/// A server configuration with [`PSKS`].
pub fn server_config() -> ServerConfig<'static> {
    let mut cfg = ServerConfig::new();
    cfg.psks = &PSKS;
    cfg
}

/// A server engine of `cfg` over `bufs`.
pub fn server<'a, 'b>(
    cfg: &'a ServerConfig<'a>,
    bufs: &'b mut Buffers,
) -> Server<'a, 'b, RustCrypto> {
    Server::new(
        RustCrypto,
        cfg,
        &mut OsRng,
        crate::now(),
        &mut bufs.rx,
        &mut bufs.tx,
    )
    .unwrap()
}
