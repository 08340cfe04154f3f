//! Supervision's side of the outbox (`ce_server::outbox`): what its effects
//! are and how they reach the registry and crediting. The registry's
//! standing change is idempotent on its `request_id` (the effect's id);
//! revoking a revoked record changes nothing in crediting.

use std::future::Future;
use std::pin::Pin;

use ce_proto::crediting::RevokeHourRecordsRequest;
use ce_proto::registry::ChangeInstitutionStandingRequest;
use ce_server::outbox::Deliver;
use prost::Message;

use crate::peers::Clients;

pub const CHANGE_STANDING: &str = "registry.ChangeInstitutionStanding";
pub const REVOKE_HOURS: &str = "crediting.RevokeHourRecords";

impl Deliver for Clients {
    fn deliver<'a>(
        &'a self,
        method: &'a str,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let status = match method {
                CHANGE_STANDING => {
                    let req = ChangeInstitutionStandingRequest::decode(payload)
                        .map_err(|e| e.to_string())?;
                    self.registry
                        .clone()
                        .change_institution_standing(req)
                        .await
                        .map(|_| ())
                }
                REVOKE_HOURS => {
                    let req =
                        RevokeHourRecordsRequest::decode(payload).map_err(|e| e.to_string())?;
                    self.crediting
                        .clone()
                        .revoke_hour_records(req)
                        .await
                        .map(|_| ())
                }
                other => return Err(format!("unknown effect {other}")),
            };
            status.map_err(|s| format!("{:?}: {}", s.code(), s.message()))
        })
    }
}
