//! The access matrix: who may call what, declared once, checked by calling
//! every RPC as every kind of caller.
//!
//! The tables below are the documentation. Each row names an RPC and the
//! callers it admits, relative to the resource the call is about: a
//! resource of province 44, field construction, institution I, employer E,
//! engineer N. Every caller the row does not name must be refused (or, for
//! a list or batch, must not see the resource). A table that misses an RPC
//! of its service fails the test, so a new RPC cannot go unchecked.
//!
//! Every mutation, allowed or refused, must leave an audit row with the
//! call's request id and its outcome.
//!
//! This part covers the registry and quality monitoring; crediting and
//! supervision follow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::quality::quality_service_client::QualityServiceClient;
use ce_proto::quality::{
    ClosePeriodRequest, Evaluation, GetOutboxStatusRequest, GetScoreDistributionRequest,
    GetScoreRequest, GetScoringModelRequest, Indicator, ListGradeChangesRequest,
    ListScoreHistoryRequest, ListScoresRequest, RecordIndicatorRequest, RefreshIndicatorsRequest,
    SubmitEvaluationsRequest, WatchScoresRequest,
};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{self as reg, *};
use ce_server::auth::TokenRequest;
use ce_tests::{Backend, QualityEnv, RegistryEnv, both_backends, credit_code, resident_id};
use tonic::Code;
use tonic::transport::Channel;

/// Who calls, relative to the resource the call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Ministry,
    /// Provincial HRSS of the resource's province (44).
    Province,
    /// Provincial HRSS of another province (11).
    OtherProvince,
    /// Industry regulator of the resource's field, in its province.
    Regulator,
    /// Industry regulator of another field, in the same province.
    OtherFieldRegulator,
    /// The institution the resource is, or belongs to.
    Institution,
    OtherInstitution,
    /// The employer the resource is, or works for.
    Employer,
    OtherEmployer,
    /// The engineer the resource is about.
    Engineer,
    OtherEngineer,
    /// Another service of the suite.
    Service,
    /// No token at all.
    Nobody,
}

use Who::*;

const ALL: &[Who] = &[
    Ministry,
    Province,
    OtherProvince,
    Regulator,
    OtherFieldRegulator,
    Institution,
    OtherInstitution,
    Employer,
    OtherEmployer,
    Engineer,
    OtherEngineer,
    Service,
    Nobody,
];

/// Every signed-in caller.
const SIGNED_IN: &[Who] = &[
    Ministry,
    Province,
    OtherProvince,
    Regulator,
    OtherFieldRegulator,
    Institution,
    OtherInstitution,
    Employer,
    OtherEmployer,
    Engineer,
    OtherEngineer,
    Service,
];

struct Row {
    rpc: &'static str,
    mutation: bool,
    allowed: &'static [Who],
}

const fn read(rpc: &'static str, allowed: &'static [Who]) -> Row {
    Row {
        rpc,
        mutation: false,
        allowed,
    }
}

const fn write(rpc: &'static str, allowed: &'static [Who]) -> Row {
    Row {
        rpc,
        mutation: true,
        allowed,
    }
}

/// The registry (PRODUCT.md "Roles and scope"; `services/registry/src/scope.rs`).
const REGISTRY: &[Row] = &[
    // Engineers: their province, their field's regulator, their employer, themselves.
    read(
        "GetEngineer",
        &[Ministry, Service, Province, Regulator, Employer, Engineer],
    ),
    read(
        "ListEngineers",
        &[Ministry, Service, Province, Regulator, Employer, Engineer],
    ),
    read(
        "BatchGetEngineers",
        &[Ministry, Service, Province, Regulator, Employer, Engineer],
    ),
    write("CreateEngineer", &[Ministry, Province, Employer]),
    write("UpdateEngineer", &[Ministry, Province, Employer]),
    // Employers: their province, regulators there, themselves.
    read(
        "GetEmployer",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            OtherFieldRegulator,
            Employer,
        ],
    ),
    read(
        "ListEmployers",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            OtherFieldRegulator,
            Employer,
        ],
    ),
    write("CreateEmployer", &[Ministry, Province]),
    write("UpdateEmployer", &[Ministry, Province, Employer]),
    // Institutions: public (Art. 15); changed by their province and themselves.
    read("GetInstitution", SIGNED_IN),
    read("ListInstitutions", SIGNED_IN),
    write("CreateInstitution", &[Ministry, Province]),
    write("UpdateInstitution", &[Ministry, Province, Institution]),
    // Standing (Art. 16, 26): the province, a regulator of a field it
    // serves, and the supervision service.
    write(
        "ChangeInstitutionStanding",
        &[Ministry, Service, Province, Regulator],
    ),
    read("ListStandingChanges", SIGNED_IN),
    // Quality grades come from the quality-monitoring service (Art. 25);
    // the ministry may record one by hand.
    write("RecordQualityGrade", &[Ministry, Service]),
    // Activities: public; published by institutions and departments in
    // their scope, changed by their organiser.
    read("GetActivity", SIGNED_IN),
    read("ListActivities", SIGNED_IN),
    write(
        "CreateActivity",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    write("UpdateActivity", &[Ministry, Institution]),
    // Reference data.
    read("ListFields", SIGNED_IN),
    read("ListProvinces", SIGNED_IN),
];

/// The resources the calls are about.
struct World {
    employer: String,
    other_employer: String,
    institution: String,
    other_institution: String,
    engineer: String,
    other_engineer: String,
    activity: String,
}

fn date(year: i32, month: i32, day: i32) -> Option<ce_proto::google::r#type::Date> {
    Some(ce_proto::google::r#type::Date { year, month, day })
}

async fn world(env: &RegistryEnv) -> World {
    let p = env.province("44");
    let employer = |name: &'static str| {
        let mut p = p.clone();
        async move {
            p.create_employer(CreateEmployerRequest {
                employer: Some(reg::Employer {
                    credit_code: credit_code("44"),
                    display_name: name.into(),
                    kind: EmployerKind::Enterprise as i32,
                    province: "44".into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        }
    };
    let (employer, other_employer) = (
        employer("Pearl River Build").await,
        employer("Other Co").await,
    );
    let institution = |name: &'static str| {
        let mut p = p.clone();
        async move {
            p.create_institution(CreateInstitutionRequest {
                institution: Some(reg::Institution {
                    code: credit_code("44"),
                    display_name: name.into(),
                    province: "44".into(),
                    fields: vec![Field::Construction as i32],
                    delivery_modes: vec![DeliveryMode::FaceToFace as i32],
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .name
        }
    };
    let (institution, other_institution) = (
        institution("Build Academy").await,
        institution("Other Academy").await,
    );
    let engineer = |employer: String| {
        let mut p = p.clone();
        async move {
            p.create_engineer(new_engineer(&employer))
                .await
                .unwrap()
                .into_inner()
                .name
        }
    };
    let (engineer, other_engineer) = (
        engineer(employer.clone()).await,
        engineer(other_employer.clone()).await,
    );
    let activity = env
        .institution(&institution)
        .create_activity(new_activity())
        .await
        .unwrap()
        .into_inner()
        .name;
    World {
        employer,
        other_employer,
        institution,
        other_institution,
        engineer,
        other_engineer,
        activity,
    }
}

fn new_engineer(employer: &str) -> CreateEngineerRequest {
    CreateEngineerRequest {
        engineer: Some(reg::Engineer {
            id_number: resident_id("44"),
            display_name: "林工".into(),
            province: "44".into(),
            field: Field::Construction as i32,
            title_level: TitleLevel::Engineer as i32,
            employer: employer.into(),
            ..Default::default()
        }),
    }
}

fn new_activity() -> CreateActivityRequest {
    CreateActivityRequest {
        activity: Some(reg::Activity {
            title: "Bridge inspection".into(),
            province: "44".into(),
            field: Field::Construction as i32,
            subject_category: SubjectCategory::Professional as i32,
            delivery_mode: DeliveryMode::FaceToFace as i32,
            start_date: date(2026, 3, 2),
            end_date: date(2026, 3, 4),
            hours_per_day: 8.0,
            ..Default::default()
        }),
    }
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// The token of a kind of caller, or none.
fn token_of(env: &RegistryEnv, w: &World, who: Who) -> Option<String> {
    let t = |role: Role, subject: &str| ce_tests::token(role, subject);
    let req = match who {
        Ministry => t(Role::Ministry, "ministry-clerk"),
        Province => TokenRequest {
            province: Some("44".into()),
            ..t(Role::ProvincialHrss, "hrss-44")
        },
        OtherProvince => TokenRequest {
            province: Some("11".into()),
            ..t(Role::ProvincialHrss, "hrss-11")
        },
        Regulator => TokenRequest {
            field: Some(Field::Construction),
            province: Some("44".into()),
            ..t(Role::IndustryRegulator, "mohurd-44")
        },
        OtherFieldRegulator => TokenRequest {
            field: Some(Field::Agriculture),
            province: Some("44".into()),
            ..t(Role::IndustryRegulator, "moa-44")
        },
        Institution => TokenRequest {
            org: Some(w.institution.clone()),
            ..t(Role::Institution, "institution-clerk")
        },
        OtherInstitution => TokenRequest {
            org: Some(w.other_institution.clone()),
            ..t(Role::Institution, "other-institution-clerk")
        },
        Employer => TokenRequest {
            org: Some(w.employer.clone()),
            ..t(Role::Employer, "employer-clerk")
        },
        OtherEmployer => TokenRequest {
            org: Some(w.other_employer.clone()),
            ..t(Role::Employer, "other-employer-clerk")
        },
        Engineer => t(Role::Engineer, &w.engineer),
        OtherEngineer => t(Role::Engineer, &w.other_engineer),
        Service => t(Role::Service, "supervision"),
        Nobody => return None,
    };
    Some(env.place.token(req))
}

static REQUEST: AtomicU64 = AtomicU64::new(0);

fn request<T>(message: T, token: &Option<String>, id: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    if let Some(t) = token {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    r.metadata_mut().insert("x-request-id", id.parse().unwrap());
    r
}

/// What a call came to: allowed (and, for lists and batches, the resource
/// was in the answer), or refused with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Refused(Code),
    /// Answered, but without the resource: the list was narrowed.
    NotShown,
}

fn outcome<T>(
    r: Result<tonic::Response<T>, tonic::Status>,
    shown: impl FnOnce(&T) -> bool,
) -> Outcome {
    match r {
        Ok(resp) if shown(resp.get_ref()) => Outcome::Allowed,
        Ok(_) => Outcome::NotShown,
        Err(s) => {
            assert!(
                matches!(
                    s.code(),
                    Code::PermissionDenied | Code::NotFound | Code::Unauthenticated
                ),
                "a refusal must be about access, got {:?}: {} (the request itself is wrong)",
                s.code(),
                s.message()
            );
            Outcome::Refused(s.code())
        }
    }
}

async fn call_registry(
    rpc: &str,
    c: &mut RegistryServiceClient<Channel>,
    w: &World,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    match rpc {
        "GetEngineer" => outcome(
            c.get_engineer(request(
                GetEngineerRequest {
                    name: w.engineer.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListEngineers" => outcome(
            c.list_engineers(request(
                ListEngineersRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.engineers.iter().any(|e| e.name == w.engineer),
        ),
        "BatchGetEngineers" => outcome(
            c.batch_get_engineers(request(
                BatchGetEngineersRequest {
                    names: vec![w.engineer.clone()],
                },
                token,
                id,
            ))
            .await,
            |r| r.engineers.iter().any(|e| e.name == w.engineer),
        ),
        "CreateEngineer" => outcome(
            c.create_engineer(request(new_engineer(&w.employer), token, id))
                .await,
            |_| true,
        ),
        "UpdateEngineer" => outcome(
            c.update_engineer(request(
                UpdateEngineerRequest {
                    engineer: Some(reg::Engineer {
                        name: w.engineer.clone(),
                        display_name: format!("林工 {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetEmployer" => outcome(
            c.get_employer(request(
                GetEmployerRequest {
                    name: w.employer.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListEmployers" => outcome(
            c.list_employers(request(
                ListEmployersRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.employers.iter().any(|e| e.name == w.employer),
        ),
        "CreateEmployer" => outcome(
            c.create_employer(request(
                CreateEmployerRequest {
                    employer: Some(reg::Employer {
                        credit_code: credit_code("44"),
                        display_name: format!("New Co {n}"),
                        kind: EmployerKind::Enterprise as i32,
                        province: "44".into(),
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "UpdateEmployer" => outcome(
            c.update_employer(request(
                UpdateEmployerRequest {
                    employer: Some(reg::Employer {
                        name: w.employer.clone(),
                        display_name: format!("Pearl River Build {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetInstitution" => outcome(
            c.get_institution(request(
                GetInstitutionRequest {
                    name: w.institution.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListInstitutions" => outcome(
            c.list_institutions(request(
                ListInstitutionsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.institutions.iter().any(|i| i.name == w.institution),
        ),
        "CreateInstitution" => outcome(
            c.create_institution(request(
                CreateInstitutionRequest {
                    institution: Some(reg::Institution {
                        code: credit_code("44"),
                        display_name: format!("New Academy {n}"),
                        province: "44".into(),
                        fields: vec![Field::Construction as i32],
                        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "UpdateInstitution" => outcome(
            c.update_institution(request(
                UpdateInstitutionRequest {
                    institution: Some(reg::Institution {
                        name: w.institution.clone(),
                        display_name: format!("Build Academy {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ChangeInstitutionStanding" => outcome(
            c.change_institution_standing(request(
                ChangeInstitutionStandingRequest {
                    name: w.institution.clone(),
                    standing: Standing::Warned as i32,
                    reason: "Late disclosure (Art. 15)".into(),
                    effective_date: date(2026, 11, 2),
                    article: "Art. 26".into(),
                    case_reference: format!("case-{n}"),
                    request_id: format!("access-{n}"),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListStandingChanges" => outcome(
            c.list_standing_changes(request(
                ListStandingChangesRequest {
                    parent: w.institution.clone(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RecordQualityGrade" => outcome(
            c.record_quality_grade(request(
                RecordQualityGradeRequest {
                    name: w.institution.clone(),
                    period: "2026".into(),
                    // A new grade each time: re-recording the same grade is
                    // an idempotent retry, which changes (and audits) nothing.
                    grade: ["A", "B", "C", "D"][(n % 4) as usize].into(),
                    model_version: "national-2026.1".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetActivity" => outcome(
            c.get_activity(request(
                GetActivityRequest {
                    name: w.activity.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListActivities" => outcome(
            c.list_activities(request(
                ListActivitiesRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.activities.iter().any(|a| a.name == w.activity),
        ),
        "CreateActivity" => outcome(
            c.create_activity(request(new_activity(), token, id)).await,
            |_| true,
        ),
        "UpdateActivity" => outcome(
            c.update_activity(request(
                UpdateActivityRequest {
                    activity: Some(reg::Activity {
                        name: w.activity.clone(),
                        title: format!("Bridge inspection {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["title"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListFields" => outcome(
            c.list_fields(request(ListFieldsRequest {}, token, id))
                .await,
            |_| true,
        ),
        "ListProvinces" => outcome(
            c.list_provinces(request(ListProvincesRequest {}, token, id))
                .await,
            |_| true,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

/// The methods a service declares, from the suite's descriptors.
fn methods_of(service: &str) -> Vec<String> {
    let pool = prost_reflect::DescriptorPool::decode(ce_proto::FILE_DESCRIPTOR_SET).unwrap();
    pool.get_service_by_name(service)
        .unwrap()
        .methods()
        .map(|m| m.name().to_owned())
        .collect()
}

fn check_table_covers(table: &[Row], service: &str) {
    let mut declared: Vec<&str> = table.iter().map(|r| r.rpc).collect();
    declared.sort_unstable();
    let mut methods = methods_of(service);
    methods.sort_unstable();
    assert_eq!(
        declared,
        methods.iter().map(String::as_str).collect::<Vec<_>>(),
        "the access table of {service} must have exactly one row per RPC"
    );
}

async fn the_registry_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(REGISTRY, "ce.registry.v1.RegistryService");
    let env = RegistryEnv::start(b).await;
    let w = world(&env).await;
    let mut client = RegistryServiceClient::new(env.channel.clone());
    let mut wrong = Vec::new();
    let mut unaudited = Vec::new();
    let mut seen: BTreeMap<(&str, Who), Outcome> = BTreeMap::new();
    for row in REGISTRY {
        for &who in ALL {
            let token = token_of(&env, &w, who);
            let id = format!(
                "access-{}-{who:?}-{}",
                row.rpc,
                REQUEST.fetch_add(1, Ordering::Relaxed)
            );
            let got = call_registry(row.rpc, &mut client, &w, &token, &id).await;
            seen.insert((row.rpc, who), got);
            let allowed = row.allowed.contains(&who);
            if allowed != (got == Outcome::Allowed) {
                wrong.push(format!(
                    "{} as {who:?}: the table says {}, the service {got:?}",
                    row.rpc,
                    if allowed { "allowed" } else { "refused" }
                ));
            }
            // Every mutation by a signed-in caller, allowed or refused, is audited.
            if row.mutation && who != Nobody {
                check_audit(
                    &env.place,
                    "registry",
                    registry::migrations(),
                    row.rpc,
                    who,
                    got,
                    &id,
                    &mut unaudited,
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the registry differs from its table:\n  {}",
        wrong.join("\n  ")
    );
    assert!(
        unaudited.is_empty(),
        "mutations not audited as they came out:\n  {}",
        unaudited.join("\n  ")
    );
    let allowed = seen.values().filter(|o| **o == Outcome::Allowed).count();
    println!("registry: {} calls, {allowed} allowed", seen.len());
}

both_backends!(the_registry_admits_exactly_whom_its_table_names);

/// Checks that the call `id` left an audit row with its outcome.
#[allow(clippy::too_many_arguments)]
fn check_audit(
    place: &ce_tests::Place,
    service: &str,
    migrations: ce_db::Migrations,
    rpc: &str,
    who: Who,
    got: Outcome,
    id: &str,
    unaudited: &mut Vec<String>,
) {
    let db = ce_db::Db::connect(&place.config(service).database.url, 1, migrations).unwrap();
    let mut conn = db.connection().unwrap();
    let rows = ce_db::audit::recent(&mut conn, 50).unwrap();
    let entry = rows.iter().find(|e| e.request_id == id);
    let expected = match got {
        Outcome::Allowed => "OK",
        Outcome::Refused(Code::NotFound) => "NOT_FOUND",
        _ => "PERMISSION_DENIED",
    };
    if entry.is_none_or(|e| e.outcome != expected) {
        unaudited.push(format!("{rpc} as {who:?} ({got:?}): audit row {entry:?}"));
    }
}

/// Quality monitoring (Art. 25; `services/quality/src/scores.rs`).
const QUALITY: &[Row] = &[
    // Learners evaluate in their own name; an institution uploads its learners'.
    write("SubmitEvaluations", &[Institution, Engineer, OtherEngineer]),
    // Departments within their scope; an institution its self-measured indicators.
    write(
        "RecordIndicator",
        &[Ministry, Service, Province, Regulator, Institution],
    ),
    write("RefreshIndicators", &[Ministry, Service, Province]),
    write("ClosePeriod", &[Ministry, Service, Province]),
    read("GetOutboxStatus", &[Ministry, Service]),
    // A score: departments in scope and the institution with its
    // breakdown; other institutions see the grade without the breakdown,
    // as in the rankings.
    read(
        "GetScore",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            Institution,
            OtherInstitution,
        ],
    ),
    // The history with its breakdowns: departments in scope, the institution.
    read(
        "ListScoreHistory",
        &[Ministry, Service, Province, Regulator, Institution],
    ),
    // Rankings and dashboards: departments in scope, and institutions.
    read(
        "ListScores",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            Institution,
            OtherInstitution,
        ],
    ),
    read(
        "GetScoreDistribution",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    read(
        "ListGradeChanges",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    read(
        "WatchScores",
        &[
            Ministry,
            Service,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    // The model is public: anyone signed in may see why grades are what they are.
    read("GetScoringModel", SIGNED_IN),
];

async fn call_quality(
    rpc: &str,
    c: &mut QualityServiceClient<Channel>,
    w: &World,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    let score = format!("{}/scores/2026", w.institution);
    match rpc {
        "SubmitEvaluations" => outcome(
            c.submit_evaluations(request(
                SubmitEvaluationsRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                    evaluations: vec![Evaluation {
                        learner: String::new(),
                        score: 4,
                        ..Default::default()
                    }],
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RecordIndicator" => outcome(
            c.record_indicator(request(
                RecordIndicatorRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                    indicator: Indicator::PassRate as i32,
                    value: 0.8 + (n % 10) as f64 / 100.0,
                    samples: 100,
                    source: "assessment records 2026".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RefreshIndicators" => outcome(
            c.refresh_indicators(request(
                RefreshIndicatorsRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ClosePeriod" => outcome(
            c.close_period(request(
                ClosePeriodRequest {
                    period: "2026".into(),
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetOutboxStatus" => outcome(
            c.get_outbox_status(request(GetOutboxStatusRequest {}, token, id))
                .await,
            |_| true,
        ),
        "GetScore" => outcome(
            c.get_score(request(GetScoreRequest { name: score }, token, id))
                .await,
            |_| true,
        ),
        "ListScoreHistory" => outcome(
            c.list_score_history(request(
                ListScoreHistoryRequest {
                    institution: w.institution.clone(),
                },
                token,
                id,
            ))
            .await,
            |r| !r.scores.is_empty(),
        ),
        "ListScores" => outcome(
            c.list_scores(request(
                ListScoresRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.scores.iter().any(|s| s.institution == w.institution),
        ),
        "GetScoreDistribution" => outcome(
            c.get_score_distribution(request(
                GetScoreDistributionRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListGradeChanges" => outcome(
            c.list_grade_changes(request(
                ListGradeChangesRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "WatchScores" => outcome(
            c.watch_scores(request(
                WatchScoresRequest {
                    period: "2026".into(),
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetScoringModel" => outcome(
            c.get_scoring_model(request(
                GetScoringModelRequest {
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn quality_monitoring_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(QUALITY, "ce.quality.v1.QualityService");
    let env = QualityEnv::start(b).await;
    let w = world(&env.registry).await;
    // A score of the institution for 2026: thirty evaluations it uploads.
    let own = env.registry.place.token(TokenRequest {
        org: Some(w.institution.clone()),
        ..ce_tests::token(Role::Institution, "institution-clerk")
    });
    QualityServiceClient::new(env.channel.clone())
        .submit_evaluations(request(
            SubmitEvaluationsRequest {
                institution: w.institution.clone(),
                period: "2026".into(),
                evaluations: (0..30)
                    .map(|i| Evaluation {
                        learner: format!("engineers/learner-{i}"),
                        score: 4,
                        ..Default::default()
                    })
                    .collect(),
            },
            &Some(own),
            "access-seed",
        ))
        .await
        .unwrap();
    let mut client = QualityServiceClient::new(env.channel.clone());
    let mut wrong = Vec::new();
    let mut unaudited = Vec::new();
    for row in QUALITY {
        for &who in ALL {
            let token = token_of(&env.registry, &w, who);
            let id = format!(
                "access-{}-{who:?}-{}",
                row.rpc,
                REQUEST.fetch_add(1, Ordering::Relaxed)
            );
            let got = call_quality(row.rpc, &mut client, &w, &token, &id).await;
            let allowed = row.allowed.contains(&who);
            if allowed != (got == Outcome::Allowed) {
                wrong.push(format!(
                    "{} as {who:?}: the table says {}, the service {got:?}",
                    row.rpc,
                    if allowed { "allowed" } else { "refused" }
                ));
            }
            if row.mutation && who != Nobody {
                check_audit(
                    &env.registry.place,
                    "quality",
                    quality::migrations(),
                    row.rpc,
                    who,
                    got,
                    &id,
                    &mut unaudited,
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "quality monitoring differs from its table:\n  {}",
        wrong.join("\n  ")
    );
    assert!(
        unaudited.is_empty(),
        "mutations not audited as they came out:\n  {}",
        unaudited.join("\n  ")
    );
}

both_backends!(quality_monitoring_admits_exactly_whom_its_table_names);
