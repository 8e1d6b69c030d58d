//! Authentication headers: WWW-Authenticate and Proxy-Authenticate
//! challenges, Authorization and Proxy-Authorization credentials
//! (RFC 3261 §20.7, §20.27, §20.28, §20.44, §22.4, §25.1; RFC 2617 §3.2).

use super::error::{ParseError, ParseErrorKind};
use super::params::unquote;
use super::scan::{
    is_token_char, offset_in, quoted_string_len, run_end, skip_lws, split_outside, trim_lws,
};

fn bad(at: usize) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeaderValue, at)
}

/// Iterates the comma-separated `name=value` pairs of a challenge or
/// credentials. Values are yielded as written (quoted strings keep their
/// quotes); [`unquote`] removes them.
#[derive(Clone, Debug)]
pub struct AuthParams<'a> {
    rest: Option<&'a str>,
}

impl<'a> AuthParams<'a> {
    /// The pairs of an already checked parameter list.
    pub fn new(s: &'a str) -> Self {
        AuthParams { rest: Some(s) }
    }

    /// The value of parameter `name` (case-insensitive), quotes removed;
    /// quoted-pair escapes stay as written.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.clone()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| unquote(v))
    }
}

impl<'a> Iterator for AuthParams<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.rest?;
            let (item, rest) = split_outside(s, b',');
            self.rest = rest;
            let item = trim_lws(item);
            if item.is_empty() {
                continue;
            }
            return Some(match split_outside(item, b'=') {
                (n, Some(v)) => (trim_lws(n), trim_lws(v)),
                (n, None) => (n, ""),
            });
        }
    }
}

/// Checks `auth-scheme LWS auth-param *(COMMA auth-param)` with auth-param =
/// token EQUAL ( token / quoted-string ); returns (scheme, params).
fn split_scheme(s: &str) -> Result<(&str, &str), ParseError> {
    let b = s.as_bytes();
    let start = skip_lws(b, 0);
    let scheme_end = run_end(b, start, is_token_char);
    if scheme_end == start {
        return Err(bad(start));
    }
    let params_start = skip_lws(b, scheme_end);
    if params_start == scheme_end || params_start >= b.len() {
        return Err(bad(scheme_end));
    }
    let mut i = params_start;
    loop {
        let name_end = run_end(b, i, is_token_char);
        if name_end == i {
            return Err(bad(i));
        }
        i = skip_lws(b, name_end);
        if b.get(i) != Some(&b'=') {
            return Err(bad(i));
        }
        i = skip_lws(b, i + 1);
        if b.get(i) == Some(&b'"') {
            i += quoted_string_len(b.get(i..).unwrap_or(&[])).map_err(|k| ParseError::new(k, i))?;
        } else {
            let end = run_end(b, i, is_token_char);
            if end == i {
                return Err(bad(i));
            }
            i = end;
        }
        i = skip_lws(b, i);
        match b.get(i) {
            None => break,
            Some(b',') => i = skip_lws(b, i + 1),
            Some(_) => return Err(bad(i)),
        }
    }
    Ok((
        s.get(start..scheme_end).unwrap_or(""),
        trim_lws(s.get(params_start..).unwrap_or("")),
    ))
}

/// A challenge from WWW-Authenticate or Proxy-Authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The auth scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The parameters as written.
    pub params: &'a str,
}

impl<'a> Challenge<'a> {
    /// Parses a challenge. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Challenge<'a>, ParseError> {
        let (scheme, params) = split_scheme(s)?;
        let c = Challenge { scheme, params };
        if c.is_digest() {
            c.check_digest()
                .map_err(|e| ParseError::new(e.kind, offset_in(s, params) + e.offset))?;
        }
        Ok(c)
    }

    /// The parameters.
    pub fn param_list(&self) -> AuthParams<'a> {
        AuthParams::new(self.params)
    }

    /// Whether the scheme is Digest (case-insensitive, RFC 2617 §1.2).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    fn check_digest(&self) -> Result<(), ParseError> {
        for (name, value) in self.param_list() {
            let at = offset_in(self.params, name);
            // RFC 3261 §25.1: realm, domain, nonce, opaque and qop-options
            // are quoted strings; stale is "true" or "false".
            let quoted = ["realm", "domain", "nonce", "opaque", "qop"]
                .iter()
                .any(|q| name.eq_ignore_ascii_case(q));
            if quoted && !value.starts_with('"') {
                return Err(bad(at));
            }
            if name.eq_ignore_ascii_case("stale")
                && !(value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"))
            {
                return Err(bad(at));
            }
        }
        Ok(())
    }

    /// The Digest fields, `None` for another scheme.
    pub fn digest(&self) -> Option<DigestChallenge<'a>> {
        if !self.is_digest() {
            return None;
        }
        let p = self.param_list();
        Some(DigestChallenge {
            realm: p.get("realm"),
            domain: p.get("domain"),
            nonce: p.get("nonce"),
            opaque: p.get("opaque"),
            algorithm: p.get("algorithm"),
            qop: p.get("qop"),
            stale: p
                .get("stale")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }
}

/// The fields of a Digest challenge (RFC 3261 §25.1 digest-cln). Quoted
/// values come without their quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestChallenge<'a> {
    /// `realm`.
    pub realm: Option<&'a str>,
    /// `domain`.
    pub domain: Option<&'a str>,
    /// `nonce`.
    pub nonce: Option<&'a str>,
    /// `opaque`, to echo in the credentials.
    pub opaque: Option<&'a str>,
    /// `algorithm`, e.g. `MD5` (absent means MD5).
    pub algorithm: Option<&'a str>,
    /// `qop` options as written inside the quotes, e.g. `auth,auth-int`.
    pub qop: Option<&'a str>,
    /// `stale=true`: the nonce expired, the credentials were right.
    pub stale: bool,
}

impl<'a> DigestChallenge<'a> {
    /// The qop options, one token each.
    pub fn qop_options(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.qop
            .unwrap_or("")
            .split(',')
            .map(trim_lws)
            .filter(|s| !s.is_empty())
    }

    /// Whether `qop` offers `option` (e.g. `auth`).
    pub fn offers_qop(&self, option: &str) -> bool {
        self.qop_options().any(|o| o.eq_ignore_ascii_case(option))
    }
}

/// Credentials from Authorization or Proxy-Authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The auth scheme, e.g. `Digest`.
    pub scheme: &'a str,
    /// The parameters as written.
    pub params: &'a str,
}

impl<'a> Credentials<'a> {
    /// Parses credentials. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Credentials<'a>, ParseError> {
        let (scheme, params) = split_scheme(s)?;
        let c = Credentials { scheme, params };
        if let Some(d) = c.digest() {
            for (name, value) in c.param_list() {
                let at = bad(offset_in(s, name));
                if name.eq_ignore_ascii_case("nc") && d.nc.is_none() {
                    // RFC 3261 §25.1 nonce-count = "nc" EQUAL 8LHEX.
                    return Err(at);
                }
                if name.eq_ignore_ascii_case("response") {
                    // request-digest = LDQUOT 32LHEX RDQUOT (RFC 3261 §25.1,
                    // RFC 2617 §3.2.2); 64 for SHA-256 (RFC 8760 §2.5).
                    let digest_len = match d.algorithm {
                        Some(a)
                            if a.len() >= 7
                                && a.get(..7)
                                    .is_some_and(|p| p.eq_ignore_ascii_case("SHA-256")) =>
                        {
                            64
                        }
                        Some(a)
                            if a.len() >= 11
                                && a.get(..11)
                                    .is_some_and(|p| p.eq_ignore_ascii_case("SHA-512-256")) =>
                        {
                            64
                        }
                        _ => 32,
                    };
                    let hex = unquote(value);
                    let lhex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                    if !value.starts_with('"') || hex.len() != digest_len || !hex.bytes().all(lhex)
                    {
                        return Err(at);
                    }
                }
            }
        }
        Ok(c)
    }

    /// The parameters.
    pub fn param_list(&self) -> AuthParams<'a> {
        AuthParams::new(self.params)
    }

    /// The Digest fields, `None` for another scheme.
    pub fn digest(&self) -> Option<DigestCredentials<'a>> {
        if !self.scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let p = self.param_list();
        Some(DigestCredentials {
            username: p.get("username"),
            realm: p.get("realm"),
            nonce: p.get("nonce"),
            uri: p.get("uri"),
            response: p.get("response"),
            algorithm: p.get("algorithm"),
            cnonce: p.get("cnonce"),
            opaque: p.get("opaque"),
            qop: p.get("qop"),
            nc: p.get("nc").and_then(|v| {
                if v.len() == 8 {
                    u32::from_str_radix(v, 16).ok()
                } else {
                    None
                }
            }),
        })
    }
}

/// The fields of Digest credentials (RFC 3261 §25.1 digest-response).
/// Quoted values come without their quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestCredentials<'a> {
    /// `username`.
    pub username: Option<&'a str>,
    /// `realm`.
    pub realm: Option<&'a str>,
    /// `nonce`.
    pub nonce: Option<&'a str>,
    /// `uri` (the digest-uri).
    pub uri: Option<&'a str>,
    /// `response`, the request digest in hex.
    pub response: Option<&'a str>,
    /// `algorithm`.
    pub algorithm: Option<&'a str>,
    /// `cnonce`.
    pub cnonce: Option<&'a str>,
    /// `opaque`.
    pub opaque: Option<&'a str>,
    /// `qop`, the chosen quality of protection.
    pub qop: Option<&'a str>,
    /// `nc`, the nonce count (8 hex digits on the wire).
    pub nc: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_challenge() {
        let c = Challenge::parse(
            "Digest realm=\"atlanta.example.com\", qop=\"auth, auth-int\",\r\n nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=FALSE, algorithm=MD5",
        )
        .unwrap();
        let d = c.digest().unwrap();
        assert_eq!(d.realm, Some("atlanta.example.com"));
        assert_eq!(d.nonce, Some("ea9c8e88df84f1cec4341ae6cbe5a359"));
        assert_eq!(
            (d.opaque, d.algorithm, d.stale),
            (Some(""), Some("MD5"), false)
        );
        assert!(d.offers_qop("auth-int") && d.offers_qop("auth") && !d.offers_qop("x"));
        assert!(Challenge::parse("Digest").is_err());
        assert!(Challenge::parse("Digest realm=\"x").is_err());
        assert!(Challenge::parse("Digest realm=x").is_err());
        assert!(Challenge::parse("Digest realm=\"x\" nonce=\"y\"").is_err());
        let other = Challenge::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert!(other.digest().is_none());
        assert_eq!(other.param_list().get("OPAQUE-DATA"), Some("here"));
    }

    #[test]
    fn digest_credentials() {
        let c = Credentials::parse(
            "Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b\", uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        let d = c.digest().unwrap();
        assert_eq!(d.username, Some("bob"));
        assert_eq!(d.uri, Some("sip:bob@biloxi.com"));
        assert_eq!((d.qop, d.nc), (Some("auth"), Some(1)));
        assert_eq!(d.response, Some("6629fae49393a05397450978507c4ef1"));
        assert!(Credentials::parse("Digest nc=1").is_err());
        assert!(Credentials::parse("Digest response=\"42ce3cef44b22f50c6a6071bc8\"").is_err());
        assert!(Credentials::parse("Digest response=6629fae49393a05397450978507c4ef1").is_err());
        assert!(Credentials::parse("Digest username=\"a\",").is_err());
    }
}
