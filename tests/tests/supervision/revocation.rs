//! Art. 27 decisions that revoke an engineer's hours in crediting: made
//! while crediting is down and delivered once it returns, made after the
//! year so that it is no longer compliant, and only on a decided case that
//! names the records.

use super::*;

async fn an_art27_decision_made_while_crediting_is_down_lands_once_it_returns(b: Backend) {
    let mut env = SupervisionEnv::start(b).await;
    let (employer, engineer, record) = engineer_with_hours(&env).await;
    let mut gd = env.client(province("44"));
    let err = ce_tests::refusal(gd.create_violation(cases::opening(
        ce_tests::world::improper_hours(
            &engineer,
            &["hourRecords/00000000-0000-7000-8000-000000000000".into()],
        ),
    )))
    .await;
    assert_eq!(bad_fields(&err), ["violation.hour_records[0]"]);
    let case = cases::open(
        &mut gd,
        ce_tests::world::improper_hours(&engineer, std::slice::from_ref(&record.name)),
    )
    .await;
    assert_eq!(case.article, "Art. 27");
    assert_eq!(case.employer, employer);
    let year = || GetAnnualStatusRequest {
        name: format!("{engineer}/annualStatuses/2026"),
    };
    let before = ce_tests::answer(env.crediting(province("44")).get_annual_status(year())).await;
    assert_eq!(before.state, AnnualState::Compliant as i32);

    // Crediting goes down; the decision still succeeds and waits in the outbox.
    env.stop_crediting().await;
    decided_while_crediting_is_down(&env, &mut gd, &case.name).await;
    let (mut boss, notes) = employer_notified_at_once(&env, &employer).await;

    // Crediting returns; the revocation lands, once.
    env.restart_crediting().await;
    revoked_once(&env, &case.name, &record.name, &engineer).await;
    acknowledged_and_employers_inspected(&mut gd, &mut boss, &notes[0].name, &employer).await;
    seen_by_the_engineer_only(&env, &engineer, case.name).await;
}

/// Decides `case` by revocation while crediting is down: the decision
/// waits in the outbox, whose worker says why.
async fn decided_while_crediting_is_down(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    case: &str,
) {
    let decided = ce_tests::answer(gd.decide_violation(DecideViolationRequest {
        name: case.to_owned(),
        decision: Some(Decision {
            kind: DecisionKind::Revocation as i32,
            reason: "Hours obtained by deception".into(),
            ..Default::default()
        }),
    }))
    .await;
    assert_eq!(decided.state, ViolationState::Decided as i32);
    assert_eq!(decided.pending_effects, 1);
    // The worker tries, fails, and says so.
    let started = Instant::now();
    let waiting = loop {
        let s = ce_tests::answer(
            env.client(token(Role::Ministry, "ministry-clerk"))
                .get_outbox_status(GetOutboxStatusRequest {}),
        )
        .await;
        if !s.oldest_last_error.is_empty() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(waiting.pending, 1);
    assert!(
        waiting.oldest_last_error.contains("Unavailable"),
        "{waiting:?}"
    );
    let err = ce_tests::refusal(
        env.client(province("44"))
            .get_outbox_status(GetOutboxStatusRequest {}),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// The employer's notification of the revocation, there at once; another
/// employer neither sees nor acknowledges it. The employer's client and its
/// notifications.
async fn employer_notified_at_once(
    env: &SupervisionEnv,
    employer: &str,
) -> (ce_tests::Supervision, Vec<Notification>) {
    // The employer is notified at once; other employers see nothing.
    let mut boss = env.client(org(Role::Employer, employer));
    let notes = cases::notifications(&mut boss, ListNotificationsRequest::default()).await;
    assert_eq!(notes.len(), 1);
    assert!(notes[0].text.contains("Art. 27"), "{}", notes[0].text);
    let other = env.client(org(Role::Employer, "employers/another"));
    assert!(
        ce_tests::answer(
            other
                .clone()
                .list_notifications(ListNotificationsRequest::default())
        )
        .await
        .notifications
        .is_empty()
    );
    let err = ce_tests::refusal(other.clone().acknowledge_notification(
        AcknowledgeNotificationRequest {
            name: notes[0].name.clone(),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    (boss, notes)
}

/// Once crediting is back, `record` is revoked by `case`, once, and the
/// engineer's compliant 2026 is complete no longer.
async fn revoked_once(env: &SupervisionEnv, case: &str, record: &str, engineer: &str) {
    let year = || GetAnnualStatusRequest {
        name: format!("{engineer}/annualStatuses/2026"),
    };
    drained(env, Duration::from_secs(60)).await;
    let revoked = ce_tests::answer(env.crediting(province("44")).get_hour_record(
        GetHourRecordRequest {
            name: record.to_owned(),
        },
    ))
    .await;
    assert_eq!(revoked.state, RecordState::Revoked as i32);
    assert!(revoked.decision_reason.contains(case));
    let after = ce_tests::answer(env.crediting(province("44")).get_annual_status(year())).await;
    assert_eq!(after.total_hours, 0.0);
    assert!(!after.complete, "the compliant year is no longer complete");
    assert_eq!(
        after.state,
        AnnualState::InProgress as i32,
        "2026 is not over yet"
    );
    let revocations = env
        .crediting_audit(record)
        .into_iter()
        .filter(|a| a.rpc.ends_with("RevokeHourRecords") && a.outcome == "OK")
        .count();
    assert_eq!(revocations, 1, "delivered exactly once");
}

/// The province chases the unacknowledged notification `note`, the
/// employer acknowledges it (once), and an inspection of employers draws
/// the province's only one.
async fn acknowledged_and_employers_inspected(
    gd: &mut ce_tests::Supervision,
    boss: &mut ce_tests::Supervision,
    note: &str,
    employer: &str,
) {
    // The province chases unacknowledged notifications; the employer acknowledges.
    let unacknowledged = || ListNotificationsRequest {
        unacknowledged_only: true,
        ..Default::default()
    };
    assert_eq!(cases::notifications(gd, unacknowledged()).await.len(), 1);
    let acked = ce_tests::answer(
        boss.acknowledge_notification(AcknowledgeNotificationRequest {
            name: note.to_owned(),
        }),
    )
    .await;
    assert!(acked.acknowledge_time.is_some());
    // Acknowledging again changes nothing: the first time stands.
    let again = ce_tests::answer(
        boss.acknowledge_notification(AcknowledgeNotificationRequest {
            name: note.to_owned(),
        }),
    )
    .await;
    assert_eq!(again.acknowledge_time, acked.acknowledge_time);
    assert_eq!(again.acknowledged_by, acked.acknowledged_by);
    assert!(cases::notifications(gd, unacknowledged()).await.is_empty());
    // Employers are inspected too: the province's only employer is drawn.
    let plan = cases::plan(
        gd,
        Inspection {
            title: "Employers' confirmation of hours".into(),
            province: "44".into(),
            target_kind: TargetKind::Employers as i32,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            ..Default::default()
        },
    )
    .await;
    let drawn = cases::draw(
        gd,
        cases::drawing(&plan.name, 1, vec!["inspector-1".into()], 1),
    )
    .await;
    assert_eq!(drawn.sample.unwrap().targets, vec![employer.to_owned()]);
}

/// The engineer sees `case`; Beijing does not.
async fn seen_by_the_engineer_only(env: &SupervisionEnv, engineer: &str, case: String) {
    // The engineer sees the case; Beijing does not.
    let mine = ce_tests::answer(
        env.client(token(Role::Engineer, engineer))
            .get_violation(GetViolationRequest { name: case.clone() }),
    )
    .await;
    assert_eq!(mine.pending_effects, 0);
    let err = ce_tests::refusal(
        env.client(province("11"))
            .get_violation(GetViolationRequest { name: case }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

async fn an_art27_decision_after_the_year_makes_it_non_compliant_and_revokes_its_certificate(
    b: Backend,
) {
    let mut env = SupervisionEnv::start(b).await;
    let (employer, engineer, record) = engineer_with_hours(&env).await;
    // 2026 ends: crediting's today is in 2027, so the year is judged, not in progress.
    env.restart_crediting_on(time::macros::date!(2027 - 03 - 01))
        .await;
    let year = format!("{engineer}/annualStatuses/2026");
    let mut clerk = env.crediting(province("44"));
    let status = || GetAnnualStatusRequest { name: year.clone() };
    let before = ce_tests::answer(clerk.get_annual_status(status())).await;
    assert_eq!(before.state, AnnualState::Compliant as i32);
    assert!(before.complete);
    let cert = ce_tests::answer(
        env.crediting(token(Role::Engineer, &engineer))
            .create_hour_certificate(CreateHourCertificateRequest {
                annual_status: year.clone(),
            }),
    )
    .await;
    let mut verifier = env.crediting(org(Role::Employer, &employer));
    let verify = || VerifyHourCertificateRequest {
        credential: cert.credential.clone(),
    };
    let valid = ce_tests::answer(verifier.verify_hour_certificate(verify())).await;
    assert_eq!(valid.verdict, Verdict::Valid as i32, "{}", valid.reason);

    let mut gd = env.client(province("44"));
    let case = cases::open(
        &mut gd,
        Violation {
            engineer: engineer.clone(),
            category: ViolationCategory::ImproperHours as i32,
            description: "Paid the organiser to confirm hours never attended".into(),
            hour_records: vec![record.name.clone()],
            ..Default::default()
        },
    )
    .await;
    ce_tests::answer(gd.decide_violation(DecideViolationRequest {
        name: case.name.clone(),
        decision: Some(Decision {
            kind: DecisionKind::Revocation as i32,
            reason: "Hours obtained by bribery".into(),
            ..Default::default()
        }),
    }))
    .await;
    drained(&env, Duration::from_secs(20)).await;

    let after = ce_tests::answer(clerk.get_annual_status(status())).await;
    assert_eq!(after.total_hours, 0.0);
    assert!(!after.complete);
    assert_eq!(
        after.state,
        AnnualState::NonCompliant as i32,
        "2026 is over: without the revoked hours it is not compliant"
    );
    let revoked = ce_tests::answer(verifier.verify_hour_certificate(verify())).await;
    assert_eq!(
        revoked.verdict,
        Verdict::Revoked as i32,
        "{}",
        revoked.reason
    );
    assert_eq!(revoked.hour_certificate, cert.name);
    assert!(
        revoked.revocation_reason.contains("Art. 27"),
        "{}",
        revoked.revocation_reason
    );
    let notes = ce_tests::answer(
        env.client(org(Role::Employer, &employer))
            .list_notifications(ListNotificationsRequest::default()),
    )
    .await
    .notifications;
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].violation.as_str(), notes[0].engineer.as_str()),
        (case.name.as_str(), engineer.as_str())
    );
    assert!(notes[0].text.contains(&record.name), "{}", notes[0].text);
}

/// Only supervision revokes hours as a service, and only on a case it
/// decided by revocation that names the records (Art. 27); crediting asks
/// supervision. Quality monitoring may not revoke at all.
async fn a_service_revokes_hours_only_on_a_decided_case_naming_them(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (_employer, engineer, record) = engineer_with_hours(&env).await;
    let (_, _, other) = engineer_with_hours(&env).await;
    let mut gd = env.client(province("44"));
    let open = ce_tests::world::create_violation(
        &mut gd,
        ce_tests::world::improper_hours(&engineer, std::slice::from_ref(&record.name)),
    )
    .await;
    let revoke = |case: &str, names: Vec<String>| RevokeHourRecordsRequest {
        names,
        reason: "Hours obtained improperly".into(),
        case_reference: case.to_owned(),
    };
    let mut as_supervision = env.crediting(token(Role::Service, "supervision"));
    let refused = |r: Result<tonic::Response<RevokeHourRecordsResponse>, tonic::Status>,
                   code: Code,
                   why: &str| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), code, "{err:?}");
        assert!(err.message().contains(why), "{}", err.message());
    };
    // Not decided yet.
    refused(
        as_supervision
            .revoke_hour_records(revoke(&open, vec![record.name.clone()]))
            .await,
        Code::PermissionDenied,
        "has not been decided by revocation",
    );
    // No such case.
    refused(
        as_supervision
            .revoke_hour_records(revoke(
                "violations/0000000000000000",
                vec![record.name.clone()],
            ))
            .await,
        Code::PermissionDenied,
        "not a case supervision knows",
    );
    // Not a case at all.
    refused(
        as_supervision
            .revoke_hour_records(revoke("file 2026-17", vec![record.name.clone()]))
            .await,
        Code::InvalidArgument,
        "case_reference",
    );
    // Quality monitoring holds no such power, whatever the case.
    refused(
        env.crediting(token(Role::Service, "quality"))
            .revoke_hour_records(revoke(&open, vec![record.name.clone()]))
            .await,
        Code::PermissionDenied,
        "service `quality` may not call RevokeHourRecords",
    );
    cases::decide(&mut gd, &open, ce_tests::world::revocation()).await;
    // Decided, but it does not name another engineer's record.
    refused(
        as_supervision
            .revoke_hour_records(revoke(&open, vec![other.name.clone()]))
            .await,
        Code::PermissionDenied,
        "does not name",
    );
    drained(&env, Duration::from_secs(20)).await;
    let revoked = ce_tests::answer(env.crediting(province("44")).get_hour_record(
        GetHourRecordRequest {
            name: record.name.clone(),
        },
    ))
    .await;
    assert_eq!(
        revoked.state,
        RecordState::Revoked as i32,
        "the decided case revoked it"
    );
    let untouched = ce_tests::answer(
        env.crediting(province("44"))
            .get_hour_record(GetHourRecordRequest { name: other.name }),
    )
    .await;
    assert_ne!(untouched.state, RecordState::Revoked as i32);
}

both_backends!(
    an_art27_decision_made_while_crediting_is_down_lands_once_it_returns,
    an_art27_decision_after_the_year_makes_it_non_compliant_and_revokes_its_certificate,
    a_service_revokes_hours_only_on_a_decided_case_naming_them,
);
