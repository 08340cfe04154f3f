//! Connecting to the services, and saying what went wrong in words a clerk
//! can act on.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::transport::Channel;

/// The suite's services, each with the port it listens on under `make run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Registry,
    Crediting,
    Supervision,
    Quality,
}

impl Service {
    pub fn default_addr(self) -> &'static str {
        match self {
            Service::Registry => "http://127.0.0.1:50051",
            Service::Crediting => "http://127.0.0.1:50052",
            Service::Supervision => "http://127.0.0.1:50053",
            Service::Quality => "http://127.0.0.1:50054",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Service::Registry => "registry",
            Service::Crediting => "crediting",
            Service::Supervision => "supervision",
            Service::Quality => "quality",
        }
    }

    /// The service that serves a fully qualified gRPC service name.
    pub fn of_grpc(full_name: &str) -> Service {
        match full_name {
            s if s.starts_with("ce.crediting.") => Service::Crediting,
            s if s.starts_with("ce.supervision.") => Service::Supervision,
            s if s.starts_with("ce.quality.") => Service::Quality,
            _ => Service::Registry,
        }
    }
}

/// Where the services are and who is calling.
#[derive(Debug, Clone, Default)]
pub struct Conn {
    pub registry: Option<String>,
    pub crediting: Option<String>,
    pub supervision: Option<String>,
    pub quality: Option<String>,
    pub token: Option<String>,
    /// TLS for `https://` addresses.
    pub tls: Option<tonic::transport::ClientTlsConfig>,
}

impl Conn {
    pub fn addr(&self, service: Service) -> String {
        let given = match service {
            Service::Registry => &self.registry,
            Service::Crediting => &self.crediting,
            Service::Supervision => &self.supervision,
            Service::Quality => &self.quality,
        };
        let addr = given
            .clone()
            .unwrap_or_else(|| service.default_addr().to_owned());
        if addr.contains("://") {
            addr
        } else {
            format!("http://{addr}")
        }
    }

    pub async fn channel(&self, service: Service) -> Result<Channel, String> {
        connect(&self.addr(service), service.name(), self.tls.as_ref()).await
    }

    /// A request carrying the bearer token, when there is one.
    pub fn request<T>(&self, message: T) -> Result<tonic::Request<T>, String> {
        let mut req = tonic::Request::new(message);
        if let Some(t) = &self.token {
            let value = format!("Bearer {}", t.trim()).parse().map_err(|_| {
                "the token (--token or CE_TOKEN) is not a valid header value".to_owned()
            })?;
            req.metadata_mut().insert("authorization", value);
        }
        Ok(req)
    }
}

/// TLS settings from the files a clerk or a Job names: the CA that signed
/// the services' certificates and, for mutual TLS, a client certificate.
pub fn tls(
    ca: Option<&std::path::Path>,
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> Result<Option<tonic::transport::ClientTlsConfig>, String> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let read = |flag: &str, p: &std::path::Path| {
        std::fs::read(p).map_err(|e| format!("{flag} {}: {e}", p.display()))
    };
    let Some(ca) = ca else {
        if cert.is_some() || key.is_some() {
            return Err("--client-cert and --client-key need --ca-cert too".into());
        }
        return Ok(None);
    };
    let mut tls =
        ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("--ca-cert", ca)?));
    match (cert, key) {
        (Some(c), Some(k)) => {
            tls = tls.identity(Identity::from_pem(
                read("--client-cert", c)?,
                read("--client-key", k)?,
            ));
        }
        (None, None) => {}
        _ => return Err("--client-cert and --client-key go together".into()),
    }
    Ok(Some(tls))
}

pub async fn connect(
    addr: &str,
    what: &str,
    tls: Option<&tonic::transport::ClientTlsConfig>,
) -> Result<Channel, String> {
    let mut endpoint = Channel::from_shared(addr.to_owned())
        .map_err(|e| format!("{addr} is not an address ({e}); write it as http://host:port"))?;
    if addr.starts_with("https://") {
        let tls = tls.ok_or_else(|| {
            format!("{addr} is https: give the CA that signed its certificate with --ca-cert (or CE_CA_CERT)")
        })?;
        endpoint = endpoint
            .tls_config(tls.clone())
            .map_err(|e| format!("{addr}: {e}"))?;
    }
    endpoint
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await
        .map_err(|_| {
            format!(
                "cannot reach the {what} service at {addr}: is it running? (`make run` starts the suite; \
                 --{what} or CE_{}_ADDR points elsewhere)",
                what.to_uppercase()
            )
        })
}

/// An error from a service in plain words: what kind of problem it is, the
/// service's message (which cites the rule), each bad field, and the request
/// id to quote to an operator.
pub fn describe(status: &tonic::Status) -> String {
    use tonic::Code;
    use tonic_types::StatusExt;
    let kind = match status.code() {
        Code::InvalidArgument => "refused, the request has a mistake",
        Code::FailedPrecondition => "refused in the current state",
        Code::NotFound => "not found",
        Code::AlreadyExists => "already exists",
        Code::PermissionDenied => "not allowed for your role",
        Code::Unauthenticated => {
            "not signed in: give a token with --token or CE_TOKEN (`cectl token` mints one in development)"
        }
        Code::Unavailable => "the service is unavailable; try again shortly",
        Code::DeadlineExceeded => "the service took too long; try again",
        Code::ResourceExhausted => "the service is busy or the request is too large",
        Code::Aborted => "a concurrent change got there first; try again",
        _ => "failed",
    };
    let mut out = kind.to_owned();
    match status.get_details_bad_request() {
        // The fields say it all; the message only repeats them.
        Some(bad) if !bad.field_violations.is_empty() => {
            for v in bad.field_violations {
                out.push_str(&format!("\n  {}: {}", v.field, v.description));
            }
        }
        _ if !status.message().is_empty() => out.push_str(&format!(": {}", status.message())),
        _ => {}
    }
    if let Some(id) = status
        .metadata()
        .get(ce_server::context::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        out.push_str(&format!("\n  (request id {id})"));
    }
    out
}

pub fn pool() -> Result<DescriptorPool, String> {
    DescriptorPool::decode(ce_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
}

/// A generated message as proto3 JSON (the same mapping `cectl call` and
/// gRPC-Web clients use).
pub fn to_json<M: Message>(message: &M, full_name: &str) -> Result<serde_json::Value, String> {
    let pool = pool()?;
    let desc = pool
        .get_message_by_name(full_name)
        .ok_or_else(|| format!("no message {full_name}"))?;
    let dynamic = DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .map_err(|e| e.to_string())?;
    serde_json::to_value(&dynamic).map_err(|e| e.to_string())
}

pub fn print_json<M: Message>(message: &M, full_name: &str) -> Result<(), String> {
    let value = to_json(message, full_name)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// An enum value's name in words: `ANNUAL_STATE_NON_COMPLIANT` with prefix
/// `ANNUAL_STATE_` is "non compliant".
pub fn words(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_lowercase()
        .replace('_', " ")
}

/// `engineers/X` from `X` or `engineers/X`.
pub fn resource(collection: &str, id: &str) -> String {
    if id.starts_with(&format!("{collection}/")) {
        id.to_owned()
    } else {
        format!("{collection}/{id}")
    }
}

/// An enum value from what a person types: its name, with or without the
/// enum's prefix, in any case (`non_compliant`, `FIELD_CONSTRUCTION`,
/// `construction`).
pub fn enum_value(
    e: &prost_reflect::EnumDescriptor,
    text: &str,
) -> Result<prost_reflect::EnumValueDescriptor, String> {
    let up = text.trim().to_uppercase().replace([' ', '-'], "_");
    // The enum's prefix, from its zero value (`TITLE_LEVEL_UNSPECIFIED`).
    let prefix = e
        .get_value(0)
        .and_then(|v| v.name().strip_suffix("UNSPECIFIED").map(str::to_owned))
        .unwrap_or_default();
    let prefixed = format!("{prefix}{up}");
    if let Some(v) = e
        .values()
        .find(|v| (v.name() == up || v.name() == prefixed) && v.number() != 0)
    {
        return Ok(v);
    }
    let suffix = format!("_{up}");
    let matches: Vec<_> = e
        .values()
        .filter(|v| v.name().ends_with(&suffix) && v.number() != 0)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{text:?} is not one of {}",
            e.values()
                .filter(|v| v.number() != 0)
                .map(|v| v.name().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// An enum's number from what a person types, for a named enum.
pub fn enum_number(full_name: &str, text: &str) -> Result<i32, String> {
    let pool = pool()?;
    let e = pool
        .get_enum_by_name(full_name)
        .ok_or_else(|| format!("no enum {full_name}"))?;
    enum_value(&e, text).map(|v| v.number())
}

/// One message as one line of JSON (JSON Lines, for lists).
pub fn print_json_line<M: Message>(message: &M, full_name: &str) -> Result<(), String> {
    let value = to_json(message, full_name)?;
    println!(
        "{}",
        serde_json::to_string(&value).map_err(|e| e.to_string())?
    );
    Ok(())
}
