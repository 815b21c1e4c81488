//! An extension block (`Extension extensions<0..2^16-1>`, length included) read in every
//! `ExtensionContext`. A list that parses must write back to exactly the bytes it consumed,
//! both as parsed (raw) and rebuilt from its decoded extensions (each body written by its
//! own writer); with a sink the result must be the same and the tree well-nested.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::{check_error, hex, CheckSink};
use mote_wire::extensions::{read_extensions, write_extensions, Extension};
use mote_wire::{ExtensionContext, List, Reader, Writer};

const CONTEXTS: [ExtensionContext; 7] = [
    ExtensionContext::ClientHello,
    ExtensionContext::ServerHello,
    ExtensionContext::HelloRetryRequest,
    ExtensionContext::EncryptedExtensions,
    ExtensionContext::CertificateRequest,
    ExtensionContext::Certificate,
    ExtensionContext::NewSessionTicket,
];

fuzz_target!(|data: &[u8]| {
    for ctx in CONTEXTS {
        let mut r = Reader::new(data);
        let plain = read_extensions(&mut r, ctx);
        let used = r.position();

        let mut sink = CheckSink::new(data.len());
        let sunk = read_extensions(&mut Reader::with_sink(data, &mut sink), ctx);
        sink.finish();
        assert_eq!(plain, sunk, "a sink changed the result in {ctx:?}");

        let list = match plain {
            Ok(list) => list,
            Err(e) => {
                check_error(&e, data.len());
                continue;
            }
        };
        let consumed = &data[..used];
        let mut out = vec![0u8; used + 16];
        let mut w = Writer::new(&mut out);
        write_extensions(&list, &mut w).expect("write of a parsed list");
        assert_eq!(w.written(), consumed, "raw re-emission in {ctx:?}");

        let items: Vec<Extension<'_>> = list.iter().collect();
        let mut w = Writer::new(&mut out);
        write_extensions(&List::Items(&items), &mut w)
            .unwrap_or_else(|e| panic!("write of rebuilt extensions in {ctx:?}: {e}"));
        assert_eq!(
            w.written(),
            consumed,
            "rebuilt re-emission in {ctx:?}\nparsed:  {}\nemitted: {}\n{items:?}",
            hex(consumed),
            hex(w.written()),
        );
    }
});
