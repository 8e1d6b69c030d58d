//! SIP messages for the harnesses as editable lines: built from what the
//! phone sent (so responses and in-dialog requests match its transactions
//! and dialogs), then damaged by [`Edit`]s before they are fed back.

use arbitrary::Arbitrary;

/// One damage done to a message before it is sent.
#[derive(Arbitrary, Clone, Debug)]
pub enum Edit {
    /// Removes header line `n` (modulo the header count).
    DropHeader(u8),
    /// Repeats header line `n`.
    RepeatHeader(u8),
    /// Replaces the value of header line `n` by these bytes.
    SetValue(u8, Vec<u8>),
    /// Adds a header line of these bytes.
    AddLine(Vec<u8>),
    /// Replaces the start line by these bytes.
    SetStartLine(Vec<u8>),
    /// Overwrites byte `at` (modulo the length) of the final datagram.
    Flip(u16, u8),
    /// Cuts the final datagram to `len` bytes (modulo the length).
    Truncate(u16),
    /// Replaces the body (Content-Length follows unless an edit set it).
    Body(Vec<u8>),
}

/// A message as a start line, header lines and a body.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// The request or status line.
    pub start: Vec<u8>,
    /// `Name: value` lines, without line ends.
    pub headers: Vec<Vec<u8>>,
    /// The body.
    pub body: Vec<u8>,
}

impl Draft {
    /// A draft with this start line.
    pub fn new(start: impl Into<Vec<u8>>) -> Draft {
        Draft {
            start: start.into(),
            ..Draft::default()
        }
    }

    /// Adds `name: value`.
    pub fn header(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Draft {
        let mut line = name.as_bytes().to_vec();
        line.extend_from_slice(b": ");
        line.extend_from_slice(value.as_ref());
        self.headers.push(line);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(&mut self, content_type: &str, body: &[u8]) -> &mut Draft {
        self.header("Content-Type", content_type);
        self.body = body.to_vec();
        self
    }

    /// Parses a whole message (as the corpus files hold them) into a draft.
    pub fn parse(bytes: &[u8]) -> Draft {
        let (head, body) = match find(bytes, b"\r\n\r\n") {
            Some(i) => (&bytes[..i], &bytes[i + 4..]),
            None => (bytes, &[][..]),
        };
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let start = lines.next().unwrap_or(&[]).to_vec();
        let headers = lines
            .filter(|l| !l.eq_ignore_ascii_case(b"content-length: 0"))
            .filter(|l| !starts_with_ci(l, b"content-length:") && !starts_with_ci(l, b"l:"))
            .map(<[u8]>::to_vec)
            .collect();
        Draft {
            start,
            headers,
            body: body.to_vec(),
        }
    }

    /// Applies `edits` and writes the datagram.
    pub fn render(mut self, edits: &[Edit]) -> Vec<u8> {
        let mut length_set = false;
        let mut byte_edits = Vec::new();
        for e in edits.iter().take(6) {
            let n = self.headers.len().max(1);
            match e {
                Edit::DropHeader(i) if !self.headers.is_empty() => {
                    self.headers.remove(usize::from(*i) % n);
                }
                Edit::RepeatHeader(i) if !self.headers.is_empty() => {
                    let line = self.headers[usize::from(*i) % n].clone();
                    self.headers.push(line);
                }
                Edit::SetValue(i, v) if !self.headers.is_empty() => {
                    let line = &mut self.headers[usize::from(*i) % n];
                    let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
                    line.truncate(colon);
                    line.extend_from_slice(b": ");
                    line.extend_from_slice(v);
                    length_set |= starts_with_ci(line, b"content-length");
                }
                Edit::AddLine(v) => {
                    length_set |= starts_with_ci(v, b"content-length") || starts_with_ci(v, b"l:");
                    self.headers.push(v.clone());
                }
                Edit::SetStartLine(v) => self.start = v.clone(),
                Edit::Body(b) => self.body = b.clone(),
                Edit::Flip(..) | Edit::Truncate(_) => byte_edits.push(e),
                _ => {}
            }
        }
        let mut out = self.start;
        out.extend_from_slice(b"\r\n");
        for h in &self.headers {
            out.extend_from_slice(h);
            out.extend_from_slice(b"\r\n");
        }
        if !length_set {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        for e in byte_edits {
            let len = out.len().max(1);
            match *e {
                Edit::Flip(at, v) => {
                    if let Some(b) = out.get_mut(usize::from(at) % len) {
                        *b = v;
                    }
                }
                Edit::Truncate(to) => out.truncate(usize::from(to) % len),
                _ => {}
            }
        }
        out
    }
}

/// A message the phone sent, read as text.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The start line.
    pub start: String,
    /// Every header line as (name, value), names expanded from compact form.
    pub headers: Vec<(String, String)>,
}

impl Sent {
    /// Reads a datagram; `None` if it is not text with a start line.
    pub fn read(bytes: &[u8]) -> Option<Sent> {
        let head = match find(bytes, b"\r\n\r\n") {
            Some(i) => &bytes[..i],
            None => bytes,
        };
        let text = std::str::from_utf8(head).ok()?;
        let mut lines = text.split("\r\n");
        let start = lines.next()?.to_string();
        let headers = lines
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                Some((expand(n.trim()).to_string(), v.trim().to_string()))
            })
            .collect();
        Some(Sent { start, headers })
    }

    /// Whether it is a response.
    pub fn is_response(&self) -> bool {
        self.start.starts_with("SIP/2.0 ")
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        self.start.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
    }

    /// The request's method, or the method of the CSeq of a response.
    pub fn method(&self) -> &str {
        if self.is_response() {
            self.get("CSeq")
                .and_then(|c| c.split_whitespace().nth(1))
                .unwrap_or("")
        } else {
            self.start.split(' ').next().unwrap_or("")
        }
    }

    /// The CSeq number.
    pub fn cseq(&self) -> u32 {
        self.get("CSeq")
            .and_then(|c| c.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
    }

    /// The first value of header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The URI inside the first Contact, if any.
    pub fn contact_uri(&self) -> Option<&str> {
        let c = self.get("Contact")?;
        let start = c.find('<')? + 1;
        let end = c[start..].find('>')? + start;
        c.get(start..end)
    }
}

/// The `tag` parameter of a From/To value.
pub fn tag_of(value: &str) -> Option<&str> {
    let i = value.find(";tag=")? + 5;
    let rest = &value[i..];
    Some(rest.split([';', ' ', ',']).next().unwrap_or(rest))
}

/// `value` with its tag replaced by (or given) `tag`.
pub fn with_tag(value: &str, tag: &str) -> String {
    match value.find(";tag=") {
        Some(i) => {
            let rest = &value[i + 5..];
            let end = rest
                .find([';', ' ', ','])
                .map_or(value.len(), |e| i + 5 + e);
            format!("{};tag={tag}{}", &value[..i], &value[end..])
        }
        None => format!("{value};tag={tag}"),
    }
}

/// `value` without a tag.
pub fn without_tag(value: &str) -> String {
    match value.find(";tag=") {
        Some(i) => {
            let rest = &value[i + 5..];
            let end = rest
                .find([';', ' ', ','])
                .map_or(value.len(), |e| i + 5 + e);
            format!("{}{}", &value[..i], &value[end..])
        }
        None => value.to_string(),
    }
}

fn expand(name: &str) -> &str {
    match name {
        "v" => "Via",
        "f" => "From",
        "t" => "To",
        "i" => "Call-ID",
        "m" => "Contact",
        "l" => "Content-Length",
        "c" => "Content-Type",
        "r" => "Refer-To",
        "b" => "Referred-By",
        "o" => "Event",
        "k" => "Supported",
        other => other,
    }
}

fn starts_with_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_found_and_replaced() {
        let v = "<sip:a@x>;tag=abc;foo=1";
        assert_eq!(tag_of(v), Some("abc"));
        assert_eq!(with_tag(v, "zz"), "<sip:a@x>;tag=zz;foo=1");
        assert_eq!(without_tag(v), "<sip:a@x>;foo=1");
        assert_eq!(with_tag("<sip:a@x>", "t"), "<sip:a@x>;tag=t");
    }

    #[test]
    fn render_counts_the_body_and_applies_edits() {
        let mut d = Draft::new("OPTIONS sip:a@x SIP/2.0");
        d.header("Call-ID", "c1").body("text/plain", b"hi");
        let out = d.clone().render(&[]);
        assert!(out.ends_with(b"Content-Length: 2\r\n\r\nhi"));
        let out = d.render(&[Edit::DropHeader(0), Edit::Truncate(5)]);
        assert_eq!(out, b"OPTIO");
    }
}
