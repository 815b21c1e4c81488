//! What the DTLS 1.2 engine targets (dtls_client_engine.rs, dtls_server_engine.rs) share:
//! a deterministic RNG, the loop that feeds an endpoint timeouts and datagrams read off the
//! input, the checks after each step, and the sending of what it has queued. What differs
//! per role (the status checks after a drain, the stateless cookie check a server runs on
//! each datagram) stays in the targets.

use crate::input::Input;
use mote::dtls::{Dtls, Role};
use mote::{DtlsClient, DtlsServer, Status, UnixTime};
use mote_crypto::rustcrypto::RustCrypto;
use mote_crypto::{CryptoError, Rng};
use mote_wire::AlertDescription;

/// The simulated clock starts here (ms).
pub const START_MS: u64 = 1_000_000;

/// A deterministic RNG: the byte counter.
pub struct Counter(pub u8);

impl Rng for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for b in dest {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
        Ok(())
    }
}

/// The role-specific part of an endpoint under fuzzing.
pub trait Fuzzed {
    /// "client" or "server", for the failure messages.
    const WHO: &'static str;
    /// What it writes once connected.
    const REPLY: &'static [u8];
    /// A suite was negotiated.
    fn has_suite(&self) -> bool;
}

impl Fuzzed for DtlsClient<'_, '_, RustCrypto> {
    const WHO: &'static str = "client";
    const REPLY: &'static [u8] = b"reading 21.5";
    fn has_suite(&self) -> bool {
        self.negotiated().suite.is_some()
    }
}

impl Fuzzed for DtlsServer<'_, '_, RustCrypto> {
    const WHO: &'static str = "server";
    const REPLY: &'static [u8] = b"ack";
    fn has_suite(&self) -> bool {
        self.negotiated().suite.is_some()
    }
}

/// A failed endpoint says why and stops its timer; a connected one has negotiated a suite.
pub fn check<'b, R: Role>(e: &Dtls<'b, R>)
where
    Dtls<'b, R>: Fuzzed,
{
    match e.status() {
        Status::Failed => {
            assert!(e.error().is_some(), "failed without a reason");
            assert_eq!(
                e.next_timeout(),
                None,
                "a failed {} keeps its timer",
                <Dtls<'b, R>>::WHO
            );
        }
        Status::Connected => assert!(e.has_suite()),
        _ => {}
    }
}

/// Sends what `e` has queued (at most 64 datagrams), each no larger than `mtu`. If it
/// failed and had not `ended` before, the first datagram, when a plaintext (epoch 0) one,
/// must be the fatal alert it owes. Returns how many datagrams went out and that alert.
pub fn send_queued<R: Role>(
    e: &mut Dtls<'_, R>,
    mtu: usize,
    ended: bool,
) -> (usize, Option<AlertDescription>) {
    let status = e.status();
    let ending = matches!(status, Status::Failed | Status::Closed);
    let owed = if status == Status::Failed {
        e.error().and_then(|e| e.alert())
    } else {
        None
    };
    let mut sent = 0;
    for _ in 0..64 {
        let d = e.transmit();
        let n = d.len();
        if n == 0 {
            break;
        }
        assert!(n <= mtu, "a datagram of {n} bytes with an MTU of {mtu}");
        if ending && !ended && sent == 0 {
            if let Some(a) = owed {
                // An epoch-0 alert is plaintext; an epoch-1 one is sealed (not checked).
                if d[3..5] == [0, 0] {
                    assert_eq!(
                        (d[0], &d[13..]),
                        (21, &[2, a.0][..]),
                        "the owed alert first"
                    );
                }
            }
        }
        sent += 1;
        e.transmit_done();
    }
    (sent, owed)
}

/// Runs the operations of `inp` on `e`, from [`START_MS`]: an operation byte whose low two
/// bits are 0 is a timeout (the next byte times 100 ms later); otherwise two bytes of
/// length follow and a datagram of that many bytes (or what is left), which `inspect` sees
/// first. Once connected, `e` reads what arrived and writes [`Fuzzed::REPLY`]. After each
/// operation, [`check`], then `drain`.
pub fn run<'b, R: Role>(
    e: &mut Dtls<'b, R>,
    inp: &mut Input<'_>,
    mut inspect: impl FnMut(&[u8]),
    mut drain: impl FnMut(&mut Dtls<'b, R>),
) where
    Dtls<'b, R>: Fuzzed,
{
    let mut now = START_MS;
    let mut rng = Counter(0x80);
    let mut out = [0u8; 2048];
    while let Some(op) = inp.byte() {
        if op & 3 == 0 {
            now += u64::from(inp.byte().unwrap_or(0)) * 100;
            let r = e.handle_timeout(UnixTime::from_millis(now));
            if r.is_err() {
                assert_eq!(e.status(), Status::Failed);
            }
        } else {
            let hi = inp.byte().unwrap_or(0);
            let lo = inp.byte().unwrap_or(0);
            let d = inp.take(usize::from(u16::from_be_bytes([hi, lo])));
            inspect(d);
            // Application data waiting blocks the receive buffer: read it first.
            while e.has_app_data() {
                e.read(&mut out);
            }
            let buf = e.recv_buf();
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            let before = e.status();
            let r = e.recv_datagram(n, UnixTime::from_millis(now), &mut rng);
            if r.is_err() {
                assert!(
                    matches!(e.status(), Status::Failed | Status::Closed)
                        || matches!(before, Status::Failed | Status::Closed),
                    "an error left the {} {:?}",
                    <Dtls<'b, R>>::WHO,
                    e.status()
                );
            }
            if e.status() == Status::Connected {
                while e.has_app_data() {
                    e.read(&mut out);
                }
                let _ = e.write(<Dtls<'b, R>>::REPLY);
            }
        }
        check(e);
        drain(e);
    }
}
