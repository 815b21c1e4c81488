//! One handshake message: the first byte picks the context (see `mote_fuzz::context`), the
//! rest is parsed with `parse_handshake`. A parsed message must emit back, through
//! `emit_handshake`, to exactly the bytes it consumed; parsing with a sink must give the
//! same result as without, and report a well-nested tree inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::{context, handshake_round_trip};

fuzz_target!(|data: &[u8]| {
    let Some((&first, msg)) = data.split_first() else {
        return;
    };
    handshake_round_trip(msg, &context(first));
});
