//! The renderers over one hand-written call through a proxy: a lost INVITE
//! and its retransmission, a duplicated 180, a few RTP packets. Snapshots
//! pin the text formats; tshark (when installed) checks the pcap.

mod support;

use std::net::SocketAddr;

use handset_core::time::{Duration, Instant};
use handset_sim::render::{self, LadderOptions, MediaRows, PcapOptions, RowOptions};
use handset_sim::{Chance, FaultProfile, Simulation, Trace, Window};
use support::{rtp, sip, Scripted};

const SDP_A: &str = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\n\
c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const SDP_B: &str = "v=0\r\no=bob 2808844564 2808844564 IN IP4 192.0.2.3\r\ns=-\r\n\
c=IN IP4 192.0.2.3\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Header values shared by the messages of the call.
struct Call {
    via_a: String,
    via_p: String,
    from: String,
    to: String,
    to_tagged: String,
    call_id: String,
}

fn call() -> Call {
    Call {
        via_a: "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9".into(),
        via_p: "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKnashds8".into(),
        from: "Alice <sip:alice@192.0.2.2>;tag=9fxced76sl".into(),
        to: "Bob <sip:bob@192.0.2.2>".into(),
        to_tagged: "Bob <sip:bob@192.0.2.2>;tag=8321234356".into(),
        call_id: "3848276298220188511@192.0.2.1".into(),
    }
}

fn h(name: &'static str, value: &str) -> (&'static str, String) {
    (name, value.to_string())
}

/// The messages of the call, in the order they are sent, with the sender,
/// the receiver (as indices A = 0, Proxy = 1, B = 2) and the send time in
/// milliseconds.
fn script() -> Vec<(u64, usize, usize, Vec<u8>)> {
    let c = call();
    let rr = h("Record-Route", "<sip:192.0.2.2;lr>");
    let invite_a = sip(
        "INVITE sip:bob@192.0.2.2 SIP/2.0",
        &[
            h("Via", &c.via_a),
            h("Max-Forwards", "70"),
            h("From", &c.from),
            h("To", &c.to),
            h("Call-ID", &c.call_id),
            h("CSeq", "1 INVITE"),
            h("Contact", "<sip:alice@192.0.2.1>"),
        ],
        SDP_A,
    );
    let trying = sip(
        "SIP/2.0 100 Trying",
        &[
            h("Via", &c.via_a),
            h("From", &c.from),
            h("To", &c.to),
            h("Call-ID", &c.call_id),
            h("CSeq", "1 INVITE"),
        ],
        "",
    );
    let invite_p = sip(
        "INVITE sip:bob@192.0.2.3 SIP/2.0",
        &[
            h("Via", &c.via_p),
            h("Via", &c.via_a),
            h("Max-Forwards", "69"),
            rr.clone(),
            h("From", &c.from),
            h("To", &c.to),
            h("Call-ID", &c.call_id),
            h("CSeq", "1 INVITE"),
            h("Contact", "<sip:alice@192.0.2.1>"),
        ],
        SDP_A,
    );
    let response = |status: &str, via_p: bool, body: &str| {
        let mut headers = Vec::new();
        if via_p {
            headers.push(h("Via", &c.via_p));
        }
        headers.extend([
            h("Via", &c.via_a),
            rr.clone(),
            h("From", &c.from),
            h("To", &c.to_tagged),
            h("Call-ID", &c.call_id),
            h("CSeq", "1 INVITE"),
            h("Contact", "<sip:bob@192.0.2.3>"),
        ]);
        sip(status, &headers, body)
    };
    // An in-dialog request: ACK from A's side, BYE from B's.
    let request = |method: &str, via: Vec<(&'static str, String)>, uri: &str, mf: &str| {
        let (from, to, cseq) = if method == "ACK" {
            (&c.from, &c.to_tagged, "1 ACK")
        } else {
            (&c.to_tagged, &c.from, "231 BYE")
        };
        let mut headers = via;
        headers.extend([
            h("Max-Forwards", mf),
            h("From", from),
            h("To", to),
            h("Call-ID", &c.call_id),
            h("CSeq", cseq),
        ]);
        sip(&format!("{method} {uri} SIP/2.0"), &headers, "")
    };
    let ack = |via, uri: &str, mf: &str| request("ACK", via, uri, mf);
    let bye = |via, uri: &str, mf: &str| request("BYE", via, uri, mf);
    let via_b = "SIP/2.0/UDP 192.0.2.3:5060;branch=z9hG4bKnashds10";
    let via_pb = "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKnashds11";
    let bye_ok = |via: Vec<(&'static str, String)>| {
        let mut headers = via;
        headers.extend([
            h("From", &c.to_tagged),
            h("To", &c.from),
            h("Call-ID", &c.call_id),
            h("CSeq", "231 BYE"),
        ]);
        sip("SIP/2.0 200 OK", &headers, "")
    };
    let (a, p, b) = (0, 1, 2);
    let mut s = vec![
        (0, a, p, invite_a),
        (20, p, a, trying),
        (30, p, b, invite_p.clone()),
        (530, p, b, invite_p),
        (550, b, p, response("SIP/2.0 180 Ringing", true, "")),
        (570, p, a, response("SIP/2.0 180 Ringing", false, "")),
        (1000, b, p, response("SIP/2.0 200 OK", true, SDP_B)),
        (1020, p, a, response("SIP/2.0 200 OK", false, SDP_B)),
        (
            1040,
            a,
            p,
            ack(
                vec![h("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bfa")],
                "sip:bob@192.0.2.3",
                "70",
            ),
        ),
        (
            1060,
            p,
            b,
            ack(
                vec![
                    h("Via", "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKnashds9"),
                    h("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bfa"),
                ],
                "sip:bob@192.0.2.3",
                "69",
            ),
        ),
    ];
    for i in 0..3u16 {
        s.push((1100 + 20 * u64::from(i), a, b, rtp(i)));
        s.push((1110 + 20 * u64::from(i), b, a, rtp(100 + i)));
    }
    s.extend([
        (
            2000,
            b,
            p,
            bye(vec![h("Via", via_b)], "sip:alice@192.0.2.1", "70"),
        ),
        (
            2020,
            p,
            a,
            bye(
                vec![h("Via", via_pb), h("Via", via_b)],
                "sip:alice@192.0.2.1",
                "69",
            ),
        ),
        (2040, a, p, bye_ok(vec![h("Via", via_pb), h("Via", via_b)])),
        (2060, p, b, bye_ok(vec![h("Via", via_b)])),
    ]);
    s
}

/// Runs the script: 10 ms links, the Proxy–B link cut from 25 ms to 40 ms
/// (the first INVITE to B is lost), and the Proxy → A link duplicating
/// everything between 560 ms and 580 ms (the 180 arrives twice).
fn run_call(seed: u64) -> Trace {
    let mut sim = Simulation::new(
        seed,
        FaultProfile::ideal().with_delay(Duration::from_millis(10)),
    );
    let a = sim.add_node("User A", Scripted::new);
    let p = sim.add_node("Proxy", Scripted::new);
    let b = sim.add_node("User B", Scripted::new);
    let ids = [a, p, b];
    sim.network_mut().partition(
        p,
        b,
        Window::new(Instant::from_millis(25), Instant::from_millis(40)),
    );
    sim.schedule(Instant::from_millis(560), move |sim| {
        let dup = FaultProfile::ideal()
            .with_delay(Duration::from_millis(10))
            .with_duplicate(Chance::ALWAYS);
        sim.network_mut().set_link(p, a, dup);
    });
    sim.schedule(Instant::from_millis(580), move |sim| {
        let plain = FaultProfile::ideal().with_delay(Duration::from_millis(10));
        sim.network_mut().set_link(p, a, plain);
    });
    for (ms, from, to, data) in script() {
        let to_addr: SocketAddr = if data.first() == Some(&0x80) {
            // RTP goes to the peer's media port.
            let mut addr = sim.address(ids[to]);
            addr.set_port(if to == 0 { 40000 } else { 40002 });
            addr
        } else {
            sim.address(ids[to])
        };
        let rtp_port = if from == 0 { 40000 } else { 40002 };
        sim.schedule_on(
            Instant::from_millis(ms),
            ids[from],
            move |n: &mut Scripted, _| {
                if data.first() == Some(&0x80) {
                    n.send_from_port(rtp_port, to_addr, data);
                } else {
                    n.send(to_addr, data);
                }
            },
        );
    }
    sim.run_until(Instant::from_millis(3000));
    // Every datagram but the one lost reached its receiver.
    let received: usize = ids
        .iter()
        .map(|&id| sim.node::<Scripted>(id).received.len())
        .sum();
    assert_eq!(received, sim.trace().len() - 1);
    sim.into_trace()
}

/// Every datagram, media as one summary row per direction.
fn summarised() -> RowOptions {
    RowOptions {
        media: MediaRows::Summarise,
        ..RowOptions::default()
    }
}

#[test]
fn ladder_marks_lost_retransmitted_and_duplicated_steps() {
    let trace = run_call(1);
    insta::assert_snapshot!("ladder", render::ladder(&trace, &LadderOptions::default()));
}

#[test]
fn clean_ladder_reads_like_the_fault_free_flow() {
    let trace = run_call(1);
    let opts = LadderOptions {
        rows: RowOptions::clean(),
        show_time: false,
    };
    insta::assert_snapshot!("ladder_clean", render::ladder(&trace, &opts));
}

#[test]
fn ladder_with_times_and_media_summaries() {
    let trace = run_call(1);
    let opts = LadderOptions {
        rows: summarised(),
        show_time: true,
    };
    insta::assert_snapshot!("ladder_timed_media", render::ladder(&trace, &opts));
}

#[test]
fn mermaid_sequence_diagram() {
    let trace = run_call(1);
    let opts = summarised();
    insta::assert_snapshot!("mermaid", render::mermaid(&trace, &opts));
}

#[test]
fn svg_sequence_diagram() {
    let trace = run_call(1);
    let opts = summarised();
    let svg = render::svg(&trace, &opts);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"));
    insta::assert_snapshot!("svg", svg);
}

#[test]
fn json_one_object_per_datagram() {
    let trace = run_call(1);
    let json = render::json(&trace);
    assert_eq!(json.lines().count(), trace.len() + 2);
    // The first SIP message and an RTP packet, whole.
    let lines: Vec<&str> = json.lines().collect();
    insta::assert_snapshot!("json_first_lines", lines[..2].join("\n"));
    let rtp_line = lines
        .iter()
        .find(|l| l.contains("\"label\":\"RTP\""))
        .unwrap();
    insta::assert_snapshot!("json_rtp_line", rtp_line);
}

/// Reads a classic pcap back into (seconds, microseconds, packet) records.
fn read_pcap(bytes: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xa1b2_c3d4);
    assert_eq!(u32_at(20), 101, "LINKTYPE_RAW");
    let mut at = 24;
    let mut out = Vec::new();
    while at < bytes.len() {
        let (sec, usec, incl, orig) = (u32_at(at), u32_at(at + 4), u32_at(at + 8), u32_at(at + 12));
        assert_eq!(incl, orig);
        let start = at + 16;
        let end = start + incl as usize;
        out.push((sec, usec, bytes[start..end].to_vec()));
        at = end;
    }
    assert_eq!(at, bytes.len());
    out
}

#[test]
fn pcap_holds_one_ip_packet_per_datagram() {
    let trace = run_call(1);
    let all = read_pcap(&render::pcap(&trace, &PcapOptions::default()));
    assert_eq!(all.len(), trace.len());
    for ((sec, usec, packet), e) in all.iter().zip(trace.entries()) {
        assert_eq!(
            u64::from(*sec) * 1_000_000 + u64::from(*usec),
            e.sent_at.as_micros()
        );
        assert_eq!(packet[0], 0x45);
        assert_eq!(
            &packet[12..16],
            &[
                192,
                0,
                2,
                e.src
                    .ip()
                    .to_string()
                    .rsplit('.')
                    .next()
                    .unwrap()
                    .parse::<u8>()
                    .unwrap()
            ]
        );
        assert_eq!(&packet[28..], e.data.as_slice());
        assert_eq!(u16::from_be_bytes([packet[20], packet[21]]), e.src.port());
        assert_eq!(u16::from_be_bytes([packet[22], packet[23]]), e.dst.port());
    }
    let kept = read_pcap(&render::pcap(
        &trace,
        &PcapOptions {
            include_lost: false,
            include_duplicates: false,
        },
    ));
    assert_eq!(kept.len(), trace.len() - 2);
}

/// Runs tshark over the call's capture: no malformed packet, every
/// checksum good, every SIP message dissected as SIP.
#[test]
fn tshark_reads_the_capture_without_malformed_packets() {
    if std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "\n*** SKIPPED: tshark is not installed; the pcap was not checked by a dissector \
             (apt-get install -y tshark) ***\n"
        );
        return;
    }
    let trace = run_call(1);
    let path = std::env::temp_dir().join(format!("handset-sim-render-{}.pcap", std::process::id()));
    std::fs::write(&path, render::pcap(&trace, &PcapOptions::default())).unwrap();
    let tshark = |filter: &str, fields: &[&str]| -> Vec<String> {
        let mut cmd = std::process::Command::new("tshark");
        cmd.args(["-n", "-r"]).arg(&path);
        cmd.args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
        ]);
        cmd.args(["-Y", filter, "-T", "fields"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark runs");
        assert!(
            out.status.success(),
            "tshark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let malformed = tshark("_ws.malformed", &["frame.number"]);
    let frames = tshark("frame", &["frame.number"]);
    let good_checksums = tshark(
        "ip.checksum.status == 1 && udp.checksum.status == 1",
        &["frame.number"],
    );
    let sip = tshark("sip", &["sip.CSeq"]);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(malformed, Vec::<String>::new(), "malformed frames");
    assert_eq!(frames.len(), trace.len());
    assert_eq!(
        good_checksums.len(),
        trace.len(),
        "frames with bad checksums"
    );
    let want_sip = trace.sip_entries().count();
    assert_eq!(sip.len(), want_sip);
    assert_eq!(sip.first().map(String::as_str), Some("1 INVITE"));
    assert_eq!(sip.last().map(String::as_str), Some("231 BYE"));
}

#[test]
fn an_empty_trace_renders_empty_documents() {
    let trace = Simulation::new(1, FaultProfile::ideal()).into_trace();
    assert_eq!(render::ladder(&trace, &LadderOptions::default()), "");
    assert_eq!(
        render::mermaid(&trace, &RowOptions::default()),
        "sequenceDiagram\n"
    );
    assert_eq!(render::json(&trace), "[\n]\n");
    assert_eq!(render::pcap(&trace, &PcapOptions::default()).len(), 24);
    assert!(render::svg(&trace, &RowOptions::default()).ends_with("</svg>\n"));
}
