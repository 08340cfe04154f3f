//! A read never writes: a year never assessed is answered by the rules and
//! not stored, and only years from 2026 to next year have a status.

use super::*;

async fn reading_a_year_never_assessed_stores_nothing(b: Backend) {
    use diesel::RunQueryDsl;
    let w = world(b).await;
    // Crediting's today is 2026-11-25: 2027 is next year, 2028 too far.
    let read = |year: i32| {
        let mut me = w.env.engineer(&w.engineer);
        let name = status_name(&w.engineer, year);
        async move {
            me.get_annual_status(GetAnnualStatusRequest { name })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let next = read(2027).await.unwrap();
    assert_eq!(next.state, AnnualState::InProgress as i32);
    assert_eq!(next.shortfall_total_hours, 90.0);
    for year in [2028, 9999] {
        let err = read(year).await.unwrap_err();
        assert_eq!(bad_fields(&err), ["name"], "{year}");
        assert!(
            err.message().contains("from 2026 to 2027"),
            "{}",
            err.message()
        );
    }
    let db = ce_db::Db::connect(
        &w.env.registry.place.config("crediting").database.url,
        1,
        crediting::migrations(),
    )
    .unwrap();
    let mut conn = db.connection().unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut ce_db::DbConnection, sql: &str| -> i64 {
        match conn {
            ce_db::DbConnection::Pg(c) => diesel::sql_query(sql).get_result::<Count>(c),
            ce_db::DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result::<Count>(c),
        }
        .unwrap()
        .n
    };
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM annual_statuses"),
        0,
        "nothing stored by a read"
    );
    assert_eq!(
        count(&mut conn, "SELECT COUNT(*) AS n FROM changes"),
        0,
        "nothing in the change feed"
    );
}

both_backends!(reading_a_year_never_assessed_stores_nothing);
