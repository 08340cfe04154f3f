//! Supervision's table and its calls: violations, notifications, the
//! outbox, quality results, inspections, referrals.

use super::*;

/// Supervision (Art. 16, 24, 26–28; `services/supervision/src`).
pub(super) const SUPERVISION: &[Row] = &[
    // Violations: recorded and decided by departments whose scope covers the
    // subject; read by them, the service, and the institution it is about.
    write("CreateViolation", &[Ministry, Province, Regulator]),
    read(
        "GetViolation",
        &[Ministry, Province, Regulator, Institution],
    )
    .by(&[ByCrediting]),
    read(
        "ListViolations",
        &[Ministry, Province, Regulator, Institution],
    )
    .by(&[ByQuality]),
    write("DecideViolation", &[Ministry, Province, Regulator]),
    write("CloseViolation", &[Ministry, Province, Regulator]),
    // Only the party a violation is about appeals it.
    write("AppealViolation", &[Institution]),
    read(
        "ListViolationAuditEntries",
        &[Ministry, Province, Regulator],
    ),
    // Art. 27 notifications: the employer acknowledges its own; departments follow up.
    read("ListNotifications", &[Ministry, Province, Employer]),
    write("AcknowledgeNotification", &[Employer]),
    read("GetOutboxStatus", &[Ministry]),
    // Poor quality results (Art. 25, 26) come from quality monitoring, or a
    // department of the institution's province.
    write("ReportQualityResult", &[Ministry, Province]).by(&[ByQuality]),
    // A corrected result that is no longer poor withdraws the violation.
    write("WithdrawQualityResult", &[Ministry, Province]).by(&[ByQuality]),
    // Inspections (Art. 24) by departments whose scope covers them; public once
    // published, and this one is not.
    write("CreateInspection", &[Ministry, Province, Regulator]),
    read("GetInspection", &[Ministry, Province, Regulator]),
    read("ListInspections", &[Ministry, Province, Regulator]),
    write("CommitInspectionDraw", &[Ministry, Province, Regulator]),
    write("DrawInspectionSample", &[Ministry, Province, Regulator]),
    // Anyone who may read a drawn (unpublished) inspection checks its draw.
    read("VerifyInspectionDraw", &[Ministry, Province, Regulator]),
    write("RecordInspectionFinding", &[Ministry, Province, Regulator]),
    write("PublishInspection", &[Ministry, Province, Regulator]),
    // Officials (Art. 28): only from above the official's department (here a
    // city bureau of province 44).
    write("CreateReferral", &[Ministry, Province]),
    write("ResolveReferral", &[Ministry, Province]),
    read("ListReferrals", &[Ministry, Province]),
    // An institution's record (beside its quality scores): the departments
    // covering it, quality monitoring, and the institution itself.
    read(
        "GetInstitutionRecord",
        &[Ministry, Province, Regulator, Institution],
    ),
];

/// Fresh resources, made as the province before each call, so that every
/// call finds its resource in the state it needs (an open violation to
/// decide, a decided one to close, a drawn inspection to record in…).
struct Prepared {
    violation: String,
    notification: String,
    inspection: String,
    target: String,
    referral: String,
    institution: String,
}

struct SupervisionWorld {
    w: World,
    /// The province's seminar, for hours it grants and a decision revokes.
    seminar: String,
}

fn province_token(env: &RegistryEnv) -> Option<String> {
    Some(env.place.token(ce_tests::department("44", "hrss-44-setup")))
}

async fn prepare(
    env: &ce_tests::SupervisionEnv,
    sw_w: &World,
    seminar: &str,
    rpc: &str,
) -> Prepared {
    use ce_proto::supervision as sp;
    let t = province_token(&env.registry);
    let mut sup = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    let id = |what: &str| format!("prepare-{what}-{n}");
    let mut p = Prepared {
        violation: String::new(),
        notification: String::new(),
        inspection: String::new(),
        target: String::new(),
        referral: String::new(),
        institution: sw_w.institution.clone(),
    };
    if matches!(
        rpc,
        "DecideViolation"
            | "CloseViolation"
            | "AppealViolation"
            | "GetViolation"
            | "ListViolations"
            | "ListViolationAuditEntries"
    ) {
        p.violation = sup
            .create_violation(request(
                sp::CreateViolationRequest {
                    violation: Some(sp::Violation {
                        institution: sw_w.institution.clone(),
                        category: sp::ViolationCategory::ImproperFees as i32,
                        description: "Fees without training".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &t,
                &id("violation"),
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        if matches!(rpc, "CloseViolation" | "AppealViolation") {
            sup.decide_violation(request(
                sp::DecideViolationRequest {
                    name: p.violation.clone(),
                    decision: Some(warning()),
                },
                &t,
                &id("decide"),
            ))
            .await
            .unwrap();
        }
    }
    if matches!(rpc, "AcknowledgeNotification" | "ListNotifications") {
        p.notification = notification(env, sw_w, seminar, n).await;
    }
    if matches!(
        rpc,
        "GetInspection"
            | "ListInspections"
            | "CommitInspectionDraw"
            | "DrawInspectionSample"
            | "VerifyInspectionDraw"
            | "RecordInspectionFinding"
            | "PublishInspection"
    ) {
        p.inspection = sup
            .create_inspection(request(
                sp::CreateInspectionRequest {
                    inspection: Some(sp::Inspection {
                        title: format!("Random inspection {n}"),
                        province: "44".into(),
                        field: Field::Construction as i32,
                        target_kind: sp::TargetKind::Institutions as i32,
                        start_date: date(2026, 11, 1),
                        end_date: date(2026, 12, 15),
                        ..Default::default()
                    }),
                },
                &t,
                &id("inspection"),
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        if matches!(
            rpc,
            "RecordInspectionFinding" | "PublishInspection" | "VerifyInspectionDraw"
        ) {
            let drawn = sup
                .draw_inspection_sample(request(
                    sp::DrawInspectionSampleRequest {
                        name: p.inspection.clone(),
                        target_count: 1,
                        roster: vec!["inspector-1".into()],
                        inspector_count: 1,
                        seed: 0,
                    },
                    &t,
                    &id("draw"),
                ))
                .await
                .unwrap()
                .into_inner();
            p.target = drawn.sample.unwrap().targets[0].clone();
        }
    }
    if matches!(rpc, "ResolveReferral" | "ListReferrals") {
        p.referral = sup
            .create_referral(request(referral(), &t, &id("referral")))
            .await
            .unwrap()
            .into_inner()
            .name;
    }
    if matches!(rpc, "ReportQualityResult" | "WithdrawQualityResult") {
        // One violation per institution and period: a fresh institution each time.
        p.institution = ce_tests::world::create_institution(
            &mut env.registry.province("44"),
            academy(&format!("Poor Academy {n}")),
        )
        .await;
    }
    if rpc == "WithdrawQualityResult" {
        // A violation to withdraw.
        sup.report_quality_result(request(
            sp::ReportQualityResultRequest {
                institution: p.institution.clone(),
                period: "2026".into(),
                grade: "D".into(),
                score: 41.0,
                model_version: "national-2026.2".into(),
                ..Default::default()
            },
            &t,
            &id("report"),
        ))
        .await
        .unwrap();
    }
    p
}

fn warning() -> ce_proto::supervision::Decision {
    ce_proto::supervision::Decision {
        kind: ce_proto::supervision::DecisionKind::Warning as i32,
        reason: "First offence".into(),
        effective_date: date(2026, 11, 2),
        ..Default::default()
    }
}

fn referral() -> ce_proto::supervision::CreateReferralRequest {
    use ce_proto::supervision as sp;
    sp::CreateReferralRequest {
        referral: Some(sp::Referral {
            official: "Section chief Wang".into(),
            department: "hrss/440100".into(),
            misconduct: sp::Misconduct::Favouritism as i32,
            description: "Confirmed hours for a relative's fictitious course".into(),
            referred_to: sp::ReferredTo::DisciplineBody as i32,
            ..Default::default()
        }),
    }
}

/// An Art. 27 notification to the employer: hours of the engineer granted
/// by the province, then revoked by a decision.
async fn notification(env: &ce_tests::SupervisionEnv, w: &World, seminar: &str, n: u64) -> String {
    use ce_proto::crediting as cr;
    use ce_proto::supervision as sp;
    let t = province_token(&env.registry);
    let day = 1 + (n % 28) as i32;
    let record = ce_proto::crediting::crediting_service_client::CreditingServiceClient::new(
        env.crediting_channel.clone(),
    )
    .create_hour_record(request(
        cr::CreateHourRecordRequest {
            hour_record: Some(cr::HourRecord {
                engineer: w.engineer.clone(),
                registry_activity: seminar.into(),
                activity: Some(cr::hour_record::Activity::FaceToFace(
                    cr::FaceToFaceTraining {
                        subject_category: SubjectCategory::Professional as i32,
                        start_date: date(2026, 4, day),
                        days: 1,
                        hours_per_day: 1.0,
                    },
                )),
                client_key: format!("access-{n}"),
                ..Default::default()
            }),
        },
        &t,
        &format!("prepare-record-{n}"),
    ))
    .await
    .unwrap()
    .into_inner()
    .name;
    let mut sup = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let case = sup
        .create_violation(request(
            sp::CreateViolationRequest {
                violation: Some(sp::Violation {
                    engineer: w.engineer.clone(),
                    category: sp::ViolationCategory::ImproperHours as i32,
                    description: "Attendance sheets signed by a colleague".into(),
                    hour_records: vec![record],
                    ..Default::default()
                }),
                ..Default::default()
            },
            &t,
            &format!("prepare-case-{n}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .name;
    sup.decide_violation(request(
        sp::DecideViolationRequest {
            name: case.clone(),
            decision: Some(sp::Decision {
                kind: sp::DecisionKind::Revocation as i32,
                reason: "Hours obtained by deception".into(),
                ..Default::default()
            }),
        },
        &t,
        &format!("prepare-revoke-{n}"),
    ))
    .await
    .unwrap();
    let all = sup
        .list_notifications(request(
            sp::ListNotificationsRequest {
                employer: w.employer.clone(),
                page_size: 1000,
                ..Default::default()
            },
            &t,
            &format!("prepare-list-{n}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .notifications;
    all.into_iter()
        .find(|x| x.violation == case)
        .expect("the decision notified the employer")
        .name
}

async fn call_supervision(
    rpc: &str,
    env: &ce_tests::SupervisionEnv,
    sw: &SupervisionWorld,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    use ce_proto::supervision as sp;
    let w = &sw.w;
    let p = prepare(env, w, &sw.seminar, rpc).await;
    let mut c = ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
        env.channel.clone(),
    );
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    match rpc {
        "CreateViolation" => outcome(
            c.create_violation(request(
                sp::CreateViolationRequest {
                    violation: Some(sp::Violation {
                        institution: w.institution.clone(),
                        category: sp::ViolationCategory::ImproperFees as i32,
                        description: format!("Fees without training {n}"),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetViolation" => outcome(
            c.get_violation(request(
                sp::GetViolationRequest {
                    name: p.violation.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListViolations" => outcome(
            c.list_violations(request(
                sp::ListViolationsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.violations.iter().any(|v| v.name == p.violation),
        ),
        "DecideViolation" => outcome(
            c.decide_violation(request(
                sp::DecideViolationRequest {
                    name: p.violation.clone(),
                    decision: Some(warning()),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CloseViolation" => outcome(
            c.close_violation(request(
                sp::CloseViolationRequest {
                    name: p.violation.clone(),
                    closure: sp::ClosureKind::Rectified as i32,
                    reason: "Fees refunded to every learner".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "AppealViolation" => outcome(
            c.appeal_violation(request(
                sp::AppealViolationRequest {
                    name: p.violation.clone(),
                    text: "The course was held; attendance sheets attached".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListViolationAuditEntries" => outcome(
            c.list_violation_audit_entries(request(
                sp::ListViolationAuditEntriesRequest {
                    name: p.violation.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListNotifications" => outcome(
            c.list_notifications(request(
                sp::ListNotificationsRequest {
                    employer: w.employer.clone(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.notifications.iter().any(|x| x.name == p.notification),
        ),
        "AcknowledgeNotification" => outcome(
            c.acknowledge_notification(request(
                sp::AcknowledgeNotificationRequest {
                    name: p.notification.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetOutboxStatus" => outcome(
            c.get_outbox_status(request(sp::GetOutboxStatusRequest {}, token, id))
                .await,
            |_| true,
        ),
        "ReportQualityResult" => outcome(
            c.report_quality_result(request(
                sp::ReportQualityResultRequest {
                    institution: p.institution.clone(),
                    period: "2026".into(),
                    grade: "D".into(),
                    score: 41.0,
                    model_version: "national-2026.2".into(),
                    finding: String::new(),
                    compute_time: None,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "WithdrawQualityResult" => outcome(
            c.withdraw_quality_result(request(
                sp::WithdrawQualityResultRequest {
                    institution: p.institution.clone(),
                    period: "2026".into(),
                    grade: "B".into(),
                    score: 75.0,
                    model_version: "national-2026.2".into(),
                    compute_time: None,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateInspection" => outcome(
            c.create_inspection(request(
                sp::CreateInspectionRequest {
                    inspection: Some(sp::Inspection {
                        title: format!("Random inspection {n}"),
                        province: "44".into(),
                        field: Field::Construction as i32,
                        target_kind: sp::TargetKind::Institutions as i32,
                        start_date: date(2026, 11, 1),
                        end_date: date(2026, 12, 15),
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetInspection" => outcome(
            c.get_inspection(request(
                sp::GetInspectionRequest {
                    name: p.inspection.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListInspections" => outcome(
            c.list_inspections(request(
                sp::ListInspectionsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.inspections.iter().any(|i| i.name == p.inspection),
        ),
        "DrawInspectionSample" => outcome(
            c.draw_inspection_sample(request(
                sp::DrawInspectionSampleRequest {
                    name: p.inspection.clone(),
                    target_count: 1,
                    roster: vec!["inspector-1".into()],
                    inspector_count: 1,
                    seed: 0,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CommitInspectionDraw" => outcome(
            c.commit_inspection_draw(request(
                sp::CommitInspectionDrawRequest {
                    name: p.inspection.clone(),
                    target_count: 1,
                    roster: vec!["inspector-1".into()],
                    inspector_count: 1,
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "VerifyInspectionDraw" => outcome(
            c.verify_inspection_draw(request(
                sp::VerifyInspectionDrawRequest {
                    name: p.inspection.clone(),
                    seed_hex: String::new(),
                },
                token,
                id,
            ))
            .await,
            |r| r.matches,
        ),
        "RecordInspectionFinding" => outcome(
            c.record_inspection_finding(request(
                sp::RecordInspectionFindingRequest {
                    name: p.inspection.clone(),
                    finding: Some(sp::Finding {
                        target: p.target.clone(),
                        outcome: sp::FindingOutcome::Compliant as i32,
                        text: "Records complete".into(),
                        ..Default::default()
                    }),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "PublishInspection" => outcome(
            c.publish_inspection(request(
                sp::PublishInspectionRequest {
                    name: p.inspection.clone(),
                    outcome: "All compliant".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateReferral" => outcome(
            c.create_referral(request(referral(), token, id)).await,
            |_| true,
        ),
        "ResolveReferral" => outcome(
            c.resolve_referral(request(
                sp::ResolveReferralRequest {
                    name: p.referral.clone(),
                    outcome: "Demerit recorded by the discipline body".into(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListReferrals" => outcome(
            c.list_referrals(request(
                sp::ListReferralsRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.referrals.iter().any(|x| x.name == p.referral),
        ),
        "GetInstitutionRecord" => outcome(
            c.get_institution_record(request(
                sp::GetInstitutionRecordRequest {
                    name: format!("{}/supervisionRecord", p.institution),
                },
                token,
                id,
            ))
            .await,
            |r| r.institution == p.institution,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn supervision_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(SUPERVISION, "ce.supervision.v1.SupervisionService");
    let env = ce_tests::SupervisionEnv::start(b).await;
    let w = world(&env.registry).await;
    // The province's own seminar, for hours it grants (and later revokes).
    let seminar = reg::Activity {
        title: "Site safety".into(),
        field: Field::Construction as i32,
        ..ce_tests::world::activity("44", date(2026, 4, 1), date(2026, 4, 30), 8.0)
    };
    let seminar = ce_tests::world::create_activity(&mut env.registry.province("44"), seminar).await;
    let sw = SupervisionWorld { w, seminar };
    let mut found = Findings::new("supervision", ::supervision::migrations);
    for row in SUPERVISION {
        for &who in ALL {
            let token = token_of(&env.registry, &sw.w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_supervision(row.rpc, &env, &sw, &token, &id).await;
            found.note(&env.registry.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(supervision_admits_exactly_whom_its_table_names);
