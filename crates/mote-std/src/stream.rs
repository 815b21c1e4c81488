//! A blocking TLS stream over any `Read + Write`, written only on the engine's public
//! four-channel API (as BearSSL's ssl_io.c is on its engine).

use crate::OsRng;
use mote::{Client, Error, Status};
use mote_crypto::Provider;
use std::io::{self, Read, Write};

/// A TLS client connection over a byte stream such as a `TcpStream` or a serial port.
pub struct TlsStream<'a, 'b, P: Provider, S: Read + Write> {
    client: Client<'a, 'b, P>,
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

impl<'a, 'b, P: Provider, S: Read + Write> TlsStream<'a, 'b, P, S> {
    /// Completes the handshake over `sock`. On failure the alert owed to the peer has been
    /// sent; the error says why (the engine's error is also in the message).
    pub fn connect(client: Client<'a, 'b, P>, sock: S) -> io::Result<Self> {
        let mut s = TlsStream { client, sock };
        while s.client.status() == Status::Handshaking {
            s.flush_transmit()?;
            s.receive()?;
        }
        s.flush_transmit()?;
        match s.client.status() {
            Status::Connected => Ok(s),
            _ => Err(s.failure()),
        }
    }

    /// The engine, for what was negotiated.
    pub fn client(&self) -> &Client<'a, 'b, P> {
        &self.client
    }

    pub fn get_ref(&self) -> &S {
        &self.sock
    }

    /// Sends close_notify and waits (best effort) for the peer's.
    pub fn close(&mut self) -> io::Result<()> {
        self.client.close();
        self.flush_transmit()?;
        let mut sink = [0u8; 256];
        while self.client.status() == Status::Connected {
            match self.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        Ok(())
    }

    fn failure(&self) -> io::Error {
        match self.client.error() {
            Some(e) => io_error(e),
            None => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed during the handshake",
            ),
        }
    }

    fn flush_transmit(&mut self) -> io::Result<()> {
        while !self.client.transmit().is_empty() {
            let n = self.sock.write(self.client.transmit())?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "peer stopped accepting data",
                ));
            }
            self.client.transmit_done(n);
        }
        self.sock.flush()
    }

    /// Reads once from the socket into the engine.
    fn receive(&mut self) -> io::Result<()> {
        let buf = self.client.recv_buf();
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
        let r = self.client.recv_done(n, &mut OsRng);
        // Send any alert owed, then report.
        let _ = self.flush_transmit();
        r.map_err(io_error)
    }
}

impl<P: Provider, S: Read + Write> Read for TlsStream<'_, '_, P, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.client.read(out);
            if n > 0 || out.is_empty() {
                self.flush_transmit()?;
                return Ok(n);
            }
            match self.client.status() {
                Status::Closed => return Ok(0),
                Status::Failed => return Err(self.failure()),
                _ => {}
            }
            self.receive()?;
        }
    }
}

impl<P: Provider, S: Read + Write> Write for TlsStream<'_, '_, P, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut taken = 0;
        while taken < data.len() {
            let n = self.client.write(&data[taken..]).map_err(io_error)?;
            taken += n;
            self.flush_transmit()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_transmit()
    }
}
