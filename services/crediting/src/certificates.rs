//! Hour certificates (Art. 15, 21): a signed statement of an engineer's
//! year as it stands (its hours by category, and whether it is complete)
//! that anyone can check. A certificate follows its year: revoked when the
//! year's records are revoked (Art. 27), and superseded when any other
//! change alters the figures it states ([`supersede`]); a new one states
//! the year as it is then.
//!
//! The document is a W3C Verifiable Credential 2.0 shaped as an Open Badges
//! 3.0 `OpenBadgeCredential`: the achievement is the year's continuing
//! education, and its results are the hours by category. It is secured
//! with a Data Integrity proof, cryptosuite `eddsa-jcs-2022`: the document
//! and the proof options are each canonicalised with JCS (RFC 8785),
//! hashed with SHA-256, and the two hashes signed with Ed25519; the
//! signature is multibase base58btc. So a certificate verifies whatever
//! whitespace or key order it is stored with, and any change to what it
//! says breaks it.

use ce_rules::article::{ART_18, ART_19, ART_20, cite};
use std::path::Path;

use std::collections::HashMap;

use crate::config::CertificatesConfig;
use ce_db::audit::{self, AuditEntry};
use ce_db::{DbConnection, DbError};
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use ce_proto::crediting::{
    AnnualStatus, CreateHourCertificateRequest, HourCertificate, VerifyHourCertificateResponse,
};
use ce_server::auth::DevKey;
use ce_server::call::now_micros;
use ce_server::config::Environment;
use ce_server::{ApiError, Call, dates};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::convert;
use crate::names;
use crate::records::Crediting;
use crate::status;
use crate::store;
use crate::store::certificates::CertificateRow;

pub const HOUR_CERTIFICATES: &str = "hourCertificates";
/// The development certificate key, under the data folder.
pub const DEV_KEY_FILE: &str = "dev-certificate-key.pem";
const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Signs and checks certificates with the issuer's Ed25519 key.
pub struct Signer {
    key: SigningKey,
    issuer: String,
    issuer_name: String,
    /// Where verifiers fetch the status lists, without the list's number
    /// (`crate::published`); none: certificates carry no status entry.
    status_lists: Option<String>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The configured key; in development without one, a key made under the
    /// data folder. Production refuses to start without a key.
    pub fn from_config(
        c: &CertificatesConfig,
        env: Environment,
        data_dir: &Path,
    ) -> Result<Signer, String> {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let key = match (&c.signing_key_path, env) {
            (Some(path), _) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| format!("certificates.signing_key_path {path}: {e}"))?;
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
                    format!("certificates.signing_key_path {path}: not an Ed25519 PKCS#8 key: {e}")
                })?
            }
            (None, Environment::Development) => DevKey::load_or_create_file(data_dir, DEV_KEY_FILE)
                .map_err(|e| e.to_string())?
                .signing_key()
                .clone(),
            (None, Environment::Production) => {
                return Err(
                    "certificates.signing_key_path is required when environment = production"
                        .into(),
                );
            }
        };
        if c.issuer.trim().is_empty() {
            return Err("certificates.issuer must not be empty".into());
        }
        let status_lists = match &c.status_list_base_url {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => {
                return Err(format!(
                    "certificates.status_list_base_url {url}: not an http(s) URL"
                ));
            }
            None => crate::published::did_web(&c.issuer)
                .map(|(host, _)| format!("https://{host}{}", crate::published::STATUS_PATH)),
        };
        Ok(Signer {
            key,
            issuer: c.issuer.clone(),
            issuer_name: c.issuer_name.clone(),
            status_lists,
        })
    }

    /// The issuer's identifier, a DID or URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The public half of the signing key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Where verifiers fetch status lists, without the list's number.
    pub fn status_lists(&self) -> Option<&str> {
        self.status_lists.as_deref()
    }

    /// The id of the key certificates name as their verification method.
    pub fn method(&self) -> String {
        format!("{}#certificates-1", self.issuer)
    }

    /// Adds an `eddsa-jcs-2022` proof to `document`.
    pub(crate) fn sign(&self, mut document: Value, created: &str) -> Result<Value, ApiError> {
        let mut proof = json!({
            "type": "DataIntegrityProof",
            "cryptosuite": CRYPTOSUITE,
            "created": created,
            "verificationMethod": self.method(),
            "proofPurpose": "assertionMethod",
        });
        if let (Some(ctx), Some(p)) = (document.get("@context"), proof.as_object_mut()) {
            p.insert("@context".into(), ctx.clone());
        }
        let signature = self
            .key
            .sign(&hash_data(&proof, &document).map_err(ApiError::Internal)?);
        // The proof keeps its `@context`, as eddsa-jcs-2022 says: a
        // verifier hashes the proof options it finds, `@context` included.
        if let Some(p) = proof.as_object_mut() {
            p.insert(
                "proofValue".into(),
                Value::String(format!(
                    "z{}",
                    bs58::encode(signature.to_bytes()).into_string()
                )),
            );
        }
        document
            .as_object_mut()
            .ok_or_else(|| ApiError::Internal("a certificate is a JSON object".into()))?
            .insert("proof".into(), proof);
        Ok(document)
    }

    /// Whether `document` carries a valid proof by this issuer's key, and if
    /// not, why.
    fn check(&self, document: &Value) -> Result<(), String> {
        let mut unsecured = document
            .as_object()
            .ok_or("the credential is not a JSON object")?
            .clone();
        let proof = unsecured
            .remove("proof")
            .ok_or("the credential has no proof")?;
        let mut options = proof
            .as_object()
            .ok_or("the proof is not a JSON object")?
            .clone();
        let value = options
            .remove("proofValue")
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or("the proof has no proofValue")?;
        if options.get("cryptosuite").and_then(Value::as_str) != Some(CRYPTOSUITE) {
            return Err(format!("the proof is not {CRYPTOSUITE}"));
        }
        if options.get("verificationMethod").and_then(Value::as_str) != Some(&self.method()) {
            return Err("the proof names another key than this issuer's".into());
        }
        let bytes = value
            .strip_prefix('z')
            .and_then(|b| bs58::decode(b).into_vec().ok())
            .ok_or("the proofValue is not multibase base58btc")?;
        let signature = Signature::from_slice(&bytes)
            .map_err(|_| "the proofValue is not an Ed25519 signature")?;
        let mut unsecured = Value::Object(unsecured);
        match options.get("@context").cloned() {
            // eddsa-jcs-2022: the document's context starts with the
            // proof's, and the document is hashed under the proof's.
            Some(proof_context) => {
                let list = |v: &Value| match v {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                let ours = list(&proof_context);
                let theirs = unsecured.get("@context").map(list).unwrap_or_default();
                if !theirs.starts_with(&ours) {
                    return Err("the credential's @context does not start with the proof's".into());
                }
                unsecured["@context"] = proof_context;
            }
            // Certificates issued before proofs kept their `@context` were
            // signed over the document's.
            None => {
                if let Some(ctx) = unsecured.get("@context") {
                    options.insert("@context".into(), ctx.clone());
                }
            }
        }
        let verifying: VerifyingKey = self.key.verifying_key();
        verifying
            .verify(&hash_data(&Value::Object(options), &unsecured)?, &signature)
            .map_err(|_| {
                "the signature does not match the content: it was changed after signing".to_owned()
            })
    }
}

/// `eddsa-jcs-2022` hashing: SHA-256 of the canonical proof options, then of
/// the canonical document.
fn hash_data(proof_options: &Value, document: &Value) -> Result<Vec<u8>, String> {
    let mut out = Sha256::digest(jcs(proof_options)?).to_vec();
    out.extend_from_slice(&Sha256::digest(jcs(document)?));
    Ok(out)
}

/// RFC 8785 canonical JSON (JCS): no whitespace, object keys sorted by
/// UTF-16 code units, strings escaped and numbers written as ECMAScript
/// does. Certificates hold only strings, integers, booleans, arrays and
/// objects.
pub fn jcs(v: &Value) -> Result<Vec<u8>, String> {
    serde_json_canonicalizer::to_vec(v)
        .map_err(|e| format!("the credential has no canonical form (RFC 8785): {e}"))
}

fn rfc3339(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn hours(h: f64) -> String {
    format!("{h:.2}")
}

/// The figures of a year a certificate states: its hours by category
/// (written with two decimals) and whether it is complete. A change to a
/// year that alters any of them supersedes its certificates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub total: f64,
    pub public: f64,
    pub professional: f64,
    pub converted: f64,
    pub complete: bool,
}

/// [`Figures`] as a certificate writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stated {
    /// (kind, hours) in the order of the credential's results.
    hours: [(&'static str, String); 4],
    complete: bool,
}

const KINDS: [&str; 4] = ["total", "public", "professional", "converted"];

impl Figures {
    pub fn of(s: &AnnualStatus) -> Figures {
        Figures {
            total: s.total_hours,
            public: s.public_hours,
            professional: s.professional_hours,
            converted: s.converted_hours,
            complete: s.complete,
        }
    }

    fn stated(&self) -> Stated {
        let values = [self.total, self.public, self.professional, self.converted];
        Stated {
            hours: std::array::from_fn(|i| (KINDS[i], hours(values[i]))),
            complete: self.complete,
        }
    }
}

impl Stated {
    /// What a credential states. A certificate without `complete` was
    /// issued when only complete years had one.
    fn read(document: &Value) -> Option<Stated> {
        let subject = document.get("credentialSubject")?;
        let results = subject.get("result")?.as_array()?;
        let value = |kind: &str| {
            let urn = format!("urn:ce:result:{kind}");
            results
                .iter()
                .find(|r| r.get("resultDescription").and_then(Value::as_str) == Some(&urn))
                .and_then(|r| r.get("value")?.as_str())
                .map(str::to_owned)
        };
        let [total, public, professional, converted] = KINDS.map(value);
        Some(Stated {
            hours: [
                ("total", total?),
                ("public", public?),
                ("professional", professional?),
                ("converted", converted?),
            ],
            complete: match subject.get("complete") {
                None => true,
                Some(v) => v.as_bool()?,
            },
        })
    }

    /// What differs from `now`, as `total 90.00 → 86.00, complete yes → no`.
    fn changes_to(&self, now: &Stated) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let mut out: Vec<String> = self
            .hours
            .iter()
            .zip(&now.hours)
            .filter(|(before, after)| before.1 != after.1)
            .map(|((kind, before), (_, after))| format!("{kind} {before} → {after}"))
            .collect();
        if self.complete != now.complete {
            out.push(format!(
                "complete {} → {}",
                yes(self.complete),
                yes(now.complete)
            ));
        }
        out.join(", ")
    }

    fn describe(&self) -> String {
        let mut out: Vec<String> = self
            .hours
            .iter()
            .map(|(kind, h)| format!("{kind} {h}"))
            .collect();
        out.push(format!(
            "complete {}",
            if self.complete { "yes" } else { "no" }
        ));
        out.join(", ")
    }
}

/// The unsigned credential for a year as it is stored.
fn document(signer: &Signer, id: &str, s: &AnnualStatus, issued: &str) -> Value {
    let state = ce_proto::crediting::AnnualState::try_from(s.state)
        .map(|st| {
            st.as_str_name()
                .trim_start_matches("ANNUAL_STATE_")
                .to_owned()
        })
        .unwrap_or_default();
    let result = |kind: &str, value: f64| {
        json!({
            "type": ["Result"],
            "resultDescription": format!("urn:ce:result:{kind}"),
            "value": hours(value),
        })
    };
    let description = |kind: &str, name: &str| {
        json!({
            "id": format!("urn:ce:result:{kind}"),
            "type": ["ResultDescription"],
            "name": name,
            "resultType": "ext:Hours",
        })
    };
    json!({
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ],
        "id": format!("urn:uuid:{id}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": format!("Continuing education {} — {}", s.year, state),
        "issuer": {
            "id": signer.issuer,
            "type": ["Profile"],
            "name": signer.issuer_name,
        },
        "validFrom": issued,
        "credentialSubject": {
            "id": format!("urn:ce:{}", s.engineer),
            "type": ["AchievementSubject"],
            "achievement": {
                "id": format!("urn:ce:achievement:annual:{}", s.year),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": format!("工程技术人员继续教育 {} 年度学时 / Continuing education hours {}", s.year, s.year),
                "description": "Annual continuing education of engineering and technical personnel",
                "criteria": {
                    "narrative": format!("At least 90 hours a year, at least 60 of them professional subjects ({ART_18}), \
                                  or a year deemed complete ({cited}) or made up ({ART_20}).", cited = cite(&[ART_18, ART_19]))
                },
                "resultDescription": [
                    description("total", "Total hours"),
                    description("public", "Public-subject hours"),
                    description("professional", "Professional-subject hours (converted included)"),
                    description("converted", &format!("Converted hours, forms 4-9 ({ART_18})")),
                ],
            },
            "result": [
                result("total", s.total_hours),
                result("public", s.public_hours),
                result("professional", s.professional_hours),
                result("converted", s.converted_hours),
            ],
            "year": s.year,
            "state": state,
            "complete": s.complete,
            "deemedReason": s.deemed_reason,
            "province": s.province,
            "ruleSet": s.rule_set,
            "annualStatus": s.name,
        },
    })
}

/// Engineers a query of [`supersede`] asks about at most.
const CHUNK: usize = 1000;

/// Revokes, inside the caller's transaction, every standing certificate of
/// the years in `restated` (engineer and year, with the figures just stored
/// and the day they were assessed on) that states other figures: the year
/// it certifies is no longer the year as it stands. `records` are the hour
/// records the transaction changed, with their engineer and year: the
/// reason names one of the engineer's, of the certificate's year if there
/// is one (a make-up record of the next year changes a deferred year too).
/// One query when no certificate is found (engineers in chunks of
/// [`CHUNK`]); each revocation is audited. Returns how many.
pub fn supersede(
    conn: &mut DbConnection,
    restated: &HashMap<(String, i32), (Figures, time::Date)>,
    records: &[(String, String, i32)],
) -> Result<usize, DbError> {
    let mut engineers: Vec<&str> = restated.keys().map(|(e, _)| e.as_str()).collect();
    engineers.sort_unstable();
    engineers.dedup();
    let mut years: Vec<i32> = restated.keys().map(|(_, y)| *y).collect();
    years.sort_unstable();
    years.dedup();
    let mut standing = Vec::new();
    for chunk in engineers.chunks(CHUNK) {
        standing.extend(store::certificates::standing(conn, chunk, &years)?);
    }
    let mut revoked = 0;
    for cert in standing {
        let Some((figures, on)) = restated.get(&(cert.engineer_id.clone(), cert.year)) else {
            continue;
        };
        let now = figures.stated();
        let before = serde_json::from_str::<Value>(&cert.credential)
            .ok()
            .as_ref()
            .and_then(Stated::read);
        let what = match &before {
            Some(before) if *before == now => continue,
            Some(before) => before.changes_to(&now),
            None => format!(
                "the certificate's figures do not read; the year now states {}",
                now.describe()
            ),
        };
        let of_engineer = || records.iter().filter(|(e, ..)| *e == cert.engineer_id);
        let record = of_engineer()
            .find(|(_, _, year)| *year == cert.year)
            .or_else(|| of_engineer().next());
        let by = match record {
            Some((_, id, _)) => format!(" by {}", names::record_name(id)),
            None => ", the year reassessed".to_owned(),
        };
        let reason = format!(
            "superseded: the year's figures changed on {}{by}: {what}",
            dates::format(*on)
        );
        let at = now_micros();
        if !store::certificates::revoke(conn, &cert.id, &reason, at)? {
            continue;
        }
        audit::append(
            conn,
            &AuditEntry {
                at_micros: at,
                actor: "crediting".into(),
                role: "service".into(),
                province: Some(cert.province.clone()),
                rpc: "SupersedeHourCertificate".into(),
                resource: format!("{HOUR_CERTIFICATES}/{}", cert.id),
                request_id: String::new(),
                outcome: "OK".into(),
            },
        )?;
        revoked += 1;
    }
    Ok(revoked)
}

/// The day (China time) of a moment in microseconds.
fn day_of(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map(|t| dates::format(ce_rules::dates::date_of(t)))
        .unwrap_or_default()
}

impl Crediting {
    /// Issues a certificate of a year as it stands (complete or not) to
    /// anyone who may read the year.
    pub async fn create_certificate(
        &self,
        call: &Call,
        req: CreateHourCertificateRequest,
    ) -> Result<HourCertificate, ApiError> {
        let field = "annual_status";
        let (engineer_id, year) = names::parse_status(&req.annual_status).map_err(|_| {
            ApiError::invalid(
                field,
                "must be `engineers/{engineer}/annualStatuses/{year}`",
            )
        })?;
        // Reads through the status's own scope check, assessed if never
        // stored, fresh if stale.
        status::get(self, call, &req.annual_status).await?;
        // A year never assessed is stored first, where the engineer is now:
        // a certificate states a stored year, which it then follows.
        let who = status::Who::of(
            &self
                .registry
                .engineer(&names::engineer_name(&engineer_id))
                .await?,
        );
        let (rules, today) = (self.rules.clone(), (self.clock)());
        let id = names::new_id();
        let at = now_micros();
        let issued = rfc3339(at);
        let signer = self.certificates.clone();
        let call = call.clone();
        let row = self
            .feed
            .write(&self.db, move |conn, changes| -> Result<_, ApiError> {
                // Under the engineer's lock, the year as stored: a change
                // that commits after this supersedes the certificate, and
                // one that committed since the read is certified.
                let who = status::locked(conn, &who)?;
                let stored = match store::get_status(conn, &engineer_id, year)? {
                    Some(stored) => stored,
                    None => {
                        status::check_read(&call, &who)?;
                        status::recompute_locked(conn, changes, &rules, &who, year, today)?;
                        store::get_status(conn, &engineer_id, year)?
                            .ok_or_else(|| names::not_found(&req.annual_status))?
                    }
                };
                let s = convert::decode_status(&stored)?;
                let status_index = store::certificates::allocate_status_index(conn)?;
                let mut unsigned = document(&signer, &id, &s, &issued);
                if let (Some(entry), Some(doc)) = (
                    crate::published::status_entry(&signer, status_index),
                    unsigned.as_object_mut(),
                ) {
                    doc.insert("credentialStatus".into(), entry);
                }
                let signed = signer.sign(unsigned, &issued)?;
                let row = CertificateRow {
                    id,
                    engineer_id,
                    year,
                    province: stored.head.province,
                    field: stored.head.field,
                    employer_id: stored.head.employer_id,
                    credential: serde_json::to_string_pretty(&signed)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                    issued_by: call.caller.subject.clone(),
                    create_micros: at,
                    revoke_micros: None,
                    revocation_reason: None,
                    status_index: Some(status_index),
                };
                store::certificates::insert_certificate(conn, &row)?;
                audit::append(
                    conn,
                    &call.audit(&format!("{HOUR_CERTIFICATES}/{}", row.id), "OK"),
                )?;
                Ok(row)
            })
            .await?;
        Ok(convert::certificate_to_proto(row))
    }

    pub async fn get_certificate(
        &self,
        call: &Call,
        name: &str,
    ) -> Result<HourCertificate, ApiError> {
        let id = ce_server::names::parse("name", HOUR_CERTIFICATES, name)?.to_owned();
        let row = self
            .db
            .read(move |conn| store::certificates::get_certificate(conn, &id))
            .await?
            .ok_or_else(|| names::not_found(name))?;
        status::check_read(
            call,
            &status::Who::held(&row.engineer_id, &row.province, row.field, &row.employer_id),
        )?;
        Ok(convert::certificate_to_proto(row))
    }

    /// Valid, revoked or tampered. Anyone signed in may ask: an employer
    /// checking a title application, a regulator, the engineer.
    pub async fn verify_certificate(
        &self,
        credential: &str,
    ) -> Result<VerifyHourCertificateResponse, ApiError> {
        let tampered = |reason: String| VerifyHourCertificateResponse {
            verdict: Verdict::Tampered as i32,
            reason,
            ..Default::default()
        };
        if credential.trim().is_empty() {
            return Err(ApiError::invalid("credential", "is required"));
        }
        let document: Value = match serde_json::from_str(credential) {
            Ok(d) => d,
            Err(e) => return Err(ApiError::invalid("credential", format!("is not JSON: {e}"))),
        };
        if let Err(why) = self.certificates.check(&document) {
            return Ok(tampered(why));
        }
        let Some(id) = document
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix("urn:uuid:"))
            .map(str::to_owned)
        else {
            return Ok(tampered("the credential has no urn:uuid id".into()));
        };
        let name = format!("{HOUR_CERTIFICATES}/{id}");
        let row = self
            .db
            .read(move |conn| store::certificates::get_certificate(conn, &id))
            .await?;
        let Some(row) = row else {
            return Ok(tampered("no such certificate was issued here".into()));
        };
        // The signature covers the content; compare with what was issued too.
        let issued: Value = serde_json::from_str(&row.credential)
            .map_err(|e| ApiError::Internal(format!("stored certificate does not parse: {e}")))?;
        // Both have a canonical form: `document`'s proof was just checked
        // over it, and `issued` was signed over it.
        let canonical = |v: &Value| jcs(v).map_err(ApiError::Internal);
        if canonical(&issued)? != canonical(&document)? {
            return Ok(tampered(
                "the credential differs from the one issued".into(),
            ));
        }
        Ok(match row.revoke_micros {
            Some(at) => VerifyHourCertificateResponse {
                verdict: Verdict::Revoked as i32,
                reason: format!("revoked on {}", day_of(at)),
                hour_certificate: name,
                revocation_reason: row.revocation_reason.unwrap_or_default(),
            },
            None => VerifyHourCertificateResponse {
                verdict: Verdict::Valid as i32,
                reason: match Stated::read(&issued) {
                    Some(stated) if !stated.complete => format!(
                        "signed by this issuer, unchanged, and standing; the year it states is \
                         not complete ({} hours, {} professional)",
                        stated.hours[0].1, stated.hours[2].1
                    ),
                    _ => "signed by this issuer, unchanged, and standing".into(),
                },
                hour_certificate: name,
                revocation_reason: String::new(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer {
            key: SigningKey::from_bytes(&[7; 32]),
            issuer: "did:web:test".into(),
            issuer_name: "Test".into(),
            status_lists: None,
        }
    }

    #[test]
    fn a_credential_states_its_figures_and_says_which_changed() {
        let status = AnnualStatus {
            name: "engineers/e/annualStatuses/2026".into(),
            engineer: "engineers/e".into(),
            year: 2026,
            total_hours: 90.0,
            public_hours: 30.0,
            professional_hours: 60.0,
            converted_hours: 40.0,
            complete: true,
            ..Default::default()
        };
        let mut doc = document(&signer(), "1", &status, "2026-11-25T00:00:00Z");
        let stated = Stated::read(&doc).unwrap();
        assert_eq!(stated, Figures::of(&status).stated());
        let now = Figures {
            total: 86.0,
            professional: 56.0,
            complete: false,
            ..Figures::of(&status)
        }
        .stated();
        assert_eq!(
            stated.changes_to(&now),
            "total 90.00 → 86.00, professional 60.00 → 56.00, complete yes → no"
        );
        // Differences under a hundredth of an hour are not stated.
        let same = Figures {
            total: 90.001,
            ..Figures::of(&status)
        };
        assert_eq!(same.stated(), stated);
        // Issued before `complete` was stated: only complete years had one.
        doc["credentialSubject"]
            .as_object_mut()
            .unwrap()
            .remove("complete");
        assert_eq!(Stated::read(&doc), Some(stated));
    }

    #[test]
    fn jcs_sorts_keys_by_utf16_and_strips_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": "é", "a": true}], "a": "x\n", "€": 1, "😀": 2 }"#,
        )
        .unwrap();
        // U+20AC sorts before U+1F600 (surrogate D83D) in UTF-16 order.
        assert_eq!(
            String::from_utf8(jcs(&v).unwrap()).unwrap(),
            r#"{"a":"x\n","b":[1,{"a":true,"z":"é"}],"€":1,"😀":2}"#
        );
    }

    /// Every document a certificate is made of, as this service writes
    /// them: the credential, signed and unsigned, and its proof options.
    fn certificate_documents() -> Vec<Value> {
        let plain = signer();
        let awkward = Signer {
            key: SigningKey::from_bytes(&[9; 32]),
            issuer: "did:web:hrss.fujian.gov.cn:ce".into(),
            issuer_name: "福建省人社厅 \"继续教育\" \\ back\tslash\n\u{1}\u{1f}\u{7f}\u{2028} 😀"
                .into(),
            status_lists: None,
        };
        let statuses = [
            AnnualStatus {
                name: "engineers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/annualStatuses/2026".into(),
                engineer: "engineers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
                year: 2026,
                state: ce_proto::crediting::AnnualState::Compliant as i32,
                total_hours: 112.0,
                public_hours: 32.0,
                professional_hours: 80.0,
                converted_hours: 0.0,
                complete: true,
                province: "35".into(),
                rule_set: "national-2026".into(),
                ..Default::default()
            },
            AnnualStatus {
                name: "engineers/e/annualStatuses/2027".into(),
                engineer: "engineers/e".into(),
                year: 2027,
                total_hours: 86.333_333,
                public_hours: 29.995,
                professional_hours: 56.338_333,
                converted_hours: 12.5,
                complete: false,
                deemed_reason: format!(
                    "{}: \"abroad\"\r\n— 出国访学 ⅓ year",
                    ce_rules::article::ART_19
                ),
                province: "44".into(),
                rule_set: "44-2026".into(),
                ..Default::default()
            },
            AnnualStatus {
                year: 9999,
                state: 99,
                total_hours: -0.0,
                public_hours: 1e21,
                professional_hours: 1e-7,
                converted_hours: f64::MAX,
                ..Default::default()
            },
        ];
        let mut docs = Vec::new();
        for signer in [&plain, &awkward] {
            for (i, status) in statuses.iter().enumerate() {
                let issued = "2026-11-25T08:30:00.123456Z";
                let unsigned = document(
                    signer,
                    &format!("0190a1b2-0000-7000-8000-00000000000{i}"),
                    status,
                    issued,
                );
                let mut signed = signer.sign(unsigned.clone(), issued).unwrap();
                // As issued before proofs kept their `@context`.
                signed["proof"].as_object_mut().unwrap().remove("@context");
                let mut options = signed["proof"].clone();
                options.as_object_mut().unwrap().remove("proofValue");
                options["@context"] = unsigned["@context"].clone();
                docs.extend([unsigned, signed, options]);
            }
        }
        docs
    }

    /// A certificate as issued before `serde_json_canonicalizer`, signed
    /// over the hand-written canonicalisation it replaced; stored as it was
    /// issued, it is its own canonical form.
    const ISSUED_BEFORE: &str =
        include_str!("../tests/data/certificate-issued-before-jcs-crate.json");

    #[test]
    fn a_certificate_issued_before_the_crate_still_verifies() {
        let issued: Value = serde_json::from_str(ISSUED_BEFORE).unwrap();
        assert_eq!(signer().check(&issued), Ok(()));
        assert_eq!(jcs(&issued).unwrap(), ISSUED_BEFORE.as_bytes());
        // Signed again, the same content gets the same proof (Ed25519 is
        // deterministic), which now keeps its `@context`: it was signed
        // over it then too.
        let mut unsigned = issued.clone();
        let proof = unsigned.as_object_mut().unwrap().remove("proof").unwrap();
        let created = proof["created"].as_str().unwrap();
        let mut again = signer().sign(unsigned, created).unwrap();
        assert_eq!(again["proof"]["@context"], issued["@context"]);
        assert_eq!(signer().check(&again), Ok(()));
        again["proof"].as_object_mut().unwrap().remove("@context");
        assert_eq!(again, issued);
    }

    #[test]
    fn certificate_documents_canonicalise_as_before() {
        // SHA-256 of each document's canonical form, as the hand-written
        // canonicaliser wrote it (the crate's output was checked equal to
        // it before that code was deleted).
        let before = [
            "e592d72fd86255f0a9e7c12e65f7ef7d354416d5c18f6bb1470fffeb1c1c5949",
            "40dfdba9f310786705fb47ceee4702a81bfeb28a232d9f03c522c388208e50bd",
            "a15483efd924d666db86bcdddf7664e7f4f7e77264fd41d4aa8eef45767dd0df",
            "61cd74cb27f3beaf244c7da10efd939f8392a022073e7060ecf7c100f21b08f2",
            "e969aa2eb9fe232a69e335e69a7ba3aee941a9a49bc79609844303a303947b01",
            "a15483efd924d666db86bcdddf7664e7f4f7e77264fd41d4aa8eef45767dd0df",
            "5356ded7eaf2cc685b3c7cc7d6762ccfe1aeff817e8185dd87001c483b2ef369",
            "c469eb271eb44bb42e341fcc2e79d97f43b53976f01daf3fba8960b54c49b458",
            "a15483efd924d666db86bcdddf7664e7f4f7e77264fd41d4aa8eef45767dd0df",
            "4252fb141c9783d5a3b98a96b37bf10ab56f43ff714be6c30a483f78c7de1764",
            "7b14524c3135a3864ec8d0e835bbec0e5cec6aeb777f28cc959e3abe5b39b160",
            "bd2b98c4766208b2ada96a5da0acbdf9ae83f21ce7c70367705c04ce45d6ece9",
            "dae5b0fb7ac4325674b733dc20f1d15d2636e1581b487068feff38ab4d395f24",
            "30b42b1dc913f80d8826c9a3da270ff61494baaed3952cfa9f276c5217908fd4",
            "bd2b98c4766208b2ada96a5da0acbdf9ae83f21ce7c70367705c04ce45d6ece9",
            "634d5e44be55604d8de33e8dd247f2658cf951499f7583fac5c9d56ffbfb5efb",
            "0dd409be5328326d4d5fc91f1da0a24ee9041cf9587b93488e3211ef74f19887",
            "bd2b98c4766208b2ada96a5da0acbdf9ae83f21ce7c70367705c04ce45d6ece9",
        ];
        let now: Vec<String> = certificate_documents()
            .iter()
            .map(|d| {
                Sha256::digest(jcs(d).unwrap())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect();
        assert_eq!(now, before);
    }

    #[test]
    fn numbers_are_written_as_rfc_8785_says() {
        // Where the old code wrote serde_json's form instead (no
        // certificate holds such a number). The last is RFC 8785's own
        // example (section 3.2.2.3).
        for (json, canonical) in [
            ("1.0", "1"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("18446744073709551615", "18446744073709552000"),
            (
                "[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]",
                "[333333333.3333333,1e+30,4.5,0.002,1e-27]",
            ),
        ] {
            let v: Value = serde_json::from_str(json).unwrap();
            assert_eq!(
                String::from_utf8(jcs(&v).unwrap()).unwrap(),
                canonical,
                "{json}"
            );
        }
    }

    #[test]
    fn a_signed_document_verifies_in_any_formatting_and_fails_when_changed() {
        let s = signer();
        let doc = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "hours": "90.00"});
        let signed = s.sign(doc, "2026-11-25T00:00:00Z").unwrap();
        assert_eq!(s.check(&signed), Ok(()));
        let pretty: Value =
            serde_json::from_str(&serde_json::to_string_pretty(&signed).unwrap()).unwrap();
        assert_eq!(s.check(&pretty), Ok(()));
        let mut changed = signed.clone();
        changed["hours"] = json!("95.00");
        assert!(
            s.check(&changed)
                .unwrap_err()
                .contains("changed after signing")
        );
        let mut changed_proof = signed.clone();
        changed_proof["proof"]["created"] = json!("2020-01-01T00:00:00Z");
        assert!(s.check(&changed_proof).is_err());
        // The proof keeps the context it was signed under; a document
        // under another is refused before any hashing.
        assert_eq!(signed["proof"]["@context"], signed["@context"]);
        let mut other_context = signed.clone();
        other_context["@context"] = json!(["https://www.w3.org/2018/credentials/v1"]);
        assert!(
            s.check(&other_context)
                .unwrap_err()
                .contains("does not start with the proof's")
        );
        let other = Signer {
            key: SigningKey::from_bytes(&[8; 32]),
            ..signer()
        };
        assert!(other.check(&signed).is_err());
    }
}
