//! A case's life: recorded, decided, closed, escalated and appealed, by a
//! regulator of any of the institution's fields; quality reports made into
//! one case a period; listed by field, province, engineer and period;
//! referrals of officials seen only from above.

use super::*;

fn regulator(field: Field) -> TokenRequest {
    TokenRequest {
        field: Some(field),
        province: Some("44".into()),
        ..token(Role::IndustryRegulator, &format!("regulator-{field:?}"))
    }
}

async fn a_regulator_of_any_of_an_institutions_fields_follows_its_violation_through(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let college = reg::Institution {
        display_name: "Pearl River Power and Building College".into(),
        fields: vec![Field::Construction as i32, Field::ElectricPower as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution("44")
    };
    let inst = world::create_institution(&mut env.registry.province("44"), college).await;
    // The regulator of the second field records, reads, lists, decides, closes.
    let mut power = env.client(regulator(Field::ElectricPower));
    let v = cases::open(
        &mut power,
        Violation {
            institution: inst.clone(),
            category: ViolationCategory::PerfunctoryAssessment as i32,
            description: "Exam answers handed out before the exam".into(),
            ..Default::default()
        },
    )
    .await;
    let get = GetViolationRequest {
        name: v.name.clone(),
    };
    ce_tests::answer(power.get_violation(get.clone())).await;
    let listed = cases::violations(&mut power, ListViolationsRequest::default()).await;
    assert_eq!(
        listed.iter().map(|x| &x.name).collect::<Vec<_>>(),
        [&v.name]
    );
    ce_tests::answer(power.decide_violation(DecideViolationRequest {
        name: v.name.clone(),
        decision: Some(ce_tests::world::first_offence_warning()),
    }))
    .await;
    let closed =
        cases::close_rectified(&mut power, &v.name, "Exam re-held under supervision").await;
    assert_eq!(closed.state, ViolationState::Closed as i32);
    // The first field's regulator sees it too; a third field's does not.
    ce_tests::answer(
        env.client(regulator(Field::Construction))
            .get_violation(get.clone()),
    )
    .await;
    let mut farming = env.client(regulator(Field::Agriculture));
    let err = ce_tests::refusal(farming.get_violation(get.clone())).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(
        cases::violations(&mut farming, ListViolationsRequest::default())
            .await
            .is_empty()
    );
    // The province's field filter finds it under either field.
    let mut gd = env.client(province("44"));
    for (field, found) in [
        (Field::Construction, 1),
        (Field::ElectricPower, 1),
        (Field::Agriculture, 0),
    ] {
        let n = cases::violations(
            &mut gd,
            ListViolationsRequest {
                field: field as i32,
                ..Default::default()
            },
        )
        .await
        .len();
        assert_eq!(n, found, "{field:?}");
    }
}

async fn every_institution_category_goes_through_its_lifecycle(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let mut gd = env.client(province("44"));
    let categories = [
        (ViolationCategory::Obligations, "Art. 15, 26"),
        (ViolationCategory::PoorQuality, "Art. 25, 26"),
        (ViolationCategory::FraudulentRecruitment, "Art. 16, 26"),
        (ViolationCategory::ImproperFees, "Art. 16, 26"),
        (ViolationCategory::UnrelatedActivities, "Art. 16, 26"),
        (ViolationCategory::PerfunctoryAssessment, "Art. 16, 26"),
        (ViolationCategory::RefusedInspection, "Art. 24, 26"),
        (ViolationCategory::Other, "Art. 26"),
    ];
    for (category, article) in categories {
        let v = cases::open(&mut gd, case_of(&inst, category)).await;
        assert_eq!(v.article, article);
        let warning = ce_tests::world::first_offence_warning();
        let decided = cases::decide(&mut gd, &v.name, warning).await;
        assert_eq!(decided.state, ViolationState::Decided as i32);
        let closed = cases::close_rectified(&mut gd, &v.name, "Put right").await;
        assert_eq!(closed.state, ViolationState::Closed as i32);
    }
    // An engineer's category on an institution is refused, naming the field.
    let err = ce_tests::refusal(gd.create_violation(cases::opening(Violation {
        institution: inst.clone(),
        category: ViolationCategory::ImproperHours as i32,
        description: "x".into(),
        ..Default::default()
    })))
    .await;
    assert_eq!(
        bad_fields(&err),
        ["violation.engineer", "violation.hour_records"]
    );
    // Filters: category, state, and the day it was recorded.
    let listed = cases::violations(
        &mut gd,
        ListViolationsRequest {
            category: ViolationCategory::Other as i32,
            state: ViolationState::Closed as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(listed.len(), 1);
    let long_ago = cases::violations(
        &mut gd,
        ListViolationsRequest {
            end_date: date(2020, 1, 1),
            ..Default::default()
        },
    )
    .await;
    assert!(long_ago.is_empty());
    assert_eq!(
        cases::violations(&mut gd, ListViolationsRequest::default())
            .await
            .len(),
        8
    );
    let err = ce_tests::refusal(env.client(province("11")).list_violations(
        ListViolationsRequest {
            province: "44".into(),
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    an_overdue_order_is_escalated_and_appealed(&env, &mut gd, &inst).await;
}

/// A rectification order of `inst` whose deadline has passed is escalated
/// by the service; the institution appeals, and the case's audit trail
/// shows every step.
async fn an_overdue_order_is_escalated_and_appealed(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    inst: &str,
) {
    // A rectification order whose deadline has passed is escalated by the service.
    let late = cases::open(
        gd,
        Violation {
            institution: inst.to_owned(),
            category: ViolationCategory::Obligations as i32,
            description: "No learner records kept (Art. 15)".into(),
            ..Default::default()
        },
    )
    .await;
    ce_tests::answer(gd.decide_violation(DecideViolationRequest {
        name: late.name.clone(),
        decision: Some(Decision {
            kind: DecisionKind::RectificationOrder as i32,
            reason: "Keep records".into(),
            effective_date: date(2026, 1, 5),
            rectification_deadline: date(2026, 2, 5),
            ..Default::default()
        }),
    }))
    .await;
    let started = Instant::now();
    let escalated = loop {
        let v = cases::get(gd, &late.name).await;
        if v.state == ViolationState::Closed as i32 {
            break v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not escalated: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(escalated.closure, ClosureKind::Escalated as i32);
    assert!(
        escalated.closure_reason.contains("2026-02-05"),
        "{}",
        escalated.closure_reason
    );

    // The institution appeals; its audit trail shows every step.
    let appealed = ce_tests::answer(env.client(org(Role::Institution, inst)).appeal_violation(
        AppealViolationRequest {
            name: late.name.clone(),
            text: "Records were kept on paper".into(),
        },
    ))
    .await;
    assert_eq!(appealed.appeals.len(), 1);
    let err = ce_tests::refusal(
        env.client(org(Role::Institution, "institutions/another"))
            .appeal_violation(AppealViolationRequest {
                name: late.name.clone(),
                text: "not mine".into(),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let trail = ce_tests::answer(gd.list_violation_audit_entries(
        ListViolationAuditEntriesRequest {
            name: late.name.clone(),
        },
    ))
    .await
    .entries;
    let steps: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| {
            (
                e.rpc.rsplit('/').next().unwrap_or(&e.rpc),
                e.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("CreateViolation", "OK"),
            ("DecideViolation", "OK"),
            ("EscalateOverdue", "OK"),
            ("AppealViolation", "OK"),
            ("AppealViolation", "PERMISSION_DENIED"),
        ],
        "refusals are on the trail too"
    );
}

async fn quality_reports_make_one_violation_per_institution_and_period(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let report = |grade: &str, period: &str| ReportQualityResultRequest {
        institution: inst.clone(),
        period: period.into(),
        grade: grade.into(),
        score: 41.5,
        model_version: "national-2026.2".into(),
        finding: String::new(),
        compute_time: None,
    };
    let mut quality = env.client(token(Role::Service, "service/quality"));
    let first = ce_tests::answer(quality.report_quality_result(report("D", "2026"))).await;
    assert_eq!(first.category, ViolationCategory::PoorQuality as i32);
    assert_eq!(first.article, "Art. 25, 26");
    for grade in ["D", "C"] {
        let again = ce_tests::answer(quality.report_quality_result(report(grade, "2026"))).await;
        assert_eq!(
            again.name, first.name,
            "one violation per institution and period"
        );
    }
    // Reported eight times at once (replicas of quality monitoring): on
    // PostgreSQL the inserts race, and each still gets the one violation.
    let at_once: Vec<_> = (0..8)
        .map(|_| {
            let mut q = quality.clone();
            let r = report("D", "2026-H2");
            tokio::spawn(async move { q.report_quality_result(r).await })
        })
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for t in at_once {
        names.insert(t.await.unwrap().unwrap().into_inner().name);
    }
    assert_eq!(names.len(), 1, "one violation for 2026-H2: {names:?}");
    let other_period =
        ce_tests::answer(quality.report_quality_result(report("D", "2027-H1"))).await;
    assert_ne!(other_period.name, first.name);
    let listed = ce_tests::answer(env.client(province("44")).list_violations(
        ListViolationsRequest {
            category: ViolationCategory::PoorQuality as i32,
            ..Default::default()
        },
    ))
    .await
    .violations;
    assert_eq!(listed.len(), 3);
    for denied in [province("11"), org(Role::Institution, &inst)] {
        let err = ce_tests::refusal(
            env.client(denied)
                .report_quality_result(report("D", "2026")),
        )
        .await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
}

async fn violations_are_listed_by_field_province_engineer_and_period(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (_, engineer, record) = engineer_with_hours(&env).await;
    let guangdong = institution(&env).await;
    let yanjing = reg::Institution {
        display_name: "Yanjing Agricultural Training".into(),
        fields: vec![Field::Agriculture as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution("11")
    };
    let beijing = world::create_institution(&mut env.registry.province("11"), yanjing).await;
    let mut ministry = env.client(token(Role::Ministry, "ministry-inspector"));
    let of = |institution: &str, category: ViolationCategory| CreateViolationRequest {
        violation: Some(case_of(institution, category)),
        ..Default::default()
    };
    for category in [
        ViolationCategory::Obligations,
        ViolationCategory::ImproperFees,
        ViolationCategory::Other,
    ] {
        ce_tests::answer(ministry.create_violation(of(&guangdong, category))).await;
    }
    ce_tests::answer(ministry.create_violation(of(&beijing, ViolationCategory::Other))).await;
    let case = cases::open(
        &mut ministry,
        ce_tests::world::improper_hours(&engineer, std::slice::from_ref(&record.name)),
    )
    .await;

    let count = |req: ListViolationsRequest| {
        let mut ministry = ministry.clone();
        async move {
            ce_tests::answer(ministry.list_violations(req))
                .await
                .violations
                .len()
        }
    };
    for (req, n, what) in [
        (
            ListViolationsRequest {
                province: "44".into(),
                ..Default::default()
            },
            4,
            "44",
        ),
        (
            ListViolationsRequest {
                province: "11".into(),
                ..Default::default()
            },
            1,
            "11",
        ),
        (
            ListViolationsRequest {
                field: Field::Construction as i32,
                ..Default::default()
            },
            3,
            "construction",
        ),
        (
            ListViolationsRequest {
                field: Field::ElectricPower as i32,
                ..Default::default()
            },
            1,
            "the engineer's field",
        ),
        (
            ListViolationsRequest {
                province: "44".into(),
                field: Field::Agriculture as i32,
                ..Default::default()
            },
            0,
            "44 and agriculture",
        ),
        (
            ListViolationsRequest {
                engineer: engineer.clone(),
                ..Default::default()
            },
            1,
            "the engineer",
        ),
    ] {
        assert_eq!(count(req).await, n, "{what}");
    }

    listed_by_the_engineer_only(&env, &engineer, &case.name).await;
    paged_through_a_period(&mut ministry).await;
}

/// An engineer lists only their own cases: `case`, and no one else's.
async fn listed_by_the_engineer_only(env: &SupervisionEnv, engineer: &str, case: &str) {
    // An engineer lists only their own cases.
    let mut own = env.client(token(Role::Engineer, engineer));
    let mine = cases::violations(&mut own, ListViolationsRequest::default()).await;
    assert_eq!(mine.iter().map(|v| &v.name).collect::<Vec<_>>(), [case]);
    let err = ce_tests::refusal(own.list_violations(ListViolationsRequest {
        engineer: "engineers/someone-else".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// The ministry pages through a period; a token does not carry over to
/// another period.
async fn paged_through_a_period(ministry: &mut ce_tests::Supervision) {
    // Paging through a period; a token does not carry over to another period.
    let period = |end: i64| ListViolationsRequest {
        page_size: 2,
        start_date: from_today(-1),
        end_date: from_today(end),
        ..Default::default()
    };
    let first = ce_tests::answer(ministry.list_violations(period(1))).await;
    assert_eq!(first.violations.len(), 2);
    let mut seen: Vec<String> = first.violations.iter().map(|v| v.name.clone()).collect();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = ce_tests::answer(ministry.list_violations(ListViolationsRequest {
            page_token: token.clone(),
            ..period(1)
        }))
        .await;
        seen.extend(page.violations.into_iter().map(|v| v.name));
        token = page.next_page_token;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let again = ce_tests::answer(ministry.list_violations(period(1))).await;
    for changed in [
        period(30),
        ListViolationsRequest {
            start_date: from_today(-30),
            ..period(1)
        },
    ] {
        let err = ce_tests::refusal(ministry.list_violations(ListViolationsRequest {
            page_token: again.next_page_token.clone(),
            ..changed
        }))
        .await;
        assert_eq!(bad_fields(&err), ["page_token"]);
    }
}

async fn officials_referrals_are_seen_only_from_above(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let referral = |department: &str| CreateReferralRequest {
        referral: Some(Referral {
            official: "Section chief Wang".into(),
            department: department.into(),
            misconduct: Misconduct::Favouritism as i32,
            description: "Confirmed hours for a relative's fictitious course".into(),
            referred_to: ReferredTo::DisciplineBody as i32,
            ..Default::default()
        }),
    };
    let mut gd = env.client(province("44"));
    let city = ce_tests::answer(gd.create_referral(referral("hrss/440100"))).await;
    // A province cannot refer (or see) its own department's officials; the ministry can.
    let err = ce_tests::refusal(gd.create_referral(referral("hrss/44"))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    ce_tests::answer(ministry.create_referral(referral("hrss/44"))).await;
    let err = ce_tests::refusal(gd.create_referral(referral("hrss/99"))).await;
    assert_eq!(bad_fields(&err), ["referral.department"]);
    // Nor a province regulator's: the regulator answers to its own line.
    let err =
        ce_tests::refusal(gd.create_referral(referral("regulator/FIELD_CONSTRUCTION/44"))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let regulators =
        ce_tests::answer(ministry.create_referral(referral("regulator/FIELD_CONSTRUCTION/44")))
            .await;
    // The ministry's own officials go to the discipline body, and only there.
    ce_tests::answer(ministry.create_referral(referral("hrss/00"))).await;
    let mut to_superior = referral("hrss/00");
    if let Some(r) = to_superior.referral.as_mut() {
        r.referred_to = ReferredTo::SuperiorAuthority as i32;
    }
    let err = ce_tests::refusal(ministry.create_referral(to_superior)).await;
    assert_eq!(bad_fields(&err), ["referral.referred_to"]);
    let err = ce_tests::refusal(gd.resolve_referral(ResolveReferralRequest {
        name: regulators.name.clone(),
        outcome: "Not Guangdong HRSS's to resolve".into(),
    }))
    .await;
    assert_eq!(err.code(), Code::NotFound, "not even its existence is told");

    let seen = |r: ListReferralsResponse| r.referrals.len();
    assert_eq!(
        seen(ce_tests::answer(ministry.list_referrals(ListReferralsRequest::default())).await),
        4
    );
    assert_eq!(
        seen(ce_tests::answer(gd.list_referrals(ListReferralsRequest::default())).await),
        1
    );
    assert_eq!(
        seen(
            ce_tests::answer(
                env.client(province("11"))
                    .list_referrals(ListReferralsRequest::default())
            )
            .await
        ),
        0
    );
    for denied in [
        TokenRequest {
            field: Some(Field::Construction),
            ..token(Role::IndustryRegulator, "r")
        },
        org(Role::Employer, "employers/x"),
    ] {
        let err = ce_tests::refusal(
            env.client(denied)
                .list_referrals(ListReferralsRequest::default()),
        )
        .await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let resolved = ce_tests::answer(gd.resolve_referral(ResolveReferralRequest {
        name: city.name.clone(),
        outcome: "Demerit recorded by the discipline body".into(),
    }))
    .await;
    assert!(resolved.resolve_time.is_some());
    assert_eq!(
        seen(
            ce_tests::answer(gd.list_referrals(ListReferralsRequest {
                unresolved_only: true,
                ..Default::default()
            }))
            .await
        ),
        0
    );
}

both_backends!(
    a_regulator_of_any_of_an_institutions_fields_follows_its_violation_through,
    every_institution_category_goes_through_its_lifecycle,
    quality_reports_make_one_violation_per_institution_and_period,
    violations_are_listed_by_field_province_engineer_and_period,
    officials_referrals_are_seen_only_from_above,
);
