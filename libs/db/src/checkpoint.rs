//! SQLite WAL checkpoints off the write path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1000 pages: that writer copies the pages back into the database file and
//! syncs it while holding the write lock, so every writer behind it waits.
//! A bulk upload paid 5% of its time there. Here a thread of its own, on a
//! connection of its own, runs a `PASSIVE` checkpoint after writes (it never
//! blocks a writer or a reader), so the writers only append to the WAL. The
//! writers keep a higher automatic threshold ([`BACKSTOP_PAGES`]) in case the
//! thread falls behind or cannot open its connection.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

/// `wal_autocheckpoint` of the pool's connections: a writer checkpoints
/// only when the WAL holds this many pages (64 MiB of 4 KiB pages).
pub(crate) const BACKSTOP_PAGES: u32 = 16_384;

/// How long the thread waits for a write before checking whether its
/// database is still in use.
const IDLE: Duration = Duration::from_secs(1);

/// What writers tell the checkpointing thread.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    /// Writes committed since the last checkpoint.
    dirty: Mutex<bool>,
    wake: Condvar,
}

impl Checkpoints {
    /// Starts the thread for the SQLite file at `path`. It ends within
    /// [`IDLE`] of the last handle being dropped.
    pub(crate) fn start(path: &str) -> Arc<Checkpoints> {
        let shared = Arc::new(Checkpoints::default());
        let weak = Arc::downgrade(&shared);
        let path = path.to_owned();
        let spawned = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || run(&path, weak));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no checkpoint thread; writers checkpoint the WAL themselves");
        }
        shared
    }

    /// Called after each committed write.
    pub(crate) fn note_write(&self) {
        *self.dirty.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_one();
    }
}

/// The thread's own connection; `FULL`, so a checkpoint syncs the file.
fn open(path: &str) -> Result<SqliteConnection, String> {
    let mut conn = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;")
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

fn run(path: &str, shared: Weak<Checkpoints>) {
    let mut conn = match open(path) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, path, "no checkpoint connection; writers checkpoint the WAL themselves");
            return;
        }
    };
    loop {
        let Some(checkpoints) = shared.upgrade() else {
            return;
        };
        {
            let dirty = checkpoints.dirty.lock().unwrap_or_else(|p| p.into_inner());
            let (mut dirty, _) = checkpoints
                .wake
                .wait_timeout_while(dirty, IDLE, |dirty| !*dirty)
                .unwrap_or_else(|p| p.into_inner());
            if !*dirty {
                continue;
            }
            *dirty = false;
        }
        // Not holding the handle while checkpointing: a database dropped
        // meanwhile ends the thread at the next turn.
        drop(checkpoints);
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = %e, path, "WAL checkpoint failed; the next write retries it");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;

    use crate::{Db, DbError, Migrations};

    /// Threads of this process named as the checkpoint thread is (the
    /// kernel keeps 15 bytes of a name).
    fn checkpoint_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim() == "wal-checkpoint")
            .count()
    }

    /// Polls `done` every 20 ms for at most 10 s; true when it held.
    fn within_10s(mut done: impl FnMut() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        done()
    }

    #[tokio::test]
    async fn sqlite_writes_are_checkpointed_by_a_thread_that_ends_with_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpointed.db");
        let migrations = Migrations {
            postgres: crate::audit::POSTGRES,
            sqlite: crate::audit::SQLITE,
        };
        let db = Db::connect(&format!("sqlite://{}", path.display()), 2, migrations).unwrap();
        assert!(
            within_10s(|| checkpoint_threads() == 1),
            "one thread for the one database"
        );
        db.write(|c| {
            c.batch_execute("CREATE TABLE t (v BLOB)")
                .map_err(DbError::from)
        })
        .await
        .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        // In WAL mode only a checkpoint writes the database file. 50 pages
        // are far below any writer's threshold (SQLite's 1000, our backstop),
        // so the file grows only if the thread checkpoints them.
        let before = size();
        for _ in 0..50 {
            db.write(|c| {
                c.batch_execute("INSERT INTO t VALUES (randomblob(4000))")
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        }
        assert!(
            within_10s(|| size() >= before + 50 * 4000),
            "the database file stayed at {} bytes (from {before}): the WAL was not checkpointed",
            size()
        );
        drop(db);
        assert!(
            within_10s(|| checkpoint_threads() == 0),
            "the checkpoint thread outlived its database"
        );
    }
}
