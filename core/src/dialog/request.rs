//! Writing the dialog's part of a request sent within it (RFC 3261
//! §12.2.1.1): Request-URI and Route from the remote target and route set,
//! From, To, Call-ID and CSeq. The caller adds Via, Max-Forwards, Contact,
//! authentication and the body, and finishes the message.

use super::error::DialogError;
use super::state::Dialog;
use crate::message::{Decimal, MessageWriter, Method, Uri};

impl Dialog {
    /// The first route, when it is a strict router (no `lr` parameter,
    /// RFC 3261 §16.12): requests then go to it as Request-URI.
    fn strict_first_route(&self) -> Option<&str> {
        let first = self.route_set().next()?;
        let loose = Uri::parse(first).is_ok_and(|u| u.param("lr").is_some());
        (!loose).then_some(first)
    }

    /// Writes the request line. The Request-URI is the remote target, or,
    /// when the first route is a strict router, that route (RFC 3261
    /// §12.2.1.1), without the parts a Request-URI may not hold.
    pub fn write_request_line(&self, w: &mut MessageWriter<'_>, method: Method<'_>) {
        let uri = self.strict_first_route().unwrap_or(self.remote_target());
        w.text(&[method.as_str(), " "]);
        write_request_uri(w, uri);
        w.raw(b" SIP/2.0\r\n");
    }

    /// Writes Route, From, To, Call-ID and CSeq for a request of `method`
    /// numbered `seq` (RFC 3261 §12.2.1.1).
    ///
    /// Loose routing (empty route set, or a first route with `lr`): the
    /// route set in order. Strict routing: the route set without its first
    /// entry (which went into the Request-URI), then the remote target.
    pub fn write_headers(&self, w: &mut MessageWriter<'_>, method: Method<'_>, seq: u32) {
        if self.strict_first_route().is_some() {
            for route in self.route_set().skip(1) {
                w.header_text("Route", &["<", route, ">"]);
            }
            w.header_text("Route", &["<", self.remote_target(), ">"]);
        } else {
            for route in self.route_set() {
                w.header_text("Route", &["<", route, ">"]);
            }
        }
        let (local_name, local_uri) = (self.local_display_name(), self.local_uri());
        write_party(w, "From", local_name, local_uri, self.local_tag());
        let (remote_name, remote_uri) = (self.remote_display_name(), self.remote_uri());
        write_party(w, "To", remote_name, remote_uri, self.remote_tag());
        w.header("Call-ID", self.call_id());
        let seq = Decimal::new(u64::from(seq));
        w.header_text("CSeq", &[seq.as_str(), " ", method.as_str()]);
    }

    /// Writes the request line and the dialog headers of a request of
    /// `method` numbered `seq`.
    pub fn write_request(&self, w: &mut MessageWriter<'_>, method: Method<'_>, seq: u32) {
        self.write_request_line(w, method);
        self.write_headers(w, method, seq);
    }

    /// Starts a new request within the dialog (BYE, re-INVITE, UPDATE,
    /// INFO, REFER, NOTIFY, ...): takes the next local CSeq and writes the
    /// request line and dialog headers. Returns the CSeq number. A number
    /// taken for a message that then did not fit the buffer is simply
    /// skipped: the peer accepts gaps (RFC 3261 §12.2.2).
    pub fn start_request(
        &mut self,
        w: &mut MessageWriter<'_>,
        method: Method<'_>,
    ) -> Result<u32, DialogError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(DialogError::NotSequenced);
        }
        let seq = self.next_local_cseq()?;
        self.write_request(w, method, seq);
        Ok(seq)
    }

    /// Writes the ACK for a 2xx to an INVITE numbered `invite_seq`: built
    /// like any in-dialog request, with the INVITE's CSeq number and method
    /// ACK (RFC 3261 §13.2.2.4). Read `invite_seq` from the 2xx's CSeq, so
    /// that a retransmitted 2xx of an older INVITE gets its own ACK. The
    /// caller supplies a new Via branch: this ACK is its own transaction.
    pub fn write_ack(&self, w: &mut MessageWriter<'_>, invite_seq: u32) {
        self.write_request(w, Method::Ack, invite_seq);
    }

    /// Writes a CANCEL for a re-INVITE numbered `invite_seq` sent within
    /// this dialog (RFC 3261 §9.1: same Request-URI, Call-ID, From, To,
    /// Route and CSeq number as the request). Valid while the remote target
    /// and route set are those the re-INVITE was sent with; the caller
    /// copies the re-INVITE's top Via, branch included.
    pub fn write_cancel(&self, w: &mut MessageWriter<'_>, invite_seq: u32) {
        self.write_request(w, Method::Cancel, invite_seq);
    }
}

/// `name: "Display" <uri>;tag=t`: From or To of an in-dialog request.
fn write_party(
    w: &mut MessageWriter<'_>,
    name: &str,
    display_name: Option<&str>,
    uri: &str,
    tag: &str,
) {
    w.text(&[name, ": "]);
    if let Some(display) = display_name {
        w.text(&[display, " "]);
    }
    w.text(&["<", uri, ">;tag=", tag, "\r\n"]);
}

/// Writes `raw` as a Request-URI: without its `?headers` part and its
/// `method` parameter, which a Request-URI may not hold (RFC 3261 §19.1.1
/// table 1, §12.2.1.1 "stripping any parameters that are not allowed").
fn write_request_uri(w: &mut MessageWriter<'_>, raw: &str) {
    let Ok(uri) = Uri::parse(raw) else {
        return w.text(&[raw]);
    };
    // raw = base [params] ["?" headers]
    let without_headers = if !uri.headers.is_empty() {
        raw.len().checked_sub(uri.headers.len() + 1)
    } else if raw.ends_with('?') {
        raw.len().checked_sub(1)
    } else {
        Some(raw.len())
    };
    let base = without_headers
        .and_then(|end| end.checked_sub(uri.params.len()))
        .and_then(|end| raw.get(..end));
    let Some(base) = base else {
        return w.text(&[raw]);
    };
    w.text(&[base]);
    for param in uri.params.split(';').filter(|p| !p.is_empty()) {
        let name = param.split('=').next().unwrap_or(param);
        if !name.eq_ignore_ascii_case("method") {
            w.text(&[";", param]);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::write_request_uri;
    use crate::message::MessageWriter;

    #[test]
    fn request_uri_drops_headers_and_method() {
        for (raw, want) in [
            ("sip:bob@192.0.2.4", "sip:bob@192.0.2.4"),
            (
                "sip:p1.example.com;lr;method=INVITE?Subject=x",
                "sip:p1.example.com;lr",
            ),
            ("sip:a@b;transport=tcp?", "sip:a@b;transport=tcp"),
            ("sips:a?x@b;METHOD=BYE;maddr=h", "sips:a?x@b;maddr=h"),
            ("sip:c@h?Replaces=x%40y", "sip:c@h"),
        ] {
            let mut buf = [0u8; 64];
            let mut w = MessageWriter::new(&mut buf);
            write_request_uri(&mut w, raw);
            assert_eq!(w.written(), want.as_bytes(), "{raw}");
        }
    }
}
