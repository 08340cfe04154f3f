//! `cectl audit verify`: an auditor checks services' audit logs against
//! their seals (`ce.audit.v1.AuditService`, docs/audit.md) and is told the
//! first break, if any.

use ce_proto::audit::audit_break::Kind;
use ce_proto::audit::audit_service_client::AuditServiceClient;
use ce_proto::audit::{VerifyAuditLogRequest, VerifyAuditLogResponse};

use crate::client::{Conn, Service, describe, to_json, words};

/// Exit code when a log is broken.
pub const BROKEN: u8 = 3;

/// Which services to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    All,
    Registry,
    Crediting,
    Supervision,
    Quality,
}

impl Which {
    fn services(self) -> Vec<Service> {
        match self {
            Which::All => vec![
                Service::Registry,
                Service::Crediting,
                Service::Supervision,
                Service::Quality,
            ],
            Which::Registry => vec![Service::Registry],
            Which::Crediting => vec![Service::Crediting],
            Which::Supervision => vec![Service::Supervision],
            Which::Quality => vec![Service::Quality],
        }
    }
}

/// What `cectl audit verify` was asked.
pub struct Args {
    pub service: Which,
    pub no_seal: bool,
    /// `N:HASH`, a seal recorded at an earlier verification.
    pub anchor: Option<String>,
    pub json: bool,
}

fn parse_anchor(text: &str) -> Result<(i64, String), String> {
    let bad =
        || format!("--anchor {text}: write it as NUMBER:HASH, as the last verification printed it");
    let (n, hash) = text.split_once(':').ok_or_else(bad)?;
    let n: i64 = n.trim().parse().map_err(|_| bad())?;
    Ok((n, hash.trim().to_owned()))
}

/// Verifies each service asked for; exit code [`BROKEN`] if any log is.
pub async fn verify(conn: &Conn, args: Args) -> Result<u8, String> {
    let (anchor_seal, anchor_hash) = match &args.anchor {
        Some(a) => parse_anchor(a)?,
        None => (0, String::new()),
    };
    let services = args.service.services();
    if anchor_seal != 0 && services.len() > 1 {
        return Err("--anchor names one service's seal: give --service too".into());
    }
    let mut code = 0;
    for service in services {
        let mut client = AuditServiceClient::new(conn.channel(service).await?);
        let answer = client
            .verify_audit_log(conn.request(VerifyAuditLogRequest {
                seal_first: !args.no_seal,
                anchor_seal,
                anchor_hash: anchor_hash.clone(),
            })?)
            .await
            .map_err(|e| {
                format!(
                    "verifying the {} audit log: {}",
                    service.name(),
                    describe(&e)
                )
            })?
            .into_inner();
        if !answer.intact {
            code = BROKEN;
        }
        if args.json {
            let mut value = to_json(&answer, "ce.audit.v1.VerifyAuditLogResponse")?;
            if let Some(map) = value.as_object_mut() {
                map.insert("service".into(), service.name().into());
            }
            println!(
                "{}",
                serde_json::to_string(&value).map_err(|e| e.to_string())?
            );
        } else {
            print!("{}", report(service.name(), &answer));
        }
    }
    Ok(code)
}

fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The answer in words, one block a service.
fn report(service: &str, r: &VerifyAuditLogResponse) -> String {
    let mut out = String::new();
    let counts = format!(
        "{}, {} sealed, {} not sealed yet",
        plural(r.seal_count, "seal"),
        plural(r.sealed_row_count, "row"),
        r.unsealed_row_count
    );
    if r.intact {
        out.push_str(&format!("{service:<12} intact: {counts}\n"));
    } else {
        out.push_str(&format!(
            "{service:<12} BROKEN: {} ({counts})\n",
            plural(r.break_count, "break")
        ));
        if let Some(b) = &r.first_break {
            let kind = Kind::try_from(b.kind).unwrap_or(Kind::Unspecified);
            let what = words(kind.as_str_name(), "KIND_");
            let at = if b.row_id != 0 {
                format!("row {} ({what}), seal {}", b.row_id, b.seal_number)
            } else {
                format!("seal {} ({what})", b.seal_number)
            };
            out.push_str(&format!(
                "  first break  {at}\n  {:<12} {}\n",
                "", b.description
            ));
        }
    }
    if let Some(s) = &r.last_seal {
        out.push_str(&format!(
            "  last seal    {}:{} (rows through {}{})\n",
            s.number,
            s.hash,
            s.through_row_id,
            s.seal_time
                .as_ref()
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.seconds).ok())
                .and_then(|t| t
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok())
                .map(|t| format!(", sealed {t}"))
                .unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ce_proto::audit::{AuditBreak, AuditSeal};

    #[test]
    fn a_break_is_named_with_its_row_and_seal() {
        let r = VerifyAuditLogResponse {
            intact: false,
            first_break: Some(AuditBreak {
                kind: Kind::RowAltered as i32,
                row_id: 7,
                seal_number: 2,
                description: "audit row 7 differs from what seal 2 sealed: edited".into(),
            }),
            break_count: 1,
            seal_count: 2,
            sealed_row_count: 9,
            unsealed_row_count: 1,
            last_seal: Some(AuditSeal {
                number: 2,
                hash: "ab".into(),
                seal_time: None,
                row_count: 4,
                through_row_id: 9,
            }),
        };
        let text = report("registry", &r);
        assert!(text.contains("BROKEN: 1 break"), "{text}");
        assert!(
            text.contains("first break  row 7 (row altered), seal 2"),
            "{text}"
        );
        assert!(
            text.contains("last seal    2:ab (rows through 9)"),
            "{text}"
        );
        assert_eq!(parse_anchor("2:ab").unwrap(), (2, "ab".into()));
        assert!(parse_anchor("ab").is_err());
    }
}
