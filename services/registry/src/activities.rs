//! Activities (Art. 11(1)): the courses and events engineers attend, run by
//! a department (free, Art. 12) or by an institution in good standing
//! (Art. 13, 26).

use ce_db::{Db, DbConnection, audit};
use ce_proto::common::{DeliveryMode, SubjectCategory};
use ce_proto::registry::{Activity, ListActivitiesRequest, ListActivitiesResponse, OrganiserKind};
use ce_rules::article::{ART_10, ART_13, ART_26};
use ce_server::deployment::Deployment;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};

use crate::convert;
use crate::engineers::{check_field, check_province};
use crate::names::{self, ACTIVITIES, INSTITUTIONS};
use crate::scope::{self, Organiser};
use crate::store::activities::{self as store, ActivityFilter, ActivityRow};
use crate::store::{decode_set, institutions as institution_store};
use ce_rules::standing;
use ce_server::dates;

/// Who runs the activity, as the rules know organisers (Art. 12).
fn run_by(organiser: &Organiser) -> ce_rules::Organiser {
    if organiser.kind == OrganiserKind::Institution {
        ce_rules::Organiser::Institution
    } else {
        ce_rules::Organiser::Department
    }
}

/// Checks an activity on its own: every bad field at once.
fn validate(a: &Activity, organiser: &Organiser) -> Result<(time::Date, time::Date), ApiError> {
    let mut v = Violations::new();
    let title = a.title.trim().chars().count();
    if title == 0 {
        v.add("activity.title", "is required");
    } else if title > 200 {
        v.add("activity.title", "must be at most 200 characters");
    }
    if a.province != ce_proto::reference::NATIONAL {
        check_province(&mut v, "activity.province", &a.province);
    }
    let category =
        SubjectCategory::try_from(a.subject_category).unwrap_or(SubjectCategory::Unspecified);
    if category == SubjectCategory::Unspecified {
        v.add(
            "activity.subject_category",
            format!("is required: public or professional subjects ({ART_10})"),
        );
    }
    if a.field != 0 || category == SubjectCategory::Professional {
        // Professional subjects belong to a field (Art. 10); public ones may be open to all.
        check_field(&mut v, "activity.field", a.field);
    }
    if !matches!(
        DeliveryMode::try_from(a.delivery_mode),
        Ok(DeliveryMode::FaceToFace | DeliveryMode::Online)
    ) {
        v.add(
            "activity.delivery_mode",
            "is required: face-to-face or online",
        );
    }
    let start = v.check(
        "activity.start_date",
        dates::from_proto(a.start_date.as_ref()),
    );
    let end = v.check("activity.end_date", dates::from_proto(a.end_date.as_ref()));
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            v.add("activity.end_date", "must not be before start_date");
        } else if (e - s).whole_days() > 366 {
            v.add("activity.end_date", "an activity spans at most 366 days");
        }
    }
    if !a.hours_per_day.is_finite() || a.hours_per_day <= 0.0 {
        v.add("activity.hours_per_day", "must be more than 0");
    } else if a.hours_per_day > 24.0 {
        v.add("activity.hours_per_day", "a day has 24 hours: at most 24");
    }
    if a.fee_fen < 0 {
        v.add("activity.fee_fen", "must not be negative");
    } else if a.fee_fen > 0 && !run_by(organiser).may_charge() {
        v.add(
            "activity.fee_fen",
            format!(
                "must be 0: an activity run directly by an HRSS department or industry regulator is free of \
                 charge ({})",
                ce_rules::Organiser::FREE_OF_CHARGE
            ),
        );
    }
    v.finish()?;
    match (start, end) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(ApiError::invalid("activity.start_date", "is required")),
    }
}

/// What an institution's registration and standing allow (Art. 13, 26).
fn check_institution(
    conn: &mut DbConnection,
    a: &ActivityRow,
    start: time::Date,
    end: time::Date,
) -> Result<(), ApiError> {
    if a.organiser_kind() != OrganiserKind::Institution {
        return Ok(());
    }
    let id = names::parse("organiser", INSTITUTIONS, &a.organiser)?;
    // Waits for a standing change being decided, so none is missed.
    ce_db::lock_row(conn, "institutions", id)?;
    let inst = institution_store::get(conn, id)?.ok_or_else(|| {
        ApiError::precondition(
            ce_server::reason::Reason::OrganiserNotAnInstitution,
            a.organiser.clone(),
            format!("{} is not a registered institution", a.organiser),
        )
    })?;
    let mut v = Violations::new();
    if !decode_set(&inst.delivery_modes).contains(&a.delivery_mode) {
        v.add(
            "activity.delivery_mode",
            format!("the institution is not registered for this delivery mode ({ART_13})"),
        );
    }
    if a.field != 0 && !decode_set(&inst.fields).contains(&a.field) {
        v.add(
            "activity.field",
            "the institution does not serve this field",
        );
    }
    v.finish()?;
    let history = crate::institutions::history(conn, id)?;
    if let Some((day, change)) = standing::first_barred_day(&history, start, end) {
        return Err(ApiError::precondition(
            ce_server::reason::Reason::InstitutionDisqualified,
            a.organiser.clone(),
            format!(
                "the institution is {} from {} ({ART_26}): it cannot publish an activity dated {}",
                change.standing.describe(),
                dates::format(change.effective),
                dates::format(day),
            ),
        ));
    }
    Ok(())
}

/// Registers an activity at `now`, in the deployment of its province.
pub async fn create(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    a: Activity,
    now: i64,
) -> Result<Activity, ApiError> {
    let organiser = scope::organiser_of(&call.caller)?;
    let (start, end) = validate(&a, &organiser)?;
    scope::place_activity(&call.caller, &a.province, a.field)?;
    deployment.accepts_write(&call.caller, &a.province, ACTIVITIES)?;
    let row = ActivityRow {
        id: names::new_id(),
        title: a.title.trim().to_owned(),
        organiser_kind: organiser.kind as i32,
        organiser: organiser.id,
        province: a.province,
        field: a.field,
        subject_category: a.subject_category,
        delivery_mode: a.delivery_mode,
        start_date: dates::format(start),
        end_date: dates::format(end),
        hours_per_day: a.hours_per_day,
        fee_fen: a.fee_fen,
        create_micros: now,
        update_micros: now,
    };
    let call = call.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            check_institution(conn, &row, start, end)?;
            store::insert(conn, &row)?;
            audit::append(conn, &call.audit(&names::name(ACTIVITIES, &row.id), "OK"))?;
            Ok(row)
        })
        .await?;
    Ok(convert::activity(row))
}

pub async fn get(db: &Db, _call: &Call, name: &str) -> Result<Activity, ApiError> {
    let id = names::parse("name", ACTIVITIES, name)?.to_owned();
    let row = db
        .read(move |conn| store::get(conn, &id))
        .await?
        .ok_or_else(|| names::not_found(name))?;
    Ok(convert::activity(row))
}

/// The activities named, in the order asked, and the names that do not
/// exist; at most [`names::BATCH_LIMIT`] names.
pub async fn batch_get(
    db: &Db,
    call: &Call,
    names: Vec<String>,
) -> Result<(Vec<Activity>, Vec<String>), ApiError> {
    let ids = names::batch_ids(ACTIVITIES, &names)?;
    let rows: std::collections::HashMap<String, ActivityRow> = db
        .read(move |conn| store::get_many(conn, &ids))
        .await?
        .into_iter()
        .map(|r| (names::name(ACTIVITIES, &r.id), r))
        .collect();
    let mut found = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for name in names {
        match rows.get(&name) {
            Some(r) => found.push(convert::activity(r.clone())),
            None => missing.push(name),
        }
    }
    ce_server::paging::whole(
        "names",
        &found,
        ce_server::paging::strings_len(&missing),
        call.max_message_bytes,
    )?;
    Ok((found, missing))
}

const MUTABLE: &[&str] = &[
    "title",
    "province",
    "field",
    "subject_category",
    "delivery_mode",
    "start_date",
    "end_date",
    "hours_per_day",
    "fee_fen",
];

/// Changes an activity at `now`, in the deployment of its province, which
/// it keeps there.
pub async fn update(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    a: Activity,
    mask: Option<prost_types::FieldMask>,
    now: i64,
) -> Result<Activity, ApiError> {
    let id = names::parse("activity.name", ACTIVITIES, &a.name)?.to_owned();
    let paths = crate::mask::paths(mask, MUTABLE, "activity")?;
    let call = call.clone();
    let deployment = deployment.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            let before = store::get(conn, &id)?.ok_or_else(|| names::not_found(&a.name))?;
            scope::update_activity(&call.caller, &before.organiser)?;
            deployment.accepts_write(&call.caller, &before.province, &a.name)?;
            let mut merged = convert::activity(before.clone());
            for p in &paths {
                match p.as_str() {
                    "title" => merged.title = a.title.clone(),
                    "province" => merged.province = a.province.clone(),
                    "field" => merged.field = a.field,
                    "subject_category" => merged.subject_category = a.subject_category,
                    "delivery_mode" => merged.delivery_mode = a.delivery_mode,
                    "start_date" => merged.start_date = a.start_date,
                    "end_date" => merged.end_date = a.end_date,
                    "hours_per_day" => merged.hours_per_day = a.hours_per_day,
                    "fee_fen" => merged.fee_fen = a.fee_fen,
                    _ => {}
                }
            }
            let organiser = Organiser {
                kind: OrganiserKind::try_from(before.organiser_kind)
                    .unwrap_or(OrganiserKind::Unspecified),
                id: before.organiser.clone(),
            };
            let (start, end) = validate(&merged, &organiser)?;
            deployment.accepts_write(&call.caller, &merged.province, &a.name)?;
            if organiser.kind != OrganiserKind::Institution
                && call.caller.role != ce_proto::common::Role::Ministry
            {
                scope::place_activity(&call.caller, &merged.province, merged.field)?;
            }
            let mut after = before.clone();
            after.title = merged.title.trim().to_owned();
            after.province = merged.province;
            after.field = merged.field;
            after.subject_category = merged.subject_category;
            after.delivery_mode = merged.delivery_mode;
            after.start_date = dates::format(start);
            after.end_date = dates::format(end);
            after.hours_per_day = merged.hours_per_day;
            after.fee_fen = merged.fee_fen;
            if after == before {
                return Ok(after);
            }
            check_institution(conn, &after, start, end)?;
            after.update_micros = now;
            store::update(conn, &after)?;
            audit::append(conn, &call.audit(&a.name, "OK"))?;
            Ok(after)
        })
        .await?;
    Ok(convert::activity(row))
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListActivitiesRequest,
) -> Result<ListActivitiesResponse, ApiError> {
    let mut v = Violations::new();
    if !req.province.is_empty() && req.province != ce_proto::reference::NATIONAL {
        check_province(&mut v, "province", &req.province);
    }
    if req.field != 0 {
        check_field(&mut v, "field", req.field);
    }
    if req.subject_category != 0 && SubjectCategory::try_from(req.subject_category).is_err() {
        v.add("subject_category", "is not a subject category");
    }
    v.finish()?;
    let page = Page::parse(
        req.page_size,
        &req.page_token,
        &format!(
            "{}|{}|{}|{}",
            req.province, req.field, req.organiser, req.subject_category
        ),
    )?;
    let filter = ActivityFilter {
        province: (!req.province.is_empty()).then(|| req.province.clone()),
        field: (req.field != 0).then_some(req.field),
        organiser: (!req.organiser.is_empty()).then(|| req.organiser.clone()),
        subject_category: (req.subject_category != 0).then_some(req.subject_category),
    };
    let (activities, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| Ok(store::list(conn, &filter, after, limit)?),
            |r| r.id.clone(),
            |r| Ok(convert::activity(r)),
            call.max_message_bytes,
        )
        .await?;
    Ok(ListActivitiesResponse {
        activities,
        next_page_token,
    })
}
