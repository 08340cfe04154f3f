//! The baseline server: tonic with nothing else, answering
//! `CreditingService/GetAnnualStatus` with one fixed message, so the same
//! generated client calls it exactly as it calls crediting.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ce_proto::crediting::{AnnualStatus, GetAnnualStatusRequest};
use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};

#[derive(Clone)]
struct Bare(Arc<AnnualStatus>);

struct Get(Arc<AnnualStatus>);

impl UnaryService<GetAnnualStatusRequest> for Get {
    type Response = AnnualStatus;
    type Future = std::future::Ready<Result<tonic::Response<AnnualStatus>, tonic::Status>>;

    fn call(&mut self, _req: tonic::Request<GetAnnualStatusRequest>) -> Self::Future {
        std::future::ready(Ok(tonic::Response::new((*self.0).clone())))
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl tower::Service<http::Request<Body>> for Bare {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Answer {
        let fixed = self.0.clone();
        Box::pin(async move {
            if req.uri().path() == "/ce.crediting.v1.CreditingService/GetAnnualStatus" {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::<
                    AnnualStatus,
                    GetAnnualStatusRequest,
                >::default());
                Ok(grpc.unary(Get(fixed), req).await)
            } else {
                Ok(tonic::Status::unimplemented("only GetAnnualStatus").into_http())
            }
        })
    }
}

impl NamedService for Bare {
    const NAME: &'static str = "ce.crediting.v1.CreditingService";
}

/// Serves `fixed` on 127.0.0.1 until the process ends; returns the address.
pub async fn start(fixed: AnnualStatus) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(Bare(Arc::new(fixed)))
            // TCP_NODELAY, as tonic's own `serve` and the suite's servers set
            // it: without it small answers wait on delayed ACKs.
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            ),
    );
    addr
}
