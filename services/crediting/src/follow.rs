//! Follows the registry's changes of where engineers are (Art. 22), so an
//! engineer's years follow them to another province, employer or field.
//!
//! A stored status carries the province, employer and field it was
//! assessed for, and the lists a province or employer chases its
//! engineers with filter on those. Without this, an engineer who moved
//! stayed in the old province's lists until something reassessed the year.
//!
//! Each round reads the changes after this replica's cursor and applies
//! them one transaction each: under the engineer's lock, the engineer's
//! stored years from the change's year (China time) on that are held for
//! another place are reassessed under the place the change names, and the
//! shared cursor moves past it. The years before stay where they are
//! (`status::recompute` still moves a deferred year together with the
//! make-up year after it, Art. 20; and any later change to an earlier year,
//! a record confirmed late, say, reassesses it under the engineer's place
//! then, as always). The engineer is dropped from the registry cache, so
//! records submitted after the move see where the engineer is now.
//!
//! Each replica reads every change from where the shared cursor stood when
//! it started, because its own cache needs the news too.
//! `followed_engineers` keeps the last change applied to each engineer and
//! the place it names: a replica that is behind skips a change once it or
//! a later one was applied, so it never puts an engineer's years back
//! under a place they have since left. And every status write takes the
//! engineer's place from there when it is later than the one the registry
//! gave the write (`status::settle`, under the engineer's lock), so a
//! write that looked the engineer up before the move, on any replica,
//! cannot commit the old place after the move was applied. A change that
//! fails for any reason but an outage is logged and skipped, so that one
//! engineer cannot stop the feed for all.

use std::sync::Arc;
use std::time::Duration;

use ce_proto::registry::EngineerChange;
use ce_server::ApiError;

use crate::names;
use crate::records::Crediting;
use crate::status::{self, Who};
use crate::store;

/// The cursor's name in `feed_cursors`.
pub const FEED: &str = "registry.engineers";
/// Changes read per round at most (the registry's limit).
const PAGE: i32 = 1000;

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq)]
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
    let seconds = change
        .change_time
        .as_ref()
        .ok_or_else(|| ApiError::Internal(format!("change {} has no time", change.sequence)))?
        .seconds;
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| ce_rules::dates::date_of(t).year())
        .map_err(|e| ApiError::Internal(format!("change {}: {e}", change.sequence)))
}

/// One round after `after` (None: from the stored cursor): reads up to a
/// page of changes and applies them in order.
pub async fn round(c: &Crediting, after: Option<i64>) -> Result<Round, ApiError> {
    let after = match after {
        Some(after) => after,
        None => {
            c.db.read(|conn| Ok::<_, ApiError>(ce_server::cursor::get(conn, FEED)?))
                .await?
        }
    };
    let page = c.registry.engineer_changes(after, PAGE).await?;
    let mut round = Round {
        cursor: after,
        moved: 0,
        more: page.engineer_changes.len() >= PAGE as usize,
    };
    for change in page.engineer_changes {
        c.registry.forget_engineer(&change.engineer);
        let sequence = change.sequence;
        match apply(c, &change).await {
            Ok(moved) => round.moved += moved,
            // The database is down: this change is read again.
            Err(e @ ApiError::Unavailable(_)) => return Err(e),
            Err(e) => {
                tracing::error!(
                    sequence,
                    engineer = %change.engineer,
                    error = %e,
                    "an engineer change could not be applied; skipped, the engineer's years stay where they were"
                );
                c.db.write(move |conn| {
                    Ok::<_, ApiError>(ce_server::cursor::advance(conn, FEED, sequence)?)
                })
                .await?;
            }
        }
        round.cursor = sequence;
    }
    Ok(round)
}

/// Applies one change and moves the shared cursor past it, in one
/// transaction; returns how many years it moved.
async fn apply(c: &Crediting, change: &EngineerChange) -> Result<usize, ApiError> {
    let sequence = change.sequence;
    let from_year = year_of(change)?;
    let who = Who {
        sequence: Some(sequence),
        ..Who::at(
            names::engineer_id("engineer", &change.engineer)?,
            &change.province,
            change.field,
            &change.employer,
        )
    };
    let rules = c.rules.clone();
    let today = (c.clock)();
    c.feed
        .write(&c.db, move |conn, changes| {
            store::lock_engineers(conn, std::slice::from_ref(&who.engineer_id))?;
            let mut moved = 0;
            // Applied already, by this replica or another, or a later
            // change of this engineer was: nothing to do.
            if store::followed_sequence(conn, &who.engineer_id)? < sequence {
                // First, so that writes from here on take this place.
                store::follow(
                    conn,
                    &who.engineer_id,
                    sequence,
                    &who.province,
                    who.field,
                    who.employer_id.as_deref(),
                )?;
                let years: Vec<i32> = store::engineer_statuses(conn, &who.engineer_id)?
                    .into_iter()
                    .filter(|s| {
                        s.year >= from_year
                            && (&s.province, s.field, &s.employer_id)
                                != (&who.province, who.field, &who.employer_id)
                    })
                    .map(|s| s.year)
                    .collect();
                for year in years {
                    status::recompute(conn, changes, &rules, &who, year, today)?;
                    moved += 1;
                }
            }
            ce_server::cursor::advance(conn, FEED, sequence)?;
            Ok(moved)
        })
        .await
}

/// Runs [`round`] every `every` (at once again while pages come back full)
/// until `stop` turns true, from this replica's own cursor.
pub fn spawn(c: Crediting, every: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    // This replica's cursor: none until its first round has read the shared one.
    let cursor = Arc::new(tokio::sync::Mutex::new(None::<i64>));
    ce_server::cursor::spawn_rounds(FEED, every, stop, move || {
        let (c, cursor) = (c.clone(), cursor.clone());
        async move {
            let mut cursor = cursor.lock().await;
            let r = round(&c, *cursor).await?;
            *cursor = Some(r.cursor);
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
