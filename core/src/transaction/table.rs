//! A fixed-capacity table of live transactions, with handles that can
//! never reach a transaction that reused their slot.

use core::net::SocketAddr;

use super::accepted::AcceptedInvites;
use super::completed::CompletedRequests;
use super::index::{branch_hash, BranchIndex, DeadlineHeap};
use super::{
    ClientEvent, InviteClientTransaction, InviteServerState, InviteServerTransaction, MessagePool,
    NonInviteClientTransaction, NonInviteServerState, NonInviteServerTransaction, Reliability,
    ServerEvent, TimerConfig, TimerEvent, TransactionError, TransactionKey,
};
use crate::message::{Message, Method};
pub use crate::slots::TableFull;
use crate::slots::{Handle, Slots};
use crate::time::Instant;

/// Any of the four transaction machines.
#[derive(Clone, Debug)]
pub enum Transaction {
    /// An INVITE client transaction.
    InviteClient(InviteClientTransaction),
    /// A non-INVITE client transaction.
    NonInviteClient(NonInviteClientTransaction),
    /// An INVITE server transaction.
    InviteServer(InviteServerTransaction),
    /// A non-INVITE server transaction.
    NonInviteServer(NonInviteServerTransaction),
}

macro_rules! each {
    ($self:expr, $t:ident => $e:expr) => {
        match $self {
            Transaction::InviteClient($t) => $e,
            Transaction::NonInviteClient($t) => $e,
            Transaction::InviteServer($t) => $e,
            Transaction::NonInviteServer($t) => $e,
        }
    };
}

impl Transaction {
    /// The key messages are matched on.
    pub fn key(&self) -> &TransactionKey {
        each!(self, t => t.key())
    }

    /// The peer: where a client's request goes, where a server's request
    /// came from.
    // Out of line: inlined, LLVM copied the address out of the table with
    // `memmove` (it could not tell the copies apart), which alone links
    // 1.5 KiB of `compiler_builtins`.
    #[inline(never)]
    pub fn peer(&self) -> SocketAddr {
        each!(self, t => t.peer())
    }

    /// The bytes the transaction (re)sends, from `pool`: a client's
    /// request (or its ACK for a non-2xx), a server's last response; empty
    /// when it holds no buffer.
    pub fn message<'p, const B: usize>(&self, pool: &'p MessagePool<B>) -> &'p [u8] {
        each!(self, t => t.message(pool))
    }

    /// Whether the state may still need the stored message.
    pub fn needs_message(&self) -> bool {
        each!(self, t => t.needs_message())
    }

    /// Whether the transaction holds a buffer of its pool.
    pub fn holds_buffer(&self) -> bool {
        each!(self, t => t.holds_buffer())
    }

    /// Gives its buffer back to `pool` when the state no longer needs one.
    pub fn trim<const B: usize>(&mut self, pool: &mut MessagePool<B>) {
        each!(self, t => t.trim(pool))
    }

    /// Gives its buffer back to `pool`, whatever the state.
    pub fn release<const B: usize>(&mut self, pool: &mut MessagePool<B>) {
        each!(self, t => t.release(pool))
    }

    /// When [`on_timer`](Self::on_timer) has work next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        each!(self, t => t.poll_timeout())
    }

    /// Runs the timers due at `now`; call until it returns `None`.
    pub fn on_timer(&mut self, now: Instant) -> Option<TimerEvent> {
        each!(self, t => t.on_timer(now))
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        each!(self, t => t.is_terminated())
    }

    /// Ends the transaction at once.
    pub fn terminate(&mut self) {
        each!(self, t => t.terminate())
    }

    /// Whether this is a client transaction.
    pub fn is_client(&self) -> bool {
        matches!(
            self,
            Transaction::InviteClient(_) | Transaction::NonInviteClient(_)
        )
    }

    /// Takes a response; a server transaction absorbs it.
    pub fn on_response<const B: usize>(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        pool: &mut MessagePool<B>,
    ) -> ClientEvent {
        match self {
            Transaction::InviteClient(t) => t.on_response(now, response, pool),
            Transaction::NonInviteClient(t) => t.on_response(now, response),
            _ => ClientEvent::Absorb,
        }
    }

    /// Takes a request; a client transaction absorbs it.
    pub fn on_request(&mut self, now: Instant, request: &Message<'_>) -> ServerEvent {
        match self {
            Transaction::InviteServer(t) => t.on_request(now, request),
            Transaction::NonInviteServer(t) => t.on_request(now, request),
            _ => ServerEvent::Absorb,
        }
    }

    /// Takes a response from the TU in a server transaction, kept in a
    /// buffer of `pool` as long as the state needs it; on `Ok` the caller
    /// sends it.
    pub fn send_response<const B: usize>(
        &mut self,
        now: Instant,
        response: &[u8],
        pool: &mut MessagePool<B>,
    ) -> Result<(), TransactionError> {
        match self {
            Transaction::InviteServer(t) => t.send_response(now, response, pool),
            Transaction::NonInviteServer(t) => t.send_response(now, response, pool),
            _ => Err(TransactionError::NotAServer),
        }
    }
}

impl From<InviteClientTransaction> for Transaction {
    fn from(t: InviteClientTransaction) -> Self {
        Transaction::InviteClient(t)
    }
}

impl From<NonInviteClientTransaction> for Transaction {
    fn from(t: NonInviteClientTransaction) -> Self {
        Transaction::NonInviteClient(t)
    }
}

impl From<InviteServerTransaction> for Transaction {
    fn from(t: InviteServerTransaction) -> Self {
        Transaction::InviteServer(t)
    }
}

impl From<NonInviteServerTransaction> for Transaction {
    fn from(t: NonInviteServerTransaction) -> Self {
        Transaction::NonInviteServer(t)
    }
}

/// Marks handles of a [`TransactionTable`].
#[derive(Clone, Copy, Debug)]
pub enum TransactionSlot {}

/// A handle to a transaction in a [`TransactionTable`]. It carries the
/// slot's generation: once the transaction is removed, the handle finds
/// nothing, even after another transaction takes the slot.
pub type TransactionId = Handle<TransactionSlot>;

/// Up to `N` live transactions (`N` at most 65,536).
///
/// The caller routes a received response with [`on_response`](Self::on_response)
/// and a received request with [`on_request`](Self::on_request); `None`
/// means no transaction matched (a new request for the TU, an ACK for a
/// 2xx, or a stray response). Timers run through
/// [`handle_timer`](Self::handle_timer), which frees a slot as soon as its
/// transaction ends.
///
/// Matching and timers do not walk the table: an index by branch hash finds
/// the candidates for a message, and a heap of next deadlines finds the
/// next timer, so the cost per message stays flat as `N` grows. A
/// transaction handed out by [`get_mut`](Self::get_mut) may change in any
/// way; the table looks at it again on its next call.
///
/// An INVITE server transaction that reaches Accepted (a 2xx went out)
/// leaves its slot for a compact record of its key and Timer L deadline,
/// up to `N` of them: matching still finds it under its handle (an ACK is
/// delivered, a retransmitted INVITE absorbed, a CANCEL finds the INVITE)
/// and Timer L still reports it, but [`get`](Self::get) no longer does.
/// With every record taken it stays in its slot.
///
/// Likewise a non-INVITE server transaction in Completed (RFC 3261
/// §17.2.2) leaves its slot for one of `R` records of its final response,
/// peer and Timer J deadline, when the response is at most
/// [`MAX_COMPLETED_RESPONSE`](super::MAX_COMPLETED_RESPONSE) bytes: a
/// retransmitted request still matches it under its handle and gets the
/// same bytes again ([`last_response`](Self::last_response)). `R` = 0, the
/// default, keeps such transactions in their slots and costs nothing.
///
/// The messages the transactions keep live in a [`MessagePool`] of `B`
/// buffers (by default one per slot) that the table owns: a transaction
/// holds a buffer only while its state needs one (`needs_message` of each
/// machine) and gives it back at once afterwards, or when it ends or is
/// removed. A client's buffer goes back on the first call into the table
/// after its final response was delivered, so the TU can still read the
/// request while it handles that response. Transactions are created in
/// place with [`start_client`](Self::start_client) and
/// [`start_server`](Self::start_server); when every buffer is lent they
/// refuse with [`TransactionError::PoolEmpty`], as do server responses
/// that must be kept ([`send_response`](Self::send_response)). The TU
/// may borrow buffers of the same pool for messages of its own (the 2xx
/// of RFC 3261 §13.3.1.4) through [`pool_mut`](Self::pool_mut).
#[derive(Clone, Debug)]
pub struct TransactionTable<const N: usize, const R: usize = 0, const B: usize = N> {
    /// The buffers of the messages the transactions (and the TU) keep.
    // First: declared after the indexes, the pool was built in a stack
    // temporary of the firmware's `boot` and copied whole (10 KiB).
    pool: MessagePool<B>,
    slots: Slots<Transaction, TransactionSlot, N>,
    branches: BranchIndex<N>,
    timers: DeadlineHeap<N>,
    /// INVITE server transactions in Accepted, out of their slots.
    accepted: AcceptedInvites<N>,
    /// Non-INVITE server transactions in Completed, out of their slots.
    completed: CompletedRequests<R>,
    /// The slot last lent out by `get_mut`: its deadline, key and state
    /// may differ from what the indexes hold until it is looked at again.
    lent: Option<usize>,
    /// The slot of the client whose response `on_response` last
    /// delivered: its buffer, if the state needs it no more, goes back on
    /// the next call, once the TU has read the request.
    delivered: Option<usize>,
    /// Slots seen terminated, for `remove_terminated`; each at most once,
    /// as `listed_ended` says.
    ended: [u16; N],
    ended_len: usize,
    listed_ended: [bool; N],
}

impl<const N: usize, const R: usize, const B: usize> Default for TransactionTable<N, R, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const R: usize, const B: usize> TransactionTable<N, R, B> {
    /// An empty table.
    // Inlined, as every constructor under it, so a release build writes an
    // empty table's counters where the phone lies and leaves its slots,
    // records and buffers untouched: built out of line, the whole table
    // (pool included) went through a stack temporary and was copied into
    // place, making every page of the load phone resident at start.
    #[inline(always)]
    pub fn new() -> Self {
        TransactionTable {
            pool: MessagePool::new(),
            slots: Slots::new(),
            branches: BranchIndex::new(),
            timers: DeadlineHeap::new(),
            accepted: AcceptedInvites::new(),
            completed: CompletedRequests::new(),
            lent: None,
            delivered: None,
            ended: [0; N],
            ended_len: 0,
            listed_ended: [false; N],
        }
    }

    /// Brings the indexes up to date with the transaction in `slot`, and
    /// takes its buffer back if its state needs none.
    fn sync(&mut self, slot: usize) {
        self.trim(slot);
        self.sync_indexes(slot);
    }

    /// Takes back the buffer of the transaction in `slot` if its state
    /// needs none.
    fn trim(&mut self, slot: usize) {
        if let Some(t) = self
            .slots
            .handle_at(slot)
            .and_then(|id| self.slots.get_mut(id))
        {
            t.trim(&mut self.pool);
        }
    }

    /// Brings the indexes up to date with the transaction in `slot`.
    fn sync_indexes(&mut self, slot: usize) {
        let Some(t) = self.slots.handle_at(slot).and_then(|id| self.slots.get(id)) else {
            self.timers.remove(slot);
            return;
        };
        self.timers
            .set(slot, t.poll_timeout().map(|at| at.as_micros()));
        let hash = branch_hash(t.key().branch());
        if self.branches.hash_of(slot) != Some(hash) {
            self.branches.remove(slot);
            self.branches.insert(slot, hash);
        }
        if t.is_terminated() {
            self.list_ended(slot);
        }
        self.compact_accepted(slot);
        self.compact_completed(slot);
    }

    /// Moves the non-INVITE server transaction in `slot` to a record once
    /// it is Completed: RFC 3261 §17.2.2 leaves it nothing to do but answer
    /// retransmissions with its final response until Timer J.
    // Own frame: the response copied into the record stays off the callers'.
    #[inline(never)]
    fn compact_completed(&mut self, slot: usize) {
        if R == 0 {
            return;
        }
        let Some(id) = self.slots.handle_at(slot) else {
            return;
        };
        let Some(Transaction::NonInviteServer(t)) = self.slots.get(id) else {
            return;
        };
        if t.state() != NonInviteServerState::Completed {
            return;
        }
        let Some(at) = t.poll_timeout() else {
            return;
        };
        if self
            .completed
            .insert(id, t.key(), t.peer(), t.message(&self.pool), at.as_micros())
        {
            self.release_slot(id);
            self.slots.discard(id);
            self.branches.remove(slot);
            self.timers.remove(slot);
        }
    }

    /// Moves the INVITE server transaction in `slot` to a record once it
    /// is Accepted: RFC 6026 §8.7 leaves it nothing to do but match
    /// requests until Timer L.
    // Own frame: the key copied into the record stays off the callers'.
    #[inline(never)]
    fn compact_accepted(&mut self, slot: usize) {
        let Some(id) = self.slots.handle_at(slot) else {
            return;
        };
        let Some(Transaction::InviteServer(t)) = self.slots.get(id) else {
            return;
        };
        if t.state() != InviteServerState::Accepted {
            return;
        }
        let Some(at) = t.poll_timeout() else {
            return;
        };
        if self.accepted.insert(id, t.key(), at.as_micros()) {
            self.release_slot(id);
            self.slots.discard(id);
            self.branches.remove(slot);
            self.timers.remove(slot);
        }
    }

    fn list_ended(&mut self, slot: usize) {
        let (Ok(index), Some(listed)) = (u16::try_from(slot), self.listed_ended.get_mut(slot))
        else {
            return;
        };
        if *listed {
            return;
        }
        if let Some(cell) = self.ended.get_mut(self.ended_len) {
            *cell = index;
            *listed = true;
            self.ended_len += 1;
        }
    }

    /// Gives back the buffer the transaction `id` holds, if any.
    fn release_slot(&mut self, id: TransactionId) {
        if let Some(t) = self.slots.get_mut(id) {
            t.release(&mut self.pool);
        }
    }

    /// Looks again at the transaction `get_mut` lent out, and at the one
    /// whose response was delivered last.
    fn take_back(&mut self) {
        if let Some(slot) = self.delivered.take() {
            self.trim(slot);
        }
        if let Some(slot) = self.lent.take() {
            self.sync(slot);
        }
    }

    /// How many transactions the table can hold.
    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// How many transactions hold a full slot.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// How many Accepted INVITE server transactions wait out Timer L in a
    /// compact record, out of the slots [`len`](Self::len) counts.
    pub fn accepted_len(&self) -> usize {
        self.accepted.len()
    }

    /// How many Completed non-INVITE server transactions wait out Timer J
    /// in a compact record, out of the slots [`len`](Self::len) counts.
    pub fn completed_len(&self) -> usize {
        self.completed.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The pool of message buffers.
    pub fn pool(&self) -> &MessagePool<B> {
        &self.pool
    }

    /// The pool of message buffers, to build a transaction for
    /// [`insert`](Self::insert) or to borrow a buffer for a message the TU
    /// keeps itself. A buffer lent to a transaction is the table's to give
    /// back.
    pub fn pool_mut(&mut self) -> &mut MessagePool<B> {
        &mut self.pool
    }

    /// Starts the client transaction for `request` (an INVITE or any other
    /// method but ACK), which the caller sends to `peer` now; it keeps the
    /// request in a buffer of the pool. [`TransactionError::PoolEmpty`]
    /// or [`TransactionError::TableFull`] leave everything as it was.
    pub fn start_client(
        &mut self,
        request: &[u8],
        peer: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
    ) -> Result<TransactionId, TransactionError> {
        self.take_back();
        if self.slots.is_full() {
            return Err(TransactionError::TableFull);
        }
        let pool = &mut self.pool;
        // RFC 3261 §7.1: the method is case-sensitive and ends at a space.
        let tx: Transaction = if request.starts_with(b"INVITE ") {
            InviteClientTransaction::new(request, peer, reliability, config, now, pool)?.into()
        } else {
            NonInviteClientTransaction::new(request, peer, reliability, config, now, pool)?.into()
        };
        self.insert(tx).map_err(|_| TransactionError::TableFull)
    }

    /// Starts the server transaction for `request` (an INVITE or any other
    /// method but ACK), received from `source`; it holds no buffer until
    /// the TU sends a response to keep.
    pub fn start_server(
        &mut self,
        request: &[u8],
        source: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
    ) -> Result<TransactionId, TransactionError> {
        self.take_back();
        if self.slots.is_full() {
            return Err(TransactionError::TableFull);
        }
        let tx: Transaction = if request.starts_with(b"INVITE ") {
            InviteServerTransaction::new(request, source, reliability, config, now)?.into()
        } else {
            NonInviteServerTransaction::new(request, source, reliability, config, now)?.into()
        };
        self.insert(tx).map_err(|_| TransactionError::TableFull)
    }

    /// Adds a transaction built by the caller; a buffer it holds must come
    /// from this table's [`pool_mut`](Self::pool_mut), and goes back to it
    /// when the table is full. Look for a matching transaction first: the
    /// table does not refuse a second one with the same key.
    pub fn insert(
        &mut self,
        transaction: impl Into<Transaction>,
    ) -> Result<TransactionId, TableFull> {
        self.take_back();
        let mut transaction = transaction.into();
        if self.slots.is_full() {
            transaction.release(&mut self.pool);
            return Err(TableFull);
        }
        let hash = branch_hash(transaction.key().branch());
        let id = self.slots.insert(transaction)?;
        // Indexed here, not by `sync`: the slot's last hash belongs to the
        // transaction that held it before.
        self.branches.insert(id.index(), hash);
        self.sync(id.index());
        Ok(id)
    }

    /// The transaction `id` names, if still live.
    pub fn get(&self, id: TransactionId) -> Option<&Transaction> {
        self.slots.get(id)
    }

    /// The message the transaction `id` keeps (see [`Transaction::message`]),
    /// if it is still live in a slot.
    pub fn message(&self, id: TransactionId) -> Option<&[u8]> {
        self.slots.get(id).map(|t| t.message(&self.pool))
    }

    /// Takes a response from the TU in the server transaction `id` (see
    /// [`InviteServerTransaction::send_response`] and
    /// [`NonInviteServerTransaction::send_response`]); on `Ok` the caller
    /// sends it. [`TransactionError::InvalidState`] when `id` is gone.
    pub fn send_response(
        &mut self,
        id: TransactionId,
        now: Instant,
        response: &[u8],
    ) -> Result<(), TransactionError> {
        self.take_back();
        let t = self
            .slots
            .get_mut(id)
            .ok_or(TransactionError::InvalidState)?;
        // Looked at again on the next call, as after `get_mut`.
        self.lent = Some(id.index());
        t.send_response(now, response, &mut self.pool)
    }

    /// Writes a CANCEL for the INVITE client transaction `id` into `out`
    /// (see [`InviteClientTransaction::write_cancel`]).
    pub fn write_cancel(
        &self,
        id: TransactionId,
        out: &mut [u8],
    ) -> Result<usize, TransactionError> {
        match self.slots.get(id) {
            Some(Transaction::InviteClient(t)) => t.write_cancel(out, &self.pool),
            Some(_) => Err(TransactionError::WrongMethod),
            None => Err(TransactionError::InvalidState),
        }
    }

    /// The transaction `id` names, if still live. It may be changed in any
    /// way but one: a buffer it holds stays the table's to give back.
    pub fn get_mut(&mut self, id: TransactionId) -> Option<&mut Transaction> {
        self.take_back();
        if self.slots.get(id).is_some() {
            self.lent = Some(id.index());
        }
        self.slots.get_mut(id)
    }

    /// Removes the transaction `id` names and returns it, its buffer
    /// given back; the slot's next occupant gets a new generation.
    pub fn remove(&mut self, id: TransactionId) -> Option<Transaction> {
        self.take_back();
        self.release_slot(id);
        let t = self.slots.remove(id)?;
        self.branches.remove(id.index());
        self.timers.remove(id.index());
        Some(t)
    }

    /// Every live transaction with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (TransactionId, &Transaction)> + '_ {
        self.slots.iter()
    }

    /// The lowest slot whose key's branch is `branch` and whose
    /// transaction passes `pred`: the first match in slot order, as a walk
    /// of the whole table would find it.
    fn find(&self, branch: &str, pred: impl Fn(&Transaction) -> bool) -> Option<TransactionId> {
        let hash = branch_hash(branch);
        // The lent slot's key may have changed since it was indexed.
        let lent = self.lent;
        self.branches
            .candidates(hash)
            .filter(|&slot| Some(slot) != lent)
            .chain(lent)
            .filter_map(|slot| self.slots.handle_at(slot))
            .filter(|&id| self.slots.get(id).is_some_and(&pred))
            .min_by_key(|id| id.index())
    }

    /// The top Via branch of a received message; without one no key
    /// matches it.
    fn top_branch<'m>(msg: &Message<'m>) -> Option<&'m str> {
        let via = msg.top_via()?.ok()?;
        Some(via.branch().unwrap_or(""))
    }

    /// The client transaction a received response belongs to (RFC 3261 §17.1.3).
    pub fn find_client(&self, response: &Message<'_>) -> Option<TransactionId> {
        let branch = Self::top_branch(response)?;
        self.find(branch, |t| t.key().matches_response(response))
    }

    /// The server transaction a received request belongs to (RFC 3261
    /// §17.2.3): its retransmission, or the ACK for its non-2xx final.
    pub fn find_server(&self, request: &Message<'_>) -> Option<TransactionId> {
        let branch = Self::top_branch(request)?;
        self.find(branch, |t| t.key().matches_request(request))
            .or_else(|| self.accepted.find_request(branch, request))
            .or_else(|| self.completed.find_request(branch, request))
    }

    /// Where and what the server transaction a received request belongs to
    /// sends again for it (RFC 3261 §17.2.1, §17.2.2): its peer and last
    /// response, from its slot or from its record.
    pub fn last_response(&self, request: &Message<'_>) -> Option<(SocketAddr, &[u8])> {
        let branch = Self::top_branch(request)?;
        if let Some(t) = self.find(branch, |t| t.key().matches_request(request)) {
            return self.slots.get(t).map(|t| (t.peer(), t.message(&self.pool)));
        }
        if self.accepted.find_request(branch, request).is_some() {
            // The 2xx is the TU's to repeat (RFC 6026 §8.7).
            return None;
        }
        self.completed.response_to(branch, request)
    }

    /// The INVITE server transaction a received CANCEL cancels (RFC 3261
    /// §9.2); the CANCEL itself gets a server transaction of its own.
    pub fn find_cancelled_invite(&self, cancel: &Message<'_>) -> Option<TransactionId> {
        let key = TransactionKey::cancelled_invite(cancel).ok()?;
        self.find(key.branch(), |t| {
            matches!(t, Transaction::InviteServer(_)) && *t.key() == key
        })
        .or_else(|| self.accepted.find_key(&key))
    }

    /// Routes a received response to its client transaction.
    pub fn on_response(
        &mut self,
        now: Instant,
        response: &Message<'_>,
    ) -> Option<(TransactionId, ClientEvent)> {
        self.take_back();
        let id = self.find_client(response)?;
        let event = self
            .slots
            .get_mut(id)?
            .on_response(now, response, &mut self.pool);
        // The buffer stays until the next call: the TU handling the
        // response may read the request back (`message`).
        self.sync_indexes(id.index());
        self.delivered = Some(id.index());
        Some((id, event))
    }

    /// Routes a received request to its server transaction.
    pub fn on_request(
        &mut self,
        now: Instant,
        request: &Message<'_>,
    ) -> Option<(TransactionId, ServerEvent)> {
        self.take_back();
        let id = self.find_server(request)?;
        let Some(t) = self.slots.get_mut(id) else {
            // A record: an Accepted INVITE (its key's method is INVITE, an
            // ACK counting as INVITE) or a Completed non-INVITE.
            let event = match request.method() {
                Some(Method::Invite | Method::Ack) => AcceptedInvites::<N>::event_for(request),
                _ => CompletedRequests::<R>::EVENT,
            };
            return Some((id, event));
        };
        let event = t.on_request(now, request);
        self.sync(id.index());
        Some((id, event))
    }

    /// The earliest instant any transaction has timer work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let indexed = match self.lent {
            Some(slot) => self.timers.peek_except(slot),
            None => self.timers.peek(),
        }
        .map(|(at, _)| Instant::from_micros(at));
        let lent = self
            .lent
            .and_then(|slot| self.slots.handle_at(slot))
            .and_then(|id| self.slots.get(id))
            .and_then(Transaction::poll_timeout);
        let accepted = self.accepted.peek().map(|(at, _)| Instant::from_micros(at));
        let completed = self
            .completed
            .peek()
            .map(|(at, _)| Instant::from_micros(at));
        [indexed, lent, accepted, completed]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the earliest timer due at `now` and returns what its
    /// transaction asks for; call until it returns `None`. After a
    /// [`TimerEvent::Timeout`] or [`TimerEvent::Terminated`] the slot is
    /// already free and the handle stale.
    pub fn handle_timer(&mut self, now: Instant) -> Option<(TransactionId, TimerEvent)> {
        self.take_back();
        loop {
            // The earliest deadline, ties to the lowest slot; a record's
            // Timer L or J after the slots' timers due at the same instant,
            // and Timer L before Timer J.
            let first = self.timers.peek();
            let due = |at: u64| at <= now.as_micros() && first.is_none_or(|(f, _)| at < f);
            let accepted = self.accepted.peek().filter(|&(at, _)| due(at));
            let completed = self.completed.peek().filter(|&(at, _)| due(at));
            match (accepted, completed) {
                (Some((at, record)), c) if c.is_none_or(|(c, _)| at <= c) => {
                    if let Some(id) = self.accepted.expire(record) {
                        return Some((id, TimerEvent::Terminated));
                    }
                    continue;
                }
                (_, Some((_, record))) => {
                    if let Some(id) = self.completed.expire(record) {
                        return Some((id, TimerEvent::Terminated));
                    }
                    continue;
                }
                _ => {}
            }
            let (at, slot) = first?;
            if at > now.as_micros() {
                return None;
            }
            let Some(id) = self.slots.handle_at(slot) else {
                self.timers.remove(slot);
                continue;
            };
            let event = self.slots.get_mut(id)?.on_timer(now);
            self.sync(slot);
            if let Some(event) = event {
                if event.is_final() {
                    self.remove(id);
                }
                return Some((id, event));
            }
            // A due timer with nothing to do was disarmed; look again.
        }
    }

    /// Frees every terminated transaction (ended by
    /// [`Transaction::terminate`]) and returns how many.
    pub fn remove_terminated(&mut self) -> usize {
        self.take_back();
        let mut freed = 0;
        let listed = core::mem::replace(&mut self.ended_len, 0);
        for i in 0..listed {
            let Some(slot) = self.ended.get(i).map(|&s| usize::from(s)) else {
                break;
            };
            if let Some(flag) = self.listed_ended.get_mut(slot) {
                *flag = false;
            }
            let Some(id) = self.slots.handle_at(slot) else {
                continue;
            };
            if self.slots.get(id).is_some_and(Transaction::is_terminated) {
                self.remove(id);
                freed += 1;
            }
        }
        freed
    }
}

#[cfg(test)]
mod tests {
    //! The indexed table against the whole-table walks it replaced: the
    //! same operations on two tables give the same answers, step by step.
    extern crate std;

    use std::format;
    use std::string::String;

    use super::*;
    use crate::rng::Rng;
    use crate::transaction::{Reliability, TimerConfig};

    /// Six branches, so that keys collide often, even exactly.
    const BRANCHES: [&str; 6] = [
        "z9hG4bKa", "z9hG4bKb", "z9hG4bKc", "z9hG4bKd", "z9hG4bKe", "z9hG4bKf",
    ];
    const METHODS: [&str; 4] = ["INVITE", "OPTIONS", "ACK", "CANCEL"];

    fn request(method: &str, branch: &str, host: &str) -> String {
        let cseq = if method == "ACK" { "INVITE" } else { method };
        format!(
            "{method} sip:bob@example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP {host}:5060;branch={branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n\
             To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 {cseq}\r\n\
             Content-Length: 0\r\n\r\n"
        )
    }

    fn response(code: u16, method: &str, branch: &str) -> String {
        format!(
            "SIP/2.0 {code} Whatever\r\n\
             Via: SIP/2.0/UDP a.example.com:5060;branch={branch}\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n\
             Call-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
    }

    fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
        let n = u32::try_from(from.len()).unwrap();
        from[rng.below(n) as usize]
    }

    /// A random transaction to start: client or server, its request and
    /// transport.
    #[derive(Clone)]
    struct NewTransaction {
        client: bool,
        request: String,
        rel: Reliability,
    }

    impl NewTransaction {
        fn start<const N: usize, const R: usize, const B: usize>(
            &self,
            table: &mut TransactionTable<N, R, B>,
            now: Instant,
        ) -> Result<TransactionId, TransactionError> {
            let peer = "192.0.2.9:5060".parse().unwrap();
            let (r, cfg) = (self.request.as_bytes(), TimerConfig::default());
            if self.client {
                table.start_client(r, peer, self.rel, cfg, now)
            } else {
                table.start_server(r, peer, self.rel, cfg, now)
            }
        }

        /// The server transaction alone, outside any table (it holds no
        /// buffer yet).
        fn server(&self, now: Instant) -> Option<Transaction> {
            let peer = "192.0.2.9:5060".parse().unwrap();
            let (r, cfg) = (self.request.as_bytes(), TimerConfig::default());
            match self.client {
                true => None,
                false if self.request.starts_with("INVITE") => {
                    InviteServerTransaction::new(r, peer, self.rel, cfg, now)
                        .ok()
                        .map(Into::into)
                }
                false => NonInviteServerTransaction::new(r, peer, self.rel, cfg, now)
                    .ok()
                    .map(Into::into),
            }
        }
    }

    fn new_transaction(rng: &mut Rng) -> NewTransaction {
        let branch = pick(rng, &BRANCHES);
        let host = pick(rng, &["a.example.com", "b.example.com"]);
        let rel = if rng.below(4) == 0 {
            Reliability::Reliable
        } else {
            Reliability::Unreliable
        };
        let kind = rng.below(4);
        let method = if kind.is_multiple_of(2) {
            "INVITE"
        } else {
            pick(rng, &["OPTIONS", "CANCEL"])
        };
        NewTransaction {
            client: kind < 2,
            request: request(method, branch, host),
            rel,
        }
    }

    /// A final or provisional response of the server transaction with
    /// `key`: its branch, sent-by and method.
    fn response_for(code: u16, key: &TransactionKey) -> String {
        format!(
            "SIP/2.0 {code} Whatever\r\n\
             Via: SIP/2.0/UDP {};branch={}\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n\
             Call-ID: c1\r\nCSeq: 1 {}\r\nContent-Length: 0\r\n\r\n",
            key.sent_by(),
            key.branch(),
            key.method()
        )
    }

    impl<const N: usize, const R: usize, const B: usize> TransactionTable<N, R, B> {
        /// `f` on the transaction `id` and the pool, as `get_mut` lends it.
        fn lend<T>(
            &mut self,
            id: TransactionId,
            f: impl FnOnce(&mut Transaction, &mut MessagePool<B>) -> T,
        ) -> Option<T> {
            self.get_mut(id)?;
            let t = self.slots.get_mut(id)?;
            Some(f(t, &mut self.pool))
        }
    }

    fn walk<const N: usize, const R: usize>(
        t: &TransactionTable<N, R>,
        pred: impl Fn(&Transaction) -> bool,
    ) -> Option<TransactionId> {
        t.iter().find(|(_, x)| pred(x)).map(|(id, _)| id)
    }

    /// The first record, in slot order, whose key passes `pred`.
    fn walk_records<const N: usize, const R: usize>(
        t: &TransactionTable<N, R>,
        pred: impl Fn(&TransactionKey) -> bool,
    ) -> Option<TransactionId> {
        t.accepted
            .iter()
            .find(|(_, _, k, _)| pred(k))
            .map(|(_, id, _, _)| id)
    }

    /// The first Completed record, in slot order, `request` retransmits.
    fn walk_completed<const N: usize, const R: usize>(
        t: &TransactionTable<N, R>,
        request: &Message<'_>,
    ) -> Option<TransactionId> {
        t.completed
            .iter()
            .find(|(_, _, _, r, _)| CompletedRequests::<R>::response_matches(r, request))
            .map(|(_, id, _, _, _)| id)
    }

    fn walk_poll<const N: usize, const R: usize>(t: &TransactionTable<N, R>) -> Option<Instant> {
        let records = t
            .accepted
            .iter()
            .map(|(_, _, _, at)| Instant::from_micros(at));
        let completed = t
            .completed
            .iter()
            .map(|(_, _, _, _, at)| Instant::from_micros(at));
        t.iter()
            .filter_map(|(_, x)| x.poll_timeout())
            .chain(records)
            .chain(completed)
            .min()
    }

    fn walk_timer<const N: usize, const R: usize>(
        t: &mut TransactionTable<N, R>,
        now: Instant,
    ) -> Option<(TransactionId, TimerEvent)> {
        loop {
            let slot = t
                .iter()
                .filter_map(|(id, x)| Some((id, x.poll_timeout()?)))
                .filter(|(_, at)| *at <= now)
                .min_by_key(|(_, at)| *at);
            // A record's Timer L runs after slots due at the same instant.
            let record = t
                .accepted
                .iter()
                .map(|(index, id, _, at)| (index, id, Instant::from_micros(at)))
                .filter(|(_, _, at)| *at <= now)
                .min_by_key(|(_, _, at)| *at);
            let completed = t
                .completed
                .iter()
                .map(|(index, id, _, _, at)| (index, id, Instant::from_micros(at)))
                .filter(|(_, _, at)| *at <= now)
                .min_by_key(|(_, _, at)| *at);
            // Timer L before Timer J at the same instant.
            if let Some((index, id, at)) = record {
                if slot.is_none_or(|(_, s)| at < s) && completed.is_none_or(|(_, _, c)| at <= c) {
                    assert_eq!(t.accepted.expire(index), Some(id));
                    return Some((id, TimerEvent::Terminated));
                }
            }
            if let Some((index, id, at)) = completed {
                if slot.is_none_or(|(_, s)| at < s) {
                    assert_eq!(t.completed.expire(index), Some(id));
                    return Some((id, TimerEvent::Terminated));
                }
            }
            let (id, _) = slot?;
            if let Some(event) = t.get_mut(id)?.on_timer(now) {
                if event.is_final() {
                    t.remove(id);
                }
                return Some((id, event));
            }
        }
    }

    fn walk_remove_terminated<const N: usize, const R: usize>(
        t: &mut TransactionTable<N, R>,
    ) -> usize {
        let dead: std::vec::Vec<_> = t
            .iter()
            .filter(|(_, x)| x.is_terminated())
            .map(|(id, _)| id)
            .collect();
        dead.iter().filter(|&&id| t.remove(id).is_some()).count()
    }

    fn random_live<const N: usize, const R: usize>(
        rng: &mut Rng,
        t: &TransactionTable<N, R>,
    ) -> Option<TransactionId> {
        let n = u32::try_from(t.len()).unwrap();
        if n == 0 {
            return None;
        }
        t.iter().nth(rng.below(n) as usize).map(|(id, _)| id)
    }

    /// RFC 6026 §8.7: an answered INVITE leaves its slot for a record that
    /// absorbs the retransmitted INVITE, delivers the ACK, lets a CANCEL
    /// find it and ends with Timer L, all under its first handle.
    #[test]
    fn an_accepted_invite_moves_to_a_record_until_timer_l() {
        let mut table: TransactionTable<4> = TransactionTable::new();
        let peer = "192.0.2.9:5060".parse().unwrap();
        let cfg = TimerConfig::default();
        let invite = request("INVITE", "z9hG4bKa", "a.example.com");
        let t = InviteServerTransaction::new(
            invite.as_bytes(),
            peer,
            Reliability::Unreliable,
            cfg,
            Instant::ZERO,
        )
        .unwrap();
        let id = table.insert(t).unwrap();
        let ok = response(200, "INVITE", "z9hG4bKa");
        let at = Instant::from_micros(1_000);
        table.send_response(id, at, ok.as_bytes()).unwrap();
        let m = Message::parse_datagram(invite.as_bytes()).unwrap();
        assert_eq!(table.on_request(at, &m), Some((id, ServerEvent::Absorb)));
        assert_eq!((table.len(), table.accepted_len()), (0, 1));
        assert!(table.get(id).is_none());
        let ack = request("ACK", "z9hG4bKa", "a.example.com");
        let m = Message::parse_datagram(ack.as_bytes()).unwrap();
        assert_eq!(table.on_request(at, &m), Some((id, ServerEvent::Deliver)));
        // Another sent-by is another transaction (RFC 3261 §17.2.3).
        let other = request("INVITE", "z9hG4bKa", "b.example.com");
        let m = Message::parse_datagram(other.as_bytes()).unwrap();
        assert_eq!(table.find_server(&m), None);
        let cancel = request("CANCEL", "z9hG4bKa", "a.example.com");
        let m = Message::parse_datagram(cancel.as_bytes()).unwrap();
        assert_eq!(table.find_cancelled_invite(&m), Some(id));
        // A new transaction may take the freed slot meanwhile.
        let options = request("OPTIONS", "z9hG4bKb", "a.example.com");
        let o = NonInviteServerTransaction::new(
            options.as_bytes(),
            peer,
            Reliability::Unreliable,
            cfg,
            at,
        )
        .unwrap();
        let other_id = table.insert(o).unwrap();
        // Timer L (RFC 6026 §8.7).
        record_ends_after_64_t1(&mut table, id, other_id, at, &invite);
        assert_eq!(table.accepted_len(), 0);
    }

    /// The record of `id`, whose slot `other` took meanwhile, ends 64·T1
    /// after `at` and not a microsecond before; `req` then matches nothing.
    fn record_ends_after_64_t1<const N: usize, const R: usize>(
        table: &mut TransactionTable<N, R>,
        id: TransactionId,
        other: TransactionId,
        at: Instant,
        req: &str,
    ) {
        assert_eq!(other.index(), id.index());
        assert_ne!(other, id);
        let end = at + TimerConfig::default().t1_x64();
        assert_eq!(table.poll_timeout(), Some(end));
        let just_before = Instant::from_micros(end.as_micros() - 1);
        assert_eq!(table.handle_timer(just_before), None);
        assert_eq!(table.handle_timer(end), Some((id, TimerEvent::Terminated)));
        let m = Message::parse_datagram(req.as_bytes()).unwrap();
        assert_eq!(table.find_server(&m), None);
        assert_eq!(table.len(), 1);
    }

    /// With every record taken, an answered INVITE keeps its slot.
    #[test]
    fn an_accepted_invite_stays_in_its_slot_when_the_records_are_full() {
        let mut table: TransactionTable<2> = TransactionTable::new();
        let peer = "192.0.2.9:5060".parse().unwrap();
        let cfg = TimerConfig::default();
        let mut ids = std::vec::Vec::new();
        for branch in ["z9hG4bKa", "z9hG4bKb", "z9hG4bKc"] {
            let invite = request("INVITE", branch, "a.example.com");
            let t = InviteServerTransaction::new(
                invite.as_bytes(),
                peer,
                Reliability::Unreliable,
                cfg,
                Instant::ZERO,
            )
            .unwrap();
            let id = table.insert(t).unwrap();
            let ok = response(200, "INVITE", branch);
            table
                .send_response(id, Instant::ZERO, ok.as_bytes())
                .unwrap();
            ids.push(id);
        }
        assert_eq!(table.poll_timeout(), Some(Instant::ZERO + cfg.t1_x64()));
        assert_eq!((table.len(), table.accepted_len()), (1, 2));
        assert!(table.get(ids[2]).is_some());
        let invite = request("INVITE", "z9hG4bKc", "a.example.com");
        let m = Message::parse_datagram(invite.as_bytes()).unwrap();
        assert_eq!(
            table.on_request(Instant::ZERO, &m),
            Some((ids[2], ServerEvent::Absorb))
        );
    }

    /// A non-INVITE server transaction answered with `code` at `at`.
    fn answered<const N: usize, const R: usize>(
        table: &mut TransactionTable<N, R>,
        method: &str,
        branch: &str,
        code: u16,
        at: Instant,
    ) -> (TransactionId, String, String) {
        let peer = "192.0.2.9:5060".parse().unwrap();
        let req = request(method, branch, "a.example.com");
        let t = NonInviteServerTransaction::new(
            req.as_bytes(),
            peer,
            Reliability::Unreliable,
            TimerConfig::default(),
            at,
        )
        .unwrap();
        let resp = response_for(code, t.key());
        let id = table.insert(t).unwrap();
        table.send_response(id, at, resp.as_bytes()).unwrap();
        (id, req, resp)
    }

    /// RFC 3261 §17.2.2: an answered BYE leaves its slot for a record that
    /// answers each retransmission with the same bytes and ends with
    /// Timer J, all under its first handle.
    #[test]
    fn a_completed_request_moves_to_a_record_until_timer_j() {
        let mut table: TransactionTable<4, 2> = TransactionTable::new();
        let at = Instant::from_micros(1_000);
        let (id, bye, ok) = answered(&mut table, "BYE", "z9hG4bKa", 200, at);
        let m = Message::parse_datagram(bye.as_bytes()).unwrap();
        assert_eq!(table.on_request(at, &m), Some((id, ServerEvent::Resend)));
        assert_eq!((table.len(), table.completed_len()), (0, 1));
        assert!(table.get(id).is_none());
        let peer = "192.0.2.9:5060".parse().unwrap();
        assert_eq!(table.last_response(&m), Some((peer, ok.as_bytes())));
        // Another sent-by or method is another transaction (§17.2.3).
        for (method, host) in [("BYE", "b.example.com"), ("OPTIONS", "a.example.com")] {
            let other = request(method, "z9hG4bKa", host);
            let m = Message::parse_datagram(other.as_bytes()).unwrap();
            assert_eq!(table.find_server(&m), None);
            assert_eq!(table.last_response(&m), None);
        }
        // The host compares without case (RFC 3261 §19.1.4).
        let shouted = request("BYE", "z9hG4bKa", "A.EXAMPLE.com");
        let m = Message::parse_datagram(shouted.as_bytes()).unwrap();
        assert_eq!(table.find_server(&m), Some(id));
        // A new transaction may take the freed slot meanwhile.
        let (other_id, _, _) = answered(&mut table, "OPTIONS", "z9hG4bKb", 100, at);
        // Timer J (RFC 3261 §17.2.2).
        record_ends_after_64_t1(&mut table, id, other_id, at, &bye);
        assert_eq!(table.completed_len(), 0);
    }

    /// Without records, with every record taken, or with a response too
    /// long for a record, the transaction keeps its slot and still answers.
    #[test]
    fn a_completed_request_stays_in_its_slot_without_a_record_for_it() {
        let at = Instant::ZERO;
        let mut none: TransactionTable<2> = TransactionTable::new();
        let (id, _, _) = answered(&mut none, "BYE", "z9hG4bKa", 200, at);
        assert!(none.get(id).is_some());
        assert_eq!(none.completed_len(), 0);

        let mut one: TransactionTable<4, 1> = TransactionTable::new();
        answered(&mut one, "BYE", "z9hG4bKa", 200, at);
        let (id, bye, ok) = answered(&mut one, "BYE", "z9hG4bKb", 200, at);
        assert_eq!((one.len(), one.completed_len()), (1, 1));
        let m = Message::parse_datagram(bye.as_bytes()).unwrap();
        assert_eq!(one.on_request(at, &m), Some((id, ServerEvent::Resend)));
        let peer = "192.0.2.9:5060".parse().unwrap();
        assert_eq!(one.last_response(&m), Some((peer, ok.as_bytes())));

        let mut long: TransactionTable<4, 2> = TransactionTable::new();
        let req = request("BYE", "z9hG4bKc", "a.example.com");
        let t = NonInviteServerTransaction::new(
            req.as_bytes(),
            peer,
            Reliability::Unreliable,
            TimerConfig::default(),
            at,
        )
        .unwrap();
        let short = response_for(200, t.key());
        let padding = "x".repeat(crate::transaction::MAX_COMPLETED_RESPONSE);
        let big = short.replace(
            "Content-Length",
            &format!("Warning: 399 h \"{padding}\"\r\nContent-Length"),
        );
        let id = long.insert(t).unwrap();
        long.send_response(id, at, big.as_bytes()).unwrap();
        let m = Message::parse_datagram(req.as_bytes()).unwrap();
        assert_eq!(long.on_request(at, &m), Some((id, ServerEvent::Resend)));
        assert_eq!((long.len(), long.completed_len()), (1, 0));
        assert_eq!(long.last_response(&m), Some((peer, big.as_bytes())));
    }

    #[test]
    fn indexed_table_answers_as_a_whole_table_walk() {
        model::<0>();
    }

    #[test]
    fn indexed_table_with_completed_records_answers_as_a_whole_table_walk() {
        model::<8>();
    }

    /// The same random operations on two tables of `R` Completed records,
    /// one answering through its indexes, the other by walks.
    fn model<const R: usize>() {
        // The most records of each kind seen at once, over all seeds.
        let (mut accepted, mut completed) = (0, 0);
        for seed in 1..=12 {
            let mut rng = Rng::new(seed);
            let mut fast: TransactionTable<24, R> = TransactionTable::new();
            let mut slow: TransactionTable<24, R> = TransactionTable::new();
            let mut now = Instant::ZERO;
            for step in 0..3_000 {
                let ctx = format!("seed {seed} step {step}");
                match rng.below(10) {
                    0..=2 => {
                        let t = new_transaction(&mut rng);
                        assert_eq!(t.start(&mut fast, now), t.start(&mut slow, now), "{ctx}");
                    }
                    3 => {
                        let code = [100, 180, 200, 486][rng.below(4) as usize];
                        let r = response(
                            code,
                            pick(&mut rng, &["INVITE", "OPTIONS", "CANCEL"]),
                            pick(&mut rng, &BRANCHES),
                        );
                        let m = Message::parse_datagram(r.as_bytes()).unwrap();
                        let expect = walk(&slow, |x| x.key().matches_response(&m));
                        assert_eq!(fast.find_client(&m), expect, "{ctx}");
                        let got = fast.on_response(now, &m);
                        let want = expect.map(|id| {
                            let event = slow.lend(id, |x, pool| x.on_response(now, &m, pool));
                            (id, event.unwrap())
                        });
                        assert_eq!(got, want, "{ctx}");
                    }
                    4 => {
                        let method = pick(&mut rng, &METHODS);
                        let host = pick(&mut rng, &["a.example.com", "B.example.com"]);
                        let r = request(method, pick(&mut rng, &BRANCHES), host);
                        let m = Message::parse_datagram(r.as_bytes()).unwrap();
                        if let Ok(key) = TransactionKey::cancelled_invite(&m) {
                            let expect = walk(&slow, |x| {
                                matches!(x, Transaction::InviteServer(_)) && *x.key() == key
                            })
                            .or_else(|| walk_records(&slow, |k| *k == key));
                            assert_eq!(fast.find_cancelled_invite(&m), expect, "{ctx}");
                        }
                        let expect = walk(&slow, |x| x.key().matches_request(&m))
                            .or_else(|| walk_records(&slow, |k| k.matches_request(&m)))
                            .or_else(|| walk_completed(&slow, &m));
                        assert_eq!(fast.find_server(&m), expect, "{ctx}");
                        let last = expect.and_then(|id| match slow.get(id) {
                            Some(x) => Some((x.peer(), x.message(&slow.pool))),
                            None => slow
                                .completed
                                .iter()
                                .find(|(_, i, _, _, _)| *i == id)
                                .map(|(_, _, peer, r, _)| (peer, r)),
                        });
                        assert_eq!(fast.last_response(&m), last, "{ctx}");
                        let got = fast.on_request(now, &m);
                        // RFC 6026 §8.7: in Accepted an ACK goes up, an
                        // INVITE is absorbed; RFC 3261 §17.2.2: in
                        // Completed the response goes again.
                        let accepted = match method {
                            "ACK" => ServerEvent::Deliver,
                            "INVITE" => ServerEvent::Absorb,
                            _ => ServerEvent::Resend,
                        };
                        let want = expect.map(|id| match slow.get_mut(id) {
                            Some(x) => (id, x.on_request(now, &m)),
                            None => (id, accepted),
                        });
                        assert_eq!(got, want, "{ctx}");
                    }
                    5 => {
                        // Change a transaction behind the table's back.
                        let Some(id) = random_live(&mut rng, &slow) else {
                            continue;
                        };
                        let what = rng.below(4);
                        let other = new_transaction(&mut rng).server(now);
                        let code = [180, 200, 486][rng.below(3) as usize];
                        // Mostly a response of the transaction's own; at
                        // times another branch's, which it refuses.
                        let r = if rng.below(4) == 0 {
                            response(code, "INVITE", "x")
                        } else {
                            response_for(code, slow.get(id).unwrap().key())
                        };
                        for t in [&mut fast, &mut slow] {
                            t.lend(id, |x, pool| match what {
                                0 => x.terminate(),
                                1 => {
                                    let _ = x.send_response(now, r.as_bytes(), pool);
                                }
                                2 => {
                                    // Its buffer goes back before the
                                    // transaction is replaced.
                                    if let Some(o) = other.clone() {
                                        x.release(pool);
                                        *x = o;
                                    }
                                }
                                _ => {}
                            });
                            // Both look at the lent slot now: an answered
                            // one moves to a record at that moment.
                            t.take_back();
                        }
                    }
                    6 => {
                        let Some(id) = random_live(&mut rng, &slow) else {
                            continue;
                        };
                        assert_eq!(
                            fast.remove(id).is_some(),
                            slow.remove(id).is_some(),
                            "{ctx}"
                        );
                    }
                    7 => assert_eq!(
                        fast.remove_terminated(),
                        walk_remove_terminated(&mut slow),
                        "{ctx}"
                    ),
                    _ => {
                        assert_eq!(fast.poll_timeout(), walk_poll(&slow), "{ctx}");
                        now += crate::time::Duration::from_millis(u64::from(rng.below(4_000)));
                        loop {
                            let got = fast.handle_timer(now);
                            assert_eq!(got, walk_timer(&mut slow, now), "{ctx}");
                            if got.is_none() {
                                break;
                            }
                        }
                    }
                }
                // The reference trims what it was lent before the next
                // step compares stored responses.
                slow.take_back();
                assert_eq!(fast.len(), slow.len(), "{ctx}");
                for t in [&fast, &slow] {
                    let holders = t.iter().filter(|(_, x)| x.holds_buffer()).count();
                    assert_eq!(t.pool().in_use(), holders, "{ctx}");
                }
                assert_eq!(fast.accepted_len(), slow.accepted_len(), "{ctx}");
                assert_eq!(fast.completed_len(), slow.completed_len(), "{ctx}");
                assert_eq!(fast.poll_timeout(), walk_poll(&slow), "{ctx}");
                accepted = accepted.max(fast.accepted_len());
                completed = completed.max(fast.completed_len());
            }
        }
        assert!(accepted > 1, "{accepted} Accepted records at most");
        assert_eq!(
            completed > 1,
            R > 1,
            "{completed} Completed records at most"
        );
    }
}
