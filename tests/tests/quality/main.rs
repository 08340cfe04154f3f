//! Quality monitoring end to end on SQLite and PostgreSQL: the model applied
//! to seeded evidence gives the documented grades; insufficient data is
//! reported as such; rankings page (`grading.rs`); scope (`scope.rs`);
//! where the evidence comes from (`evidence.rs`); the dashboard in a real
//! browser (`dashboard.rs`). `standing.rs`: provisional and final results,
//! and what reaches supervision (Art. 25, 26).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, Field, Role};
use ce_proto::quality::*;
use ce_proto::registry::{self as reg, CreateInstitutionRequest};
use ce_proto::supervision::{ListViolationsRequest, ViolationCategory};
use ce_server::auth::TokenRequest;
use ce_tests::cases;
use ce_tests::{Backend, QualityEnv, bad_fields, both_backends, credit_code, token};
use tonic::Code;

mod browser;
mod dashboard;
mod evidence;
mod gateway;
mod grading;
mod grpc_web;
mod scope;
mod standing;

use browser::Browser;

/// The next score `watch` pushes, within 10 s; `what` says which.
async fn pushed(watch: &mut tonic::Streaming<Score>, what: &str) -> Score {
    tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect(what)
        .unwrap()
        .unwrap()
}

/// What `indicator` contributes to `score`.
fn contribution(score: &Score, indicator: Indicator) -> Contribution {
    score
        .contributions
        .iter()
        .find(|c| c.indicator == indicator as i32)
        .cloned()
        .unwrap_or_else(|| panic!("{indicator:?} missing: {score:?}"))
}

fn province(code: &str) -> TokenRequest {
    ce_tests::department(code, &format!("hrss-{code}-monitor"))
}

fn institution_token(name: &str) -> TokenRequest {
    ce_tests::member(Role::Institution, name, "quality-officer")
}

async fn institution(env: &QualityEnv, name: &str) -> String {
    institution_serving(env, name, &[Field::Construction]).await
}

/// An institution of Guangdong serving `fields`, the first as its main one.
async fn institution_serving(env: &QualityEnv, name: &str, fields: &[Field]) -> String {
    institution_in(env, "44", name, fields).await
}

/// An institution of province `code` serving `fields`.
async fn institution_in(env: &QualityEnv, code: &str, name: &str, fields: &[Field]) -> String {
    let institution = reg::Institution {
        display_name: name.into(),
        fields: fields.iter().map(|f| *f as i32).collect(),
        ..ce_tests::world::institution(code)
    };
    ce_tests::world::create_institution(&mut env.registry.province(code), institution).await
}

/// Evaluations of `inst` for 2026, all answering `score`, uploaded by the
/// institution for `learners`.
fn upload(inst: &str, learners: &[String], score: i32) -> SubmitEvaluationsRequest {
    SubmitEvaluationsRequest {
        institution: inst.into(),
        period: "2026".into(),
        evaluations: learners
            .iter()
            .map(|l| Evaluation {
                learner: l.clone(),
                score,
                ..Default::default()
            })
            .collect(),
    }
}

/// `n` evaluations all answering `score`, uploaded by the institution for
/// `n` new learners of its.
async fn evaluations(env: &QualityEnv, inst: &str, n: usize, score: i32) -> Score {
    let learners = env.learners(inst, n).await;
    ce_tests::answer(
        env.client(institution_token(inst))
            .submit_evaluations(upload(inst, &learners, score)),
    )
    .await
    .score
    .unwrap()
}

async fn indicator(env: &QualityEnv, inst: &str, i: Indicator, value: f64, samples: i64) -> Score {
    ce_tests::answer(
        env.client(province("44"))
            .record_indicator(RecordIndicatorRequest {
                institution: inst.into(),
                period: "2026".into(),
                indicator: i as i32,
                value,
                samples,
                source: "provincial survey 2026".into(),
            }),
    )
    .await
}

/// Confirms, as the ministry, the hour records `learners` got from their
/// institution ([`QualityEnv::learners`] uploads them unconfirmed): their
/// years then count in crediting's compliance statistics (Art. 22).
async fn confirm_hours(env: &QualityEnv, learners: &[String]) {
    let mut ministry = env
        .crediting(ce_tests::token(Role::Ministry, "ministry"))
        .await;
    for learner in learners {
        for r in ce_tests::all_hour_records(&mut ministry, learner).await {
            ce_tests::credits::confirm(&mut ministry, &r.name).await;
        }
    }
}

/// The registry's record of `inst` once it shows `grade` (within 20 s).
async fn grade_shown(env: &QualityEnv, inst: &str, grade: &str) -> reg::Institution {
    let mut registry = env.registry.province("44");
    let started = Instant::now();
    loop {
        let i = ce_tests::answer(
            registry
                .get_institution(ce_proto::registry::GetInstitutionRequest { name: inst.into() }),
        )
        .await;
        if i.quality_grade == grade {
            return i;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the registry never showed {grade}: {i:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
