//! How many bytes each part of a phone's state takes on the target it is
//! built for, so a firmware can report where its RAM goes.

use core::mem::size_of;

use super::Phone;

/// The size in bytes of each part of a [`Phone`], as `size_of` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartSizes {
    /// The whole phone.
    pub whole: usize,
    /// The settings ([`Config`](super::Config)).
    pub config: usize,
    /// The transaction table.
    pub transactions: usize,
    /// The registration's state.
    pub registration: usize,
    /// The queue of datagrams not yet taken ([`Outbox`](super::Outbox)).
    pub outbox: usize,
    /// The queue of events not yet taken.
    pub events: usize,
    /// The queue of media instructions not yet taken (the streams that
    /// stopped).
    pub media_out: usize,
    /// The call slots.
    pub calls: usize,
    /// The dialog table.
    pub dialogs: usize,
    /// The feature settings ([`Policy`](super::Policy)).
    pub policy: usize,
    /// The feature timers of every call slot.
    pub features: usize,
    /// The local conference.
    pub conference: usize,
    /// Every transfer in progress, in every role.
    pub transfers: usize,
    /// The message-waiting subscription.
    pub mwi: usize,
    /// The INFO DTMF digits waiting.
    pub info_dtmf: usize,
}

impl PartSizes {
    /// What the named parts leave of the whole: the counters, handles,
    /// generations, the random generator and padding.
    pub const fn rest(&self) -> usize {
        self.whole.saturating_sub(
            self.config
                + self.transactions
                + self.registration
                + self.outbox
                + self.events
                + self.media_out
                + self.calls
                + self.dialogs
                + self.policy
                + self.features
                + self.conference
                + self.transfers
                + self.mwi
                + self.info_dtmf,
        )
    }
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// The size of each part of this phone type.
    pub const PART_SIZES: PartSizes = PartSizes {
        whole: size_of::<Self>(),
        config: field(|p: &Self| &p.config),
        transactions: field(|p: &Self| &p.txns),
        registration: field(|p: &Self| &p.registration),
        outbox: field(|p: &Self| &p.outbox),
        events: field(|p: &Self| &p.events),
        media_out: field(|p: &Self| &p.stopped_streams),
        calls: field(|p: &Self| &p.calls),
        dialogs: field(|p: &Self| &p.dialogs),
        policy: field(|p: &Self| &p.policy),
        features: field(|p: &Self| &p.features),
        conference: field(|p: &Self| &p.conference),
        transfers: field(|p: &Self| &p.transfers),
        mwi: field(|p: &Self| &p.mwi),
        info_dtmf: field(|p: &Self| &p.info_dtmf),
    };
}

/// The size of the field `get` reads, known from its type alone (the
/// function is never called), so the figures follow the fields' types.
const fn field<T, F>(_get: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named_sum(p: &PartSizes) -> usize {
        p.config
            + p.transactions
            + p.registration
            + p.outbox
            + p.events
            + p.media_out
            + p.calls
            + p.dialogs
            + p.policy
            + p.features
            + p.conference
            + p.transfers
            + p.mwi
            + p.info_dtmf
    }

    #[test]
    fn named_parts_fit_in_the_whole_and_leave_little() {
        let p = Phone::<4, 12>::PART_SIZES;
        assert!(named_sum(&p) <= p.whole, "{p:?}");
        assert_eq!(p.rest(), p.whole - named_sum(&p));
        // The rest is the random generator, the clock, a few counters and
        // handles, and the per-slot flags and generations: no buffer.
        assert!(p.rest() < 256, "{} bytes unnamed in {p:?}", p.rest());
    }

    #[test]
    fn part_sizes_follow_the_const_parameters() {
        let one = Phone::<1, 4>::PART_SIZES;
        let four = Phone::<4, 12>::PART_SIZES;
        assert!(four.calls > 3 * one.calls);
        assert!(four.transactions > one.transactions);
        assert_eq!(four.outbox, one.outbox);
        assert_eq!(four.config, one.config);
    }
}
