//! `mote`: the host command for sensor builders. This file only parses arguments and maps
//! results to exit codes; the work is in the library modules.

use clap::{Parser, Subcommand, ValueEnum};
use mote_cli::dissect::{self, render};
use mote_cli::input::{self, Format};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mote",
    version,
    about = "TLS and DTLS for sensor nodes: send, collect and explain readings"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Try everything on loopback with nothing but this binary: a collector with a fresh
    /// self-signed certificate, a PSK file and a device CA, simulated sensors sending
    /// readings with acknowledgements for a few seconds, then what arrived.
    Demo(mote_cli::demo::DemoArgs),
    /// Connect to a TLS 1.3 server (or with --dtls a DTLS 1.2 one) and send readings, one per
    /// line or datagram (simulated SenML temperature readings unless --readings is given);
    /// with --ack wait for each reading's acknowledgement and resend what was not; then close
    /// with close_notify.
    Send(mote_cli::send::SendArgs),
    /// Ask a server what it makes of a ClientHello (mote's, or the exact bytes of a
    /// hand-made one): the hello is dissected, then the answer reported, with the most
    /// likely cause of a refusal.
    Probe(mote_cli::probe::ProbeArgs),
    /// Explain TLS or DTLS bytes field by field: a pcap/pcapng capture, a hex dump or raw
    /// bytes. Exits 0 when everything decoded, 1 when any diagnostic was printed, 2 when the
    /// input could not be read.
    Dissect {
        /// A file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
        /// How to read the input.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Read bytes without a transport (hex, raw) as DTLS datagrams.
        #[arg(long)]
        dtls: bool,
        /// Print the tree as JSON.
        #[arg(long)]
        json: bool,
        /// An NSS key log (SSLKEYLOGFILE, as `openssl s_client -keylogfile` writes): TLS 1.3
        /// records of the connections it names are decrypted and dissected. A connection
        /// the log does not name is shown encrypted (a note); a record that does not decrypt
        /// with the logged secret is a diagnostic. TLS 1.2 and DTLS are not decrypted.
        #[arg(long, value_name = "FILE")]
        keylog: Option<String>,
    },
    /// Relay a board's serial line (a device, or tcp:HOST:PORT as QEMU offers it) to a TCP
    /// server, or with --udp SLIP frames to UDP datagrams; --capture records it as pcapng.
    Bridge(mote_cli::bridge::BridgeArgs),
    /// Collect readings: a TLS 1.3 server (and with --dtls-listen a DTLS 1.2 one) taking SenML
    /// JSON packs (RFC 8428), one per line or datagram, from devices identified by their PSK
    /// or client certificate; each pack is stored in SQLite before it is acknowledged with
    /// `ack SEQ` (or refused with `error SEQ WHAT`). SIGINT or SIGTERM stop it cleanly.
    Serve(mote_cli::serve::ServeArgs),
    /// List the readings `mote serve` stored.
    Readings(mote_cli::readings::ReadingsArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Auto,
    Pcap,
    Pcapng,
    Hex,
    Raw,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => mote_cli::demo::run(&args),
        Command::Send(args) => mote_cli::send::run(&args),
        Command::Probe(args) => mote_cli::probe::run(&args),
        Command::Dissect {
            input,
            format,
            dtls,
            json,
            keylog,
        } => run_dissect(&input, format, dtls, json, keylog.as_deref()),
        Command::Bridge(args) => mote_cli::bridge::run(&args),
        Command::Serve(args) => mote_cli::serve::run(&args),
        Command::Readings(args) => mote_cli::readings::run(&args),
    }
}

fn run_dissect(
    path: &str,
    format: FormatArg,
    dtls: bool,
    json: bool,
    keylog_path: Option<&str>,
) -> ExitCode {
    let keylog = match keylog_path.map(|k| (k, std::fs::read(k))) {
        None => None,
        Some((k, Err(e))) => {
            eprintln!("mote dissect: cannot read key log {k}: {e}");
            return ExitCode::from(2);
        }
        Some((k, Ok(b))) => {
            let log = mote_cli::keylog::KeyLog::parse(&b);
            for i in log.ignored.iter().take(5) {
                eprintln!(
                    "mote dissect: key log {k} line {}: ignored: {}",
                    i.line, i.reason
                );
            }
            if log.ignored.len() > 5 {
                eprintln!(
                    "mote dissect: key log {k}: {} more lines ignored",
                    log.ignored.len() - 5
                );
            }
            if log.is_empty() {
                eprintln!("mote dissect: key log {k} holds no secrets");
            }
            Some(log)
        }
    };
    let bytes = match input::read_input(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("mote dissect: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let format = match format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Pcap => Format::Pcap,
        FormatArg::Pcapng => Format::Pcapng,
        FormatArg::Hex => Format::Hex,
        FormatArg::Raw => Format::Raw,
    };
    let loaded = match input::load(&bytes, format) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mote dissect: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = dissect::Options {
        dtls,
        keylog: keylog.as_ref(),
    };
    let report = dissect::dissect(&loaded, &opts);
    if json {
        println!("{}", render::json(&report));
    } else {
        print!(
            "{}",
            render::text(&report, if path == "-" { "<stdin>" } else { path })
        );
    }
    if report.diagnostic_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
