// COPY of firmware/src/host.rs (byte for byte below this comment): the comparison with mote's
// firmware must use the same board glue, so that flash, stack and instruction figures differ
// only by the TLS library. Keep in step with the original.
//! What the host gives the board at boot, through Arm semihosting: the command line (seed,
//! time, credentials), and the outcome reported back with an exit status.

/// The semihosting command line, e.g.
/// `mote-fw mode=psk seed=<64 hex> time=<unix secs> id=sensor-0001 psk=<hex> readings=3`.
pub fn cmdline(buf: &mut [u8]) -> &str {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: SYS_GET_CMDLINE writes at most block[1] bytes to block[0] and the length back
    // into block[1]; both point into memory we own for the duration of the call.
    let r = unsafe {
        cortex_m_semihosting::syscall1(
            cortex_m_semihosting::nr::GET_CMDLINE,
            block.as_mut_ptr() as usize,
        )
    };
    if r != 0 {
        return "";
    }
    let n = block[1].min(buf.len());
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// The value of `key=` on the command line.
pub fn arg<'a>(cmdline: &'a str, key: &str) -> Option<&'a str> {
    cmdline
        .split_ascii_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// Decodes hex into `out`, returning the bytes written.
pub fn hex<'o>(s: &str, out: &'o mut [u8]) -> Option<&'o [u8]> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 || b.len() / 2 > out.len() {
        return None;
    }
    for (i, pair) in b.chunks(2).enumerate() {
        let v = |c: u8| (c as char).to_digit(16);
        out[i] = (v(pair[0])? * 16 + v(pair[1])?) as u8;
    }
    Some(&out[..b.len() / 2])
}

/// Writes to the host's console. Deliberately not `core::fmt`: formatting machinery costs
/// more than 10 KB of flash, which the footprint report would charge to mote.
pub fn print(s: &str) {
    if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
        let _ = out.write_all(s.as_bytes());
    }
}

/// Writes `n` in decimal.
pub fn print_num(n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    print(core::str::from_utf8(&buf[i..]).unwrap_or("?"));
}

/// Ends the emulation with `ok`'s exit status.
pub fn exit(ok: bool) -> ! {
    use cortex_m_semihosting::debug;
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}
