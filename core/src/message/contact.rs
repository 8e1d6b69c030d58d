//! The Contact header (RFC 3261 §20.10): a list of addresses with `expires`
//! and `q`, or the wildcard `*` of a REGISTER that removes all bindings.

use super::addr::NameAddr;
use super::error::{ParseError, ParseErrorKind};
use super::scan::{offset_in, parse_delta};
use super::{HeaderValues, Origin};

/// One Contact value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contact<'a> {
    /// The address; its header parameters include `expires` and `q`.
    pub addr: NameAddr<'a>,
    /// The `expires` parameter in seconds (RFC 3261 §20.10 c-p-expires).
    pub expires: Option<u32>,
    /// The `q` parameter in thousandths, 0-1000 (RFC 3261 §20.10 c-p-q).
    pub q: Option<u16>,
}

impl<'a> Contact<'a> {
    /// Parses one Contact element (not `*`). Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Contact<'a>, ParseError> {
        let addr = NameAddr::parse(s)?;
        let mut expires = None;
        let mut q = None;
        for (name, value) in addr.param_list() {
            let at = |kind| ParseError::new(kind, offset_in(s, name));
            if name.eq_ignore_ascii_case("expires") {
                let v = value.ok_or(at(ParseErrorKind::BadHeaderValue))?;
                // RFC 4475 §3.1.2.4: a value above 2^32-1 is out of range.
                expires = Some(parse_delta(v).map_err(|e| at(e.kind))?);
            } else if name.eq_ignore_ascii_case("q") {
                let v = value.ok_or(at(ParseErrorKind::BadHeaderValue))?;
                q = Some(parse_qvalue(v).ok_or(at(ParseErrorKind::BadHeaderValue))?);
            }
        }
        Ok(Contact { addr, expires, q })
    }
}

/// Parses a qvalue into thousandths: `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "."
/// 0*3("0") ] )` (RFC 3261 §25.1).
pub fn parse_qvalue(s: &str) -> Option<u16> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        let scale = match i {
            0 => 100,
            1 => 10,
            _ => 1,
        };
        thousandths += u16::from(b - b'0') * scale;
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The Contact header set of a message.
#[derive(Clone, Debug)]
pub enum Contacts<'a> {
    /// `Contact: *` (RFC 3261 §10.2.2), the only value present.
    Wildcard,
    /// The addresses in order.
    List(ContactIter<'a>),
}

/// Iterates Contact values across lines and list elements.
#[derive(Clone, Debug)]
pub struct ContactIter<'a> {
    pub(crate) values: HeaderValues<'a, 'static>,
    pub(crate) origin: Origin<'a>,
}

impl<'a> Iterator for ContactIter<'a> {
    type Item = Result<Contact<'a>, ParseError>;
    fn next(&mut self) -> Option<Self::Item> {
        let v = self.values.next()?;
        Some(if v == "*" {
            // RFC 3261 §10.2.2: `*` never shares the header with addresses.
            Err(self
                .origin
                .error(v, ParseError::new(ParseErrorKind::BadHeaderValue, 0)))
        } else {
            Contact::parse(v).map_err(|e| self.origin.error(v, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("0.33"), Some(330));
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0.001"), Some(1));
        for bad in ["1.1", "2", "0.1234", ".5", "0.x", ""] {
            assert_eq!(parse_qvalue(bad), None, "{bad}");
        }
    }

    #[test]
    fn contact_params() {
        let c = Contact::parse(
            "\"Q\" <sip:a@b> ; newparam =\r\n newvalue ;\r\n secondparam ; q = 0.33;expires=3600",
        )
        .unwrap();
        assert_eq!(c.q, Some(330));
        assert_eq!(c.expires, Some(3600));
        let e = Contact::parse("<sip:a@b>;expires=280297596632815").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Overflow);
        assert_eq!(e.offset, 10);
    }
}
