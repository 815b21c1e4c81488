//! A minimal pcapng writer: one Section Header Block, one Interface Description Block, then an
//! Enhanced Packet Block per packet with a microsecond timestamp (pcapng's default resolution,
//! so the interface needs no `if_tsresol` option). Little-endian, as written by the host.
//!
//! Each block is written with a single `write_all` and flushed at once, so a bridge that is
//! killed leaves a file that ends on a block boundary and every reader accepts.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// LINKTYPE_RAW: each packet starts with an IPv4 (or IPv6) header, no link layer.
pub const LINKTYPE_RAW: u16 = 101;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// The snapshot length announced: no packet this bridge writes is longer.
const SNAPLEN: u32 = 262_144;
/// shb_userappl: the application that wrote the section.
const OPT_SHB_USERAPPL: u16 = 4;

/// Writes pcapng blocks to `W`.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the section header (naming `app` as the writer) and one interface of `linktype`.
    pub fn new(mut out: W, linktype: u16, app: &str) -> io::Result<Self> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        // Section length unknown: -1.
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        option(&mut shb, OPT_SHB_USERAPPL, app.as_bytes());
        option(&mut shb, 0, &[]);
        let mut bytes = block(SHB, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&linktype.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&SNAPLEN.to_le_bytes());
        bytes.extend_from_slice(&block(IDB, &idb));
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(Writer { out })
    }

    /// Writes one packet of interface 0, stamped `at`, and flushes.
    pub fn packet(&mut self, at: SystemTime, data: &[u8]) -> io::Result<()> {
        let micros = at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet too long"))?;
        let mut epb = Vec::with_capacity(20 + data.len() + 3);
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(micros as u32).to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(data);
        pad(&mut epb);
        self.out.write_all(&block(EPB, &epb))?;
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A block: type, total length, body (already padded), total length again.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let total = (body.len() + 12) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
    out
}

/// An option (code, length, value padded to 4 bytes); code 0 is opt_endofopt.
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    pad(out);
}

fn pad(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_parser::pcapng::Block;
    use std::time::Duration;

    #[test]
    fn blocks_parse_with_pcap_parser() {
        let mut w = Writer::new(Vec::new(), LINKTYPE_RAW, "mote bridge").unwrap();
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        w.packet(at, &[0x45, 1, 2, 3, 4]).unwrap();
        w.packet(at, &[]).unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len() % 4, 0);
        let mut rest = &bytes[..];
        let mut seen = Vec::new();
        while !rest.is_empty() {
            let (after, b) = pcap_parser::parse_block_le(rest).unwrap();
            rest = after;
            seen.push(match b {
                Block::SectionHeader(shb) => {
                    assert_eq!((shb.major_version, shb.minor_version), (1, 0));
                    "shb".to_string()
                }
                Block::InterfaceDescription(idb) => {
                    assert_eq!(idb.linktype.0, 101);
                    "idb".to_string()
                }
                Block::EnhancedPacket(epb) => {
                    let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    assert_eq!(ts, 1_700_000_000_123_456);
                    assert_eq!(epb.caplen, epb.origlen);
                    format!("epb {:?}", &epb.data[..epb.caplen as usize])
                }
                _ => "other".to_string(),
            });
        }
        assert_eq!(seen, ["shb", "idb", "epb [69, 1, 2, 3, 4]", "epb []"]);
    }
}
