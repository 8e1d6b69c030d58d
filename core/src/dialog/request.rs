//! Writing the dialog's part of a request sent within it (RFC 3261
//! §12.2.1.1): Request-URI and Route from the remote target and route set,
//! From, To, Call-ID and CSeq. The caller adds Via, Max-Forwards, Contact,
//! authentication and the body, and finishes the message.

use core::fmt;

use super::error::DialogError;
use super::state::{Dialog, Party};
use crate::message::{MessageWriter, Method, Uri};

impl Dialog {
    /// The first route, when it is a strict router (no `lr` parameter,
    /// RFC 3261 §16.12): requests then go to it as Request-URI.
    fn strict_first_route(&self) -> Option<&str> {
        let first = self.route_set.first()?;
        let loose = Uri::parse(first).is_ok_and(|u| u.param("lr").is_some());
        (!loose).then_some(first.as_str())
    }

    /// Writes the request line. The Request-URI is the remote target, or,
    /// when the first route is a strict router, that route (RFC 3261
    /// §12.2.1.1), without the parts a Request-URI may not hold.
    pub fn write_request_line(&self, w: &mut MessageWriter<'_>, method: Method<'_>) {
        let uri = self
            .strict_first_route()
            .unwrap_or(self.remote_target.as_str());
        w.fmt(format_args!(
            "{} {} SIP/2.0\r\n",
            method.as_str(),
            RequestUri(uri)
        ));
    }

    /// Writes Route, From, To, Call-ID and CSeq for a request of `method`
    /// numbered `seq` (RFC 3261 §12.2.1.1).
    ///
    /// Loose routing (empty route set, or a first route with `lr`): the
    /// route set in order. Strict routing: the route set without its first
    /// entry (which went into the Request-URI), then the remote target.
    pub fn write_headers(&self, w: &mut MessageWriter<'_>, method: Method<'_>, seq: u32) {
        if self.strict_first_route().is_some() {
            for route in self.route_set.iter().skip(1) {
                w.header_fmt("Route", format_args!("<{route}>"));
            }
            w.header_fmt("Route", format_args!("<{}>", self.remote_target));
        } else {
            for route in self.route_set.iter() {
                w.header_fmt("Route", format_args!("<{route}>"));
            }
        }
        w.header_fmt(
            "From",
            format_args!("{}", Addr(&self.local, &self.local_tag)),
        );
        w.header_fmt(
            "To",
            format_args!("{}", Addr(&self.remote, &self.remote_tag)),
        );
        w.header("Call-ID", &self.call_id);
        w.header_fmt("CSeq", format_args!("{} {}", seq, method.as_str()));
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

/// `"Display" <uri>;tag=t`: From or To of an in-dialog request.
struct Addr<'a>(&'a Party, &'a str);

impl fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.0.display_name {
            write!(f, "{name} ")?;
        }
        write!(f, "<{}>;tag={}", self.0.uri, self.1)
    }
}

/// A URI written as a Request-URI: without its `?headers` part and its
/// `method` parameter, which a Request-URI may not hold (RFC 3261 §19.1.1
/// table 1, §12.2.1.1 "stripping any parameters that are not allowed").
struct RequestUri<'a>(&'a str);

impl fmt::Display for RequestUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = self.0;
        let Ok(uri) = Uri::parse(raw) else {
            return f.write_str(raw);
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
            return f.write_str(raw);
        };
        f.write_str(base)?;
        for param in uri.params.split(';').filter(|p| !p.is_empty()) {
            let name = param.split('=').next().unwrap_or(param);
            if !name.eq_ignore_ascii_case("method") {
                write!(f, ";{param}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::RequestUri;
    use std::format;

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
            assert_eq!(format!("{}", RequestUri(raw)), want, "{raw}");
        }
    }
}
