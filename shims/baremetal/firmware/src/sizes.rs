//! The size of each part of the phone on this target, kept in the image
//! (feature `size-report`) for the footprint script to read back.

use core::mem::size_of;

use handset_core::media::MediaStream;
use handset_core::phone::PartSizes;
use handset_core::sdp::MediaSession;
use handset_core::transaction::Transaction;

use crate::{Board, Handset};

const PARTS: PartSizes = Handset::PART_SIZES;

/// Sizes in bytes, in the order of `footprint.py`'s `SIZE_NAMES`.
#[used]
#[no_mangle]
pub static FOOTPRINT_SIZES: [u32; 22] = [
    size_of::<Board>() as u32,
    PARTS.whole as u32,
    PARTS.transactions as u32,
    size_of::<Transaction>() as u32,
    PARTS.calls as u32,
    size_of::<MediaStream>() as u32,
    size_of::<MediaSession>() as u32,
    PARTS.dialogs as u32,
    PARTS.outbox as u32,
    PARTS.registration as u32,
    (size_of::<Board>() - PARTS.whole) as u32,
    PARTS.config as u32,
    PARTS.events as u32,
    PARTS.media_out as u32,
    PARTS.policy as u32,
    PARTS.features as u32,
    PARTS.conference as u32,
    PARTS.transfers as u32,
    PARTS.mwi as u32,
    PARTS.info_dtmf as u32,
    PARTS.rest() as u32,
    size_of::<handset_core::phone::Event>() as u32,
];
