//! Which roles of people may call each of crediting's RPCs at all, checked
//! before a request is read (`docs/architecture.md`, "Who may call what").
//! Whether the record or year is in the caller's scope is `scope.rs`'s, and
//! the rules that name who acts (Art. 20, 21, 27) are checked again there
//! with the resource.

use ce_proto::common::Role::{
    self, Employer, Engineer, IndustryRegulator, Institution, Ministry, ProvincialHrss,
};
use ce_rules::article::{ART_21, ART_27};
use ce_server::permit::{Admits, DEPARTMENTS, EVERYONE, People, admits};
use ce_server::reason::Reason;

/// Who registers hours: the activity's organiser (an institution or a
/// department) and the engineer for their own other forms.
const REGISTRANTS: &[Role] = &[
    Ministry,
    ProvincialHrss,
    IndustryRegulator,
    Institution,
    Engineer,
];
/// Who reads an engineer's year: departments, the employer, the engineer.
const YEAR_READERS: &[Role] = &[
    Ministry,
    ProvincialHrss,
    IndustryRegulator,
    Employer,
    Engineer,
];
/// Who confirms or rejects a record: the engineer's employer or the field's
/// regulator an institution's upload, the province a self-submission.
const DECIDERS: &[Role] = &[Ministry, ProvincialHrss, IndustryRegulator, Employer];
const PROVINCES: &[Role] = &[Ministry, ProvincialHrss];

const ROWS: &[Admits] = &[
    admits(
        "CreateHourRecord",
        REGISTRANTS,
        "hours are registered by the activity's organiser, or by the engineer for their own",
    )
    .under(ART_21),
    admits(
        "BulkUploadHourRecords",
        REGISTRANTS,
        "hours are registered by the activity's organiser, or by the engineer for their own",
    )
    .under(ART_21),
    admits(
        "CorrectHourRecord",
        REGISTRANTS,
        "only whoever registered a record corrects it",
    )
    .under(ART_21),
    admits("GetHourRecord", EVERYONE, "everyone, within their scope"),
    admits("ListHourRecords", EVERYONE, "everyone, within their scope"),
    admits(
        "ConfirmHourRecord",
        DECIDERS,
        "the engineer's employer or the field's regulator confirms an upload, the province a self-submission",
    )
    .under(ART_21),
    admits(
        "RejectHourRecord",
        DECIDERS,
        "the engineer's employer or the field's regulator rejects an upload, the province a self-submission",
    )
    .under(ART_21),
    admits(
        "CreateDeferral",
        &[Employer],
        "the engineer's employer certifies a deferral",
    )
    .by_rule(Reason::DeferralByOwnEmployer),
    admits(
        "DesignateMakeUp",
        &[Engineer],
        "the engineer designates their own make-up hours",
    )
    .by_rule(Reason::MakeUpByEngineer),
    admits(
        "RevokeHourRecords",
        DEPARTMENTS,
        "only HRSS departments, industry regulators and supervision revoke hours",
    )
    .under(ART_27),
    admits("CheckTitleEligibility", YEAR_READERS, "departments, the employer and the engineer read an engineer's years"),
    admits("GetAnnualStatus", YEAR_READERS, "departments, the employer and the engineer read an engineer's years"),
    admits("ListAnnualStatuses", YEAR_READERS, "departments, employers and engineers list years"),
    admits("GetComplianceStatistics", YEAR_READERS, "departments, employers and engineers read compliance in their scope"),
    admits("SweepAnnualStatuses", PROVINCES, "the ministry and provincial HRSS departments close years"),
    admits("ReassessAnnualStatuses", PROVINCES, "the ministry and provincial HRSS departments reassess years"),
    admits("ListChanges", PROVINCES, "the ministry and provincial HRSS departments read the change feed"),
    admits("WatchChanges", PROVINCES, "the ministry and provincial HRSS departments read the change feed"),
    admits("CreateHourCertificate", YEAR_READERS, "whoever reads the year may have it certified"),
    admits("GetHourCertificate", YEAR_READERS, "whoever reads the year reads its certificates"),
    admits("VerifyHourCertificate", EVERYONE, "everyone"),
];

/// Crediting's table.
pub const PEOPLE: People = People {
    grpc_services: crate::GRPC_SERVICES,
    rows: ROWS,
};
