//! The `handset` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod lint;

/// A SIP desk phone on Linux sockets.
#[derive(Debug, Parser)]
#[command(name = "handset", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge SIP messages as a strict user agent would: each FILE holds
    /// one message, read as a datagram. Prints `PATH: ok` or
    /// `PATH: error: <reason>` per file; exits 1 when any file has an error.
    Lint {
        /// Files holding one SIP message each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint { files } => lint::run(&files, &mut std::io::stdout().lock()),
    }
}
