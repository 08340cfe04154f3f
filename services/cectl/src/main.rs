//! `cectl`: the suite from the command line, for clerks and operators.
//!
//! Every command has `--help`. The ones a clerk uses every day:
//!
//! - `cectl token --role provincial_hrss --province 44`: a development token.
//! - `cectl engineer add …`: register an engineer.
//! - `cectl import hours.csv`: upload hour records from CSV or JSON Lines,
//!   with a progress bar, a summary and a file of refused rows; run again to
//!   continue after an interruption.
//! - `cectl status ENGINEER YEAR`: the year with each record's explanation.
//! - `cectl certificate issue|verify`, `cectl non-compliant`,
//!   `cectl violations`, `cectl quality-history`.
//! - `cectl call Service/Method JSON`: any unary RPC, for everything else.
//! - `cectl audit verify`: check the services' audit logs against their
//!   seals (docs/audit.md).
//! - `cectl completion bash`: shell completion.

mod audit;
mod call;
mod client;
mod import;
mod show;

use ce_rules::article::{ART_17, ART_21, ART_29, cite};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ce_proto::common::{Field, Role};
use ce_server::auth::{DevKey, TokenRequest, parse_role};
use clap::{CommandFactory, Parser, Subcommand};

use crate::client::Conn;

const AFTER_HELP: &str = "\
Addresses default to the ports `make run` uses (registry 50051, crediting 50052,
supervision 50053, quality 50054). Exit codes: 0 done; 1 failed (the message says
why); 2 wrong usage; 3 done, but with refused rows (import), a certificate that
is not valid (verify), or an audit log that is broken (audit verify).";

#[derive(Parser)]
#[command(
    name = "cectl",
    version,
    about = "Command-line client for the continuing-education suite",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Bearer token (`cectl token` mints one in development).
    #[arg(long, global = true, env = "CE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Registry address.
    #[arg(long, global = true, env = "CE_REGISTRY_ADDR", value_name = "URL")]
    registry: Option<String>,
    /// Crediting address.
    #[arg(long, global = true, env = "CE_CREDITING_ADDR", value_name = "URL")]
    crediting: Option<String>,
    /// Supervision address.
    #[arg(long, global = true, env = "CE_SUPERVISION_ADDR", value_name = "URL")]
    supervision: Option<String>,
    /// Quality-monitoring address.
    #[arg(long, global = true, env = "CE_QUALITY_ADDR", value_name = "URL")]
    quality: Option<String>,
    /// PEM CA that signed the services' certificates (for https:// addresses).
    #[arg(long, global = true, env = "CE_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// PEM client certificate, for services that require mutual TLS.
    #[arg(long, global = true, env = "CE_CLIENT_CERT", value_name = "FILE")]
    client_cert: Option<PathBuf>,
    /// PEM key of the client certificate.
    #[arg(long, global = true, env = "CE_CLIENT_KEY", value_name = "FILE")]
    client_key: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mint a development token (signed with the development key in the data folder).
    Token(TokenArgs),
    /// Register engineers in the registry.
    #[command(subcommand)]
    Engineer(EngineerCommand),
    /// Upload hour records from a CSV or JSON Lines file (Art. 17, 21).
    #[command(long_about = import_help())]
    Import(ImportArgs),
    /// An engineer's annual status, with the article behind every record's hours.
    Status {
        /// The engineer: engineers/{id} or {id}.
        engineer: String,
        /// The year.
        year: i32,
        /// Print the AnnualStatus as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Issue, save and verify hour certificates (Art. 15).
    #[command(subcommand)]
    Certificate(CertificateCommand),
    /// An employer's engineers whose year is non-compliant (Art. 18).
    NonCompliant {
        /// The employer: employers/{id} or {id}.
        #[arg(long)]
        employer: String,
        /// The year.
        #[arg(long)]
        year: i32,
        /// Also list engineers still short in a year that is not over.
        #[arg(long)]
        in_progress: bool,
        /// Print each AnnualStatus as a line of JSON.
        #[arg(long)]
        json: bool,
    },
    /// Violations of institutions and engineers (Art. 26, 27).
    Violations(ViolationsArgs),
    /// An institution's quality scores over time, and why it got its latest grade (Art. 25).
    QualityHistory {
        /// The institution: institutions/{id} or {id}.
        institution: String,
        /// Print the history as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close a year in crediting: move every year still in progress to its final state, listing the non-compliant (Art. 18, 20).
    Sweep {
        /// The year. Default: the year before today in China (UTC+8), and the
        /// year before that again, whose deferrals have just been made up (Art. 20).
        #[arg(long)]
        year: Option<i32>,
        /// One province (a provincial token sweeps only its own).
        #[arg(long)]
        province: Option<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Reassess stored years from their records after the rules changed (an overlay edited, a rules fix), showing progress.
    Reassess {
        /// Only this year; default: every year.
        #[arg(long)]
        year: Option<i32>,
        /// One province (a provincial token reassesses only its own).
        #[arg(long)]
        province: Option<String>,
        /// Every stored year, not only those assessed under other rules.
        #[arg(long)]
        all: bool,
        /// Print each progress message as a JSON line.
        #[arg(long)]
        json: bool,
    },
    /// Close a quality-monitoring period: rescore every institution, report poor results (Art. 25).
    ClosePeriod {
        /// The period; default: the year before today in China (UTC+8).
        #[arg(long)]
        period: Option<String>,
        /// One province (required for a provincial token).
        #[arg(long)]
        province: Option<String>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Call any unary RPC with a JSON request and print the JSON response.
    Call {
        /// `Service/Method`, for example `RegistryService/ListProvinces` or
        /// `ce.registry.v1.RegistryService/GetEngineer`.
        method: String,
        /// The request as JSON; `-` reads it from standard input.
        #[arg(default_value = "{}")]
        request: String,
        /// Server address; defaults to the service's own address.
        #[arg(long, env = "CE_ADDR")]
        addr: Option<String>,
        /// Print only this field of the answer (for example `name`), for scripts.
        #[arg(long, value_name = "FIELD")]
        get: Option<String>,
    },
    /// Check the services' audit logs against their seals (ministry token).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a shell completion script: `source <(cectl completion bash)`.
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

// The arguments of `cectl token` (its help is the variant's).
#[derive(clap::Args)]
struct TokenArgs {
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
    /// The principal; engineers/{id} for an engineer, the service's name
    /// (supervision) for a service. Defaults to the role's name.
    #[arg(long)]
    subject: Option<String>,
    /// Lifetime in hours.
    #[arg(long, default_value_t = 8)]
    ttl_hours: u64,
    /// The data folder the services use, where they write the development
    /// key when they start; `make run` uses ./data at the repository's root.
    #[arg(long, env = "CE_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

// The arguments of `cectl import` (its help is the variant's).
#[derive(clap::Args)]
struct ImportArgs {
    /// The file: .csv, or .jsonl with one HourRecord in JSON per line.
    file: PathBuf,
    /// The file's format, when its extension does not say.
    #[arg(long, value_enum)]
    format: Option<import::Format>,
    /// Where refused rows go, each with its reason. Default: NAME.rejects.csv (or .jsonl) beside the
    /// file; for NAME.rejects.csv itself, NAME.rejects-2.csv, never the file being imported.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Records per message (at most 1000).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Ignore saved progress and send every row again (nothing is stored twice).
    #[arg(long)]
    restart: bool,
}

// The arguments of `cectl violations` (its help is the variant's).
#[derive(clap::Args)]
struct ViolationsArgs {
    /// Only this institution's.
    #[arg(long)]
    institution: Option<String>,
    /// Only this engineer's.
    #[arg(long)]
    engineer: Option<String>,
    /// Only this province's.
    #[arg(long)]
    province: Option<String>,
    /// open, decided or closed.
    #[arg(long)]
    state: Option<String>,
    /// For example poor_quality_results or improper_fees.
    #[arg(long)]
    category: Option<String>,
    /// Print each Violation as a line of JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum EngineerCommand {
    /// Register an engineer; prints the new engineers/{id}.
    Add {
        /// Resident identity card number (18 characters, with its check character).
        #[arg(long)]
        id_number: String,
        /// The engineer's name.
        #[arg(long)]
        name: String,
        /// Two-digit province code.
        #[arg(long)]
        province: String,
        /// Field (Art. 29), for example construction or electric_power.
        #[arg(long)]
        field: String,
        /// Title level, for example engineer or senior_engineer.
        #[arg(long)]
        title: String,
        /// The employer: employers/{id} or {id}.
        #[arg(long)]
        employer: String,
        /// Print the Engineer as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Seal what is written, then check each service's audit log against its
    /// chain of seals and name the first break: a row edited or deleted in
    /// the database, or a seal that does not link (docs/audit.md). Exit code
    /// 3 when a log is broken. Needs a ministry token.
    Verify {
        /// Which service's log.
        #[arg(long, value_enum, default_value = "all")]
        service: audit::Which,
        /// Check only what is sealed already; seal nothing first.
        #[arg(long)]
        no_seal: bool,
        /// A seal recorded at an earlier verification, as NUMBER:HASH (the
        /// "last seal" it printed), checked to be still in the chain.
        #[arg(long, value_name = "NUMBER:HASH")]
        anchor: Option<String>,
        /// Print each service's answer as a line of JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CertificateCommand {
    /// Issue the certificate of a year as it stands (it says whether the year
    /// is complete) and save it as a file.
    Issue {
        /// The engineer: engineers/{id} or {id}.
        engineer: String,
        /// The year.
        year: i32,
        /// Where to save it. Default: {id}-{year}.certificate.json.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a saved certificate: valid, revoked or tampered.
    Verify {
        /// The certificate file.
        file: PathBuf,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The long help of `cectl import`.
fn import_help() -> String {
    format!(
        "\
Upload hour records from a CSV or JSON Lines file through the crediting service's
bulk upload ({cited}). The route follows your token: a department's own
activity is granted at once, an institution's upload waits for confirmation.

CSV: the first line names the columns, each a field of HourRecord, for example

  engineer,registry_activity,face_to_face.subject_category,face_to_face.start_date,face_to_face.days,face_to_face.hours_per_day
  engineers/0190…,activities/0190…,professional,2026-03-02,5,8

Dates are YYYY-MM-DD; enum values are their names, with or without the prefix,
in any case. A client_key column is optional: without it each row's key is
derived from its content, so sending a row again never stores it twice.

Progress is saved beside the file after every answered batch; if the import is
interrupted, run the same command again and it continues where it stopped.
Refused rows go to NAME.rejects.csv with their line and reason; correct them
there and import that file as it is. What it refuses again goes to
NAME.rejects-2.csv (the summary names it); the file being read is left as it is.

The summary counts rows stored now (confirmed hours are credited; a submission's
hours await confirmation) apart from rows already stored by an earlier import.",
        cited = cite(&[ART_17, ART_21])
    )
}

/// What a token names besides its role, as `cectl token` was given it.
struct Scope {
    province: Option<String>,
    field: Option<Field>,
    org: Option<String>,
    subject: Option<String>,
}

/// Refuses a token its role's scope is missing from, naming what to add
/// (the services would refuse the token; the README lists each role's).
fn check_scope(role: Role, s: &Scope) -> Result<(), String> {
    if let Some(p) = &s.province
        && ce_proto::reference::region(p).is_none()
    {
        return Err(format!(
            "--province {p}: not a province code (two digits, for example 35 for Fujian)"
        ));
    }
    let org_of = |kind: &str| s.org.as_deref().and_then(|o| o.strip_prefix(kind));
    let missing = match role {
        Role::ProvincialHrss if s.province.is_none() => {
            "--province: a provincial_hrss token names its province, for example --province 35"
        }
        Role::IndustryRegulator if s.field.is_none() => {
            "--field: an industry_regulator token names its field, for example --field FIELD_CONSTRUCTION \
             (and optionally --province)"
        }
        Role::Institution if org_of("institutions/").is_none_or(str::is_empty) => {
            "--org: an institution token names the institution, --org institutions/ID"
        }
        Role::Employer if org_of("employers/").is_none_or(str::is_empty) => {
            "--org: an employer token names the employer, --org employers/ID"
        }
        Role::Engineer
            if s.subject
                .as_deref()
                .and_then(|n| n.strip_prefix("engineers/"))
                .is_none_or(str::is_empty) =>
        {
            "--subject: an engineer token names the engineer, --subject engineers/ID"
        }
        _ => return unused(role, s),
    };
    Err(missing.to_owned())
}

/// Refuses an option the role's tokens do not carry (a ministry token with
/// a province, an engineer's with an organisation): the services would
/// ignore it, and the clerk would think it limits the token.
fn unused(role: Role, s: &Scope) -> Result<(), String> {
    let (province, field, org) = match role {
        Role::ProvincialHrss => (true, false, false),
        Role::IndustryRegulator => (true, true, false),
        Role::Institution | Role::Employer => (false, false, true),
        _ => (false, false, false),
    };
    let given = [
        ("--province", s.province.is_some(), province),
        ("--field", s.field.is_some(), field),
        ("--org", s.org.is_some(), org),
    ];
    match given.iter().find(|(_, given, used)| *given && !used) {
        Some((option, _, _)) => Err(format!(
            "{option}: a token of role {} has no such scope; leave it out",
            ce_server::auth::role_name(role)
        )),
        None => Ok(()),
    }
}

/// The development key `file` in the data folder, which the services write
/// when they start in development mode. It is never made here: a key made
/// by cectl is one no running service knows, and every token signed with it
/// would be refused.
fn dev_key(data_dir: &Path, file: &str) -> Result<DevKey, String> {
    let path = data_dir.join(file);
    if !path.exists() {
        let looked = std::path::absolute(&path).unwrap_or(path);
        return Err(format!(
            "no development key at {}: the services write it to their data folder when they \
             start in development mode. Point cectl at that folder with --data-dir or CE_DATA_DIR \
             (`make run` uses ./data at the repository's root, or the DATA_DIR it was given)",
            looked.display()
        ));
    }
    DevKey::load(&path).map_err(|e| e.to_string())
}

fn mint(a: TokenArgs) -> Result<String, String> {
    let role: Role = parse_role(&a.role).ok_or_else(|| {
        format!(
            "--role {}: use ministry, provincial_hrss, industry_regulator, institution, employer, engineer or service",
            a.role
        )
    })?;
    let field = match a.field {
        Some(f) => Some(
            Field::from_str_name(&f)
                .filter(|f| *f != Field::Unspecified)
                .ok_or_else(|| {
                    format!("--field {f}: not an {ART_29} field (for example FIELD_CONSTRUCTION)")
                })?,
        ),
        None => None,
    };
    let scope = Scope {
        province: a.province,
        field,
        org: a.org,
        subject: a.subject,
    };
    check_scope(role, &scope)?;
    let auth = ce_server::app::ServiceConfig::load("registry", 0, None)
        .map_err(|e| e.to_string())?
        .auth;
    // A service's token is signed with that service's own development key.
    let (signer, subject) = if role == Role::Service {
        let name = scope.subject.as_deref().unwrap_or_default();
        let name = name.strip_prefix("service/").unwrap_or(name).to_owned();
        if !ce_server::auth::SUITE_SERVICES.contains(&name.as_str()) {
            return Err(format!(
                "--subject: a service token names its service, one of {}",
                ce_server::auth::SUITE_SERVICES.join(", ")
            ));
        }
        let key = dev_key(&a.data_dir, &ce_server::auth::dev_service_key_file(&name))?;
        (
            key.service_signer(&name, &auth)
                .map_err(|e| e.to_string())?,
            Some(ce_server::auth::service_kid(&name)),
        )
    } else {
        let key = dev_key(&a.data_dir, ce_server::auth::DEV_KEY_FILE)?;
        (key.signer(&auth).map_err(|e| e.to_string())?, scope.subject)
    };
    signer
        .mint(&TokenRequest {
            subject: subject.unwrap_or_else(|| ce_server::auth::role_name(role).to_owned()),
            role: Some(role),
            province: scope.province,
            field: scope.field,
            org: scope.org,
            ttl_secs: a.ttl_hours * 3600,
        })
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let tls = match client::tls(
        cli.ca_cert.as_deref(),
        cli.client_cert.as_deref(),
        cli.client_key.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cectl: {e}");
            return ExitCode::FAILURE;
        }
    };
    let conn = Conn {
        registry: cli.registry,
        crediting: cli.crediting,
        supervision: cli.supervision,
        quality: cli.quality,
        token: cli.token,
        tls,
    };
    match run(&conn, cli.command).await {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("cectl: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command: the exit code it asks for, or why it failed.
async fn run(conn: &Conn, command: Command) -> Result<u8, String> {
    match command {
        Command::Token(args) => token(args),
        Command::Engineer(command) => engineer(conn, command).await,
        Command::Import(args) => import(conn, args).await,
        Command::Status {
            engineer,
            year,
            json,
        } => show::status(conn, &engineer, year, json).await,
        Command::Certificate(command) => certificate(conn, command).await,
        Command::NonCompliant {
            employer,
            year,
            in_progress,
            json,
        } => show::non_compliant(conn, &employer, year, in_progress, json).await,
        Command::Violations(args) => violations(conn, args).await,
        Command::QualityHistory { institution, json } => {
            show::quality_history(conn, &institution, json).await
        }
        Command::Sweep {
            year,
            province,
            json,
        } => show::sweep(conn, year, province, json).await,
        Command::Reassess {
            year,
            province,
            all,
            json,
        } => show::reassess(conn, year, province, all, json).await,
        Command::ClosePeriod {
            period,
            province,
            json,
        } => show::close_period(conn, period, province, json).await,
        Command::Call {
            method,
            request,
            addr,
            get,
        } => call::run(conn, &method, &request, addr.as_deref(), get.as_deref())
            .await
            .map(|()| 0),
        Command::Audit(command) => audit(conn, command).await,
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "cectl", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// `cectl token`: prints a development token.
fn token(a: TokenArgs) -> Result<u8, String> {
    mint(a).map(|t| {
        println!("{t}");
        0
    })
}

/// `cectl engineer add`.
async fn engineer(conn: &Conn, command: EngineerCommand) -> Result<u8, String> {
    let EngineerCommand::Add {
        id_number,
        name,
        province,
        field,
        title,
        employer,
        json,
    } = command;
    let engineer = show::NewEngineer {
        id_number,
        name,
        province,
        field,
        title,
        employer,
    };
    show::engineer_add(conn, engineer, json).await
}

/// `cectl import`: exit code 3 when rows were refused.
async fn import(conn: &Conn, a: ImportArgs) -> Result<u8, String> {
    let args = import::Args {
        file: a.file,
        format: a.format,
        rejects: a.rejects,
        batch: a.batch,
        restart: a.restart,
    };
    import::run(conn, args)
        .await
        .map(|o| if o.refused > 0 { 3 } else { 0 })
}

/// `cectl certificate issue|verify`.
async fn certificate(conn: &Conn, command: CertificateCommand) -> Result<u8, String> {
    match command {
        CertificateCommand::Issue {
            engineer,
            year,
            out,
        } => show::certificate_issue(conn, &engineer, year, out).await,
        CertificateCommand::Verify { file, json } => {
            show::certificate_verify(conn, &file, json).await
        }
    }
}

/// `cectl violations`.
async fn violations(conn: &Conn, a: ViolationsArgs) -> Result<u8, String> {
    let filter = show::ViolationFilter {
        institution: a.institution,
        engineer: a.engineer,
        province: a.province,
        state: a.state,
        category: a.category,
    };
    show::violations(conn, filter, a.json).await
}

/// `cectl audit verify`.
async fn audit(conn: &Conn, command: AuditCommand) -> Result<u8, String> {
    let AuditCommand::Verify {
        service,
        no_seal,
        anchor,
        json,
    } = command;
    let args = audit::Args {
        service,
        no_seal,
        anchor,
        json,
    };
    audit::verify(conn, args).await
}
