//! The Date header (RFC 3261 §20.17): an RFC 1123 date, always GMT.

use super::error::{ParseError, ParseErrorKind};
use super::scan::trim_lws;

/// A Date value: `wkday "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SipDate {
    /// Day of the week, 0 = Monday.
    pub weekday: u8,
    /// Day of the month, 1-31.
    pub day: u8,
    /// Month, 1-12.
    pub month: u8,
    /// Year.
    pub year: u16,
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
    /// Second, 0-60 (60 for a leap second).
    pub second: u8,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn digits(s: &str, n: usize, at: usize) -> Result<u16, ParseError> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(ParseErrorKind::BadHeaderValue, at));
    }
    Ok(s.bytes().fold(0u16, |a, b| a * 10 + u16::from(b - b'0')))
}

impl SipDate {
    /// Parses a Date value. RFC 3261 §20.17 allows only GMT (RFC 4475
    /// §3.1.2.12); names are case-sensitive as in RFC 2616 §3.3.1. Error
    /// offsets are relative to `s`.
    pub fn parse(s: &str) -> Result<SipDate, ParseError> {
        let lead = s.len() - s.trim_ascii_start().len();
        let t = trim_lws(s);
        let bad = |at: usize| ParseError::new(ParseErrorKind::BadHeaderValue, lead + at);
        // "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes.
        let b = t.as_bytes();
        if b.len() != 29 {
            return Err(bad(0));
        }
        let field = |from: usize, to: usize| t.get(from..to).ok_or(bad(from));
        let weekday = WEEKDAYS
            .iter()
            .position(|w| *w == field(0, 3).unwrap_or(""))
            .ok_or(bad(0))?;
        if field(3, 5)? != ", " || field(7, 8)? != " " || field(11, 12)? != " " {
            return Err(bad(3));
        }
        let day = digits(field(5, 7)?, 2, lead + 5)?;
        let month = MONTHS
            .iter()
            .position(|m| *m == field(8, 11).unwrap_or(""))
            .ok_or(bad(8))?;
        let year = digits(field(12, 16)?, 4, lead + 12)?;
        if field(16, 17)? != " " || field(19, 20)? != ":" || field(22, 23)? != ":" {
            return Err(bad(16));
        }
        let hour = digits(field(17, 19)?, 2, lead + 17)?;
        let minute = digits(field(20, 22)?, 2, lead + 20)?;
        let second = digits(field(23, 25)?, 2, lead + 23)?;
        if field(25, 29)? != " GMT" {
            return Err(bad(25));
        }
        if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return Err(bad(5));
        }
        Ok(SipDate {
            weekday: weekday as u8,
            day: day as u8,
            month: month as u8 + 1,
            year,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = SipDate::parse("Sat, 13 Nov 2010 23:29:00 GMT").unwrap();
        assert_eq!((d.weekday, d.day, d.month, d.year), (5, 13, 11, 2010));
        assert_eq!((d.hour, d.minute, d.second), (23, 29, 0));
        for bad in [
            "Fri, 01 Jan 2010 16:00:00 EST",
            "Fri, 1 Jan 2010 16:00:00 GMT",
            "fri, 01 Jan 2010 16:00:00 GMT",
            "Fri, 01 Jan 2010 24:00:00 GMT",
            "Fri, 00 Jan 2010 16:00:00 GMT",
            "",
        ] {
            assert!(SipDate::parse(bad).is_err(), "{bad}");
        }
    }
}
