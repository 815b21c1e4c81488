//! Length fields: a hand-built ClientHello extension block whose every length field, set one
//! too large and one too small, must be blamed exactly.

#[cfg(feature = "diagnose")]
use super::*;

/// What writes one element of a list in [`Builder::many`].
type Part<'f> = Box<dyn FnOnce(&mut Builder) + 'f>;

/// Builds an extension block while noting the offset, width and error path of every
/// length field in it.
#[derive(Default)]
pub struct Builder {
    pub out: Vec<u8>,
    fields: Vec<(usize, usize, String)>,
    path: Vec<String>,
    count: usize,
}

impl Builder {
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }
    fn node(&mut self, name: &str, f: impl FnOnce(&mut Self)) {
        self.path.push(name.into());
        f(self);
        self.path.pop();
    }
    /// A length field named `name` of `width` bytes, then what `f` writes.
    fn len(&mut self, width: usize, name: &str, f: impl FnOnce(&mut Self)) {
        let at = self.out.len();
        self.out.resize(at + width, 0);
        let path = [&self.path[..], &[name.to_string()]].concat().join(".");
        self.fields.push((at, width, path));
        f(self);
        let n = (self.out.len() - at - width) as u32;
        self.out[at..at + width].copy_from_slice(&n.to_be_bytes()[4 - width..]);
    }
    /// A length field, then `data`.
    fn op(&mut self, width: usize, name: &str, data: &[u8]) {
        self.len(width, name, |b| b.bytes(data));
    }
    /// A list of one element: the list's length `name`, node `list`, element `item[0]`.
    fn one(&mut self, width: usize, name: &str, list: &str, f: impl FnOnce(&mut Self)) {
        self.many(width, name, list, vec![Box::new(f)]);
    }
    /// A list of several elements, `item[0]`, `item[1]`, ...
    fn many(&mut self, width: usize, name: &str, list: &str, fs: Vec<Part<'_>>) {
        let item = list.split(':').nth(1).unwrap_or(list).to_string();
        let list = list.split(':').next().unwrap_or(list).to_string();
        self.len(width, name, |b| {
            b.node(&list, |b| {
                for (i, f) in fs.into_iter().enumerate() {
                    b.node(&format!("{item}[{i}]"), f);
                }
            })
        });
    }
    fn ext(&mut self, typ: u16, name: &str, f: impl FnOnce(&mut Self)) {
        self.count += 1;
        self.node(&format!("extensions[{}]", self.count - 1), |b| {
            b.bytes(&typ.to_be_bytes());
            b.len(2, "length", |b| b.node(name, f));
        });
    }
}

/// A ClientHello extension block with every decoded extension that has a length inside,
/// some lists of two elements whose elements carry a length (so that a length off by one
/// inside the first shifts the second), extensions whose body is "the rest" (padding,
/// session_ticket: a wrong outer length shows only at the next extension), and
/// status_request's responder_id_list (one too large swallows the first byte of the
/// request_extensions_length after it). The first seven are those of
/// `built_extensions_emit_the_wire_format`.
#[rustfmt::skip] // one extension per line, as on the wire
pub fn hand_built() -> Builder {
    let mut b = Builder::default();
    b.len(2, "extensions_length", |b| {
        b.ext(0, "server_name", |b| b.one(2, "list_length", "server_name_list:server_name", |b| {
            b.bytes(&[0]);
            b.op(2, "host_name_length", b"example.com");
        }));
        b.ext(10, "supported_groups", |b| b.op(2, "named_group_list_length", &[0, 0x1d, 0, 0x17]));
        b.ext(13, "signature_algorithms", |b| b.op(2, "supported_signature_algorithms_length", &[4, 3, 8, 4, 8, 7]));
        b.ext(51, "key_share", |b| b.one(2, "client_shares_length", "client_shares:key_share_entry", |b| {
            b.bytes(&[0, 0x1d]);
            b.op(2, "key_exchange_length", &[0x11; 32]);
        }));
        b.ext(43, "supported_versions", |b| b.op(1, "versions_length", &[3, 4, 3, 3]));
        b.ext(45, "psk_key_exchange_modes", |b| b.op(1, "ke_modes_length", &[1]));
        b.ext(16, "application_layer_protocol_negotiation", |b| {
            b.one(2, "protocol_name_list_length", "protocol_name_list:protocol_name", |b| b.op(1, "name_length", b"h2"))
        });
        b.ext(28, "record_size_limit", |b| b.bytes(&[0x40, 0x01]));
        b.ext(1, "max_fragment_length", |b| b.bytes(&[4]));
        b.ext(11, "ec_point_formats", |b| b.op(1, "ec_point_format_list_length", &[0]));
        b.ext(0xff01, "renegotiation_info", |b| b.op(1, "renegotiated_connection_length", &[]));
        b.ext(54, "connection_id", |b| b.op(1, "cid_length", &[1, 2, 3, 4]));
        b.ext(44, "cookie", |b| b.op(2, "cookie_length", &[0xc0; 16]));
        b.ext(47, "certificate_authorities", |b| {
            b.many(2, "authorities_length", "authorities:distinguished_name", vec![
                Box::new(|b: &mut Builder| b.op(2, "name_length", &[0x30, 3, 0x31, 1, 0])),
                Box::new(|b: &mut Builder| b.op(2, "name_length", &[0x30, 5, 0x31, 3, 0x30, 1, 0])),
            ])
        });
        b.ext(19, "client_certificate_type", |b| b.op(1, "client_certificate_types_length", &[2, 0]));
        b.ext(5, "status_request", |b| {
            b.bytes(&[1]);
            b.op(2, "responder_id_list_length", &[0, 2, 0x30, 0]);
            b.op(2, "request_extensions_length", &[0x30, 0]);
        });
        b.ext(35, "session_ticket", |b| b.bytes(&[0x5e; 8]));
        b.ext(42, "early_data", |_| {});
        b.ext(49, "post_handshake_auth", |_| {});
        b.ext(23, "extended_master_secret", |_| {});
        b.ext(21, "padding", |b| b.bytes(&[0; 6]));
        b.ext(41, "pre_shared_key", |b| {
            b.many(2, "identities_length", "identities:psk_identity", vec![
                Box::new(|b: &mut Builder| { b.op(2, "identity_length", &[0x1d; 20]); b.bytes(&[0, 0, 0x10, 0]); }),
                Box::new(|b: &mut Builder| { b.op(2, "identity_length", &[0x2e; 9]); b.bytes(&[0, 0, 0x20, 0]); }),
            ]);
            b.many(2, "binders_length", "binders:binder", vec![
                Box::new(|b: &mut Builder| b.op(1, "binder_length", &[0xb1; 32])),
                Box::new(|b: &mut Builder| b.op(1, "binder_length", &[0xb2; 48])),
            ]);
        });
    });
    b
}

/// The block decodes; then each length field one too large and one too small (wrapping,
/// so a zero length becomes the field's maximum) fails at that field's offset, with a path
/// ending in its name.
#[cfg(feature = "diagnose")]
#[test]
fn every_length_off_by_one_blames_that_length() {
    let b = hand_built();
    let list = round_trip(leak(b.out.clone()), CH);
    assert_eq!((list.len(), b.fields.len()), (22, 49));
    assert!(list.iter().all(|e| !matches!(e.body, B::Unknown(_))));
    let mut wrong = Vec::new();
    for (at, width, path) in &b.fields {
        let (at, width) = (*at, *width);
        for delta in [1u32, u32::MAX] {
            let mut m = b.out.clone();
            let field = &mut m[at..at + width];
            let old = field.iter().fold(0, |a, &x| a << 8 | u32::from(x));
            let new = old.wrapping_add(delta) & ((1u32 << (8 * width)) - 1);
            field.copy_from_slice(&new.to_be_bytes()[4 - width..]);
            let e = err(&m, CH);
            if e.offset != at || e.path.to_string() != *path {
                wrong.push(format!("{path} {old}->{new}: got {e}"));
            }
            assert_eq!(e.alert(), A::DECODE_ERROR, "{path}: {e}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[cfg(feature = "diagnose")]
#[test]
fn blamed_lengths_carry_both_numbers() {
    // server_name's extension length one short (16 -> 15) of its body.
    let mut m = hand_built().out;
    m[5] -= 1;
    let e = err(&m, CH);
    check(&e, 4, LEN0, trailing(15, 16));
    let text = "extensions[0].length: declares 15 bytes but its contents end after 16";
    assert_eq!(e.to_string(), format!("error at byte 4 (0x0004) {text}"));
    // One long: the body leaves a byte.
    m[5] += 2;
    check(&err(&m, CH), 4, LEN0, trailing(17, 16));
}
