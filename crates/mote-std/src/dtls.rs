//! DTLS 1.2 over a `UdpSocket` connected to the peer: the engine's datagrams sent and
//! received, its retransmission timer driven by the socket's read timeout and the system
//! clock. Written only on the engine's public API. A server first answers hellos
//! statelessly ([`DtlsSocket::accept`]) and then connects the socket to the one peer whose
//! cookie checked out (a collector with many peers demultiplexes itself: see `mote serve`).

use crate::OsRng;
use mote::dtls::{verify_client_hello, Dtls, HelloVerdict, Role};
use mote::{DtlsClient, DtlsServer, Error, Status};
use mote_crypto::Provider;
use std::io;
use std::net::UdpSocket;
use std::time::Duration;

/// A DTLS connection (client or server) over a UDP socket `connect`ed to the peer.
pub struct DtlsSocket<'b, R: Role> {
    conn: Dtls<'b, R>,
    sock: UdpSocket,
}

/// A client: [`DtlsSocket::connect`].
pub type DtlsClientSocket<'a, 'b, P> = DtlsSocket<'b, mote::dtls::ClientRole<'a, P>>;
/// A server for one peer: [`DtlsSocket::accept`].
pub type DtlsServerSocket<'a, 'b, P> = DtlsSocket<'b, mote::dtls::ServerRole<'a, P>>;

fn io_error(e: Error) -> io::Error {
    let kind = match e {
        Error::AlertReceived(_) => io::ErrorKind::ConnectionAborted,
        Error::HandshakeTimeout { .. } => io::ErrorKind::TimedOut,
        Error::Api(_) | Error::Capacity { .. } => io::ErrorKind::Other,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e.to_string())
}

impl<'a, 'b, P: Provider> DtlsSocket<'b, mote::dtls::ClientRole<'a, P>> {
    /// Completes the handshake (retransmitting as the engine's timer says).
    pub fn connect(conn: DtlsClient<'a, 'b, P>, sock: UdpSocket) -> io::Result<Self> {
        DtlsSocket { conn, sock }.handshake(None)
    }

    /// As [`DtlsSocket::connect`], giving up with `TimedOut` after `limit` even while the
    /// engine's retransmission schedule (up to minutes) would go on.
    pub fn connect_within(
        conn: DtlsClient<'a, 'b, P>,
        sock: UdpSocket,
        limit: Duration,
    ) -> io::Result<Self> {
        DtlsSocket { conn, sock }.handshake(Some(std::time::Instant::now() + limit))
    }

    pub fn client(&self) -> &DtlsClient<'a, 'b, P> {
        &self.conn
    }
}

impl<'a, 'b, P: Provider> DtlsSocket<'b, mote::dtls::ServerRole<'a, P>> {
    /// Waits on the bound, unconnected `sock` for a ClientHello with a valid cookie
    /// (answering the others with a HelloVerifyRequest, keeping nothing), connects the
    /// socket to that peer and completes the handshake with `conn`.
    pub fn accept(
        p: &P,
        cookie_secret: &[u8; 32],
        mut conn: DtlsServer<'a, 'b, P>,
        sock: UdpSocket,
    ) -> io::Result<Self> {
        sock.set_read_timeout(None)?;
        let mut hvr = [0u8; 128];
        loop {
            let buf = conn.recv_buf();
            let (n, peer) = sock.recv_from(buf)?;
            let addr = peer.to_string();
            match verify_client_hello(p, cookie_secret, None, addr.as_bytes(), &buf[..n], &mut hvr)
            {
                HelloVerdict::Verify(len) => {
                    sock.send_to(&hvr[..len], peer)?;
                }
                HelloVerdict::Drop => {}
                HelloVerdict::Accept => {
                    sock.connect(peer)?;
                    conn.recv_datagram(n, crate::now(), &mut OsRng)
                        .map_err(io_error)?;
                    return DtlsSocket { conn, sock }.handshake(None);
                }
            }
        }
    }

    pub fn server(&self) -> &DtlsServer<'a, 'b, P> {
        &self.conn
    }
}

impl<'b, R: Role> DtlsSocket<'b, R> {
    fn handshake(mut self, deadline: Option<std::time::Instant>) -> io::Result<Self> {
        while self.conn.status() == Status::Handshaking {
            self.flush()?;
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no DTLS handshake within the time allowed",
                ));
            }
            self.receive_once(left)?;
        }
        self.flush()?;
        match self.conn.status() {
            Status::Connected | Status::PeerClosed => Ok(self),
            _ => Err(self.failure()),
        }
    }

    pub fn socket(&self) -> &UdpSocket {
        &self.sock
    }

    fn failure(&self) -> io::Error {
        match self.conn.error() {
            Some(e) => io_error(e),
            None => io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"),
        }
    }

    /// Sends every datagram the engine has ready.
    fn flush(&mut self) -> io::Result<()> {
        while !self.conn.transmit().is_empty() {
            self.sock.send(self.conn.transmit())?;
            self.conn.transmit_done();
        }
        Ok(())
    }

    /// Waits for one datagram until the engine's next timeout (or `limit`); handles the
    /// timeout when it comes first.
    fn receive_once(&mut self, limit: Option<Duration>) -> io::Result<bool> {
        let now = crate::now().as_millis();
        let wait = match self.conn.next_timeout() {
            Some(t) => Duration::from_millis(t.saturating_sub(now).max(1)),
            None => limit.unwrap_or(Duration::from_secs(3600)),
        };
        let wait = limit
            .map_or(wait, |l| wait.min(l))
            .max(Duration::from_millis(1));
        self.sock.set_read_timeout(Some(wait))?;
        let buf = self.conn.recv_buf();
        if buf.is_empty() {
            return Ok(true);
        }
        match self.sock.recv(buf) {
            Ok(n) => {
                self.conn
                    .recv_datagram(n, crate::now(), &mut OsRng)
                    .map_err(io_error)?;
                self.flush()?;
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.conn.handle_timeout(crate::now()).map_err(io_error)?;
                self.flush()?;
                Ok(false)
            }
            // An ICMP port unreachable from an earlier datagram: the server is not (yet)
            // there; the retransmission timer decides when to give up.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sends `data` as one record (cut to what one datagram holds); returns how much went.
    pub fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        loop {
            let n = self.conn.write(data).map_err(io_error)?;
            self.flush()?;
            if n > 0 || data.is_empty() {
                return Ok(n);
            }
        }
    }

    /// Receives one record of application data, waiting at most `timeout`; `Ok(None)` when
    /// none came in time, `Ok(Some(0))` once the peer closed.
    pub fn recv(&mut self, out: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.conn.has_app_data() {
                let n = self.conn.read(out);
                self.flush()?;
                return Ok(Some(n));
            }
            match self.conn.status() {
                Status::Closed | Status::PeerClosed => return Ok(Some(0)),
                Status::Failed => return Err(self.failure()),
                _ => {}
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.receive_once(Some(left))?;
        }
    }

    /// Sends close_notify.
    pub fn close(&mut self) -> io::Result<()> {
        self.conn.close();
        self.flush()
    }
}
