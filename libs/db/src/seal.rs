//! Seals over the audit log, which make it tamper-evident without a hash
//! chain on the writers' path (the design is in docs/audit.md).
//!
//! Writers append audit rows in their own transactions, concurrently, as
//! before; nothing here is on their path. One sealer per service (under a
//! PostgreSQL advisory lock, so replicas take turns) appends seals in
//! order. A seal lists exactly the row ids it covers (as ranges), holds a
//! 16-byte SHA-256 digest of each of those rows, the SHA-256 of the
//! digests, and the hash of the seal before it; its own hash covers all of
//! that. [`verify`] recomputes everything and names the first break.
//!
//! PostgreSQL hands out ids when a row is inserted, not when it commits, so
//! a row with a smaller id can commit after one with a larger id. A seal
//! therefore covers only the rows it can see and records the ids up to its
//! `through_id` that it cannot see as *open*: a transaction still running
//! may commit them. Each later seal first takes whatever committed in the
//! open ids. An open id is closed (given up as never used: a rolled-back
//! insert, or a sequence skip after a crash) only once every transaction
//! that could hold it has ended, which PostgreSQL's snapshot tells
//! (`pg_current_snapshot()`'s xmin has passed the xmax recorded by a seal
//! taken [`SETTLE`] or more after the id was first seen open). On SQLite
//! the sealer holds the write lock, so no transaction is open and nothing
//! is ever left open.

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, audit_log};
use crate::{Db, DbConnection, DbError};

diesel::table! {
    audit_seals (id) {
        id -> BigInt,
        sealed_at_micros -> BigInt,
        row_ids -> Text,
        row_count -> BigInt,
        through_id -> BigInt,
        open_ids -> Text,
        snapshot_xmax -> BigInt,
        row_digests -> Binary,
        rows_hash -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

/// Bytes of SHA-256 kept for each sealed row.
pub const DIGEST_LEN: usize = 16;
/// The previous hash of the first seal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// At most this many new rows a seal; a backlog is sealed in several.
pub const MAX_ROWS_PER_SEAL: i64 = 10_000;
/// How long after an id is first seen open the snapshot that may close it
/// is taken: far longer than the moment between a PostgreSQL insert taking
/// its id and its transaction taking an xid.
pub const SETTLE: Duration = Duration::from_secs(5);
/// The advisory lock that lets one sealer at a time work on a database.
const LOCK_KEY: i64 = 0x6365_5f61_7564_6974; // "ce_audit"

/// One seal, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_seals)]
pub struct Seal {
    pub id: i64,
    pub sealed_at_micros: i64,
    pub row_ids: String,
    pub row_count: i64,
    pub through_id: i64,
    pub open_ids: String,
    pub snapshot_xmax: i64,
    pub row_digests: Vec<u8>,
    pub rows_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Seal {
    /// The hash this seal's content gives (what `hash` must be).
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"ce-audit-seal-v1\0");
        for n in [
            self.id,
            self.sealed_at_micros,
            self.row_count,
            self.through_id,
            self.snapshot_xmax,
        ] {
            h.update(n.to_be_bytes());
        }
        for s in [
            &self.row_ids,
            &self.open_ids,
            &self.rows_hash,
            &self.prev_hash,
        ] {
            text(&mut h, s);
        }
        hex(&h.finalize())
    }
}

fn text(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The digest of one audit row: every column, the id included, each
/// length-prefixed, so no two rows share an encoding.
pub fn row_digest(id: i64, e: &AuditEntry) -> [u8; DIGEST_LEN] {
    let mut h = Sha256::new();
    h.update(b"ce-audit-row-v1\0");
    h.update(id.to_be_bytes());
    h.update(e.at_micros.to_be_bytes());
    for s in [
        &e.actor,
        &e.role,
        &e.rpc,
        &e.resource,
        &e.request_id,
        &e.outcome,
    ] {
        text(&mut h, s);
    }
    match &e.province {
        None => h.update([0u8]),
        Some(p) => {
            h.update([1u8]);
            text(&mut h, p);
        }
    }
    let full = h.finalize();
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// Sorted, distinct ids as inclusive ranges.
fn to_ranges(ids: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &id in ids {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == id => *hi = id,
            _ => out.push((id, id)),
        }
    }
    out
}

fn format_ranges(ranges: &[(i64, i64)]) -> String {
    ranges
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_range(s: &str) -> Option<(i64, i64)> {
    let (lo, hi) = match s.split_once('-') {
        Some((lo, hi)) => (lo.parse().ok()?, hi.parse().ok()?),
        None => {
            let n = s.parse().ok()?;
            (n, n)
        }
    };
    (lo <= hi).then_some((lo, hi))
}

/// `1-40,43` as ranges, ascending and disjoint; None if malformed.
fn parse_ranges(s: &str) -> Option<Vec<(i64, i64)>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    let ranges = s.split(',').map(parse_range).collect::<Option<Vec<_>>>()?;
    ranges.windows(2).all(|w| w[0].1 < w[1].0).then_some(ranges)
}

/// Ids a seal could not see yet, and the seal that first saw them open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Open {
    lo: i64,
    hi: i64,
    since: i64,
}

fn format_open(open: &[Open]) -> String {
    open.iter()
        .map(|o| format!("{}@{}", format_ranges(&[(o.lo, o.hi)]), o.since))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_open(s: &str) -> Option<Vec<Open>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(',')
        .map(|part| {
            let (range, since) = part.split_once('@')?;
            let (lo, hi) = parse_range(range)?;
            Some(Open {
                lo,
                hi,
                since: since.parse().ok()?,
            })
        })
        .collect()
}

fn malformed(what: String) -> DbError {
    DbError::Query(diesel::result::Error::DeserializationError(what.into()))
}

#[derive(QueryableByName)]
struct Xid {
    #[diesel(sql_type = BigInt)]
    xid: i64,
}

/// `pg_current_snapshot()`'s xmin or xmax, as a 64-bit transaction id.
fn pg_snapshot(conn: &mut DbConnection, which: &str) -> Result<i64, DbError> {
    let sql = format!("SELECT pg_snapshot_{which}(pg_current_snapshot())::text::bigint AS xid");
    Ok(diesel::sql_query(sql).get_result::<Xid>(conn)?.xid)
}

fn rows_between(
    conn: &mut DbConnection,
    lo: i64,
    hi: i64,
) -> Result<Vec<(i64, AuditEntry)>, DbError> {
    Ok(audit_log::table
        .filter(audit_log::id.between(lo, hi))
        .order(audit_log::id.asc())
        .select((audit_log::id, AuditEntry::as_select()))
        .load(conn)?)
}

/// What one sealing round did.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub seal: Seal,
    /// The round stopped at [`MAX_ROWS_PER_SEAL`]: more rows wait.
    pub more: bool,
}

/// The ids still open after a round: the previous open ids minus the late
/// rows that came in, then the gaps among the new rows (ids not there yet),
/// opened by seal `this_id`.
fn still_open(
    prev_open: &[Open],
    late: &[(i64, AuditEntry)],
    new: &[(i64, AuditEntry)],
    prev_through: i64,
    this_id: i64,
) -> Vec<Open> {
    let mut open: Vec<Open> = Vec::new();
    let late_ids: Vec<i64> = late.iter().map(|(id, _)| *id).collect();
    for o in prev_open {
        let mut next = o.lo;
        for &id in late_ids.iter().filter(|id| (o.lo..=o.hi).contains(*id)) {
            if id > next {
                open.push(Open {
                    lo: next,
                    hi: id - 1,
                    since: o.since,
                });
            }
            next = id + 1;
        }
        if next <= o.hi {
            open.push(Open {
                lo: next,
                hi: o.hi,
                since: o.since,
            });
        }
    }
    let mut expect = prev_through + 1;
    for (id, _) in new {
        if *id > expect {
            open.push(Open {
                lo: expect,
                hi: id - 1,
                since: this_id,
            });
        }
        expect = id + 1;
    }
    open
}

/// Seals what has committed since the last seal, as one new seal, unless
/// there is nothing new. Run it inside a write transaction
/// ([`Db::write`]); [`seal_pending`] does. `settle` is [`SETTLE`] but in
/// tests.
pub fn seal_once(
    conn: &mut DbConnection,
    settle: Duration,
    max_rows: i64,
) -> Result<Option<Sealed>, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    if pg {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(LOCK_KEY)
            .execute(conn)?;
    }
    // The seal's time, read once the lock is held, so that it is at most
    // moments before the rows are read (the settle rule counts on that).
    let now_micros = now_micros();
    let prev: Option<Seal> = audit_seals::table
        .order(audit_seals::id.desc())
        .select(Seal::as_select())
        .first(conn)
        .optional()?;
    let (prev_id, prev_through, prev_hash, prev_open) = match &prev {
        Some(p) => (
            p.id,
            p.through_id,
            p.hash.clone(),
            parse_open(&p.open_ids)
                .ok_or_else(|| malformed(format!("audit seal {}: open ids", p.id)))?,
        ),
        None => (0, 0, GENESIS.to_owned(), Vec::new()),
    };
    let this_id = prev_id + 1;

    // The oldest transaction still running, before the rows are read: any
    // transaction older than it has ended, and its rows are visible below.
    let xmin = if pg { pg_snapshot(conn, "xmin")? } else { 0 };
    let mut late: Vec<(i64, AuditEntry)> = Vec::new();
    for o in &prev_open {
        late.extend(rows_between(conn, o.lo, o.hi)?);
    }
    let new: Vec<(i64, AuditEntry)> = audit_log::table
        .filter(audit_log::id.gt(prev_through))
        .order(audit_log::id.asc())
        .limit(max_rows)
        .select((audit_log::id, AuditEntry::as_select()))
        .load(conn)?;
    // After the rows were read: every transaction that could still commit
    // an id this seal leaves open is older than this.
    let xmax = if pg { pg_snapshot(conn, "xmax")? } else { 0 };
    let more = new.len() as i64 >= max_rows;
    let through = new.last().map_or(prev_through, |(id, _)| *id);

    let mut open = still_open(&prev_open, &late, &new, prev_through, this_id);
    // Close the open ids no transaction can commit any more. On SQLite none
    // can: the sealer holds the write lock, and every other write commits
    // or rolls back before it.
    if pg {
        let settle = i64::try_from(settle.as_micros()).unwrap_or(i64::MAX);
        let mut settled: BTreeMap<i64, bool> = BTreeMap::new();
        let mut kept = Vec::with_capacity(open.len());
        for o in open {
            let done = match settled.get(&o.since) {
                Some(d) => *d,
                None => {
                    let d = settled_since(conn, o.since, this_id, now_micros, xmin, xmax, settle)?;
                    settled.insert(o.since, d);
                    d
                }
            };
            if !done {
                kept.push(o);
            }
        }
        open = kept;
    } else {
        open.clear();
    }

    let open_ids = format_open(&open);
    let prev_open_ids = prev.as_ref().map(|p| p.open_ids.as_str()).unwrap_or("");
    if late.is_empty() && new.is_empty() && open_ids == prev_open_ids {
        return Ok(None);
    }

    let mut rows = late;
    rows.extend(new);
    rows.sort_by_key(|(id, _)| *id);
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let mut digests = Vec::with_capacity(rows.len() * DIGEST_LEN);
    for (id, e) in &rows {
        digests.extend_from_slice(&row_digest(*id, e));
    }
    let mut seal = Seal {
        id: this_id,
        sealed_at_micros: now_micros,
        row_ids: format_ranges(&to_ranges(&ids)),
        row_count: ids.len() as i64,
        through_id: through,
        open_ids,
        snapshot_xmax: xmax,
        rows_hash: hex(&Sha256::digest(&digests)),
        row_digests: digests,
        prev_hash,
        hash: String::new(),
    };
    seal.hash = seal.compute_hash();
    diesel::insert_into(audit_seals::table)
        .values(&seal)
        .execute(conn)?;
    Ok(Some(Sealed { seal, more }))
}

/// Whether every transaction that could hold ids first seen open by seal
/// `since` has ended: the xmax of the first seal taken `settle` or more
/// after `since` (this one, `this_id`, if none of the stored ones) is at
/// or below the oldest running transaction.
fn settled_since(
    conn: &mut DbConnection,
    since: i64,
    this_id: i64,
    now_micros: i64,
    xmin: i64,
    xmax: i64,
    settle: i64,
) -> Result<bool, DbError> {
    let seen_at = if since == this_id {
        now_micros
    } else {
        audit_seals::table
            .find(since)
            .select(audit_seals::sealed_at_micros)
            .first::<i64>(conn)?
    };
    let due = seen_at.saturating_add(settle);
    let stored: Option<i64> = if since == this_id {
        None
    } else {
        audit_seals::table
            .filter(audit_seals::id.ge(since))
            .filter(audit_seals::sealed_at_micros.ge(due))
            .order(audit_seals::id.asc())
            .select(audit_seals::snapshot_xmax)
            .first(conn)
            .optional()?
    };
    let horizon = stored.or((now_micros >= due).then_some(xmax));
    Ok(horizon.is_some_and(|h| xmin >= h))
}

/// The last seal's number and hash, if anything is sealed.
pub fn head(conn: &mut DbConnection) -> Result<Option<(i64, String)>, DbError> {
    Ok(audit_seals::table
        .order(audit_seals::id.desc())
        .select((audit_seals::id, audit_seals::hash))
        .first(conn)
        .optional()?)
}

/// The stored hash of seal `id`, if it is there.
pub fn hash_of(conn: &mut DbConnection, id: i64) -> Result<Option<String>, DbError> {
    Ok(audit_seals::table
        .find(id)
        .select(audit_seals::hash)
        .first(conn)
        .optional()?)
}

/// Microseconds since the Unix epoch.
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Seals everything committed so far, in as many seals as it takes (each
/// its own transaction). Returns the seals made.
pub async fn seal_pending(db: &Db) -> Result<Vec<Seal>, DbError> {
    seal_pending_with(db, SETTLE).await
}

/// [`seal_pending`] with another settle time (tests).
pub async fn seal_pending_with(db: &Db, settle: Duration) -> Result<Vec<Seal>, DbError> {
    let mut made = Vec::new();
    loop {
        let round = db
            .write(move |conn| seal_once(conn, settle, MAX_ROWS_PER_SEAL))
            .await?;
        match round {
            Some(Sealed { seal, more }) => {
                made.push(seal);
                if !more {
                    return Ok(made);
                }
            }
            None => return Ok(made),
        }
    }
}

/// What a break is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// A sealed row's content differs from its digest.
    RowAltered,
    /// A sealed row is not there.
    RowMissing,
    /// A row at or below a seal's `through_id` that no seal covers and
    /// that is not open.
    RowOutsideSeals,
    /// A seal's content does not give its hash, or is malformed.
    SealAltered,
    /// A seal's previous hash is not the hash of the seal before it.
    SealUnlinked,
    /// Seal numbers are missing.
    SealMissing,
    /// The auditor's anchor is not in the chain as recorded.
    AnchorMismatch,
}

/// The first (or any) break found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub kind: BreakKind,
    /// The row concerned, for row breaks.
    pub row_id: Option<i64>,
    /// The seal concerned.
    pub seal: i64,
    pub description: String,
}

/// A seal an auditor recorded at an earlier verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seal: i64,
    pub hash: String,
}

/// The last seal, for the auditor to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: String,
    pub sealed_at_micros: i64,
    pub row_count: i64,
    pub through_id: i64,
}

/// The answer of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// The first break, in seal order and within a seal in row order.
    pub first_break: Option<Break>,
    pub break_count: i64,
    pub seal_count: i64,
    pub sealed_rows: i64,
    /// Rows after the last seal's `through_id`, or in its open ids.
    pub unsealed_rows: i64,
    pub last_seal: Option<Head>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.break_count == 0
    }

    fn found(&mut self, b: Break) {
        self.break_count += 1;
        let key = |b: &Break| (b.seal, b.row_id.unwrap_or(0));
        if self.first_break.as_ref().is_none_or(|f| key(&b) < key(f)) {
            self.first_break = Some(b);
        }
    }
}

/// Seals read at a time while verifying.
const SEAL_CHUNK: i64 = 64;

/// Checks the audit log against its seals, in one consistent snapshot, and
/// names the first break (docs/audit.md).
pub fn verify(conn: &mut DbConnection, anchor: Option<&Anchor>) -> Result<Verification, DbError> {
    let pg = matches!(conn, DbConnection::Pg(_));
    conn.transaction(|c| {
        if pg {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        verify_in(c, anchor)
    })
}

fn verify_in(conn: &mut DbConnection, anchor: Option<&Anchor>) -> Result<Verification, DbError> {
    let mut v = Verification::default();
    let mut expected = 1i64;
    let mut prev_hash = GENESIS.to_owned();
    let mut covered: Vec<(i64, i64)> = Vec::new();
    let mut missing_rows = 0i64;
    // (through_id, seal): which seal first passed an id.
    let mut passes: Vec<(i64, i64)> = Vec::new();
    let mut last: Option<Seal> = None;
    let mut anchor_seen = false;
    loop {
        let after = last.as_ref().map_or(0, |s| s.id);
        let chunk: Vec<Seal> = audit_seals::table
            .filter(audit_seals::id.gt(after))
            .order(audit_seals::id.asc())
            .limit(SEAL_CHUNK)
            .select(Seal::as_select())
            .load(conn)?;
        if chunk.is_empty() {
            break;
        }
        for s in chunk {
            v.seal_count += 1;
            let gap = s.id != expected;
            if gap {
                v.found(missing_seals(expected, s.id));
            }
            if let Some(a) = anchor
                && a.seal == s.id
            {
                anchor_seen = true;
                if a.hash != s.hash {
                    v.found(Break {
                        kind: BreakKind::AnchorMismatch,
                        row_id: None,
                        seal: s.id,
                        description: format!(
                            "seal {} has hash {}, not the {} recorded",
                            s.id, s.hash, a.hash
                        ),
                    });
                }
            }
            check_seal(
                conn,
                &s,
                &prev_hash,
                gap,
                &mut v,
                &mut covered,
                &mut missing_rows,
            )?;
            passes.push((s.through_id, s.id));
            prev_hash = s.hash.clone();
            expected = s.id + 1;
            last = Some(s);
        }
    }
    if let Some(a) = anchor
        && !anchor_seen
    {
        v.found(Break {
            kind: BreakKind::AnchorMismatch,
            row_id: None,
            seal: a.seal,
            description: format!("seal {} recorded earlier is not in the chain", a.seal),
        });
    }

    let Some(last) = last else {
        v.unsealed_rows = audit_log::table.count().get_result(conn)?;
        return Ok(v);
    };
    v.last_seal = Some(Head {
        id: last.id,
        hash: last.hash.clone(),
        sealed_at_micros: last.sealed_at_micros,
        row_count: last.row_count,
        through_id: last.through_id,
    });
    let through = last.through_id;
    let open = parse_open(&last.open_ids).unwrap_or_default();
    let mut open_present = 0i64;
    for o in &open {
        open_present += audit_log::table
            .filter(audit_log::id.between(o.lo, o.hi))
            .count()
            .get_result::<i64>(conn)?;
    }
    let after: i64 = audit_log::table
        .filter(audit_log::id.gt(through))
        .count()
        .get_result(conn)?;
    v.unsealed_rows = after + open_present;

    // Rows up to `through` that no seal covers and that are not open: put
    // in behind the seals. Counted first; looked for only if there are any.
    let up_to: i64 = audit_log::table
        .filter(audit_log::id.le(through))
        .count()
        .get_result(conn)?;
    let covered_present = v.sealed_rows - missing_rows;
    if up_to > covered_present + open_present {
        rows_outside_seals(conn, &mut v, &mut covered, &passes, &open, &last, through)?;
    }
    Ok(v)
}

/// Looks for rows up to `through` that no seal covers and that are not
/// open: rows put in behind the seals. Each is reported against the first
/// seal that passed its id.
fn rows_outside_seals(
    conn: &mut DbConnection,
    v: &mut Verification,
    covered: &mut [(i64, i64)],
    passes: &[(i64, i64)],
    open: &[Open],
    last: &Seal,
    through: i64,
) -> Result<(), DbError> {
    covered.sort_unstable();
    // Every id up to `through` that no seal covers, ids below the
    // first one ever sealed included.
    let mut next = i64::MIN;
    let mut gaps = Vec::new();
    for &(lo, hi) in covered.iter() {
        if lo > next {
            gaps.push((next, lo - 1));
        }
        next = next.max(hi.saturating_add(1));
    }
    if next <= through {
        gaps.push((next, through));
    }
    for (lo, hi) in gaps {
        let ids: Vec<i64> = audit_log::table
            .filter(audit_log::id.between(lo, hi))
            .order(audit_log::id.asc())
            .select(audit_log::id)
            .load(conn)?;
        for id in ids {
            if open.iter().any(|o| (o.lo..=o.hi).contains(&id)) {
                continue;
            }
            let seal = passes
                .iter()
                .find(|(t, _)| *t >= id)
                .map_or(last.id, |(_, s)| *s);
            v.found(Break {
                kind: BreakKind::RowOutsideSeals,
                row_id: Some(id),
                seal,
                description: format!(
                    "audit row {id} is covered by no seal, though seal {seal} sealed past it: \
                     inserted behind the seal"
                ),
            });
        }
    }
    Ok(())
}

/// Seals `expected` up to `found - 1` are missing from the chain.
fn missing_seals(expected: i64, found: i64) -> Break {
    Break {
        kind: BreakKind::SealMissing,
        row_id: None,
        seal: expected,
        description: if found == expected + 1 {
            format!(
                "seal {expected} is missing: seal {found} follows seal {}",
                expected - 1
            )
        } else {
            format!(
                "seals {expected} to {} are missing: seal {found} follows seal {}",
                found - 1,
                expected - 1
            )
        },
    }
}

/// Checks one seal: its hash, its link, and every row it covers.
fn check_seal(
    conn: &mut DbConnection,
    s: &Seal,
    prev_hash: &str,
    after_gap: bool,
    v: &mut Verification,
    covered: &mut Vec<(i64, i64)>,
    missing_rows: &mut i64,
) -> Result<(), DbError> {
    let altered = |description: String| Break {
        kind: BreakKind::SealAltered,
        row_id: None,
        seal: s.id,
        description,
    };
    if s.compute_hash() != s.hash {
        v.found(altered(format!(
            "seal {}'s content does not give its hash: the seal was edited",
            s.id
        )));
    } else if !after_gap && s.prev_hash != prev_hash {
        v.found(Break {
            kind: BreakKind::SealUnlinked,
            row_id: None,
            seal: s.id,
            description: format!(
                "seal {} does not link to seal {}: its previous hash is {}, seal {}'s hash is {}",
                s.id,
                s.id - 1,
                s.prev_hash,
                s.id - 1,
                prev_hash
            ),
        });
    }
    v.sealed_rows += s.row_count;
    let ranges = match parse_ranges(&s.row_ids) {
        Some(r)
            if r.iter().map(|(lo, hi)| hi - lo + 1).sum::<i64>() == s.row_count
                && s.row_digests.len() as i64 == s.row_count * DIGEST_LEN as i64 =>
        {
            r
        }
        _ => {
            v.found(altered(format!(
                "seal {}'s row ids, count and digests do not agree",
                s.id
            )));
            return Ok(());
        }
    };
    if hex(&Sha256::digest(&s.row_digests)) != s.rows_hash {
        v.found(altered(format!(
            "seal {}'s row digests do not give its rows hash: the seal was edited",
            s.id
        )));
    }
    let mut k = 0usize;
    for &(lo, hi) in &ranges {
        covered.push((lo, hi));
        let rows = rows_between(conn, lo, hi)?;
        let mut rows = rows.into_iter().peekable();
        for id in lo..=hi {
            let sealed = &s.row_digests[k * DIGEST_LEN..(k + 1) * DIGEST_LEN];
            k += 1;
            match rows.next_if(|(rid, _)| *rid == id) {
                None => {
                    *missing_rows += 1;
                    v.found(Break {
                        kind: BreakKind::RowMissing,
                        row_id: Some(id),
                        seal: s.id,
                        description: format!(
                            "audit row {id}, sealed by seal {}, is missing: deleted",
                            s.id
                        ),
                    });
                }
                Some((_, e)) if row_digest(id, &e) != sealed => {
                    v.found(Break {
                        kind: BreakKind::RowAltered,
                        row_id: Some(id),
                        seal: s.id,
                        description: format!(
                            "audit row {id} differs from what seal {} sealed: edited",
                            s.id
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let ids = [1, 2, 3, 5, 7, 8];
        let r = to_ranges(&ids);
        assert_eq!(r, vec![(1, 3), (5, 5), (7, 8)]);
        assert_eq!(format_ranges(&r), "1-3,5,7-8");
        assert_eq!(parse_ranges("1-3,5,7-8").unwrap(), r);
        assert_eq!(parse_ranges("").unwrap(), vec![]);
        assert!(parse_ranges("3-1").is_none());
        assert!(parse_ranges("5,1").is_none());
        let open = vec![
            Open {
                lo: 4,
                hi: 4,
                since: 2,
            },
            Open {
                lo: 9,
                hi: 12,
                since: 3,
            },
        ];
        assert_eq!(format_open(&open), "4@2,9-12@3");
        assert_eq!(parse_open("4@2,9-12@3").unwrap(), open);
    }

    #[test]
    fn a_row_digest_covers_every_column() {
        let e = AuditEntry {
            at_micros: 1,
            actor: "a".into(),
            role: "ministry".into(),
            province: None,
            rpc: "R".into(),
            resource: "x/1".into(),
            request_id: "r".into(),
            outcome: "OK".into(),
        };
        let d = row_digest(1, &e);
        assert_ne!(d, row_digest(2, &e));
        for changed in [
            AuditEntry {
                at_micros: 2,
                ..e.clone()
            },
            AuditEntry {
                actor: "b".into(),
                ..e.clone()
            },
            AuditEntry {
                province: Some(String::new()),
                ..e.clone()
            },
            AuditEntry {
                outcome: "PERMISSION_DENIED".into(),
                ..e.clone()
            },
            // The boundary between two fields cannot move.
            AuditEntry {
                rpc: "Rx".into(),
                resource: "/1".into(),
                ..e.clone()
            },
        ] {
            assert_ne!(d, row_digest(1, &changed), "{changed:?}");
        }
    }

    fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("seal.db").display().to_string();
        let none = crate::Migrations {
            postgres: crate::audit::POSTGRES,
            sqlite: crate::audit::SQLITE,
        };
        let db = Db::connect(&url, 2, none).unwrap();
        (dir, db)
    }

    fn append(db: &Db, n: usize) {
        let mut conn = db.connection().unwrap();
        for i in 0..n {
            crate::audit::append(
                &mut conn,
                &AuditEntry {
                    at_micros: i as i64,
                    actor: "a".into(),
                    role: "ministry".into(),
                    province: Some("44".into()),
                    rpc: "R".into(),
                    resource: format!("x/{i}"),
                    request_id: format!("r{i}"),
                    outcome: "OK".into(),
                },
            )
            .unwrap();
        }
    }

    fn check(db: &Db) -> Verification {
        verify(&mut db.connection().unwrap(), None).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seals_chain_and_name_an_edited_or_deleted_row() {
        let (_dir, db) = sqlite();
        let v = check(&db);
        assert!(v.intact() && v.seal_count == 0 && v.last_seal.is_none());
        append(&db, 5);
        assert_eq!(check(&db).unsealed_rows, 5);
        let made = seal_pending(&db).await.unwrap();
        assert_eq!(made.len(), 1);
        assert_eq!(made[0].row_ids, "1-5");
        assert_eq!(made[0].prev_hash, GENESIS);
        append(&db, 3);
        assert!(seal_pending(&db).await.unwrap().len() == 1);
        assert!(
            seal_pending(&db).await.unwrap().is_empty(),
            "nothing new, no seal"
        );
        append(&db, 2);
        let v = check(&db);
        assert!(v.intact(), "{v:?}");
        assert_eq!((v.seal_count, v.sealed_rows, v.unsealed_rows), (2, 8, 2));
        assert_eq!(v.last_seal.as_ref().unwrap().id, 2);

        let mut conn = db.connection().unwrap();
        conn.batch_execute(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
             UPDATE audit_log SET outcome = 'PERMISSION_DENIED' WHERE id = 7;
             DELETE FROM audit_log WHERE id = 3;",
        )
        .unwrap();
        let v = check(&db);
        assert_eq!(v.break_count, 2);
        let first = v.first_break.unwrap();
        assert_eq!(
            (first.kind, first.row_id, first.seal),
            (BreakKind::RowMissing, Some(3), 1)
        );
        // Put row 3 back as it was: only the edit remains.
        conn.batch_execute(
            "INSERT INTO audit_log (id, at_micros, actor, role, province, rpc, resource, request_id, outcome) \
             VALUES (3, 2, 'a', 'ministry', '44', 'R', 'x/2', 'r2', 'OK')",
        )
        .unwrap();
        let first = check(&db).first_break.unwrap();
        assert_eq!(
            (first.kind, first.row_id, first.seal),
            (BreakKind::RowAltered, Some(7), 2)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_seal_edited_or_deleted_breaks_the_chain() {
        let (_dir, db) = sqlite();
        for _ in 0..3 {
            append(&db, 2);
            seal_pending(&db).await.unwrap();
        }
        let mut conn = db.connection().unwrap();
        conn.batch_execute(
            "DROP TRIGGER audit_seals_no_update; DROP TRIGGER audit_seals_no_delete;",
        )
        .unwrap();
        conn.batch_execute("UPDATE audit_seals SET row_count = 1 WHERE id = 2")
            .unwrap();
        let first = check(&db).first_break.unwrap();
        assert_eq!((first.kind, first.seal), (BreakKind::SealAltered, 2));

        conn.batch_execute("DELETE FROM audit_seals WHERE id = 2")
            .unwrap();
        let v = check(&db);
        let first = v.first_break.unwrap();
        assert_eq!((first.kind, first.seal), (BreakKind::SealMissing, 2));
        // Its rows are behind seal 3 now, and no seal covers them.
        assert_eq!(v.break_count, 3);

        // A rewritten chain still links, but not to the auditor's anchor.
        let (_dir2, db2) = sqlite();
        append(&db2, 2);
        let first_seal = seal_pending(&db2).await.unwrap().remove(0);
        let anchor = Anchor {
            seal: 1,
            hash: first_seal.hash.clone(),
        };
        let v = verify(&mut db2.connection().unwrap(), Some(&anchor)).unwrap();
        assert!(v.intact());
        let wrong = Anchor {
            seal: 1,
            hash: GENESIS.into(),
        };
        let v = verify(&mut db2.connection().unwrap(), Some(&wrong)).unwrap();
        assert_eq!(v.first_break.unwrap().kind, BreakKind::AnchorMismatch);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_row_put_behind_a_seal_is_named() {
        let (_dir, db) = sqlite();
        append(&db, 3);
        seal_pending(&db).await.unwrap();
        let mut conn = db.connection().unwrap();
        // A row with an id below the seal's through, put in directly.
        conn.batch_execute(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 2; \
             INSERT INTO audit_log (id, at_micros, actor, role, province, rpc, resource, request_id, outcome) \
             VALUES (-5, 1, 'x', 'ministry', NULL, 'R', 'x/9', 'r', 'OK')",
        )
        .unwrap();
        let v = check(&db);
        assert_eq!(v.break_count, 2, "{v:?}");
        let first = v.first_break.unwrap();
        assert_eq!(
            (first.kind, first.row_id),
            (BreakKind::RowOutsideSeals, Some(-5))
        );
    }
}
