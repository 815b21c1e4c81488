//! An async TLS 1.3 server stream over any tokio `AsyncRead + AsyncWrite`, written only on
//! the engine's public four-channel API, as the blocking [`crate::TlsStream`] is: the
//! adapter moves bytes between the socket and the engine and never looks inside them.
//!
//! Every `.await` is on the socket alone, so [`TlsServerStream::read`] is cancel-safe: a
//! read dropped at an await point loses no data (bytes reach the engine only after the
//! socket read returned them). The engine borrows its configuration and buffers, so a
//! spawned connection owns them in the same future, e.g. as locals of the task's `async`
//! block.

use crate::OsRng;
use mote::{Error, Server, Status};
use mote_crypto::Provider;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

fn io_error(e: Error) -> io::Error {
    let kind = match e {
        Error::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        Error::Api(_) | Error::Capacity { .. } => io::ErrorKind::Other,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e.to_string())
}

/// A TLS 1.3 server connection over an async byte stream such as a tokio `TcpStream`.
pub struct TlsServerStream<'a, 'b, P: Provider, S> {
    server: Server<'a, 'b, P>,
    sock: S,
}

/// Completes the server handshake over `sock`. On failure the alert owed to the client has
/// been sent (best effort); the error says why. Bound it with a timeout: a client that
/// stops sending holds it forever.
pub async fn accept<'a, 'b, P, S>(
    server: Server<'a, 'b, P>,
    sock: S,
) -> io::Result<TlsServerStream<'a, 'b, P, S>>
where
    P: Provider,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut s = TlsServerStream { server, sock };
    while s.server.status() == Status::Handshaking {
        s.flush_transmit().await?;
        s.receive().await?;
    }
    s.flush_transmit().await?;
    // A client may send close_notify right behind its Finished: the handshake completed
    // all the same, and what it sent before is still to be read.
    match s.server.status() {
        Status::Connected | Status::PeerClosed => Ok(s),
        _ => Err(s.failure()),
    }
}

impl<'a, 'b, P, S> TlsServerStream<'a, 'b, P, S>
where
    P: Provider,
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// The engine, for what was negotiated.
    pub fn server(&self) -> &Server<'a, 'b, P> {
        &self.server
    }

    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// Reads application data into `out`: `Ok(0)` once the client sent close_notify. A TCP
    /// close without close_notify is an `UnexpectedEof` error (a possible truncation).
    pub async fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.server.read(out);
            if n > 0 || out.is_empty() {
                self.flush_transmit().await?;
                return Ok(n);
            }
            match self.server.status() {
                Status::Closed | Status::PeerClosed => return Ok(0),
                Status::Failed => return Err(self.failure()),
                _ => {}
            }
            self.flush_transmit().await?;
            self.receive().await?;
        }
    }

    /// Seals and sends all of `data`.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let mut taken = 0;
        while taken < data.len() {
            let n = self.server.write(&data[taken..]).map_err(io_error)?;
            taken += n;
            self.flush_transmit().await?;
        }
        Ok(())
    }

    /// Sends close_notify and shuts down the sending side of the socket. The client's
    /// close_notify is not waited for (RFC 8446 section 6.1 does not require it).
    pub async fn close(&mut self) -> io::Result<()> {
        self.server.close();
        self.flush_transmit().await?;
        self.sock.shutdown().await
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

    async fn flush_transmit(&mut self) -> io::Result<()> {
        while !self.server.transmit().is_empty() {
            let n = self.sock.write(self.server.transmit()).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "peer stopped accepting data",
                ));
            }
            self.server.transmit_done(n);
        }
        self.sock.flush().await
    }

    /// Reads once from the socket into the engine.
    async fn receive(&mut self) -> io::Result<()> {
        let buf = self.server.recv_buf();
        if buf.is_empty() {
            return Err(io::Error::other("receive buffer full"));
        }
        let n = self.sock.read(buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the TCP connection without close_notify",
            ));
        }
        let r = self.server.recv_done(n, &mut OsRng);
        // Send any alert owed, then report.
        let _ = self.flush_transmit().await;
        r.map_err(io_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_peer::{client_thread, server, server_config};
    use crate::Buffers;
    use std::io::Write;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// mote's blocking client against the async server over loopback TCP: a line each
    /// way, then close_notify from the server.
    #[test]
    fn async_server_talks_to_the_blocking_client() {
        let rt = runtime();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let client = client_thread(listener.local_addr().unwrap(), b"hello\n");
        let cfg = server_config();
        let got = rt.block_on(async {
            let (sock, _) = listener.accept().await.unwrap();
            let mut bufs = Buffers::server(0);
            let mut tls = accept(server(&cfg, &mut bufs), sock).await.unwrap();
            assert!(tls.server().negotiated().psk);
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            while !got.ends_with(b"\n") {
                let n = tls.read(&mut buf).await.unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            tls.write_all(b"ack 1\n").await.unwrap();
            tls.close().await.unwrap();
            got
        });
        assert_eq!(got, b"hello\n");
        assert_eq!(client.join().unwrap(), "ack 1\n");
    }

    /// A client that closes the TCP connection mid-handshake is an error, not a hang.
    #[test]
    fn eof_during_the_handshake_is_an_error() {
        let cfg = server_config();
        runtime().block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let t = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(&[0x16, 0x03, 0x01]).unwrap();
            });
            let (sock, _) = listener.accept().await.unwrap();
            t.join().unwrap();
            let mut bufs = Buffers::server(0);
            let e = accept(server(&cfg, &mut bufs), sock)
                .await
                .err()
                .expect("an error");
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        });
    }
}
