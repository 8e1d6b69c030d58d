//! Reliable provisional responses: RSeq and RAck (RFC 3262 §7.1, §7.2).

use super::error::{ParseError, ParseErrorKind};
use super::scan::{is_token, offset_in, parse_u32, trim_lws};
use super::Method;

/// Parses an RSeq value: 1 to 2^31-1 (RFC 3262 §3).
pub fn parse_rseq(s: &str) -> Result<u32, ParseError> {
    let t = trim_lws(s);
    let n = parse_u32(t).ok_or(ParseError::new(
        ParseErrorKind::BadHeaderValue,
        offset_in(s, t),
    ))?;
    if n == 0 || n >= 1 << 31 {
        return Err(ParseError::new(ParseErrorKind::Overflow, offset_in(s, t)));
    }
    Ok(n)
}

/// The RAck header: `response-num LWS CSeq-num LWS Method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RAck<'a> {
    /// The RSeq of the acknowledged response.
    pub rseq: u32,
    /// The CSeq number of the request it answered.
    pub cseq: u32,
    /// The CSeq method of that request.
    pub method: Method<'a>,
}

impl<'a> RAck<'a> {
    /// Parses an RAck value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<RAck<'a>, ParseError> {
        let mut parts = s
            .split(|c: char| c.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        let bad = |p: &str| ParseError::new(ParseErrorKind::BadHeaderValue, offset_in(s, p));
        let (Some(r), Some(c), Some(m), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseError::new(ParseErrorKind::BadHeaderValue, 0));
        };
        let rseq = parse_rseq(r)?;
        let cseq = parse_u32(c).filter(|n| *n < 1 << 31).ok_or(bad(c))?;
        if !is_token(m) {
            return Err(bad(m));
        }
        Ok(RAck {
            rseq,
            cseq,
            method: Method::from_token(m),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rseq_and_rack() {
        assert_eq!(parse_rseq(" 988789 "), Ok(988789));
        assert!(parse_rseq("0").is_err());
        assert!(parse_rseq("2147483648").is_err());
        let r = RAck::parse("776656 1 INVITE").unwrap();
        assert_eq!((r.rseq, r.cseq, r.method), (776656, 1, Method::Invite));
        assert!(RAck::parse("1 INVITE").is_err());
        assert!(RAck::parse("1 2 INVITE x").is_err());
    }
}
