//! Every write RPC of every service, with requests decoded from arbitrary
//! bytes, sent by a real gRPC client to the four services running
//! in-process on SQLite, as one of several roles: the services never panic
//! and answer only with clean errors (a bad field, a missing resource, a
//! refusal), never INTERNAL or UNKNOWN. The client-streaming bulk upload
//! gets the bytes cut into several messages (a first byte of 0xF0 or more
//! picks it). `tests/tests/access/main.rs` checks that every write RPC in the
//! protos is listed here.

#![no_main]

use std::sync::OnceLock;

use ce_proto::common::{Field, Role};
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::quality::quality_service_client::QualityServiceClient;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::{crediting as cr, quality as q, registry as rg, supervision as sp};
use ce_server::auth::TokenRequest;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

struct Suite {
    runtime: tokio::runtime::Runtime,
    registry: Channel,
    crediting: Channel,
    supervision: Channel,
    quality: Channel,
    tokens: Vec<String>,
    _env: ce_tests::QualityEnv,
}

fn suite() -> &'static Suite {
    static SUITE: OnceLock<Suite> = OnceLock::new();
    SUITE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let env = runtime.block_on(ce_tests::QualityEnv::start(ce_tests::Backend::Sqlite));
        let place = &env.registry.place;
        let token = |role: Role, subject: &str| TokenRequest {
            subject: subject.into(),
            role: Some(role),
            ttl_secs: 24 * 3600,
            ..Default::default()
        };
        let tokens = vec![
            place.token(token(Role::Ministry, "ministry")),
            place.token(TokenRequest {
                province: Some("44".into()),
                ..token(Role::ProvincialHrss, "hrss-44")
            }),
            place.token(TokenRequest {
                field: Some(Field::Construction),
                ..token(Role::IndustryRegulator, "regulator")
            }),
            place.token(TokenRequest {
                org: Some("institutions/fuzz".into()),
                ..token(Role::Institution, "institution")
            }),
            place.token(TokenRequest {
                org: Some("employers/fuzz".into()),
                ..token(Role::Employer, "employer")
            }),
            place.token(token(Role::Engineer, "engineers/fuzz")),
            place.token(token(Role::Service, "crediting")),
        ];
        Suite {
            registry: env.registry.channel.clone(),
            crediting: runtime.block_on(env.crediting.channel()),
            supervision: env.supervision_channel.clone(),
            quality: env.channel.clone(),
            runtime,
            tokens,
            _env: env,
        }
    })
}

fn request<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// Decodes `bytes` as the method's request and calls it; `None` when the
/// bytes are not such a request.
macro_rules! methods {
    ($pick:expr, $bytes:expr, $token:expr, $s:expr, $( $client:ident($channel:ident) . $method:ident($ty:ty) ),+ $(,)?) => {{
        let all: &[&str] = &[$( stringify!($method) ),+];
        let pick = $pick % all.len();
        let mut i = 0;
        let mut out: Option<(&'static str, Result<(), tonic::Status>)> = None;
        $(
            if out.is_none() && i == pick {
                if let Ok(m) = <$ty>::decode($bytes) {
                    let mut c = $client::new($s.$channel.clone());
                    out = Some((stringify!($method), c.$method(request(m, $token)).await.map(|_| ())));
                }
                i = usize::MAX;
            }
            i = i.wrapping_add(1);
        )+
        let _ = i;
        out
    }};
}

/// The faults of a bulk upload of the messages `bytes` decodes to, cut at
/// each 0xFF byte: the call's, or the stream's that ended it.
async fn bulk_upload(s: &Suite, bytes: &[u8], token: &str) -> Option<tonic::Status> {
    let messages: Vec<cr::BulkUploadHourRecordsRequest> = bytes
        .split(|b| *b == 0xFF)
        .filter_map(|m| cr::BulkUploadHourRecordsRequest::decode(m).ok())
        .collect();
    let mut c = CreditingServiceClient::new(s.crediting.clone());
    let mut answers = match c
        .bulk_upload_hour_records(request(tokio_stream::iter(messages), token))
        .await
    {
        Ok(stream) => stream.into_inner(),
        Err(status) => return Some(status),
    };
    loop {
        match answers.message().await {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(status) => return Some(status),
        }
    }
}

fn assert_clean(method: &str, status: &tonic::Status) {
    assert!(
        !matches!(
            status.code(),
            Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented | Code::Cancelled
        ),
        "{method} answered {:?}: {}",
        status.code(),
        status.message()
    );
}

fuzz_target!(|data: &[u8]| {
    let [pick, role, bytes @ ..] = data else {
        return;
    };
    let s = suite();
    let token = &s.tokens[usize::from(*role) % s.tokens.len()];
    if *pick >= 0xF0 {
        if let Some(status) = s.runtime.block_on(bulk_upload(s, bytes, token)) {
            assert_clean("bulk_upload_hour_records", &status);
        }
        return;
    }
    let outcome = s.runtime.block_on(async {
        methods!(
            usize::from(*pick),
            bytes,
            token,
            s,
            RegistryServiceClient(registry).create_engineer(rg::CreateEngineerRequest),
            RegistryServiceClient(registry).update_engineer(rg::UpdateEngineerRequest),
            RegistryServiceClient(registry).create_employer(rg::CreateEmployerRequest),
            RegistryServiceClient(registry).update_employer(rg::UpdateEmployerRequest),
            RegistryServiceClient(registry).create_institution(rg::CreateInstitutionRequest),
            RegistryServiceClient(registry).update_institution(rg::UpdateInstitutionRequest),
            RegistryServiceClient(registry)
                .change_institution_standing(rg::ChangeInstitutionStandingRequest),
            RegistryServiceClient(registry).record_quality_grade(rg::RecordQualityGradeRequest),
            RegistryServiceClient(registry).create_activity(rg::CreateActivityRequest),
            RegistryServiceClient(registry).update_activity(rg::UpdateActivityRequest),
            CreditingServiceClient(crediting).create_hour_record(cr::CreateHourRecordRequest),
            CreditingServiceClient(crediting).correct_hour_record(cr::CorrectHourRecordRequest),
            CreditingServiceClient(crediting).confirm_hour_record(cr::ConfirmHourRecordRequest),
            CreditingServiceClient(crediting).reject_hour_record(cr::RejectHourRecordRequest),
            CreditingServiceClient(crediting).create_deferral(cr::CreateDeferralRequest),
            CreditingServiceClient(crediting).designate_make_up(cr::DesignateMakeUpRequest),
            CreditingServiceClient(crediting).revoke_hour_records(cr::RevokeHourRecordsRequest),
            CreditingServiceClient(crediting)
                .create_hour_certificate(cr::CreateHourCertificateRequest),
            CreditingServiceClient(crediting)
                .verify_hour_certificate(cr::VerifyHourCertificateRequest),
            CreditingServiceClient(crediting).sweep_annual_statuses(cr::SweepAnnualStatusesRequest),
            CreditingServiceClient(crediting)
                .reassess_annual_statuses(cr::ReassessAnnualStatusesRequest),
            SupervisionServiceClient(supervision).create_violation(sp::CreateViolationRequest),
            SupervisionServiceClient(supervision).decide_violation(sp::DecideViolationRequest),
            SupervisionServiceClient(supervision).close_violation(sp::CloseViolationRequest),
            SupervisionServiceClient(supervision).appeal_violation(sp::AppealViolationRequest),
            SupervisionServiceClient(supervision)
                .acknowledge_notification(sp::AcknowledgeNotificationRequest),
            SupervisionServiceClient(supervision)
                .report_quality_result(sp::ReportQualityResultRequest),
            SupervisionServiceClient(supervision)
                .withdraw_quality_result(sp::WithdrawQualityResultRequest),
            SupervisionServiceClient(supervision).create_inspection(sp::CreateInspectionRequest),
            SupervisionServiceClient(supervision)
                .commit_inspection_draw(sp::CommitInspectionDrawRequest),
            SupervisionServiceClient(supervision)
                .draw_inspection_sample(sp::DrawInspectionSampleRequest),
            SupervisionServiceClient(supervision)
                .record_inspection_finding(sp::RecordInspectionFindingRequest),
            SupervisionServiceClient(supervision).publish_inspection(sp::PublishInspectionRequest),
            SupervisionServiceClient(supervision).create_referral(sp::CreateReferralRequest),
            SupervisionServiceClient(supervision).resolve_referral(sp::ResolveReferralRequest),
            QualityServiceClient(quality).submit_evaluations(q::SubmitEvaluationsRequest),
            QualityServiceClient(quality).record_indicator(q::RecordIndicatorRequest),
            QualityServiceClient(quality).refresh_indicators(q::RefreshIndicatorsRequest),
            QualityServiceClient(quality).close_period(q::ClosePeriodRequest),
            QualityServiceClient(quality).reopen_period(q::ReopenPeriodRequest),
        )
    });
    if let Some((method, Err(status))) = outcome {
        assert_clean(method, &status);
    }
});
