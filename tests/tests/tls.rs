//! TLS and mutual TLS end to end: certificates minted with rcgen, the
//! registry started with `server.tls`, and real gRPC clients that trust (or
//! do not trust) its CA and present (or do not present) a certificate.
//!
//! TLS sits below the database, so these run on SQLite only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use ce_proto::common::Role;
use ce_proto::registry::ListProvincesRequest;
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_server::config::TlsConfig;
use ce_tests::{Backend, Place, Service, bearer, start_service, token};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A certificate authority: its PEM certificate and the key that signs.
struct Ca {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert_pem = params.self_signed(&key).unwrap().pem();
        Ca {
            cert_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names` (DNS names or IP addresses), as PEM
    /// certificate and PEM private key.
    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn server_cert(&self) -> (String, String) {
        self.issue(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    fn client_cert(&self, name: &str) -> (String, String) {
        self.issue(&[name], ExtendedKeyUsagePurpose::ClientAuth)
    }
}

/// Starts the registry with a certificate `server_ca` signed, requiring
/// client certificates signed by `client_ca` when given.
async fn start_tls_registry(place: &Place, server_ca: &Ca, client_ca: Option<&Ca>) -> Service {
    let dir = place.data_dir();
    let (cert, key) = server_ca.server_cert();
    std::fs::write(dir.join("server.pem"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let client_ca_path = client_ca.map(|ca| {
        let path = dir.join("client-ca.pem");
        std::fs::write(&path, &ca.cert_pem).unwrap();
        path
    });

    let mut config = place.config("registry");
    config.server.tls = Some(TlsConfig {
        cert_path: dir.join("server.pem"),
        key_path: dir.join("server.key"),
        client_ca_path,
    });
    start_service(config, registry::start).await
}

/// Client TLS that trusts `ca` and expects the server to be `localhost`.
fn trusting(ca: &Ca) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.cert_pem))
        .domain_name("localhost")
}

/// Why a client got no answer.
#[derive(Debug)]
enum Refused {
    Connect(tonic::transport::Error),
    Call(tonic::Status),
}

impl Refused {
    /// Whether the connection was refused, rather than the call by the
    /// service (a bad token, say).
    fn by_transport(&self) -> bool {
        match self {
            Refused::Connect(_) => true,
            Refused::Call(status) => {
                std::error::Error::source(status).is_some_and(|e| e.is::<tonic::transport::Error>())
            }
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Connect(e) => write!(f, "connect failed: {e:?}"),
            Refused::Call(status) => write!(f, "call failed: {status:?}"),
        }
    }
}

/// Connects to `url` (over TLS when `tls` is given) and lists provinces as
/// the ministry: how many there are, or why there was no answer.
async fn list_provinces(
    place: &Place,
    url: String,
    tls: Option<ClientTlsConfig>,
) -> Result<usize, Refused> {
    let mut endpoint = Channel::from_shared(url)
        .unwrap()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(10));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).unwrap();
    }
    let channel = endpoint.connect().await.map_err(Refused::Connect)?;
    let token = place.token(token(Role::Ministry, "ministry-clerk"));
    let reply = RegistryServiceClient::with_interceptor(channel, bearer(&token))
        .list_provinces(ListProvincesRequest {})
        .await
        .map_err(Refused::Call)?;
    Ok(reply.into_inner().provinces.len())
}

/// Asserts that `result` is a refusal by the transport.
fn assert_refused(result: Result<usize, Refused>, what: &str) {
    match result {
        Err(refused) => assert!(
            refused.by_transport(),
            "{what}: expected the connection to be refused, got {refused}"
        ),
        Ok(n) => panic!("{what}: admitted, listed {n} provinces"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_only_server_answers_a_client_that_trusts_its_ca() {
    let place = Place::new(Backend::Sqlite);
    let ca = Ca::new("ce test CA");
    let service = start_tls_registry(&place, &ca, None).await;
    let port = service.addr().port();

    let trusted = list_provinces(
        &place,
        format!("https://localhost:{port}"),
        Some(trusting(&ca)),
    );
    assert_eq!(trusted.await.unwrap(), 32);

    let plaintext = list_provinces(&place, format!("http://localhost:{port}"), None);
    assert_refused(plaintext.await, "plaintext client");

    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_a_client_without_a_certificate_and_admits_one_signed_by_the_ca() {
    let place = Place::new(Backend::Sqlite);
    let ca = Ca::new("ce test CA");
    let service = start_tls_registry(&place, &ca, Some(&ca)).await;
    let url = format!("https://localhost:{}", service.addr().port());

    let anonymous = list_provinces(&place, url.clone(), Some(trusting(&ca)));
    assert_refused(anonymous.await, "client without a certificate");

    let (cert, key) = ca.client_cert("hrss-gateway");
    let with_cert = trusting(&ca).identity(Identity::from_pem(cert, key));
    let admitted = list_provinces(&place, url.clone(), Some(with_cert));
    assert_eq!(admitted.await.unwrap(), 32);

    let (cert, key) = Ca::new("some other CA").client_cert("hrss-gateway");
    let with_foreign_cert = trusting(&ca).identity(Identity::from_pem(cert, key));
    let stranger = list_provinces(&place, url, Some(with_foreign_cert));
    assert_refused(stranger.await, "client with a certificate from another CA");

    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crediting_calls_a_mutual_tls_registry_with_its_own_certificate() {
    use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
    use ce_proto::crediting::hour_record::Activity;
    use ce_proto::crediting::{CreateHourRecordRequest, FaceToFaceTraining, HourRecord};

    let place = Place::new(Backend::Sqlite);
    let ca = Ca::new("ce test CA");
    let registry = start_tls_registry(&place, &ca, Some(&ca)).await;
    let dir = place.data_dir();

    // An https peer without peer_tls stops start-up, naming the key.
    let mut config = place.config("crediting");
    config.peers.insert(
        "registry".into(),
        format!("https://localhost:{}", registry.addr().port()),
    );
    let err = crediting::start(config.clone(), std::future::pending())
        .await
        .err()
        .expect("started without peer TLS");
    assert!(err.to_string().contains("peer_tls.ca_path"), "{err}");

    // With the CA and a client certificate, crediting reaches the registry.
    std::fs::write(dir.join("ca.pem"), &ca.cert_pem).unwrap();
    let (cert, key) = ca.client_cert("crediting");
    std::fs::write(dir.join("crediting.pem"), cert).unwrap();
    std::fs::write(dir.join("crediting.key"), key).unwrap();
    config.peer_tls = Some(ce_server::config::PeerTlsConfig {
        ca_path: dir.join("ca.pem"),
        cert_path: Some(dir.join("crediting.pem")),
        key_path: Some(dir.join("crediting.key")),
    });
    let crediting = start_service(config, crediting::start).await;
    let token = place.token(ce_tests::department("44", "hrss-44-clerk"));
    let missing = "activities/00000000-0000-7000-8000-000000000000";
    let err = CreditingServiceClient::with_interceptor(crediting.channel().await, bearer(&token))
        .create_hour_record(CreateHourRecordRequest {
            hour_record: Some(HourRecord {
                engineer: "engineers/00000000-0000-7000-8000-000000000001".into(),
                registry_activity: missing.into(),
                activity: Some(Activity::FaceToFace(FaceToFaceTraining {
                    subject_category: ce_proto::common::SubjectCategory::Professional as i32,
                    start_date: Some(ce_proto::google::r#type::Date {
                        year: 2026,
                        month: 3,
                        day: 2,
                    }),
                    days: 1,
                    hours_per_day: 8.0,
                })),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    // The registry answered (over mutual TLS) that the activity does not exist.
    assert_ne!(err.code(), tonic::Code::Unavailable, "{err:?}");
    assert!(err.message().contains(missing), "{err:?}");

    crediting.stop().await;
    registry.stop().await;
}

/// A call in flight over TLS keeps its connection from being idle: a
/// change feed watched past `server.idle_timeout_secs` stays open (the
/// call is counted on its connection under TLS as over plain TCP), and the
/// connection closes only once the watch ends and the timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_over_tls_is_not_cut_as_idle() {
    use ce_proto::crediting::WatchChangesRequest;
    use ce_proto::crediting::crediting_service_client::CreditingServiceClient;

    let place = Place::new(Backend::Sqlite);
    let ca = Ca::new("ce test CA");
    let registry = start_service(place.config("registry"), registry::start).await;
    let dir = place.data_dir();
    let (cert, key) = ca.server_cert();
    std::fs::write(dir.join("server.pem"), cert).unwrap();
    std::fs::write(dir.join("server.key"), key).unwrap();
    let mut config = place.config("crediting");
    config.peers.insert("registry".into(), registry.url());
    config.server.idle_timeout_secs = 2;
    config.server.tls = Some(TlsConfig {
        cert_path: dir.join("server.pem"),
        key_path: dir.join("server.key"),
        client_ca_path: None,
    });
    let crediting = start_service(config, crediting::start).await;
    let port = crediting.addr().port();
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(trusting(&ca))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = place.token(token(Role::Ministry, "ministry-clerk"));
    let mut watch = CreditingServiceClient::with_interceptor(channel, bearer(&token))
        .watch_changes(WatchChangesRequest::default())
        .await
        .unwrap()
        .into_inner();
    // Nothing changes: the watch waits, its connection twice the idle
    // timeout without another call.
    let waited = tokio::time::timeout(Duration::from_secs(5), watch.message()).await;
    assert!(
        waited.is_err(),
        "the watch ended while in flight: {waited:?}"
    );
    assert!(
        ce_tests::process::server_connections(port) >= 1,
        "the connection of a call in flight was closed as idle"
    );
    drop(watch);
    let started = std::time::Instant::now();
    while ce_tests::process::server_connections(port) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "an idle TLS connection stayed open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crediting.stop().await;
    registry.stop().await;
}
