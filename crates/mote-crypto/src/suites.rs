//! Cipher-suite descriptors: what each suite means for the record layer and key schedule.
//!
//! The descriptors follow the crate's algorithm features (`sha384`, `aes-gcm`, `aes-ccm`,
//! `chacha20poly1305`): a suite whose AEAD or hash is compiled out has no descriptor
//! ([`SuiteInfo::of`] is `None`, so the engine neither offers nor accepts it) and is not in
//! [`SuiteInfo::TLS13`]. An application with a provider of its own enables the features of
//! the algorithms that provider implements (each also builds the RustCrypto provider's code
//! for it, which is only linked if used).

use mote_wire::CipherSuite;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
}

impl HashAlgorithm {
    /// Whether this build includes the hash (SHA-256 always; SHA-384 with feature `sha384`).
    pub const fn compiled_in(self) -> bool {
        match self {
            HashAlgorithm::Sha256 => true,
            HashAlgorithm::Sha384 => cfg!(feature = "sha384"),
        }
    }

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
    /// Whether this build includes the AEAD: AES-128-GCM with feature `aes-gcm`, AES-256-GCM
    /// with `aes-gcm` and `sha384` (its only suite is TLS_AES_256_GCM_SHA384), the CCM modes
    /// with `aes-ccm`, ChaCha20-Poly1305 with `chacha20poly1305`.
    pub const fn compiled_in(self) -> bool {
        match self {
            AeadAlgorithm::Aes128Gcm => cfg!(feature = "aes-gcm"),
            AeadAlgorithm::Aes256Gcm => cfg!(all(feature = "aes-gcm", feature = "sha384")),
            AeadAlgorithm::ChaCha20Poly1305 => cfg!(feature = "chacha20poly1305"),
            AeadAlgorithm::Aes128Ccm | AeadAlgorithm::Aes128Ccm8 => cfg!(feature = "aes-ccm"),
        }
    }

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
    /// The descriptor of a suite mote implements, or `None`, also for a suite whose AEAD or
    /// hash is not compiled in (see [`AeadAlgorithm::compiled_in`]).
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
        if !aead.compiled_in() || !hash.compiled_in() {
            return None;
        }
        Some(SuiteInfo {
            suite,
            aead,
            hash,
            tls13,
        })
    }

    /// The TLS 1.3 suites compiled in, in mote's default order of preference: AES-128-GCM
    /// first (fast with AES instructions, universally supported), then the IoT CCM suites,
    /// ChaCha20, AES-256. Its length depends on the features (an array of up to five); with
    /// no AEAD feature it is empty.
    pub const TLS13: [CipherSuite; TLS13_LEN] = tls13_compiled_in();
}

/// Every TLS 1.3 suite mote knows, in order of preference.
const TLS13_ALL: [CipherSuite; 5] = [
    CipherSuite::TLS_AES_128_GCM_SHA256,
    CipherSuite::TLS_AES_128_CCM_SHA256,
    CipherSuite::TLS_AES_128_CCM_8_SHA256,
    CipherSuite::TLS_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_AES_256_GCM_SHA384,
];

/// How many of [`TLS13_ALL`] this build implements.
const TLS13_LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < TLS13_ALL.len() {
        if SuiteInfo::of(TLS13_ALL[i]).is_some() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// [`TLS13_ALL`] without the suites compiled out, in the same order.
const fn tls13_compiled_in() -> [CipherSuite; TLS13_LEN] {
    let mut out = [CipherSuite::TLS_AES_128_GCM_SHA256; TLS13_LEN];
    let mut n = 0;
    let mut i = 0;
    while i < TLS13_ALL.len() {
        if SuiteInfo::of(TLS13_ALL[i]).is_some() {
            out[n] = TLS13_ALL[i];
            n += 1;
        }
        i += 1;
    }
    out
}
