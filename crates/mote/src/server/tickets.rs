//! Stateless session tickets (RFC 8446 sections 4.6.1, 2.2): the server keeps nothing. A
//! ticket is the AES-128-GCM sealing, under the first of [`ServerConfig::ticket_keys`], of
//! what resumption needs: the suite, the resumption PSK, when it was issued, ticket_age_add,
//! the lifetime and the client's identity. Layout (132 bytes):
//!
//! ```text
//! key id (4) | GCM nonce (12, random) | sealed: suite (2) | issued at, ms (8) |
//!   age_add (4) | lifetime (4) | identity kind (1) | identity (32) | PSK length (1) |
//!   PSK (48, zero padded) | tag (16)
//! ```
//!
//! The key id is the additional data. Any key of the list opens a ticket, so a key can be
//! rotated by prepending a new one and dropping the old one once its tickets expire. A ticket
//! that does not open, is too old or names an unknown suite is ignored: the handshake goes on
//! without it (a full handshake), as RFC 8446 section 4.2.11 has servers do.
//!
//! [`ServerConfig::ticket_keys`]: crate::config::ServerConfig::ticket_keys

use super::{ClientId, Core};
use crate::error::Error;
use crate::key_schedule::tls13::{resumption_psk, MasterSecret};
use mote_crypto::{Aead, AeadAlgorithm, HashAlgorithm, Provider, Rng, SuiteInfo, MAX_DIGEST};
use mote_wire::handshake::{HandshakeMessage, NewSessionTicket};
use mote_wire::{CipherSuite, HandshakeType, List};

const PLAIN_LEN: usize = 2 + 8 + 4 + 4 + 1 + 32 + 1 + MAX_DIGEST;
const TICKET_LEN: usize = 4 + 12 + PLAIN_LEN + 16;
/// One ticket per connection, so one nonce.
const TICKET_NONCE: &[u8] = &[0];
/// RFC 8446 section 4.6.1: at most seven days.
const MAX_LIFETIME: u32 = 604_800;

/// What a ticket carries.
pub(crate) struct Ticket {
    pub suite: CipherSuite,
    pub hash: HashAlgorithm,
    psk: [u8; MAX_DIGEST],
    psk_len: usize,
    issued_at_ms: u64,
    age_add: u32,
    lifetime: u32,
    pub client: Option<ClientId>,
}

impl Ticket {
    pub fn psk(&self) -> &[u8] {
        self.psk.get(..self.psk_len).unwrap_or(&[])
    }

    fn encode(&self, out: &mut [u8; PLAIN_LEN]) {
        out[0..2].copy_from_slice(&self.suite.0.to_be_bytes());
        out[2..10].copy_from_slice(&self.issued_at_ms.to_be_bytes());
        out[10..14].copy_from_slice(&self.age_add.to_be_bytes());
        out[14..18].copy_from_slice(&self.lifetime.to_be_bytes());
        let (kind, id) = match self.client {
            None => (0, [0; 32]),
            Some(ClientId::Psk(i)) => {
                let mut id = [0; 32];
                id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                (1, id)
            }
            Some(ClientId::CertificateSpki(h)) => (2, h),
        };
        out[18] = kind;
        out[19..51].copy_from_slice(&id);
        out[51] = self.psk_len as u8;
        out[52..].copy_from_slice(&self.psk);
    }

    fn decode(b: &[u8; PLAIN_LEN]) -> Option<Ticket> {
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let suite = CipherSuite(u16::from_be_bytes([b[0], b[1]]));
        let info = SuiteInfo::of(suite).filter(|i| i.tls13)?;
        let mut at = [0u8; 8];
        at.copy_from_slice(&b[2..10]);
        let mut id = [0u8; 32];
        id.copy_from_slice(&b[19..51]);
        let client = match b[18] {
            0 => None,
            1 => {
                let mut i = [0u8; 8];
                i.copy_from_slice(&id[..8]);
                Some(ClientId::Psk(usize::try_from(u64::from_be_bytes(i)).ok()?))
            }
            2 => Some(ClientId::CertificateSpki(id)),
            _ => return None,
        };
        let psk_len = usize::from(b[51]);
        if psk_len != info.hash.output_len() {
            return None;
        }
        let mut psk = [0u8; MAX_DIGEST];
        psk.copy_from_slice(&b[52..]);
        Some(Ticket {
            suite,
            hash: info.hash,
            psk,
            psk_len,
            issued_at_ms: u64::from_be_bytes(at),
            age_add: u32_at(10),
            lifetime: u32_at(14),
            client,
        })
    }
}

impl<P: Provider> Core<'_, '_, P> {
    /// Sends one NewSessionTicket after the client's Finished (the transcript includes it).
    pub(crate) fn send_ticket(
        &mut self,
        suite: SuiteInfo,
        master: &MasterSecret,
        rng: &mut dyn Rng,
    ) -> Result<(), Error> {
        let Some(key) = self.cfg.ticket_keys.first() else {
            return Ok(());
        };
        let lifetime = self.cfg.ticket_lifetime.min(MAX_LIFETIME);
        if lifetime == 0 {
            return Ok(());
        }
        let rms = master.resumption_secret(&self.p, self.th(suite).as_bytes());
        let psk = resumption_psk(&self.p, suite.hash, rms.as_bytes(), TICKET_NONCE);
        let mut random = [0u8; 16];
        rng.fill(&mut random).map_err(Error::Crypto)?;
        let age_add = u32::from_be_bytes([random[0], random[1], random[2], random[3]]);
        let mut t = Ticket {
            suite: suite.suite,
            hash: suite.hash,
            psk: [0; MAX_DIGEST],
            psk_len: psk.as_bytes().len().min(MAX_DIGEST),
            issued_at_ms: self.now_ms,
            age_add,
            lifetime,
            client: self.neg.client_identity,
        };
        t.psk[..t.psk_len].copy_from_slice(&psk.as_bytes()[..t.psk_len]);
        let mut blob = [0u8; TICKET_LEN];
        blob[..4].copy_from_slice(&key.id);
        blob[4..16].copy_from_slice(&random[4..16]);
        let mut plain = [0u8; PLAIN_LEN];
        t.encode(&mut plain);
        let aead = self
            .p
            .aead(AeadAlgorithm::Aes128Gcm, &key.key)
            .map_err(Error::Crypto)?;
        let (head, rest) = blob.split_at_mut(16);
        let (body, tag) = rest.split_at_mut(PLAIN_LEN);
        body.copy_from_slice(&plain);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&head[4..16]);
        aead.seal_in_place(&nonce, &head[..4], body, tag)
            .map_err(Error::Crypto)?;
        let m = HandshakeMessage::NewSessionTicket(NewSessionTicket::Tls13 {
            ticket_lifetime: lifetime,
            ticket_age_add: age_add,
            ticket_nonce: TICKET_NONCE,
            ticket: &blob,
            extensions: List::Items(&[]),
        });
        let len = self.emit(HandshakeType::NEW_SESSION_TICKET, &m)?;
        self.seal_handshake(len)
    }

    /// Opens a ticket offered as a PSK identity, if one of our keys sealed it and it is
    /// still within its lifetime (by the server's clock, and by the age the client reports:
    /// RFC 8446 section 4.2.11.1).
    pub(crate) fn open_ticket(&self, identity: &[u8], obfuscated_age: u32) -> Option<Ticket> {
        if identity.len() != TICKET_LEN {
            return None;
        }
        let key = self
            .cfg
            .ticket_keys
            .iter()
            .find(|k| k.id[..] == identity[..4])?;
        let aead = self.p.aead(AeadAlgorithm::Aes128Gcm, &key.key).ok()?;
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&identity[4..16]);
        let mut plain = [0u8; PLAIN_LEN];
        plain.copy_from_slice(&identity[16..16 + PLAIN_LEN]);
        aead.open_in_place(
            &nonce,
            &identity[..4],
            &mut plain,
            &identity[16 + PLAIN_LEN..],
        )
        .ok()?;
        let t = Ticket::decode(&plain)?;
        // A ticket from a session without a client identity does not pass for one when
        // client certificates are now required.
        #[cfg(feature = "x509")]
        if t.client.is_none()
            && matches!(self.cfg.client_auth, crate::config::ClientAuth::Required(_))
        {
            return None;
        }
        let lifetime_ms = u64::from(t.lifetime.min(MAX_LIFETIME)) * 1000;
        let age_ms = self.now_ms.checked_sub(t.issued_at_ms)?;
        let client_age_ms = u64::from(obfuscated_age.wrapping_sub(t.age_add));
        (age_ms < lifetime_ms && client_age_ms < lifetime_ms).then_some(t)
    }
}
