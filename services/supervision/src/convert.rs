//! Supervision's conversions, in one place: stored rows to the protos they
//! hold, the rows' typed states, and the protos' enums to ce-rules' and
//! back.

use ce_db::audit::AuditEntry;
use ce_proto::registry::Standing as ProtoStanding;
use ce_proto::supervision::{
    AuditEntry as PAuditEntry, DecisionKind, Inspection, InspectionState, Notification, Referral,
    Violation, ViolationCategory, ViolationState,
};
use ce_rules::sanction::{CaseState, Category, Decision, Named, Party};
use ce_rules::standing::Standing;
use ce_server::{ApiError, dates};
use prost::Message;

use crate::store::{self, InspectionRow, NotificationRow, ReferralRow, ViolationRow};

impl ViolationRow {
    /// Its state; one not known reads as unspecified.
    pub fn state(&self) -> ViolationState {
        ViolationState::try_from(self.state).unwrap_or(ViolationState::Unspecified)
    }

    /// Its category; one not known reads as unspecified.
    pub fn category(&self) -> ViolationCategory {
        ViolationCategory::try_from(self.category).unwrap_or(ViolationCategory::Unspecified)
    }

    /// The party it is about.
    pub fn party(&self) -> Party {
        if self.engineer_id.is_some() {
            Party::Engineer
        } else if self.employer_id.is_some() {
            Party::Employer
        } else {
            Party::Institution
        }
    }

    /// Every field of its subject.
    pub fn subject_fields(&self) -> Vec<i32> {
        store::decode_fields(&self.fields)
    }
}

impl InspectionRow {
    /// Its state; one not known reads as unspecified.
    pub fn state(&self) -> InspectionState {
        InspectionState::try_from(self.state).unwrap_or(InspectionState::Unspecified)
    }
}

impl ReferralRow {
    pub fn is_resolved(&self) -> bool {
        self.resolved != 0
    }
}

pub fn violation(row: &ViolationRow) -> Result<Violation, ApiError> {
    Violation::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("violation {} does not decode: {e}", row.id)))
}

pub fn inspection(row: &InspectionRow) -> Result<Inspection, ApiError> {
    Inspection::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("inspection {} does not decode: {e}", row.id)))
}

pub fn notification(row: &NotificationRow) -> Result<Notification, ApiError> {
    Notification::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("notification {} does not decode: {e}", row.id)))
}

pub fn referral(row: &ReferralRow) -> Result<Referral, ApiError> {
    Referral::decode(row.body.as_slice())
        .map_err(|e| ApiError::Internal(format!("referral {} does not decode: {e}", row.id)))
}

pub fn audit_entry(a: AuditEntry) -> PAuditEntry {
    PAuditEntry {
        time: Some(dates::timestamp(a.at_micros)),
        actor: a.actor,
        role: a.role,
        rpc: a.rpc,
        outcome: a.outcome,
        request_id: a.request_id,
    }
}

/// A category as ce-rules knows it; none when not given.
pub fn category(c: ViolationCategory) -> Option<Category> {
    Some(match c {
        ViolationCategory::Unspecified => return None,
        ViolationCategory::ImproperHours => Category::ImproperHours,
        ViolationCategory::RefusedInspection => Category::RefusedInspection,
        ViolationCategory::Obligations => Category::Obligations,
        ViolationCategory::PoorQuality => Category::PoorQuality,
        ViolationCategory::FraudulentRecruitment => Category::FraudulentRecruitment,
        ViolationCategory::ImproperFees => Category::ImproperFees,
        ViolationCategory::UnrelatedActivities => Category::UnrelatedActivities,
        ViolationCategory::PerfunctoryAssessment => Category::PerfunctoryAssessment,
        ViolationCategory::Other => Category::Other,
    })
}

/// A decision's kind as ce-rules knows it; none when not given.
pub fn decision(k: DecisionKind) -> Option<Decision> {
    Some(match k {
        DecisionKind::Unspecified => return None,
        DecisionKind::Warning => Decision::Warning,
        DecisionKind::RectificationOrder => Decision::RectificationOrder,
        DecisionKind::Suspension => Decision::Suspension,
        DecisionKind::Disqualification => Decision::Disqualification,
        DecisionKind::Revocation => Decision::Revocation,
    })
}

/// A standing as the registry's API has it.
pub fn standing(s: Standing) -> ProtoStanding {
    match s {
        Standing::Active => ProtoStanding::Active,
        Standing::Warned => ProtoStanding::Warned,
        Standing::RectificationOrdered => ProtoStanding::RectificationOrdered,
        Standing::Suspended => ProtoStanding::Suspended,
        Standing::Disqualified => ProtoStanding::Disqualified,
    }
}

/// Where a case stands, as ce-rules knows it: any state but open or
/// withdrawn is a decided case's.
pub fn case_state(s: ViolationState) -> CaseState {
    match s {
        ViolationState::Open => CaseState::Open,
        ViolationState::Withdrawn => CaseState::Withdrawn,
        ViolationState::Decided => CaseState::Decided,
        _ => CaseState::Closed,
    }
}

/// Whom a violation being recorded names.
pub fn named(v: &Violation) -> Named {
    Named {
        institution: !v.institution.is_empty(),
        engineer: !v.engineer.is_empty(),
        employer: !v.employer.is_empty(),
    }
}

/// A protobuf timestamp's seconds and nanoseconds in microseconds.
pub fn micros(seconds: i64, nanos: i32) -> i64 {
    seconds * 1_000_000 + i64::from(nanos) / 1000
}

/// The first microsecond of a day in China time.
pub fn china_midnight(d: time::Date) -> i64 {
    let t = ce_rules::dates::midnight(d);
    (t.unix_timestamp_nanos() / 1000) as i64
}
