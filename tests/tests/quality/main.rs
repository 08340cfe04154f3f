//! Quality monitoring end to end on SQLite and PostgreSQL: the model applied
//! to seeded evidence gives the documented grades; insufficient data is
//! reported as such; rankings page; scope. `standing.rs`: provisional and
//! final results, and what reaches supervision (Art. 25, 26).

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
mod standing;

use browser::Browser;

fn province(code: &str) -> TokenRequest {
    ce_tests::department(code, &format!("hrss-{code}-monitor"))
}

fn institution_token(name: &str) -> TokenRequest {
    ce_tests::member(Role::Institution, name, "quality-officer")
}

fn regulator(field: Field) -> TokenRequest {
    TokenRequest {
        field: Some(field),
        ..token(Role::IndustryRegulator, "field-regulator")
    }
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

/// Supervision's poor-quality violations of `inst`, once `want` of them exist.
async fn poor_violations(env: &QualityEnv, inst: &str, want: usize) -> usize {
    let mut sup = env.supervision(token(Role::Ministry, "ministry-clerk"));
    let started = Instant::now();
    loop {
        let n = sup
            .list_violations(ListViolationsRequest {
                institution: inst.into(),
                category: ViolationCategory::PoorQuality as i32,
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().violations.len())
            .unwrap_or(0);
        if n >= want || started.elapsed() > Duration::from_secs(30) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
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

async fn the_model_grades_evidence_and_ranks_it(b: Backend) {
    let env = QualityEnv::start(b).await;
    let good = institution(&env, "Good Academy").await;
    let poor = institution(&env, "Poor Academy").await;
    let thin = institution(&env, "Thin Academy").await;

    // Good: every answer 5, everyone passes, no complaints upheld: 100, A.
    evaluations(&env, &good, 40, 5).await;
    indicator(&env, &good, Indicator::PassRate, 1.0, 100).await;
    let a = indicator(&env, &good, Indicator::ComplaintsUpheld, 0.0, 100).await;
    assert_eq!(
        (a.state, a.score, a.grade.as_str()),
        (ScoreState::Scored as i32, 100.0, "A")
    );
    assert_eq!(a.model_version, "national-2026.2");
    assert_eq!(a.contributions.len(), 3);
    // Complaints received, upheld or not: 15 per 1000 is half-way to the worst (30).
    let a = indicator(&env, &good, Indicator::ComplaintsReceived, 15.0, 100).await;
    let received = a
        .contributions
        .iter()
        .find(|c| c.indicator == Indicator::ComplaintsReceived as i32)
        .unwrap();
    assert_eq!((received.value, received.normalised), (15.0, 50.0));
    // Weights 30, 15, 10 and 5 of 60: 100 less 5/60 of 50 points.
    assert_eq!(a.score, 95.83);
    assert_eq!(a.grade, "A");
    assert_eq!(a.contributions.len(), 4);
    let points: f64 = a.contributions.iter().map(|c| c.points).sum();
    assert!((points - a.score).abs() < 0.01);
    assert!(!a.poor);
    // The grade reaches the registry.
    let i = grade_shown(&env, &good, "A").await;
    assert_eq!(
        (i.quality_period.as_str(), i.quality_model_version.as_str()),
        ("2026", "national-2026.2")
    );

    // Only the quality service records grades; an older period changes nothing.
    let record = |period: &str| ce_proto::registry::RecordQualityGradeRequest {
        name: good.clone(),
        period: period.into(),
        grade: "D".into(),
        model_version: "national-2026.2".into(),
        ..Default::default()
    };
    let err = ce_tests::refusal(
        env.registry
            .province("44")
            .record_quality_grade(record("2027")),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let unchanged = ce_tests::answer(
        env.registry
            .service_role("service/quality")
            .record_quality_grade(record("2025")),
    )
    .await;
    assert_eq!(unchanged.quality_grade, "A");

    // Poor: answers 3 (normalised 50) and a pass rate of 0.75 (50): 50, D, poor.
    evaluations(&env, &poor, 40, 3).await;
    let d = indicator(&env, &poor, Indicator::PassRate, 0.75, 100).await;
    assert_eq!((d.score, d.grade.as_str(), d.poor), (50.0, "D", true));
    // More evidence, still D. The period is open: the result is
    // provisional and nothing goes to supervision (Art. 25, 26; see
    // `standing.rs` for final results).
    let d2 = indicator(&env, &poor, Indicator::ComplaintsUpheld, 8.0, 500).await;
    assert_eq!(d2.grade, "D");
    assert_eq!(d2.standing, ScoreStanding::Provisional as i32);

    // Thin: five evaluations are not enough for a score.
    let t = evaluations(&env, &thin, 5, 5).await;
    assert_eq!(t.state, ScoreState::InsufficientData as i32);
    assert!(t.reasons[0].contains("Evaluation"), "{:?}", t.reasons);
    assert!(t.grade.is_empty());

    // Rankings: best first, insufficient data last, page by page.
    let mut gd = env.client(province("44"));
    let ranked = ce_tests::every(|page_token| {
        let mut gd = gd.clone();
        async move {
            let page = ce_tests::answer(gd.list_scores(ListScoresRequest {
                period: "2026".into(),
                page_size: 1,
                page_token,
                ..Default::default()
            }))
            .await;
            let institutions = page.scores.into_iter().map(|s| s.institution);
            (institutions.collect::<Vec<_>>(), page.next_page_token)
        }
    })
    .await;
    assert_eq!(ranked, vec![good.clone(), poor.clone(), thin.clone()]);

    // Another provisional D.
    let late = institution(&env, "Late Academy").await;
    evaluations(&env, &late, 30, 1).await;
    let err = ce_tests::refusal(gd.get_outbox_status(GetOutboxStatusRequest {})).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let started = Instant::now();
    loop {
        let outbox = ce_tests::answer(
            env.client(ce_tests::token(Role::Ministry, "ministry-clerk"))
                .get_outbox_status(GetOutboxStatusRequest {}),
        )
        .await;
        if outbox.pending == 0 {
            assert!(outbox.delivered >= 3, "grades delivered: {outbox:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{outbox:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // With everything delivered: no violation from a provisional result.
    assert_eq!(poor_violations(&env, &late, 0).await, 0);
    assert_eq!(poor_violations(&env, &poor, 0).await, 0);

    // The distribution of the period's grades.
    let dist = ce_tests::answer(gd.get_score_distribution(GetScoreDistributionRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(dist.rows.len(), 1);
    let row = &dist.rows[0];
    let grades: Vec<(&str, i64)> = row
        .grades
        .iter()
        .map(|g| (g.grade.as_str(), g.institutions))
        .collect();
    assert_eq!(grades, vec![("A", 1), ("D", 2)]);
    assert_eq!(row.insufficient_data, 1);
    // Grade changes: each institution's first grade, in order.
    let changes = ce_tests::answer(gd.list_grade_changes(ListGradeChangesRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await
    .changes;
    let firsts: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c.institution.as_str(),
                c.from_grade.as_str(),
                c.to_grade.as_str(),
            )
        })
        .collect();
    assert_eq!(
        firsts,
        vec![
            (good.as_str(), "", "A"),
            (poor.as_str(), "", "D"),
            (late.as_str(), "", "D")
        ]
    );
    // A dashboard follows new scores live.
    let mut watch = ce_tests::answer(gd.watch_scores(WatchScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    let fresh = institution(&env, "Fresh Academy").await;
    evaluations(&env, &fresh, 30, 4).await;
    let seen = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("a new score is pushed")
        .unwrap()
        .unwrap();
    assert_eq!(seen.institution, fresh);

    // History keeps every computation.
    let history = ce_tests::answer(gd.list_score_history(ListScoreHistoryRequest {
        institution: good.clone(),
    }))
    .await
    .scores;
    assert_eq!(history.len(), 4);
    assert_eq!(history.last().unwrap().grade, "A");
}

async fn each_sees_only_what_its_scope_allows(b: Backend) {
    let env = QualityEnv::start(b).await;
    let own = institution(&env, "Own Academy").await;
    let other = institution(&env, "Other Academy").await;
    evaluations(&env, &own, 30, 4).await;
    evaluations(&env, &other, 30, 4).await;
    // An institution sees its own breakdown, and only others' grades.
    let mut mine = env.client(institution_token(&own));
    let ranking = ce_tests::answer(mine.list_scores(ListScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await
    .scores;
    assert_eq!(ranking.len(), 2);
    for s in &ranking {
        if s.institution == own {
            assert!(!s.contributions.is_empty() && s.score > 0.0, "{s:?}");
            continue;
        }
        // Another's: which it is, the period, the grade, the standing;
        // nothing else (no score, indicators, reasons or poor flag).
        let seen = Score {
            name: s.name.clone(),
            institution: s.institution.clone(),
            period: s.period.clone(),
            province: s.province.clone(),
            field: s.field,
            fields: s.fields.clone(),
            state: s.state,
            grade: s.grade.clone(),
            standing: s.standing,
            ..Default::default()
        };
        assert_eq!(s, &seen, "only the grade of another");
        assert_eq!(s.grade, "B");
    }
    // The same through GetScore, and no mean that is one institution's score.
    let theirs = mine
        .get_score(GetScoreRequest {
            name: format!("{other}/scores/2026"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((theirs.score, theirs.grade.as_str()), (0.0, "B"));
    assert!(theirs.contributions.is_empty() && theirs.model_version.is_empty());
    let dist = ce_tests::answer(mine.get_score_distribution(GetScoreDistributionRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    assert!(dist.rows.iter().all(|r| r.mean_score == 0.0), "{dist:?}");
    // It records only what it measures itself, and only for itself.
    let record = |inst: &str, i: Indicator| RecordIndicatorRequest {
        institution: inst.into(),
        period: "2026".into(),
        indicator: i as i32,
        value: 1.0,
        samples: 10,
        source: "own records".into(),
    };
    mine.record_indicator(record(&own, Indicator::PassRate))
        .await
        .unwrap();
    for (inst, i) in [
        (&own, Indicator::ComplaintsUpheld),
        (&other, Indicator::PassRate),
    ] {
        let err = ce_tests::refusal(mine.record_indicator(record(inst, i))).await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    // A province reads only its institutions.
    let err = env
        .client(province("11"))
        .list_scores(ListScoresRequest {
            period: "2026".into(),
            province: "44".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(env.client(province("11")).get_score(GetScoreRequest {
        name: format!("{own}/scores/2026"),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // A learner evaluates in their own name.
    let li = env.learners(&own, 1).await.remove(0);
    let mut learner = env.client(token(Role::Engineer, &li));
    learner
        .submit_evaluations(SubmitEvaluationsRequest {
            institution: own.clone(),
            period: "2026".into(),
            evaluations: vec![Evaluation {
                score: 5,
                ..Default::default()
            }],
        })
        .await
        .unwrap();
    let err = ce_tests::refusal(learner.list_scores(ListScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(env.client(province("44")).submit_evaluations(
        SubmitEvaluationsRequest {
            institution: own.clone(),
            period: "2026-H3".into(),
            evaluations: vec![Evaluation {
                score: 9,
                ..Default::default()
            }],
        },
    ))
    .await;
    assert_eq!(bad_fields(&err), ["period"]);
}

/// An industry regulator sees the institutions serving its field, under any
/// of their fields, and nothing of the others: not in rankings,
/// distributions, grade changes, single scores or the live watch.
async fn a_field_regulator_sees_only_institutions_serving_its_field(b: Backend) {
    let env = QualityEnv::start(b).await;
    let building = institution(&env, "Building Academy").await;
    evaluations(&env, &building, 30, 4).await;
    let mut reg = env.client(regulator(Field::Construction));
    let mut watch = ce_tests::answer(reg.watch_scores(WatchScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    // Mining only, then mining first and construction second.
    let mining = institution_serving(&env, "Mining Academy", &[Field::Mining]).await;
    let both =
        institution_serving(&env, "Mixed Academy", &[Field::Mining, Field::Construction]).await;
    evaluations(&env, &mining, 30, 5).await;
    evaluations(&env, &both, 30, 3).await;
    let seen = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("the construction institution's score is pushed")
        .unwrap()
        .unwrap();
    assert_eq!(
        seen.institution, both,
        "the mining-only score is not pushed"
    );
    assert!(
        !seen.contributions.is_empty(),
        "in scope: the full breakdown"
    );
    assert_eq!(
        seen.fields,
        [Field::Mining as i32, Field::Construction as i32]
    );
    let quiet = tokio::time::timeout(Duration::from_millis(1500), watch.message()).await;
    assert!(quiet.is_err(), "nothing else: {quiet:?}");

    // Rankings: found under its second field too.
    let ranked = |scores: Vec<Score>| -> Vec<String> {
        let mut v: Vec<String> = scores.into_iter().map(|s| s.institution).collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let list = |field: Field| ListScoresRequest {
        period: "2026".into(),
        field: field as i32,
        ..Default::default()
    };
    let theirs = ce_tests::answer(reg.list_scores(list(Field::Unspecified))).await;
    assert_eq!(
        ranked(theirs.scores),
        sorted(vec![building.clone(), both.clone()])
    );
    let err = ce_tests::refusal(reg.list_scores(list(Field::Mining))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    let miners = ce_tests::answer(ministry.list_scores(list(Field::Mining))).await;
    assert_eq!(
        ranked(miners.scores),
        sorted(vec![mining.clone(), both.clone()])
    );

    // The distribution counts an institution under each field it serves.
    let dist = ce_tests::answer(
        ministry.get_score_distribution(GetScoreDistributionRequest {
            period: "2026".into(),
            ..Default::default()
        }),
    )
    .await;
    let per_field: Vec<(i32, i64)> = dist
        .rows
        .iter()
        .map(|r| (r.field, r.grades.iter().map(|g| g.institutions).sum()))
        .collect();
    assert_eq!(
        per_field,
        vec![(Field::Mining as i32, 2), (Field::Construction as i32, 2)]
    );
    let dist = ce_tests::answer(reg.get_score_distribution(GetScoreDistributionRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(dist.rows.len(), 1);
    assert_eq!(dist.rows[0].field, Field::Construction as i32);

    // Grade changes: only those serving construction.
    let changes = ce_tests::answer(reg.list_grade_changes(ListGradeChangesRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await
    .changes;
    assert_eq!(
        sorted(changes.into_iter().map(|c| c.institution).collect()),
        sorted(vec![building.clone(), both.clone()])
    );

    // Single scores and histories follow the same scope.
    let get = |inst: &str| GetScoreRequest {
        name: format!("{inst}/scores/2026"),
    };
    reg.get_score(get(&both)).await.unwrap();
    let err = ce_tests::refusal(reg.get_score(get(&mining))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(reg.list_score_history(ListScoreHistoryRequest {
        institution: mining.clone(),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// Art. 25: only an institution's learners evaluate it, once each a period.
async fn only_its_learners_evaluate_an_institution_once_a_period(b: Backend) {
    let env = QualityEnv::start(b).await;
    let own = institution(&env, "Own Academy").await;
    let other = institution(&env, "Other Academy").await;
    let ours = env.learners(&own, 30).await;
    let theirs = env.learners(&other, 1).await;
    let mut inst = env.client(institution_token(&own));
    let evaluation = |s: &Score| {
        s.contributions
            .iter()
            .find(|c| c.indicator == Indicator::Evaluation as i32)
            .map(|c| (c.value, c.samples))
            .unwrap_or_else(|| panic!("no evaluation: {s:?}"))
    };
    let first = inst
        .submit_evaluations(upload(&own, &ours, 4))
        .await
        .unwrap();
    assert_eq!(
        evaluation(first.get_ref().score.as_ref().unwrap()),
        (4.0, 30)
    );
    // Uploaded again with other answers: replaced, not added; and again: the same.
    for _ in 0..2 {
        let again = ce_tests::answer(inst.submit_evaluations(upload(&own, &ours, 2))).await;
        assert_eq!(again.stored, 30);
        assert_eq!(evaluation(again.score.as_ref().unwrap()), (2.0, 30));
    }
    // A learner's own answer replaces the one uploaded for them.
    let mut learner = env.client(token(Role::Engineer, &ours[0]));
    let own_answer = ce_tests::answer(learner.submit_evaluations(SubmitEvaluationsRequest {
        evaluations: vec![Evaluation {
            score: 5,
            ..Default::default()
        }],
        ..upload(&own, &[], 0)
    }))
    .await;
    let (value, samples) = evaluation(own_answer.score.as_ref().unwrap());
    assert_eq!(samples, 30);
    assert!((value - (29.0 * 2.0 + 5.0) / 30.0).abs() < 1e-9, "{value}");

    // Someone who never attended it: refused, naming the learner's field.
    let refused = |err: tonic::Status, field: &str| {
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(bad_fields(&err), [field]);
        let why = ce_tests::bad_field_description(&err, field).unwrap();
        assert!(why.contains("Art. 25"), "{why}");
    };
    let stranger = ce_tests::refusal(
        env.client(token(Role::Engineer, &theirs[0]))
            .submit_evaluations(SubmitEvaluationsRequest {
                evaluations: vec![Evaluation {
                    score: 1,
                    ..Default::default()
                }],
                ..upload(&own, &[], 0)
            }),
    )
    .await;
    refused(stranger, "evaluations[0].learner");
    // An institution uploads only its own learners', each once, each named.
    let mut mixed = ours[..2].to_vec();
    mixed.push(theirs[0].clone());
    let err = ce_tests::refusal(inst.submit_evaluations(upload(&own, &mixed, 1))).await;
    refused(err, "evaluations[2].learner");
    let twice = vec![ours[0].clone(), ours[1].clone(), ours[0].clone()];
    let err = ce_tests::refusal(inst.submit_evaluations(upload(&own, &twice, 1))).await;
    refused(err, "evaluations[2].learner");
    let err = ce_tests::refusal(inst.submit_evaluations(upload(&own, &[String::new()], 1))).await;
    refused(err, "evaluations[0].learner");
    // Nothing refused was stored.
    let now = ce_tests::answer(env.client(province("44")).get_score(GetScoreRequest {
        name: format!("{own}/scores/2026"),
    }))
    .await;
    assert_eq!(evaluation(&now), (value, 30));
}

/// Art. 25 "C in consecutive periods": the period right before, of the
/// same granularity, not any earlier one in text order.
async fn c_is_poor_only_right_after_a_c_of_the_period_before(b: Backend) {
    let env = QualityEnv::start(b).await;
    // Earlier results, as an earlier run of the service left them.
    let db = ce_db::Db::connect(
        &env.registry.place.config("quality").database.url,
        1,
        quality::migrations(),
    )
    .unwrap();
    let seed = |inst: &str, period: &str| {
        let mut conn = db.connection().unwrap();
        quality::store::put_score(
            &mut conn,
            &quality::store::ScoreRow {
                institution_id: inst.trim_start_matches("institutions/").into(),
                period: period.into(),
                province: "44".into(),
                field: Field::Construction as i32,
                state: ScoreState::Scored as i32,
                score: 62.5,
                grade: "C".into(),
                body: Vec::new(),
                compute_micros: 1,
            },
            &format!("seed-{inst}-{period}"),
        )
        .unwrap();
    };
    // Answers 3 and 4 in equal numbers: 3.5, normalised 62.5, a C.
    let c = |inst: String, period: &'static str| {
        let env = &env;
        async move {
            let learners = env.learners(&inst, 30).await;
            let mut req = upload(&inst, &learners, 3);
            req.period = period.into();
            for e in &mut req.evaluations[15..] {
                e.score = 4;
            }
            let s = env
                .client(institution_token(&inst))
                .submit_evaluations(req)
                .await
                .unwrap()
                .into_inner()
                .score
                .unwrap();
            assert_eq!(s.grade, "C", "{s:?}");
            s.poor
        }
    };
    let after_c = institution(&env, "After C").await;
    seed(&after_c, "2025");
    assert!(c(after_c, "2026").await, "C in 2025, then C in 2026: poor");
    let gap = institution(&env, "Gap").await;
    seed(&gap, "2024");
    assert!(!c(gap, "2026").await, "C, none, C: not consecutive");
    let year_then_quarter = institution(&env, "Year then quarter").await;
    seed(&year_then_quarter, "2026");
    assert!(
        !c(year_then_quarter, "2026-Q1").await,
        "the year 2026 does not come before its first quarter"
    );
    let quarters = institution(&env, "Quarters").await;
    seed(&quarters, "2025-Q4");
    assert!(c(quarters, "2026-Q1").await, "2025-Q4 then 2026-Q1: poor");
}

/// With several replicas, a watch on one sees the scores another computes:
/// it follows the database, not its own replica's memory.
async fn a_watch_on_one_replica_sees_scores_computed_by_another(b: Backend) {
    let env = QualityEnv::start(b).await;
    let replica = env.start_replica().await;
    let mut watch = env
        .client_of(&replica, province("44"))
        .await
        .watch_scores(WatchScoresRequest {
            period: "2026".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut elsewhere = env
        .client_of(&replica, province("11"))
        .await
        .watch_scores(WatchScoresRequest::default())
        .await
        .unwrap()
        .into_inner();
    let inst = institution(&env, "Replicated Academy").await;
    // Computed by the first instance.
    let computed = evaluations(&env, &inst, 30, 4).await;
    let seen = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("the other replica's score is pushed")
        .unwrap()
        .unwrap();
    assert_eq!(seen.institution, inst);
    assert_eq!(seen.compute_time, computed.compute_time);
    assert_eq!((seen.score, seen.grade.as_str()), (75.0, "B"));
    // Still scoped: another province's department sees nothing of it.
    let quiet = tokio::time::timeout(Duration::from_millis(2500), elsewhere.message()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    replica.stop().await;
}

async fn refreshing_pulls_what_the_registry_and_supervision_know(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = ce_tests::answer(env.registry.province("44").create_institution(
        CreateInstitutionRequest {
            institution: Some(reg::Institution {
                code: credit_code("44"),
                display_name: "Open Academy".into(),
                province: "44".into(),
                fields: vec![Field::Construction as i32],
                delivery_modes: vec![DeliveryMode::FaceToFace as i32],
                disclosure: Some(reg::Disclosure {
                    scope: "Construction safety".into(),
                    content: "Site safety, BIM".into(),
                    fee_items: vec![],
                }),
                ..Default::default()
            }),
        },
    ))
    .await
    .name;
    // One decided violation and one still open: only the decided one counts.
    let mut sup = env.supervision(province("44"));
    for decide in [true, false] {
        let case = ce_tests::world::fees_without_training(&inst);
        let case = ce_tests::world::create_violation(&mut sup, case).await;
        if decide {
            cases::decide(&mut sup, &case, ce_tests::world::first_offence_warning()).await;
        }
    }
    evaluations(&env, &inst, 30, 4).await;
    let refresh = RefreshIndicatorsRequest {
        institution: inst.clone(),
        period: "2026".into(),
    };
    let err = ce_tests::refusal(
        env.client(institution_token(&inst))
            .refresh_indicators(refresh.clone()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let score = ce_tests::answer(env.client(province("44")).refresh_indicators(refresh)).await;
    let part = |i: Indicator| {
        score
            .contributions
            .iter()
            .find(|c| c.indicator == i as i32)
            .cloned()
            .unwrap_or_else(|| panic!("{i:?} missing: {score:?}"))
    };
    let disclosure = part(Indicator::DisclosureCompleteness);
    assert!((disclosure.value - 2.0 / 3.0).abs() < 1e-9);
    assert!(
        disclosure.source.starts_with("registry"),
        "{}",
        disclosure.source
    );
    let violations = part(Indicator::Violations);
    assert_eq!(violations.value, 1.0);
    assert!(violations.source.starts_with("supervision"));
    // The delay rests on the evaluating learners' 30 records.
    let delay = part(Indicator::RegistrationDelay);
    assert_eq!(delay.samples, 30);
    assert!(delay.source.starts_with("crediting"), "{}", delay.source);

    // Closing the period rescores every institution of the province.
    let err = ce_tests::refusal(env.client(province("11")).close_period(ClosePeriodRequest {
        period: "2026".into(),
        province: "44".into(),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let closed = ce_tests::answer(env.client(province("44")).close_period(ClosePeriodRequest {
        period: "2026".into(),
        province: String::new(),
    }))
    .await;
    assert_eq!(
        (closed.institutions, closed.scored, closed.insufficient_data),
        (1, 1, 0)
    );
    // The scoring model shown is the national one (no provincial file here).
    let model = ce_tests::answer(env.client(province("44")).get_scoring_model(
        GetScoringModelRequest {
            province: "44".into(),
        },
    ))
    .await;
    assert_eq!(model.version, "national-2026.2");
    assert!(model.definition.contains("[indicators.evaluation]"));
}

/// The `<tr>` of the ranking that shows `institution`.
fn row_of<'a>(dom: &'a str, institution: &str) -> &'a str {
    let marker = format!("data-institution=\"{institution}\"");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("{institution} not ranked: {dom}"));
    let start = dom[..at].rfind("<tr").unwrap();
    let end = at + dom[at..].find("</tr>").unwrap();
    &dom[start..end]
}

/// Where the dashboard keeps the viewer's token: the tab's `sessionStorage`.
const TOKEN_KEY: &str = "sessionStorage.getItem('ce-quality-dashboard-token')";

/// The page has settled: signed out (its form), loaded, or failed.
const SETTLED: &str = "['signin', 'yes', 'error'].includes(document.body.dataset.ready)";

/// Pastes `token` into the page's sign-in form, submits it with the
/// button, and returns the page once it has loaded (or failed).
async fn sign_in(browser: &mut Browser, token: &str) -> String {
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
    browser.paste("#token-input", token).await;
    browser.click("#signin button[type=submit]").await;
    browser.wait_for(SETTLED).await;
    browser.dom().await
}

/// The token is nowhere in the tab's address or history, and the tab's
/// `sessionStorage` holds `kept` (nothing when `None`).
async fn token_kept_out_of_the_address(browser: &mut Browser, token: &str, kept: Option<&str>) {
    let href = browser.href().await;
    assert!(
        !href.contains(token) && !href.contains('#'),
        "the address carries no token: {href}"
    );
    for url in browser.history().await {
        assert!(!url.contains(token), "nor does the history: {url}");
    }
    assert_eq!(
        browser.eval(TOKEN_KEY).await.as_str(),
        kept,
        "what the tab keeps"
    );
}

async fn the_dashboard_page_shows_the_ranking_and_a_drill_down_in_a_real_browser(b: Backend) {
    let env = QualityEnv::start(b).await;
    let good = institution(&env, "Good Academy").await;
    let poor = institution(&env, "Poor Academy").await;
    // An earlier period for the good one, so its history spans two periods.
    let learners = env.learners(&good, 30).await;
    env.client(institution_token(&good))
        .submit_evaluations(SubmitEvaluationsRequest {
            period: "2026-H1".into(),
            ..upload(&good, &learners, 4)
        })
        .await
        .unwrap();
    evaluations(&env, &good, 40, 5).await;
    indicator(&env, &good, Indicator::PassRate, 1.0, 100).await;
    evaluations(&env, &poor, 40, 2).await;
    let page = format!(
        "http://{}/dashboard/index.html?period=2026",
        env.service.addr()
    );
    let mut browser = Browser::launch().await;

    // Without a token the page asks for one, and shows nothing else.
    browser.goto(&page).await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(!dom.contains(&good) && !dom.contains("<td"), "{dom}");

    // A province signs in through the form, sees the ranking and opens the
    // first institution.
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..province("44")
    });
    let dom = sign_in(&mut browser, &token).await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    token_kept_out_of_the_address(&mut browser, &token, Some(&token)).await;
    assert_eq!(
        browser
            .eval("document.getElementById('token-input').value")
            .await,
        "",
        "the form does not keep the token"
    );
    // The ranking: the good institution first with its A, the poor one with its D.
    let first = dom.find(&good).expect("good institution listed");
    let second = dom.find(&poor).expect("poor institution listed");
    assert!(first < second, "ranked best first");
    assert!(dom.contains(">A<") && dom.contains(">D<"), "{dom}");
    assert!(dom.contains("2 institutions"));
    assert!(
        row_of(&dom, &poor).contains("class=\"pick\""),
        "a province opens any of its own"
    );
    // The period is open: the results are marked provisional.
    assert!(
        row_of(&dom, &poor).contains(">provisional<"),
        "{}",
        row_of(&dom, &poor)
    );
    // The drill-down of the first: its indicators and its history across
    // periods, the latest score of each, H1 (evaluations of 4: 75) first.
    assert!(dom.contains(&format!("Institution {good}")));
    assert!(
        dom.contains(">Evaluation<") && dom.contains(">Pass rate<"),
        "{dom}"
    );
    assert!(
        dom.contains("data-scores=\"75.00 100.00\"")
            && dom.contains("data-periods=\"2026-H1 2026\""),
        "one point a period, oldest first: {dom}"
    );

    // A reload keeps the viewer signed in, from the tab's sessionStorage.
    browser.reload().await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    assert!(dom.contains(&format!("Institution {good}")), "{dom}");
    token_kept_out_of_the_address(&mut browser, &token, Some(&token)).await;

    // Signing out forgets the token and the data. It reloads the page, so
    // wait for the signed-out page itself: the old one stays "yes" until
    // the reload replaces it.
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(!dom.contains(&good), "{dom}");
    token_kept_out_of_the_address(&mut browser, &token, None).await;

    // The poor institution, signed in: it opens its own breakdown, not the
    // leader's (which it may not read), and sees the others' grades only.
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..institution_token(&poor)
    });
    let dom = sign_in(&mut browser, &token).await;
    assert!(
        dom.contains("data-ready=\"yes\""),
        "an institution's page loads: {dom}"
    );
    token_kept_out_of_the_address(&mut browser, &token, Some(&token)).await;
    assert!(dom.contains(&format!("Institution {poor}")), "{dom}");
    assert!(dom.contains(&format!("Signed in as {poor}")), "{dom}");
    assert!(
        row_of(&dom, &good).contains(">A<"),
        "the leader's grade is shown"
    );
    assert!(
        !row_of(&dom, &good).contains("pick"),
        "but it does not open"
    );
    assert!(
        !row_of(&dom, &good).contains(".00<") && row_of(&dom, &good).contains(">–<"),
        "nor shows its score: {}",
        row_of(&dom, &good)
    );
    assert!(row_of(&dom, &poor).contains("class=\"pick\""));
    assert!(dom.contains(">Evaluation<"), "its own breakdown: {dom}");
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;

    // A token the service refuses: the page says so, forgets it, and asks
    // again.
    let dom = sign_in(&mut browser, "not-a-token").await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(dom.contains("The service refused this token"), "{dom}");
    assert!(!dom.contains(&good), "{dom}");
    token_kept_out_of_the_address(&mut browser, "not-a-token", None).await;

    // An old link with the token in its fragment: refused, and the fragment
    // is taken out of the address and of the tab's history, whether the link
    // is typed over the page's address or opened afresh.
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..province("44")
    });
    let old_link = format!("{page}#token={token}");
    for fresh in [false, true] {
        if fresh {
            browser.goto("about:blank").await;
        }
        browser.goto(&old_link).await;
        browser
            .wait_for("document.getElementById('notice').textContent.includes('carried a token')")
            .await;
        browser.wait_for(SETTLED).await;
        let dom = browser.dom().await;
        assert!(dom.contains("data-ready=\"signin\""), "{dom}");
        assert!(!dom.contains(&good), "{dom}");
        token_kept_out_of_the_address(&mut browser, &token, None).await;
        assert_eq!(browser.href().await, page);
    }
}

/// An institution's online course, a learner, and an upload whose xAPI
/// statements verify less than it claims: one anomaly in one online record.
/// An online course of `inst` in September 2026, and one record of 10
/// claimed hours for each entry of `verified`, each for a new learner,
/// whose xAPI statement verifies that many hours. The records, in order.
async fn online_uploads(
    env: &QualityEnv,
    inst: &str,
    verified: &[u32],
) -> Vec<ce_proto::crediting::HourRecord> {
    use ce_proto::crediting::hour_record::Activity as A;
    use ce_proto::crediting::{CreateHourRecordRequest, HourRecord, OnlineTraining};
    use ce_proto::google::r#type::Date;
    let r = &env.registry;
    let date = |m, d| {
        Some(Date {
            year: 2026,
            month: m,
            day: d,
        })
    };
    let course = reg::Activity {
        title: "BIM online".into(),
        field: Field::Construction as i32,
        subject_category: ce_proto::common::SubjectCategory::Professional as i32,
        delivery_mode: DeliveryMode::Online as i32,
        ..ce_tests::world::activity("44", date(9, 1), date(9, 30), 4.0)
    };
    let course = ce_tests::world::create_activity(&mut r.institution(inst), course).await;
    let statement = |hours: u32| {
        serde_json::json!({
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "timestamp": "2026-09-10T21:00:00+08:00",
            "result": {"duration": format!("PT{hours}H")}
        })
        .to_string()
    };
    let mut records = Vec::new();
    for hours in verified {
        let engineer = reg::Engineer {
            display_name: "赵工".into(),
            field: Field::Construction as i32,
            ..ce_tests::world::engineer("44", "")
        };
        let engineer = ce_tests::world::create_engineer(&mut r.province("44"), engineer).await;
        let record = env
            .crediting(institution_token(inst))
            .await
            .create_hour_record(CreateHourRecordRequest {
                hour_record: Some(HourRecord {
                    engineer,
                    registry_activity: course.clone(),
                    activity: Some(A::Online(OnlineTraining {
                        subject_category: ce_proto::common::SubjectCategory::Professional as i32,
                        start_date: date(9, 1),
                        end_date: date(9, 30),
                        hours: 10.0,
                        xapi_statements: vec![statement(*hours)],
                    })),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        records.push(record);
    }
    records
}

async fn crediting_evidence_becomes_anomalies_and_registration_delay(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = institution(&env, "Online Academy").await;
    // Twelve learners online: the statements of three verify 2 of the 10
    // hours claimed (anomalies, Art. 13); nine verify all ten.
    let verified: Vec<u32> = (0..12).map(|n| if n < 3 { 2 } else { 10 }).collect();
    let records = online_uploads(&env, &inst, &verified).await;
    for (n, record) in records.iter().enumerate() {
        let explained = record.explanation.clone().unwrap();
        assert_eq!(explained.attendance_unverified, n < 3, "{explained:?}");
    }
    let uploaded = records.last().cloned();
    let uploaded = uploaded.unwrap();
    evaluations(&env, &inst, 30, 4).await;
    let score = ce_tests::answer(env.client(province("44")).refresh_indicators(
        RefreshIndicatorsRequest {
            institution: inst.clone(),
            period: "2026".into(),
        },
    ))
    .await;
    let part = |i: Indicator| {
        score
            .contributions
            .iter()
            .find(|c| c.indicator == i as i32)
            .cloned()
            .unwrap_or_else(|| panic!("{i:?} missing: {score:?}"))
    };
    assert_eq!(score.state, ScoreState::Scored as i32, "{score:?}");
    // Twelve online records (10 needed), three with anomalies: 0.25, which
    // is worse than the model's worst (0.2), so it scores 0 of its weight.
    let anomalies = part(Indicator::AttendanceAnomalies);
    assert_eq!(
        (anomalies.value, anomalies.samples),
        (0.25, 12),
        "{anomalies:?}"
    );
    assert_eq!(anomalies.normalised, 0.0);
    assert!(
        anomalies.source.starts_with("crediting: 3 of 12"),
        "{}",
        anomalies.source
    );
    // Registered on the day the record was created, after the course ended on 30 September.
    let created = uploaded.create_time.unwrap();
    let registered = ce_rules::dates::date_of(
        time::OffsetDateTime::from_unix_timestamp(created.seconds).unwrap(),
    );
    let expected = (registered - time::macros::date!(2026 - 09 - 30))
        .whole_days()
        .max(0) as f64;
    assert_eq!(part(Indicator::RegistrationDelay).value, expected);
}

/// With crediting's change feed followed (every second here), hours an
/// institution uploads reach its score without anyone calling
/// RefreshIndicators; without following, they do not.
async fn a_score_follows_the_institutions_uploads_without_a_refresh(b: Backend) {
    let env = QualityEnv::start_following(b, 1).await;
    let inst = institution(&env, "Followed Academy").await;
    evaluations(&env, &inst, 30, 4).await;
    let mut gd = env.client(province("44"));
    let score = || GetScoreRequest {
        name: format!("{inst}/scores/2026"),
    };
    let anomalies = |s: &Score| {
        s.contributions
            .iter()
            .find(|c| c.indicator == Indicator::AttendanceAnomalies as i32)
            .map(|c| (c.value, c.samples))
    };
    assert_eq!(
        anomalies(&gd.get_score(score()).await.unwrap().into_inner()),
        None
    );
    // Ten online records, four of them claiming more than attendance shows.
    let verified: Vec<u32> = (0..10).map(|n| if n < 4 { 3 } else { 10 }).collect();
    online_uploads(&env, &inst, &verified).await;
    let started = Instant::now();
    loop {
        let s = ce_tests::answer(gd.get_score(score())).await;
        if let Some(found) = anomalies(&s) {
            assert_eq!(found, (0.4, 10), "{s:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the uploads never reached the score: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A recomputation, kept in the history like any other.
    let history = gd
        .list_score_history(ListScoreHistoryRequest {
            institution: inst.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .scores;
    assert!(history.len() >= 2, "{history:?}");

    // The same uploads in a suite that does not follow the feed: the score
    // waits for a refresh.
    let still = QualityEnv::start(b).await;
    let other = institution(&still, "Unfollowed Academy").await;
    evaluations(&still, &other, 30, 4).await;
    online_uploads(&still, &other, &verified).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let s = ce_tests::answer(still.client(province("44")).get_score(GetScoreRequest {
        name: format!("{other}/scores/2026"),
    }))
    .await;
    assert_eq!(anomalies(&s), None, "nothing rescored it");
}

async fn grades_change_in_the_registry_and_evidence_is_checked_and_kept_with_its_time(b: Backend) {
    let env = QualityEnv::start(b).await;
    let inst = institution(&env, "Changing Academy").await;
    let learners = env.learners(&inst, 30).await;
    let mut own = env.client(institution_token(&inst));
    let a = ce_tests::answer(own.submit_evaluations(upload(&inst, &learners, 5)))
        .await
        .score
        .unwrap();
    assert_eq!(a.grade, "A");
    grade_shown(&env, &inst, "A").await;
    // The same learners answer again, all 1s: a later answer replaces the
    // earlier (one per learner), the score drops to 0, and D replaces A.
    let d = ce_tests::answer(own.submit_evaluations(upload(&inst, &learners, 1)))
        .await
        .score
        .unwrap();
    assert_eq!((d.score, d.grade.as_str(), d.poor), (0.0, "D", true));
    let shown = grade_shown(&env, &inst, "D").await;
    assert_eq!(shown.quality_period, "2026");

    // Answers are on the 1-5 scale.
    let mut bad = upload(&inst, &learners[..2], 3);
    bad.evaluations[0].score = 0;
    bad.evaluations[1].score = 6;
    let err = ce_tests::refusal(own.submit_evaluations(bad)).await;
    assert_eq!(
        bad_fields(&err),
        ["evaluations[0].score", "evaluations[1].score"]
    );

    // Staff shares (Art. 14), reported by the institution itself, each kept
    // with its source and when it was taken.
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for (indicator, value) in [
        (Indicator::QualifiedStaff, 0.75),
        (Indicator::DualQualifiedStaff, 0.25),
    ] {
        own.record_indicator(RecordIndicatorRequest {
            institution: inst.clone(),
            period: "2026".into(),
            indicator: indicator as i32,
            value,
            samples: 40,
            source: "staff register, 1 November 2026".into(),
        })
        .await
        .unwrap();
    }
    let s = env
        .client(province("44"))
        .get_score(GetScoreRequest {
            name: format!("{inst}/scores/2026"),
        })
        .await
        .unwrap()
        .into_inner();
    for indicator in [Indicator::QualifiedStaff, Indicator::DualQualifiedStaff] {
        let c = s
            .contributions
            .iter()
            .find(|c| c.indicator == indicator as i32)
            .unwrap_or_else(|| panic!("{indicator:?} missing: {s:?}"));
        // 0.75 of 0.5→1 and 0.25 of 0→0.5: both half-way.
        assert_eq!(c.normalised, 50.0, "{c:?}");
        assert_eq!(c.source, "staff register, 1 November 2026");
        let taken = c.take_time.unwrap().seconds;
        assert!((before..before + 60).contains(&taken), "{c:?}");
    }
}

/// Guangdong adopts its own model (10 evaluations suffice): the same
/// evidence is scored there and is "insufficient data" under the national
/// model elsewhere, and each score names the model that produced it.
async fn a_province_scores_its_institutions_with_its_own_model(b: Backend) {
    let models = tempfile::tempdir().unwrap();
    let own = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../services/quality/models/national.toml"
    ))
    .unwrap()
    .replace(
        "version = \"national-2026.2\"",
        "version = \"guangdong-2026.1\"\nprovince = \"44\"",
    )
    .replace("min_samples = 30", "min_samples = 10");
    std::fs::write(models.path().join("44.toml"), own).unwrap();
    let dir = models.path().display().to_string();
    let env = QualityEnv::start_with(b, |c| c.quality.models_dir = dir).await;
    let gd = institution(&env, "Guangdong Academy").await;
    let bj = institution_in(&env, "11", "Beijing Academy", &[Field::Construction]).await;
    let here = evaluations(&env, &gd, 12, 4).await;
    assert_eq!(here.model_version, "guangdong-2026.1");
    assert_eq!((here.state, here.score), (ScoreState::Scored as i32, 75.0));
    let there = evaluations(&env, &bj, 12, 4).await;
    assert_eq!(there.model_version, "national-2026.2");
    assert_eq!(
        there.state,
        ScoreState::InsufficientData as i32,
        "{there:?}"
    );
    let model = ce_tests::answer(env.client(province("44")).get_scoring_model(
        GetScoringModelRequest {
            province: "44".into(),
        },
    ))
    .await;
    assert_eq!(model.version, "guangdong-2026.1");
}

both_backends!(
    grades_change_in_the_registry_and_evidence_is_checked_and_kept_with_its_time,
    a_province_scores_its_institutions_with_its_own_model,
    a_score_follows_the_institutions_uploads_without_a_refresh,
    crediting_evidence_becomes_anomalies_and_registration_delay,
    the_dashboard_page_shows_the_ranking_and_a_drill_down_in_a_real_browser,
    the_model_grades_evidence_and_ranks_it,
    each_sees_only_what_its_scope_allows,
    a_field_regulator_sees_only_institutions_serving_its_field,
    only_its_learners_evaluate_an_institution_once_a_period,
    c_is_poor_only_right_after_a_c_of_the_period_before,
    a_watch_on_one_replica_sees_scores_computed_by_another,
    refreshing_pulls_what_the_registry_and_supervision_know,
);
