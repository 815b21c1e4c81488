//! Every handshake message in the shared test vectors, parsed, checked field by field where
//! the source documents the values, and emitted back to the same bytes: once as parsed (raw
//! lists) and once rebuilt from items (every list collected into a Vec). Every truncation of
//! every message must fail without panicking, with an error offset inside the input.
//!
//! Sources (see ../../../shared/vectors/README.md):
//! - RFC 8448 (TLS 1.3 example traces): rfc8448/rfc8448_vectors.txt, transcribed from the RFC.
//! - rusticata/tls-parser tests: parser/tls_parser_test_vectors.txt (MIT/Apache-2.0).
//! - pion/dtls tests: parser/pion_dtls_vectors.txt (MIT).
//! - The Illustrated TLS 1.2 / TLS 1.3 / DTLS 1.3 captures (syncsynchalt/illustrated-*,
//!   MIT): captures/illustrated-*/captures/caps/*.

#[path = "handshake_vectors/support.rs"]
mod support;

#[path = "handshake_vectors/captures.rs"]
mod captures;
#[path = "handshake_vectors/pion.rs"]
mod pion;
#[path = "handshake_vectors/rfc8448.rs"]
mod rfc8448;
#[path = "handshake_vectors/robustness.rs"]
mod robustness;
#[path = "handshake_vectors/tls_parser.rs"]
mod tls_parser;
