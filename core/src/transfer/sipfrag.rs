//! The `message/sipfrag` bodies of REFER notifications (RFC 3420, RFC 3515
//! §2.4.5): the status line of the response the referred request got.

use core::fmt;

use crate::message::{push_all, reason_phrase, Decimal, WriteError};

/// The media type of a REFER notification's body, with the version
/// parameter RFC 3420 §3 defines.
pub const SIPFRAG_TYPE: &str = "message/sipfrag;version=2.0";

/// A status line as a sipfrag body: `SIP/2.0 200 OK` and CRLF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFrag(pub u16);

impl StatusFrag {
    /// Appends the status line to `out`; `Err` when it does not fit.
    pub fn push_to<const N: usize>(&self, out: &mut heapless::String<N>) -> Result<(), WriteError> {
        let code = Decimal::new(u64::from(self.0));
        push_all(
            out,
            &[
                "SIP/2.0 ",
                code.as_str(),
                " ",
                reason_phrase(self.0),
                "\r\n",
            ],
        )
    }
}

impl fmt::Display for StatusFrag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line: heapless::String<64> = heapless::String::new();
        self.push_to(&mut line).map_err(|_| fmt::Error)?;
        f.write_str(&line)
    }
}

/// The status code of a sipfrag body that starts with a status line
/// (RFC 3515 §2.4.5: "the body MUST begin with a SIP Response
/// Status-Line"). `None` when the body starts with anything else or the
/// code is outside 100-699.
pub fn parse_status(body: &[u8]) -> Option<u16> {
    let line_end = body
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(body.len());
    let line = core::str::from_utf8(body.get(..line_end)?).ok()?;
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The code is followed by a space (and a reason phrase) or nothing.
    if rest.len() > 3 && !rest.get(3..)?.starts_with(' ') {
        return None;
    }
    let n: u16 = code.parse().ok()?;
    (100..=699).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn status_line_round_trip() {
        for code in [100u16, 180, 200, 486, 603] {
            let text = format!("{}", StatusFrag(code));
            assert!(text.ends_with("\r\n"));
            assert_eq!(parse_status(text.as_bytes()), Some(code), "{text}");
        }
        assert_eq!(format!("{}", StatusFrag(100)), "SIP/2.0 100 Trying\r\n");
    }

    #[test]
    fn bodies_that_are_not_status_lines_are_refused() {
        assert_eq!(parse_status(b"SIP/2.0 200"), Some(200));
        assert_eq!(
            parse_status(b"SIP/2.0 486 Busy Here\r\nVia: x\r\n"),
            Some(486)
        );
        for bad in [
            &b""[..],
            b"INVITE sip:a@b SIP/2.0\r\n",
            b"SIP/2.0 99 Low\r\n",
            b"SIP/2.0 700 High\r\n",
            b"SIP/2.0 2000 OK\r\n",
            b"SIP/2.0 2x0 OK\r\n",
            b"SIP/1.0 200 OK\r\n",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_status(bad), None, "{bad:?}");
        }
    }
}
