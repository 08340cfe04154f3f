//! Registering a record (Art. 17, 19, 21): a submission checked against
//! the registry and the rules, and its row built, touching no storage of
//! ours. What the regulation decides (the route a caller's role takes,
//! which forms it registers, that an organiser registers only its own
//! activity's hours, hours only once earned, the deadlines) comes from
//! [`ce_rules::registration`]; here are the look-ups it needs and the
//! words a refusal is answered with.

use ce_proto::common::Role;
use ce_proto::crediting::{HourRecord, RecordState, Route};
use ce_proto::registry::OrganiserKind;
use ce_rules::article::{ART_26, cite};
use ce_rules::registration::{self as rules, MAX_AID_YEARS, Refusal, Registrant};
use ce_rules::{Activity, Channel, RuleSet};
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, Violations, dates};
use prost::Message;

use crate::activity::{self, input_error};
use crate::names;
use crate::records::{Crediting, digest};
use crate::status::{self, Who};
use crate::store::RecordRow;

/// What a submission says, read and checked for form.
struct Submitted {
    engineer_id: String,
    activity: Activity,
    /// Claimed hours in centi-hours, if any.
    claimed: Option<i64>,
}

/// Who registers, by their role (Art. 21).
fn registrant(role: Role) -> Registrant {
    match role {
        Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => Registrant::Department,
        Role::Institution => Registrant::Institution,
        Role::Engineer => Registrant::Engineer,
        _ => Registrant::Other,
    }
}

/// The wire's route for the rules' (Art. 21).
pub fn proto_route(route: Channel) -> Route {
    match route {
        Channel::DepartmentGrant => Route::DepartmentGrant,
        Channel::InstitutionUpload => Route::InstitutionUpload,
        Channel::EngineerSubmission => Route::SelfSubmission,
    }
}

/// The rules' route for the wire's; None for an unspecified one.
pub fn rules_route(route: Route) -> Option<Channel> {
    match route {
        Route::DepartmentGrant => Some(Channel::DepartmentGrant),
        Route::InstitutionUpload => Some(Channel::InstitutionUpload),
        Route::SelfSubmission => Some(Channel::EngineerSubmission),
        Route::Unspecified => None,
    }
}

/// A registration the rules refuse, as the caller is answered.
fn refused(act: &Activity, refusal: Refusal) -> ApiError {
    let cited = cite(refusal.articles());
    match refusal {
        Refusal::NotARegistrant => ApiError::denied(
            ce_server::reason::Reason::NotTheRegistrant,
            "",
            format!(
                "hours are registered by the department or institution that ran the activity, or submitted by \
             the engineer ({cited})"
            ),
        ),
        Refusal::NotOwnMaterials => ApiError::denied(
            ce_server::reason::Reason::OutOfScope,
            "",
            "an engineer submits only their own materials",
        ),
        Refusal::TrainingSubmitted => ApiError::invalid(
            "hour_record.activity",
            format!(
                "training hours are registered by the department or institution that ran it ({cited}); \
                 engineers submit forms 2-9 and aid assignments"
            ),
        ),
        Refusal::NotTraining => ApiError::invalid(
            "hour_record.activity",
            format!(
                "a department or institution registers training (face-to-face or online); other forms are \
                 submitted by the engineer ({cited})"
            ),
        ),
        Refusal::AidNotBegun { starts } => ApiError::invalid(
            activity::field_path(act, "date"),
            format!(
                "starts {}, after today: an aid assignment is registered once it has begun ({cited})",
                dates::format(starts)
            ),
        ),
        Refusal::AidTooLong {
            first_year,
            last_year,
        } => ApiError::invalid(
            activity::field_path(act, "end"),
            format!(
                "an aid assignment of {first_year} to {last_year} spans more than {MAX_AID_YEARS} years: \
                 register each posting separately"
            ),
        ),
        Refusal::NotYetEarned { ends } => ApiError::invalid(
            activity::field_path(act, "end"),
            format!(
                "ends {}, after today: hours are registered once they are earned ({cited})",
                dates::format(ends)
            ),
        ),
        Refusal::Late { message } => ApiError::precondition(
            ce_server::reason::Reason::RegistrationDeadlinePassed,
            "",
            message,
        ),
        Refusal::LectureUnnamed => ApiError::invalid(
            "hour_record.conversion.evidence_id",
            format!(
                "is required for a lecture: the engagement (the event or programme's reference) that makes \
                 one lecture count once ({cited})"
            ),
        ),
        // Answered where they are decided, with the activity's facts.
        Refusal::OutsideActivity { .. } | Refusal::NotOrganiser | Refusal::NotDecider => {
            ApiError::denied(
                ce_server::reason::Reason::NotTheRegistrant,
                "",
                format!("not registered ({cited})"),
            )
        }
    }
}

/// Reads the submission and checks its form: the engineer's name, the
/// activity, the claimed hours, the client key; a lecture names its
/// engagement (Art. 18(8)).
fn read(hr: &HourRecord) -> Result<Submitted, ApiError> {
    let mut v = Violations::new();
    let engineer_id = v.check(
        "hour_record.engineer",
        names::engineer_id("hour_record.engineer", &hr.engineer)
            .map(str::to_owned)
            .map_err(|_| "must be `engineers/{id}`".to_owned()),
    );
    let rules_activity = match activity::from_proto(hr.activity.as_ref()) {
        Ok(a) => Some(a),
        Err(ApiError::InvalidArgument(bad)) => {
            for b in bad {
                v.add(b.field, b.description);
            }
            None
        }
        Err(other) => return Err(other),
    };
    let claimed = if hr.claimed_hours == 0.0 {
        None
    } else {
        match ce_rules::Hours::from_f64(hr.claimed_hours) {
            Some(h) => Some(i64::from(h.centi())),
            None => {
                v.add(
                    "hour_record.claimed_hours",
                    "must be a finite number of hours, not negative",
                );
                None
            }
        }
    };
    if hr.client_key.len() > 128 {
        v.add("hour_record.client_key", "must be at most 128 characters");
    }
    v.finish()?;
    let (Some(engineer_id), Some(activity)) = (engineer_id, rules_activity) else {
        return Err(ApiError::invalid("hour_record", "is incomplete"));
    };
    rules::names_engagement(&activity).map_err(|r| refused(&activity, r))?;
    Ok(Submitted {
        engineer_id,
        activity,
        claimed,
    })
}

/// The route the caller's role takes, if it may register this form
/// (Art. 21).
fn route_for(call: &Call, hr: &HourRecord, act: &Activity) -> Result<Channel, ApiError> {
    let route = rules::route_of(registrant(call.caller.role)).map_err(|r| refused(act, r))?;
    rules::submits_own(route, &call.caller.subject, &hr.engineer).map_err(|r| refused(act, r))?;
    rules::may_register(route, act).map_err(|r| refused(act, r))?;
    Ok(route)
}

impl Crediting {
    /// Checks a record against the rules and the registry and builds its
    /// row, under a new id, touching no storage of ours.
    pub async fn prepare(
        &self,
        call: &Call,
        hr: &HourRecord,
    ) -> Result<(RecordRow, Who), ApiError> {
        self.prepare_as(call, hr, names::new_id()).await
    }

    /// [`Crediting::prepare`] under the id `id`: a bulk message names its
    /// records after itself (`bulk::record_id`, `docs/audit.md`).
    pub async fn prepare_as(
        &self,
        call: &Call,
        hr: &HourRecord,
        id: String,
    ) -> Result<(RecordRow, Who), ApiError> {
        let s = read(hr)?;
        let act = &s.activity;
        // The route follows the caller (Art. 21).
        let route = route_for(call, hr, act)?;
        let institution_id = if rules::names_activity(route) {
            self.organised(call, hr, act, route).await?
        } else {
            None
        };
        let today = (self.clock)();
        let engineer = self.registry.engineer(&hr.engineer).await?;
        let who = Who::of(&engineer);
        // Hours are entered into the system of the engineer's province
        // (Art. 21): a provincial deployment takes its own province's.
        self.deployment
            .accepts_write(&call.caller, &who.province, &hr.engineer)?;
        let year = act.date().year();
        let set = self
            .rules
            .for_year(&who.province, year)
            .map_err(|e| input_error(act, &e))?;
        let explanation = self.explain(&id, &s, route, set, today).await?;
        // Hours are registered once earned (Art. 17), an aid assignment
        // once begun, counting in every year it overlaps (Art. 19); by the
        // route's deadline for the last of them (Art. 21).
        let last_year = rules::earned(act, today).map_err(|r| refused(act, r))?;
        rules::in_time(set, route, last_year, today).map_err(|r| refused(act, r))?;
        let checked = Checked {
            id,
            route,
            institution_id,
            explanation,
            last_year,
        };
        Ok((row(call, hr, s, checked, &who), who))
    }

    /// The registry activity a department's or institution's hours come
    /// from: theirs, on their route, and the hours within it (Art. 21); an
    /// institution's not from days it was barred (Art. 26). The uploading
    /// institution's id.
    async fn organised(
        &self,
        call: &Call,
        hr: &HourRecord,
        act: &Activity,
        route: Channel,
    ) -> Result<Option<String>, ApiError> {
        if hr.registry_activity.is_empty() {
            return Err(ApiError::invalid(
                "hour_record.registry_activity",
                "is required: the registry activity the training took place in",
            ));
        }
        let a = self.registry.activity(&hr.registry_activity).await?;
        // The hours must fall within the activity they claim to come from.
        if let (Ok(s), Ok(e)) = (
            dates::from_proto(a.start_date.as_ref()),
            dates::from_proto(a.end_date.as_ref()),
        ) && let Err(Refusal::OutsideActivity { from, to, .. }) =
            rules::within_activity(act, (s, e))
        {
            return Err(ApiError::invalid(
                activity::field_path(act, "date"),
                format!(
                    "{} to {} is outside {}, held {} to {}",
                    dates::format(from),
                    dates::format(to),
                    hr.registry_activity,
                    dates::format(s),
                    dates::format(e)
                ),
            ));
        }
        let own = a.organiser == call.caller.organisation();
        let by_institution = a.organiser_kind() == OrganiserKind::Institution;
        if let Err(r) = rules::organiser_registers(route, own, by_institution) {
            return Err(ApiError::denied(
                ce_server::reason::Reason::NotTheOrganiser,
                hr.registry_activity.clone(),
                format!(
                    "{} is organised by {}, not by you: only the organiser registers its hours ({})",
                    hr.registry_activity,
                    a.organiser,
                    cite(r.articles())
                ),
            ));
        }
        if route != Channel::InstitutionUpload {
            return Ok(None);
        }
        // Art. 26: no hours from days the institution was barred.
        let history = self.registry.standing_history(&a.organiser).await?;
        let (start, end) = act.span();
        if let Some((day, change)) = ce_rules::standing::first_barred_day(&history, start, end) {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::InstitutionDisqualified,
                a.organiser.clone(),
                format!(
                    "the institution was {} from {} ({ART_26}): it cannot register hours of {}",
                    change.standing.describe(),
                    dates::format(change.effective),
                    dates::format(day)
                ),
            ));
        }
        Ok(a.organiser.strip_prefix("institutions/").map(str::to_owned))
    }

    /// What the record earns on its own, until its year is assessed with
    /// it: impossible input and dates refused by the rules, and the
    /// signals of claims on its item (Art. 27) that another engineer's
    /// leaves no room for, or another of the engineer's own contradicts.
    async fn explain(
        &self,
        id: &str,
        s: &Submitted,
        route: Channel,
        set: &RuleSet,
        today: time::Date,
    ) -> Result<Option<Vec<u8>>, ApiError> {
        let act = &s.activity;
        let (contested, own_conflict) =
            if route == Channel::EngineerSubmission && crate::claims::key_of(act).is_some() {
                let (engineer, activity, new) = (s.engineer_id.clone(), act.clone(), id.to_owned());
                self.db
                    .read(move |conn| {
                        Ok::<_, ApiError>((
                            crate::claims::against(conn, &engineer, &activity)?,
                            crate::claims::own_conflict(conn, &engineer, &new, &activity)?,
                        ))
                    })
                    .await?
            } else {
                (Vec::new(), None)
            };
        let probe = ce_rules::Record {
            id: id.to_owned(),
            activity: act.clone(),
            claimed: s.claimed.map(|c| c as f64 / 100.0),
            revoked: false,
            make_up_for: None,
            contested,
        };
        let alone = ce_rules::assess(
            &ce_rules::YearInput {
                year: act.date().year(),
                records: std::slice::from_ref(&probe),
                make_up: &[],
                used_for_make_up: &[],
                deferral: None,
                as_of: today,
            },
            set,
        )
        .map_err(|e| input_error(act, &e))?;
        Ok(alone
            .explanations
            .iter()
            .find(|e| e.record == probe.id)
            .map(|e| {
                let mut explained = activity::explanation_to_proto(e);
                explained.signals = status::claim_signals(&alone.signals, &probe.id);
                explained
                    .signals
                    .extend(own_conflict.iter().map(ToString::to_string));
                explained.encode_to_vec()
            }))
    }
}

/// What the checks of a submission found.
struct Checked {
    id: String,
    route: Channel,
    /// The uploading institution's id.
    institution_id: Option<String>,
    /// What it earns on its own, encoded.
    explanation: Option<Vec<u8>>,
    /// The last year it counts in (Art. 19).
    last_year: i32,
}

/// The row of a record that passed every check: a department's grant is
/// confirmed as registered, anything else waits for confirmation (Art. 21).
/// It names the request that creates it, as that request's audit row does.
fn row(call: &Call, hr: &HourRecord, s: Submitted, c: Checked, who: &Who) -> RecordRow {
    let activity_bytes = HourRecord {
        activity: hr.activity.clone(),
        ..Default::default()
    }
    .encode_to_vec();
    let digest = digest(
        &s.engineer_id,
        &activity_bytes,
        &hr.registry_activity,
        s.claimed,
    );
    let now = now_micros();
    let confirmed = rules::confirmed_on_registration(c.route);
    RecordRow {
        id: c.id,
        engineer_id: s.engineer_id,
        year: s.activity.date().year(),
        province: who.province.clone(),
        field: who.field,
        employer_id: who.employer_id.clone(),
        route: proto_route(c.route) as i32,
        state: if confirmed {
            RecordState::Confirmed
        } else {
            RecordState::Submitted
        } as i32,
        activity: activity_bytes,
        registry_activity: hr.registry_activity.clone(),
        institution_id: c.institution_id,
        claimed_centi: s.claimed,
        submitted_by: call.caller.subject.clone(),
        submitted_role: call.caller.role_name().to_owned(),
        submitter: call.caller.organisation(),
        client_key: (!hr.client_key.is_empty()).then(|| hr.client_key.clone()),
        content_digest: digest,
        decided_by: confirmed.then(|| call.caller.subject.clone()),
        decision_reason: None,
        explanation: c.explanation,
        create_micros: now,
        update_micros: now,
        make_up_for: None,
        supersedes: None,
        last_year: c.last_year,
        request_id: Some(call.context.request_id.clone()),
        feed_seq: None,
    }
}
