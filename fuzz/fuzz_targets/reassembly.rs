//! `HandshakeJoiner` and `FragmentAssembler` driven by arbitrary operation sequences, each
//! checked against a plain model after every step. The assembler's model keeps a
//! `Vec<bool>` of the bytes received: `complete()` must return exactly when every byte of the
//! message has been inserted, and then the bytes last inserted at each position.
//!
//! Input: two bytes of buffer capacities (joiner, assembler), then operations. An operation
//! byte's low bit picks the joiner or the assembler; its other bits pick the operation and
//! its arguments follow (a length, then that many data bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_fuzz::assembly_model::AssemblyModel;
use mote_fuzz::input::Input;
use mote_wire::reassembly::{FragmentAssembler, HandshakeJoiner, TooLarge};

/// The joiner's model: the bytes pushed and not yet popped.
struct JoinModel {
    cap: usize,
    pending: Vec<u8>,
}

impl JoinModel {
    fn first_len(&self) -> Option<usize> {
        let h = self.pending.get(..4)?;
        Some(4 + ((usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3])))
    }
    fn message(&self) -> Option<&[u8]> {
        self.pending.get(..self.first_len()?)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let (Some(jcap), Some(acap)) = (inp.byte(), inp.byte()) else {
        return;
    };
    let (jcap, acap) = (usize::from(jcap), usize::from(acap));
    let mut jbuf = vec![0u8; jcap];
    let mut abuf = vec![0u8; acap];
    let mut joiner = HandshakeJoiner::new(&mut jbuf);
    let mut jm = JoinModel {
        cap: jcap,
        pending: Vec::new(),
    };
    let mut asm = FragmentAssembler::new(&mut abuf);
    let mut am = AssemblyModel::default();

    while let Some(op) = inp.byte() {
        if op & 1 == 0 {
            match (op >> 1) % 3 {
                0 => {
                    let n = usize::from(inp.byte().unwrap_or(0));
                    let chunk = inp.take(n);
                    let end = jm.pending.len() + chunk.len();
                    let expect = if end > jm.cap {
                        Err(TooLarge {
                            needed: end,
                            capacity: jm.cap,
                        })
                    } else {
                        jm.pending.extend_from_slice(chunk);
                        Ok(())
                    };
                    assert_eq!(joiner.push(chunk), expect);
                }
                1 => {
                    joiner.pop();
                    if let Some(n) = jm.message().map(<[u8]>::len) {
                        jm.pending.drain(..n);
                    }
                }
                _ => {}
            }
            assert_eq!(joiner.pending(), jm.pending.len());
            assert_eq!(joiner.first_len(), jm.first_len());
            assert_eq!(joiner.message(), jm.message());
        } else {
            match (op >> 1) % 4 {
                0 => {
                    asm.reset();
                    am.reset();
                }
                k => {
                    // 1: a fragment that fits the message in progress (its total once one is
                    // known, offsets and lengths reduced into it), the way a peer sends them;
                    // 2: any total, offset and length; 3: an offset near the top of usize,
                    // where offset + length overflows.
                    let tb = [inp.byte().unwrap_or(0), inp.byte().unwrap_or(0)];
                    let (ob, lb) = (inp.byte().unwrap_or(0), inp.byte().unwrap_or(0));
                    let (total, offset, n) = match k {
                        1 => {
                            let t = am.total.unwrap_or(usize::from(tb[0]));
                            let o = usize::from(ob) % (t + 1);
                            (t, o, usize::from(lb) % (t - o + 1))
                        }
                        2 => (
                            usize::from(u16::from_be_bytes(tb)),
                            usize::from(ob),
                            usize::from(lb),
                        ),
                        _ => (
                            usize::from(u16::from_be_bytes(tb)),
                            usize::MAX - usize::from(ob),
                            usize::from(lb),
                        ),
                    };
                    let chunk = inp.take(n);
                    let expect = am.expect_insert(acap, total, offset, chunk.len());
                    let got = asm.insert(total, offset, chunk);
                    match expect {
                        Ok(merged) => {
                            assert_eq!(got, Ok(()), "insert({total}, {offset}, {n} bytes)");
                            am.apply(total, offset, chunk, merged);
                        }
                        Err(e) => assert_eq!(got, Err(e), "insert({total}, {offset}, {n})"),
                    }
                }
            }
            assert_eq!(
                asm.complete(),
                am.complete(),
                "complete() disagrees with the bytes received: {:?} of {:?}",
                am.have.iter().filter(|&&h| h).count(),
                am.total,
            );
        }
    }
});
