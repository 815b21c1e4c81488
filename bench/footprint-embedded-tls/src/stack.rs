// COPY of firmware/src/stack.rs (byte for byte below this comment): the comparison with mote's
// firmware must use the same board glue, so that flash, stack and instruction figures differ
// only by the TLS library. Keep in step with the original.
//! Peak stack use, measured by painting: fill the unused stack with a pattern at boot, and
//! after the work find the deepest word that is no longer the pattern.

const PATTERN: u32 = 0xDEAD_C0DE;
/// How much of the stack below the current frame to paint (the board has 4 MB of RAM; the
/// engine is expected to need tens of kilobytes).
const PAINT: usize = 128 * 1024;

/// The initial stack pointer: the first word of the vector table, at address 0 on this board.
fn stack_start() -> usize {
    // SAFETY: address 0 holds the vector table's initial SP value (cortex-m-rt puts it there).
    unsafe { core::ptr::read_volatile(0 as *const u32) as usize }
}

/// Paints `PAINT` bytes below the current stack pointer, leaving a margin for this frame;
/// returns the bottom of the painted region.
pub fn paint() -> usize {
    let top = cortex_m::register::msp::read() as usize - 256;
    let bottom = top - PAINT;
    let mut p = bottom;
    while p < top {
        // SAFETY: [bottom, top) is unused stack below the current frame: nothing lives there.
        unsafe { core::ptr::write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
    bottom
}

/// The most stack used since boot: from the initial stack pointer down to the deepest word
/// that no longer holds the pattern.
pub fn peak(bottom: usize) -> usize {
    let top = stack_start();
    let mut p = bottom;
    // SAFETY: reads of the painted region only.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    top.saturating_sub(p)
}
