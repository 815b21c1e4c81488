//! The blocking server stream is [`crate::stream::Stream`] with a [`mote::Server`]
//! ([`crate::TlsServerStream`]); this file holds its test against the blocking client.

#[cfg(test)]
mod tests {
    use crate::test_peer::{client_thread, server, server_config};
    use crate::{Buffers, TlsServerStream};
    use std::io::{BufRead, BufReader, Write};

    #[test]
    fn blocking_server_talks_to_the_blocking_client() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = client_thread(listener.local_addr().unwrap(), b"ping\n");
        let cfg = server_config();
        let (sock, _) = listener.accept().unwrap();
        let mut bufs = Buffers::server(0);
        let mut tls = TlsServerStream::accept(server(&cfg, &mut bufs), sock).unwrap();
        let mut line = String::new();
        BufReader::new(&mut tls).read_line(&mut line).unwrap();
        assert_eq!(line, "ping\n");
        tls.write_all(b"pong\n").unwrap();
        tls.close().unwrap();
        assert_eq!(client.join().unwrap(), "pong\n");
    }
}
