//! A stand-in for the board's network driver and timer.
//!
//! It hands out canned SIP datagrams chosen by an opaque counter, and the
//! bytes it is asked to send go into `black_box`: the optimizer can neither
//! predict what arrives nor drop what is sent, so the image keeps every
//! code path a real driver would reach.

use core::hint::black_box;
use core::net::SocketAddr;

use handset_baremetal::{Clock, DatagramErrorKind, DatagramSocket, Received};
use handset_core::time::Instant;

const INVITE: &[u8] = b"INVITE sip:alice@192.168.1.20:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKinv1;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Bob\" <sip:bob@example.com>;tag=b1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: call-1@192.168.1.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@192.168.1.1:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 158\r\n\r\n\
v=0\r\n\
o=bob 1 1 IN IP4 192.168.1.1\r\n\
s=-\r\n\
c=IN IP4 192.168.1.1\r\n\
t=0 0\r\n\
m=audio 30000 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const OPTIONS: &[u8] = b"OPTIONS sip:alice@192.168.1.20:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKopt1\r\n\
Max-Forwards: 70\r\n\
From: <sip:proxy@example.com>;tag=p1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: opt-1@192.168.1.1\r\n\
CSeq: 7 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

const CHALLENGE: &[u8] = b"SIP/2.0 401 Unauthorized\r\n\
Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bKreg;rport=5060\r\n\
From: <sip:alice@example.com>;tag=a1\r\n\
To: <sip:alice@example.com>;tag=r1\r\n\
Call-ID: reg-1\r\n\
CSeq: 1 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc123\", qop=\"auth\", algorithm=SHA-256\r\n\
Content-Length: 0\r\n\r\n";

const BYE: &[u8] = b"BYE sip:alice@192.168.1.20:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKbye1\r\n\
Max-Forwards: 70\r\n\
From: \"Bob\" <sip:bob@example.com>;tag=b1\r\n\
To: <sip:alice@example.com>;tag=x\r\n\
Call-ID: call-1@192.168.1.1\r\n\
CSeq: 2 BYE\r\n\
Content-Length: 0\r\n\r\n";

const CANNED: [&[u8]; 4] = [INVITE, OPTIONS, CHALLENGE, BYE];

/// The stub UDP socket.
pub struct StubNet {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    polls: u32,
}

impl StubNet {
    pub fn new(local: SocketAddr, peer: SocketAddr) -> Self {
        StubNet {
            local,
            peer,
            polls: 0,
        }
    }
}

impl DatagramSocket for StubNet {
    type Error = DatagramErrorKind;

    fn send_to(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        black_box((from, to, data));
        if black_box(data.len()) > 1472 {
            return Err(DatagramErrorKind::TooLarge);
        }
        Ok(())
    }

    fn try_recv_from(&mut self, buf: &mut [u8]) -> Result<Option<Received>, Self::Error> {
        self.polls = self.polls.wrapping_add(1);
        let pick = black_box(self.polls) as usize;
        if pick.is_multiple_of(3) {
            return Ok(None);
        }
        let canned = black_box(CANNED.get(pick % CANNED.len()).copied().unwrap_or(OPTIONS));
        let dst = buf
            .get_mut(..canned.len())
            .ok_or(DatagramErrorKind::TooLarge)?;
        dst.copy_from_slice(canned);
        Ok(Some(Received {
            len: canned.len(),
            from: black_box(self.peer),
            to: self.local,
        }))
    }
}

/// The stub timer: a 1 kHz tick counter that moves by an opaque amount.
pub struct StubTimer {
    ticks: handset_baremetal::WrappingTicks<1000>,
    raw: u32,
}

impl StubTimer {
    pub fn new() -> Self {
        StubTimer {
            ticks: handset_baremetal::WrappingTicks::new(0),
            raw: 0,
        }
    }
}

impl Clock for StubTimer {
    fn now(&mut self) -> Instant {
        self.raw = self.raw.wrapping_add(black_box(20));
        self.ticks.update(self.raw)
    }
}
