//! What crediting refuses, naming the rule: records outside their
//! activity, two places on one day, dates after today, years past their
//! deadline.

use super::*;

/// The world's engineer's sole-authored paper `id`, published on `on`.
fn paper_of(w: &World, id: &str, on: Option<Date>) -> HourRecord {
    let mut paper = conversion(&w.engineer, conversion::Kind::PaperSole, id);
    if let Some(A::Conversion(c)) = &mut paper.activity {
        c.date = on;
    }
    paper
}

async fn refusals_name_the_rule(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);

    // Impossible input, by the rules library, naming the request field.
    let err = credits::refused(&mut inst, on_course(&w, date(2026, 3, 2), 1, 30.0)).await;
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.face_to_face.hours_per_day"]
    );
    // A year before the regulation.
    let old_paper = paper_of(&w, "10.1/2025", date(2025, 12, 1));
    let err = credits::refused(&mut w.env.engineer(&w.engineer), old_paper).await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("Art. 31"), "{}", err.message());
    // Another organiser's activity.
    let err = credits::refused(&mut inst, at_seminar(&w, date(2026, 4, 1), 1, 3.0)).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // An engineer the registry does not know.
    let err = credits::refused(
        &mut inst,
        face_to_face(
            "engineers/0190ffff-0000-7000-8000-000000000000",
            &w.course,
            date(2026, 3, 2),
            1,
            3.0,
        ),
    )
    .await;
    assert_eq!(bad_fields(&err), vec!["hour_record.engineer"]);
    // An employer registers nothing.
    let err = credits::refused(
        &mut w.env.employer(&w.employer),
        on_course(&w, date(2026, 3, 2), 1, 3.0),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    // A disqualified institution's later hours are refused (Art. 26).
    let (_fresh, mut inst) = disqualified_from_march_3(&w).await;
    let err = credits::refused(&mut inst, on_course(&w, date(2026, 3, 2), 3, 6.0)).await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Art. 26") && err.message().contains("disqualified"),
        "{}",
        err.message()
    );
}

async fn dates_after_today_and_years_past_their_deadline_are_refused(b: Backend) {
    let w = world(b).await;
    let future = paper_of(&w, "10.1/future", date(2026, 12, 20));
    let err = credits::refused(&mut w.env.engineer(&w.engineer), future).await;
    assert_eq!(bad_fields(&err), vec!["hour_record.conversion.date"]);
    assert!(err.message().contains("Art. 17"), "{}", err.message());

    // In February 2027, 2026's hours are past their deadline (Art. 21, no grace nationally).
    let service = crediting_on(&w, time::macros::date!(2027 - 02 - 01)).await;
    let token = w.env.registry.place.token(ce_tests::token(
        ce_proto::common::Role::Engineer,
        &w.engineer,
    ));
    let mut me =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            service.channel().await,
            ce_tests::bearer(&token),
        );
    let err = credits::refused(
        &mut me,
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/late"),
    )
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Art. 21") && err.message().contains("2026-12-31"),
        "{}",
        err.message()
    );

    // Where Guangdong's overlay is loaded, its 31 days of grace hold: a 2026
    // paper is taken on 15 January 2027 and refused on 1 February.
    let overlays = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../libs/rules/rulesets/provinces"
    );
    for (today, taken) in [
        (time::macros::date!(2027 - 01 - 15), true),
        (time::macros::date!(2027 - 02 - 01), false),
    ] {
        let mut config = w.env.registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), w.env.registry.service.url());
        config.rules.dir = overlays.into();
        let service = ce_tests::start_service(config, move |c, s| {
            crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
        })
        .await;
        let mut me =
            ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
                service.channel().await,
                ce_tests::bearer(&token),
            );
        let got = me
            .create_hour_record(create(conversion(
                &w.engineer,
                conversion::Kind::PaperSole,
                &format!("10.1/grace-{today}"),
            )))
            .await;
        match got {
            Ok(r) => assert!(taken, "{today}: taken after the grace: {r:?}"),
            Err(e) => {
                assert!(!taken, "{today}: refused within the grace: {e:?}");
                assert_eq!(e.code(), Code::FailedPrecondition);
                assert!(e.message().contains("2027-01-31"), "{}", e.message());
            }
        }
    }
}

async fn hours_must_fall_within_their_activity_and_two_places_on_one_day_are_signalled(b: Backend) {
    let w = world(b).await;
    // The course runs 2026-03-02 to 03-04.
    let err = credits::refused(
        &mut w.env.institution(&w.institution),
        on_course(&w, date(2026, 3, 4), 2, 4.0),
    )
    .await;
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.face_to_face.start_date"]
    );

    // The same day at the institution and at the department's seminar.
    let seminar_day = reg::Activity {
        title: "Grid safety day".into(),
        ..ce_tests::world::activity("44", date(2026, 3, 3), date(2026, 3, 3), 6.0)
    };
    let seminar_day =
        ce_tests::world::create_activity(&mut w.env.registry.province("44"), seminar_day).await;
    let upload = credits::record(
        &mut w.env.institution(&w.institution),
        on_course(&w, date(2026, 3, 3), 1, 6.0),
    )
    .await;
    credits::confirm(&mut w.env.employer(&w.employer), &upload.name).await;
    credits::record(
        &mut w.env.province("44"),
        face_to_face(&w.engineer, &seminar_day, date(2026, 3, 3), 1, 6.0),
    )
    .await;
    let status = credits::year(&mut w.env.province("44"), &w.engineer, 2026).await;
    assert_eq!(
        status.professional_hours, 8.0,
        "one day caps at 8 across both"
    );
    assert!(
        status
            .signals
            .iter()
            .any(|s| s.contains("two places on 2026-03-03")),
        "{:?}",
        status.signals
    );
}

both_backends!(
    refusals_name_the_rule,
    dates_after_today_and_years_past_their_deadline_are_refused,
    hours_must_fall_within_their_activity_and_two_places_on_one_day_are_signalled,
);
