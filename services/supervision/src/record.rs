//! An institution's supervision record (Art. 24-26): its violations and the
//! inspection findings about it, in one answer, for the dashboards that show
//! it beside the institution's quality scores.

use ce_proto::supervision::{
    FindingOutcome, InspectionFinding, InspectionState, InstitutionRecord, ViolationState,
};
use ce_server::outbox as effects;
use ce_server::{ApiError, Call, names};

use crate::store;
use crate::violations::Supervision;
use crate::{convert, scope};

/// The singleton's suffix: `institutions/{institution}/supervisionRecord`.
const RECORD: &str = "/supervisionRecord";

impl Supervision {
    pub async fn institution_record(
        &self,
        call: &Call,
        name: &str,
    ) -> Result<InstitutionRecord, ApiError> {
        let institution = name.strip_suffix(RECORD).ok_or_else(|| {
            ApiError::invalid(
                "name",
                "must be `institutions/{institution}/supervisionRecord`",
            )
        })?;
        let id = names::parse("name", "institutions", institution)?.to_owned();
        let inst = match self.clients.institution("name", institution).await {
            Ok(i) => i,
            Err(ApiError::InvalidArgument(_)) => return Err(names::not_found(institution)),
            Err(e) => return Err(e),
        };
        let c = &call.caller;
        scope::may_read_record(c, institution, &inst.province, &inst.fields)?;
        let province = inst.province.clone();
        let (mut rows, inspection_rows, pending) = self
            .db
            .read(move |conn| {
                let rows = store::violations_of_institution(conn, &id)?;
                let causes: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let pending = effects::pending_counts(conn, &causes)?;
                let inspections = store::inspections_covering(conn, &province)?;
                Ok::<_, ApiError>((rows, inspections, pending))
            })
            .await?;
        rows.sort_by(|a, b| (b.create_micros, &b.id).cmp(&(a.create_micros, &a.id)));
        let mut record = InstitutionRecord {
            name: name.to_owned(),
            institution: institution.to_owned(),
            ..Default::default()
        };
        for r in &rows {
            let mut v = convert::violation(r)?;
            v.pending_effects = pending.get(&r.id).copied().unwrap_or(0) as i32;
            match v.state() {
                ViolationState::Open => record.open_count += 1,
                ViolationState::Decided => record.decided_count += 1,
                ViolationState::Closed => record.closed_count += 1,
                _ => {}
            }
            record.violations.push(v);
        }
        // Newest inspection first. Findings in progress are the inspectors'
        // until published ("public results"), and the institution's only then.
        for row in inspection_rows.iter().rev() {
            let published = row.state() == InspectionState::Published;
            if row.state() != InspectionState::Sampled && !published {
                continue;
            }
            if !published && !scope::inspector(c, &row.province, row.field) {
                continue;
            }
            let i = convert::inspection(row)?;
            for f in i.findings.iter().filter(|f| f.target == institution) {
                if f.outcome() == FindingOutcome::Refused {
                    record.refused_inspection_count += 1;
                }
                record.findings.push(InspectionFinding {
                    inspection: i.name.clone(),
                    title: i.title.clone(),
                    state: i.state,
                    finding: Some(f.clone()),
                });
            }
        }
        Ok(record)
    }
}
