//! The `handset-sim` command.

fn main() {
    eprintln!("usage: handset-sim list | flow NAME | sweep NAME");
    std::process::exit(2);
}
