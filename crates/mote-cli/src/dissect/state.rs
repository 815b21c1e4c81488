//! What the dissector learns from a flow's handshake, which decides how later records decode:
//! the version chosen, the TLS 1.2 key exchange, certificate types, connection IDs, and from
//! which point each direction is encrypted.

use super::model::Negotiated;
use mote_wire::handshake::HandshakeMessage;
use mote_wire::{CertificateType, CipherSuite, ContentType, Context, KeyExchange, ProtocolVersion};

#[derive(Debug, Clone)]
pub struct FlowState {
    pub dtls: bool,
    /// The version the server chose.
    pub version: Option<ProtocolVersion>,
    pub suite: Option<CipherSuite>,
    /// Certificate types (RFC 7250) each side sends.
    pub client_cert_type: CertificateType,
    pub server_cert_type: CertificateType,
    /// Connection IDs (RFC 9146): what the client asked to receive, what the server did.
    pub client_cid: Option<Vec<u8>>,
    pub server_cid: Option<Vec<u8>>,
    /// TLS 1.3: a ServerHello (not a HelloRetryRequest) was seen, so application_data
    /// records in both directions are encrypted from now on.
    pub tls13_keys: bool,
    /// The random of the (last) ClientHello: what a key log names the connection by.
    pub client_random: Option<[u8; 32]>,
    /// The ClientHello offered 0-RTT data (RFC 8446 section 4.2.10): the client's
    /// application_data records that follow it are protected with the early traffic secret.
    pub early_data_offered: bool,
    /// TLS 1.2: change_cipher_spec seen from [client, server].
    pub ccs: [bool; 2],
    pub negotiated: Negotiated,
}

impl FlowState {
    pub fn new(dtls: bool) -> FlowState {
        FlowState {
            dtls,
            version: None,
            suite: None,
            client_cert_type: CertificateType::X509,
            server_cert_type: CertificateType::X509,
            client_cid: None,
            server_cid: None,
            tls13_keys: false,
            client_random: None,
            early_data_offered: false,
            ccs: [false; 2],
            negotiated: Negotiated::default(),
        }
    }

    pub fn is_tls13(&self) -> bool {
        matches!(
            self.version,
            Some(ProtocolVersion::TLS13) | Some(ProtocolVersion::DTLS13)
        )
    }

    /// The parsing context for a message sent by the client (`from_client`) or the server.
    pub fn context(&self, from_client: bool) -> Context {
        let version = self.version.unwrap_or(if self.dtls {
            ProtocolVersion::DTLS12
        } else {
            ProtocolVersion::TLS12
        });
        Context {
            dtls: self.dtls,
            version,
            key_exchange: self
                .suite
                .map(KeyExchange::of)
                .unwrap_or(KeyExchange::Unknown),
            cert_type: if from_client {
                self.client_cert_type
            } else {
                self.server_cert_type
            },
        }
    }

    /// Whether a record of type `ct` from this direction is ciphertext.
    pub fn encrypted(&self, from_client: bool, ct: ContentType) -> bool {
        if self.is_tls13() && self.tls13_keys {
            // TLS 1.3 protects everything after ServerHello as application_data; a plaintext
            // change_cipher_spec (compatibility mode) or alert can still appear.
            return ct == ContentType::APPLICATION_DATA;
        }
        if from_client
            && !self.dtls
            && self.early_data_offered
            && ct == ContentType::APPLICATION_DATA
        {
            // 0-RTT data, sent before the ServerHello arrives.
            return true;
        }
        let d = if from_client { 0 } else { 1 };
        self.ccs[d] && ct != ContentType::CHANGE_CIPHER_SPEC
    }

    pub fn change_cipher_spec(&mut self, from_client: bool) {
        if !self.is_tls13() {
            self.ccs[if from_client { 0 } else { 1 }] = true;
        }
    }

    /// The connection ID length that records sent by this side carry: a record is sent with
    /// the CID its receiver asked for (RFC 9146 section 3).
    pub fn cid_len_for(&self, from_client: bool) -> Option<usize> {
        let cid = if from_client {
            self.server_cid.as_ref()
        } else {
            self.client_cid.as_ref()
        };
        cid.map(Vec::len)
    }

    /// Learns from a handshake message.
    pub fn learn(&mut self, msg: &HandshakeMessage<'_>, from_client: bool) {
        super::facts::learn(self, msg, from_client);
    }
}
