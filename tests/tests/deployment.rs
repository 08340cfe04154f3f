//! A deployment's scope (docs/deploying.md, "One country, many systems"):
//! a provincial registry and crediting accept writes for their own
//! province only, refusing another province's with
//! `OTHER_PROVINCE_DEPLOYMENT` (Art. 21); the national deployment takes
//! the ministry's writes and refuses a provincial clerk's with
//! `NATIONAL_DEPLOYMENT` (Art. 22). On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_proto::common::{Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::*;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{self as reg, UpdateEngineerRequest};
use ce_server::app::ServiceConfig;
use ce_tests::world::{self, date};
use ce_tests::{Backend, Place, Registry, RegistryEnv, Service, both_backends, start_service};
use tonic::Code;
use tonic_types::StatusExt;

/// `province`'s deployment (`provincial`), or the national one (None).
fn scoped(config: &mut ServiceConfig, province: Option<&str>) {
    match province {
        Some(p) => {
            config.set("deployment.scope", "provincial");
            config.set("deployment.province", p);
        }
        None => config.set("deployment.scope", "national"),
    }
}

/// A registry of `province`'s deployment (or the national one) at `place`.
async fn registry_of(place: &Place, province: Option<&str>) -> Service {
    let mut config = place.config("registry");
    scoped(&mut config, province);
    start_service(config, registry::start).await
}

async fn client(place: &Place, service: &Service, req: ce_server::auth::TokenRequest) -> Registry {
    RegistryServiceClient::with_interceptor(
        service.channel().await,
        ce_tests::bearer(&place.token(req)),
    )
}

fn clerk(province: &str) -> ce_server::auth::TokenRequest {
    ce_tests::department(province, &format!("hrss-{province}-clerk"))
}

/// The status is FAILED_PRECONDITION for `reason`, with its
/// `PreconditionFailure`, and its message names `words`.
fn assert_refused(status: &tonic::Status, reason: &str, words: &[&str]) {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let details = status.get_error_details();
    assert_eq!(details.error_info().expect("ErrorInfo").reason, reason);
    assert_eq!(
        details
            .precondition_failure()
            .expect("PreconditionFailure")
            .violations[0]
            .r#type,
        reason
    );
    for w in words {
        assert!(
            status.message().contains(w),
            "{w:?} in {}",
            status.message()
        );
    }
}

const OTHER: &str = "OTHER_PROVINCE_DEPLOYMENT";

/// Guangdong's registry (44) refuses Shanghai's (31) engineer, employer,
/// institution and activity, and takes its own; an engineer who moves out
/// is moved where they were registered, and is no longer this system's.
async fn a_provincial_registry_takes_its_own_province_only(b: Backend) {
    let place = Place::new(b);
    let registry = registry_of(&place, Some("44")).await;
    let mut shanghai = client(&place, &registry, clerk("31")).await;
    let mut guangdong = client(&place, &registry, clerk("44")).await;

    let refused = shanghai
        .create_employer(reg::CreateEmployerRequest {
            employer: Some(world::employer("31")),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 44's", "province 31's"]);
    let refused = shanghai
        .create_engineer(reg::CreateEngineerRequest {
            engineer: Some(world::engineer("31", "")),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    let refused = shanghai
        .create_institution(reg::CreateInstitutionRequest {
            institution: Some(world::institution("31")),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    let refused = shanghai
        .create_activity(reg::CreateActivityRequest {
            activity: Some(world::activity(
                "31",
                date(2026, 4, 1),
                date(2026, 4, 3),
                8.0,
            )),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    // Nothing of Shanghai's was stored.
    let ministry = client(&place, &registry, ce_tests::token(Role::Ministry, "m")).await;
    let employers = ministry
        .clone()
        .list_employers(reg::ListEmployersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .employers;
    assert!(employers.is_empty(), "{employers:?}");
    let all = ministry
        .clone()
        .list_engineers(reg::ListEngineersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(all.engineers.is_empty(), "{:?}", all.engineers);

    // Guangdong's own are registered.
    let employer = world::create_employer(&mut guangdong, world::employer("44")).await;
    let engineer = world::create_engineer(&mut guangdong, world::engineer("44", &employer)).await;
    world::create_institution(&mut guangdong, world::institution("44")).await;
    world::create_activity(
        &mut guangdong,
        world::activity("44", date(2026, 4, 1), date(2026, 4, 3), 8.0),
    )
    .await;

    // A move out is recorded here, where the engineer was (Art. 22) ...
    let moved = guangdong
        .update_engineer(UpdateEngineerRequest {
            engineer: Some(reg::Engineer {
                name: engineer.clone(),
                province: "31".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["province".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.province, "31");
    // ... and then the engineer is Shanghai's, changed in Shanghai's system.
    let refused = ministry
        .clone()
        .update_engineer(UpdateEngineerRequest {
            engineer: Some(reg::Engineer {
                name: engineer,
                display_name: "陈工程师".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["display_name".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    registry.stop().await;
}

/// The national registry takes the ministry's registrations and refuses a
/// provincial clerk's: those go to the province's own system and reach
/// the national one by reporting.
async fn the_national_registry_takes_the_ministry_s_writes_only(b: Backend) {
    let place = Place::new(b);
    let registry = registry_of(&place, None).await;
    let mut guangdong = client(&place, &registry, clerk("44")).await;
    let refused = guangdong
        .create_employer(reg::CreateEmployerRequest {
            employer: Some(world::employer("44")),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, "NATIONAL_DEPLOYMENT", &["national", "reporting"]);
    let details = refused.get_error_details();
    assert_eq!(
        details
            .error_info()
            .unwrap()
            .metadata
            .get("article")
            .map(String::as_str),
        Some("Art. 22")
    );
    let mut ministry = client(&place, &registry, ce_tests::token(Role::Ministry, "m")).await;
    let employer = world::create_employer(&mut ministry, world::employer("44")).await;
    world::create_engineer(&mut ministry, world::engineer("44", &employer)).await;
    registry.stop().await;
}

/// Guangdong's crediting (its today 25 November 2026), calling `registry`.
async fn crediting_of_44(registry: &RegistryEnv) -> Service {
    let mut config = registry.place.config("crediting");
    config
        .peers
        .insert("registry".into(), registry.service.url());
    scoped(&mut config, Some("44"));
    let today = time::macros::date!(2026 - 11 - 25);
    start_service(config, move |c, s| {
        crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
    })
    .await
}

/// Every stored record's engineer and client key, sorted.
async fn stored(ministry: &mut ce_tests::Crediting) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = ministry
        .list_hour_records(ListHourRecordsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records
        .iter()
        .map(|r| (r.engineer.clone(), r.client_key.clone()))
        .collect();
    keys.sort();
    keys
}

async fn crediting_client(
    registry: &RegistryEnv,
    crediting: &Service,
    req: ce_server::auth::TokenRequest,
) -> ce_tests::Crediting {
    ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
        crediting.channel().await,
        ce_tests::bearer(&registry.place.token(req)),
    )
}

/// Guangdong's crediting, over a registry holding both provinces: an
/// institution's hours for a Shanghai engineer are refused, alone and in
/// a bulk upload (where the message's other records are stored); a
/// Guangdong engineer's are registered.
async fn a_provincial_crediting_takes_its_own_engineers_hours_only(b: Backend) {
    let registry = RegistryEnv::start(b).await;
    let g = world::World::build(&registry).await;
    let mut shanghai = registry.province("31");
    let employer = world::create_employer(&mut shanghai, world::employer("31")).await;
    let visitor = world::create_engineer(&mut shanghai, world::engineer("31", &employer)).await;

    let crediting = crediting_of_44(&registry).await;
    let mut institution = crediting_client(
        &registry,
        &crediting,
        ce_tests::member(Role::Institution, &g.institution, "institution-clerk"),
    )
    .await;
    let on_course = |engineer: &str, day: i32, key: &str| HourRecord {
        engineer: engineer.into(),
        registry_activity: g.course.clone(),
        client_key: key.into(),
        activity: Some(A::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: date(2026, 3, day),
            days: 1,
            hours_per_day: 6.0,
        })),
        ..Default::default()
    };

    let refused = institution
        .create_hour_record(CreateHourRecordRequest {
            hour_record: Some(on_course(&visitor, 2, "")),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 44's", "province 31's"]);
    let own = institution
        .create_hour_record(CreateHourRecordRequest {
            hour_record: Some(on_course(&g.engineer, 2, "")),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.state, RecordState::Submitted as i32);

    let message = BulkUploadHourRecordsRequest {
        hour_records: vec![
            on_course(&g.engineer, 3, "k1"),
            on_course(&visitor, 3, "k2-shanghai"),
            on_course(&g.engineer, 4, "k3"),
        ],
    };
    let mut answers = institution
        .bulk_upload_hour_records(tokio_stream::iter(vec![message]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().expect("one answer");
    assert!(answers.message().await.unwrap().is_none());
    let results = answer.results;
    assert_eq!(results.len(), 3);
    let refusal = results[1].refusal.as_ref().expect("refused");
    assert_eq!(refusal.code, "FAILED_PRECONDITION");
    assert_eq!(refusal.reason, OTHER);
    assert_eq!(refusal.article, "Art. 21");
    assert!(results[1].hour_record.is_none());
    for i in [0, 2] {
        assert!(results[i].refusal.is_none(), "{:?}", results[i]);
        assert_eq!(
            results[i].hour_record.as_ref().unwrap().engineer,
            g.engineer
        );
    }

    // Stored: Guangdong's three, none of Shanghai's.
    let mut ministry =
        crediting_client(&registry, &crediting, ce_tests::token(Role::Ministry, "m")).await;
    let keys = stored(&mut ministry).await;
    let mut expected = vec![
        (g.engineer.clone(), String::new()),
        (g.engineer.clone(), "k1".to_owned()),
        (g.engineer.clone(), "k3".to_owned()),
    ];
    expected.sort();
    assert_eq!(keys, expected);

    // A sweep for another province is refused (a year is closed by the
    // province's own system).
    let refused = ministry
        .sweep_annual_statuses(SweepAnnualStatusesRequest {
            year: 2026,
            province: "31".into(),
        })
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    crediting.stop().await;
}

both_backends!(
    a_provincial_registry_takes_its_own_province_only,
    the_national_registry_takes_the_ministry_s_writes_only,
    a_provincial_crediting_takes_its_own_engineers_hours_only,
);
