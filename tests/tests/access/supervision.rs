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

/// The province's supervision client, and its token, making a call's
/// resources fresh; each setup call's request id is named by what it
/// makes and `n`.
struct Setup {
    sup: ce_proto::supervision::supervision_service_client::SupervisionServiceClient<Channel>,
    t: Option<String>,
    n: u64,
}

impl Setup {
    fn id(&self, what: &str) -> String {
        format!("prepare-{what}-{}", self.n)
    }

    /// An open violation about the institution, decided with a warning
    /// where the call needs it decided.
    async fn violation(&mut self, w: &World, rpc: &str) -> String {
        use ce_proto::supervision as sp;
        let id = self.id("violation");
        let violation = self
            .sup
            .create_violation(request(
                sp::CreateViolationRequest {
                    violation: Some(sp::Violation {
                        institution: w.institution.clone(),
                        category: sp::ViolationCategory::ImproperFees as i32,
                        description: "Fees without training".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &self.t,
                &id,
            ))
            .await
            .unwrap()
            .into_inner()
            .name;
        if matches!(rpc, "CloseViolation" | "AppealViolation") {
            let id = self.id("decide");
            self.sup
                .decide_violation(request(
                    sp::DecideViolationRequest {
                        name: violation.clone(),
                        decision: Some(warning()),
                    },
                    &self.t,
                    &id,
                ))
                .await
                .unwrap();
        }
        violation
    }

    /// An inspection of the province's construction institutions, and
    /// where the call needs a drawn one, its drawn target (else none).
    async fn inspection(&mut self, rpc: &str) -> (String, String) {
        let id = self.id("inspection");
        let inspection = self
            .sup
            .create_inspection(request(new_inspection(self.n), &self.t, &id))
            .await
            .unwrap()
            .into_inner()
            .name;
        if !matches!(
            rpc,
            "RecordInspectionFinding" | "PublishInspection" | "VerifyInspectionDraw"
        ) {
            return (inspection, String::new());
        }
        let id = self.id("draw");
        let drawn = self
            .sup
            .draw_inspection_sample(request(draw(&inspection), &self.t, &id))
            .await
            .unwrap()
            .into_inner();
        (inspection, drawn.sample.unwrap().targets[0].clone())
    }

    /// A referral of an official.
    async fn referral(&mut self) -> String {
        let id = self.id("referral");
        self.sup
            .create_referral(request(referral(), &self.t, &id))
            .await
            .unwrap()
            .into_inner()
            .name
    }

    /// A poor result of `institution` for 2026: a violation to withdraw.
    async fn poor_result(&mut self, institution: &str) {
        let id = self.id("report");
        self.sup
            .report_quality_result(request(
                ce_proto::supervision::ReportQualityResultRequest {
                    institution: institution.into(),
                    period: "2026".into(),
                    grade: "D".into(),
                    score: 41.0,
                    model_version: "national-2026.2".into(),
                    ..Default::default()
                },
                &self.t,
                &id,
            ))
            .await
            .unwrap();
    }
}

async fn prepare(
    env: &ce_tests::SupervisionEnv,
    sw_w: &World,
    seminar: &str,
    rpc: &str,
) -> Prepared {
    let mut s = Setup {
        sup: ce_proto::supervision::supervision_service_client::SupervisionServiceClient::new(
            env.channel.clone(),
        ),
        t: province_token(&env.registry),
        n: REQUEST.fetch_add(1, Ordering::Relaxed),
    };
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
        p.violation = s.violation(sw_w, rpc).await;
    }
    if matches!(rpc, "AcknowledgeNotification" | "ListNotifications") {
        p.notification = notification(env, sw_w, seminar, s.n).await;
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
        (p.inspection, p.target) = s.inspection(rpc).await;
    }
    if matches!(rpc, "ResolveReferral" | "ListReferrals") {
        p.referral = s.referral().await;
    }
    if matches!(rpc, "ReportQualityResult" | "WithdrawQualityResult") {
        // One violation per institution and period: a fresh institution each time.
        p.institution = ce_tests::world::create_institution(
            &mut env.registry.province("44"),
            academy(&format!("Poor Academy {}", s.n)),
        )
        .await;
    }
    if rpc == "WithdrawQualityResult" {
        s.poor_result(&p.institution).await;
    }
    p
}

/// Inspection `n` of the province's construction institutions, November
/// to mid-December 2026.
fn new_inspection(n: u64) -> ce_proto::supervision::CreateInspectionRequest {
    use ce_proto::supervision as sp;
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
    }
}

/// A draw of one target and one inspector for `inspection`.
fn draw(inspection: &str) -> ce_proto::supervision::DrawInspectionSampleRequest {
    ce_proto::supervision::DrawInspectionSampleRequest {
        name: inspection.into(),
        target_count: 1,
        roster: vec!["inspector-1".into()],
        inspector_count: 1,
        seed: 0,
    }
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
    calls!(rpc, c, token, id, other => call_inspections(other, &mut c, &p, n, token, id).await;
        "CreateViolation" => create_violation(sp::CreateViolationRequest {
            violation: Some(sp::Violation {
                institution: w.institution.clone(),
                category: sp::ViolationCategory::ImproperFees as i32,
                description: format!("Fees without training {n}"),
                ..Default::default()
            }),
            ..Default::default()
        });
        "GetViolation" => get_violation(sp::GetViolationRequest { name: p.violation.clone() });
        "ListViolations" => list_violations(sp::ListViolationsRequest {
            province: "44".into(),
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.violations.iter().any(|v| v.name == p.violation);
        "DecideViolation" => decide_violation(sp::DecideViolationRequest {
            name: p.violation.clone(),
            decision: Some(warning()),
        });
        "CloseViolation" => close_violation(sp::CloseViolationRequest {
            name: p.violation.clone(),
            closure: sp::ClosureKind::Rectified as i32,
            reason: "Fees refunded to every learner".into(),
        });
        "AppealViolation" => appeal_violation(sp::AppealViolationRequest {
            name: p.violation.clone(),
            text: "The course was held; attendance sheets attached".into(),
        });
        "ListViolationAuditEntries" => list_violation_audit_entries(
            sp::ListViolationAuditEntriesRequest { name: p.violation.clone() }
        );
        "ListNotifications" => list_notifications(sp::ListNotificationsRequest {
            employer: w.employer.clone(),
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.notifications.iter().any(|x| x.name == p.notification);
        "AcknowledgeNotification" => acknowledge_notification(
            sp::AcknowledgeNotificationRequest { name: p.notification.clone() }
        );
        "GetOutboxStatus" => get_outbox_status(sp::GetOutboxStatusRequest {});
        "ReportQualityResult" => report_quality_result(sp::ReportQualityResultRequest {
            institution: p.institution.clone(),
            period: "2026".into(),
            grade: "D".into(),
            score: 41.0,
            model_version: "national-2026.2".into(),
            finding: String::new(),
            compute_time: None,
        });
        "WithdrawQualityResult" => withdraw_quality_result(sp::WithdrawQualityResultRequest {
            institution: p.institution.clone(),
            period: "2026".into(),
            grade: "B".into(),
            score: 75.0,
            model_version: "national-2026.2".into(),
            compute_time: None,
        });
        "CreateReferral" => create_referral(referral());
        "ResolveReferral" => resolve_referral(sp::ResolveReferralRequest {
            name: p.referral.clone(),
            outcome: "Demerit recorded by the discipline body".into(),
        });
        "ListReferrals" => list_referrals(sp::ListReferralsRequest {
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.referrals.iter().any(|x| x.name == p.referral);
        "GetInstitutionRecord" => get_institution_record(sp::GetInstitutionRecordRequest {
            name: format!("{}/supervisionRecord", p.institution),
        }) shown |r| r.institution == p.institution;
    )
}

/// The calls of the inspections (Art. 24), each about the inspection
/// prepared for it.
async fn call_inspections(
    rpc: &str,
    c: &mut ce_proto::supervision::supervision_service_client::SupervisionServiceClient<Channel>,
    p: &Prepared,
    n: u64,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    use ce_proto::supervision as sp;
    calls!(rpc, c, token, id;
        "CreateInspection" => create_inspection(new_inspection(n));
        "GetInspection" => get_inspection(sp::GetInspectionRequest { name: p.inspection.clone() });
        "ListInspections" => list_inspections(sp::ListInspectionsRequest {
            province: "44".into(),
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.inspections.iter().any(|i| i.name == p.inspection);
        "DrawInspectionSample" => draw_inspection_sample(draw(&p.inspection));
        "CommitInspectionDraw" => commit_inspection_draw(sp::CommitInspectionDrawRequest {
            name: p.inspection.clone(),
            target_count: 1,
            roster: vec!["inspector-1".into()],
            inspector_count: 1,
        });
        "VerifyInspectionDraw" => verify_inspection_draw(sp::VerifyInspectionDrawRequest {
            name: p.inspection.clone(),
            seed_hex: String::new(),
        }) shown |r| r.matches;
        "RecordInspectionFinding" => record_inspection_finding(
            sp::RecordInspectionFindingRequest {
                name: p.inspection.clone(),
                finding: Some(sp::Finding {
                    target: p.target.clone(),
                    outcome: sp::FindingOutcome::Compliant as i32,
                    text: "Records complete".into(),
                    ..Default::default()
                }),
            }
        );
        "PublishInspection" => publish_inspection(sp::PublishInspectionRequest {
            name: p.inspection.clone(),
            outcome: "All compliant".into(),
        });
    )
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
    found
        .sweep(&env.registry.place, SUPERVISION, async |row, who, id| {
            let token = token_of(&env.registry, &sw.w, who);
            call_supervision(row.rpc, &env, &sw, &token, id).await
        })
        .await;
    found.assert_clean();
}

both_backends!(supervision_admits_exactly_whom_its_table_names);
