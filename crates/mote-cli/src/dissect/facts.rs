//! Facts from handshake messages that change how later records decode, and what the
//! summary line says was negotiated.

use super::state::FlowState;
use mote_wire::extensions::{ExtensionBody, Extensions};
use mote_wire::handshake::HandshakeMessage;
use mote_wire::{ExtensionType, KeyExchange, NameType};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn learn(st: &mut FlowState, msg: &HandshakeMessage<'_>, from_client: bool) {
    match msg {
        HandshakeMessage::ClientHello(ch) if from_client => {
            // The key log names connections by this random; a ClientHello after a
            // HelloRetryRequest repeats it (RFC 8446 section 4.1.2).
            st.client_random = Some(ch.random);
            st.early_data_offered = false;
            let Some(exts) = ch.extensions else { return };
            for e in exts.iter() {
                if e.typ == ExtensionType::EARLY_DATA {
                    st.early_data_offered = true;
                }
                match e.body {
                    ExtensionBody::ServerNameList(list) => {
                        if let Some(n) = list.iter().find(|n| n.name_type == NameType::HOST_NAME) {
                            st.negotiated.server_name =
                                Some(String::from_utf8_lossy(n.name).into_owned());
                        }
                    }
                    ExtensionBody::ConnectionId(cid) => st.client_cid = Some(cid.to_vec()),
                    _ => {}
                }
            }
        }
        HandshakeMessage::ServerHello(sh) if !from_client => {
            let hrr = sh.is_hello_retry_request();
            let mut version = sh.legacy_version;
            if let Some(exts) = sh.extensions {
                for e in exts.iter() {
                    match e.body {
                        ExtensionBody::SupportedVersionsServerHello(v) => version = v,
                        ExtensionBody::KeyShareServerHello(k) => {
                            st.negotiated.group = Some(k.group.to_string())
                        }
                        ExtensionBody::KeyShareHelloRetryRequest(g) => {
                            st.negotiated.group = Some(g.to_string())
                        }
                        ExtensionBody::ConnectionId(cid) => st.server_cid = Some(cid.to_vec()),
                        _ => {}
                    }
                }
                cert_types(st, &exts);
            }
            // A client CID only takes effect if the server also negotiated the extension.
            if st.server_cid.is_none() && !st.is_tls13() {
                st.client_cid = None;
            }
            st.negotiated.client_cid = st.client_cid.as_deref().map(hex);
            st.negotiated.server_cid = st.server_cid.as_deref().map(hex);
            st.version = Some(version);
            st.suite = Some(sh.cipher_suite);
            st.negotiated.version = Some(version.to_string());
            st.negotiated.cipher_suite = Some(sh.cipher_suite.to_string());
            if hrr {
                st.negotiated.hello_retry = true;
            } else if st.is_tls13() {
                st.tls13_keys = true;
            }
            if KeyExchange::of(sh.cipher_suite) == KeyExchange::Psk {
                st.negotiated.group = None;
            }
        }
        HandshakeMessage::EncryptedExtensions(ee) => cert_types(st, &ee.extensions),
        _ => {}
    }
}

/// RFC 7250: the server's choice of certificate types, in ServerHello (TLS 1.2) or
/// EncryptedExtensions (TLS 1.3).
fn cert_types(st: &mut FlowState, exts: &Extensions<'_>) {
    for e in exts.iter() {
        if let ExtensionBody::CertificateType(t) = e.body {
            match e.typ {
                ExtensionType::SERVER_CERTIFICATE_TYPE => st.server_cert_type = t,
                ExtensionType::CLIENT_CERTIFICATE_TYPE => st.client_cert_type = t,
                _ => {}
            }
        }
    }
}
