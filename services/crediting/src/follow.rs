//! Follows the registry's changes of where engineers are (Art. 22), so an
//! engineer's years follow them to another province, employer or field.
//!
//! A stored status carries the province, employer and field it was
//! assessed for, and the lists a province or employer chases its
//! engineers with filter on those. Without this, an engineer who moved
//! stayed in the old province's lists until something reassessed the year.
//!
//! Each round reads the changes after this replica's cursor. For each
//! change, the engineer's stored years from the change's year on that are
//! held for another place are reassessed under the place the change names,
//! in one transaction with the shared cursor's advance; the years before
//! stay with the province, employer and field the engineer spent them
//! with. The engineer is dropped from the registry cache, so records
//! submitted after the move see where the engineer is now.
//!
//! Each replica reads every change from where it started (its own cache
//! needs refreshing too); the stored cursor is where a replica starts and
//! only moves forward. Reassessing a year twice writes nothing the second
//! time: the status stands.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ce_proto::registry::EngineerChange;
use ce_server::ApiError;
use time::macros::offset;

use crate::names;
use crate::records::Crediting;
use crate::status::{self, Who};
use crate::store;

/// The cursor's name in `feed_cursors`.
pub const FEED: &str = "registry.engineers";
/// Changes read per round at most (the registry's limit).
const PAGE: i32 = 1000;

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// The sequence read up to.
    pub cursor: i64,
    /// Years put under the place an engineer moved to.
    pub moved: usize,
    /// The page was full: more changes are waiting.
    pub more: bool,
}

/// The year a change was made in, China time.
fn year_of(change: &EngineerChange) -> Result<i32, ApiError> {
    let seconds = change.change_time.as_ref().map_or(0, |t| t.seconds);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset!(+8)).year())
        .map_err(|e| ApiError::Internal(format!("change {}: {e}", change.sequence)))
}

/// One round from `after` (0: from the stored cursor): reads up to a page
/// of changes and moves the years they concern.
pub async fn round(c: &Crediting, after: i64) -> Result<Round, ApiError> {
    let after = if after > 0 {
        after
    } else {
        c.db.read(|conn| Ok::<_, ApiError>(ce_server::cursor::get(conn, FEED)?))
            .await?
    };
    let page = c.registry.engineer_changes(after, PAGE).await?;
    let mut moves = Vec::with_capacity(page.engineer_changes.len());
    for change in &page.engineer_changes {
        let engineer_id = names::engineer_id("engineer", &change.engineer)?.to_owned();
        c.registry.forget_engineer(&change.engineer);
        moves.push((
            Who {
                engineer_id,
                province: change.province.clone(),
                field: change.field,
                employer_id: change
                    .employer
                    .strip_prefix("employers/")
                    .map(str::to_owned),
            },
            year_of(change)?,
        ));
    }
    let next = page.next_after_sequence.max(after);
    let rules = c.rules.clone();
    let today = (c.clock)();
    let moved = c
        .feed
        .write(&c.db, move |conn, changes| {
            let mut moved = 0;
            // In order: a later change of the same engineer has the last word.
            for (who, from_year) in &moves {
                store::lock_engineers(conn, std::slice::from_ref(&who.engineer_id))?;
                let years: Vec<i32> = store::engineer_statuses(conn, &who.engineer_id)?
                    .into_iter()
                    .filter(|s| {
                        s.year >= *from_year
                            && (&s.province, s.field, &s.employer_id)
                                != (&who.province, who.field, &who.employer_id)
                    })
                    .map(|s| s.year)
                    .collect();
                for year in years {
                    status::recompute(conn, changes, &rules, who, year, today)?;
                    moved += 1;
                }
            }
            if next > after {
                ce_server::cursor::advance(conn, FEED, next)?;
            }
            Ok(moved)
        })
        .await?;
    Ok(Round {
        cursor: next,
        moved,
        more: page.engineer_changes.len() >= PAGE as usize,
    })
}

/// Runs [`round`] every `every` (at once again while pages come back full)
/// until `stop` turns true, from this replica's own cursor.
pub fn spawn(c: Crediting, every: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    let cursor = Arc::new(AtomicI64::new(0));
    ce_server::cursor::spawn_rounds(FEED, every, stop, move || {
        let (c, cursor) = (c.clone(), cursor.clone());
        async move {
            let r = round(&c, cursor.load(Ordering::Relaxed)).await?;
            cursor.store(r.cursor, Ordering::Relaxed);
            if r.moved > 0 {
                tracing::info!(
                    years = r.moved,
                    "engineers' years moved with them to another province, employer or field"
                );
            }
            Ok(r.more)
        }
    });
}
