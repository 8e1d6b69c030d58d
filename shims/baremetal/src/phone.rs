//! The core's [`Phone`] as a [`SansIoCore`], so a [`crate::Runner`] drives it.
//!
//! Commands and media inputs go straight to the phone through
//! [`crate::Runner::with_core`]; the next [`crate::Runner::poll`] carries
//! out what they produced.

use core::net::SocketAddr;

use handset_core::media::MediaOutput;
use handset_core::phone::{CallHandle, Event, Input, Output, Phone};
use handset_core::time::Instant;

use crate::runner::{CoreOutput, SansIoCore};

/// What a phone reports besides datagrams to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneEvent {
    /// Something for the user (ringing, answered, ended, registered...).
    User(Event),
    /// Something for a call's media stream (start, send RTP/RTCP, stop).
    Media {
        /// The call.
        call: CallHandle,
        /// What to do.
        output: MediaOutput,
    },
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize> SansIoCore
    for Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    type Event = PhoneEvent;

    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        // A refused datagram is counted in the phone's own stats and
        // answered by it where the RFC says so; the run loop goes on.
        let _ = self.handle_input(now, Input::Datagram { from, to, data });
    }

    fn handle_tick(&mut self, now: Instant) {
        let _ = self.handle_input(now, Input::Tick);
    }

    fn poll_output(&mut self) -> Option<CoreOutput<'_, PhoneEvent>> {
        Some(match Phone::poll_output(self)? {
            Output::Transmit { from, to, data } => CoreOutput::Transmit { from, to, data },
            Output::Event(e) => CoreOutput::Event(PhoneEvent::User(e)),
            Output::Media { call, output } => CoreOutput::Event(PhoneEvent::Media { call, output }),
        })
    }

    fn put_back_transmit(&mut self) -> bool {
        Phone::put_back_transmit(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Phone::poll_timeout(self)
    }
}
