//! Supervision end to end, with the registry and crediting it acts on over
//! gRPC, on SQLite and PostgreSQL: an institution's suspension enforced by
//! the registry, an Art. 27 decision that revokes hours in crediting and
//! notifies the employer, the same decision made while crediting is down
//! and delivered once it returns, and scope on every call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use ce_proto::crediting::{
    AnnualState, CreateHourCertificateRequest, CreateHourRecordRequest, FaceToFaceTraining,
    GetAnnualStatusRequest, GetHourRecordRequest, HourRecord, RecordState,
    RevokeHourRecordsRequest, RevokeHourRecordsResponse, VerifyHourCertificateRequest,
};
use ce_proto::google::r#type::Date;
use ce_proto::registry::{self as reg, CreateActivityRequest, GetInstitutionRequest, Standing};
use ce_proto::supervision::*;
use ce_server::auth::TokenRequest;
use ce_tests::{Backend, SupervisionEnv, bad_fields, both_backends, token, world};
use tonic::Code;

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// `days` from today (China time, the registry's clock), as a proto date:
/// for what the registry judges against today.
fn from_today(days: i64) -> Option<Date> {
    Some(ce_server::dates::to_proto(
        ce_server::dates::today() + time::Duration::days(days),
    ))
}

fn province(code: &str) -> TokenRequest {
    TokenRequest {
        province: Some(code.into()),
        ..token(Role::ProvincialHrss, &format!("hrss-{code}-inspector"))
    }
}

fn org(role: Role, name: &str) -> TokenRequest {
    TokenRequest {
        org: Some(name.into()),
        ..token(role, "clerk")
    }
}

/// Waits until supervision's outbox has delivered everything.
async fn drained(env: &SupervisionEnv, within: Duration) -> OutboxStatus {
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    let started = Instant::now();
    loop {
        let s = ministry
            .get_outbox_status(GetOutboxStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        if s.pending == 0 {
            return s;
        }
        assert!(
            started.elapsed() < within,
            "effects still pending after {within:?}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn institution(env: &SupervisionEnv) -> String {
    institution_of(env, "44").await
}

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
        let err = env
            .client(req)
            .create_violation(CreateViolationRequest {
                violation: Some(violation()),
                request_id: "r1".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{}", err.message());
    }
    let err = env
        .client(province("44"))
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                hour_records: vec!["hourRecords/x".into()],
                ..violation()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["violation.hour_records"]);

    let mut gd = env.client(province("44"));
    let created = gd
        .create_violation(CreateViolationRequest {
            violation: Some(violation()),
            request_id: "GD-SUP-2026-7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.state, ViolationState::Open as i32);
    assert_eq!(created.article, "Art. 16, 26");
    assert_eq!(created.province, "44");
    // A retry with the same request id records nothing new.
    let again = gd
        .create_violation(CreateViolationRequest {
            violation: Some(violation()),
            request_id: "GD-SUP-2026-7".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.name, created.name);
    // The institution sees its own record.
    let own = env
        .client(org(Role::Institution, &inst))
        .list_violations(ListViolationsRequest::default())
        .await
        .unwrap()
        .into_inner();
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
    let err = gd
        .decide_violation(decide(Decision {
            suspension_end_date: None,
            ..suspension.clone()
        }))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["decision.suspension_end_date"]);
    let decided = gd
        .decide_violation(decide(suspension.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decided.state, ViolationState::Decided as i32);
    let err = gd.decide_violation(decide(suspension)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    let status = drained(&env, Duration::from_secs(20)).await;
    assert_eq!(
        status.delivered, 2,
        "suspension, and return to active after it"
    );
    let standing = env
        .registry
        .province("44")
        .get_institution(GetInstitutionRequest { name: inst.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(standing.standing, Standing::Suspended as i32);
    // The registry enforces it: no activity during the suspension (Art. 26).
    let err = env
        .registry
        .institution(&inst)
        .create_activity(CreateActivityRequest {
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
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());

    let closed = gd
        .close_violation(CloseViolationRequest {
            name: created.name.clone(),
            closure: ClosureKind::Rectified as i32,
            reason: "Fees refunded to every learner".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, ViolationState::Closed as i32);
    assert_eq!(closed.pending_effects, 0);
}

/// Records a violation of `inst` and decides it with `decision`.
async fn decided(
    gd: &mut ce_tests::Supervision,
    inst: &str,
    category: ViolationCategory,
    decision: Decision,
) -> Violation {
    let v = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                institution: inst.to_owned(),
                category: category as i32,
                description: format!("{category:?}"),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    gd.decide_violation(DecideViolationRequest {
        name: v.name,
        decision: Some(decision),
    })
    .await
    .unwrap()
    .into_inner()
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
    let changes = env
        .registry
        .province("44")
        .list_standing_changes(reg::ListStandingChangesRequest {
            parent: inst.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
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
    let i = env
        .registry
        .province("44")
        .get_institution(GetInstitutionRequest {
            name: inst.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    (i.standing, i.standing_effective_date)
}

async fn close_rectified(gd: &mut ce_tests::Supervision, v: &Violation) -> Violation {
    gd.close_violation(CloseViolationRequest {
        name: v.name.clone(),
        closure: ClosureKind::Rectified as i32,
        reason: "Records put in order and checked on site".into(),
    })
    .await
    .unwrap()
    .into_inner()
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
    let v = power
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                institution: inst.clone(),
                category: ViolationCategory::PerfunctoryAssessment as i32,
                description: "Exam answers handed out before the exam".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let get = GetViolationRequest {
        name: v.name.clone(),
    };
    power.get_violation(get.clone()).await.unwrap();
    let listed = power
        .list_violations(ListViolationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(
        listed.iter().map(|x| &x.name).collect::<Vec<_>>(),
        [&v.name]
    );
    power
        .decide_violation(DecideViolationRequest {
            name: v.name.clone(),
            decision: Some(Decision {
                kind: DecisionKind::Warning as i32,
                reason: "First offence".into(),
                effective_date: date(2026, 11, 2),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let closed = power
        .close_violation(CloseViolationRequest {
            name: v.name.clone(),
            closure: ClosureKind::Rectified as i32,
            reason: "Exam re-held under supervision".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.state, ViolationState::Closed as i32);
    // The first field's regulator sees it too; a third field's does not.
    env.client(regulator(Field::Construction))
        .get_violation(get.clone())
        .await
        .unwrap();
    let mut farming = env.client(regulator(Field::Agriculture));
    let err = farming.get_violation(get.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(
        farming
            .list_violations(ListViolationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .violations
            .is_empty()
    );
    // The province's field filter finds it under either field.
    let mut gd = env.client(province("44"));
    for (field, found) in [
        (Field::Construction, 1),
        (Field::ElectricPower, 1),
        (Field::Agriculture, 0),
    ] {
        let n = gd
            .list_violations(ListViolationsRequest {
                field: field as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .violations
            .len();
        assert_eq!(n, found, "{field:?}");
    }
}

/// An engineer of Guangdong with a granted 96 hours (a compliant 2026), and
/// the record.
async fn engineer_with_hours(env: &SupervisionEnv) -> (String, String, HourRecord) {
    engineer_with_days(env, 12).await
}

/// An engineer of Guangdong (electric power) with `days` of an 8-hour
/// seminar in April 2026: (employer, engineer, record).
async fn engineer_with_days(env: &SupervisionEnv, days: i32) -> (String, String, HourRecord) {
    let mut clerk = env.registry.province("44");
    let employer = world::create_employer(&mut clerk, world::employer("44")).await;
    let engineer = world::create_engineer(&mut clerk, world::engineer("44", &employer)).await;
    let seminar = world::activity("44", date(2026, 4, 1), date(2026, 4, days), 8.0);
    let seminar = world::create_activity(&mut clerk, seminar).await;
    let record = env
        .crediting(province("44"))
        .create_hour_record(CreateHourRecordRequest {
            hour_record: Some(HourRecord {
                engineer: engineer.clone(),
                registry_activity: seminar,
                activity: Some(A::FaceToFace(FaceToFaceTraining {
                    subject_category: SubjectCategory::Professional as i32,
                    start_date: date(2026, 4, 1),
                    days,
                    hours_per_day: 8.0,
                })),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(record.state, RecordState::Confirmed as i32);
    (employer, engineer, record)
}

async fn an_art27_decision_made_while_crediting_is_down_lands_once_it_returns(b: Backend) {
    let mut env = SupervisionEnv::start(b).await;
    let (employer, engineer, record) = engineer_with_hours(&env).await;
    let mut gd = env.client(province("44"));
    let err = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                engineer: engineer.clone(),
                category: ViolationCategory::ImproperHours as i32,
                description: "Attendance sheets signed by a colleague".into(),
                hour_records: vec!["hourRecords/00000000-0000-7000-8000-000000000000".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["violation.hour_records[0]"]);
    let case = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                engineer: engineer.clone(),
                category: ViolationCategory::ImproperHours as i32,
                description: "Attendance sheets signed by a colleague".into(),
                hour_records: vec![record.name.clone()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(case.article, "Art. 27");
    assert_eq!(case.employer, employer);
    let year = || GetAnnualStatusRequest {
        name: format!("{engineer}/annualStatuses/2026"),
    };
    let before = env
        .crediting(province("44"))
        .get_annual_status(year())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.state, AnnualState::Compliant as i32);

    // Crediting goes down; the decision still succeeds and waits in the outbox.
    env.stop_crediting().await;
    let decided = gd
        .decide_violation(DecideViolationRequest {
            name: case.name.clone(),
            decision: Some(Decision {
                kind: DecisionKind::Revocation as i32,
                reason: "Hours obtained by deception".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decided.state, ViolationState::Decided as i32);
    assert_eq!(decided.pending_effects, 1);
    // The worker tries, fails, and says so.
    let started = Instant::now();
    let waiting = loop {
        let s = env
            .client(token(Role::Ministry, "ministry-clerk"))
            .get_outbox_status(GetOutboxStatusRequest {})
            .await
            .unwrap()
            .into_inner();
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
    let err = env
        .client(province("44"))
        .get_outbox_status(GetOutboxStatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // The employer is notified at once; other employers see nothing.
    let mut boss = env.client(org(Role::Employer, &employer));
    let notes = boss
        .list_notifications(ListNotificationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert_eq!(notes.len(), 1);
    assert!(notes[0].text.contains("Art. 27"), "{}", notes[0].text);
    let other = env.client(org(Role::Employer, "employers/another"));
    assert!(
        other
            .clone()
            .list_notifications(ListNotificationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .notifications
            .is_empty()
    );
    let err = other
        .clone()
        .acknowledge_notification(AcknowledgeNotificationRequest {
            name: notes[0].name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Crediting returns; the revocation lands, once.
    env.restart_crediting().await;
    drained(&env, Duration::from_secs(60)).await;
    let revoked = env
        .crediting(province("44"))
        .get_hour_record(GetHourRecordRequest {
            name: record.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.state, RecordState::Revoked as i32);
    assert!(revoked.decision_reason.contains(&case.name));
    let after = env
        .crediting(province("44"))
        .get_annual_status(year())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.total_hours, 0.0);
    assert!(!after.complete, "the compliant year is no longer complete");
    assert_eq!(
        after.state,
        AnnualState::InProgress as i32,
        "2026 is not over yet"
    );
    let revocations = env
        .crediting_audit(&record.name)
        .into_iter()
        .filter(|a| a.rpc.ends_with("RevokeHourRecords") && a.outcome == "OK")
        .count();
    assert_eq!(revocations, 1, "delivered exactly once");

    // The province chases unacknowledged notifications; the employer acknowledges.
    let unacknowledged = || ListNotificationsRequest {
        unacknowledged_only: true,
        ..Default::default()
    };
    assert_eq!(
        gd.list_notifications(unacknowledged())
            .await
            .unwrap()
            .into_inner()
            .notifications
            .len(),
        1
    );
    let acked = boss
        .acknowledge_notification(AcknowledgeNotificationRequest {
            name: notes[0].name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(acked.acknowledge_time.is_some());
    // Acknowledging again changes nothing: the first time stands.
    let again = boss
        .acknowledge_notification(AcknowledgeNotificationRequest {
            name: notes[0].name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.acknowledge_time, acked.acknowledge_time);
    assert_eq!(again.acknowledged_by, acked.acknowledged_by);
    assert!(
        gd.list_notifications(unacknowledged())
            .await
            .unwrap()
            .into_inner()
            .notifications
            .is_empty()
    );
    // Employers are inspected too: the province's only employer is drawn.
    let plan = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "Employers' confirmation of hours".into(),
                province: "44".into(),
                target_kind: TargetKind::Employers as i32,
                start_date: date(2026, 12, 1),
                end_date: date(2026, 12, 31),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let drawn = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: plan.name,
            target_count: 1,
            roster: vec!["inspector-1".into()],
            inspector_count: 1,
            seed: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(drawn.sample.unwrap().targets, vec![employer.clone()]);

    // The engineer sees the case; Beijing does not.
    let mine = env
        .client(token(Role::Engineer, &engineer))
        .get_violation(GetViolationRequest {
            name: case.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.pending_effects, 0);
    let err = env
        .client(province("11"))
        .get_violation(GetViolationRequest { name: case.name })
        .await
        .unwrap_err();
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
    let before = clerk
        .get_annual_status(status())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.state, AnnualState::Compliant as i32);
    assert!(before.complete);
    let cert = env
        .crediting(token(Role::Engineer, &engineer))
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: year.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut verifier = env.crediting(org(Role::Employer, &employer));
    let verify = || VerifyHourCertificateRequest {
        credential: cert.credential.clone(),
    };
    let valid = verifier
        .verify_hour_certificate(verify())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(valid.verdict, Verdict::Valid as i32, "{}", valid.reason);

    let mut gd = env.client(province("44"));
    let case = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                engineer: engineer.clone(),
                category: ViolationCategory::ImproperHours as i32,
                description: "Paid the organiser to confirm hours never attended".into(),
                hour_records: vec![record.name.clone()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    gd.decide_violation(DecideViolationRequest {
        name: case.name.clone(),
        decision: Some(Decision {
            kind: DecisionKind::Revocation as i32,
            reason: "Hours obtained by bribery".into(),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    drained(&env, Duration::from_secs(20)).await;

    let after = clerk
        .get_annual_status(status())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.total_hours, 0.0);
    assert!(!after.complete);
    assert_eq!(
        after.state,
        AnnualState::NonCompliant as i32,
        "2026 is over: without the revoked hours it is not compliant"
    );
    let revoked = verifier
        .verify_hour_certificate(verify())
        .await
        .unwrap()
        .into_inner();
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
    let notes = env
        .client(org(Role::Employer, &employer))
        .list_notifications(ListNotificationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].violation.as_str(), notes[0].engineer.as_str()),
        (case.name.as_str(), engineer.as_str())
    );
    assert!(notes[0].text.contains(&record.name), "{}", notes[0].text);
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
        let v = gd
            .create_violation(CreateViolationRequest {
                violation: Some(Violation {
                    institution: inst.clone(),
                    category: category as i32,
                    description: format!("{category:?}"),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(v.article, article);
        let decided = gd
            .decide_violation(DecideViolationRequest {
                name: v.name.clone(),
                decision: Some(Decision {
                    kind: DecisionKind::Warning as i32,
                    reason: "First offence".into(),
                    effective_date: date(2026, 11, 2),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(decided.state, ViolationState::Decided as i32);
        let closed = gd
            .close_violation(CloseViolationRequest {
                name: v.name.clone(),
                closure: ClosureKind::Rectified as i32,
                reason: "Put right".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(closed.state, ViolationState::Closed as i32);
    }
    // An engineer's category on an institution is refused, naming the field.
    let err = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                institution: inst.clone(),
                category: ViolationCategory::ImproperHours as i32,
                description: "x".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&err),
        ["violation.engineer", "violation.hour_records"]
    );
    // Filters: category, state, and the day it was recorded.
    let listed = gd
        .list_violations(ListViolationsRequest {
            category: ViolationCategory::Other as i32,
            state: ViolationState::Closed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(listed.len(), 1);
    let long_ago = gd
        .list_violations(ListViolationsRequest {
            end_date: date(2020, 1, 1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert!(long_ago.is_empty());
    assert_eq!(
        gd.list_violations(ListViolationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .violations
            .len(),
        8
    );
    let err = env
        .client(province("11"))
        .list_violations(ListViolationsRequest {
            province: "44".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A rectification order whose deadline has passed is escalated by the service.
    let late = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                institution: inst.clone(),
                category: ViolationCategory::Obligations as i32,
                description: "No learner records kept (Art. 15)".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    gd.decide_violation(DecideViolationRequest {
        name: late.name.clone(),
        decision: Some(Decision {
            kind: DecisionKind::RectificationOrder as i32,
            reason: "Keep records".into(),
            effective_date: date(2026, 1, 5),
            rectification_deadline: date(2026, 2, 5),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    let started = Instant::now();
    let escalated = loop {
        let v = gd
            .get_violation(GetViolationRequest {
                name: late.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
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
    let appealed = env
        .client(org(Role::Institution, &inst))
        .appeal_violation(AppealViolationRequest {
            name: late.name.clone(),
            text: "Records were kept on paper".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(appealed.appeals.len(), 1);
    let err = env
        .client(org(Role::Institution, "institutions/another"))
        .appeal_violation(AppealViolationRequest {
            name: late.name.clone(),
            text: "not mine".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let trail = gd
        .list_violation_audit_entries(ListViolationAuditEntriesRequest {
            name: late.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
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
    let first = quality
        .report_quality_result(report("D", "2026"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.category, ViolationCategory::PoorQuality as i32);
    assert_eq!(first.article, "Art. 25, 26");
    for grade in ["D", "C"] {
        let again = quality
            .report_quality_result(report(grade, "2026"))
            .await
            .unwrap()
            .into_inner();
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
    let other_period = quality
        .report_quality_result(report("D", "2027-H1"))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other_period.name, first.name);
    let listed = env
        .client(province("44"))
        .list_violations(ListViolationsRequest {
            category: ViolationCategory::PoorQuality as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(listed.len(), 3);
    for denied in [province("11"), org(Role::Institution, &inst)] {
        let err = env
            .client(denied)
            .report_quality_result(report("D", "2026"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
}

/// Art. 24 "double random": the draw is fixed before it is made (the
/// population and its hash, the roster, the counts, a commitment to a seed
/// the service draws from the operating system), nobody chooses the seed,
/// and the draw reveals a seed that answers the commitment.
async fn a_draw_is_committed_before_it_is_made_and_nobody_chooses_its_seed(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    for _ in 0..5 {
        institution(&env).await;
    }
    let mut gd = env.client(province("44"));
    let planned = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "2027 first-quarter random inspection".into(),
                province: "44".into(),
                field: Field::Construction as i32,
                target_kind: TargetKind::Institutions as i32,
                start_date: date(2026, 11, 1),
                end_date: date(2026, 12, 15),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let roster: Vec<String> = (1..=4).map(|i| format!("inspector-{i}")).collect();
    let committed = gd
        .commit_inspection_draw(CommitInspectionDrawRequest {
            name: planned.name.clone(),
            target_count: 2,
            roster: roster.clone(),
            inspector_count: 2,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(committed.state, InspectionState::Committed as i32);
    let fixed = committed.commitment.clone().unwrap();
    assert_eq!(fixed.population.len(), 5);
    assert_eq!(
        fixed.population_sha256,
        supervision::inspections::list_hash(&fixed.population)
    );
    assert_eq!(fixed.seed_sha256.len(), 64);
    assert!(committed.sample.is_none(), "nothing drawn, no seed shown");
    // The caller cannot pass a seed, nor change what was committed.
    let err = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: planned.name.clone(),
            seed: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["seed"]);
    let err = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: planned.name.clone(),
            target_count: 5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // An institution registered after the commitment is not in the draw.
    institution(&env).await;
    let drawn = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: planned.name.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let sample = drawn.sample.unwrap();
    assert_eq!(
        sample.population, fixed.population,
        "the committed population"
    );
    assert_eq!(
        supervision::inspections::commitment(&hex_bytes(&sample.seed_hex)),
        fixed.seed_sha256,
        "the revealed seed answers the commitment"
    );
    assert_eq!((sample.targets.len(), sample.inspectors.len()), (2, 2));
    let verified = gd
        .verify_inspection_draw(VerifyInspectionDrawRequest {
            name: planned.name.clone(),
            seed_hex: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verified.matches, "{}", verified.reason);
    // Two draws of the same scope get different seeds.
    let again = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "Another draw of the same scope".into(),
                province: "44".into(),
                field: Field::Construction as i32,
                target_kind: TargetKind::Institutions as i32,
                start_date: date(2026, 11, 1),
                end_date: date(2026, 12, 15),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let other = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: again.name,
            target_count: 2,
            roster,
            inspector_count: 2,
            seed: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap();
    assert_ne!(other.seed_hex, sample.seed_hex);
}

async fn a_random_inspection_is_reproducible_and_a_refusal_becomes_a_violation(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let mut all = Vec::new();
    for _ in 0..6 {
        all.push(institution(&env).await);
    }
    let mut gd = env.client(province("44"));
    let planned = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "2026 construction training, random inspection".into(),
                province: "44".into(),
                field: Field::Construction as i32,
                target_kind: TargetKind::Institutions as i32,
                start_date: date(2026, 11, 1),
                end_date: date(2026, 12, 15),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(planned.state, InspectionState::Planned as i32);
    let err = env
        .client(province("11"))
        .get_inspection(GetInspectionRequest {
            name: planned.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "unpublished plans stay in scope"
    );
    let roster: Vec<String> = (1..=5).map(|i| format!("inspector-{i}")).collect();
    let sampled = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: planned.name.clone(),
            target_count: 3,
            roster: roster.clone(),
            inspector_count: 2,
            seed: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let sample = sampled.sample.clone().unwrap();
    assert_eq!(sample.algorithm, "sha256-splitmix64-fisher-yates-v2");
    assert_eq!(sample.seed_hex.len(), 64, "the service's seed, revealed");
    assert_eq!(
        supervision::inspections::generator_seed(&hex_bytes(&sample.seed_hex)),
        sample.seed
    );
    let mut population = all.clone();
    population.sort();
    assert_eq!(
        sample.population, population,
        "the snapshot is the scope's institutions"
    );
    assert_eq!((sample.targets.len(), sample.inspectors.len()), (3, 2));
    // Anyone re-runs the draw from the seed and the snapshot.
    let (targets, inspectors) =
        supervision::inspections::draw(sample.seed, &sample.population, 3, &roster, 2);
    assert_eq!(
        (targets, inspectors),
        (sample.targets.clone(), sample.inspectors.clone())
    );
    let err = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: planned.name.clone(),
            target_count: 3,
            roster: roster.clone(),
            inspector_count: 2,
            seed: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "no second draw");
    // The draw verifies; another seed does not.
    let verified = gd
        .verify_inspection_draw(VerifyInspectionDrawRequest {
            name: planned.name.clone(),
            seed_hex: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(verified.matches, "{}", verified.reason);
    let other = gd
        .verify_inspection_draw(VerifyInspectionDrawRequest {
            name: planned.name.clone(),
            seed_hex: "00".repeat(32),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!other.matches);
    assert!(other.reason.contains("commitment"), "{}", other.reason);

    // One target refuses the inspectors: the finding becomes an Art. 24 violation.
    let refuser = sample.targets[0].clone();
    let with_refusal = gd
        .record_inspection_finding(RecordInspectionFindingRequest {
            name: planned.name.clone(),
            finding: Some(Finding {
                target: refuser.clone(),
                outcome: FindingOutcome::Refused as i32,
                text: "Locked the records room".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let violation = with_refusal.findings[0].violation.clone();
    let v = gd
        .get_violation(GetViolationRequest { name: violation })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.category, ViolationCategory::RefusedInspection as i32);
    assert_eq!(v.institution, refuser);
    let outsider = all.iter().find(|i| !sample.targets.contains(i)).unwrap();
    let err = gd
        .record_inspection_finding(RecordInspectionFindingRequest {
            name: planned.name.clone(),
            finding: Some(Finding {
                target: outsider.clone(),
                outcome: FindingOutcome::Compliant as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["finding.target"]);
    gd.publish_inspection(PublishInspectionRequest {
        name: planned.name.clone(),
        outcome: "One of three refused inspection; case opened".into(),
    })
    .await
    .unwrap();
    // Public results: any signed-in caller reads them.
    let public = env
        .client(org(Role::Employer, "employers/anyone"))
        .list_inspections(ListInspectionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .inspections;
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].state, InspectionState::Published as i32);
}

/// An institution of `code` in construction.
async fn institution_of(env: &SupervisionEnv, code: &str) -> String {
    let centre = reg::Institution {
        display_name: format!("Training centre of {code}"),
        fields: vec![Field::Construction as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution(code)
    };
    world::create_institution(&mut env.registry.province(code), centre).await
}

async fn an_inspection_names_its_targets_or_covers_the_nation(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let gd_institutions = [
        institution_of(&env, "44").await,
        institution_of(&env, "44").await,
    ];
    let bj = institution_of(&env, "11").await;
    let plan = |province: &str, kind: TargetKind, targets: Vec<String>| CreateInspectionRequest {
        inspection: Some(Inspection {
            title: "Named-target inspection".into(),
            province: province.into(),
            target_kind: kind as i32,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            targets,
            ..Default::default()
        }),
    };
    let draw = |name: &str| DrawInspectionSampleRequest {
        name: name.into(),
        target_count: 10,
        roster: vec!["inspector-1".into()],
        inspector_count: 1,
        seed: 0,
    };

    // The ministry plans a national inspection of two institutions it names,
    // one in each province: the draw is made from those two alone.
    let mut ministry = env.client(token(Role::Ministry, "ministry-inspector"));
    let named = vec![gd_institutions[0].clone(), bj.clone(), bj.clone()];
    let national = ministry
        .create_inspection(plan("", TargetKind::Institutions, named))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(national.province, "");
    assert_eq!(
        national.targets.len(),
        2,
        "a target named twice is kept once"
    );
    let drawn = ministry
        .draw_inspection_sample(draw(&national.name))
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap();
    let mut expected = vec![gd_institutions[0].clone(), bj.clone()];
    expected.sort();
    assert_eq!(
        drawn.population, expected,
        "the snapshot is the named targets"
    );
    let mut targets = drawn.targets.clone();
    targets.sort();
    assert_eq!(targets, expected);

    // Without names, a national population is every province's institutions.
    let everyone = ministry
        .create_inspection(plan("", TargetKind::Institutions, vec![]))
        .await
        .unwrap()
        .into_inner();
    let population = ministry
        .draw_inspection_sample(draw(&everyone.name))
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap()
        .population;
    assert_eq!(population.len(), 3);
    assert!(population.contains(&bj) && population.contains(&gd_institutions[1]));

    // A province plans no national inspection, and names nothing outside its own.
    let mut gd = env.client(province("44"));
    let err = gd
        .create_inspection(plan("", TargetKind::Institutions, vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let reaching = gd
        .create_inspection(plan(
            "44",
            TargetKind::Institutions,
            vec![gd_institutions[1].clone(), bj.clone()],
        ))
        .await
        .unwrap()
        .into_inner();
    let err = gd
        .draw_inspection_sample(draw(&reaching.name))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&bj), "{}", err.message());
    assert!(
        !err.message().contains(&gd_institutions[1]),
        "{}",
        err.message()
    );

    // Names must be of the kind inspected.
    let err = gd
        .create_inspection(plan(
            "44",
            TargetKind::Employers,
            vec!["employers/e1".into(), gd_institutions[0].clone()],
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["inspection.targets[1]"]);

    // Engineers named by a province: whatever their year, if they are its own.
    let (_, engineer, _) = engineer_with_hours(&env).await;
    let of_engineers = gd
        .create_inspection(plan("44", TargetKind::Engineers, vec![engineer.clone()]))
        .await
        .unwrap()
        .into_inner();
    let drawn = gd
        .draw_inspection_sample(draw(&of_engineers.name))
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap();
    assert_eq!(drawn.targets, vec![engineer.clone()]);
    // Among the complete engineers of 2026, the one with 96 hours is in
    // scope (met before the year's end) and the one with 16 is not.
    let (_, short, _) = engineer_with_days(&env, 2).await;
    let complete_plan = |targets: Vec<String>| CreateInspectionRequest {
        inspection: Some(Inspection {
            year: 2026,
            ..plan("44", TargetKind::CompleteEngineers, targets)
                .inspection
                .unwrap()
        }),
    };
    let both = gd
        .create_inspection(complete_plan(vec![engineer.clone(), short.clone()]))
        .await
        .unwrap()
        .into_inner();
    let err = gd
        .draw_inspection_sample(draw(&both.name))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&short), "{}", err.message());
    assert!(!err.message().contains(&engineer), "{}", err.message());
    let met = gd
        .create_inspection(complete_plan(vec![engineer.clone()]))
        .await
        .unwrap()
        .into_inner();
    let drawn = gd
        .draw_inspection_sample(draw(&met.name))
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap();
    assert_eq!(drawn.targets, vec![engineer]);
}

async fn an_institutions_record_gathers_its_violations_and_inspection_findings(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let other = institution(&env).await;
    let mut gd = env.client(province("44"));
    let warning = Decision {
        kind: DecisionKind::Warning as i32,
        reason: "First offence".into(),
        effective_date: date(2026, 11, 2),
        ..Default::default()
    };
    let fees = decided(&mut gd, &inst, ViolationCategory::ImproperFees, warning).await;
    let open = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                institution: inst.clone(),
                category: ViolationCategory::Obligations as i32,
                description: "No learner records kept".into(),
                evidence: vec!["site visit 2026-11-20".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Not this institution's: stays out of its record.
    gd.create_violation(CreateViolationRequest {
        violation: Some(Violation {
            institution: other.clone(),
            category: ViolationCategory::ImproperFees as i32,
            description: "Another institution's fees".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    // An inspection that draws both; this one refuses, the other complies.
    let plan = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "Records inspection".into(),
                province: "44".into(),
                target_kind: TargetKind::Institutions as i32,
                start_date: date(2026, 12, 1),
                end_date: date(2026, 12, 31),
                targets: vec![inst.clone(), other.clone()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    gd.draw_inspection_sample(DrawInspectionSampleRequest {
        name: plan.name.clone(),
        target_count: 2,
        roster: vec!["inspector-1".into()],
        inspector_count: 1,
        seed: 0,
    })
    .await
    .unwrap();
    for (target, outcome, text) in [
        (&inst, FindingOutcome::Refused, "Turned the inspectors away"),
        (&other, FindingOutcome::Compliant, ""),
    ] {
        gd.record_inspection_finding(RecordInspectionFindingRequest {
            name: plan.name.clone(),
            finding: Some(Finding {
                target: target.clone(),
                outcome: outcome as i32,
                text: text.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    }
    let record_name = format!("{inst}/supervisionRecord");
    let ask = || GetInstitutionRecordRequest {
        name: record_name.clone(),
    };
    let record = gd.get_institution_record(ask()).await.unwrap().into_inner();
    assert_eq!(record.institution, inst);
    let names: Vec<&str> = record.violations.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names.len(),
        3,
        "two recorded, one from the refusal: {names:?}"
    );
    assert!(names.contains(&fees.name.as_str()) && names.contains(&open.name.as_str()));
    assert!(
        record.violations.windows(2).all(|w| {
            let t = |v: &Violation| v.create_time.map(|t| (t.seconds, t.nanos));
            t(&w[0]) >= t(&w[1])
        }),
        "newest first"
    );
    let refusal = record
        .violations
        .iter()
        .find(|v| v.category == ViolationCategory::RefusedInspection as i32)
        .unwrap();
    assert_eq!(refusal.evidence, vec![plan.name.clone()]);
    let with_evidence = record
        .violations
        .iter()
        .find(|v| v.name == open.name)
        .unwrap();
    assert_eq!(with_evidence.evidence, ["site visit 2026-11-20"]);
    assert_eq!(with_evidence.recorded_by, "hrss-44-inspector");
    let decision = record
        .violations
        .iter()
        .find(|v| v.name == fees.name)
        .and_then(|v| v.decision.clone())
        .unwrap();
    assert_eq!(decision.decided_by, "hrss-44-inspector");
    assert_eq!(
        (record.open_count, record.decided_count, record.closed_count),
        (2, 1, 0)
    );
    assert_eq!(record.refused_inspection_count, 1);
    assert_eq!(record.findings.len(), 1, "only its own finding");
    let f = &record.findings[0];
    assert_eq!(
        (f.inspection.as_str(), f.title.as_str()),
        (plan.name.as_str(), "Records inspection")
    );
    assert_eq!(f.state, InspectionState::Sampled as i32);
    let finding = f.finding.clone().unwrap();
    assert_eq!(finding.outcome, FindingOutcome::Refused as i32);
    assert_eq!(finding.violation, refusal.name);

    // The institution reads its own record: its violations, and its
    // findings once the inspection is published.
    let mut own = env.client(org(Role::Institution, &inst));
    let mine = own
        .get_institution_record(ask())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.violations.len(), 3);
    assert!(
        mine.findings.is_empty(),
        "unpublished findings are the inspectors'"
    );
    gd.publish_inspection(PublishInspectionRequest {
        name: plan.name.clone(),
        outcome: "One of two refused".into(),
    })
    .await
    .unwrap();
    let mine = own
        .get_institution_record(ask())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.findings.len(), 1);
    assert_eq!(mine.findings[0].state, InspectionState::Published as i32);

    // Nobody outside its scope reads it; names are checked.
    for outsider in [province("11"), org(Role::Institution, &other)] {
        let err = env
            .client(outsider)
            .get_institution_record(ask())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let err = gd
        .get_institution_record(GetInstitutionRecordRequest {
            name: "institutions/nobody/supervisionRecord".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = gd
        .get_institution_record(GetInstitutionRecordRequest { name: inst.clone() })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["name"]);
}

/// Plans an inspection of `kind` naming `target`, draws it, and records
/// that the target refused; the finding's violation.
async fn refused(
    client: &mut ce_tests::Supervision,
    kind: TargetKind,
    field: Field,
    target: &str,
) -> String {
    let plan = client
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "Cooperation check".into(),
                province: "44".into(),
                field: field as i32,
                target_kind: kind as i32,
                start_date: date(2026, 12, 1),
                end_date: date(2026, 12, 31),
                targets: vec![target.to_owned()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    client
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: plan.name.clone(),
            target_count: 1,
            roster: vec!["inspector-1".into()],
            inspector_count: 1,
            seed: 0,
        })
        .await
        .unwrap();
    let recorded = client
        .record_inspection_finding(RecordInspectionFindingRequest {
            name: plan.name,
            finding: Some(Finding {
                target: target.to_owned(),
                outcome: FindingOutcome::Refused as i32,
                text: "Would not show its records".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let violation = recorded.findings[0].violation.clone();
    assert!(!violation.is_empty(), "the refusal became a violation");
    violation
}

async fn employers_and_engineers_that_refuse_inspection_have_violations_of_their_own(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (employer, engineer, _) = engineer_with_hours(&env).await;
    let mut gd = env.client(province("44"));
    let decide = |name: &str, kind: DecisionKind| DecideViolationRequest {
        name: name.into(),
        decision: Some(Decision {
            kind: kind as i32,
            reason: "Refused the inspectors".into(),
            effective_date: date(2026, 12, 2),
            rectification_deadline: date(2026, 12, 20),
            suspension_end_date: date(2026, 12, 31),
            ..Default::default()
        }),
    };

    // An employer refuses: its own Art. 24 violation.
    let name = refused(
        &mut gd,
        TargetKind::Employers,
        Field::Unspecified,
        &employer,
    )
    .await;
    let v = gd
        .get_violation(GetViolationRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.category, ViolationCategory::RefusedInspection as i32);
    assert_eq!(v.article, "Art. 24");
    assert_eq!(
        (
            v.employer.as_str(),
            v.institution.as_str(),
            v.engineer.as_str()
        ),
        (employer.as_str(), "", "")
    );
    assert_eq!(v.province, "44");
    // The employer reads, lists and appeals it.
    let mut boss = env.client(org(Role::Employer, &employer));
    boss.get_violation(GetViolationRequest { name: name.clone() })
        .await
        .unwrap();
    let listed = boss
        .list_violations(ListViolationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(
        listed.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        [name.as_str()]
    );
    let appealed = boss
        .appeal_violation(AppealViolationRequest {
            name: name.clone(),
            text: "The records were at the auditor's".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(appealed.appeals.len(), 1);
    // Listed by employer for the province; another employer sees nothing.
    let by_employer = gd
        .list_violations(ListViolationsRequest {
            employer: employer.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(by_employer.len(), 1);
    let err = env
        .client(org(Role::Employer, "employers/another"))
        .get_violation(GetViolationRequest { name: name.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // Decided by a warning or an order, not by an institution's sanctions;
    // nothing goes to the registry.
    let err = gd
        .decide_violation(decide(&name, DecisionKind::Suspension))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["decision.kind"]);
    let ordered = gd
        .decide_violation(decide(&name, DecisionKind::RectificationOrder))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ordered.state, ViolationState::Decided as i32);
    assert_eq!(ordered.pending_effects, 0);

    // An engineer refuses: an Art. 24 violation of the engineer, whose
    // employer is named; decided by a warning, not by revoking hours.
    let name = refused(
        &mut gd,
        TargetKind::Engineers,
        Field::Unspecified,
        &engineer,
    )
    .await;
    let v = env
        .client(token(Role::Engineer, &engineer))
        .get_violation(GetViolationRequest { name: name.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (v.engineer.as_str(), v.employer.as_str(), v.article.as_str()),
        (engineer.as_str(), employer.as_str(), "Art. 24")
    );
    let appealed = env
        .client(token(Role::Engineer, &engineer))
        .appeal_violation(AppealViolationRequest {
            name: name.clone(),
            text: "I was abroad that week".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(appealed.appeals[0].filed_by, engineer);
    let err = gd
        .decide_violation(decide(&name, DecisionKind::Revocation))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["decision.kind"]);
    let warned = gd
        .decide_violation(decide(&name, DecisionKind::Warning))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (warned.state, warned.pending_effects),
        (ViolationState::Decided as i32, 0)
    );
    let notes = gd
        .list_notifications(ListNotificationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .notifications;
    assert!(
        notes.is_empty(),
        "only revoked hours notify the employer (Art. 27)"
    );

    // The electric-power regulator inspects the province's employers: it
    // acts on a refusal it found, though an employer has no field of its own.
    let (other_employer, _, _) = engineer_with_days(&env, 2).await;
    let mut regulator = env.client(TokenRequest {
        field: Some(Field::ElectricPower),
        province: Some("44".into()),
        ..token(Role::IndustryRegulator, "power-regulator-44")
    });
    let name = refused(
        &mut regulator,
        TargetKind::Employers,
        Field::ElectricPower,
        &other_employer,
    )
    .await;
    regulator
        .decide_violation(decide(&name, DecisionKind::Warning))
        .await
        .unwrap();

    // Employers have violations only for refusing inspection.
    let err = gd
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                employer: employer.clone(),
                category: ViolationCategory::ImproperFees as i32,
                description: "Fees".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["violation.institution"]);
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
    let city = gd
        .create_referral(referral("hrss/440100"))
        .await
        .unwrap()
        .into_inner();
    // A province cannot refer (or see) its own department's officials; the ministry can.
    let err = gd.create_referral(referral("hrss/44")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    ministry.create_referral(referral("hrss/44")).await.unwrap();
    let err = gd.create_referral(referral("hrss/99")).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.department"]);
    // Nor a province regulator's: the regulator answers to its own line.
    let err = gd
        .create_referral(referral("regulator/FIELD_CONSTRUCTION/44"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let regulators = ministry
        .create_referral(referral("regulator/FIELD_CONSTRUCTION/44"))
        .await
        .unwrap()
        .into_inner();
    // The ministry's own officials go to the discipline body, and only there.
    ministry.create_referral(referral("hrss/00")).await.unwrap();
    let mut to_superior = referral("hrss/00");
    if let Some(r) = to_superior.referral.as_mut() {
        r.referred_to = ReferredTo::SuperiorAuthority as i32;
    }
    let err = ministry.create_referral(to_superior).await.unwrap_err();
    assert_eq!(bad_fields(&err), ["referral.referred_to"]);
    let err = gd
        .resolve_referral(ResolveReferralRequest {
            name: regulators.name.clone(),
            outcome: "Not Guangdong HRSS's to resolve".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "not even its existence is told");

    let seen = |r: ListReferralsResponse| r.referrals.len();
    assert_eq!(
        seen(
            ministry
                .list_referrals(ListReferralsRequest::default())
                .await
                .unwrap()
                .into_inner()
        ),
        4
    );
    assert_eq!(
        seen(
            gd.list_referrals(ListReferralsRequest::default())
                .await
                .unwrap()
                .into_inner()
        ),
        1
    );
    assert_eq!(
        seen(
            env.client(province("11"))
                .list_referrals(ListReferralsRequest::default())
                .await
                .unwrap()
                .into_inner()
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
        let err = env
            .client(denied)
            .list_referrals(ListReferralsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let resolved = gd
        .resolve_referral(ResolveReferralRequest {
            name: city.name.clone(),
            outcome: "Demerit recorded by the discipline body".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resolved.resolve_time.is_some());
    assert_eq!(
        seen(
            gd.list_referrals(ListReferralsRequest {
                unresolved_only: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
        ),
        0
    );
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
        violation: Some(Violation {
            institution: institution.to_owned(),
            category: category as i32,
            description: format!("{category:?}"),
            ..Default::default()
        }),
        ..Default::default()
    };
    for category in [
        ViolationCategory::Obligations,
        ViolationCategory::ImproperFees,
        ViolationCategory::Other,
    ] {
        ministry
            .create_violation(of(&guangdong, category))
            .await
            .unwrap();
    }
    ministry
        .create_violation(of(&beijing, ViolationCategory::Other))
        .await
        .unwrap();
    let case = ministry
        .create_violation(CreateViolationRequest {
            violation: Some(Violation {
                engineer: engineer.clone(),
                category: ViolationCategory::ImproperHours as i32,
                description: "Attendance sheets signed by a colleague".into(),
                hour_records: vec![record.name.clone()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    let count = |req: ListViolationsRequest| {
        let mut ministry = ministry.clone();
        async move {
            ministry
                .list_violations(req)
                .await
                .unwrap()
                .into_inner()
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

    // An engineer lists only their own cases.
    let mut own = env.client(token(Role::Engineer, &engineer));
    let mine = own
        .list_violations(ListViolationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .violations;
    assert_eq!(
        mine.iter().map(|v| &v.name).collect::<Vec<_>>(),
        [&case.name]
    );
    let err = own
        .list_violations(ListViolationsRequest {
            engineer: "engineers/someone-else".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Paging through a period; a token does not carry over to another period.
    let period = |end: i64| ListViolationsRequest {
        page_size: 2,
        start_date: from_today(-1),
        end_date: from_today(end),
        ..Default::default()
    };
    let first = ministry
        .list_violations(period(1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.violations.len(), 2);
    let mut seen: Vec<String> = first.violations.iter().map(|v| v.name.clone()).collect();
    let mut token = first.next_page_token;
    while !token.is_empty() {
        let page = ministry
            .list_violations(ListViolationsRequest {
                page_token: token.clone(),
                ..period(1)
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.violations.into_iter().map(|v| v.name));
        token = page.next_page_token;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let again = ministry
        .list_violations(period(1))
        .await
        .unwrap()
        .into_inner();
    for changed in [
        period(30),
        ListViolationsRequest {
            start_date: from_today(-30),
            ..period(1)
        },
    ] {
        let err = ministry
            .list_violations(ListViolationsRequest {
                page_token: again.next_page_token.clone(),
                ..changed
            })
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&err), ["page_token"]);
    }
}

async fn a_draw_of_engineers_whose_year_is_complete_leaves_out_the_rest(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (_, complete, _) = engineer_with_days(&env, 12).await;
    let (_, short, _) = engineer_with_days(&env, 2).await;
    let mut gd = env.client(province("44"));
    let plan = gd
        .create_inspection(CreateInspectionRequest {
            inspection: Some(Inspection {
                title: "Are 2026's complete years real?".into(),
                province: "44".into(),
                field: Field::ElectricPower as i32,
                target_kind: TargetKind::CompleteEngineers as i32,
                year: 2026,
                start_date: date(2026, 12, 1),
                end_date: date(2026, 12, 31),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let roster = vec!["inspector-1".to_owned(), "inspector-2".to_owned()];
    let drawn = gd
        .draw_inspection_sample(DrawInspectionSampleRequest {
            name: plan.name,
            target_count: 1,
            roster: roster.clone(),
            inspector_count: 1,
            seed: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .sample
        .unwrap();
    assert_eq!(
        drawn.population,
        std::slice::from_ref(&complete),
        "{short} (16 hours) is not complete"
    );
    assert_eq!(drawn.targets, [complete]);
    let (targets, inspectors) =
        supervision::inspections::draw(drawn.seed, &drawn.population, 1, &roster, 1);
    assert_eq!((targets, inspectors), (drawn.targets, drawn.inspectors));
}

/// Counts what it is asked to deliver, by payload, taking a moment each.
#[derive(Default)]
struct Counting(std::sync::Mutex<std::collections::HashMap<Vec<u8>, usize>>);

impl ce_server::outbox::Deliver for Counting {
    fn deliver<'a>(
        &'a self,
        _method: &'a str,
        payload: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            *self.0.lock().unwrap().entry(payload.to_vec()).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(())
        })
    }
}

/// Two replicas of supervision: two pools on one database.
fn two_replicas(place: &ce_tests::Place) -> (ce_db::Db, ce_db::Db) {
    let url = place.config("supervision").database.url;
    let one = ce_db::Db::connect(&url, 4, supervision::migrations()).unwrap();
    let two = ce_db::Db::connect(&url, 4, supervision::migrations()).unwrap();
    (one, two)
}

async fn two_replicas_never_deliver_one_effect_twice(b: Backend) {
    let place = ce_tests::Place::new(b);
    let (one, two) = two_replicas(&place);
    const EFFECTS: usize = 200;
    one.write(|conn| -> Result<_, ce_db::DbError> {
        for i in 0..EFFECTS {
            let e = ce_server::outbox::Effect::new(
                ce_server::names::new_id(),
                "violations/test",
                "test.Count",
                i.to_string().into_bytes(),
            );
            ce_server::outbox::insert(conn, &e)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let counting = std::sync::Arc::new(Counting::default());
    let mut workers = Vec::new();
    // Two workers a replica, all starting at once.
    for db in [one.clone(), two.clone(), one.clone(), two.clone()] {
        let counting = counting.clone();
        workers.push(tokio::spawn(async move {
            while ce_server::outbox::round(&db, counting.as_ref())
                .await
                .unwrap()
                > 0
            {}
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let status = ce_server::outbox::status(&one).await.unwrap();
    assert_eq!((status.pending, status.delivered), (0, EFFECTS as i64));
    let counts = counting.0.lock().unwrap();
    assert_eq!(counts.len(), EFFECTS);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "delivered more than once: {}",
        twice.len()
    );
}

async fn two_replicas_escalate_an_overdue_order_once(b: Backend) {
    let place = ce_tests::Place::new(b);
    let (one, two) = two_replicas(&place);
    const ORDERS: usize = 50;
    one.write(|conn| -> Result<_, ce_db::DbError> {
        for i in 0..ORDERS {
            let now = ce_server::call::now_micros();
            supervision::store::insert_violation(
                conn,
                &supervision::store::ViolationRow {
                    id: format!("order-{i:03}"),
                    institution_id: Some("inst".into()),
                    engineer_id: None,
                    employer_id: None,
                    category: ViolationCategory::Obligations as i32,
                    state: ViolationState::Decided as i32,
                    province: "44".into(),
                    field: Field::Construction as i32,
                    fields: supervision::store::encode_fields(&[Field::Construction as i32]),
                    // An empty message: a default Violation.
                    body: Vec::new(),
                    recorded_by: "test".into(),
                    request_id: None,
                    request_digest: None,
                    create_micros: now,
                    update_micros: now,
                    deadline: Some("2026-02-05".into()),
                },
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let (a, b) = tokio::join!(
        supervision::lifecycle::escalate_overdue(&one, ce_server::dates::today()),
        supervision::lifecycle::escalate_overdue(&two, ce_server::dates::today()),
    );
    assert_eq!(a.unwrap() + b.unwrap(), ORDERS, "each order escalated once");
    let mut conn = one.connection().unwrap();
    for i in 0..ORDERS {
        let trail =
            ce_db::audit::for_resource(&mut conn, &format!("violations/order-{i:03}")).unwrap();
        assert_eq!(trail.len(), 1, "order-{i:03}: {trail:?}");
    }
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
    gd.decide_violation(DecideViolationRequest {
        name: open.clone(),
        decision: Some(ce_tests::world::revocation()),
    })
    .await
    .unwrap();
    // Decided, but it does not name another engineer's record.
    refused(
        as_supervision
            .revoke_hour_records(revoke(&open, vec![other.name.clone()]))
            .await,
        Code::PermissionDenied,
        "does not name",
    );
    drained(&env, Duration::from_secs(20)).await;
    let revoked = env
        .crediting(province("44"))
        .get_hour_record(GetHourRecordRequest {
            name: record.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        revoked.state,
        RecordState::Revoked as i32,
        "the decided case revoked it"
    );
    let untouched = env
        .crediting(province("44"))
        .get_hour_record(GetHourRecordRequest { name: other.name })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(untouched.state, RecordState::Revoked as i32);
}

both_backends!(
    a_draw_is_committed_before_it_is_made_and_nobody_chooses_its_seed,
    a_suspension_is_enforced_by_the_registry,
    a_disqualification_is_not_lifted_by_an_earlier_suspensions_end,
    a_regulator_of_any_of_an_institutions_fields_follows_its_violation_through,
    a_rectified_order_returns_the_institution_to_active_unless_a_sanction_governs,
    an_art27_decision_made_while_crediting_is_down_lands_once_it_returns,
    an_art27_decision_after_the_year_makes_it_non_compliant_and_revokes_its_certificate,
    every_institution_category_goes_through_its_lifecycle,
    quality_reports_make_one_violation_per_institution_and_period,
    a_random_inspection_is_reproducible_and_a_refusal_becomes_a_violation,
    an_inspection_names_its_targets_or_covers_the_nation,
    an_institutions_record_gathers_its_violations_and_inspection_findings,
    employers_and_engineers_that_refuse_inspection_have_violations_of_their_own,
    officials_referrals_are_seen_only_from_above,
    violations_are_listed_by_field_province_engineer_and_period,
    a_draw_of_engineers_whose_year_is_complete_leaves_out_the_rest,
    two_replicas_never_deliver_one_effect_twice,
    two_replicas_escalate_an_overdue_order_once,
    a_service_revokes_hours_only_on_a_decided_case_naming_them,
);
