//! The Via header (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).

use super::error::{ParseError, ParseErrorKind};
use super::params::{same_name, ParamSeen, Params};
use super::scan::byte_set;
use super::scan::{is_token, is_token_char, run_end, trim_lws};
use super::uri::{host_run, Host};

/// One Via value: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Clone, Copy, Eq)]
pub struct Via<'a> {
    /// The transport, e.g. `UDP`, `TCP`, `TLS`.
    pub transport: &'a str,
    /// The sent-by host.
    pub host: Host<'a>,
    /// The sent-by port, when written.
    pub port: Option<u16>,
    /// The parameters after sent-by (may be empty).
    pub params: &'a str,
    /// The whole value as written.
    pub raw: &'a str,
    /// Where the branch parameter stands in `params`, when the parse saw
    /// it: [`Via::branch`] then reads no parameter again.
    branch_seen: ParamSeen,
}

impl PartialEq for Via<'_> {
    fn eq(&self, other: &Self) -> bool {
        // `branch_seen` only remembers what `params` holds.
        self.transport == other.transport
            && self.host == other.host
            && self.port == other.port
            && self.params == other.params
            && self.raw == other.raw
    }
}

impl core::fmt::Debug for Via<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Via")
            .field("transport", &self.transport)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("params", &self.params)
            .field("raw", &self.raw)
            .finish()
    }
}

fn bad() -> ParseError {
    ParseError::new(ParseErrorKind::BadHeaderValue, 0)
}

impl<'a> Via<'a> {
    /// Parses one Via value (one element of the comma list).
    pub fn parse(s: &'a str) -> Result<Via<'a>, ParseError> {
        let s = trim_lws(s);
        match Self::parse_plain(s) {
            Some(via) if via.raw.len() == s.len() => Ok(via),
            _ => Self::parse_general(s),
        }
    }

    /// The first Via of a list (one Via header's value), when it has the
    /// plain shape [`Via::parse`] reads in one pass and ends the list or
    /// is followed by a comma: the element a [`CommaList`](super::CommaList)
    /// gives, read as `Via::parse` reads it.
    pub(crate) fn parse_first_plain(list: &'a str) -> Option<Via<'a>> {
        let list = trim_lws(list);
        let via = Self::parse_plain(list)?;
        matches!(list.as_bytes().get(via.raw.len()), None | Some(b',')).then_some(via)
    }

    /// The common shape at the start of `s`, in one pass: `SIP/2.0/`
    /// transport, one space, sent-by and `;`-parameters without white
    /// space, quotes, brackets or commas. The Via read ends (`raw`) where
    /// that shape does; `None` for other shapes, which
    /// [`Via::parse_general`] then reads. What this reads up to the end of
    /// `s`, that reads the same way.
    fn parse_plain(s: &'a str) -> Option<Via<'a>> {
        let b = s.as_bytes();
        if b.get(..8)? != b"SIP/2.0/" {
            return None;
        }
        let t_end = run_end(b, 8, is_token_char);
        if t_end == 8 || b.get(t_end) != Some(&b' ') {
            return None;
        }
        let transport = s.get(8..t_end)?;
        let by_start = t_end + 1;
        let (host, port, by_end) = if b.get(by_start) == Some(&b'[') {
            // An IPv6 reference: found by its own rules.
            let by_len = b.get(by_start..)?.iter().position(|&c| {
                !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'[' | b']'))
            });
            let by_end = by_len.map_or(b.len(), |n| by_start + n);
            let (host_str, port) = split_host_port_lws(s.get(by_start..by_end)?)?;
            (Host::parse(host_str)?, port, by_end)
        } else {
            let host_end = host_run(b, by_start);
            let host = Host::from_run(s.get(by_start..host_end)?)?;
            match b.get(host_end) {
                Some(b':') => {
                    let port_end = run_end(b, host_end + 1, |c| c.is_ascii_digit());
                    let digits = b.get(host_end + 1..port_end)?;
                    if digits.is_empty() || digits.len() > 5 {
                        return None;
                    }
                    let port = digits
                        .iter()
                        .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
                    (host, Some(u16::try_from(port).ok()?), port_end)
                }
                _ => (host, None, host_end),
            }
        };
        let (params_len, branch_seen) = plain_params_end(b.get(by_end..)?)?;
        let end = by_end + params_len;
        Some(Via {
            transport,
            host,
            port,
            params: s.get(by_end..end)?,
            raw: s.get(..end)?,
            branch_seen,
        })
    }

    /// Any Via value the grammar allows, white space included.
    fn parse_general(s: &'a str) -> Result<Via<'a>, ParseError> {
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport,
        // with LWS allowed around each slash (RFC 3261 §25.1 SLASH).
        let mut rest = s;
        let mut parts = [""; 3];
        for (i, part) in parts.iter_mut().enumerate() {
            rest = trim_lws(rest);
            let end = if i < 2 {
                rest.bytes().position(|b| b == b'/').ok_or(bad())?
            } else {
                rest.bytes()
                    .position(|b| b.is_ascii_whitespace())
                    .ok_or(bad())?
            };
            *part = trim_lws(rest.get(..end).ok_or(bad())?);
            rest = rest.get(end + usize::from(i < 2)..).ok_or(bad())?;
        }
        if !parts.iter().all(|p| is_token(p)) {
            return Err(bad());
        }
        let rest = trim_lws(rest);
        let (sent_by, params) = match rest.bytes().position(|b| b == b';') {
            Some(i) => (
                trim_lws(rest.get(..i).ok_or(bad())?),
                rest.get(i..).ok_or(bad())?,
            ),
            None => (rest, ""),
        };
        // Tolerate LWS around the colon in sent-by (RFC 4475 §3.1.1.1 wsinv).
        let (host_str, port) = split_host_port_lws(sent_by).ok_or(bad())?;
        let host = Host::parse(host_str).ok_or(bad())?;
        if Params::new(params).any(|(n, _)| !is_token(n)) {
            return Err(bad());
        }
        Ok(Via {
            transport: parts[2],
            host,
            port,
            params,
            raw: s,
            branch_seen: ParamSeen::Unread,
        })
    }

    /// The parameter list.
    pub fn param_list(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The branch parameter (RFC 3261 §8.1.1.7).
    pub fn branch(&self) -> Option<&'a str> {
        self.branch_seen.lookup(self.params, "branch")
    }

    /// The received parameter (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&'a str> {
        self.param_list().get_token("received").flatten()
    }

    /// The rport parameter (RFC 3581): `Some(None)` when requested but empty.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param_list()
            .get_token("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// The maddr parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param_list().get_token("maddr").flatten()
    }

    /// The ttl parameter (0-255).
    pub fn ttl(&self) -> Option<u8> {
        self.param_list().get_token("ttl").flatten()?.parse().ok()
    }

    /// Whether the branch carries the RFC 3261 magic cookie `z9hG4bK`
    /// (§8.1.1.7), so that transactions match on it.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }
}

byte_set!(
    /// The bytes a plain Via parameter value runs over: all but `;` and what
    /// ends a plain Via (`,`, `"`, `<` and white space).
    PLAIN_VALUE_BYTES = |b| !matches!(
        b,
        b';' | b',' | b'"' | b'<' | b' ' | b'\t' | b'\r' | b'\n'
    )
);

/// The end of the plain parameters at the start of `params`: `;`
/// elements without white space, quotes, brackets or commas, each
/// non-empty one with a `token` name before any `=`. `None` when an
/// element breaks those rules before its end. On the way, notes where
/// the first `branch` parameter stands, as [`Params::get_token`] finds it.
fn plain_params_end(params: &[u8]) -> Option<(usize, ParamSeen)> {
    // Bytes a value runs over: all but `;` and what ends a plain Via.
    let in_value = |c: u8| {
        PLAIN_VALUE_BYTES
            .get(usize::from(c))
            .copied()
            .unwrap_or(false)
    };
    let mut seen = ParamSeen::Absent;
    let mut at = 0;
    while params.get(at) == Some(&b';') {
        let name_start = at + 1;
        let name_end = run_end(params, name_start, is_token_char);
        let named = seen == ParamSeen::Absent
            && params
                .get(name_start..name_end)
                .is_some_and(|n| same_name(n, b"branch"));
        at = match params.get(name_end) {
            Some(b'=') if name_end > name_start => {
                let value_end = run_end(params, name_end + 1, in_value);
                if named {
                    seen = ParamSeen::value(name_end + 1, value_end);
                }
                value_end
            }
            Some(b'=') => return None,
            _ => {
                if named {
                    seen = ParamSeen::Bare;
                }
                name_end
            }
        };
    }
    Some((at, seen))
}

/// sent-by = host [ COLON port ], where COLON allows LWS on both sides
/// (RFC 3261 §25.1).
fn split_host_port_lws(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        (s.get(..=end)?, trim_lws(s.get(end + 1..)?))
    } else {
        match s.find(':') {
            Some(i) => (trim_lws(s.get(..i)?), s.get(i..)?),
            None => (s, ""),
        }
    };
    if port.is_empty() {
        return Some((host, None));
    }
    let port = trim_lws(port.strip_prefix(':')?);
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((host, Some(port.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_fields() {
        let v = Via::parse("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;received=10.0.0.1;rport=5061;ttl=16;maddr=224.2.0.1").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, Host::V4([192, 0, 2, 1].into()));
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK776"));
        assert!(v.has_rfc3261_branch());
        assert_eq!(v.received(), Some("10.0.0.1"));
        assert_eq!(v.rport(), Some(Some(5061)));
        assert_eq!(v.ttl(), Some(16));
        assert_eq!(v.maddr(), Some("224.2.0.1"));
    }

    #[test]
    fn via_with_spaces_ipv6_and_empty_rport() {
        let v = Via::parse("SIP / 2.0 / TCP [2001:db8::1]:5061 ;rport;branch=z9hG4bKx").unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.rport(), Some(None));
        let w = Via::parse("SIP/2.0/UDP host.example.com ; branch=z9hG4bK1").unwrap();
        assert_eq!(w.host, Host::Name("host.example.com"));
        assert_eq!(w.port, None);
        assert!(Via::parse("SIP/2.0 host").is_err());
        assert!(Via::parse("SIP/2.0/UDP ").is_err());
    }
}
