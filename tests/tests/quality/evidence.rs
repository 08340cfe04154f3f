//! Where the evidence comes from: the registry and supervision on a
//! refresh, crediting's uploads as anomalies and registration delay, a
//! score that follows uploads without a refresh, a watch that sees another
//! replica's scores.

use super::*;

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
    let seen = pushed(&mut watch, "the other replica's score is pushed").await;
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
    let part = |i: Indicator| contribution(&score, i);
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
    let part = |i: Indicator| contribution(&score, i);
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
    let history = ce_tests::answer(gd.list_score_history(ListScoreHistoryRequest {
        institution: inst.clone(),
    }))
    .await
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

both_backends!(
    a_watch_on_one_replica_sees_scores_computed_by_another,
    refreshing_pulls_what_the_registry_and_supervision_know,
    crediting_evidence_becomes_anomalies_and_registration_delay,
    a_score_follows_the_institutions_uploads_without_a_refresh,
);
