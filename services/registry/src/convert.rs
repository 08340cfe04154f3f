//! The registry's conversions, in one place: stored rows into the wire
//! messages its RPCs answer with, and the stored form of an institution's
//! disclosure.

use ce_proto::registry::{
    Activity, Disclosure, Employer, Engineer, EngineerChange, FeeItem, Institution, StandingChange,
};
use ce_server::dates::{self, timestamp};
use serde::{Deserialize, Serialize};

use crate::names::{self, ACTIVITIES, EMPLOYERS, ENGINEERS, INSTITUTIONS};
use crate::store::activities::ActivityRow;
use crate::store::decode_set;
use crate::store::employers::EmployerRow;
use crate::store::engineers::{ChangeRow, EngineerRow};
use crate::store::institutions::{InstitutionRow, StandingChangeRow};

#[derive(Serialize, Deserialize)]
struct StoredFee {
    item: String,
    amount_fen: i64,
}

/// An engineer as the wire carries it.
pub fn engineer(row: EngineerRow) -> Engineer {
    Engineer {
        name: names::name(ENGINEERS, &row.id),
        id_number: row.id_number,
        display_name: row.display_name,
        province: row.province,
        field: row.field,
        title_level: row.title_level,
        employer: row
            .employer_id
            .as_ref()
            .map(|e| names::name(EMPLOYERS, e))
            .unwrap_or_default(),
        create_time: Some(timestamp(row.create_micros)),
        update_time: Some(timestamp(row.update_micros)),
        place_sequence: row.place_sequence,
    }
}

/// A change of where an engineer is (province, employer, field), as
/// `ListEngineerChanges` reports it.
pub fn engineer_change(c: ChangeRow) -> EngineerChange {
    EngineerChange {
        sequence: c.sequence,
        engineer: names::name(ENGINEERS, &c.engineer_id),
        province: c.province,
        employer: c
            .employer_id
            .map(|e| names::name(EMPLOYERS, &e))
            .unwrap_or_default(),
        field: c.field,
        change_time: Some(timestamp(c.change_micros)),
    }
}

/// An employer as the wire carries it.
pub fn employer(row: EmployerRow) -> Employer {
    Employer {
        name: names::name(EMPLOYERS, &row.id),
        credit_code: row.credit_code,
        display_name: row.display_name,
        kind: row.kind,
        province: row.province,
        create_time: Some(timestamp(row.create_micros)),
        update_time: Some(timestamp(row.update_micros)),
    }
}

/// An institution as the wire carries it, its fee items decoded.
pub fn institution(row: InstitutionRow) -> Institution {
    let fees: Vec<StoredFee> = serde_json::from_str(&row.fee_items).unwrap_or_default();
    Institution {
        name: names::name(INSTITUTIONS, &row.id),
        code: row.code,
        display_name: row.display_name,
        province: row.province,
        fields: decode_set(&row.fields),
        delivery_modes: decode_set(&row.delivery_modes),
        disclosure: Some(Disclosure {
            scope: row.disclosure_scope,
            content: row.disclosure_content,
            fee_items: fees
                .into_iter()
                .map(|f| FeeItem {
                    item: f.item,
                    amount_fen: f.amount_fen,
                })
                .collect(),
        }),
        standing: row.standing,
        standing_effective_date: dates::text_to_proto(&row.standing_effective_date),
        create_time: Some(timestamp(row.create_micros)),
        update_time: Some(timestamp(row.update_micros)),
        quality_grade: row.quality_grade.unwrap_or_default(),
        quality_period: row.quality_period.unwrap_or_default(),
        quality_model_version: row.quality_model.unwrap_or_default(),
    }
}

/// The stored columns of a disclosure (Art. 15): scope, content, and the
/// fee items as JSON.
pub fn disclosure_columns(d: Option<&Disclosure>) -> (String, String, String) {
    let d = d.cloned().unwrap_or_default();
    let fees: Vec<StoredFee> = d
        .fee_items
        .into_iter()
        .map(|f| StoredFee {
            item: f.item.trim().to_owned(),
            amount_fen: f.amount_fen,
        })
        .collect();
    (
        d.scope.trim().to_owned(),
        d.content.trim().to_owned(),
        serde_json::to_string(&fees).unwrap_or_else(|_| "[]".into()),
    )
}

/// One dated standing change as the wire carries it.
pub fn standing_change(row: StandingChangeRow) -> StandingChange {
    StandingChange {
        name: format!(
            "{}/standingChanges/{}",
            names::name(INSTITUTIONS, &row.institution_id),
            row.id
        ),
        standing: row.standing,
        reason: row.reason,
        effective_date: dates::text_to_proto(&row.effective_date),
        article: row.article,
        case_reference: row.case_reference,
        changed_by: row.changed_by,
        changed_by_role: ce_server::auth::parse_role(&row.changed_by_role).map_or(0, |r| r as i32),
        create_time: Some(timestamp(row.create_micros)),
    }
}

/// An activity as the wire carries it.
pub fn activity(row: ActivityRow) -> Activity {
    Activity {
        name: names::name(ACTIVITIES, &row.id),
        title: row.title,
        organiser_kind: row.organiser_kind,
        organiser: row.organiser,
        province: row.province,
        field: row.field,
        subject_category: row.subject_category,
        delivery_mode: row.delivery_mode,
        start_date: dates::text_to_proto(&row.start_date),
        end_date: dates::text_to_proto(&row.end_date),
        hours_per_day: row.hours_per_day,
        fee_fen: row.fee_fen,
        create_time: Some(timestamp(row.create_micros)),
        update_time: Some(timestamp(row.update_micros)),
    }
}

impl ActivityRow {
    /// Who organises the activity, as the stored number reads.
    pub fn organiser_kind(&self) -> ce_proto::registry::OrganiserKind {
        ce_proto::registry::OrganiserKind::try_from(self.organiser_kind).unwrap_or_default()
    }
}
