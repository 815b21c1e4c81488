//! Keeping the client's session tickets in memory, for resumption on the next connection
//! (the engine keeps none: see `mote::TicketStore`).

use mote::{TicketRef, TicketStore};
use std::cell::RefCell;

/// A session ticket with owned bytes.
#[derive(Clone, Debug)]
pub struct OwnedTicket {
    pub suite: mote_wire::CipherSuite,
    psk: Vec<u8>,
    identity: Vec<u8>,
    pub age_add: u32,
    pub lifetime: u32,
    pub received_at_ms: u64,
    pub max_early_data: u32,
}

impl OwnedTicket {
    pub fn from_ref(t: &TicketRef<'_>) -> OwnedTicket {
        OwnedTicket {
            suite: t.suite,
            psk: t.psk.to_vec(),
            identity: t.identity.to_vec(),
            age_add: t.age_add,
            lifetime: t.lifetime,
            received_at_ms: t.received_at_ms,
            max_early_data: t.max_early_data,
        }
    }

    /// The form `mote::ClientConfig::resume` takes.
    pub fn as_ref(&self) -> TicketRef<'_> {
        TicketRef {
            suite: self.suite,
            psk: &self.psk,
            identity: &self.identity,
            age_add: self.age_add,
            lifetime: self.lifetime,
            received_at_ms: self.received_at_ms,
            max_early_data: self.max_early_data,
        }
    }
}

/// Keeps the newest ticket a server sent (one is enough to resume once per connection).
#[derive(Debug, Default)]
pub struct LatestTicket(RefCell<Option<OwnedTicket>>);

impl LatestTicket {
    pub fn new() -> LatestTicket {
        LatestTicket::default()
    }

    /// The ticket, if one arrived.
    pub fn get(&self) -> Option<OwnedTicket> {
        self.0.borrow().clone()
    }

    /// Forgets the ticket (the server refused it, e.g. after a restart with new keys).
    pub fn clear(&self) {
        self.0.borrow_mut().take();
    }
}

impl TicketStore for LatestTicket {
    fn store(&self, ticket: &TicketRef<'_>) {
        *self.0.borrow_mut() = Some(OwnedTicket::from_ref(ticket));
    }
}
