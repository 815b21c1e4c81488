//! Blocking TLS streams over any `Read + Write`, written only on the engine's public
//! four-channel API (as BearSSL's ssl_io.c is on its engine): one [`Stream`] for both roles,
//! through the engine's [`Connection`] trait.

use crate::OsRng;
use mote::{Client, Connection, Error, Server, Status};
use mote_crypto::Provider;
use std::io::{self, Read, Write};

/// A TLS connection (client or server) over a byte stream such as a `TcpStream` or a serial
/// port.
pub struct Stream<C: Connection, S: Read + Write> {
    conn: C,
    sock: S,
}

/// A client stream: [`TlsStream::connect`].
pub type TlsStream<'a, 'b, P, S> = Stream<Client<'a, 'b, P>, S>;
/// A server stream: [`TlsServerStream::accept`].
pub type TlsServerStream<'a, 'b, P, S> = Stream<Server<'a, 'b, P>, S>;

pub(crate) fn io_error(e: Error) -> io::Error {
    let kind = match e {
        Error::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        Error::Api(_) | Error::Capacity { .. } => io::ErrorKind::Other,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e.to_string())
}

impl<C: Connection, S: Read + Write> Stream<C, S> {
    /// Drives the handshake over `sock` until connected. On failure the alert owed to the
    /// peer has been sent; the error says why.
    fn handshake(conn: C, sock: S) -> io::Result<Self> {
        let mut s = Stream { conn, sock };
        while s.conn.status() == Status::Handshaking {
            s.flush_transmit()?;
            s.receive()?;
        }
        s.flush_transmit()?;
        // A peer may send close_notify right behind its Finished: the handshake completed
        // all the same, and what it sent before is still to be read.
        match s.conn.status() {
            Status::Connected | Status::PeerClosed => Ok(s),
            _ => Err(s.failure()),
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    fn failure(&self) -> io::Error {
        match self.conn.error() {
            Some(e) => io_error(e),
            None => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the handshake",
            ),
        }
    }

    fn flush_transmit(&mut self) -> io::Result<()> {
        while !self.conn.transmit().is_empty() {
            let n = self.sock.write(self.conn.transmit())?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "peer stopped accepting data",
                ));
            }
            self.conn.transmit_done(n);
        }
        self.sock.flush()
    }

    /// Reads once from the socket into the engine.
    fn receive(&mut self) -> io::Result<()> {
        let buf = self.conn.recv_buf();
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
        let r = self.conn.recv_done(n, &mut OsRng);
        // Send any alert owed, then report.
        let _ = self.flush_transmit();
        r.map_err(io_error)
    }
}

impl<'a, 'b, P: Provider, S: Read + Write> Stream<Client<'a, 'b, P>, S> {
    /// Completes the client's handshake over `sock`.
    pub fn connect(client: Client<'a, 'b, P>, sock: S) -> io::Result<Self> {
        Self::handshake(client, sock)
    }

    /// The engine, for what was negotiated.
    pub fn client(&self) -> &Client<'a, 'b, P> {
        &self.conn
    }

    /// Sends close_notify and waits (best effort) for the peer's.
    pub fn close(&mut self) -> io::Result<()> {
        self.conn.close();
        self.flush_transmit()?;
        let mut sink = [0u8; 256];
        while self.conn.status() == Status::Connected {
            match self.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        Ok(())
    }
}

impl<'a, 'b, P: Provider, S: Read + Write> Stream<Server<'a, 'b, P>, S> {
    /// Completes the server's handshake over `sock` (set a read timeout on it first).
    pub fn accept(server: Server<'a, 'b, P>, sock: S) -> io::Result<Self> {
        Self::handshake(server, sock)
    }

    /// The engine, for what was negotiated.
    pub fn server(&self) -> &Server<'a, 'b, P> {
        &self.conn
    }

    /// Sends close_notify (the client's is not waited for).
    pub fn close(&mut self) -> io::Result<()> {
        self.conn.close();
        self.flush_transmit()
    }
}

impl<C: Connection, S: Read + Write> Read for Stream<C, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.conn.read(out);
            if n > 0 || out.is_empty() {
                self.flush_transmit()?;
                return Ok(n);
            }
            match self.conn.status() {
                Status::Closed | Status::PeerClosed => return Ok(0),
                Status::Failed => return Err(self.failure()),
                _ => {}
            }
            // Anything the engine queued while reading (a KeyUpdate answer) goes out first.
            self.flush_transmit()?;
            self.receive()?;
        }
    }
}

impl<C: Connection, S: Read + Write> Write for Stream<C, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut taken = 0;
        while taken < data.len() {
            let n = self.conn.write(&data[taken..]).map_err(io_error)?;
            taken += n;
            self.flush_transmit()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_transmit()
    }
}
