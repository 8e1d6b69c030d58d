//! The `handset-sim` command: runs the named call flows on the simulated
//! network and prints or writes their traces.

fn main() {
    let flows = handset_sim::flows::registry();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    let code =
        handset_sim::cli::main_with(&flows, std::env::args().skip(1), &mut stdout, &mut stderr);
    std::process::exit(code);
}
