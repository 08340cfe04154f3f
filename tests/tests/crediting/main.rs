//! Crediting end to end, with the registry it checks over gRPC, on SQLite
//! and PostgreSQL: the three routes of Art. 21, confirmation by the right
//! party, refusals, and annual status computed by the rules library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::*;
use ce_proto::google::r#type::Date;
use ce_proto::registry::{
    self as reg, ChangeInstitutionStandingRequest, CreateActivityRequest, CreateEngineerRequest,
    Standing,
};
use ce_tests::credits::{self, creating as create, status_name};
use ce_tests::{Backend, CreditingEnv, bad_fields, both_backends};
use tonic::Code;

mod aggregation;
mod audit_join;
mod bulk;
mod certificates;
mod claims;
mod concurrency;
mod deadlines;
mod errors;
mod moves;
mod online;
mod reads;
mod refusals;
mod routes;
mod verifiable;
mod years;

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

struct World {
    env: CreditingEnv,
    employer: String,
    engineer: String,
    institution: String,
    /// An institution's course, 2026-03-02 for 3 days.
    course: String,
    /// The Guangdong department's own seminar, 2026-04-01 for 3 days.
    seminar: String,
}

async fn world(b: Backend) -> World {
    world_in(CreditingEnv::start(b).await).await
}

/// The world's employer, engineer, institution and activities
/// ([`ce_tests::world::World`]), in `env`.
async fn world_in(env: CreditingEnv) -> World {
    let ce_tests::world::World {
        employer,
        engineer,
        institution,
        course,
        seminar,
    } = ce_tests::world::World::build(&env.registry).await;
    World {
        env,
        employer,
        engineer,
        institution,
        course,
        seminar,
    }
}

fn face_to_face(
    engineer: &str,
    activity: &str,
    start: Option<Date>,
    days: i32,
    hours: f64,
) -> HourRecord {
    HourRecord {
        engineer: engineer.into(),
        registry_activity: activity.into(),
        activity: Some(A::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: start,
            days,
            hours_per_day: hours,
        })),
        ..Default::default()
    }
}

/// The world's engineer on the institution's course, from `start` for
/// `days` days of `hours`.
fn on_course(w: &World, start: Option<Date>, days: i32, hours: f64) -> HourRecord {
    face_to_face(&w.engineer, &w.course, start, days, hours)
}

/// The world's engineer at the department's seminar, from `start` for
/// `days` days of `hours`.
fn at_seminar(w: &World, start: Option<Date>, days: i32, hours: f64) -> HourRecord {
    face_to_face(&w.engineer, &w.seminar, start, days, hours)
}

fn conversion(engineer: &str, kind: conversion::Kind, evidence: &str) -> HourRecord {
    HourRecord {
        engineer: engineer.into(),
        activity: Some(A::Conversion(Conversion {
            kind: kind as i32,
            date: date(2026, 5, 20),
            evidence_id: evidence.into(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// Another engineer of the world's employer in Guangdong, in `field`.
async fn colleague(w: &World, name: &str, field: Field) -> String {
    let colleague = reg::Engineer {
        display_name: name.into(),
        field: field as i32,
        ..ce_tests::world::engineer("44", &w.employer)
    };
    ce_tests::world::create_engineer(&mut w.env.registry.province("44"), colleague).await
}

fn keyed(mut r: HourRecord, key: &str) -> HourRecord {
    r.client_key = key.into();
    r
}

async fn upload(
    client: &mut ce_tests::Crediting,
    messages: Vec<Vec<HourRecord>>,
) -> Vec<Vec<BulkUploadResult>> {
    upload_with(client, messages, None).await
}

/// [`upload`], sent under `request_id` (`x-request-id`) if given.
async fn upload_with(
    client: &mut ce_tests::Crediting,
    messages: Vec<Vec<HourRecord>>,
    request_id: Option<&str>,
) -> Vec<Vec<BulkUploadResult>> {
    let requests: Vec<BulkUploadHourRecordsRequest> = messages
        .into_iter()
        .map(|hour_records| BulkUploadHourRecordsRequest { hour_records })
        .collect();
    let mut request = tonic::Request::new(tokio_stream::iter(requests));
    if let Some(id) = request_id {
        request
            .metadata_mut()
            .insert("x-request-id", id.parse().unwrap());
    }
    let mut answers = ce_tests::answer(client.bulk_upload_hour_records(request)).await;
    let mut out = Vec::new();
    while let Some(m) = answers.message().await.unwrap() {
        out.push(m.results);
    }
    out
}

trait Change {
    fn evidence_changed(&mut self);
}

impl Change for HourRecord {
    fn evidence_changed(&mut self) {
        if let Some(A::Conversion(c)) = &mut self.activity {
            c.evidence_id.push_str("-other");
        }
    }
}

async fn confirmed(w: &World, record: HourRecord) -> HourRecord {
    let submitted = credits::record(&mut w.env.engineer(&w.engineer), record).await;
    credits::confirm(&mut w.env.province("44"), &submitted.name).await
}

/// 30 public hours for `w.engineer`, granted by Guangdong for its online
/// course "Ethics and law for engineers" in June 2026.
async fn thirty_public_hours_online(w: &World) {
    let online = reg::Activity {
        title: "Ethics and law for engineers".into(),
        subject_category: SubjectCategory::Public as i32,
        delivery_mode: DeliveryMode::Online as i32,
        field: 0,
        ..ce_tests::world::activity("44", date(2026, 6, 1), date(2026, 6, 30), 1.0)
    };
    let online = ce_tests::world::create_activity(&mut w.env.registry.province("44"), online).await;
    credits::record(
        &mut w.env.province("44"),
        HourRecord {
            engineer: w.engineer.clone(),
            registry_activity: online,
            activity: Some(A::Online(OnlineTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(2026, 6, 1),
                end_date: date(2026, 6, 30),
                hours: 30.0,
                ..Default::default()
            })),
            ..Default::default()
        },
    )
    .await;
}

/// `docs/rules.md`, worked example 3, for `w.engineer`: a sole project (40) and a sole book
/// (30), capped to 60 converted, and 30 public online hours: compliant.
/// Returns the project record.
pub(crate) async fn compliant_year(w: &World) -> HourRecord {
    let project = confirmed(
        w,
        conversion(&w.engineer, conversion::Kind::ResearchSole, "GD-2026-0099"),
    )
    .await;
    confirmed(
        w,
        conversion(&w.engineer, conversion::Kind::BookSole, "978-7-111-70099-1"),
    )
    .await;
    thirty_public_hours_online(w).await;
    project
}

/// A second crediting over the same database whose today is `today`.
/// Disqualifies the world's institution from 3 March 2026 (Art. 26), and
/// gives its clerk a client of a fresh crediting: registry answers are
/// cached briefly, and a fresh crediting sees the standing at once. The
/// service is returned to be kept running.
async fn disqualified_from_march_3(w: &World) -> (ce_tests::Service, ce_tests::Crediting) {
    ce_tests::answer(w.env.registry.province("44").change_institution_standing(
        ChangeInstitutionStandingRequest {
            name: w.institution.clone(),
            standing: Standing::Disqualified as i32,
            reason: "Certificates without training".into(),
            effective_date: date(2026, 3, 3),
            article: "Art. 26".into(),
            ..Default::default()
        },
    ))
    .await;
    let fresh = crediting_on(w, time::macros::date!(2026 - 11 - 25)).await;
    let token = w.env.registry.place.token(ce_server::auth::TokenRequest {
        org: Some(w.institution.clone()),
        ..ce_tests::token(ce_proto::common::Role::Institution, "clerk")
    });
    let client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            fresh.channel().await,
            ce_tests::bearer(&token),
        );
    (fresh, client)
}

async fn crediting_on(w: &World, today: time::Date) -> ce_tests::Service {
    crediting_following(&w.env.registry, today, 0).await
}

/// Crediting on `today` with `registry`, reading the registry's engineer
/// changes every `follow_secs` (0: not at all).
async fn crediting_following(
    registry: &ce_tests::RegistryEnv,
    today: time::Date,
    follow_secs: u64,
) -> ce_tests::Service {
    let mut config = registry.place.config("crediting");
    config
        .peers
        .insert("registry".into(), registry.service.url());
    config.set("crediting.follow_registry_secs", follow_secs);
    ce_tests::start_service(config, move |c, s| {
        crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
    })
    .await
}

fn as_role(
    w: &World,
    service: &tonic::transport::Channel,
    req: ce_server::auth::TokenRequest,
) -> ce_tests::Crediting {
    let token = w.env.registry.place.token(req);
    ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
        service.clone(),
        ce_tests::bearer(&token),
    )
}
