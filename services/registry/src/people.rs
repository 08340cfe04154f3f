//! Which roles of people may call each of the registry's RPCs at all,
//! checked before a request is read (`docs/architecture.md`, "Who may call
//! what"). Whether the resource is in the caller's scope is `scope.rs`'s.

use ce_proto::common::Role::{
    Employer, Engineer, IndustryRegulator, Institution, Ministry, ProvincialHrss,
};
use ce_server::permit::{Admits, DEPARTMENTS, EVERYONE, People, admits};

const ENGINEER_READERS: &[ce_proto::common::Role] = &[
    Ministry,
    ProvincialHrss,
    IndustryRegulator,
    Employer,
    Engineer,
];

const ROWS: &[Admits] = &[
    admits(
        "GetEngineer",
        ENGINEER_READERS,
        "departments, the engineer's employer and the engineer read an engineer",
    ),
    admits(
        "ListEngineers",
        ENGINEER_READERS,
        "departments, employers and engineers list engineers",
    ),
    admits(
        "BatchGetEngineers",
        ENGINEER_READERS,
        "departments, the engineer's employer and the engineer read an engineer",
    ),
    admits(
        "CreateEngineer",
        &[Ministry, ProvincialHrss, Employer],
        "HRSS departments and employers register engineers",
    ),
    admits(
        "UpdateEngineer",
        &[Ministry, ProvincialHrss, Employer],
        "HRSS departments and the engineer's employer change an engineer",
    ),
    admits(
        "ListEngineerChanges",
        &[Ministry],
        "the ministry reads moves across provinces",
    ),
    admits(
        "GetEmployer",
        &[Ministry, ProvincialHrss, IndustryRegulator, Employer],
        "departments and the employer itself read an employer",
    ),
    admits(
        "ListEmployers",
        &[Ministry, ProvincialHrss, IndustryRegulator, Employer],
        "departments and employers list employers",
    ),
    admits(
        "CreateEmployer",
        &[Ministry, ProvincialHrss],
        "HRSS departments register employers",
    ),
    admits(
        "UpdateEmployer",
        &[Ministry, ProvincialHrss, Employer],
        "HRSS departments and the employer itself change an employer",
    ),
    admits("GetInstitution", EVERYONE, "everyone"),
    admits("ListInstitutions", EVERYONE, "everyone"),
    admits(
        "CreateInstitution",
        &[Ministry, ProvincialHrss],
        "HRSS departments register institutions",
    ),
    admits(
        "UpdateInstitution",
        &[Ministry, ProvincialHrss, Institution],
        "HRSS departments and the institution itself change an institution",
    ),
    admits(
        "ChangeInstitutionStanding",
        DEPARTMENTS,
        "departments change an institution's standing",
    ),
    admits("ListStandingChanges", EVERYONE, "everyone"),
    admits(
        "RecordQualityGrade",
        &[Ministry],
        "quality grades are recorded by the quality-monitoring service, or the ministry",
    ),
    admits("GetActivity", EVERYONE, "everyone"),
    admits("BatchGetActivities", EVERYONE, "everyone"),
    admits("ListActivities", EVERYONE, "everyone"),
    admits(
        "CreateActivity",
        &[Ministry, ProvincialHrss, IndustryRegulator, Institution],
        "institutions and departments publish activities",
    ),
    admits(
        "UpdateActivity",
        &[Ministry, ProvincialHrss, IndustryRegulator, Institution],
        "an activity's organiser, or the ministry, changes it",
    ),
    admits("ListFields", EVERYONE, "everyone"),
    admits("ListProvinces", EVERYONE, "everyone"),
];

/// The registry's table.
pub const PEOPLE: People = People {
    grpc_services: crate::GRPC_SERVICES,
    rows: ROWS,
};
