//! Concurrent changes to one engineer's year: every record counts in the
//! stored status, whichever transaction commits last.

use super::*;

async fn concurrent_grants_for_one_engineer_all_count(b: Backend) {
    let w = world(b).await;
    let mut tasks = tokio::task::JoinSet::new();
    // Twelve grants at once: four 2-hour sessions on each of three days.
    for i in 0..12 {
        let mut c = w.env.province("44");
        let record = at_seminar(&w, date(2026, 4, 1 + i % 3), 1, 2.0);
        tasks.spawn(async move { c.create_hour_record(create(record)).await.unwrap() });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let status = ce_tests::answer(w.env.ministry().get_annual_status(GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    }))
    .await;
    assert_eq!(status.explanations.len(), 12);
    assert_eq!(status.total_hours, 24.0, "{status:#?}");
}

both_backends!(concurrent_grants_for_one_engineer_all_count);

/// A key repeated inside one message answers like a re-send: the same
/// record for the same content, ALREADY_EXISTS for other content.
async fn a_key_repeated_in_one_message_is_stored_once(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let record = |hours: f64| {
        let mut r = on_course(&w, date(2026, 3, 2), 1, hours);
        r.client_key = "twice".into();
        r
    };
    let answers = upload(&mut inst, vec![vec![record(6.0), record(6.0), record(7.0)]]).await;
    let a = &answers[0];
    let first = a[0].hour_record.as_ref().unwrap();
    assert_eq!(a[1].hour_record.as_ref().unwrap().name, first.name);
    assert_eq!(a[2].refusal.as_ref().unwrap().code, "ALREADY_EXISTS");
    let stored = ce_tests::answer(w.env.ministry().list_hour_records(ListHourRecordsRequest {
        engineer: w.engineer.clone(),
        ..Default::default()
    }))
    .await
    .hour_records;
    assert_eq!(stored.len(), 1);
}

both_backends!(a_key_repeated_in_one_message_is_stored_once);
