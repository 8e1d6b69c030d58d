//! Typed accessors for the headers beyond the dialog core: each reads the
//! header section on demand, starting at the line the parse pass indexed.
//! Errors carry offsets into the parsed input.

use super::addr::NameAddr;
use super::auth::{Challenge, Credentials};
use super::contact::{ContactIter, Contacts};
use super::date::SipDate;
use super::error::{ParseError, ParseErrorKind};
use super::event::{Event, SubscriptionState};
use super::refer::{parse_refer_sub, ReferTo, Replaces};
use super::reliable::{parse_rseq, RAck};
use super::retry_after::RetryAfter;
use super::scan::{offset_in, parse_delta};
use super::session_timer::{parse_delta_params, SessionExpires};
use super::tokens::TokenList;
use super::{HeaderName, HeaderValues, Message};

/// Where a header section lies in the input, to turn offsets relative to a
/// header value into offsets in the input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    pub(crate) section: &'a str,
    pub(crate) offset: usize,
}

impl Origin<'_> {
    /// The input offset of `value`, a piece of the header section.
    pub(crate) fn of(&self, value: &str) -> usize {
        self.offset + offset_in(self.section, value)
    }

    /// `e`, found at `e.offset` inside `value`, moved to input offsets.
    pub(crate) fn error(&self, value: &str, e: ParseError) -> ParseError {
        ParseError::new(e.kind, self.of(value) + e.offset)
    }
}

/// Iterates name-addr values of one header (Route, Record-Route) across
/// lines and list elements.
#[derive(Clone, Debug)]
pub struct NameAddrs<'a> {
    values: HeaderValues<'a, 'static>,
    origin: Origin<'a>,
}

impl<'a> Iterator for NameAddrs<'a> {
    type Item = Result<NameAddr<'a>, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        let v = self.values.next()?;
        Some(NameAddr::parse(v).map_err(|e| self.origin.error(v, e)))
    }
}

impl<'a> Message<'a> {
    pub(crate) fn origin(&self) -> Origin<'a> {
        Origin {
            section: self.headers,
            offset: self.headers_offset,
        }
    }

    /// Parses the first `name` header with `f`, errors moved to input offsets.
    fn typed<T>(
        &self,
        name: HeaderName<'static>,
        f: impl FnOnce(&'a str) -> Result<T, ParseError>,
    ) -> Option<Result<T, ParseError>> {
        let v = self.header(name)?;
        Some(f(v).map_err(|e| self.origin().error(v, e)))
    }

    fn values(&self, name: HeaderName<'static>) -> HeaderValues<'a, 'static> {
        self.header_values(name)
    }

    /// Every Contact (RFC 3261 §20.10): `None` without a Contact header,
    /// [`Contacts::Wildcard`] for a lone `*`, an error when `*` shares the
    /// header with other values.
    pub fn contacts(&self) -> Option<Result<Contacts<'a>, ParseError>> {
        let mut values = self.values(HeaderName::Contact);
        let first = values.next()?;
        let origin = self.origin();
        if let Some(star) = self.values(HeaderName::Contact).find(|v| *v == "*") {
            // RFC 3261 §10.2.2: the wildcard stands alone.
            return Some(if first == "*" && values.next().is_none() {
                Ok(Contacts::Wildcard)
            } else {
                Err(origin.error(star, ParseError::new(ParseErrorKind::BadHeaderValue, 0)))
            });
        }
        Some(Ok(Contacts::List(ContactIter {
            values: self.values(HeaderName::Contact),
            origin,
        })))
    }

    /// Content-Length (RFC 3261 §20.14).
    pub fn content_length(&self) -> Option<Result<u32, ParseError>> {
        self.typed(HeaderName::ContentLength, parse_delta)
    }

    /// Every Route, topmost first (RFC 3261 §20.34).
    pub fn routes(&self) -> NameAddrs<'a> {
        NameAddrs {
            values: self.values(HeaderName::Route),
            origin: self.origin(),
        }
    }

    /// Every Record-Route, topmost first (RFC 3261 §20.30).
    pub fn record_routes(&self) -> NameAddrs<'a> {
        NameAddrs {
            values: self.values(HeaderName::RecordRoute),
            origin: self.origin(),
        }
    }

    /// Expires in seconds (RFC 3261 §20.19).
    pub fn expires(&self) -> Option<Result<u32, ParseError>> {
        self.typed(HeaderName::Expires, parse_delta)
    }

    /// Min-Expires in seconds (RFC 3261 §20.23).
    pub fn min_expires(&self) -> Option<Result<u32, ParseError>> {
        self.typed(HeaderName::MinExpires, parse_delta)
    }

    fn tokens(&self, name: HeaderName<'static>) -> Option<Result<TokenList<'a>, ParseError>> {
        self.header(name)?;
        Some(TokenList::checked(self.values(name), self.origin()))
    }

    /// The methods in Allow (RFC 3261 §20.5).
    pub fn allow(&self) -> Option<Result<TokenList<'a>, ParseError>> {
        self.tokens(HeaderName::Allow)
    }

    /// The option tags in Supported (RFC 3261 §20.37).
    pub fn supported(&self) -> Option<Result<TokenList<'a>, ParseError>> {
        self.tokens(HeaderName::Supported)
    }

    /// The option tags in Require (RFC 3261 §20.32).
    pub fn require(&self) -> Option<Result<TokenList<'a>, ParseError>> {
        self.tokens(HeaderName::Require)
    }

    /// The option tags in Proxy-Require (RFC 3261 §20.29).
    pub fn proxy_require(&self) -> Option<Result<TokenList<'a>, ParseError>> {
        self.tokens(HeaderName::ProxyRequire)
    }

    /// The option tags in Unsupported (RFC 3261 §20.40).
    pub fn unsupported(&self) -> Option<Result<TokenList<'a>, ParseError>> {
        self.tokens(HeaderName::Unsupported)
    }

    /// Event (RFC 6665 §8.2.1).
    pub fn event(&self) -> Option<Result<Event<'a>, ParseError>> {
        self.typed(HeaderName::Event, Event::parse)
    }

    /// Subscription-State (RFC 6665 §8.2.3).
    pub fn subscription_state(&self) -> Option<Result<SubscriptionState<'a>, ParseError>> {
        self.typed(HeaderName::SubscriptionState, SubscriptionState::parse)
    }

    /// Refer-To (RFC 3515 §2.1).
    pub fn refer_to(&self) -> Option<Result<ReferTo<'a>, ParseError>> {
        self.typed(HeaderName::ReferTo, ReferTo::parse)
    }

    /// Referred-By (RFC 3892 §3); its `cid` parameter is in the params.
    pub fn referred_by(&self) -> Option<Result<NameAddr<'a>, ParseError>> {
        self.typed(HeaderName::ReferredBy, NameAddr::parse)
    }

    /// Replaces (RFC 3891 §6.1).
    pub fn replaces(&self) -> Option<Result<Replaces<'a>, ParseError>> {
        self.typed(HeaderName::Replaces, Replaces::parse)
    }

    /// Refer-Sub (RFC 4488 §2.1): `false` asks for no implicit subscription.
    pub fn refer_sub(&self) -> Option<Result<bool, ParseError>> {
        self.typed(HeaderName::ReferSub, parse_refer_sub)
    }

    /// The first WWW-Authenticate challenge (RFC 3261 §20.44).
    pub fn www_authenticate(&self) -> Option<Result<Challenge<'a>, ParseError>> {
        self.typed(HeaderName::WwwAuthenticate, Challenge::parse)
    }

    /// The first Proxy-Authenticate challenge (RFC 3261 §20.27).
    pub fn proxy_authenticate(&self) -> Option<Result<Challenge<'a>, ParseError>> {
        self.typed(HeaderName::ProxyAuthenticate, Challenge::parse)
    }

    /// Every challenge of `name` (WWW-Authenticate or Proxy-Authenticate),
    /// one per header line.
    pub fn challenges(
        &self,
        name: HeaderName<'static>,
    ) -> impl Iterator<Item = Result<Challenge<'a>, ParseError>> + 'a {
        let origin = self.origin();
        self.values(name)
            .map(move |v| Challenge::parse(v).map_err(|e| origin.error(v, e)))
    }

    /// Authorization credentials (RFC 3261 §20.7).
    pub fn authorization(&self) -> Option<Result<Credentials<'a>, ParseError>> {
        self.typed(HeaderName::Authorization, Credentials::parse)
    }

    /// Proxy-Authorization credentials (RFC 3261 §20.28).
    pub fn proxy_authorization(&self) -> Option<Result<Credentials<'a>, ParseError>> {
        self.typed(HeaderName::ProxyAuthorization, Credentials::parse)
    }

    /// RSeq (RFC 3262 §7.1).
    pub fn rseq(&self) -> Option<Result<u32, ParseError>> {
        self.typed(HeaderName::RSeq, parse_rseq)
    }

    /// RAck (RFC 3262 §7.2).
    pub fn rack(&self) -> Option<Result<RAck<'a>, ParseError>> {
        self.typed(HeaderName::RAck, RAck::parse)
    }

    /// Session-Expires (RFC 4028 §4).
    pub fn session_expires(&self) -> Option<Result<SessionExpires<'a>, ParseError>> {
        self.typed(HeaderName::SessionExpires, SessionExpires::parse)
    }

    /// Min-SE in seconds (RFC 4028 §5).
    pub fn min_se(&self) -> Option<Result<u32, ParseError>> {
        self.typed(HeaderName::MinSe, |v| parse_delta_params(v).map(|(d, _)| d))
    }

    /// Retry-After (RFC 3261 §20.33).
    pub fn retry_after(&self) -> Option<Result<RetryAfter<'a>, ParseError>> {
        self.typed(HeaderName::RetryAfter, RetryAfter::parse)
    }

    /// Date (RFC 3261 §20.17).
    pub fn date(&self) -> Option<Result<SipDate, ParseError>> {
        self.typed(HeaderName::Date, SipDate::parse)
    }
}
