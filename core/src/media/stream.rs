//! One call's media timing: the RTP grid, DTMF events, RTCP reports and
//! receive statistics behind a single `handle_input` / `poll_output` /
//! `poll_timeout` loop.

use super::dtmf::{dtmf_event_code, DtmfPayload, DtmfSender};
use super::rtcp::{ntp_timestamp, RtcpTimer, SessionView};
use super::rtcp_packet::{ReceptionReport, ReportKind, RtcpReport, SenderInfo};
use super::rtp_clock::RtpClock;
use super::stats::ReceiveStats;
use super::{MediaError, MediaInput, MediaOutput, StreamParams};
use crate::rng::Rng;
use crate::time::{Duration, Instant};

/// Payload bit rate of every codec the phone speaks (PCMU, PCMA and G.722
/// all carry 64 kbit/s); it sizes the RTCP bandwidth and the SR octet count.
pub const AUDIO_PAYLOAD_BITRATE: u32 = 64_000;

/// How late the caller may run before due ticks are skipped rather than
/// sent in a burst: audio older than this is no use to the peer's jitter
/// buffer, and a second of packets at once would only flood it.
pub const MAX_CATCH_UP: Duration = Duration::from_secs(1);

/// IP + UDP + RTP header octets per audio packet, for the session bandwidth.
fn rtp_overhead(params: &StreamParams) -> u32 {
    if params.local.is_ipv4() {
        20 + 8 + 12
    } else {
        40 + 8 + 12
    }
}

/// IP + UDP header octets, counted in the average RTCP size (§6.3.3).
fn rtcp_overhead(params: &StreamParams) -> usize {
    if params.local.is_ipv4() {
        28
    } else {
        48
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Stopped,
}

/// The media-timing state machine of one call.
#[derive(Clone, Debug)]
pub struct MediaStream {
    params: StreamParams,
    state: State,
    now: Instant,
    held: bool,
    clock: RtpClock,
    dtmf: DtmfSender,
    rtcp: RtcpTimer,
    stats: ReceiveStats,
    rng: Rng,
    payload_octets: u32,
    packets_sent: u32,
    octets_sent: u32,
    /// Our packet count at the last two reports, newest first (§6.4: send
    /// an SR if we sent since the report before last).
    sent_at_reports: [u32; 2],
    /// The peer's packet count at the last two reports, same rule.
    heard_at_reports: [u32; 2],
    start_pending: bool,
    stop_pending: bool,
    peer_report: Option<ReceptionReport>,
    round_trip: Option<Duration>,
}

impl MediaStream {
    /// Starts a stream at `now` with a random initial sequence number and
    /// timestamp (RFC 3550 §5.1) drawn from `rng`, which also seeds the
    /// stream's own generator for RTCP intervals.
    pub fn start(now: Instant, params: StreamParams, rng: &mut Rng) -> Result<Self, MediaError> {
        let seq = rng.next_u32() as u16;
        let timestamp = rng.next_u32();
        Self::start_with_origin(now, params, seq, timestamp, rng)
    }

    /// Starts a stream whose first packet carries `initial_seq` and
    /// `initial_timestamp`.
    pub fn start_with_origin(
        now: Instant,
        params: StreamParams,
        initial_seq: u16,
        initial_timestamp: u32,
        rng: &mut Rng,
    ) -> Result<Self, MediaError> {
        if params.payload_type > 127 || params.dtmf_payload_type.is_some_and(|pt| pt > 127) {
            return Err(MediaError::InvalidParams);
        }
        let clock = RtpClock::new(
            now,
            params.ptime_ms,
            params.clock_rate,
            initial_seq,
            initial_timestamp,
        )
        .ok_or(MediaError::InvalidParams)?;
        let ptime_ms = u32::from(params.ptime_ms);
        let payload_octets = AUDIO_PAYLOAD_BITRATE / 8 * ptime_ms / 1000;
        // RFC 3550 §6.2: RTCP gets 5 % of the session bandwidth, which
        // counts every header below RTP's payload.
        let session_octets_per_sec =
            u64::from(payload_octets + rtp_overhead(&params)) * 1000 / u64::from(ptime_ms);
        let rtcp_bandwidth = u32::try_from(session_octets_per_sec / 20).unwrap_or(u32::MAX);
        // §6.3.2: the average size starts as the likely first report, an SR
        // with one block.
        let first_size = 28 + 24 + rtcp_overhead(&params);
        let mut own_rng = Rng::new(rng.next_u64());
        let view = SessionView {
            members: 2,
            senders: 0,
            we_sent: false,
        };
        let rtcp = RtcpTimer::new(now, rtcp_bandwidth, first_size, view, &mut own_rng);
        Ok(MediaStream {
            params,
            state: State::Running,
            now,
            held: false,
            clock,
            dtmf: DtmfSender::new(params.clock_rate),
            rtcp,
            stats: ReceiveStats::new(params.clock_rate),
            rng: own_rng,
            payload_octets,
            packets_sent: 0,
            octets_sent: 0,
            sent_at_reports: [0; 2],
            heard_at_reports: [0; 2],
            start_pending: true,
            stop_pending: false,
            peer_report: None,
            round_trip: None,
        })
    }

    /// Applies one input at `now` (earlier times than already seen count as
    /// the latest one). Outputs wait in [`Self::poll_output`].
    pub fn handle_input(&mut self, now: Instant, input: MediaInput<'_>) -> Result<(), MediaError> {
        if now > self.now {
            self.now = now;
        }
        if self.state == State::Stopped {
            return match input {
                MediaInput::Tick | MediaInput::Stop => Ok(()),
                _ => Err(MediaError::NotRunning),
            };
        }
        match input {
            MediaInput::Tick => {}
            MediaInput::Hold => {
                self.held = true;
                self.dtmf.cut_short(self.now);
            }
            MediaInput::Resume => {
                if self.held {
                    self.held = false;
                    if !self.dtmf.is_active() {
                        self.resume_audio_at(self.clock.first_index_at_or_after(self.now));
                    }
                }
            }
            MediaInput::SendDtmf { digit, duration } => self.send_dtmf(digit, duration)?,
            MediaInput::RtpReceived {
                seq,
                timestamp,
                ssrc,
                arrival,
            } => self.stats.on_rtp(seq, timestamp, ssrc, arrival),
            MediaInput::RtcpReceived { data, arrival } => self.on_rtcp(data, arrival)?,
            MediaInput::Stop => {
                self.state = State::Stopped;
                self.stop_pending = true;
                self.start_pending = false;
                self.dtmf.clear();
            }
        }
        Ok(())
    }

    fn send_dtmf(&mut self, digit: char, duration: Duration) -> Result<(), MediaError> {
        if self.held {
            return Err(MediaError::Held);
        }
        if self.params.dtmf_payload_type.is_none() {
            return Err(MediaError::NoDtmfPayloadType);
        }
        let event = dtmf_event_code(digit).ok_or(MediaError::InvalidDigit)?;
        if duration == Duration::ZERO {
            return Err(MediaError::InvalidDuration);
        }
        if !self.dtmf.enqueue(event, duration) {
            return Err(MediaError::DtmfQueueFull);
        }
        // The event takes over the first tick not yet due; due ticks before
        // it still go out as audio.
        let index = self
            .clock
            .next_index()
            .max(self.clock.first_index_at_or_after(self.now));
        self.dtmf.begin(&self.clock, index);
        Ok(())
    }

    fn on_rtcp(&mut self, data: &[u8], arrival: Instant) -> Result<(), MediaError> {
        let parsed = RtcpReport::parse(data).map_err(MediaError::Rtcp)?;
        self.rtcp
            .on_packet(data.len() + rtcp_overhead(&self.params));
        let report = parsed.report;
        if let ReportKind::Sender(info) = report.kind {
            self.stats
                .on_sender_report(report.ssrc, info.ntp_timestamp, arrival);
        }
        if let Some(block) = report.block.filter(|b| b.ssrc == self.params.ssrc) {
            self.peer_report = Some(block);
            if block.last_sr != 0 {
                // RFC 3550 §6.4.1: RTT = A − LSR − DLSR in 1/65536 s.
                let a = (ntp_timestamp(arrival) >> 16) as u32;
                let rtt = a
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                if (rtt as i32) >= 0 {
                    let us = u64::from(rtt) * 1_000_000 / 65536;
                    self.round_trip = Some(Duration::from_micros(us));
                }
            }
        }
        Ok(())
    }

    /// Audio starts again on grid tick `index` as a new talk-spurt.
    fn resume_audio_at(&mut self, index: u64) {
        self.clock.skip_to(index);
        self.clock.mark();
    }

    fn audio_enabled(&self) -> bool {
        !self.held
            && self
                .dtmf
                .active_start_index()
                .is_none_or(|k| self.clock.next_index() < k)
    }

    fn session_view(&self) -> SessionView {
        let we_sent = self.packets_sent != self.sent_at_reports[1];
        let peer_sent = self.stats.packets_seen() != self.heard_at_reports[1];
        SessionView {
            // A call has exactly two parties, known from the signalling;
            // with members fixed, reverse reconsideration (§6.3.4) never
            // applies.
            members: 2,
            senders: u32::from(we_sent) + u32::from(peer_sent),
            we_sent,
        }
    }

    /// The next thing to do, or `None` until more time passes or another
    /// input arrives. Packets come out in deadline order; of equal
    /// deadlines DTMF goes first, then audio, then RTCP.
    pub fn poll_output(&mut self) -> Option<MediaOutput> {
        if self.start_pending {
            self.start_pending = false;
            let p = self.params;
            return Some(MediaOutput::StartStream {
                local: p.local,
                remote: p.remote,
                payload_type: p.payload_type,
                clock_rate: p.clock_rate,
                ptime: self.clock.ptime(),
                ssrc: p.ssrc,
            });
        }
        if self.state == State::Stopped {
            return core::mem::take(&mut self.stop_pending).then_some(MediaOutput::StopStream);
        }
        loop {
            let now = self.now;
            let dtmf = self.dtmf.next_due().filter(|&t| t <= now);
            let audio =
                Some(self.clock.next_deadline()).filter(|&t| t <= now && self.audio_enabled());
            let rtcp = Some(self.rtcp.next_expiry()).filter(|&t| t <= now);
            let earliest = [dtmf, audio, rtcp].into_iter().flatten().min()?;
            if dtmf == Some(earliest) {
                return self.dtmf_packet();
            }
            if audio == Some(earliest) {
                return Some(self.audio_packet());
            }
            if let Some(report) = self.rtcp_expired() {
                return Some(MediaOutput::SendRtcp(report));
            }
            // Reconsideration moved the timer past now; look again.
        }
    }

    fn audio_packet(&mut self) -> MediaOutput {
        let now = self.now;
        if now - self.clock.next_deadline() > MAX_CATCH_UP {
            // Pass over every stale tick up to the newest one due, but not
            // into a DTMF event that owns later ticks.
            let newest = self.clock.first_index_after(now).saturating_sub(1);
            let target = self
                .dtmf
                .active_start_index()
                .map_or(newest, |k| newest.min(k));
            let count = self.clock.skip_to(target);
            if count > 0 {
                return MediaOutput::TicksSkipped { count };
            }
        }
        let tick = self.clock.take();
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(self.payload_octets);
        MediaOutput::SendRtp {
            seq: tick.seq,
            timestamp: tick.timestamp,
            marker: tick.marker,
            payload_type: self.params.payload_type,
            at: tick.at,
        }
    }

    fn dtmf_packet(&mut self) -> Option<MediaOutput> {
        let payload_type = self.params.dtmf_payload_type?;
        let p = self.dtmf.take_packet()?;
        let seq = self.clock.take_seq();
        self.packets_sent = self.packets_sent.wrapping_add(1);
        self.octets_sent = self.octets_sent.wrapping_add(DtmfPayload::LEN as u32);
        if p.last {
            // Audio comes back on the first tick after the event's last
            // packet, as a new talk-spurt with the marker (RFC 4733 §2.5.1.2
            // leaves audio timestamps on the stream's own clock).
            // The ticks the event covered are never sent as audio.
            let after = self.clock.first_index_after(p.at);
            self.clock.skip_to(after);
            if self.dtmf.has_queued() {
                self.dtmf.begin(&self.clock, after);
            } else if !self.held {
                self.clock.mark();
            }
        }
        Some(MediaOutput::SendDtmfEvent {
            seq,
            timestamp: p.timestamp,
            marker: p.marker,
            payload_type,
            event: p.payload.event,
            end: p.payload.end,
            volume: p.payload.volume,
            duration: p.payload.duration,
            at: p.at,
        })
    }

    fn rtcp_expired(&mut self) -> Option<RtcpReport> {
        let now = self.now;
        let view = self.session_view();
        if !self.rtcp.on_expire(now, view, &mut self.rng) {
            return None;
        }
        // RFC 3550 §6.4: an SR when we sent since the report before last.
        let kind = if view.we_sent {
            ReportKind::Sender(SenderInfo {
                ntp_timestamp: ntp_timestamp(now),
                rtp_timestamp: self.clock.timestamp_at(now),
                packet_count: self.packets_sent,
                octet_count: self.octets_sent,
            })
        } else {
            ReportKind::Receiver
        };
        let report = RtcpReport {
            ssrc: self.params.ssrc,
            kind,
            block: self.stats.report_block(now),
        };
        self.rtcp
            .on_packet(report.wire_len() + rtcp_overhead(&self.params));
        self.sent_at_reports = [self.packets_sent, self.sent_at_reports[0]];
        self.heard_at_reports = [self.stats.packets_seen(), self.heard_at_reports[0]];
        Some(report)
    }

    /// When to call [`Self::handle_input`] with [`MediaInput::Tick`] next:
    /// now if outputs wait, `None` once the stream has stopped.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.start_pending || self.stop_pending {
            return Some(self.now);
        }
        if self.state == State::Stopped {
            return None;
        }
        let audio = Some(self.clock.next_deadline()).filter(|_| self.audio_enabled());
        [self.dtmf.next_due(), audio, Some(self.rtcp.next_expiry())]
            .into_iter()
            .flatten()
            .min()
    }

    /// The parameters the stream was started with.
    pub fn params(&self) -> &StreamParams {
        &self.params
    }

    /// Whether the call is on hold.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether the stream has stopped.
    pub fn is_stopped(&self) -> bool {
        self.state == State::Stopped
    }

    /// The deadline of the next audio packet on the grid (while held or
    /// during a DTMF event, the tick audio will not be sent on).
    pub fn next_rtp_deadline(&self) -> Instant {
        self.clock.next_deadline()
    }

    /// When the RTCP timer next expires.
    pub fn next_rtcp_check(&self) -> Instant {
        self.rtcp.next_expiry()
    }

    /// Statistics of the peer's stream.
    pub fn receive_stats(&self) -> &ReceiveStats {
        &self.stats
    }

    /// The peer's latest report block about this stream.
    pub fn peer_report(&self) -> Option<ReceptionReport> {
        self.peer_report
    }

    /// Round-trip time from the peer's latest LSR/DLSR (RFC 3550 §6.4.1).
    pub fn round_trip(&self) -> Option<Duration> {
        self.round_trip
    }

    /// RTP packets sent (audio and events), as in the SR.
    pub fn packets_sent(&self) -> u32 {
        self.packets_sent
    }

    /// Payload octets sent, as in the SR.
    pub fn octets_sent(&self) -> u32 {
        self.octets_sent
    }
}
