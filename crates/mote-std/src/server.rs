//! The blocking server stream is [`crate::stream::Stream`] with a [`mote::Server`]
//! ([`crate::TlsServerStream`]); this file holds its test against the blocking client.

#[cfg(test)]
mod tests {
    use crate::{Buffers, OsRng, TlsServerStream, TlsStream};
    use mote::Server;
    use mote::{Client, ClientConfig, ExternalPsk, ServerConfig};
    use mote_crypto::rustcrypto::RustCrypto;
    use mote_crypto::HashAlgorithm;
    use std::io::Write;
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
