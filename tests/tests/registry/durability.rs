//! What the registry keeps: its data across a restart, and an audit row
//! for every change and every refusal.

use super::*;

async fn data_survives_a_restart(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let employer = new_employer(&env, "44").await;
    let engineer = new_engineer(&env, "44", &employer.name).await;
    let env = env.restart().await;
    let got = ce_tests::answer(env.ministry().get_engineer(GetEngineerRequest {
        name: engineer.name.clone(),
    }))
    .await;
    assert_eq!(got, engineer);
}

async fn mutations_and_refusals_are_audited(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let employer = new_employer(&env, "44").await;
    let rows = env.audit_rows(&employer.name);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].rpc, "CreateEmployer");
    assert_eq!(rows[0].role, "provincial_hrss");
    assert_eq!(rows[0].province.as_deref(), Some("44"));
    assert_eq!(rows[0].outcome, "OK");
    assert!(!rows[0].request_id.is_empty());

    let err = ce_tests::refusal(env.province("11").update_employer(UpdateEmployerRequest {
        employer: Some(Employer {
            name: employer.name.clone(),
            display_name: "x".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let rows = env.audit_rows(&employer.name);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].outcome, "PERMISSION_DENIED");
    assert_eq!(rows[1].rpc, "UpdateEmployer");

    // The log is append-only at the database.
    let db = ce_db::Db::connect(
        &env.place.config("registry").database.url,
        1,
        registry::migrations(),
    )
    .unwrap();
    let mut conn = db.connection().unwrap();
    use diesel::RunQueryDsl;
    let tampered = diesel::sql_query("UPDATE audit_log SET outcome = 'OK'").execute(&mut *conn);
    assert!(tampered.is_err(), "audit rows cannot be updated");
    let deleted = diesel::sql_query("DELETE FROM audit_log").execute(&mut *conn);
    assert!(deleted.is_err(), "audit rows cannot be deleted");
    assert_eq!(env.audit_rows(&employer.name).len(), 2);
}

both_backends!(data_survives_a_restart, mutations_and_refusals_are_audited,);
