//! Bulk uploads: each record answered on its own, from its own activity,
//! and a resend, even after the deadline, stores nothing twice and gets
//! the first answers.

use super::*;

/// The world's engineer's records as the ministry reads them, up to 100.
async fn stored_of(w: &World) -> Vec<HourRecord> {
    let list = ListHourRecordsRequest {
        engineer: w.engineer.clone(),
        page_size: 100,
        ..Default::default()
    };
    ce_tests::answer(w.env.ministry().list_hour_records(list))
        .await
        .hour_records
}

async fn a_bulk_upload_answers_each_record_and_a_resend_stores_nothing_twice(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let day = |d: i32| date(2026, 3, d);
    let first = vec![
        keyed(on_course(&w, day(2), 1, 6.0), "k1"),
        keyed(on_course(&w, day(3), 1, 30.0), "k2-impossible"),
        keyed(on_course(&w, day(4), 1, 5.0), "k3"),
    ];
    let second = vec![
        keyed(on_course(&w, day(2), 1, 7.0), "k1"),
        keyed(
            face_to_face("engineers/nobody", &w.course, day(3), 1, 2.0),
            "k4-unknown",
        ),
        keyed(on_course(&w, day(3), 1, 4.0), "k5"),
    ];

    // Interrupted: only the first message got through before the client died.
    let partial = upload(&mut inst, vec![first.clone()]).await;
    assert_eq!(partial.len(), 1);

    // Re-sent whole: the same answers for the first message, nothing stored twice.
    let answers = upload(&mut inst, vec![first, second]).await;
    assert_eq!(answers.len(), 2);
    let (a, b2) = (&answers[0], &answers[1]);
    assert_eq!(a.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(
        a[0].hour_record.as_ref().unwrap().name,
        partial[0][0].hour_record.as_ref().unwrap().name
    );
    assert_eq!(
        a[2].hour_record.as_ref().unwrap().name,
        partial[0][2].hour_record.as_ref().unwrap().name
    );
    let impossible = a[1].refusal.as_ref().unwrap();
    assert_eq!(impossible.code, "INVALID_ARGUMENT");
    assert_eq!(
        impossible.field_violations[0].field,
        "hour_record.face_to_face.hours_per_day"
    );
    assert_eq!(
        b2[0].refusal.as_ref().unwrap().code,
        "ALREADY_EXISTS",
        "same key, other content"
    );
    assert_eq!(
        b2[1].refusal.as_ref().unwrap().field_violations[0].field,
        "hour_record.engineer"
    );
    assert_eq!(
        b2[2].hour_record.as_ref().unwrap().state,
        RecordState::Submitted as i32
    );

    let stored = stored_of(&w).await;
    let mut keys: Vec<String> = stored.iter().map(|r| r.client_key.clone()).collect();
    keys.sort();
    assert_eq!(keys, vec!["k1", "k3", "k5"], "exactly the intended rows");

    // A message over the limit is refused whole.
    let big = vec![on_course(&w, day(2), 1, 1.0); 1001];
    let mut stream = ce_tests::answer(inst.bulk_upload_hour_records(tokio_stream::iter(vec![
        BulkUploadHourRecordsRequest { hour_records: big },
    ])))
    .await;
    let err = stream.message().await.unwrap_err();
    assert_eq!(bad_fields(&err), vec!["hour_records"]);

    // A message over the byte limit (`server.max_message_bytes`, 4 MiB) is
    // RESOURCE_EXHAUSTED, as a unary request over it is, and as gRPC's own
    // implementations answer it.
    let heavy = HourRecord {
        client_key: "k".repeat(5 << 20),
        ..on_course(&w, day(2), 1, 1.0)
    };
    let mut stream = ce_tests::answer(inst.bulk_upload_hour_records(tokio_stream::iter(vec![
        BulkUploadHourRecordsRequest {
            hour_records: vec![heavy],
        },
    ])))
    .await;
    let err = stream.message().await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    assert!(
        err.message().contains("server.max_message_bytes"),
        "{err:?}"
    );
}

/// A bulk message whose records come from more activities than the
/// registry is asked about at once: crediting looks them up together before
/// preparing the records (`Registry::prefetch_activities`), and each record
/// is still answered from its own activity and from its institution's
/// standing, which a fresh crediting has not cached either.
async fn a_bulk_message_over_many_activities_answers_each_from_its_own(b: Backend) {
    let w = world(b).await;
    let mut organiser = w.env.registry.institution(&w.institution);
    let mut activities = Vec::new();
    for i in 0..20 {
        let relay = reg::Activity {
            title: format!("Relay setting {i}"),
            ..ce_tests::world::activity("44", date(2026, 3, 2), date(2026, 3, 4), 8.0)
        };
        let name = ce_tests::world::create_activity(&mut organiser, relay).await;
        activities.push(name);
    }
    let (_fresh, mut inst) = disqualified_from_march_3(&w).await;
    let mut message: Vec<HourRecord> = activities
        .iter()
        .map(|a| face_to_face(&w.engineer, a, date(2026, 3, 2), 1, 6.0))
        .collect();
    // The day the institution was barred from, an activity the registry
    // does not hold, and the department's own activity.
    message.push(face_to_face(
        &w.engineer,
        &activities[7],
        date(2026, 3, 4),
        1,
        6.0,
    ));
    message.push(face_to_face(
        &w.engineer,
        "activities/nowhere",
        date(2026, 3, 2),
        1,
        6.0,
    ));
    message.push(at_seminar(&w, date(2026, 4, 1), 1, 6.0));
    let mut answers = upload(&mut inst, vec![message]).await.remove(0);
    answers.sort_by_key(|a| a.index);
    assert_eq!(answers.len(), 23);
    for (a, activity) in answers.iter().zip(&activities) {
        let record = a
            .hour_record
            .as_ref()
            .unwrap_or_else(|| panic!("{activity}: {:?}", a.refusal));
        assert_eq!(&record.registry_activity, activity);
        assert_eq!(record.state, RecordState::Submitted as i32);
    }
    let refusal = |i: usize| answers[i].refusal.clone().unwrap();
    assert_eq!(refusal(20).code, "FAILED_PRECONDITION");
    assert!(refusal(20).message.contains("Art. 26"), "{:?}", refusal(20));
    // The reason a program acts on (docs/errors.md), its article, and what
    // it means in Chinese.
    assert_eq!(
        (refusal(20).reason.as_str(), refusal(20).article.as_str()),
        ("INSTITUTION_DISQUALIFIED", "Art. 26")
    );
    assert!(
        refusal(20).localized_message.contains("第二十六条"),
        "{:?}",
        refusal(20)
    );
    assert_eq!(refusal(21).reason, "INVALID_FIELD");
    assert_eq!(
        refusal(21).field_violations[0].field,
        "hour_record.registry_activity"
    );
    assert_eq!(refusal(22).code, "PERMISSION_DENIED");
}

/// A client that retries after the Art. 21 deadline has passed (a timeout,
/// a crash, a clerk re-running an import in January) gets the answers the
/// first attempt got, on both routes, single and bulk; new records are still
/// refused for the deadline.
async fn a_resend_after_the_deadline_gets_the_first_answers(b: Backend) {
    let w = world(b).await;
    let paper = keyed(
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/resent"),
        "paper-1",
    );
    let first = credits::record(&mut w.env.engineer(&w.engineer), paper.clone()).await;
    let day = |d: i32| date(2026, 3, d);
    let message = vec![
        keyed(on_course(&w, day(2), 1, 6.0), "k1"),
        keyed(on_course(&w, day(3), 1, 5.0), "k2"),
    ];
    let uploaded = upload(
        &mut w.env.institution(&w.institution),
        vec![message.clone()],
    )
    .await;
    let names = |answers: &[BulkUploadResult]| -> Vec<Option<String>> {
        answers
            .iter()
            .map(|a| a.hour_record.as_ref().map(|r| r.name.clone()))
            .collect()
    };

    // April 2027: 2026 is past the engineer's deadline (its end) and the
    // institution's (90 days after it).
    let late = crediting_on(&w, time::macros::date!(2027 - 04 - 01)).await;
    let channel = late.channel().await;
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let again = credits::record(&mut me, paper.clone()).await;
    assert_eq!(again.name, first.name, "the stored record, not a refusal");
    let mut other = paper.clone();
    if let Some(A::Conversion(c)) = &mut other.activity {
        c.evidence_id = "10.1/other".into();
    }
    let err = ce_tests::refusal(me.create_hour_record(create(other))).await;
    assert_eq!(err.code(), Code::AlreadyExists, "same key, other content");
    let err = credits::refused(
        &mut me,
        keyed(
            conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/new"),
            "paper-2",
        ),
    )
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("Art. 21"), "{}", err.message());

    let mut inst = as_role(
        &w,
        &channel,
        ce_tests::member(Role::Institution, &w.institution, "institution-clerk"),
    );
    let mut resent = message.clone();
    resent.push(keyed(on_course(&w, day(4), 1, 4.0), "k3"));
    let answers = upload(&mut inst, vec![resent]).await;
    assert_eq!(
        names(&answers[0][..2]),
        names(&uploaded[0]),
        "the first two answered as first stored"
    );
    let refused = answers[0][2].refusal.as_ref().unwrap();
    assert_eq!(refused.code, "FAILED_PRECONDITION");
    assert!(refused.message.contains("Art. 21"), "{}", refused.message);
    assert_eq!(refused.reason, "REGISTRATION_DEADLINE_PASSED");
    let stored = stored_of(&w).await;
    assert_eq!(stored.len(), 3, "nothing stored twice, nothing late");
}

both_backends!(
    a_bulk_upload_answers_each_record_and_a_resend_stores_nothing_twice,
    a_bulk_message_over_many_activities_answers_each_from_its_own,
    a_resend_after_the_deadline_gets_the_first_answers,
);
