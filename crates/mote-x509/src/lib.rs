//! X.509 for mote: certificates parsed in place from DER (RFC 5280 4.1), and a streaming
//! chain validator that checks the peer's chain one certificate at a time as the TLS
//! Certificate message arrives, holding only a fixed-size summary between certificates
//! (the design of BearSSL's x509 engine). Devices that do not want a PKI can pin the peer's
//! key ([`PinnedSpki`]) or use RFC 7250 raw public keys ([`PinnedRawKey`]) through the same
//! validator ([`ServerAuth`]).
//!
//! No allocator, no `unsafe`, no panics on any input. Signatures and hashes go through the
//! engine's [`mote_crypto::Provider`], so this crate contains no cryptography.
//!
//! ```text
//! let mut v = ServerAuth::Chain { anchors, name: ServerName::Dns("sensor.example") }
//!     .validator(now_unix, Usage::ServerAuth);
//! for (i, cert) in certificate_entries.enumerate() { v.add(&provider, i, cert)?; }
//! let verified: VerifiedChain = v.finish(&provider)?;   // end-entity key inside
//! ```
#![no_std]
#![forbid(unsafe_code)]

mod alg;
mod auth;
mod cert;
mod chain;
mod der;
mod error;
mod name;
mod time;

pub use auth::{Method, PinnedRawKey, PinnedSpki, ServerAuth};
pub use cert::{BasicConstraints, Certificate, ExtKeyUsage, KeyUsage};
pub use chain::{
    ChainValidator, RsaChainValidator, TrustAnchor, Usage, VerifiedChain, DEFAULT_MAX_DEPTH,
    DEFAULT_SIGNATURE_CAPACITY, MAX_SPKI, RSA_SIGNATURE_CAPACITY,
};
pub use error::X509Error;
pub use name::{
    dns_name_matches, Attribute, Attributes, GeneralName, Name, ServerName, SubjectAltNames,
    SubjectAltNamesIter, OID_COMMON_NAME,
};
