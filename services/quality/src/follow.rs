//! Follows crediting's change feed (Art. 22), so an institution's scores are
//! recomputed when the hours it uploaded change, without anyone calling
//! RefreshIndicators: attendance anomalies (Art. 13) and registration delay
//! (Art. 21) are measured on those records.
//!
//! Each round reads the changes after the stored cursor, gathers the
//! institutions whose hour records changed and the years concerned, and
//! refreshes every period of those years that the institution has a score
//! for. The cursor moves on only once they are all rescored (or refused for
//! good), so a round cut short (crediting or a peer down) is read again;
//! rescoring twice is harmless, as a score is a function of its evidence.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ce_proto::common::Role;
use ce_proto::crediting::{ChangeKind, ListChangesRequest, change};
use ce_server::auth::Caller;
use ce_server::context::RequestContext;
use ce_server::{ApiError, Call};

use crate::scores::Quality;
use crate::store;

/// The cursor's name in `feed_cursors`.
const FEED: &str = "crediting";
/// Changes read per round at most.
const PAGE: i32 = 1000;

/// Who the rescoring is done as, in the audit log.
fn follower() -> Call {
    Call {
        caller: Caller {
            subject: "quality-monitoring/change-feed".into(),
            role: Role::Service,
            province: None,
            field: None,
            org: None,
        },
        context: RequestContext {
            request_id: String::new(),
            rpc: "/ce.quality.v1.QualityService/FollowCreditingChanges".into(),
        },
        max_message_bytes: ce_server::paging::DEFAULT_MAX_MESSAGE_BYTES,
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Scores recomputed.
    pub rescored: usize,
    /// The page was full: more changes are waiting.
    pub more: bool,
}

/// One round: reads up to a page of changes and rescores what they touch.
pub async fn round(q: &Quality) -> Result<Round, ApiError> {
    let after =
        q.db.read(|conn| Ok::<_, ApiError>(ce_server::cursor::get(conn, FEED)?))
            .await?;
    let page = q
        .clients
        .crediting
        .clone()
        .list_changes(ListChangesRequest {
            after_sequence: after,
            page_size: PAGE,
            province: String::new(),
        })
        .await
        .map_err(|e| ApiError::Unavailable(format!("crediting did not answer: {}", e.message())))?
        .into_inner();
    let mut touched: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    for c in &page.changes {
        if c.kind() != ChangeKind::HourRecord {
            continue;
        }
        if let Some(change::Current::HourRecord(r)) = &c.current
            && !r.institution.is_empty()
        {
            touched
                .entry(r.institution.clone())
                .or_default()
                .insert(r.year);
        }
    }
    let call = follower();
    let mut rescored = 0;
    for (institution, years) in touched {
        let Some(id) = institution.strip_prefix("institutions/").map(str::to_owned) else {
            continue;
        };
        let years: Vec<i32> = years.into_iter().collect();
        let periods =
            q.db.read(move |conn| Ok::<_, ApiError>(store::scored_periods(conn, &id, &years)?))
                .await?;
        for period in periods {
            match q.refresh(&call, &institution, &period).await {
                Ok(_) => rescored += 1,
                // Refused for good (the registry no longer knows the
                // institution, say): retrying would stall the feed for all.
                Err(e) if e.is_refusal() => {
                    tracing::warn!(%institution, %period, error = %e, "not rescored from crediting's changes");
                }
                // A peer or the database is down: this round is read again.
                Err(e) => return Err(e),
            }
        }
    }
    if page.next_after_sequence > after {
        let next = page.next_after_sequence;
        q.db.write(move |conn| Ok::<_, ApiError>(ce_server::cursor::advance(conn, FEED, next)?))
            .await?;
    }
    Ok(Round {
        rescored,
        more: page.changes.len() >= PAGE as usize,
    })
}

/// Runs [`round`] every `every` (at once again while pages come back full)
/// until `stop` turns true.
pub fn spawn(q: Quality, every: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    ce_server::cursor::spawn_rounds(FEED, every, stop, move || {
        let q = q.clone();
        async move {
            let r = round(&q).await?;
            if r.rescored > 0 {
                tracing::info!(
                    rescored = r.rescored,
                    "crediting's changes rescored institutions"
                );
            }
            Ok(r.more)
        }
    });
}
