//! The `handset` command.

fn main() {
    eprintln!("usage: handset <command>");
    std::process::exit(2);
}
