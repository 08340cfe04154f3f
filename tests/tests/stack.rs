//! The shared server stack, proved on real services: health and reflection,
//! authentication, request ids, the message-size cap, load shedding,
//! graceful shutdown, and surviving a database outage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ce_proto::common::Role;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::*;
use ce_tests::chaos::ChaosProxy;
use ce_tests::{Backend, Place, RegistryEnv, both_backends, credit_code, start_service, token};
use diesel::connection::SimpleConnection;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

async fn health(channel: tonic::transport::Channel, service: &str) -> ServingStatus {
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    ServingStatus::try_from(status).unwrap()
}

async fn reflected_services(channel: tonic::transport::Channel) -> Vec<String> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn every_service_starts_and_serves_health_and_reflection_without_a_token(b: Backend) {
    let place = Place::new(b);
    let registry = start_service(place.config("registry"), registry::start).await;
    let crediting = start_service(place.config("crediting"), crediting::start).await;
    let supervision = start_service(place.config("supervision"), supervision::start).await;
    let quality = start_service(place.config("quality"), quality::start).await;
    for service in [&registry, &crediting, &supervision, &quality] {
        assert_eq!(
            health(service.channel().await, "").await,
            ServingStatus::Serving
        );
    }
    assert_eq!(
        health(registry.channel().await, "ce.registry.v1.RegistryService").await,
        ServingStatus::Serving
    );
    assert_eq!(
        reflected_services(registry.channel().await).await,
        vec![
            "ce.audit.v1.AuditService",
            "ce.registry.v1.RegistryService",
            "grpc.health.v1.Health"
        ]
    );
    assert_eq!(
        reflected_services(crediting.channel().await).await,
        vec![
            "ce.audit.v1.AuditService",
            "ce.crediting.v1.CreditingService",
            "grpc.health.v1.Health"
        ]
    );
    assert_eq!(
        reflected_services(supervision.channel().await).await,
        vec![
            "ce.audit.v1.AuditService",
            "ce.supervision.v1.SupervisionService",
            "grpc.health.v1.Health"
        ]
    );
    assert_eq!(
        reflected_services(quality.channel().await).await,
        vec![
            "ce.audit.v1.AuditService",
            "ce.quality.v1.QualityService",
            "grpc.health.v1.Health"
        ]
    );
    for s in [registry, crediting, supervision, quality] {
        s.stop().await;
    }
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let env = RegistryEnv::start(Backend::Sqlite).await;
    let mut anonymous = RegistryServiceClient::new(env.channel.clone());
    let err = ce_tests::refusal(anonymous.list_provinces(ListProvincesRequest {})).await;
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("Bearer"), "{}", err.message());

    let mut garbage = env.client("not-a-jwt");
    assert_eq!(
        ce_tests::refusal(garbage.list_provinces(ListProvincesRequest {}))
            .await
            .code(),
        Code::Unauthenticated
    );

    // Signed by a key this deployment does not trust.
    let stranger = Place::new(Backend::Sqlite);
    let mut forged = env.client(&stranger.token(token(Role::Ministry, "intruder")));
    assert_eq!(
        ce_tests::refusal(forged.list_provinces(ListProvincesRequest {}))
            .await
            .code(),
        Code::Unauthenticated
    );

    // A role without the scope it needs.
    let mut incomplete = env.as_role(token(Role::Employer, "clerk"));
    let err = ce_tests::refusal(incomplete.list_provinces(ListProvincesRequest {})).await;
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("employers/"), "{}", err.message());

    assert!(
        env.ministry()
            .list_provinces(ListProvincesRequest {})
            .await
            .is_ok()
    );
}

/// A service whose configuration names no environment runs as production
/// (fail closed): it refuses a development token, even one signed by the
/// very key it trusts, and accepts that key's ordinary tokens.
#[tokio::test]
async fn without_an_environment_a_service_refuses_development_tokens() {
    let place = Place::new(Backend::Sqlite);
    // The key it trusts: made elsewhere, as an operator's would be.
    let elsewhere = tempfile::tempdir().unwrap();
    let key = ce_server::auth::DevKey::load_or_create(elsewhere.path()).unwrap();
    let public = elsewhere.path().join("users.pem");
    std::fs::write(&public, key.public_pem()).unwrap();
    let mut config = ce_server::app::ServiceConfig::load("registry", 0, None).unwrap();
    assert_eq!(
        config.environment,
        ce_server::config::Environment::Production,
        "the default"
    );
    config.data_dir = place.data_dir();
    config.database.url = format!("sqlite://{}", place.dir.path().join("r.db").display());
    config.auth.public_key_path = Some(public);
    config.telemetry.log_filter = "warn".into();
    let service = start_service(config.clone(), registry::start).await;
    let channel = service.channel().await;
    let call = |token: String| {
        let mut c =
            RegistryServiceClient::with_interceptor(channel.clone(), ce_tests::bearer(&token));
        async move { c.list_provinces(ListProvincesRequest {}).await }
    };
    // What `cectl token` mints: the development key id.
    let dev = key
        .signer(&config.auth)
        .unwrap()
        .mint(&token(Role::Ministry, "ministry-clerk"))
        .unwrap();
    let err = call(dev).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(
        err.message()
            .contains("development tokens are not accepted in production"),
        "{}",
        err.message()
    );
    // The same key without the development mark: an ordinary token.
    let pem =
        std::fs::read_to_string(elsewhere.path().join(ce_server::auth::DEV_KEY_FILE)).unwrap();
    let ordinary = ce_server::auth::TokenSigner::from_pem(
        &pem,
        None,
        &config.auth.issuer,
        &config.auth.audience,
    )
    .unwrap()
    .mint(&token(Role::Ministry, "ministry-clerk"))
    .unwrap();
    assert!(call(ordinary).await.is_ok());
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made_up() {
    let env = RegistryEnv::start(Backend::Sqlite).await;
    let mut req = tonic::Request::new(ListProvincesRequest {});
    req.metadata_mut()
        .insert("x-request-id", "clerk-upload-42".parse().unwrap());
    let resp = env.ministry().list_provinces(req).await.unwrap();
    assert_eq!(
        resp.metadata().get("x-request-id").unwrap(),
        "clerk-upload-42"
    );

    let err = ce_tests::refusal(env.province("11").get_employer(GetEmployerRequest {
        name: "employers/none".into(),
    }))
    .await;
    let id = err
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        id.len(),
        36,
        "a UUID is made up when the caller sends none: {id}"
    );
    // The error's details carry it too, as google.rpc.RequestInfo.
    use tonic_types::StatusExt;
    assert_eq!(
        err.get_details_request_info().map(|i| i.request_id),
        Some(id.to_owned())
    );
    // Beside the other details: a bad field still names itself.
    let mut req = tonic::Request::new(CreateEmployerRequest {
        employer: Some(Employer::default()),
    });
    req.metadata_mut()
        .insert("x-request-id", "clerk-upload-43".parse().unwrap());
    let err = ce_tests::refusal(env.ministry().create_employer(req)).await;
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(!ce_tests::bad_fields(&err).is_empty(), "{err:?}");
    assert_eq!(
        err.get_details_request_info().map(|i| i.request_id),
        Some("clerk-upload-43".to_owned())
    );
}

#[tokio::test]
async fn a_message_over_the_cap_is_refused() {
    let place = Place::new(Backend::Sqlite);
    let mut config = place.config("registry");
    config.server.max_message_bytes = 2048;
    let service = start_service(config, registry::start).await;
    let env_token = place.token(token(Role::Ministry, "m"));
    let mut client = RegistryServiceClient::with_interceptor(
        service.channel().await,
        ce_tests::bearer(&env_token),
    );
    let err = ce_tests::refusal(client.create_employer(CreateEmployerRequest {
        employer: Some(Employer {
            display_name: "x".repeat(5000),
            ..Default::default()
        }),
    }))
    .await;
    // As gRPC's own implementations answer a message over the limit.
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    assert!(
        err.message().contains("server.max_message_bytes"),
        "{}",
        err.message()
    );
    assert!(
        client.list_provinces(ListProvincesRequest {}).await.is_ok(),
        "the server keeps serving"
    );
}

/// Holds the registry's `employers` table locked from outside the service,
/// so a CreateEmployer call stays in flight until it is released.
struct TableLock {
    conn: ce_db::DbConnection,
}

impl TableLock {
    fn take(url: &str) -> TableLock {
        use diesel::Connection;
        let mut conn = ce_db::DbConnection::establish(url.trim_start_matches("sqlite://")).unwrap();
        match &mut conn {
            ce_db::DbConnection::Pg(c) => c
                .batch_execute("BEGIN; LOCK TABLE employers IN ACCESS EXCLUSIVE MODE;")
                .unwrap(),
            ce_db::DbConnection::Sqlite(c) => c.batch_execute("BEGIN IMMEDIATE;").unwrap(),
        }
        TableLock { conn }
    }

    fn release(mut self) {
        self.conn.batch_execute("ROLLBACK;").unwrap();
    }
}

fn employer_request() -> CreateEmployerRequest {
    CreateEmployerRequest {
        employer: Some(Employer {
            credit_code: credit_code("44"),
            display_name: "Held Up Ltd".into(),
            kind: EmployerKind::Enterprise as i32,
            province: "44".into(),
            ..Default::default()
        }),
    }
}

async fn overload_is_shed_with_resource_exhausted_and_the_held_call_still_completes(b: Backend) {
    let place = Place::new(b);
    let mut config = place.config("registry");
    config.server.max_concurrent_requests = 1;
    let url = config.database.url.clone();
    let service = start_service(config, registry::start).await;
    let t = place.token(token(Role::Ministry, "m"));
    let client =
        RegistryServiceClient::with_interceptor(service.channel().await, ce_tests::bearer(&t));

    let lock = TableLock::take(&url);
    let mut held = client.clone();
    let in_flight = tokio::spawn(async move { held.create_employer(employer_request()).await });
    // Time for the call to reach the locked table, even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !in_flight.is_finished(),
        "held by the lock: {:?}",
        in_flight.await
    );
    let mut other = client.clone();
    let err = ce_tests::refusal(other.list_provinces(ListProvincesRequest {})).await;
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    assert_eq!(
        health(service.channel().await, "").await,
        ServingStatus::Serving,
        "health checks are not shed, so an overloaded service is not reported dead"
    );
    lock.release();
    assert!(
        in_flight.await.unwrap().is_ok(),
        "the call that held the slot completes"
    );
    assert!(
        other.list_provinces(ListProvincesRequest {}).await.is_ok(),
        "and capacity returns"
    );
}

async fn shutdown_lets_in_flight_calls_finish_and_then_refuses_new_ones(b: Backend) {
    let place = Place::new(b);
    let config = place.config("registry");
    let url = config.database.url.clone();
    let service = start_service(config, registry::start).await;
    let addr = service.addr();
    let t = place.token(token(Role::Ministry, "m"));
    let client =
        RegistryServiceClient::with_interceptor(service.channel().await, ce_tests::bearer(&t));

    let lock = TableLock::take(&url);
    let mut held = client.clone();
    let in_flight = tokio::spawn(async move { held.create_employer(employer_request()).await });
    // Time for the call to reach the locked table, even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stopping = tokio::spawn(service.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the call in flight"
    );
    lock.release();
    let created = in_flight.await.unwrap().unwrap().into_inner();
    assert!(created.name.starts_with("employers/"));
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .is_err(),
        "a stopped server accepts no connections"
    );
}

/// PostgreSQL goes away under a running service and comes back: calls fail
/// with UNAVAILABLE (retryable), health says NOT_SERVING, and both recover
/// without restarting the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_unavailable_then_recovers_without_a_restart() {
    let place = Place::new(Backend::Postgres);
    let real = place.pg_url("registry");
    // postgres://user@host:port/db → route host:port through the proxy.
    let (scheme_user, rest) = real.split_once('@').unwrap();
    let (hostport, db) = rest.split_once('/').unwrap();
    let target: std::net::SocketAddr = tokio::net::lookup_host(hostport)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = ChaosProxy::start(target).await;
    let mut config = place.config("registry");
    config.database.url = format!("{scheme_user}@{}/{db}", proxy.addr());
    config.database.max_connections = 2;
    let service = start_service(config, registry::start).await;
    let t = place.token(ce_tests::department("44", "clerk"));
    let mut client =
        RegistryServiceClient::with_interceptor(service.channel().await, ce_tests::bearer(&t));
    ce_tests::answer(client.create_employer(employer_request())).await;

    proxy.break_all();
    let err = ce_tests::refusal(client.list_employers(ListEmployersRequest::default())).await;
    assert_eq!(err.code(), Code::Unavailable, "{}", err.message());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while health(service.channel().await, "").await != ServingStatus::NotServing {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never reported the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The audit API rests on the same database, and says so too.
    assert_eq!(
        health(service.channel().await, "ce.audit.v1.AuditService").await,
        ServingStatus::NotServing
    );

    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client.list_employers(ListEmployersRequest::default()).await {
            Ok(list) => {
                assert_eq!(
                    list.into_inner().employers.len(),
                    1,
                    "the data is all there"
                );
                break;
            }
            Err(e) => {
                assert_eq!(e.code(), Code::Unavailable);
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never recovered: {}",
                    e.message()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while health(service.channel().await, "").await != ServingStatus::Serving {
        assert!(
            tokio::time::Instant::now() < deadline,
            "health never recovered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

both_backends!(
    every_service_starts_and_serves_health_and_reflection_without_a_token,
    overload_is_shed_with_resource_exhausted_and_the_held_call_still_completes,
    shutdown_lets_in_flight_calls_finish_and_then_refuses_new_ones,
);

/// A stream holds its call's permit until it ends: with room for one call
/// at a time, an open watch leaves none for another caller, and its end
/// frees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_holds_its_permit_until_it_ends() {
    use ce_proto::quality::{GetScoringModelRequest, WatchScoresRequest};
    let env = ce_tests::QualityEnv::start_with(Backend::Sqlite, |c| {
        c.server.max_concurrent_requests = 1;
    })
    .await;
    let mut client = env.client(token(Role::Ministry, "ministry-clerk"));
    let watch = ce_tests::answer(client.watch_scores(WatchScoresRequest::default())).await;
    let err = ce_tests::refusal(client.get_scoring_model(GetScoringModelRequest::default())).await;
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    drop(watch);
    // Freed once the service sees the stream cancelled.
    let started = std::time::Instant::now();
    loop {
        match client
            .get_scoring_model(GetScoringModelRequest::default())
            .await
        {
            Ok(_) => break,
            Err(e) if e.code() == Code::ResourceExhausted => {
                assert!(started.elapsed() < Duration::from_secs(10), "never freed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// One caller past its share is refused; another caller is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_past_its_share_is_shed_and_others_are_served() {
    use ce_proto::quality::{GetScoringModelRequest, WatchScoresRequest};
    let env = ce_tests::QualityEnv::start_with(Backend::Sqlite, |c| {
        c.server.max_concurrent_requests = 8;
        c.server.max_concurrent_requests_per_caller = 1;
    })
    .await;
    let mut greedy = env.client(token(Role::Ministry, "ministry-dashboard"));
    let watch = ce_tests::answer(greedy.watch_scores(WatchScoresRequest::default())).await;
    let err = ce_tests::refusal(greedy.get_scoring_model(GetScoringModelRequest::default())).await;
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("its share"), "{}", err.message());
    let mut other = env.client(token(Role::Ministry, "ministry-clerk"));
    other
        .get_scoring_model(GetScoringModelRequest::default())
        .await
        .expect("another caller is served");
    drop(watch);
}
