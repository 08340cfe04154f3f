//! Point reads gathered into batches: many callers asking for one row each
//! at the same moment are answered by one query.
//!
//! A read of one row costs a hand-off to a blocking thread, a pool checkout
//! and a round trip to the database, and under load those costs, not the
//! lookup, bound the rate. A [`Batcher`] queues the keys callers ask for;
//! each of its lanes takes what is queued (one key when the service is
//! quiet, up to `max_batch` when it is busy), loads those rows in one query
//! and hands each caller its own. Nothing waits for a batch to fill: a lane
//! that finds one key queued runs it at once, so a quiet service answers as
//! fast as before and a busy one makes fewer, larger queries.
//!
//! A caller's key is queued before its batch's query starts, so the query
//! sees every write that committed before the caller asked: read-your-writes
//! holds as it does for [`Db::read`].
//!
//! A [`Batcher::counter`] counts queries, the reads they answered and the
//! time they took, for the service's metrics (how large batches are under load,
//! and what one costs).
//!
//! The queue has no bound of its own: each caller waits for its one key, and
//! a server's callers are bounded by its concurrency limit
//! (`ce_server::limit`), so the queue is never longer than that.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{Db, DbConnection, DbError};

type Answer<V> = oneshot::Sender<Result<Option<V>, DbError>>;
/// The queue of keys asked for, shared by the lanes.
type Queue<K, V> = Arc<Mutex<mpsc::UnboundedReceiver<(K, Answer<V>)>>>;

/// Loads the rows of a batch of distinct keys; keys without a row are left
/// out of the answer.
type Load<K, V> = dyn Fn(&mut DbConnection, &[K]) -> Result<Vec<(K, V)>, DbError> + Send + Sync;

/// Gathers point reads of `V` by `K` into batches (see the module docs).
pub struct Batcher<K, V> {
    queue: mpsc::UnboundedSender<(K, Answer<V>)>,
    counts: Arc<Counts>,
}

impl<K, V> Clone for Batcher<K, V> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
            counts: self.counts.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    queries: AtomicU64,
    reads: AtomicU64,
    micros: AtomicU64,
}

/// A handle on a batcher's counts that does not keep its lanes running
/// (a metrics callback outlives the service).
#[derive(Debug, Clone)]
pub struct Counter(Arc<Counts>);

impl Counter {
    /// What the lanes have done so far.
    pub fn stats(&self) -> Stats {
        Stats {
            queries: self.0.queries.load(Ordering::Relaxed),
            reads: self.0.reads.load(Ordering::Relaxed),
            query_time: Duration::from_micros(self.0.micros.load(Ordering::Relaxed)),
        }
    }
}

/// What a batcher's lanes have done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Queries run, failed ones included.
    pub queries: u64,
    /// Callers those queries answered (a key asked twice is two reads).
    pub reads: u64,
    /// The time the queries took, each from the hand-off to a blocking
    /// thread (and the pool checkout) to its rows: a batch's whole trip.
    pub query_time: Duration,
}

impl<K, V> std::fmt::Debug for Batcher<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").finish_non_exhaustive()
    }
}

impl<K, V> Batcher<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts `lanes` lanes on the current runtime, each loading up to
    /// `max_batch` keys a query with `load`. The lanes stop when the last
    /// clone of the batcher is dropped.
    pub fn start(
        db: Db,
        lanes: usize,
        max_batch: usize,
        load: impl Fn(&mut DbConnection, &[K]) -> Result<Vec<(K, V)>, DbError> + Send + Sync + 'static,
    ) -> Batcher<K, V> {
        let (queue, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        let load: Arc<Load<K, V>> = Arc::new(load);
        let counts = Arc::new(Counts::default());
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(
                db.clone(),
                rx.clone(),
                load.clone(),
                max_batch.max(1),
                counts.clone(),
            ));
        }
        Batcher { queue, counts }
    }

    /// The lanes' counts, on a handle apart from the batcher.
    pub fn counter(&self) -> Counter {
        Counter(self.counts.clone())
    }

    /// The row of `key`, or None when there is none.
    pub async fn get(&self, key: K) -> Result<Option<V>, DbError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((key, answer))
            .map_err(|_| DbError::Task("the batch reader has stopped".into()))?;
        answered
            .await
            .map_err(|_| DbError::Task("the batch reader dropped a read".into()))?
    }
}

async fn lane<K, V>(
    db: Db,
    rx: Queue<K, V>,
    load: Arc<Load<K, V>>,
    max_batch: usize,
    counts: Arc<Counts>,
) where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    let mut waiting: Vec<(K, Answer<V>)> = Vec::with_capacity(max_batch);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut waiting, max_batch).await == 0 {
                return;
            }
        }
        // A caller that gave up (its deadline passed) needs no row.
        waiting.retain(|(_, answer)| !answer.is_closed());
        if waiting.is_empty() {
            continue;
        }
        let mut keys: Vec<K> = waiting.iter().map(|(k, _)| k.clone()).collect();
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        keys.retain(|k| seen.insert(k.clone()));
        let repeated = keys.len() < waiting.len();
        let load = load.clone();
        let started = Instant::now();
        let loaded = db
            .read(move |conn| load(conn, &keys))
            .await
            .map(|rows| rows.into_iter().collect::<HashMap<K, V>>());
        counts.queries.fetch_add(1, Ordering::Relaxed);
        counts
            .reads
            .fetch_add(waiting.len() as u64, Ordering::Relaxed);
        counts.micros.fetch_add(
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        match loaded {
            Ok(mut rows) => {
                for (key, answer) in waiting.drain(..) {
                    // A key asked for once moves its row to its caller.
                    let row = if repeated {
                        rows.get(&key).cloned()
                    } else {
                        rows.remove(&key)
                    };
                    let _ = answer.send(Ok(row));
                }
            }
            Err(e) => {
                for (_, answer) in waiting.drain(..) {
                    let _ = answer.send(Err(shared(&e)));
                }
            }
        }
    }
}

/// The same fault for each caller of a failed batch: unavailability stays
/// unavailability (callers retry); anything else is an internal fault.
fn shared(e: &DbError) -> DbError {
    use diesel::result::{DatabaseErrorKind, Error as Q};
    match e {
        DbError::Unavailable(s) => DbError::Unavailable(s.clone()),
        DbError::Busy(s) => DbError::Busy(s.clone()),
        DbError::Query(Q::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => {
            DbError::Unavailable(e.to_string())
        }
        other => DbError::Task(other.to_string()),
    }
}
