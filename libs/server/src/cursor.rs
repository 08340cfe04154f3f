//! How far a service has read another service's feed (quality follows
//! crediting's changes, crediting the registry's changes of engineers). A
//! service that follows one has a `feed_cursors` table of this shape in its
//! own migrations. A cursor only moves forward, so replicas may share it.

use ce_db::{DbConnection, DbError};
use diesel::prelude::*;

use ce_db::schema::feed_cursors;

/// How far `feed` has been read: its last sequence, 0 before the first.
pub fn get(conn: &mut DbConnection, feed: &str) -> Result<i64, DbError> {
    use feed_cursors::dsl as f;
    Ok(f::feed_cursors
        .filter(f::feed.eq(feed))
        .select(f::sequence)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Moves `feed`'s cursor forward to `sequence` (never back: two replicas
/// may follow the same feed). One statement, so two replicas advancing at
/// once can neither move it back nor both insert it. (`$1`, `$2` are
/// numbered parameters on PostgreSQL; SQLite reads them as named ones and
/// numbers them in order of first appearance, so each must first appear
/// in its own number's order, as here.)
pub fn advance(conn: &mut DbConnection, feed: &str, sequence: i64) -> Result<(), DbError> {
    use diesel::sql_types::{BigInt, Text};
    let query = diesel::sql_query(
        "INSERT INTO feed_cursors (feed, sequence) VALUES ($1, $2) \
         ON CONFLICT (feed) DO UPDATE SET sequence = excluded.sequence \
         WHERE feed_cursors.sequence < excluded.sequence",
    )
    .bind::<Text, _>(feed)
    .bind::<BigInt, _>(sequence);
    match conn {
        DbConnection::Pg(c) => query.execute(c)?,
        DbConnection::Sqlite(c) => query.execute(c)?,
    };
    Ok(())
}

/// Runs `round` every `every`, and at once again while it reports that
/// more is waiting (`Ok(true)`: its page came back full), until `stop`
/// turns true. A failed round is logged as following `feed` and tried again
/// after `every`; the cursor it did not advance makes the retry read the
/// same changes.
pub fn spawn_rounds<F, Fut>(
    feed: &'static str,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<bool, crate::ApiError>> + Send,
{
    tokio::spawn(async move {
        loop {
            let wait = match round().await {
                Ok(true) => std::time::Duration::ZERO,
                Ok(false) => every,
                Err(e) => {
                    tracing::warn!(feed, error = %e, "following a feed failed; retrying");
                    every
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // A dropped sender stops the rounds too.
                changed = stop.changed() => if changed.is_err() { return; },
            }
            if *stop.borrow() {
                return;
            }
        }
    });
}
