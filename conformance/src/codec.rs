//! Helpers for the codec tests: the message corpora with their verdicts,
//! the strict judgement, and a walk that reads every header through its
//! typed parser.

use std::path::{Path, PathBuf};

use handset_core::message::{
    Challenge, Contact, Contacts, Credentials, Event, HeaderName, Message, NameAddr, ParseError,
    RAck, ReferTo, Replaces, RetryAfter, SessionExpires, SipDate, SubscriptionState, Via,
};

/// One corpus message and the verdict its `verdicts.txt` gives.
#[derive(Clone, Debug)]
pub struct CorpusEntry {
    /// The path relative to `conformance/corpus`, e.g. `rfc4475/valid/wsinv.dat`.
    pub name: String,
    /// Whether a strict UA accepts the message.
    pub expect_ok: bool,
    /// The message bytes.
    pub bytes: Vec<u8>,
}

/// The corpus folder.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Every message listed in a `verdicts.txt` under the corpus folder, in
/// a stable order. Panics when a listed file is missing or a line is
/// malformed: a broken corpus must fail the tests.
pub fn load_corpus() -> Vec<CorpusEntry> {
    let root = corpus_dir();
    let mut lists = Vec::new();
    collect_verdict_files(&root, &mut lists);
    lists.sort();
    let mut out = Vec::new();
    for list in lists {
        let dir = list.parent().expect("verdicts.txt has a folder");
        let text = std::fs::read_to_string(&list).expect("readable verdicts.txt");
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (rel, verdict) = line.rsplit_once(' ').expect("`<path> ok|error`");
            let expect_ok = match verdict {
                "ok" => true,
                "error" => false,
                v => panic!("{}: unknown verdict {v}", list.display()),
            };
            let path = dir.join(rel.trim());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .strip_prefix(&root)
                .expect("inside the corpus")
                .to_string_lossy()
                .into_owned();
            out.push(CorpusEntry {
                name,
                expect_ok,
                bytes,
            });
        }
    }
    out
}

fn collect_verdict_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_verdict_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "verdicts.txt") {
            out.push(p);
        }
    }
}

/// What a strict UA makes of one datagram: parse, then validate.
pub fn judge(bytes: &[u8]) -> Result<Message<'_>, ParseError> {
    let m = Message::parse_datagram(bytes)?;
    m.validate()?;
    Ok(m)
}

/// Which header failed its typed parse, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypedHeaderError<'a> {
    /// The header name as written.
    pub name: &'a str,
    /// The error.
    pub error: ParseError,
}

/// Reads every header of `m` through its typed parser (each list element
/// on its own) and every typed accessor of [`Message`]. Returns how many
/// typed values were read. Allocates nothing.
pub fn read_typed_headers<'a>(m: &Message<'a>) -> Result<usize, TypedHeaderError<'a>> {
    let mut count = 0usize;
    for field in m.headers() {
        let fail = |error| TypedHeaderError {
            name: field.name,
            error,
        };
        let name = field.header_name();
        let v = field.value;
        let mut each = |f: &dyn Fn(&'a str) -> Result<(), ParseError>| {
            for item in handset_core::message::CommaList::new(v) {
                f(item).map_err(fail)?;
                count += 1;
            }
            Ok::<(), TypedHeaderError<'a>>(())
        };
        match name {
            HeaderName::Via => each(&|i| Via::parse(i).map(|_| ()))?,
            HeaderName::Contact if v.trim() != "*" => each(&|i| Contact::parse(i).map(|_| ()))?,
            HeaderName::Route | HeaderName::RecordRoute => {
                each(&|i| NameAddr::parse(i).map(|_| ()))?
            }
            _ => {
                let r = match name {
                    HeaderName::From | HeaderName::To | HeaderName::ReferredBy => {
                        NameAddr::parse(v).map(|_| ())
                    }
                    HeaderName::CSeq => handset_core::message::CSeq::parse(v).map(|_| ()),
                    HeaderName::Event => Event::parse(v).map(|_| ()),
                    HeaderName::SubscriptionState => SubscriptionState::parse(v).map(|_| ()),
                    HeaderName::ReferTo => ReferTo::parse(v).map(|r| {
                        let mut buf = [0u8; 256];
                        let _ = r.replaces(&mut buf);
                    }),
                    HeaderName::Replaces => Replaces::parse(v).map(|_| ()),
                    HeaderName::WwwAuthenticate | HeaderName::ProxyAuthenticate => {
                        Challenge::parse(v).map(|c| {
                            let _ = c.digest();
                        })
                    }
                    HeaderName::Authorization | HeaderName::ProxyAuthorization => {
                        Credentials::parse(v).map(|c| {
                            let _ = c.digest();
                        })
                    }
                    HeaderName::RAck => RAck::parse(v).map(|_| ()),
                    HeaderName::SessionExpires => SessionExpires::parse(v).map(|_| ()),
                    HeaderName::RetryAfter => RetryAfter::parse(v).map(|_| ()),
                    HeaderName::Date => SipDate::parse(v).map(|_| ()),
                    _ => Ok(()),
                };
                r.map_err(fail)?;
                count += 1;
            }
        }
    }
    // The accessors on Message, each of which re-scans the header section.
    let whole = |name: &'a str| move |error| TypedHeaderError { name, error };
    macro_rules! read {
        ($($acc:ident => $name:literal),* $(,)?) => {$(
            if let Some(r) = m.$acc() {
                r.map_err(whole($name))?;
                count += 1;
            }
        )*};
    }
    read!(
        top_via => "Via", from => "From", to => "To", cseq => "CSeq",
        max_forwards => "Max-Forwards", content_length => "Content-Length",
        expires => "Expires", min_expires => "Min-Expires", allow => "Allow",
        supported => "Supported", require => "Require", unsupported => "Unsupported",
        proxy_require => "Proxy-Require", event => "Event",
        subscription_state => "Subscription-State", refer_to => "Refer-To",
        referred_by => "Referred-By", replaces => "Replaces", refer_sub => "Refer-Sub",
        www_authenticate => "WWW-Authenticate", proxy_authenticate => "Proxy-Authenticate",
        authorization => "Authorization", proxy_authorization => "Proxy-Authorization",
        rseq => "RSeq", rack => "RAck", session_expires => "Session-Expires",
        min_se => "Min-SE", retry_after => "Retry-After", date => "Date",
    );
    for r in m.vias() {
        r.map_err(whole("Via"))?;
    }
    for r in m.routes().chain(m.record_routes()) {
        r.map_err(whole("Route"))?;
    }
    if let Some(c) = m.contacts() {
        if let Contacts::List(list) = c.map_err(whole("Contact"))? {
            for r in list {
                r.map_err(whole("Contact"))?;
                count += 1;
            }
        }
    }
    if let Some(Ok(r)) = m.request_uri() {
        count += usize::from(r.host.is_some());
    }
    let _ = (m.call_id(), m.content_type(), m.body());
    Ok(count)
}
