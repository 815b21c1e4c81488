//! The clients: tokio-rustls on the parent's multi-thread runtime, trusting the generated CA
//! (rustls' webpki verifier, name sensor.example), TLS_AES_128_GCM_SHA256 and x25519 only,
//! no resumption: every connection is a full handshake.

use crate::pki::{provider, SERVER_NAME};
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub type Conn = tokio_rustls::client::TlsStream<TcpStream>;

/// Bound on each step (connect and handshake, one reading, the close).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

async fn bounded<T>(what: &str, f: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what}: no answer within {STEP_TIMEOUT:?}"),
        )),
    }
}

#[derive(Clone)]
pub struct Clients {
    connector: TlsConnector,
    addr: SocketAddr,
    name: ServerName<'static>,
}

impl Clients {
    pub fn new(ca_der: &[u8], port: u16) -> Result<Clients, String> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca_der.to_vec()))
            .map_err(|e| e.to_string())?;
        let mut cfg = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.resumption = Resumption::disabled();
        Ok(Clients {
            connector: TlsConnector::from(Arc::new(cfg)),
            addr: (Ipv4Addr::LOCALHOST, port).into(),
            name: ServerName::try_from(SERVER_NAME).map_err(|e| e.to_string())?,
        })
    }

    /// TCP connect and a full handshake (complete on the client's side: its Finished sent).
    pub async fn open(&self) -> io::Result<Conn> {
        bounded("handshake", async {
            let sock = TcpStream::connect(self.addr).await?;
            sock.set_nodelay(true)?;
            self.connector.connect(self.name.clone(), sock).await
        })
        .await
    }
}

/// What was negotiated, for the log.
pub fn negotiated(conn: &Conn) -> String {
    let c = conn.get_ref().1;
    let suite = c
        .negotiated_cipher_suite()
        .map_or("?".into(), |s| format!("{:?}", s.suite()));
    let group = c
        .negotiated_key_exchange_group()
        .map_or("?".into(), |g| format!("{:?}", g.name()));
    format!("{suite}, {group}")
}

/// Sends one SenML pack numbered `seq` and waits for `ack SEQ`. `pending` keeps bytes read
/// past the answer's newline (none in practice: one line is outstanding at a time).
pub async fn reading(conn: &mut Conn, seq: u64, pending: &mut Vec<u8>) -> io::Result<()> {
    let line = format!(
        "[{{\"bn\":\"urn:dev:mote:0001:\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":{:.1},\"t\":{},\"seq\":{seq}}}]\n",
        20.0 + (seq % 50) as f64 / 10.0,
        1_764_288_000 + seq
    );
    bounded("reading", async {
        conn.write_all(line.as_bytes()).await?;
        conn.flush().await?;
        let mut buf = [0u8; 256];
        loop {
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let got: Vec<u8> = pending.drain(..=pos).collect();
                let want = format!("ack {seq}\n");
                if got != want.as_bytes() {
                    return Err(io::Error::other(format!(
                        "expected {want:?}, got {:?}",
                        String::from_utf8_lossy(&got)
                    )));
                }
                return Ok(());
            }
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed before the ack",
                ));
            }
            pending.extend_from_slice(&buf[..n]);
        }
    })
    .await
}

/// Sends close_notify, shuts down the sending side and waits for the server's close (its
/// close_notify, or at least its FIN), so that the server has finished with the connection.
pub async fn close(mut conn: Conn) -> io::Result<()> {
    bounded("close", async {
        conn.shutdown().await?;
        let mut buf = [0u8; 256];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
    .await
}
