//! Which roles of people may call each of quality monitoring's RPCs at all,
//! checked before a request is read (`docs/architecture.md`, "Who may call
//! what"). Whether the institution or period is in the caller's scope is
//! `scope.rs`'s.

use ce_proto::common::Role::{
    self, Engineer, IndustryRegulator, Institution, Ministry, ProvincialHrss,
};
use ce_server::permit::{Admits, EVERYONE, People, admits};

/// Departments and institutions: who reads scores and rankings.
const READERS: &[Role] = &[Ministry, ProvincialHrss, IndustryRegulator, Institution];
const PROVINCES: &[Role] = &[Ministry, ProvincialHrss];

const ROWS: &[Admits] = &[
    admits(
        "SubmitEvaluations",
        &[Institution, Engineer],
        "learners evaluate in their own name, an institution uploads its learners'",
    ),
    admits(
        "RecordIndicator",
        READERS,
        "departments in scope, and an institution its self-measured indicators",
    ),
    admits(
        "RefreshIndicators",
        PROVINCES,
        "the ministry and provincial HRSS departments refresh indicators",
    ),
    admits(
        "ClosePeriod",
        PROVINCES,
        "the ministry and provincial HRSS departments close periods",
    ),
    admits(
        "ReopenPeriod",
        PROVINCES,
        "the ministry and provincial HRSS departments reopen periods",
    ),
    admits(
        "GetOutboxStatus",
        &[Ministry],
        "the ministry reads the outbox",
    ),
    admits(
        "GetScore",
        READERS,
        "departments in scope and institutions read scores",
    ),
    admits(
        "ListScores",
        READERS,
        "departments in scope and institutions read rankings",
    ),
    admits(
        "ListScoreHistory",
        READERS,
        "departments in scope and the institution read its history",
    ),
    admits(
        "GetScoreDistribution",
        READERS,
        "departments in scope and institutions read distributions",
    ),
    admits(
        "ListGradeChanges",
        READERS,
        "departments in scope and institutions read grade changes",
    ),
    admits(
        "WatchScores",
        READERS,
        "departments in scope and institutions watch scores",
    ),
    admits("GetScoringModel", EVERYONE, "everyone"),
];

/// Quality monitoring's table.
pub const PEOPLE: People = People {
    grpc_services: crate::GRPC_SERVICES,
    rows: ROWS,
};
