//! Session timers: Session-Expires and Min-SE (RFC 4028 §4, §5).

use super::error::{ParseError, ParseErrorKind};
use super::event::split_token_params;
use super::params::Params;
use super::scan::{offset_in, parse_delta};

/// Who refreshes the session (RFC 4028 §4 refresher-param).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refresher {
    /// `uac`: the side that sent the request.
    Uac,
    /// `uas`: the side that answers it.
    Uas,
}

/// The Session-Expires header: `delta-seconds *( ;se-params )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// The session interval in seconds.
    pub delta: u32,
    /// The `refresher` parameter.
    pub refresher: Option<Refresher>,
    /// All parameters as written.
    pub params: &'a str,
}

impl<'a> SessionExpires<'a> {
    /// Parses a Session-Expires value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<SessionExpires<'a>, ParseError> {
        let (delta, params) = parse_delta_params(s)?;
        let mut refresher = None;
        for (name, value) in Params::new(params) {
            if name.eq_ignore_ascii_case("refresher") {
                refresher = Some(match value {
                    Some(v) if v.eq_ignore_ascii_case("uac") => Refresher::Uac,
                    Some(v) if v.eq_ignore_ascii_case("uas") => Refresher::Uas,
                    _ => {
                        return Err(ParseError::new(
                            ParseErrorKind::BadHeaderValue,
                            offset_in(s, name),
                        ))
                    }
                });
            }
        }
        Ok(SessionExpires {
            delta,
            refresher,
            params,
        })
    }
}

/// Parses `delta-seconds *( ;generic-param )`: Min-SE (RFC 4028 §5) and
/// the numeric part of similar headers.
pub fn parse_delta_params(s: &str) -> Result<(u32, &str), ParseError> {
    let (num, params) = split_token_params(s)?;
    let delta = parse_delta(num).map_err(|e| ParseError::new(e.kind, offset_in(s, num)))?;
    Ok((delta, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_expires() {
        let s = SessionExpires::parse("4000;refresher=uac").unwrap();
        assert_eq!((s.delta, s.refresher), (4000, Some(Refresher::Uac)));
        assert_eq!(SessionExpires::parse("90").unwrap().refresher, None);
        assert!(SessionExpires::parse("90;refresher=me").is_err());
        assert!(SessionExpires::parse("x").is_err());
        assert_eq!(parse_delta_params("90 ;x=y").unwrap().0, 90);
    }
}
