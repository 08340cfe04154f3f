//! Who sees and does what: each caller within its scope, a field
//! regulator only institutions serving its field, only an institution's
//! learners evaluating it, once a period.

use super::*;

fn regulator(field: Field) -> TokenRequest {
    TokenRequest {
        field: Some(field),
        ..token(Role::IndustryRegulator, "field-regulator")
    }
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
        // Another's: which it is (by its registered name and credit code,
        // public under Art. 15), the period, the grade, the standing;
        // nothing else (no score, indicators, reasons or poor flag).
        assert_eq!(s.institution_display_name, "Other Academy");
        assert_eq!(s.institution_code.len(), 18, "{s:?}");
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
            institution_display_name: s.institution_display_name.clone(),
            institution_code: s.institution_code.clone(),
            ..Default::default()
        };
        assert_eq!(s, &seen, "only the grade of another");
        assert_eq!(s.grade, "B");
    }
    // The same through GetScore, and no mean that is one institution's score.
    let theirs = ce_tests::answer(mine.get_score(GetScoreRequest {
        name: format!("{other}/scores/2026"),
    }))
    .await;
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
    ce_tests::answer(mine.record_indicator(record(&own, Indicator::PassRate))).await;
    for (inst, i) in [
        (&own, Indicator::ComplaintsUpheld),
        (&other, Indicator::PassRate),
    ] {
        let err = ce_tests::refusal(mine.record_indicator(record(inst, i))).await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    // A province reads only its institutions.
    let err = ce_tests::refusal(env.client(province("11")).list_scores(ListScoresRequest {
        period: "2026".into(),
        province: "44".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(env.client(province("11")).get_score(GetScoreRequest {
        name: format!("{own}/scores/2026"),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    a_learner_evaluates_in_their_own_name(&env, &own).await;
}

/// A learner evaluates in their own name, and reads no rankings.
async fn a_learner_evaluates_in_their_own_name(env: &QualityEnv, own: &str) {
    let li = env.learners(own, 1).await.remove(0);
    let mut learner = env.client(token(Role::Engineer, &li));
    ce_tests::answer(learner.submit_evaluations(SubmitEvaluationsRequest {
        institution: own.into(),
        period: "2026".into(),
        evaluations: vec![Evaluation {
            score: 5,
            ..Default::default()
        }],
    }))
    .await;
    let err = ce_tests::refusal(learner.list_scores(ListScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // A bad period, from one who may submit (a province may not at all).
    let err = ce_tests::refusal(env.client(institution_token(own)).submit_evaluations(
        SubmitEvaluationsRequest {
            institution: own.into(),
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
    let seen = pushed(&mut watch, "the construction institution's score is pushed").await;
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

    single_scores_and_histories_follow_its_scope(&mut reg, &both, &mining).await;
}

/// Single scores and histories follow the same scope as the rankings.
async fn single_scores_and_histories_follow_its_scope(
    reg: &mut ce_tests::Quality,
    both: &str,
    mining: &str,
) {
    let get = |inst: &str| GetScoreRequest {
        name: format!("{inst}/scores/2026"),
    };
    ce_tests::answer(reg.get_score(get(both))).await;
    let err = ce_tests::refusal(reg.get_score(get(mining))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(reg.list_score_history(ListScoreHistoryRequest {
        institution: mining.into(),
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

both_backends!(
    each_sees_only_what_its_scope_allows,
    a_field_regulator_sees_only_institutions_serving_its_field,
    only_its_learners_evaluate_an_institution_once_a_period,
);
