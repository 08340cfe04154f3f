//! Authorise before validating (`docs/architecture.md`, "Who may call
//! what"): a person whose role may never call an RPC is refused before the
//! request is read, so an empty (invalid) request of every RPC, sent as
//! every role its service's table does not admit, is PERMISSION_DENIED
//! with the row's reason (`ROLE_NOT_PERMITTED`, or the rule's own, with its
//! article) and never INVALID_ARGUMENT. And each table has one row per RPC.

use super::*;
use ce_server::permit::{EVERYONE, People};
use tonic_types::StatusExt;

/// A person of `role` with a plausible scope: province 44, construction,
/// an organisation id. The role check needs no real resource.
fn person(role: Role) -> TokenRequest {
    let mut t = ce_tests::token(
        role,
        &format!("{}-caller", ce_server::auth::role_name(role)),
    );
    match role {
        Role::ProvincialHrss => t.province = Some("44".into()),
        Role::IndustryRegulator => {
            t.province = Some("44".into());
            t.field = Some(Field::Construction);
        }
        Role::Institution => t.org = Some("institutions/0000000000000000".into()),
        Role::Employer => t.org = Some("employers/0000000000000000".into()),
        Role::Engineer => t.subject = "engineers/0000000000000000".into(),
        _ => {}
    }
    t
}

async fn empty_call(channel: Channel, path: String, token: &str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut req = tonic::Request::new(Vec::<u8>::new());
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match grpc
        .unary(req, path.parse().unwrap(), ce_tests::RawCodec)
        .await
    {
        Ok(_) => tonic::Status::ok("answered"),
        Err(status) => status,
    }
}

/// Checks one service's table against the service serving at `channel`;
/// returns what differs.
async fn check(env: &QualityEnv, service: &str, people: People, channel: &Channel) -> Vec<String> {
    assert_eq!(people.grpc_services, &[service]);
    let mut rows: Vec<&str> = people.rows.iter().map(|r| r.method).collect();
    rows.sort_unstable();
    let mut methods = methods_of(service);
    methods.sort_unstable();
    assert_eq!(
        rows,
        methods.iter().map(String::as_str).collect::<Vec<_>>(),
        "the table of people of {service} must have exactly one row per RPC"
    );
    let mut wrong = Vec::new();
    for row in people.rows {
        for role in EVERYONE.iter().filter(|r| !row.roles.contains(r)) {
            let token = env.registry.place.token(person(*role));
            let path = format!("/{service}/{}", row.method);
            let status = empty_call(channel.clone(), path, &token).await;
            let reason = status
                .get_error_details()
                .error_info()
                .map(|i| i.reason.clone())
                .unwrap_or_default();
            let article_ok = row
                .article
                .or(row.reason.article())
                .is_none_or(|a| status.message().contains(&a.to_string()));
            if status.code() != Code::PermissionDenied || reason != row.reason.name() || !article_ok
            {
                wrong.push(format!(
                    "{} as {}: {:?} {reason} {}",
                    row.method,
                    ce_server::auth::role_name(*role),
                    status.code(),
                    status.message()
                ));
            }
        }
    }
    wrong
}

async fn a_role_that_may_never_call_is_refused_before_its_request_is_read(b: Backend) {
    let env = QualityEnv::start(b).await;
    let crediting = Channel::from_shared(format!("http://{}", env.crediting.addr()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut wrong = Vec::new();
    for (service, people, channel) in [
        (
            "ce.registry.v1.RegistryService",
            ::registry::people::PEOPLE,
            &env.registry.channel,
        ),
        (
            "ce.crediting.v1.CreditingService",
            ::crediting::people::PEOPLE,
            &crediting,
        ),
        (
            "ce.supervision.v1.SupervisionService",
            ::supervision::people::PEOPLE,
            &env.supervision_channel,
        ),
        (
            "ce.quality.v1.QualityService",
            ::quality::people::PEOPLE,
            &env.channel,
        ),
    ] {
        wrong.extend(check(&env, service, people, channel).await);
    }
    assert!(wrong.is_empty(), "refused otherwise:\n{}", wrong.join("\n"));

    // The issue's own case: an engineer registering an employer, with a
    // request that breaks every field rule, learns only that it may not.
    let token = env.registry.place.token(person(Role::Engineer));
    let mut c = RegistryServiceClient::with_interceptor(
        env.registry.channel.clone(),
        ce_tests::bearer(&token),
    );
    let err = c
        .create_employer(CreateEmployerRequest {
            employer: Some(reg::Employer {
                credit_code: "not a credit code".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        err.get_error_details().error_info().unwrap().reason,
        "ROLE_NOT_PERMITTED"
    );
    assert!(err.get_error_details().bad_request().is_none(), "{err:?}");
}

both_backends!(a_role_that_may_never_call_is_refused_before_its_request_is_read);
