//! The gRPC face of supervision: read the call, hand the message to the
//! domain, map the answer. Refused mutations are audited here.

use ce_proto::supervision::supervision_service_server::SupervisionService;
use ce_proto::supervision::*;
use ce_server::call::{reply, reply_to_mutation};
use ce_server::{ApiError, Call};
use tonic::{Request, Response, Status};

use crate::violations::Supervision;

/// The supervision service.
#[derive(Clone, Debug)]
pub struct SupervisionApi {
    inner: Supervision,
}

impl SupervisionApi {
    pub fn new(inner: Supervision) -> SupervisionApi {
        SupervisionApi { inner }
    }
}

#[tonic::async_trait]
impl SupervisionService for SupervisionApi {
    async fn create_violation(
        &self,
        req: Request<CreateViolationRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = match r.violation {
            Some(v) => self.inner.create(&call, v, r.request_id).await,
            None => Err(ApiError::invalid("violation", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, "violations", result).await
    }

    async fn get_violation(
        &self,
        req: Request<GetViolationRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.get(&call, &req.into_inner().name).await)
    }

    async fn list_violations(
        &self,
        req: Request<ListViolationsRequest>,
    ) -> Result<Response<ListViolationsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list(&call, req.into_inner()).await)
    }

    async fn decide_violation(
        &self,
        req: Request<DecideViolationRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.decide(&call, &r.name, r.decision).await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn close_violation(
        &self,
        req: Request<CloseViolationRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.close(&call, &r.name, r.closure, &r.reason).await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn list_notifications(
        &self,
        req: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list_notifications(&call, req.into_inner()).await)
    }

    async fn acknowledge_notification(
        &self,
        req: Request<AcknowledgeNotificationRequest>,
    ) -> Result<Response<Notification>, Status> {
        let call = Call::from_request(&req)?;
        let name = req.into_inner().name;
        let result = self.inner.acknowledge(&call, &name).await;
        reply_to_mutation(&self.inner.db, &call, &name, result).await
    }

    async fn report_quality_result(
        &self,
        req: Request<ReportQualityResultRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r.institution.clone();
        let result = self.inner.report_quality(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn withdraw_quality_result(
        &self,
        req: Request<WithdrawQualityResultRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r.institution.clone();
        let result = self.inner.withdraw_quality(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn appeal_violation(
        &self,
        req: Request<AppealViolationRequest>,
    ) -> Result<Response<Violation>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.appeal(&call, &r.name, &r.text).await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn list_violation_audit_entries(
        &self,
        req: Request<ListViolationAuditEntriesRequest>,
    ) -> Result<Response<ListViolationAuditEntriesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.audit_trail(&call, &req.into_inner().name).await)
    }

    async fn create_inspection(
        &self,
        req: Request<CreateInspectionRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        let result = match req.into_inner().inspection {
            Some(i) => self.inner.create_inspection(&call, i).await,
            None => Err(ApiError::invalid("inspection", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, "inspections", result).await
    }

    async fn get_inspection(
        &self,
        req: Request<GetInspectionRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            self.inner
                .get_inspection(&call, &req.into_inner().name)
                .await,
        )
    }

    async fn list_inspections(
        &self,
        req: Request<ListInspectionsRequest>,
    ) -> Result<Response<ListInspectionsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list_inspections(&call, req.into_inner()).await)
    }

    async fn draw_inspection_sample(
        &self,
        req: Request<DrawInspectionSampleRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r.name.clone();
        let result = self.inner.draw_sample(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &name, result).await
    }

    async fn commit_inspection_draw(
        &self,
        req: Request<CommitInspectionDrawRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let name = r.name.clone();
        let result = self.inner.commit_draw(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &name, result).await
    }

    async fn verify_inspection_draw(
        &self,
        req: Request<VerifyInspectionDrawRequest>,
    ) -> Result<Response<VerifyInspectionDrawResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.verify_draw(&call, req.into_inner()).await)
    }

    async fn record_inspection_finding(
        &self,
        req: Request<RecordInspectionFindingRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.record_finding(&call, &r.name, r.finding).await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn publish_inspection(
        &self,
        req: Request<PublishInspectionRequest>,
    ) -> Result<Response<Inspection>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self
            .inner
            .publish_inspection(&call, &r.name, &r.outcome)
            .await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn create_referral(
        &self,
        req: Request<CreateReferralRequest>,
    ) -> Result<Response<Referral>, Status> {
        let call = Call::from_request(&req)?;
        let result = match req.into_inner().referral {
            Some(r) => self.inner.create_referral(&call, r).await,
            None => Err(ApiError::invalid("referral", "is required")),
        };
        reply_to_mutation(&self.inner.db, &call, "referrals", result).await
    }

    async fn resolve_referral(
        &self,
        req: Request<ResolveReferralRequest>,
    ) -> Result<Response<Referral>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self
            .inner
            .resolve_referral(&call, &r.name, &r.outcome)
            .await;
        reply_to_mutation(&self.inner.db, &call, &r.name, result).await
    }

    async fn list_referrals(
        &self,
        req: Request<ListReferralsRequest>,
    ) -> Result<Response<ListReferralsResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list_referrals(&call, req.into_inner()).await)
    }

    async fn get_institution_record(
        &self,
        req: Request<GetInstitutionRecordRequest>,
    ) -> Result<Response<InstitutionRecord>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            self.inner
                .institution_record(&call, &req.into_inner().name)
                .await,
        )
    }

    async fn get_outbox_status(
        &self,
        req: Request<GetOutboxStatusRequest>,
    ) -> Result<Response<OutboxStatus>, Status> {
        let call = Call::from_request(&req)?;
        let result = ce_server::outbox::status_for(&self.inner.db, &call.caller)
            .await
            .map(|s| OutboxStatus {
                pending: s.pending,
                delivered: s.delivered,
                oldest_pending_age_seconds: s.oldest_pending_age_seconds,
                oldest_last_error: s.oldest_last_error,
            });
        reply(result)
    }
}
