//! The media streams a phone stopped whose `StopStream` the shim has not
//! taken yet.
//!
//! A stopped stream asks for nothing but [`MediaOutput::StopStream`] (its
//! start, audio, DTMF and reports end with it), so the queue keeps the
//! call's handle alone, not a whole [`MediaOutput`] (92 bytes on a
//! Cortex-M4).

use heapless::Deque;

use super::{CallHandle, EVENT_SLOTS};
use crate::media::{MediaInput, MediaOutput, MediaStream};
use crate::time::Instant;

/// Calls whose stream stopped, each owing the shim one `StopStream`.
#[derive(Clone, Debug, Default)]
pub(super) struct StoppedStreams {
    calls: Deque<CallHandle, EVENT_SLOTS>,
}

impl StoppedStreams {
    /// Stops `stream`, the stream of `call`, at `now` and queues what it
    /// asks the shim to do last. Like every output, it is dropped when the
    /// caller left the queue full (the run-loop contract drains it after
    /// every input).
    pub(super) fn stop(&mut self, now: Instant, call: CallHandle, mut stream: MediaStream) {
        let _ = stream.handle_input(now, MediaInput::Stop);
        while let Some(output) = stream.poll_output() {
            if output == MediaOutput::StopStream {
                let _ = self.calls.push_back(call);
            }
        }
    }

    /// The oldest `StopStream` not yet taken.
    pub(super) fn pop(&mut self) -> Option<(CallHandle, MediaOutput)> {
        let call = self.calls.pop_front()?;
        Some((call, MediaOutput::StopStream))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;
    use crate::media::StreamParams;
    use crate::rng::Rng;
    use crate::time::Duration;

    fn stream(now: Instant) -> MediaStream {
        let params = StreamParams {
            local: "192.0.2.1:16384".parse().unwrap(),
            remote: "192.0.2.2:16384".parse().unwrap(),
            payload_type: 0,
            clock_rate: 8000,
            ptime_ms: 20,
            dtmf_payload_type: Some(101),
            ssrc: 7,
        };
        MediaStream::start(now, params, &mut Rng::new(1)).unwrap()
    }

    /// Everything a stream asks for after `Stop`, in every state it can be
    /// stopped in: `StopStream` alone, or nothing when it was never
    /// started or already stopped.
    fn after_stop(mut s: MediaStream, now: Instant) -> Vec<MediaOutput> {
        s.handle_input(now, MediaInput::Stop).unwrap();
        core::iter::from_fn(|| s.poll_output()).collect()
    }

    #[test]
    fn a_stopped_stream_asks_for_stop_stream_alone_in_every_state() {
        let t0 = Instant::ZERO;
        // Just started: its StartStream not taken yet.
        assert_eq!(after_stop(stream(t0), t0), [MediaOutput::StopStream]);
        // Running, late, with a DTMF tone and a report due.
        let mut s = stream(t0);
        while s.poll_output().is_some() {}
        let late = t0 + Duration::from_secs(7);
        s.handle_input(
            late,
            MediaInput::SendDtmf {
                digit: '5',
                duration: Duration::from_millis(200),
            },
        )
        .unwrap();
        s.handle_input(late, MediaInput::Tick).unwrap();
        assert_eq!(after_stop(s, late), [MediaOutput::StopStream]);
        // On hold.
        let mut s = stream(t0);
        while s.poll_output().is_some() {}
        s.handle_input(t0, MediaInput::Hold).unwrap();
        assert_eq!(after_stop(s, t0), [MediaOutput::StopStream]);
    }

    #[test]
    fn queue_gives_back_each_stopped_call_in_order_and_drops_when_full() {
        let t0 = Instant::ZERO;
        let mut q = StoppedStreams::default();
        let call = |slot| CallHandle {
            slot,
            generation: 1,
        };
        for slot in 0..EVENT_SLOTS as u16 + 2 {
            q.stop(t0, call(slot), stream(t0));
        }
        for slot in 0..EVENT_SLOTS as u16 {
            assert_eq!(q.pop(), Some((call(slot), MediaOutput::StopStream)));
        }
        assert_eq!(q.pop(), None);
        assert!(core::mem::size_of::<StoppedStreams>() < 16 * EVENT_SLOTS);
    }
}
