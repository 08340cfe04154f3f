//! Which roles of people may call each of supervision's RPCs at all,
//! checked before a request is read (`docs/architecture.md`, "Who may call
//! what"). Whether the case, inspection or referral is in the caller's
//! scope is `scope.rs`'s.

use ce_proto::common::Role::{
    self, Employer, Engineer, IndustryRegulator, Institution, Ministry, ProvincialHrss,
};
use ce_server::permit::{Admits, DEPARTMENTS, EVERYONE, People, admits};

/// Whom a violation may be about: they read and appeal their own.
const PARTIES: &[Role] = &[Institution, Engineer, Employer];
const PROVINCES: &[Role] = &[Ministry, ProvincialHrss];

const ROWS: &[Admits] = &[
    admits(
        "CreateViolation",
        DEPARTMENTS,
        "departments record violations",
    ),
    admits(
        "GetViolation",
        EVERYONE,
        "departments in scope, and whom the violation is about",
    ),
    admits(
        "ListViolations",
        EVERYONE,
        "departments in scope, and whom the violations are about",
    ),
    admits(
        "DecideViolation",
        DEPARTMENTS,
        "departments decide violations",
    ),
    admits(
        "CloseViolation",
        DEPARTMENTS,
        "departments close violations",
    ),
    admits(
        "AppealViolation",
        PARTIES,
        "only whom a violation is about appeals it",
    ),
    admits(
        "ListViolationAuditEntries",
        DEPARTMENTS,
        "departments read a violation's audit trail",
    ),
    admits(
        "ListNotifications",
        &[Ministry, ProvincialHrss, Employer],
        "HRSS departments and the employers notified read notifications",
    ),
    admits(
        "AcknowledgeNotification",
        &[Ministry, ProvincialHrss, IndustryRegulator, Employer],
        "whom a notification is addressed to acknowledges it",
    ),
    admits(
        "GetOutboxStatus",
        &[Ministry],
        "the ministry reads the outbox",
    ),
    admits(
        "ReportQualityResult",
        PROVINCES,
        "quality monitoring, or the institution's HRSS department, reports quality results",
    ),
    admits(
        "WithdrawQualityResult",
        PROVINCES,
        "quality monitoring, or the institution's HRSS department, withdraws quality results",
    ),
    admits(
        "CreateInspection",
        DEPARTMENTS,
        "departments plan inspections",
    ),
    admits(
        "GetInspection",
        EVERYONE,
        "departments in scope; everyone once published",
    ),
    admits(
        "ListInspections",
        EVERYONE,
        "departments in scope; everyone once published",
    ),
    admits(
        "CommitInspectionDraw",
        DEPARTMENTS,
        "departments draw inspections",
    ),
    admits(
        "DrawInspectionSample",
        DEPARTMENTS,
        "departments draw inspections",
    ),
    admits(
        "VerifyInspectionDraw",
        EVERYONE,
        "whoever may read the inspection",
    ),
    admits(
        "RecordInspectionFinding",
        DEPARTMENTS,
        "departments record findings",
    ),
    admits(
        "PublishInspection",
        DEPARTMENTS,
        "departments publish inspections",
    ),
    admits(
        "CreateReferral",
        PROVINCES,
        "only a department above the official's refers them",
    ),
    admits(
        "ResolveReferral",
        PROVINCES,
        "only a department above the official's resolves a referral",
    ),
    admits(
        "ListReferrals",
        PROVINCES,
        "the ministry and provincial HRSS departments read referrals",
    ),
    admits(
        "GetInstitutionRecord",
        &[Ministry, ProvincialHrss, IndustryRegulator, Institution],
        "departments covering the institution, and the institution itself",
    ),
];

/// Supervision's table.
pub const PEOPLE: People = People {
    grpc_services: crate::GRPC_SERVICES,
    rows: ROWS,
};
