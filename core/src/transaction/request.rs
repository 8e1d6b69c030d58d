//! Checks shared by the four machines, and the requests a client INVITE
//! transaction derives from its INVITE (ACK for non-2xx, CANCEL).

use super::{TransactionError, MAX_MESSAGE};
use crate::message::{Decimal, HeaderName, Message, MessageWriter, Method};

/// Parses the request a transaction is created from and checks what every
/// transaction relies on: a request, a CSeq naming the same method, and a
/// size the transaction can store.
pub(crate) fn parse_request(bytes: &[u8]) -> Result<Message<'_>, TransactionError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(TransactionError::MessageTooLarge);
    }
    let msg = Message::parse_datagram(bytes)?;
    let method = msg.method().ok_or(TransactionError::WrongKind)?;
    let cseq = msg
        .cseq()
        .ok_or(TransactionError::MissingCSeq)?
        .map_err(|_| TransactionError::MissingCSeq)?;
    // RFC 3261 §8.1.1.5: the CSeq method matches the request method.
    if cseq.method != method {
        return Err(TransactionError::MethodMismatch);
    }
    Ok(msg)
}

/// Parses a response a server transaction is asked to send and returns it
/// with its status code.
pub(crate) fn parse_response(bytes: &[u8]) -> Result<(Message<'_>, u16), TransactionError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(TransactionError::MessageTooLarge);
    }
    let msg = Message::parse_datagram(bytes)?;
    let code = msg.status().ok_or(TransactionError::WrongKind)?;
    Ok((msg, code))
}

/// The top Via branch of a message, if any.
pub(crate) fn top_branch<'a>(msg: &Message<'a>) -> Option<&'a str> {
    msg.top_via()?.ok()?.branch()
}

/// Writes an ACK or CANCEL derived from `original` (the INVITE): same
/// Request-URI, Call-ID, From, CSeq number and a single Via equal to the
/// INVITE's top Via, the INVITE's Route headers, and `to` as the To header
/// (RFC 3261 §17.1.1.3 for ACK, §9.1 for CANCEL).
pub(crate) fn write_derived(
    original: &Message<'_>,
    method: Method<'_>,
    to: &str,
    out: &mut [u8],
) -> Result<usize, TransactionError> {
    let missing = TransactionError::Parse(crate::message::ParseErrorKind::MissingHeader);
    let line = original.request_line().ok_or(TransactionError::WrongKind)?;
    let via = original
        .header_values(HeaderName::Via)
        .next()
        .ok_or(TransactionError::MissingVia)?;
    let from = original.header(HeaderName::From).ok_or(missing)?;
    let call_id = original.header(HeaderName::CallId).ok_or(missing)?;
    let cseq = original
        .cseq()
        .ok_or(TransactionError::MissingCSeq)?
        .map_err(|_| TransactionError::MissingCSeq)?;

    let mut w = MessageWriter::new(out);
    w.request_line(method, line.uri);
    w.header("Via", via.trim_ascii());
    for route in original
        .headers()
        .filter(|h| HeaderName::Route.matches(h.name))
    {
        w.header("Route", route.value);
    }
    w.header("Max-Forwards", "70");
    w.header("From", from);
    w.header("To", to);
    w.header("Call-ID", call_id);
    let seq = Decimal::new(u64::from(cseq.seq));
    w.header_text("CSeq", &[seq.as_str(), " ", method.as_str()]);
    w.finish(None, b"")
        .map_err(|_| TransactionError::BufferTooSmall)
}
