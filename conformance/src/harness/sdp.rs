//! The SDP harness: any bytes as a session description, answered as an
//! offer and applied as an answer.

use std::net::{IpAddr, Ipv4Addr};

use handset_core::sdp::{MediaPolicy, MediaSession, SessionDescription};

/// The phone's RTP address in every session the harness builds.
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

/// Parses `data` as SDP; when it parses, answers it as an offer and applies
/// it as the answer to the phone's own offer (fresh, and on hold).
///
/// Invariants: nothing panics; every SDP the phone writes parses back,
/// and an answer the phone writes offers what it agreed.
pub fn run(data: &[u8]) {
    let Ok(offer) = SessionDescription::parse(data) else {
        return;
    };
    let policy = MediaPolicy::default();
    let mut buf = [0u8; 1024];

    let mut answerer = MediaSession::new(1, LOCAL, 16384);
    if let Ok(agreed) = answerer.answer_offer(&policy, &offer) {
        let n = answerer
            .local()
            .write(&mut buf)
            .expect("an answer to a parsed offer fits 1 KiB");
        let written = buf
            .get(..n)
            .expect("write reports a length within the buffer");
        let back = SessionDescription::parse(written).expect("the phone's answer parses");
        assert_eq!(
            back.media().len(),
            offer.media().len(),
            "an answer has one section per offered section (RFC 3264 §6)"
        );
        assert!(back
            .media()
            .iter()
            .any(|m| m.payload_types().contains(&agreed.codec.pt)));
        assert_eq!(answerer.negotiated(), Some(agreed));
    } else {
        assert_eq!(answerer.negotiated(), None, "a failed offer agrees nothing");
    }

    for hold in [false, true] {
        let mut offerer = MediaSession::new(2, LOCAL, 16386);
        offerer.set_hold(hold);
        let n = offerer
            .create_offer(&policy)
            .write(&mut buf)
            .expect("the phone's offer fits 1 KiB");
        SessionDescription::parse(buf.get(..n).unwrap_or(&[])).expect("the phone's offer parses");
        let result = offerer.process_answer(&offer);
        assert!(!offerer.offer_pending(), "an answer settles the offer");
        assert_eq!(offerer.negotiated(), result.ok());
        // A second answer to the same offer is refused (RFC 3264 §4).
        assert!(offerer.process_answer(&offer).is_err());
    }
}
