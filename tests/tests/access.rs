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
//! Every service of the suite is covered: the registry, crediting,
//! supervision and quality monitoring.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::quality::quality_service_client::QualityServiceClient;
use ce_proto::quality::{
    ClosePeriodRequest, Evaluation, GetOutboxStatusRequest, GetScoreDistributionRequest,
    GetScoreRequest, GetScoringModelRequest, Indicator, ListGradeChangesRequest,
    ListScoreHistoryRequest, ListScoresRequest, RecordIndicatorRequest, RefreshIndicatorsRequest,
    ReopenPeriodRequest, SubmitEvaluationsRequest, WatchScoresRequest,
};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{self as reg, *};
use ce_server::auth::TokenRequest;
use ce_tests::{Backend, QualityEnv, RegistryEnv, both_backends};
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
    /// The other services of the suite, each signing with its own key
    /// (`sub` and key id `service/{name}`).
    ByRegistry,
    ByCrediting,
    BySupervision,
    ByQuality,
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
    ByRegistry,
    ByCrediting,
    BySupervision,
    ByQuality,
    Nobody,
];

/// Every signed-in person. Services are admitted only where a row names
/// them (`.by(…)`), as each service's `SERVICE_CALLERS` declares.
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
];

struct Row {
    rpc: &'static str,
    mutation: bool,
    allowed: &'static [Who],
    /// The services that may call it.
    services: &'static [Who],
}

impl Row {
    /// The row, admitting these services too.
    const fn by(mut self, services: &'static [Who]) -> Row {
        self.services = services;
        self
    }

    fn admits(&self, who: Who) -> bool {
        self.allowed.contains(&who) || self.services.contains(&who)
    }
}

const fn read(rpc: &'static str, allowed: &'static [Who]) -> Row {
    Row {
        rpc,
        mutation: false,
        allowed,
        services: &[],
    }
}

const fn write(rpc: &'static str, allowed: &'static [Who]) -> Row {
    Row {
        rpc,
        mutation: true,
        allowed,
        services: &[],
    }
}

/// The registry (`docs/product.md`, "Roles and scope"; `services/registry/src/scope.rs`).
const REGISTRY: &[Row] = &[
    // Engineers: their province, their field's regulator, their employer, themselves.
    read(
        "GetEngineer",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[BySupervision]),
    read(
        "ListEngineers",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[ByCrediting, BySupervision]),
    read(
        "BatchGetEngineers",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[ByCrediting]),
    write("CreateEngineer", &[Ministry, Province, Employer]),
    write("UpdateEngineer", &[Ministry, Province, Employer]),
    // Where engineers moved, across provinces: for crediting (Art. 22).
    read("ListEngineerChanges", &[Ministry]).by(&[ByCrediting]),
    // Employers: their province, regulators there, themselves.
    read(
        "GetEmployer",
        &[Ministry, Province, Regulator, OtherFieldRegulator, Employer],
    )
    .by(&[BySupervision]),
    read(
        "ListEmployers",
        &[Ministry, Province, Regulator, OtherFieldRegulator, Employer],
    )
    .by(&[BySupervision]),
    write("CreateEmployer", &[Ministry, Province]),
    write("UpdateEmployer", &[Ministry, Province, Employer]),
    // Institutions: public (Art. 15); changed by their province and themselves.
    read("GetInstitution", SIGNED_IN).by(&[BySupervision, ByQuality]),
    read("ListInstitutions", SIGNED_IN).by(&[BySupervision, ByQuality]),
    write("CreateInstitution", &[Ministry, Province]),
    write("UpdateInstitution", &[Ministry, Province, Institution]),
    // Standing (Art. 16, 26): the province, a regulator of a field it
    // serves, and the supervision service.
    write(
        "ChangeInstitutionStanding",
        &[Ministry, Province, Regulator],
    )
    .by(&[BySupervision]),
    read("ListStandingChanges", SIGNED_IN).by(&[ByCrediting]),
    // Quality grades come from the quality-monitoring service (Art. 25);
    // the ministry may record one by hand.
    write("RecordQualityGrade", &[Ministry]).by(&[ByQuality]),
    // Activities: public; published by institutions and departments in
    // their scope, changed by their organiser.
    read("GetActivity", SIGNED_IN).by(&[ByCrediting]),
    read("BatchGetActivities", SIGNED_IN).by(&[ByCrediting]),
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
#[derive(Clone)]
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
    use ce_tests::world::{create_employer, create_engineer, create_institution};
    let mut p = env.province("44");
    let employer = create_employer(&mut p, company("Pearl River Build")).await;
    let other_employer = create_employer(&mut p, company("Other Co")).await;
    let institution = create_institution(&mut p, academy("Build Academy")).await;
    let other_institution = create_institution(&mut p, academy("Other Academy")).await;
    let engineer = create_engineer(&mut p, lin(&employer)).await;
    let other_engineer = create_engineer(&mut p, lin(&other_employer)).await;
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

/// An enterprise of Guangdong called `name`.
fn company(name: &str) -> reg::Employer {
    reg::Employer {
        display_name: name.into(),
        ..ce_tests::world::employer("44")
    }
}

/// An institution of Guangdong called `name`, teaching construction face
/// to face.
fn academy(name: &str) -> reg::Institution {
    reg::Institution {
        display_name: name.into(),
        fields: vec![Field::Construction as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..ce_tests::world::institution("44")
    }
}

/// 林工, an engineer of construction in Guangdong, at `employer`.
fn lin(employer: &str) -> reg::Engineer {
    reg::Engineer {
        display_name: "林工".into(),
        field: Field::Construction as i32,
        ..ce_tests::world::engineer("44", employer)
    }
}

fn new_engineer(employer: &str) -> CreateEngineerRequest {
    CreateEngineerRequest {
        engineer: Some(lin(employer)),
    }
}

fn new_activity() -> CreateActivityRequest {
    CreateActivityRequest {
        activity: Some(reg::Activity {
            title: "Bridge inspection".into(),
            field: Field::Construction as i32,
            ..ce_tests::world::activity("44", date(2026, 3, 2), date(2026, 3, 4), 8.0)
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
        ByRegistry => t(Role::Service, "registry"),
        ByCrediting => t(Role::Service, "crediting"),
        BySupervision => t(Role::Service, "supervision"),
        ByQuality => t(Role::Service, "quality"),
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
    who: Who,
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
        "ListEngineerChanges" => outcome(
            c.list_engineer_changes(request(
                ListEngineerChangesRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
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
                    employer: Some(company(&format!("New Co {n}"))),
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
                    institution: Some(academy(&format!("New Academy {n}"))),
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
                    // A grade of its own for each caller: re-recording the
                    // grade in force is an idempotent retry, which changes
                    // (and audits) nothing.
                    grade: format!("{:?}", who).chars().take(8).collect(),
                    model_version: "national-2026.2".into(),
                    ..Default::default()
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
        "BatchGetActivities" => outcome(
            c.batch_get_activities(request(
                BatchGetActivitiesRequest {
                    names: vec![w.activity.clone()],
                },
                token,
                id,
            ))
            .await,
            |r| r.activities.iter().any(|a| a.name == w.activity),
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
    let mut found = Findings::new("registry", registry::migrations);
    for row in REGISTRY {
        for &who in ALL {
            let token = token_of(&env, &w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_registry(row.rpc, &mut client, &w, who, &token, &id).await;
            found.note(&env.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(the_registry_admits_exactly_whom_its_table_names);

/// What calling a service as every caller found: calls that differ from
/// its table, and mutations without their audit row.
struct Findings {
    service: &'static str,
    migrations: fn() -> ce_db::Migrations,
    wrong: Vec<String>,
    unaudited: Vec<String>,
    calls: usize,
    allowed: usize,
}

impl Findings {
    fn new(service: &'static str, migrations: fn() -> ce_db::Migrations) -> Findings {
        Findings {
            service,
            migrations,
            wrong: Vec::new(),
            unaudited: Vec::new(),
            calls: 0,
            allowed: 0,
        }
    }

    /// A fresh request id for a call of `rpc` as `who`.
    fn request_id(rpc: &str, who: Who) -> String {
        format!(
            "access-{rpc}-{who:?}-{}",
            REQUEST.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Compares the call `id` with the table, and for a mutation by a
    /// signed-in caller (allowed or refused), checks its audit row.
    fn note(&mut self, place: &ce_tests::Place, row: &Row, who: Who, got: Outcome, id: &str) {
        self.calls += 1;
        if got == Outcome::Allowed {
            self.allowed += 1;
        }
        let allowed = row.admits(who);
        if allowed != (got == Outcome::Allowed) {
            self.wrong.push(format!(
                "{} as {who:?}: the table says {}, the service {got:?}",
                row.rpc,
                if allowed { "allowed" } else { "refused" }
            ));
        }
        if !row.mutation || who == Nobody {
            return;
        }
        let db = ce_db::Db::connect(
            &place.config(self.service).database.url,
            1,
            (self.migrations)(),
        )
        .unwrap();
        let mut conn = db.connection().unwrap();
        let rows = ce_db::audit::recent(&mut conn, 50).unwrap();
        let entry = rows.iter().find(|e| e.request_id == id);
        let expected = match got {
            Outcome::Allowed => "OK",
            Outcome::Refused(Code::NotFound) => "NOT_FOUND",
            _ => "PERMISSION_DENIED",
        };
        if entry.is_none_or(|e| e.outcome != expected) {
            self.unaudited.push(format!(
                "{} as {who:?} ({got:?}): audit row {entry:?}",
                row.rpc
            ));
        }
    }

    fn assert_clean(&self) {
        assert!(
            self.wrong.is_empty(),
            "{} differs from its table:\n  {}",
            self.service,
            self.wrong.join("\n  ")
        );
        assert!(
            self.unaudited.is_empty(),
            "{}: mutations not audited as they came out:\n  {}",
            self.service,
            self.unaudited.join("\n  ")
        );
        println!(
            "{}: {} calls, {} allowed",
            self.service, self.calls, self.allowed
        );
    }
}

/// Quality monitoring (Art. 25; `services/quality/src/scores.rs`).
const QUALITY: &[Row] = &[
    // Learners evaluate in their own name; an institution uploads its learners'.
    write("SubmitEvaluations", &[Institution, Engineer, OtherEngineer]),
    // Departments within their scope; an institution its self-measured indicators.
    write(
        "RecordIndicator",
        &[Ministry, Province, Regulator, Institution],
    ),
    write("RefreshIndicators", &[Ministry, Province]),
    write("ClosePeriod", &[Ministry, Province]),
    write("ReopenPeriod", &[Ministry, Province]),
    read("GetOutboxStatus", &[Ministry]),
    // A score: departments in scope and the institution with its
    // breakdown; other institutions see the grade without the breakdown,
    // as in the rankings.
    read(
        "GetScore",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    // The history with its breakdowns: departments in scope, the institution.
    read(
        "ListScoreHistory",
        &[Ministry, Province, Regulator, Institution],
    ),
    // Rankings and dashboards: departments in scope, and institutions.
    read(
        "ListScores",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    read(
        "GetScoreDistribution",
        &[
            Ministry,
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
    who: Who,
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
                    // An engineer evaluates in their own name; an
                    // institution names its learner.
                    evaluations: vec![Evaluation {
                        learner: match who {
                            Engineer | OtherEngineer => String::new(),
                            _ => w.engineer.clone(),
                        },
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
        "ReopenPeriod" => outcome(
            c.reopen_period(request(
                ReopenPeriodRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    reason: "late evidence of attendance".into(),
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
                    ..Default::default()
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
    // A score of the institution for 2026: thirty evaluations it uploads,
    // of learners who attended its course (Art. 25), as both engineers did.
    let own = env.registry.place.token(TokenRequest {
        org: Some(w.institution.clone()),
        ..ce_tests::token(Role::Institution, "institution-clerk")
    });
    let mut p = env.registry.province("44");
    let mut learners = Vec::new();
    for _ in 0..30 {
        learners.push(
            p.create_engineer(new_engineer(&w.employer))
                .await
                .unwrap()
                .into_inner()
                .name,
        );
    }
    let mut crediting = env
        .crediting(TokenRequest {
            org: Some(w.institution.clone()),
            ..ce_tests::token(Role::Institution, "institution-clerk")
        })
        .await;
    for engineer in learners.iter().chain([&w.engineer, &w.other_engineer]) {
        crediting
            .create_hour_record(ce_proto::crediting::CreateHourRecordRequest {
                hour_record: Some(ce_proto::crediting::HourRecord {
                    engineer: engineer.clone(),
                    registry_activity: w.activity.clone(),
                    activity: Some(ce_proto::crediting::hour_record::Activity::FaceToFace(
                        ce_proto::crediting::FaceToFaceTraining {
                            subject_category: SubjectCategory::Professional as i32,
                            start_date: date(2026, 3, 2),
                            days: 3,
                            hours_per_day: 8.0,
                        },
                    )),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    QualityServiceClient::new(env.channel.clone())
        .submit_evaluations(request(
            SubmitEvaluationsRequest {
                institution: w.institution.clone(),
                period: "2026".into(),
                evaluations: learners
                    .iter()
                    .map(|l| Evaluation {
                        learner: l.clone(),
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
    let mut found = Findings::new("quality", quality::migrations);
    for row in QUALITY {
        for &who in ALL {
            let token = token_of(&env.registry, &w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_quality(row.rpc, &mut client, &w, who, &token, &id).await;
            found.note(&env.registry.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(quality_monitoring_admits_exactly_whom_its_table_names);

/// Supervision (Art. 16, 24, 26–28; `services/supervision/src`).
const SUPERVISION: &[Row] = &[
    // Violations: recorded and decided by departments whose scope covers the
    // subject; read by them, the service, and the institution it is about.
    write("CreateViolation", &[Ministry, Province, Regulator]),
    read(
        "GetViolation",
        &[Ministry, Province, Regulator, Institution],
    )
    .by(&[ByCrediting]),
    read(
        "ListViolations",
        &[Ministry, Province, Regulator, Institution],
    )
    .by(&[ByQuality]),
    write("DecideViolation", &[Ministry, Province, Regulator]),
    write("CloseViolation", &[Ministry, Province, Regulator]),
    // Only the party a violation is about appeals it.
    write("AppealViolation", &[Institution]),
    read(
        "ListViolationAuditEntries",
        &[Ministry, Province, Regulator],
    ),
    // Art. 27 notifications: the employer acknowledges its own; departments follow up.
    read("ListNotifications", &[Ministry, Province, Employer]),
    write("AcknowledgeNotification", &[Employer]),
    read("GetOutboxStatus", &[Ministry]),
    // Poor quality results (Art. 25, 26) come from quality monitoring, or a
    // department of the institution's province.
    write("ReportQualityResult", &[Ministry, Province]).by(&[ByQuality]),
    // A corrected result that is no longer poor withdraws the violation.
    write("WithdrawQualityResult", &[Ministry, Province]).by(&[ByQuality]),
    // Inspections (Art. 24) by departments whose scope covers them; public once
    // published, and this one is not.
    write("CreateInspection", &[Ministry, Province, Regulator]),
    read("GetInspection", &[Ministry, Province, Regulator]),
    read("ListInspections", &[Ministry, Province, Regulator]),
    write("CommitInspectionDraw", &[Ministry, Province, Regulator]),
    write("DrawInspectionSample", &[Ministry, Province, Regulator]),
    // Anyone who may read a drawn (unpublished) inspection checks its draw.
    read("VerifyInspectionDraw", &[Ministry, Province, Regulator]),
    write("RecordInspectionFinding", &[Ministry, Province, Regulator]),
    write("PublishInspection", &[Ministry, Province, Regulator]),
    // Officials (Art. 28): only from above the official's department (here a
    // city bureau of province 44).
    write("CreateReferral", &[Ministry, Province]),
    write("ResolveReferral", &[Ministry, Province]),
    read("ListReferrals", &[Ministry, Province]),
    // An institution's record (beside its quality scores): the departments
    // covering it, quality monitoring, and the institution itself.
    read(
        "GetInstitutionRecord",
        &[Ministry, Province, Regulator, Institution],
    ),
];

/// Fresh resources, made as the province before each call, so that every
/// call finds its resource in the state it needs (an open violation to
/// decide, a decided one to close, a drawn inspection to record in…).
struct Prepared {
    violation: String,
    notification: String,
    inspection: String,
    target: String,
    referral: String,
    institution: String,
}

struct SupervisionWorld {
    w: World,
    /// The province's seminar, for hours it grants and a decision revokes.
    seminar: String,
}

fn province_token(env: &RegistryEnv) -> Option<String> {
    Some(env.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(Role::ProvincialHrss, "hrss-44-setup")
    }))
}

async fn prepare(
    env: &ce_tests::SupervisionEnv,
    sw_w: &World,
    seminar: &str,
    rpc: &str,
) -> Prepared {
    use ce_proto::supervision as sp;
    let t = province_token(&env.registry);
    let mut sup = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    let id = |what: &str| format!("prepare-{what}-{n}");
    let mut p = Prepared {
        violation: String::new(),
        notification: String::new(),
        inspection: String::new(),
        target: String::new(),
        referral: String::new(),
        institution: sw_w.institution.clone(),
    };
    if matches!(
        rpc,
        "DecideViolation"
            | "CloseViolation"
            | "AppealViolation"
            | "GetViolation"
            | "ListViolations"
            | "ListViolationAuditEntries"
    ) {
        p.violation = sup
            .create_violation(request(
                sp::CreateViolationRequest {
                    violation: Some(sp::Violation {
                        institution: sw_w.institution.clone(),
                        category: sp::ViolationCategory::ImproperFees as i32,
                        description: "Fees without training".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &t,
                &id("violation"),
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        if matches!(rpc, "CloseViolation" | "AppealViolation") {
            sup.decide_violation(request(
                sp::DecideViolationRequest {
                    name: p.violation.clone(),
                    decision: Some(warning()),
                },
                &t,
                &id("decide"),
            ))
            .await
            .unwrap();
        }
    }
    if matches!(rpc, "AcknowledgeNotification" | "ListNotifications") {
        p.notification = notification(env, sw_w, seminar, n).await;
    }
    if matches!(
        rpc,
        "GetInspection"
            | "ListInspections"
            | "CommitInspectionDraw"
            | "DrawInspectionSample"
            | "VerifyInspectionDraw"
            | "RecordInspectionFinding"
            | "PublishInspection"
    ) {
        p.inspection = sup
            .create_inspection(request(
                sp::CreateInspectionRequest {
                    inspection: Some(sp::Inspection {
                        title: format!("Random inspection {n}"),
                        province: "44".into(),
                        field: Field::Construction as i32,
                        target_kind: sp::TargetKind::Institutions as i32,
                        start_date: date(2026, 11, 1),
                        end_date: date(2026, 12, 15),
                        ..Default::default()
                    }),
                },
                &t,
                &id("inspection"),
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        if matches!(
            rpc,
            "RecordInspectionFinding" | "PublishInspection" | "VerifyInspectionDraw"
        ) {
            let drawn = sup
                .draw_inspection_sample(request(
                    sp::DrawInspectionSampleRequest {
                        name: p.inspection.clone(),
                        target_count: 1,
                        roster: vec!["inspector-1".into()],
                        inspector_count: 1,
                        seed: 0,
                    },
                    &t,
                    &id("draw"),
                ))
                .await
                .unwrap()
                .into_inner();
            p.target = drawn.sample.unwrap().targets[0].clone();
        }
    }
    if matches!(rpc, "ResolveReferral" | "ListReferrals") {
        p.referral = sup
            .create_referral(request(referral(), &t, &id("referral")))
            .await
            .unwrap()
            .into_inner()
            .name;
    }
    if matches!(rpc, "ReportQualityResult" | "WithdrawQualityResult") {
        // One violation per institution and period: a fresh institution each time.
        p.institution = ce_tests::world::create_institution(
            &mut env.registry.province("44"),
            academy(&format!("Poor Academy {n}")),
        )
        .await;
    }
    if rpc == "WithdrawQualityResult" {
        // A violation to withdraw.
        sup.report_quality_result(request(
            sp::ReportQualityResultRequest {
                institution: p.institution.clone(),
                period: "2026".into(),
                grade: "D".into(),
                score: 41.0,
                model_version: "national-2026.2".into(),
                ..Default::default()
            },
            &t,
            &id("report"),
        ))
        .await
        .unwrap();
    }
    p
}

fn warning() -> ce_proto::supervision::Decision {
    ce_proto::supervision::Decision {
        kind: ce_proto::supervision::DecisionKind::Warning as i32,
        reason: "First offence".into(),
        effective_date: date(2026, 11, 2),
        ..Default::default()
    }
}

fn referral() -> ce_proto::supervision::CreateReferralRequest {
    use ce_proto::supervision as sp;
    sp::CreateReferralRequest {
        referral: Some(sp::Referral {
            official: "Section chief Wang".into(),
            department: "hrss/440100".into(),
            misconduct: sp::Misconduct::Favouritism as i32,
            description: "Confirmed hours for a relative's fictitious course".into(),
            referred_to: sp::ReferredTo::DisciplineBody as i32,
            ..Default::default()
        }),
    }
}

/// An Art. 27 notification to the employer: hours of the engineer granted
/// by the province, then revoked by a decision.
async fn notification(env: &ce_tests::SupervisionEnv, w: &World, seminar: &str, n: u64) -> String {
    use ce_proto::crediting as cr;
    use ce_proto::supervision as sp;
    let t = province_token(&env.registry);
    let day = 1 + (n % 28) as i32;
    let record = ce_proto::crediting::crediting_service_client::CreditingServiceClient::new(
        env.crediting_channel.clone(),
    )
    .create_hour_record(request(
        cr::CreateHourRecordRequest {
            hour_record: Some(cr::HourRecord {
                engineer: w.engineer.clone(),
                registry_activity: seminar.into(),
                activity: Some(cr::hour_record::Activity::FaceToFace(
                    cr::FaceToFaceTraining {
                        subject_category: SubjectCategory::Professional as i32,
                        start_date: date(2026, 4, day),
                        days: 1,
                        hours_per_day: 1.0,
                    },
                )),
                client_key: format!("access-{n}"),
                ..Default::default()
            }),
        },
        &t,
        &format!("prepare-record-{n}"),
    ))
    .await
    .unwrap()
    .into_inner()
    .name;
    let mut sup = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let case = sup
        .create_violation(request(
            sp::CreateViolationRequest {
                violation: Some(sp::Violation {
                    engineer: w.engineer.clone(),
                    category: sp::ViolationCategory::ImproperHours as i32,
                    description: "Attendance sheets signed by a colleague".into(),
                    hour_records: vec![record],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &t,
            &format!("prepare-case-{n}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .name;
    sup.decide_violation(request(
        sp::DecideViolationRequest {
            name: case.clone(),
            decision: Some(sp::Decision {
                kind: sp::DecisionKind::Revocation as i32,
                reason: "Hours obtained by deception".into(),
                ..Default::default()
            }),
        },
        &t,
        &format!("prepare-revoke-{n}"),
    ))
    .await
    .unwrap();
    let all = sup
        .list_notifications(request(
            sp::ListNotificationsRequest {
                employer: w.employer.clone(),
                page_size: 1000,
                ..Default::default()
            },
            &t,
            &format!("prepare-list-{n}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .notifications;
    all.into_iter()
        .find(|x| x.violation == case)
        .expect("the decision notified the employer")
        .name
}

async fn call_supervision(
    rpc: &str,
    env: &ce_tests::SupervisionEnv,
    sw: &SupervisionWorld,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    use ce_proto::supervision as sp;
    let w = &sw.w;
    let p = prepare(env, w, &sw.seminar, rpc).await;
    let mut c = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    match rpc {
        "CreateViolation" => outcome(
            c.create_violation(request(
                sp::CreateViolationRequest {
                    violation: Some(sp::Violation {
                        institution: w.institution.clone(),
                        category: sp::ViolationCategory::ImproperFees as i32,
                        description: format!("Fees without training {n}"),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetViolation" => outcome(
            c.get_violation(request(
                sp::GetViolationRequest {
                    name: p.violation.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListViolations" => outcome(
            c.list_violations(request(
                sp::ListViolationsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.violations.iter().any(|v| v.name == p.violation),
        ),
        "DecideViolation" => outcome(
            c.decide_violation(request(
                sp::DecideViolationRequest {
                    name: p.violation.clone(),
                    decision: Some(warning()),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CloseViolation" => outcome(
            c.close_violation(request(
                sp::CloseViolationRequest {
                    name: p.violation.clone(),
                    closure: sp::ClosureKind::Rectified as i32,
                    reason: "Fees refunded to every learner".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "AppealViolation" => outcome(
            c.appeal_violation(request(
                sp::AppealViolationRequest {
                    name: p.violation.clone(),
                    text: "The course was held; attendance sheets attached".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListViolationAuditEntries" => outcome(
            c.list_violation_audit_entries(request(
                sp::ListViolationAuditEntriesRequest {
                    name: p.violation.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListNotifications" => outcome(
            c.list_notifications(request(
                sp::ListNotificationsRequest {
                    employer: w.employer.clone(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.notifications.iter().any(|x| x.name == p.notification),
        ),
        "AcknowledgeNotification" => outcome(
            c.acknowledge_notification(request(
                sp::AcknowledgeNotificationRequest {
                    name: p.notification.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetOutboxStatus" => outcome(
            c.get_outbox_status(request(sp::GetOutboxStatusRequest {}, token, id))
                .await,
            |_| true,
        ),
        "ReportQualityResult" => outcome(
            c.report_quality_result(request(
                sp::ReportQualityResultRequest {
                    institution: p.institution.clone(),
                    period: "2026".into(),
                    grade: "D".into(),
                    score: 41.0,
                    model_version: "national-2026.2".into(),
                    finding: String::new(),
                    compute_time: None,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "WithdrawQualityResult" => outcome(
            c.withdraw_quality_result(request(
                sp::WithdrawQualityResultRequest {
                    institution: p.institution.clone(),
                    period: "2026".into(),
                    grade: "B".into(),
                    score: 75.0,
                    model_version: "national-2026.2".into(),
                    compute_time: None,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateInspection" => outcome(
            c.create_inspection(request(
                sp::CreateInspectionRequest {
                    inspection: Some(sp::Inspection {
                        title: format!("Random inspection {n}"),
                        province: "44".into(),
                        field: Field::Construction as i32,
                        target_kind: sp::TargetKind::Institutions as i32,
                        start_date: date(2026, 11, 1),
                        end_date: date(2026, 12, 15),
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetInspection" => outcome(
            c.get_inspection(request(
                sp::GetInspectionRequest {
                    name: p.inspection.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListInspections" => outcome(
            c.list_inspections(request(
                sp::ListInspectionsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.inspections.iter().any(|i| i.name == p.inspection),
        ),
        "DrawInspectionSample" => outcome(
            c.draw_inspection_sample(request(
                sp::DrawInspectionSampleRequest {
                    name: p.inspection.clone(),
                    target_count: 1,
                    roster: vec!["inspector-1".into()],
                    inspector_count: 1,
                    seed: 0,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CommitInspectionDraw" => outcome(
            c.commit_inspection_draw(request(
                sp::CommitInspectionDrawRequest {
                    name: p.inspection.clone(),
                    target_count: 1,
                    roster: vec!["inspector-1".into()],
                    inspector_count: 1,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "VerifyInspectionDraw" => outcome(
            c.verify_inspection_draw(request(
                sp::VerifyInspectionDrawRequest {
                    name: p.inspection.clone(),
                    seed_hex: String::new(),
                },
                token,
                id,
            ))
            .await,
            |r| r.matches,
        ),
        "RecordInspectionFinding" => outcome(
            c.record_inspection_finding(request(
                sp::RecordInspectionFindingRequest {
                    name: p.inspection.clone(),
                    finding: Some(sp::Finding {
                        target: p.target.clone(),
                        outcome: sp::FindingOutcome::Compliant as i32,
                        text: "Records complete".into(),
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "PublishInspection" => outcome(
            c.publish_inspection(request(
                sp::PublishInspectionRequest {
                    name: p.inspection.clone(),
                    outcome: "All compliant".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateReferral" => outcome(
            c.create_referral(request(referral(), token, id)).await,
            |_| true,
        ),
        "ResolveReferral" => outcome(
            c.resolve_referral(request(
                sp::ResolveReferralRequest {
                    name: p.referral.clone(),
                    outcome: "Demerit recorded by the discipline body".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListReferrals" => outcome(
            c.list_referrals(request(
                sp::ListReferralsRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.referrals.iter().any(|x| x.name == p.referral),
        ),
        "GetInstitutionRecord" => outcome(
            c.get_institution_record(request(
                sp::GetInstitutionRecordRequest {
                    name: format!("{}/supervisionRecord", p.institution),
                },
                token,
                id,
            ))
            .await,
            |r| r.institution == p.institution,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn supervision_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(SUPERVISION, "ce.supervision.v1.SupervisionService");
    let env = ce_tests::SupervisionEnv::start(b).await;
    let w = world(&env.registry).await;
    // The province's own seminar, for hours it grants (and later revokes).
    let seminar = reg::Activity {
        title: "Site safety".into(),
        field: Field::Construction as i32,
        ..ce_tests::world::activity("44", date(2026, 4, 1), date(2026, 4, 30), 8.0)
    };
    let seminar = ce_tests::world::create_activity(&mut env.registry.province("44"), seminar).await;
    let sw = SupervisionWorld { w, seminar };
    let mut found = Findings::new("supervision", supervision::migrations);
    for row in SUPERVISION {
        for &who in ALL {
            let token = token_of(&env.registry, &sw.w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_supervision(row.rpc, &env, &sw, &token, &id).await;
            found.note(&env.registry.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(supervision_admits_exactly_whom_its_table_names);

/// Who reads an engineer's year: their province, their field's regulator,
/// their employer, themselves, the ministry and the suite's services.
/// Institutions see the hours they uploaded, not the year.
const YEAR_READERS: &[Who] = &[Ministry, Province, Regulator, Employer, Engineer];

/// Crediting (Art. 17–22, 27; `services/crediting/src/scope.rs`). The
/// resource is engineer N's year 2027 and the hours institution I uploaded
/// for it from its own course. Crediting's today is 1 March 2027, so that
/// 2026 can be closed (Art. 21) and made up (Art. 20).
const CREDITING: &[Row] = &[
    // Training hours are registered by the activity's organiser, here the
    // institution (a department registers its own activities' hours); the
    // engineer submits their own other forms (Art. 21).
    write("CreateHourRecord", &[Institution, Engineer]),
    write("BulkUploadHourRecords", &[Institution, Engineer]),
    // Only whoever registered a record corrects it.
    write("CorrectHourRecord", &[Institution]),
    read(
        "GetHourRecord",
        &[
            Ministry,
            Province,
            Regulator,
            Employer,
            Engineer,
            Institution,
        ],
    )
    .by(&[BySupervision]),
    read(
        "ListHourRecords",
        &[
            Ministry,
            Province,
            Regulator,
            Employer,
            Engineer,
            Institution,
        ],
    )
    .by(&[ByQuality]),
    // An institution's upload is confirmed or rejected by the engineer's
    // employer or the field's regulator, never by the institution (Art. 21).
    write("ConfirmHourRecord", &[Ministry, Regulator, Employer]),
    write("RejectHourRecord", &[Ministry, Regulator, Employer]),
    // Art. 20: the employer certifies a deferral; the engineer chooses
    // which of next year's hours make it up.
    write("CreateDeferral", &[Employer]),
    write("DesignateMakeUp", &[Engineer]),
    // Art. 27: departments whose scope covers the record, and supervision.
    write("RevokeHourRecords", &[Ministry, Province, Regulator]).by(&[BySupervision]),
    read("CheckTitleEligibility", YEAR_READERS),
    read("GetAnnualStatus", YEAR_READERS).by(&[BySupervision]),
    read("ListAnnualStatuses", YEAR_READERS).by(&[BySupervision]),
    read("GetComplianceStatistics", YEAR_READERS),
    // Closing a year: the province for its own, the ministry and the
    // year-end job for all.
    write("SweepAnnualStatuses", &[Ministry, Province]),
    // The change feed serves back offices and dashboards of a province.
    read("ListChanges", &[Ministry, Province]).by(&[ByQuality]),
    read("WatchChanges", &[Ministry, Province]),
    // A certificate states a year: whoever reads the year may have one
    // issued and read it; anyone signed in may verify one.
    write("CreateHourCertificate", YEAR_READERS),
    read("GetHourCertificate", YEAR_READERS),
    read("VerifyHourCertificate", SIGNED_IN),
];

/// The resources crediting's calls are about.
struct CreditingWorld {
    w: World,
    /// The institution's course, January and February 2027.
    course: String,
    /// Its complete upload of 96 hours for N, confirmed by the employer.
    record: String,
    /// N's year 2027, complete.
    status: String,
    /// A certificate of that year, and its credential.
    certificate: String,
    credential: String,
    /// Supervision, which decides the cases its revocations name.
    supervision: Option<Channel>,
}

type CreditingClient =
    ce_proto::crediting::crediting_service_client::CreditingServiceClient<Channel>;

/// One day of the course for N, different for every `n`.
fn course_day(w: &World, course: &str, n: u64) -> ce_proto::crediting::HourRecord {
    use ce_proto::crediting as cr;
    cr::HourRecord {
        engineer: w.engineer.clone(),
        registry_activity: course.into(),
        activity: Some(cr::hour_record::Activity::FaceToFace(
            cr::FaceToFaceTraining {
                subject_category: SubjectCategory::Professional as i32,
                start_date: date(2027, 1, 4 + (n % 25) as i32),
                days: 1,
                hours_per_day: 1.0 + ((n / 25) % 14) as f64 * 0.5,
            },
        )),
        client_key: format!("access-course-{n}"),
        ..Default::default()
    }
}

/// A co-authored paper of N's, different for every `n` (Art. 18(5)).
fn paper(w: &World, n: u64) -> ce_proto::crediting::HourRecord {
    use ce_proto::crediting as cr;
    cr::HourRecord {
        engineer: w.engineer.clone(),
        activity: Some(cr::hour_record::Activity::Conversion(cr::Conversion {
            kind: cr::conversion::Kind::PaperCoauthor as i32,
            date: date(2027, 1, 20),
            evidence_id: format!("10.1000/access.{n}"),
            ..Default::default()
        })),
        client_key: format!("access-paper-{n}"),
        ..Default::default()
    }
}

async fn crediting_world(env: &ce_tests::CreditingEnv) -> CreditingWorld {
    use ce_proto::crediting as cr;
    let w = world(&env.registry).await;
    let course = env
        .registry
        .institution(&w.institution)
        .create_activity(CreateActivityRequest {
            activity: Some(reg::Activity {
                title: "Structural design".into(),
                start_date: date(2027, 1, 4),
                end_date: date(2027, 2, 26),
                ..new_activity().activity.unwrap()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let record = env
        .institution(&w.institution)
        .create_hour_record(cr::CreateHourRecordRequest {
            hour_record: Some(cr::HourRecord {
                engineer: w.engineer.clone(),
                registry_activity: course.clone(),
                activity: Some(cr::hour_record::Activity::FaceToFace(
                    cr::FaceToFaceTraining {
                        subject_category: SubjectCategory::Professional as i32,
                        start_date: date(2027, 2, 15),
                        days: 12,
                        hours_per_day: 8.0,
                    },
                )),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    env.employer(&w.employer)
        .confirm_hour_record(cr::ConfirmHourRecordRequest {
            name: record.clone(),
        })
        .await
        .unwrap();
    // 2026 deferred, for next year's hours to make up.
    env.employer(&w.employer)
        .create_deferral(cr::CreateDeferralRequest {
            deferral: Some(cr::Deferral {
                engineer: w.engineer.clone(),
                year: 2026,
                reason: cr::DeferralReason::Illness as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let status = format!("{}/annualStatuses/2027", w.engineer);
    let certificate = env
        .ministry()
        .create_hour_certificate(cr::CreateHourCertificateRequest {
            annual_status: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    CreditingWorld {
        w,
        course,
        record,
        status,
        certificate: certificate.name,
        credential: certificate.credential,
        supervision: None,
    }
}

/// A case supervision decided by revoking `record` (Art. 27), made as the
/// province: the only case on which the supervision service may revoke it.
async fn decided_case(env: &ce_tests::CreditingEnv, cw: &CreditingWorld, record: &str) -> String {
    use ce_proto::supervision::{self as sv, supervision_service_client::SupervisionServiceClient};
    let channel = cw
        .supervision
        .clone()
        .expect("supervision runs beside crediting");
    let token = env.registry.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(Role::ProvincialHrss, "hrss-44")
    });
    let mut gd = SupervisionServiceClient::with_interceptor(channel, ce_tests::bearer(&token));
    let case = ce_tests::world::improper_hours(&cw.w.engineer, &[record.to_owned()]);
    let case = ce_tests::world::create_violation(&mut gd, case).await;
    gd.decide_violation(sv::DecideViolationRequest {
        name: case.clone(),
        decision: Some(sv::Decision {
            kind: sv::DecisionKind::Revocation as i32,
            reason: "Hours obtained by a false attendance sheet".into(),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    case
}

/// A fresh upload of the institution's for N, submitted, so that every
/// call that decides, corrects or revokes finds one in that state.
async fn fresh_upload(env: &ce_tests::CreditingEnv, cw: &CreditingWorld, n: u64) -> String {
    env.institution(&cw.w.institution)
        .create_hour_record(ce_proto::crediting::CreateHourRecordRequest {
            hour_record: Some(course_day(&cw.w, &cw.course, n)),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

fn code_named(name: &str) -> Code {
    match name {
        "PERMISSION_DENIED" => Code::PermissionDenied,
        "NOT_FOUND" => Code::NotFound,
        "UNAUTHENTICATED" => Code::Unauthenticated,
        other => {
            panic!("a refusal must be about access, got {other} (the request itself is wrong)")
        }
    }
}

/// Reads a stream until `wanted` or a quiet second; a stream refused at
/// the start, or ended with an error, is a refusal.
async fn watched<T>(
    r: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
    wanted: impl Fn(&T) -> bool,
) -> Outcome {
    let mut stream = match r {
        Ok(s) => s.into_inner(),
        Err(e) => return outcome::<()>(Err(e), |_| true),
    };
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(1), stream.message()).await {
            Ok(Ok(Some(m))) if wanted(&m) => return Outcome::Allowed,
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) | Err(_) => return Outcome::NotShown,
            Ok(Err(e)) => return outcome::<()>(Err(e), |_| true),
        }
    }
}

async fn call_crediting(
    rpc: &str,
    env: &ce_tests::CreditingEnv,
    cw: &CreditingWorld,
    who: Who,
    id: &str,
) -> Outcome {
    use ce_proto::crediting as cr;
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    // The resource is made fresh where the call changes it.
    let upload = if matches!(
        rpc,
        "CorrectHourRecord"
            | "ConfirmHourRecord"
            | "RejectHourRecord"
            | "DesignateMakeUp"
            | "RevokeHourRecords"
    ) {
        fresh_upload(env, cw, n).await
    } else {
        String::new()
    };
    // A deferral is certified once an engineer and year: a fresh engineer
    // of the employer each time.
    let mut w = cw.w.clone();
    if rpc == "CreateDeferral" {
        w.engineer = env
            .registry
            .province("44")
            .create_engineer(new_engineer(&w.employer))
            .await
            .unwrap()
            .into_inner()
            .name;
    }
    let token = token_of(&env.registry, &w, who);
    let token = &token;
    let mut c = CreditingClient::new(env.channel.clone());
    // Departments, institutions and the rest send the course's hours;
    // engineers their own paper.
    let new_record = || {
        if matches!(who, Engineer | OtherEngineer) {
            paper(&w, n)
        } else {
            course_day(&w, &cw.course, n)
        }
    };
    match rpc {
        "CreateHourRecord" => outcome(
            c.create_hour_record(request(
                cr::CreateHourRecordRequest {
                    hour_record: Some(new_record()),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "BulkUploadHourRecords" => {
            let message = cr::BulkUploadHourRecordsRequest {
                hour_records: vec![new_record()],
            };
            let answer = match c
                .bulk_upload_hour_records(request(tokio_stream::iter(vec![message]), token, id))
                .await
            {
                Ok(s) => s.into_inner().message().await,
                Err(e) => Err(e),
            };
            match answer {
                Err(e) => outcome::<()>(Err(e), |_| true),
                Ok(None) => panic!("a bulk upload answers every message"),
                Ok(Some(m)) => match &m.results[0].refusal {
                    Some(r) => Outcome::Refused(code_named(&r.code)),
                    None => Outcome::Allowed,
                },
            }
        }
        "CorrectHourRecord" => {
            let mut corrected = course_day(&w, &cw.course, n);
            if let Some(cr::hour_record::Activity::FaceToFace(f)) = &mut corrected.activity {
                f.hours_per_day += 0.25;
            }
            corrected.client_key = format!("access-correction-{n}");
            outcome(
                c.correct_hour_record(request(
                    cr::CorrectHourRecordRequest {
                        name: upload.clone(),
                        hour_record: Some(corrected),
                    },
                    token,
                    id,
                ))
                .await,
                |_| true,
            )
        }
        "GetHourRecord" => outcome(
            c.get_hour_record(request(
                cr::GetHourRecordRequest {
                    name: cw.record.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListHourRecords" => outcome(
            c.list_hour_records(request(
                cr::ListHourRecordsRequest {
                    year: 2027,
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.hour_records.iter().any(|x| x.name == cw.record),
        ),
        "ConfirmHourRecord" => outcome(
            c.confirm_hour_record(request(
                cr::ConfirmHourRecordRequest {
                    name: upload.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RejectHourRecord" => outcome(
            c.reject_hour_record(request(
                cr::RejectHourRecordRequest {
                    name: upload.clone(),
                    reason: "Not on the attendance sheet".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateDeferral" => outcome(
            c.create_deferral(request(
                cr::CreateDeferralRequest {
                    deferral: Some(cr::Deferral {
                        engineer: w.engineer.clone(),
                        year: 2026,
                        reason: cr::DeferralReason::Injury as i32,
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "DesignateMakeUp" => outcome(
            c.designate_make_up(request(
                cr::DesignateMakeUpRequest {
                    name: upload.clone(),
                    year: 2026,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RevokeHourRecords" => outcome(
            c.revoke_hour_records(request(
                cr::RevokeHourRecordsRequest {
                    names: vec![upload.clone()],
                    reason: "Attendance sheets signed by a colleague".into(),
                    // Supervision revokes only on its own decided case;
                    // departments name theirs.
                    case_reference: if who == BySupervision {
                        decided_case(env, cw, &upload).await
                    } else {
                        format!("violations/access-{n}")
                    },
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CheckTitleEligibility" => outcome(
            c.check_title_eligibility(request(
                cr::CheckTitleEligibilityRequest {
                    engineer: w.engineer.clone(),
                    first_year: 2027,
                    last_year: 2027,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetAnnualStatus" => outcome(
            c.get_annual_status(request(
                cr::GetAnnualStatusRequest {
                    name: cw.status.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListAnnualStatuses" => outcome(
            c.list_annual_statuses(request(
                cr::ListAnnualStatusesRequest {
                    year: 2027,
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.annual_statuses.iter().any(|s| s.name == cw.status),
        ),
        "GetComplianceStatistics" => outcome(
            c.get_compliance_statistics(request(
                cr::GetComplianceStatisticsRequest {
                    year: 2027,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            // N is the only engineer with a 2027.
            |r| r.total.as_ref().is_some_and(|t| t.engineers > 0),
        ),
        "SweepAnnualStatuses" => outcome(
            c.sweep_annual_statuses(request(
                cr::SweepAnnualStatusesRequest {
                    year: 2026,
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListChanges" => outcome(
            c.list_changes(request(
                cr::ListChangesRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.changes.iter().any(|x| x.resource == cw.record),
        ),
        "WatchChanges" => {
            watched(
                c.watch_changes(request(cr::WatchChangesRequest::default(), token, id))
                    .await,
                |x: &cr::Change| x.resource == cw.record,
            )
            .await
        }
        "CreateHourCertificate" => outcome(
            c.create_hour_certificate(request(
                cr::CreateHourCertificateRequest {
                    annual_status: cw.status.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetHourCertificate" => outcome(
            c.get_hour_certificate(request(
                cr::GetHourCertificateRequest {
                    name: cw.certificate.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "VerifyHourCertificate" => outcome(
            c.verify_hour_certificate(request(
                cr::VerifyHourCertificateRequest {
                    credential: cw.credential.clone(),
                },
                token,
                id,
            ))
            .await,
            // Identified, valid or revoked: the table's own writes may change the
            // certified year, which supersedes the certificate.
            |r| r.hour_certificate == cw.certificate,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn crediting_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(CREDITING, "ce.crediting.v1.CreditingService");
    let (env, supervision) =
        ce_tests::CreditingEnv::start_with_supervision(b, time::macros::date!(2027 - 03 - 01))
            .await;
    let mut cw = crediting_world(&env).await;
    cw.supervision = Some(supervision.channel().await);
    let mut found = Findings::new("crediting", crediting::migrations);
    for row in CREDITING {
        for &who in ALL {
            let id = Findings::request_id(row.rpc, who);
            let got = call_crediting(row.rpc, &env, &cw, who, &id).await;
            found.note(&env.registry.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(crediting_admits_exactly_whom_its_table_names);

/// `snake_case` of an RPC's name, as the generated clients spell it.
fn snake(rpc: &str) -> String {
    let mut out = String::new();
    for (i, c) in rpc.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every mutation in the tables is sent random requests by the
/// `write_requests` fuzz target (a new write RPC must be added there too).
#[test]
fn every_write_rpc_is_fuzzed() {
    let target = include_str!("../../fuzz/fuzz_targets/write_requests.rs");
    let missing: Vec<String> = [REGISTRY, CREDITING, SUPERVISION, QUALITY]
        .iter()
        .flat_map(|t| t.iter())
        .filter(|r| r.mutation)
        .map(|r| snake(r.rpc))
        .filter(|m| !target.contains(&format!("{m}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "write RPCs missing from fuzz/fuzz_targets/write_requests.rs: {missing:?}"
    );
    assert_eq!(snake("BulkUploadHourRecords"), "bulk_upload_hour_records");
}

/// A token signed with one service's key cannot claim another service's
/// name: quality's key, naming supervision in `sub` or in the key id, is
/// refused before any rule is consulted; quality's own token, asking for
/// what only supervision may, is PERMISSION_DENIED.
async fn a_service_cannot_claim_another_services_name(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let auth = ce_server::app::ServiceConfig::load("registry", 0, None)
        .unwrap()
        .auth;
    let quality = ce_server::auth::DevKey::for_service(env.place.dir.path(), "quality").unwrap();
    let mint = |kid_name: &str, sub: &str| {
        quality
            .service_signer(kid_name, &auth)
            .unwrap()
            .mint(&TokenRequest {
                subject: sub.into(),
                role: Some(Role::Service),
                ttl_secs: 60,
                ..Default::default()
            })
            .unwrap()
    };
    let get = |token: String| {
        let mut c =
            RegistryServiceClient::with_interceptor(env.channel.clone(), ce_tests::bearer(&token));
        async move {
            c.get_engineer(GetEngineerRequest {
                name: "engineers/0000000000000000".into(),
            })
            .await
        }
    };
    for (kid, sub) in [
        ("quality", "service/supervision"),
        ("supervision", "service/supervision"),
    ] {
        let err = get(mint(kid, sub)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{kid} as {sub}: {err:?}");
    }
    let err = get(mint("quality", "service/quality")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(
        err.message()
            .contains("service `quality` may not call GetEngineer"),
        "{}",
        err.message()
    );
}

both_backends!(a_service_cannot_claim_another_services_name);
