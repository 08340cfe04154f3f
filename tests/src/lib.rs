//! Test support: start real services in-process on `127.0.0.1:0` against a
//! fresh SQLite file or PostgreSQL database, mint tokens for any role, and
//! talk to them through the generated clients.
//!
//! Every behaviour test runs on both backends through [`both_backends!`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod cases;
pub mod chaos;
pub mod credits;
pub mod pg;
pub mod ports;
pub mod process;
pub mod world;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use ce_proto::common::{Field, Role};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_server::app::{ServiceConfig, ShutdownSignal, StartError};
use ce_server::auth::{DevKey, TokenRequest};
use ce_server::serve::Running;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend, as `mod NAME { sqlite, postgres }`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )+};
}

/// Where services keep their state in a test; survives a restart. Each
/// service gets its own database, as in production.
pub struct Place {
    pub dir: tempfile::TempDir,
    pg: std::sync::Mutex<std::collections::BTreeMap<String, pg::TestDatabase>>,
    pub backend: Backend,
}

impl Place {
    pub fn new(backend: Backend) -> Place {
        Place {
            dir: tempfile::tempdir().unwrap(),
            pg: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            backend,
        }
    }

    /// The PostgreSQL URL of `service`'s own database, made on first use.
    pub fn pg_url(&self, service: &str) -> String {
        let mut dbs = self.pg.lock().unwrap();
        dbs.entry(service.to_owned())
            .or_insert_with(pg::fresh_database)
            .url
            .clone()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// A configuration on port 0 over this place's database.
    pub fn config(&self, service: &str) -> ServiceConfig {
        let mut c = ServiceConfig::load(service, 0, None).unwrap();
        c.data_dir = self.data_dir();
        // Tests mint their tokens with the place's development key.
        c.environment = ce_server::config::Environment::Development;
        c.database.url = match self.backend {
            Backend::Postgres => self.pg_url(service),
            Backend::Sqlite => format!(
                "sqlite://{}",
                self.dir.path().join(format!("{service}.db")).display()
            ),
        };
        c.telemetry.log_filter = "warn".into();
        // Crediting follows the registry's engineer changes only in the
        // tests of that (`crediting/moves.rs`), so no other test shares its
        // database with a background writer.
        c.set("crediting.follow_registry_secs", 0);
        c
    }

    /// Signs a token with this place's development key; a service's token
    /// (role service, subject `name` or `service/name`) with that service's
    /// own development key, as the service itself would.
    pub fn token(&self, mut req: TokenRequest) -> String {
        let auth = ServiceConfig::load("registry", 0, None).unwrap().auth;
        if req.role == Some(Role::Service) {
            let name = req
                .subject
                .strip_prefix("service/")
                .unwrap_or(&req.subject)
                .to_owned();
            req.subject = ce_server::auth::service_kid(&name);
            let key = DevKey::for_service(self.dir.path(), &name).unwrap();
            return key
                .service_signer(&name, &auth)
                .unwrap()
                .mint(&req)
                .unwrap();
        }
        let key = DevKey::load_or_create(self.dir.path()).unwrap();
        key.signer(&auth).unwrap().mint(&req).unwrap()
    }
}

/// A running service and how to stop it.
pub struct Service {
    pub running: Running,
}

impl Service {
    pub fn addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn stop(self) {
        self.running.shutdown().await.unwrap();
    }
}

/// Starts a service with `start` (for example `registry::start`).
pub async fn start_service<F, Fut>(config: ServiceConfig, start: F) -> Service
where
    F: FnOnce(ServiceConfig, ShutdownSignal) -> Fut,
    Fut: Future<Output = Result<Running, StartError>>,
{
    let running = start(config, Box::pin(std::future::pending()))
        .await
        .unwrap();
    Service { running }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(pub tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// Bytes sent as they are: for malformed, oversized and empty messages
/// sent to any RPC by its path.
#[derive(Clone, Default)]
pub struct RawCodec;

pub struct RawEncoder;

pub struct RawDecoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

pub fn bearer(token: &str) -> Bearer {
    Bearer(format!("Bearer {token}").parse().unwrap())
}

pub type Registry = RegistryServiceClient<InterceptedService<Channel, Bearer>>;

/// The registry and its state, as most tests need them.
pub struct RegistryEnv {
    pub place: Place,
    pub service: Service,
    pub channel: Channel,
    clock: registry::Clock,
}

impl RegistryEnv {
    pub async fn start(backend: Backend) -> RegistryEnv {
        let place = Place::new(backend);
        RegistryEnv::start_at(place).await
    }

    pub async fn start_at(place: Place) -> RegistryEnv {
        RegistryEnv::start_with_clock(place, registry::system_clock()).await
    }

    /// A registry whose engineers are registered and changed at `clock`'s time.
    pub async fn start_with_clock(place: Place, clock: registry::Clock) -> RegistryEnv {
        let started = clock.clone();
        let service = start_service(place.config("registry"), move |c, s| {
            registry::start_with_clock(c, s, started)
        })
        .await;
        let channel = service.channel().await;
        RegistryEnv {
            place,
            service,
            channel,
            clock,
        }
    }

    /// Stops the service and starts it again on the same data and clock.
    pub async fn restart(self) -> RegistryEnv {
        let RegistryEnv {
            place,
            service,
            clock,
            ..
        } = self;
        service.stop().await;
        RegistryEnv::start_with_clock(place, clock).await
    }

    pub fn client(&self, token: &str) -> Registry {
        RegistryServiceClient::with_interceptor(self.channel.clone(), bearer(token))
    }

    pub fn as_role(&self, req: TokenRequest) -> Registry {
        self.client(&self.place.token(req))
    }

    pub fn ministry(&self) -> Registry {
        self.as_role(token(Role::Ministry, "ministry-clerk"))
    }

    pub fn province(&self, code: &str) -> Registry {
        self.as_role(TokenRequest {
            province: Some(code.into()),
            ..token(Role::ProvincialHrss, &format!("hrss-{code}-clerk"))
        })
    }

    pub fn regulator(&self, field: Field, province: Option<&str>) -> Registry {
        self.as_role(TokenRequest {
            field: Some(field),
            province: province.map(str::to_owned),
            ..token(Role::IndustryRegulator, "regulator-clerk")
        })
    }

    pub fn institution(&self, name: &str) -> Registry {
        self.as_role(TokenRequest {
            org: Some(name.into()),
            ..token(Role::Institution, "institution-clerk")
        })
    }

    pub fn employer(&self, name: &str) -> Registry {
        self.as_role(TokenRequest {
            org: Some(name.into()),
            ..token(Role::Employer, "employer-clerk")
        })
    }

    pub fn engineer(&self, name: &str) -> Registry {
        self.as_role(token(Role::Engineer, name))
    }

    pub fn service_role(&self, name: &str) -> Registry {
        self.as_role(token(Role::Service, name))
    }

    /// The audit rows about `resource`, read straight from the database.
    pub fn audit_rows(&self, resource: &str) -> Vec<ce_db::audit::AuditEntry> {
        let db = ce_db::Db::connect(
            &self.place.config("registry").database.url,
            1,
            registry::migrations(),
        )
        .unwrap();
        let mut conn = db.connection().unwrap();
        ce_db::audit::for_resource(&mut conn, resource).unwrap()
    }
}

/// A token request for `role` and `subject`, valid for ten minutes.
pub fn token(role: Role, subject: &str) -> TokenRequest {
    TokenRequest {
        subject: subject.into(),
        role: Some(role),
        ttl_secs: 600,
        ..Default::default()
    }
}

/// A token request for `subject` of the human resources department of
/// province `code`.
pub fn department(code: &str, subject: &str) -> TokenRequest {
    TokenRequest {
        province: Some(code.into()),
        ..token(Role::ProvincialHrss, subject)
    }
}

/// A token request for `subject`, acting as `role` for the organisation
/// named `org` (an institution or an employer).
pub fn member(role: Role, org: &str, subject: &str) -> TokenRequest {
    TokenRequest {
        org: Some(org.into()),
        ..token(role, subject)
    }
}

/// A valid resident ID number born in `province`, unique within the test
/// process: each call takes the next of the 13,440,000 (sequence, birth
/// date) pairs, from a random start so that processes differ too. Drawing
/// each part at random, as before, once gave a test the same number twice,
/// and the registry refused the second engineer (one identity nationwide).
pub fn resident_id(province: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: std::sync::OnceLock<AtomicU32> = std::sync::OnceLock::new();
    const PAIRS: u32 = 1000 * 28 * 12 * 40;
    let n = NEXT
        .get_or_init(|| AtomicU32::new(rand::random::<u32>() % PAIRS))
        .fetch_add(1, Ordering::Relaxed)
        % PAIRS;
    let seq = n % 1000;
    let day = 1 + (n / 1000) % 28;
    let month = 1 + (n / (1000 * 28)) % 12;
    let year = 1960 + (n / (1000 * 28 * 12)) % 40;
    let first17 = format!("{province}0101{year:04}{month:02}{day:02}{seq:03}");
    registry::ids::resident_id_with_check(&first17).unwrap()
}

/// A valid, unique unified social credit code registered in `province`.
pub fn credit_code(province: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let org: String = (0..9)
        .map(|_| ALPHABET[rand::random::<usize>() % ALPHABET.len()] as char)
        .collect();
    registry::ids::credit_code_with_check(&format!("91{province}0100{org}")).unwrap()
}

/// Catches the SQL `conn` sends from now on, each statement as diesel
/// prints it (binds after ` -- binds:`), on either backend.
pub fn catch_queries(
    conn: &mut ce_db::DbConnection,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};
    use std::sync::{Arc, Mutex};
    struct Catch(Arc<Mutex<Vec<String>>>);
    impl Instrumentation for Catch {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                self.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(query.to_string());
            }
        }
    }
    let caught = Arc::new(Mutex::new(Vec::new()));
    match conn {
        ce_db::DbConnection::Pg(c) => c.set_instrumentation(Catch(caught.clone())),
        ce_db::DbConnection::Sqlite(c) => c.set_instrumentation(Catch(caught.clone())),
    }
    caught
}

/// The `google.rpc.BadRequest` field names of an INVALID_ARGUMENT status.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The description given for `field` in a BadRequest.
pub fn bad_field_description(status: &tonic::Status, field: &str) -> Option<String> {
    use tonic_types::StatusExt;
    status.get_details_bad_request().and_then(|b| {
        b.field_violations
            .into_iter()
            .find(|v| v.field == field)
            .map(|v| v.description)
    })
}

pub type Crediting = ce_proto::crediting::crediting_service_client::CreditingServiceClient<
    InterceptedService<Channel, Bearer>,
>;

/// The day [`CreditingEnv`]'s registry registers and changes engineers on.
pub const REGISTERED_ON: time::Date = time::macros::date!(2026 - 11 - 25);

/// The registry and crediting, crediting calling the registry over gRPC.
pub struct CreditingEnv {
    pub registry: RegistryEnv,
    pub service: Service,
    pub channel: Channel,
}

impl CreditingEnv {
    pub async fn start(backend: Backend) -> CreditingEnv {
        // Date-dependent rules (Art. 17, 21) see a fixed day late in 2026,
        // whenever the tests run.
        CreditingEnv::start_on(backend, time::macros::date!(2026 - 11 - 25)).await
    }

    /// Crediting whose today is `today`, for what needs a year behind it
    /// (closing a year, making it up). The registry registers engineers on
    /// [`REGISTERED_ON`], whenever the tests run, so a close of 2026 counts
    /// them as registered that year.
    pub async fn start_on(backend: Backend, today: time::Date) -> CreditingEnv {
        CreditingEnv::start_calling(backend, today, None).await
    }

    /// [`CreditingEnv::start_on`], with supervision running beside it, so
    /// that the cases supervision's revocations name can be checked
    /// (Art. 27).
    pub async fn start_with_supervision(
        backend: Backend,
        today: time::Date,
    ) -> (CreditingEnv, Service) {
        // Held until supervision listens on it: it is not restarted here.
        let held = ports::HeldPort::pick();
        let addr = held.addr();
        let env = CreditingEnv::start_calling(backend, today, Some(addr)).await;
        let mut config = env.registry.place.config("supervision");
        config
            .peers
            .insert("registry".into(), env.registry.service.url());
        config.peers.insert("crediting".into(), env.service.url());
        config.server.listen = addr;
        let supervision = start_service(config, supervision::start).await;
        drop(held);
        (env, supervision)
    }

    async fn start_calling(
        backend: Backend,
        today: time::Date,
        supervision: Option<SocketAddr>,
    ) -> CreditingEnv {
        let registered = REGISTERED_ON
            .with_time(time::macros::time!(12:00))
            .assume_offset(ce_rules::dates::CST)
            .unix_timestamp()
            * 1_000_000;
        let registry = RegistryEnv::start_with_clock(
            Place::new(backend),
            std::sync::Arc::new(move || registered),
        )
        .await;
        let mut config = registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        if let Some(addr) = supervision {
            config
                .peers
                .insert("supervision".into(), format!("http://{addr}"));
        }
        let service = start_service(config, move |c, s| {
            crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
        })
        .await;
        let channel = service.channel().await;
        CreditingEnv {
            registry,
            service,
            channel,
        }
    }

    pub fn client(&self, req: TokenRequest) -> Crediting {
        let token = self.registry.place.token(req);
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            self.channel.clone(),
            bearer(&token),
        )
    }

    pub fn province(&self, code: &str) -> Crediting {
        self.client(TokenRequest {
            province: Some(code.into()),
            ..token(Role::ProvincialHrss, &format!("hrss-{code}-clerk"))
        })
    }

    pub fn ministry(&self) -> Crediting {
        self.client(token(Role::Ministry, "ministry-clerk"))
    }

    pub fn regulator(&self, field: Field, province: Option<&str>) -> Crediting {
        self.client(TokenRequest {
            field: Some(field),
            province: province.map(str::to_owned),
            ..token(Role::IndustryRegulator, "regulator-clerk")
        })
    }

    pub fn institution(&self, name: &str) -> Crediting {
        self.client(TokenRequest {
            org: Some(name.into()),
            ..token(Role::Institution, "institution-clerk")
        })
    }

    pub fn employer(&self, name: &str) -> Crediting {
        self.client(TokenRequest {
            org: Some(name.into()),
            ..token(Role::Employer, "employer-clerk")
        })
    }

    pub fn engineer(&self, name: &str) -> Crediting {
        self.client(token(Role::Engineer, name))
    }
}

/// The answer of a call that succeeds.
pub async fn answer<T>(
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> T {
    call.await.unwrap().into_inner()
}

/// The refusal of a call that fails.
pub async fn refusal<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> tonic::Status {
    call.await.unwrap_err()
}

/// Every item of a listing, page after page: `page(token)` asks for the
/// page that `token` starts (the first for an empty one) and answers its
/// items and the token of the next (empty after the last).
pub async fn every<T, F, Fut>(mut page: F) -> Vec<T>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<T>, String)>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let (more, next) = page(token).await;
        items.extend(more);
        if next.is_empty() {
            return items;
        }
        token = next;
    }
}

/// Every hour record of `engineer` that `client` may read, page after
/// page of a thousand.
pub async fn all_hour_records(
    client: &mut Crediting,
    engineer: &str,
) -> Vec<ce_proto::crediting::HourRecord> {
    every(|page_token| {
        let mut client = client.clone();
        async move {
            let page = answer(client.list_hour_records(
                ce_proto::crediting::ListHourRecordsRequest {
                    engineer: engineer.into(),
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                },
            ))
            .await;
            (page.hour_records, page.next_page_token)
        }
    })
    .await
}

pub type Supervision = ce_proto::supervision::supervision_service_client::SupervisionServiceClient<
    InterceptedService<Channel, Bearer>,
>;

/// The registry, crediting and supervision, supervision calling the other
/// two over gRPC. Crediting can be stopped and started again on the same
/// address, to show that supervision's effects wait for it; both addresses
/// are held for the env's life (see [`ports`]), so no other test's service
/// can take crediting's while it is down.
pub struct SupervisionEnv {
    pub registry: RegistryEnv,
    pub crediting: Option<Service>,
    pub crediting_addr: SocketAddr,
    pub crediting_channel: Channel,
    pub service: Service,
    pub channel: Channel,
    /// Crediting's today, kept across a restart.
    pub crediting_today: time::Date,
    /// Where supervision listens, known before it starts: crediting asks
    /// it about the cases its revocations name (Art. 27).
    pub supervision_addr: SocketAddr,
    /// Crediting's and supervision's ports, held while the env lives.
    held: [ports::HeldPort; 2],
}

/// A free local address, for a service whose address its peers need
/// before it starts (crediting and supervision call each other), held
/// until the test process ends (see [`ports`]); an env that can keep a
/// [`ports::HeldPort`] itself does so instead.
pub fn free_addr() -> SocketAddr {
    ports::HeldPort::pick().for_process()
}

impl SupervisionEnv {
    async fn start_crediting(
        registry: &RegistryEnv,
        listen: SocketAddr,
        today: time::Date,
        supervision: SocketAddr,
    ) -> Service {
        let mut config = registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        config
            .peers
            .insert("supervision".into(), format!("http://{supervision}"));
        config.server.listen = listen;
        start_service(config, move |c, s| {
            crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
        })
        .await
    }

    /// Crediting's date-dependent rules (Art. 17, 21) see a fixed day late
    /// in 2026, while the year is still open, whenever the tests run.
    pub async fn start(backend: Backend) -> SupervisionEnv {
        let registry = RegistryEnv::start(backend).await;
        let crediting_today = time::macros::date!(2026 - 11 - 25);
        let held = [ports::HeldPort::pick(), ports::HeldPort::pick()];
        let (crediting_addr, supervision_addr) = (held[0].addr(), held[1].addr());
        let crediting = SupervisionEnv::start_crediting(
            &registry,
            crediting_addr,
            crediting_today,
            supervision_addr,
        )
        .await;
        let crediting_channel = Channel::from_shared(crediting.url())
            .unwrap()
            .connect_lazy();
        let mut config = registry.place.config("supervision");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        config.peers.insert("crediting".into(), crediting.url());
        config.server.listen = supervision_addr;
        let service = start_service(config, supervision::start).await;
        let channel = service.channel().await;
        SupervisionEnv {
            registry,
            crediting: Some(crediting),
            crediting_addr,
            crediting_channel,
            service,
            channel,
            crediting_today,
            supervision_addr,
            held,
        }
    }

    pub async fn stop_crediting(&mut self) {
        if let Some(c) = self.crediting.take() {
            c.stop().await;
        }
    }

    /// Restarts crediting with its today at `today`: after a year's end,
    /// for example, so the year is judged rather than in progress.
    pub async fn restart_crediting_on(&mut self, today: time::Date) {
        self.stop_crediting().await;
        self.crediting_today = today;
        self.restart_crediting().await;
    }

    pub async fn restart_crediting(&mut self) {
        self.crediting = Some(
            SupervisionEnv::start_crediting(
                &self.registry,
                self.held[0].addr(),
                self.crediting_today,
                self.supervision_addr,
            )
            .await,
        );
    }

    pub fn client(&self, req: TokenRequest) -> Supervision {
        let token = self.registry.place.token(req);
        ce_proto::supervision::supervision_service_client::SupervisionServiceClient::with_interceptor(
            self.channel.clone(),
            bearer(&token),
        )
    }

    pub fn crediting(&self, req: TokenRequest) -> Crediting {
        let token = self.registry.place.token(req);
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            self.crediting_channel.clone(),
            bearer(&token),
        )
    }

    /// Crediting's audit rows about `resource`.
    pub fn crediting_audit(&self, resource: &str) -> Vec<ce_db::audit::AuditEntry> {
        let db = ce_db::Db::connect(
            &self.registry.place.config("crediting").database.url,
            1,
            crediting::migrations(),
        )
        .unwrap();
        let mut conn = db.connection().unwrap();
        ce_db::audit::for_resource(&mut conn, resource).unwrap()
    }
}

/// Quality monitoring's today in [`QualityEnv`]: after 2026 has ended, so
/// every period of 2026 can be closed, whenever the tests run.
pub const QUALITY_TODAY: time::Date = time::macros::date!(2027 - 01 - 15);

pub type Quality = ce_proto::quality::quality_service_client::QualityServiceClient<
    InterceptedService<Channel, Bearer>,
>;

/// The registry, crediting, supervision and quality monitoring, quality
/// reporting poor results to supervision over gRPC. Supervision can be
/// stopped and started again on the same address, held for the env's life
/// (see [`ports`]) so that no other test's service can take it meanwhile.
pub struct QualityEnv {
    pub registry: RegistryEnv,
    pub crediting: Service,
    pub supervision: Option<Service>,
    pub supervision_addr: SocketAddr,
    pub supervision_channel: Channel,
    pub service: Service,
    pub channel: Channel,
    /// Supervision's port, held while the env lives.
    supervision_port: ports::HeldPort,
}

impl QualityEnv {
    async fn start_supervision(
        registry: &RegistryEnv,
        crediting: &Service,
        listen: SocketAddr,
    ) -> Service {
        let mut config = registry.place.config("supervision");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        config.peers.insert("crediting".into(), crediting.url());
        config.server.listen = listen;
        start_service(config, supervision::start).await
    }

    /// Quality monitoring with crediting's change feed not followed, so a
    /// test's scores change only through the calls it makes.
    pub async fn start(backend: Backend) -> QualityEnv {
        QualityEnv::start_with(backend, |_| {}).await
    }

    /// Quality monitoring reading crediting's change feed every `secs`
    /// seconds (0: not at all).
    pub async fn start_following(backend: Backend, secs: u64) -> QualityEnv {
        QualityEnv::start_with(backend, |c| c.set("quality.follow_crediting_secs", secs)).await
    }

    /// Quality monitoring configured by `configure`, after the defaults
    /// (which do not follow crediting's change feed).
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(&mut ServiceConfig),
    ) -> QualityEnv {
        let registry = RegistryEnv::start(backend).await;
        let supervision_port = ports::HeldPort::pick();
        let supervision_addr = supervision_port.addr();
        let mut config = registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        config
            .peers
            .insert("supervision".into(), format!("http://{supervision_addr}"));
        let today = time::macros::date!(2026 - 11 - 25);
        let crediting = start_service(config, move |c, s| {
            crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
        })
        .await;
        let supervision =
            QualityEnv::start_supervision(&registry, &crediting, supervision_addr).await;
        let supervision_channel = Channel::from_shared(supervision.url())
            .unwrap()
            .connect_lazy();
        let mut config = registry.place.config("quality");
        config
            .peers
            .insert("registry".into(), registry.service.url());
        config.peers.insert("supervision".into(), supervision.url());
        config.peers.insert("crediting".into(), crediting.url());
        config.set("quality.follow_crediting_secs", 0);
        configure(&mut config);
        let service = start_service(config, |c, s| {
            quality::start_with_clock(c, s, ce_server::dates::fixed_clock(QUALITY_TODAY))
        })
        .await;
        let channel = service.channel().await;
        QualityEnv {
            registry,
            crediting,
            supervision: Some(supervision),
            supervision_addr,
            supervision_channel,
            service,
            channel,
            supervision_port,
        }
    }

    pub async fn stop_supervision(&mut self) {
        if let Some(s) = self.supervision.take() {
            s.stop().await;
        }
    }

    pub async fn restart_supervision(&mut self) {
        self.supervision = Some(
            QualityEnv::start_supervision(
                &self.registry,
                &self.crediting,
                self.supervision_port.addr(),
            )
            .await,
        );
    }

    pub fn client(&self, req: TokenRequest) -> Quality {
        let token = self.registry.place.token(req);
        ce_proto::quality::quality_service_client::QualityServiceClient::with_interceptor(
            self.channel.clone(),
            bearer(&token),
        )
    }

    /// Another quality-monitoring instance on the same database and peers:
    /// a second replica, as behind a load balancer.
    pub async fn start_replica(&self) -> Service {
        let mut config = self.registry.place.config("quality");
        config
            .peers
            .insert("registry".into(), self.registry.service.url());
        config.peers.insert(
            "supervision".into(),
            format!("http://{}", self.supervision_addr),
        );
        config
            .peers
            .insert("crediting".into(), self.crediting.url());
        start_service(config, |c, s| {
            quality::start_with_clock(c, s, ce_server::dates::fixed_clock(QUALITY_TODAY))
        })
        .await
    }

    /// A client of `replica` (see [`QualityEnv::start_replica`]).
    pub async fn client_of(&self, replica: &Service, req: TokenRequest) -> Quality {
        let token = self.registry.place.token(req);
        ce_proto::quality::quality_service_client::QualityServiceClient::with_interceptor(
            replica.channel().await,
            bearer(&token),
        )
    }

    /// `n` new engineers of the institution's province, each with two days
    /// (29-30 September 2026) of a course of its in its main field, uploaded
    /// by the institution to crediting: its learners, who may evaluate it
    /// (Art. 25).
    pub async fn learners(&self, institution: &str, n: usize) -> Vec<String> {
        use ce_proto::common::SubjectCategory;
        use ce_proto::crediting::hour_record::Activity;
        use ce_proto::crediting::{CreateHourRecordRequest, FaceToFaceTraining, HourRecord};
        use ce_proto::registry as reg;
        let date = |day| world::date(2026, 9, day);
        let inst = self
            .registry
            .ministry()
            .get_institution(reg::GetInstitutionRequest {
                name: institution.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let course = reg::Activity {
            title: "Site safety".into(),
            field: inst.fields[0],
            ..world::activity(&inst.province, date(1), date(30), 8.0)
        };
        let course =
            world::create_activity(&mut self.registry.institution(institution), course).await;
        let mut crediting = self
            .crediting(TokenRequest {
                org: Some(institution.into()),
                ..token(Role::Institution, "institution-clerk")
            })
            .await;
        let mut department = self.registry.province(&inst.province);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let learner = reg::Engineer {
                display_name: "学员".into(),
                field: inst.fields[0],
                ..world::engineer(&inst.province, "")
            };
            let engineer = world::create_engineer(&mut department, learner).await;
            crediting
                .create_hour_record(CreateHourRecordRequest {
                    hour_record: Some(HourRecord {
                        engineer: engineer.clone(),
                        registry_activity: course.clone(),
                        activity: Some(Activity::FaceToFace(FaceToFaceTraining {
                            subject_category: SubjectCategory::Professional as i32,
                            start_date: date(29),
                            days: 2,
                            hours_per_day: 8.0,
                        })),
                        ..Default::default()
                    }),
                })
                .await
                .unwrap();
            out.push(engineer);
        }
        out
    }

    pub fn supervision(&self, req: TokenRequest) -> Supervision {
        let token = self.registry.place.token(req);
        ce_proto::supervision::supervision_service_client::SupervisionServiceClient::with_interceptor(
            self.supervision_channel.clone(),
            bearer(&token),
        )
    }

    pub async fn crediting(&self, req: TokenRequest) -> Crediting {
        let token = self.registry.place.token(req);
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            self.crediting.channel().await,
            bearer(&token),
        )
    }
}

#[cfg(test)]
mod tests {
    /// Not a test: `make stop-test-postgres` runs it to stop the throwaway
    /// cluster the PostgreSQL tests leave running.
    #[test]
    #[ignore = "run by `make stop-test-postgres`"]
    fn stop_shared_cluster() {
        crate::pg::stop_shared_cluster();
    }
}
