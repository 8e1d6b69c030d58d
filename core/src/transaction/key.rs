//! Transaction matching (RFC 3261 §17.1.3 for responses, §17.2.3 for
//! requests), on keys stored without allocation.

use super::{TransactionError, MAGIC_COOKIE};
use crate::message::{push_all, AddrText, Decimal, Host, Message, Method, Via};

/// The longest branch a key stores. Branches are opaque tokens; common
/// stacks write 20-60 characters.
pub const MAX_BRANCH: usize = 128;
/// The longest method name a key stores.
pub const MAX_KEY_METHOD: usize = 32;
/// The longest Via sent-by (`host[:port]`) a key stores.
pub const MAX_SENT_BY: usize = 128;

/// Which side of a transaction a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The transaction sent the request.
    Client,
    /// The transaction received the request.
    Server,
}

/// What identifies one transaction.
///
/// A client key is the top Via branch and the CSeq method of the request it
/// sent (RFC 3261 §17.1.3): a CANCEL shares its INVITE's branch yet is its
/// own transaction. A server key adds the top Via sent-by and uses the
/// request method, an ACK standing for the INVITE it acknowledges
/// (§17.2.3). RFC 2543 requests, whose branch lacks the magic cookie, get
/// no key ([`TransactionError::NotRfc3261Branch`]): the phone answers
/// them without a server transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    role: Role,
    branch: heapless::String<MAX_BRANCH>,
    method: heapless::String<MAX_KEY_METHOD>,
    sent_by: heapless::String<MAX_SENT_BY>,
}

/// The parts of a message that take part in matching, borrowed.
struct Parts<'a> {
    branch: &'a str,
    via: Via<'a>,
}

fn parts<'a>(msg: &Message<'a>) -> Result<Parts<'a>, TransactionError> {
    let via = msg
        .top_via()
        .ok_or(TransactionError::MissingVia)?
        .map_err(|_| TransactionError::MissingVia)?;
    let branch = via.branch().unwrap_or("");
    // RFC 3261 §17.2.3: only a branch with the magic cookie identifies a
    // transaction; RFC 2543 matching is not supported.
    if !branch.starts_with(MAGIC_COOKIE) {
        return Err(TransactionError::NotRfc3261Branch);
    }
    Ok(Parts { branch, via })
}

fn cseq_method<'a>(msg: &Message<'a>) -> Result<Method<'a>, TransactionError> {
    msg.cseq()
        .ok_or(TransactionError::MissingCSeq)?
        .map(|c| c.method)
        .map_err(|_| TransactionError::MissingCSeq)
}

/// The method a server key stores: an ACK belongs to the INVITE's
/// transaction (RFC 3261 §17.2.3).
fn server_method<'a>(msg: &Message<'a>) -> Result<Method<'a>, TransactionError> {
    match msg.method().ok_or(TransactionError::WrongKind)? {
        Method::Ack => Ok(Method::Invite),
        m => Ok(m),
    }
}

/// `host[:port]` of a Via, host lowercased (host names compare
/// case-insensitively, RFC 3261 §19.1.4).
fn sent_by(via: &Via<'_>) -> Result<heapless::String<MAX_SENT_BY>, TransactionError> {
    let mut s = heapless::String::<MAX_SENT_BY>::new();
    let ip;
    let host = match (via.host, via.host.ip()) {
        (Host::Name(name), _) => name,
        (_, Some(a)) => {
            ip = AddrText::host(a);
            ip.as_str()
        }
        (_, None) => "",
    };
    let port = via.port.map(|p| Decimal::new(u64::from(p)));
    let written = match &port {
        Some(p) => push_all(&mut s, &[host, ":", p.as_str()]),
        None => push_all(&mut s, &[host]),
    };
    written.map_err(|_| TransactionError::KeyTooLong)?;
    s.make_ascii_lowercase();
    Ok(s)
}

fn bounded<const L: usize>(s: &str) -> Result<heapless::String<L>, TransactionError> {
    let mut out = heapless::String::new();
    out.push_str(s).map_err(|()| TransactionError::KeyTooLong)?;
    Ok(out)
}

impl TransactionKey {
    /// The key of the client transaction a request belongs to, or a
    /// response answers: top Via branch and CSeq method (§17.1.3).
    pub fn client(msg: &Message<'_>) -> Result<TransactionKey, TransactionError> {
        let p = parts(msg)?;
        Ok(TransactionKey {
            role: Role::Client,
            branch: bounded(p.branch)?,
            method: bounded(cseq_method(msg)?.as_str())?,
            sent_by: heapless::String::new(),
        })
    }

    /// The key of the server transaction a received request belongs to:
    /// branch, sent-by and method, ACK counted as INVITE (§17.2.3).
    pub fn server(msg: &Message<'_>) -> Result<TransactionKey, TransactionError> {
        let p = parts(msg)?;
        Ok(TransactionKey {
            role: Role::Server,
            branch: bounded(p.branch)?,
            method: bounded(server_method(msg)?.as_str())?,
            sent_by: sent_by(&p.via)?,
        })
    }

    /// The key of the server transaction that sends `response`: its top
    /// Via branch and sent-by and its CSeq method, which a response copies
    /// from the request (RFC 3261 §8.2.6.2).
    pub(crate) fn server_of_response(
        response: &Message<'_>,
    ) -> Result<TransactionKey, TransactionError> {
        if response.is_request() {
            return Err(TransactionError::WrongKind);
        }
        let p = parts(response)?;
        Ok(TransactionKey {
            role: Role::Server,
            branch: bounded(p.branch)?,
            method: bounded(cseq_method(response)?.as_str())?,
            sent_by: sent_by(&p.via)?,
        })
    }

    /// The key of the INVITE server transaction a received CANCEL cancels:
    /// the CANCEL's branch and sent-by with method INVITE (RFC 3261 §9.2).
    pub fn cancelled_invite(cancel: &Message<'_>) -> Result<TransactionKey, TransactionError> {
        if cancel.method() != Some(Method::Cancel) {
            return Err(TransactionError::WrongMethod);
        }
        let mut key = TransactionKey::server(cancel)?;
        key.method = bounded(Method::Invite.as_str())?;
        Ok(key)
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The top Via branch.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The method of the request that created the transaction.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The top Via sent-by, lowercased (empty for a client key).
    pub fn sent_by(&self) -> &str {
        &self.sent_by
    }

    /// Whether a received response belongs to this client transaction
    /// (RFC 3261 §17.1.3). Never true for a server key.
    pub fn matches_response(&self, msg: &Message<'_>) -> bool {
        if self.role != Role::Client || msg.is_request() {
            return false;
        }
        let (Ok(p), Ok(method)) = (parts(msg), cseq_method(msg)) else {
            return false;
        };
        p.branch == self.branch.as_str() && method.as_str() == self.method.as_str()
    }

    /// The status code of a received response that belongs to this client
    /// transaction; `None` for anything else.
    pub fn matching_status(&self, response: &Message<'_>) -> Option<u16> {
        response
            .status()
            .filter(|_| self.matches_response(response))
    }

    /// Whether a received request belongs to this server transaction: a
    /// retransmission, or the ACK for a non-2xx final (RFC 3261 §17.2.3).
    /// Never true for a client key.
    pub fn matches_request(&self, msg: &Message<'_>) -> bool {
        if self.role != Role::Server {
            return false;
        }
        let (Ok(p), Ok(method)) = (parts(msg), server_method(msg)) else {
            return false;
        };
        p.branch == self.branch.as_str()
            && method.as_str() == self.method.as_str()
            && sent_by(&p.via).is_ok_and(|s| s == self.sent_by)
    }
}
