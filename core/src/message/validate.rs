//! Strict judgement of a parsed message: what a standards-conforming user
//! agent accepts (RFC 3261 §8.2, §25; the RFC 4475 torture tests).
//!
//! Parsing frames a message and stays lenient so that a UA can still
//! answer a flawed request; [`Message::validate`] decides whether the
//! message is well formed at all.

use super::addr::{split_addr, AddrParts};
use super::auth::{Challenge, Credentials};
use super::contact::Contact;
use super::date::SipDate;
use super::error::{ParseError, ParseErrorKind};
use super::event::{Event, SubscriptionState};
use super::params::{check_generic_params, Params};
use super::refer::{parse_refer_sub, Replaces};
use super::reliable::{parse_rseq, RAck};
use super::retry_after::RetryAfter;
use super::scan::{
    is_call_id, is_lws, is_token, is_token_char, offset_in, parse_delta, quoted_string_len,
    run_end, skip_lws, trim_lws, CommaList,
};
use super::session_timer::{parse_delta_params, SessionExpires};
use super::uri::{Host, Scheme, Uri};
use super::{CSeq, HeaderName, Message, StartLine, Via};

fn bad(at: usize) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeaderValue, at)
}

/// Headers that may appear at most once (RFC 3261 §7.3.1: only list
/// headers may repeat; RFC 4475 §3.3.8).
const SINGLE: [HeaderName<'static>; 22] = [
    HeaderName::To,
    HeaderName::From,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::Expires,
    HeaderName::MinExpires,
    HeaderName::Event,
    HeaderName::SubscriptionState,
    HeaderName::ReferTo,
    HeaderName::ReferredBy,
    HeaderName::Replaces,
    HeaderName::ReferSub,
    HeaderName::RSeq,
    HeaderName::RAck,
    HeaderName::SessionExpires,
    HeaderName::MinSe,
    HeaderName::RetryAfter,
    HeaderName::Date,
    HeaderName::Timestamp,
];

impl<'a> Message<'a> {
    /// The input offset of `piece`, a slice of the parsed input.
    fn input_offset(&self, piece: &str) -> usize {
        let base = self.headers.as_ptr() as usize;
        let at = piece.as_ptr() as usize;
        match at.checked_sub(base) {
            Some(d) => self.headers_offset + d,
            None => self.headers_offset.saturating_sub(base - at),
        }
    }

    /// Checks the message strictly: SIP/2.0, a well-formed Request-URI
    /// without headers, the mandatory headers present once, every known
    /// header's value in its grammar and range, and the CSeq method equal
    /// to the request method. The error tells what and where.
    pub fn validate(&self) -> Result<(), ParseError> {
        let origin = self.origin();
        match &self.start {
            StartLine::Request(r) => {
                if !self.is_sip_2_0() {
                    // RFC 3261 §8.2.2... a UAS answers 505 (RFC 4475 §3.1.2.16).
                    return Err(ParseError::new(
                        ParseErrorKind::UnsupportedVersion,
                        self.input_offset(r.version),
                    ));
                }
                check_request_uri(r.uri)
                    .map_err(|e| ParseError::new(e.kind, self.input_offset(r.uri) + e.offset))?;
            }
            StartLine::Response(s) => {
                if !self.is_sip_2_0() {
                    return Err(ParseError::new(
                        ParseErrorKind::UnsupportedVersion,
                        self.input_offset(s.version),
                    ));
                }
            }
        }

        let mut seen = [0u8; SINGLE.len()];
        for field in self.headers() {
            let name = field.header_name();
            if let Some(i) = SINGLE.iter().position(|n| *n == name) {
                if let Some(count) = seen.get_mut(i) {
                    if *count > 0 {
                        return Err(ParseError::new(
                            ParseErrorKind::DuplicateHeader,
                            self.input_offset(field.name),
                        ));
                    }
                    *count = 1;
                }
            }
            check_header(name, field.value).map_err(|e| origin.error(field.value, e))?;
        }

        let present = |n: HeaderName<'static>| {
            SINGLE
                .iter()
                .position(|s| *s == n)
                .and_then(|i| seen.get(i))
                .is_some_and(|c| *c > 0)
        };
        let end_of_headers = self.headers_offset + self.headers.len();
        let missing = ParseError::new(ParseErrorKind::MissingHeader, end_of_headers);
        // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via;
        // responses copy all but Max-Forwards (§8.2.6.2).
        for n in [
            HeaderName::To,
            HeaderName::From,
            HeaderName::CSeq,
            HeaderName::CallId,
        ] {
            if !present(n) {
                return Err(missing);
            }
        }
        let top_via = self.top_via().ok_or(missing)?;
        if let (Some(method), Ok(via)) = (self.method(), top_via) {
            // An RFC 2543 client (no magic cookie in its branch, RFC 3261
            // §8.1.1.7) had no duty to send Max-Forwards (RFC 4475 §3.4.1).
            if via.has_rfc3261_branch() && !present(HeaderName::MaxForwards) {
                return Err(missing);
            }
            if let Some(Ok(cseq)) = self.cseq() {
                // RFC 3261 §8.1.1.5 / RFC 4475 §3.1.2.17-18.
                if cseq.method != method {
                    let at = self
                        .header(HeaderName::CSeq)
                        .map_or(0, |v| self.input_offset(v));
                    return Err(ParseError::new(ParseErrorKind::MethodMismatch, at));
                }
            }
        }
        Ok(())
    }
}

/// Request-URI = SIP-URI / SIPS-URI / absoluteURI (RFC 3261 §25.1). A SIP
/// Request-URI carries no headers (RFC 3261 §19.1.5, RFC 4475 §3.1.2.11).
fn check_request_uri(s: &str) -> Result<(), ParseError> {
    match Uri::parse(s) {
        Ok(u) if u.scheme != Scheme::Tel && !u.headers.is_empty() => Err(ParseError::new(
            ParseErrorKind::BadRequestUri,
            s.find('?').unwrap_or(0),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind == ParseErrorKind::UnsupportedScheme => Ok(()),
        Err(e) => Err(ParseError::new(ParseErrorKind::BadRequestUri, e.offset)),
    }
}

/// A name-addr or addr-spec whose URI may have any scheme: a UA must read
/// the message to answer it (RFC 4475 §3.3.4).
fn check_addr(s: &str) -> Result<AddrParts<'_>, ParseError> {
    let parts = split_addr(s)?;
    match Uri::parse(parts.uri) {
        Ok(_) => Ok(parts),
        Err(e) if e.kind == ParseErrorKind::UnsupportedScheme => Ok(parts),
        Err(e) => Err(ParseError::new(e.kind, parts.uri_offset + e.offset)),
    }
}

fn check_tag(s: &str, parts: &AddrParts<'_>) -> Result<(), ParseError> {
    match Params::new(parts.params).find(|(n, _)| n.eq_ignore_ascii_case("tag")) {
        Some((_, Some(t))) if is_token(t) => Ok(()),
        Some((n, _)) => Err(bad(offset_in(s, n))),
        None => Ok(()),
    }
}

fn check_header(name: HeaderName<'_>, v: &str) -> Result<(), ParseError> {
    let at = |piece: &str| offset_in(v, piece);
    let each = |f: &dyn Fn(&str) -> Result<(), ParseError>| -> Result<(), ParseError> {
        for item in CommaList::new(v) {
            f(item).map_err(|e| ParseError::new(e.kind, at(item) + e.offset))?;
        }
        Ok(())
    };
    match name {
        HeaderName::Via => each(&|item| check_via(item)),
        HeaderName::From | HeaderName::To => {
            let parts = check_addr(v)?;
            check_tag(v, &parts)
        }
        HeaderName::Contact => {
            if trim_lws(v) == "*" {
                return Ok(());
            }
            each(&|item| {
                if item == "*" {
                    // RFC 3261 §10.2.2: `*` stands alone.
                    return Err(bad(0));
                }
                check_addr(item)?;
                // expires and q ranges (RFC 4475 §3.1.2.4).
                match Contact::parse(item) {
                    Err(e) if e.kind == ParseErrorKind::UnsupportedScheme => Ok(()),
                    r => r.map(|_| ()),
                }
            })
        }
        HeaderName::Route | HeaderName::RecordRoute => each(&|item| {
            // route-param and rec-route are name-addrs (RFC 3261 §25.1).
            if check_addr(item)?.angle {
                Ok(())
            } else {
                Err(bad(0))
            }
        }),
        HeaderName::ReferTo | HeaderName::ReferredBy => check_addr(v).map(|_| ()),
        HeaderName::CallId => {
            if is_call_id(v) {
                Ok(())
            } else {
                Err(bad(0))
            }
        }
        HeaderName::CSeq => CSeq::parse(v).map(|_| ()),
        HeaderName::MaxForwards => {
            // RFC 3261 §20.22: 0-255 (RFC 4475 §3.1.2.4).
            let n = parse_delta(v)?;
            if n > 255 {
                Err(ParseError::new(ParseErrorKind::Overflow, 0))
            } else {
                Ok(())
            }
        }
        HeaderName::ContentLength | HeaderName::Expires | HeaderName::MinExpires => {
            parse_delta(v).map(|_| ())
        }
        HeaderName::ContentType => check_media_type(v),
        HeaderName::Allow | HeaderName::Supported | HeaderName::Unsupported => {
            each(&|item| if is_token(item) { Ok(()) } else { Err(bad(0)) })
        }
        HeaderName::Require | HeaderName::ProxyRequire => {
            // At least one option tag (RFC 3261 §25.1 Require).
            if CommaList::new(v).next().is_none() {
                return Err(bad(0));
            }
            each(&|item| if is_token(item) { Ok(()) } else { Err(bad(0)) })
        }
        HeaderName::Event => Event::parse(v).map(|_| ()),
        HeaderName::SubscriptionState => SubscriptionState::parse(v).map(|_| ()),
        HeaderName::Replaces => Replaces::parse(v).map(|_| ()),
        HeaderName::ReferSub => parse_refer_sub(v).map(|_| ()),
        HeaderName::WwwAuthenticate | HeaderName::ProxyAuthenticate => {
            Challenge::parse(v).map(|_| ())
        }
        HeaderName::Authorization | HeaderName::ProxyAuthorization => {
            Credentials::parse(v).map(|_| ())
        }
        HeaderName::RSeq => parse_rseq(v).map(|_| ()),
        HeaderName::RAck => RAck::parse(v).map(|_| ()),
        HeaderName::SessionExpires => SessionExpires::parse(v).map(|_| ()),
        HeaderName::MinSe => parse_delta_params(v).map(|_| ()),
        HeaderName::RetryAfter => RetryAfter::parse(v).map(|_| ()),
        HeaderName::Date => SipDate::parse(v).map(|_| ()),
        HeaderName::Timestamp => check_timestamp(v),
        HeaderName::Warning => each(&check_warning),
        _ => Ok(()),
    }
}

/// One Via value, its parameters checked strictly (RFC 3261 §20.42, §25.1
/// via-params; RFC 4475 §3.1.2.1).
fn check_via(item: &str) -> Result<(), ParseError> {
    let via = Via::parse(item)?;
    let p_off = offset_in(item, via.params);
    check_generic_params(via.params).map_err(|e| ParseError::new(e.kind, p_off + e.offset))?;
    for (name, value) in via.param_list() {
        let at = bad(offset_in(item, name));
        let ok = if name.eq_ignore_ascii_case("ttl") {
            value.and_then(|v| v.parse::<u8>().ok()).is_some()
        } else if name.eq_ignore_ascii_case("received") {
            value.is_some_and(|v| super::uri::parse_ip(v).is_some())
        } else if name.eq_ignore_ascii_case("maddr") {
            value.is_some_and(|v| Host::parse(v).is_some())
        } else if name.eq_ignore_ascii_case("rport") {
            value.is_none_or(|v| v.parse::<u16>().is_ok())
        } else if name.eq_ignore_ascii_case("branch") {
            value.is_some_and(is_token)
        } else {
            true
        };
        if !ok {
            return Err(at);
        }
    }
    Ok(())
}

/// media-type = m-type SLASH m-subtype *(SEMI m-parameter) (RFC 3261 §25.1).
fn check_media_type(v: &str) -> Result<(), ParseError> {
    let b = v.as_bytes();
    let start = skip_lws(b, 0);
    let type_end = run_end(b, start, is_token_char);
    let slash = skip_lws(b, type_end);
    if type_end == start || b.get(slash) != Some(&b'/') {
        return Err(bad(start));
    }
    let sub = skip_lws(b, slash + 1);
    let sub_end = run_end(b, sub, is_token_char);
    if sub_end == sub {
        return Err(bad(sub));
    }
    check_generic_params(v.get(sub_end..).unwrap_or(""))
        .map_err(|e| ParseError::new(e.kind, sub_end + e.offset))
}

/// Timestamp = 1*DIGIT [ "." *DIGIT ] [ LWS delay ] (RFC 3261 §20.38).
fn check_timestamp(v: &str) -> Result<(), ParseError> {
    let number = |s: &str| {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        !i.is_empty()
            && i.bytes().all(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_digit())
    };
    let mut parts = v
        .split(|c: char| c.is_ascii_whitespace())
        .filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(t), None, _) if number(t) => Ok(()),
        (Some(t), Some(d), None) if number(t) && (number(d) || d.starts_with('.')) => Ok(()),
        _ => Err(bad(0)),
    }
}

/// warning-value = warn-code SP warn-agent SP warn-text, warn-code =
/// 3DIGIT (RFC 3261 §20.43; RFC 4475 §3.1.2.5).
fn check_warning(item: &str) -> Result<(), ParseError> {
    let b = item.as_bytes();
    let code_end = run_end(b, 0, |c| c.is_ascii_digit());
    if code_end != 3 || b.get(3) != Some(&b' ') {
        return Err(bad(0));
    }
    let agent_end = run_end(b, 4, |c| !is_lws(c) && c != b'"');
    if agent_end == 4 || b.get(agent_end) != Some(&b' ') {
        return Err(bad(4));
    }
    let text = agent_end + 1;
    let len =
        quoted_string_len(b.get(text..).unwrap_or(&[])).map_err(|k| ParseError::new(k, text))?;
    if text + len == b.len() {
        Ok(())
    } else {
        Err(bad(text + len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(raw: &[u8]) -> Result<(), ParseErrorKind> {
        Message::parse_datagram(raw)
            .and_then(|m| m.validate())
            .map_err(|e| e.kind)
    }

    const BASE: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
Call-ID: c1@example.com\r\nCSeq: 1 OPTIONS\r\n";

    fn with(extra: &str) -> Result<(), ParseErrorKind> {
        let mut buf = [0u8; 1024];
        let text = [BASE, extra, "Content-Length: 0\r\n\r\n"];
        let mut n = 0;
        for t in text {
            buf[n..n + t.len()].copy_from_slice(t.as_bytes());
            n += t.len();
        }
        verdict(&buf[..n])
    }

    #[test]
    fn a_minimal_request_is_valid_and_each_flaw_is_caught() {
        assert_eq!(with(""), Ok(()));
        assert_eq!(with("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"), Ok(()));
        assert_eq!(with("Warning: 399 host.example.com \"hi\"\r\n"), Ok(()));
        assert_eq!(with("Timestamp: 54.2 0.3\r\n"), Ok(()));
        assert_eq!(
            with("Content-Type: application/sdp ; charset=utf-8\r\n"),
            Ok(())
        );
        let flaws = [
            (
                "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n",
                ParseErrorKind::BadHeaderValue,
            ),
            ("Max-Forwards: 5\r\n", ParseErrorKind::DuplicateHeader),
            ("Expires: 4294967296\r\n", ParseErrorKind::Overflow),
            (
                "Warning: 1812 overture \"x\"\r\n",
                ParseErrorKind::BadHeaderValue,
            ),
            (
                "Route: sip:p.example.com;lr\r\n",
                ParseErrorKind::BadHeaderValue,
            ),
            ("Contact: *, <sip:a@b>\r\n", ParseErrorKind::BadHeaderValue),
            ("Contact: <sip:a@b>;q=2\r\n", ParseErrorKind::BadHeaderValue),
            ("Require:\r\n", ParseErrorKind::BadHeaderValue),
            (
                "Via: SIP/2.0/UDP h;ttl=300\r\n",
                ParseErrorKind::BadHeaderValue,
            ),
            ("Content-Type: sdp\r\n", ParseErrorKind::BadHeaderValue),
        ];
        for (extra, kind) in flaws {
            assert_eq!(with(extra), Err(kind), "{extra}");
        }
    }

    #[test]
    fn start_line_and_mandatory_headers() {
        assert_eq!(
            verdict(b"OPTIONS sip:a@b SIP/2.1\r\n\r\n"),
            Err(ParseErrorKind::UnsupportedVersion)
        );
        assert_eq!(
            verdict(b"OPTIONS sip:a@b?Route=x SIP/2.0\r\n\r\n"),
            Err(ParseErrorKind::BadRequestUri)
        );
        assert_eq!(
            verdict(b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            Err(ParseErrorKind::MissingHeader)
        );
        let mismatch = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
Max-Forwards: 1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert_eq!(verdict(mismatch), Err(ParseErrorKind::MethodMismatch));
        let e = Message::parse_datagram(mismatch)
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(&mismatch[e.offset..e.offset + 9], b"1 OPTIONS");
    }
}
