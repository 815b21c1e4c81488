//! What the mote-cli integration tests share. Each test file compiles this module on its own
//! (`mod common;`) and uses only part of it, hence `dead_code` is allowed.
//!
//! - `capture`: a pcap/pcapng writer for the input tests;
//! - `tools`: required host tools, free ports on 127.0.0.1, temporary directories, `sh`;
//! - `proc`: child processes killed on drop, their output collected by threads;
//! - `mote`: running the `mote` binary and reading what `mote dissect` printed;
//! - `openssl`: `openssl` commands, and `s_server`/`s_client` peers;
//! - `pki`: certificates and CAs made with `openssl req`/`x509`;
//! - `capture_live`: tcpdump on `lo`;
//! - `collector`: a running `mote serve`, and `mote send` against it.
#![allow(dead_code)]

pub mod capture;
pub mod capture_live;
pub mod collector;
pub mod mote;
pub mod openssl;
pub mod pki;
pub mod proc;
pub mod tools;
