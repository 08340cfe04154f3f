//! Supervision's calls as the tests make them, each unwrapping its answer:
//! a case recorded, decided and closed, an inspection planned and drawn, a
//! list read, the outbox waited on. A test that expects a refusal builds
//! the request with the `…ing` function and calls the client itself.

use std::time::{Duration, Instant};

use ce_proto::common::Role;
use ce_proto::supervision::{
    CloseViolationRequest, ClosureKind, CreateInspectionRequest, CreateViolationRequest,
    DecideViolationRequest, Decision, DrawInspectionSampleRequest, GetOutboxStatusRequest,
    GetViolationRequest, Inspection, ListNotificationsRequest, ListViolationsRequest, Notification,
    OutboxStatus, Violation,
};

use crate::{Supervision, SupervisionEnv, answer, token};

/// A case against `inst` in `category`, described by the category's name.
pub fn case_of(inst: &str, category: ce_proto::supervision::ViolationCategory) -> Violation {
    Violation {
        institution: inst.to_owned(),
        category: category as i32,
        description: format!("{category:?}"),
        ..Default::default()
    }
}

/// The request that records `violation`, without a request id.
pub fn opening(violation: Violation) -> CreateViolationRequest {
    CreateViolationRequest {
        violation: Some(violation),
        ..Default::default()
    }
}

/// Records `violation` through `client`; the case as recorded.
pub async fn open(client: &mut Supervision, violation: Violation) -> Violation {
    answer(client.create_violation(opening(violation))).await
}

/// The request that decides case `name` by `decision`.
pub fn deciding(name: &str, decision: Decision) -> DecideViolationRequest {
    DecideViolationRequest {
        name: name.into(),
        decision: Some(decision),
    }
}

/// Decides case `name` by `decision` through `client`; the case decided.
pub async fn decide(client: &mut Supervision, name: &str, decision: Decision) -> Violation {
    answer(client.decide_violation(deciding(name, decision))).await
}

/// Closes case `name` as rectified, for `reason`; the case closed.
pub async fn close_rectified(client: &mut Supervision, name: &str, reason: &str) -> Violation {
    answer(client.close_violation(CloseViolationRequest {
        name: name.into(),
        closure: ClosureKind::Rectified as i32,
        reason: reason.into(),
    }))
    .await
}

/// Reads case `name` through `client`.
pub async fn get(client: &mut Supervision, name: &str) -> Violation {
    answer(client.get_violation(GetViolationRequest { name: name.into() })).await
}

/// The cases `client` lists for `req`.
pub async fn violations(client: &mut Supervision, req: ListViolationsRequest) -> Vec<Violation> {
    answer(client.list_violations(req)).await.violations
}

/// The notifications `client` lists for `req`.
pub async fn notifications(
    client: &mut Supervision,
    req: ListNotificationsRequest,
) -> Vec<Notification> {
    answer(client.list_notifications(req)).await.notifications
}

/// The request that plans `inspection`.
pub fn planning(inspection: Inspection) -> CreateInspectionRequest {
    CreateInspectionRequest {
        inspection: Some(inspection),
    }
}

/// Plans `inspection` through `client`; the plan as recorded.
pub async fn plan(client: &mut Supervision, inspection: Inspection) -> Inspection {
    answer(client.create_inspection(planning(inspection))).await
}

/// The request that draws `target_count` targets of inspection `name` and
/// `inspector_count` inspectors of `roster`, with no seed of the caller's.
pub fn drawing(
    name: &str,
    target_count: i32,
    roster: Vec<String>,
    inspector_count: i32,
) -> DrawInspectionSampleRequest {
    DrawInspectionSampleRequest {
        name: name.into(),
        target_count,
        roster,
        inspector_count,
        seed: 0,
    }
}

/// Draws inspection `name` by `req` through `client`; the inspection drawn.
pub async fn draw(client: &mut Supervision, req: DrawInspectionSampleRequest) -> Inspection {
    answer(client.draw_inspection_sample(req)).await
}

/// Waits until supervision's outbox has delivered everything, asking as
/// the ministry; its status then.
pub async fn drained(env: &SupervisionEnv, within: Duration) -> OutboxStatus {
    let mut ministry = env.client(token(Role::Ministry, "ministry-clerk"));
    drained_as(&mut ministry, within).await
}

/// [`drained`], asking through `client` (one that may read the outbox).
pub async fn drained_as(client: &mut Supervision, within: Duration) -> OutboxStatus {
    let started = Instant::now();
    loop {
        let s = client
            .get_outbox_status(GetOutboxStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        if s.pending == 0 {
            return s;
        }
        assert!(
            started.elapsed() < within,
            "effects still pending after {within:?}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
