//! The `application/simple-message-summary` body of an RFC 3842
//! message-summary NOTIFY: whether messages wait, and the voice-message
//! counts.

/// The new, old, urgent-new and urgent-old counts of one message class
/// (RFC 3842 §5.2: `Voice-Message: 2/8 (0/2)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// New (unheard) messages.
    pub new: u32,
    /// Old (heard) messages.
    pub old: u32,
    /// New messages marked urgent.
    pub urgent_new: u32,
    /// Old messages marked urgent.
    pub urgent_old: u32,
}

/// What a message-summary body says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageSummary {
    /// `Messages-Waiting: yes`.
    pub waiting: bool,
    /// The `Voice-Message` counts, when the body has them.
    pub voice: Option<MessageCounts>,
}

/// Why a message-summary body was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryError {
    /// The body is not UTF-8 text.
    NotText,
    /// The mandatory `Messages-Waiting` line is missing (RFC 3842 §5.2).
    MissingStatus,
    /// A `Messages-Waiting` or `Voice-Message` line does not parse; the
    /// value is the line's 0-based number.
    BadLine(u16),
}

/// Parses an `application/simple-message-summary` body. Unknown lines
/// (`Message-Account`, other message classes, optional headers after the
/// blank line) are skipped, as RFC 3842 §5.2 lets a receiver do.
pub fn parse_message_summary(body: &[u8]) -> Result<MessageSummary, SummaryError> {
    let text = core::str::from_utf8(body).map_err(|_| SummaryError::NotText)?;
    let mut waiting = None;
    let mut voice = None;
    for (i, line) in text.lines().enumerate() {
        let n = u16::try_from(i).unwrap_or(u16::MAX);
        let line = line.trim_ascii();
        if line.is_empty() {
            // The summary lines end at the first blank line; message
            // headers may follow.
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim_ascii(), value.trim_ascii());
        if name.eq_ignore_ascii_case("Messages-Waiting") {
            waiting = Some(if value.eq_ignore_ascii_case("yes") {
                true
            } else if value.eq_ignore_ascii_case("no") {
                false
            } else {
                return Err(SummaryError::BadLine(n));
            });
        } else if name.eq_ignore_ascii_case("Voice-Message") {
            voice = Some(parse_counts(value).ok_or(SummaryError::BadLine(n))?);
        }
    }
    Ok(MessageSummary {
        waiting: waiting.ok_or(SummaryError::MissingStatus)?,
        voice,
    })
}

/// `new/old` optionally followed by `(urgent-new/urgent-old)`.
fn parse_counts(value: &str) -> Option<MessageCounts> {
    let (plain, urgent) = match value.split_once('(') {
        Some((p, u)) => (
            p.trim_ascii(),
            Some(u.trim_ascii().strip_suffix(')')?.trim_ascii()),
        ),
        None => (value, None),
    };
    let (new, old) = pair(plain)?;
    let (urgent_new, urgent_old) = match urgent {
        Some(u) => pair(u)?,
        None => (0, 0),
    };
    Some(MessageCounts {
        new,
        old,
        urgent_new,
        urgent_old,
    })
}

fn pair(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('/')?;
    Some((a.trim_ascii().parse().ok()?, b.trim_ascii().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3842_example_body() {
        let body = b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\n\
            Voice-Message: 2/8 (0/2)\r\n";
        let s = parse_message_summary(body).unwrap();
        assert!(s.waiting);
        assert_eq!(
            s.voice,
            Some(MessageCounts {
                new: 2,
                old: 8,
                urgent_new: 0,
                urgent_old: 2
            })
        );
    }

    #[test]
    fn no_messages_and_no_counts() {
        let s = parse_message_summary(b"messages-waiting : no\r\n").unwrap();
        assert_eq!(
            s,
            MessageSummary {
                waiting: false,
                voice: None
            }
        );
        let s = parse_message_summary(b"Messages-Waiting: yes\r\nVoice-Message: 3/0\r\n").unwrap();
        assert_eq!(s.voice.map(|v| (v.new, v.urgent_new)), Some((3, 0)));
    }

    #[test]
    fn refuses_broken_bodies() {
        assert_eq!(
            parse_message_summary(b"Voice-Message: 1/1\r\n"),
            Err(SummaryError::MissingStatus)
        );
        assert_eq!(
            parse_message_summary(b"Messages-Waiting: maybe\r\n"),
            Err(SummaryError::BadLine(0))
        );
        assert_eq!(
            parse_message_summary(b"Messages-Waiting: yes\r\nVoice-Message: 1/x (0/0)\r\n"),
            Err(SummaryError::BadLine(1))
        );
        assert_eq!(
            parse_message_summary(b"Messages-Waiting: yes\r\nVoice-Message: 1/2 (0/0\r\n"),
            Err(SummaryError::BadLine(1))
        );
        assert_eq!(
            parse_message_summary(&[0xff, 0xfe]),
            Err(SummaryError::NotText)
        );
        // Lines after the blank line are message headers, not summary.
        let s = parse_message_summary(b"Messages-Waiting: no\r\n\r\nVoice-Message: x\r\n").unwrap();
        assert!(!s.waiting);
    }
}
