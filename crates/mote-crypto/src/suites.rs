//! Cipher-suite descriptors: what each suite means for the record layer and key schedule.

use mote_wire::CipherSuite;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
}

impl HashAlgorithm {
    pub const fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AeadAlgorithm {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    /// AES-128-CCM with a 16-byte tag (RFC 6655, RFC 8446 TLS_AES_128_CCM_SHA256).
    Aes128Ccm,
    /// AES-128-CCM with an 8-byte tag (RFC 6655 CCM_8; RFC 7925's mandatory IoT suite).
    Aes128Ccm8,
}

impl AeadAlgorithm {
    pub const fn key_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes256Gcm | AeadAlgorithm::ChaCha20Poly1305 => 32,
            _ => 16,
        }
    }
    pub const fn tag_len(self) -> usize {
        match self {
            AeadAlgorithm::Aes128Ccm8 => 8,
            _ => 16,
        }
    }
    /// TLS 1.3 and the TLS 1.2 AEAD nonces are 12 bytes for every suite here.
    pub const fn nonce_len(self) -> usize {
        12
    }
}

/// What a cipher suite selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteInfo {
    pub suite: CipherSuite,
    pub aead: AeadAlgorithm,
    pub hash: HashAlgorithm,
    /// TLS 1.3 suite (key schedule of RFC 8446) or TLS 1.2 (PRF of RFC 5246).
    pub tls13: bool,
}

impl SuiteInfo {
    /// The descriptor of a suite mote implements, or `None`.
    pub const fn of(suite: CipherSuite) -> Option<SuiteInfo> {
        use AeadAlgorithm as A;
        use HashAlgorithm as H;
        let (aead, hash, tls13) = match suite.0 {
            0x1301 => (A::Aes128Gcm, H::Sha256, true),
            0x1302 => (A::Aes256Gcm, H::Sha384, true),
            0x1303 => (A::ChaCha20Poly1305, H::Sha256, true),
            0x1304 => (A::Aes128Ccm, H::Sha256, true),
            0x1305 => (A::Aes128Ccm8, H::Sha256, true),
            // TLS 1.2 suites of RFC 7925 and the DTLS issue.
            0xc0a8 => (A::Aes128Ccm8, H::Sha256, false), // TLS_PSK_WITH_AES_128_CCM_8
            0xc0a4 => (A::Aes128Ccm, H::Sha256, false),  // TLS_PSK_WITH_AES_128_CCM
            0xc0ae => (A::Aes128Ccm8, H::Sha256, false), // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
            0xc0ac => (A::Aes128Ccm, H::Sha256, false),  // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
            0x00a8 => (A::Aes128Gcm, H::Sha256, false),  // TLS_PSK_WITH_AES_128_GCM_SHA256
            0xd005 => (A::Aes128Ccm, H::Sha256, false),  // TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256
            0xc02b => (A::Aes128Gcm, H::Sha256, false),  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            0xcca9 => (A::ChaCha20Poly1305, H::Sha256, false), // ..._ECDSA_WITH_CHACHA20_POLY1305
            _ => return None,
        };
        Some(SuiteInfo {
            suite,
            aead,
            hash,
            tls13,
        })
    }

    /// The TLS 1.3 suites in mote's default order of preference: AES-128-GCM first (fast with
    /// AES instructions, universally supported), then the IoT CCM suites, ChaCha20, AES-256.
    pub const TLS13: [CipherSuite; 5] = [
        CipherSuite::TLS_AES_128_GCM_SHA256,
        CipherSuite::TLS_AES_128_CCM_SHA256,
        CipherSuite::TLS_AES_128_CCM_8_SHA256,
        CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite::TLS_AES_256_GCM_SHA384,
    ];
}
