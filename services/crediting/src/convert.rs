//! Conversions between crediting's stored rows, the rules library's types
//! and the wire's: a record, a deferral, a certificate and a year, each
//! one way, in one place. Activities on the wire and in the rules library
//! are converted in [`crate::activity`].

use ce_proto::crediting::{
    AnnualState, AnnualStatus, Deferral, HourCertificate, HourRecord, RecordExplanation,
    RecordState,
};
use ce_rules::{Assessment, DeemedReason, Status};
use ce_server::{ApiError, dates};
use prost::Message;

use crate::activity;
use crate::certificates::HOUR_CERTIFICATES;
use crate::names;
use crate::status::Who;
use crate::store::certificates::CertificateRow;
use crate::store::{DeferralRow, RecordRow, StatusRow};

/// A stored record as the wire has it.
pub fn record_to_proto(row: RecordRow) -> Result<HourRecord, ApiError> {
    let stored = HourRecord::decode(row.activity.as_slice())
        .map_err(|e| ApiError::Internal(format!("record {} does not decode: {e}", row.id)))?;
    let explanation = match &row.explanation {
        Some(bytes) => Some(
            ce_proto::crediting::Explanation::decode(bytes.as_slice())
                .map_err(|e| ApiError::Internal(format!("explanation does not decode: {e}")))?,
        ),
        None => None,
    };
    Ok(HourRecord {
        name: names::record_name(&row.id),
        engineer: names::engineer_name(&row.engineer_id),
        activity: stored.activity,
        registry_activity: row.registry_activity,
        claimed_hours: row.claimed_centi.map_or(0.0, |c| c as f64 / 100.0),
        state: row.state,
        route: row.route,
        year: row.year,
        province: row.province,
        submitted_by: row.submitted_by,
        submitted_by_role: ce_server::auth::parse_role(&row.submitted_role).map_or(0, |r| r as i32),
        decided_by: row.decided_by.unwrap_or_default(),
        decision_reason: row.decision_reason.unwrap_or_default(),
        client_key: row.client_key.unwrap_or_default(),
        make_up_for_year: row.make_up_for.unwrap_or(0),
        supersedes: row
            .supersedes
            .as_deref()
            .map(names::record_name)
            .unwrap_or_default(),
        explanation,
        institution: row
            .institution_id
            .as_deref()
            .map(|i| format!("institutions/{i}"))
            .unwrap_or_default(),
        last_year: row.last_year.max(row.year),
        create_time: Some(dates::timestamp(row.create_micros)),
        update_time: Some(dates::timestamp(row.update_micros)),
    })
}

/// Of a stored `HourRecord`, only its activity (the oneof's tags as in
/// `HourRecord`): what the rules read. Decoding the rest, names and
/// decisions, was most of the cost of translating a stored record, and a
/// reassessment translates a million.
#[derive(Clone, PartialEq, prost::Message)]
struct StoredActivity {
    #[prost(
        oneof = "ce_proto::crediting::hour_record::Activity",
        tags = "3, 4, 5, 6, 7"
    )]
    activity: Option<ce_proto::crediting::hour_record::Activity>,
}

/// The rules library's record for a stored row. Reads only the columns
/// `store::records_for_rules_of` loads: keep the two in step.
pub fn rules_record(row: &RecordRow) -> Result<ce_rules::Record, ApiError> {
    let stored = StoredActivity::decode(row.activity.as_slice())
        .map_err(|e| ApiError::Internal(format!("record {} does not decode: {e}", row.id)))?;
    let mut activity = activity::from_proto(stored.activity.as_ref())
        .map_err(|e| ApiError::Internal(format!("record {} no longer reads: {e}", row.id)))?;
    // Where the course was held, for the two-places-on-one-day signal
    // (Art. 27): the uploading institution, else the organiser's activity.
    if let ce_rules::Activity::FaceToFace { provider, .. } = &mut activity {
        *provider = Some(
            row.institution_id
                .as_ref()
                .map(|i| format!("institutions/{i}"))
                .unwrap_or_else(|| row.registry_activity.clone()),
        );
    }
    Ok(ce_rules::Record {
        id: row.id.clone(),
        activity,
        claimed: row.claimed_centi.map(|c| c as f64 / 100.0),
        revoked: row.is(RecordState::Revoked),
        make_up_for: row.make_up_for,
        contested: Vec::new(),
    })
}

/// A certified deferral as the wire has it.
pub fn deferral_to_proto(row: DeferralRow) -> Deferral {
    Deferral {
        name: format!("engineers/{}/deferrals/{}", row.engineer_id, row.year),
        engineer: names::engineer_name(&row.engineer_id),
        year: row.year,
        reason: row.reason,
        explanation: row.explanation,
        certified_by: row.certified_by,
        create_time: Some(dates::timestamp(row.create_micros)),
    }
}

/// An issued certificate as the wire has it.
pub fn certificate_to_proto(row: CertificateRow) -> HourCertificate {
    HourCertificate {
        name: format!("{HOUR_CERTIFICATES}/{}", row.id),
        engineer: names::engineer_name(&row.engineer_id),
        year: row.year,
        credential: row.credential,
        create_time: Some(dates::timestamp(row.create_micros)),
        revoke_time: row.revoke_micros.map(dates::timestamp),
        revocation_reason: row.revocation_reason.unwrap_or_default(),
    }
}

/// The wire's state for the rules' status, and why a year is deemed
/// complete.
pub fn annual_state(s: Status) -> (AnnualState, String) {
    match s {
        Status::InProgress => (AnnualState::InProgress, String::new()),
        Status::Compliant => (AnnualState::Compliant, String::new()),
        Status::DeemedComplete(r) => {
            let why = match r {
                DeemedReason::Degree => "a degree earned after starting work",
                DeemedReason::Qualification => "a professional qualification certificate obtained",
                DeemedReason::AidAssignment(_) => "an aid assignment during the year",
            };
            (
                AnnualState::DeemedComplete,
                format!("{why} ({})", r.article()),
            )
        }
        Status::Deferred => (AnnualState::Deferred, String::new()),
        Status::MadeUp => (AnnualState::MadeUp, String::new()),
        Status::NonCompliant => (AnnualState::NonCompliant, String::new()),
    }
}

/// An assessed year as the wire has it, for `who` where they are now.
pub fn status_to_proto(
    who: &Who,
    a: &Assessment,
    explanations: Vec<RecordExplanation>,
    at: i64,
) -> AnnualStatus {
    let (st, deemed_reason) = annual_state(a.status);
    AnnualStatus {
        name: names::status_name(&who.engineer_id, a.year),
        engineer: names::engineer_name(&who.engineer_id),
        year: a.year,
        state: st as i32,
        deemed_reason,
        total_hours: a.totals.total.as_f64(),
        public_hours: a.totals.public.as_f64(),
        professional_hours: a.totals.professional.as_f64(),
        converted_hours: a.totals.converted.as_f64(),
        shortfall_total_hours: a.shortfall.total.as_f64(),
        shortfall_professional_hours: a.shortfall.professional.as_f64(),
        shortfall_public_hours: a.shortfall.public.as_f64(),
        rule_set: a.rule_set.clone(),
        province: who.province.clone(),
        explanations,
        signals: a.signals.iter().map(ToString::to_string).collect(),
        update_time: Some(dates::timestamp(at)),
        complete: a.status.is_complete(),
        registration_close_date: Some(dates::to_proto(a.registration_closes)),
    }
}

/// A year's status as stored: its body, the `AnnualStatus` without the
/// fields a close changes (state, whether complete, when written), which
/// is written only when it changes; and its verdict, those fields encoded
/// to be appended to the body on every read (see docs/performance.md,
/// "Statuses: a verdict and a body").
pub fn status_body(status: &AnnualStatus) -> Vec<u8> {
    AnnualStatus {
        state: 0,
        complete: false,
        update_time: None,
        ..status.clone()
    }
    .encode_to_vec()
}

/// The verdict's fields of a year (its state, whether the rules count it
/// complete, when it was written), encoded each explicitly, zero values
/// too: appended to any body (a status stored before bodies were kept
/// apart holds these fields too), protobuf's last-value rule makes them
/// stand, sub-fields of the time included.
pub fn status_verdict(state: AnnualState, complete: bool, update_micros: i64) -> Vec<u8> {
    use prost::encoding::{WireType, encode_key, encode_varint};
    let time = dates::timestamp(update_micros);
    let mut time_bytes = Vec::with_capacity(16);
    prost::encoding::int64::encode(1, &time.seconds, &mut time_bytes);
    prost::encoding::int32::encode(2, &time.nanos, &mut time_bytes);
    let mut out = Vec::with_capacity(32);
    prost::encoding::int32::encode(4, &(state as i32), &mut out);
    encode_key(17, WireType::LengthDelimited, &mut out);
    encode_varint(time_bytes.len() as u64, &mut out);
    out.extend_from_slice(&time_bytes);
    prost::encoding::bool::encode(18, &complete, &mut out);
    out
}

/// A stored year: the encoding of its `AnnualStatus`.
pub fn decode_status(row: &StatusRow) -> Result<AnnualStatus, ApiError> {
    AnnualStatus::decode(row.status.as_slice())
        .map_err(|e| ApiError::Internal(format!("status does not decode: {e}")))
}
