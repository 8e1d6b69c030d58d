//! What a phone costs in memory: the size of a `Phone` for a few call and
//! transaction capacities, and of the parts it is made of. Everything is
//! inline (no heap), so these sizes are the whole state.
//!
//! Run it with `cargo run --release -p handset-core --example sizes`.

use std::mem::size_of;

use handset_core::call::Call;
use handset_core::dialog::{Dialog, DialogTable};
use handset_core::media::MediaStream;
use handset_core::phone::{Outbox, Phone, OUTBOX_BYTES, OUTBOX_SLOTS};
use handset_core::transaction::{Transaction, TransactionTable};

fn row(what: &str, bytes: usize) {
    println!("| {what} | {bytes} |");
}

fn main() {
    println!("| type | bytes |");
    println!("|---|---|");
    row("`Phone<1, 8>`", size_of::<Phone<1, 8>>());
    row("`Phone<2, 8>`", size_of::<Phone<2, 8>>());
    row("`Phone<4, 8>`", size_of::<Phone<4, 8>>());
    row(
        "`Phone<4, 16>` (the simulator's phone)",
        size_of::<Phone<4, 16>>(),
    );
    row("`Transaction` (one slot)", size_of::<Transaction>());
    row("`TransactionTable<8>`", size_of::<TransactionTable<8>>());
    row("`Dialog` (one slot)", size_of::<Dialog>());
    row("`DialogTable<4>`", size_of::<DialogTable<4>>());
    row("`Call` (one slot)", size_of::<Call>());
    row("`MediaStream`", size_of::<MediaStream>());
    row(
        "`Outbox<OUTBOX_BYTES, OUTBOX_SLOTS>`",
        size_of::<Outbox<OUTBOX_BYTES, OUTBOX_SLOTS>>(),
    );
    let per_call = size_of::<Phone<2, 8>>() - size_of::<Phone<1, 8>>();
    let per_txn = (size_of::<Phone<4, 16>>() - size_of::<Phone<4, 8>>()) / 8;
    println!();
    println!("one more call slot: {per_call} bytes; one more transaction slot: {per_txn} bytes");
}
