//! Who created a record, when, in which request: one join of the record
//! and the audit log, the one `docs/audit.md` documents, run on crediting's
//! database. A bulk message is audited in one row for the records it
//! created (and one row for each it refused), and each record finds that
//! row alone, however often its request id was used again.

use super::*;
use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Nullable, Text};

/// The request id the client chose, and sends again when it retries.
const REQUEST: &str = "audit-join-upload-1";

/// The RPC of a bulk upload, as audit rows name it.
const BULK: &str = "BulkUploadHourRecords";

/// The query of `docs/audit.md`, section "Who created a record".
fn documented_join() -> String {
    let doc = include_str!("../../../docs/audit.md");
    let section = doc
        .split("## Who created a record")
        .nth(1)
        .expect("docs/audit.md has a section \"Who created a record\"");
    let sql = section
        .split("```sql")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("the section shows its query");
    sql.trim().trim_end_matches(';').to_owned()
}

/// A row the documented join answers.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq)]
struct Creation {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<Text>)]
    province: Option<String>,
    #[diesel(sql_type = BigInt)]
    at_micros: i64,
    #[diesel(sql_type = Text)]
    request_id: String,
    #[diesel(sql_type = Text)]
    rpc: String,
    #[diesel(sql_type = Text)]
    resource: String,
}

/// What the record itself says of its creation.
#[derive(diesel::QueryableByName, Debug)]
struct Stored {
    #[diesel(sql_type = BigInt)]
    create_micros: i64,
    #[diesel(sql_type = Nullable<Text>)]
    request_id: Option<String>,
}

/// An audit row of the request, as the test counts them.
#[derive(diesel::QueryableByName, Debug)]
struct Audited {
    #[diesel(sql_type = Text)]
    rpc: String,
    #[diesel(sql_type = Text)]
    resource: String,
    #[diesel(sql_type = Text)]
    outcome: String,
}

/// Crediting's database, opened directly as an auditor would.
fn database(w: &World) -> ce_db::Db {
    let url = w.env.registry.place.config("crediting").database.url;
    ce_db::Db::connect(&url, 1, crediting::migrations()).unwrap()
}

/// Who created the record `id`: the documented join's rows.
fn who_created(db: &ce_db::Db, id: &str) -> Vec<Creation> {
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
    let sql = documented_join().replace(":record_id", &format!("'{id}'"));
    diesel::sql_query(sql)
        .load(&mut db.connection().unwrap())
        .unwrap()
}

fn stored(db: &ce_db::Db, id: &str) -> Stored {
    diesel::sql_query(format!(
        "SELECT create_micros, request_id FROM hour_records WHERE id = '{id}'"
    ))
    .get_result(&mut db.connection().unwrap())
    .unwrap()
}

/// Every audit row of [`REQUEST`], oldest first.
fn rows_of_request(db: &ce_db::Db) -> Vec<Audited> {
    diesel::sql_query(format!(
        "SELECT rpc, resource, outcome FROM audit_log WHERE request_id = '{REQUEST}' ORDER BY id"
    ))
    .load(&mut db.connection().unwrap())
    .unwrap()
}

fn with_request_id<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-request-id", REQUEST.parse().unwrap());
    request
}

/// Uploads `messages` in one stream under [`REQUEST`]; each message's answers.
async fn upload_as_request(
    client: &mut ce_tests::Crediting,
    messages: Vec<Vec<HourRecord>>,
) -> Vec<Vec<BulkUploadResult>> {
    upload_with(client, messages, Some(REQUEST)).await
}

/// The ids of the records a message's answers name, in message order.
fn created_ids(answers: &[BulkUploadResult]) -> Vec<String> {
    answers
        .iter()
        .filter_map(|a| a.hour_record.as_ref())
        .map(|r| r.name.strip_prefix("hourRecords/").unwrap().to_owned())
        .collect()
}

fn now_micros() -> i64 {
    ce_server::call::now_micros()
}

/// The one creation row of record `id`, checked: the institution's clerk,
/// in [`REQUEST`] through `rpc`, written between `from` and `to` and not
/// before the record was checked, whose request id the record keeps.
fn created_by_clerk(db: &ce_db::Db, id: &str, rpc: &str, (from, to): (i64, i64)) -> Creation {
    let rows = who_created(db, id);
    assert_eq!(rows.len(), 1, "one creation row for {id}: {rows:#?}");
    let row = rows.into_iter().next().unwrap();
    assert_eq!(row.id, id);
    assert_eq!(row.actor, "institution-clerk");
    assert_eq!(row.role, "institution");
    assert_eq!(row.province, None);
    assert_eq!(row.request_id, REQUEST);
    assert_eq!(row.rpc, rpc);
    assert!(
        (from..=to).contains(&row.at_micros),
        "{id} created at {}, not within the call ({from} to {to})",
        row.at_micros
    );
    let record = stored(db, id);
    assert_eq!(record.request_id.as_deref(), Some(REQUEST));
    assert!(record.create_micros <= row.at_micros);
    row
}

/// The message of three records and one refused (30 hours a day).
fn first_message(w: &World) -> Vec<HourRecord> {
    let day = |d: i32| date(2026, 3, d);
    vec![
        keyed(on_course(w, day(2), 1, 6.0), "k1"),
        keyed(on_course(w, day(3), 1, 30.0), "k2-impossible"),
        keyed(on_course(w, day(4), 1, 5.0), "k3"),
        keyed(on_course(w, day(3), 1, 4.0), "k4"),
    ]
}

/// The request's audit rows: `OK` rows of `rpc` (their resources) and
/// refusals (their outcomes).
fn ok_and_refused(db: &ce_db::Db, rpc: &str) -> (Vec<String>, Vec<String>) {
    let rows = rows_of_request(db);
    let ok = rows
        .iter()
        .filter(|a| a.outcome == "OK" && a.rpc == rpc)
        .map(|a| a.resource.clone())
        .collect();
    let refused = rows
        .iter()
        .filter(|a| a.outcome != "OK")
        .inspect(|a| assert_eq!((a.rpc.as_str(), a.resource.as_str()), (rpc, "hourRecords")))
        .map(|a| a.outcome.clone())
        .collect();
    (ok, refused)
}

async fn who_created_a_bulk_record_is_one_join_and_a_message_one_audit_row(b: Backend) {
    let w = world(b).await;
    let db = database(&w);
    let mut inst = w.env.institution(&w.institution);

    let from = now_micros();
    let first = upload_as_request(&mut inst, vec![first_message(&w)]).await;
    let sent = (from, now_micros());
    assert_eq!(
        first[0][1].refusal.as_ref().unwrap().code,
        "INVALID_ARGUMENT"
    );
    let ids = created_ids(&first[0]);
    assert_eq!(ids.len(), 3);

    // One OK row for the message's three records, one for the refused one.
    let (ok, refused) = ok_and_refused(&db, BULK);
    assert_eq!(refused, vec!["INVALID_ARGUMENT"]);
    assert_eq!(ok.len(), 1, "one row for the message's records: {ok:?}");
    assert!(ok[0].ends_with(" count=3"), "{}", ok[0]);
    for id in &ids {
        let row = created_by_clerk(&db, id, BULK, sent);
        assert_eq!(row.resource, ok[0]);
    }

    // Retried with the same request id, and one more message in the same
    // stream: the first message's records are answered as stored, and the
    // request id now has two OK rows, each record finding its own.
    let day = |d: i32| date(2026, 3, d);
    let second = vec![
        keyed(on_course(&w, day(2), 1, 2.0), "k5"),
        keyed(on_course(&w, day(4), 1, 1.0), "k6"),
    ];
    let from = now_micros();
    let retry = upload_as_request(&mut inst, vec![first_message(&w), second]).await;
    let resent = (from, now_micros());
    assert_eq!(
        created_ids(&retry[0]),
        ids,
        "the stored records, as first answered"
    );
    let more = created_ids(&retry[1]);
    assert_eq!(more.len(), 2);
    let (ok_after, refused) = ok_and_refused(&db, BULK);
    assert_eq!(
        refused,
        vec!["INVALID_ARGUMENT"; 2],
        "refused again, audited again"
    );
    assert_eq!(ok_after.len(), 2, "{ok_after:?}");
    assert_eq!(ok_after[0], ok[0]);
    assert!(ok_after[1].ends_with(" count=2"), "{}", ok_after[1]);
    for id in &ids {
        assert_eq!(created_by_clerk(&db, id, BULK, sent).resource, ok[0]);
    }
    for id in &more {
        assert_eq!(
            created_by_clerk(&db, id, BULK, resent).resource,
            ok_after[1]
        );
    }

    // A record created alone under the same request id finds its own row,
    // and leaves the others theirs.
    let alone = CreateHourRecordRequest {
        hour_record: Some(on_course(&w, day(3), 1, 1.0)),
    };
    let from = now_micros();
    let created = ce_tests::answer(inst.create_hour_record(with_request_id(alone))).await;
    let single = (from, now_micros());
    let id = created.name.strip_prefix("hourRecords/").unwrap();
    let row = created_by_clerk(&db, id, "CreateHourRecord", single);
    assert_eq!(row.resource, created.name);
    for id in ids.iter().chain(&more) {
        assert_eq!(who_created(&db, id).len(), 1, "{id}");
    }
}

both_backends!(who_created_a_bulk_record_is_one_join_and_a_message_one_audit_row);
