//! DTLS datagrams: the first byte picks the connection ID length the receiver negotiated
//! (0: none; n: n - 1 bytes), the rest is a datagram. `DtlsRecord::parse` in a loop, each
//! record emitted back to its bytes; DTLSPlaintext handshake records parsed as handshake
//! messages in the DTLS 1.2 and DTLS 1.3 contexts, ACK records as ACKs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::{ack, check_error, handshakes};
use mote_wire::record::DtlsRecord;
use mote_wire::{ContentType, Context, Reader, Writer};

fuzz_target!(|data: &[u8]| {
    let Some((&first, datagram)) = data.split_first() else {
        return;
    };
    let cid_len = first.checked_sub(1).map(usize::from);
    let mut r = Reader::new(datagram);
    while !r.is_empty() {
        let start = r.position();
        let rec = match DtlsRecord::parse(&mut r, cid_len) {
            Ok(rec) => rec,
            Err(e) => {
                check_error(&e, datagram.len());
                break;
            }
        };
        let consumed = &datagram[start..r.position()];
        assert!(!consumed.is_empty(), "a record of no bytes");
        let mut out = vec![0u8; consumed.len() + 8];
        let mut w = Writer::new(&mut out);
        rec.emit(&mut w).expect("emit of a parsed record");
        assert_eq!(w.written(), consumed);

        if let DtlsRecord::Plaintext(p) = rec {
            match p.content_type {
                ContentType::HANDSHAKE => {
                    handshakes(p.fragment, &Context::DTLS12);
                    handshakes(p.fragment, &Context::DTLS13);
                }
                ContentType::ACK => ack(p.fragment),
                _ => {}
            }
        }
    }
});
