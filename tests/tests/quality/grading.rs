//! The model applied to seeded evidence: the documented grades,
//! insufficient data reported as such, rankings paged; a C poor only right
//! after a C of the period before; grades that change in the registry; a
//! province's own model.

use super::*;

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

async fn the_model_grades_evidence_and_ranks_it(b: Backend) {
    let env = QualityEnv::start(b).await;
    let good = institution(&env, "Good Academy").await;
    let poor = institution(&env, "Poor Academy").await;
    let thin = institution(&env, "Thin Academy").await;

    a_good_academy_earns_an_a(&env, &good).await;
    only_the_quality_service_records_grades(&env, &good).await;

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

    let late = a_provisional_result_makes_no_violation(&env, &mut gd, &poor).await;

    the_distribution_and_first_grades(&mut gd, &good, &poor, &late).await;

    // A dashboard follows new scores live.
    let mut watch = ce_tests::answer(gd.watch_scores(WatchScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }))
    .await;
    let fresh = institution(&env, "Fresh Academy").await;
    evaluations(&env, &fresh, 30, 4).await;
    let seen = pushed(&mut watch, "a new score is pushed").await;
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

/// Every answer 5, everyone passing, no complaints upheld: an A, which reaches the registry.
async fn a_good_academy_earns_an_a(env: &QualityEnv, good: &str) {
    // Good: every answer 5, everyone passes, no complaints upheld: 100, A.
    evaluations(env, good, 40, 5).await;
    indicator(env, good, Indicator::PassRate, 1.0, 100).await;
    let a = indicator(env, good, Indicator::ComplaintsUpheld, 0.0, 100).await;
    assert_eq!(
        (a.state, a.score, a.grade.as_str()),
        (ScoreState::Scored as i32, 100.0, "A")
    );
    assert_eq!(a.model_version, "national-2026.2");
    assert_eq!(a.contributions.len(), 3);
    // Complaints received, upheld or not: 15 per 1000 is half-way to the worst (30).
    let a = indicator(env, good, Indicator::ComplaintsReceived, 15.0, 100).await;
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
    let i = grade_shown(env, good, "A").await;
    assert_eq!(
        (i.quality_period.as_str(), i.quality_model_version.as_str()),
        ("2026", "national-2026.2")
    );
}

/// Only the quality service records grades; an older period changes nothing.
async fn only_the_quality_service_records_grades(env: &QualityEnv, good: &str) {
    let record = |period: &str| ce_proto::registry::RecordQualityGradeRequest {
        name: good.into(),
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
}

/// Another provisional D, and once all is delivered no violation from either; returns it.
async fn a_provisional_result_makes_no_violation(
    env: &QualityEnv,
    gd: &mut ce_tests::Quality,
    poor: &str,
) -> String {
    // Another provisional D.
    let late = institution(env, "Late Academy").await;
    evaluations(env, &late, 30, 1).await;
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
    assert_eq!(poor_violations(env, &late, 0).await, 0);
    assert_eq!(poor_violations(env, poor, 0).await, 0);
    late
}

/// The distribution of the period's grades, and each institution's first grade in order.
async fn the_distribution_and_first_grades(
    gd: &mut ce_tests::Quality,
    good: &str,
    poor: &str,
    late: &str,
) {
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
        vec![(good, "", "A"), (poor, "", "D"), (late, "", "D")]
    );
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
            let s = ce_tests::answer(env.client(institution_token(&inst)).submit_evaluations(req))
                .await
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
        ce_tests::answer(own.record_indicator(RecordIndicatorRequest {
            institution: inst.clone(),
            period: "2026".into(),
            indicator: indicator as i32,
            value,
            samples: 40,
            source: "staff register, 1 November 2026".into(),
        }))
        .await;
    }
    let s = ce_tests::answer(env.client(province("44")).get_score(GetScoreRequest {
        name: format!("{inst}/scores/2026"),
    }))
    .await;
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
    let env = QualityEnv::start_with(b, |c| c.set("quality.models_dir", dir)).await;
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
    the_model_grades_evidence_and_ranks_it,
    c_is_poor_only_right_after_a_c_of_the_period_before,
    grades_change_in_the_registry_and_evidence_is_checked_and_kept_with_its_time,
    a_province_scores_its_institutions_with_its_own_model,
);
