//! DTLS 1.2 handshake fragments, 12-byte headers and all, through `HandshakeHeader::parse`
//! and `mote_wire::reassembly::FragmentAssembler` the way the DTLS engine uses them
//! (`crates/mote/src/dtls/incoming.rs`): fragments of the next expected message_seq are
//! inserted, older and later ones are set aside, a fragment whose type or total contradicts
//! the message in progress is refused, and a whole message moves on to the next seq.
//!
//! Input: one byte of assembler capacity (times 4), then fragments, each a DTLS handshake
//! header followed by its fragment_length bytes. Checked against a model that keeps which
//! bytes of the message arrived (the last value written wins): a header that parses lies
//! inside its message (offset + fragment_length <= length), so the assembler may refuse it
//! only for a contradicting total, a message larger than its buffer or too many holes; it
//! is complete exactly when every byte arrived; and the header emits back to its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::assembly_model::AssemblyModel;
use mote_fuzz::check_error;
use mote_wire::handshake::HandshakeHeader;
use mote_wire::reassembly::FragmentAssembler;
use mote_wire::{Context, HandshakeType, Reader, Writer};

/// The assembler's model, and the type of the message in progress.
#[derive(Default)]
struct Model {
    msg_type: Option<HandshakeType>,
    asm: AssemblyModel,
}

fuzz_target!(|data: &[u8]| {
    let Some((&cap, mut rest)) = data.split_first() else {
        return;
    };
    let cap = usize::from(cap) * 4;
    let mut buf = vec![0u8; cap];
    let mut asm = FragmentAssembler::new(&mut buf);
    let mut m = Model::default();
    let mut next_seq = 0u16;
    let mut messages = 0;
    while !rest.is_empty() {
        let mut r = Reader::new(rest);
        let h = match HandshakeHeader::parse(&mut r, &Context::DTLS12) {
            Ok(h) => h,
            Err(e) => {
                check_error(&e, rest.len());
                return;
            }
        };
        let f = h.dtls.expect("a DTLS header");
        assert!(f.fragment_offset + f.fragment_length <= h.length, "{h:?}");
        let mut out = [0u8; HandshakeHeader::DTLS_LEN];
        let mut w = Writer::new(&mut out);
        h.emit(&mut w).expect("emit of a parsed header");
        assert_eq!(w.written(), &rest[..HandshakeHeader::DTLS_LEN]);
        let body = &rest[HandshakeHeader::DTLS_LEN..];
        let flen = f.fragment_length as usize;
        if body.len() < flen {
            // The engine refuses a fragment that runs past its record.
            return;
        }
        let frag = &body[..flen];
        rest = &body[flen..];

        if f.message_seq != next_seq {
            // Old (a retransmission) or future (dropped): nothing changes.
            continue;
        }
        if m.msg_type.is_some_and(|t| t != h.msg_type) {
            // The engine refuses a fragment of another type under the same seq.
            continue;
        }
        let (total, offset) = (h.length as usize, f.fragment_offset as usize);
        // The header lies inside its message (asserted above), so only the total, the
        // capacity and the holes can be refused.
        let expect = m.asm.expect_insert(cap, total, offset, flen);
        let got = asm.insert(total, offset, frag);
        match expect {
            Ok(merged) => {
                assert_eq!(got, Ok(()), "{h:?}");
                m.msg_type = Some(h.msg_type);
                m.asm.apply(total, offset, frag, merged);
            }
            Err(e) => {
                assert_eq!(got, Err(e), "{h:?}");
                continue;
            }
        }
        assert_eq!(asm.complete(), m.asm.complete(), "after {h:?}");
        if asm.complete().is_some() {
            // Handled: the next message.
            messages += 1;
            asm.reset();
            m = Model::default();
            next_seq = next_seq.wrapping_add(1);
        }
    }
    let _ = messages;
});
