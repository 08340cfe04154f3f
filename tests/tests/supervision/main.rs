//! Supervision end to end, with the registry and crediting it acts on over
//! gRPC, on SQLite and PostgreSQL: an institution's suspension enforced by
//! the registry, an Art. 27 decision that revokes hours in crediting and
//! notifies the employer, the same decision made while crediting is down
//! and delivered once it returns, and scope on every call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use ce_proto::crediting::{
    AnnualState, CreateHourCertificateRequest, CreateHourRecordRequest, FaceToFaceTraining,
    GetAnnualStatusRequest, GetHourRecordRequest, HourRecord, RecordState,
    RevokeHourRecordsRequest, RevokeHourRecordsResponse, VerifyHourCertificateRequest,
};
use ce_proto::google::r#type::Date;
use ce_proto::registry::{self as reg, CreateActivityRequest, GetInstitutionRequest, Standing};
use ce_proto::supervision::*;
use ce_server::auth::TokenRequest;
use ce_tests::cases::case_of;
use ce_tests::cases::{self, drained};
use ce_tests::{Backend, SupervisionEnv, bad_fields, both_backends, token, world};
use tonic::Code;

mod inspections;
mod lifecycle;
mod replicas;
mod revocation;
mod sanctions;

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// `days` from today (China time, the registry's clock), as a proto date:
/// for what the registry judges against today.
fn from_today(days: i64) -> Option<Date> {
    Some(ce_server::dates::to_proto(
        ce_server::dates::today() + time::Duration::days(days),
    ))
}

fn province(code: &str) -> TokenRequest {
    ce_tests::department(code, &format!("hrss-{code}-inspector"))
}

fn org(role: Role, name: &str) -> TokenRequest {
    TokenRequest {
        org: Some(name.into()),
        ..token(role, "clerk")
    }
}

async fn institution(env: &SupervisionEnv) -> String {
    institution_of(env, "44").await
}

/// Records a violation of `inst` and decides it with `decision`.
async fn decided(
    gd: &mut ce_tests::Supervision,
    inst: &str,
    category: ViolationCategory,
    decision: Decision,
) -> Violation {
    let v = cases::open(gd, case_of(inst, category)).await;
    cases::decide(gd, &v.name, decision).await
}

/// An engineer of Guangdong with a granted 96 hours (a compliant 2026), and
/// the record.
async fn engineer_with_hours(env: &SupervisionEnv) -> (String, String, HourRecord) {
    engineer_with_days(env, 12).await
}

/// An engineer of Guangdong (electric power) with `days` of an 8-hour
/// seminar in April 2026: (employer, engineer, record).
async fn engineer_with_days(env: &SupervisionEnv, days: i32) -> (String, String, HourRecord) {
    let mut clerk = env.registry.province("44");
    let employer = world::create_employer(&mut clerk, world::employer("44")).await;
    let engineer = world::create_engineer(&mut clerk, world::engineer("44", &employer)).await;
    let seminar = world::activity("44", date(2026, 4, 1), date(2026, 4, days), 8.0);
    let seminar = world::create_activity(&mut clerk, seminar).await;
    let record = ce_tests::answer(env.crediting(province("44")).create_hour_record(
        CreateHourRecordRequest {
            hour_record: Some(HourRecord {
                engineer: engineer.clone(),
                registry_activity: seminar,
                activity: Some(A::FaceToFace(FaceToFaceTraining {
                    subject_category: SubjectCategory::Professional as i32,
                    start_date: date(2026, 4, 1),
                    days,
                    hours_per_day: 8.0,
                })),
                ..Default::default()
            }),
        },
    ))
    .await;
    assert_eq!(record.state, RecordState::Confirmed as i32);
    (employer, engineer, record)
}

/// An institution of `code` in construction.
async fn institution_of(env: &SupervisionEnv, code: &str) -> String {
    let centre = reg::Institution {
        display_name: format!("Training centre of {code}"),
        fields: vec![Field::Construction as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution(code)
    };
    world::create_institution(&mut env.registry.province(code), centre).await
}
