//! What crediting asks supervision (over gRPC, as the crediting service):
//! whether the case a revocation names decided it (Art. 27).

use ce_rules::article::ART_27;
use ce_rules::revocation::{self, Refusal};
use std::sync::Arc;

use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::supervision::{DecisionKind, GetViolationRequest, ViolationState};
use ce_server::ApiError;
use ce_server::peer::{PeerAuth, Peers};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Client = SupervisionServiceClient<InterceptedService<Channel, PeerAuth>>;

/// Supervision, as crediting sees it.
pub struct Supervision {
    client: Client,
}

impl std::fmt::Debug for Supervision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Supervision")
    }
}

impl Supervision {
    pub fn new(peers: &Arc<Peers>) -> Result<Supervision, ce_server::peer::PeerError> {
        Ok(Supervision {
            client: SupervisionServiceClient::new(peers.intercepted("supervision")?),
        })
    }

    /// Checks that `case` (`violations/{id}`) is a violation supervision
    /// decided by revocation, naming every record of `names` (Art. 27):
    /// a service revokes hours only for its own decided case.
    pub async fn check_revocation(&self, case: &str, names: &[String]) -> Result<(), ApiError> {
        let case = case.trim();
        if !case.starts_with("violations/") {
            return Err(ApiError::invalid(
                "case_reference",
                format!(
                    "a service revokes hours only for the supervision case that decided it: `violations/{{id}}` ({ART_27})"
                ),
            ));
        }
        let violation = match self
            .client
            .clone()
            .get_violation(GetViolationRequest {
                name: case.to_owned(),
            })
            .await
        {
            Ok(v) => v.into_inner(),
            Err(s) if s.code() == Code::NotFound => {
                return Err(ApiError::denied(
                    ce_server::reason::Reason::RevocationWithoutDecidedCase,
                    case,
                    format!(
                        "{case} is not a case supervision knows: no revocation without a decided case ({ART_27})"
                    ),
                ));
            }
            Err(s) => {
                return Err(ApiError::Unavailable(format!(
                    "supervision did not answer about {case} ({:?}): {}",
                    s.code(),
                    s.message()
                )));
            }
        };
        let decided_by_revocation = matches!(
            ViolationState::try_from(violation.state),
            Ok(ViolationState::Decided | ViolationState::Closed)
        ) && violation
            .decision
            .as_ref()
            .is_some_and(|d| d.kind() == DecisionKind::Revocation);
        let decided = revocation::Case {
            decided_by_revocation,
            records: &violation.hour_records,
        };
        match revocation::covers(decided, names) {
            Ok(()) => {}
            Err(Refusal::NotDecided) => {
                return Err(ApiError::denied(
                    ce_server::reason::Reason::RevocationWithoutDecidedCase,
                    case,
                    format!(
                        "{case} has not been decided by revocation: hours are revoked only by a decided case ({ART_27})"
                    ),
                ));
            }
            Err(Refusal::NotNamed(other)) => {
                return Err(ApiError::denied(
                    ce_server::reason::Reason::RevocationWithoutDecidedCase,
                    case,
                    format!(
                        "{case} does not name {other}: a decided case revokes only the records it names ({ART_27})"
                    ),
                ));
            }
        }
        Ok(())
    }
}
