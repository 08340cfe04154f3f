//! Crediting's calls as the tests make them, each unwrapping its answer: a
//! record created, confirmed and read, a year's status read. A test that
//! expects a refusal builds the request itself and calls the client.

use ce_proto::crediting::{
    AnnualStatus, ConfirmHourRecordRequest, CorrectHourRecordRequest, CreateHourRecordRequest,
    GetAnnualStatusRequest, GetHourRecordRequest, HourRecord,
};

use crate::{Crediting, answer};

/// The request that creates `record`.
pub fn creating(record: HourRecord) -> CreateHourRecordRequest {
    CreateHourRecordRequest {
        hour_record: Some(record),
    }
}

/// Creates `record` through `client`; the record as stored.
pub async fn record(client: &mut Crediting, record: HourRecord) -> HourRecord {
    answer(client.create_hour_record(creating(record))).await
}

/// Confirms record `name` through `client`; the record confirmed.
pub async fn confirm(client: &mut Crediting, name: &str) -> HourRecord {
    answer(client.confirm_hour_record(ConfirmHourRecordRequest { name: name.into() })).await
}

/// Reads record `name` through `client`.
pub async fn get(client: &mut Crediting, name: &str) -> HourRecord {
    answer(client.get_hour_record(GetHourRecordRequest { name: name.into() })).await
}

/// The name of `engineer`'s status for `year`.
pub fn status_name(engineer: &str, year: i32) -> String {
    format!("{engineer}/annualStatuses/{year}")
}

/// `engineer`'s status for `year`, as `client` reads it.
pub async fn year(client: &mut Crediting, engineer: &str, year: i32) -> AnnualStatus {
    answer(client.get_annual_status(GetAnnualStatusRequest {
        name: status_name(engineer, year),
    }))
    .await
}

/// Asks `client` to create `record`, which it refuses; the refusal.
pub async fn refused(client: &mut Crediting, record: HourRecord) -> tonic::Status {
    client
        .create_hour_record(creating(record))
        .await
        .unwrap_err()
}

/// Corrects record `name` to `record` through `client`; the correction.
pub async fn correct(client: &mut Crediting, name: &str, record: HourRecord) -> HourRecord {
    answer(client.correct_hour_record(CorrectHourRecordRequest {
        name: name.into(),
        hour_record: Some(record),
    }))
    .await
}
