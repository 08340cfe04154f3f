//! The growth part: how the upload and the close grow with the records.
//! Part 1's upload and part 3's first close of every record, against the
//! same for a quarter of the engineers (and so of the records) in a fresh
//! database with a crediting of its own, uploaded, settled and closed the
//! same way. Linear growth is the ratio of the sizes (4 at the default
//! sizes); the goal allows a tenth more.

use std::sync::Arc;

use ce_bench::close;
use ce_tests::{bearer, start_service};

use crate::{Bench, Row, Sizes, TODAY, blocking, bulk, goal, settle, whole_capacity};

/// Seconds of each step at one size.
struct Steps {
    records: usize,
    upload: f64,
    close: f64,
}

impl Steps {
    fn total(&self) -> f64 {
        self.upload + self.close
    }

    fn describe(&self) -> String {
        format!(
            "{:.1} s ({} records: upload {:.1} s + close {:.2} s)",
            self.total(),
            self.records,
            self.upload,
            self.close
        )
    }
}

/// The growth row: `upload_secs` and `close_secs` of every record, against
/// the same measured now for a quarter.
pub(crate) async fn against_a_quarter(bench: &Bench, upload_secs: f64, close_secs: f64) -> Row {
    let Sizes {
        engineers,
        per_engineer,
        total,
        ..
    } = bench.sizes;
    let full = Steps {
        records: total,
        upload: upload_secs,
        close: close_secs,
    };
    let quarter = at(bench, (engineers / 4).max(1) * per_engineer).await;
    let linear = full.records as f64 / quarter.records as f64;
    let bound = goal::GROWTH_OVER_LINEAR * linear;
    Row::at_most(
        "cost growth: upload + close, every record / a quarter (time)",
        full.describe(),
        quarter.describe(),
        full.total() / quarter.total(),
        bound,
    )
    .goal_reads(format!(
        "≤ {bound:.1} ({} × linear)",
        goal::GROWTH_OVER_LINEAR
    ))
}

/// The first `records` records uploaded into a fresh database through a
/// crediting of its own, the database settled, and 2026 closed (twice:
/// the second close must find nothing to do); the upload's and the first
/// close's seconds.
async fn at(bench: &Bench, records: usize) -> Steps {
    let database = ce_tests::pg::fresh_database();
    let mut config = whole_capacity(bench.place.config("crediting"));
    config.peers.insert("registry".into(), bench.registry.url());
    config.database.url = database.url().to_owned();
    config.database.max_connections = 8;
    let crediting = start_service(config, |c, s| {
        crediting::start_with_clock(c, s, Arc::new(|| TODAY))
    })
    .await;
    let mut client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            crediting.channel().await,
            bearer(&bench.place.token(bench.province.clone())),
        );
    let (accepted, upload) =
        bulk(&mut client, &bench.seed, bench.sizes.per_engineer, records).await;
    assert_eq!(accepted, records);
    let settled = blocking(database.url(), settle).await;
    let closed = close::close_twice(database.url(), |_| ()).await;
    crediting.stop().await;
    eprintln!(
        "growth: {records} records uploaded in {upload:.1} s, settled in {settled:.1} s, \
         {} open years moved in {:.2} s",
        closed.first.reassessed, closed.close_secs
    );
    Steps {
        records,
        upload,
        close: closed.close_secs,
    }
}
