//! Bulk upload (Art. 21, 22): records in any volume, answered per record,
//! idempotent on each record's client key. One message of up to 1000
//! records is checked against the registry in one batch and stored in one
//! transaction; a refused record is answered and audited without stopping
//! the others. The records a message creates are audited in one row, and
//! named after the message so that each finds that row (`docs/audit.md`,
//! "Who created a record").

use std::collections::{BTreeMap, HashMap};

use ce_db::DbConnection;
use ce_db::audit::{self, AuditEntry};
use ce_proto::common::{FieldViolation, Refusal};
use ce_proto::crediting::{
    BulkUploadHourRecordsRequest, BulkUploadHourRecordsResponse, BulkUploadResult, HourRecord,
    RecordState,
};
use ce_rules::RuleBook;
use ce_server::{ApiError, Call};
use tonic::Status;
use tracing::Instrument;

use crate::convert;
use crate::feed::Changes;
use crate::names;
use crate::records::Crediting;
use crate::status::{self, Who};
use crate::store::{self, RecordRow};

/// One record of a message: its index, client key, and how it fared so far.
type Item<T> = (usize, String, Result<T, ApiError>);

/// The most records one message may carry.
pub const MESSAGE_LIMIT: usize = 1000;

/// How many leading characters of a record's id name the bulk message that
/// created it: a fresh UUIDv7's time, counter and some of its random bits
/// (`docs/audit.md`, "Who created a record"). The last four are the
/// record's index in the message, in hex.
const MESSAGE_PREFIX: usize = 32;

// A record's index in its message fits the four hex digits after the prefix.
const _: () = assert!(MESSAGE_LIMIT <= 0x10000);

/// A new message's prefix: a fresh UUIDv7 but its last four hex digits.
/// Another message's is never the same (the generator's counter in the
/// prefix orders ids made in one millisecond, and the random bits set
/// apart those of other processes).
fn message_prefix() -> String {
    let mut id = names::new_id();
    id.truncate(MESSAGE_PREFIX);
    id
}

/// The id of record `index` of the message whose prefix is `prefix`.
fn record_id(prefix: &str, index: usize) -> String {
    format!("{prefix}{index:04x}")
}

/// The resource of a message's one audit row for the records it created:
/// `hourRecords/{prefix}???? count={n}`, the names they all have and how
/// many there are. Short whatever the count, as the audit log's index on
/// `resource` needs on PostgreSQL. None when it created none.
fn created_resource(new: &[RecordRow]) -> Result<Option<String>, ApiError> {
    let Some(first) = new.first() else {
        return Ok(None);
    };
    let prefix = first.id.get(..MESSAGE_PREFIX).unwrap_or_default();
    if prefix.len() < MESSAGE_PREFIX || new.iter().any(|r| !r.id.starts_with(prefix)) {
        return Err(ApiError::Internal(format!(
            "the records of one message are named after it, not {}",
            first.id
        )));
    }
    Ok(Some(format!(
        "{}???? count={}",
        names::record_name(prefix),
        new.len()
    )))
}

/// A refused record's answer: the code, the reason (docs/errors.md) with
/// its article and Chinese message, and each bad field.
fn refusal(e: &ApiError) -> Refusal {
    let reason = e.reason();
    let resource = match e {
        ApiError::FailedPrecondition { resource, .. }
        | ApiError::PermissionDenied { resource, .. } => resource.as_str(),
        _ => "",
    };
    Refusal {
        code: e.code_name().to_owned(),
        message: e.to_string(),
        reason: reason.name().to_owned(),
        article: reason.article().map(|a| a.to_string()).unwrap_or_default(),
        localized_message: ce_server::reason::in_chinese(reason, resource),
        field_violations: match e {
            ApiError::InvalidArgument(v) => v
                .iter()
                .map(|f| FieldViolation {
                    field: f.field.clone(),
                    description: f.description.clone(),
                })
                .collect(),
            _ => vec![],
        },
    }
}

/// The tables a bulk upload grows, whose planner statistics it keeps fresh.
pub const BULK_TABLES: &[&str] = &["hour_records", "annual_statuses"];

/// The rows one message wrote at most in each of [`BULK_TABLES`].
type Written = [u64; 2];

impl Crediting {
    /// Stores one message of a bulk upload and answers each record.
    pub async fn bulk_message(
        &self,
        call: &Call,
        records: Vec<HourRecord>,
    ) -> Result<BulkUploadHourRecordsResponse, ApiError> {
        if records.len() > MESSAGE_LIMIT {
            return Err(ApiError::invalid(
                "hour_records",
                format!("at most {MESSAGE_LIMIT} records per message; send more messages"),
            ));
        }
        // One registry call for every engineer of the message; prepare then hits the cache.
        let names: Vec<String> = records
            .iter()
            .map(|r| r.engineer.clone())
            .filter(|n| !n.is_empty())
            .collect();
        self.registry.engineers(&names).await?;
        // The message's activities in one registry call, and their
        // institutions' standings together, not one record after another.
        self.registry
            .prefetch_activities(records.iter().map(|r| r.registry_activity.as_str()))
            .await?;

        let mut prepared: Vec<Item<(RecordRow, Who)>> = Vec::with_capacity(records.len());
        let mut refused_keyed: Vec<(usize, HourRecord)> = Vec::new();
        let prefix = message_prefix();
        for (i, hr) in records.into_iter().enumerate() {
            let key = hr.client_key.clone();
            let result = match self.prepare_as(call, &hr, record_id(&prefix, i)).await {
                // The registry or the database failed: the client retries the message.
                Err(e) if !e.is_refusal() => return Err(e),
                r => r,
            };
            if result.is_err() && !key.is_empty() {
                refused_keyed.push((i, hr));
            }
            prepared.push((i, key, result));
        }
        // Refused re-sends of stored records get the stored answer.
        let replays = self.replays(call, &refused_keyed, &mut prepared).await?;

        let call = call.clone();
        let rules = self.rules.clone();
        let today = (self.clock)();
        let mut rows = if prepared.is_empty() {
            Vec::new()
        } else {
            let (rows, written) = self
                .feed
                .write(&self.db, move |conn, changes| {
                    store_message(conn, changes, &call, &rules, today, prepared)
                })
                .await?;
            // A large load keeps the planner's statistics current as it grows.
            self.db.note_bulk_rows(BULK_TABLES, &written);
            rows
        };
        rows.extend(replays);
        rows.sort_by_key(|(i, _, _)| *i);
        count_records(&rows);
        Ok(BulkUploadHourRecordsResponse {
            results: answers(rows)?,
        })
    }

    /// A refused record whose key was used before is a re-send of what the
    /// first attempt stored (the deadline or a standing may have changed
    /// since): it gets that answer, and leaves `prepared`. Accepted
    /// re-sends are matched in store_message, so the usual message pays no
    /// extra query.
    async fn replays(
        &self,
        call: &Call,
        refused_keyed: &[(usize, HourRecord)],
        prepared: &mut Vec<Item<(RecordRow, Who)>>,
    ) -> Result<Vec<Item<RecordRow>>, ApiError> {
        let mut replays: Vec<Item<RecordRow>> = Vec::new();
        if refused_keyed.is_empty() {
            return Ok(replays);
        }
        let submitter = call.caller.organisation();
        let keys: Vec<String> = refused_keyed
            .iter()
            .map(|(_, hr)| hr.client_key.clone())
            .collect();
        let known: HashMap<String, RecordRow> = self
            .db
            .read(move |conn| Ok::<_, ApiError>(store::records_by_keys(conn, &submitter, &keys)?))
            .await?
            .into_iter()
            .filter_map(|r| r.client_key.clone().map(|k| (k, r)))
            .collect();
        let mut answers: HashMap<usize, Result<RecordRow, ApiError>> = refused_keyed
            .iter()
            .filter_map(|(i, hr)| {
                let existing = known.get(&hr.client_key)?;
                Some((*i, crate::records::replayed(existing, hr)))
            })
            .collect();
        // Answered from storage: out of the message. Same key, other
        // content: refused in the message's transaction, so it is audited.
        prepared.retain_mut(|(i, key, result)| match answers.remove(i) {
            Some(Ok(row)) => {
                replays.push((*i, std::mem::take(key), Ok(row)));
                false
            }
            Some(Err(e)) => {
                *result = Err(e);
                true
            }
            None => true,
        });
        Ok(replays)
    }
}

/// Each record's answer, in message order.
fn answers(rows: Vec<Item<RecordRow>>) -> Result<Vec<BulkUploadResult>, ApiError> {
    let mut results = Vec::with_capacity(rows.len());
    for (i, key, a) in rows {
        results.push(match a {
            Ok(row) => BulkUploadResult {
                index: i as i32,
                client_key: key,
                hour_record: Some(HourRecord {
                    // The client sent it; a million echoes would double the traffic.
                    activity: None,
                    ..convert::record_to_proto(row)?
                }),
                refusal: None,
            },
            Err(e) => BulkUploadResult {
                index: i as i32,
                client_key: key,
                hour_record: None,
                refusal: Some(refusal(&e)),
            },
        });
    }
    Ok(results)
}

/// What becomes of each record of a message: stored before (same
/// answer), a key clash, or new.
enum Fate {
    Stored(String),
    New(usize),
    Refused(ApiError),
}

/// The years new confirmed records count in, with their engineer.
type Touched = BTreeMap<(String, i32), Who>;

/// Each prepared record's fate given the keys `known` to be used before
/// (record id and content digest by key), the new rows, and the years they
/// touch.
fn sort_out(
    prepared: Vec<Item<(RecordRow, Who)>>,
    mut known: HashMap<String, (String, String)>,
) -> (Vec<(usize, String, Fate)>, Vec<RecordRow>, Touched) {
    let mut fates = Vec::with_capacity(prepared.len());
    let mut new: Vec<RecordRow> = Vec::new();
    let mut touched: Touched = BTreeMap::new();
    for (i, key, p) in prepared {
        let fate = match p {
            Err(e) => Fate::Refused(e),
            Ok((row, who)) => match row.client_key.as_ref().and_then(|k| known.get(k)) {
                Some((id, digest)) if *digest == row.content_digest => Fate::Stored(id.clone()),
                Some((id, _)) => Fate::Refused(ApiError::AlreadyExists(format!(
                    "client_key {} was used for a different record ({})",
                    row.client_key.as_deref().unwrap_or_default(),
                    names::record_name(id)
                ))),
                None => {
                    if let Some(k) = &row.client_key {
                        // A key repeated later in the same message answers like a re-send.
                        known.insert(k.clone(), (row.id.clone(), row.content_digest.clone()));
                    }
                    if row.is(RecordState::Confirmed) {
                        for year in crate::records::years_of(&row) {
                            touched.insert((row.engineer_id.clone(), year), who.clone());
                        }
                    }
                    new.push(row);
                    Fate::New(new.len() - 1)
                }
            },
        };
        fates.push((i, key, fate));
    }
    (fates, new, touched)
}

/// Stores one message in a handful of statements: the client keys already
/// used are looked up at once, the years the new records touch are
/// reassessed together, and the new records and their changes are
/// inserted many rows a statement, with one audit row for all of them and
/// one for each refusal. Every refusal was decided before anything is
/// written, so a database error fails the whole message and the client
/// re-sends it.
fn store_message(
    conn: &mut DbConnection,
    changes: &mut Changes,
    call: &Call,
    rules: &RuleBook,
    today: time::Date,
    prepared: Vec<Item<(RecordRow, Who)>>,
) -> Result<(Vec<Item<RecordRow>>, Written), ApiError> {
    let submitter = call.caller.organisation();
    // The message's engineers are locked before its keys are read: a message
    // re-sent while the original is still being stored (a client that gave
    // up and resent) waits for it, then answers its records as stored,
    // instead of colliding with it on the keys and failing.
    let engineers: Vec<String> = prepared
        .iter()
        .filter_map(|(_, _, p)| p.as_ref().ok())
        .map(|(row, _)| row.engineer_id.clone())
        .collect();
    store::lock_engineers(conn, &engineers)?;
    let keys: Vec<String> = prepared
        .iter()
        .filter_map(|(_, _, p)| p.as_ref().ok())
        .filter_map(|(row, _)| row.client_key.clone())
        .collect();
    // Each key used before: (record id, content digest).
    let known: HashMap<String, (String, String)> = store::records_by_keys(conn, &submitter, &keys)?
        .into_iter()
        .filter_map(|r| r.client_key.map(|k| (k, (r.id, r.content_digest))))
        .collect();
    let (fates, mut new, touched) = sort_out(prepared, known);
    let years: Vec<(Who, i32)> = touched
        .into_iter()
        .map(|((_, year), who)| (who, year))
        .collect();
    let later = status::recompute_batch(conn, changes, rules, today, &years, &mut new)?;
    // Each touched year is written at most once: by the batch, or `later`.
    let written: Written = [new.len() as u64, years.len() as u64];
    // Each record is stored with its position in the feed: numbered here
    // rather than at the end, so the rows are written once (see
    // docs/architecture.md, "The change feed").
    if !new.is_empty() {
        let first = store::feed::allocate(conn, new.len())?;
        for (i, row) in new.iter_mut().enumerate() {
            row.feed_seq = Some(first + i as i64);
        }
    }
    store::insert_records(conn, &new)?;
    for row in &new {
        // An engineer's own item is claimed, as a single create claims it,
        // so a later claim of the same item by another is found (Art. 27).
        crate::claims::note(conn, row)?;
        changes.numbered_record(&row.id, &row.engineer_id, row.year);
    }
    for (who, year) in &later {
        status::recompute(conn, changes, rules, who, *year, today)?;
    }
    let mut audit_rows: Vec<AuditEntry> = Vec::with_capacity(fates.len());
    if let Some(resource) = created_resource(&new)? {
        audit_rows.push(call.audit(&resource, "OK"));
    }
    // Read after the inserts, in the same transaction: a key repeated in
    // the message names a record inserted above, and is found here too.
    let stored_ids: Vec<String> = fates
        .iter()
        .filter_map(|(_, _, f)| match f {
            Fate::Stored(id) => Some(id.clone()),
            _ => None,
        })
        .collect();
    let stored: HashMap<String, RecordRow> = store::records_by_ids(conn, &stored_ids)?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    // Each new record answers once, so it is moved into its answer.
    let mut new: Vec<Option<RecordRow>> = new.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(fates.len());
    for (i, key, fate) in fates {
        let answer = match fate {
            Fate::New(n) => {
                let row = new[n]
                    .take()
                    .ok_or_else(|| ApiError::Internal("a new record answered twice".into()))?;
                Ok(row)
            }
            Fate::Stored(id) => stored
                .get(&id)
                .cloned()
                .ok_or_else(|| ApiError::Internal(format!("record {id} vanished"))),
            Fate::Refused(e) => {
                audit_rows.push(call.audit("hourRecords", e.code_name()));
                Err(e)
            }
        };
        out.push((i, key, answer));
    }
    audit::append_many(conn, &audit_rows)?;
    // Records whose year was recomputed after insertion carry their explanation now.
    if !later.is_empty() {
        let ids: Vec<String> = out
            .iter()
            .filter_map(|(_, _, a)| a.as_ref().ok().map(|r| r.id.clone()))
            .collect();
        let fresh: HashMap<String, RecordRow> = store::records_by_ids(conn, &ids)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        for (_, _, a) in &mut out {
            if let Ok(r) = a
                && let Some(f) = fresh.get(&r.id)
            {
                *r = f.clone();
            }
        }
    }
    Ok((out, written))
}

/// Bulk-upload records accepted and refused, through OpenTelemetry.
fn count_records(rows: &[Item<RecordRow>]) {
    use opentelemetry::KeyValue;
    static RECORDS: std::sync::OnceLock<opentelemetry::metrics::Counter<u64>> =
        std::sync::OnceLock::new();
    let counter = RECORDS.get_or_init(|| {
        opentelemetry::global::meter("crediting")
            .u64_counter("crediting.bulk.records")
            .with_description("Bulk-upload records, by outcome")
            .build()
    });
    let accepted = rows.iter().filter(|(_, _, r)| r.is_ok()).count() as u64;
    let refused = rows.len() as u64 - accepted;
    counter.add(accepted, &[KeyValue::new("outcome", "accepted")]);
    counter.add(refused, &[KeyValue::new("outcome", "refused")]);
}

/// Answers of a bulk upload, in message order.
pub type Answers = tokio::sync::mpsc::Receiver<Result<BulkUploadHourRecordsResponse, Status>>;

/// Runs a bulk upload: each message of `incoming` stored and answered in
/// order, a client that sends nothing for `idle` let go.
pub fn upload(
    inner: Crediting,
    call: Call,
    mut incoming: tonic::Streaming<BulkUploadHourRecordsRequest>,
    idle: std::time::Duration,
) -> Answers {
    // The messages are stored in tasks of their own; they stay in the
    // upload's trace, and so do their lookups in the registry.
    let span = tracing::Span::current();
    // A small buffer: a slow reader slows the upload instead of filling memory.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    // Two messages in flight: the next is checked against the registry
    // and the rules while the one before is being stored. Answers go
    // out in message order.
    let (order_tx, mut order_rx) = tokio::sync::mpsc::channel::<
        tokio::task::JoinHandle<Result<BulkUploadHourRecordsResponse, Status>>,
    >(1);
    tokio::spawn(async move {
        while let Some(handle) = order_rx.recv().await {
            let answer = handle.await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "bulk message task");
                Err(ce_server::error::status_for(
                    ce_server::reason::Reason::Internal,
                    "internal error; the request id identifies it in the logs",
                ))
            });
            let failed = answer.is_err();
            if tx.send(answer).await.is_err() || failed {
                return;
            }
        }
    });
    tokio::spawn(async move {
        loop {
            // A stalled client is let go: what it sent is stored and
            // answered, and re-sending the rest with the same keys is safe.
            let next = match tokio::time::timeout(idle, incoming.message()).await {
                Ok(next) => next,
                Err(_) => Err(ce_server::error::status_for(
                    ce_server::reason::Reason::DeadlineExceeded,
                    format!(
                        "no message for {} s: the upload is ended; send the rest again (client keys make that safe)",
                        idle.as_secs()
                    ),
                )),
            };
            let message = match next {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(status) => {
                    // A message over the limit, as unary calls answer it.
                    let status = match ce_server::context::oversized(status.message()) {
                        Some(m) if status.code() == tonic::Code::OutOfRange => {
                            ce_server::error::status_for(
                                ce_server::reason::Reason::MessageTooLarge,
                                m,
                            )
                        }
                        _ => status,
                    };
                    let _ = order_tx
                        .send(tokio::spawn(async move { Err(status) }))
                        .await;
                    return;
                }
            };
            let (inner, call) = (inner.clone(), call.clone());
            let work = tokio::spawn(
                async move {
                    inner
                        .bulk_message(&call, message.hour_records)
                        .await
                        .map_err(Status::from)
                }
                .instrument(span.clone()),
            );
            if order_tx.send(work).await.is_err() {
                return;
            }
        }
    });
    rx
}
