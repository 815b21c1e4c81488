//! TLS records: `TlsRecord::parse` in a loop over the input, each record emitted back to its
//! bytes; every handshake record's fragment parsed as handshake messages in the TLS 1.2 and
//! TLS 1.3 contexts (each message emitted back), alerts parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::{check_error, handshakes};
use mote_wire::record::TlsRecord;
use mote_wire::{Alert, ContentType, Context, Reader, Writer};

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    while !r.is_empty() {
        let start = r.position();
        let rec = match TlsRecord::parse(&mut r) {
            Ok(rec) => rec,
            Err(e) => {
                check_error(&e, data.len());
                break;
            }
        };
        let consumed = &data[start..r.position()];
        let mut out = vec![0u8; consumed.len() + 8];
        let mut w = Writer::new(&mut out);
        rec.emit(&mut w).expect("emit of a parsed record");
        assert_eq!(w.written(), consumed);

        match rec.content_type {
            ContentType::HANDSHAKE => {
                handshakes(rec.fragment, &Context::TLS12);
                handshakes(rec.fragment, &Context::TLS13);
            }
            ContentType::ALERT => {
                let mut ar = Reader::new(rec.fragment);
                if let Err(e) = Alert::parse(&mut ar) {
                    check_error(&e, rec.fragment.len());
                }
            }
            _ => {}
        }
    }
});
