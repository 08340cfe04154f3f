//! Authentication and the caller's identity.
//!
//! Every call but health and reflection carries `authorization: Bearer <JWT>`,
//! signed with Ed25519 (EdDSA). The token names the caller's role, its
//! province and field where it has one, and its organisation or person. The
//! [`AuthLayer`] verifies it and puts a [`Caller`] into the request's
//! extensions; handlers decide scope with it. A missing or bad token is
//! UNAUTHENTICATED.
//!
//! For development, [`DevKey::load_or_create`] writes a signing key under the
//! data folder on first start and `cectl token` mints tokens with it. A
//! production deployment refuses that key ([`Authenticator::from_config`]).

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
/// Key id of tokens signed with the service key (calls between services).
pub const SERVICE_KEY_ID: &str = "service";
/// File name of the development signing key under the data folder.
pub const DEV_KEY_FILE: &str = "dev-signing-key.pem";

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
    [
        Role::Ministry,
        Role::ProvincialHrss,
        Role::IndustryRegulator,
        Role::Institution,
        Role::Employer,
        Role::Engineer,
        Role::Service,
    ]
    .into_iter()
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
    service_key: Option<DecodingKey>,
    validation: Validation,
    production: bool,
    /// Tokens already verified, with the caller and when to stop trusting
    /// the answer (the token's expiry): a client sends the same token with
    /// every call, and an Ed25519 check costs more than the rest of a read.
    verified: std::sync::Mutex<std::collections::HashMap<String, (Caller, u64)>>,
}

/// The most verified tokens remembered; past it the memory starts afresh.
const VERIFIED_LIMIT: usize = 10_000;

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("production", &self.production)
            .field("accepts_service_tokens", &self.service_key.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Builds the verifier for a service. In development, without
    /// `auth.public_key_path`, the development key under `data_dir` is used
    /// (created on first start). In production the public key path is
    /// required, and the development key is refused.
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
        let service_pem = match (&auth.service_public_key_path, env) {
            (Some(path), _) => Some(read_key("auth.service_public_key_path", path)?),
            (None, Environment::Development) => Some(dev()?),
            // Without it, production accepts no service tokens at all.
            (None, Environment::Production) => None,
        };
        if production {
            refuse_dev_key("auth.public_key_path", &user_pem, data_dir)?;
            if let Some(pem) = &service_pem {
                refuse_dev_key("auth.service_public_key_path", pem, data_dir)?;
            }
        }
        let decode = |key: &str, pem: &str| {
            DecodingKey::from_ed_pem(pem.as_bytes())
                .map_err(|e| AuthError::Config(format!("{key}: not an Ed25519 public key: {e}")))
        };
        let user_key = decode("auth.public_key_path", &user_pem)?;
        let service_key = service_pem
            .as_deref()
            .map(|pem| decode("auth.service_public_key_path", pem))
            .transpose()?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&auth.issuer]);
        validation.set_audience(&[&auth.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Authenticator {
            verified: Default::default(),
            user_key,
            service_key,
            validation,
            production,
        })
    }

    /// Verifies a bearer token and returns the caller it names.
    ///
    /// People's tokens and services' tokens are signed with different keys
    /// (told apart by `kid`): a service holds only the service key, so it
    /// can never mint a person's token, and a person's key never makes a
    /// `service` caller. In development one key serves both.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let now = now_secs();
        if let Ok(verified) = self.verified.lock()
            && let Some((caller, until)) = verified.get(token)
            && now < *until
        {
            return Ok(caller.clone());
        }
        let (caller, exp) = self.verify_signed(token)?;
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= VERIFIED_LIMIT {
                verified.clear();
            }
            verified.insert(token.to_owned(), (caller.clone(), exp));
        }
        Ok(caller)
    }

    /// [`Authenticator::verify`] without the memory: the caller and the
    /// token's expiry.
    fn verify_signed(&self, token: &str) -> Result<(Caller, u64), AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let kid = header.kid.as_deref();
        if self.production && kid == Some(DEV_KEY_ID) {
            return Err(AuthError::Invalid(
                "development tokens are not accepted in production".into(),
            ));
        }
        let service_signed = kid == Some(SERVICE_KEY_ID);
        let key = if service_signed {
            self.service_key.as_ref().ok_or_else(|| {
                AuthError::Invalid(
                    "service tokens are not accepted: auth.service_public_key_path is not set"
                        .into(),
                )
            })?
        } else {
            &self.user_key
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let exp = data.claims.exp;
        let caller = caller_from_claims(data.claims)?;
        if service_signed && caller.role != Role::Service {
            return Err(AuthError::Invalid(
                "the service key signs only service tokens".into(),
            ));
        }
        if self.production && !service_signed && caller.role == Role::Service {
            return Err(AuthError::Invalid(
                "a service token must be signed with the service key".into(),
            ));
        }
        Ok((caller, exp))
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
        write_private(&path, &pem)?;
        Ok(key)
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

    /// A signer for development service tokens (calls between services).
    pub fn service_signer(&self, auth: &AuthConfig) -> Result<TokenSigner, AuthError> {
        TokenSigner::from_pem(
            &self.private_pem()?,
            Some(SERVICE_KEY_ID.to_owned()),
            &auth.issuer,
            &auth.audience,
        )
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

/// Production refuses the development key, by content or by name.
fn refuse_dev_key(key: &str, pem: &str, data_dir: &Path) -> Result<(), AuthError> {
    let dev_path = data_dir.join(DEV_KEY_FILE);
    let is_dev_key = dev_path.exists()
        && DevKey::load(&dev_path).is_ok_and(|k| k.public_pem().trim() == pem.trim());
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
    path.starts_with("/dashboard/")
        || path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
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
        match self.auth.verify_header(req.headers()) {
            Ok(caller) => {
                tracing::Span::current().record("role", caller.role_name());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_config() -> AuthConfig {
        AuthConfig {
            public_key_path: None,
            service_public_key_path: None,
            service_key_path: None,
            issuer: "ce-suite".into(),
            audience: "ce-suite".into(),
        }
    }

    fn token(dir: &Path, req: TokenRequest) -> String {
        let key = DevKey::load_or_create(dir).unwrap();
        key.signer(&auth_config()).unwrap().mint(&req).unwrap()
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

    #[test]
    fn in_production_service_and_user_tokens_need_their_own_keys() {
        let users = tempfile::tempdir().unwrap();
        let services = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let user_key = DevKey::load_or_create(users.path()).unwrap();
        let service_key = DevKey::load_or_create(services.path()).unwrap();
        let user_pub = here.path().join("users.pem");
        let service_pub = here.path().join("services.pem");
        std::fs::write(&user_pub, user_key.public_pem()).unwrap();
        std::fs::write(&service_pub, service_key.public_pem()).unwrap();
        let cfg = AuthConfig {
            public_key_path: Some(user_pub),
            service_public_key_path: Some(service_pub),
            ..auth_config()
        };
        let auth = Authenticator::from_config(Environment::Production, &cfg, here.path()).unwrap();
        let req = |role| TokenRequest {
            subject: "x".into(),
            role: Some(role),
            ttl_secs: 60,
            ..Default::default()
        };
        let signer = |k: &DevKey, kid: Option<&str>| {
            TokenSigner::from_pem(
                &k.private_pem().unwrap(),
                kid.map(str::to_owned),
                "ce-suite",
                "ce-suite",
            )
            .unwrap()
        };
        let ok = signer(&service_key, Some(SERVICE_KEY_ID))
            .mint(&req(Role::Service))
            .unwrap();
        assert_eq!(auth.verify(&ok).unwrap().role, Role::Service);
        let ok = signer(&user_key, None).mint(&req(Role::Ministry)).unwrap();
        assert_eq!(auth.verify(&ok).unwrap().role, Role::Ministry);
        // A service cannot mint a person's token with its key...
        let forged = signer(&service_key, Some(SERVICE_KEY_ID))
            .mint(&req(Role::Ministry))
            .unwrap();
        assert!(
            auth.verify(&forged)
                .unwrap_err()
                .to_string()
                .contains("only service tokens")
        );
        let forged = signer(&service_key, None)
            .mint(&req(Role::Ministry))
            .unwrap();
        assert!(auth.verify(&forged).is_err());
        // ...and the people's key makes no service caller.
        let forged = signer(&user_key, None).mint(&req(Role::Service)).unwrap();
        assert!(
            auth.verify(&forged)
                .unwrap_err()
                .to_string()
                .contains("service key")
        );
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
