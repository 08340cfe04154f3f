//! Art. 21 deadlines by route: an engineer submits a year's own materials in
//! that year; a department's grant and an institution's upload of a year's
//! training are taken within the registration window after it (90 days
//! nationally), so a course of late December can be registered in January.

use super::*;

/// An activity of `organiser` (a department's when `institution` is None)
/// held from 28 December 2026 to 2 January 2027.
async fn year_end_activity(w: &World, institution: Option<&str>) -> String {
    let activity = reg::Activity {
        title: "Year-end relay protection workshop".into(),
        fee_fen: if institution.is_some() { 80_000 } else { 0 },
        ..ce_tests::world::activity("44", date(2026, 12, 28), date(2027, 1, 2), 8.0)
    };
    let r = &w.env.registry;
    let mut client = match institution {
        Some(i) => r.institution(i),
        None => r.province("44"),
    };
    ce_tests::world::create_activity(&mut client, activity).await
}

async fn late_december_training_is_registered_in_january_and_an_engineers_paper_is_not(b: Backend) {
    let w = world(b).await;
    let course = year_end_activity(&w, Some(&w.institution)).await;
    let seminar = year_end_activity(&w, None).await;
    let learner = colleague(&w, "林工", Field::ElectricPower).await;
    let january = crediting_on(&w, time::macros::date!(2027 - 01 - 05)).await;
    let channel = january.channel().await;
    let mut department = as_role(&w, &channel, ce_tests::department("44", "hrss-44-clerk"));
    let mut institution = as_role(
        &w,
        &channel,
        ce_tests::member(Role::Institution, &w.institution, "institution-clerk"),
    );

    // The department's grant of 28-30 December: taken, confirmed, 2026's.
    let granted = credits::record(
        &mut department,
        face_to_face(&w.engineer, &seminar, date(2026, 12, 28), 3, 8.0),
    )
    .await;
    assert_eq!(granted.state, RecordState::Confirmed as i32);
    let year = |engineer: &str| GetAnnualStatusRequest {
        name: status_name(engineer, 2026),
    };
    let status = ce_tests::answer(department.get_annual_status(year(&w.engineer))).await;
    assert_eq!(status.total_hours, 24.0, "counted in 2026");

    // The institution's upload of the same days for its learner: taken,
    // and once the employer confirms it, 2026's too.
    let uploaded = credits::record(
        &mut institution,
        face_to_face(&learner, &course, date(2026, 12, 28), 3, 8.0),
    )
    .await;
    as_role(
        &w,
        &channel,
        ce_tests::member(Role::Employer, &w.employer, "employer-clerk"),
    )
    .confirm_hour_record(ConfirmHourRecordRequest {
        name: uploaded.name.clone(),
    })
    .await
    .unwrap();
    let status = ce_tests::answer(department.get_annual_status(year(&learner))).await;
    assert_eq!(status.total_hours, 24.0, "counted in 2026");
    assert_eq!(
        status.registration_close_date,
        date(2027, 3, 31),
        "the year's registration window (Art. 21)"
    );

    // Days that run into 2027 are refused on the field that ends them.
    let err = credits::refused(
        &mut institution,
        face_to_face(&learner, &course, date(2026, 12, 30), 4, 8.0),
    )
    .await;
    assert_eq!(bad_fields(&err), ["hour_record.face_to_face.days"]);
    assert!(
        err.message().contains("past the end of 2026"),
        "{}",
        err.message()
    );

    // The engineer's own 2026 paper: "in the same year" (Art. 21).
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let err = credits::refused(
        &mut me,
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/december"),
    )
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Art. 21") && err.message().contains("2026-12-31"),
        "{}",
        err.message()
    );

    // Past the window (31 March 2027) the institution is refused too, and
    // told which window it missed.
    let april = crediting_on(&w, time::macros::date!(2027 - 04 - 15)).await;
    let mut institution = as_role(
        &w,
        &april.channel().await,
        ce_tests::member(Role::Institution, &w.institution, "institution-clerk"),
    );
    let err = credits::refused(
        &mut institution,
        face_to_face(&learner, &course, date(2026, 12, 31), 1, 8.0),
    )
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("2027-03-31")
            && err.message().contains("within 90 days after it ends")
            && err.message().contains("Art. 21"),
        "{}",
        err.message()
    );
}

both_backends!(late_december_training_is_registered_in_january_and_an_engineers_paper_is_not);
