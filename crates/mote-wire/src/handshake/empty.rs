//! The handshake messages with an empty body: HelloRequest (RFC 5246 section 7.4.1.1),
//! ServerHelloDone (RFC 5246 section 7.4.5) and EndOfEarlyData (RFC 8446 section 4.5).
//!
//! `struct {} HelloRequest;` and the like: nothing to read. That the body really is empty is
//! checked by the dispatcher, which requires every body to be consumed exactly.

use crate::context::Context;
use crate::error::{DecodeError, EncodeError};
use crate::reader::Reader;
use crate::writer::Writer;

macro_rules! empty_message {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name;

        impl $name {
            pub fn parse(_r: &mut Reader<'_, '_>, _ctx: &Context) -> Result<Self, DecodeError> {
                Ok($name)
            }

            pub fn emit(&self, _w: &mut Writer<'_>) -> Result<(), EncodeError> {
                Ok(())
            }
        }
    };
}

empty_message!(
    /// TLS 1.2: the server asks the client to renegotiate (RFC 5246 section 7.4.1.1).
    HelloRequest
);
empty_message!(
    /// TLS 1.2: the end of the server's hello flight (RFC 5246 section 7.4.5).
    ServerHelloDone
);
empty_message!(
    /// TLS 1.3: the client has sent all its 0-RTT data (RFC 8446 section 4.5). DTLS 1.3
    /// keeps it (RFC 9147 section 5.6).
    EndOfEarlyData
);

#[cfg(test)]
mod tests {
    use crate::context::Context;
    use crate::error::DecodeErrorKind;
    use crate::handshake::{HandshakeMessage, ServerHelloDone};
    use crate::reader::Reader;
    use crate::registry::HandshakeType;

    #[test]
    fn a_non_empty_body_is_refused() {
        let b = [0u8];
        let e = HandshakeMessage::parse_body(
            HandshakeType::SERVER_HELLO_DONE,
            &mut Reader::new(&b),
            &Context::TLS12,
        )
        .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedTrailing { count: 1 });
        assert_eq!(e.offset, 0);
        let ok = HandshakeMessage::parse_body(
            HandshakeType::SERVER_HELLO_DONE,
            &mut Reader::new(&[]),
            &Context::TLS12,
        );
        assert_eq!(ok, Ok(HandshakeMessage::ServerHelloDone(ServerHelloDone)));
    }
}
