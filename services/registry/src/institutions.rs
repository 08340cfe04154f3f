//! Institutions (Art. 13-16): registration, the Art. 15 disclosure, and the
//! standing history that supervision and quality monitoring change.

use ce_db::{Db, DbConnection, audit};
use ce_proto::common::DeliveryMode;
use ce_proto::registry::{
    ChangeInstitutionStandingRequest, Institution, ListInstitutionsRequest,
    ListInstitutionsResponse, ListStandingChangesRequest, ListStandingChangesResponse, Standing,
};
use ce_rules::article::{ART_13, ART_15, ART_26, ART_29};
use ce_server::deployment::Deployment;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};

use crate::convert;
use crate::engineers::{check_display_name, check_field, check_province};
use crate::names::{self, INSTITUTIONS};
use crate::scope;
use crate::store::institutions::{
    self as store, InstitutionFilter, InstitutionRow, StandingChangeRow,
};
use crate::store::{decode_set, encode_set};
use ce_rules::standing::{self, Change};
use ce_server::convert::{standing_from_wire, standing_to_wire};
use ce_server::dates;

/// Records the latest quality grade (Art. 25), from the quality service.
/// An earlier period than the one recorded changes nothing, nor does a
/// grade of the same period computed no later than the one recorded: the
/// quality service's outbox may deliver an old grade after a newer one. A
/// grade without its computation time (entered by hand) counts as computed
/// when it arrives. Recorded in the deployment of the institution's
/// province.
pub async fn record_quality(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    req: ce_proto::registry::RecordQualityGradeRequest,
    now: i64,
) -> Result<Institution, ApiError> {
    let id = names::parse("name", INSTITUTIONS, &req.name)?.to_owned();
    let mut v = Violations::new();
    if req.period.trim().is_empty() || req.period.len() > 32 {
        v.add("period", "is required, at most 32 characters");
    }
    if req.grade.trim().is_empty() || req.grade.len() > 16 {
        v.add("grade", "is required, at most 16 characters");
    }
    if req.model_version.len() > 64 {
        v.add("model_version", "at most 64 characters");
    }
    v.finish()?;
    if !matches!(
        call.caller.role,
        ce_proto::common::Role::Service | ce_proto::common::Role::Ministry
    ) {
        return Err(ApiError::denied(
            ce_server::reason::Reason::RoleNotPermitted,
            "",
            "quality grades are recorded by the quality-monitoring service",
        ));
    }
    let call = call.clone();
    let deployment = deployment.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            ce_db::lock_row(conn, "institutions", &id)?;
            let mut row = store::get(conn, &id)?.ok_or_else(|| names::not_found(&req.name))?;
            deployment.accepts_write(&call.caller, &row.province, &req.name)?;
            let computed = req
                .compute_time
                .as_ref()
                .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000);
            let newer = match row.quality_period.as_deref() {
                None => true,
                Some(p) if req.period.as_str() == p => match computed {
                    Some(c) => row.quality_compute_micros.is_none_or(|r| c > r),
                    // By hand: a retry of the grade in force changes nothing.
                    None => {
                        row.quality_grade.as_deref() != Some(req.grade.as_str())
                            || row.quality_model.as_deref() != Some(req.model_version.as_str())
                    }
                },
                Some(p) => req.period.as_str() > p,
            };
            if newer {
                row.quality_grade = Some(req.grade.trim().to_owned());
                row.quality_period = Some(req.period.trim().to_owned());
                row.quality_model = Some(req.model_version.trim().to_owned());
                row.quality_compute_micros = Some(computed.unwrap_or(now));
                row.update_micros = now;
                store::update_quality(conn, &row)?;
                ce_db::audit::append(conn, &call.audit(&req.name, "OK"))?;
            }
            Ok(row)
        })
        .await?;
    Ok(convert::institution(row))
}

/// Checks the fields, modes and disclosure an institution carries.
fn validate(i: &Institution, v: &mut Violations) -> String {
    let code = i.code.trim().to_ascii_uppercase();
    if let Err(why) = crate::ids::check_credit_code(&code) {
        v.add("institution.code", why);
    }
    check_display_name(v, "institution.display_name", &i.display_name);
    check_province(v, "institution.province", &i.province);
    if i.fields.is_empty() {
        v.add(
            "institution.fields",
            format!("at least one {ART_29} field is required"),
        );
    }
    for (n, f) in i.fields.iter().enumerate() {
        check_field(v, &format!("institution.fields[{n}]"), *f);
    }
    if i.delivery_modes.is_empty() {
        v.add(
            "institution.delivery_modes",
            format!("at least one delivery mode is required ({ART_13})"),
        );
    }
    for (n, m) in i.delivery_modes.iter().enumerate() {
        if !matches!(
            DeliveryMode::try_from(*m),
            Ok(DeliveryMode::FaceToFace | DeliveryMode::Online)
        ) {
            v.add(
                format!("institution.delivery_modes[{n}]"),
                "must be face-to-face or online",
            );
        }
    }
    if let Some(d) = &i.disclosure {
        if d.fee_items.len() > 200 {
            v.add("institution.disclosure.fee_items", "at most 200 items");
        }
        for (n, f) in d.fee_items.iter().enumerate() {
            if f.item.trim().is_empty() {
                v.add(
                    format!("institution.disclosure.fee_items[{n}].item"),
                    format!("is required ({ART_15}: fee items)"),
                );
            }
            if f.amount_fen < 0 {
                v.add(
                    format!("institution.disclosure.fee_items[{n}].amount_fen"),
                    format!("must not be negative ({ART_15}: fee levels)"),
                );
            }
        }
    }
    code
}

/// Registers an institution at `now`, in the deployment of its province.
pub async fn create(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    i: Institution,
    now: i64,
) -> Result<Institution, ApiError> {
    let mut v = Violations::new();
    let code = validate(&i, &mut v);
    v.finish()?;
    scope::create_institution(&call.caller, &i.province)?;
    deployment.accepts_write(&call.caller, &i.province, INSTITUTIONS)?;
    // An institution exists before it is registered here: it is in good
    // standing from the day the regulation took effect until a dated
    // decision says otherwise.
    let since = format!("{}-01-01", ce_rules::ruleset::FIRST_YEAR);
    let (disclosure_scope, disclosure_content, fee_items) =
        convert::disclosure_columns(i.disclosure.as_ref());
    let row = InstitutionRow {
        id: names::new_id(),
        code,
        display_name: i.display_name.trim().to_owned(),
        province: i.province,
        fields: encode_set(&i.fields),
        delivery_modes: encode_set(&i.delivery_modes),
        disclosure_scope,
        disclosure_content,
        fee_items,
        standing: Standing::Active as i32,
        standing_effective_date: since.clone(),
        next_change_date: None,
        create_micros: now,
        update_micros: now,
        quality_grade: None,
        quality_period: None,
        quality_model: None,
        quality_compute_micros: None,
    };
    let call = call.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            if store::exists_with_code(conn, &row.code)? {
                return Err(ApiError::AlreadyExists(
                    "an institution with this unified social credit code is registered already"
                        .into(),
                ));
            }
            store::insert(conn, &row)?;
            store::insert_change(
                conn,
                &StandingChangeRow {
                    id: names::new_id(),
                    institution_id: row.id.clone(),
                    standing: Standing::Active as i32,
                    reason: "registered".into(),
                    effective_date: since,
                    article: ART_13.to_string(),
                    case_reference: String::new(),
                    changed_by: call.caller.subject.clone(),
                    changed_by_role: call.caller.role_name().into(),
                    request_id: None,
                    request_digest: None,
                    create_micros: now,
                },
            )?;
            audit::append(conn, &call.audit(&names::name(INSTITUTIONS, &row.id), "OK"))?;
            Ok(row)
        })
        .await?;
    Ok(convert::institution(row))
}

/// The recorded history as pure [`Change`]s.
pub fn history(conn: &mut DbConnection, institution_id: &str) -> Result<Vec<Change>, ApiError> {
    Ok(store::changes(conn, institution_id)?
        .into_iter()
        .filter_map(|r| {
            Some(Change {
                effective: dates::parse(&r.effective_date).ok()?,
                standing: standing_from_wire(r.standing)?,
            })
        })
        .collect())
}

/// Brings the stored current standing of one institution up to `today`.
fn refresh(
    conn: &mut DbConnection,
    row: &mut InstitutionRow,
    today: time::Date,
) -> Result<(), ApiError> {
    let h = history(conn, &row.id)?;
    if let Some(current) = standing::on(&h, today) {
        row.standing = standing_to_wire(current.standing) as i32;
        row.standing_effective_date = dates::format(current.effective);
    }
    row.next_change_date = standing::next_change_after(&h, today).map(dates::format);
    store::update_standing(conn, row)?;
    Ok(())
}

/// Applies dated standing changes that have fallen due since they were
/// recorded, so reads and filters see today's standing.
async fn refresh_due(db: &Db, today: time::Date) -> Result<(), ApiError> {
    let today_text = dates::format(today);
    let due = {
        let t = today_text.clone();
        db.read(move |conn| store::due_for_refresh(conn, &t))
            .await?
    };
    if due.is_empty() {
        return Ok(());
    }
    db.write(move |conn| -> Result<_, ApiError> {
        for id in due {
            ce_db::lock_row(conn, "institutions", &id)?;
            if let Some(mut row) = store::get(conn, &id)? {
                refresh(conn, &mut row, today)?;
            }
        }
        Ok(())
    })
    .await
}

pub async fn get(
    db: &Db,
    _call: &Call,
    name: &str,
    today: time::Date,
) -> Result<Institution, ApiError> {
    let id = names::parse("name", INSTITUTIONS, name)?.to_owned();
    refresh_due(db, today).await?;
    let row = db
        .read(move |conn| store::get(conn, &id))
        .await?
        .ok_or_else(|| names::not_found(name))?;
    Ok(convert::institution(row))
}

const MUTABLE: &[&str] = &["display_name", "fields", "delivery_modes", "disclosure"];

/// Changes an institution at `now`, in the deployment of its province.
pub async fn update(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    i: Institution,
    mask: Option<prost_types::FieldMask>,
    now: i64,
) -> Result<Institution, ApiError> {
    let id = names::parse("institution.name", INSTITUTIONS, &i.name)?.to_owned();
    let paths = crate::mask::paths(mask, MUTABLE, "institution")?;
    // Fields and delivery modes are what HRSS approved (Art. 13) and what
    // regulators' scope follows; an institution keeps its name and
    // disclosure up to date itself.
    if call.caller.role == ce_proto::common::Role::Institution
        && paths.iter().any(|p| p == "fields" || p == "delivery_modes")
    {
        return Err(ApiError::denied(
            ce_server::reason::Reason::InstitutionFieldsByHrss,
            "",
            format!(
                "an institution's fields and delivery modes are changed by the HRSS department ({ART_13})"
            ),
        ));
    }
    let call = call.clone();
    let deployment = deployment.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            ce_db::lock_row(conn, "institutions", &id)?;
            let before = store::get(conn, &id)?.ok_or_else(|| names::not_found(&i.name))?;
            scope::update_institution(&call.caller, &i.name, &before.province)?;
            deployment.accepts_write(&call.caller, &before.province, &i.name)?;
            let mut after = before.clone();
            for p in &paths {
                match p.as_str() {
                    "display_name" => after.display_name = i.display_name.trim().to_owned(),
                    "fields" => after.fields = encode_set(&i.fields),
                    "delivery_modes" => after.delivery_modes = encode_set(&i.delivery_modes),
                    "disclosure" => {
                        (
                            after.disclosure_scope,
                            after.disclosure_content,
                            after.fee_items,
                        ) = convert::disclosure_columns(i.disclosure.as_ref());
                    }
                    _ => {}
                }
            }
            let mut v = Violations::new();
            let mut candidate = convert::institution(after.clone());
            candidate.disclosure = if paths.iter().any(|p| p == "disclosure") {
                i.disclosure.clone()
            } else {
                candidate.disclosure
            };
            validate(&candidate, &mut v);
            v.finish()?;
            if after == before {
                return Ok(after);
            }
            after.update_micros = now;
            store::update_details(conn, &after)?;
            audit::append(conn, &call.audit(&i.name, "OK"))?;
            Ok(after)
        })
        .await?;
    Ok(convert::institution(row))
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListInstitutionsRequest,
    today: time::Date,
) -> Result<ListInstitutionsResponse, ApiError> {
    let mut v = Violations::new();
    if !req.province.is_empty() {
        check_province(&mut v, "province", &req.province);
    }
    if req.field != 0 {
        check_field(&mut v, "field", req.field);
    }
    if req.standing != 0 && Standing::try_from(req.standing).is_err() {
        v.add("standing", format!("{} is not a standing", req.standing));
    }
    v.finish()?;
    let page = Page::parse(
        req.page_size,
        &req.page_token,
        &format!(
            "{}|{}|{}|{}",
            req.province, req.field, req.standing, req.code
        ),
    )?;
    refresh_due(db, today).await?;
    let filter = InstitutionFilter {
        province: (!req.province.is_empty()).then(|| req.province.clone()),
        field: (req.field != 0).then_some(req.field),
        standing: (req.standing != 0).then_some(req.standing),
        code: (!req.code.is_empty()).then(|| req.code.trim().to_ascii_uppercase()),
    };
    let (institutions, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| Ok(store::list(conn, &filter, after, limit)?),
            |r| r.id.clone(),
            |r| Ok(convert::institution(r)),
            call.max_message_bytes,
        )
        .await?;
    Ok(ListInstitutionsResponse {
        institutions,
        next_page_token,
    })
}

/// A digest of what a standing change says, to tell a retry from a reused
/// request id.
fn digest(r: &ChangeInstitutionStandingRequest) -> String {
    let d = r.effective_date.unwrap_or_default();
    format!(
        "{}|{}|{}-{}-{}|{}|{}",
        r.standing,
        r.reason.trim(),
        d.year,
        d.month,
        d.day,
        r.article.trim(),
        r.case_reference.trim()
    )
}

/// Changes an institution's standing, in the deployment of its province.
pub async fn change_standing(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    req: ChangeInstitutionStandingRequest,
    now: i64,
) -> Result<Institution, ApiError> {
    let id = names::parse("name", INSTITUTIONS, &req.name)?.to_owned();
    let mut v = Violations::new();
    match Standing::try_from(req.standing) {
        Ok(Standing::Unspecified) | Err(_) => v.add(
            "standing",
            "must be active, warned, rectification ordered, suspended or disqualified",
        ),
        Ok(_) => {}
    }
    if req.reason.trim().is_empty() {
        v.add("reason", "is required: say why the standing changes");
    }
    let effective = v.check(
        "effective_date",
        dates::from_proto(req.effective_date.as_ref()),
    );
    if req.article.trim().is_empty() {
        v.add(
            "article",
            format!("is required: the article behind the change, for example \"{ART_26}\""),
        );
    } else if req.article.len() > 64 {
        v.add("article", "must be at most 64 characters");
    }
    if req.request_id.len() > 128 {
        v.add("request_id", "must be at most 128 characters");
    }
    v.finish()?;
    let effective = effective.ok_or_else(|| ApiError::invalid("effective_date", "is required"))?;
    let call = call.clone();
    let deployment = deployment.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            // One standing change at a time per institution: the idempotency
            // check and the refresh then see every change committed before.
            ce_db::lock_row(conn, "institutions", &id)?;
            let mut row = store::get(conn, &id)?.ok_or_else(|| names::not_found(&req.name))?;
            scope::change_standing(&call.caller, &row.province, &decode_set(&row.fields))?;
            deployment.accepts_write(&call.caller, &row.province, &req.name)?;
            let request_id = (!req.request_id.is_empty()).then(|| req.request_id.clone());
            let digest = digest(&req);
            if let Some(key) = &request_id
                && let Some(existing) = store::change_by_request(conn, &id, key)?
            {
                return if existing.request_digest.as_deref() == Some(digest.as_str()) {
                    Ok(row)
                } else {
                    Err(ApiError::AlreadyExists(format!(
                        "request_id {key} was used for a different standing change"
                    )))
                };
            }
            store::insert_change(
                conn,
                &StandingChangeRow {
                    id: names::new_id(),
                    institution_id: id.clone(),
                    standing: req.standing,
                    reason: req.reason.trim().to_owned(),
                    effective_date: dates::format(effective),
                    article: req.article.trim().to_owned(),
                    case_reference: req.case_reference.trim().to_owned(),
                    changed_by: call.caller.subject.clone(),
                    changed_by_role: call.caller.role_name().into(),
                    request_id,
                    request_digest: Some(digest),
                    create_micros: now,
                },
            )?;
            row.update_micros = now;
            refresh(conn, &mut row, crate::today(now))?;
            audit::append(conn, &call.audit(&req.name, "OK"))?;
            Ok(row)
        })
        .await?;
    Ok(convert::institution(row))
}

pub async fn list_changes(
    db: &Db,
    call: &Call,
    req: ListStandingChangesRequest,
) -> Result<ListStandingChangesResponse, ApiError> {
    let id = names::parse("parent", INSTITUTIONS, &req.parent)?.to_owned();
    let page = Page::parse(req.page_size, &req.page_token, &req.parent)?;
    let parent = req.parent.clone();
    let (standing_changes, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| {
                if store::get(conn, &id)?.is_none() {
                    return Err(names::not_found(&parent));
                }
                Ok(store::changes_page(conn, &id, after, limit)?)
            },
            |r| r.id.clone(),
            |r| Ok(convert::standing_change(r)),
            call.max_message_bytes,
        )
        .await?;
    Ok(ListStandingChangesResponse {
        standing_changes,
        next_page_token,
    })
}
