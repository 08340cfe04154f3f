//! Quality monitoring's table and its calls.

use super::*;

/// Quality monitoring (Art. 25; `services/quality/src/scores.rs`).
pub(super) const QUALITY: &[Row] = &[
    // Learners evaluate in their own name; an institution uploads its learners'.
    write("SubmitEvaluations", &[Institution, Engineer, OtherEngineer]),
    // Departments within their scope; an institution its self-measured indicators.
    write(
        "RecordIndicator",
        &[Ministry, Province, Regulator, Institution],
    ),
    write("RefreshIndicators", &[Ministry, Province]),
    write("ClosePeriod", &[Ministry, Province]),
    write("ReopenPeriod", &[Ministry, Province]),
    read("GetOutboxStatus", &[Ministry]),
    // A score: departments in scope and the institution with its
    // breakdown; other institutions see the grade without the breakdown,
    // as in the rankings.
    read(
        "GetScore",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    // The history with its breakdowns: departments in scope, the institution.
    read(
        "ListScoreHistory",
        &[Ministry, Province, Regulator, Institution],
    ),
    // Rankings and dashboards: departments in scope, and institutions.
    read(
        "ListScores",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    read(
        "GetScoreDistribution",
        &[
            Ministry,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    read(
        "ListGradeChanges",
        &[
            Ministry,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    read(
        "WatchScores",
        &[
            Ministry,
            Province,
            Regulator,
            OtherFieldRegulator,
            Institution,
            OtherInstitution,
        ],
    ),
    // The model is public: anyone signed in may see why grades are what they are.
    read("GetScoringModel", SIGNED_IN),
];

async fn call_quality(
    rpc: &str,
    c: &mut QualityServiceClient<Channel>,
    w: &World,
    who: Who,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    let score = format!("{}/scores/2026", w.institution);
    match rpc {
        "SubmitEvaluations" => outcome(
            c.submit_evaluations(request(
                SubmitEvaluationsRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                    // An engineer evaluates in their own name; an
                    // institution names its learner.
                    evaluations: vec![Evaluation {
                        learner: match who {
                            Engineer | OtherEngineer => String::new(),
                            _ => w.engineer.clone(),
                        },
                        score: 4,
                        ..Default::default()
                    }],
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RecordIndicator" => outcome(
            c.record_indicator(request(
                RecordIndicatorRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                    indicator: Indicator::PassRate as i32,
                    value: 0.8 + (n % 10) as f64 / 100.0,
                    samples: 100,
                    source: "assessment records 2026".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RefreshIndicators" => outcome(
            c.refresh_indicators(request(
                RefreshIndicatorsRequest {
                    institution: w.institution.clone(),
                    period: "2026".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ClosePeriod" => outcome(
            c.close_period(request(
                ClosePeriodRequest {
                    period: "2026".into(),
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ReopenPeriod" => outcome(
            c.reopen_period(request(
                ReopenPeriodRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    reason: "late evidence of attendance".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetOutboxStatus" => outcome(
            c.get_outbox_status(request(GetOutboxStatusRequest {}, token, id))
                .await,
            |_| true,
        ),
        "GetScore" => outcome(
            c.get_score(request(GetScoreRequest { name: score }, token, id))
                .await,
            |_| true,
        ),
        "ListScoreHistory" => outcome(
            c.list_score_history(request(
                ListScoreHistoryRequest {
                    institution: w.institution.clone(),
                },
                token,
                id,
            ))
            .await,
            |r| !r.scores.is_empty(),
        ),
        "ListScores" => outcome(
            c.list_scores(request(
                ListScoresRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.scores.iter().any(|s| s.institution == w.institution),
        ),
        "GetScoreDistribution" => outcome(
            c.get_score_distribution(request(
                GetScoreDistributionRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListGradeChanges" => outcome(
            c.list_grade_changes(request(
                ListGradeChangesRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "WatchScores" => outcome(
            c.watch_scores(request(
                WatchScoresRequest {
                    period: "2026".into(),
                    province: "44".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetScoringModel" => outcome(
            c.get_scoring_model(request(
                GetScoringModelRequest {
                    province: "44".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn quality_monitoring_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(QUALITY, "ce.quality.v1.QualityService");
    let env = QualityEnv::start(b).await;
    let w = world(&env.registry).await;
    // A score of the institution for 2026: thirty evaluations it uploads,
    // of learners who attended its course (Art. 25), as both engineers did.
    let own = env.registry.place.token(ce_tests::member(
        Role::Institution,
        &w.institution,
        "institution-clerk",
    ));
    let mut p = env.registry.province("44");
    let mut learners = Vec::new();
    for _ in 0..30 {
        learners.push(
            p.create_engineer(new_engineer(&w.employer))
                .await
                .unwrap()
                .into_inner()
                .name,
        );
    }
    let mut crediting = env
        .crediting(ce_tests::member(
            Role::Institution,
            &w.institution,
            "institution-clerk",
        ))
        .await;
    for engineer in learners.iter().chain([&w.engineer, &w.other_engineer]) {
        crediting
            .create_hour_record(ce_proto::crediting::CreateHourRecordRequest {
                hour_record: Some(ce_proto::crediting::HourRecord {
                    engineer: engineer.clone(),
                    registry_activity: w.activity.clone(),
                    activity: Some(ce_proto::crediting::hour_record::Activity::FaceToFace(
                        ce_proto::crediting::FaceToFaceTraining {
                            subject_category: SubjectCategory::Professional as i32,
                            start_date: date(2026, 3, 2),
                            days: 3,
                            hours_per_day: 8.0,
                        },
                    )),
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    QualityServiceClient::new(env.channel.clone())
        .submit_evaluations(request(
            SubmitEvaluationsRequest {
                institution: w.institution.clone(),
                period: "2026".into(),
                evaluations: learners
                    .iter()
                    .map(|l| Evaluation {
                        learner: l.clone(),
                        score: 4,
                        ..Default::default()
                    })
                    .collect(),
            },
            &Some(own),
            "access-seed",
        ))
        .await
        .unwrap();
    let mut client = QualityServiceClient::new(env.channel.clone());
    let mut found = Findings::new("quality", ::quality::migrations);
    for row in QUALITY {
        for &who in ALL {
            let token = token_of(&env.registry, &w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_quality(row.rpc, &mut client, &w, who, &token, &id).await;
            found.note(&env.registry.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(quality_monitoring_admits_exactly_whom_its_table_names);
