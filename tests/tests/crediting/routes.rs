//! The routes of Art. 21 and who confirms on each: a department's own
//! activity granted at once, regulators and the ministry granting their
//! own, an institution's upload waiting for the employer, an engineer's
//! evidence reviewed by the home province.

use super::*;

async fn a_departments_own_activity_is_granted_at_once_and_counted(b: Backend) {
    let w = world(b).await;
    let granted = credits::record(
        &mut w.env.province("44"),
        at_seminar(&w, date(2026, 4, 1), 3, 10.0),
    )
    .await;
    assert_eq!(granted.state, RecordState::Confirmed as i32);
    assert_eq!(granted.route, Route::DepartmentGrant as i32);
    assert_eq!(granted.province, "44");
    let explanation = granted.explanation.unwrap();
    // docs/rules.md, worked example 1: 3 days of 10 hours earn 24.
    assert_eq!(
        (explanation.hours, explanation.article.as_str()),
        (24.0, "Art. 18(1)")
    );
    assert!(
        explanation.text.contains("capped at 8"),
        "{}",
        explanation.text
    );

    let status = credits::year(&mut w.env.engineer(&w.engineer), &w.engineer, 2026).await;
    assert_eq!(status.professional_hours, 24.0);
    assert_eq!(status.shortfall_total_hours, 66.0);
    assert_eq!(
        status.state,
        AnnualState::InProgress as i32,
        "2026 is not over"
    );
    assert_eq!(status.rule_set, "national-2026");
    assert_eq!(status.explanations.len(), 1);

    // Another department cannot grant hours for it.
    let err = credits::refused(
        &mut w.env.province("11"),
        at_seminar(&w, date(2026, 4, 1), 1, 4.0),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// Art. 21 for the other departments: a regulator and the ministry grant
/// hours for their own activities, confirmed at once; a regulator of the
/// field confirms an institution's upload; hours for an activity the
/// registry does not hold are refused, naming the field.
async fn regulators_and_the_ministry_grant_their_own_and_a_regulator_confirms_uploads(b: Backend) {
    let w = world(b).await;
    let r = &w.env.registry;
    let own = |title: &str, province: &str, month: i32| reg::Activity {
        title: title.into(),
        province: province.into(),
        field: Field::ElectricPower as i32,
        subject_category: SubjectCategory::Professional as i32,
        delivery_mode: DeliveryMode::FaceToFace as i32,
        start_date: date(2026, month, 1),
        end_date: date(2026, month, 2),
        hours_per_day: 8.0,
        ..Default::default()
    };
    let regulators = ce_tests::answer(
        r.regulator(Field::ElectricPower, Some("44"))
            .create_activity(CreateActivityRequest {
                activity: Some(own("Grid dispatch briefing", "44", 5)),
            }),
    )
    .await
    .name;
    let ministrys = ce_tests::answer(r.ministry().create_activity(CreateActivityRequest {
        activity: Some(own("National expert service", "44", 6)),
    }))
    .await
    .name;
    let mut regulator = w.env.regulator(Field::ElectricPower, Some("44"));
    for (client, activity, month) in [
        (&mut regulator, &regulators, 5),
        (&mut w.env.ministry(), &ministrys, 6),
    ] {
        let granted = credits::record(
            client,
            face_to_face(&w.engineer, activity, date(2026, month, 1), 2, 8.0),
        )
        .await;
        assert_eq!(
            (granted.state, granted.route),
            (RecordState::Confirmed as i32, Route::DepartmentGrant as i32),
            "{activity}"
        );
    }
    // Not the other's: the ministry's activity is not the regulator's to grant.
    let err = ce_tests::refusal(regulator.create_hour_record(create(face_to_face(
        &w.engineer,
        &ministrys,
        date(2026, 6, 1),
        1,
        8.0,
    ))))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    // The field's regulator confirms an institution's upload.
    let uploaded = credits::record(
        &mut w.env.institution(&w.institution),
        on_course(&w, date(2026, 3, 2), 1, 6.0),
    )
    .await;
    let confirmed = credits::confirm(&mut regulator, &uploaded.name).await;
    assert_eq!(confirmed.state, RecordState::Confirmed as i32);
    assert_eq!(confirmed.decided_by, "regulator-clerk");
    let status = credits::year(&mut w.env.ministry(), &w.engineer, 2026).await;
    assert_eq!(status.total_hours, 16.0 + 16.0 + 6.0);

    // An activity the registry does not hold.
    let err = credits::refused(
        &mut w.env.institution(&w.institution),
        face_to_face(
            &w.engineer,
            "activities/none-such",
            date(2026, 3, 2),
            1,
            6.0,
        ),
    )
    .await;
    assert_eq!(bad_fields(&err), ["hour_record.registry_activity"]);
}

async fn an_institution_upload_waits_for_the_employer_and_the_institution_cannot_confirm_it(
    b: Backend,
) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let uploaded = credits::record(&mut inst, on_course(&w, date(2026, 3, 2), 3, 6.0)).await;
    assert_eq!(uploaded.state, RecordState::Submitted as i32);
    assert_eq!(uploaded.route, Route::InstitutionUpload as i32);
    // Who ran it (Art. 17), and what it earns on its own before it counts:
    // 3 days of 6 hours.
    assert_eq!(uploaded.institution, w.institution);
    assert_eq!(uploaded.explanation.as_ref().map(|e| e.hours), Some(18.0));
    let name = uploaded.name.clone();
    let confirm = || ConfirmHourRecordRequest { name: name.clone() };

    let err = ce_tests::refusal(inst.confirm_hour_record(confirm())).await;
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "an institution never confirms its own uploads"
    );
    let err = ce_tests::refusal(
        w.env
            .employer("employers/someone-else")
            .confirm_hour_record(confirm()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(w.env.province("44").confirm_hour_record(confirm())).await;
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "uploads are confirmed by employer or regulator"
    );

    // Not counted until confirmed.
    let before = credits::year(&mut w.env.employer(&w.employer), &w.engineer, 2026).await;
    assert_eq!(before.total_hours, 0.0);

    let confirmed =
        ce_tests::answer(w.env.employer(&w.employer).confirm_hour_record(confirm())).await;
    assert_eq!(confirmed.state, RecordState::Confirmed as i32);
    assert_eq!(confirmed.explanation.unwrap().hours, 18.0);
    let err = ce_tests::refusal(w.env.employer(&w.employer).confirm_hour_record(confirm())).await;
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "only a submitted record is decided"
    );

    // The field's regulator may confirm an upload, or reject it with a reason.
    let second = credits::record(&mut inst, on_course(&w, date(2026, 3, 2), 1, 2.0)).await;
    let err = ce_tests::refusal(
        w.env
            .regulator(Field::ElectricPower, None)
            .reject_hour_record(RejectHourRecordRequest {
                name: second.name.clone(),
                reason: " ".into(),
            }),
    )
    .await;
    assert_eq!(bad_fields(&err), vec!["reason"]);
    let rejected = ce_tests::answer(
        w.env
            .regulator(Field::ElectricPower, None)
            .reject_hour_record(RejectHourRecordRequest {
                name: second.name.clone(),
                reason: "Not on the attendance sheet".into(),
            }),
    )
    .await;
    assert_eq!(rejected.state, RecordState::Rejected as i32);
    assert_eq!(rejected.decision_reason, "Not on the attendance sheet");
    let err = ce_tests::refusal(
        w.env
            .regulator(Field::Mining, None)
            .get_hour_record(GetHourRecordRequest { name: second.name }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    let listed = ce_tests::answer(w.env.employer(&w.employer).list_annual_statuses(
        ListAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(listed.annual_statuses.len(), 1);
    assert_eq!(listed.annual_statuses[0].total_hours, 18.0);
}

async fn an_engineer_submits_evidence_and_the_home_province_reviews_it(b: Backend) {
    let w = world(b).await;
    let mut me = w.env.engineer(&w.engineer);
    let patent = credits::record(
        &mut me,
        conversion(
            &w.engineer,
            conversion::Kind::InventionPatent,
            "ZL202610000001.X",
        ),
    )
    .await;
    assert_eq!(
        (patent.state, patent.route),
        (RecordState::Submitted as i32, Route::SelfSubmission as i32)
    );
    let confirm = ConfirmHourRecordRequest {
        name: patent.name.clone(),
    };
    let err = ce_tests::refusal(w.env.province("11").confirm_hour_record(confirm.clone())).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(
        w.env
            .employer(&w.employer)
            .confirm_hour_record(confirm.clone()),
    )
    .await;
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "self-submissions are reviewed by HRSS (Art. 21)"
    );
    ce_tests::answer(w.env.province("44").confirm_hour_record(confirm)).await;

    // The same patent again is kept, shown, and credited 0 (docs/rules.md, worked example 4).
    let again = credits::record(
        &mut me,
        conversion(
            &w.engineer,
            conversion::Kind::InventionPatent,
            "zl 202610000001.x",
        ),
    )
    .await;
    let again = credits::confirm(&mut w.env.province("44"), &again.name).await;
    let e = again.explanation.unwrap();
    assert_eq!(e.hours, 0.0);
    assert!(e.text.contains("counts once"), "{}", e.text);

    // docs/rules.md, worked example 2: co-authored paper + patent + 40 professional and 30 public online hours.
    let mut paper = conversion(
        &w.engineer,
        conversion::Kind::PaperCoauthor,
        "10.1000/grid.2026.7",
    );
    paper.client_key = "paper-1".into();
    let p = credits::record(&mut me, paper.clone()).await;
    let retried = credits::record(&mut me, paper.clone()).await;
    assert_eq!(
        retried.name, p.name,
        "the same client key and content is the same record"
    );
    paper.evidence_changed();
    let err = credits::refused(&mut me, paper).await;
    assert_eq!(err.code(), Code::AlreadyExists);
    credits::confirm(&mut w.env.province("44"), &p.name).await;
    let status = credits::year(&mut me, &w.engineer, 2026).await;
    assert_eq!(
        (status.converted_hours, status.professional_hours),
        (15.0, 15.0)
    );
    assert_eq!(status.explanations.len(), 3);

    // Training arrives from its organiser, not from the engineer.
    let err = credits::refused(&mut me, on_course(&w, date(2026, 3, 2), 1, 4.0)).await;
    assert_eq!(bad_fields(&err), vec!["hour_record.activity"]);
    let err = credits::refused(
        &mut me,
        conversion(
            "engineers/someone-else",
            conversion::Kind::PaperSole,
            "10.1/x",
        ),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

both_backends!(
    a_departments_own_activity_is_granted_at_once_and_counted,
    regulators_and_the_ministry_grant_their_own_and_a_regulator_confirms_uploads,
    an_institution_upload_waits_for_the_employer_and_the_institution_cannot_confirm_it,
    an_engineer_submits_evidence_and_the_home_province_reviews_it,
);
