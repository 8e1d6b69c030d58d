//! Token-list headers: Allow, Supported, Require, Proxy-Require,
//! Unsupported (RFC 3261 §20.5, §20.32, §20.37, §20.29, §20.40).

use super::error::{ParseError, ParseErrorKind};
use super::scan::{eq_ic, is_token};
use super::{HeaderValues, Method, Origin};

/// The tokens of one list header, across all its lines. Obtained already
/// checked, so iteration yields plain tokens.
#[derive(Clone, Debug)]
pub struct TokenList<'a> {
    pub(crate) values: HeaderValues<'a, 'static>,
}

impl<'a> TokenList<'a> {
    /// Checks every element of `values` and returns the list.
    pub(crate) fn checked(
        values: HeaderValues<'a, 'static>,
        origin: Origin<'a>,
    ) -> Result<TokenList<'a>, ParseError> {
        for v in values.clone() {
            if !is_token(v) {
                return Err(origin.error(v, ParseError::new(ParseErrorKind::BadHeaderValue, 0)));
            }
        }
        Ok(TokenList { values })
    }

    /// Whether the list holds `token`, ignoring ASCII case (option tags,
    /// RFC 3261 §19.2).
    pub fn contains(&self, token: &str) -> bool {
        self.clone().any(|t| eq_ic(t, token))
    }

    /// Whether the list holds `method`, compared case-sensitively
    /// (RFC 3261 §7.1: methods are case-sensitive).
    pub fn contains_method(&self, method: Method<'_>) -> bool {
        self.clone().any(|t| t == method.as_str())
    }
}

impl<'a> Iterator for TokenList<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        self.values.next()
    }
}
