//! Deciding and closing violations (Art. 24, 26, 27). Which decision suits
//! which party, its standing, and reinstatement are ce-rules'
//! ([`ce_rules::sanction`]); this module checks the request, and writes the
//! decision with its effects on the registry and crediting to the outbox
//! in the decision's transaction.

use ce_db::{DbConnection, audit};
use ce_proto::crediting::RevokeHourRecordsRequest;
use ce_proto::registry::ChangeInstitutionStandingRequest;
use ce_proto::supervision::{
    ClosureKind, Decision, DecisionKind, Notification, Violation, ViolationState,
};
use ce_rules::article::{ART_26, ART_27};
use ce_rules::sanction::{self, Category, OtherCase, Unsuited};
use ce_rules::standing::{Change, Standing};
use ce_server::call::now_micros;
use ce_server::outbox::{self as effects, Effect};
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;
use time::Date;

use crate::convert;
use crate::outbox::{CHANGE_STANDING, REVOKE_HOURS};
use crate::scope;
use crate::store::{self, NotificationRow, ViolationRow};
use crate::violations::{NOTIFICATIONS, Supervision};

/// A decision checked against its violation, ready to store.
struct Checked {
    decision: Decision,
    kind: DecisionKind,
    /// Improper hours: the records are revoked (Art. 27).
    revokes: bool,
    /// The standing it gives an institution (Art. 26).
    standing: Option<Standing>,
    effective: Option<Date>,
    suspension_end: Option<Date>,
}

/// The message for a decision that does not suit its party.
fn unsuited(u: Unsuited) -> String {
    let article = u.article();
    match u {
        Unsuited::ImproperHours => format!("improper hours are decided by revocation ({article})"),
        Unsuited::Institution => format!(
            "an institution gets a warning, a rectification order, a suspension or disqualification ({article})"
        ),
        Unsuited::RefusedInspection => format!(
            "an employer or engineer that refused inspection ({article}) gets a warning or a rectification order"
        ),
    }
}

/// A date of the decision that must not be before its effective date:
/// the date, or why not.
fn after_effective(
    v: &mut Violations,
    field: &str,
    required_for: &str,
    date: Option<&ce_proto::google::r#type::Date>,
    effective: Option<Date>,
) -> Option<Date> {
    match (dates::from_proto(date), effective) {
        (Ok(until), Some(from)) if sanction::not_before(until, from) => Some(until),
        (Ok(_), Some(_)) => {
            v.add(field, "must not be before the effective date");
            None
        }
        (Err(e), _) => {
            v.add(field, format!("is required for {required_for}: {e}"));
            None
        }
        _ => None,
    }
}

/// Checks a decision of `row` (Art. 24, 26, 27).
fn check(row: &ViolationRow, decision: Option<Decision>) -> Result<Checked, ApiError> {
    let Some(mut d) = decision else {
        return Err(ApiError::invalid("decision", "is required"));
    };
    // A stored violation has a category; one not known decides as an
    // institution's "other" violation would.
    let category = convert::category(row.category()).unwrap_or(Category::Other);
    let revokes = !sanction::dated(category);
    let mut v = Violations::new();
    let kind = d.kind();
    let standing = sanction::decision(category, row.party(), convert::decision(kind))
        .unwrap_or_else(|u| {
            v.add("decision.kind", unsuited(u));
            None
        });
    d.reason = d.reason.trim().to_owned();
    if d.reason.is_empty() || d.reason.len() > 4000 {
        v.add(
            "decision.reason",
            "is required: why, in at most 4000 characters",
        );
    }
    let effective = if revokes {
        None
    } else {
        v.check(
            "decision.effective_date",
            dates::from_proto(d.effective_date.as_ref()),
        )
    };
    if kind == DecisionKind::RectificationOrder {
        after_effective(
            &mut v,
            "decision.rectification_deadline",
            "a rectification order",
            d.rectification_deadline.as_ref(),
            effective,
        );
    }
    let suspension_end = if kind == DecisionKind::Suspension {
        after_effective(
            &mut v,
            "decision.suspension_end_date",
            "a suspension",
            d.suspension_end_date.as_ref(),
            effective,
        )
    } else {
        None
    };
    v.finish()?;
    Ok(Checked {
        decision: d,
        kind,
        revokes,
        standing,
        effective,
        suspension_end,
    })
}

/// A standing change for the registry, from `change`.
fn standing_change(
    violation: &Violation,
    name: &str,
    id: &str,
    change: Change,
    reason: String,
) -> ChangeInstitutionStandingRequest {
    ChangeInstitutionStandingRequest {
        name: violation.institution.clone(),
        standing: convert::standing(change.standing) as i32,
        reason,
        effective_date: Some(dates::to_proto(change.effective)),
        article: ART_26.to_string(),
        case_reference: name.to_owned(),
        request_id: id.to_owned(),
    }
}

/// The effects of a decision on the registry and crediting.
fn decision_effects(violation: &Violation, name: &str, id: &str, c: &Checked) -> Vec<Effect> {
    let mut out = Vec::new();
    let reason = &c.decision.reason;
    if let (Some(standing), Some(from)) = (c.standing, c.effective) {
        for change in sanction::standing_changes(standing, from, c.suspension_end) {
            let why = if change.standing == Standing::Active {
                format!("suspension under {name} ended")
            } else {
                reason.clone()
            };
            let effect = names::new_id();
            let request = standing_change(violation, name, &effect, change, why);
            out.push(Effect::new(
                effect,
                id,
                CHANGE_STANDING,
                request.encode_to_vec(),
            ));
        }
    }
    if c.revokes {
        let revoke = RevokeHourRecordsRequest {
            names: violation.hour_records.clone(),
            reason: reason.clone(),
            case_reference: name.to_owned(),
        };
        out.push(Effect::new(
            names::new_id(),
            id,
            REVOKE_HOURS,
            revoke.encode_to_vec(),
        ));
    }
    out
}

/// Tells an engineer's employer that the engineer's hours are revoked (Art. 27).
fn notify_employer(
    conn: &mut DbConnection,
    violation: &Violation,
    name: &str,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<(), ApiError> {
    let Some(employer) = violation.employer.strip_prefix("employers/") else {
        return Ok(());
    };
    let nid = names::new_id();
    let note = Notification {
        name: names::name(NOTIFICATIONS, &nid),
        employer: violation.employer.clone(),
        violation: name.to_owned(),
        engineer: violation.engineer.clone(),
        text: format!(
            "Hours of your staff member {} were obtained by improper means and are revoked ({ART_27}): {}. Records: {}.",
            violation.engineer,
            reason,
            violation.hour_records.join(", ")
        ),
        province: violation.province.clone(),
        create_time: Some(dates::timestamp(now)),
        acknowledge_time: None,
        acknowledged_by: String::new(),
        ..Default::default()
    };
    store::insert_notification(
        conn,
        &NotificationRow {
            id: nid,
            employer_id: employer.to_owned(),
            violation_id: id.to_owned(),
            province: violation.province.clone(),
            body: note.encode_to_vec(),
            create_micros: now,
            acknowledge_micros: None,
            department: None,
        },
    )?;
    Ok(())
}

/// Stores the decision of the open violation `id`, with its effects, in
/// one transaction.
fn decide_in(
    conn: &mut DbConnection,
    call: &Call,
    name: &str,
    id: &str,
    mut c: Checked,
) -> Result<ViolationRow, ApiError> {
    store::lock_violation(conn, id)?;
    let mut row = store::get_violation(conn, id)?.ok_or_else(|| names::not_found(name))?;
    if row.state() != ViolationState::Open {
        return Err(ApiError::precondition(
            ce_server::reason::Reason::ViolationAlreadyDecided,
            name,
            format!(
                "{name} is decided already: a violation is decided once (record an appeal as a new violation)"
            ),
        ));
    }
    let mut violation = convert::violation(&row)?;
    let now = now_micros();
    c.decision.decided_by = call.caller.subject.clone();
    c.decision.decide_time = Some(dates::timestamp(now));
    let effects = decision_effects(&violation, name, id, &c);
    if c.revokes {
        notify_employer(conn, &violation, name, id, &c.decision.reason, now)?;
    }
    for e in &effects {
        effects::insert(conn, e)?;
    }
    violation.state = ViolationState::Decided as i32;
    row.deadline = c
        .decision
        .rectification_deadline
        .as_ref()
        .filter(|_| c.kind == DecisionKind::RectificationOrder)
        .and_then(|x| dates::from_proto(Some(x)).ok())
        .map(dates::format);
    violation.decision = Some(c.decision);
    violation.update_time = Some(dates::timestamp(now));
    row.state = violation.state;
    row.body = violation.encode_to_vec();
    row.update_micros = now;
    store::update_violation(conn, &row)?;
    audit::append(conn, &call.audit(name, "OK"))?;
    Ok(row)
}

/// When closing `row` as rectified returns its institution to active
/// (Art. 26, [`sanction::reinstatement`]), weighing the institution's
/// other cases.
fn reinstatement(
    conn: &mut DbConnection,
    row: &ViolationRow,
    violation: &Violation,
    today: Date,
) -> Result<Option<Date>, ApiError> {
    let Some(decision) = violation.decision.as_ref() else {
        return Ok(None);
    };
    let Some(kind) = convert::decision(decision.kind()).filter(|k| sanction::reinstates(*k)) else {
        return Ok(None);
    };
    let Some(institution) = &row.institution_id else {
        return Ok(None);
    };
    let effective = dates::from_proto(decision.effective_date.as_ref()).ok();
    let mut others = Vec::new();
    for other in store::violations_of_institution(conn, institution)? {
        if other.id == row.id {
            continue;
        }
        let Some(d) = convert::violation(&other)?.decision else {
            continue;
        };
        others.push(OtherCase {
            decision: convert::decision(d.kind()),
            suspension_end: dates::from_proto(d.suspension_end_date.as_ref()).ok(),
            in_force: other.state() == ViolationState::Decided,
        });
    }
    Ok(sanction::reinstatement(kind, effective, today, &others))
}

/// Closes the decided violation `id` in one transaction, queueing the
/// institution's reinstatement when it is due.
fn close_in(
    conn: &mut DbConnection,
    call: &Call,
    name: &str,
    id: &str,
    closure: ClosureKind,
    reason: String,
    today: Date,
) -> Result<ViolationRow, ApiError> {
    store::lock_violation(conn, id)?;
    let mut row = store::get_violation(conn, id)?.ok_or_else(|| names::not_found(name))?;
    if row.state() != ViolationState::Decided {
        return Err(ApiError::precondition(
            ce_server::reason::Reason::ViolationNotDecided,
            name,
            format!("{name} is not decided: only a decided violation is closed"),
        ));
    }
    let mut violation = convert::violation(&row)?;
    let now = now_micros();
    if closure == ClosureKind::Rectified
        && let Some(from) = reinstatement(conn, &row, &violation, today)?
    {
        let back = names::new_id();
        let change = Change {
            effective: from,
            standing: Standing::Active,
        };
        let request = standing_change(
            &violation,
            name,
            &back,
            change,
            format!("rectified under {name}: {reason}"),
        );
        effects::insert(
            conn,
            &Effect::new(back, id, CHANGE_STANDING, request.encode_to_vec()),
        )?;
    }
    violation.state = ViolationState::Closed as i32;
    row.deadline = None;
    violation.closure = closure as i32;
    violation.closure_reason = reason;
    violation.update_time = Some(dates::timestamp(now));
    row.state = violation.state;
    row.body = violation.encode_to_vec();
    row.update_micros = now;
    store::update_violation(conn, &row)?;
    audit::append(conn, &call.audit(name, "OK"))?;
    Ok(row)
}

impl Supervision {
    pub async fn decide(
        &self,
        call: &Call,
        name: &str,
        decision: Option<Decision>,
    ) -> Result<Violation, ApiError> {
        let row = self.load(name).await?;
        scope::may_act(&call.caller, &row.province, &row.subject_fields())?;
        self.in_deployment(call, &row.province, name)?;
        let checked = check(&row, decision)?;
        let call = call.clone();
        let name = name.to_owned();
        let id = row.id.clone();
        let stored = self
            .db
            .write(move |conn| decide_in(conn, &call, &name, &id, checked))
            .await?;
        self.outbox.wake();
        self.with_pending(&stored).await
    }

    pub async fn close(
        &self,
        call: &Call,
        name: &str,
        closure: i32,
        reason: &str,
    ) -> Result<Violation, ApiError> {
        let row = self.load(name).await?;
        scope::may_act(&call.caller, &row.province, &row.subject_fields())?;
        self.in_deployment(call, &row.province, name)?;
        let mut v = Violations::new();
        let closure = ClosureKind::try_from(closure).unwrap_or(ClosureKind::Unspecified);
        match closure {
            ClosureKind::Rectified | ClosureKind::Escalated => {}
            _ => v.add("closure", "must be rectified or escalated"),
        }
        let reason = reason.trim().to_owned();
        if reason.is_empty() || reason.len() > 4000 {
            v.add("reason", "is required: why, in at most 4000 characters");
        }
        v.finish()?;
        let call = call.clone();
        let name = name.to_owned();
        let id = row.id.clone();
        let today = self.clock.today();
        let stored = self
            .db
            .write(move |conn| close_in(conn, &call, &name, &id, closure, reason, today))
            .await?;
        self.outbox.wake();
        self.with_pending(&stored).await
    }
}
