//! A blocking TLS 1.3 server stream over any `Read + Write`, the server counterpart of
//! [`crate::TlsStream`], written only on the engine's public API.

use crate::OsRng;
use mote::{Error, Server, Status};
use mote_crypto::Provider;
use std::io::{self, Read, Write};

/// A TLS server connection over a byte stream such as an accepted `TcpStream`.
pub struct TlsServerStream<'a, 'b, P: Provider, S: Read + Write> {
    server: Server<'a, 'b, P>,
    sock: S,
}

fn io_error(e: Error) -> io::Error {
    let kind = match e {
        Error::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        Error::Api(_) | Error::Capacity { .. } => io::ErrorKind::Other,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e.to_string())
}

impl<'a, 'b, P: Provider, S: Read + Write> TlsServerStream<'a, 'b, P, S> {
    /// Completes the handshake over `sock`. On failure the alert owed to the client has been
    /// sent; the error says why. Set a read timeout on `sock` first.
    pub fn accept(server: Server<'a, 'b, P>, sock: S) -> io::Result<Self> {
        let mut s = TlsServerStream { server, sock };
        while s.server.status() == Status::Handshaking {
            s.flush_transmit()?;
            s.receive()?;
        }
        s.flush_transmit()?;
        match s.server.status() {
            Status::Connected => Ok(s),
            _ => Err(s.failure()),
        }
    }

    /// The engine, for what was negotiated.
    pub fn server(&self) -> &Server<'a, 'b, P> {
        &self.server
    }

    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// Sends close_notify (the client's is not waited for).
    pub fn close(&mut self) -> io::Result<()> {
        self.server.close();
        self.flush_transmit()
    }

    fn failure(&self) -> io::Error {
        match self.server.error() {
            Some(e) => io_error(e),
            None => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the handshake",
            ),
        }
    }

    fn flush_transmit(&mut self) -> io::Result<()> {
        while !self.server.transmit().is_empty() {
            let n = self.sock.write(self.server.transmit())?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "peer stopped accepting data",
                ));
            }
            self.server.transmit_done(n);
        }
        self.sock.flush()
    }

    fn receive(&mut self) -> io::Result<()> {
        let buf = self.server.recv_buf();
        if buf.is_empty() {
            return Err(io::Error::other("receive buffer full"));
        }
        let n = self.sock.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the TCP connection without close_notify",
            ));
        }
        let r = self.server.recv_done(n, &mut OsRng);
        let _ = self.flush_transmit();
        r.map_err(io_error)
    }
}

impl<P: Provider, S: Read + Write> Read for TlsServerStream<'_, '_, P, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.server.read(out);
            if n > 0 || out.is_empty() {
                self.flush_transmit()?;
                return Ok(n);
            }
            match self.server.status() {
                Status::Closed => return Ok(0),
                Status::Failed => return Err(self.failure()),
                _ => {}
            }
            self.flush_transmit()?;
            self.receive()?;
        }
    }
}

impl<P: Provider, S: Read + Write> Write for TlsServerStream<'_, '_, P, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut taken = 0;
        while taken < data.len() {
            let n = self.server.write(&data[taken..]).map_err(io_error)?;
            taken += n;
            self.flush_transmit()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_transmit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Buffers, TlsStream};
    use mote::{Client, ClientConfig, ExternalPsk, ServerConfig};
    use mote_crypto::rustcrypto::RustCrypto;
    use mote_crypto::HashAlgorithm;
    use std::io::{BufRead, BufReader};

    const PSK: ExternalPsk<'static> = ExternalPsk {
        identity: b"dev1",
        key: &[9; 32],
        hash: HashAlgorithm::Sha256,
    };

    #[test]
    fn blocking_server_talks_to_the_blocking_client() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
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
            tls.write_all(b"ping\n").unwrap();
            let mut line = String::new();
            BufReader::new(&mut tls).read_line(&mut line).unwrap();
            line
        });
        let psks = [PSK];
        let mut cfg = ServerConfig::new();
        cfg.psks = &psks;
        let (sock, _) = listener.accept().unwrap();
        let mut bufs = Buffers::server(0);
        let server = Server::new(
            RustCrypto,
            &cfg,
            &mut OsRng,
            crate::now(),
            &mut bufs.rx,
            &mut bufs.tx,
        )
        .unwrap();
        let mut tls = TlsServerStream::accept(server, sock).unwrap();
        let mut line = String::new();
        BufReader::new(&mut tls).read_line(&mut line).unwrap();
        assert_eq!(line, "ping\n");
        tls.write_all(b"pong\n").unwrap();
        tls.close().unwrap();
        assert_eq!(client.join().unwrap(), "pong\n");
    }
}
