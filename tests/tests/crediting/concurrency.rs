//! Concurrent changes to one engineer's year: every record counts in the
//! stored status, whichever transaction commits last.

use super::*;

async fn concurrent_grants_for_one_engineer_all_count(b: Backend) {
    let w = world(b).await;
    let mut tasks = tokio::task::JoinSet::new();
    // Twelve grants at once: four 2-hour sessions on each of three days.
    for i in 0..12 {
        let mut c = w.env.province("44");
        let record = face_to_face(&w.engineer, &w.seminar, date(2026, 4, 1 + i % 3), 1, 2.0);
        tasks.spawn(async move { c.create_hour_record(create(record)).await.unwrap() });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let status = w
        .env
        .ministry()
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.explanations.len(), 12);
    assert_eq!(status.total_hours, 24.0, "{status:#?}");
}

both_backends!(concurrent_grants_for_one_engineer_all_count);
