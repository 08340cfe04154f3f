//! The gRPC face of quality monitoring. Refused mutations are audited here.

use ce_proto::quality::quality_service_server::QualityService;
use ce_proto::quality::*;
use ce_server::Call;
use ce_server::call::{reply, reply_to_mutation};
use tonic::{Request, Response, Status};

use crate::scores::Quality;

/// The quality-monitoring service.
#[derive(Clone, Debug)]
pub struct QualityApi {
    inner: Quality,
}

impl QualityApi {
    pub fn new(inner: Quality) -> QualityApi {
        QualityApi { inner }
    }
}

type ScoreStream =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Score, Status>> + Send>>;

#[tonic::async_trait]
impl QualityService for QualityApi {
    type WatchScoresStream = ScoreStream;

    async fn get_score_distribution(
        &self,
        req: Request<GetScoreDistributionRequest>,
    ) -> Result<Response<ScoreDistribution>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.distribution(&call, req.into_inner()).await)
    }

    async fn list_grade_changes(
        &self,
        req: Request<ListGradeChangesRequest>,
    ) -> Result<Response<ListGradeChangesResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.grade_changes(&call, req.into_inner()).await)
    }

    async fn watch_scores(
        &self,
        req: Request<WatchScoresRequest>,
    ) -> Result<Response<ScoreStream>, Status> {
        let call = Call::from_request(&req)?;
        let rx = self.inner.watch(&call, req.into_inner())?;
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn submit_evaluations(
        &self,
        req: Request<SubmitEvaluationsRequest>,
    ) -> Result<Response<SubmitEvaluationsResponse>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r.institution.clone();
        let result = self.inner.submit_evaluations(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn record_indicator(
        &self,
        req: Request<RecordIndicatorRequest>,
    ) -> Result<Response<Score>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = r.institution.clone();
        let result = self.inner.record_indicator(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn refresh_indicators(
        &self,
        req: Request<RefreshIndicatorsRequest>,
    ) -> Result<Response<Score>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let result = self.inner.refresh(&call, &r.institution, &r.period).await;
        reply_to_mutation(&self.inner.db, &call, &r.institution, result).await
    }

    async fn close_period(
        &self,
        req: Request<ClosePeriodRequest>,
    ) -> Result<Response<ClosePeriodResponse>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = format!("scores/{}", r.period);
        let result = self.inner.close_period(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn reopen_period(
        &self,
        req: Request<ReopenPeriodRequest>,
    ) -> Result<Response<ReopenPeriodResponse>, Status> {
        let call = Call::from_request(&req)?;
        let r = req.into_inner();
        let resource = format!("scores/{}", r.period);
        let result = self.inner.reopen_period(&call, r).await;
        reply_to_mutation(&self.inner.db, &call, &resource, result).await
    }

    async fn get_outbox_status(
        &self,
        req: Request<GetOutboxStatusRequest>,
    ) -> Result<Response<OutboxStatus>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.outbox_status(&call).await)
    }

    async fn get_score(&self, req: Request<GetScoreRequest>) -> Result<Response<Score>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.get_score(&call, &req.into_inner().name).await)
    }

    async fn list_scores(
        &self,
        req: Request<ListScoresRequest>,
    ) -> Result<Response<ListScoresResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(self.inner.list_scores(&call, req.into_inner()).await)
    }

    async fn list_score_history(
        &self,
        req: Request<ListScoreHistoryRequest>,
    ) -> Result<Response<ListScoreHistoryResponse>, Status> {
        let call = Call::from_request(&req)?;
        reply(
            self.inner
                .history(&call, &req.into_inner().institution)
                .await
                .map(|scores| ListScoreHistoryResponse { scores }),
        )
    }

    async fn get_scoring_model(
        &self,
        req: Request<GetScoringModelRequest>,
    ) -> Result<Response<ScoringModel>, Status> {
        let _call = Call::from_request(&req)?;
        Ok(Response::new(
            self.inner.scoring_model(&req.into_inner().province),
        ))
    }
}
