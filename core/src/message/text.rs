//! Numbers and IP addresses as text, written without `core::fmt`.
//!
//! Formatting through `core::fmt` links its machinery into every image that
//! uses it once (`Formatter`, padding, the `Display` of each argument type)
//! and reaches the arguments through vtables. The few kinds of values a
//! SIP message holds besides copied text (unsigned integers, IPv4 and IPv6
//! addresses, `host:port`) are written here into small fixed buffers, with
//! the same text their `Display` gives.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::error::WriteError;

/// `n` in decimal, without leading zeros.
///
/// ```
/// use handset_core::message::Decimal;
/// assert_eq!(Decimal::new(0).as_str(), "0");
/// assert_eq!(Decimal::new(u64::MAX).as_str(), "18446744073709551615");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    /// The decimal text of `n`.
    pub fn new(n: u64) -> Self {
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        let mut rest = n;
        // At least one digit, so 0 is "0".
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || start == 0 {
                break;
            }
        }
        Decimal { digits, start }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        ascii(self.digits.get(self.start..).unwrap_or(&[]))
    }
}

/// Longest text [`AddrText`] holds: `[` IPv6 `]:` port.
const ADDR_TEXT: usize = 1 + 45 + 2 + 5;

/// An IP address, a URI host or `host:port` as text.
///
/// ```
/// use handset_core::message::AddrText;
/// let v6: std::net::SocketAddr = "[2001:db8::1]:5060".parse().unwrap();
/// assert_eq!(AddrText::socket(v6).as_str(), "[2001:db8::1]:5060");
/// assert_eq!(AddrText::ip(v6.ip()).as_str(), "2001:db8::1");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AddrText {
    buf: [u8; ADDR_TEXT],
    len: usize,
}

impl AddrText {
    fn empty() -> Self {
        AddrText {
            buf: [0; ADDR_TEXT],
            len: 0,
        }
    }

    /// The address as `Display` writes it (IPv6 without brackets).
    pub fn ip(ip: IpAddr) -> Self {
        let mut t = AddrText::empty();
        match ip {
            IpAddr::V4(a) => t.v4(a),
            IpAddr::V6(a) => t.v6(a),
        }
        t
    }

    /// The address as a URI host: IPv6 in brackets (RFC 3261 §25.1
    /// `IPv6reference`).
    pub fn host(ip: IpAddr) -> Self {
        let mut t = AddrText::empty();
        match ip {
            IpAddr::V4(a) => t.v4(a),
            IpAddr::V6(a) => {
                t.push(b"[");
                t.v6(a);
                t.push(b"]");
            }
        }
        t
    }

    /// `host:port`, the host as in [`AddrText::host`].
    pub fn socket(addr: SocketAddr) -> Self {
        let mut t = AddrText::host(addr.ip());
        t.push(b":");
        t.push(Decimal::new(u64::from(addr.port())).as_str().as_bytes());
        t
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        ascii(self.buf.get(..self.len).unwrap_or(&[]))
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        }
    }

    fn v4(&mut self, a: Ipv4Addr) {
        for (i, octet) in a.octets().into_iter().enumerate() {
            if i > 0 {
                self.push(b".");
            }
            self.push(Decimal::new(u64::from(octet)).as_str().as_bytes());
        }
    }

    /// As `Display` writes IPv6 (RFC 5952 §4): an IPv4-mapped address as
    /// `::ffff:a.b.c.d`, otherwise lowercase hex groups with the first
    /// longest run of two or more zero groups written `::`.
    fn v6(&mut self, a: Ipv6Addr) {
        if let Some(v4) = a.to_ipv4_mapped() {
            self.push(b"::ffff:");
            self.v4(v4);
            return;
        }
        let groups = a.segments();
        let (mut run_start, mut run_len) = (0, 0);
        let (mut cur_start, mut cur_len) = (0, 0);
        for (i, &g) in groups.iter().enumerate() {
            if g == 0 {
                if cur_len == 0 {
                    cur_start = i;
                }
                cur_len += 1;
                if cur_len > run_len {
                    (run_start, run_len) = (cur_start, cur_len);
                }
            } else {
                cur_len = 0;
            }
        }
        if run_len > 1 {
            self.hex_groups(groups.get(..run_start).unwrap_or(&[]));
            self.push(b"::");
            self.hex_groups(groups.get(run_start + run_len..).unwrap_or(&[]));
        } else {
            self.hex_groups(&groups);
        }
    }

    fn hex_groups(&mut self, groups: &[u16]) {
        for (i, &g) in groups.iter().enumerate() {
            if i > 0 {
                self.push(b":");
            }
            let mut started = false;
            for shift in [12u16, 8, 4, 0] {
                let nibble = (g >> shift) & 0xf;
                if nibble != 0 || started || shift == 0 {
                    started = true;
                    self.push(&[HEX_DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')]);
                }
            }
        }
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends every part to `s`; `Err` when they do not all fit (what did fit
/// stays).
pub fn push_all<const N: usize>(
    s: &mut heapless::String<N>,
    parts: &[&str],
) -> Result<(), WriteError> {
    for part in parts {
        s.push_str(part).map_err(|_| WriteError::BufferTooSmall)?;
    }
    Ok(())
}

/// The buffers above hold ASCII only.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("")
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn decimal_matches_display() {
        for n in [0, 1, 9, 10, 99, 100, 5060, 65535, 4_294_967_295, u64::MAX] {
            assert_eq!(Decimal::new(n).as_str(), n.to_string());
        }
    }

    #[test]
    fn addresses_match_display() {
        for s in [
            "0.0.0.0",
            "192.0.2.1",
            "255.255.255.255",
            "::",
            "::1",
            "1::",
            "2001:db8::1",
            "2001:db8:0:1:0:0:0:1",
            "2001:0:0:1:0:0:0:1",
            "1:0:2:0:3:0:4:0",
            "fe80::1:0:0:0",
            "::ffff:192.0.2.7",
            "::192.0.2.7",
            "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
            "1:2:3:4:5:6:7:0",
        ] {
            let ip: IpAddr = s.parse().unwrap();
            assert_eq!(AddrText::ip(ip).as_str(), ip.to_string(), "{s}");
            let sock = SocketAddr::new(ip, 65535);
            assert_eq!(AddrText::socket(sock).as_str(), sock.to_string(), "{s}");
            let host = match ip {
                IpAddr::V4(a) => a.to_string(),
                IpAddr::V6(a) => std::format!("[{a}]"),
            };
            assert_eq!(AddrText::host(ip).as_str(), host, "{s}");
        }
    }

    #[test]
    fn push_all_reports_what_does_not_fit() {
        let mut s: heapless::String<5> = heapless::String::new();
        assert_eq!(push_all(&mut s, &["ab", "c"]), Ok(()));
        assert_eq!(
            push_all(&mut s, &["d", "ef"]),
            Err(WriteError::BufferTooSmall)
        );
        assert_eq!(s.as_str(), "abcd");
    }
}
