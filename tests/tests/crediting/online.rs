//! Online training evidenced by xAPI statements (Art. 13, 18(2)): the
//! credited hours are the verified durations, overlaps counted once, and a
//! bad statement is refused naming its place in the request.

use super::*;

fn statement(verb: &str, end: &str, duration: &str) -> String {
    serde_json::json!({
        "id": uuid_like(end, duration),
        "actor": {"mbox": "mailto:chen@example.com"},
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
        "object": {"id": "https://learn.example.com/courses/grid-protection"},
        "result": {"duration": duration},
        "timestamp": end,
    })
    .to_string()
}

/// A stable UUID-shaped id per statement.
fn uuid_like(a: &str, b: &str) -> String {
    let h = a.bytes().chain(b.bytes()).fold(0u64, |h, c| {
        h.wrapping_mul(1_099_511_628_211) ^ u64::from(c)
    });
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        h >> 32,
        h & 0xffff_ffff_ffff
    )
}

async fn online_hours_are_the_verified_durations_counted_once(b: Backend) {
    let w = world(b).await;
    let course = reg::Activity {
        title: "Relay protection online".into(),
        delivery_mode: DeliveryMode::Online as i32,
        ..ce_tests::world::activity("44", date(2026, 9, 1), date(2026, 9, 30), 4.0)
    };
    let course = ce_tests::world::create_activity(&mut w.env.registry.province("44"), course).await;
    let record = |statements: Vec<String>, hours: f64| HourRecord {
        engineer: w.engineer.clone(),
        registry_activity: course.clone(),
        activity: Some(A::Online(OnlineTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: date(2026, 9, 1),
            end_date: date(2026, 9, 30),
            hours,
            xapi_statements: statements,
        })),
        ..Default::default()
    };
    // 19:00-21:00 and 20:00-21:30 overlap: 2.5 h; a completed 45 min on another day;
    // a `launched` statement carries no time.
    let statements = vec![
        statement("attended", "2026-09-02T21:00:00+08:00", "PT2H"),
        statement("attended", "2026-09-02T21:30:00+08:00", "PT1H30M"),
        statement("completed", "2026-09-10T12:00:00Z", "PT45M"),
        statement("launched", "2026-09-10T11:00:00Z", "PT10H"),
    ];
    let granted = credits::record(&mut w.env.province("44"), record(statements, 10.0)).await;
    let e = granted.explanation.unwrap();
    assert_eq!(e.hours, 3.25, "{}", e.text);
    assert!(e.text.contains("verify"), "{}", e.text);

    // A statement outside the course's days, and one without a duration.
    let err = credits::refused(
        &mut w.env.province("44"),
        record(
            vec![
                statement("attended", "2026-09-03T10:00:00+08:00", "PT1H"),
                serde_json::json!({
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
                    "timestamp": "2026-09-03T12:00:00+08:00",
                    "result": {}
                })
                .to_string(),
            ],
            0.0,
        ),
    )
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&err),
        ["hour_record.online.xapi_statements[1].result.duration"]
    );
    let err = credits::refused(
        &mut w.env.province("44"),
        record(
            vec![statement("attended", "2026-10-01T00:30:00+08:00", "PT1H")],
            0.0,
        ),
    )
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&err), ["hour_record.online.sessions"]);
    assert!(err.message().contains("Art. 13"), "{}", err.message());
}

both_backends!(online_hours_are_the_verified_durations_counted_once);
