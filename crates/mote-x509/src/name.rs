//! Names: distinguished names kept as raw DER, subjectAltName entries read lazily, and the
//! RFC 6125 matching of a server's name against them.

use core::net::IpAddr;

use crate::der::{Der, OID, SEQUENCE, SET};
use crate::error::X509Error;

/// A distinguished name (RFC 5280 4.1.2.4), kept as its raw DER `Name` encoding.
///
/// Chain building compares names as bytes: RFC 5280 7.1 lets implementations match names by
/// binary comparison when both come from the same CA's encoding, which holds for an issuer
/// field copied from the issuing certificate's subject (every CA software does this).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name<'a> {
    der: &'a [u8],
}

/// One `AttributeTypeAndValue` of a name: the type's OID content octets, the value's
/// ASN.1 tag (PrintableString 0x13, UTF8String 0x0c, ...) and its content octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub oid: &'a [u8],
    pub tag: u8,
    pub value: &'a [u8],
}

/// id-at-commonName, 2.5.4.3.
pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

impl<'a> Name<'a> {
    /// Reads and checks a `Name ::= SEQUENCE OF SET SIZE(1..MAX) OF SEQUENCE { type OID,
    /// value ANY }`, so [`Name::attributes`] never meets a malformed element.
    pub(crate) fn read(der: &mut Der<'a>, what: &'static str) -> Result<Name<'a>, X509Error> {
        let tlv = der.expect(SEQUENCE, what)?;
        let mut rdns = der.inside(&tlv);
        while !rdns.is_empty() {
            let set = rdns.expect(SET, "RelativeDistinguishedName")?;
            let mut atvs = rdns.inside(&set);
            if atvs.is_empty() {
                return Err(der.error_at(set.offset, "empty RelativeDistinguishedName"));
            }
            while !atvs.is_empty() {
                let mut atv = atvs.sequence("AttributeTypeAndValue")?;
                atv.oid("AttributeTypeAndValue.type")?;
                atv.any("AttributeTypeAndValue.value")?;
                atv.finish("AttributeTypeAndValue has trailing elements")?;
            }
        }
        Ok(Name { der: tlv.raw })
    }

    /// The whole DER encoding (tag and length included).
    pub fn as_der(&self) -> &'a [u8] {
        self.der
    }

    /// Every attribute, in order, flattening multi-valued RDNs.
    pub fn attributes(&self) -> Attributes<'a> {
        let mut outer = Der::new(self.der, 0);
        let rdns = outer
            .any("Name")
            .map(|t| outer.inside(&t))
            .unwrap_or(Der::new(&[], 0));
        Attributes {
            rdns,
            atvs: Der::new(&[], 0),
        }
    }

    /// The value bytes of the last commonName attribute (for logs; never used to match a
    /// server name, RFC 6125 6.4.4 lets clients skip it and mote does).
    pub fn common_name(&self) -> Option<&'a [u8]> {
        self.attributes()
            .filter(|a| a.oid == OID_COMMON_NAME)
            .last()
            .map(|a| a.value)
    }
}

/// Iterator over a [`Name`]'s attributes; stops at the first malformed element (there are
/// none: the name was checked when parsed).
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    rdns: Der<'a>,
    atvs: Der<'a>,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        while self.atvs.is_empty() {
            let set = self.rdns.expect(SET, "").ok()?;
            self.atvs = self.rdns.inside(&set);
        }
        let mut atv = self.atvs.sequence("").ok()?;
        let oid = atv.expect(OID, "").ok()?.content;
        let value = atv.any("").ok()?;
        Some(Attribute {
            oid,
            tag: value.tag,
            value: value.content,
        })
    }
}

/// One `GeneralName` of a subjectAltName (RFC 5280 4.2.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeneralName<'a> {
    /// dNSName `[2] IA5String`, checked to be ASCII.
    Dns(&'a str),
    /// iPAddress `[7] OCTET STRING`: 4 bytes (IPv4) or 16 (IPv6).
    Ip(&'a [u8]),
    /// uniformResourceIdentifier `[6] IA5String`, checked to be ASCII (a device's
    /// `urn:dev:...` name, for example).
    Uri(&'a str),
    /// Any other form (rfc822Name, directoryName, otherName, ...) by its tag.
    Other { tag: u8 },
}

const DNS_NAME: u8 = 0x82;
const URI: u8 = 0x86;
const IP_ADDRESS: u8 = 0x87;

/// The entries of a subjectAltName extension, read lazily from its raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubjectAltNames<'a> {
    /// The contents of the `GeneralNames` SEQUENCE.
    content: &'a [u8],
}

impl<'a> SubjectAltNames<'a> {
    /// Checks the extension value once (every element well-formed, dNSNames ASCII, iPAddress
    /// 4 or 16 bytes, at least one entry) so iteration needs no error path.
    pub(crate) fn read(der: &mut Der<'a>) -> Result<SubjectAltNames<'a>, X509Error> {
        let seq = der.expect(SEQUENCE, "subjectAltName")?;
        let mut names = der.inside(&seq);
        if names.is_empty() {
            // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
            return Err(der.error_at(seq.offset, "empty subjectAltName"));
        }
        while !names.is_empty() {
            let name = names.any("GeneralName")?;
            let ok = match name.tag {
                DNS_NAME | URI => name.content.is_ascii(),
                IP_ADDRESS => matches!(name.content.len(), 4 | 16),
                _ => true,
            };
            if !ok {
                return Err(der.error_at(name.offset, "subjectAltName entry"));
            }
        }
        der.finish("subjectAltName has trailing bytes")?;
        Ok(SubjectAltNames {
            content: seq.content,
        })
    }

    pub fn iter(&self) -> SubjectAltNamesIter<'a> {
        SubjectAltNamesIter {
            der: Der::new(self.content, 0),
        }
    }

    /// Whether any entry matches `name` (RFC 6125 6.4; see [`dns_name_matches`]).
    pub fn matches(&self, name: &ServerName<'_>) -> bool {
        let Some(reference) = name.ip_or_dns() else {
            return false;
        };
        self.iter().any(|entry| match (&reference, entry) {
            (Reference::Ip(IpAddr::V4(ip)), GeneralName::Ip(b)) => ip.octets()[..] == *b,
            (Reference::Ip(IpAddr::V6(ip)), GeneralName::Ip(b)) => ip.octets()[..] == *b,
            (Reference::Dns(r), GeneralName::Dns(p)) => dns_name_matches(p, r),
            _ => false,
        })
    }
}

impl<'a> IntoIterator for &SubjectAltNames<'a> {
    type Item = GeneralName<'a>;
    type IntoIter = SubjectAltNamesIter<'a>;
    fn into_iter(self) -> SubjectAltNamesIter<'a> {
        self.iter()
    }
}

#[derive(Clone, Debug)]
pub struct SubjectAltNamesIter<'a> {
    der: Der<'a>,
}

impl<'a> Iterator for SubjectAltNamesIter<'a> {
    type Item = GeneralName<'a>;

    fn next(&mut self) -> Option<GeneralName<'a>> {
        let name = self.der.any("").ok()?;
        Some(match name.tag {
            DNS_NAME => GeneralName::Dns(core::str::from_utf8(name.content).ok()?),
            IP_ADDRESS => GeneralName::Ip(name.content),
            URI => GeneralName::Uri(core::str::from_utf8(name.content).ok()?),
            tag => GeneralName::Other { tag },
        })
    }
}

/// The name the peer's end-entity certificate must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerName<'a> {
    /// A DNS host name, matched against dNSName entries. A string that is an IP literal is
    /// matched as that address instead, so `"127.0.0.1"` can never match a dNSName.
    Dns(&'a str),
    /// An address, matched exactly against iPAddress entries.
    Ip(IpAddr),
    /// No name check: for client certificates (servers have no name to expect). For a server
    /// it means any certificate from the anchors is accepted for any host, so use it only
    /// with anchors dedicated to that one server.
    None,
}

enum Reference<'a> {
    Dns(&'a str),
    Ip(IpAddr),
}

impl<'a> ServerName<'a> {
    /// An IP literal becomes `Ip`, anything else `Dns`.
    pub fn parse(s: &'a str) -> ServerName<'a> {
        match s.parse::<IpAddr>() {
            Ok(ip) => ServerName::Ip(ip),
            Err(_) => ServerName::Dns(s),
        }
    }

    fn ip_or_dns(&self) -> Option<Reference<'a>> {
        match *self {
            ServerName::Dns(s) => Some(match s.parse::<IpAddr>() {
                Ok(ip) => Reference::Ip(ip),
                Err(_) => Reference::Dns(s),
            }),
            ServerName::Ip(ip) => Some(Reference::Ip(ip)),
            ServerName::None => None,
        }
    }
}

/// RFC 6125 6.4 matching of a presented dNSName against a reference host name:
/// ASCII case-insensitive (6.4.1), a reference's one trailing dot ignored (an absolute name),
/// and a wildcard only as the entire leftmost label, standing for exactly one non-empty label
/// (6.4.3: `*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`).
/// Partial-label wildcards (`f*.example.com`, `*x.example.com`) never match, nor does a
/// wildcard with fewer than two labels after it (`*.com`), nor any empty label.
pub fn dns_name_matches(presented: &str, reference: &str) -> bool {
    let reference = reference.strip_suffix('.').unwrap_or(reference);
    if !valid_labels(presented) || !valid_labels(reference) || reference.contains('*') {
        return false;
    }
    match presented.strip_prefix("*.") {
        Some(rest) => {
            // The rest must be a plain name of at least two labels.
            if rest.contains('*') || !rest.contains('.') {
                return false;
            }
            match reference.split_once('.') {
                Some((first, ref_rest)) => !first.is_empty() && ref_rest.eq_ignore_ascii_case(rest),
                None => false,
            }
        }
        None => !presented.contains('*') && presented.eq_ignore_ascii_case(reference),
    }
}

/// Non-empty, no empty labels (so no leading, trailing or doubled dots).
fn valid_labels(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6125_wildcards() {
        assert!(dns_name_matches("sensor.example", "SENSOR.Example"));
        assert!(dns_name_matches("sensor.example", "sensor.example."));
        assert!(!dns_name_matches("sensor.example.", "sensor.example"));
        assert!(dns_name_matches("*.sensors.example", "a.sensors.example"));
        assert!(dns_name_matches("*.SENSORS.example", "A.sensors.EXAMPLE"));
        assert!(!dns_name_matches("*.sensors.example", "sensors.example"));
        assert!(!dns_name_matches(
            "*.sensors.example",
            "a.b.sensors.example"
        ));
        assert!(!dns_name_matches("*.sensors.example", ".sensors.example"));
        assert!(!dns_name_matches(
            "f*.sensors.example",
            "foo.sensors.example"
        ));
        assert!(!dns_name_matches(
            "*o.sensors.example",
            "foo.sensors.example"
        ));
        assert!(!dns_name_matches("a.*.example", "a.b.example"));
        assert!(!dns_name_matches("*.*.example", "a.b.example"));
        assert!(!dns_name_matches("*.example", "a.example"));
        assert!(!dns_name_matches("*", "a"));
        assert!(!dns_name_matches("a..example", "a..example"));
        assert!(!dns_name_matches("", ""));
        assert!(!dns_name_matches("*.sensors.example", "*.sensors.example"));
    }
}
