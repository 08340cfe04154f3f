//! The back office's everyday questions, answered as readable tables (or as
//! JSON with `--json`): an engineer's year, an employer's engineers who fall
//! short, violations, an institution's quality history, and certificates.

use ce_rules::article::{ART_18, ART_19, ART_20, ART_25, ART_31};
use std::path::{Path, PathBuf};

use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use ce_proto::crediting::{
    AnnualState, AnnualStatus, CreateHourCertificateRequest, GetAnnualStatusRequest,
    ListAnnualStatusesRequest, VerifyHourCertificateRequest,
};
use ce_proto::quality::quality_service_client::QualityServiceClient;
use ce_proto::quality::{ListScoreHistoryRequest, ScoreState};
use ce_proto::registry::registry_service_client::RegistryServiceClient;
use ce_proto::registry::{BatchGetEngineersRequest, CreateEngineerRequest, Engineer};
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use ce_proto::supervision::{ListViolationsRequest, Violation, ViolationState};

use crate::client::{
    Conn, Service, describe, enum_number, print_json, print_json_line, resource, words,
};

/// Exit code when the answer is "no" (a certificate that is not valid).
pub const NOT_VALID: u8 = 3;

fn status_name(engineer: &str, year: i32) -> String {
    format!("{}/annualStatuses/{year}", resource("engineers", engineer))
}

/// "1 violation", "2 violations".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn hours(h: f64) -> String {
    format!("{h:.2}")
}

fn state_words(state: i32) -> String {
    let name = AnnualState::try_from(state)
        .unwrap_or(AnnualState::Unspecified)
        .as_str_name();
    words(name, "ANNUAL_STATE_")
}

/// What a state means, as the API documents it.
fn state_meaning(state: i32) -> String {
    match AnnualState::try_from(state).unwrap_or(AnnualState::Unspecified) {
        AnnualState::InProgress => "the year is not over and not complete yet".into(),
        AnnualState::Compliant => format!("the year's hours are complete ({ART_18})"),
        AnnualState::DeemedComplete => {
            format!("complete whatever the hours ({ART_18} forms 2-3, {ART_19})")
        }
        AnnualState::Deferred => {
            format!("short, with the employer's certificate: make-up open ({ART_20})")
        }
        AnnualState::MadeUp => format!("made up during the following year ({ART_20})"),
        AnnualState::NonCompliant => "the year is over and short".into(),
        AnnualState::Unspecified => "not assessed".into(),
    }
}

fn is_short(s: &AnnualStatus) -> bool {
    s.shortfall_total_hours > 0.0
        || s.shortfall_professional_hours > 0.0
        || s.shortfall_public_hours > 0.0
}

fn shortfall(s: &AnnualStatus) -> String {
    if !is_short(s) {
        return "none".into();
    }
    let mut parts = vec![format!("{} hours", hours(s.shortfall_total_hours))];
    if s.shortfall_professional_hours > 0.0 {
        parts.push(format!(
            "{} of them professional",
            hours(s.shortfall_professional_hours)
        ));
    }
    if s.shortfall_public_hours > 0.0 {
        parts.push(format!("{} public", hours(s.shortfall_public_hours)));
    }
    parts.join(", ")
}

/// `cectl status ENGINEER YEAR`.
pub async fn status(conn: &Conn, engineer: &str, year: i32, json: bool) -> Result<u8, String> {
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    let s = c
        .get_annual_status(conn.request(GetAnnualStatusRequest {
            name: status_name(engineer, year),
        })?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    if json {
        print_json(&s, "ce.crediting.v1.AnnualStatus")?;
        return Ok(0);
    }
    println!("{} — {}", s.engineer, s.year);
    println!(
        "  state          {}: {}{}",
        state_words(s.state),
        state_meaning(s.state),
        if s.deemed_reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.deemed_reason)
        }
    );
    println!("  complete       {}", if s.complete { "yes" } else { "no" });
    println!(
        "  hours          {} in all: {} professional, {} public; {} of them converted (forms 4-9)",
        hours(s.total_hours),
        hours(s.professional_hours),
        hours(s.public_hours),
        hours(s.converted_hours)
    );
    println!("  shortfall      {}", shortfall(&s));
    println!("  province       {}, rules {}", s.province, s.rule_set);
    if s.explanations.is_empty() {
        println!("No records count in this year yet.");
    } else {
        println!("Records ({}):", s.explanations.len());
        let width = s
            .explanations
            .iter()
            .map(|e| e.hour_record.len())
            .max()
            .unwrap_or(0);
        for e in &s.explanations {
            let Some(x) = &e.explanation else { continue };
            let category = words(
                ce_proto::common::SubjectCategory::try_from(x.subject_category)
                    .unwrap_or_default()
                    .as_str_name(),
                "SUBJECT_CATEGORY_",
            );
            println!(
                "  {:<width$}  {:>7} h  {:<12} {}{}",
                e.hour_record,
                hours(x.hours),
                category,
                x.article,
                if x.converted { ", converted" } else { "" },
            );
            for cut in &x.cuts {
                println!("  {:<width$}  cut: {cut}", "");
            }
        }
    }
    if !s.signals.is_empty() {
        println!("Signals for review:");
        for signal in &s.signals {
            println!("  {signal}");
        }
    }
    Ok(0)
}

/// `cectl non-compliant --employer E --year Y`.
pub async fn non_compliant(
    conn: &Conn,
    employer: &str,
    year: i32,
    in_progress: bool,
    json: bool,
) -> Result<u8, String> {
    let employer = resource("employers", employer);
    let found = short_statuses(conn, &employer, year, in_progress).await?;
    if json {
        for s in &found {
            print_json_line(s, "ce.crediting.v1.AnnualStatus")?;
        }
        return Ok(0);
    }
    if found.is_empty() {
        println!(
            "No engineer of {employer} is {} for {year}.",
            if in_progress {
                "short"
            } else {
                "non-compliant"
            }
        );
        return Ok(0);
    }
    let names = engineer_names(conn, &found).await?;
    let width = found.iter().map(|s| s.engineer.len()).max().unwrap_or(8);
    println!(
        "{:<width$}  {:<12}  {:<14}  {:>8}  {:>12}  shortfall",
        "engineer", "name", "state", "hours", "professional"
    );
    for s in &found {
        println!(
            "{:<width$}  {:<12}  {:<14}  {:>8}  {:>12}  {}",
            s.engineer,
            names.get(&s.engineer).map(String::as_str).unwrap_or("-"),
            state_words(s.state),
            hours(s.total_hours),
            hours(s.professional_hours),
            shortfall(s)
        );
    }
    println!(
        "{} of {employer} short for {year}.",
        count(found.len(), "engineer")
    );
    Ok(0)
}

/// The employer's engineers whose year is non-compliant, and with
/// `in_progress` those still short in a year that is not over, every page.
async fn short_statuses(
    conn: &Conn,
    employer: &str,
    year: i32,
    in_progress: bool,
) -> Result<Vec<AnnualStatus>, String> {
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    let mut states = vec![AnnualState::NonCompliant];
    if in_progress {
        states.push(AnnualState::InProgress);
    }
    let mut found = Vec::new();
    for state in states {
        let mut token = String::new();
        loop {
            let page = c
                .list_annual_statuses(conn.request(ListAnnualStatusesRequest {
                    page_size: 500,
                    page_token: token.clone(),
                    year,
                    employer: employer.to_owned(),
                    state: state as i32,
                    ..Default::default()
                })?)
                .await
                .map_err(|e| describe(&e))?
                .into_inner();
            found.extend(
                page.annual_statuses
                    .into_iter()
                    .filter(|s| state == AnnualState::NonCompliant || is_short(s)),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
    }
    Ok(found)
}

/// The engineers' names from the registry, so a clerk recognises the
/// people; none (with a note why) if the registry cannot say.
async fn engineer_names(
    conn: &Conn,
    found: &[AnnualStatus],
) -> Result<std::collections::HashMap<String, String>, String> {
    let ch = match conn.channel(Service::Registry).await {
        Ok(ch) => ch,
        Err(e) => {
            eprintln!("(names not shown: {e})");
            return Ok(Default::default());
        }
    };
    let mut r = RegistryServiceClient::new(ch);
    let mut names = std::collections::HashMap::new();
    for chunk in found.chunks(100) {
        match r
            .batch_get_engineers(conn.request(BatchGetEngineersRequest {
                names: chunk.iter().map(|s| s.engineer.clone()).collect(),
            })?)
            .await
        {
            Ok(resp) => names.extend(
                resp.into_inner()
                    .engineers
                    .into_iter()
                    .map(|e: Engineer| (e.name, e.display_name)),
            ),
            Err(e) => {
                eprintln!("(names not shown: {})", describe(&e));
                break;
            }
        }
    }
    Ok(names)
}

pub struct ViolationFilter {
    pub institution: Option<String>,
    pub engineer: Option<String>,
    pub province: Option<String>,
    pub state: Option<String>,
    pub category: Option<String>,
}

fn violation_line(v: &Violation) -> [String; 6] {
    let state = words(
        ViolationState::try_from(v.state)
            .unwrap_or_default()
            .as_str_name(),
        "VIOLATION_STATE_",
    );
    let category = words(
        ce_proto::supervision::ViolationCategory::try_from(v.category)
            .unwrap_or_default()
            .as_str_name(),
        "VIOLATION_CATEGORY_",
    );
    let party = if v.institution.is_empty() {
        v.engineer.clone()
    } else {
        v.institution.clone()
    };
    let decision = v
        .decision
        .as_ref()
        .map(|d| {
            words(
                ce_proto::supervision::DecisionKind::try_from(d.kind)
                    .unwrap_or_default()
                    .as_str_name(),
                "DECISION_KIND_",
            )
        })
        .unwrap_or_else(|| "-".into());
    [
        v.name.clone(),
        state,
        category,
        party,
        v.article.clone(),
        decision,
    ]
}

/// `cectl violations`.
pub async fn violations(conn: &Conn, f: ViolationFilter, json: bool) -> Result<u8, String> {
    let mut c = SupervisionServiceClient::new(conn.channel(Service::Supervision).await?);
    let state = f
        .state
        .as_deref()
        .map(|s| {
            enum_number("ce.supervision.v1.ViolationState", s).map_err(|e| format!("--state: {e}"))
        })
        .transpose()?
        .unwrap_or(0);
    let category = f
        .category
        .as_deref()
        .map(|s| {
            enum_number("ce.supervision.v1.ViolationCategory", s)
                .map_err(|e| format!("--category: {e}"))
        })
        .transpose()?
        .unwrap_or(0);
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_violations(
                conn.request(ListViolationsRequest {
                    page_size: 500,
                    page_token: token.clone(),
                    province: f.province.clone().unwrap_or_default(),
                    institution: f
                        .institution
                        .as_deref()
                        .map(|i| resource("institutions", i))
                        .unwrap_or_default(),
                    engineer: f
                        .engineer
                        .as_deref()
                        .map(|i| resource("engineers", i))
                        .unwrap_or_default(),
                    state,
                    category,
                    ..Default::default()
                })?,
            )
            .await
            .map_err(|e| describe(&e))?
            .into_inner();
        all.extend(page.violations);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if json {
        for v in &all {
            print_json_line(v, "ce.supervision.v1.Violation")?;
        }
        return Ok(0);
    }
    if all.is_empty() {
        println!("No violations match.");
        return Ok(0);
    }
    let rows: Vec<[String; 6]> = all.iter().map(violation_line).collect();
    let header = [
        "violation",
        "state",
        "category",
        "party",
        "article",
        "decision",
    ]
    .map(str::to_owned);
    table(&header, &rows);
    println!("{}.", count(all.len(), "violation"));
    Ok(0)
}

fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String; N]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header);
    for r in rows {
        line(r);
    }
}

/// `cectl quality-history INSTITUTION`.
pub async fn quality_history(conn: &Conn, institution: &str, json: bool) -> Result<u8, String> {
    let mut c = QualityServiceClient::new(conn.channel(Service::Quality).await?);
    let institution = resource("institutions", institution);
    let h = c
        .list_score_history(conn.request(ListScoreHistoryRequest {
            institution: institution.clone(),
        })?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    if json {
        print_json(&h, "ce.quality.v1.ListScoreHistoryResponse")?;
        return Ok(0);
    }
    if h.scores.is_empty() {
        println!("{institution} has no quality scores yet.");
        return Ok(0);
    }
    println!("Quality history of {institution} ({ART_25}):");
    let rows: Vec<[String; 5]> = h
        .scores
        .iter()
        .map(|s| {
            let scored = s.state == ScoreState::Scored as i32;
            [
                s.period.clone(),
                if scored {
                    format!("{:.1}", s.score)
                } else {
                    "-".into()
                },
                if scored {
                    s.grade.clone()
                } else {
                    "insufficient data".into()
                },
                if s.poor { "poor".into() } else { String::new() },
                s.model_version.clone(),
            ]
        })
        .collect();
    table(
        &["period", "score", "grade", "result", "model"].map(str::to_owned),
        &rows,
    );
    if let Some(latest) = h.scores.last() {
        println!("Why {} got its grade in {}:", institution, latest.period);
        for c in &latest.contributions {
            let name = words(
                ce_proto::quality::Indicator::try_from(c.indicator)
                    .unwrap_or_default()
                    .as_str_name(),
                "INDICATOR_",
            );
            println!(
                "  {:<32} value {:>8.2}  normalised {:>6.1}  weight {:>5.2}  points {:>6.2}  ({} samples, from {})",
                name, c.value, c.normalised, c.weight, c.points, c.samples, c.source
            );
        }
        for r in &latest.reasons {
            println!("  note: {r}");
        }
    }
    Ok(0)
}

/// `cectl certificate issue ENGINEER YEAR`.
pub async fn certificate_issue(
    conn: &Conn,
    engineer: &str,
    year: i32,
    out: Option<PathBuf>,
) -> Result<u8, String> {
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    let cert = c
        .create_hour_certificate(conn.request(CreateHourCertificateRequest {
            annual_status: status_name(engineer, year),
        })?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    let id = resource("engineers", engineer)
        .trim_start_matches("engineers/")
        .to_owned();
    let path = out.unwrap_or_else(|| PathBuf::from(format!("{id}-{year}.certificate.json")));
    // The credential as issued, byte for byte: its proof covers it.
    std::fs::write(&path, &cert.credential).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("Issued {} for {} {year}.", cert.name, cert.engineer);
    println!(
        "Saved to {}; check it with `cectl certificate verify {}`.",
        path.display(),
        path.display()
    );
    Ok(0)
}

/// `cectl certificate verify FILE`: 0 when valid, 3 when revoked or tampered.
pub async fn certificate_verify(conn: &Conn, file: &Path, json: bool) -> Result<u8, String> {
    let credential =
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    let v = c
        .verify_hour_certificate(conn.request(VerifyHourCertificateRequest { credential })?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    let verdict = Verdict::try_from(v.verdict).unwrap_or(Verdict::Unspecified);
    if json {
        print_json(&v, "ce.crediting.v1.VerifyHourCertificateResponse")?;
    } else {
        match verdict {
            Verdict::Valid => println!("VALID: {} ({})", v.hour_certificate, v.reason),
            Verdict::Revoked => println!(
                "REVOKED: {} — {}{}",
                v.hour_certificate,
                v.reason,
                if v.revocation_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", v.revocation_reason)
                }
            ),
            _ => println!("NOT VALID: {}", v.reason),
        }
    }
    Ok(if verdict == Verdict::Valid {
        0
    } else {
        NOT_VALID
    })
}

pub struct NewEngineer {
    pub id_number: String,
    pub name: String,
    pub province: String,
    pub field: String,
    pub title: String,
    pub employer: String,
}

/// `cectl engineer add`.
pub async fn engineer_add(conn: &Conn, e: NewEngineer, json: bool) -> Result<u8, String> {
    let field = enum_number("ce.common.v1.Field", &e.field).map_err(|x| format!("--field: {x}"))?;
    let title =
        enum_number("ce.registry.v1.TitleLevel", &e.title).map_err(|x| format!("--title: {x}"))?;
    let mut r = RegistryServiceClient::new(conn.channel(Service::Registry).await?);
    let created = r
        .create_engineer(conn.request(CreateEngineerRequest {
            engineer: Some(Engineer {
                id_number: e.id_number,
                display_name: e.name,
                province: e.province,
                field,
                title_level: title,
                employer: resource("employers", &e.employer),
                ..Default::default()
            }),
        })?)
        .await
        .map_err(|x| describe(&x))?
        .into_inner();
    if json {
        print_json(&created, "ce.registry.v1.Engineer")?;
    } else {
        println!("{}", created.name);
    }
    Ok(0)
}

/// The year before today in China (UTC+8), which is what a job run just
/// after midnight on 1 January means by "the year that ended".
fn last_year_in_china() -> i32 {
    ce_server::dates::today().year() - 1
}

/// `cectl sweep`: the given year, or else the year that just ended and the
/// one before it (whose deferrals were made up during the year that ended,
/// Art. 20), from the regulation's first year on.
pub async fn sweep(
    conn: &Conn,
    year: Option<i32>,
    province: Option<String>,
    json: bool,
) -> Result<u8, String> {
    let years: Vec<i32> = match year {
        Some(y) => vec![y],
        None => {
            let last = last_year_in_china();
            (last - 1..=last)
                .filter(|y| *y >= ce_rules::ruleset::FIRST_YEAR)
                .collect()
        }
    };
    if years.is_empty() {
        println!(
            "Nothing to close yet: the regulation's first year, {}, has not ended ({ART_31}).",
            ce_rules::ruleset::FIRST_YEAR
        );
        return Ok(0);
    }
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    for year in years {
        let r = c
            .sweep_annual_statuses(conn.request(
                ce_proto::crediting::SweepAnnualStatusesRequest {
                    year,
                    province: province.clone().unwrap_or_default(),
                },
            )?)
            .await
            .map_err(|e| format!("closing {year}: {}", describe(&e)))?
            .into_inner();
        if json {
            print_json_line(&r, "ce.crediting.v1.SweepAnnualStatusesResponse")?;
        } else {
            println!(
                "Closed {year}{}: {} statuses reassessed, {} created for engineers who registered nothing; {} non-compliant.",
                province
                    .as_ref()
                    .map(|p| format!(" for province {p}"))
                    .unwrap_or_default(),
                r.reassessed,
                r.created,
                r.non_compliant
            );
        }
    }
    Ok(0)
}

/// `cectl close-period`.
/// Reassesses stored years after a rule change, printing each
/// province-year's progress as it comes.
pub async fn reassess(
    conn: &Conn,
    year: Option<i32>,
    province: Option<String>,
    all: bool,
    json: bool,
) -> Result<u8, String> {
    let mut c = CreditingServiceClient::new(conn.channel(Service::Crediting).await?);
    let mut progress = c
        .reassess_annual_statuses(conn.request(
            ce_proto::crediting::ReassessAnnualStatusesRequest {
                province: province.unwrap_or_default(),
                year: year.unwrap_or_default(),
                all,
            },
        )?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    let mut places = 0;
    while let Some(p) = progress.message().await.map_err(|e| describe(&e))? {
        if json {
            print_json_line(&p, "ce.crediting.v1.ReassessAnnualStatusesResponse")?;
        } else if p.done {
            println!("Done: {places} province-years reassessed.");
        } else if p.reassessed == p.total {
            places += 1;
            println!(
                "Province {} {}: {} of {} reassessed, {} changed.",
                p.province, p.year, p.reassessed, p.total, p.changed
            );
        }
    }
    Ok(0)
}

pub async fn close_period(
    conn: &Conn,
    period: Option<String>,
    province: Option<String>,
    json: bool,
) -> Result<u8, String> {
    let period = period.unwrap_or_else(|| last_year_in_china().to_string());
    let mut c = QualityServiceClient::new(conn.channel(Service::Quality).await?);
    let r = c
        .close_period(conn.request(ce_proto::quality::ClosePeriodRequest {
            period: period.clone(),
            province: province.clone().unwrap_or_default(),
        })?)
        .await
        .map_err(|e| describe(&e))?
        .into_inner();
    if json {
        print_json(&r, "ce.quality.v1.ClosePeriodResponse")?;
    } else {
        println!(
            "Closed quality period {period}{}: {} institutions rescored, {} scored, {} with insufficient data; {} poor (reported to supervision).",
            province
                .map(|p| format!(" for province {p}"))
                .unwrap_or_default(),
            r.institutions,
            r.scored,
            r.insufficient_data,
            r.poor
        );
    }
    Ok(0)
}
