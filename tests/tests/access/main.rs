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
//! supervision and quality monitoring, each in its own file with its table
//! and the calls that exercise it (`registry.rs`, `crediting.rs`,
//! `supervision.rs`, `quality.rs`). This file holds the callers, the world
//! the calls are about, and the checks every table shares.

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

/// Calls the RPC `$rpc` as the caller (`$token`, request id `$id`) with
/// `$client`, by the first of the rows it is given that names it: a row
/// `"Rpc" => method(message);` is allowed when answered, one ending
/// `shown |answer| …;` when the answer shows the resource (a list or a
/// batch). `other => …` first, if given, answers the RPCs no row names;
/// otherwise they fail the test.
macro_rules! calls {
    ($rpc:expr, $client:expr, $token:expr, $id:expr; $($rows:tt)+) => {
        calls!(
            $rpc, $client, $token, $id,
            other => panic!("no call for {other}: add one beside its row");
            $($rows)+
        )
    };
    ($rpc:expr, $client:expr, $token:expr, $id:expr, $other:ident => $fallback:expr;
     $($name:literal => $method:ident($message:expr) $(shown $shown:expr)?;)+) => {
        match $rpc {
            $($name => outcome(
                $client.$method(request($message, $token, $id)).await,
                calls!(@shown $($shown)?),
            ),)+
            $other => $fallback,
        }
    };
    (@shown) => {
        |_| true
    };
    (@shown $shown:expr) => {
        $shown
    };
}

mod crediting;
mod quality;
mod registry;
mod roles;
mod supervision;

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
    /// The national deployment's identity (`service/national`), which a
    /// province admits to its change feeds and nothing else (Art. 22).
    ByNational,
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
    ByNational,
    Nobody,
];

/// Every signed-in person: the callers of [`ALL`] before the services.
/// Services are admitted only where a row names them (`.by(…)`), as each
/// service's `SERVICE_CALLERS` declares.
const SIGNED_IN: &[Who] = ALL.split_at(ByRegistry as usize).0;

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
    let activity = ce_tests::answer(
        env.institution(&institution)
            .create_activity(new_activity()),
    )
    .await
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
        ByNational => t(Role::Service, "national"),
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

    /// Calls every RPC of `table` as every caller, with `call(row, who,
    /// request id)`, and notes what each call came to.
    async fn sweep(
        &mut self,
        place: &ce_tests::Place,
        table: &[Row],
        mut call: impl AsyncFnMut(&Row, Who, &str) -> Outcome,
    ) {
        for row in table {
            for &who in ALL {
                let id = Findings::request_id(row.rpc, who);
                let got = call(row, who, &id).await;
                self.note(place, row, who, got, &id);
            }
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
    let target = include_str!("../../../fuzz/fuzz_targets/write_requests.rs");
    let missing: Vec<String> = [
        registry::REGISTRY,
        crediting::CREDITING,
        supervision::SUPERVISION,
        quality::QUALITY,
    ]
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
