//! Two replicas of supervision on one database: each effect delivered
//! once, each overdue order escalated once.

use super::*;

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

/// Two replicas of supervision: two pools on one database of `b`, in the
/// place that holds it.
fn two_replicas(b: Backend) -> (ce_tests::Place, ce_db::Db, ce_db::Db) {
    let place = ce_tests::Place::new(b);
    let url = place.config("supervision").database.url;
    let one = ce_db::Db::connect(&url, 4, supervision::migrations()).unwrap();
    let two = ce_db::Db::connect(&url, 4, supervision::migrations()).unwrap();
    (place, one, two)
}

async fn two_replicas_never_deliver_one_effect_twice(b: Backend) {
    let (_place, one, two) = two_replicas(b);
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
    let (_place, one, two) = two_replicas(b);
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

both_backends!(
    two_replicas_never_deliver_one_effect_twice,
    two_replicas_escalate_an_overdue_order_once,
);
