//! For dashboards: how a period's grades are distributed, which
//! institutions' grades changed, and a live watch of new scores.

use ce_proto::common::Role;
use ce_proto::quality::{
    DistributionRow, GetScoreDistributionRequest, GradeChange, GradeCount, ListGradeChangesRequest,
    ListGradeChangesResponse, Score, ScoreDistribution, ScoreState, WatchScoresRequest,
};
use ce_server::auth::Caller;
use ce_server::paging::Page;
use ce_server::scope::{deny, narrow};
use ce_server::{ApiError, Call, dates};

use crate::scores::{Quality, check_period};
use crate::store;

/// The province a department is held to, or `None` for the whole nation;
/// refused for roles that read no dashboard.
fn province_scope(caller: &Caller, asked: &str) -> Result<Option<String>, ApiError> {
    let asked = (!asked.is_empty()).then(|| asked.to_owned());
    if let Some(p) = &asked
        && ce_proto::reference::region(p).is_none()
    {
        return Err(ApiError::invalid(
            "province",
            format!("`{p}` is not a province code"),
        ));
    }
    match caller.role {
        Role::Ministry | Role::Service | Role::Institution => Ok(asked),
        Role::ProvincialHrss | Role::IndustryRegulator => {
            narrow(asked, caller.province.clone(), "province")
        }
        _ => Err(deny("reading quality dashboards")),
    }
}

impl Quality {
    pub async fn distribution(
        &self,
        call: &Call,
        req: GetScoreDistributionRequest,
    ) -> Result<ScoreDistribution, ApiError> {
        check_period(&req.period)?;
        let province = province_scope(&call.caller, &req.province)?;
        let field = match call.caller.role {
            Role::IndustryRegulator => narrow(
                (req.field != 0).then_some(req.field),
                call.caller.field.map(|f| f as i32),
                "field",
            )?,
            _ => (req.field != 0).then_some(req.field),
        };
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
                if state == ScoreState::Scored as i32 {
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
                    r.mean_score = if scored == 0 {
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
            check_period(&req.period)?;
        }
        let province = province_scope(&call.caller, &req.province)?;
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!("{}|{}", req.period, req.province),
        )?;
        let period = (!req.period.is_empty()).then(|| req.period.clone());
        let (rows, next_page_token) = page
            .load(
                &self.db,
                move |conn, after, limit| {
                    Ok(store::list_grade_changes(
                        conn,
                        period.as_deref(),
                        province.as_deref(),
                        after,
                        limit,
                    )?)
                },
                |r| r.id.clone(),
            )
            .await?;
        Ok(ListGradeChangesResponse {
            changes: rows
                .into_iter()
                .map(|r| GradeChange {
                    institution: format!("institutions/{}", r.institution_id),
                    period: r.period,
                    from_grade: r.from_grade.unwrap_or_default(),
                    to_grade: r.to_grade,
                    province: r.province,
                    change_time: Some(dates::timestamp(r.change_micros)),
                })
                .collect(),
            next_page_token,
        })
    }

    /// New scores as this replica computes them, within the caller's scope.
    pub fn watch(
        &self,
        call: &Call,
        req: WatchScoresRequest,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Score, tonic::Status>>, ApiError> {
        if !req.period.is_empty() {
            check_period(&req.period)?;
        }
        let province = province_scope(&call.caller, &req.province)?;
        let caller = call.caller.clone();
        let mut scores = self.computed.subscribe();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let score = tokio::select! {
                    s = scores.recv() => s,
                    _ = tx.closed() => return,
                };
                let score = match score {
                    Ok(s) => s,
                    // A slow watcher skips what it missed rather than holding others up.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                if (!req.period.is_empty() && score.period != req.period)
                    || province.as_ref().is_some_and(|p| *p != score.province)
                {
                    continue;
                }
                let mut score = score;
                if caller.role == Role::Institution
                    && caller.org.as_deref() != Some(&score.institution)
                {
                    score.contributions.clear();
                    score.reasons.clear();
                }
                if tx.send(Ok(score)).await.is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }
}
