//! Hex dumps in every supported shape. The dumps are real tool output (xxd, xxd -p, xxd -i,
//! hexdump -C, od, tshark -x) of a 59-byte file: the first 40 bytes of the Illustrated TLS 1.3
//! ClientHello (shared/vectors/captures/illustrated-tls13/captures/caps/clienthello) followed
//! by the text "dead beef cafe babe", whose ASCII rendering looks like hex.

use mote_cli::input::{load, Format, InputError, Transport};

fn expected() -> Vec<u8> {
    let mut v = vec![
        0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00, 0xf4, 0x03, 0x03, 0x00,
    ];
    v.extend(1u8..=0x1c);
    v.extend_from_slice(b"dead beef cafe babe");
    v
}

fn hex(text: &str) -> Vec<u8> {
    for format in [Format::Hex, Format::Auto] {
        let loaded = load(text.as_bytes(), format).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(loaded.format, Format::Hex);
        assert_eq!(loaded.flows.len(), 1);
        let flow = &loaded.flows[0];
        assert_eq!(flow.transport, Transport::Unknown);
        assert_eq!((flow.client, flow.server), (None, None));
        assert_eq!(flow.segments.len(), 1);
        assert_eq!(flow.segments[0].frame, 0);
        assert!(flow.segments[0].from_client);
    }
    load(text.as_bytes(), Format::Hex).unwrap().flows[0].segments[0]
        .data
        .clone()
}

fn hex_err(text: &str) -> (usize, usize, String) {
    match load(text.as_bytes(), Format::Hex) {
        Err(InputError::Hex {
            line,
            column,
            message,
        }) => (line, column, message),
        other => panic!("expected a hex error, got {other:?}"),
    }
}

const XXD: &str = "\
00000000: 1603 0100 f801 0000 f403 0300 0102 0304  ................
00000010: 0506 0708 090a 0b0c 0d0e 0f10 1112 1314  ................
00000020: 1516 1718 191a 1b1c 6465 6164 2062 6565  ........dead bee
00000030: 6620 6361 6665 2062 6162 65              f cafe babe
";

#[test]
fn xxd_ascii_column_is_never_data() {
    assert_eq!(hex(XXD), expected());
    // One short line whose ASCII column is pure hex.
    assert_eq!(
        hex("00000000: 6465 6164                                dead\n"),
        b"dead"
    );
    // Even without the alignment padding, two spaces end the data.
    assert_eq!(hex("00000000: 6465 6164  dead\n"), b"dead");
    // A full line whose ASCII column reads as 16 hex bytes.
    let full = "00000000: 6465 6164 6265 6566 6361 6665 6261 6265  deadbeefcafebabe\n";
    assert_eq!(hex(full), b"deadbeefcafebabe");
}

#[test]
fn xxd_plain_and_hex_stream() {
    let xxd_p = "16030100f8010000f40303000102030405060708090a0b0c0d0e0f101112\n\
                 131415161718191a1b1c64656164206265656620636166652062616265\n";
    assert_eq!(hex(xxd_p), expected());
    // Wireshark's "Copy as Hex Stream": one line, no separators.
    let stream: String = expected().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex(&stream), expected());
    // Any whitespace, upper case, CRLF line ends.
    assert_eq!(hex("  16 03\t01\r\n\r\n 00F8 \r\n"), [0x16, 3, 1, 0, 0xf8]);
}

#[test]
fn hexdump_canonical() {
    let dump = "\
00000000  16 03 01 00 f8 01 00 00  f4 03 03 00 01 02 03 04  |................|
00000010  05 06 07 08 09 0a 0b 0c  0d 0e 0f 10 11 12 13 14  |................|
00000020  15 16 17 18 19 1a 1b 1c  64 65 61 64 20 62 65 65  |........dead bee|
00000030  66 20 63 61 66 65 20 62  61 62 65                 |f cafe babe|
0000003b
";
    assert_eq!(hex(dump), expected());
    // A single short line, ASCII column unpadded.
    assert_eq!(hex("00000000  64 65 61 64 |dead|\n"), b"dead");
    // One line with the double space after eight bytes.
    let one = "00000000  16 03 01 00 f8 01 00 00  f4 03  |..........|\n";
    assert_eq!(hex(one), [0x16, 3, 1, 0, 0xf8, 1, 0, 0, 0xf4, 3]);
}

#[test]
fn hexdump_squeezed_lines() {
    let dump = "\
00000000  16 03 01 00 40 00 00 00  00 00 00 00 00 00 00 00  |....@...........|
00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00000030  00 00 00 00 00 74 61 69  6c                       |.....tail|
00000039
";
    let mut want = vec![0x16, 3, 1, 0, 0x40];
    want.extend([0; 48]);
    want.extend_from_slice(b"tail");
    assert_eq!(hex(dump), want);
}

#[test]
fn wireshark_hex_dumps() {
    // "Copy as Hex Dump" from the packet bytes pane.
    let gui = "\
0000   16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04   ................
0010   05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14   ................
0020   15 16 17 18 19 1a 1b 1c 64 65 61 64 20 62 65 65   ........dead bee
0030   66 20 63 61 66 65 20 62 61 62 65                  f cafe babe
";
    assert_eq!(hex(gui), expected());
    // tshark -x: two spaces after the offset; two frames, each restarting at 0000.
    let tshark = "\
0000  16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04   ................
0010  05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14   ................
0020  15 16 17 18 19 1a 1b 1c                           ........

0000  64 65 61 64 20 62 65 65 66 20 63 61 66 65 20 62   dead beef cafe b
0010  61 62 65                                          abe
";
    assert_eq!(hex(tshark), expected());
    // A last line that holds just hex-looking ASCII after the usual three spaces.
    assert_eq!(hex("0000   ca fe   ..\n"), [0xca, 0xfe]);
}

#[test]
fn od_offsets_without_ascii() {
    let od = "\
000000 16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04
000010 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14
000020 15 16 17 18 19 1a 1b 1c 64 65 61 64 20 62 65 65
000030 66 20 63 61 66 65 20 62 61 62 65
00003b
";
    assert_eq!(hex(od), expected());
    // Plain `od -t x1` counts in octal, `od -Ad -tx1` in decimal.
    let octal = "\
0000000 16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04
0000020 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14
0000040 15 16 17 18 19 1a 1b 1c 64 65 61 64 20 62 65 65
0000060 66 20 63 61 66 65 20 62 61 62 65
0000073
";
    assert_eq!(hex(octal), expected());
    let decimal = "\
0000000 16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04
0000016 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14
0000032 15 16 17 18 19 1a 1b 1c 64 65 61 64 20 62 65 65
0000048 66 20 63 61 66 65 20 62 61 62 65
0000059
";
    assert_eq!(hex(decimal), expected());
}

#[test]
fn colon_comma_and_prefixed_bytes() {
    assert_eq!(hex("16:03:01:00:f8"), [0x16, 3, 1, 0, 0xf8]);
    assert_eq!(hex("0x16, 0x03, 0x01,\n0x00, 0xF8"), [0x16, 3, 1, 0, 0xf8]);
    assert_eq!(hex("0x16 0x3 0x1"), [0x16, 3, 1]);
    assert_eq!(hex("\"\\x16\\x03\\x01\""), [0x16, 3, 1]);
}

#[test]
fn c_arrays() {
    let xxd_i = "\
unsigned char ch_bin[] = {
  0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00, 0xf4, 0x03, 0x03, 0x00,
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
  0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
  0x19, 0x1a, 0x1b, 0x1c, 0x64, 0x65, 0x61, 0x64, 0x20, 0x62, 0x65, 0x65,
  0x66, 0x20, 0x63, 0x61, 0x66, 0x65, 0x20, 0x62, 0x61, 0x62, 0x65
};
unsigned int ch_bin_len = 59;
";
    assert_eq!(hex(xxd_i), expected());
    let commented = "static const uint8_t hello[] = { /* record header */ 0x16, 0x03,\n\
                     0x01, // version\n 0x00 };";
    assert_eq!(hex(commented), [0x16, 3, 1, 0]);
    assert_eq!(hex("{ 0x16, 0x03 }"), [0x16, 3]);
}

#[test]
fn comments_are_ignored() {
    let text = "# a ClientHello record header\n16 03 01 # content type, version\n\
                // length\n00 f8\n";
    assert_eq!(hex(text), [0x16, 3, 1, 0, 0xf8]);
    let dump = format!("# from xxd\n{XXD}");
    assert_eq!(hex(&dump), expected());
}

#[test]
fn odd_digits_and_stray_characters_name_the_spot() {
    let (line, column, message) = hex_err("16 03 01\n00 f 01\n");
    assert_eq!((line, column), (2, 4));
    assert!(message.contains("odd number of hex digits"), "{message}");
    let (line, column, _) = hex_err("160301 00f");
    assert_eq!((line, column), (1, 8));
    let (line, column, message) = hex_err("# header\n16 03 zz\n");
    assert_eq!((line, column), (2, 7));
    assert!(message.contains("'z'"), "{message}");
    // A damaged xxd line is reported where it is, not in the ASCII column of line 1.
    let damaged = XXD.replace("0506 0708", "0506 07g8");
    let (line, column, _) = hex_err(&damaged);
    assert_eq!((line, column), (2, 18));
    // Under auto-detection, hex-looking text that fails is an error, not raw bytes.
    let err = load(b"16 03 01 00 f", Format::Auto).unwrap_err();
    assert!(err.to_string().contains("line 1, column 13"), "{err}");
    // Binary data forced as hex.
    assert!(matches!(
        load(&[0x16, 0xff, 0xfe], Format::Hex),
        Err(InputError::Hex {
            line: 1,
            column: 2,
            ..
        })
    ));
}

#[test]
fn damaged_offset_dumps_are_errors_not_shorter_data() {
    // The offsets 0000/0010/0020 also read as octal (8 bytes a line): the damaged last line
    // must not make that reading win and drop half of every line.
    let wireshark = "\
0000   16 03 01 00 f8 01 00 00 f4 03 03 00 01 02 03 04   ................
0010   05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14   ................
0020   15 16 17 18 19 1a 1b 1c 64 65 61 64 2x 62 65 65   ........dead bee
";
    assert_eq!(hex_err(wireshark).0, 3);
    // An xxd dump of hex-looking text with a damaged line: plain hex must not take over and
    // read the offsets and the ASCII column as data.
    let xxd = "\
00000000: 6465 6164 6265 6566 6361 6665 6261 6265  deadbeefcafebabe
00000010: 6465 6164 6265 6566 6361 6665 6261 65    deadbeefcafebabe
00000020: 6465 6164                                dead
";
    let (line, column, _) = hex_err(xxd);
    assert_eq!((line, column), (2, 52));
    // A missing byte on a full line.
    let short = XXD.replace("0506 0708 090a", "0506 0708 09");
    assert_eq!(hex_err(&short).0, 2);
}

#[test]
fn offset_lookalikes_in_plain_hex() {
    // Starts with zeros and runs past 16 bytes: plain hex, not an offset and a line.
    let long = "0000 1603 0100 f801 0000 f403 0300 0102 0304 0506";
    assert_eq!(hex(long).len(), 20);
    // Grouped plain hex whose first group could pass for an offset: the offsets would not
    // agree with the byte counts, so it is read as plain hex.
    assert_eq!(
        hex("1603 0100\nf801 0000\n"),
        [0x16, 3, 1, 0, 0xf8, 1, 0, 0]
    );
    assert_eq!(hex("1603 0100 f801"), [0x16, 3, 1, 0, 0xf8, 1]);
    let lines = "16030100f8010000\nf403030001020304\n";
    assert_eq!(
        hex(lines),
        [0x16, 3, 1, 0, 0xf8, 1, 0, 0, 0xf4, 3, 3, 0, 1, 2, 3, 4]
    );
}

/// Random text built from the characters hex dumps are made of must never panic.
#[test]
fn random_text_never_panics() {
    let alphabet: Vec<char> = "0123456789abcdefx: \n\n  *|{}/#,.\\\"'g\t0000"
        .chars()
        .collect();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..20_000 {
        let len = (next() % 120) as usize;
        let mut text: String = (0..len)
            .map(|_| alphabet[(next() as usize) % alphabet.len()])
            .collect();
        if round % 4 == 0 {
            // Mutations of a real dump exercise the offset-dump paths.
            let mut chars: Vec<char> = XXD.chars().collect();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % chars.len();
                chars[at] = alphabet[(next() as usize) % alphabet.len()];
            }
            text = chars.into_iter().collect();
        }
        let _ = load(text.as_bytes(), Format::Auto);
        let _ = load(text.as_bytes(), Format::Hex);
    }
}
