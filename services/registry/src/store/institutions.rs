use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use crate::schema::{institutions, standing_changes};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = institutions, treat_none_as_null = true)]
pub struct InstitutionRow {
    pub id: String,
    pub code: String,
    pub display_name: String,
    pub province: String,
    pub fields: String,
    pub delivery_modes: String,
    pub disclosure_scope: String,
    pub disclosure_content: String,
    pub fee_items: String,
    pub standing: i32,
    pub standing_effective_date: String,
    pub next_change_date: Option<String>,
    pub create_micros: i64,
    pub update_micros: i64,
    /// The latest quality-monitoring grade (Art. 25), its period and model.
    pub quality_grade: Option<String>,
    pub quality_period: Option<String>,
    pub quality_model: Option<String>,
    /// When the quality service computed that grade.
    pub quality_compute_micros: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = standing_changes)]
pub struct StandingChangeRow {
    pub id: String,
    pub institution_id: String,
    pub standing: i32,
    pub reason: String,
    pub effective_date: String,
    pub article: String,
    pub case_reference: String,
    pub changed_by: String,
    pub changed_by_role: String,
    pub request_id: Option<String>,
    pub request_digest: Option<String>,
    pub create_micros: i64,
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<InstitutionRow>, DbError> {
    Ok(institutions::table
        .find(id)
        .select(InstitutionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn exists_with_code(conn: &mut DbConnection, code: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        institutions::table.filter(institutions::code.eq(code)),
    ))
    .get_result(conn)?)
}

pub fn insert(conn: &mut DbConnection, row: &InstitutionRow) -> Result<(), DbError> {
    diesel::insert_into(institutions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes what an update may change: name, fields, modes, disclosure.
/// Standing columns are written only by [`update_standing`], so an update
/// racing a standing change cannot put an old standing back.
pub fn update_details(conn: &mut DbConnection, row: &InstitutionRow) -> Result<(), DbError> {
    diesel::update(institutions::table.find(&row.id))
        .set((
            institutions::display_name.eq(&row.display_name),
            institutions::fields.eq(&row.fields),
            institutions::delivery_modes.eq(&row.delivery_modes),
            institutions::disclosure_scope.eq(&row.disclosure_scope),
            institutions::disclosure_content.eq(&row.disclosure_content),
            institutions::fee_items.eq(&row.fee_items),
            institutions::update_micros.eq(row.update_micros),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the standing in force and when it next changes.
pub fn update_standing(conn: &mut DbConnection, row: &InstitutionRow) -> Result<(), DbError> {
    diesel::update(institutions::table.find(&row.id))
        .set((
            institutions::standing.eq(row.standing),
            institutions::standing_effective_date.eq(&row.standing_effective_date),
            institutions::next_change_date.eq(&row.next_change_date),
            institutions::update_micros.eq(row.update_micros),
        ))
        .execute(conn)?;
    Ok(())
}

/// Institutions whose next dated standing change is due on or before `today`.
/// Records the latest quality grade.
pub fn update_quality(conn: &mut DbConnection, row: &InstitutionRow) -> Result<(), DbError> {
    diesel::update(institutions::table.find(&row.id))
        .set((
            institutions::quality_grade.eq(&row.quality_grade),
            institutions::quality_period.eq(&row.quality_period),
            institutions::quality_model.eq(&row.quality_model),
            institutions::quality_compute_micros.eq(row.quality_compute_micros),
            institutions::update_micros.eq(row.update_micros),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn due_for_refresh(conn: &mut DbConnection, today: &str) -> Result<Vec<String>, DbError> {
    Ok(institutions::table
        .filter(institutions::next_change_date.le(today.to_owned()))
        .select(institutions::id)
        .load(conn)?)
}

/// Filters for a list of institutions; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct InstitutionFilter {
    pub province: Option<String>,
    pub field: Option<i32>,
    pub standing: Option<i32>,
    pub code: Option<String>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &InstitutionFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<InstitutionRow>, DbError> {
    let mut q = institutions::table
        .select(InstitutionRow::as_select())
        .into_boxed();
    if let Some(p) = &f.province {
        q = q.filter(institutions::province.eq(p.clone()));
    }
    if let Some(field) = f.field {
        q = q.filter(institutions::fields.like(super::set_member_pattern(field)));
    }
    if let Some(s) = f.standing {
        q = q.filter(institutions::standing.eq(s));
    }
    if let Some(c) = &f.code {
        q = q.filter(institutions::code.eq(c.clone()));
    }
    if let Some(a) = after {
        q = q.filter(institutions::id.gt(a.to_owned()));
    }
    Ok(q.order(institutions::id.asc()).limit(limit).load(conn)?)
}

pub fn insert_change(conn: &mut DbConnection, row: &StandingChangeRow) -> Result<(), DbError> {
    diesel::insert_into(standing_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Every change of one institution, in the order they were recorded.
pub fn changes(
    conn: &mut DbConnection,
    institution_id: &str,
) -> Result<Vec<StandingChangeRow>, DbError> {
    Ok(standing_changes::table
        .filter(standing_changes::institution_id.eq(institution_id))
        .order(standing_changes::id.asc())
        .select(StandingChangeRow::as_select())
        .load(conn)?)
}

pub fn changes_page(
    conn: &mut DbConnection,
    institution_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<StandingChangeRow>, DbError> {
    let mut q = standing_changes::table
        .filter(standing_changes::institution_id.eq(institution_id.to_owned()))
        .select(StandingChangeRow::as_select())
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(standing_changes::id.gt(a.to_owned()));
    }
    Ok(q.order(standing_changes::id.asc())
        .limit(limit)
        .load(conn)?)
}

pub fn change_by_request(
    conn: &mut DbConnection,
    institution_id: &str,
    request_id: &str,
) -> Result<Option<StandingChangeRow>, DbError> {
    Ok(standing_changes::table
        .filter(standing_changes::institution_id.eq(institution_id))
        .filter(standing_changes::request_id.eq(request_id))
        .select(StandingChangeRow::as_select())
        .first(conn)
        .optional()?)
}
