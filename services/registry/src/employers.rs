//! Employers (用人单位, Art. 2): who engineers work for, and who confirms
//! their hours and certifies deferrals.

use ce_db::{Db, audit};
use ce_proto::registry::{Employer, EmployerKind, ListEmployersRequest, ListEmployersResponse};
use ce_rules::article::ART_2;
use ce_server::deployment::Deployment;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations};

use crate::convert;
use crate::engineers::{check_display_name, check_province};
use crate::names::{self, EMPLOYERS};
use crate::scope;
use crate::store::employers::{self as store, EmployerFilter, EmployerRow};

fn check_kind(v: &mut Violations, kind: i32) {
    match EmployerKind::try_from(kind) {
        Ok(EmployerKind::Unspecified) => v.add(
            "employer.kind",
            format!("is required: state organ, enterprise, public institution or social organisation ({ART_2})"),
        ),
        Ok(_) => {}
        Err(_) => v.add("employer.kind", format!("{kind} is not an employer kind ({ART_2})")),
    }
}

fn validate(e: &Employer) -> Result<String, ApiError> {
    let mut v = Violations::new();
    let code = e.credit_code.trim().to_ascii_uppercase();
    if let Err(why) = crate::ids::check_credit_code(&code) {
        v.add("employer.credit_code", why);
    }
    check_display_name(&mut v, "employer.display_name", &e.display_name);
    check_kind(&mut v, e.kind);
    check_province(&mut v, "employer.province", &e.province);
    v.finish()?;
    Ok(code)
}

/// Registers an employer at `now`, in the deployment of its province.
pub async fn create(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    e: Employer,
    now: i64,
) -> Result<Employer, ApiError> {
    let credit_code = validate(&e)?;
    scope::create_employer(&call.caller, &e.province)?;
    deployment.accepts_write(&call.caller, &e.province, EMPLOYERS)?;
    let row = EmployerRow {
        id: names::new_id(),
        credit_code,
        display_name: e.display_name.trim().to_owned(),
        kind: e.kind,
        province: e.province,
        create_micros: now,
        update_micros: now,
    };
    let call = call.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            if store::exists_with_code(conn, &row.credit_code)? {
                return Err(ApiError::AlreadyExists(
                    "an employer with this unified social credit code is registered already".into(),
                ));
            }
            store::insert(conn, &row)?;
            audit::append(conn, &call.audit(&names::name(EMPLOYERS, &row.id), "OK"))?;
            Ok(row)
        })
        .await?;
    Ok(convert::employer(row))
}

pub async fn get(db: &Db, call: &Call, name: &str) -> Result<Employer, ApiError> {
    let id = names::parse("name", EMPLOYERS, name)?.to_owned();
    let row = db
        .read(move |conn| store::get(conn, &id))
        .await?
        .ok_or_else(|| names::not_found(name))?;
    scope::read_employer(&call.caller, name, &row.province)?;
    Ok(convert::employer(row))
}

const MUTABLE: &[&str] = &["display_name", "kind", "province"];

/// Changes an employer at `now`, in the deployment of the province it is
/// registered in now.
pub async fn update(
    db: &Db,
    deployment: &Deployment,
    call: &Call,
    e: Employer,
    mask: Option<prost_types::FieldMask>,
    now: i64,
) -> Result<Employer, ApiError> {
    let id = names::parse("employer.name", EMPLOYERS, &e.name)?.to_owned();
    let paths = crate::mask::paths(mask, MUTABLE, "employer")?;
    let call = call.clone();
    let deployment = deployment.clone();
    let row = db
        .write(move |conn| -> Result<_, ApiError> {
            let before = store::get(conn, &id)?.ok_or_else(|| names::not_found(&e.name))?;
            scope::update_employer(&call.caller, &e.name, &before.province)?;
            deployment.accepts_write(&call.caller, &before.province, &e.name)?;
            let mut after = before.clone();
            for p in &paths {
                match p.as_str() {
                    "display_name" => after.display_name = e.display_name.trim().to_owned(),
                    "kind" => after.kind = e.kind,
                    "province" => after.province = e.province.clone(),
                    _ => {}
                }
            }
            validate(&Employer {
                credit_code: after.credit_code.clone(),
                display_name: after.display_name.clone(),
                kind: after.kind,
                province: after.province.clone(),
                ..Default::default()
            })?;
            scope::update_employer(&call.caller, &e.name, &after.province)?;
            if after == before {
                return Ok(after);
            }
            after.update_micros = now;
            store::update(conn, &after)?;
            audit::append(conn, &call.audit(&e.name, "OK"))?;
            Ok(after)
        })
        .await?;
    Ok(convert::employer(row))
}

pub async fn list(
    db: &Db,
    call: &Call,
    req: ListEmployersRequest,
) -> Result<ListEmployersResponse, ApiError> {
    let mut v = Violations::new();
    let province = (!req.province.is_empty()).then(|| req.province.clone());
    if let Some(p) = &province {
        check_province(&mut v, "province", p);
    }
    if req.kind != 0 && EmployerKind::try_from(req.kind).is_err() {
        v.add("kind", format!("{} is not an employer kind", req.kind));
    }
    v.finish()?;
    let page = Page::parse(
        req.page_size,
        &req.page_token,
        &format!("{}|{}|{}", req.province, req.kind, req.credit_code),
    )?;
    let (province, only) = scope::list_employers(&call.caller, province)?;
    let filter = EmployerFilter {
        province,
        kind: (req.kind != 0).then_some(req.kind),
        credit_code: (!req.credit_code.is_empty())
            .then(|| req.credit_code.trim().to_ascii_uppercase()),
        id: only
            .as_deref()
            .and_then(|o| o.strip_prefix("employers/"))
            .map(str::to_owned),
    };
    let (employers, next_page_token) = page
        .load_within(
            db,
            move |conn, after, limit| Ok(store::list(conn, &filter, after, limit)?),
            |r| r.id.clone(),
            |r| Ok(convert::employer(r)),
            call.max_message_bytes,
        )
        .await?;
    Ok(ListEmployersResponse {
        employers,
        next_page_token,
    })
}
