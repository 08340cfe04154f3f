//! The tamper-evident audit log (docs/audit.md), end to end on both
//! backends: a service seals its audit rows, verifies intact, and then an
//! audit row edited or deleted straight in the database (as PostgreSQL's
//! superuser, with `psql`; on SQLite with the triggers dropped) is named by
//! the real `cectl audit verify`. Only the ministry may verify; rows that
//! commit out of order on PostgreSQL are sealed once they commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ce_db::seal;
use ce_proto::audit::audit_break::Kind;
use ce_proto::audit::audit_service_client::AuditServiceClient;
use ce_proto::audit::{VerifyAuditLogRequest, VerifyAuditLogResponse};
use ce_proto::common::Role;
use ce_proto::registry::{CreateEmployerRequest, Employer, EmployerKind};
use ce_server::auth::TokenRequest;
use ce_tests::{
    Backend, Bearer, Place, QualityEnv, RegistryEnv, bearer, both_backends, credit_code, token,
};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Audit = AuditServiceClient<InterceptedService<Channel, Bearer>>;

fn audit_client(channel: &Channel, token: &str) -> Audit {
    AuditServiceClient::with_interceptor(channel.clone(), bearer(token))
}

fn ministry_token(place: &Place) -> String {
    place.token(token(Role::Ministry, "ministry-auditor"))
}

async fn verify(client: &mut Audit, seal_first: bool) -> VerifyAuditLogResponse {
    client
        .verify_audit_log(VerifyAuditLogRequest {
            seal_first,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// Audited mutations: `n` employers created by Guangdong's clerk, and one
/// refusal (an engineer may not create an employer), audited too.
async fn mutate(env: &RegistryEnv, n: usize) {
    let employer = || CreateEmployerRequest {
        employer: Some(Employer {
            credit_code: credit_code("44"),
            display_name: "Guangzhou Metro Design Institute".into(),
            kind: EmployerKind::Enterprise as i32,
            province: "44".into(),
            ..Default::default()
        }),
    };
    let mut clerk = env.province("44");
    for _ in 0..n {
        clerk.create_employer(employer()).await.unwrap();
    }
    let refused = env
        .engineer("engineers/someone")
        .create_employer(employer())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The audit row ids in the service's database, ascending.
fn audit_ids(place: &Place, service: &str) -> Vec<i64> {
    let url = place.config(service).database.url;
    let db = ce_db::Db::connect(&url, 1, registry::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    diesel::sql_query("SELECT id FROM audit_log ORDER BY id")
        .load::<Id>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Runs SQL on the service's database behind its back: on PostgreSQL as
/// the superuser through `psql`, with the triggers that refuse UPDATE and
/// DELETE switched off for the session; on SQLite with them dropped.
async fn tamper(place: &Place, service: &str, sql: &str) {
    match place.backend {
        Backend::Postgres => {
            let url = place.pg_url(service);
            let script = format!("SET session_replication_role = replica; {sql}");
            let out = tokio::task::spawn_blocking(move || {
                Command::new("psql")
                    .args(["-X", "-v", "ON_ERROR_STOP=1", "-d", &url, "-c", &script])
                    .stdin(Stdio::null())
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            assert!(
                out.status.success(),
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Backend::Sqlite => {
            let path = place.dir.path().join(format!("{service}.db"));
            let mut conn =
                diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = 10000; \
                 DROP TRIGGER IF EXISTS audit_log_no_update; \
                 DROP TRIGGER IF EXISTS audit_log_no_delete; {sql}"
            ))
            .unwrap();
        }
    }
}

fn cectl_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("cectl");
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// Runs the real `cectl` against the services at `addrs` (flag, URL).
async fn cectl(place: &Place, addrs: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = Command::new(cectl_binary());
    c.args(args)
        .env_remove("CE_TOKEN")
        .env("CE_DATA_DIR", place.data_dir())
        .stdin(Stdio::null());
    for (var, url) in addrs {
        c.env(var, url);
    }
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `cectl audit verify --service registry` as the ministry; its exit code
/// and standard output.
async fn cectl_verify(env: &RegistryEnv) -> (Option<i32>, String) {
    let addrs = [("CE_REGISTRY_ADDR", env.service.url())];
    let minted = cectl(&env.place, &addrs, &["token", "--role", "ministry"]).await;
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let t = text(&minted.stdout).trim().to_owned();
    let out = cectl(
        &env.place,
        &addrs,
        &["--token", &t, "audit", "verify", "--service", "registry"],
    )
    .await;
    let stdout = text(&out.stdout);
    eprintln!("cectl audit verify:\n{stdout}{}", text(&out.stderr));
    (out.status.code(), stdout)
}

/// Seals and verifies intact; returns the sealed row ids.
async fn sealed_intact(env: &RegistryEnv) -> Vec<i64> {
    mutate(env, 3).await;
    let mut auditor = audit_client(&env.channel, &ministry_token(&env.place));
    let v = verify(&mut auditor, true).await;
    assert!(v.intact, "{v:?}");
    let ids = audit_ids(&env.place, "registry");
    assert!(ids.len() >= 4, "{ids:?}");
    assert_eq!(v.sealed_row_count, ids.len() as i64);
    assert_eq!(v.unsealed_row_count, 0);
    let last = v.last_seal.unwrap();
    assert_eq!(last.through_row_id, *ids.last().unwrap());
    assert_eq!(last.hash.len(), 64);

    // A row written after the last seal is not sealed yet, not a break.
    mutate(env, 1).await;
    let v = verify(&mut auditor, false).await;
    assert!(v.intact, "{v:?}");
    let written = audit_ids(&env.place, "registry").len() - ids.len();
    assert!(written >= 2);
    assert_eq!(v.unsealed_row_count, written as i64);

    let (code, out) = cectl_verify(env).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("registry     intact"), "{out}");
    ids
}

async fn an_audit_row_edited_in_the_database_is_named(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let ids = sealed_intact(&env).await;
    let row = ids[1];
    tamper(
        &env.place,
        "registry",
        &format!("UPDATE audit_log SET outcome = 'OK', actor = 'nobody' WHERE id = {row}"),
    )
    .await;

    let (code, out) = cectl_verify(&env).await;
    assert_eq!(code, Some(3), "a broken log exits 3: {out}");
    assert!(out.contains("BROKEN: 1 break"), "{out}");
    assert!(
        out.contains(&format!("first break  row {row} (row altered), seal 1")),
        "{out}"
    );

    let mut auditor = audit_client(&env.channel, &ministry_token(&env.place));
    let v = verify(&mut auditor, true).await;
    let first = v.first_break.unwrap();
    assert_eq!(first.kind(), Kind::RowAltered);
    assert_eq!((first.row_id, first.seal_number), (row, 1));
    assert!(!v.intact);
}

both_backends!(an_audit_row_edited_in_the_database_is_named);

async fn an_audit_row_deleted_from_the_database_is_named(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let ids = sealed_intact(&env).await;
    let row = ids[2];
    tamper(
        &env.place,
        "registry",
        &format!("DELETE FROM audit_log WHERE id = {row}"),
    )
    .await;

    let (code, out) = cectl_verify(&env).await;
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains(&format!("first break  row {row} (row missing), seal 1")),
        "{out}"
    );
    assert!(out.contains("deleted"), "{out}");
}

both_backends!(an_audit_row_deleted_from_the_database_is_named);

async fn only_the_ministry_verifies_the_audit_log(b: Backend) {
    let env = RegistryEnv::start(b).await;
    mutate(&env, 1).await;
    let request = VerifyAuditLogRequest {
        seal_first: true,
        ..Default::default()
    };
    let others = [
        ce_tests::department("44", "hrss-44-clerk"),
        TokenRequest {
            field: Some(ce_proto::common::Field::Construction),
            ..token(Role::IndustryRegulator, "regulator-clerk")
        },
        ce_tests::member(Role::Institution, "institutions/x", "institution-clerk"),
        ce_tests::member(Role::Employer, "employers/x", "employer-clerk"),
        token(Role::Engineer, "engineers/x"),
        token(Role::Service, "crediting"),
    ];
    for who in others {
        let role = who.role;
        let err = audit_client(&env.channel, &env.place.token(who))
            .verify_audit_log(request.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role:?}: {err:?}");
    }
    let err = AuditServiceClient::new(env.channel.clone())
        .verify_audit_log(request.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // Refused callers sealed nothing.
    let v = verify(
        &mut audit_client(&env.channel, &ministry_token(&env.place)),
        false,
    )
    .await;
    assert_eq!((v.seal_count, v.intact), (0, true));

    // An anchor that is not in the chain is a break; a malformed one is refused.
    let mut auditor = audit_client(&env.channel, &ministry_token(&env.place));
    let head = verify(&mut auditor, true).await.last_seal.unwrap();
    let anchored = |hash: String| VerifyAuditLogRequest {
        anchor_seal: head.number,
        anchor_hash: hash,
        ..Default::default()
    };
    let v = auditor
        .verify_audit_log(anchored(head.hash.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(v.intact, "{v:?}");
    let v = auditor
        .verify_audit_log(anchored("0".repeat(64)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.first_break.unwrap().kind(), Kind::AnchorMismatch);
    let err = ce_tests::refusal(auditor.verify_audit_log(anchored("abc".into()))).await;
    assert_eq!(err.code(), Code::InvalidArgument);
}

both_backends!(only_the_ministry_verifies_the_audit_log);

/// Every service serves the audit API over its own log; `cectl audit
/// verify` checks all four.
async fn every_service_verifies_its_own_audit_log(b: Backend) {
    let env = QualityEnv::start(b).await;
    let place = &env.registry.place;
    mutate(&env.registry, 1).await;
    let t = ministry_token(place);
    for channel in [
        &env.registry.channel,
        &env.supervision_channel,
        &env.channel,
        &env.crediting.channel().await,
    ] {
        let v = verify(&mut audit_client(channel, &t), true).await;
        assert!(v.intact, "{v:?}");
    }
    let addrs = [
        ("CE_REGISTRY_ADDR", env.registry.service.url()),
        ("CE_CREDITING_ADDR", env.crediting.url()),
        (
            "CE_SUPERVISION_ADDR",
            format!("http://{}", env.supervision_addr),
        ),
        ("CE_QUALITY_ADDR", env.service.url()),
    ];
    let out = cectl(place, &addrs, &["--token", &t, "audit", "verify"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for name in ["registry", "crediting", "supervision", "quality"] {
        assert!(stdout.contains(&format!("{name:<12} intact")), "{stdout}");
    }
    let json = cectl(
        place,
        &addrs,
        &[
            "--token",
            &t,
            "audit",
            "verify",
            "--service",
            "registry",
            "--json",
        ],
    )
    .await;
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(line["service"], "registry");
    assert_eq!(line["intact"], true);
}

both_backends!(every_service_verifies_its_own_audit_log);

/// The sealer task seals on its own while writes go on, beside another
/// sealer on the same database (a replica's, or a verification's seal on
/// demand): they take turns, and the chain stays one.
async fn sealers_side_by_side_keep_one_chain(b: Backend) {
    let env = RegistryEnv::start(b).await;
    mutate(&env, 2).await;
    let url = env.place.config("registry").database.url;
    let db = ce_db::Db::connect(&url, 2, registry::migrations()).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sealer = tokio::spawn(ce_server::audit_service::run_sealer(
        db,
        Duration::from_millis(20),
        stopped,
    ));
    let mut auditor = audit_client(&env.channel, &ministry_token(&env.place));
    for _ in 0..5 {
        mutate(&env, 2).await;
        let v = verify(&mut auditor, true).await;
        assert!(v.intact, "{v:?}");
    }
    mutate(&env, 1).await;
    let written = audit_ids(&env.place, "registry").len() as i64;
    let mut v = verify(&mut auditor, false).await;
    for _ in 0..200 {
        if v.sealed_row_count == written {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        v = verify(&mut auditor, false).await;
    }
    assert!(v.intact, "{v:?}");
    assert_eq!(
        (v.sealed_row_count, v.unsealed_row_count),
        (written, 0),
        "{v:?}"
    );
    stop.send(true).unwrap();
    sealer.await.unwrap();
}

both_backends!(sealers_side_by_side_keep_one_chain);

#[derive(QueryableByName)]
struct OpenIds {
    #[diesel(sql_type = diesel::sql_types::Text)]
    open_ids: String,
}

fn last_open(conn: &mut ce_db::DbConnection) -> String {
    diesel::sql_query("SELECT open_ids FROM audit_seals ORDER BY id DESC LIMIT 1")
        .get_result::<OpenIds>(conn)
        .unwrap()
        .open_ids
}

fn row(conn: &mut ce_db::DbConnection, what: &str) {
    ce_db::audit::append(
        conn,
        &ce_db::audit::AuditEntry {
            at_micros: 1,
            actor: "clerk".into(),
            role: "provincial_hrss".into(),
            province: Some("44".into()),
            rpc: "CreateEmployer".into(),
            resource: what.into(),
            request_id: what.into(),
            outcome: "OK".into(),
        },
    )
    .unwrap();
}

/// PostgreSQL hands out ids at insert and commits in any order: a row whose
/// transaction is still open when a seal is made is left open by that seal
/// and sealed by the first seal after it commits; an id whose transaction
/// rolled back is closed once no transaction can hold it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_committed_out_of_order_are_sealed_once_they_commit() {
    let place = Place::new(Backend::Postgres);
    let db = ce_db::Db::connect(&place.pg_url("registry"), 6, registry::migrations()).unwrap();
    let mut slow = db.connection().unwrap();
    let mut fast = db.connection().unwrap();
    let check = |db: &ce_db::Db| seal::verify(&mut db.connection().unwrap(), None).unwrap();

    slow.batch_execute("BEGIN").unwrap();
    row(&mut slow, "slow/1"); // id 1, not committed
    row(&mut fast, "fast/2"); // id 2, committed
    let made = seal::seal_pending_with(&db, Duration::ZERO).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!((made[0].row_ids.as_str(), made[0].through_id), ("2", 2));
    assert_eq!(made[0].open_ids, "1@1", "id 1 may still commit");
    // More seals while it is open leave it open.
    row(&mut fast, "fast/3");
    let made = seal::seal_pending_with(&db, Duration::ZERO).await.unwrap();
    assert_eq!(made[0].open_ids, "1@1");
    let v = check(&db);
    assert!(v.intact(), "{v:?}");
    assert_eq!((v.sealed_rows, v.unsealed_rows), (2, 0));

    slow.batch_execute("COMMIT").unwrap();
    assert_eq!(check(&db).unsealed_rows, 1, "committed, not sealed yet");
    let made = seal::seal_pending_with(&db, Duration::ZERO).await.unwrap();
    assert_eq!(
        (made[0].row_ids.as_str(), made[0].open_ids.as_str()),
        ("1", "")
    );
    let v = check(&db);
    assert!(v.intact(), "{v:?}");
    assert_eq!((v.sealed_rows, v.unsealed_rows), (3, 0));

    // A rolled-back insert leaves a gap that closes once no transaction
    // can fill it (other tests' transactions on the server may delay it).
    slow.batch_execute("BEGIN").unwrap();
    row(&mut slow, "slow/4");
    slow.batch_execute("ROLLBACK").unwrap();
    row(&mut fast, "fast/5");
    seal::seal_pending_with(&db, Duration::ZERO).await.unwrap();
    let mut conn = db.connection().unwrap();
    for _ in 0..100 {
        if last_open(&mut conn).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        seal::seal_pending_with(&db, Duration::ZERO).await.unwrap();
    }
    assert_eq!(last_open(&mut conn), "", "the rolled-back id is closed");
    let v = check(&db);
    assert!(v.intact(), "{v:?}");
    assert_eq!((v.sealed_rows, v.unsealed_rows), (4, 0));

    // With the settle time, a gap stays open until a seal made that long
    // after it was seen.
    slow.batch_execute("BEGIN").unwrap();
    row(&mut slow, "slow/6");
    slow.batch_execute("ROLLBACK").unwrap();
    row(&mut fast, "fast/7");
    seal::seal_pending_with(&db, Duration::from_secs(3600))
        .await
        .unwrap();
    seal::seal_pending_with(&db, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(last_open(&mut conn).starts_with("6@"));
}
