//! `cectl`: the suite from the command line.
//!
//! - `cectl token --role provincial_hrss --province 44` mints a development
//!   token with the key under the data folder (development only).
//! - `cectl call RegistryService/ListProvinces '{}'` calls any unary RPC of
//!   any service with a JSON request (proto3 JSON mapping) and prints the
//!   JSON answer, or the error with each bad field.

mod call;

use std::path::PathBuf;
use std::process::ExitCode;

use ce_proto::common::{Field, Role};
use ce_server::auth::{DevKey, TokenRequest, parse_role};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cectl",
    version,
    about = "Command-line client for the continuing-education suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mint a development token (signed with the development key in the data folder).
    Token {
        /// ministry, provincial_hrss, industry_regulator, institution, employer, engineer or service.
        #[arg(long)]
        role: String,
        /// Two-digit province code (provincial HRSS; optional for regulators).
        #[arg(long)]
        province: Option<String>,
        /// Field, for example FIELD_CONSTRUCTION (industry regulators).
        #[arg(long)]
        field: Option<String>,
        /// Organisation: institutions/{id} or employers/{id}.
        #[arg(long)]
        org: Option<String>,
        /// The principal; engineers/{id} for an engineer. Defaults to the role's name.
        #[arg(long)]
        subject: Option<String>,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 8)]
        ttl_hours: u64,
        /// The data folder the services use.
        #[arg(long, env = "CE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
    },
    /// Call a unary RPC with a JSON request and print the JSON response.
    Call {
        /// `Service/Method`, for example `RegistryService/ListProvinces` or
        /// `ce.registry.v1.RegistryService/GetEngineer`.
        method: String,
        /// The request as JSON; `-` reads it from standard input.
        #[arg(default_value = "{}")]
        request: String,
        /// Server address; defaults to the service's port under `make run`.
        #[arg(long, env = "CE_ADDR")]
        addr: Option<String>,
        /// Bearer token.
        #[arg(long, env = "CE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

fn mint(
    role: &str,
    province: Option<String>,
    field: Option<String>,
    org: Option<String>,
    subject: Option<String>,
    ttl_hours: u64,
    data_dir: PathBuf,
) -> Result<String, String> {
    let role: Role = parse_role(role).ok_or_else(|| {
        format!("--role {role}: use ministry, provincial_hrss, industry_regulator, institution, employer, engineer or service")
    })?;
    let field = match field {
        Some(f) => Some(
            Field::from_str_name(&f)
                .filter(|f| *f != Field::Unspecified)
                .ok_or_else(|| {
                    format!("--field {f}: not an Art. 29 field (for example FIELD_CONSTRUCTION)")
                })?,
        ),
        None => None,
    };
    let key = DevKey::load_or_create(&data_dir).map_err(|e| e.to_string())?;
    let auth = ce_server::app::ServiceConfig::load("registry", 0, None)
        .map_err(|e| e.to_string())?
        .auth;
    let signer = key.signer(&auth).map_err(|e| e.to_string())?;
    signer
        .mint(&TokenRequest {
            subject: subject.unwrap_or_else(|| ce_server::auth::role_name(role).to_owned()),
            role: Some(role),
            province,
            field,
            org,
            ttl_secs: ttl_hours * 3600,
        })
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Token {
            role,
            province,
            field,
            org,
            subject,
            ttl_hours,
            data_dir,
        } => {
            mint(&role, province, field, org, subject, ttl_hours, data_dir).map(|t| println!("{t}"))
        }
        Command::Call {
            method,
            request,
            addr,
            token,
        } => call::run(&method, &request, addr.as_deref(), token.as_deref()).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cectl: {message}");
            ExitCode::FAILURE
        }
    }
}
