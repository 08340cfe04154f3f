//! Hour certificates (Art. 15, 21): a signed statement of an engineer's
//! complete year that anyone can check, revoked when the year's records are
//! revoked (Art. 27).
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

use std::path::Path;

use ce_db::{DbConnection, DbError, audit};
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use ce_proto::crediting::{
    AnnualStatus, CreateHourCertificateRequest, HourCertificate, VerifyHourCertificateResponse,
};
use ce_server::app::CertificatesConfig;
use ce_server::auth::DevKey;
use ce_server::call::now_micros;
use ce_server::config::Environment;
use ce_server::{ApiError, Call, dates};
use diesel::prelude::*;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::names;
use crate::records::Crediting;
use crate::schema::hour_certificates;
use crate::status;

pub const HOUR_CERTIFICATES: &str = "hourCertificates";
/// The development certificate key, under the data folder.
pub const DEV_KEY_FILE: &str = "dev-certificate-key.pem";
const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Signs and checks certificates with the issuer's Ed25519 key.
pub struct Signer {
    key: SigningKey,
    issuer: String,
    issuer_name: String,
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
        Ok(Signer {
            key,
            issuer: c.issuer.clone(),
            issuer_name: c.issuer_name.clone(),
        })
    }

    fn method(&self) -> String {
        format!("{}#certificates-1", self.issuer)
    }

    /// Adds an `eddsa-jcs-2022` proof to `document`.
    fn sign(&self, mut document: Value, created: &str) -> Result<Value, ApiError> {
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
        let signature = self.key.sign(&hash_data(&proof, &document));
        if let Some(p) = proof.as_object_mut() {
            p.remove("@context");
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
        let unsecured = Value::Object(unsecured);
        if let Some(ctx) = unsecured.get("@context") {
            options.insert("@context".into(), ctx.clone());
        }
        let verifying: VerifyingKey = self.key.verifying_key();
        verifying
            .verify(&hash_data(&Value::Object(options), &unsecured), &signature)
            .map_err(|_| {
                "the signature does not match the content: it was changed after signing".to_owned()
            })
    }
}

/// `eddsa-jcs-2022` hashing: SHA-256 of the canonical proof options, then of
/// the canonical document.
fn hash_data(proof_options: &Value, document: &Value) -> Vec<u8> {
    let mut out = Sha256::digest(jcs(proof_options).as_bytes()).to_vec();
    out.extend_from_slice(&Sha256::digest(jcs(document).as_bytes()));
    out
}

/// RFC 8785 canonical JSON: no whitespace, object keys sorted by UTF-16
/// code units, strings escaped as ECMAScript does. Certificates hold only
/// strings, integers, booleans, arrays and objects.
pub fn jcs(v: &Value) -> String {
    let mut out = String::new();
    write_jcs(v, &mut out);
    out
}

fn write_jcs(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_jcs(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
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

/// The unsigned credential for a complete year.
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
                    "narrative": "At least 90 hours a year, at least 60 of them professional subjects (Art. 18), \
                                  or a year deemed complete (Art. 18, 19) or made up (Art. 20)."
                },
                "resultDescription": [
                    description("total", "Total hours"),
                    description("public", "Public-subject hours"),
                    description("professional", "Professional-subject hours (converted included)"),
                    description("converted", "Converted hours, forms 4-9 (Art. 18)"),
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
            "deemedReason": s.deemed_reason,
            "province": s.province,
            "ruleSet": s.rule_set,
            "annualStatus": s.name,
        },
    })
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = hour_certificates)]
pub struct CertificateRow {
    pub id: String,
    pub engineer_id: String,
    pub year: i32,
    pub province: String,
    pub field: i32,
    pub employer_id: Option<String>,
    pub credential: String,
    pub issued_by: String,
    pub create_micros: i64,
    pub revoke_micros: Option<i64>,
    pub revocation_reason: Option<String>,
}

fn to_proto(row: CertificateRow) -> HourCertificate {
    HourCertificate {
        name: format!("{HOUR_CERTIFICATES}/{}", row.id),
        engineer: names::engineer_name(&row.engineer_id),
        year: row.year,
        credential: row.credential,
        create_time: Some(dates::timestamp(row.create_micros)),
        revoke_time: row.revoke_micros.map(dates::timestamp),
        revocation_reason: row.revocation_reason.unwrap_or_default(),
    }
}

fn get_row(conn: &mut DbConnection, id: &str) -> Result<Option<CertificateRow>, DbError> {
    Ok(hour_certificates::table
        .find(id)
        .select(CertificateRow::as_select())
        .first(conn)
        .optional()?)
}

/// Revokes every standing certificate of an engineer's year, inside the
/// caller's transaction (Art. 27). Returns how many.
pub fn revoke_year(
    conn: &mut DbConnection,
    engineer_id: &str,
    year: i32,
    reason: &str,
    at: i64,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        hour_certificates::table
            .filter(hour_certificates::engineer_id.eq(engineer_id))
            .filter(hour_certificates::year.eq(year))
            .filter(hour_certificates::revoke_micros.is_null()),
    )
    .set((
        hour_certificates::revoke_micros.eq(Some(at)),
        hour_certificates::revocation_reason.eq(Some(reason)),
    ))
    .execute(conn)?)
}

impl Crediting {
    /// Issues a certificate of a complete year to anyone who may read it.
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
        // Reads through the status's own scope check, fresh if stale.
        let s = status::get(self, call, &req.annual_status).await?;
        if !s.complete {
            return Err(ApiError::FailedPrecondition(format!(
                "{} is not complete ({} of 90 hours, {} of 60 professional; Art. 18): \
                 a certificate states a complete year",
                req.annual_status,
                hours(s.total_hours),
                hours(s.professional_hours)
            )));
        }
        let stored = {
            let id = engineer_id.clone();
            self.db
                .read(move |conn| crate::store::get_status(conn, &id, year))
                .await?
                .ok_or_else(|| names::not_found(&req.annual_status))?
        };
        let id = names::new_id();
        let at = now_micros();
        let issued = rfc3339(at);
        let signed = self
            .certificates
            .sign(document(&self.certificates, &id, &s, &issued), &issued)?;
        let row = CertificateRow {
            id,
            engineer_id,
            year,
            province: stored.province,
            field: stored.field,
            employer_id: stored.employer_id,
            credential: serde_json::to_string_pretty(&signed)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            issued_by: call.caller.subject.clone(),
            create_micros: at,
            revoke_micros: None,
            revocation_reason: None,
        };
        let call = call.clone();
        let row = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                diesel::insert_into(hour_certificates::table)
                    .values(&row)
                    .execute(conn)
                    .map_err(DbError::from)?;
                audit::append(
                    conn,
                    &call.audit(&format!("{HOUR_CERTIFICATES}/{}", row.id), "OK"),
                )?;
                Ok(row)
            })
            .await?;
        Ok(to_proto(row))
    }

    pub async fn get_certificate(
        &self,
        call: &Call,
        name: &str,
    ) -> Result<HourCertificate, ApiError> {
        let id = ce_server::names::parse("name", HOUR_CERTIFICATES, name)?.to_owned();
        let row = self
            .db
            .read(move |conn| get_row(conn, &id))
            .await?
            .ok_or_else(|| names::not_found(name))?;
        status::check_read(
            call,
            &status::Who::held(&row.engineer_id, &row.province, row.field, &row.employer_id),
        )?;
        Ok(to_proto(row))
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
        let row = self.db.read(move |conn| get_row(conn, &id)).await?;
        let Some(row) = row else {
            return Ok(tampered("no such certificate was issued here".into()));
        };
        // The signature covers the content; compare with what was issued too.
        let issued: Value = serde_json::from_str(&row.credential)
            .map_err(|e| ApiError::Internal(format!("stored certificate does not parse: {e}")))?;
        if jcs(&issued) != jcs(&document) {
            return Ok(tampered(
                "the credential differs from the one issued".into(),
            ));
        }
        Ok(match row.revoke_micros {
            Some(_) => VerifyHourCertificateResponse {
                verdict: Verdict::Revoked as i32,
                reason: "revoked (Art. 27)".into(),
                hour_certificate: name,
                revocation_reason: row.revocation_reason.unwrap_or_default(),
            },
            None => VerifyHourCertificateResponse {
                verdict: Verdict::Valid as i32,
                reason: "signed by this issuer, unchanged, and standing".into(),
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
        }
    }

    #[test]
    fn jcs_sorts_keys_by_utf16_and_strips_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": "é", "a": true}], "a": "x\n", "€": 1, "😀": 2 }"#,
        )
        .unwrap();
        // U+20AC sorts before U+1F600 (surrogate D83D) in UTF-16 order.
        assert_eq!(
            jcs(&v),
            r#"{"a":"x\n","b":[1,{"a":true,"z":"é"}],"€":1,"😀":2}"#
        );
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
        let other = Signer {
            key: SigningKey::from_bytes(&[8; 32]),
            ..signer()
        };
        assert!(other.check(&signed).is_err());
    }
}
