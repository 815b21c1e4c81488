//! The server's Certificate message read as it arrives (RFC 8446 section 4.4.2): each
//! certificate is validated as soon as its bytes are here and then dropped, so the receive
//! buffer needs to hold one certificate, never the whole chain (BearSSL's approach; the
//! reason a device with a 1 KB record buffer can check a 3 KB chain).

use super::verify::{ServerKey, Validator};
use super::{Core, State};
use crate::error::{Error, PeerMisbehaved};
use mote_crypto::Provider;
use mote_wire::{CertificateType, DecodeErrorKind, ExtensionContext, Path, Reader};
use mote_x509::Usage;

/// Where the reading of a Certificate message stands.
pub(crate) struct CertStream<'a> {
    validator: Validator<'a>,
    /// certificate_list bytes still to come.
    remaining: usize,
    /// Offset of the next entry inside the message, for error offsets.
    offset: usize,
    index: usize,
    failed: Option<mote_x509::X509Error>,
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

/// A decode error at `offset` of the Certificate message.
fn decode(offset: usize, field: &'static str, kind: DecodeErrorKind) -> Error {
    let mut path = Path::new();
    path.push("handshake", None);
    path.push("certificate", None);
    Error::Decode(
        Reader::new(&[])
            .with_path(path)
            .error_at(offset, field, kind),
    )
}

impl<'a, P: Provider> Core<'a, '_, P> {
    /// Whether the pending handshake bytes (starting with `first`) belong to a Certificate
    /// message that is read as a stream.
    pub(crate) fn streams_certificate(&self, first: u8) -> bool {
        self.cert_stream.is_some()
            || (first == mote_wire::HandshakeType::CERTIFICATE.0
                && matches!(
                    self.state,
                    State::WaitCertificateOrRequest(_) | State::WaitCertificate(_)
                ))
    }

    /// Consumes what it can of the Certificate message at the front of `buf` (the pending
    /// handshake bytes) and returns how many bytes it used; 0 means "wait for more".
    /// `capacity` is the receive buffer's size, to tell "wait" from "can never fit".
    pub(crate) fn stream_certificate(
        &mut self,
        buf: &[u8],
        capacity: usize,
    ) -> Result<usize, Error> {
        let mut used = 0;
        loop {
            let rest = &buf[used..];
            let Some(cs) = self.cert_stream.as_mut() else {
                // The message header, the (empty) request context and the list length.
                let [_, a, b, c, ctx_len, ..] = *rest else {
                    return Ok(used);
                };
                let msg_len = u24(&[a, b, c]);
                let ctx_len = usize::from(ctx_len);
                let need = 5 + ctx_len + 3;
                if rest.len() < need {
                    return Ok(used);
                }
                if ctx_len != 0 {
                    return Err(
                        PeerMisbehaved::IllegalParameter("certificate_request_context").into(),
                    );
                }
                let list = u24(&rest[5..8]);
                if 1 + 3 + list != msg_len {
                    return Err(decode(
                        5,
                        "certificate_list_length",
                        DecodeErrorKind::TrailingBytes {
                            declared: list,
                            used: msg_len.saturating_sub(4),
                        },
                    ));
                }
                if list == 0 {
                    // RFC 8446 section 4.4.2.4: an empty server Certificate is decode_error.
                    return Err(decode(
                        5,
                        "certificate_list_length",
                        DecodeErrorKind::LengthOutOfRange {
                            len: 0,
                            min: 1,
                            max: 0xff_ffff,
                        },
                    ));
                }
                let Some(auth) = self.cfg.server_auth else {
                    return Err(Error::Api(crate::error::ApiMisuse::BadConfig(
                        "the server sent a certificate but no trust anchors, pin or raw key are configured",
                    )));
                };
                self.transcript.update(&rest[..need]);
                used += need;
                self.cert_stream = Some(CertStream {
                    validator: Validator::for_auth(&auth, self.now_ms / 1000, Usage::ServerAuth),
                    remaining: list,
                    offset: need,
                    index: 0,
                    failed: None,
                });
                continue;
            };
            if cs.remaining == 0 {
                return self.finish_certificate(used);
            }
            if rest.len() < 3 {
                return Ok(used);
            }
            let cert_len = u24(rest);
            let at = cs.offset;
            if 3 + cert_len + 2 > cs.remaining {
                return Err(decode(
                    at,
                    "cert_data_length",
                    DecodeErrorKind::LengthExceeds {
                        declared: cert_len,
                        available: cs.remaining.saturating_sub(5),
                    },
                ));
            }
            let Some(ext) = rest.get(3 + cert_len..3 + cert_len + 2) else {
                return wait_or_overflow(used, 3 + cert_len + 2, capacity);
            };
            let entry = 3 + cert_len + 2 + usize::from(u16::from_be_bytes([ext[0], ext[1]]));
            if entry > cs.remaining {
                return Err(decode(
                    at + 3 + cert_len,
                    "extensions_length",
                    DecodeErrorKind::LengthExceeds {
                        declared: entry - 5 - cert_len,
                        available: cs.remaining - 5 - cert_len,
                    },
                ));
            }
            if rest.len() < entry {
                return wait_or_overflow(used, entry, capacity);
            }
            // The entry's extensions must decode (they are not used: OCSP and SCTs are not
            // checked by mote).
            let mut r = Reader::new(&rest[3 + cert_len..entry]).with_base(at + 3 + cert_len);
            mote_wire::extensions::read_extensions(&mut r, ExtensionContext::Certificate)?;
            let der = &rest[3..3 + cert_len];
            if self.server_cert_type == CertificateType::RAW_PUBLIC_KEY && cs.index > 0 {
                return Err(
                    PeerMisbehaved::IllegalParameter("more than one raw public key").into(),
                );
            }
            if let Some(o) = self.cfg.certificate_observer {
                o.certificate(cs.index, der);
            }
            // After a failure the rest is only shown to the observer, not validated.
            if cs.failed.is_none() {
                cs.failed = cs.validator.add(&self.p, cs.index, der).err();
            }
            self.transcript.update(&rest[..entry]);
            used += entry;
            cs.remaining -= entry;
            cs.offset += entry;
            cs.index += 1;
        }
    }

    fn finish_certificate(&mut self, used: usize) -> Result<usize, Error> {
        let Some(mut cs) = self.cert_stream.take() else {
            return Ok(used);
        };
        if let Some(e) = cs.failed {
            return Err(Error::Certificate(e));
        }
        let chain = cs.validator.finish(&self.p).map_err(Error::Certificate)?;
        let state = core::mem::replace(&mut self.state, State::Failed);
        self.state = match state {
            State::WaitCertificateOrRequest(mut k) | State::WaitCertificate(mut k) => {
                k.server_key = ServerKey::verified(chain);
                State::WaitCertificateVerify(k)
            }
            other => other,
        };
        Ok(used)
    }
}

/// More bytes are needed: wait for them, unless they could never fit the buffer.
fn wait_or_overflow(used: usize, needed: usize, capacity: usize) -> Result<usize, Error> {
    if needed > capacity {
        return Err(Error::Capacity {
            needed,
            available: capacity,
        });
    }
    Ok(used)
}
