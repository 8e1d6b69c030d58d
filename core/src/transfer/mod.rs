//! Call transfer (RFC 5589): the REFER usage of RFC 3515 with its implicit
//! `refer` subscription, `message/sipfrag` reports (RFC 3420), Referred-By
//! (RFC 3892), Replaces (RFC 3891) and `Refer-Sub: false` (RFC 4488).
//!
//! This layer holds the state machines and the settings; the phone facade
//! binds each subscription to the dialog of a call and carries out what
//! they ask. A subscription never outlives its dialog: when the dialog
//! goes, the phone drops the subscription with it, so no notification or
//! event can reach a call that reused the slot.

mod sipfrag;
mod subscription;

pub use sipfrag::{parse_status as sipfrag_status, StatusFrag, SIPFRAG_TYPE};
pub use subscription::{Notify, ReferNotifier, ReferSubscriber, TransferOutcome};

use crate::time::Duration;

/// Who decides whether this phone follows a transfer request (an incoming
/// REFER, or an INVITE that replaces one of its calls).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferPolicy {
    /// The user: the phone raises `TransferRequested` and waits for
    /// `AcceptTransfer` or `RefuseTransfer` (refused after
    /// [`TransferConfig::consent_timeout`]).
    Ask,
    /// Follow every transfer asked within one of this phone's calls.
    AcceptAll,
    /// Refuse every transfer with 603 Decline.
    RefuseAll,
}

/// The phone's transfer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransferConfig {
    /// Who decides on incoming transfer requests. The default follows
    /// them: a REFER can only arrive within a call the user already has
    /// with the transferor, and a desk phone's user expects the blind
    /// transfer the other party started to just happen, as SIP-T4X phones
    /// do.
    pub policy: TransferPolicy,
    /// Whether an INVITE with Replaces may replace a call that is still
    /// ringing here (semi-attended transfer). RFC 3891 §3 refuses that
    /// with 481; SIP-T4X phones allow it, so the default is on.
    pub replace_early_dialogs: bool,
    /// A blind transfer releases the call as soon as the transferee
    /// accepts the REFER (the admin guide's F13: BYE right after 202);
    /// when off, the call is kept until the transferee reports success,
    /// and stays (held) on failure so the user can resume it
    /// (RFC 5589 §6.1, §6.2).
    pub release_on_accept: bool,
    /// Whether a REFER this phone sends asks for the implicit
    /// subscription; `false` sends `Refer-Sub: false` (RFC 4488), and the
    /// outcome of the transfer is then never known.
    pub refer_sub: bool,
    /// How long an incoming REFER waits for the user's answer under
    /// [`TransferPolicy::Ask`] before it is refused; shorter than the
    /// REFER's own transaction timeout (64·T1).
    pub consent_timeout: Duration,
    /// How long a transferee waits, after accepting a blind transfer, for
    /// the transferor's BYE before it places the new call: the
    /// transferor usually hangs up right after the 202, and the phone
    /// then places the new call with a single call up (one audio path, no
    /// call-waiting tone), in the admin guide's order (F13-F17).
    pub settle: Duration,
    /// How long an accepted REFER's subscription lasts without a final
    /// status (Subscription-State `expires`).
    pub subscription_lifetime: Duration,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            policy: TransferPolicy::AcceptAll,
            replace_early_dialogs: true,
            release_on_accept: true,
            refer_sub: true,
            consent_timeout: Duration::from_secs(20),
            settle: Duration::from_secs(1),
            subscription_lifetime: Duration::from_secs(180),
        }
    }
}
