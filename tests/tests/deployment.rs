//! A deployment's scope (docs/deploying.md, "One country, many systems"):
//! a provincial registry, crediting, supervision and quality monitoring
//! accept writes for their own province only, refusing another province's
//! with `OTHER_PROVINCE_DEPLOYMENT` (Art. 21); the national deployment
//! takes the ministry's writes (and its own services' effects) and refuses
//! a provincial clerk's with `NATIONAL_DEPLOYMENT` (Art. 22). On SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_proto::common::{Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::*;
use ce_proto::quality::{ClosePeriodRequest, Indicator, ListScoresRequest, RecordIndicatorRequest};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{self as reg, UpdateEngineerRequest};
use ce_proto::supervision as sv;
use ce_server::app::ServiceConfig;
use ce_tests::cases;
use ce_tests::world::{self, date};
use ce_tests::{
    Backend, Place, QualityEnv, Registry, RegistryEnv, Service, both_backends, start_service,
};
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

/// A crediting of `province`'s deployment (or the national one) at
/// `place`, calling `registry`.
async fn crediting_at(place: &Place, registry: &Service, province: Option<&str>) -> Service {
    let mut config = place.config("crediting");
    config.peers.insert("registry".into(), registry.url());
    scoped(&mut config, province);
    start_service(config, crediting::start).await
}

/// A supervision of `province`'s deployment (or the national one) at
/// `place`, acting on `registry` and `crediting`.
async fn supervision_at(
    place: &Place,
    registry: &Service,
    crediting: &Service,
    province: Option<&str>,
) -> Service {
    let mut config = place.config("supervision");
    config.peers.insert("registry".into(), registry.url());
    config.peers.insert("crediting".into(), crediting.url());
    scoped(&mut config, province);
    start_service(config, supervision::start).await
}

async fn supervision_client(
    place: &Place,
    service: &Service,
    req: ce_server::auth::TokenRequest,
) -> ce_tests::Supervision {
    sv::supervision_service_client::SupervisionServiceClient::with_interceptor(
        service.channel().await,
        ce_tests::bearer(&place.token(req)),
    )
}

/// A case of improper fees (Art. 16) against `institution`.
fn improper_fees(institution: &str) -> sv::Violation {
    sv::Violation {
        institution: institution.into(),
        category: sv::ViolationCategory::ImproperFees as i32,
        description: "Charged 3,000 yuan for a course that was never held".into(),
        evidence: vec!["complaint 2026-118".into()],
        ..Default::default()
    }
}

/// An inspection of the institutions of `province` (empty: national).
fn inspection_in(province: &str) -> sv::Inspection {
    sv::Inspection {
        title: "Institutions' fees".into(),
        province: province.into(),
        target_kind: sv::TargetKind::Institutions as i32,
        start_date: date(2026, 12, 1),
        end_date: date(2026, 12, 31),
        ..Default::default()
    }
}

/// Guangdong's supervision (44), over a registry holding both provinces:
/// Shanghai's department cannot record a violation of its institution nor
/// plan an inspection in Shanghai there, nor the ministry a national
/// inspection; Guangdong's are recorded, and nothing else is stored.
async fn a_provincial_supervision_takes_its_own_province_only(b: Backend) {
    let registry = RegistryEnv::start(b).await;
    let place = &registry.place;
    let gd_institution =
        world::create_institution(&mut registry.province("44"), world::institution("44")).await;
    let sh_institution =
        world::create_institution(&mut registry.province("31"), world::institution("31")).await;
    let crediting = crediting_of_44(&registry).await;
    let supervision = supervision_at(place, &registry.service, &crediting, Some("44")).await;
    let mut shanghai = supervision_client(place, &supervision, clerk("31")).await;
    let mut guangdong = supervision_client(place, &supervision, clerk("44")).await;
    let mut ministry =
        supervision_client(place, &supervision, ce_tests::token(Role::Ministry, "m")).await;

    for client in [&mut shanghai, &mut ministry] {
        let refused = client
            .create_violation(cases::opening(improper_fees(&sh_institution)))
            .await
            .unwrap_err();
        assert_refused(&refused, OTHER, &["province 44's", "province 31's"]);
    }
    let refused = shanghai
        .create_inspection(cases::planning(inspection_in("31")))
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 44's", "province 31's"]);
    let refused = ministry
        .create_inspection(cases::planning(inspection_in("")))
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["national system"]);

    let case = cases::open(&mut guangdong, improper_fees(&gd_institution)).await;
    assert_eq!(case.province, "44");
    let plan = cases::plan(&mut guangdong, inspection_in("44")).await;
    // Deciding Guangdong's case is this system's too.
    let today = ce_server::dates::today();
    let decided = cases::decide(
        &mut guangdong,
        &case.name,
        sv::Decision {
            kind: sv::DecisionKind::RectificationOrder as i32,
            reason: "Refund the fees".into(),
            effective_date: Some(ce_server::dates::to_proto(today)),
            rectification_deadline: Some(ce_server::dates::to_proto(
                today + time::Duration::days(90),
            )),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(decided.state, sv::ViolationState::Decided as i32);

    // Only Guangdong's were stored.
    let cases = cases::violations(&mut ministry, sv::ListViolationsRequest::default()).await;
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, [case.name.as_str()]);
    let plans = ministry
        .list_inspections(sv::ListInspectionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .inspections;
    let names: Vec<&str> = plans.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, [plan.name.as_str()]);
    supervision.stop().await;
    crediting.stop().await;
}

/// The national supervision refuses a provincial clerk's case and records
/// the ministry's; its suspension reaches the national registry through
/// the outbox (the suite's own service), and the institution appeals it
/// there, where the case is held.
async fn the_national_supervision_takes_the_ministry_s_writes_only(b: Backend) {
    let place = Place::new(b);
    let registry = registry_of(&place, None).await;
    let mut ministry_registry =
        client(&place, &registry, ce_tests::token(Role::Ministry, "m")).await;
    let institution =
        world::create_institution(&mut ministry_registry, world::institution("44")).await;
    let crediting = crediting_at(&place, &registry, None).await;
    let supervision = supervision_at(&place, &registry, &crediting, None).await;

    let mut guangdong = supervision_client(&place, &supervision, clerk("44")).await;
    let refused = guangdong
        .create_violation(cases::opening(improper_fees(&institution)))
        .await
        .unwrap_err();
    assert_refused(&refused, "NATIONAL_DEPLOYMENT", &["national", "reporting"]);

    let mut ministry =
        supervision_client(&place, &supervision, ce_tests::token(Role::Ministry, "m")).await;
    let case = cases::open(&mut ministry, improper_fees(&institution)).await;
    // The registry judges the standing against the real today.
    let today = ce_server::dates::today();
    let around = |days: i64| {
        Some(ce_server::dates::to_proto(
            today + time::Duration::days(days),
        ))
    };
    let suspension = sv::Decision {
        kind: sv::DecisionKind::Suspension as i32,
        reason: "Fees without training".into(),
        effective_date: around(-5),
        suspension_end_date: around(175),
        ..Default::default()
    };
    cases::decide(&mut ministry, &case.name, suspension).await;
    assert!(
        ce_tests::cases::drained_as(&mut ministry, std::time::Duration::from_secs(20))
            .await
            .delivered
            >= 1
    );
    let standing = ministry_registry
        .get_institution(reg::GetInstitutionRequest {
            name: institution.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .standing;
    assert_eq!(standing, reg::Standing::Suspended as i32);

    let mut own = supervision_client(
        &place,
        &supervision,
        ce_tests::member(Role::Institution, &institution, "institution-clerk"),
    )
    .await;
    let appealed = own
        .appeal_violation(sv::AppealViolationRequest {
            name: case.name.clone(),
            text: "The course was held; the register is attached".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(appealed.appeals.len(), 1);
    supervision.stop().await;
    crediting.stop().await;
    registry.stop().await;
}

/// Guangdong's quality monitoring (44), over a registry holding both
/// provinces: an indicator of Shanghai's institution and a close of
/// Shanghai's period are refused; Guangdong's are taken, and a close that
/// names no province closes Guangdong's alone.
async fn a_provincial_quality_takes_its_own_province_only(b: Backend) {
    let env = QualityEnv::start_with(b, |c| scoped(c, Some("44"))).await;
    let gd_institution =
        world::create_institution(&mut env.registry.province("44"), world::institution("44")).await;
    let sh_institution =
        world::create_institution(&mut env.registry.province("31"), world::institution("31")).await;
    let record = |institution: &str| RecordIndicatorRequest {
        institution: institution.into(),
        period: "2026".into(),
        indicator: Indicator::PassRate as i32,
        value: 0.9,
        samples: 40,
        source: "examination results 2026".into(),
    };
    let close = |province: &str| ClosePeriodRequest {
        period: "2026".into(),
        province: province.into(),
    };
    let mut ministry = env.client(ce_tests::token(Role::Ministry, "m"));
    let refused = ministry
        .record_indicator(record(&sh_institution))
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 44's", "province 31's"]);
    let refused = env
        .client(clerk("31"))
        .close_period(close("31"))
        .await
        .unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);
    let refused = ministry.close_period(close("31")).await.unwrap_err();
    assert_refused(&refused, OTHER, &["province 31's"]);

    let score = ministry
        .record_indicator(record(&gd_institution))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(score.institution, gd_institution);
    // No province named: Guangdong's, not every province's.
    let closed = ministry.close_period(close("")).await.unwrap().into_inner();
    assert_eq!(closed.institutions, 1, "{closed:?}");
    let closed = env
        .client(clerk("44"))
        .close_period(close("44"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.institutions, 1, "{closed:?}");
    let scores = ministry
        .list_scores(ListScoresRequest {
            period: "2026".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .scores;
    let institutions: Vec<&str> = scores.iter().map(|s| s.institution.as_str()).collect();
    assert_eq!(institutions, [gd_institution.as_str()]);
}

both_backends!(
    a_provincial_registry_takes_its_own_province_only,
    the_national_registry_takes_the_ministry_s_writes_only,
    a_provincial_crediting_takes_its_own_engineers_hours_only,
    a_provincial_supervision_takes_its_own_province_only,
    the_national_supervision_takes_the_ministry_s_writes_only,
    a_provincial_quality_takes_its_own_province_only,
);
