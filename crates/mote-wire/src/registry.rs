//! IANA registries used on the wire (TLS parameters, RFC 8446 section 11 and the registries
//! RFC 5246, 8422, 7250, 9146 and 9147 add to).

use crate::open_enum;

open_enum! {
    /// TLSPlaintext.type (RFC 8446 section 5.1, RFC 9146 section 4).
    pub struct ContentType(u8) {
        CHANGE_CIPHER_SPEC = 20 => "change_cipher_spec",
        ALERT = 21 => "alert",
        HANDSHAKE = 22 => "handshake",
        APPLICATION_DATA = 23 => "application_data",
        HEARTBEAT = 24 => "heartbeat",
        TLS12_CID = 25 => "tls12_cid",
        ACK = 26 => "ack",
    }
}

open_enum! {
    /// ProtocolVersion, including the DTLS ones (RFC 6347, RFC 9147).
    pub struct ProtocolVersion(u16) {
        SSL3 = 0x0300 => "SSL 3.0",
        TLS10 = 0x0301 => "TLS 1.0",
        TLS11 = 0x0302 => "TLS 1.1",
        TLS12 = 0x0303 => "TLS 1.2",
        TLS13 = 0x0304 => "TLS 1.3",
        DTLS10 = 0xfeff => "DTLS 1.0",
        DTLS12 = 0xfefd => "DTLS 1.2",
        DTLS13 = 0xfefc => "DTLS 1.3",
    }
}

impl ProtocolVersion {
    pub const fn is_dtls(self) -> bool {
        self.0 >= 0xfe00
    }
}

open_enum! {
    /// HandshakeType (RFC 8446 section 4, RFC 5246 section 7.4, RFC 6347 section 4.2.1).
    pub struct HandshakeType(u8) {
        HELLO_REQUEST = 0 => "hello_request",
        CLIENT_HELLO = 1 => "client_hello",
        SERVER_HELLO = 2 => "server_hello",
        HELLO_VERIFY_REQUEST = 3 => "hello_verify_request",
        NEW_SESSION_TICKET = 4 => "new_session_ticket",
        END_OF_EARLY_DATA = 5 => "end_of_early_data",
        HELLO_RETRY_REQUEST = 6 => "hello_retry_request",
        ENCRYPTED_EXTENSIONS = 8 => "encrypted_extensions",
        REQUEST_CONNECTION_ID = 9 => "request_connection_id",
        NEW_CONNECTION_ID = 10 => "new_connection_id",
        CERTIFICATE = 11 => "certificate",
        SERVER_KEY_EXCHANGE = 12 => "server_key_exchange",
        CERTIFICATE_REQUEST = 13 => "certificate_request",
        SERVER_HELLO_DONE = 14 => "server_hello_done",
        CERTIFICATE_VERIFY = 15 => "certificate_verify",
        CLIENT_KEY_EXCHANGE = 16 => "client_key_exchange",
        FINISHED = 20 => "finished",
        CERTIFICATE_URL = 21 => "certificate_url",
        CERTIFICATE_STATUS = 22 => "certificate_status",
        KEY_UPDATE = 24 => "key_update",
        COMPRESSED_CERTIFICATE = 25 => "compressed_certificate",
        MESSAGE_HASH = 254 => "message_hash",
    }
}

open_enum! {
    /// ExtensionType (IANA TLS ExtensionType Values).
    pub struct ExtensionType(u16) {
        SERVER_NAME = 0 => "server_name",
        MAX_FRAGMENT_LENGTH = 1 => "max_fragment_length",
        CLIENT_CERTIFICATE_URL = 2 => "client_certificate_url",
        TRUSTED_CA_KEYS = 3 => "trusted_ca_keys",
        TRUNCATED_HMAC = 4 => "truncated_hmac",
        STATUS_REQUEST = 5 => "status_request",
        SUPPORTED_GROUPS = 10 => "supported_groups",
        EC_POINT_FORMATS = 11 => "ec_point_formats",
        SRP = 12 => "srp",
        SIGNATURE_ALGORITHMS = 13 => "signature_algorithms",
        USE_SRTP = 14 => "use_srtp",
        HEARTBEAT = 15 => "heartbeat",
        ALPN = 16 => "application_layer_protocol_negotiation",
        SIGNED_CERTIFICATE_TIMESTAMP = 18 => "signed_certificate_timestamp",
        CLIENT_CERTIFICATE_TYPE = 19 => "client_certificate_type",
        SERVER_CERTIFICATE_TYPE = 20 => "server_certificate_type",
        PADDING = 21 => "padding",
        ENCRYPT_THEN_MAC = 22 => "encrypt_then_mac",
        EXTENDED_MASTER_SECRET = 23 => "extended_master_secret",
        COMPRESS_CERTIFICATE = 27 => "compress_certificate",
        RECORD_SIZE_LIMIT = 28 => "record_size_limit",
        SESSION_TICKET = 35 => "session_ticket",
        PRE_SHARED_KEY = 41 => "pre_shared_key",
        EARLY_DATA = 42 => "early_data",
        SUPPORTED_VERSIONS = 43 => "supported_versions",
        COOKIE = 44 => "cookie",
        PSK_KEY_EXCHANGE_MODES = 45 => "psk_key_exchange_modes",
        CERTIFICATE_AUTHORITIES = 47 => "certificate_authorities",
        OID_FILTERS = 48 => "oid_filters",
        POST_HANDSHAKE_AUTH = 49 => "post_handshake_auth",
        SIGNATURE_ALGORITHMS_CERT = 50 => "signature_algorithms_cert",
        KEY_SHARE = 51 => "key_share",
        CONNECTION_ID_DEPRECATED = 53 => "connection_id (deprecated draft)",
        CONNECTION_ID = 54 => "connection_id",
        QUIC_TRANSPORT_PARAMETERS = 57 => "quic_transport_parameters",
        ENCRYPTED_CLIENT_HELLO = 0xfe0d => "encrypted_client_hello",
        RENEGOTIATION_INFO = 0xff01 => "renegotiation_info",
    }
}

open_enum! {
    /// CipherSuite: the TLS 1.3 suites and the TLS 1.2 suites mote or its peers use.
    pub struct CipherSuite(u16) {
        TLS_NULL_WITH_NULL_NULL = 0x0000 => "TLS_NULL_WITH_NULL_NULL",
        TLS_RSA_WITH_AES_128_CBC_SHA = 0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = 0x006b => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        TLS_PSK_WITH_AES_128_CBC_SHA = 0x008c => "TLS_PSK_WITH_AES_128_CBC_SHA",
        TLS_PSK_WITH_AES_256_CBC_SHA = 0x008d => "TLS_PSK_WITH_AES_256_CBC_SHA",
        TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00a8 => "TLS_PSK_WITH_AES_128_GCM_SHA256",
        TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00a9 => "TLS_PSK_WITH_AES_256_GCM_SHA384",
        TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00ae => "TLS_PSK_WITH_AES_128_CBC_SHA256",
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        TLS_AES_128_GCM_SHA256 = 0x1301 => "TLS_AES_128_GCM_SHA256",
        TLS_AES_256_GCM_SHA384 = 0x1302 => "TLS_AES_256_GCM_SHA384",
        TLS_CHACHA20_POLY1305_SHA256 = 0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        TLS_AES_128_CCM_SHA256 = 0x1304 => "TLS_AES_128_CCM_SHA256",
        TLS_AES_128_CCM_8_SHA256 = 0x1305 => "TLS_AES_128_CCM_8_SHA256",
        TLS_FALLBACK_SCSV = 0x5600 => "TLS_FALLBACK_SCSV",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA = 0xc035 => "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
        TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA = 0xc036 => "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
        TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xc037 => "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
        TLS_RSA_WITH_AES_128_CCM = 0xc09c => "TLS_RSA_WITH_AES_128_CCM",
        TLS_RSA_WITH_AES_256_CCM = 0xc09d => "TLS_RSA_WITH_AES_256_CCM",
        TLS_RSA_WITH_AES_128_CCM_8 = 0xc0a0 => "TLS_RSA_WITH_AES_128_CCM_8",
        TLS_PSK_WITH_AES_128_CCM = 0xc0a4 => "TLS_PSK_WITH_AES_128_CCM",
        TLS_PSK_WITH_AES_256_CCM = 0xc0a5 => "TLS_PSK_WITH_AES_256_CCM",
        TLS_PSK_WITH_AES_128_CCM_8 = 0xc0a8 => "TLS_PSK_WITH_AES_128_CCM_8",
        TLS_PSK_WITH_AES_256_CCM_8 = 0xc0a9 => "TLS_PSK_WITH_AES_256_CCM_8",
        TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xc0ac => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        TLS_ECDHE_ECDSA_WITH_AES_256_CCM = 0xc0ad => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xc0ae => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = 0xc0af => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccab => "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xccac => "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
        TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xd001 => "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
        TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = 0xd002 => "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
        TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 = 0xd003 => "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256",
        TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 = 0xd005 => "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",
    }
}

impl CipherSuite {
    /// TLS 1.3 suites occupy 0x13xx (RFC 8446 appendix B.4).
    pub const fn is_tls13(self) -> bool {
        self.0 >> 8 == 0x13
    }
}

open_enum! {
    /// NamedGroup (RFC 8446 section 4.2.7, RFC 8422, RFC 7919).
    pub struct NamedGroup(u16) {
        SECT163K1 = 1 => "sect163k1",
        SECP192R1 = 19 => "secp192r1",
        SECP224R1 = 21 => "secp224r1",
        SECP256R1 = 23 => "secp256r1",
        SECP384R1 = 24 => "secp384r1",
        SECP521R1 = 25 => "secp521r1",
        BRAINPOOLP256R1 = 26 => "brainpoolP256r1",
        BRAINPOOLP384R1 = 27 => "brainpoolP384r1",
        BRAINPOOLP512R1 = 28 => "brainpoolP512r1",
        X25519 = 29 => "x25519",
        X448 = 30 => "x448",
        FFDHE2048 = 256 => "ffdhe2048",
        FFDHE3072 = 257 => "ffdhe3072",
        FFDHE4096 = 258 => "ffdhe4096",
        FFDHE6144 = 259 => "ffdhe6144",
        FFDHE8192 = 260 => "ffdhe8192",
        SECP256R1_MLKEM768 = 0x11eb => "SecP256r1MLKEM768",
        X25519_MLKEM768 = 0x11ec => "X25519MLKEM768",
        X25519_KYBER768_DRAFT00 = 0x6399 => "X25519Kyber768Draft00",
    }
}

open_enum! {
    /// SignatureScheme (RFC 8446 section 4.2.3) and the TLS 1.2 hash/signature pairs that
    /// share its code space.
    pub struct SignatureScheme(u16) {
        RSA_PKCS1_SHA1 = 0x0201 => "rsa_pkcs1_sha1",
        ECDSA_SHA1 = 0x0203 => "ecdsa_sha1",
        SHA224_RSA = 0x0301 => "sha224_rsa",
        SHA224_ECDSA = 0x0303 => "sha224_ecdsa",
        RSA_PKCS1_SHA256 = 0x0401 => "rsa_pkcs1_sha256",
        ECDSA_SECP256R1_SHA256 = 0x0403 => "ecdsa_secp256r1_sha256",
        RSA_PKCS1_SHA384 = 0x0501 => "rsa_pkcs1_sha384",
        ECDSA_SECP384R1_SHA384 = 0x0503 => "ecdsa_secp384r1_sha384",
        RSA_PKCS1_SHA512 = 0x0601 => "rsa_pkcs1_sha512",
        ECDSA_SECP521R1_SHA512 = 0x0603 => "ecdsa_secp521r1_sha512",
        RSA_PSS_RSAE_SHA256 = 0x0804 => "rsa_pss_rsae_sha256",
        RSA_PSS_RSAE_SHA384 = 0x0805 => "rsa_pss_rsae_sha384",
        RSA_PSS_RSAE_SHA512 = 0x0806 => "rsa_pss_rsae_sha512",
        ED25519 = 0x0807 => "ed25519",
        ED448 = 0x0808 => "ed448",
        RSA_PSS_PSS_SHA256 = 0x0809 => "rsa_pss_pss_sha256",
        RSA_PSS_PSS_SHA384 = 0x080a => "rsa_pss_pss_sha384",
        RSA_PSS_PSS_SHA512 = 0x080b => "rsa_pss_pss_sha512",
        ECDSA_BRAINPOOLP256R1TLS13_SHA256 = 0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
        ECDSA_BRAINPOOLP384R1TLS13_SHA384 = 0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
        ECDSA_BRAINPOOLP512R1TLS13_SHA512 = 0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
    }
}

open_enum! {
    /// AlertLevel (RFC 8446 section 6).
    pub struct AlertLevel(u8) {
        WARNING = 1 => "warning",
        FATAL = 2 => "fatal",
    }
}

open_enum! {
    /// ECPointFormat (RFC 8422 section 5.1.2).
    pub struct EcPointFormat(u8) {
        UNCOMPRESSED = 0 => "uncompressed",
        ANSIX962_COMPRESSED_PRIME = 1 => "ansiX962_compressed_prime",
        ANSIX962_COMPRESSED_CHAR2 = 2 => "ansiX962_compressed_char2",
    }
}

open_enum! {
    /// PskKeyExchangeMode (RFC 8446 section 4.2.9).
    pub struct PskKeyExchangeMode(u8) {
        PSK_KE = 0 => "psk_ke",
        PSK_DHE_KE = 1 => "psk_dhe_ke",
    }
}

open_enum! {
    /// CertificateType (RFC 7250, RFC 6091).
    pub struct CertificateType(u8) {
        X509 = 0 => "X509",
        OPENPGP = 1 => "OpenPGP",
        RAW_PUBLIC_KEY = 2 => "RawPublicKey",
    }
}

open_enum! {
    /// CompressionMethod (RFC 5246 section 7.4.1.2).
    pub struct CompressionMethod(u8) {
        NULL = 0 => "null",
        DEFLATE = 1 => "DEFLATE",
    }
}

open_enum! {
    /// KeyUpdateRequest (RFC 8446 section 4.6.3).
    pub struct KeyUpdateRequest(u8) {
        UPDATE_NOT_REQUESTED = 0 => "update_not_requested",
        UPDATE_REQUESTED = 1 => "update_requested",
    }
}

open_enum! {
    /// MaxFragmentLength (RFC 6066 section 4).
    pub struct MaxFragmentLength(u8) {
        L512 = 1 => "2^9",
        L1024 = 2 => "2^10",
        L2048 = 3 => "2^11",
        L4096 = 4 => "2^12",
    }
}

impl MaxFragmentLength {
    /// The fragment length in bytes, for the four defined values.
    pub const fn bytes(self) -> Option<usize> {
        match self.0 {
            1..=4 => Some(256 << self.0),
            _ => None,
        }
    }
}

open_enum! {
    /// ECCurveType (RFC 8422 section 5.4).
    pub struct EcCurveType(u8) {
        EXPLICIT_PRIME = 1 => "explicit_prime",
        EXPLICIT_CHAR2 = 2 => "explicit_char2",
        NAMED_CURVE = 3 => "named_curve",
    }
}

open_enum! {
    /// ClientCertificateType for TLS 1.2 CertificateRequest (RFC 5246 section 7.4.4).
    pub struct ClientCertificateType(u8) {
        RSA_SIGN = 1 => "rsa_sign",
        DSS_SIGN = 2 => "dss_sign",
        RSA_FIXED_DH = 3 => "rsa_fixed_dh",
        DSS_FIXED_DH = 4 => "dss_fixed_dh",
        ECDSA_SIGN = 64 => "ecdsa_sign",
        RSA_FIXED_ECDH = 65 => "rsa_fixed_ecdh",
        ECDSA_FIXED_ECDH = 66 => "ecdsa_fixed_ecdh",
    }
}

open_enum! {
    /// NameType inside server_name (RFC 6066 section 3).
    pub struct NameType(u8) {
        HOST_NAME = 0 => "host_name",
    }
}
