//! The change feed (Art. 22): every change to an hour record or an annual
//! status, in commit order, so a national system can aggregate provincial
//! data bottom up and dashboards can follow live.
//!
//! Order is the hard part: sequence numbers handed out during a transaction
//! commit in any order, so a reader at N could skip an N-1 that commits
//! later. Here a write collects its changes in [`Changes`] and numbers them
//! as its last step, from the single `feed_head` row. The row lock that
//! update takes (PostgreSQL) or the write lock (SQLite) is held until
//! commit, so transactions that change something commit in sequence order,
//! and only for the length of that last insert.
//!
//! An entry names the resource; reads join the resource as it is then, so
//! applying entries in order ends at the current state.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ce_db::{Db, DbConnection, DbError};
use ce_proto::crediting::{
    AnnualStatus, Change, ChangeKind, ListChangesRequest, ListChangesResponse, WatchChangesRequest,
    change,
};
use ce_server::{ApiError, Call, Violations, dates};
use prost::Message;
use tokio::sync::Notify;

use crate::certificates::{self, Figures};
use crate::convert;
use crate::store;

/// The most changes one read returns.
pub const PAGE_LIMIT: i64 = 1000;
const PAGE_DEFAULT: i64 = 100;
/// How often a watcher looks for changes committed by other replicas.
const POLL: Duration = Duration::from_secs(1);

/// What one transaction changed, numbered and stored by [`Changes::flush`].
#[derive(Debug, Default)]
pub struct Changes {
    entries: Vec<(i32, String, i32, String)>,
    /// The engineer of each hour record noted, in the order noted: the
    /// record a superseded certificate names (see [`Changes::flush`]).
    record_engineers: Vec<(String, String, i32)>,
    /// Stored years rewritten with these figures, on the day they were
    /// assessed: their certificates must still state them.
    restated: Vec<((String, i32), Figures, time::Date)>,
}

/// A point [`Changes::rollback`] returns to.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    entries: usize,
    record_engineers: usize,
    restated: usize,
}

impl Changes {
    /// An hour record of `engineer_id` changed.
    pub fn record(&mut self, id: &str, engineer_id: &str, year: i32, province: &str) {
        self.entries.push((
            ChangeKind::HourRecord as i32,
            id.to_owned(),
            year,
            province.to_owned(),
        ));
        self.record_engineers
            .push((engineer_id.to_owned(), id.to_owned(), year));
    }

    /// An hour record of `engineer_id` was stored already numbered (its
    /// `feed_seq` taken with [`store::feed::allocate`] in this
    /// transaction): only the certificates its year may state are checked.
    pub fn numbered_record(&mut self, id: &str, engineer_id: &str, year: i32) {
        self.record_engineers
            .push((engineer_id.to_owned(), id.to_owned(), year));
    }

    /// An annual status changed.
    pub fn status(&mut self, engineer_id: &str, year: i32, province: &str) {
        self.entries.push((
            ChangeKind::AnnualStatus as i32,
            engineer_id.to_owned(),
            year,
            province.to_owned(),
        ));
    }

    /// A stored year was written over with `figures` (assessed on `on`):
    /// its standing certificates are checked against them at
    /// [`Changes::flush`], and revoked if they state other figures.
    pub fn restated(&mut self, engineer_id: &str, year: i32, figures: Figures, on: time::Date) {
        self.restated
            .push(((engineer_id.to_owned(), year), figures, on));
    }

    /// How many annual status changes are noted so far.
    pub fn statuses_noted(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.0 == ChangeKind::AnnualStatus as i32)
            .count()
    }

    /// A mark to [`Changes::rollback`] to when a savepoint is undone.
    pub fn mark(&self) -> Mark {
        Mark {
            entries: self.entries.len(),
            record_engineers: self.record_engineers.len(),
            restated: self.restated.len(),
        }
    }

    /// Forgets the changes noted since `mark`: their savepoint rolled back.
    pub fn rollback(&mut self, mark: Mark) {
        self.entries.truncate(mark.entries);
        self.record_engineers.truncate(mark.record_engineers);
        self.restated.truncate(mark.restated);
    }

    /// Numbers and stores the changes, once each resource; the last step of
    /// a write transaction.
    ///
    /// Certificates of a year whose figures changed are revoked first
    /// (`certificates::supersede`): a transaction that rewrote no stored
    /// year does nothing for them, one that did asks once.
    fn flush(self, conn: &mut DbConnection) -> Result<(), DbError> {
        if !self.restated.is_empty() {
            let restated: HashMap<(String, i32), (Figures, time::Date)> = self
                .restated
                .into_iter()
                .map(|(key, figures, on)| (key, (figures, on)))
                .collect();
            certificates::supersede(conn, &restated, &self.record_engineers)?;
        }
        let mut seen = BTreeSet::new();
        let mut unique = Vec::with_capacity(self.entries.len());
        for e in self.entries.into_iter().rev() {
            if seen.insert((e.0, e.1.clone(), e.2)) {
                unique.push(e);
            }
        }
        if unique.is_empty() {
            return Ok(());
        }
        unique.reverse();
        store::feed::append(conn, unique)
    }
}

/// Wakes watchers when this replica commits a change.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    notify: Arc<Notify>,
}

impl Feed {
    /// Runs `f` in a write transaction and stores the changes it noted as
    /// the transaction's last step.
    pub async fn write<T, F>(&self, db: &Db, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &mut Changes) -> Result<T, ApiError> + Send + 'static,
    {
        let out = db
            .write(move |conn| -> Result<_, ApiError> {
                let mut changes = Changes::default();
                let out = f(conn, &mut changes)?;
                let changed = !changes.entries.is_empty();
                changes.flush(conn)?;
                Ok((out, changed))
            })
            .await?;
        if out.1 {
            self.notify.notify_waiters();
        }
        Ok(out.0)
    }
}

/// Who may read the feed, and which province they are held to.
fn scope(call: &Call, province: &str) -> Result<Option<String>, ApiError> {
    let mut v = Violations::new();
    crate::sweep::check_province(&mut v, province);
    v.finish()?;
    crate::scope::province_wide(&call.caller, province, "reading the change feed")
}

/// The changes after `after` (of one province, or all), at most `limit`,
/// each with what it points at as it is now.
pub fn load(
    conn: &mut DbConnection,
    after: i64,
    province: Option<&str>,
    limit: i64,
) -> Result<Vec<Change>, ApiError> {
    let rows = store::feed::after(conn, after, province, limit)?;
    // What each change points at, read for the whole page at once: one
    // query for its records and one a year for its statuses, not one a change.
    let record_ids: Vec<String> = rows
        .iter()
        .filter(|r| r.kind() == ChangeKind::HourRecord)
        .map(|r| r.resource_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let records: HashMap<String, store::RecordRow> = store::records_by_ids(conn, &record_ids)?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let status_keys: Vec<store::StatusKey> = rows
        .iter()
        .filter(|r| r.kind() != ChangeKind::HourRecord)
        .map(|r| (r.resource_id.clone(), r.year))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut statuses: HashMap<store::StatusKey, AnnualStatus> = HashMap::new();
    for (key, row) in store::statuses_by_key(conn, &status_keys)? {
        let s = AnnualStatus::decode(row.status.as_slice())
            .map_err(|e| ApiError::Internal(format!("status does not decode: {e}")))?;
        statuses.insert(key, s);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let current = if r.kind() == ChangeKind::HourRecord {
            // A record changed twice in a page is shown as it is now, twice.
            let row = records
                .get(&r.resource_id)
                .cloned()
                .ok_or_else(|| ApiError::Internal(format!("change {}: no record", r.seq)))?;
            Some(change::Current::HourRecord(convert::record_to_proto(row)?))
        } else {
            let status = statuses
                .get(&(r.resource_id.clone(), r.year))
                .cloned()
                .ok_or_else(|| ApiError::Internal(format!("change {}: no status", r.seq)))?;
            Some(change::Current::AnnualStatus(status))
        };
        let resource = match &current {
            Some(change::Current::HourRecord(h)) => h.name.clone(),
            Some(change::Current::AnnualStatus(s)) => s.name.clone(),
            None => String::new(),
        };
        out.push(Change {
            sequence: r.seq,
            kind: r.kind,
            resource,
            province: r.province,
            change_time: Some(dates::timestamp(r.create_micros)),
            current,
        });
    }
    Ok(out)
}

fn check_cursor(after: i64) -> Result<(), ApiError> {
    let mut v = Violations::new();
    if after < 0 {
        v.add("after_sequence", "must be 0 or a sequence already read");
    }
    v.finish()
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListChangesRequest,
) -> Result<ListChangesResponse, ApiError> {
    check_cursor(req.after_sequence)?;
    let mut v = Violations::new();
    let limit = ce_server::paging::page_size(&mut v, req.page_size, PAGE_DEFAULT);
    v.finish()?;
    let province = scope(call, &req.province)?;
    let after = req.after_sequence;
    let mut changes = db
        .read(move |conn| load(conn, after, province.as_deref(), limit))
        .await?;
    // Cut short by bytes too: the cursor moves past the changes kept only.
    ce_server::paging::fit(&mut changes, call.max_message_bytes)?;
    let next_after_sequence = changes.last().map_or(after, |c| c.sequence);
    Ok(ListChangesResponse {
        changes,
        next_after_sequence,
    })
}

/// Streams the changes after the cursor, then each new one, until the
/// client goes away. A slow client slows its own reads, nothing else.
pub fn watch(
    db: Db,
    feed: Feed,
    call: &Call,
    req: WatchChangesRequest,
) -> Result<tokio::sync::mpsc::Receiver<Result<Change, tonic::Status>>, ApiError> {
    check_cursor(req.after_sequence)?;
    let province = scope(call, &req.province)?;
    let (tx, rx) = tokio::sync::mpsc::channel(PAGE_LIMIT as usize);
    let mut after = req.after_sequence;
    tokio::spawn(async move {
        loop {
            // Register before reading, so a commit between the read and the wait still wakes us.
            let woken = feed.notify.notified();
            let p = province.clone();
            let batch = db
                .read(move |conn| load(conn, after, p.as_deref(), PAGE_LIMIT))
                .await;
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let full = batch.len() as i64 == PAGE_LIMIT;
            for c in batch {
                after = c.sequence;
                if tx.send(Ok(c)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = woken => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = tx.closed() => return,
            }
        }
    });
    Ok(rx)
}
