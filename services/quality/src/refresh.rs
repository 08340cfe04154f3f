//! Refreshing an institution's indicators from the services that hold
//! them (Art. 25): the registry's disclosure (Art. 15), supervision's
//! decided violations (Art. 26), crediting's attendance anomalies (Art. 13)
//! and registration delays (Art. 21); then rescoring.

use ce_proto::crediting::HourRecord;
use ce_proto::crediting::hour_record::Activity;
use ce_proto::quality::{Indicator as PIndicator, Score};
use ce_proto::registry::Institution;
use ce_proto::supervision::{ViolationCategory, ViolationState};
use ce_rules::quality as rules;
use ce_server::call::now_micros;
use ce_server::{ApiError, Call, dates, names};
use time::Date;

use crate::convert;
use crate::scope::{for_caller, may_refresh};
use crate::scores::Quality;
use crate::store::{self, IndicatorRow};

/// An indicator's value as a refresh measured it.
struct Measured {
    indicator: PIndicator,
    value: f64,
    samples: i64,
    source: String,
}

/// The registry: how much of the Art. 15 disclosure is published.
fn disclosure(institution: &Institution) -> Measured {
    let d = institution.disclosure.clone().unwrap_or_default();
    let (published, share) = rules::disclosure_completeness(
        !d.scope.trim().is_empty(),
        !d.content.trim().is_empty(),
        !d.fee_items.is_empty(),
    );
    Measured {
        indicator: PIndicator::DisclosureCompleteness,
        value: share,
        samples: 1,
        source: format!("registry: {published} of scope, content and fees published"),
    }
}

/// What crediting's records of the period say about the institution.
#[derive(Default)]
struct Uploads {
    /// Online records, and those whose claims attendance does not bear out.
    online: i64,
    anomalies: i64,
    /// Days from an activity's end to its hours being registered.
    delays: Vec<i64>,
}

/// The day an hour record's course or study period ended (a rules
/// function decides, from the record's own dates).
fn ended(r: &HourRecord) -> Option<Date> {
    match &r.activity {
        Some(Activity::FaceToFace(f)) => dates::from_proto(f.start_date.as_ref())
            .ok()
            .map(|start| rules::course_end(start, f.days)),
        Some(Activity::Online(o)) => dates::from_proto(o.end_date.as_ref()).ok(),
        _ => None,
    }
}

impl Uploads {
    fn add(&mut self, r: &HourRecord, from: Date, to: Date) {
        // Art. 13: online hours claimed beyond what attendance tracking verifies.
        if let Some(Activity::Online(_)) = &r.activity {
            self.online += 1;
            if r.explanation
                .as_ref()
                .is_some_and(|e| e.attendance_unverified)
            {
                self.anomalies += 1;
            }
        }
        let registered = r.create_time.as_ref().and_then(|t| {
            time::OffsetDateTime::from_unix_timestamp(t.seconds)
                .ok()
                .map(ce_rules::dates::date_of)
        });
        if let (Some(end), Some(registered)) = (ended(r), registered)
            && end >= from
            && end <= to
        {
            self.delays.push(rules::registration_delay(end, registered));
        }
    }

    fn measured(mut self) -> Vec<Measured> {
        let mut out = Vec::new();
        if self.online > 0 {
            let (anomalies, online) = (self.anomalies, self.online);
            out.push(Measured {
                indicator: PIndicator::AttendanceAnomalies,
                value: anomalies as f64 / online as f64,
                samples: online,
                source: format!(
                    "crediting: {anomalies} of {online} online records claim more than xAPI verifies"
                ),
            });
        }
        let n = self.delays.len();
        if let Some(median) = rules::median_delay(&mut self.delays) {
            out.push(Measured {
                indicator: PIndicator::RegistrationDelay,
                value: median as f64,
                samples: n as i64,
                source: format!("crediting: median of {n} records"),
            });
        }
        out
    }
}

impl Quality {
    /// Pulls the indicators other services own, records them, recomputes.
    pub async fn refresh(
        &self,
        call: &Call,
        institution: &str,
        period: &str,
    ) -> Result<Score, ApiError> {
        let (from, to) = convert::period(period)?.days();
        let inst = self.clients.institution(institution).await?;
        may_refresh(&call.caller, &inst)?;
        self.deployment
            .accepts_write(&call.caller, &inst.province, institution)?;
        let id = names::parse("institution", "institutions", institution)?.to_owned();
        let now = now_micros();
        let mut measured = vec![disclosure(&inst)];
        measured.push(self.violations_decided(institution, from, to).await?);
        measured.extend(self.uploads(institution, from, to).await?.measured());
        let rows: Vec<IndicatorRow> = measured
            .into_iter()
            .map(|m| IndicatorRow {
                institution_id: id.clone(),
                period: period.to_owned(),
                indicator: m.indicator as i32,
                value: m.value,
                samples: m.samples,
                source: m.source,
                take_micros: now,
            })
            .collect();
        let score = self
            .store_and_score(call, inst, period.to_owned(), move |conn| {
                for r in &rows {
                    store::put_indicator(conn, r)?;
                }
                Ok(())
            })
            .await?;
        Ok(for_caller(&call.caller, score))
    }

    /// Supervision: violations decided in the period, its own reports of
    /// poor quality excluded.
    async fn violations_decided(
        &self,
        institution: &str,
        from: Date,
        to: Date,
    ) -> Result<Measured, ApiError> {
        let decided = self
            .clients
            .violations(institution, from, to)
            .await?
            .iter()
            .filter(|v| {
                v.category() != ViolationCategory::PoorQuality && v.state() != ViolationState::Open
            })
            .count() as i64;
        Ok(Measured {
            indicator: PIndicator::Violations,
            value: decided as f64,
            samples: 1,
            source: "supervision: violations decided in the period".into(),
        })
    }

    /// Crediting: the institution's records of the period's first year.
    async fn uploads(&self, institution: &str, from: Date, to: Date) -> Result<Uploads, ApiError> {
        let mut uploads = Uploads::default();
        self.clients
            .each_hour_record_page(institution, from.year(), "", |records| {
                for r in &records {
                    uploads.add(r, from, to);
                }
                false
            })
            .await?;
        Ok(uploads)
    }
}
