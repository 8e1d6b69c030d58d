//! The size of each part of the phone on this target, kept in the image
//! (feature `size-report`) for the footprint script to read back.

use core::mem::size_of;

use handset_core::call::Call;
use handset_core::dialog::DialogTable;
use handset_core::media::MediaStream;
use handset_core::phone::{Outbox, Phone, OUTBOX_BYTES, OUTBOX_SLOTS};
use handset_core::register::Registration;
use handset_core::sdp::MediaSession;
use handset_core::transaction::{Transaction, TransactionTable};

use crate::{Board, CALLS, TRANSACTIONS};

/// Sizes in bytes, in the order of `footprint.py`'s `SIZE_NAMES`.
#[used]
#[no_mangle]
pub static FOOTPRINT_SIZES: [u32; 10] = [
    size_of::<Board>() as u32,
    size_of::<Phone<CALLS, TRANSACTIONS>>() as u32,
    size_of::<TransactionTable<TRANSACTIONS>>() as u32,
    size_of::<Transaction>() as u32,
    size_of::<[Option<Call>; CALLS]>() as u32,
    size_of::<MediaStream>() as u32,
    size_of::<MediaSession>() as u32,
    size_of::<DialogTable<CALLS>>() as u32,
    size_of::<Outbox<OUTBOX_BYTES, OUTBOX_SLOTS>>() as u32,
    size_of::<Registration>() as u32,
];
