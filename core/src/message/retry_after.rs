//! The Retry-After header (RFC 3261 §20.33).

use super::error::{ParseError, ParseErrorKind};
use super::params::{check_generic_params, Params};
use super::scan::{comment_len, offset_in, parse_delta, run_end, skip_lws};

/// `delta-seconds [ comment ] *( ;retry-param )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter<'a> {
    /// Seconds to wait before retrying.
    pub delta: u32,
    /// The comment, parentheses included.
    pub comment: Option<&'a str>,
    /// The `duration` parameter in seconds.
    pub duration: Option<u32>,
    /// The parameters as written.
    pub params: &'a str,
}

impl<'a> RetryAfter<'a> {
    /// Parses a Retry-After value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<RetryAfter<'a>, ParseError> {
        let b = s.as_bytes();
        let start = skip_lws(b, 0);
        let end = run_end(b, start, |c| c.is_ascii_digit());
        let delta = parse_delta(s.get(start..end).unwrap_or(""))
            .map_err(|e| ParseError::new(e.kind, start))?;
        let mut i = skip_lws(b, end);
        let mut comment = None;
        if b.get(i) == Some(&b'(') {
            let len = comment_len(b.get(i..).unwrap_or(&[]))
                .ok_or(ParseError::new(ParseErrorKind::BadHeaderValue, i))?;
            comment = s.get(i..i + len);
            i += len;
        }
        let params = s.get(i..).unwrap_or("");
        check_generic_params(params).map_err(|e| ParseError::new(e.kind, i + e.offset))?;
        let mut duration = None;
        if let Some((name, value)) =
            Params::new(params).find(|(n, _)| n.eq_ignore_ascii_case("duration"))
        {
            duration = Some(
                parse_delta(value.unwrap_or(""))
                    .map_err(|e| ParseError::new(e.kind, offset_in(s, name)))?,
            );
        }
        Ok(RetryAfter {
            delta,
            comment,
            duration,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let r = RetryAfter::parse("18000;duration=3600").unwrap();
        assert_eq!((r.delta, r.duration, r.comment), (18000, Some(3600), None));
        let c = RetryAfter::parse("120 (I'm in a (long) meeting)").unwrap();
        assert_eq!(c.comment, Some("(I'm in a (long) meeting)"));
        let e = RetryAfter::parse("949302838503028349304023988").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Overflow);
        assert!(RetryAfter::parse("5 (open").is_err());
        assert!(RetryAfter::parse("").is_err());
    }
}
