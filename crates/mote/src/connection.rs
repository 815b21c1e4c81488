//! What a client and a server connection have in common for whoever moves their bytes: the
//! four channels and the status. Adapters (mote-std's blocking and async streams, firmware
//! loops) are written once against this trait instead of once per role.

use crate::client::Status;
use crate::error::Error;
use crate::{Client, Server};
use mote_crypto::{Provider, Rng};

pub trait Connection {
    fn status(&self) -> Status;
    fn error(&self) -> Option<Error>;
    /// Free space to copy received bytes into.
    fn recv_buf(&mut self) -> &mut [u8];
    /// `n` bytes were copied into [`Connection::recv_buf`]; processes every whole record.
    fn recv_done(&mut self, n: usize, rng: &mut dyn Rng) -> Result<(), Error>;
    /// Bytes to send to the peer.
    fn transmit(&self) -> &[u8];
    fn transmit_done(&mut self, n: usize);
    /// Received application data.
    fn read(&mut self, out: &mut [u8]) -> usize;
    /// Seals application data; returns how much was taken.
    fn write(&mut self, data: &[u8]) -> Result<usize, Error>;
    /// Queues close_notify.
    fn close(&mut self);
}

macro_rules! connection {
    ($t:ident) => {
        impl<P: Provider> Connection for $t<'_, '_, P> {
            fn status(&self) -> Status {
                $t::status(self)
            }
            fn error(&self) -> Option<Error> {
                $t::error(self)
            }
            fn recv_buf(&mut self) -> &mut [u8] {
                $t::recv_buf(self)
            }
            fn recv_done(&mut self, n: usize, rng: &mut dyn Rng) -> Result<(), Error> {
                $t::recv_done(self, n, rng)
            }
            fn transmit(&self) -> &[u8] {
                $t::transmit(self)
            }
            fn transmit_done(&mut self, n: usize) {
                $t::transmit_done(self, n)
            }
            fn read(&mut self, out: &mut [u8]) -> usize {
                $t::read(self, out)
            }
            fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
                $t::write(self, data)
            }
            fn close(&mut self) {
                $t::close(self)
            }
        }
    };
}

connection!(Client);
connection!(Server);
