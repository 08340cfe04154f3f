//! What supervision asks of, and sends to, the registry and crediting, as the
//! supervision service.

use std::sync::Arc;

use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::{GetHourRecordRequest, HourRecord};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{
    Employer, Engineer, GetEmployerRequest, GetEngineerRequest, GetInstitutionRequest, Institution,
};
use ce_server::ApiError;
use ce_server::peer::{PeerAuth, PeerError, Peers};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Intercepted = InterceptedService<Channel, PeerAuth>;

/// The clients of the services supervision acts on.
#[derive(Clone)]
pub struct Clients {
    pub registry: RegistryServiceClient<Intercepted>,
    pub crediting: CreditingServiceClient<Intercepted>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clients")
    }
}

/// A peer's refusal of something named in the request, or its absence.
fn answer(peer: &str, field: &str, name: &str, e: tonic::Status) -> ApiError {
    match e.code() {
        Code::NotFound | Code::InvalidArgument => {
            ApiError::invalid(field, format!("{name} does not exist in the {peer}"))
        }
        Code::PermissionDenied => ApiError::Internal(format!(
            "the {peer} refused the supervision service: {}",
            e.message()
        )),
        _ => ApiError::Unavailable(format!(
            "the {peer} did not answer ({:?}): {}",
            e.code(),
            e.message()
        )),
    }
}

impl Clients {
    pub fn new(peers: &Arc<Peers>) -> Result<Clients, PeerError> {
        Ok(Clients {
            registry: RegistryServiceClient::new(peers.intercepted("registry")?),
            crediting: CreditingServiceClient::new(peers.intercepted("crediting")?),
        })
    }

    pub async fn institution(&self, field: &str, name: &str) -> Result<Institution, ApiError> {
        self.registry
            .clone()
            .get_institution(GetInstitutionRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| answer("registry", field, name, e))
    }

    pub async fn engineer(&self, field: &str, name: &str) -> Result<Engineer, ApiError> {
        self.registry
            .clone()
            .get_engineer(GetEngineerRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| answer("registry", field, name, e))
    }

    pub async fn employer(&self, field: &str, name: &str) -> Result<Employer, ApiError> {
        self.registry
            .clone()
            .get_employer(GetEmployerRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| answer("registry", field, name, e))
    }

    pub async fn hour_record(&self, field: &str, name: &str) -> Result<HourRecord, ApiError> {
        self.crediting
            .clone()
            .get_hour_record(GetHourRecordRequest { name: name.into() })
            .await
            .map(tonic::Response::into_inner)
            .map_err(|e| answer("crediting service", field, name, e))
    }
}
