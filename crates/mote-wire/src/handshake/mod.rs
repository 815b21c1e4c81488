//! Handshake messages (filled in).
