//! Inspections (Art. 24) and the "double random, public results" draw:
//! targets drawn from the population the registry or crediting gives for
//! the inspection's scope (a province, or the nation for the ministry; a
//! field; or targets the plan names within it), inspectors from a roster,
//! with a recorded seed and population snapshot so anyone can re-run the
//! draw ([`draw`]).

use ce_db::audit;
use ce_proto::crediting::{AnnualState, GetAnnualStatusRequest, ListAnnualStatusesRequest};
use ce_proto::registry::{ListEmployersRequest, ListEngineersRequest, ListInstitutionsRequest};
use ce_proto::supervision::{
    DrawInspectionSampleRequest, Finding, FindingOutcome, Inspection, InspectionState,
    ListInspectionsRequest, ListInspectionsResponse, Sample, TargetKind, Violation,
    ViolationCategory,
};
use ce_server::call::now_micros;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::convert;
use crate::scope::{self, may_inspect};
use crate::store::{self, InspectionRow};
use crate::violations::Supervision;

pub const INSPECTIONS: &str = "inspections";
/// Draws recorded before seeds were committed: the generator seeded with
/// the recorded seed itself.
pub const ALGORITHM_V1: &str = "splitmix64-fisher-yates-v1";
/// The draw: the generator seeded from a committed 32-byte seed.
pub const ALGORITHM: &str = "sha256-splitmix64-fisher-yates-v2";

fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh 32-byte seed from the operating system's randomness, as hex.
fn fresh_seed() -> String {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed.iter().map(|b| format!("{b:02x}")).collect()
}

/// The seed's bytes, from hex; `None` unless 32 bytes of hex.
fn seed_bytes(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// The commitment to a seed, published before the draw.
pub fn commitment(seed: &[u8]) -> String {
    sha256_hex(&[b"ce-draw-commitment:", seed])
}

/// The generator's seed a committed seed gives (v2).
pub fn generator_seed(seed: &[u8]) -> u64 {
    use sha2::Digest;
    let d = sha2::Sha256::new()
        .chain_update(b"ce-draw-seed:")
        .chain_update(seed)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first)
}

/// SHA-256 of a sorted list, its names joined by newlines.
pub fn list_hash(sorted: &[String]) -> String {
    sha256_hex(&[sorted.join("\n").as_bytes()])
}

fn sorted(list: &[String]) -> Vec<String> {
    let mut l: Vec<String> = list.iter().map(|s| s.trim().to_owned()).collect();
    l.sort();
    l.dedup();
    l
}

/// The province an inspection's writes are of: its own, or for a national
/// inspection (none), the nation's.
fn inspected_province(province: &str) -> &str {
    if province.is_empty() {
        ce_proto::reference::NATIONAL
    } else {
        province
    }
}

/// The double-random draw itself (Art. 24) is ce-rules'.
pub use ce_rules::sanction::draw;

impl Supervision {
    pub async fn create_inspection(
        &self,
        call: &Call,
        mut i: Inspection,
    ) -> Result<Inspection, ApiError> {
        let mut v = Violations::new();
        i.title = i.title.trim().to_owned();
        if i.title.is_empty() || i.title.len() > 200 {
            v.add("inspection.title", "is required, at most 200 characters");
        }
        // Empty is a national inspection; `may_inspect` leaves that to the ministry.
        if !i.province.is_empty() && ce_proto::reference::region(&i.province).is_none() {
            v.add(
                "inspection.province",
                format!("`{}` is not a province code", i.province),
            );
        }
        let kind = TargetKind::try_from(i.target_kind).unwrap_or(TargetKind::Unspecified);
        match kind {
            TargetKind::Unspecified => v.add("inspection.target_kind", "is required"),
            TargetKind::CompleteEngineers if i.year < ce_rules::ruleset::FIRST_YEAR => v.add(
                "inspection.year",
                "is required for complete engineers: 2026 or later",
            ),
            _ => {}
        }
        i.targets = named_targets(&mut v, kind, &i.targets);
        let start = v.check(
            "inspection.start_date",
            dates::from_proto(i.start_date.as_ref()),
        );
        let end = v.check(
            "inspection.end_date",
            dates::from_proto(i.end_date.as_ref()),
        );
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            v.add("inspection.end_date", "must not be before the start date");
        }
        v.finish()?;
        may_inspect(&call.caller, &i.province, i.field)?;
        self.in_deployment(call, inspected_province(&i.province), INSPECTIONS)?;
        let id = names::new_id();
        let now = now_micros();
        i.name = names::name(INSPECTIONS, &id);
        i.state = InspectionState::Planned as i32;
        i.sample = None;
        i.findings.clear();
        i.outcome.clear();
        i.created_by = call.caller.subject.clone();
        i.create_time = Some(dates::timestamp(now));
        i.publish_time = None;
        let row = InspectionRow {
            id,
            province: i.province.clone(),
            field: i.field,
            state: i.state,
            body: i.encode_to_vec(),
            created_by: call.caller.organisation(),
            create_micros: now,
            update_micros: now,
        };
        let call = call.clone();
        self.db
            .write(move |conn| -> Result<_, ApiError> {
                store::insert_inspection(conn, &row)?;
                audit::append(conn, &call.audit(&names::name(INSPECTIONS, &row.id), "OK"))?;
                Ok(())
            })
            .await?;
        Ok(i)
    }

    async fn load_inspection(&self, name: &str) -> Result<InspectionRow, ApiError> {
        let id = names::parse("name", INSPECTIONS, name)?.to_owned();
        self.db
            .read(move |conn| Ok::<_, ApiError>(store::get_inspection(conn, &id)?))
            .await?
            .ok_or_else(|| names::not_found(name))
    }

    /// Published inspections are public to every signed-in caller; the
    /// others to whoever may inspect their scope.
    pub async fn get_inspection(&self, call: &Call, name: &str) -> Result<Inspection, ApiError> {
        let row = self.load_inspection(name).await?;
        if row.state() != InspectionState::Published {
            may_inspect(&call.caller, &row.province, row.field)?;
        }
        convert::inspection(&row)
    }

    pub async fn list_inspections(
        &self,
        call: &Call,
        req: ListInspectionsRequest,
    ) -> Result<ListInspectionsResponse, ApiError> {
        if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
            return Err(ApiError::invalid(
                "province",
                format!("`{}` is not a province code", req.province),
            ));
        }
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!("{}|{}", req.province, req.published_only),
        )?;
        let asked = (!req.province.is_empty()).then(|| req.province.clone());
        let (province, field, published) =
            scope::inspections_listed(&call.caller, asked, req.published_only)?;
        let state = published.then_some(InspectionState::Published as i32);
        let (inspections, next_page_token) = page
            .load_within(
                &self.db,
                move |conn, after, limit| {
                    Ok(store::list_inspections(
                        conn,
                        province.as_deref(),
                        field,
                        state,
                        after,
                        limit,
                    )?)
                },
                |r| r.id.clone(),
                |r| convert::inspection(&r),
                call.max_message_bytes,
            )
            .await?;
        Ok(ListInspectionsResponse {
            inspections,
            next_page_token,
        })
    }

    /// What the draw is made from: the scope's population, or the named
    /// targets when the plan names them, each checked against the scope
    /// one by one (a national population can be millions of engineers).
    async fn draw_from(&self, i: &Inspection) -> Result<Vec<String>, ApiError> {
        if i.targets.is_empty() {
            return self.population(i).await;
        }
        let mut outside = Vec::new();
        for t in &i.targets {
            if !self.in_scope(i, t).await? {
                outside.push(t.as_str());
            }
        }
        if !outside.is_empty() {
            let shown = outside.iter().take(10).copied().collect::<Vec<_>>();
            return Err(ApiError::precondition(
                ce_server::reason::Reason::TargetOutOfInspectionScope,
                i.name.clone(),
                format!(
                    "{} of the named targets are not (or no longer) in the inspection's scope{}: {}{}",
                    outside.len(),
                    scope_words(i),
                    shown.join(", "),
                    if outside.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    },
                ),
            ));
        }
        Ok(i.targets.clone())
    }

    /// Whether a named target exists and is in the plan's province and
    /// field (and, for complete engineers, complete in the plan's year).
    async fn in_scope(&self, i: &Inspection, target: &str) -> Result<bool, ApiError> {
        let scope = ce_rules::sanction::Scope {
            province: (!i.province.is_empty()).then_some(i.province.as_str()),
            field: (i.field != 0).then_some(i.field),
        };
        let gone = |e: ApiError| match e {
            ApiError::InvalidArgument(_) => Ok(false),
            e => Err(e),
        };
        let kind = TargetKind::try_from(i.target_kind).unwrap_or(TargetKind::Unspecified);
        Ok(match kind {
            TargetKind::Institutions => match self.clients.institution("target", target).await {
                Ok(x) => scope.covers(&x.province, Some(&x.fields)),
                Err(e) => gone(e)?,
            },
            TargetKind::Employers => match self.clients.employer("target", target).await {
                Ok(x) => scope.covers(&x.province, None),
                Err(e) => gone(e)?,
            },
            TargetKind::Engineers | TargetKind::CompleteEngineers => {
                let e = match self.clients.engineer("target", target).await {
                    Ok(e) => e,
                    Err(e) => return gone(e),
                };
                if !scope.covers(&e.province, Some(&[e.field])) {
                    return Ok(false);
                }
                if kind == TargetKind::Engineers {
                    return Ok(true);
                }
                match self
                    .clients
                    .crediting
                    .clone()
                    .get_annual_status(GetAnnualStatusRequest {
                        name: format!("{target}/annualStatuses/{}", i.year),
                    })
                    .await
                {
                    Ok(s) => s.into_inner().complete,
                    Err(e) if e.code() == tonic::Code::NotFound => false,
                    Err(e) => return Err(unanswered("crediting")(e)),
                }
            }
            TargetKind::Unspecified => false,
        })
    }

    /// The population of an inspection's scope, from its owner.
    async fn population(&self, i: &Inspection) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let (names, next) = self.population_page(i, token).await?;
            out.extend(names);
            if next.is_empty() {
                return Ok(out);
            }
            token = next;
        }
    }

    /// One page of [`Self::population`]: its names and the next token.
    async fn population_page(
        &self,
        i: &Inspection,
        token: String,
    ) -> Result<(Vec<String>, String), ApiError> {
        Ok(match TargetKind::try_from(i.target_kind) {
            Ok(TargetKind::Institutions) => {
                let page = self
                    .clients
                    .registry
                    .clone()
                    .list_institutions(ListInstitutionsRequest {
                        page_size: 1000,
                        page_token: token,
                        province: i.province.clone(),
                        field: i.field,
                        ..Default::default()
                    })
                    .await
                    .map_err(unanswered("the registry"))?
                    .into_inner();
                (
                    page.institutions.into_iter().map(|x| x.name).collect(),
                    page.next_page_token,
                )
            }
            Ok(TargetKind::Employers) => {
                let page = self
                    .clients
                    .registry
                    .clone()
                    .list_employers(ListEmployersRequest {
                        page_size: 1000,
                        page_token: token,
                        province: i.province.clone(),
                        ..Default::default()
                    })
                    .await
                    .map_err(unanswered("the registry"))?
                    .into_inner();
                (
                    page.employers.into_iter().map(|x| x.name).collect(),
                    page.next_page_token,
                )
            }
            Ok(TargetKind::Engineers) => {
                let page = self
                    .clients
                    .registry
                    .clone()
                    .list_engineers(ListEngineersRequest {
                        page_size: 1000,
                        page_token: token,
                        province: i.province.clone(),
                        field: i.field,
                        ..Default::default()
                    })
                    .await
                    .map_err(unanswered("the registry"))?
                    .into_inner();
                (
                    page.engineers.into_iter().map(|x| x.name).collect(),
                    page.next_page_token,
                )
            }
            Ok(TargetKind::CompleteEngineers) => {
                let page = self
                    .clients
                    .crediting
                    .clone()
                    .list_annual_statuses(ListAnnualStatusesRequest {
                        page_size: 1000,
                        page_token: token,
                        year: i.year,
                        province: i.province.clone(),
                        field: i.field,
                        ..Default::default()
                    })
                    .await
                    .map_err(unanswered("crediting"))?
                    .into_inner();
                (
                    page.annual_statuses
                        .into_iter()
                        .filter(|s| {
                            s.complete
                                && AnnualState::try_from(s.state) != Ok(AnnualState::Unspecified)
                        })
                        .map(|s| s.engineer)
                        .collect(),
                    page.next_page_token,
                )
            }
            _ => {
                return Err(ApiError::Internal(
                    "an inspection without a target kind".into(),
                ));
            }
        })
    }

    /// Checks a draw's counts and roster.
    fn check_draw(
        target_count: i32,
        roster: &[String],
        inspector_count: i32,
    ) -> Result<(), ApiError> {
        let mut v = Violations::new();
        if target_count < 1 {
            v.add("target_count", "must be at least 1");
        }
        if inspector_count < 1 || inspector_count as usize > roster.len() {
            v.add(
                "inspector_count",
                "must be at least 1 and at most the roster",
            );
        }
        if roster.iter().any(|r| r.trim().is_empty() || r.len() > 200) || roster.len() > 10_000 {
            v.add("roster", "names of 1 to 200 characters, at most 10000");
        }
        v.finish()
    }

    /// Fixes the draw: the population now, the roster and counts, and a
    /// commitment to a secret seed from the operating system (Art. 24).
    async fn committed(
        &self,
        inspection: &Inspection,
        target_count: i32,
        roster: &[String],
        inspector_count: i32,
    ) -> Result<(ce_proto::supervision::DrawCommitment, String), ApiError> {
        Supervision::check_draw(target_count, roster, inspector_count)?;
        let population = sorted(&self.draw_from(inspection).await?);
        if population.is_empty() {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::InspectionScopeEmpty,
                inspection.name.clone(),
                format!(
                    "the scope{} has nobody to inspect yet",
                    scope_words(inspection)
                ),
            ));
        }
        let seed = fresh_seed();
        let bytes =
            seed_bytes(&seed).ok_or_else(|| ApiError::Internal("a seed of 32 bytes".into()))?;
        Ok((
            ce_proto::supervision::DrawCommitment {
                population_sha256: list_hash(&population),
                population,
                roster: sorted(roster),
                target_count,
                inspector_count,
                seed_sha256: commitment(&bytes),
                commit_time: Some(dates::timestamp(now_micros())),
            },
            seed,
        ))
    }

    pub async fn commit_draw(
        &self,
        call: &Call,
        req: ce_proto::supervision::CommitInspectionDrawRequest,
    ) -> Result<Inspection, ApiError> {
        let row = self.load_inspection(&req.name).await?;
        may_inspect(&call.caller, &row.province, row.field)?;
        self.in_deployment(call, inspected_province(&row.province), &req.name)?;
        let mut inspection = convert::inspection(&row)?;
        if row.state() != InspectionState::Planned {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::DrawAlreadyFixed,
                req.name.clone(),
                format!(
                    "{} has its draw fixed already: a draw is committed once",
                    req.name
                ),
            ));
        }
        let (fixed, seed) = self
            .committed(
                &inspection,
                req.target_count,
                &req.roster,
                req.inspector_count,
            )
            .await?;
        inspection.commitment = Some(fixed);
        inspection.state = InspectionState::Committed as i32;
        let id = row.id.clone();
        self.save_inspection_with(
            call,
            row,
            inspection,
            &req.name,
            InspectionState::Planned,
            move |conn| Ok(store::put_draw_secret(conn, &id, &seed)?),
        )
        .await
    }

    /// The draw fixed when it was committed, and its secret seed; the
    /// request may repeat the counts and roster committed, no others.
    async fn committed_earlier(
        &self,
        row: &InspectionRow,
        inspection: &Inspection,
        req: &DrawInspectionSampleRequest,
    ) -> Result<(ce_proto::supervision::DrawCommitment, String), ApiError> {
        let fixed = inspection.commitment.clone().unwrap_or_default();
        let asked = sorted(&req.roster);
        if (req.target_count != 0 && req.target_count != fixed.target_count)
            || (req.inspector_count != 0 && req.inspector_count != fixed.inspector_count)
            || (!asked.is_empty() && asked != fixed.roster)
        {
            return Err(ApiError::invalid(
                "roster",
                "the draw was fixed when it was committed: leave the counts and roster empty, or give \
                 those committed",
            ));
        }
        let id = row.id.clone();
        let seed = self
            .db
            .read(move |conn| Ok::<_, ApiError>(store::draw_secret(conn, &id)?))
            .await?
            .ok_or_else(|| {
                ApiError::Internal(format!("{}: its committed seed is missing", req.name))
            })?;
        Ok((fixed, seed))
    }

    pub async fn draw_sample(
        &self,
        call: &Call,
        req: DrawInspectionSampleRequest,
    ) -> Result<Inspection, ApiError> {
        let row = self.load_inspection(&req.name).await?;
        may_inspect(&call.caller, &row.province, row.field)?;
        self.in_deployment(call, inspected_province(&row.province), &req.name)?;
        let mut inspection = convert::inspection(&row)?;
        if req.seed != 0 {
            return Err(ApiError::invalid(
                "seed",
                format!(
                    "must be 0: the seed comes from the operating system's randomness, never from a caller ({})",
                    ce_rules::article::ART_24
                ),
            ));
        }
        let expected = row.state();
        let (fixed, seed) = match expected {
            InspectionState::Planned => {
                self.committed(
                    &inspection,
                    req.target_count,
                    &req.roster,
                    req.inspector_count,
                )
                .await?
            }
            InspectionState::Committed => self.committed_earlier(&row, &inspection, &req).await?,
            _ => {
                return Err(ApiError::precondition(
                    ce_server::reason::Reason::SampleAlreadyDrawn,
                    req.name.clone(),
                    format!(
                        "{} has its sample already: a draw is made once, so it cannot be redrawn until it suits",
                        req.name
                    ),
                ));
            }
        };
        let bytes =
            seed_bytes(&seed).ok_or_else(|| ApiError::Internal("a seed of 32 bytes".into()))?;
        let generator = generator_seed(&bytes);
        let (targets, inspectors) = draw(
            generator,
            &fixed.population,
            fixed.target_count as usize,
            &fixed.roster,
            fixed.inspector_count as usize,
        );
        inspection.sample = Some(Sample {
            algorithm: ALGORITHM.into(),
            seed: generator,
            population: fixed.population.clone(),
            roster: fixed.roster.clone(),
            targets,
            inspectors,
            seed_hex: seed,
            seed_sha256: fixed.seed_sha256.clone(),
            population_sha256: fixed.population_sha256.clone(),
        });
        if inspection.commitment.is_none() {
            inspection.commitment = Some(fixed);
        }
        inspection.state = InspectionState::Sampled as i32;
        let id = row.id.clone();
        self.save_inspection_with(call, row, inspection, &req.name, expected, move |conn| {
            store::take_draw_secret(conn, &id)?;
            Ok(())
        })
        .await
    }

    /// Recomputes a past draw and says whether it is what was recorded.
    pub async fn verify_draw(
        &self,
        call: &Call,
        req: ce_proto::supervision::VerifyInspectionDrawRequest,
    ) -> Result<ce_proto::supervision::VerifyInspectionDrawResponse, ApiError> {
        let inspection = self.get_inspection(call, &req.name).await?;
        let Some(sample) = inspection.sample else {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::NoDrawYet,
                req.name.clone(),
                format!("{} has no draw yet", req.name),
            ));
        };
        Ok(verify(&sample, &req.seed_hex))
    }

    async fn save_inspection(
        &self,
        call: &Call,
        row: InspectionRow,
        inspection: Inspection,
        name: &str,
        expected: InspectionState,
    ) -> Result<Inspection, ApiError> {
        self.save_inspection_with(call, row, inspection, name, expected, |_| Ok(()))
            .await
    }

    /// [`Supervision::save_inspection`], running `also` in its transaction.
    async fn save_inspection_with(
        &self,
        call: &Call,
        row: InspectionRow,
        inspection: Inspection,
        name: &str,
        expected: InspectionState,
        also: impl FnOnce(&mut ce_db::DbConnection) -> Result<(), ApiError> + Send + 'static,
    ) -> Result<Inspection, ApiError> {
        let call = call.clone();
        let name = name.to_owned();
        let out = inspection.clone();
        self.db
            .write(move |conn| -> Result<_, ApiError> {
                store::lock_inspection(conn, &row.id)?;
                let current =
                    store::get_inspection(conn, &row.id)?.ok_or_else(|| names::not_found(&name))?;
                if current.state() != expected || current.update_micros != row.update_micros {
                    return Err(ApiError::Aborted(format!(
                        "{name} changed meanwhile; read it and try again"
                    )));
                }
                let mut row = current;
                row.state = inspection.state;
                row.body = inspection.encode_to_vec();
                row.update_micros = now_micros();
                store::update_inspection(conn, &row)?;
                also(conn)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(())
            })
            .await?;
        Ok(out)
    }

    pub async fn record_finding(
        &self,
        call: &Call,
        name: &str,
        finding: Option<Finding>,
    ) -> Result<Inspection, ApiError> {
        let row = self.load_inspection(name).await?;
        may_inspect(&call.caller, &row.province, row.field)?;
        self.in_deployment(call, inspected_province(&row.province), name)?;
        let mut inspection = convert::inspection(&row)?;
        if row.state() != InspectionState::Sampled {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::NotSampledOrPublished,
                name,
                format!(
                    "{name} is not sampled, or is published: findings are recorded between the draw and publication"
                ),
            ));
        }
        let Some(mut f) = finding else {
            return Err(ApiError::invalid("finding", "is required"));
        };
        let mut v = Violations::new();
        let drawn = inspection
            .sample
            .as_ref()
            .is_some_and(|s| s.targets.contains(&f.target));
        if !drawn {
            v.add("finding.target", "must be one of the targets drawn");
        }
        let outcome = FindingOutcome::try_from(f.outcome).unwrap_or(FindingOutcome::Unspecified);
        if outcome == FindingOutcome::Unspecified {
            v.add("finding.outcome", "is required");
        }
        f.text = f.text.trim().to_owned();
        if (outcome != FindingOutcome::Compliant && f.text.is_empty()) || f.text.len() > 4000 {
            v.add(
                "finding.text",
                "is required unless compliant, at most 4000 characters",
            );
        }
        v.finish()?;
        // Art. 24: whoever refuses or obstructs an inspection, institution,
        // employer or engineer, is recorded as such and has a violation.
        if outcome == FindingOutcome::Refused {
            let mut refusal = Violation {
                category: ViolationCategory::RefusedInspection as i32,
                description: format!("Refused or obstructed {name}: {}", f.text),
                evidence: vec![name.to_owned()],
                ..Default::default()
            };
            let subject = match f.target.split_once('/').map(|(c, _)| c) {
                Some("institutions") => &mut refusal.institution,
                Some("employers") => &mut refusal.employer,
                _ => &mut refusal.engineer,
            };
            subject.clone_from(&f.target);
            let violation = self
                .create_about(call, refusal, format!("{name}|{}", f.target), row.field)
                .await?;
            f.violation = violation.name;
        }
        f.recorded_by = call.caller.subject.clone();
        f.record_time = Some(dates::timestamp(now_micros()));
        inspection.findings.retain(|x| x.target != f.target);
        inspection.findings.push(f);
        self.save_inspection(call, row, inspection, name, InspectionState::Sampled)
            .await
    }

    pub async fn publish_inspection(
        &self,
        call: &Call,
        name: &str,
        outcome: &str,
    ) -> Result<Inspection, ApiError> {
        let row = self.load_inspection(name).await?;
        may_inspect(&call.caller, &row.province, row.field)?;
        self.in_deployment(call, inspected_province(&row.province), name)?;
        let mut inspection = convert::inspection(&row)?;
        if row.state() != InspectionState::Sampled {
            return Err(ApiError::precondition(
                ce_server::reason::Reason::NotSampledOrPublished,
                name,
                format!("{name} is not sampled, or is published already"),
            ));
        }
        let outcome = outcome.trim();
        if outcome.is_empty() || outcome.len() > 4000 {
            return Err(ApiError::invalid(
                "outcome",
                "is required, at most 4000 characters",
            ));
        }
        inspection.outcome = outcome.to_owned();
        inspection.state = InspectionState::Published as i32;
        inspection.publish_time = Some(dates::timestamp(now_micros()));
        self.save_inspection(call, row, inspection, name, InspectionState::Sampled)
            .await
    }
}

/// A peer's failure to answer, as UNAVAILABLE (retryable).
fn unanswered(peer: &'static str) -> impl Fn(tonic::Status) -> ApiError {
    move |e| ApiError::Unavailable(format!("{peer} did not answer: {}", e.message()))
}

/// The named targets of a plan, trimmed and without repeats: each a
/// resource name of the kind the plan inspects.
fn named_targets(v: &mut Violations, kind: TargetKind, targets: &[String]) -> Vec<String> {
    const MAX: usize = 1000;
    if targets.len() > MAX {
        v.add("inspection.targets", format!("at most {MAX} targets"));
        return Vec::new();
    }
    let collection = match kind {
        TargetKind::Institutions => "institutions",
        TargetKind::Employers => "employers",
        TargetKind::Engineers | TargetKind::CompleteEngineers => "engineers",
        TargetKind::Unspecified => return Vec::new(),
    };
    let mut out: Vec<String> = Vec::with_capacity(targets.len());
    for (n, t) in targets.iter().enumerate() {
        let t = t.trim();
        if names::parse("target", collection, t).is_err() {
            v.add(
                format!("inspection.targets[{n}]"),
                format!("`{t}` is not a {collection}/… name, as the target kind requires"),
            );
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

/// The scope in words, for messages: " (province 44, field 18)".
fn scope_words(i: &Inspection) -> String {
    let province = if i.province.is_empty() {
        "national".to_owned()
    } else {
        format!("province {}", i.province)
    };
    match ce_proto::common::Field::try_from(i.field) {
        Ok(f) if i.field != 0 => format!(" ({province}, {})", f.as_str_name()),
        _ => format!(" ({province})"),
    }
}

/// Whether a recorded draw is what its seed, population and roster give.
/// `seed_hex` replaces the revealed seed when given.
pub fn verify(
    sample: &Sample,
    seed_hex: &str,
) -> ce_proto::supervision::VerifyInspectionDrawResponse {
    let answer = |matches: bool, reason: String| {
        ce_proto::supervision::VerifyInspectionDrawResponse { matches, reason }
    };
    let generator = if sample.algorithm == ALGORITHM_V1 {
        sample.seed
    } else {
        let hex = if seed_hex.is_empty() {
            &sample.seed_hex
        } else {
            seed_hex
        };
        let Some(bytes) = seed_bytes(hex) else {
            return answer(false, "the seed is not 32 bytes of hex".into());
        };
        if commitment(&bytes) != sample.seed_sha256 {
            return answer(
                false,
                "the seed does not answer the commitment published before the draw".into(),
            );
        }
        if list_hash(&sample.population) != sample.population_sha256 {
            return answer(
                false,
                "the population differs from the one committed".into(),
            );
        }
        generator_seed(&bytes)
    };
    let (targets, inspectors) = draw(
        generator,
        &sample.population,
        sample.targets.len(),
        &sample.roster,
        sample.inspectors.len(),
    );
    if targets != sample.targets || inspectors != sample.inspectors {
        return answer(
            false,
            "the draw recomputed from the seed, population and roster gives other targets or inspectors".into(),
        );
    }
    answer(
        true,
        format!(
            "{}: the seed answers the commitment, the population ({} names) its hash, and the draw gives the {} \
             targets and {} inspectors recorded",
            sample.algorithm,
            sample.population.len(),
            sample.targets.len(),
            sample.inspectors.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize, prefix: &str) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}/{i:04}")).collect()
    }

    #[test]
    fn a_committed_seed_gives_the_known_draw() {
        let seed = [0x07u8; 32];
        assert_eq!(
            commitment(&seed),
            "3b05d94efc0664e219b50e2aae39650b52625910a46c530fb4b036e906a78ccc",
        );
        assert_eq!(generator_seed(&seed), 16089903620134783623);
        let population = names(10, "institutions");
        assert_eq!(
            list_hash(&population),
            "be850229e4a7195647efbcb731720744cb5e2f722f7745065910ef3a3c8b1793"
        );
        let (targets, inspectors) = draw(
            generator_seed(&seed),
            &population,
            3,
            &names(4, "inspector"),
            2,
        );
        assert_eq!(
            targets,
            [
                "institutions/0009",
                "institutions/0000",
                "institutions/0005"
            ]
        );
        assert_eq!(inspectors, ["inspector/0001", "inspector/0000"]);
    }

    #[test]
    fn a_draw_verifies_with_its_seed_and_not_with_another() {
        let seed = [0x2au8; 32];
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        let population = names(50, "engineers");
        let roster = names(5, "inspector");
        let (targets, inspectors) = draw(generator_seed(&seed), &population, 5, &roster, 2);
        let sample = Sample {
            algorithm: ALGORITHM.into(),
            seed: generator_seed(&seed),
            population_sha256: list_hash(&population),
            population,
            roster,
            targets,
            inspectors,
            seed_hex: hex.clone(),
            seed_sha256: commitment(&seed),
        };
        assert!(
            verify(&sample, "").matches,
            "{}",
            verify(&sample, "").reason
        );
        let other: String = "2b".repeat(32);
        let wrong = verify(&sample, &other);
        assert!(!wrong.matches);
        assert!(wrong.reason.contains("commitment"), "{}", wrong.reason);
        let mut edited = sample.clone();
        edited.targets.swap(0, 1);
        assert!(!verify(&edited, "").matches);
        let mut swapped = sample;
        swapped.population.push("engineers/9999".into());
        assert!(verify(&swapped, "").reason.contains("population"));
    }
}
