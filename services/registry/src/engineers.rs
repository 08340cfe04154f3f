//! Engineers (Art. 2, 22, 29): registration, moves between provinces with
//! one identity, and scoped reads.

use ce_db::{Db, audit};
use ce_proto::common::Field;
use ce_proto::common::Role;
use ce_proto::registry::{
    Engineer, EngineerChange, ListEngineerChangesRequest, ListEngineerChangesResponse,
    ListEngineersRequest, ListEngineersResponse, TitleLevel,
};
use ce_rules::article::{ART_22, ART_29};
use ce_server::deployment::Deployment;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};

use crate::convert;
use crate::names::{self, EMPLOYERS, ENGINEERS};
use crate::scope::{self, EngineerFilter, EngineerScope};
use crate::store::employers as employer_store;
use crate::store::engineers::{self as store, EngineerRow, MoveRow};

fn scope_of(row: &EngineerRow) -> (String, Option<String>) {
    (
        names::name(ENGINEERS, &row.id),
        row.employer_id.as_ref().map(|e| names::name(EMPLOYERS, e)),
    )
}

fn check(
    caller_check: fn(&ce_server::Caller, &EngineerScope) -> Result<(), ApiError>,
    call: &Call,
    row: &EngineerRow,
) -> Result<(), ApiError> {
    let (name, employer) = scope_of(row);
    caller_check(
        &call.caller,
        &EngineerScope {
            name: &name,
            province: &row.province,
            field: row.field,
            employer: employer.as_deref(),
        },
    )
}

pub fn check_province(v: &mut Violations, field: &str, code: &str) {
    if ce_proto::reference::region(code).is_none() {
        v.add(
            field,
            format!("`{code}` is not a province code (GB/T 2260, or 66 for the XPCC)"),
        );
    }
}

pub fn check_field(v: &mut Violations, name: &str, field: i32) {
    match Field::try_from(field) {
        Ok(Field::Unspecified) => v.add(name, format!("is required: one of the {ART_29} fields")),
        Ok(_) => {}
        Err(_) => v.add(name, format!("{field} is not an {ART_29} field")),
    }
}

pub fn check_display_name(v: &mut Violations, field: &str, name: &str) {
    let n = name.trim().chars().count();
    if n == 0 {
        v.add(field, "is required");
    } else if n > 200 {
        v.add(field, "must be at most 200 characters");
    }
}

/// The employer id in `employers/{id}`, or None for "".
fn employer_id(v: &mut Violations, employer: &str) -> Option<String> {
    if employer.is_empty() {
        return None;
    }
    match names::parse("engineer.employer", EMPLOYERS, employer) {
        Ok(id) => Some(id.to_owned()),
        Err(_) => {
            v.add("engineer.employer", "must be empty or `employers/{id}`");
            None
        }
    }
}

/// Checks every field an engineer carries, reporting them all at once.
fn validate(e: &Engineer) -> Result<(String, Option<String>), ApiError> {
    let mut v = Violations::new();
    let id_number = e.id_number.trim().to_ascii_uppercase();
    if let Err(why) = crate::ids::check_resident_id(&id_number) {
        v.add("engineer.id_number", why);
    }
    check_display_name(&mut v, "engineer.display_name", &e.display_name);
    check_province(&mut v, "engineer.province", &e.province);
    check_field(&mut v, "engineer.field", e.field);
    if TitleLevel::try_from(e.title_level).is_err() {
        v.add(
            "engineer.title_level",
            format!("{} is not a title level", e.title_level),
        );
    }
    let employer = employer_id(&mut v, &e.employer);
    v.finish()?;
    Ok((id_number, employer))
}

fn require_employer(
    conn: &mut ce_db::DbConnection,
    employer: &Option<String>,
) -> Result<(), ApiError> {
    if let Some(id) = employer
        && employer_store::get(conn, id)?.is_none()
    {
        return Err(ApiError::invalid(
            "engineer.employer",
            format!(
                "{} is not a registered employer",
                names::name(EMPLOYERS, id)
            ),
        ));
    }
    Ok(())
}

/// Registers an engineer at `now` (microseconds since the epoch, from the
/// service's [`crate::Clock`]), in the deployment of their province.
pub async fn create(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    e: Engineer,
    now: i64,
) -> Result<Engineer, ApiError> {
    let (id_number, employer) = validate(&e)?;
    let row = EngineerRow {
        id: names::new_id(),
        id_number,
        display_name: e.display_name.trim().to_owned(),
        province: e.province,
        field: e.field,
        title_level: e.title_level,
        employer_id: employer,
        create_micros: now,
        update_micros: now,
        place_sequence: 0,
    };
    check(scope::write_engineer, call, &row)?;
    deployment.accepts_write(&call.caller, &row.province, ENGINEERS)?;
    let call = call.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            if store::find_by_id_number(conn, &row.id_number)?.is_some() {
                return Err(ApiError::AlreadyExists(
                    format!("an engineer with this ID number is registered already; one identity nationwide ({ART_22}): \
                     move the existing engineer instead"),
                ));
            }
            require_employer(conn, &row.employer_id)?;
            store::insert(conn, &row)?;
            audit::append(conn, &call.audit(&names::name(ENGINEERS, &row.id), "OK"))?;
            Ok(row)
        })
        .await?;
    Ok(convert::engineer(row))
}

pub async fn get(db: &Db, call: &Call, name: &str) -> Result<Engineer, ApiError> {
    let id = names::parse("name", ENGINEERS, name)?.to_owned();
    let row = db
        .read(move |conn| store::get(conn, &id))
        .await?
        .ok_or_else(|| names::not_found(name))?;
    check(scope::read_engineer, call, &row)?;
    Ok(convert::engineer(row))
}

pub async fn batch_get(
    db: &Db,
    call: &Call,
    names: Vec<String>,
) -> Result<(Vec<Engineer>, Vec<String>), ApiError> {
    let ids = names::batch_ids(ENGINEERS, &names)?;
    let rows = db.read(move |conn| store::get_many(conn, &ids)).await?;
    let mut found = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for name in names {
        let row = rows.iter().find(|r| names::name(ENGINEERS, &r.id) == name);
        // Out of scope is refused as GetEngineer refuses it
        // (docs/errors.md, "Out of scope"), naming the engineer.
        if let Some(r) = row
            && let Err(e) = check(scope::read_engineer, call, r)
        {
            return Err(ApiError::denied(
                ce_server::reason::Reason::OutOfScope,
                name,
                e.to_string(),
            ));
        }
        match row {
            Some(r) => found.push(convert::engineer(r.clone())),
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
    "display_name",
    "province",
    "field",
    "title_level",
    "employer",
];

/// Changes an engineer (a move to another province included) at `now`,
/// in the deployment of the province they are registered in now: a move
/// out is recorded where the engineer was.
pub async fn update(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    e: Engineer,
    mask: Option<prost_types::FieldMask>,
    now: i64,
) -> Result<Engineer, ApiError> {
    let id = names::parse("engineer.name", ENGINEERS, &e.name)?.to_owned();
    let paths = crate::mask::paths(mask, MUTABLE, "engineer")?;
    let call = call.clone();
    let deployment = deployment.clone();
    let name = e.name.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            // Two updates at once each write the whole row: the second waits
            // for the first, so it compares with what the first left (and the
            // feed of engineer changes agrees with the row).
            ce_db::lock_row(conn, "engineers", &id)?;
            let before = store::get(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
            check(scope::write_engineer, &call, &before)?;
            deployment.accepts_write(&call.caller, &before.province, &name)?;
            let mut after = before.clone();
            let mut employer_field = before
                .employer_id
                .as_ref()
                .map(|x| names::name(EMPLOYERS, x))
                .unwrap_or_default();
            for p in &paths {
                match p.as_str() {
                    "display_name" => after.display_name = e.display_name.trim().to_owned(),
                    "province" => after.province = e.province.clone(),
                    "field" => after.field = e.field,
                    "title_level" => after.title_level = e.title_level,
                    "employer" => employer_field = e.employer.clone(),
                    _ => {}
                }
            }
            let candidate = Engineer {
                id_number: after.id_number.clone(),
                display_name: after.display_name.clone(),
                province: after.province.clone(),
                field: after.field,
                title_level: after.title_level,
                employer: employer_field,
                ..Default::default()
            };
            let (_, employer) = validate(&candidate)?;
            after.employer_id = employer;
            require_employer(conn, &after.employer_id)?;
            // A provincial department may hand an engineer over to another
            // province (Art. 22); otherwise the result must stay in scope.
            let transfer = call.caller.role == Role::ProvincialHrss
                && after.province != before.province
                && after.employer_id == before.employer_id;
            if !transfer {
                check(scope::write_engineer, &call, &after)?;
            }
            if after.province != before.province && call.caller.role == Role::Employer {
                return Err(ApiError::denied(ce_server::reason::Reason::MoveByProvince, "", 
                    format!("a move to another province is recorded by the provincial HRSS department ({ART_22})"),
                ));
            }
            if after == before {
                return Ok(after);
            }
            after.update_micros = now;
            store::update(conn, &after)?;
            if after.province != before.province {
                store::record_move(
                    conn,
                    &MoveRow {
                        engineer_id: after.id.clone(),
                        from_province: before.province.clone(),
                        to_province: after.province.clone(),
                        at_micros: after.update_micros,
                        request_id: call.context.request_id.clone(),
                    },
                )?;
            }
            audit::append(conn, &call.audit(&name, "OK"))?;
            // Where the engineer is decides whose lists their open years
            // are in (crediting follows these): the last step, as it
            // orders commits. The engineer row keeps the change's number,
            // so a reader can tell its place from a later one.
            if (&after.province, &after.employer_id, after.field)
                != (&before.province, &before.employer_id, before.field)
            {
                after.place_sequence = store::record_change(conn, &after)?;
            }
            Ok(after)
        })
        .await?;
    Ok(convert::engineer(row))
}

/// Changes one read returns when the request does not say.
const CHANGES_DEFAULT: i64 = 100;

/// The changes of where engineers are, after a cursor.
pub async fn changes(
    db: &Db,
    call: &Call,
    req: ListEngineerChangesRequest,
) -> Result<ListEngineerChangesResponse, ApiError> {
    scope::read_engineer_changes(&call.caller)?;
    let mut v = Violations::new();
    if req.after_sequence < 0 {
        v.add("after_sequence", "must not be negative");
    }
    let limit = ce_server::paging::page_size(&mut v, req.page_size, CHANGES_DEFAULT);
    v.finish()?;
    let after = req.after_sequence;
    let rows = db
        .read(move |conn| store::changes_after(conn, after, limit))
        .await?;
    let mut engineer_changes: Vec<EngineerChange> =
        rows.into_iter().map(convert::engineer_change).collect();
    // Cut short by bytes too: the cursor moves past the changes kept only.
    ce_server::paging::fit(&mut engineer_changes, call.max_message_bytes)?;
    let next_after_sequence = engineer_changes.last().map_or(after, |c| c.sequence);
    Ok(ListEngineerChangesResponse {
        engineer_changes,
        next_after_sequence,
    })
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListEngineersRequest,
) -> Result<ListEngineersResponse, ApiError> {
    let mut v = Violations::new();
    let requested = EngineerFilter {
        province: (!req.province.is_empty()).then(|| req.province.clone()),
        field: (req.field != 0).then_some(req.field),
        employer: (!req.employer.is_empty()).then(|| req.employer.clone()),
        name: None,
    };
    if let Some(p) = &requested.province {
        check_province(&mut v, "province", p);
    }
    if requested.field.is_some() {
        check_field(&mut v, "field", req.field);
    }
    if let Some(e) = &requested.employer
        && names::parse("employer", EMPLOYERS, e).is_err()
    {
        v.add("employer", "must be `employers/{id}`");
    }
    v.finish()?;
    let filters = format!(
        "{}|{}|{}|{}",
        req.province, req.field, req.employer, req.id_number
    );
    let page = Page::parse(req.page_size, &req.page_token, &filters)?;
    let filter = scope::list_engineers(&call.caller, requested)?;
    let id_number = (!req.id_number.is_empty()).then(|| req.id_number.trim().to_ascii_uppercase());
    // Stored filters use bare ids.
    let stored = EngineerFilter {
        employer: filter
            .employer
            .as_deref()
            .and_then(|e| e.strip_prefix("employers/"))
            .map(str::to_owned),
        name: filter
            .name
            .as_deref()
            .and_then(|n| n.strip_prefix("engineers/"))
            .map(str::to_owned),
        ..filter
    };
    let (engineers, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| {
                Ok(store::list(
                    conn,
                    &stored,
                    id_number.as_deref(),
                    after,
                    limit,
                )?)
            },
            |r| r.id.clone(),
            |r| Ok(convert::engineer(r)),
            call.max_message_bytes,
        )
        .await?;
    Ok(ListEngineersResponse {
        engineers,
        next_page_token,
    })
}
