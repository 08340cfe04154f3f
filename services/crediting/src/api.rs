//! The gRPC face of crediting: read the call, hand the message to the
//! domain, map the answer. Refused mutations are audited here.

use ce_proto::crediting::crediting_service_server::{CreditingService, CreditingServiceServer};
use ce_proto::crediting::*;
use ce_server::call::{reply, reply_to_mutation};
use ce_server::{ApiError, Call};
use tonic::{Request, Response, Status};

use crate::records::Crediting;
use crate::{feed, status};

/// The crediting service.
#[derive(Clone)]
pub struct CreditingApi {
    inner: Crediting,
    /// How long a bulk upload may send nothing before it is ended.
    stream_idle: std::time::Duration,
}

impl CreditingApi {
    pub fn new(inner: Crediting, stream_idle: std::time::Duration) -> CreditingApi {
        CreditingApi { inner, stream_idle }
    }
}

type BulkStream = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<BulkUploadHourRecordsResponse, Status>> + Send>,
>;

type ChangeStream =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Change, Status>> + Send>>;

type ReassessStream = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<ReassessAnnualStatusesResponse, Status>> + Send>,
>;

#[tonic::async_trait]
impl CreditingService for CreditingApi {
    type BulkUploadHourRecordsStream = BulkStream;
    type WatchChangesStream = ChangeStream;
    type ReassessAnnualStatusesStream = ReassessStream;

    async fn reassess_annual_statuses(
        &self,
        req: Request<ReassessAnnualStatusesRequest>,
    ) -> Result<Response<ReassessStream>, Status> {
        let call = Call::from_request(&req)?;
        let result = self.inner.reassess(&call, req.into_inner()).await;
        let rx = reply_to_mutation(&self.inner.db, &call, "annualStatuses", result)
            .await?
            .into_inner();
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
        )))
    }

    async fn sweep_annual_statuses(
        &self,
        req: Request<SweepAnnualStatusesRequest>,
    ) -> Result<Response<SweepAnnualStatusesResponse>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = format!("annualStatuses/{}", r.year);
        let result = self.inner.sweep(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn get_compliance_statistics(
        &self,
        req: Request<GetComplianceStatisticsRequest>,
    ) -> Result<Response<ComplianceStatistics>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.statistics(&call, req.into_inner()).await)
    }

    async fn create_hour_certificate(
        &self,
        req: Request<CreateHourCertificateRequest>,
    ) -> Result<Response<HourCertificate>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r.annual_status.clone();
        let result = self.inner.create_certificate(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn get_hour_certificate(
        &self,
        req: Request<GetHourCertificateRequest>,
    ) -> Result<Response<HourCertificate>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            self.inner
                .get_certificate(&call, &req.into_inner().name)
                .await,
        )
    }

    async fn verify_hour_certificate(
        &self,
        req: Request<VerifyHourCertificateRequest>,
    ) -> Result<Response<VerifyHourCertificateResponse>, Status> {
        // No token needed: anyone may check a certificate (the stack
        // limits how often one peer may ask without one).
        reply(
            self.inner
                .verify_certificate(&req.into_inner().credential)
                .await,
        )
    }

    async fn list_changes(
        &self,
        req: Request<ListChangesRequest>,
    ) -> Result<Response<ListChangesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(feed::list(&self.inner.db, &call, req.into_inner()).await)
    }

    async fn watch_changes(
        &self,
        req: Request<WatchChangesRequest>,
    ) -> Result<Response<ChangeStream>, Status> {
        let call = Call::from_request(&req)?;
        let rx = feed::watch(
            self.inner.db.clone(),
            self.inner.feed.clone(),
            &call,
            req.into_inner(),
        )?;
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn bulk_upload_hour_records(
        &self,
        req: Request<tonic::Streaming<BulkUploadHourRecordsRequest>>,
    ) -> Result<Response<BulkStream>, Status> {
        let call = Call::from_request(&req)?;
        let rx = crate::bulk::upload(self.inner.clone(), call, req.into_inner(), self.stream_idle);
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn create_hour_record(
        &self,
        req: Request<CreateHourRecordRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        let result = match req.into_inner().hour_record {
            Some(hr) => self.inner.create(&call, hr).await,
            None => Err(ApiError::invalid("hour_record", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, "hourRecords", result).await
    }

    async fn correct_hour_record(
        &self,
        req: Request<CorrectHourRecordRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = match r.hour_record {
            Some(hr) => self.inner.correct(&call, &r.name, hr).await,
            None => Err(ApiError::invalid("hour_record", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn get_hour_record(
        &self,
        req: Request<GetHourRecordRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.get(&call, &req.into_inner().name).await)
    }

    async fn list_hour_records(
        &self,
        req: Request<ListHourRecordsRequest>,
    ) -> Result<Response<ListHourRecordsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list(&call, req.into_inner()).await)
    }

    async fn confirm_hour_record(
        &self,
        req: Request<ConfirmHourRecordRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        let name = req.into_inner().name;
        let result = self.inner.decide(&call, &name, None).await;
        reply_to_mutation(&self.inner.db, &call, &name, result).await
    }

    async fn reject_hour_record(
        &self,
        req: Request<RejectHourRecordRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.decide(&call, &r.name, Some(r.reason)).await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn create_deferral(
        &self,
        req: Request<CreateDeferralRequest>,
    ) -> Result<Response<Deferral>, Status> {
        let call = Call::from_request(&req)?;
        let result = match req.into_inner().deferral {
            Some(d) => self.inner.create_deferral(&call, d).await,
            None => Err(ApiError::invalid("deferral", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, "deferrals", result).await
    }

    async fn designate_make_up(
        &self,
        req: Request<DesignateMakeUpRequest>,
    ) -> Result<Response<HourRecord>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r.name.clone();
        let result = self.inner.designate_make_up(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &name, result).await
    }

    async fn revoke_hour_records(
        &self,
        req: Request<RevokeHourRecordsRequest>,
    ) -> Result<Response<RevokeHourRecordsResponse>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| "hourRecords".into());
        let result = self
            .inner
            .revoke(&call, r)
            .await
            .map(|hour_records| RevokeHourRecordsResponse { hour_records });
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn check_title_eligibility(
        &self,
        req: Request<CheckTitleEligibilityRequest>,
    ) -> Result<Response<CheckTitleEligibilityResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.title_eligibility(&call, req.into_inner()).await)
    }

    /// What the generated server would answer; the served stack answers
    /// this path with the stored encoding instead ([`Served`]).
    async fn get_annual_status(
        &self,
        req: Request<GetAnnualStatusRequest>,
    ) -> Result<Response<AnnualStatus>, Status> {
        let call = Call::from_request(&req)?;
        reply(status::get(&self.inner, &call, &req.into_inner().name).await)
    }

    async fn list_annual_statuses(
        &self,
        req: Request<ListAnnualStatusesRequest>,
    ) -> Result<Response<ListAnnualStatusesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(status::list(&self.inner.db, &call, req.into_inner()).await)
    }
}

/// `GetAnnualStatus`'s path, which [`Served`] answers itself.
const GET_ANNUAL_STATUS: &str = "/ce.crediting.v1.CreditingService/GetAnnualStatus";

/// The crediting service as it is served: the generated server, except for
/// `GetAnnualStatus`. A stored year is already the encoding of the
/// `AnnualStatus` it answers, so that method sends the stored bytes as they
/// are, where the generated server would decode them into an
/// `AnnualStatus` only to encode it again. The answer on the wire is the
/// same; the two steps were about 8% of the bench process (client and
/// server together) in a read profile (`docs/performance.md`). Everything else about the call (the
/// layers around the service, the message size limits, the status codes)
/// is as the generated server has it.
#[derive(Clone)]
pub struct Served {
    generated: CreditingServiceServer<CreditingApi>,
    api: CreditingApi,
    max_message_bytes: usize,
}

impl Served {
    pub fn new(api: CreditingApi, max_message_bytes: usize) -> Served {
        Served {
            generated: CreditingServiceServer::new(api.clone())
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            api,
            max_message_bytes,
        }
    }
}

impl tonic::server::NamedService for Served {
    const NAME: &'static str =
        <CreditingServiceServer<CreditingApi> as tonic::server::NamedService>::NAME;
}

type Http = tonic::codegen::http::Request<tonic::body::Body>;
type HttpAnswer = tonic::codegen::http::Response<tonic::body::Body>;

impl tonic::codegen::Service<Http> for Served {
    type Response = HttpAnswer;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<HttpAnswer, std::convert::Infallible>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        tonic::codegen::Service::<Http>::poll_ready(&mut self.generated, cx)
    }

    fn call(&mut self, req: Http) -> Self::Future {
        if req.uri().path() != GET_ANNUAL_STATUS {
            return self.generated.call(req);
        }
        let method = StatusRoute(self.api.clone());
        let limit = Some(self.max_message_bytes);
        Box::pin(async move {
            let codec = tonic_prost::ProstCodec::<EncodedStatus, GetAnnualStatusRequest>::default();
            let mut grpc =
                tonic::server::Grpc::new(codec).apply_max_message_size_config(limit, limit);
            Ok(grpc.unary(method, req).await)
        })
    }
}

/// `GetAnnualStatus`, answered in the stored encoding.
struct StatusRoute(CreditingApi);

impl tonic::server::UnaryService<GetAnnualStatusRequest> for StatusRoute {
    type Response = EncodedStatus;
    type Future = tonic::codegen::BoxFuture<Response<EncodedStatus>, Status>;

    fn call(&mut self, req: Request<GetAnnualStatusRequest>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move {
            let call = Call::from_request(&req)?;
            let name = req.into_inner().name;
            reply(
                status::get_encoded(&api.inner, &call, &name)
                    .await
                    .map(EncodedStatus),
            )
        })
    }
}

/// An `AnnualStatus` in its wire encoding, sent as it is. Only ever
/// encoded: decoding into it keeps nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodedStatus(Vec<u8>);

impl prost::Message for EncodedStatus {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
