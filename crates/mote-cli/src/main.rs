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
    /// Connect to a TLS 1.3 server and send readings, one per line (simulated SenML
    /// temperature readings unless --readings is given), then close with close_notify.
    Send(mote_cli::send::SendArgs),
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
    },
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
        Command::Send(args) => mote_cli::send::run(&args),
        Command::Dissect {
            input,
            format,
            dtls,
            json,
        } => run_dissect(&input, format, dtls, json),
    }
}

fn run_dissect(path: &str, format: FormatArg, dtls: bool, json: bool) -> ExitCode {
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
    let report = dissect::dissect(&loaded, &dissect::Options { dtls });
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
