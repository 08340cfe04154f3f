//! Bulk upload (Art. 21, 22): records in any volume, answered per record,
//! idempotent on each record's client key. One message of up to 1000
//! records is checked against the registry in one batch and stored in one
//! transaction; a refused record is answered and audited without stopping
//! the others.

use std::collections::BTreeMap;

use ce_db::audit;
use ce_proto::common::{FieldViolation, Refusal};
use ce_proto::crediting::{
    BulkUploadHourRecordsResponse, BulkUploadResult, HourRecord, RecordState,
};
use ce_server::{ApiError, Call};
use diesel::Connection;

use crate::records::{Crediting, save, to_proto};
use crate::status::{self, Who};
use crate::store::RecordRow;

/// One record of a message: its index, client key, and how it fared so far.
type Item<T> = (usize, String, Result<T, ApiError>);

/// The most records one message may carry.
pub const MESSAGE_LIMIT: usize = 1000;

fn refusal(e: &ApiError) -> Refusal {
    Refusal {
        code: e.code_name().to_owned(),
        message: e.to_string(),
        field_violations: match e {
            ApiError::InvalidArgument(v) => v
                .iter()
                .map(|f| FieldViolation {
                    field: f.field.clone(),
                    description: f.description.clone(),
                })
                .collect(),
            _ => vec![],
        },
    }
}

impl Crediting {
    /// Stores one message of a bulk upload and answers each record.
    pub async fn bulk_message(
        &self,
        call: &Call,
        records: Vec<HourRecord>,
    ) -> Result<BulkUploadHourRecordsResponse, ApiError> {
        if records.len() > MESSAGE_LIMIT {
            return Err(ApiError::invalid(
                "hour_records",
                format!("at most {MESSAGE_LIMIT} records per message; send more messages"),
            ));
        }
        // One registry call for every engineer of the message; prepare then hits the cache.
        let names: Vec<String> = records
            .iter()
            .map(|r| r.engineer.clone())
            .filter(|n| !n.is_empty())
            .collect();
        self.registry.engineers(&names).await?;

        let mut prepared: Vec<Item<(RecordRow, Who)>> = Vec::with_capacity(records.len());
        for (i, hr) in records.into_iter().enumerate() {
            let key = hr.client_key.clone();
            let result = match self.prepare(call, hr).await {
                // The registry or the database failed: the client retries the message.
                Err(e) if !e.is_refusal() => return Err(e),
                r => r,
            };
            prepared.push((i, key, result));
        }

        let call = call.clone();
        let rules = self.rules.clone();
        let today = (self.clock)();
        let rows = self
            .feed
            .write(&self.db, move |conn, changes| {
                let mut answers: Vec<Item<RecordRow>> = Vec::with_capacity(prepared.len());
                let mut touched: BTreeMap<(String, i32), Who> = BTreeMap::new();
                for (i, key, p) in prepared {
                    let answer = match p {
                        Ok((row, who)) => {
                            // A savepoint per record: one refusal does not undo the others.
                            let mark = changes.mark();
                            let saved = conn.transaction(|c| save(c, changes, &call, row));
                            if saved.is_err() {
                                changes.rollback(mark);
                            }
                            if let Ok((row, true)) = &saved
                                && row.state == RecordState::Confirmed as i32
                            {
                                touched.insert((row.engineer_id.clone(), row.year), who);
                            }
                            saved.map(|(row, _)| row)
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &answer {
                        audit::append(conn, &call.audit("hourRecords", e.code_name()))?;
                    }
                    answers.push((i, key, answer));
                }
                for ((_, year), who) in &touched {
                    status::recompute(conn, changes, &rules, who, *year, today)?;
                }
                // Re-read so accepted records carry their explanations.
                let mut out = Vec::with_capacity(answers.len());
                for (i, key, a) in answers {
                    let a = match a {
                        Ok(row) => Ok(crate::store::get_record(conn, &row.id)?.unwrap_or(row)),
                        Err(e) => Err(e),
                    };
                    out.push((i, key, a));
                }
                Ok(out)
            })
            .await?;
        let mut results = Vec::with_capacity(rows.len());
        for (i, key, a) in rows {
            results.push(match a {
                Ok(row) => BulkUploadResult {
                    index: i as i32,
                    client_key: key,
                    hour_record: Some(to_proto(row)?),
                    refusal: None,
                },
                Err(e) => BulkUploadResult {
                    index: i as i32,
                    client_key: key,
                    hour_record: None,
                    refusal: Some(refusal(&e)),
                },
            });
        }
        Ok(BulkUploadHourRecordsResponse { results })
    }
}
