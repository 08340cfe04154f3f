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
    calls!(rpc, c, token, id;
        "SubmitEvaluations" => submit_evaluations(SubmitEvaluationsRequest {
            institution: w.institution.clone(),
            period: "2026".into(),
            // An engineer evaluates in their own name; an institution
            // names its learner.
            evaluations: vec![Evaluation {
                learner: match who {
                    Engineer | OtherEngineer => String::new(),
                    _ => w.engineer.clone(),
                },
                score: 4,
                ..Default::default()
            }],
        });
        "RecordIndicator" => record_indicator(RecordIndicatorRequest {
            institution: w.institution.clone(),
            period: "2026".into(),
            indicator: Indicator::PassRate as i32,
            value: 0.8 + (n % 10) as f64 / 100.0,
            samples: 100,
            source: "assessment records 2026".into(),
        });
        "RefreshIndicators" => refresh_indicators(RefreshIndicatorsRequest {
            institution: w.institution.clone(),
            period: "2026".into(),
        });
        "ClosePeriod" => close_period(ClosePeriodRequest {
            period: "2026".into(),
            province: "44".into(),
        });
        "ReopenPeriod" => reopen_period(ReopenPeriodRequest {
            period: "2026".into(),
            province: "44".into(),
            reason: "late evidence of attendance".into(),
        });
        "GetOutboxStatus" => get_outbox_status(GetOutboxStatusRequest {});
        "GetScore" => get_score(GetScoreRequest { name: score });
        "ListScoreHistory" => list_score_history(ListScoreHistoryRequest {
            institution: w.institution.clone(),
        }) shown |r| !r.scores.is_empty();
        "ListScores" => list_scores(ListScoresRequest {
            period: "2026".into(), province: "44".into(), page_size: 1000, ..Default::default()
        }) shown |r| r.scores.iter().any(|s| s.institution == w.institution);
        "GetScoreDistribution" => get_score_distribution(GetScoreDistributionRequest {
            period: "2026".into(), province: "44".into(), ..Default::default()
        });
        "ListGradeChanges" => list_grade_changes(ListGradeChangesRequest {
            period: "2026".into(), province: "44".into(), ..Default::default()
        });
        "WatchScores" => watch_scores(WatchScoresRequest {
            period: "2026".into(), province: "44".into(), ..Default::default()
        });
        "GetScoringModel" => get_scoring_model(GetScoringModelRequest { province: "44".into() });
    )
}

/// A score of the institution for 2026: thirty evaluations it uploads, of
/// learners who attended its course (Art. 25), as both engineers did.
async fn scored_institution(env: &QualityEnv, w: &World) {
    let clerk = || ce_tests::member(Role::Institution, &w.institution, "institution-clerk");
    let own = env.registry.place.token(clerk());
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
    let mut crediting = env.crediting(clerk()).await;
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
}

async fn quality_monitoring_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(QUALITY, "ce.quality.v1.QualityService");
    let env = QualityEnv::start(b).await;
    let w = world(&env.registry).await;
    scored_institution(&env, &w).await;
    let mut client = QualityServiceClient::new(env.channel.clone());
    let mut found = Findings::new("quality", ::quality::migrations);
    found
        .sweep(&env.registry.place, QUALITY, async |row, who, id| {
            let token = token_of(&env.registry, &w, who);
            call_quality(row.rpc, &mut client, &w, who, &token, id).await
        })
        .await;
    found.assert_clean();
}

both_backends!(quality_monitoring_admits_exactly_whom_its_table_names);
