//! Media timing for one call (RFC 3550, RFC 4733): when each RTP packet
//! leaves and with which header fields, when RTCP reports leave and what
//! they say, and what the remote stream's statistics are. The shim moves
//! the samples; this module owns the clocks.
//!
//! A [`MediaStream`] is a sans-IO state machine driven like the rest of
//! the core: hand it inputs with the current time, drain its outputs, then
//! sleep until [`MediaStream::poll_timeout`] and hand it a
//! [`MediaInput::Tick`].
//!
//! ```
//! use handset_core::media::{MediaInput, MediaOutput, MediaStream, StreamParams};
//! use handset_core::{rng::Rng, time::{Duration, Instant}};
//!
//! let params = StreamParams {
//!     local: "192.0.2.1:4000".parse().unwrap(),
//!     remote: "192.0.2.2:5000".parse().unwrap(),
//!     payload_type: 0, // PCMU
//!     clock_rate: 8000,
//!     ptime_ms: 20,
//!     dtmf_payload_type: Some(101),
//!     ssrc: 0x1234_5678,
//! };
//! let mut rng = Rng::new(42);
//! let start = Instant::from_millis(1000);
//! let mut stream = MediaStream::start(start, params, &mut rng).unwrap();
//! let mut packets = 0;
//! while let Some(now) = stream.poll_timeout() {
//!     if now >= start + Duration::from_secs(1) {
//!         break;
//!     }
//!     stream.handle_input(now, MediaInput::Tick).unwrap();
//!     while let Some(out) = stream.poll_output() {
//!         if let MediaOutput::SendRtp { .. } = out {
//!             packets += 1; // write the header and 160 samples, send
//!         }
//!     }
//! }
//! assert_eq!(packets, 50);
//! ```
//!
//! Timing guarantees:
//! - Audio tick `n` is due at `start + n × ptime` and carries timestamp
//!   `initial + n × clock_rate × ptime / 1000` (mod 2^32): both are computed
//!   from `n`, so nothing drifts however long the call or late the caller.
//! - A caller that runs late gets every due tick, oldest first, each with its
//!   grid instant in [`MediaOutput::SendRtp::at`]. A caller more than
//!   [`MAX_CATCH_UP`] late gets [`MediaOutput::TicksSkipped`] instead of the
//!   stale ticks, then the newest due tick with the marker bit; the grid
//!   does not move.
//! - Hold stops audio (RTCP goes on); resume sends the next grid tick with
//!   the marker, the sequence number continuing and the timestamp advanced
//!   by the time that passed (RFC 3550 §5.1).
//! - A DTMF event replaces the audio ticks it covers; audio resumes with
//!   the marker on the first tick after the event's last end packet.
//!
//! The wire formats live beside the timing so a shim or the simulator can
//! carry real packets: [`RtpHeader`]/[`RtpPacket`], [`DtmfPayload`] and
//! [`RtcpReport`] write into caller buffers and read received bytes,
//! returning errors for anything malformed.

mod dtmf;
mod rtcp;
mod rtcp_packet;
mod rtp_clock;
mod rtp_packet;
mod stats;
mod stream;

#[cfg(test)]
mod tests;

use core::net::SocketAddr;

use crate::time::{Duration, Instant};

pub use dtmf::{dtmf_event_code, DtmfPayload, DTMF_END_PACKETS, DTMF_UPDATE_INTERVAL, DTMF_VOLUME};
pub use rtcp::{
    ntp_timestamp, RtcpTimer, SessionView, RTCP_INITIAL_MIN_INTERVAL, RTCP_MIN_INTERVAL,
};
pub use rtcp_packet::{
    write_sdes_cname, ParsedRtcp, ReceptionReport, ReportKind, RtcpError, RtcpReport, SenderInfo,
};
pub use rtp_clock::{media_units, RtpClock, RtpTick};
pub use rtp_packet::{RtpError, RtpHeader, RtpPacket, RTP_HEADER_LEN};
pub use stats::{clamp_cumulative_lost, ReceiveStats};
pub use stream::{MediaStream, AUDIO_PAYLOAD_BITRATE, MAX_CATCH_UP};

/// What a stream needs to know of its call, as agreed by offer/answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamParams {
    /// This phone's RTP address.
    pub local: SocketAddr,
    /// The peer's RTP address.
    pub remote: SocketAddr,
    /// The audio payload type (0 PCMU, 8 PCMA, 9 G.722, or dynamic).
    pub payload_type: u8,
    /// The RTP clock rate of that payload type (8000 for G.722 too,
    /// RFC 3551 §4.5.2).
    pub clock_rate: u32,
    /// Packet interval in milliseconds.
    pub ptime_ms: u16,
    /// The negotiated telephone-event payload type, if any.
    pub dtmf_payload_type: Option<u8>,
    /// This stream's synchronisation source, drawn by its creator.
    pub ssrc: u32,
}

/// Something that happened to a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaInput<'a> {
    /// Time passed; sends whatever has fallen due.
    Tick,
    /// The call went on hold: audio stops, RTCP goes on.
    Hold,
    /// The call came off hold: audio resumes on the next tick of the grid.
    Resume,
    /// Sends a DTMF digit as telephone events (RFC 4733).
    SendDtmf {
        /// `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
        /// How long the tone lasts.
        duration: Duration,
    },
    /// The shim received an RTP packet from the peer.
    RtpReceived {
        /// Its sequence number.
        seq: u16,
        /// Its timestamp.
        timestamp: u32,
        /// Its SSRC.
        ssrc: u32,
        /// When it arrived, on the same clock as `now`.
        arrival: Instant,
    },
    /// The shim received an RTCP datagram from the peer.
    RtcpReceived {
        /// The compound packet as received (without UDP/IP headers).
        data: &'a [u8],
        /// When it arrived.
        arrival: Instant,
    },
    /// The call's media ends (BYE, transfer, new offer).
    Stop,
}

/// Something the shim must do for a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaOutput {
    /// Open the stream: bind `local`, send to `remote`.
    StartStream {
        /// This phone's RTP address.
        local: SocketAddr,
        /// The peer's RTP address.
        remote: SocketAddr,
        /// The audio payload type.
        payload_type: u8,
        /// Its RTP clock rate.
        clock_rate: u32,
        /// Packet interval.
        ptime: Duration,
        /// This stream's SSRC.
        ssrc: u32,
    },
    /// Send one audio packet with these header fields now.
    SendRtp {
        /// Sequence number.
        seq: u16,
        /// Timestamp of the packet's first sample.
        timestamp: u32,
        /// First packet of a talk-spurt.
        marker: bool,
        /// The audio payload type.
        payload_type: u8,
        /// The grid instant the packet belongs to (`start + n × ptime`);
        /// earlier than now when the caller ran late.
        at: Instant,
    },
    /// Send one telephone-event packet (RFC 4733 §2.3) now.
    SendDtmfEvent {
        /// Sequence number (shared with audio).
        seq: u16,
        /// The event's start timestamp.
        timestamp: u32,
        /// First packet of the event.
        marker: bool,
        /// The telephone-event payload type.
        payload_type: u8,
        /// Event code.
        event: u8,
        /// The E bit.
        end: bool,
        /// Volume as −dBm0.
        volume: u8,
        /// Duration so far in timestamp units.
        duration: u16,
        /// When the packet was due.
        at: Instant,
    },
    /// Send this report (best followed by an SDES CNAME,
    /// [`RtcpReport::write_compound`]).
    SendRtcp(RtcpReport),
    /// The caller ran more than [`MAX_CATCH_UP`] late: this many ticks were
    /// passed over instead of sent in a burst. The grid is unchanged; the
    /// next packet carries the marker and the timestamp of its own tick.
    TicksSkipped {
        /// How many ticks were not sent.
        count: u64,
    },
    /// Close the stream.
    StopStream,
}

/// Why a stream refused an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaError {
    /// Zero clock rate or ptime, a packet not a whole number of timestamp
    /// units, or a payload type above 127.
    InvalidParams,
    /// The stream has stopped.
    NotRunning,
    /// DTMF cannot be sent while the call is on hold.
    Held,
    /// The peer did not accept telephone-event.
    NoDtmfPayloadType,
    /// Not a DTMF digit.
    InvalidDigit,
    /// A tone of zero length.
    InvalidDuration,
    /// Too many digits wait behind the one being sent.
    DtmfQueueFull,
    /// A received RTCP datagram was malformed.
    Rtcp(RtcpError),
}
