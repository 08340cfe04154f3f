//! Provisional and final results (Art. 25, 26): only a final poor result
//! reaches supervision; a final result corrected later is re-evaluated, and
//! a violation whose basis no longer holds is withdrawn, or, once decided,
//! left as it is with its decider notified.
//!
//! The evaluations here are of 2026-Q1 and Q2: the learners' hours (29-30
//! September) end in neither, so no registration delay enters the scores
//! and the figures are those of `docs/quality-model.md` by hand.

use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, Field, Role};
use ce_proto::quality::*;
use ce_proto::registry as reg;
use ce_proto::supervision::{
    DecideViolationRequest, Decision, DecisionKind, ListNotificationsRequest,
    ListViolationsRequest, Violation, ViolationCategory, ViolationState,
    WithdrawQualityResultRequest,
};
use ce_tests::{Backend, QualityEnv, both_backends, token};
use tonic::Code;

use super::{institution_token, province, upload};

/// An institution of Guangdong serving construction, its Art. 15
/// disclosure published in full or not at all.
async fn academy(env: &QualityEnv, name: &str, disclosed: bool) -> String {
    let disclosure = disclosed.then(|| reg::Disclosure {
        scope: "Bridge and tunnel engineering".into(),
        content: "Inspection, maintenance, standards".into(),
        fee_items: vec![reg::FeeItem {
            item: "Tuition per day".into(),
            amount_fen: 30_000,
        }],
    });
    let institution = reg::Institution {
        display_name: name.into(),
        fields: vec![Field::Construction as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        disclosure,
        ..ce_tests::world::institution("44")
    };
    ce_tests::world::create_institution(&mut env.registry.province("44"), institution).await
}

/// 32 evaluations of `period`: 16 answering `low`, 16 answering `high`.
async fn evaluate(env: &QualityEnv, inst: &str, period: &str, low: i32, high: i32) -> Score {
    let learners = env.learners(inst, 32).await;
    let mut req = upload(inst, &learners, low);
    req.period = period.into();
    for e in &mut req.evaluations[16..] {
        e.score = high;
    }
    ce_tests::answer(env.client(institution_token(inst)).submit_evaluations(req))
        .await
        .score
        .unwrap()
}

async fn close(env: &QualityEnv, period: &str) -> ClosePeriodResponse {
    ce_tests::answer(env.client(province("44")).close_period(ClosePeriodRequest {
        period: period.into(),
        province: "44".into(),
    }))
    .await
}

async fn score(env: &QualityEnv, inst: &str, period: &str) -> Score {
    ce_tests::answer(env.client(province("44")).get_score(GetScoreRequest {
        name: format!("{inst}/scores/{period}"),
    }))
    .await
}

/// Supervision's poor-quality violations of `inst`.
async fn violations_of(env: &QualityEnv, inst: &str) -> Vec<Violation> {
    ce_tests::answer(
        env.supervision(token(Role::Ministry, "ministry-clerk"))
            .list_violations(ListViolationsRequest {
                institution: inst.into(),
                category: ViolationCategory::PoorQuality as i32,
                ..Default::default()
            }),
    )
    .await
    .violations
}

/// Waits (up to 30 s) until quality monitoring's outbox is empty, and
/// answers how many effects it has delivered.
async fn drained(env: &QualityEnv) -> i64 {
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    let started = Instant::now();
    loop {
        let outbox = ce_tests::answer(ministry.get_outbox_status(GetOutboxStatusRequest {})).await;
        if outbox.pending == 0 {
            return outbox.delivered;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{outbox:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Supervision's poor-quality violations of `inst` once `done` says they are
/// as expected (within 30 s).
async fn violations_when(
    env: &QualityEnv,
    inst: &str,
    done: impl Fn(&[Violation]) -> bool,
) -> Vec<Violation> {
    let started = Instant::now();
    loop {
        let v = violations_of(env, inst).await;
        if done(&v) {
            return v;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{v:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn figures(s: &Score) -> (&str, f64, bool, i32) {
    (s.grade.as_str(), s.score, s.poor, s.standing)
}

const PROVISIONAL: i32 = ScoreStanding::Provisional as i32;
const FINAL: i32 = ScoreStanding::Final as i32;

/// The four steps: C then C while the periods are open (poor, but
/// provisional, so nothing is reported), then both closed: the disclosure
/// and violations pulled in make both B 75. A violation an earlier release
/// raised from the provisional C is withdrawn, naming the final figures.
async fn a_poor_result_counts_only_once_final_and_a_close_withdraws_one_raised_before(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = academy(&env, "Harbour Academy", true).await;
    // Answers 3 and 4 in equal numbers: 3.5, normalised 62.5, a C.
    let q1 = evaluate(&env, &inst, "2026-Q1", 3, 4).await;
    assert_eq!(figures(&q1), ("C", 62.5, false, PROVISIONAL));
    let q2 = evaluate(&env, &inst, "2026-Q2", 3, 4).await;
    assert_eq!(figures(&q2), ("C", 62.5, true, PROVISIONAL));
    drained(&env).await;
    assert!(violations_of(&env, &inst).await.is_empty(), "provisional");

    // What the release before this one did at step 2: it reported the
    // provisional C to supervision (its outbox kept the report).
    let db = quality_db(&env);
    let report = ce_proto::supervision::ReportQualityResultRequest {
        institution: inst.clone(),
        period: "2026-Q2".into(),
        grade: "C".into(),
        score: 62.5,
        model_version: "national-2026.2".into(),
        finding: "grade C under national-2026.2".into(),
        compute_time: None,
    };
    ce_tests::answer(
        env.supervision(token(Role::Service, "quality"))
            .report_quality_result(report.clone()),
    )
    .await;
    let mut effect = ce_server::outbox::Effect::new(
        "0000-earlier-release".into(),
        &format!("{inst}/scores/2026-Q2"),
        quality::scores::REPORT_POOR,
        prost::Message::encode_to_vec(&report),
    );
    effect.delivered_micros = Some(effect.create_micros);
    ce_server::outbox::insert(&mut db.connection().unwrap(), &effect).unwrap();
    assert_eq!(
        violations_of(&env, &inst).await[0].state,
        ViolationState::Open as i32
    );

    // A period not over yet cannot be closed (quality's today: 2027-01-15).
    let err = ce_tests::refusal(env.client(province("44")).close_period(ClosePeriodRequest {
        period: "2027-Q1".into(),
        province: "44".into(),
    }))
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());

    let closed = close(&env, "2026-Q1").await;
    assert_eq!((closed.institutions, closed.poor), (1, 0));
    close(&env, "2026-Q2").await;
    // Disclosure complete (weight 10) and no violations (5) beside the
    // evaluations' 62.5 (30): (62.5 × 30 + 100 × 15) / 45 = 75.
    for period in ["2026-Q1", "2026-Q2"] {
        let s = score(&env, &inst, period).await;
        assert_eq!(figures(&s), ("B", 75.0, false, FINAL), "{period}");
    }
    let withdrawn = violations_when(&env, &inst, |v| {
        v.iter()
            .all(|v| v.state == ViolationState::Withdrawn as i32)
    })
    .await;
    assert_eq!(withdrawn.len(), 1);
    let w = &withdrawn[0];
    assert_eq!(
        w.withdrawal_reason,
        "the final quality result for 2026-Q2 is grade B, score 75.00 under model national-2026.2: no longer poor (Art. 25, 26)"
    );
    let basis = w.quality_result.clone().unwrap();
    assert_eq!(
        (basis.grade.as_str(), basis.score, basis.poor),
        ("B", 75.0, false)
    );
    assert!(w.withdraw_time.is_some());
    // The institution sees it too.
    let seen = ce_tests::answer(env.supervision(institution_token(&inst)).get_violation(
        ce_proto::supervision::GetViolationRequest {
            name: w.name.clone(),
        },
    ))
    .await;
    assert_eq!(seen.state, ViolationState::Withdrawn as i32);

    // Reopened: provisional again until the next close, and nothing is said.
    let delivered = drained(&env).await;
    let reopened = ce_tests::answer(env.client(province("44")).reopen_period(
        ReopenPeriodRequest {
            period: "2026-Q2".into(),
            province: "44".into(),
            reason: "late evaluations from the June course".into(),
        },
    ))
    .await;
    assert_eq!(reopened.scores, 1);
    assert_eq!(score(&env, &inst, "2026-Q2").await.standing, PROVISIONAL);
    close(&env, "2026-Q2").await;
    assert_eq!(score(&env, &inst, "2026-Q2").await.standing, FINAL);
    assert_eq!(
        drained(&env).await,
        delivered,
        "the same result: nothing new"
    );
    assert_eq!(violations_of(&env, &inst).await.len(), 1);
}

fn quality_db(env: &QualityEnv) -> ce_db::Db {
    ce_db::Db::connect(
        &env.registry.place.config("quality").database.url,
        1,
        quality::migrations(),
    )
    .unwrap()
}

/// C in two consecutive periods, both final: one violation, with the final
/// figures; closing both again changes nothing.
async fn c_then_c_both_final_raise_one_violation_with_the_final_figures(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = academy(&env, "Dockside Academy", true).await;
    // Every answer 3: normalised 50; with disclosure and violations,
    // (50 × 30 + 100 × 15) / 45 = 66.67 once closed, a C.
    evaluate(&env, &inst, "2026-Q1", 3, 3).await;
    let q2 = evaluate(&env, &inst, "2026-Q2", 3, 3).await;
    assert_eq!(figures(&q2), ("D", 50.0, true, PROVISIONAL));
    close(&env, "2026-Q1").await;
    let closed = close(&env, "2026-Q2").await;
    assert_eq!(closed.poor, 1);
    assert_eq!(
        figures(&score(&env, &inst, "2026-Q1").await),
        ("C", 66.67, false, FINAL)
    );
    assert_eq!(
        figures(&score(&env, &inst, "2026-Q2").await),
        ("C", 66.67, true, FINAL)
    );
    let raised = violations_when(&env, &inst, |v| !v.is_empty()).await;
    let delivered = drained(&env).await;
    assert_eq!(raised.len(), 1);
    let v = &raised[0];
    assert_eq!(v.state, ViolationState::Open as i32);
    assert!(
        v.description
            .ends_with("final grade C, score 66.67 under model national-2026.2"),
        "{}",
        v.description
    );
    let basis = v.quality_result.clone().unwrap();
    assert_eq!(
        (
            basis.score_name.as_str(),
            basis.period.as_str(),
            basis.grade.as_str(),
            basis.score,
            basis.model_version.as_str(),
            basis.poor
        ),
        (
            format!("{inst}/scores/2026-Q2").as_str(),
            "2026-Q2",
            "C",
            66.67,
            "national-2026.2",
            true
        )
    );
    close(&env, "2026-Q1").await;
    close(&env, "2026-Q2").await;
    assert_eq!(drained(&env).await, delivered, "nothing new to say");
    let again = violations_of(&env, &inst).await;
    assert_eq!(again, raised, "closing again changes nothing");

    // Q2's C is poor only because Q1's was C too: a pass rate recorded
    // for Q1 makes it B ((50 × 30 + 100 × 15 + 100 × 15) / 60 = 75), so
    // Q2 is rescored from its stored evidence and its violation withdrawn.
    let q1 = ce_tests::answer(env.client(province("44")).record_indicator(
        RecordIndicatorRequest {
            institution: inst.clone(),
            period: "2026-Q1".into(),
            indicator: Indicator::PassRate as i32,
            value: 1.0,
            samples: 40,
            source: "exam board results, 2026-Q1".into(),
        },
    ))
    .await;
    assert_eq!(figures(&q1), ("B", 75.0, false, FINAL));
    assert_eq!(
        figures(&score(&env, &inst, "2026-Q2").await),
        ("C", 66.67, false, FINAL)
    );
    let withdrawn = violations_when(&env, &inst, |v| {
        v.iter()
            .all(|v| v.state == ViolationState::Withdrawn as i32)
    })
    .await;
    assert!(
        withdrawn[0]
            .withdrawal_reason
            .contains("grade C, score 66.67 under model national-2026.2: no longer poor"),
        "{}",
        withdrawn[0].withdrawal_reason
    );
}

/// A final D (no disclosure) raises a violation; the disclosure's
/// completeness recorded later makes the final result B, and the withdrawal
/// waits for supervision, down meanwhile, then lands once.
async fn a_corrected_final_result_withdraws_its_violation_once_supervision_is_back(b: Backend) {
    let mut env = QualityEnv::start(b).await;
    let inst = academy(&env, "Quayside Academy", false).await;
    evaluate(&env, &inst, "2026-Q1", 3, 4).await;
    close(&env, "2026-Q1").await;
    // Nothing disclosed: (62.5 × 30 + 0 × 10 + 100 × 5) / 45 = 52.78, a D.
    let d = score(&env, &inst, "2026-Q1").await;
    assert_eq!(figures(&d), ("D", 52.78, true, FINAL));
    let raised = violations_when(&env, &inst, |v| !v.is_empty()).await;
    assert_eq!(raised[0].state, ViolationState::Open as i32);
    assert!(
        raised[0].description.contains("grade D, score 52.78"),
        "{}",
        raised[0].description
    );

    env.stop_supervision().await;
    let corrected = ce_tests::answer(env.client(province("44")).record_indicator(
        RecordIndicatorRequest {
            institution: inst.clone(),
            period: "2026-Q1".into(),
            indicator: Indicator::DisclosureCompleteness as i32,
            value: 1.0,
            samples: 1,
            source: "provincial check of the published disclosure, 2027-01-12".into(),
        },
    ))
    .await;
    assert_eq!(figures(&corrected), ("B", 75.0, false, FINAL));
    // The withdrawal waits, and the worker says why.
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    let started = Instant::now();
    loop {
        let outbox = ce_tests::answer(ministry.get_outbox_status(GetOutboxStatusRequest {})).await;
        if !outbox.oldest_last_error.is_empty() {
            assert!(outbox.pending >= 1, "{outbox:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no failed delivery while supervision was down: {outbox:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.restart_supervision().await;
    drained(&env).await;
    let after = violations_of(&env, &inst).await;
    assert_eq!(after.len(), 1, "withdrawn, not replaced: {after:#?}");
    assert_eq!(after[0].name, raised[0].name);
    assert_eq!(after[0].state, ViolationState::Withdrawn as i32);
    assert!(
        after[0].withdrawal_reason.contains("grade B, score 75.00"),
        "{}",
        after[0].withdrawal_reason
    );
}

/// A violation already decided keeps its decision when its basis changes;
/// the department that decided it is told once.
async fn a_decided_violation_stands_and_its_decider_is_notified_once(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = academy(&env, "Wharf Academy", false).await;
    evaluate(&env, &inst, "2026-Q1", 3, 4).await;
    close(&env, "2026-Q1").await;
    let raised = violations_when(&env, &inst, |v| !v.is_empty()).await;
    let decider = ce_tests::department("44", "hrss-44-supervisor");
    ce_tests::answer(
        env.supervision(decider.clone())
            .decide_violation(DecideViolationRequest {
                name: raised[0].name.clone(),
                decision: Some(Decision {
                    kind: DecisionKind::Warning as i32,
                    reason: "Poor results in 2026-Q1".into(),
                    effective_date: Some(ce_server::dates::to_proto(ce_server::dates::today())),
                    ..Default::default()
                }),
            }),
    )
    .await;
    env.client(province("44"))
        .record_indicator(RecordIndicatorRequest {
            institution: inst.clone(),
            period: "2026-Q1".into(),
            indicator: Indicator::DisclosureCompleteness as i32,
            value: 1.0,
            samples: 1,
            source: "provincial check of the published disclosure".into(),
        })
        .await
        .unwrap();
    drained(&env).await;
    let after = violations_of(&env, &inst).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].state, ViolationState::Decided as i32, "unchanged");
    assert_eq!(after[0].quality_result, raised[0].quality_result);
    // The same withdrawal again (a retried delivery): still one notice.
    let b75 = score(&env, &inst, "2026-Q1").await;
    ce_tests::answer(
        env.supervision(token(Role::Service, "quality"))
            .withdraw_quality_result(WithdrawQualityResultRequest {
                institution: inst.clone(),
                period: "2026-Q1".into(),
                grade: b75.grade.clone(),
                score: b75.score,
                model_version: b75.model_version.clone(),
                compute_time: b75.compute_time,
            }),
    )
    .await;
    let notes = ce_tests::answer(env.supervision(province("44")).list_notifications(
        ListNotificationsRequest {
            province: "44".into(),
            ..Default::default()
        },
    ))
    .await
    .notifications;
    let about: Vec<_> = notes
        .iter()
        .filter(|n| n.violation == raised[0].name)
        .collect();
    assert_eq!(about.len(), 1, "{about:#?}");
    assert_eq!(about[0].department, "hrss-44-supervisor");
    assert!(about[0].employer.is_empty());
    assert!(
        about[0].text.contains("grade B, score 75.00") && about[0].text.contains("no longer poor"),
        "{}",
        about[0].text
    );
    // The decider acknowledges it.
    let acknowledged = ce_tests::answer(env.supervision(decider).acknowledge_notification(
        ce_proto::supervision::AcknowledgeNotificationRequest {
            name: about[0].name.clone(),
        },
    ))
    .await;
    assert!(acknowledged.acknowledge_time.is_some());
}

/// Registration delay (an indicator) runs from the last day of the
/// training a record covers to the day its hours reached crediting.
async fn registration_delay_runs_from_the_last_day_of_training(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = academy(&env, "Pier Academy", true).await;
    // The learners' two days are 29 and 30 September.
    let learners = env.learners(&inst, 3).await;
    let record = env
        .crediting(token(Role::Ministry, "ministry-clerk"))
        .await
        .list_hour_records(ce_proto::crediting::ListHourRecordsRequest {
            engineer: learners[0].clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records
        .remove(0);
    let refreshed = ce_tests::answer(env.client(province("44")).refresh_indicators(
        RefreshIndicatorsRequest {
            institution: inst.clone(),
            period: "2026-Q3".into(),
        },
    ))
    .await;
    let created = record.create_time.unwrap();
    let registered = ce_rules::dates::date_of(
        time::OffsetDateTime::from_unix_timestamp(created.seconds).unwrap(),
    );
    let delay = refreshed
        .contributions
        .iter()
        .find(|c| c.indicator == Indicator::RegistrationDelay as i32);
    // Insufficient data (no evaluations): the indicator is in the reasons'
    // evidence, so read it back from the stored indicators instead.
    let value = match delay {
        Some(c) => c.value,
        None => stored_delay(&env, &inst, "2026-Q3"),
    };
    assert_eq!(
        value,
        (registered - time::macros::date!(2026 - 09 - 30)).whole_days() as f64,
        "from 30 September, the last day, not 29 September"
    );
}

fn stored_delay(env: &QualityEnv, inst: &str, period: &str) -> f64 {
    let db = quality_db(env);
    let mut conn = db.connection().unwrap();
    quality::store::indicators_of(&mut conn, inst.trim_start_matches("institutions/"), period)
        .unwrap()
        .into_iter()
        .find(|r| r.indicator == Indicator::RegistrationDelay as i32)
        .map(|r| r.value)
        .expect("registration delay recorded")
}

both_backends!(
    a_poor_result_counts_only_once_final_and_a_close_withdraws_one_raised_before,
    c_then_c_both_final_raise_one_violation_with_the_final_figures,
    a_corrected_final_result_withdraws_its_violation_once_supervision_is_back,
    a_decided_violation_stands_and_its_decider_is_notified_once,
    registration_delay_runs_from_the_last_day_of_training,
);
