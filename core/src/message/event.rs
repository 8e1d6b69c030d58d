//! Event and Subscription-State (RFC 6665 §8.2.1, §8.2.3; RFC 3515 §2.4.4
//! for the `refer` package).

use super::error::{ParseError, ParseErrorKind};
use super::params::{check_generic_params, Params};
use super::scan::{is_token, is_token_char, offset_in, parse_delta, trim_lws};

/// The Event header: `event-type *( ;event-param )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event type as written: a package and optional templates, e.g.
    /// `refer` or `presence.winfo`.
    pub event_type: &'a str,
    /// The `id` parameter (RFC 6665 §8.2.1; a REFER's CSeq, RFC 3515 §2.4.4).
    pub id: Option<&'a str>,
    /// The parameters, `;id=...` included (may be empty).
    pub params: &'a str,
}

fn bad(at: usize) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeaderValue, at)
}

/// Splits `token *( ;param )` into the token and the checked parameters.
pub(crate) fn split_token_params(s: &str) -> Result<(&str, &str), ParseError> {
    let t = trim_lws(s);
    let end = t
        .find(|c: char| c == ';' || c.is_ascii_whitespace())
        .unwrap_or(t.len());
    let head = t.get(..end).unwrap_or("");
    let params = t.get(end..).unwrap_or("");
    if head.is_empty() {
        return Err(bad(offset_in(s, t)));
    }
    check_generic_params(params)
        .map_err(|e| ParseError::new(e.kind, offset_in(s, params) + e.offset))?;
    Ok((head, params))
}

impl<'a> Event<'a> {
    /// Parses an Event value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Event<'a>, ParseError> {
        let (event_type, params) = split_token_params(s)?;
        // event-type = event-package *( "." event-template ), each a
        // token without dots (RFC 6665 §8.4).
        let ok = event_type
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(is_token_char));
        if !ok {
            return Err(bad(offset_in(s, event_type)));
        }
        let id = Params::new(params).get_token("id").flatten();
        Ok(Event {
            event_type,
            id,
            params,
        })
    }

    /// The event package, the event type's first part.
    pub fn package(&self) -> &'a str {
        self.event_type.split('.').next().unwrap_or(self.event_type)
    }
}

/// The state in a Subscription-State header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubState<'a> {
    /// `active`.
    Active,
    /// `pending`.
    Pending,
    /// `terminated`.
    Terminated,
    /// An extension state, as written.
    Other(&'a str),
}

/// The Subscription-State header (RFC 6665 §8.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// The state.
    pub state: SubState<'a>,
    /// The `expires` parameter in seconds.
    pub expires: Option<u32>,
    /// The `reason` parameter, e.g. `noresource`, `timeout`.
    pub reason: Option<&'a str>,
    /// The `retry-after` parameter in seconds.
    pub retry_after: Option<u32>,
    /// All parameters as written.
    pub params: &'a str,
}

impl<'a> SubscriptionState<'a> {
    /// Parses a Subscription-State value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<SubscriptionState<'a>, ParseError> {
        let (state_str, params) = split_token_params(s)?;
        if !is_token(state_str) {
            return Err(bad(offset_in(s, state_str)));
        }
        let state = if state_str.eq_ignore_ascii_case("active") {
            SubState::Active
        } else if state_str.eq_ignore_ascii_case("pending") {
            SubState::Pending
        } else if state_str.eq_ignore_ascii_case("terminated") {
            SubState::Terminated
        } else {
            SubState::Other(state_str)
        };
        let mut out = SubscriptionState {
            state,
            expires: None,
            reason: None,
            retry_after: None,
            params,
        };
        for (name, value) in Params::new(params) {
            let at = |e: ParseError| ParseError::new(e.kind, offset_in(s, name));
            let delta = || parse_delta(value.unwrap_or("")).map_err(at);
            if name.eq_ignore_ascii_case("expires") {
                out.expires = Some(delta()?);
            } else if name.eq_ignore_ascii_case("retry-after") {
                out.retry_after = Some(delta()?);
            } else if name.eq_ignore_ascii_case("reason") {
                out.reason = Some(
                    value
                        .filter(|v| is_token(v))
                        .ok_or(bad(offset_in(s, name)))?,
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_and_state() {
        let e = Event::parse("refer;id=93809824").unwrap();
        assert_eq!((e.package(), e.id), ("refer", Some("93809824")));
        let p = Event::parse("presence.winfo").unwrap();
        assert_eq!(
            (p.package(), p.event_type, p.id),
            ("presence", "presence.winfo", None)
        );
        assert!(Event::parse("a..b").is_err());
        assert!(Event::parse("").is_err());
        let s = SubscriptionState::parse("terminated;reason=noresource;retry-after=30").unwrap();
        assert_eq!(s.state, SubState::Terminated);
        assert_eq!(
            (s.reason, s.retry_after, s.expires),
            (Some("noresource"), Some(30), None)
        );
        let a = SubscriptionState::parse("active ;expires=60").unwrap();
        assert_eq!((a.state, a.expires), (SubState::Active, Some(60)));
        assert!(SubscriptionState::parse("active;expires=x").is_err());
        assert!(SubscriptionState::parse("active;;").is_err());
    }
}
