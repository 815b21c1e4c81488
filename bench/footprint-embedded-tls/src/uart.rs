// COPY of firmware/src/uart.rs (byte for byte below this comment): the comparison with mote's
// firmware must use the same board glue, so that flash, stack and instruction figures differ
// only by the TLS library. Keep in step with the original.
//! The board's UART: the Arm CMSDK APB UART at 0x4000_4000 that QEMU's mps2-an386 connects to
//! its first `-serial` backend. Memory-mapped registers need volatile accesses, which is the
//! only `unsafe` here; the engine itself has none.

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;
const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;

pub struct Uart {
    base: usize,
}

impl Uart {
    /// UART0 of the board, enabled for transmit and receive. 25 MHz / 217 is 115200 baud on
    /// the real FPGA image; QEMU only checks that the divider is at least 16.
    pub fn uart0() -> Uart {
        let u = Uart { base: 0x4000_4000 };
        u.write_reg(BAUDDIV, 217);
        u.write_reg(CTRL, 0b11);
        u
    }

    fn read_reg(&self, off: usize) -> u32 {
        // SAFETY: `base + off` is one of the UART's 32-bit registers on this board.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }

    fn write_reg(&self, off: usize, v: u32) {
        // SAFETY: as above; writes to DATA, CTRL and BAUDDIV have no other effect than the
        // UART's documented ones.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, v) }
    }

    pub fn write_all(&self, bytes: &[u8]) {
        for &b in bytes {
            while self.read_reg(STATE) & STATE_TX_FULL != 0 {}
            self.write_reg(DATA, u32::from(b));
        }
    }

    /// Reads at least one byte (blocking), then whatever else is already waiting, up to
    /// `buf.len()`.
    pub fn read_some(&self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            if self.read_reg(STATE) & STATE_RX_FULL == 0 {
                if n > 0 {
                    // Give the next byte a moment: a record usually arrives back to back.
                    let mut spins = 2000;
                    while spins > 0 && self.read_reg(STATE) & STATE_RX_FULL == 0 {
                        spins -= 1;
                    }
                    if spins == 0 {
                        break;
                    }
                }
                continue;
            }
            buf[n] = self.read_reg(DATA) as u8;
            n += 1;
        }
        n
    }
}

/// The board's CMSDK APB timer 0 at 0x4000_0000, counting down at the 25 MHz peripheral
/// clock. Under `qemu-system-arm -icount shift=0` one instruction is one nanosecond of
/// virtual time, so one tick is 40 instructions: the handshake's instruction count is
/// measured this way (a real board would use DWT's cycle counter instead).
pub struct Timer;

const TIMER0: usize = 0x4000_0000;

impl Timer {
    pub fn start() -> Timer {
        // SAFETY: TIMER0's RELOAD (0x08) and CTRL (0x00) registers on this board.
        unsafe {
            core::ptr::write_volatile((TIMER0 + 0x08) as *mut u32, u32::MAX);
            core::ptr::write_volatile((TIMER0 + 0x04) as *mut u32, u32::MAX);
            core::ptr::write_volatile(TIMER0 as *mut u32, 1);
        }
        Timer
    }

    /// Ticks since `start` (the timer counts down from 2^32 - 1).
    pub fn ticks(&self) -> u32 {
        // SAFETY: TIMER0's VALUE register.
        u32::MAX - unsafe { core::ptr::read_volatile((TIMER0 + 0x04) as *const u32) }
    }
}
