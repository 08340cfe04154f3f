//! The services quality monitoring reads from and reports to, and the
//! outbox's delivery of its effects to them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ce_proto::crediting::HourRecord;
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{GetInstitutionRequest, Institution, RecordQualityGradeRequest};
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::supervision::{ReportQualityResultRequest, Violation, WithdrawQualityResultRequest};
use ce_server::outbox::Deliver;
use ce_server::peer::{PeerAuth, PeerError, Peers};
use ce_server::{ApiError, names};
use prost::Message;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Intercepted = InterceptedService<Channel, PeerAuth>;

pub const REPORT_POOR: &str = "supervision.ReportQualityResult";
pub const WITHDRAW_POOR: &str = "supervision.WithdrawQualityResult";
pub const RECORD_GRADE: &str = "registry.RecordQualityGrade";

/// The services quality monitoring reads from and reports to.
#[derive(Clone)]
pub struct Clients {
    pub registry: RegistryServiceClient<Intercepted>,
    pub supervision: SupervisionServiceClient<Intercepted>,
    pub crediting: CreditingServiceClient<Intercepted>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clients")
    }
}

impl Clients {
    pub fn new(peers: &Arc<Peers>) -> Result<Clients, PeerError> {
        Ok(Clients {
            registry: RegistryServiceClient::new(peers.intercepted("registry")?),
            supervision: SupervisionServiceClient::new(peers.intercepted("supervision")?),
            crediting: CreditingServiceClient::new(peers.intercepted("crediting")?),
        })
    }
}

impl Deliver for Clients {
    fn deliver<'a>(
        &'a self,
        method: &'a str,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            match method {
                REPORT_POOR => {
                    let req =
                        ReportQualityResultRequest::decode(payload).map_err(|e| e.to_string())?;
                    self.supervision
                        .clone()
                        .report_quality_result(req)
                        .await
                        .map(|_| ())
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
                WITHDRAW_POOR => {
                    let req =
                        WithdrawQualityResultRequest::decode(payload).map_err(|e| e.to_string())?;
                    match self.supervision.clone().withdraw_quality_result(req).await {
                        // No violation was raised: nothing to withdraw.
                        Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
                        r => r
                            .map(|_| ())
                            .map_err(|s| format!("{:?}: {}", s.code(), s.message())),
                    }
                }
                RECORD_GRADE => {
                    let req =
                        RecordQualityGradeRequest::decode(payload).map_err(|e| e.to_string())?;
                    self.registry
                        .clone()
                        .record_quality_grade(req)
                        .await
                        .map(|_| ())
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
                other => Err(format!("unknown effect {other}")),
            }
        })
    }
}

/// Rows asked for a page of a peer's list.
const PAGE: i32 = 1000;

fn unavailable(who: &str) -> impl Fn(tonic::Status) -> ApiError + '_ {
    move |e| ApiError::Unavailable(format!("{who} did not answer: {}", e.message()))
}

impl Clients {
    /// The registry's institution `name`; an institution it does not know
    /// is the caller's mistake.
    pub async fn institution(&self, name: &str) -> Result<Institution, ApiError> {
        names::parse("institution", "institutions", name)?;
        self.registry
            .clone()
            .get_institution(GetInstitutionRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| match e.code() {
                tonic::Code::NotFound | tonic::Code::InvalidArgument => ApiError::invalid(
                    "institution",
                    format!("{name} is not a registered institution"),
                ),
                _ => ApiError::Unavailable(format!("the registry did not answer: {}", e.message())),
            })
    }

    /// A page of the registry's institutions of `province` (empty: all),
    /// after `token`; the next page's token, empty after the last.
    pub async fn institutions_page(
        &self,
        province: &str,
        token: String,
    ) -> Result<(Vec<Institution>, String), ApiError> {
        let page = self
            .registry
            .clone()
            .list_institutions(ce_proto::registry::ListInstitutionsRequest {
                page_size: PAGE,
                page_token: token,
                province: province.to_owned(),
                ..Default::default()
            })
            .await
            .map_err(unavailable("the registry"))?
            .into_inner();
        Ok((page.institutions, page.next_page_token))
    }

    /// Supervision's violations against `institution` dated from `from` to
    /// `to`.
    pub async fn violations(
        &self,
        institution: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<Violation>, ApiError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .supervision
                .clone()
                .list_violations(ce_proto::supervision::ListViolationsRequest {
                    page_size: PAGE,
                    page_token: token,
                    institution: institution.to_owned(),
                    start_date: Some(ce_server::dates::to_proto(from)),
                    end_date: Some(ce_server::dates::to_proto(to)),
                    ..Default::default()
                })
                .await
                .map_err(unavailable("supervision"))?
                .into_inner();
            out.extend(page.violations);
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    /// Calls `each` with every page of crediting's hour records of `year`
    /// that `institution` uploaded (for `engineer` only, unless empty),
    /// until the pages end or `each` answers `true` (it has seen enough).
    pub async fn each_hour_record_page(
        &self,
        institution: &str,
        year: i32,
        engineer: &str,
        mut each: impl FnMut(Vec<HourRecord>) -> bool,
    ) -> Result<(), ApiError> {
        let mut token = String::new();
        loop {
            let page = self
                .crediting
                .clone()
                .list_hour_records(ce_proto::crediting::ListHourRecordsRequest {
                    page_size: PAGE,
                    page_token: token,
                    engineer: engineer.to_owned(),
                    year,
                    institution: institution.to_owned(),
                    ..Default::default()
                })
                .await
                .map_err(unavailable("crediting"))?
                .into_inner();
            let enough = each(page.hour_records);
            if page.next_page_token.is_empty() || enough {
                return Ok(());
            }
            token = page.next_page_token;
        }
    }
}
