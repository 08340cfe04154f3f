//! Violations (Art. 16, 24, 26, 27): recorded with their evidence, read and
//! listed. Deciding and closing them is [`crate::decisions`]'.

use ce_db::{Db, audit};
use ce_proto::supervision::{
    ListViolationsRequest, ListViolationsResponse, Violation, ViolationCategory, ViolationState,
};
use ce_rules::article::{ART_27, cite};
use ce_rules::sanction::{self, Misnamed, Party};
use ce_server::call::now_micros;
use ce_server::deployment::Deployment;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::convert;
use crate::peers::Clients;
use crate::scope;
use crate::store::{self, ViolationFilter, ViolationRow};
use ce_server::outbox::{self as effects, Outbox};

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
    /// Which province's writes this supervision accepts
    /// (`ce_server::deployment`; docs/deploying.md, "One country, many
    /// systems").
    pub deployment: Deployment,
}

impl Supervision {
    /// Whether this deployment takes `call`'s write about `resource` (a
    /// name, or its collection), whose subject is of `province`: after the
    /// caller's scope is checked, before anything is stored.
    pub(crate) fn in_deployment(
        &self,
        call: &Call,
        province: &str,
        resource: &str,
    ) -> Result<(), ApiError> {
        self.deployment
            .accepts_write(&call.caller, province, resource)
    }
}

/// Whether `deployment` takes an answer to something it holds (an appeal
/// of its violation, the acknowledgement of its notification), of
/// `province`. A provincial deployment takes it for its own province only,
/// as any write; the national one from whoever the scope admits (whom the
/// violation is about, whom the notification is addressed to), because
/// what is answered is the ministry's own and held nowhere else.
pub(crate) fn accepts_answer(
    deployment: &Deployment,
    caller: &ce_server::auth::Caller,
    province: &str,
    resource: &str,
) -> Result<(), ApiError> {
    match deployment {
        Deployment::National => Ok(()),
        _ => deployment.accepts_write(caller, province, resource),
    }
}

/// The article a category breaches, for its party (Art. 24, 26, 27); none
/// for a category not given.
pub fn article(c: ViolationCategory, party: Party) -> String {
    convert::category(c).map_or_else(String::new, |c| sanction::article(c, party))
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

/// Whom a violation names, checked against its category (Art. 24, 26, 27).
fn check_named(v: &mut Violations, input: &Violation) {
    let Some(category) = convert::category(input.category()) else {
        v.add("violation.category", "is required");
        return;
    };
    match sanction::named(category, convert::named(input)) {
        Ok(_) => {}
        Err(m @ Misnamed::ImproperHours) => v.add(
            "violation.engineer",
            format!(
                "improper hours ({}) name the engineer, and no institution or employer",
                cite(m.articles())
            ),
        ),
        Err(m @ Misnamed::RefusedInspection) => v.add(
            "violation.institution",
            format!(
                "a refusal of inspection ({}) names one institution, engineer or employer",
                cite(m.articles())
            ),
        ),
        Err(m @ Misnamed::Institution) => v.add(
            "violation.institution",
            format!(
                "an institution's violation ({}) names the institution, and no engineer or employer",
                cite(m.articles())
            ),
        ),
    }
}

/// A violation being recorded, checked and trimmed: its description,
/// evidence and records.
fn checked(
    input: &Violation,
    request_id: &str,
) -> Result<(String, Vec<String>, Vec<String>), ApiError> {
    let mut v = Violations::new();
    check_named(&mut v, input);
    let personal = convert::category(input.category()).is_some_and(sanction::names_records);
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
    Ok((description, evidence, records))
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
        let (description, evidence, records) = checked(&input, &request_id)?;
        let subject = self.subject(&input, &records, inspected_field).await?;
        scope::may_act(&call.caller, &subject.province, &subject.fields)?;
        self.in_deployment(call, &subject.province, VIOLATIONS)?;
        input.description = description;
        input.evidence = evidence;
        input.hour_records = records;
        let recorded_by = call.caller.organisation();
        self.insert_new(call, input, subject, recorded_by, request_id, false)
            .await
    }

    /// The subject as the registry has it, and the records as crediting
    /// has them.
    async fn subject(
        &self,
        input: &Violation,
        records: &[String],
        inspected_field: i32,
    ) -> Result<Subject, ApiError> {
        let (province, fields, employer) = match convert::named(input).party() {
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
        Ok(Subject {
            province,
            fields,
            employer,
        })
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
        convert::violation(&stored)
    }

    pub(crate) async fn load(&self, name: &str) -> Result<ViolationRow, ApiError> {
        let id = names::parse("name", VIOLATIONS, name)?.to_owned();
        self.db
            .read(move |conn| Ok::<_, ApiError>(store::get_violation(conn, &id)?))
            .await?
            .ok_or_else(|| names::not_found(name))
    }

    pub(crate) async fn with_pending(&self, row: &ViolationRow) -> Result<Violation, ApiError> {
        let mut v = convert::violation(row)?;
        let id = row.id.clone();
        v.pending_effects = self
            .db
            .read(move |conn| Ok::<_, ApiError>(effects::pending_of(conn, &id)?))
            .await? as i32;
        Ok(v)
    }

    pub async fn get(&self, call: &Call, name: &str) -> Result<Violation, ApiError> {
        let row = self.load(name).await?;
        scope::may_read(&call.caller, &row)?;
        self.with_pending(&row).await
    }

    pub async fn list(
        &self,
        call: &Call,
        req: ListViolationsRequest,
    ) -> Result<ListViolationsResponse, ApiError> {
        let mut f = list_filter(&req)?;
        // Every filter, the period too: a token only continues its own query.
        let page = Page::parse(req.page_size, &req.page_token, &list_key(&req))?;
        f.created = created(&req)?;
        let asked_province = (!req.province.is_empty()).then(|| req.province.clone());
        let asked_field = (req.field != 0).then_some(req.field);
        scope::narrow_violations(&call.caller, &mut f, asked_province, asked_field)?;
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
                let mut v = convert::violation(&r)?;
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
}

/// A name filter of a list: `collection/{id}`'s id, if given.
fn name_filter(v: &mut Violations, field: &str, collection: &str, asked: &str) -> Option<String> {
    (!asked.is_empty())
        .then(|| {
            v.check(
                field,
                names::parse(field, collection, asked)
                    .map(str::to_owned)
                    .map_err(|_| format!("must be `{collection}/{{id}}`")),
            )
        })
        .flatten()
}

/// What a list request asks for, checked; before the caller's scope
/// narrows it.
fn list_filter(req: &ListViolationsRequest) -> Result<ViolationFilter, ApiError> {
    let mut v = Violations::new();
    if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
        v.add(
            "province",
            format!("`{}` is not a province code", req.province),
        );
    }
    let institution = name_filter(&mut v, "institution", "institutions", &req.institution);
    let engineer = name_filter(&mut v, "engineer", "engineers", &req.engineer);
    let employer = name_filter(&mut v, "employer", "employers", &req.employer);
    v.finish()?;
    Ok(ViolationFilter {
        category: (req.category != 0).then_some(req.category),
        state: (req.state != 0).then_some(req.state),
        institution_id: institution,
        engineer_id: engineer,
        employer_id: employer,
        province: (!req.province.is_empty()).then(|| req.province.clone()),
        field: (req.field != 0).then_some(req.field),
        institutions_only: None,
        created: None,
    })
}

/// The period a list request asks for, as [from, to) microseconds.
fn created(req: &ListViolationsRequest) -> Result<Option<(i64, i64)>, ApiError> {
    if req.start_date.is_none() && req.end_date.is_none() {
        return Ok(None);
    }
    let day = |d: Option<&ce_proto::google::r#type::Date>, field: &str, default: time::Date| match d
    {
        None => Ok(default),
        Some(_) => dates::from_proto(d).map_err(|e| ApiError::invalid(field, e)),
    };
    let from = day(req.start_date.as_ref(), "start_date", time::Date::MIN)?;
    let to = day(
        req.end_date.as_ref(),
        "end_date",
        time::Date::MAX.previous_day().unwrap_or(time::Date::MAX),
    )?;
    Ok(Some((
        convert::china_midnight(from),
        convert::china_midnight(to.next_day().unwrap_or(to)),
    )))
}

/// Every filter of a list request, the period too, for its page token.
fn list_key(req: &ListViolationsRequest) -> String {
    let day = |d: &Option<ce_proto::google::r#type::Date>| {
        d.as_ref()
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
            .unwrap_or_default()
    };
    format!(
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
    )
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
    let party = convert::named(&input).party();
    let id = names::new_id();
    let now = now_micros();
    input.name = names::name(VIOLATIONS, &id);
    input.article = article(input.category(), party);
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

fn id_of(name: &str) -> String {
    name.split_once('/').map_or(name, |(_, id)| id).to_owned()
}
