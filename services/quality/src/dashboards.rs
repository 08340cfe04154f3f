//! For dashboards: how a period's grades are distributed, which
//! institutions' grades changed, and a live watch of new scores.

use std::collections::HashMap;
use std::time::Duration;

use ce_proto::common::Role;
use ce_proto::quality::{
    DistributionRow, GetScoreDistributionRequest, GradeChange, GradeCount, ListGradeChangesRequest,
    ListGradeChangesResponse, Score, ScoreDistribution, WatchScoresRequest,
};
use ce_server::auth::Caller;
use ce_server::call::now_micros;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, dates};
use prost::Message;

use crate::convert;
use crate::scope::{Scope, for_caller};
use crate::scores::Quality;
use crate::store::{self, Graded};

/// How often a watch looks for scores other replicas computed.
pub const POLL: Duration = Duration::from_secs(1);
/// How far back a watch looks again for scores committed late.
const LAG: Duration = Duration::from_secs(5);

impl Quality {
    pub async fn distribution(
        &self,
        call: &Call,
        req: GetScoreDistributionRequest,
    ) -> Result<ScoreDistribution, ApiError> {
        convert::period(&req.period)?;
        let Scope { province, field } = Scope::of(
            &call.caller,
            &req.province,
            req.field,
            "reading quality dashboards",
        )?;
        // A mean over few institutions is their score: an institution sees
        // the counts of grades only.
        let means = call.caller.role != Role::Institution;
        let period = req.period.clone();
        let counts = self
            .db
            .read(move |conn| {
                Ok::<_, ApiError>(store::distribution(
                    conn,
                    &period,
                    province.as_deref(),
                    field,
                )?)
            })
            .await?;
        let mut rows: Vec<(DistributionRow, f64, i64)> = Vec::new();
        for (province, field, state, grade, n, sum) in counts {
            if rows
                .last()
                .is_none_or(|(r, _, _)| r.province != province || r.field != field)
            {
                rows.push((
                    DistributionRow {
                        province: province.clone(),
                        field,
                        ..Default::default()
                    },
                    0.0,
                    0,
                ));
            }
            if let Some((row, total, scored)) = rows.last_mut() {
                if state == Graded::Scored {
                    row.grades.push(GradeCount {
                        grade,
                        institutions: n,
                    });
                    *total += sum.unwrap_or(0.0);
                    *scored += n;
                } else {
                    row.insufficient_data += n;
                }
            }
        }
        Ok(ScoreDistribution {
            period: req.period,
            rows: rows
                .into_iter()
                .map(|(mut r, total, scored)| {
                    r.mean_score = if scored == 0 || !means {
                        0.0
                    } else {
                        ((total / scored as f64) * 100.0).round() / 100.0
                    };
                    r
                })
                .collect(),
        })
    }

    pub async fn grade_changes(
        &self,
        call: &Call,
        req: ListGradeChangesRequest,
    ) -> Result<ListGradeChangesResponse, ApiError> {
        if !req.period.is_empty() {
            convert::period(&req.period)?;
        }
        let Scope { province, field } = Scope::of(
            &call.caller,
            &req.province,
            req.field,
            "reading quality dashboards",
        )?;
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!("{}|{}|{}", req.period, req.province, req.field),
        )?;
        let period = (!req.period.is_empty()).then(|| req.period.clone());
        let (changes, next_page_token) = page
            .load_within(
                &self.db,
                move |conn, after, limit| {
                    Ok(store::list_grade_changes(
                        conn,
                        period.as_deref(),
                        province.as_deref(),
                        field,
                        after,
                        limit,
                    )?)
                },
                |r| r.id.clone(),
                |r| {
                    Ok(GradeChange {
                        institution: format!("institutions/{}", r.institution_id),
                        period: r.period,
                        from_grade: r.from_grade.unwrap_or_default(),
                        to_grade: r.to_grade,
                        province: r.province,
                        change_time: Some(dates::timestamp(r.change_micros)),
                    })
                },
                call.max_message_bytes,
            )
            .await?;
        Ok(ListGradeChangesResponse {
            changes,
            next_page_token,
        })
    }

    /// New scores as any replica computes them, within the caller's scope:
    /// the watch follows the score history in the database, woken at once
    /// by this replica's own scores and every [`POLL`] for the others'.
    pub fn watch(
        &self,
        call: &Call,
        req: WatchScoresRequest,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Score, tonic::Status>>, ApiError> {
        if !req.period.is_empty() {
            convert::period(&req.period)?;
        }
        let scope = Scope::of(
            &call.caller,
            &req.province,
            req.field,
            "reading quality dashboards",
        )?;
        let caller = call.caller.clone();
        let db = self.db.clone();
        let mut wake = self.computed.subscribe();
        let period = (!req.period.is_empty()).then_some(req.period);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            let start = now_micros();
            let mut since = start;
            // What was sent, by id, while it is inside the look-back.
            let mut sent: HashMap<String, i64> = HashMap::new();
            loop {
                match send_new(&db, since, period.clone(), &mut sent, &scope, &caller, &tx).await {
                    Ok(Some(newest)) => {
                        // Scores commit a little after they are computed, and
                        // not always in that order: look back LAG each time.
                        since = start.max(newest - LAG.as_micros() as i64);
                        sent.retain(|_, at| *at >= since);
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "WatchScores could not read the score history");
                    }
                }
                tokio::select! {
                    // The service is stopping.
                    r = wake.changed() => if r.is_err() { return },
                    _ = tokio::time::sleep(POLL) => {}
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(rx)
    }
}

/// Sends the scores in the history since `since` not sent yet that `scope`
/// covers; the newest computation time seen, or `None` once the watcher is
/// gone.
async fn send_new(
    db: &ce_db::Db,
    since: i64,
    period: Option<String>,
    sent: &mut HashMap<String, i64>,
    scope: &Scope,
    caller: &Caller,
    tx: &tokio::sync::mpsc::Sender<Result<Score, tonic::Status>>,
) -> Result<Option<i64>, ApiError> {
    let recent = db
        .read(move |conn| Ok::<_, ApiError>(store::computed_since(conn, since, period.as_deref())?))
        .await?;
    let newest = recent.last().map_or(since, |r| r.1);
    let fresh: Vec<(String, i64)> = recent
        .into_iter()
        .filter(|(id, _)| !sent.contains_key(id))
        .collect();
    if fresh.is_empty() {
        return Ok(Some(newest));
    }
    let ids: Vec<String> = fresh.iter().map(|f| f.0.clone()).collect();
    let bodies = db
        .read(move |conn| Ok::<_, ApiError>(store::history_bodies(conn, &ids)?))
        .await?;
    sent.extend(fresh);
    for body in bodies {
        let Ok(score) = Score::decode(body.as_slice()) else {
            continue;
        };
        if scope.covers(&score) && tx.send(Ok(for_caller(caller, score))).await.is_err() {
            return Ok(None);
        }
    }
    Ok(Some(newest))
}
