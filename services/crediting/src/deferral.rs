//! Art. 20: an employer certifies that injury, illness, pregnancy or a
//! similar reason kept an engineer from completing a year; the engineer
//! then designates records of the next year as make-up for it. Who
//! certifies, the reasons and years, and which year a record makes up are
//! decided by [`ce_rules::deferral`]; here are the look-ups and the words.

use ce_db::audit;
use ce_proto::common::Role;
use ce_proto::crediting::{
    Deferral, DeferralReason, DesignateMakeUpRequest, HourRecord, RecordState,
};
use ce_rules::article::cite;
use ce_rules::deferral::{self as rules, Reason, Refusal};
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, Violations};

use crate::convert;
use crate::names;
use crate::records::Crediting;
use crate::status::{self, Who};
use crate::store::{self, DeferralRow};

impl Crediting {
    /// Records an employer's certificate for one engineer's year.
    pub async fn create_deferral(&self, call: &Call, d: Deferral) -> Result<Deferral, ApiError> {
        let mut v = Violations::new();
        let engineer_id = v.check(
            "deferral.engineer",
            names::engineer_id("deferral.engineer", &d.engineer)
                .map(str::to_owned)
                .map_err(|_| "must be `engineers/{id}`".to_owned()),
        );
        let today = (self.clock)();
        if let Err(r) = rules::deferrable_year(d.year, today) {
            v.add("deferral.year", words(&r));
        }
        if let Err(r) = rules::reason_given(reason(d.reason), &d.explanation) {
            let field = match r {
                Refusal::Unexplained => "deferral.explanation",
                _ => "deferral.reason",
            };
            v.add(field, words(&r));
        }
        v.finish()?;
        let engineer_id = engineer_id.unwrap_or_default();
        rules::certified_by_employer(call.caller.role == Role::Employer).map_err(|r| {
            ApiError::denied(
                ce_server::reason::Reason::DeferralByOwnEmployer,
                "",
                words(&r),
            )
        })?;
        let engineer = self
            .registry
            .engineer(&d.engineer)
            .await
            .map_err(|e| match e {
                ApiError::InvalidArgument(_) => {
                    ApiError::invalid("deferral.engineer", "is not a registered engineer")
                }
                other => other,
            })?;
        let who = Who::of(&engineer);
        let mut row = DeferralRow {
            engineer_id: engineer_id.clone(),
            year: d.year,
            reason: d.reason,
            explanation: d.explanation.trim().to_owned(),
            certified_by: String::new(),
            create_micros: now_micros(),
        };
        let call = call.clone();
        let rules = self.rules.clone();
        let deployment = self.deployment.clone();
        let row = self
            .feed
            .write(&self.db, move |conn, changes| {
                // The employer the engineer is with now, under their lock:
                // the registry's answer may be cached from before a move.
                let who = status::locked(conn, &who)?;
                row.certified_by = certifier(&call, &who)?;
                deployment.accepts_write(&call.caller, &who.province, &d.engineer)?;
                if store::get_deferral(conn, &row.engineer_id, row.year)?.is_some() {
                    return Err(ApiError::AlreadyExists(format!(
                        "{} already has a deferral for {}",
                        names::engineer_name(&row.engineer_id),
                        row.year
                    )));
                }
                store::insert_deferral(conn, &row)?;
                status::recompute_locked(conn, changes, &rules, &who, row.year, today)?;
                audit::append(
                    conn,
                    &call.audit(
                        &format!("engineers/{}/deferrals/{}", row.engineer_id, row.year),
                        "OK",
                    ),
                )?;
                Ok(row)
            })
            .await?;
        Ok(convert::deferral_to_proto(row))
    }

    /// Designates one of the engineer's records as make-up for the year
    /// before its own.
    pub async fn designate_make_up(
        &self,
        call: &Call,
        req: DesignateMakeUpRequest,
    ) -> Result<HourRecord, ApiError> {
        let id = names::record_id("name", &req.name)?.to_owned();
        let current = {
            let id = id.clone();
            self.db
                .read(move |conn| store::get_record(conn, &id))
                .await?
                .ok_or_else(|| names::not_found(&req.name))?
        };
        rules::designated_by_engineer(
            call.caller.role == Role::Engineer
                && call.caller.subject == names::engineer_name(&current.engineer_id),
        )
        .map_err(|r| {
            ApiError::denied(ce_server::reason::Reason::MakeUpByEngineer, "", words(&r))
        })?;
        self.deployment
            .accepts_write(&call.caller, &current.province, &req.name)?;
        rules::makes_up(current.year, req.year)
            .map_err(|r| ApiError::invalid("year", words(&r)))?;
        if current.is(RecordState::Rejected) || current.is(RecordState::Revoked) {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::DeferralNotActive,
                req.name.clone(),
                format!("{} was rejected or revoked", req.name),
            ));
        }
        let who = Who::of(
            &self
                .registry
                .engineer(&names::engineer_name(&current.engineer_id))
                .await?,
        );
        let today = (self.clock)();
        let call = call.clone();
        let rules = self.rules.clone();
        let name = req.name.clone();
        let (record_year, record_province) = (current.year, current.province.clone());
        let row = self
            .feed
            .write(&self.db, move |conn, changes| {
                let certified = store::get_deferral(conn, &who.engineer_id, req.year)?.is_some();
                rules::deferred(req.year, certified).map_err(|r| {
                    ApiError::precondition(
                        ce_server::reason::Reason::MakeUpNotAllowed,
                        "",
                        words(&r),
                    )
                })?;
                store::set_make_up(conn, &id, req.year, now_micros())?;
                changes.record(&id, &who.engineer_id, record_year, &record_province);
                status::recompute(conn, changes, &rules, &who, req.year + 1, today)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                store::get_record(conn, &id)?.ok_or_else(|| names::not_found(&name))
            })
            .await?;
        convert::record_to_proto(row)
    }
}

/// The employer certifying a deferral for `who`, by name: the caller, who
/// must be the engineer's employer (Art. 20).
fn certifier(call: &Call, who: &Who) -> Result<String, ApiError> {
    let employer = who.employer_id.as_deref().map(names::employer_name);
    rules::certifies(employer.as_deref(), call.caller.org.as_deref()).map_err(|r| {
        ApiError::denied(
            ce_server::reason::Reason::DeferralByOwnEmployer,
            "",
            words(&r),
        )
    })?;
    Ok(employer.unwrap_or_default())
}

/// The rules' reason for the wire's; None when none is given.
fn reason(wire: i32) -> Option<Reason> {
    match DeferralReason::try_from(wire) {
        Ok(DeferralReason::Injury) => Some(Reason::Injury),
        Ok(DeferralReason::Illness) => Some(Reason::Illness),
        Ok(DeferralReason::Pregnancy) => Some(Reason::Pregnancy),
        Ok(DeferralReason::Other) => Some(Reason::Other),
        Ok(DeferralReason::Unspecified) | Err(_) => None,
    }
}

/// A refusal of the rules, as the caller is told it.
fn words(refusal: &Refusal) -> String {
    let cited = cite(refusal.articles());
    match refusal {
        Refusal::NoReason => {
            format!("is required: injury, illness, pregnancy or another special reason ({cited})")
        }
        Refusal::Unexplained => {
            format!("is required when the reason is another special reason ({cited})")
        }
        Refusal::Year { first, last } => format!("must be from {first} ({cited}) to {last}"),
        Refusal::NotAnEmployer => {
            format!("a deferral is certified by the engineer's employer ({cited})")
        }
        Refusal::NotOwnEmployer => {
            format!("only the engineer's own employer certifies a deferral ({cited})")
        }
        Refusal::NotOwnRecord => {
            format!("the engineer designates their own records as make-up ({cited})")
        }
        Refusal::WrongYear {
            record_year,
            can_make_up,
        } => format!("a record of {record_year} can make up only {can_make_up} ({cited})"),
        Refusal::NotDeferred { year } => {
            format!(
                "{year} has no employer-certified deferral, so nothing can make it up ({cited})"
            )
        }
    }
}
