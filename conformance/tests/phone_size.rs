//! The memory a phone costs, fixed at compile time: a budget per call slot
//! and for the phone without calls, so a table that grows shows up here
//! before it shows up in a firmware image.

use std::mem::size_of;

use handset_core::call::Call;
use handset_core::media::MediaStream;
use handset_core::phone::Phone;

/// What one more call slot may cost (measured 6,768 bytes: the call with
/// its offer/answer state and media stream, and its dialog).
const SLOT_BUDGET: usize = 8 * 1024;
/// What a one-call phone may cost in all (measured 32,568 bytes, most of
/// it the transaction table and the outbox of datagrams).
const ONE_CALL_BUDGET: usize = 40 * 1024;

#[test]
fn a_call_slot_stays_within_its_budget() {
    let (p1, p2, p4) = (
        size_of::<Phone<1>>(),
        size_of::<Phone<2>>(),
        size_of::<Phone<4>>(),
    );
    let per_slot = (p4 - p1) / 3;
    println!("Phone<1> {p1} B, Phone<2> {p2} B, Phone<4> {p4} B: {per_slot} B per call slot");
    println!(
        "Call {} B, MediaStream {} B",
        size_of::<Call>(),
        size_of::<MediaStream>()
    );
    // Slots cost the same whatever their number: the phone's tables are
    // arrays, nothing grows but linearly.
    assert!((p2 - p1).abs_diff(per_slot) <= 16);
    assert!(
        per_slot <= SLOT_BUDGET,
        "{per_slot} bytes per call slot, budget {SLOT_BUDGET}"
    );
    assert!(
        p1 <= ONE_CALL_BUDGET,
        "Phone<1> is {p1} bytes, budget {ONE_CALL_BUDGET}"
    );
    // A slot holds at least its call.
    assert!(per_slot >= size_of::<Option<Call>>());
}
