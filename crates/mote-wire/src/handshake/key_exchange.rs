//! TLS 1.2 ServerKeyExchange (RFC 5246 section 7.4.3) and ClientKeyExchange (RFC 5246
//! section 7.4.7), whose bodies depend on the key exchange of the negotiated cipher suite:
//! ECDHE (RFC 8422 sections 5.4 and 5.7), DHE (RFC 5246), PSK, DHE_PSK and RSA_PSK
//! (RFC 4279 sections 2, 3 and 4), ECDHE_PSK (RFC 5489 section 2) and RSA (RFC 5246
//! section 7.4.7.1).
//!
//! ```text
//! struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;  // named_curve
//! struct { opaque point <1..2^8-1>; } ECPoint;
//! struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;
//! struct { opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>; }
//!     ServerDHParams;
//!
//! ServerKeyExchange:
//!     ec_diffie_hellman:      ServerECDHParams params; Signature signed_params;
//!     dhe_dss, dhe_rsa:       ServerDHParams params;   digitally-signed ... signed_params;
//!     psk, rsa_psk:           opaque psk_identity_hint<0..2^16-1>;
//!     dhe_psk:                opaque psk_identity_hint<0..2^16-1>; ServerDHParams params;
//!     ecdhe_psk:              opaque psk_identity_hint<0..2^16-1>; ServerECDHParams params;
//!
//! ClientKeyExchange:
//!     rsa:                    EncryptedPreMasterSecret (opaque <0..2^16-1> in TLS 1.2);
//!     dhe:                    opaque dh_Yc<1..2^16-1>;
//!     ec_diffie_hellman:      ECPoint ecdh_Yc;
//!     psk:                    opaque psk_identity<0..2^16-1>;
//!     dhe_psk:                psk_identity; opaque dh_Yc<1..2^16-1>;
//!     ecdhe_psk:              psk_identity; ECPoint ecdh_Yc;
//!     rsa_psk:                psk_identity; EncryptedPreMasterSecret;
//! ```
//!
//! The wire format does not say which case applies; [`Context::key_exchange`] (from the
//! ServerHello's cipher suite) does. When it is [`KeyExchange::Unknown`] the body is kept
//! as bytes. Anonymous (EC)DH (ECDH_anon, DH_anon) sends no signature, RFC 5246 section
//! 7.4.3 / RFC 8422 section 5.4: when the body ends after the params, `signed_params` is
//! `None`. The implicit public-value encoding of RFC 5246 section 7.4.7.2 (fixed-DH client
//! certificates, an empty ClientKeyExchange) is not supported: a DH or ECDH public value must
//! be present.

use crate::context::{Context, KeyExchange};
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::reader::{Bounds, Len, Reader};
use crate::registry::{EcCurveType, NamedGroup};
use crate::writer::Writer;

use super::certificate_verify::DigitallySigned;

type Result<T> = core::result::Result<T, DecodeError>;
type EResult = core::result::Result<(), EncodeError>;

const ANY16: Bounds = Bounds::new(0, 0xffff);
const NONEMPTY16: Bounds = Bounds::new(1, 0xffff);
/// ECPoint: `opaque point <1..2^8-1>`.
const POINT: Bounds = Bounds::new(1, 0xff);

/// ServerECDHParams (RFC 8422 section 5.4). Only named curves remain: the explicit curve
/// types were deprecated and have no encoding here, so they are `IllegalValue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerEcdhParams<'a> {
    pub named_curve: NamedGroup,
    /// The ECPoint (an uncompressed point, or an X25519/X448 u-coordinate).
    pub public: &'a [u8],
}

impl<'a> ServerEcdhParams<'a> {
    fn read(r: &mut Reader<'a, '_>) -> Result<Self> {
        r.node("params", None, |r| {
            let at = r.offset();
            let curve_type = r.code::<EcCurveType>("curve_type")?;
            if curve_type != EcCurveType::NAMED_CURVE {
                return Err(r.error_at(
                    at,
                    "curve_type",
                    DecodeErrorKind::IllegalValue {
                        value: u64::from(curve_type.0),
                    },
                ));
            }
            let named_curve = r.code::<NamedGroup>("named_curve")?;
            let public = r.opaque(Len::U8, "public_length", "public", POINT)?;
            Ok(ServerEcdhParams {
                named_curve,
                public,
            })
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> EResult {
        w.code(EcCurveType::NAMED_CURVE)?;
        w.code(self.named_curve)?;
        w.opaque(Len::U8, self.public)
    }
}

/// ServerDHParams (RFC 5246 section 7.4.3): the group's prime and generator, and the
/// server's public value, big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerDhParams<'a> {
    pub dh_p: &'a [u8],
    pub dh_g: &'a [u8],
    pub dh_ys: &'a [u8],
}

impl<'a> ServerDhParams<'a> {
    fn read(r: &mut Reader<'a, '_>) -> Result<Self> {
        r.node("params", None, |r| {
            Ok(ServerDhParams {
                dh_p: r.opaque(Len::U16, "dh_p_length", "dh_p", NONEMPTY16)?,
                dh_g: r.opaque(Len::U16, "dh_g_length", "dh_g", NONEMPTY16)?,
                dh_ys: r.opaque(Len::U16, "dh_ys_length", "dh_ys", NONEMPTY16)?,
            })
        })
    }

    fn write(&self, w: &mut Writer<'_>) -> EResult {
        w.opaque(Len::U16, self.dh_p)?;
        w.opaque(Len::U16, self.dh_g)?;
        w.opaque(Len::U16, self.dh_ys)
    }
}

/// The signature over the params, absent for anonymous key exchange.
fn read_signed_params<'a>(r: &mut Reader<'a, '_>) -> Result<Option<DigitallySigned<'a>>> {
    if r.is_empty() {
        return Ok(None);
    }
    r.node("signed_params", None, DigitallySigned::read)
        .map(Some)
}

fn write_signed_params(s: &Option<DigitallySigned<'_>>, w: &mut Writer<'_>) -> EResult {
    match s {
        Some(s) => s.write(w),
        None => Ok(()),
    }
}

fn read_hint<'a>(r: &mut Reader<'a, '_>) -> Result<&'a [u8]> {
    r.opaque(
        Len::U16,
        "psk_identity_hint_length",
        "psk_identity_hint",
        ANY16,
    )
}

fn read_identity<'a>(r: &mut Reader<'a, '_>) -> Result<&'a [u8]> {
    r.opaque(Len::U16, "psk_identity_length", "psk_identity", ANY16)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKeyExchange<'a> {
    /// ECDHE_ECDSA, ECDHE_RSA (and ECDH_anon, without signature).
    Ecdhe {
        params: ServerEcdhParams<'a>,
        signed_params: Option<DigitallySigned<'a>>,
    },
    /// DHE_RSA, DHE_DSS (and DH_anon, without signature).
    Dhe {
        params: ServerDhParams<'a>,
        signed_params: Option<DigitallySigned<'a>>,
    },
    /// PSK and RSA_PSK: only a hint at which identity to use (RFC 4279 sections 2 and 4).
    Psk { psk_identity_hint: &'a [u8] },
    DhePsk {
        psk_identity_hint: &'a [u8],
        params: ServerDhParams<'a>,
    },
    EcdhePsk {
        psk_identity_hint: &'a [u8],
        params: ServerEcdhParams<'a>,
    },
    /// The key exchange is unknown (or RSA, which sends no ServerKeyExchange): the bytes.
    Unknown(&'a [u8]),
}

impl<'a> ServerKeyExchange<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self> {
        Ok(match ctx.key_exchange {
            KeyExchange::Ecdhe => ServerKeyExchange::Ecdhe {
                params: ServerEcdhParams::read(r)?,
                signed_params: read_signed_params(r)?,
            },
            KeyExchange::Dhe => ServerKeyExchange::Dhe {
                params: ServerDhParams::read(r)?,
                signed_params: read_signed_params(r)?,
            },
            KeyExchange::Psk | KeyExchange::RsaPsk => ServerKeyExchange::Psk {
                psk_identity_hint: read_hint(r)?,
            },
            KeyExchange::DhePsk => ServerKeyExchange::DhePsk {
                psk_identity_hint: read_hint(r)?,
                params: ServerDhParams::read(r)?,
            },
            KeyExchange::EcdhePsk => ServerKeyExchange::EcdhePsk {
                psk_identity_hint: read_hint(r)?,
                params: ServerEcdhParams::read(r)?,
            },
            KeyExchange::Rsa | KeyExchange::Unknown => ServerKeyExchange::Unknown(r.rest("data")),
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> EResult {
        match self {
            ServerKeyExchange::Ecdhe {
                params,
                signed_params,
            } => {
                params.write(w)?;
                write_signed_params(signed_params, w)
            }
            ServerKeyExchange::Dhe {
                params,
                signed_params,
            } => {
                params.write(w)?;
                write_signed_params(signed_params, w)
            }
            ServerKeyExchange::Psk { psk_identity_hint } => w.opaque(Len::U16, psk_identity_hint),
            ServerKeyExchange::DhePsk {
                psk_identity_hint,
                params,
            } => {
                w.opaque(Len::U16, psk_identity_hint)?;
                params.write(w)
            }
            ServerKeyExchange::EcdhePsk {
                psk_identity_hint,
                params,
            } => {
                w.opaque(Len::U16, psk_identity_hint)?;
                params.write(w)
            }
            ServerKeyExchange::Unknown(b) => w.bytes(b),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKeyExchange<'a> {
    /// The premaster secret encrypted to the server's RSA key. In TLS 1.2 it carries a
    /// two-byte length (RFC 5246 section 7.4.7.1).
    Rsa {
        encrypted_pre_master_secret: &'a [u8],
    },
    /// The client's DH public value (RFC 5246 section 7.4.7.2, explicit encoding).
    Dhe {
        dh_yc: &'a [u8],
    },
    /// The client's ECDH public point (RFC 8422 section 5.7).
    Ecdhe {
        ecdh_yc: &'a [u8],
    },
    Psk {
        psk_identity: &'a [u8],
    },
    DhePsk {
        psk_identity: &'a [u8],
        dh_yc: &'a [u8],
    },
    EcdhePsk {
        psk_identity: &'a [u8],
        ecdh_yc: &'a [u8],
    },
    RsaPsk {
        psk_identity: &'a [u8],
        encrypted_pre_master_secret: &'a [u8],
    },
    /// The key exchange is unknown: the bytes.
    Unknown(&'a [u8]),
}

fn read_dh_yc<'a>(r: &mut Reader<'a, '_>) -> Result<&'a [u8]> {
    r.opaque(Len::U16, "dh_yc_length", "dh_yc", NONEMPTY16)
}

fn read_ecdh_yc<'a>(r: &mut Reader<'a, '_>) -> Result<&'a [u8]> {
    r.opaque(Len::U8, "ecdh_yc_length", "ecdh_yc", POINT)
}

fn read_encrypted_pms<'a>(r: &mut Reader<'a, '_>) -> Result<&'a [u8]> {
    r.opaque(
        Len::U16,
        "encrypted_pre_master_secret_length",
        "encrypted_pre_master_secret",
        ANY16,
    )
}

impl<'a> ClientKeyExchange<'a> {
    pub fn parse(r: &mut Reader<'a, '_>, ctx: &Context) -> Result<Self> {
        use ClientKeyExchange as C;
        Ok(match ctx.key_exchange {
            KeyExchange::Rsa => C::Rsa {
                encrypted_pre_master_secret: read_encrypted_pms(r)?,
            },
            KeyExchange::Dhe => C::Dhe {
                dh_yc: read_dh_yc(r)?,
            },
            KeyExchange::Ecdhe => C::Ecdhe {
                ecdh_yc: read_ecdh_yc(r)?,
            },
            KeyExchange::Psk => C::Psk {
                psk_identity: read_identity(r)?,
            },
            KeyExchange::DhePsk => C::DhePsk {
                psk_identity: read_identity(r)?,
                dh_yc: read_dh_yc(r)?,
            },
            KeyExchange::EcdhePsk => C::EcdhePsk {
                psk_identity: read_identity(r)?,
                ecdh_yc: read_ecdh_yc(r)?,
            },
            KeyExchange::RsaPsk => C::RsaPsk {
                psk_identity: read_identity(r)?,
                encrypted_pre_master_secret: read_encrypted_pms(r)?,
            },
            KeyExchange::Unknown => C::Unknown(r.rest("data")),
        })
    }

    pub fn emit(&self, w: &mut Writer<'_>) -> EResult {
        use ClientKeyExchange as C;
        match self {
            C::Rsa {
                encrypted_pre_master_secret,
            } => w.opaque(Len::U16, encrypted_pre_master_secret),
            C::Dhe { dh_yc } => w.opaque(Len::U16, dh_yc),
            C::Ecdhe { ecdh_yc } => w.opaque(Len::U8, ecdh_yc),
            C::Psk { psk_identity } => w.opaque(Len::U16, psk_identity),
            C::DhePsk {
                psk_identity,
                dh_yc,
            } => {
                w.opaque(Len::U16, psk_identity)?;
                w.opaque(Len::U16, dh_yc)
            }
            C::EcdhePsk {
                psk_identity,
                ecdh_yc,
            } => {
                w.opaque(Len::U16, psk_identity)?;
                w.opaque(Len::U8, ecdh_yc)
            }
            C::RsaPsk {
                psk_identity,
                encrypted_pre_master_secret,
            } => {
                w.opaque(Len::U16, psk_identity)?;
                w.opaque(Len::U16, encrypted_pre_master_secret)
            }
            C::Unknown(b) => w.bytes(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::SignatureScheme;
    use std::vec::Vec;

    fn ctx(k: KeyExchange) -> Context {
        Context {
            key_exchange: k,
            ..Context::TLS12
        }
    }

    fn rt_server(b: &[u8], k: KeyExchange) -> ServerKeyExchange<'_> {
        let mut r = Reader::new(b);
        let m = ServerKeyExchange::parse(&mut r, &ctx(k)).unwrap();
        assert!(r.is_empty());
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        m.emit(&mut w).unwrap();
        assert_eq!(w.written(), b);
        m
    }

    fn rt_client(b: &[u8], k: KeyExchange) -> ClientKeyExchange<'_> {
        let mut r = Reader::new(b);
        let m = ClientKeyExchange::parse(&mut r, &ctx(k)).unwrap();
        assert!(r.is_empty());
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        m.emit(&mut w).unwrap();
        assert_eq!(w.written(), b);
        m
    }

    #[test]
    fn every_server_shape_round_trips() {
        let ecdhe = [3, 0, 0x1d, 2, 9, 9, 0x04, 0x03, 0, 1, 0x55];
        assert_eq!(
            rt_server(&ecdhe, KeyExchange::Ecdhe),
            ServerKeyExchange::Ecdhe {
                params: ServerEcdhParams {
                    named_curve: NamedGroup::X25519,
                    public: &[9, 9]
                },
                signed_params: Some(DigitallySigned {
                    algorithm: SignatureScheme::ECDSA_SECP256R1_SHA256,
                    signature: &[0x55]
                }),
            }
        );
        // Anonymous: no signature.
        rt_server(&ecdhe[..6], KeyExchange::Ecdhe);
        let dh = [0, 1, 7, 0, 1, 2, 0, 2, 5, 5];
        rt_server(&dh, KeyExchange::Dhe);
        assert_eq!(
            rt_server(&[0, 2, b'h', b'i'], KeyExchange::Psk),
            ServerKeyExchange::Psk {
                psk_identity_hint: b"hi"
            }
        );
        rt_server(&[0, 0], KeyExchange::RsaPsk);
        let mut dhe_psk = Vec::from([0u8, 0]);
        dhe_psk.extend_from_slice(&dh);
        rt_server(&dhe_psk, KeyExchange::DhePsk);
        let mut ecdhe_psk = Vec::from([0u8, 1, b'x']);
        ecdhe_psk.extend_from_slice(&ecdhe[..6]);
        rt_server(&ecdhe_psk, KeyExchange::EcdhePsk);
        assert_eq!(
            rt_server(&[1, 2, 3], KeyExchange::Unknown),
            ServerKeyExchange::Unknown(&[1, 2, 3])
        );
    }

    #[test]
    fn every_client_shape_round_trips() {
        rt_client(&[0, 2, 1, 2], KeyExchange::Rsa);
        rt_client(&[0, 1, 7], KeyExchange::Dhe);
        rt_client(&[1, 7], KeyExchange::Ecdhe);
        rt_client(&[0, 1, b'c'], KeyExchange::Psk);
        rt_client(&[0, 0, 0, 1, 7], KeyExchange::DhePsk);
        assert_eq!(
            rt_client(&[0, 1, b'c', 1, 7], KeyExchange::EcdhePsk),
            ClientKeyExchange::EcdhePsk {
                psk_identity: b"c",
                ecdh_yc: &[7]
            }
        );
        rt_client(&[0, 0, 0, 2, 1, 2], KeyExchange::RsaPsk);
        rt_client(&[5], KeyExchange::Unknown);
    }

    #[test]
    fn explicit_curves_and_empty_points_are_refused() {
        let e = ServerKeyExchange::parse(&mut Reader::new(&[1, 0, 0]), &ctx(KeyExchange::Ecdhe))
            .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::IllegalValue { value: 1 });
        assert_eq!(std::format!("{}", e.path), "params.curve_type");
        let e =
            ServerKeyExchange::parse(&mut Reader::new(&[3, 0, 0x1d, 0]), &ctx(KeyExchange::Ecdhe))
                .unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(
            e.kind,
            DecodeErrorKind::LengthOutOfRange {
                len: 0,
                min: 1,
                max: 0xff
            }
        );
        assert!(
            ClientKeyExchange::parse(&mut Reader::new(&[0]), &ctx(KeyExchange::Ecdhe)).is_err()
        );
    }
}
