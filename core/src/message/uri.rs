//! SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), borrowed from
//! the input.

use super::error::{ParseError, ParseErrorKind};
use super::params::Params;
use super::scan::byte_set;
use super::scan::run_end;

/// A URI scheme this codec understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:`
    Tel,
}

/// The host part of a SIP URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host<'a> {
    /// A domain or host name.
    Name(&'a str),
    /// A dotted IPv4 address.
    V4(core::net::Ipv4Addr),
    /// An IPv6 reference, written in brackets.
    V6(core::net::Ipv6Addr),
}

impl Host<'_> {
    /// The IP address, when the host is one.
    pub fn ip(&self) -> Option<core::net::IpAddr> {
        match *self {
            Host::V4(a) => Some(a.into()),
            Host::V6(a) => Some(a.into()),
            Host::Name(_) => None,
        }
    }

    /// Parses `host` (RFC 3261 §25.1 host: hostname / IPv4address / IPv6reference).
    pub fn parse(s: &str) -> Option<Host<'_>> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner.strip_suffix(']')?;
            return parse_ipv6(inner).map(Host::V6);
        }
        if host_run(s.as_bytes(), 0) != s.len() {
            return None;
        }
        Host::from_run(s)
    }

    /// The host `s`, all of whose bytes are hostname bytes ([`host_run`]).
    pub(crate) fn from_run(s: &str) -> Option<Host<'_>> {
        let b = s.as_bytes();
        if matches!(b.first(), None | Some(b'.' | b'-')) {
            return None;
        }
        // Only a run of digits and dots may be an IPv4address, which
        // `parse_ipv4` checks as it reads.
        if b.first().is_some_and(u8::is_ascii_digit) {
            if let Some(a) = parse_ipv4(b) {
                return Some(Host::V4(a));
            }
        }
        // hostname = *( domainlabel "." ) toplabel [ "." ]
        Some(Host::Name(s))
    }
}

/// The end of the run of hostname bytes (alphanumerics, `-`, `.`) in `b`
/// from `start`.
pub(crate) fn host_run(b: &[u8], start: usize) -> usize {
    let rest = b.get(start..).unwrap_or(&[]);
    start
        + run_end(rest, 0, |c| {
            HOST_BYTES.get(usize::from(c)).copied().unwrap_or(false)
        })
}

byte_set!(
    /// The bytes of a host: alphanumerics, `-` and `.` (RFC 3261 §25.1
    /// hostname, IPv4address).
    HOST_BYTES = |b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
);

/// A dotted-quad IPv4 address of digits and dots: four decimal octets of
/// at most 255, without leading zeros (as `Ipv4Addr`'s parser reads them).
pub(crate) fn parse_ipv4(b: &[u8]) -> Option<core::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0; // octets completed
    let mut value = 0u16;
    let mut digits = 0;
    let mut leading_zero = false;
    for &c in b {
        if c == b'.' {
            *octets.get_mut(n)? = u8::try_from(value).ok().filter(|_| digits > 0)?;
            n += 1;
            (value, digits, leading_zero) = (0, 0, false);
            continue;
        }
        if leading_zero || digits == 3 || !c.is_ascii_digit() {
            return None;
        }
        leading_zero = digits == 0 && c == b'0';
        value = value * 10 + u16::from(c.wrapping_sub(b'0'));
        digits += 1;
    }
    *octets.get_mut(n)? = u8::try_from(value).ok().filter(|_| digits > 0)?;
    (n == 3).then_some(octets.into())
}

/// An IPv4 or IPv6 address in its text form, as `IpAddr`'s parser reads
/// it.
pub(crate) fn parse_ip(s: &str) -> Option<core::net::IpAddr> {
    let b = s.as_bytes();
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        parse_ipv4(b).map(Into::into)
    } else {
        parse_ipv6(s).map(Into::into)
    }
}

/// An IPv6 address in its text form (RFC 4291 §2.2): eight groups of one
/// to four hex digits, one `::` standing for one or more zero groups, the
/// last two groups optionally as a dotted IPv4 address. Accepts what
/// `Ipv6Addr`'s parser accepts, without linking it.
pub(crate) fn parse_ipv6(s: &str) -> Option<core::net::Ipv6Addr> {
    let b = s.as_bytes();
    let mut groups = [0u16; 8];
    let (head, at, head_v4) = ipv6_groups(b, 0, &mut groups)?;
    if head == 8 {
        return (at == b.len()).then_some(groups.into());
    }
    if head_v4 || b.get(at..at + 2) != Some(b"::".as_slice()) {
        return None;
    }
    // `::` stands for at least one group.
    let mut tail = [0u16; 7];
    let limit = 7 - head;
    let (tail_len, end, _) = ipv6_groups(b, at + 2, tail.get_mut(..limit)?)?;
    if end != b.len() {
        return None;
    }
    for (dst, src) in groups
        .get_mut(8 - tail_len..)?
        .iter_mut()
        .zip(tail.get(..tail_len)?)
    {
        *dst = *src;
    }
    Some(groups.into())
}

/// Reads `:`-separated groups from `at` into `out` (at most its length):
/// how many, where reading stopped, and whether the last two came from a
/// dotted IPv4 address. A separator not followed by a group is not read.
fn ipv6_groups(b: &[u8], mut at: usize, out: &mut [u16]) -> Option<(usize, usize, bool)> {
    let limit = out.len();
    for i in 0..limit {
        let start = if i > 0 {
            if b.get(at) != Some(&b':') {
                return Some((i, at, false));
            }
            at + 1
        } else {
            at
        };
        // A dotted IPv4 address fills the last two groups.
        if i + 1 < limit {
            let v4_end = b
                .get(start..)?
                .iter()
                .position(|c| !(c.is_ascii_digit() || *c == b'.'))
                .map_or(b.len(), |p| start + p);
            if let Some(v4) = b.get(start..v4_end).and_then(parse_ipv4) {
                let [o1, o2, o3, o4] = v4.octets();
                *out.get_mut(i)? = u16::from_be_bytes([o1, o2]);
                *out.get_mut(i + 1)? = u16::from_be_bytes([o3, o4]);
                return Some((i + 2, v4_end, true));
            }
        }
        let digits = b
            .get(start..)?
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if digits == 0 {
            return Some((i, at, false));
        }
        let mut group = 0u16;
        for &c in b.get(start..start + digits)? {
            let d = (c as char).to_digit(16)? as u16;
            group = group << 4 | d;
        }
        *out.get_mut(i)? = group;
        at = start + digits;
    }
    Some((limit, at, false))
}

impl core::fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A parsed URI. Every part borrows the input and keeps its %-escapes; use
/// [`percent_decode`] to read a part's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The user part (SIP/SIPS), or the telephone number (tel).
    pub user: Option<&'a str>,
    /// The password after `user:` (deprecated, RFC 3261 §19.1.1).
    pub password: Option<&'a str>,
    /// The host (SIP/SIPS only).
    pub host: Option<Host<'a>>,
    /// The port, when written.
    pub port: Option<u16>,
    /// The parameters, starting at the first `;` (may be empty).
    pub params: &'a str,
    /// The headers after `?`, without the `?` (may be empty).
    pub headers: &'a str,
    /// The whole URI as written.
    pub raw: &'a str,
}

fn bad(offset: usize) -> ParseError {
    ParseError::new(ParseErrorKind::BadUri, offset)
}

/// [`URI_CHARS`] classes: not allowed, allowed, allowed and a delimiter
/// (or escape) the scan notes.
const NOT_URI: u8 = 0;
const URI_PLAIN: u8 = 1;
const URI_MARK: u8 = 2;

/// The class of each byte in a URI outside escapes, per the RFC 3261 §25.1
/// unreserved / reserved / user-unreserved / param-unreserved sets. Built
/// at compile time: an index out of range would fail the build.
#[allow(clippy::indexing_slicing)]
const URI_CHARS: [u8; 256] = {
    let mut t = [NOT_URI; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let allowed = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'!'
                    | b'~'
                    | b'*'
                    | b'\''
                    | b'('
                    | b')'
                    | b'%'
                    | b';'
                    | b'/'
                    | b'?'
                    | b':'
                    | b'@'
                    | b'&'
                    | b'='
                    | b'+'
                    | b'$'
                    | b','
                    | b'['
                    | b']'
            );
        t[i] = if !allowed {
            NOT_URI
        } else if matches!(b, b'%' | b':' | b'?' | b'@') {
            URI_MARK
        } else {
            URI_PLAIN
        };
        i += 1;
    }
    t
};

/// Where the URI scan saw its delimiters (offsets in the whole URI).
#[derive(Clone, Copy, Default)]
pub(crate) struct Marks {
    /// The first ':' (ends the scheme).
    colon: Option<usize>,
    /// The second ':' (ends the user in `user:password@`, if before '@').
    colon2: Option<usize>,
    /// The first '?'.
    question: Option<usize>,
    /// The last '@'.
    last_at: Option<usize>,
    /// The last '@' before the first '?'.
    last_at_before_question: Option<usize>,
}

/// The first offset of byte `b` in `s`.
fn pos(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|c| c == b)
}

/// The last offset of byte `b` in `s`.
fn rpos(s: &str, b: u8) -> Option<usize> {
    s.bytes().rposition(|c| c == b)
}

/// Scans URI characters from the start of `b` up to the first byte that
/// cannot be part of a URI (or the end), checking each %-escape is
/// complete: "%" HEXDIG HEXDIG (RFC 3261 §25.1 escaped). Returns where the
/// URI characters end and the delimiters the split needs, so that the
/// split scans no more.
pub(crate) fn scan_uri(b: &[u8]) -> Result<(usize, Marks), ParseError> {
    let mut marks = Marks::default();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match URI_CHARS.get(usize::from(c)).copied().unwrap_or(NOT_URI) {
            URI_PLAIN => {
                i += 1;
                continue;
            }
            URI_MARK => {}
            _ => break,
        }
        match c {
            b'%' => {
                let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
                if !ok {
                    return Err(bad(i));
                }
                i += 3;
                continue;
            }
            b':' if marks.colon.is_none() => marks.colon = Some(i),
            b':' if marks.colon2.is_none() => marks.colon2 = Some(i),
            b'?' if marks.question.is_none() => marks.question = Some(i),
            b'@' => {
                marks.last_at = Some(i);
                if marks.question.is_none() {
                    marks.last_at_before_question = Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok((i, marks))
}

byte_set!(
    /// The bytes a plain user part and a plain parameter run over: URI
    /// characters but the delimiters `:`, `;`, `?`, `@`, the `%` of escapes
    /// and the `,` that an addr-spec may not hold.
    PLAIN_RUN = |b| URI_CHARS[b as usize] == URI_PLAIN && b != b';' && b != b','
);

fn is_plain_run(c: u8) -> bool {
    PLAIN_RUN.get(usize::from(c)).copied().unwrap_or(false)
}

impl<'a> Uri<'a> {
    /// The common SIP or SIPS URI at the start of `s`, in one pass:
    /// `sip:` or `sips:`, an optional user part (complete escapes, no `;`
    /// or password), a host name or IPv4 address, an optional port, and
    /// parameters without escapes, `:` or `@`. Returns the URI and where
    /// it ends: at the first byte that is none of these, which a caller
    /// must check ends the URI (a `?`, `%`, `:`, `,` or `@` there means the
    /// URI goes on and this reading does not apply). Without `params` the
    /// URI ends at its first `;`, as in an addr-spec whose parameters
    /// belong to the header. `None` for other shapes; what this reads,
    /// [`Uri::parse`]'s general reading reads the same.
    pub(crate) fn parse_plain(s: &'a str, params: bool) -> Option<(Uri<'a>, usize)> {
        let b = s.as_bytes();
        let (scheme, base) = match b.get(..5)? {
            [s, i, p, b':', _] if [*s, *i, *p].eq_ignore_ascii_case(b"sip") => (Scheme::Sip, 4),
            [s, i, p, x, b':'] if [*s, *i, *p, *x].eq_ignore_ascii_case(b"sips") => {
                (Scheme::Sips, 5)
            }
            _ => return None,
        };
        let mut user_end = run_end(b, base, is_plain_run);
        // A user part may hold escapes (RFC 4475 §3.1.1.10 esc01), each
        // complete: "%" HEXDIG HEXDIG (RFC 3261 §25.1 escaped).
        while b.get(user_end) == Some(&b'%') {
            let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(user_end + 1) && hex(user_end + 2)) {
                return None;
            }
            user_end = run_end(b, user_end + 3, is_plain_run);
        }
        let (user, host_start) = match b.get(user_end) {
            Some(b'@') if user_end > base => (Some(s.get(base..user_end)?), user_end + 1),
            Some(b'@') => return None,
            _ => (None, base),
        };
        let host_end = host_run(b, host_start);
        let host = Host::from_run(s.get(host_start..host_end)?)?;
        let mut end = host_end;
        let port = if b.get(end) == Some(&b':') {
            let port_end = run_end(b, end + 1, |c| c.is_ascii_digit());
            let digits = b.get(end + 1..port_end)?;
            if digits.is_empty() || digits.len() > 5 {
                return None;
            }
            end = port_end;
            let port = digits
                .iter()
                .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
            Some(u16::try_from(port).ok()?)
        } else {
            None
        };
        let params_start = end;
        while params && b.get(end) == Some(&b';') {
            // Every parameter needs a name (RFC 3261 §25.1 uri-parameter).
            if b.get(end + 1) == Some(&b'=') {
                return None;
            }
            end = run_end(b, end + 1, is_plain_run);
        }
        Some((
            Uri {
                scheme,
                user,
                password: None,
                host: Some(host),
                port,
                params: s.get(params_start..end)?,
                headers: "",
                raw: s.get(..end)?,
            },
            end,
        ))
    }

    /// Parses a SIP, SIPS or tel URI.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, ParseError> {
        if let Some((uri, end)) = Self::parse_plain(s, true) {
            if end == s.len() {
                return Ok(uri);
            }
        }
        // One pass over the characters, which must all be URI characters.
        let (end, marks) = scan_uri(s.as_bytes())?;
        if end != s.len() {
            return Err(bad(end));
        }
        Self::split(s, marks)
    }

    /// Splits `s`, whose characters [`scan_uri`] accepted, at the
    /// delimiters it found.
    pub(crate) fn split(s: &'a str, marks: Marks) -> Result<Uri<'a>, ParseError> {
        let colon = marks.colon.ok_or(bad(0))?;
        let scheme_str = s.get(..colon).ok_or(bad(0))?;
        let scheme = if scheme_str == "sip" || scheme_str.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            // absoluteURI = scheme ":" ( hier-part / opaque-part ), scheme =
            // ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1).
            let well_formed = scheme_str
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme_str
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && s.len() > colon + 1;
            return Err(if well_formed {
                ParseError::new(ParseErrorKind::UnsupportedScheme, 0)
            } else {
                bad(0)
            });
        };
        let rest = s.get(colon + 1..).ok_or(bad(colon))?;
        let base = colon + 1;
        if scheme == Scheme::Tel {
            // RFC 3966: telephone-subscriber, then ;params. No headers.
            let (number, params) = match pos(rest, b';') {
                Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
                None => (rest, ""),
            };
            let ok = !number.is_empty()
                && number.bytes().all(|b| {
                    b.is_ascii_hexdigit()
                        || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
                });
            if !ok {
                return Err(bad(base));
            }
            return Ok(Uri {
                scheme,
                user: Some(number),
                password: None,
                host: None,
                port: None,
                params,
                headers: "",
                raw: s,
            });
        }
        // The userinfo ends at the last '@': the user part may hold ';', '?'
        // and ',' (RFC 4475 §3.1.1.2, §3.1.1.9), while hosts, parameters and
        // headers never hold an unescaped '@'. A sender that left an '@'
        // unescaped in a header is still read: then the userinfo ends at
        // the last '@' before the first '?'.
        // The scheme is `sip` or `sips`: every delimiter noted lies in `rest`.
        let in_rest = |at: Option<usize>| at.and_then(|i| i.checked_sub(base));
        let q = in_rest(marks.question);
        let at = match in_rest(marks.last_at) {
            // No '?' before the last '@': the usual case.
            Some(i) if q.is_none_or(|q| i < q) => Some(i),
            Some(i) if host_follows(rest.get(i + 1..).unwrap_or("")) => Some(i),
            _ => in_rest(marks.last_at_before_question),
        };
        let (userinfo, after_user, hp_off) = match at {
            Some(i) => (
                Some(rest.get(..i).unwrap_or("")),
                rest.get(i + 1..).unwrap_or(""),
                base + i + 1,
            ),
            None => (None, rest, base),
        };
        // The first '?' after the userinfo: the first one of all unless
        // the userinfo holds one.
        let q_after_user = match (q, at) {
            (Some(q), Some(at)) if q < at => pos(after_user, b'?'),
            (Some(q), Some(at)) => Some(q - at - 1),
            (None, Some(_)) => None,
            (q, None) => q,
        };
        let (hostport_params, headers) = match q_after_user {
            Some(i) => (
                after_user.get(..i).unwrap_or(""),
                after_user.get(i + 1..).unwrap_or(""),
            ),
            None => (after_user, ""),
        };
        let (user, password) = match userinfo {
            Some(u) => {
                // The first ':' in `rest` is the second of all.
                let (user, pw) = match in_rest(marks.colon2).filter(|&i| i < u.len()) {
                    Some(i) => (u.get(..i).unwrap_or(""), u.get(i + 1..)),
                    None => (u, None),
                };
                if user.is_empty() {
                    return Err(bad(base));
                }
                (Some(user), pw)
            }
            None => (None, None),
        };
        let (hostport, params) = match pos(hostport_params, b';') {
            Some(i) => (
                hostport_params.get(..i).unwrap_or(""),
                hostport_params.get(i..).unwrap_or(""),
            ),
            None => (hostport_params, ""),
        };
        let (host_str, port) = split_host_port(hostport).ok_or(bad(hp_off))?;
        let host = Host::parse(host_str).ok_or(bad(hp_off))?;
        // Every parameter needs a name (RFC 3261 §25.1 uri-parameter).
        if params
            .as_bytes()
            .split(|&b| b == b';')
            .skip(1)
            .any(|p| p.first() == Some(&b'='))
        {
            return Err(bad(hp_off + hostport.len()));
        }
        Ok(Uri {
            scheme,
            user,
            password,
            host: Some(host),
            port,
            params,
            headers,
            raw: s,
        })
    }

    /// The URI's parameters.
    pub fn param_list(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The value of URI parameter `name`: `Some(Some(v))`, `Some(None)` for a
    /// flag such as `lr`, `None` when absent.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.param_list().get(name)
    }

    /// Iterates the `?name=value&...` headers, values still %-escaped.
    pub fn header_list(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let h = self.headers;
        h.split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| match kv.find('=') {
                Some(i) => (kv.get(..i).unwrap_or(""), kv.get(i + 1..).unwrap_or("")),
                None => (kv, ""),
            })
    }

    /// The value (still %-escaped) of URI header `name`, compared
    /// case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_list()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The transport named by `;transport=`, if any.
    pub fn transport(&self) -> Option<&'a str> {
        self.param_list().get_token("transport").flatten()
    }
}

/// Whether `s` starts with a valid `hostport`, up to `;`, `?` or its end.
fn host_follows(s: &str) -> bool {
    let end = s
        .bytes()
        .position(|b| b == b';' || b == b'?')
        .unwrap_or(s.len());
    s.get(..end)
        .and_then(split_host_port)
        .is_some_and(|(h, _)| Host::parse(h).is_some())
}

/// Splits `host[:port]`, IPv6 references included.
pub(crate) fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let end = pos(s, b']')?;
        let host = s.get(..=end)?;
        match s.get(end + 1..)? {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rpos(s, b':') {
            Some(i) => (s.get(..i)?, Some(s.get(i + 1..)?)),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse().ok()?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// Decodes %-escapes of `s` into `out`; returns the decoded bytes, or `None`
/// when `out` is too small or an escape is malformed.
pub fn percent_decode<'b>(s: &str, out: &'b mut [u8]) -> Option<&'b [u8]> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while let Some(&b) = bytes.get(i) {
        let v = if b == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            i += 3;
            (hi << 4) | lo
        } else {
            i += 1;
            b
        };
        *out.get_mut(n)? = v;
        n += 1;
    }
    out.get(..n)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_user_read_in_one_pass_as_by_the_split() {
        for raw in [
            "sip:%75se%72@example.com",
            "sip:null-%00-null@example.com;lr",
        ] {
            let (plain, end) = Uri::parse_plain(raw, true).unwrap();
            assert_eq!(end, raw.len());
            let (scan_end, marks) = scan_uri(raw.as_bytes()).unwrap();
            assert_eq!(scan_end, raw.len());
            assert_eq!(plain, Uri::split(raw, marks).unwrap());
        }
        assert_eq!(
            Uri::parse("sip:%75se%72@example.com").unwrap().user,
            Some("%75se%72")
        );
        // An incomplete escape is left to the full rules, which refuse it.
        assert!(Uri::parse_plain("sip:a%7@example.com", true).is_none());
        assert!(Uri::parse("sip:a%7@example.com").is_err());
    }

    #[test]
    fn ipv6_text_is_read_as_the_standard_parser_reads_it() {
        use crate::rng::Rng;
        extern crate std;
        use std::string::String;
        let fixed = [
            "::",
            "::1",
            "1::",
            "1::2",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6::7:8",
            "1::2::3",
            ":::",
            ":1::",
            "1:",
            ":1",
            "::ffff:192.0.2.1",
            "::192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3.04",
            "::1.2.3.256",
            "::1.2.3",
            "::1.2.3.4.5",
            "12345::",
            "fFfF::AbCd",
            "0000:0000::0",
            "2001:db8::192.0.2.1:1",
            "",
            "g::",
            "1::1.2.3.4:5",
            "::01.2.3.4",
        ];
        for s in fixed {
            assert_eq!(parse_ipv6(s), s.parse().ok(), "{s:?}");
        }
        let alphabet = b"0123456789abcdefABCDEF::::....x";
        let mut rng = Rng::new(11);
        for _ in 0..200_000 {
            let len = rng.below(24) as usize;
            let s: String = (0..len)
                .map(|_| char::from(alphabet[rng.below(alphabet.len() as u32) as usize]))
                .collect();
            assert_eq!(parse_ipv6(&s), s.parse().ok(), "{s:?}");
        }
        // Addresses written out, then shortened and mangled.
        for _ in 0..20_000 {
            let groups: std::vec::Vec<String> = (0..8)
                .map(|_| match rng.below(3) {
                    0 => String::from("0"),
                    1 => std::format!("{:x}", rng.next_u32() & 0xff),
                    _ => std::format!("{:x}", rng.next_u32() & 0xffff),
                })
                .collect();
            let full = groups.join(":");
            let cut = rng.below(8) as usize;
            let keep = rng.below(8 - cut as u32) as usize;
            let short = std::format!(
                "{}::{}",
                groups[..cut].join(":"),
                groups[8 - keep..].join(":")
            );
            for s in [full, short] {
                assert_eq!(parse_ipv6(&s), s.parse().ok(), "{s:?}");
            }
        }
    }

    #[test]
    fn sip_uri_parts() {
        let u =
            Uri::parse("sip:alice:secret@[2001:db8::10]:5070;transport=tcp;lr?subject=hi&x=%20")
                .unwrap();
        assert_eq!(u.scheme, Scheme::Sip);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, Some(Host::V6("2001:db8::10".parse().unwrap())));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.transport(), Some("tcp"));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.header("SUBJECT"), Some("hi"));
        let mut buf = [0u8; 8];
        assert_eq!(
            percent_decode(u.header("x").unwrap(), &mut buf),
            Some(&b" "[..])
        );
    }

    #[test]
    fn user_part_may_hold_semicolons_and_tel_uris_parse() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some("user;par=u%40example.net"));
        assert_eq!(u.host, Some(Host::Name("example.com")));
        let t = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!((t.scheme, t.user), (Scheme::Tel, Some("+1-201-555-0123")));
    }

    #[test]
    fn user_part_may_hold_question_marks_and_unknown_schemes_are_told_apart() {
        let u = Uri::parse("sip:a?,/;;*:pw@example.com;lr?h=v").unwrap();
        assert_eq!(u.user, Some("a?,/;;*"));
        assert_eq!(u.password, Some("pw"));
        assert_eq!(u.host, Some(Host::Name("example.com")));
        assert_eq!(u.params, ";lr");
        assert_eq!(u.headers, "h=v");
        let r = Uri::parse("sip:c@h?Replaces=x@y%3Bto-tag%3D1").unwrap();
        assert_eq!(r.user, Some("c"));
        assert_eq!(r.header("replaces"), Some("x@y%3Bto-tag%3D1"));
        for s in [
            "soap.beep://192.0.2.103:3002",
            "isbn:2983792873",
            "name:John_Smith",
        ] {
            assert_eq!(
                Uri::parse(s).unwrap_err().kind,
                ParseErrorKind::UnsupportedScheme,
                "{s}"
            );
        }
        assert_eq!(Uri::parse("1x:y").unwrap_err().kind, ParseErrorKind::BadUri);
    }

    #[test]
    fn malformed_uris_are_errors() {
        for s in [
            "sip:",
            "http://x",
            "sip:a b@c",
            "sip:a@b:99999",
            "sip:a@b:x",
            "sip:%zz@a",
            "sip:@a",
            "sip:[::1",
        ] {
            assert!(Uri::parse(s).is_err(), "{s}");
        }
    }
}
