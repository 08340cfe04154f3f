//! Authentication and the caller's identity.
//!
//! Every call but health and reflection carries `authorization: Bearer <JWT>`,
//! signed with Ed25519 (EdDSA). The token names the caller's role, its
//! province and field where it has one, and its organisation or person. The
//! [`AuthLayer`] verifies it and puts a [`Caller`] into the request's
//! extensions; handlers decide scope with it. A missing or bad token is
//! UNAUTHENTICATED.
//!
//! Each service of the suite has its own signing key for the calls it makes
//! to the others: its tokens have role `service`, `sub` = `service/{name}`
//! and key id `service/{name}`, and a receiver verifies them with the
//! public key it holds for that name (`auth.trusted_services`), so one
//! service's key can never speak for another. Every RPC declares which
//! services may call it ([`ServiceCallers`]); any other service is
//! PERMISSION_DENIED, and the refusal is audited (docs/architecture.md,
//! "Who may call what").
//!
//! For development, [`DevKey::load_or_create`] writes a signing key under the
//! data folder on first start and `cectl token` mints tokens with it; each
//! service's development key sits beside it. Their tokens carry a `ce-dev`
//! key id, which production refuses, and a production deployment refuses
//! the keys themselves ([`Authenticator::from_config`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use ce_proto::common::{Field, Role};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::Status;

use crate::config::{AuthConfig, Environment};

/// Key id put in the header of tokens signed with a development key, so a
/// production server can refuse them even if its key were misconfigured.
pub const DEV_KEY_ID: &str = "ce-dev";
/// File name of the development signing key under the data folder.
pub const DEV_KEY_FILE: &str = "dev-signing-key.pem";
/// The services of the suite.
pub const SUITE_SERVICES: &[&str] = &["registry", "crediting", "supervision", "quality"];
/// The national deployment's identity towards a provincial one
/// (docs/deploying.md, "One country, many systems"): a name outside the
/// suite, trusted only where `auth.trusted_services.national` names its key
/// (or, in development, its development key), which each service admits to
/// its change feeds and nothing else (its `SERVICE_CALLERS`).
pub const NATIONAL: &str = "national";
/// The only names a service token may carry: the suite's, and the national
/// deployment's.
pub const SERVICE_NAMES: &[&str] = &["registry", "crediting", "supervision", "quality", NATIONAL];

/// The key id (and subject) of `service`'s tokens: `service/{name}`.
pub fn service_kid(service: &str) -> String {
    format!("service/{service}")
}

/// File name of `service`'s development signing key under the data folder.
pub fn dev_service_key_file(service: &str) -> String {
    format!("dev-service-key-{service}.pem")
}

/// Whether a key id marks a development token: `ce-dev`, or `ce-dev/…` for
/// a service's development token.
fn is_dev_kid(kid: &str) -> bool {
    kid == DEV_KEY_ID || kid.starts_with("ce-dev/")
}

/// Which services of the suite may call each RPC of a service: its method
/// name and the services' names. An RPC it does not list admits no service;
/// people are decided by `permit.rs`'s tables, then by the handlers' scope rules.
pub type ServiceCallers = &'static [(&'static str, &'static [&'static str])];

/// The claims of a suite token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The principal: `engineers/{id}` for an engineer, else a person or
    /// system id of the organisation's choosing.
    pub sub: String,
    /// `ministry`, `provincial_hrss`, `industry_regulator`, `institution`,
    /// `employer`, `engineer` or `service`.
    pub role: String,
    /// Two-digit province code, for provincial roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Field enum name (for example `FIELD_CONSTRUCTION`), for regulators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The organisation the caller acts for: `institutions/{id}`,
    /// `employers/{id}`, or a department's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// Who is calling, as the verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub province: Option<String>,
    pub field: Option<Field>,
    pub org: Option<String>,
}

impl Caller {
    /// The suite service calling, for a service caller: `quality` for
    /// `service/quality`.
    pub fn service(&self) -> Option<&str> {
        match self.role {
            Role::Service => self.subject.strip_prefix("service/"),
            _ => None,
        }
    }

    /// The role's name as tokens and audit rows spell it.
    pub fn role_name(&self) -> &'static str {
        role_name(self.role)
    }

    /// The organisation the caller acts for: an institution's or employer's
    /// `org` claim; for a department, an id made from its verified scope
    /// (`hrss/national`, `hrss/44`, `regulator/FIELD_MINING/44`), never from
    /// a free-text claim, so two departments can never share one.
    /// Activities record their organiser this way, and crediting checks a
    /// department grants hours only for its own activities.
    pub fn organisation(&self) -> String {
        match self.role {
            Role::Ministry => "hrss/national".to_owned(),
            Role::ProvincialHrss => {
                format!("hrss/{}", self.province.as_deref().unwrap_or_default())
            }
            Role::IndustryRegulator => format!(
                "regulator/{}/{}",
                self.field.unwrap_or(Field::Unspecified).as_str_name(),
                self.province
                    .as_deref()
                    .unwrap_or(ce_proto::reference::NATIONAL)
            ),
            Role::Institution | Role::Employer => {
                self.org.clone().unwrap_or_else(|| self.subject.clone())
            }
            _ => self.subject.clone(),
        }
    }
}

/// The token spelling of a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Unspecified => "unspecified",
        Role::Ministry => "ministry",
        Role::ProvincialHrss => "provincial_hrss",
        Role::IndustryRegulator => "industry_regulator",
        Role::Institution => "institution",
        Role::Employer => "employer",
        Role::Engineer => "engineer",
        Role::Service => "service",
    }
}

/// The role a token spelling names.
pub fn parse_role(name: &str) -> Option<Role> {
    crate::permit::EVERYONE
        .iter()
        .copied()
        .chain([Role::Service])
        .find(|r| role_name(*r) == name)
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("auth configuration: {0}")]
    Config(String),
}

impl From<AuthError> for Status {
    fn from(e: AuthError) -> Status {
        match e {
            AuthError::Config(m) => Status::internal(m),
            other => Status::unauthenticated(other.to_string()),
        }
    }
}

/// Turns verified claims into a caller, checking that the role has what it
/// needs (a province for provincial HRSS, a field for a regulator, an
/// organisation for institutions and employers).
fn caller_from_claims(c: Claims) -> Result<Caller, AuthError> {
    let role = parse_role(&c.role)
        .ok_or_else(|| AuthError::Invalid(format!("unknown role `{}`", c.role)))?;
    let province = match c.province {
        Some(p) if ce_proto::reference::region(&p).is_none() => {
            return Err(AuthError::Invalid(format!("unknown province code `{p}`")));
        }
        p => p,
    };
    let field = match c.field {
        Some(f) => Some(
            Field::from_str_name(&f)
                .filter(|f| *f != Field::Unspecified)
                .ok_or_else(|| AuthError::Invalid(format!("unknown field `{f}`")))?,
        ),
        None => None,
    };
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(AuthError::Invalid(format!("role {} needs {what}", c.role)))
        }
    };
    match role {
        Role::ProvincialHrss => need(province.is_some(), "a province")?,
        Role::IndustryRegulator => need(field.is_some(), "a field")?,
        Role::Institution => need(
            c.org
                .as_deref()
                .is_some_and(|o| o.starts_with("institutions/")),
            "org = institutions/{id}",
        )?,
        Role::Employer => need(
            c.org
                .as_deref()
                .is_some_and(|o| o.starts_with("employers/")),
            "org = employers/{id}",
        )?,
        Role::Engineer => need(c.sub.starts_with("engineers/"), "sub = engineers/{id}")?,
        Role::Service => need(
            c.sub
                .strip_prefix("service/")
                .is_some_and(|name| SERVICE_NAMES.contains(&name)),
            "sub = service/{name}, a service of the suite or the national deployment",
        )?,
        _ => {}
    }
    if c.sub.is_empty() {
        return Err(AuthError::Invalid("empty subject".into()));
    }
    Ok(Caller {
        subject: c.sub,
        role,
        province,
        field,
        org: c.org,
    })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Verifies tokens.
pub struct Authenticator {
    user_key: DecodingKey,
    /// The public keys of the services whose calls are accepted, by name.
    service_keys: std::collections::BTreeMap<String, DecodingKey>,
    /// Which services may call which RPC of this service.
    callers: ServiceCallers,
    /// Which roles of people may call each RPC (`permit.rs`).
    people: crate::permit::People,
    /// How often one peer may call the RPCs anyone may call, without a
    /// token.
    anonymous: Anonymous,
    /// Where refused service calls are audited.
    audit: Option<ce_db::Db>,
    validation: Validation,
    production: bool,
    /// Tokens already verified, with the caller and when to stop trusting
    /// the answer (the token's expiry): a client sends the same token with
    /// every call, and an Ed25519 check costs more than the rest of a read.
    verified: moka::sync::Cache<String, (Caller, u64)>,
}

/// The most verified tokens remembered; past it the least used go first.
const VERIFIED_LIMIT: u64 = 10_000;

/// A verified token is forgotten when it expires (its `exp`, in seconds
/// since the epoch).
struct UntilExpiry;

impl UntilExpiry {
    fn left(exp: u64) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(
            exp.saturating_sub(now_secs()),
        ))
    }
}

impl moka::Expiry<String, (Caller, u64)> for UntilExpiry {
    fn expire_after_create(
        &self,
        _token: &String,
        (_, exp): &(Caller, u64),
        _created_at: std::time::Instant,
    ) -> Option<std::time::Duration> {
        UntilExpiry::left(*exp)
    }

    fn expire_after_update(
        &self,
        _token: &String,
        (_, exp): &(Caller, u64),
        _updated_at: std::time::Instant,
        _left: Option<std::time::Duration>,
    ) -> Option<std::time::Duration> {
        UntilExpiry::left(*exp)
    }
}

fn verified_cache() -> moka::sync::Cache<String, (Caller, u64)> {
    moka::sync::Cache::builder()
        .max_capacity(VERIFIED_LIMIT)
        .expire_after(UntilExpiry)
        .build()
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("production", &self.production)
            .field("trusted_services", &self.service_keys.keys())
            .finish()
    }
}

impl Authenticator {
    /// Builds the verifier for a service. In development, without
    /// `auth.public_key_path`, the development key under `data_dir` is used
    /// (created on first start). In production the public key path is
    /// required, and the development keys are refused.
    ///
    /// Services are trusted by name: `auth.trusted_services` maps each to
    /// its public key. In development, when it is empty, every suite
    /// service's development key under `data_dir` is trusted; in production
    /// an empty map accepts no service at all.
    pub fn from_config(
        env: Environment,
        auth: &AuthConfig,
        data_dir: &Path,
    ) -> Result<Authenticator, AuthError> {
        let production = env == Environment::Production;
        let dev = || DevKey::load_or_create(data_dir).map(|k| k.public_pem());
        let user_pem = match (&auth.public_key_path, env) {
            (Some(path), _) => read_key("auth.public_key_path", path)?,
            (None, Environment::Development) => dev()?,
            (None, Environment::Production) => {
                return Err(AuthError::Config(
                    "auth.public_key_path is required when environment = production".into(),
                ));
            }
        };
        let mut service_pems = Vec::new();
        for (name, path) in &auth.trusted_services {
            let key = format!("auth.trusted_services.{name}");
            if !SERVICE_NAMES.contains(&name.as_str()) {
                return Err(AuthError::Config(format!(
                    "{key}: not a service of the suite or the national deployment (one of {})",
                    SERVICE_NAMES.join(", ")
                )));
            }
            service_pems.push((name.clone(), key.clone(), read_key(&key, path)?));
        }
        if service_pems.is_empty() && env == Environment::Development {
            for name in SERVICE_NAMES {
                let pem = DevKey::load_or_create_file(data_dir, &dev_service_key_file(name))?
                    .public_pem();
                service_pems.push(((*name).to_owned(), "development".to_owned(), pem));
            }
        }
        if production {
            refuse_dev_key("auth.public_key_path", &user_pem, data_dir)?;
            for (_, key, pem) in &service_pems {
                refuse_dev_key(key, pem, data_dir)?;
            }
        }
        let decode = |key: &str, pem: &str| {
            DecodingKey::from_ed_pem(pem.as_bytes())
                .map_err(|e| AuthError::Config(format!("{key}: not an Ed25519 public key: {e}")))
        };
        let user_key = decode("auth.public_key_path", &user_pem)?;
        let mut service_keys = std::collections::BTreeMap::new();
        for (name, key, pem) in &service_pems {
            if pem.trim() == user_pem.trim() {
                return Err(AuthError::Config(format!(
                    "{key}: a service's key must not be the key of people's tokens"
                )));
            }
            service_keys.insert(name.clone(), decode(key, pem)?);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&auth.issuer]);
        validation.set_audience(&[&auth.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Authenticator {
            verified: verified_cache(),
            user_key,
            service_keys,
            callers: &[],
            people: crate::permit::People::NONE,
            anonymous: Anonymous::new(auth.anonymous_calls_per_minute, auth.anonymous_burst),
            audit: None,
            validation,
            production,
        })
    }

    /// Admits services only to the RPCs `callers` names for them, auditing
    /// every refusal in `audit`.
    pub fn with_service_callers(
        mut self,
        callers: ServiceCallers,
        audit: Option<ce_db::Db>,
    ) -> Authenticator {
        self.callers = callers;
        self.audit = audit;
        self
    }

    /// Admits people only to the RPCs `people` names for their role.
    pub fn with_people(mut self, people: crate::permit::People) -> Authenticator {
        self.people = people;
        self
    }

    /// Whether `service` may call `method` (the RPC's name) here.
    pub fn service_may_call(&self, service: &str, method: &str) -> bool {
        self.callers
            .iter()
            .any(|(m, services)| *m == method && services.contains(&service))
    }

    /// Verifies a bearer token and returns the caller it names.
    ///
    /// People's tokens and services' tokens are signed with different keys
    /// (told apart by `kid`): a service holds only its own key, so it can
    /// never mint a person's token or another service's, and people's key
    /// never makes a `service` caller.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        // The cache forgets a token when it expires; the check here holds
        // to the second whatever the cache's own clock says.
        if let Some((caller, until)) = self.verified.get(token)
            && now_secs() < until
        {
            return Ok(caller);
        }
        let (caller, exp) = self.verify_signed(token)?;
        self.verified
            .insert(token.to_owned(), (caller.clone(), exp));
        Ok(caller)
    }

    /// [`Authenticator::verify`] without the memory: the caller and the
    /// token's expiry.
    fn verify_signed(&self, token: &str) -> Result<(Caller, u64), AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let kid = header.kid.as_deref().unwrap_or_default();
        if self.production && is_dev_kid(kid) {
            return Err(AuthError::Invalid(
                "development tokens are not accepted in production".into(),
            ));
        }
        let service = kid
            .strip_prefix("ce-dev/")
            .unwrap_or(kid)
            .strip_prefix("service/");
        let key = match service {
            Some(name) => self.service_keys.get(name).ok_or_else(|| {
                AuthError::Invalid(format!(
                    "calls from service `{name}` are not accepted here: auth.trusted_services has no key for it"
                ))
            })?,
            None => &self.user_key,
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let exp = data.claims.exp;
        let caller = caller_from_claims(data.claims)?;
        match service {
            Some(name) if caller.service() != Some(name) => Err(AuthError::Invalid(format!(
                "service `{name}`'s key signs only its own tokens (role service, sub service/{name})"
            ))),
            None if caller.role == Role::Service => Err(AuthError::Invalid(
                "a service token must be signed with its service's own key (kid service/{name})"
                    .into(),
            )),
            _ => Ok((caller, exp)),
        }
    }

    /// Verifies the `authorization` header of a request.
    pub fn verify_header(&self, headers: &http::HeaderMap) -> Result<Caller, AuthError> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Invalid("authorization header is not ASCII".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::Missing)?;
        self.verify(token.trim())
    }
}

impl Authenticator {
    /// Refuses a service's call of an RPC not declared for it, auditing the
    /// refusal (who, which RPC, the request id) before answering.
    fn refuse_service<B>(
        &self,
        caller: &Caller,
        req: &http::Request<B>,
    ) -> impl std::future::Future<Output = Status> + Send + 'static {
        let service = caller.service().unwrap_or_default();
        let method = req.uri().path().rsplit('/').next().unwrap_or_default();
        tracing::warn!(service, rpc = %req.uri().path(), "service call refused: not declared for it");
        self.refuse(
            caller,
            req,
            crate::error::status_for(
                crate::reason::Reason::RoleNotPermitted,
                format!(
                    "service `{service}` may not call {method}: each RPC names the services that may call it (docs/architecture.md, \"Who may call what\")"
                ),
            ),
        )
    }

    /// Refuses a person whose role may not call the RPC at all, before its
    /// request is read, auditing the refusal.
    fn refuse_person<B>(
        &self,
        caller: &Caller,
        req: &http::Request<B>,
        refusal: crate::permit::Refusal,
    ) -> impl std::future::Future<Output = Status> + Send + 'static {
        let method = req.uri().path().rsplit('/').next().unwrap_or_default();
        tracing::info!(role = caller.role_name(), rpc = %req.uri().path(), "call refused: role not permitted");
        let message = refusal.message(caller.role_name(), method);
        self.refuse(
            caller,
            req,
            crate::error::status_for(refusal.reason, message),
        )
    }

    /// Audits a refused call (who, which RPC, the request id), then answers
    /// `status`.
    fn refuse<B>(
        &self,
        caller: &Caller,
        req: &http::Request<B>,
        status: Status,
    ) -> impl std::future::Future<Output = Status> + Send + 'static {
        let path = req.uri().path();
        let context = req
            .extensions()
            .get::<crate::context::RequestContext>()
            .cloned()
            .unwrap_or_else(|| crate::context::RequestContext {
                request_id: String::new(),
                rpc: path.to_owned(),
            });
        let entry = crate::call::audit_entry(caller, &context, path, "PERMISSION_DENIED");
        let db = self.audit.clone();
        async move {
            if let Some(db) = db
                && let Err(e) = db
                    .write(move |conn| ce_db::audit::append(conn, &entry))
                    .await
            {
                tracing::error!(error = %e, "could not audit a refused call");
            }
            status
        }
    }
}

/// An Ed25519 signing key that mints tokens.
pub struct TokenSigner {
    key: EncodingKey,
    kid: Option<String>,
    issuer: String,
    audience: String,
}

/// What a new token says; see [`Claims`].
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub subject: String,
    pub role: Option<Role>,
    pub province: Option<String>,
    pub field: Option<Field>,
    pub org: Option<String>,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

impl TokenSigner {
    /// A signer from a PKCS#8 PEM private key.
    pub fn from_pem(
        private_pem: &str,
        kid: Option<String>,
        issuer: &str,
        audience: &str,
    ) -> Result<TokenSigner, AuthError> {
        Ok(TokenSigner {
            key: EncodingKey::from_ed_pem(private_pem.as_bytes())
                .map_err(|e| AuthError::Config(format!("not an Ed25519 private key: {e}")))?,
            kid,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Signs a token.
    pub fn mint(&self, req: &TokenRequest) -> Result<String, AuthError> {
        let role = req.role.unwrap_or(Role::Unspecified);
        let now = now_secs();
        let claims = Claims {
            sub: req.subject.clone(),
            role: role_name(role).to_owned(),
            province: req.province.clone(),
            field: req.field.map(|f| f.as_str_name().to_owned()),
            org: req.org.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + req.ttl_secs.max(1),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| AuthError::Config(e.to_string()))
    }
}

/// The development signing key, kept under the data folder.
pub struct DevKey {
    signing: ed25519_dalek::SigningKey,
}

impl DevKey {
    /// Reads `<data_dir>/dev-signing-key.pem`, creating it (mode 0600) if
    /// it does not exist.
    pub fn load_or_create(data_dir: &Path) -> Result<DevKey, AuthError> {
        DevKey::load_or_create_file(data_dir, DEV_KEY_FILE)
    }

    /// Reads `<data_dir>/<file>`, creating it (mode 0600) if it does not
    /// exist: a development key for another purpose, such as certificates.
    pub fn load_or_create_file(data_dir: &Path, file: &str) -> Result<DevKey, AuthError> {
        let path = data_dir.join(file);
        if path.exists() {
            return DevKey::load(&path);
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|e| AuthError::Config(format!("data_dir {}: {e}", data_dir.display())))?;
        let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let key = DevKey { signing };
        let pem = key.private_pem()?;
        // Services starting together may each make the same key: the first
        // one linked into place wins, and the others read it.
        let tmp = data_dir.join(format!(
            ".{file}.{}.{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        write_private(&tmp, &pem)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => DevKey::load(&path),
            Err(e) => Err(AuthError::Config(format!("{}: {e}", path.display()))),
        }
    }

    /// Reads an existing development key.
    pub fn load(path: &Path) -> Result<DevKey, AuthError> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(path)
            .map_err(|e| AuthError::Config(format!("{}: {e}", path.display())))?;
        let signing = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            AuthError::Config(format!("{}: not an Ed25519 key: {e}", path.display()))
        })?;
        Ok(DevKey { signing })
    }

    fn private_pem(&self) -> Result<String, AuthError> {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        self.signing
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map(|p| p.to_string())
            .map_err(|e| AuthError::Config(e.to_string()))
    }

    /// The Ed25519 key itself.
    pub fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.signing
    }

    /// The public half, as SPKI PEM.
    pub fn public_pem(&self) -> String {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        self.signing
            .verifying_key()
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap_or_default()
    }

    /// A signer for development tokens.
    pub fn signer(&self, auth: &AuthConfig) -> Result<TokenSigner, AuthError> {
        TokenSigner::from_pem(
            &self.private_pem()?,
            Some(DEV_KEY_ID.to_owned()),
            &auth.issuer,
            &auth.audience,
        )
    }

    /// A signer for `service`'s development tokens (its calls to peers):
    /// key id `ce-dev/service/{name}`, which production refuses.
    pub fn service_signer(
        &self,
        service: &str,
        auth: &AuthConfig,
    ) -> Result<TokenSigner, AuthError> {
        TokenSigner::from_pem(
            &self.private_pem()?,
            Some(format!("ce-dev/{}", service_kid(service))),
            &auth.issuer,
            &auth.audience,
        )
    }

    /// `service`'s development key under `data_dir`, made on first use.
    pub fn for_service(data_dir: &Path, service: &str) -> Result<DevKey, AuthError> {
        DevKey::load_or_create_file(data_dir, &dev_service_key_file(service))
    }

    /// Where the key of `data_dir` lives.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(DEV_KEY_FILE)
    }
}

fn write_private(path: &Path, contents: &str) -> Result<(), AuthError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| AuthError::Config(format!("{}: {e}", path.display())))?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| AuthError::Config(format!("{}: {e}", path.display())))
}

fn read_key(key: &str, path: &Path) -> Result<String, AuthError> {
    std::fs::read_to_string(path)
        .map_err(|e| AuthError::Config(format!("{key} {}: {e}", path.display())))
}

/// Production refuses the development keys (people's and each service's)
/// found under the data folder.
fn refuse_dev_key(key: &str, pem: &str, data_dir: &Path) -> Result<(), AuthError> {
    let files = std::iter::once(DEV_KEY_FILE.to_owned())
        .chain(SERVICE_NAMES.iter().map(|s| dev_service_key_file(s)));
    let is_dev_key = files.map(|f| data_dir.join(f)).any(|dev_path| {
        dev_path.exists()
            && DevKey::load(&dev_path).is_ok_and(|k| k.public_pem().trim() == pem.trim())
    });
    if is_dev_key {
        return Err(AuthError::Config(format!(
            "{key}: production refuses the development signing key"
        )));
    }
    Ok(())
}

/// Paths that need no token: health checks and reflection.
fn is_public(path: &str) -> bool {
    // Static pages (the quality dashboard) carry no data; their calls do, with a token.
    // Crediting's published documents (a `did:web` DID document, the
    // certificates' revocation status lists) are for anyone to fetch: no
    // gRPC method has such a path.
    path.starts_with("/dashboard/")
        || path.starts_with("/.well-known/")
        || path.ends_with("/did.json")
        || path.starts_with("/credentials/status/")
        || path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// The RPCs anyone may call without a token: checking a certificate
/// (an employer, a title committee). With a token they are authenticated
/// as any call; without one they reach the service with no [`Caller`],
/// each peer address limited by [`Anonymous`].
const ANONYMOUS: &[&str] = &["/ce.crediting.v1.CreditingService/VerifyHourCertificate"];

/// How often one peer address may call [`ANONYMOUS`] RPCs without a token:
/// a token bucket per address (`auth.anonymous_calls_per_minute`, refill;
/// `auth.anonymous_burst`, size).
pub struct Anonymous {
    per_second: f64,
    burst: f64,
    buckets:
        std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (f64, std::time::Instant)>>,
}

/// Peer addresses remembered before full buckets are forgotten.
const ANONYMOUS_PEERS: usize = 10_000;

impl Anonymous {
    pub fn new(per_minute: u32, burst: u32) -> Anonymous {
        Anonymous {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Default::default(),
        }
    }

    /// Takes a call from `peer`'s bucket at `now`; false when it is empty.
    pub fn admit(&self, peer: std::net::IpAddr, now: std::time::Instant) -> bool {
        if self.per_second <= 0.0 {
            return false;
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return false;
        };
        if buckets.len() >= ANONYMOUS_PEERS && !buckets.contains_key(&peer) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (left, at) = buckets.entry(peer).or_insert((self.burst, now));
        *left = (*left + now.saturating_duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.burst);
        *at = now;
        if *left >= 1.0 {
            *left -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The peer address of a request (TCP, or TCP under TLS).
fn peer_ip<B>(req: &http::Request<B>) -> Option<std::net::IpAddr> {
    crate::connection::remote_addr(req).map(|a| a.ip())
}

/// Tower layer that authenticates every call but health and reflection.
#[derive(Clone)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    pub fn new(auth: Arc<Authenticator>) -> AuthLayer {
        AuthLayer { auth }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// See [`AuthLayer`].
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        if is_public(req.uri().path()) {
            return Box::pin(self.inner.call(req));
        }
        if ANONYMOUS.contains(&req.uri().path())
            && !req.headers().contains_key(http::header::AUTHORIZATION)
        {
            return self.anonymous(req);
        }
        match self.auth.verify_header(req.headers()) {
            Ok(caller) => {
                tracing::Span::current().record("role", caller.role_name());
                if let Some(service) = caller.service() {
                    let method = req.uri().path().rsplit('/').next().unwrap_or_default();
                    if !self.auth.service_may_call(service, method) {
                        let refused = self.auth.refuse_service(&caller, &req);
                        return Box::pin(async move { Ok(refused.await.into_http()) });
                    }
                } else if let Some(refusal) =
                    self.auth.people.refuses(caller.role, req.uri().path())
                {
                    let refused = self.auth.refuse_person(&caller, &req, refusal);
                    return Box::pin(async move { Ok(refused.await.into_http()) });
                }
                req.extensions_mut().insert(caller);
                Box::pin(self.inner.call(req))
            }
            Err(e) => {
                tracing::info!(error = %e, "call refused: unauthenticated");
                Box::pin(std::future::ready(Ok(Status::from(e).into_http())))
            }
        }
    }
}

impl<S> AuthService<S> {
    /// A call without a token to an RPC anyone may call: passed on with no
    /// [`Caller`] while its peer's bucket has room, else
    /// RESOURCE_EXHAUSTED (`ANONYMOUS_RATE_LIMITED`).
    #[allow(clippy::type_complexity)]
    fn anonymous<B>(
        &mut self,
        req: http::Request<B>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>
    where
        S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
        S::Future: Send + 'static,
        S::Error: Send + 'static,
    {
        let peer = peer_ip(&req);
        let admitted =
            peer.is_some_and(|ip| self.auth.anonymous.admit(ip, std::time::Instant::now()));
        if admitted {
            tracing::Span::current().record("role", "anonymous");
            return Box::pin(self.inner.call(req));
        }
        tracing::info!(peer = ?peer, rpc = %req.uri().path(), "call without a token refused: over its peer's rate");
        let status = crate::error::status_for(
            crate::reason::Reason::AnonymousRateLimited,
            "too many calls without a token from this address \
             (auth.anonymous_calls_per_minute, auth.anonymous_burst): retry later, \
             or call with a token",
        );
        Box::pin(std::future::ready(Ok(status.into_http())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_config() -> AuthConfig {
        AuthConfig {
            public_key_path: None,
            trusted_services: Default::default(),
            service_key_path: None,
            issuer: "ce-suite".into(),
            audience: "ce-suite".into(),
            anonymous_calls_per_minute: 60,
            anonymous_burst: 20,
        }
    }

    /// The national deployment's identity is trusted only where its key is
    /// configured: in production a service with no `trusted_services`
    /// accepts no national token; named, it does; a name that is neither
    /// the suite's nor the national one stops start-up.
    #[test]
    fn the_national_identity_is_trusted_only_where_configured() {
        let dir = tempfile::tempdir().unwrap();
        let national = DevKey::for_service(dir.path(), NATIONAL).unwrap();
        let people = DevKey::load_or_create(dir.path()).unwrap();
        let own = tempfile::tempdir().unwrap();
        let write = |name: &str, pem: String| {
            let path = own.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        let mut config = AuthConfig {
            public_key_path: Some(write("people.pem", people.public_pem())),
            ..auth_config()
        };
        // Signed as the national deployment signs in production: its own
        // key, key id `service/national`.
        let minted = TokenSigner::from_pem(
            &national.private_pem().unwrap(),
            Some(service_kid(NATIONAL)),
            &config.issuer,
            &config.audience,
        )
        .unwrap()
        .mint(&TokenRequest {
            subject: service_kid(NATIONAL),
            role: Some(Role::Service),
            ttl_secs: 60,
            ..Default::default()
        })
        .unwrap();
        let production = |config: &AuthConfig| {
            Authenticator::from_config(Environment::Production, config, own.path())
        };
        assert!(production(&config).unwrap().verify(&minted).is_err());
        config.trusted_services.insert(
            NATIONAL.into(),
            write("national.pem", national.public_pem()),
        );
        let caller = production(&config).unwrap().verify(&minted).unwrap();
        assert_eq!(caller.service(), Some(NATIONAL));
        config.trusted_services.insert(
            "provincial".into(),
            write("other.pem", national.public_pem()),
        );
        let e = production(&config).unwrap_err().to_string();
        assert!(e.contains("auth.trusted_services.provincial"), "{e}");
    }

    fn token(dir: &Path, req: TokenRequest) -> String {
        let key = DevKey::load_or_create(dir).unwrap();
        key.signer(&auth_config()).unwrap().mint(&req).unwrap()
    }

    #[test]
    fn each_peer_has_its_own_bucket_that_refills_at_the_rate() {
        let limit = Anonymous::new(60, 3);
        let (a, b): (std::net::IpAddr, std::net::IpAddr) =
            ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let t0 = std::time::Instant::now();
        let burst: Vec<bool> = (0..4).map(|_| limit.admit(a, t0)).collect();
        assert_eq!(burst, [true, true, true, false]);
        assert!(limit.admit(b, t0), "another peer has its own bucket");
        // One a second: half a second later still empty, a second later one.
        assert!(!limit.admit(a, t0 + std::time::Duration::from_millis(500)));
        assert!(limit.admit(a, t0 + std::time::Duration::from_millis(1100)));
        assert!(!limit.admit(a, t0 + std::time::Duration::from_millis(1100)));
        // Never more than the burst, however long it waited.
        let later = t0 + std::time::Duration::from_secs(3600);
        assert_eq!((0..4).filter(|_| limit.admit(b, later)).count(), 3);
        assert!(!Anonymous::new(0, 5).admit(a, t0), "0 a minute refuses all");
    }

    #[test]
    fn a_dev_token_verifies_and_names_its_caller() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::from_config(Environment::Development, &auth_config(), dir.path())
            .unwrap();
        let t = token(
            dir.path(),
            TokenRequest {
                subject: "clerk-1".into(),
                role: Some(Role::ProvincialHrss),
                province: Some("44".into()),
                ttl_secs: 60,
                ..Default::default()
            },
        );
        let caller = auth.verify(&t).unwrap();
        assert_eq!(caller.role, Role::ProvincialHrss);
        assert_eq!(caller.province.as_deref(), Some("44"));
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::from_config(Environment::Development, &auth_config(), dir.path())
            .unwrap();
        let live = token(
            dir.path(),
            TokenRequest {
                subject: "clerk-1".into(),
                role: Some(Role::Ministry),
                ttl_secs: 60,
                ..Default::default()
            },
        );
        let caller = auth.verify(&live).unwrap();
        let (remembered, until) = auth.verified.get(&live).unwrap();
        assert_eq!(remembered, caller);
        assert!(until > now_secs() && until <= now_secs() + 60);
        // Expired 5 s ago: inside the 30 s leeway the signature check
        // allows, so accepted, but not remembered past its expiry.
        let signer = DevKey::load_or_create(dir.path())
            .unwrap()
            .signer(&auth_config())
            .unwrap();
        let now = now_secs();
        let claims = Claims {
            sub: "clerk-1".into(),
            role: "ministry".into(),
            province: None,
            field: None,
            org: None,
            iss: "ce-suite".into(),
            aud: "ce-suite".into(),
            iat: now - 65,
            exp: now - 5,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = signer.kid.clone();
        let expired = jsonwebtoken::encode(&header, &claims, &signer.key).unwrap();
        assert_eq!(auth.verify(&expired).unwrap().subject, "clerk-1");
        assert!(auth.verified.get(&expired).is_none());
        assert!(auth.verified.get(&live).is_some());
    }

    #[test]
    fn a_provincial_token_without_a_province_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Authenticator::from_config(Environment::Development, &auth_config(), dir.path())
            .unwrap();
        let t = token(
            dir.path(),
            TokenRequest {
                subject: "clerk-1".into(),
                role: Some(Role::ProvincialHrss),
                ttl_secs: 60,
                ..Default::default()
            },
        );
        let err = auth.verify(&t).unwrap_err().to_string();
        assert!(err.contains("needs a province"), "{err}");
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let ours = tempfile::tempdir().unwrap();
        let theirs = tempfile::tempdir().unwrap();
        let auth =
            Authenticator::from_config(Environment::Development, &auth_config(), ours.path())
                .unwrap();
        let t = token(
            theirs.path(),
            TokenRequest {
                subject: "x".into(),
                role: Some(Role::Ministry),
                ttl_secs: 60,
                ..Default::default()
            },
        );
        assert!(matches!(auth.verify(&t), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn production_refuses_to_start_without_a_key_or_with_the_dev_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = Authenticator::from_config(Environment::Production, &auth_config(), dir.path())
            .unwrap_err();
        assert!(
            err.to_string().contains("auth.public_key_path is required"),
            "{err}"
        );

        let key = DevKey::load_or_create(dir.path()).unwrap();
        let copy = dir.path().join("verify.pem");
        std::fs::write(&copy, key.public_pem()).unwrap();
        let cfg = AuthConfig {
            public_key_path: Some(copy),
            ..auth_config()
        };
        let err =
            Authenticator::from_config(Environment::Production, &cfg, dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains("refuses the development signing key"),
            "{err}"
        );
    }

    /// A production verifier trusting people's key and the keys of
    /// supervision and quality, with those keys to sign with.
    struct Deployment {
        auth: Authenticator,
        users: DevKey,
        supervision: DevKey,
        quality: DevKey,
        _dirs: Vec<tempfile::TempDir>,
    }

    fn deployment() -> Deployment {
        let (users, sup, qual, here) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let key = |d: &tempfile::TempDir, file: &str| {
            let k = DevKey::load_or_create(d.path()).unwrap();
            let public = here.path().join(file);
            std::fs::write(&public, k.public_pem()).unwrap();
            (k, public)
        };
        let (user_key, user_pub) = key(&users, "users.pem");
        let (sup_key, sup_pub) = key(&sup, "supervision.pem");
        let (qual_key, qual_pub) = key(&qual, "quality.pem");
        let cfg = AuthConfig {
            public_key_path: Some(user_pub),
            trusted_services: [
                ("supervision".to_owned(), sup_pub),
                ("quality".to_owned(), qual_pub),
            ]
            .into(),
            ..auth_config()
        };
        let auth = Authenticator::from_config(Environment::Production, &cfg, here.path())
            .unwrap()
            .with_service_callers(&[("RevokeHourRecords", &["supervision"])], None);
        Deployment {
            auth,
            users: user_key,
            supervision: sup_key,
            quality: qual_key,
            _dirs: vec![users, sup, qual, here],
        }
    }

    fn signer(k: &DevKey, kid: Option<&str>) -> TokenSigner {
        TokenSigner::from_pem(
            &k.private_pem().unwrap(),
            kid.map(str::to_owned),
            "ce-suite",
            "ce-suite",
        )
        .unwrap()
    }

    fn req(role: Role, subject: &str) -> TokenRequest {
        TokenRequest {
            subject: subject.into(),
            role: Some(role),
            ttl_secs: 60,
            ..Default::default()
        }
    }

    #[test]
    fn each_service_is_known_by_its_own_key_and_name() {
        let d = deployment();
        let ok = signer(&d.supervision, Some("service/supervision"))
            .mint(&req(Role::Service, "service/supervision"))
            .unwrap();
        let caller = d.auth.verify(&ok).unwrap();
        assert_eq!(caller.service(), Some("supervision"));
        assert!(d.auth.service_may_call("supervision", "RevokeHourRecords"));
        assert!(!d.auth.service_may_call("quality", "RevokeHourRecords"));
        assert!(!d.auth.service_may_call("supervision", "CreateHourRecord"));
        let ok = signer(&d.users, None)
            .mint(&req(Role::Ministry, "x"))
            .unwrap();
        assert_eq!(d.auth.verify(&ok).unwrap().role, Role::Ministry);
    }

    #[test]
    fn a_service_key_cannot_speak_for_another_service_or_a_person() {
        let d = deployment();
        let refused = |token: String, why: &str| {
            let err = d.auth.verify(&token).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        };
        // Quality's key, claiming supervision's name in the key id: the
        // signature does not verify with supervision's key.
        refused(
            signer(&d.quality, Some("service/supervision"))
                .mint(&req(Role::Service, "service/supervision"))
                .unwrap(),
            "InvalidSignature",
        );
        // Quality's key and key id, claiming supervision's name in `sub`.
        refused(
            signer(&d.quality, Some("service/quality"))
                .mint(&req(Role::Service, "service/supervision"))
                .unwrap(),
            "signs only its own tokens",
        );
        // A service's key minting a person's token.
        refused(
            signer(&d.quality, Some("service/quality"))
                .mint(&req(Role::Ministry, "service/quality"))
                .unwrap(),
            "signs only its own tokens",
        );
        refused(
            signer(&d.quality, None)
                .mint(&req(Role::Ministry, "x"))
                .unwrap(),
            "InvalidSignature",
        );
        // People's key makes no service caller.
        refused(
            signer(&d.users, None)
                .mint(&req(Role::Service, "service/quality"))
                .unwrap(),
            "its service's own key",
        );
        // A service this deployment does not trust.
        refused(
            signer(&d.quality, Some("service/registry"))
                .mint(&req(Role::Service, "service/registry"))
                .unwrap(),
            "not accepted here",
        );
        // A name outside the suite.
        refused(
            signer(&d.quality, Some("service/quality"))
                .mint(&req(Role::Service, "service/mallory"))
                .unwrap(),
            "a service of the suite",
        );
        // A service's development token, even with a trusted key.
        refused(
            d.quality
                .service_signer("quality", &auth_config())
                .unwrap()
                .mint(&req(Role::Service, "service/quality"))
                .unwrap(),
            "development tokens",
        );
    }

    #[test]
    fn trusted_services_must_be_suite_services_with_their_own_keys() {
        let dir = tempfile::tempdir().unwrap();
        let users = DevKey::load_or_create(dir.path()).unwrap();
        let public = dir.path().join("users.pem");
        std::fs::write(&public, users.public_pem()).unwrap();
        let cfg = |name: &str| AuthConfig {
            public_key_path: Some(public.clone()),
            trusted_services: [(name.to_owned(), public.clone())].into(),
            ..auth_config()
        };
        let elsewhere = tempfile::tempdir().unwrap();
        let err =
            Authenticator::from_config(Environment::Production, &cfg("mallory"), elsewhere.path())
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("auth.trusted_services.mallory: not a service"),
            "{err}"
        );
        let err =
            Authenticator::from_config(Environment::Production, &cfg("quality"), elsewhere.path())
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("must not be the key of people's tokens"),
            "{err}"
        );
    }

    #[test]
    fn services_starting_together_share_one_development_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let keys: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| DevKey::for_service(&path, "quality").unwrap().public_pem()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary files left: {left:?}");
    }

    #[test]
    fn production_refuses_tokens_marked_as_development_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let key = DevKey::load_or_create(dir.path()).unwrap();
        // A deployment key that happens to be used with the dev kid.
        let elsewhere = tempfile::tempdir().unwrap();
        let pub_path = elsewhere.path().join("verify.pem");
        std::fs::write(&pub_path, key.public_pem()).unwrap();
        let cfg = AuthConfig {
            public_key_path: Some(pub_path),
            ..auth_config()
        };
        let auth =
            Authenticator::from_config(Environment::Production, &cfg, elsewhere.path()).unwrap();
        let t = key
            .signer(&auth_config())
            .unwrap()
            .mint(&TokenRequest {
                subject: "x".into(),
                role: Some(Role::Ministry),
                ttl_secs: 60,
                ..Default::default()
            })
            .unwrap();
        let err = auth.verify(&t).unwrap_err().to_string();
        assert!(err.contains("development tokens"), "{err}");
    }
}
