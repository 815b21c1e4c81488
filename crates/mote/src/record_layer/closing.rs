//! The closing and alert rules of RFC 8446 sections 6.1 and 6.2, the same for the client and
//! the server: closing is per direction (the peer's close_notify ends its side only, ours is
//! sent once, by `close` or in answer to the peer's before the handshake completed), a
//! warning user_canceled is ignored, and every other alert ends the connection.

use super::outgoing::Out;
use crate::error::Error;
use mote_crypto::Aead;
use mote_wire::{AlertDescription, AlertLevel};

/// Which directions are closed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Closing {
    /// Our close_notify is queued: we write nothing more.
    pub sent: bool,
    /// The peer's close_notify arrived while we could still write.
    pub peer: bool,
}

/// What an alert from the peer does to the connection.
pub(crate) enum AlertEffect {
    /// Nothing (user_canceled), or only the peer's direction is closed.
    Continue,
    /// Both directions are closed: a clean end.
    Closed,
    /// The connection ends with this error.
    Fatal(Error),
}

impl Closing {
    /// The peer's alert; `connected` when the handshake is complete. A close_notify before
    /// that is answered with ours (there is nothing to write), one after it closes the
    /// peer's direction only unless ours went already.
    pub fn on_alert<A: Aead>(
        &mut self,
        connected: bool,
        out: &mut Out<'_, '_, A>,
        (level, desc): (AlertLevel, AlertDescription),
    ) -> AlertEffect {
        if desc == AlertDescription::CLOSE_NOTIFY {
            if connected && !self.sent {
                self.peer = true;
                return AlertEffect::Continue;
            }
            if !self.sent && out.write.is_some() {
                out.queue_alert(AlertLevel::WARNING, AlertDescription::CLOSE_NOTIFY);
                self.sent = true;
            }
            return AlertEffect::Closed;
        }
        // user_canceled is followed by close_notify (section 6.1).
        if desc == AlertDescription::USER_CANCELED && level == AlertLevel::WARNING {
            return AlertEffect::Continue;
        }
        AlertEffect::Fatal(Error::AlertReceived(desc))
    }

    /// Our close_notify (once, and only when connected); whether both directions are now
    /// closed.
    pub fn close<A: Aead>(&mut self, connected: bool, out: &mut Out<'_, '_, A>) -> bool {
        if !self.sent && connected {
            out.queue_alert(AlertLevel::WARNING, AlertDescription::CLOSE_NOTIFY);
            self.sent = true;
        }
        self.peer && self.sent
    }
}
