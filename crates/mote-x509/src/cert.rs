//! One certificate, parsed in place (RFC 5280 4.1) with the extensions path validation needs
//! (RFC 5280 4.2).

use mote_wire::SignatureScheme;

use crate::alg::signature_scheme;
use crate::der::{context, Der, Tlv, BIT_STRING, INTEGER, OCTET_STRING, SEQUENCE};
use crate::error::X509Error;
use crate::name::{Name, SubjectAltNames};
use crate::time::read_time;

/// A parsed certificate. Every field borrows from the DER it was parsed from; nothing is
/// copied, so parsing costs a few hundred bytes of stack and no heap.
#[derive(Clone, Copy, Debug)]
pub struct Certificate<'a> {
    der: &'a [u8],
    tbs: &'a [u8],
    scheme: SignatureScheme,
    signature: &'a [u8],
    version: u8,
    serial: &'a [u8],
    issuer: Name<'a>,
    subject: Name<'a>,
    not_before: i64,
    not_after: i64,
    spki: &'a [u8],
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    ext_key_usage: Option<ExtKeyUsage>,
    subject_alt_names: Option<SubjectAltNames<'a>>,
}

/// basicConstraints (RFC 5280 4.2.1.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicConstraints {
    pub ca: bool,
    /// pathLenConstraint: how many non-self-issued intermediates may follow this CA.
    pub path_len: Option<u32>,
}

/// keyUsage bits (RFC 5280 4.2.1.3), bit `n` of the named BIT STRING as `1 << n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyUsage(pub u16);

impl KeyUsage {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const NON_REPUDIATION: u16 = 1 << 1;
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub const DATA_ENCIPHERMENT: u16 = 1 << 3;
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
    pub const ENCIPHER_ONLY: u16 = 1 << 7;
    pub const DECIPHER_ONLY: u16 = 1 << 8;

    pub const fn contains(self, bit: u16) -> bool {
        self.0 & bit == bit
    }
}

/// The extKeyUsage purposes TLS cares about (RFC 5280 4.2.1.12); others are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtKeyUsage {
    /// id-kp-serverAuth, 1.3.6.1.5.5.7.3.1.
    pub server_auth: bool,
    /// id-kp-clientAuth, 1.3.6.1.5.5.7.3.2.
    pub client_auth: bool,
    /// anyExtendedKeyUsage, 2.5.29.37.0: recorded, but it does not stand in for serverAuth
    /// or clientAuth (RFC 5280 4.2.1.12 lets applications that need a purpose demand it).
    pub any: bool,
}

const OID_KP_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_KP_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
const OID_ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// The extensions mote understands, as the last octet of id-ce (2.5.29.n = 55 1d n).
/// subjectKeyIdentifier (14) and authorityKeyIdentifier (35) only help chain building,
/// which the sender's order does here, so they are understood by being ignored.
const EXT_SUBJECT_KEY_ID: u8 = 14;
const EXT_KEY_USAGE: u8 = 15;
const EXT_SUBJECT_ALT_NAME: u8 = 17;
const EXT_BASIC_CONSTRAINTS: u8 = 19;
const EXT_AUTHORITY_KEY_ID: u8 = 35;
const EXT_EXT_KEY_USAGE: u8 = 37;

impl<'a> Certificate<'a> {
    /// Parses a DER certificate that must fill `der` exactly. Errors carry index 0; the chain
    /// validator reports the certificate's position instead.
    pub fn parse(der: &'a [u8]) -> Result<Certificate<'a>, X509Error> {
        Certificate::parse_at(der, 0)
    }

    /// Parses certificate number `index` of a chain (the index only labels errors).
    pub fn parse_at(der: &'a [u8], index: u8) -> Result<Certificate<'a>, X509Error> {
        parse(der, index, true)
    }

    /// The whole certificate encoding.
    pub fn as_der(&self) -> &'a [u8] {
        self.der
    }
    /// The DER `tbsCertificate`, tag and length included: the bytes the signature covers.
    pub fn tbs(&self) -> &'a [u8] {
        self.tbs
    }
    /// `signatureAlgorithm` as the TLS scheme the provider verifies.
    pub fn signature_scheme(&self) -> SignatureScheme {
        self.scheme
    }
    /// The signature octets (the BIT STRING contents after its unused-bits octet); for ECDSA
    /// a DER `Ecdsa-Sig-Value`.
    pub fn signature(&self) -> &'a [u8] {
        self.signature
    }
    /// 1, 2 or 3.
    pub fn version(&self) -> u8 {
        self.version
    }
    /// The serial number's INTEGER content octets, as encoded.
    pub fn serial(&self) -> &'a [u8] {
        self.serial
    }
    pub fn issuer(&self) -> Name<'a> {
        self.issuer
    }
    pub fn subject(&self) -> Name<'a> {
        self.subject
    }
    /// notBefore in seconds since the Unix epoch (negative before 1970).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }
    /// notAfter in seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }
    /// The whole DER SubjectPublicKeyInfo SEQUENCE (what providers take and what RFC 7250
    /// raw public keys carry).
    pub fn spki(&self) -> &'a [u8] {
        self.spki
    }
    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.basic_constraints
    }
    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.key_usage
    }
    pub fn ext_key_usage(&self) -> Option<ExtKeyUsage> {
        self.ext_key_usage
    }
    pub fn subject_alt_names(&self) -> Option<SubjectAltNames<'a>> {
        self.subject_alt_names
    }
    /// Issuer and subject are the same name (RFC 5280 6.1: self-issued certificates do not
    /// count against pathLenConstraint).
    pub fn is_self_issued(&self) -> bool {
        self.issuer.as_der() == self.subject.as_der()
    }
    /// Whether this certificate is valid at `now` (seconds since the Unix epoch).
    pub fn check_validity(&self, now: u64, index: u8) -> Result<(), X509Error> {
        let t = i64::try_from(now).unwrap_or(i64::MAX);
        if t < self.not_before {
            Err(X509Error::NotYetValid {
                index,
                not_before: self.not_before,
                now,
            })
        } else if t > self.not_after {
            // RFC 5280 4.1.2.5: the validity period includes notAfter itself.
            Err(X509Error::Expired {
                index,
                not_after: self.not_after,
                now,
            })
        } else {
            Ok(())
        }
    }
}

/// Parses a certificate; `strict_algorithm` false tolerates signature algorithms mote cannot
/// verify, for trust anchors whose self-signature is never checked (old roots are often
/// sha1WithRSAEncryption).
pub(crate) fn parse(
    der: &[u8],
    index: u8,
    strict_algorithm: bool,
) -> Result<Certificate<'_>, X509Error> {
    let mut top = Der::new(der, index);
    let mut cert = top.sequence("Certificate")?;
    top.finish("trailing bytes after the certificate")?;
    let tbs_tlv = cert.expect(SEQUENCE, "tbsCertificate")?;
    let outer_alg = cert.expect(SEQUENCE, "signatureAlgorithm")?;
    let signature = cert.octet_aligned_bits("signatureValue")?;
    cert.finish("Certificate has trailing elements")?;

    let mut tbs = cert.inside(&tbs_tlv);
    // version [0] EXPLICIT Version DEFAULT v1 (RFC 5280 4.1.2.1).
    let version = match tbs.optional(context(0), "version")? {
        Some(v) => {
            let n = tbs.inside(&v).small_uint("version")?;
            match n {
                0..=2 => n as u8 + 1,
                _ => return Err(tbs.error_at(v.offset, "unknown version")),
            }
        }
        None => 1,
    };
    // RFC 5280 4.1.2.2: serial numbers are positive integers of up to 20 octets, but
    // "certificate users SHOULD be prepared to gracefully handle" non-conforming ones, so
    // only emptiness is an error.
    let serial = tbs.expect(INTEGER, "serialNumber")?;
    if serial.content.is_empty() {
        return Err(tbs.error_at(serial.offset, "serialNumber"));
    }
    let inner_alg = tbs.expect(SEQUENCE, "tbsCertificate.signature")?;
    let issuer = Name::read(&mut tbs, "issuer")?;
    let mut validity = tbs.sequence("validity")?;
    let not_before = read_time(&mut validity, "validity.notBefore")?;
    let not_after = read_time(&mut validity, "validity.notAfter")?;
    validity.finish("validity has trailing elements")?;
    let subject = Name::read(&mut tbs, "subject")?;
    let spki = read_spki(&mut tbs)?;
    // issuerUniqueID [1] and subjectUniqueID [2], IMPLICIT BIT STRING, v2 or v3 only
    // (RFC 5280 4.1.2.8); nothing uses them.
    for (tag, what) in [(0x81, "issuerUniqueID"), (0x82, "subjectUniqueID")] {
        if let Some(t) = tbs.optional(tag, what)? {
            if version < 2 {
                return Err(tbs.error_at(t.offset, "unique identifiers need version 2 or 3"));
            }
        }
    }
    let mut out = Certificate {
        der,
        tbs: tbs_tlv.raw,
        scheme: SignatureScheme(0),
        signature,
        version,
        serial: serial.content,
        issuer,
        subject,
        not_before,
        not_after,
        spki,
        basic_constraints: None,
        key_usage: None,
        ext_key_usage: None,
        subject_alt_names: None,
    };
    if let Some(exts) = tbs.optional(context(3), "extensions")? {
        // RFC 5280 4.1.2.9: extensions appear only in version 3 certificates.
        if version != 3 {
            return Err(tbs.error_at(exts.offset, "extensions need version 3"));
        }
        read_extensions(&tbs.inside(&exts), &mut out)?;
    }
    tbs.finish("tbsCertificate has trailing elements")?;

    // RFC 5280 4.1.1.2: signatureAlgorithm MUST equal tbsCertificate.signature; otherwise
    // the unsigned outer field could claim another algorithm than the one signed over.
    if outer_alg.raw != inner_alg.raw {
        return Err(X509Error::AlgorithmMismatch { index });
    }
    match signature_scheme(&cert, &outer_alg) {
        Ok(s) => out.scheme = s,
        Err(X509Error::UnsupportedSignatureAlgorithm { .. }) if !strict_algorithm => {
            // Never read: trust anchors keep only subject and key.
        }
        Err(e) => return Err(e),
    }
    Ok(out)
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey
/// BIT STRING }` (RFC 5280 4.1.2.7), returned whole: the provider parses the key itself.
fn read_spki<'a>(tbs: &mut Der<'a>) -> Result<&'a [u8], X509Error> {
    let tlv = tbs.expect(SEQUENCE, "subjectPublicKeyInfo")?;
    let mut r = tbs.inside(&tlv);
    let mut alg = r.sequence("subjectPublicKeyInfo.algorithm")?;
    alg.oid("subjectPublicKeyInfo.algorithm.algorithm")?;
    if !alg.is_empty() {
        alg.any("subjectPublicKeyInfo.algorithm.parameters")?;
    }
    alg.finish("subjectPublicKeyInfo.algorithm has trailing elements")?;
    r.octet_aligned_bits("subjectPublicKey")?;
    r.finish("subjectPublicKeyInfo has trailing elements")?;
    Ok(tlv.raw)
}

/// `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`, `Extension ::= SEQUENCE { extnID
/// OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }` (RFC 5280 4.1.2.9, 4.2).
fn read_extensions<'a>(outer: &Der<'a>, out: &mut Certificate<'a>) -> Result<(), X509Error> {
    let mut o = *outer;
    let seq = o.expect(SEQUENCE, "extensions")?;
    o.finish("extensions has trailing elements")?;
    let mut list = o.inside(&seq);
    if list.is_empty() {
        return Err(o.error_at(seq.offset, "empty extensions"));
    }
    let mut seen = 0u64;
    while !list.is_empty() {
        let ext_tlv = list.expect(SEQUENCE, "Extension")?;
        let mut ext = list.inside(&ext_tlv);
        let oid = ext.oid("Extension.extnID")?;
        // DER omits a FALSE default, but encoders that write it are common: accept both.
        let critical = match ext.peek_tag() {
            Some(crate::der::BOOLEAN) => ext.boolean("Extension.critical")?,
            _ => false,
        };
        let value = ext.expect(OCTET_STRING, "Extension.extnValue")?;
        ext.finish("Extension has trailing elements")?;
        let known = match oid {
            [0x55, 0x1d, n] => Some(*n),
            _ => None,
        };
        let handled = match known {
            Some(
                n @ (EXT_SUBJECT_KEY_ID
                | EXT_KEY_USAGE
                | EXT_SUBJECT_ALT_NAME
                | EXT_BASIC_CONSTRAINTS
                | EXT_AUTHORITY_KEY_ID
                | EXT_EXT_KEY_USAGE),
            ) => {
                // RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a
                // particular extension" (checked for the ones mote acts on).
                if seen & (1 << n) != 0 {
                    return Err(list.error_at(ext_tlv.offset, "duplicate extension"));
                }
                seen |= 1 << n;
                let mut v = list.inside(&value);
                match n {
                    EXT_KEY_USAGE => out.key_usage = Some(read_key_usage(&mut v)?),
                    EXT_SUBJECT_ALT_NAME => {
                        out.subject_alt_names = Some(SubjectAltNames::read(&mut v)?)
                    }
                    EXT_BASIC_CONSTRAINTS => {
                        out.basic_constraints = Some(read_basic_constraints(&mut v)?)
                    }
                    EXT_EXT_KEY_USAGE => out.ext_key_usage = Some(read_ext_key_usage(&mut v)?),
                    _ => {}
                }
                true
            }
            _ => false,
        };
        // RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it
        // encounters a critical extension it does not recognize or a critical extension that
        // contains information that it cannot process." (name constraints and policies
        // included: mote does not process them).
        if critical && !handled {
            return Err(X509Error::UnsupportedCriticalExtension { index: o.index() });
        }
    }
    Ok(())
}

/// `KeyUsage ::= BIT STRING` (RFC 5280 4.2.1.3): named bits, trailing zero bits dropped.
fn read_key_usage(v: &mut Der<'_>) -> Result<KeyUsage, X509Error> {
    let tlv = v.expect(BIT_STRING, "keyUsage")?;
    v.finish("keyUsage has trailing bytes")?;
    let err = v.error_at(tlv.offset, "keyUsage");
    let (unused, bits) = tlv.content.split_first().ok_or(err)?;
    if *unused > 7 || (bits.is_empty() && *unused != 0) {
        return Err(err);
    }
    // Bit n is the (n % 8)-th most significant bit of octet n / 8; mote names bits 0-8.
    let mut mask = 0u16;
    for (i, &octet) in bits.iter().take(2).enumerate() {
        for j in 0..8 {
            if octet & (0x80 >> j) != 0 {
                mask |= 1 << (i * 8 + j);
            }
        }
    }
    Ok(KeyUsage(mask))
}

/// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER
/// (0..MAX) OPTIONAL }` (RFC 5280 4.2.1.9).
fn read_basic_constraints(v: &mut Der<'_>) -> Result<BasicConstraints, X509Error> {
    let mut seq = v.sequence("basicConstraints")?;
    v.finish("basicConstraints has trailing bytes")?;
    let ca = match seq.peek_tag() {
        Some(crate::der::BOOLEAN) => seq.boolean("basicConstraints.cA")?,
        _ => false,
    };
    let path_len = match seq.peek_tag() {
        Some(INTEGER) => Some(seq.small_uint("basicConstraints.pathLenConstraint")?),
        _ => None,
    };
    seq.finish("basicConstraints has trailing elements")?;
    Ok(BasicConstraints { ca, path_len })
}

/// `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId` (RFC 5280 4.2.1.12).
fn read_ext_key_usage(v: &mut Der<'_>) -> Result<ExtKeyUsage, X509Error> {
    let seq: Tlv<'_> = v.expect(SEQUENCE, "extKeyUsage")?;
    v.finish("extKeyUsage has trailing bytes")?;
    let mut list = v.inside(&seq);
    if list.is_empty() {
        return Err(v.error_at(seq.offset, "empty extKeyUsage"));
    }
    let mut eku = ExtKeyUsage {
        server_auth: false,
        client_auth: false,
        any: false,
    };
    while !list.is_empty() {
        match list.oid("KeyPurposeId")? {
            OID_KP_SERVER_AUTH => eku.server_auth = true,
            OID_KP_CLIENT_AUTH => eku.client_auth = true,
            OID_ANY_EKU => eku.any = true,
            _ => {}
        }
    }
    Ok(eku)
}
