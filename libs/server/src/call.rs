//! What a handler knows about the call it serves: the verified caller and
//! the request context, and how to turn them into an audit row.

use ce_db::audit::AuditEntry;
use tonic::Status;

use crate::auth::Caller;
use crate::context::RequestContext;

/// The caller and context of one call, taken from the request's extensions.
#[derive(Debug, Clone)]
pub struct Call {
    pub caller: Caller,
    pub context: RequestContext,
    /// The largest response this call may send (`server.max_message_bytes`),
    /// which List answers cut their pages to.
    pub max_message_bytes: usize,
}

impl Call {
    /// Reads what the stack's layers put into the request. A request that did
    /// not pass through [`crate::auth::AuthLayer`] has no caller and is
    /// refused as UNAUTHENTICATED.
    pub fn from_request<T>(req: &tonic::Request<T>) -> Result<Call, Status> {
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no verified caller"))?;
        let context = req
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(|| RequestContext {
                request_id: uuid::Uuid::new_v4().to_string(),
                rpc: String::new(),
            });
        let max_message_bytes = req
            .extensions()
            .get::<crate::paging::MaxMessageBytes>()
            .map_or(crate::paging::DEFAULT_MAX_MESSAGE_BYTES, |m| m.0);
        Ok(Call {
            caller,
            context,
            max_message_bytes,
        })
    }

    /// An audit row for this call about `resource`, with `outcome` (`OK` or a
    /// gRPC code name).
    pub fn audit(&self, resource: &str, outcome: &str) -> AuditEntry {
        audit_entry(&self.caller, &self.context, resource, outcome)
    }
}

/// An audit row for a call by `caller` in `context` about `resource`, with
/// `outcome`: what [`Call::audit`] writes, for refusals made in the stack
/// before a handler has a [`Call`].
pub fn audit_entry(
    caller: &Caller,
    context: &RequestContext,
    resource: &str,
    outcome: &str,
) -> AuditEntry {
    AuditEntry {
        at_micros: now_micros(),
        actor: caller.subject.clone(),
        role: caller.role_name().to_owned(),
        province: caller.province.clone(),
        rpc: context.method().to_owned(),
        resource: resource.to_owned(),
        request_id: context.request_id.clone(),
        outcome: outcome.to_owned(),
    }
}

/// Answers a query: the value, or its error as a status.
pub fn reply<T>(result: Result<T, crate::ApiError>) -> Result<tonic::Response<T>, Status> {
    result.map(tonic::Response::new).map_err(Status::from)
}

/// Answers a mutation, first appending a refusal (a caller's mistake, not a
/// fault of ours) to the audit log in its own transaction. Applied
/// mutations audit themselves inside their own transaction.
pub async fn reply_to_mutation<T>(
    db: &ce_db::Db,
    call: &Call,
    resource: &str,
    result: Result<T, crate::ApiError>,
) -> Result<tonic::Response<T>, Status> {
    if let Err(e) = &result
        && e.is_refusal()
    {
        let entry = call.audit(resource, e.code_name());
        if let Err(audit_err) = db
            .write(move |conn| ce_db::audit::append(conn, &entry))
            .await
        {
            tracing::error!(error = %audit_err, "could not audit a refused mutation");
        }
    }
    reply(result)
}

/// Microseconds since the Unix epoch, the suite's stored time unit.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
