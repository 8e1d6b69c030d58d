//! Whole-stream behaviour: the RTP grid over an hour, DTMF patterns, hold,
//! receive statistics against independent computations, RTCP scheduling,
//! and two streams exchanging real packets.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::rng::Rng;
use crate::time::{Duration, Instant};

const PTIME: Duration = Duration::from_millis(20);

fn params() -> StreamParams {
    StreamParams {
        local: "192.0.2.1:4000".parse().unwrap(),
        remote: "192.0.2.2:5000".parse().unwrap(),
        payload_type: 0,
        clock_rate: 8000,
        ptime_ms: 20,
        dtmf_payload_type: Some(101),
        ssrc: 0xa1a1_a1a1,
    }
}

fn drain(stream: &mut MediaStream) -> Vec<MediaOutput> {
    let mut out = Vec::new();
    while let Some(o) = stream.poll_output() {
        out.push(o);
    }
    out
}

/// Drives `stream` by its own timeouts up to (not including) `until`.
fn run_exact(stream: &mut MediaStream, until: Instant) -> Vec<(Instant, MediaOutput)> {
    let mut out = Vec::new();
    while let Some(t) = stream.poll_timeout() {
        if t >= until {
            break;
        }
        stream.handle_input(t, MediaInput::Tick).unwrap();
        out.extend(drain(stream).into_iter().map(|o| (t, o)));
    }
    out
}

fn grid(start: Instant, n: u64) -> Instant {
    start + PTIME.saturating_mul(n)
}

#[test]
fn sixty_minute_call_sends_exactly_180000_packets_on_the_grid() {
    let start = Instant::from_micros(12_345_678);
    let end = start + Duration::from_secs(3600);
    let mut rng = Rng::new(7);
    let mut s = MediaStream::start_with_origin(start, params(), 1000, 5000, &mut rng).unwrap();
    let mut n: u64 = 0;
    let mut last_at = None;
    let mut reports = 0;
    while let Some(t) = s.poll_timeout() {
        // The call lasts 60 minutes: a tick due at `end` belongs to the
        // 61st minute and is not part of it.
        if t >= end {
            break;
        }
        s.handle_input(t, MediaInput::Tick).unwrap();
        while let Some(out) = s.poll_output() {
            match out {
                MediaOutput::SendRtp {
                    seq,
                    timestamp,
                    marker,
                    payload_type,
                    at,
                } => {
                    // Fed exactly at its deadline, on the grid from start.
                    assert_eq!(at, t);
                    assert_eq!(at, grid(start, n));
                    assert_eq!(timestamp, 5000u32.wrapping_add(n as u32 * 160));
                    assert_eq!(seq, 1000u16.wrapping_add(n as u16));
                    assert_eq!(marker, n == 0);
                    assert_eq!(payload_type, 0);
                    last_at = Some(at);
                    n += 1;
                }
                MediaOutput::SendRtcp(report) => {
                    reports += 1;
                    match report.kind {
                        ReportKind::Sender(info) => {
                            assert_eq!(u64::from(info.packet_count), n);
                            assert_eq!(u64::from(info.octet_count), n * 160);
                        }
                        ReportKind::Receiver => panic!("a sending stream reports with SR"),
                    }
                }
                MediaOutput::StartStream { .. } => assert_eq!(t, start),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    // 3,600 s / 20 ms = 180,000 ticks, numbered 0 to 179,999: the last one
    // sent is due at start + 179,999 × 20 ms, and the next one, not part of
    // the hour, at start + 180,000 × 20 ms, which is exactly `end`.
    assert_eq!(n, 180_000);
    assert_eq!(last_at, Some(start + PTIME.saturating_mul(179_999)));
    assert_eq!(s.next_rtp_deadline(), start + PTIME.saturating_mul(180_000));
    assert_eq!(s.next_rtp_deadline(), end);
    assert_eq!(s.packets_sent(), 180_000);
    // RTCP every 2.05..6.16 s: between 584 and 1755 reports in the hour.
    assert!((584..=1755).contains(&reports), "{reports} reports");
}

#[test]
fn a_late_and_irregular_caller_does_not_drift() {
    let start = Instant::from_millis(3);
    let end = start + Duration::from_secs(3600);
    let mut rng = Rng::new(11);
    let base_ts = 0xffff_0000;
    let mut s = MediaStream::start_with_origin(start, params(), 0, base_ts, &mut rng).unwrap();
    let mut caller = Rng::new(12345);
    let mut n: u64 = 0;
    let mut early_wakeups = 0;
    let check = |out: MediaOutput, now: Instant, n: &mut u64| {
        if let MediaOutput::SendRtp { timestamp, at, .. } = out {
            assert_eq!(at, grid(start, *n));
            assert!(at <= now);
            assert_eq!(timestamp, base_ts.wrapping_add(*n as u32 * 160));
            *n += 1;
        }
        assert!(!matches!(out, MediaOutput::TicksSkipped { .. }));
    };
    loop {
        let due = s.poll_timeout().unwrap();
        // A caller whose timer fires 0–37 ms late, and now and then 3 ms
        // early (nothing may be sent then).
        let wake = if caller.below(10) == 0 {
            early_wakeups += 1;
            Instant::from_micros(due.as_micros().saturating_sub(3000))
        } else {
            due + Duration::from_micros(u64::from(caller.below(37_001)))
        };
        if wake >= end {
            break;
        }
        let before = n;
        s.handle_input(wake, MediaInput::Tick).unwrap();
        while let Some(out) = s.poll_output() {
            check(out, wake, &mut n);
        }
        if wake < due {
            assert_eq!(n, before);
        }
    }
    // Flush everything due before the hour is over.
    let last = Instant::from_micros(end.as_micros() - 1);
    s.handle_input(last, MediaInput::Tick).unwrap();
    while let Some(out) = s.poll_output() {
        check(out, last, &mut n);
    }
    assert!(early_wakeups > 1000);
    assert_eq!(n, 180_000);
    assert_eq!(s.next_rtp_deadline(), end);
}

#[test]
fn a_long_stall_skips_ticks_but_keeps_the_grid() {
    let start = Instant::from_millis(100);
    let mut rng = Rng::new(1);
    let mut s = MediaStream::start_with_origin(start, params(), 500, 0, &mut rng).unwrap();
    let sent = run_exact(&mut s, grid(start, 50));
    let rtp = |o: &MediaOutput| matches!(o, MediaOutput::SendRtp { .. });
    assert_eq!(sent.iter().filter(|(_, o)| rtp(o)).count(), 50);

    // 500 ms late: within the catch-up limit, 26 packets go out at once.
    let now = grid(start, 75);
    s.handle_input(now, MediaInput::Tick).unwrap();
    let burst: Vec<_> = drain(&mut s).into_iter().filter(rtp).collect();
    assert_eq!(burst.len(), 26);

    // Five seconds stalled: ticks 76..=325 are passed over, the newest due
    // tick (326, at 6.52 s) goes out with its own timestamp and the marker,
    // and the sequence number just continues.
    let now = grid(start, 326) + Duration::from_millis(7);
    s.handle_input(now, MediaInput::Tick).unwrap();
    let out: Vec<_> = drain(&mut s)
        .into_iter()
        .filter(|o| !matches!(o, MediaOutput::SendRtcp(_)))
        .collect();
    assert_eq!(
        out,
        [
            MediaOutput::TicksSkipped { count: 250 },
            MediaOutput::SendRtp {
                seq: 576,
                timestamp: 326 * 160,
                marker: true,
                payload_type: 0,
                at: grid(start, 326),
            }
        ]
    );
    assert_eq!(s.next_rtp_deadline(), grid(start, 327));
}

#[test]
fn sequence_and_timestamp_wrap_inside_the_stream() {
    let start = Instant::ZERO;
    let mut rng = Rng::new(2);
    let mut s =
        MediaStream::start_with_origin(start, params(), 65534, u32::MAX - 100, &mut rng).unwrap();
    let got: Vec<(u16, u32)> = run_exact(&mut s, grid(start, 4))
        .into_iter()
        .filter_map(|(_, o)| match o {
            MediaOutput::SendRtp { seq, timestamp, .. } => Some((seq, timestamp)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        [(65534, u32::MAX - 100), (65535, 59), (0, 219), (1, 379)]
    );
}

#[test]
fn g722_runs_its_rtp_clock_at_8000_hz() {
    let p = StreamParams {
        payload_type: 9,
        clock_rate: 8000,
        ptime_ms: 30,
        ..params()
    };
    let mut rng = Rng::new(3);
    let mut s = MediaStream::start_with_origin(Instant::ZERO, p, 0, 0, &mut rng).unwrap();
    let out = run_exact(&mut s, Instant::from_millis(61));
    assert_eq!(
        out[0].1,
        MediaOutput::StartStream {
            local: p.local,
            remote: p.remote,
            payload_type: 9,
            clock_rate: 8000,
            ptime: Duration::from_millis(30),
            ssrc: p.ssrc,
        }
    );
    let stamps: Vec<u32> = out
        .iter()
        .filter_map(|(_, o)| match o {
            MediaOutput::SendRtp { timestamp, .. } => Some(*timestamp),
            _ => None,
        })
        .collect();
    assert_eq!(stamps, [0, 240, 480]);
    assert_eq!(s.octets_sent(), 3 * 240);
}

#[test]
fn dtmf_5_for_200_ms_follows_rfc_4733() {
    let start = Instant::from_millis(1000);
    let mut rng = Rng::new(4);
    let mut s = MediaStream::start_with_origin(start, params(), 100, 8000, &mut rng).unwrap();
    run_exact(&mut s, grid(start, 5));
    // The key goes down exactly when tick 5 is due: the event takes it.
    let t = grid(start, 5);
    s.handle_input(
        t,
        MediaInput::SendDtmf {
            digit: '5',
            duration: Duration::from_millis(200),
        },
    )
    .unwrap();
    let out = run_exact(&mut s, grid(start, 23));
    let ms = |d: u64| t + Duration::from_millis(d);
    let event_ts = 8000 + 5 * 160;
    let ev = |seq, marker, end, duration, at| MediaOutput::SendDtmfEvent {
        seq,
        timestamp: event_ts,
        marker,
        payload_type: 101,
        event: 5,
        end,
        volume: 10,
        duration,
        at,
    };
    let media: Vec<MediaOutput> = out
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| !matches!(o, MediaOutput::SendRtcp(_)))
        .collect();
    let audio = |seq, n: u64, marker| MediaOutput::SendRtp {
        seq,
        timestamp: 8000 + n as u32 * 160,
        marker,
        payload_type: 0,
        at: grid(start, n),
    };
    assert_eq!(
        media,
        [
            // Start: marker, the first frame's worth of duration.
            ev(105, true, false, 160, ms(0)),
            // Updates every 50 ms with the growing duration.
            ev(106, false, false, 400, ms(50)),
            ev(107, false, false, 800, ms(100)),
            ev(108, false, false, 1200, ms(150)),
            // 200 ms at 8 kHz = 1600 units, three end packets.
            ev(109, false, true, 1600, ms(200)),
            ev(110, false, true, 1600, ms(250)),
            ev(111, false, true, 1600, ms(300)),
            // Audio resumes on the grid after the last end packet, as a new
            // talk-spurt; the ticks the event covered are not sent.
            audio(112, 21, true),
            audio(113, 22, false),
        ]
    );
}

#[test]
fn queued_digits_follow_each_other_with_new_timestamps() {
    let start = Instant::ZERO;
    let mut rng = Rng::new(5);
    let mut s = MediaStream::start_with_origin(start, params(), 0, 0, &mut rng).unwrap();
    // Keyed before the first tick went out: the first event takes tick 0.
    for digit in ['1', '#'] {
        s.handle_input(
            start,
            MediaInput::SendDtmf {
                digit,
                duration: Duration::from_millis(100),
            },
        )
        .unwrap();
    }
    let events: Vec<(u8, u32, bool, bool)> = run_exact(&mut s, Instant::from_millis(1000))
        .into_iter()
        .filter_map(|(_, o)| match o {
            MediaOutput::SendDtmfEvent {
                event,
                timestamp,
                marker,
                end,
                ..
            } => Some((event, timestamp, marker, end)),
            _ => None,
        })
        .collect();
    // '1': start at 0, update at 50, ends at 100/150/200 ms; '#' takes the
    // first tick after 200 ms (index 11, timestamp 1760).
    assert_eq!(
        events,
        [
            (1, 0, true, false),
            (1, 0, false, false),
            (1, 0, false, true),
            (1, 0, false, true),
            (1, 0, false, true),
            (11, 1760, true, false),
            (11, 1760, false, false),
            (11, 1760, false, true),
            (11, 1760, false, true),
            (11, 1760, false, true),
        ]
    );
}

#[test]
fn dtmf_inputs_are_checked() {
    let mut rng = Rng::new(6);
    let t = Instant::ZERO;
    let digit = |digit, ms| MediaInput::SendDtmf {
        digit,
        duration: Duration::from_millis(ms),
    };
    let no_dtmf = StreamParams {
        dtmf_payload_type: None,
        ..params()
    };
    let mut s = MediaStream::start(t, no_dtmf, &mut rng).unwrap();
    assert_eq!(
        s.handle_input(t, digit('1', 100)),
        Err(MediaError::NoDtmfPayloadType)
    );
    let mut s = MediaStream::start(t, params(), &mut rng).unwrap();
    assert_eq!(
        s.handle_input(t, digit('x', 100)),
        Err(MediaError::InvalidDigit)
    );
    assert_eq!(
        s.handle_input(t, digit('1', 0)),
        Err(MediaError::InvalidDuration)
    );
    for _ in 0..=8 {
        s.handle_input(t, digit('9', 100)).unwrap();
    }
    assert_eq!(
        s.handle_input(t, digit('9', 100)),
        Err(MediaError::DtmfQueueFull)
    );
    s.handle_input(t, MediaInput::Hold).unwrap();
    assert_eq!(s.handle_input(t, digit('1', 100)), Err(MediaError::Held));
}

#[test]
fn hold_pauses_audio_keeps_rtcp_and_resume_jumps_the_timestamp() {
    let start = Instant::ZERO;
    let mut rng = Rng::new(8);
    let mut s = MediaStream::start_with_origin(start, params(), 10, 1000, &mut rng).unwrap();
    run_exact(&mut s, grid(start, 50));
    s.handle_input(grid(start, 50), MediaInput::Hold).unwrap();
    assert!(s.is_held());
    let resume_at = Instant::from_millis(40_010);
    let held = run_exact(&mut s, resume_at);
    assert!(held
        .iter()
        .all(|(_, o)| matches!(o, MediaOutput::SendRtcp(_))));
    let kinds: Vec<bool> = held
        .iter()
        .filter_map(|(_, o)| match o {
            MediaOutput::SendRtcp(r) => Some(matches!(r.kind, ReportKind::Sender(_))),
            _ => None,
        })
        .collect();
    // RTCP went on; once two reports passed without audio, SR became RR.
    assert!(kinds.len() >= 6, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&false));

    s.handle_input(resume_at, MediaInput::Resume).unwrap();
    let after: Vec<MediaOutput> = run_exact(&mut s, resume_at + Duration::from_millis(50))
        .into_iter()
        .map(|(_, o)| o)
        .filter(|o| matches!(o, MediaOutput::SendRtp { .. }))
        .collect();
    // Resumed on the grid (tick 2001 at 40.02 s): sequence numbers go on
    // from 59, the timestamp jumps by the 40 s that passed (RFC 3550 §5.1).
    let audio = |seq, n: u32, marker| MediaOutput::SendRtp {
        seq,
        timestamp: 1000 + n * 160,
        marker,
        payload_type: 0,
        at: grid(start, u64::from(n)),
    };
    assert_eq!(after, [audio(60, 2001, true), audio(61, 2002, false)]);
}

#[test]
fn hold_during_a_tone_sends_its_end_packets() {
    let mut rng = Rng::new(9);
    let mut s = MediaStream::start_with_origin(Instant::ZERO, params(), 0, 0, &mut rng).unwrap();
    let long = MediaInput::SendDtmf {
        digit: '0',
        duration: Duration::from_secs(2),
    };
    s.handle_input(Instant::ZERO, long).unwrap();
    run_exact(&mut s, Instant::from_millis(120));
    s.handle_input(Instant::from_millis(120), MediaInput::Hold)
        .unwrap();
    let out = run_exact(&mut s, Instant::from_millis(2000));
    let ends: Vec<(bool, u16)> = out
        .iter()
        .filter_map(|(_, o)| match o {
            MediaOutput::SendDtmfEvent { end, duration, .. } => Some((*end, *duration)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [(true, 960), (true, 960), (true, 960)]);
    assert!(!out
        .iter()
        .any(|(_, o)| matches!(o, MediaOutput::SendRtp { .. })));
}

#[test]
fn stop_emits_stop_stream_and_then_nothing() {
    let mut rng = Rng::new(10);
    let mut s = MediaStream::start(Instant::ZERO, params(), &mut rng).unwrap();
    run_exact(&mut s, Instant::from_millis(100));
    let t = Instant::from_millis(100);
    s.handle_input(t, MediaInput::Stop).unwrap();
    assert_eq!(s.poll_timeout(), Some(t));
    assert_eq!(drain(&mut s), [MediaOutput::StopStream]);
    assert_eq!(s.poll_timeout(), None);
    assert!(s.is_stopped());
    s.handle_input(Instant::from_millis(60_000), MediaInput::Tick)
        .unwrap();
    assert!(drain(&mut s).is_empty());
    assert_eq!(
        s.handle_input(t, MediaInput::Resume),
        Err(MediaError::NotRunning)
    );
}

#[test]
fn invalid_parameters_are_refused() {
    let mut rng = Rng::new(0);
    for bad in [
        StreamParams {
            clock_rate: 0,
            ..params()
        },
        StreamParams {
            ptime_ms: 0,
            ..params()
        },
        StreamParams {
            payload_type: 128,
            ..params()
        },
        StreamParams {
            dtmf_payload_type: Some(200),
            ..params()
        },
        StreamParams {
            clock_rate: 22_050,
            ptime_ms: 1,
            ..params()
        },
    ] {
        assert_eq!(
            MediaStream::start(Instant::ZERO, bad, &mut rng).err(),
            Some(MediaError::InvalidParams)
        );
    }
}

/// Deterministic arrival delays in multiples of 125 µs (one 8 kHz unit).
fn delay_units(i: u32) -> u32 {
    // 0..=240 units, i.e. 0..=30 ms, in a scrambled but fixed order.
    (i.wrapping_mul(2_654_435_761) >> 7) % 241
}

#[test]
fn jitter_matches_the_rfc_3550_formula() {
    let mut stats = ReceiveStats::new(8000);
    let origin = Instant::from_micros(987_625); // a multiple of 125 µs
    let ts0 = u32::MAX - 5000; // the timestamps wrap on the way
    let packets = 500u32;
    for i in 0..packets {
        let arrival =
            origin + Duration::from_micros(u64::from(i) * 20_000 + u64::from(delay_units(i)) * 125);
        stats.on_rtp(i as u16, ts0.wrapping_add(i * 160), 77, arrival);
    }
    // Independently: D(i−1, i) = (Rᵢ − Rᵢ₋₁) − (Sᵢ − Sᵢ₋₁), which with a
    // 160-unit send spacing and 160-unit nominal arrival spacing is just
    // the change in delay; J += (|D| − J) / 16 (RFC 3550 §6.4.1). Packet 0
    // is the source's probation packet and not counted, so the first
    // difference is between packets 1 and 2.
    let mut j = 0.0f64;
    for i in 2..packets {
        let d = f64::from(delay_units(i)) - f64::from(delay_units(i - 1));
        j += (d.abs() - j) / 16.0;
    }
    let scaled = f64::from(stats.jitter_scaled()) / 16.0;
    assert!((scaled - j).abs() < 1.0, "A.8 {scaled} vs formula {j}");
    assert_eq!(stats.jitter(), stats.jitter_scaled() >> 4);
    assert!(j > 30.0, "the pattern must actually jitter: {j}");

    // A steady alternation converges to its closed form:
    // |D| = 80 every packet, J_n = 80 (1 − (15/16)^n).
    let mut stats = ReceiveStats::new(8000);
    for i in 0..200u32 {
        let arrival = Instant::from_micros(u64::from(i) * 20_000 + u64::from(i % 2) * 10_000);
        stats.on_rtp(i as u16, i * 160, 1, arrival);
    }
    let n = 198; // differences from packet pair (1,2) to (198,199)
    let closed = 80.0 * (1.0 - (15.0f64 / 16.0).powi(n));
    let scaled = f64::from(stats.jitter_scaled()) / 16.0;
    assert!((scaled - closed).abs() < 1.0, "{scaled} vs {closed}");
    assert_eq!(stats.jitter(), 79);
}

#[test]
fn loss_and_fraction_lost_from_a_known_pattern() {
    let mut stats = ReceiveStats::new(8000);
    let t = Instant::ZERO;
    // Interval 1: sequence numbers 0..1000, every one ending in 3 lost.
    for seq in (0u16..1000).filter(|s| s % 10 != 3) {
        stats.on_rtp(seq, 0, 9, t);
    }
    // Packet 0 was the probation packet: counting starts at 1, so 999
    // expected (1..=999), 100 of them lost (3, 13, ..., 993).
    let block = stats.report_block(t).unwrap();
    assert_eq!(block.ssrc, 9);
    assert_eq!(block.extended_highest_seq, 999);
    assert_eq!(block.cumulative_lost, 100);
    assert_eq!(u32::from(block.fraction_lost), (100 << 8) / 999);
    // Interval 2: 1000..1200 with every odd one lost: half, i.e. 128/256.
    for seq in (1000u16..1200).filter(|s| s % 2 == 0) {
        stats.on_rtp(seq, 0, 9, t);
    }
    let block = stats.report_block(t).unwrap();
    assert_eq!(block.extended_highest_seq, 1198);
    assert_eq!(block.cumulative_lost, 199);
    assert_eq!(u32::from(block.fraction_lost), (99 << 8) / 199);
    // Interval 3: duplicates only: more received than expected, no loss.
    for _ in 0..5 {
        stats.on_rtp(1198, 0, 9, t);
    }
    let block = stats.report_block(t).unwrap();
    assert_eq!(block.fraction_lost, 0);
    assert_eq!(block.cumulative_lost, 194);
}

#[test]
fn cumulative_loss_clamps_at_24_bits() {
    let mut stats = ReceiveStats::new(8000);
    let mut seq: u16 = 0;
    stats.on_rtp(seq, 0, 1, Instant::ZERO);
    // Each jump of 2999 is inside MAX_DROPOUT, so it counts as loss.
    for _ in 0..3000 {
        seq = seq.wrapping_add(2999);
        stats.on_rtp(seq, 0, 1, Instant::ZERO);
        stats.on_rtp(seq.wrapping_add(1), 0, 1, Instant::ZERO);
        seq = seq.wrapping_add(1);
    }
    assert!(i64::from(stats.expected()) - i64::from(stats.received()) > 0x7f_ffff);
    assert_eq!(stats.cumulative_lost(), 0x7f_ffff);
    assert_eq!(clamp_cumulative_lost(-10_000_000), -0x80_0000);
    let block = stats.report_block(Instant::ZERO).unwrap();
    let mut buf = [0u8; 32];
    let rr = RtcpReport {
        ssrc: 2,
        kind: ReportKind::Receiver,
        block: Some(block),
    };
    let n = rr.write(&mut buf).unwrap();
    let read = RtcpReport::parse(&buf[..n]).unwrap().report.block.unwrap();
    assert_eq!(read.cumulative_lost, 0x7f_ffff);
}

fn report_times(seed: u64, minutes: u64) -> Vec<(Instant, RtcpReport)> {
    let mut rng = Rng::new(seed);
    let mut s = MediaStream::start(Instant::ZERO, params(), &mut rng).unwrap();
    run_exact(&mut s, Instant::from_millis(minutes * 60_000))
        .into_iter()
        .filter_map(|(t, o)| match o {
            MediaOutput::SendRtcp(r) => Some((t, r)),
            _ => None,
        })
        .collect()
}

#[test]
fn rtcp_intervals_respect_the_minimum_and_depend_only_on_the_seed() {
    // §6.3.1: T in [0.5, 1.5] × max(Td, Tmin) / (e − 3/2), Tmin = 5 s, or
    // 2.5 s before the first report.
    let lo = |min_us: u64| Duration::from_micros(min_us / 2 * 1_000_000_000 / 1_218_281_828);
    let hi =
        |min_us: u64| Duration::from_micros(min_us * 3 / 2 * 1_000_000_000 / 1_218_281_828 + 1);
    let mut gaps = 0u64;
    let mut total = Duration::ZERO;
    for seed in 0..20 {
        let reports = report_times(seed, 10);
        let first = reports[0].0 - Instant::ZERO;
        assert!(
            first >= lo(2_500_000) && first <= hi(2_500_000),
            "{first:?}"
        );
        for pair in reports.windows(2) {
            let gap = pair[1].0 - pair[0].0;
            assert!(gap >= lo(5_000_000) && gap <= hi(5_000_000), "{gap:?}");
            total = total + gap;
            gaps += 1;
        }
    }
    // The randomised intervals average well above the 2.05 s floor.
    assert!(total.as_micros() / gaps > 3_500_000);
    assert_eq!(report_times(42, 3), report_times(42, 3));
    assert_ne!(report_times(42, 3), report_times(43, 3));
}

/// A datagram in flight between the two test phones.
struct Flight {
    arrival: Instant,
    to_b: bool,
    len: usize,
    bytes: [u8; 200],
}

#[test]
fn two_streams_exchange_real_packets_and_report_loss_jitter_and_rtt() {
    let a_params = params();
    let b_params = StreamParams {
        local: a_params.remote,
        remote: a_params.local,
        ssrc: 0xb2b2_b2b2,
        ..a_params
    };
    let mut rng = Rng::new(77);
    let mut a = MediaStream::start(Instant::ZERO, a_params, &mut rng).unwrap();
    let mut b = MediaStream::start(Instant::ZERO, b_params, &mut rng).unwrap();
    let mut flights: Vec<Flight> = Vec::new();
    let mut a_to_b_rtp = 0u32;
    let mut dropped = 0u32;
    let end = Instant::from_millis(60_000);
    loop {
        let next_flight = flights.iter().map(|f| f.arrival).min();
        let Some(t) = [a.poll_timeout(), b.poll_timeout(), next_flight]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        if t >= end {
            break;
        }
        // Deliver whatever has arrived.
        let (due, rest): (Vec<Flight>, Vec<Flight>) =
            flights.into_iter().partition(|f| f.arrival <= t);
        flights = rest;
        for f in due {
            let dst = if f.to_b { &mut b } else { &mut a };
            let data = &f.bytes[..f.len];
            if let Ok(rtp) = RtpPacket::parse(data) {
                if rtp.header.payload_type < 72 || rtp.header.payload_type > 76 {
                    let h = rtp.header;
                    dst.handle_input(
                        t,
                        MediaInput::RtpReceived {
                            seq: h.sequence,
                            timestamp: h.timestamp,
                            ssrc: h.ssrc,
                            arrival: f.arrival,
                        },
                    )
                    .unwrap();
                    continue;
                }
            }
            dst.handle_input(
                t,
                MediaInput::RtcpReceived {
                    data,
                    arrival: f.arrival,
                },
            )
            .unwrap();
        }
        for (from_a, s) in [(true, &mut a), (false, &mut b)] {
            s.handle_input(t, MediaInput::Tick).unwrap();
            let ssrc = s.params().ssrc;
            while let Some(out) = s.poll_output() {
                let mut f = Flight {
                    arrival: t + Duration::from_millis(30),
                    to_b: from_a,
                    len: 0,
                    bytes: [0; 200],
                };
                match out {
                    MediaOutput::SendRtp {
                        seq,
                        timestamp,
                        marker,
                        payload_type,
                        ..
                    } => {
                        let header = RtpHeader {
                            marker,
                            payload_type,
                            sequence: seq,
                            timestamp,
                            ssrc,
                        };
                        f.len = header.write_packet(&[0xff; 160], &mut f.bytes).unwrap();
                        if from_a {
                            a_to_b_rtp += 1;
                            // 5 % loss and 0–15 ms of extra delay A → B.
                            if a_to_b_rtp % 20 == 7 {
                                dropped += 1;
                                continue;
                            }
                            f.arrival += Duration::from_micros(
                                u64::from(delay_units(a_to_b_rtp) % 121) * 125,
                            );
                        }
                    }
                    MediaOutput::SendRtcp(report) => {
                        f.len = report.write_compound(b"phone@test", &mut f.bytes).unwrap();
                    }
                    _ => continue,
                }
                flights.push(f);
            }
        }
    }
    // B saw 5 % of A's packets go missing and says so in its reports.
    let stats = b.receive_stats();
    assert_eq!(stats.source(), Some(a_params.ssrc));
    let in_flight_or_late =
        i64::from(a_to_b_rtp) - i64::from(stats.received()) - i64::from(dropped);
    assert!((0..=4).contains(&in_flight_or_late), "{in_flight_or_late}");
    let lost = stats.cumulative_lost();
    assert!(
        (i64::from(dropped) - i64::from(lost)).abs() <= 1,
        "{lost} vs {dropped}"
    );
    let report = a.peer_report().expect("B reported on A's stream");
    assert!((9..=16).contains(&report.fraction_lost), "{report:?}");
    // Uniform extra delay of 0–15 ms: mean |D| is a third of the range, 5 ms
    // or 40 units; the reported jitter sits near it.
    assert!((25..=55).contains(&report.jitter), "{report:?}");
    // A → B → A took 30 ms each way for RTCP.
    let rtt = a.round_trip().expect("RTT from B's LSR/DLSR");
    assert!(rtt.as_micros().abs_diff(60_000) < 200, "{rtt:?}");
    // Nothing was lost or jittered B → A.
    assert_eq!(a.receive_stats().cumulative_lost(), 0);
    assert!(a.receive_stats().jitter() <= 1);
}

#[test]
fn malformed_rtcp_input_is_an_error_not_a_panic() {
    let mut rng = Rng::new(12);
    let mut s = MediaStream::start(Instant::ZERO, params(), &mut rng).unwrap();
    let t = Instant::ZERO;
    assert_eq!(
        s.handle_input(
            t,
            MediaInput::RtcpReceived {
                data: &[],
                arrival: t
            }
        ),
        Err(MediaError::Rtcp(RtcpError::TooShort))
    );
    assert_eq!(
        s.handle_input(
            t,
            MediaInput::RtcpReceived {
                data: &[0x80, 202, 0, 1, 0, 0, 0, 0],
                arrival: t
            }
        ),
        Err(MediaError::Rtcp(RtcpError::NotAReport))
    );
    let mut noise = Rng::new(13);
    for len in 0..80 {
        let mut buf = [0u8; 80];
        for b in buf.iter_mut() {
            *b = noise.next_u32() as u8;
        }
        buf[0] = 0x80 | (buf[0] & 0x3f);
        let _ = s.handle_input(
            t,
            MediaInput::RtcpReceived {
                data: &buf[..len],
                arrival: t,
            },
        );
    }
    assert!(!s.is_stopped());
}

#[test]
fn per_call_state_stays_small() {
    // A phone keeps one stream per call slot in static memory; outputs are
    // copied through the facade's queue.
    assert!(core::mem::size_of::<MediaStream>() <= 640);
    assert!(core::mem::size_of::<MediaOutput>() <= 96);
    assert!(core::mem::size_of::<MediaInput<'_>>() <= 32);
    assert!(core::mem::size_of::<ReceiveStats>() <= 128);
}

#[test]
fn random_input_sequences_keep_every_invariant() {
    let mut audio = 0u64;
    for seed in 0..40u64 {
        let mut r = Rng::new(seed);
        let start = Instant::from_micros(u64::from(r.next_u32()));
        let mut s = MediaStream::start(start, params(), &mut r).unwrap();
        let mut now = start;
        let mut last_seq: Option<u16> = None;
        let mut event_ts: Option<u32> = None;
        for steps in 0..3000 {
            now += Duration::from_micros(u64::from(r.below(60_000)));
            let input = match if r.below(1500) == 0 { 99 } else { r.below(40) } {
                0 => MediaInput::Hold,
                1 => MediaInput::Resume,
                2 | 3 => MediaInput::SendDtmf {
                    digit: ['1', '5', '#', 'x', 'D'][r.below(5) as usize],
                    duration: Duration::from_millis(u64::from(r.below(400))),
                },
                4..=9 => MediaInput::RtpReceived {
                    seq: r.next_u32() as u16,
                    timestamp: r.next_u32(),
                    ssrc: r.below(3),
                    arrival: now,
                },
                99 if steps > 0 => MediaInput::Stop,
                _ => MediaInput::Tick,
            };
            let mut noise = [0u8; 40];
            noise.iter_mut().for_each(|b| *b = r.next_u32() as u8);
            noise[0] = 0x81;
            noise[1] = 200 + r.below(2) as u8;
            let _ = s.handle_input(now, input);
            let _ = s.handle_input(
                now,
                MediaInput::RtcpReceived {
                    data: &noise[..r.below(41) as usize],
                    arrival: now,
                },
            );
            while let Some(out) = s.poll_output() {
                match out {
                    MediaOutput::SendRtp { seq, at, .. } => {
                        audio += 1;
                        assert_eq!((at - start).as_micros() % 20_000, 0);
                        assert!(at <= now);
                        assert!(last_seq.is_none_or(|l| seq == l.wrapping_add(1)));
                        last_seq = Some(seq);
                        event_ts = None;
                    }
                    MediaOutput::SendDtmfEvent {
                        seq,
                        timestamp,
                        marker,
                        end,
                        duration,
                        ..
                    } => {
                        assert!(last_seq.is_none_or(|l| seq == l.wrapping_add(1)));
                        last_seq = Some(seq);
                        if !marker {
                            assert_eq!(event_ts, Some(timestamp));
                        }
                        event_ts = Some(timestamp);
                        assert!(duration > 0 || !end);
                    }
                    _ => {}
                }
            }
            // Everything due has been handed out: the next wake-up lies
            // strictly ahead, so a caller never spins.
            if let Some(t) = s.poll_timeout() {
                assert!(t > now, "seed {seed}: timeout {t:?} not after {now:?}");
            }
            if s.is_stopped() {
                assert_eq!(s.poll_timeout(), None);
                break;
            }
        }
    }
    // The sequences did exercise the grid, not only stop early.
    assert!(audio > 20_000, "{audio}");
}
