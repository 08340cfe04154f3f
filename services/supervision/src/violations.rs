//! Violations (Art. 16, 24, 26, 27): recorded with their evidence, decided,
//! closed. A decision's effects on the registry and crediting go to the
//! outbox in the decision's transaction.

use ce_db::{Db, audit};
use ce_proto::common::Role;
use ce_proto::crediting::RevokeHourRecordsRequest;
use ce_proto::registry::{ChangeInstitutionStandingRequest, Standing};
use ce_proto::supervision::{
    ClosureKind, Decision, DecisionKind, ListViolationsRequest, ListViolationsResponse,
    Notification, Violation, ViolationCategory, ViolationState,
};
use ce_rules::article::{ART_15, ART_16, ART_24, ART_25, ART_26, ART_27, cite};
use ce_server::auth::Caller;
use ce_server::call::now_micros;
use ce_server::paging::Page;
use ce_server::scope::{deny, department_covers, narrow};
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::outbox::{CHANGE_STANDING, REVOKE_HOURS};
use crate::peers::Clients;
use crate::store::{self, NotificationRow, ViolationFilter, ViolationRow};
use ce_server::outbox::{self as effects, Effect, Outbox};

pub const VIOLATIONS: &str = "violations";
pub const NOTIFICATIONS: &str = "notifications";

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct Supervision {
    pub db: Db,
    pub clients: Clients,
    pub outbox: Outbox,
    /// Today (China time): when a reinstatement starts, which orders are overdue.
    pub clock: dates::Clock,
}

/// Whom a violation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// An institution (Art. 16, 24, 26).
    Institution,
    /// An engineer: improper hours (Art. 27), or refusing inspection (Art. 24).
    Engineer,
    /// An employer that refused inspection (Art. 24).
    Employer,
}

impl Party {
    /// The party a stored violation is about.
    pub fn of(row: &ViolationRow) -> Party {
        if row.engineer_id.is_some() {
            Party::Engineer
        } else if row.employer_id.is_some() {
            Party::Employer
        } else {
            Party::Institution
        }
    }

    /// The party a violation being recorded names. An engineer's violation
    /// names no employer (it is filled in), and an employer's nothing else.
    fn named(v: &Violation) -> Party {
        if !v.engineer.is_empty() {
            Party::Engineer
        } else if v.institution.is_empty() && !v.employer.is_empty() {
            Party::Employer
        } else {
            Party::Institution
        }
    }
}

/// The article a category breaches, for its party: Art. 26 handles only
/// institutions' violations, so an employer's or engineer's refusal of
/// inspection breaches Art. 24 alone.
pub fn article(c: ViolationCategory, party: Party) -> String {
    match c {
        ViolationCategory::RefusedInspection if party != Party::Institution => ART_24.to_string(),
        ViolationCategory::Obligations => cite(&[ART_15, ART_26]),
        ViolationCategory::PoorQuality => cite(&[ART_25, ART_26]),
        ViolationCategory::FraudulentRecruitment
        | ViolationCategory::ImproperFees
        | ViolationCategory::UnrelatedActivities
        | ViolationCategory::PerfunctoryAssessment => cite(&[ART_16, ART_26]),
        ViolationCategory::RefusedInspection => cite(&[ART_24, ART_26]),
        ViolationCategory::Other => ART_26.to_string(),
        ViolationCategory::ImproperHours => ART_27.to_string(),
        ViolationCategory::Unspecified => String::new(),
    }
}

/// Who may record and decide violations of a subject in `province` whose
/// fields are `fields`: the ministry, the province's HRSS department, the
/// field's regulator (of the province, if it has one).
fn may_act(caller: &Caller, province: &str, fields: &[i32]) -> Result<(), ApiError> {
    if department_covers(caller, province, fields) {
        Ok(())
    } else {
        Err(deny("acting on violations of this subject"))
    }
}

fn may_read(caller: &Caller, row: &ViolationRow) -> Result<(), ApiError> {
    let ok = match caller.role {
        Role::Service => true,
        Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => {
            department_covers(caller, &row.province, &store::decode_fields(&row.fields))
        }
        Role::Institution => row
            .institution_id
            .as_deref()
            .is_some_and(|i| caller.org.as_deref() == Some(&format!("institutions/{i}"))),
        Role::Engineer => row
            .engineer_id
            .as_deref()
            .is_some_and(|e| caller.subject == format!("engineers/{e}")),
        Role::Employer => row
            .employer_id
            .as_deref()
            .is_some_and(|e| caller.org.as_deref() == Some(&format!("employers/{e}"))),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(deny("reading this violation"))
    }
}

pub(crate) fn decode(row: &ViolationRow) -> Result<Violation, ApiError> {
    Violation::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("violation {} does not decode: {e}", row.id)))
}

fn digest(v: &Violation, party: Party) -> String {
    let mut h = ce_server::hash::Fnv64::default();
    for part in [&v.institution, &v.engineer, &v.description] {
        h.write(part.as_bytes()).write(&[0xff]);
    }
    // Only an employer's own violation: an engineer's employer is filled in,
    // and digests stored before employers were subjects must still match.
    if party == Party::Employer {
        h.write(v.employer.as_bytes()).write(&[0xff]);
    }
    h.write(&v.category.to_le_bytes());
    for e in v.evidence.iter().chain(&v.hour_records) {
        h.write(e.as_bytes()).write(&[0xfe]);
    }
    format!("{:016x}", h.finish())
}

fn trimmed_list(v: &mut Violations, field: &str, items: &[String], max: usize) -> Vec<String> {
    if items.len() > max {
        v.add(field, format!("at most {max} items"));
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let e = e.trim();
            if e.is_empty() || e.len() > 1000 {
                v.add(format!("{field}[{i}]"), "must be 1 to 1000 characters");
                None
            } else {
                Some(e.to_owned())
            }
        })
        .collect()
}

impl Supervision {
    pub async fn create(
        &self,
        call: &Call,
        input: Violation,
        request_id: String,
    ) -> Result<Violation, ApiError> {
        self.create_about(call, input, request_id, 0).await
    }

    /// [`Self::create`], for a refusal found by an inspection of
    /// `inspected_field`: an employer has no field of its own, so that
    /// field's regulator, who inspected it, may act on the refusal too.
    pub(crate) async fn create_about(
        &self,
        call: &Call,
        mut input: Violation,
        request_id: String,
        inspected_field: i32,
    ) -> Result<Violation, ApiError> {
        let mut v = Violations::new();
        let category =
            ViolationCategory::try_from(input.category).unwrap_or(ViolationCategory::Unspecified);
        let personal = category == ViolationCategory::ImproperHours;
        let named = (
            !input.institution.is_empty(),
            !input.engineer.is_empty(),
            !input.employer.is_empty(),
        );
        match (category, named) {
            (ViolationCategory::Unspecified, _) => v.add("violation.category", "is required"),
            (ViolationCategory::ImproperHours, (false, true, false)) => {}
            (ViolationCategory::ImproperHours, _) => v.add(
                "violation.engineer",
                format!("improper hours ({ART_27}) name the engineer, and no institution or employer"),
            ),
            (
                ViolationCategory::RefusedInspection,
                (true, false, false) | (false, true, false) | (false, false, true),
            ) => {}
            (ViolationCategory::RefusedInspection, _) => v.add(
                "violation.institution",
                format!("a refusal of inspection ({ART_24}) names one institution, engineer or employer"),
            ),
            (_, (true, false, false)) => {}
            _ => v.add(
                "violation.institution",
                format!("an institution's violation ({cited}) names the institution, and no engineer or employer", cited = cite(&[ART_16, ART_26])),
            ),
        }
        let description = input.description.trim().to_owned();
        if description.is_empty() || description.len() > 4000 {
            v.add(
                "violation.description",
                "is required: what happened, in at most 4000 characters",
            );
        }
        let evidence = trimmed_list(&mut v, "violation.evidence", &input.evidence, 100);
        let records = trimmed_list(&mut v, "violation.hour_records", &input.hour_records, 1000);
        if personal && records.is_empty() {
            v.add(
                "violation.hour_records",
                format!("name the records obtained improperly ({ART_27})"),
            );
        }
        if !personal && !records.is_empty() {
            v.add(
                "violation.hour_records",
                format!("only improper-hours violations ({ART_27}) name records"),
            );
        }
        if request_id.len() > 128 {
            v.add("request_id", "must be at most 128 characters");
        }
        v.finish()?;

        // The subject as the registry has it, and the records as crediting has them.
        let (province, fields, employer) = match Party::named(&input) {
            Party::Engineer => {
                let e = self
                    .clients
                    .engineer("violation.engineer", &input.engineer)
                    .await?;
                for (i, r) in records.iter().enumerate() {
                    let field = format!("violation.hour_records[{i}]");
                    let record = self.clients.hour_record(&field, r).await?;
                    if record.engineer != input.engineer {
                        return Err(ApiError::invalid(
                            field,
                            format!("{r} is {}'s, not {}'s", record.engineer, input.engineer),
                        ));
                    }
                }
                (e.province, vec![e.field], e.employer)
            }
            Party::Institution => {
                let i = self
                    .clients
                    .institution("violation.institution", &input.institution)
                    .await?;
                (i.province, i.fields, String::new())
            }
            Party::Employer => {
                let e = self
                    .clients
                    .employer("violation.employer", &input.employer)
                    .await?;
                let fields = (inspected_field != 0)
                    .then_some(inspected_field)
                    .into_iter()
                    .collect();
                (e.province, fields, e.name)
            }
        };
        may_act(&call.caller, &province, &fields)?;
        input.description = description;
        input.evidence = evidence;
        input.hour_records = records;
        let recorded_by = call.caller.organisation();
        self.insert_new(
            call,
            input,
            Subject {
                province,
                fields,
                employer,
            },
            recorded_by,
            request_id,
            false,
        )
        .await
    }

    /// Stores a validated violation of `subject`, or answers a retry with
    /// the one stored under `(recorded_by, request_id)`: the same content
    /// (or any content, when `any_content`) returns it; other content is
    /// ALREADY_EXISTS.
    pub(crate) async fn insert_new(
        &self,
        call: &Call,
        input: Violation,
        subject: Subject,
        recorded_by: String,
        request_id: String,
        any_content: bool,
    ) -> Result<Violation, ApiError> {
        let row = new_row(call, input, subject, recorded_by, request_id);
        // A retry answers with what the first attempt stored.
        let earlier = move |existing: ViolationRow, key: &str, digest: &Option<String>| {
            if any_content || existing.request_digest == *digest {
                Ok(existing)
            } else {
                Err(ApiError::AlreadyExists(format!(
                    "request_id {key} was used for a different violation"
                )))
            }
        };
        let key = row.request_id.clone();
        let (by, digest) = (row.recorded_by.clone(), row.request_digest.clone());
        let call = call.clone();
        let stored = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                if let Some(key) = &row.request_id
                    && let Some(existing) =
                        store::violation_by_request(conn, &row.recorded_by, key)?
                {
                    return earlier(existing, key, &row.request_digest);
                }
                store::insert_violation(conn, &row)?;
                audit::append(conn, &call.audit(&names::name(VIOLATIONS, &row.id), "OK"))?;
                Ok(row)
            })
            .await;
        let stored = match (stored, key) {
            // Two attempts at once on PostgreSQL: both found nothing, and the
            // other's insert committed first (the key is unique).
            (Err(ApiError::AlreadyExists(_)), Some(key)) => {
                let k = key.clone();
                let found = self
                    .db
                    .read(move |conn| {
                        Ok::<_, ApiError>(store::violation_by_request(conn, &by, &k)?)
                    })
                    .await?;
                match found {
                    Some(existing) => earlier(existing, &key, &digest)?,
                    None => {
                        return Err(ApiError::AlreadyExists(format!(
                            "request_id {key} collided with another violation"
                        )));
                    }
                }
            }
            (stored, _) => stored?,
        };
        decode(&stored)
    }

    async fn load(&self, name: &str) -> Result<ViolationRow, ApiError> {
        let id = names::parse("name", VIOLATIONS, name)?.to_owned();
        self.db
            .read(move |conn| Ok::<_, ApiError>(store::get_violation(conn, &id)?))
            .await?
            .ok_or_else(|| names::not_found(name))
    }

    pub(crate) async fn with_pending(&self, row: &ViolationRow) -> Result<Violation, ApiError> {
        let mut v = decode(row)?;
        let id = row.id.clone();
        v.pending_effects = self
            .db
            .read(move |conn| Ok::<_, ApiError>(effects::pending_of(conn, &id)?))
            .await? as i32;
        Ok(v)
    }

    pub async fn get(&self, call: &Call, name: &str) -> Result<Violation, ApiError> {
        let row = self.load(name).await?;
        may_read(&call.caller, &row)?;
        self.with_pending(&row).await
    }

    pub async fn list(
        &self,
        call: &Call,
        req: ListViolationsRequest,
    ) -> Result<ListViolationsResponse, ApiError> {
        let mut v = Violations::new();
        if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
            v.add(
                "province",
                format!("`{}` is not a province code", req.province),
            );
        }
        let institution = (!req.institution.is_empty())
            .then(|| {
                v.check(
                    "institution",
                    names::parse("institution", "institutions", &req.institution)
                        .map(str::to_owned)
                        .map_err(|_| "must be `institutions/{id}`".to_owned()),
                )
            })
            .flatten();
        let engineer = (!req.engineer.is_empty())
            .then(|| {
                v.check(
                    "engineer",
                    names::parse("engineer", "engineers", &req.engineer)
                        .map(str::to_owned)
                        .map_err(|_| "must be `engineers/{id}`".to_owned()),
                )
            })
            .flatten();
        let employer = (!req.employer.is_empty())
            .then(|| {
                v.check(
                    "employer",
                    names::parse("employer", "employers", &req.employer)
                        .map(str::to_owned)
                        .map_err(|_| "must be `employers/{id}`".to_owned()),
                )
            })
            .flatten();
        v.finish()?;
        // Every filter, the period too: a token only continues its own query.
        let day = |d: &Option<ce_proto::google::r#type::Date>| {
            d.as_ref()
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                .unwrap_or_default()
        };
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                req.province,
                req.field,
                req.category,
                req.state,
                req.institution,
                req.engineer,
                day(&req.start_date),
                day(&req.end_date),
                req.employer,
            ),
        )?;
        let c = &call.caller;
        let asked_province = (!req.province.is_empty()).then(|| req.province.clone());
        let asked_field = (req.field != 0).then_some(req.field);
        let mut f = ViolationFilter {
            category: (req.category != 0).then_some(req.category),
            state: (req.state != 0).then_some(req.state),
            institution_id: institution,
            engineer_id: engineer,
            employer_id: employer,
            province: asked_province.clone(),
            field: asked_field,
            institutions_only: None,
            created: None,
        };
        if req.start_date.is_some() || req.end_date.is_some() {
            let day =
                |d: Option<&ce_proto::google::r#type::Date>, field: &str, default: time::Date| {
                    match d {
                        None => Ok(default),
                        Some(_) => dates::from_proto(d).map_err(|e| ApiError::invalid(field, e)),
                    }
                };
            let from = day(req.start_date.as_ref(), "start_date", time::Date::MIN)?;
            let to = day(
                req.end_date.as_ref(),
                "end_date",
                time::Date::MAX.previous_day().unwrap_or(time::Date::MAX),
            )?;
            f.created = Some((
                china_midnight(from),
                china_midnight(to.next_day().unwrap_or(to)),
            ));
        }
        match c.role {
            Role::Ministry | Role::Service => {}
            Role::ProvincialHrss => {
                f.province = narrow(asked_province, c.province.clone(), "province")?
            }
            Role::IndustryRegulator => {
                f.field = narrow(asked_field, c.field.map(|x| x as i32), "field")?;
                f.province = narrow(asked_province, c.province.clone(), "province")?;
            }
            Role::Institution => {
                let own = c
                    .org
                    .as_deref()
                    .and_then(|o| o.strip_prefix("institutions/"))
                    .map(str::to_owned);
                f.institution_id = narrow(f.institution_id, own, "institution")?;
                f.institutions_only = Some(true);
            }
            Role::Engineer => {
                let own = c.subject.strip_prefix("engineers/").map(str::to_owned);
                f.engineer_id = narrow(f.engineer_id, own, "engineer")?;
                f.institutions_only = Some(false);
            }
            Role::Employer => {
                let own = c
                    .org
                    .as_deref()
                    .and_then(|o| o.strip_prefix("employers/"))
                    .map(str::to_owned);
                f.employer_id = narrow(f.employer_id, own, "employer")?;
            }
            _ => return Err(deny("listing violations")),
        }
        let rows = page
            .load_rows(&self.db, move |conn, after, limit| {
                Ok(store::list_violations(conn, &f, after, limit)?)
            })
            .await?;
        // One query for the page's pending effects, not one a violation.
        let causes: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let pending = self
            .db
            .read(move |conn| Ok::<_, ApiError>(effects::pending_counts(conn, &causes)?))
            .await?;
        let (violations, next_page_token) = page.finish_within(
            rows,
            |r| r.id.clone(),
            |r| {
                let mut v = decode(&r)?;
                v.pending_effects = pending.get(&r.id).copied().unwrap_or(0) as i32;
                Ok(v)
            },
            call.max_message_bytes,
        )?;
        Ok(ListViolationsResponse {
            violations,
            next_page_token,
        })
    }

    pub async fn decide(
        &self,
        call: &Call,
        name: &str,
        decision: Option<Decision>,
    ) -> Result<Violation, ApiError> {
        let row = self.load(name).await?;
        may_act(
            &call.caller,
            &row.province,
            &store::decode_fields(&row.fields),
        )?;
        let party = Party::of(&row);
        // Art. 27: improper hours are revoked. Everything else is a refusal
        // of inspection (employers, engineers) or an institution's violation.
        let revokes = row.category == ViolationCategory::ImproperHours as i32;
        let Some(mut d) = decision else {
            return Err(ApiError::invalid("decision", "is required"));
        };
        let mut v = Violations::new();
        let kind = DecisionKind::try_from(d.kind).unwrap_or(DecisionKind::Unspecified);
        let standing = match (party, kind) {
            (_, DecisionKind::Revocation) if revokes => Ok(None),
            _ if revokes => Err(format!(
                "improper hours are decided by revocation ({ART_27})"
            )),
            (Party::Institution, DecisionKind::Warning) => Ok(Some(Standing::Warned)),
            (Party::Institution, DecisionKind::RectificationOrder) => {
                Ok(Some(Standing::RectificationOrdered))
            }
            (Party::Institution, DecisionKind::Suspension) => Ok(Some(Standing::Suspended)),
            (Party::Institution, DecisionKind::Disqualification) => {
                Ok(Some(Standing::Disqualified))
            }
            (Party::Institution, _) => Err(format!(
                "an institution gets a warning, a rectification order, a suspension or disqualification ({ART_26})"
            )),
            (_, DecisionKind::Warning | DecisionKind::RectificationOrder) => Ok(None),
            _ => Err(format!(
                "an employer or engineer that refused inspection ({ART_24}) gets a warning or a rectification order"
            )),
        };
        let standing = standing.unwrap_or_else(|e| {
            v.add("decision.kind", e);
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
            match (
                dates::from_proto(d.rectification_deadline.as_ref()),
                effective,
            ) {
                (Ok(deadline), Some(from)) if deadline >= from => {}
                (Ok(_), Some(_)) => v.add(
                    "decision.rectification_deadline",
                    "must not be before the effective date",
                ),
                (Err(e), _) => v.add(
                    "decision.rectification_deadline",
                    format!("is required for a rectification order: {e}"),
                ),
                _ => {}
            }
        }
        let suspension_end = if kind == DecisionKind::Suspension {
            match (dates::from_proto(d.suspension_end_date.as_ref()), effective) {
                (Ok(end), Some(from)) if end >= from => Some(end),
                (Ok(_), Some(_)) => {
                    v.add(
                        "decision.suspension_end_date",
                        "must not be before the effective date",
                    );
                    None
                }
                (Err(e), _) => {
                    v.add(
                        "decision.suspension_end_date",
                        format!("is required for a suspension: {e}"),
                    );
                    None
                }
                _ => None,
            }
        } else {
            None
        };
        v.finish()?;

        let call = call.clone();
        let name = name.to_owned();
        let id = row.id.clone();
        let stored = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                ce_db::lock_row(conn, "violations", &id)?;
                let mut row = store::get_violation(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                if row.state != ViolationState::Open as i32 {
                    return Err(ApiError::FailedPrecondition(format!(
                        "{name} is decided already: a violation is decided once (record an appeal as a new violation)"
                    )));
                }
                let mut violation = decode(&row)?;
                let now = now_micros();
                d.decided_by = call.caller.subject.clone();
                d.decide_time = Some(dates::timestamp(now));
                let mut effects = Vec::new();
                if let (Some(standing), Some(from)) = (standing, effective) {
                    let change = |id: &str, standing: Standing, from: time::Date, reason: String| {
                        ChangeInstitutionStandingRequest {
                            name: violation.institution.clone(),
                            standing: standing as i32,
                            reason,
                            effective_date: Some(dates::to_proto(from)),
                            article: ART_26.to_string(),
                            case_reference: name.clone(),
                            request_id: id.to_owned(),
                        }
                    };
                    let first = names::new_id();
                    effects.push(Effect::new(
                        first.clone(),
                        &id,
                        CHANGE_STANDING,
                        change(&first, standing, from, d.reason.clone()).encode_to_vec(),
                    ));
                    if let Some(end) = suspension_end.and_then(|e| e.next_day()) {
                        let back = names::new_id();
                        effects.push(Effect::new(
                            back.clone(),
                            &id,
                            CHANGE_STANDING,
                            change(&back, Standing::Active, end, format!("suspension under {name} ended")).encode_to_vec(),
                        ));
                    }
                }
                if revokes {
                    let revoke = RevokeHourRecordsRequest {
                        names: violation.hour_records.clone(),
                        reason: d.reason.clone(),
                        case_reference: name.clone(),
                    };
                    effects.push(Effect::new(names::new_id(), &id, REVOKE_HOURS, revoke.encode_to_vec()));
                    if let Some(employer) = violation.employer.strip_prefix("employers/") {
                        let nid = names::new_id();
                        let note = Notification {
                            name: names::name(NOTIFICATIONS, &nid),
                            employer: violation.employer.clone(),
                            violation: name.clone(),
                            engineer: violation.engineer.clone(),
                            text: format!(
                                "Hours of your staff member {} were obtained by improper means and are revoked ({ART_27}): {}. Records: {}.",
                                violation.engineer,
                                d.reason,
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
                                violation_id: id.clone(),
                                province: violation.province.clone(),
                                body: note.encode_to_vec(),
                                create_micros: now,
                                acknowledge_micros: None,
                                department: None,
                            },
                        )?;
                    }
                }
                for e in &effects {
                    effects::insert(conn, e)?;
                }
                violation.state = ViolationState::Decided as i32;
                row.deadline = d
                    .rectification_deadline
                    .as_ref()
                    .filter(|_| kind == DecisionKind::RectificationOrder)
                    .and_then(|x| dates::from_proto(Some(x)).ok())
                    .map(dates::format);
                violation.decision = Some(d);
                violation.update_time = Some(dates::timestamp(now));
                row.state = violation.state;
                row.body = violation.encode_to_vec();
                row.update_micros = now;
                store::update_violation(conn, &row)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(row)
            })
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
        may_act(
            &call.caller,
            &row.province,
            &store::decode_fields(&row.fields),
        )?;
        let mut v = Violations::new();
        match ClosureKind::try_from(closure) {
            Ok(ClosureKind::Rectified | ClosureKind::Escalated) => {}
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
            .write(move |conn| -> Result<_, ApiError> {
                ce_db::lock_row(conn, "violations", &id)?;
                let mut row =
                    store::get_violation(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                if row.state != ViolationState::Decided as i32 {
                    return Err(ApiError::FailedPrecondition(format!(
                        "{name} is not decided: only a decided violation is closed"
                    )));
                }
                let mut violation = decode(&row)?;
                let now = now_micros();
                if closure == ClosureKind::Rectified as i32
                    && let Some(from) = reinstatement(conn, &row, &violation, today)?
                {
                    let back = names::new_id();
                    let change = ChangeInstitutionStandingRequest {
                        name: violation.institution.clone(),
                        standing: Standing::Active as i32,
                        reason: format!("rectified under {name}: {reason}"),
                        effective_date: Some(dates::to_proto(from)),
                        article: ART_26.to_string(),
                        case_reference: name.clone(),
                        request_id: back.clone(),
                    };
                    effects::insert(
                        conn,
                        &Effect::new(back, &id, CHANGE_STANDING, change.encode_to_vec()),
                    )?;
                }
                violation.state = ViolationState::Closed as i32;
                row.deadline = None;
                violation.closure = closure;
                violation.closure_reason = reason;
                violation.update_time = Some(dates::timestamp(now));
                row.state = violation.state;
                row.body = violation.encode_to_vec();
                row.update_micros = now;
                store::update_violation(conn, &row)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(row)
            })
            .await?;
        self.outbox.wake();
        self.with_pending(&stored).await
    }
}

/// When a rectification order closed as rectified returns the institution
/// to active (Art. 26): from today, or from the order's own date if that
/// is later. None when it is not such an order, or when another sanction
/// of the institution still governs: a disqualification (final), a
/// suspension not yet over (it returns to active by itself when it ends),
/// or another warning or order not closed yet. Reinstating then would lift
/// a standing that is not this case's to lift.
fn reinstatement(
    conn: &mut ce_db::DbConnection,
    row: &ViolationRow,
    violation: &Violation,
    today: time::Date,
) -> Result<Option<time::Date>, ApiError> {
    let Some(decision) = violation
        .decision
        .as_ref()
        .filter(|d| d.kind == DecisionKind::RectificationOrder as i32)
    else {
        return Ok(None);
    };
    let Some(institution) = &row.institution_id else {
        return Ok(None);
    };
    let from = dates::from_proto(decision.effective_date.as_ref()).map_or(today, |d| d.max(today));
    for other in store::violations_of_institution(conn, institution)? {
        if other.id == row.id {
            continue;
        }
        let Some(d) = decode(&other)?.decision else {
            continue;
        };
        let governs = match DecisionKind::try_from(d.kind) {
            Ok(DecisionKind::Disqualification) => true,
            Ok(DecisionKind::Suspension) => {
                dates::from_proto(d.suspension_end_date.as_ref()).is_ok_and(|end| end >= from)
            }
            Ok(DecisionKind::Warning | DecisionKind::RectificationOrder) => {
                other.state == ViolationState::Decided as i32
            }
            _ => false,
        };
        if governs {
            return Ok(None);
        }
    }
    Ok(Some(from))
}

/// A new open violation of `subject`, ready to store: named, its article
/// from its category, recorded now by the caller.
pub(crate) fn new_row(
    call: &Call,
    mut input: Violation,
    subject: Subject,
    recorded_by: String,
    request_id: String,
) -> ViolationRow {
    let Subject {
        province,
        fields,
        employer,
    } = subject;
    let category =
        ViolationCategory::try_from(input.category).unwrap_or(ViolationCategory::Unspecified);
    let party = Party::named(&input);
    let id = names::new_id();
    let now = now_micros();
    input.name = names::name(VIOLATIONS, &id);
    input.article = article(category, party);
    input.province = province.clone();
    input.field = fields.first().copied().unwrap_or(0);
    input.employer = employer;
    input.state = ViolationState::Open as i32;
    input.decision = None;
    input.closure = 0;
    input.closure_reason = String::new();
    input.recorded_by = call.caller.subject.clone();
    input.create_time = Some(dates::timestamp(now));
    input.update_time = Some(dates::timestamp(now));
    input.pending_effects = 0;
    ViolationRow {
        id,
        institution_id: (party == Party::Institution).then(|| id_of(&input.institution)),
        engineer_id: (party == Party::Engineer).then(|| id_of(&input.engineer)),
        employer_id: (party == Party::Employer).then(|| id_of(&input.employer)),
        category: input.category,
        state: input.state,
        province,
        field: input.field,
        fields: store::encode_fields(&fields),
        body: input.encode_to_vec(),
        recorded_by,
        request_id: (!request_id.is_empty()).then_some(request_id),
        request_digest: Some(digest(&input, party)),
        create_micros: now,
        update_micros: now,
        deadline: None,
    }
}

/// Who a violation is about: where, which fields, whose staff.
#[derive(Clone)]
pub struct Subject {
    pub province: String,
    pub fields: Vec<i32>,
    pub employer: String,
}

/// The first microsecond of a day in China time.
fn china_midnight(d: time::Date) -> i64 {
    let t = ce_rules::dates::midnight(d);
    (t.unix_timestamp_nanos() / 1000) as i64
}

fn id_of(name: &str) -> String {
    name.split_once('/').map_or(name, |(_, id)| id).to_owned()
}
