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
    /// Register at the registrar (digest authentication), stay registered
    /// for a while, then remove the binding.
    Register(handset_linux::cli::RegisterArgs),
    /// Place a call and play/record audio; hang up or transfer it later.
    Call(handset_linux::cli::CallArgs),
    /// Wait for calls and answer them.
    Answer(handset_linux::cli::AnswerArgs),
    /// An interactive phone on stdin/stdout.
    Phone(handset_linux::console::PhoneArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint { files } => lint::run(&files, &mut std::io::stdout().lock()),
        Command::Register(a) => {
            phone_command(a.common.verbose, move || handset_linux::cli::register(a))
        }
        Command::Call(a) => phone_command(a.common.verbose, move || handset_linux::cli::call(a)),
        Command::Answer(a) => {
            phone_command(a.common.verbose, move || handset_linux::cli::answer(a))
        }
        Command::Phone(a) => {
            phone_command(a.common.verbose, move || handset_linux::console::phone(a))
        }
    }
}

/// Runs a phone command with logging, signal handling and a stack large
/// enough for the phone.
fn phone_command(
    verbose: u8,
    run: impl FnOnce() -> Result<(), handset_linux::cli::Failure> + Send + 'static,
) -> ExitCode {
    handset_linux::cli::init_logging(verbose);
    let _ = handset_linux::cli::interrupted();
    handset_linux::cli::exit_code(handset_linux::cli::on_big_stack(run))
}
