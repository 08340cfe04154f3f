//! An institution's sanctions and what the registry makes of them: a
//! suspension it enforces, a disqualification that an earlier suspension's
//! end does not lift, a rectified order that returns it to active unless a
//! sanction governs (Art. 26).

use super::*;

async fn a_suspension_is_enforced_by_the_registry(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let violation = || Violation {
        institution: inst.clone(),
        category: ViolationCategory::ImproperFees as i32,
        description: "Charged 3,000 yuan for a course that was never held".into(),
        evidence: vec!["complaint GD-2026-118".into(), "bank statement".into()],
        ..Default::default()
    };
    // Beijing cannot record Guangdong's institution; a regulator of another field neither.
    for req in [
        province("11"),
        TokenRequest {
            field: Some(Field::Agriculture),
            ..token(Role::IndustryRegulator, "moa-clerk")
        },
        org(Role::Employer, "employers/x"),
    ] {
        let err = ce_tests::refusal(env.client(req).create_violation(CreateViolationRequest {
            violation: Some(violation()),
            request_id: "r1".into(),
        }))
        .await;
        assert_eq!(err.code(), Code::PermissionDenied, "{}", err.message());
    }
    let err = ce_tests::refusal(env.client(province("44")).create_violation(cases::opening(
        Violation {
            hour_records: vec!["hourRecords/x".into()],
            ..violation()
        },
    )))
    .await;
    assert_eq!(bad_fields(&err), ["violation.hour_records"]);

    let mut gd = env.client(province("44"));
    let created = ce_tests::answer(gd.create_violation(CreateViolationRequest {
        violation: Some(violation()),
        request_id: "GD-SUP-2026-7".into(),
    }))
    .await;
    assert_eq!(created.state, ViolationState::Open as i32);
    assert_eq!(created.article, "Art. 16, 26");
    assert_eq!(created.province, "44");
    // A retry with the same request id records nothing new.
    let again = ce_tests::answer(gd.create_violation(CreateViolationRequest {
        violation: Some(violation()),
        request_id: "GD-SUP-2026-7".into(),
    }))
    .await;
    assert_eq!(again.name, created.name);
    // The institution sees its own record.
    let own = ce_tests::answer(
        env.client(org(Role::Institution, &inst))
            .list_violations(ListViolationsRequest::default()),
    )
    .await;
    assert_eq!(own.violations.len(), 1);

    // A suspension without an end is refused, naming the field.
    let decide = |decision: Decision| DecideViolationRequest {
        name: created.name.clone(),
        decision: Some(decision),
    };
    // The registry judges the standing against the real today, so the
    // suspension is around it, whenever the test runs.
    let suspension = Decision {
        kind: DecisionKind::Suspension as i32,
        reason: "Fees without training (Art. 16)".into(),
        effective_date: from_today(-25),
        suspension_end_date: from_today(155),
        ..Default::default()
    };
    let err = ce_tests::refusal(gd.decide_violation(decide(Decision {
        suspension_end_date: None,
        ..suspension.clone()
    })))
    .await;
    assert_eq!(bad_fields(&err), ["decision.suspension_end_date"]);
    let decided = ce_tests::answer(gd.decide_violation(decide(suspension.clone()))).await;
    assert_eq!(decided.state, ViolationState::Decided as i32);
    let err = ce_tests::refusal(gd.decide_violation(decide(suspension))).await;
    assert_eq!(err.code(), Code::FailedPrecondition);

    let status = drained(&env, Duration::from_secs(20)).await;
    assert_eq!(
        status.delivered, 2,
        "suspension, and return to active after it"
    );
    let standing = ce_tests::answer(
        env.registry
            .province("44")
            .get_institution(GetInstitutionRequest { name: inst.clone() }),
    )
    .await;
    assert_eq!(standing.standing, Standing::Suspended as i32);
    enforced_by_the_registry_until_closed(&env, &mut gd, &inst, &created.name).await;
}

/// The registry enforces the suspension of `inst`: no activity during it
/// (Art. 26); the case is then closed as rectified.
async fn enforced_by_the_registry_until_closed(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    inst: &str,
    case: &str,
) {
    // The registry enforces it: no activity during the suspension (Art. 26).
    let err = ce_tests::refusal(env.registry.institution(inst).create_activity(
        CreateActivityRequest {
            activity: Some(reg::Activity {
                title: "Site safety".into(),
                province: "44".into(),
                field: Field::Construction as i32,
                subject_category: SubjectCategory::Professional as i32,
                delivery_mode: DeliveryMode::FaceToFace as i32,
                start_date: from_today(11),
                end_date: from_today(12),
                hours_per_day: 6.0,
                ..Default::default()
            }),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());

    let closed = cases::close_rectified(gd, case, "Fees refunded to every learner").await;
    assert_eq!(closed.state, ViolationState::Closed as i32);
    assert_eq!(closed.pending_effects, 0);
}

/// An activity of `inst` on two days from `start`, as the registry answers it.
async fn publish_activity(
    env: &SupervisionEnv,
    inst: &str,
    start: time::Date,
) -> Result<reg::Activity, tonic::Status> {
    let day = |d: time::Date| Some(ce_server::dates::to_proto(d));
    env.registry
        .institution(inst)
        .create_activity(CreateActivityRequest {
            activity: Some(reg::Activity {
                title: "Site safety".into(),
                province: "44".into(),
                field: Field::Construction as i32,
                subject_category: SubjectCategory::Professional as i32,
                delivery_mode: DeliveryMode::FaceToFace as i32,
                start_date: day(start),
                end_date: day(start.next_day().unwrap()),
                hours_per_day: 6.0,
                ..Default::default()
            }),
        })
        .await
        .map(|r| r.into_inner())
}

async fn a_disqualification_is_not_lifted_by_an_earlier_suspensions_end(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let mut gd = env.client(province("44"));
    decided(
        &mut gd,
        &inst,
        ViolationCategory::ImproperFees,
        Decision {
            kind: DecisionKind::Suspension as i32,
            reason: "Fees without training (Art. 16)".into(),
            effective_date: date(2026, 11, 1),
            suspension_end_date: date(2027, 4, 30),
            ..Default::default()
        },
    )
    .await;
    let disqualified = decided(
        &mut gd,
        &inst,
        ViolationCategory::FraudulentRecruitment,
        Decision {
            kind: DecisionKind::Disqualification as i32,
            reason: "Sold certificates while suspended".into(),
            effective_date: date(2026, 12, 1),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(disqualified.state, ViolationState::Decided as i32);
    let status = drained(&env, Duration::from_secs(20)).await;
    assert_eq!(
        status.delivered, 3,
        "suspension, its return to active, disqualification"
    );
    let changes = ce_tests::answer(env.registry.province("44").list_standing_changes(
        reg::ListStandingChangesRequest {
            parent: inst.clone(),
            ..Default::default()
        },
    ))
    .await
    .standing_changes;
    assert_eq!(
        changes.len(),
        4,
        "the registry records every change, after the registration's own"
    );

    // Suspended in November, disqualified from December; the return to
    // active dated 2027-05-01 never applies (Art. 26).
    let err = publish_activity(&env, &inst, time::macros::date!(2026 - 11 - 10))
        .await
        .unwrap_err();
    assert!(err.message().contains("suspended"), "{}", err.message());
    for start in [
        time::macros::date!(2026 - 12 - 07),
        time::macros::date!(2027 - 05 - 03),
        time::macros::date!(2028 - 01 - 10),
    ] {
        let err = publish_activity(&env, &inst, start).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{start}");
        assert!(
            err.message().contains("disqualified from 2026-12-01"),
            "{start}: {}",
            err.message()
        );
    }
    // Before the suspension the institution still published.
    publish_activity(&env, &inst, time::macros::date!(2026 - 10 - 20))
        .await
        .unwrap();
}

/// The institution's standing today, as the registry has it.
async fn standing_of(env: &SupervisionEnv, inst: &str) -> (i32, Option<Date>) {
    let i = ce_tests::answer(
        env.registry
            .province("44")
            .get_institution(GetInstitutionRequest {
                name: inst.to_owned(),
            }),
    )
    .await;
    (i.standing, i.standing_effective_date)
}

async fn close_rectified(gd: &mut ce_tests::Supervision, v: &Violation) -> Violation {
    cases::close_rectified(gd, &v.name, "Records put in order and checked on site").await
}

async fn a_rectified_order_returns_the_institution_to_active_unless_a_sanction_governs(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let mut gd = env.client(province("44"));
    let order = || Decision {
        kind: DecisionKind::RectificationOrder as i32,
        reason: "Keep learner records (Art. 15)".into(),
        effective_date: from_today(-10),
        rectification_deadline: from_today(30),
        ..Default::default()
    };
    // Ordered to rectify; rectified; active again from today.
    let inst = institution(&env).await;
    let ordered = decided(&mut gd, &inst, ViolationCategory::Obligations, order()).await;
    assert_eq!(drained(&env, Duration::from_secs(20)).await.delivered, 1);
    assert_eq!(
        standing_of(&env, &inst).await,
        (Standing::RectificationOrdered as i32, from_today(-10))
    );
    let closed = close_rectified(&mut gd, &ordered).await;
    assert_eq!(closed.state, ViolationState::Closed as i32);
    assert_eq!(drained(&env, Duration::from_secs(20)).await.delivered, 2);
    assert_eq!(
        standing_of(&env, &inst).await,
        (Standing::Active as i32, from_today(0))
    );

    // Suspended by another case meanwhile: rectifying the order lifts nothing.
    let suspended = institution(&env).await;
    let ordered = decided(&mut gd, &suspended, ViolationCategory::Obligations, order()).await;
    decided(
        &mut gd,
        &suspended,
        ViolationCategory::ImproperFees,
        Decision {
            kind: DecisionKind::Suspension as i32,
            reason: "Fees without training (Art. 16)".into(),
            effective_date: from_today(-5),
            suspension_end_date: from_today(60),
            ..Default::default()
        },
    )
    .await;
    // Both decisions' effects delivered first, so that anything pending
    // after the close is what the close itself queued.
    drained(&env, Duration::from_secs(20)).await;
    let closed = close_rectified(&mut gd, &ordered).await;
    assert_eq!(closed.pending_effects, 0, "no return to active queued");
    // Order, suspension, return after the suspension: nothing more.
    assert_eq!(drained(&env, Duration::from_secs(20)).await.delivered, 5);
    assert_eq!(
        standing_of(&env, &suspended).await,
        (Standing::Suspended as i32, from_today(-5))
    );

    // Disqualified: final, and the registry enforces it from its date.
    let disqualified = institution(&env).await;
    let ordered = decided(
        &mut gd,
        &disqualified,
        ViolationCategory::Obligations,
        order(),
    )
    .await;
    let decision = decided(
        &mut gd,
        &disqualified,
        ViolationCategory::FraudulentRecruitment,
        Decision {
            kind: DecisionKind::Disqualification as i32,
            reason: "Certificates sold without training".into(),
            effective_date: from_today(-1),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        decision.decision.unwrap().kind,
        DecisionKind::Disqualification as i32
    );
    // The order's own effect delivered first, so that what closing it adds
    // (nothing: the disqualification governs) is all that could be pending.
    drained(&env, Duration::from_secs(20)).await;
    let closed = close_rectified(&mut gd, &ordered).await;
    assert_eq!(closed.pending_effects, 0);
    assert_eq!(drained(&env, Duration::from_secs(20)).await.delivered, 7);
    assert_eq!(
        standing_of(&env, &disqualified).await,
        (Standing::Disqualified as i32, from_today(-1))
    );
    let err = publish_activity(
        &env,
        &disqualified,
        ce_server::dates::today() + time::Duration::days(400),
    )
    .await
    .unwrap_err();
    assert!(err.message().contains("disqualified"), "{}", err.message());
}

both_backends!(
    a_suspension_is_enforced_by_the_registry,
    a_disqualification_is_not_lifted_by_an_earlier_suspensions_end,
    a_rectified_order_returns_the_institution_to_active_unless_a_sanction_governs,
);
