//! Unit tests of `dtls12` (kept apart so the module stays readable).

use super::*;
use mote_crypto::rustcrypto::RustCrypto;
use std::vec::Vec;

type TestAead = <RustCrypto as Provider>::Aead;

const ALGS: [AeadAlgorithm; 4] = [
    AeadAlgorithm::Aes128Gcm,
    AeadAlgorithm::Aes128Ccm,
    AeadAlgorithm::Aes128Ccm8,
    AeadAlgorithm::ChaCha20Poly1305,
];
const DTLS12: ProtocolVersion = ProtocolVersion::DTLS12;
const CID: &[u8] = &[0xde, 0xad, 0xbe, 0xef, 0x01];

fn key(alg: AeadAlgorithm) -> Vec<u8> {
    (0..alg.key_len() as u8)
        .map(|i| i.wrapping_mul(7) ^ 0x5a)
        .collect()
}

fn iv(alg: AeadAlgorithm) -> Vec<u8> {
    (0..fixed_iv_len(alg) as u8).map(|i| 0xa0 + i).collect()
}

fn aead(alg: AeadAlgorithm) -> TestAead {
    RustCrypto.aead(alg, &key(alg)).unwrap()
}

fn pair(alg: AeadAlgorithm, epoch: u16) -> (Dtls12Protector<TestAead>, Dtls12Protector<TestAead>) {
    let p = || Dtls12Protector::from_keys(&RustCrypto, alg, &key(alg), &iv(alg), epoch);
    (p().unwrap(), p().unwrap())
}

/// Seals `content` and returns the whole record.
fn seal(
    w: &mut Dtls12Protector<TestAead>,
    ct: ContentType,
    cid: Option<&[u8]>,
    content: &[u8],
    padding: usize,
) -> Vec<u8> {
    let cid_len = cid.map_or(0, <[u8]>::len);
    let mut buf = std::vec![0xeeu8; w.sealed_len(cid_len, content.len(), padding) + 7];
    let at = w.payload_offset(cid_len);
    buf[at..at + content.len()].copy_from_slice(content);
    let n = w
        .seal(ct, DTLS12, cid, &mut buf, content.len(), padding)
        .unwrap();
    assert_eq!(n, w.sealed_len(cid_len, content.len(), padding));
    buf.truncate(n);
    buf
}

/// The additional data built from the RFCs' structures, field by field, independently
/// of `additional_data`: RFC 5246 6.2.3.3 with RFC 6347 4.1.2.1's seq_num, and RFC 9146
/// section 5.3.
fn rfc_aad(ct: u8, version: u16, epoch: u16, seq: u64, cid: Option<&[u8]>, len: usize) -> Vec<u8> {
    let mut a = Vec::new();
    let seq48 = [
        (seq >> 40) as u8,
        (seq >> 32) as u8,
        (seq >> 24) as u8,
        (seq >> 16) as u8,
        (seq >> 8) as u8,
        seq as u8,
    ];
    match cid {
        None => {
            a.extend_from_slice(&[(epoch >> 8) as u8, epoch as u8]); // seq_num: epoch
            a.extend_from_slice(&seq48); // seq_num: sequence_number
            a.push(ct); // TLSCompressed.type
            a.extend_from_slice(&[(version >> 8) as u8, version as u8]);
            a.extend_from_slice(&[(len >> 8) as u8, len as u8]); // TLSCompressed.length
        }
        Some(cid) => {
            a.extend_from_slice(&[0xff; 8]); // seq_num_placeholder
            a.push(25); // tls12_cid
            a.push(cid.len() as u8); // cid_length
            a.push(25); // tls12_cid
            a.extend_from_slice(&[(version >> 8) as u8, version as u8]);
            a.extend_from_slice(&[(epoch >> 8) as u8, epoch as u8]);
            a.extend_from_slice(&seq48);
            a.extend_from_slice(cid);
            a.extend_from_slice(&[(len >> 8) as u8, len as u8]); // length_of_DTLSInner..
        }
    }
    a
}

/// The nonce built from RFC 5288 / 6655 (salt || explicit) and RFC 7905 (IV XOR
/// padded epoch||seq).
fn rfc_nonce(alg: AeadAlgorithm, explicit: &[u8], epoch: u16, seq: u64) -> [u8; 12] {
    let iv = iv(alg);
    let mut n = [0u8; 12];
    if alg == AeadAlgorithm::ChaCha20Poly1305 {
        let es = (u64::from(epoch) << 48) | seq;
        for i in 0..12 {
            let pad = if i < 4 {
                0
            } else {
                (es >> (8 * (11 - i))) as u8
            };
            n[i] = iv[i] ^ pad;
        }
    } else {
        n[..4].copy_from_slice(&iv);
        n[4..].copy_from_slice(explicit);
    }
    n
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Known answers from a real OpenSSL DTLS 1.2 handshake (samples/openssl-dtls12-psk-
/// ccm8.pcap, made by scripts/make-samples: TLS_PSK_WITH_AES_128_CCM_8, PSK 0102..10).
/// The epoch-1 keys are Wireshark's (tshark -o dtls.psk:0102030405060708090a0b0c0d0e0f10
/// -o dtls.debug_file:...), derived independently of mote; the records are OpenSSL's
/// (frames 5, 7 and 8).
#[test]
fn openssl_ccm8_capture() {
    let alg = AeadAlgorithm::Aes128Ccm8;
    let client = || {
        let key = unhex("e2746a3c36b4cba6b37754cc032b1bff");
        Dtls12Protector::from_keys(&RustCrypto, alg, &key, &unhex("98220072"), 1).unwrap()
    };
    let server = || {
        let key = unhex("771a5abce2777ac4faa45f663e2042d7");
        Dtls12Protector::from_keys(&RustCrypto, alg, &key, &unhex("bd220f17"), 1).unwrap()
    };
    let client_finished = unhex(
        "16fefd00010000000000000028000100000000000041b015f74890cd92a970f366459291a6\
         e27b206c0e056bc5141b11cc445d7191",
    );
    let server_finished = unhex(
        "16fefd000100000000000000280001000000000000cfe7ddaae1fa561476c866fd77704468\
         369fa36aaf1307c5778feae5da64b793",
    );
    let client_data = unhex(
        "17fefd0001000000000001002f0001000000000001be2884f2dc9df4465a17ae0162482644\
         1baf9303504ff7882ffb4c589d9c4c5557dfdf898dfd3d",
    );
    let finished_c = unhex("1400000c000300000000000cc6006ab91d5a42183408c72a");
    let finished_s = unhex("1400000c000400000000000ca73a5d47e3c00959df726293");
    let data = b"[{\"n\":\"temperature\",\"v\":21.4}]\n";

    let mut rec = client_finished.clone();
    let (ct, range, seq) = client().open(&mut rec, 0).unwrap();
    assert_eq!((ct, seq), (ContentType::HANDSHAKE, 0));
    assert_eq!(&rec[range], &finished_c[..]);
    let mut rec = server_finished.clone();
    let (ct, range, seq) = server().open(&mut rec, 0).unwrap();
    assert_eq!((ct, seq), (ContentType::HANDSHAKE, 0));
    assert_eq!(&rec[range], &finished_s[..]);
    let mut rec = client_data.clone();
    let (ct, range, seq) = client().open(&mut rec, 0).unwrap();
    assert_eq!((ct, seq), (ContentType::APPLICATION_DATA, 1));
    assert_eq!(&rec[range], &data[..]);

    // Sealing the same plaintexts gives OpenSSL's records byte for byte (it too sends
    // epoch||seq as the explicit nonce).
    let mut w = client();
    assert_eq!(
        seal(&mut w, ContentType::HANDSHAKE, None, &finished_c, 0),
        client_finished
    );
    assert_eq!(
        seal(&mut w, ContentType::APPLICATION_DATA, None, data, 0),
        client_data
    );
    let mut w = server();
    assert_eq!(
        seal(&mut w, ContentType::HANDSHAKE, None, &finished_s, 0),
        server_finished
    );
    // The other direction's keys do not open them.
    assert!(server().open(&mut client_data.clone(), 0).is_err());
}

#[test]
fn aad_layout_matches_rfc() {
    let mut out = [0u8; MAX_AAD];
    let n = additional_data(
        &mut out,
        ContentType::APPLICATION_DATA,
        DTLS12,
        0x0102,
        0x0304_0506_0708,
        None,
        0x090a,
    );
    assert_eq!(
        &out[..n],
        &rfc_aad(23, 0xfefd, 0x0102, 0x0304_0506_0708, None, 0x090a)[..]
    );
    assert_eq!(
        &out[..n],
        &[1, 2, 3, 4, 5, 6, 7, 8, 23, 0xfe, 0xfd, 9, 10][..]
    );
    let n = additional_data(
        &mut out,
        ContentType::TLS12_CID,
        DTLS12,
        0x0102,
        0x0304_0506_0708,
        Some(CID),
        0x090a,
    );
    assert_eq!(
        &out[..n],
        &rfc_aad(25, 0xfefd, 0x0102, 0x0304_0506_0708, Some(CID), 0x090a)[..]
    );
    #[rustfmt::skip]
    let literal = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // seq_num_placeholder
        25, 5, 25,                                      // tls12_cid, cid_length, tls12_cid
        0xfe, 0xfd,                                     // version
        1, 2, 3, 4, 5, 6, 7, 8,                         // epoch, sequence_number
        0xde, 0xad, 0xbe, 0xef, 0x01,                   // cid
        9, 10,                                          // length_of_DTLSInnerPlaintext
    ];
    assert_eq!(&out[..n], &literal[..]);
    // The longest CID fits.
    let long = [0x11u8; MAX_CID_LEN];
    let n = additional_data(
        &mut out,
        ContentType::TLS12_CID,
        DTLS12,
        1,
        2,
        Some(&long),
        3,
    );
    assert_eq!(n, MAX_AAD);
    assert_eq!(&out[..n], &rfc_aad(25, 0xfefd, 1, 2, Some(&long), 3)[..]);
}

/// A sealed record decrypts with the AEAD alone given the RFC-built nonce and AAD, and
/// has the RFC layout.
#[test]
fn sealed_records_follow_the_rfcs() {
    for alg in ALGS {
        for cid in [None, Some(CID)] {
            let (mut w, _) = pair(alg, 3);
            w.set_sequence(0x0000_1234_5678);
            let content = b"hello, dtls";
            let padding = if cid.is_some() { 4 } else { 0 };
            let rec = seal(&mut w, ContentType::HANDSHAKE, cid, content, padding);
            let cid_len = cid.map_or(0, <[u8]>::len);
            let e = explicit_nonce_len(alg);
            let h = 13 + cid_len;
            // Header.
            assert_eq!(rec[0], if cid.is_some() { 25 } else { 22 });
            assert_eq!(&rec[1..3], &[0xfe, 0xfd]);
            assert_eq!(&rec[3..5], &[0, 3]);
            assert_eq!(&rec[5..11], &[0, 0, 0x12, 0x34, 0x56, 0x78]);
            assert_eq!(&rec[11..11 + cid_len], cid.unwrap_or(&[]));
            let len = usize::from(u16::from_be_bytes([rec[h - 2], rec[h - 1]]));
            assert_eq!(len, rec.len() - h);
            // Explicit nonce = epoch || seq (GCM / CCM).
            assert_eq!(&rec[h..h + e], &[0, 3, 0, 0, 0x12, 0x34, 0x56, 0x78][..e]);
            // Decrypt independently.
            let tag_len = alg.tag_len();
            let inner_len = len - e - tag_len;
            let aad = rfc_aad(rec[0], 0xfefd, 3, 0x1234_5678, cid, inner_len);
            let nonce = rfc_nonce(alg, &rec[h..h + e], 3, 0x1234_5678);
            let mut body = rec[h + e..h + e + inner_len].to_vec();
            aead(alg)
                .open_in_place(&nonce, &aad, &mut body, &rec[rec.len() - tag_len..])
                .unwrap_or_else(|e| panic!("{alg:?} {cid:?}: {e:?}"));
            let mut expect = content.to_vec();
            if cid.is_some() {
                expect.push(22);
                expect.extend_from_slice(&[0; 4]);
            }
            assert_eq!(body, expect, "{alg:?}");
            assert_eq!(w.sequence(), 0x1234_5679);
        }
    }
}

/// A record built by hand from the RFCs (with an explicit nonce that is not epoch||seq,
/// as RFC 5288 allows) opens.
#[test]
fn opens_rfc_built_records() {
    for alg in ALGS {
        for cid in [None, Some(CID)] {
            let (_, r) = pair(alg, 7);
            let cid_len = cid.map_or(0, <[u8]>::len);
            let e = explicit_nonce_len(alg);
            let explicit = [9u8, 8, 7, 6, 5, 4, 3, 2];
            let seq = 42u64;
            let mut inner = b"application".to_vec();
            if cid.is_some() {
                inner.extend_from_slice(&[23, 0, 0]);
            }
            let outer = if cid.is_some() { 25 } else { 23 };
            let aad = rfc_aad(outer, 0xfefd, 7, seq, cid, inner.len());
            let nonce = rfc_nonce(alg, &explicit[..e], 7, seq);
            let mut tag = std::vec![0u8; alg.tag_len()];
            aead(alg)
                .seal_in_place(&nonce, &aad, &mut inner, &mut tag)
                .unwrap();
            let frag_len = e + inner.len() + tag.len();
            let mut rec = std::vec![outer, 0xfe, 0xfd, 0, 7, 0, 0, 0, 0, 0, 42];
            rec.extend_from_slice(cid.unwrap_or(&[]));
            rec.extend_from_slice(&(frag_len as u16).to_be_bytes());
            rec.extend_from_slice(&explicit[..e]);
            rec.extend_from_slice(&inner);
            rec.extend_from_slice(&tag);
            let (ct, range, s) = r.open(&mut rec, cid_len).unwrap();
            assert_eq!(ct, ContentType::APPLICATION_DATA);
            assert_eq!(s, 42);
            assert_eq!(&rec[range.clone()], b"application");
            assert_eq!(range.start, r.payload_offset(cid_len));
        }
    }
}

#[test]
fn round_trips() {
    for alg in ALGS {
        for cid in [None, Some(CID), Some(&[0x42][..])] {
            let cid_len = cid.map_or(0, <[u8]>::len);
            let (mut w, r) = pair(alg, 1);
            for (i, len) in [0usize, 1, 100, MAX_PLAINTEXT - 5].into_iter().enumerate() {
                let content: Vec<u8> = (0..len).map(|j| (j % 251) as u8).collect();
                let padding = if cid.is_some() { i } else { 0 };
                let mut rec = seal(
                    &mut w,
                    ContentType::APPLICATION_DATA,
                    cid,
                    &content,
                    padding,
                );
                assert_eq!(
                    rec.len(),
                    w.overhead(cid_len) + len + padding,
                    "{alg:?} {cid:?} {len}"
                );
                let (ct, range, seq) = r.open(&mut rec, cid_len).unwrap();
                assert_eq!(ct, ContentType::APPLICATION_DATA);
                assert_eq!(seq, i as u64);
                assert_eq!(&rec[range], &content[..]);
            }
            // Content of zeros keeps its zeros (with a CID, the type is non-zero).
            let padding = if cid.is_some() { 3 } else { 0 };
            let mut rec = seal(&mut w, ContentType::ALERT, cid, &[0, 0], padding);
            let (ct, range, _) = r.open(&mut rec, cid_len).unwrap();
            assert_eq!(ct, ContentType::ALERT);
            assert_eq!(&rec[range], &[0, 0]);
        }
    }
}

#[test]
fn empty_cid_means_no_cid() {
    let (mut w, r) = pair(AeadAlgorithm::Aes128Ccm8, 1);
    let mut rec = seal(&mut w, ContentType::HANDSHAKE, Some(&[]), b"x", 0);
    assert_eq!(rec[0], 22);
    assert_eq!(rec.len(), w.overhead(0) + 1);
    let (ct, range, _) = r.open(&mut rec, 0).unwrap();
    assert_eq!((ct, &rec[range]), (ContentType::HANDSHAKE, &b"x"[..]));
}

#[test]
fn overheads() {
    let (w, _) = pair(AeadAlgorithm::Aes128Gcm, 1);
    assert_eq!(w.payload_offset(0), 21);
    assert_eq!(w.overhead(0), 13 + 8 + 16);
    assert_eq!(w.payload_offset(4), 25);
    assert_eq!(w.overhead(4), 17 + 8 + 16 + 1);
    let (w, _) = pair(AeadAlgorithm::Aes128Ccm8, 1);
    assert_eq!(w.overhead(0), 13 + 8 + 8);
    let (w, _) = pair(AeadAlgorithm::ChaCha20Poly1305, 1);
    assert_eq!(w.payload_offset(0), 13);
    assert_eq!(w.overhead(2), 15 + 16 + 1);
}

/// Any bit flipped anywhere in the record (header, CID, explicit nonce, ciphertext,
/// tag) makes it fail.
#[test]
fn tampering_detected() {
    for alg in ALGS {
        for cid in [None, Some(CID)] {
            let cid_len = cid.map_or(0, <[u8]>::len);
            let (mut w, r) = pair(alg, 2);
            let padding = if cid.is_some() { 2 } else { 0 };
            let rec = seal(
                &mut w,
                ContentType::APPLICATION_DATA,
                cid,
                b"payload!",
                padding,
            );
            for i in 0..rec.len() {
                for bit in [0x01u8, 0x80] {
                    let mut t = rec.clone();
                    t[i] ^= bit;
                    assert!(
                        r.open(&mut t, cid_len).is_err(),
                        "{alg:?} {cid:?}: byte {i} ^ {bit:#x} accepted"
                    );
                }
            }
            // The specific errors: tag and CID give bad_record_mac, epoch its own.
            let mut t = rec.clone();
            *t.last_mut().unwrap() ^= 1;
            assert_eq!(
                r.open(&mut t, cid_len),
                Err(Error::Peer(PeerMisbehaved::BadRecordMac))
            );
            let mut t = rec.clone();
            t[10] ^= 1; // sequence number
            assert_eq!(
                r.open(&mut t, cid_len),
                Err(Error::Peer(PeerMisbehaved::BadRecordMac))
            );
            let mut t = rec.clone();
            t[1] = 0xfe; // version fefd -> fefe
            t[2] = 0xff;
            assert_eq!(
                r.open(&mut t, cid_len),
                Err(Error::Peer(PeerMisbehaved::BadRecordMac))
            );
            if cid.is_some() {
                let mut t = rec.clone();
                t[12] ^= 0x40;
                assert_eq!(
                    r.open(&mut t, cid_len),
                    Err(Error::Peer(PeerMisbehaved::BadRecordMac))
                );
            } else {
                let mut t = rec.clone();
                t[0] = 22; // application_data -> handshake
                assert_eq!(
                    r.open(&mut t, 0),
                    Err(Error::Peer(PeerMisbehaved::BadRecordMac))
                );
            }
            let mut t = rec.clone();
            t[4] ^= 1;
            assert_eq!(
                r.open(&mut t, cid_len),
                Err(Error::Peer(PeerMisbehaved::IllegalParameter(
                    "DTLS record epoch"
                )))
            );
            // Intact, it opens.
            let mut t = rec.clone();
            assert!(r.open(&mut t, cid_len).is_ok());
        }
    }
}

#[test]
fn wrong_epoch_and_wrong_keys() {
    for alg in ALGS {
        let (mut w, _) = pair(alg, 1);
        let (_, r2) = pair(alg, 2);
        let rec = seal(&mut w, ContentType::APPLICATION_DATA, None, b"data", 0);
        assert_eq!(
            r2.open(&mut rec.clone(), 0),
            Err(Error::Peer(PeerMisbehaved::IllegalParameter(
                "DTLS record epoch"
            )))
        );
        // Right epoch number, other keys.
        let mut other_key = key(alg);
        other_key[0] ^= 1;
        let r = Dtls12Protector::from_keys(&RustCrypto, alg, &other_key, &iv(alg), 1).unwrap();
        assert_eq!(
            r.open(&mut rec.clone(), 0),
            Err(Error::Peer(PeerMisbehaved::BadRecordMac))
        );
        let mut other_iv = iv(alg);
        other_iv[0] ^= 1;
        let r = Dtls12Protector::from_keys(&RustCrypto, alg, &key(alg), &other_iv, 1).unwrap();
        assert_eq!(
            r.open(&mut rec.clone(), 0),
            Err(Error::Peer(PeerMisbehaved::BadRecordMac))
        );
    }
}

#[test]
fn cid_expectations_enforced() {
    let alg = AeadAlgorithm::Aes128Gcm;
    let (mut w, r) = pair(alg, 1);
    let plain = seal(&mut w, ContentType::APPLICATION_DATA, None, b"a", 0);
    let with_cid = seal(&mut w, ContentType::APPLICATION_DATA, Some(CID), b"a", 0);
    assert_eq!(
        r.open(&mut plain.clone(), CID.len()),
        Err(Error::Peer(PeerMisbehaved::UnexpectedRecord {
            content_type: 23
        }))
    );
    assert_eq!(
        r.open(&mut with_cid.clone(), 0),
        Err(Error::Peer(PeerMisbehaved::UnexpectedRecord {
            content_type: 25
        }))
    );
    // A wrong CID length misframes the record: it cannot open.
    assert!(r.open(&mut with_cid.clone(), CID.len() - 1).is_err());
    assert!(r.open(&mut with_cid.clone(), CID.len() + 1).is_err());
    // Truncated and extended records.
    assert!(r
        .open(&mut with_cid[..with_cid.len() - 1].to_vec(), CID.len())
        .is_err());
    let mut longer = with_cid.clone();
    longer.push(0);
    assert_eq!(
        r.open(&mut longer, CID.len()),
        Err(Error::Peer(PeerMisbehaved::IllegalParameter(
            "DTLS record length"
        )))
    );
    assert!(r.open(&mut [], 0).is_err());
    assert!(r.open(&mut [23, 0xfe], 0).is_err());
}

/// Inner plaintexts of only zeros, or with tls12_cid as the real type, are refused
/// after they authenticate.
#[test]
fn bad_inner_plaintexts() {
    for alg in ALGS {
        let (_, r) = pair(alg, 1);
        let e = explicit_nonce_len(alg);
        for (inner, want) in [
            (&[0u8, 0, 0][..], PeerMisbehaved::EmptyRecord),
            (&[][..], PeerMisbehaved::BadRecordMac),
            (
                &[1, 25, 0][..],
                PeerMisbehaved::UnexpectedRecord { content_type: 25 },
            ),
        ] {
            let mut body = inner.to_vec();
            let aad = rfc_aad(25, 0xfefd, 1, 0, Some(CID), body.len());
            let nonce = rfc_nonce(alg, &[0, 1, 0, 0, 0, 0, 0, 0][..e], 1, 0);
            let mut tag = std::vec![0u8; alg.tag_len()];
            aead(alg)
                .seal_in_place(&nonce, &aad, &mut body, &mut tag)
                .unwrap();
            let frag_len = (e + body.len() + tag.len()) as u16;
            let mut rec = std::vec![25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0];
            rec.extend_from_slice(CID);
            rec.extend_from_slice(&frag_len.to_be_bytes());
            rec.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0][..e]);
            rec.extend_from_slice(&body);
            rec.extend_from_slice(&tag);
            assert_eq!(
                r.open(&mut rec, CID.len()),
                Err(Error::Peer(want)),
                "{alg:?}"
            );
        }
    }
}

#[test]
fn sequence_exhaustion() {
    let (mut w, r) = pair(AeadAlgorithm::Aes128Ccm8, 0xffff);
    w.set_sequence(MAX_SEQ - 1);
    let mut a = seal(&mut w, ContentType::APPLICATION_DATA, None, b"a", 0);
    let mut b = seal(&mut w, ContentType::APPLICATION_DATA, Some(CID), b"b", 0);
    assert_eq!(r.open(&mut a, 0).unwrap().2, MAX_SEQ - 1);
    let (_, range, seq) = r.open(&mut b, CID.len()).unwrap();
    assert_eq!((seq, &b[range]), (MAX_SEQ, &b"b"[..]));
    assert_eq!(&b[3..11], &[0xff; 8]);
    let mut buf = [0u8; 64];
    assert_eq!(
        w.seal(ContentType::APPLICATION_DATA, DTLS12, None, &mut buf, 1, 0),
        Err(Error::SequenceExhausted)
    );
    assert_eq!(buf, [0u8; 64], "nothing written");

    let mut s = PlainSeq::starting_at(MAX_SEQ);
    let mut buf = [0u8; 20];
    assert_eq!(
        write_plain(ContentType::HANDSHAKE, DTLS12, &mut s, &mut buf, 1),
        Ok(14)
    );
    assert_eq!(&buf[5..11], &[0xff; 6]);
    assert_eq!(
        write_plain(ContentType::HANDSHAKE, DTLS12, &mut s, &mut buf, 1),
        Err(Error::SequenceExhausted)
    );
}

#[test]
fn seal_misuse() {
    let (mut w, _) = pair(AeadAlgorithm::Aes128Gcm, 1);
    let mut buf = [0u8; 64];
    let small = w.seal(ContentType::APPLICATION_DATA, DTLS12, None, &mut buf, 40, 0);
    assert_eq!(
        small,
        Err(Error::Api(ApiMisuse::BufferTooSmall {
            needed: 13 + 8 + 40 + 16,
            available: 64
        }))
    );
    assert!(w
        .seal(ContentType::APPLICATION_DATA, DTLS12, None, &mut buf, 1, 1)
        .is_err());
    assert!(w
        .seal(ContentType::TLS12_CID, DTLS12, Some(CID), &mut buf, 1, 0)
        .is_err());
    let mut big = std::vec![0u8; MAX_PLAINTEXT + 100];
    assert!(w
        .seal(
            ContentType::APPLICATION_DATA,
            DTLS12,
            Some(CID),
            &mut big,
            MAX_PLAINTEXT,
            0
        )
        .is_err());
    assert!(w
        .seal(
            ContentType::APPLICATION_DATA,
            DTLS12,
            None,
            &mut big,
            MAX_PLAINTEXT,
            0
        )
        .is_ok());
    assert_eq!(w.sequence(), 1, "failed seals use no sequence number");
    // Construction checks.
    let alg = AeadAlgorithm::Aes128Gcm;
    assert!(Dtls12Protector::new(aead(alg), &[0; 12], 1).is_err());
    assert!(Dtls12Protector::new(aead(alg), &[0; 4], 0).is_err());
    let alg = AeadAlgorithm::ChaCha20Poly1305;
    assert!(Dtls12Protector::new(aead(alg), &[0; 4], 1).is_err());
}

#[test]
fn plaintext_records() {
    let mut s = PlainSeq::new();
    let mut buf = [0u8; 32];
    buf[13..16].copy_from_slice(b"abc");
    let n = write_plain(ContentType::HANDSHAKE, DTLS12, &mut s, &mut buf, 3).unwrap();
    assert_eq!(
        &buf[..n],
        &[22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c']
    );
    let n = write_plain(ContentType::ALERT, DTLS12, &mut s, &mut buf, 2).unwrap();
    assert_eq!(&buf[..13], &[21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    // It parses as what it is.
    let DtlsRecord::Plaintext(p) = DtlsRecord::parse(&mut Reader::new(&buf[..n]), None).unwrap()
    else {
        panic!("plaintext header expected")
    };
    assert_eq!((p.epoch, p.sequence_number, p.fragment.len()), (0, 1, 2));
    assert_eq!(s.peek(), 2);
    assert!(write_plain(ContentType::HANDSHAKE, DTLS12, &mut s, &mut buf, 20).is_err());
    assert_eq!(s.peek(), 2, "a failed write uses no sequence number");
}
