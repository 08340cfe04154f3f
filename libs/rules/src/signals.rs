//! Signals of possible fraud (Art. 13, 27): warnings for a person to look
//! at, never errors. Thresholds come from the rule set.

use std::fmt;

use time::Date;

use crate::activity::{Activity, Record};
use crate::article::Article;
use crate::hours::Hours;
use crate::ruleset::RuleSet;

/// One signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Face-to-face training in two places on one day (Art. 27).
    TwoPlacesOneDay { date: Date, records: Vec<String> },
    /// More training hours on one day, face-to-face and online together,
    /// than a day plausibly holds (Art. 13: online attendance).
    OverfullDay {
        date: Date,
        hours: Hours,
        records: Vec<String>,
    },
    /// More converted items in the year than plausible (Art. 27).
    ManyConversions { count: u32, threshold: u32 },
    /// One item claimed by the engineer in records that say different
    /// things of their part in it (Art. 27): each record with its claim.
    ConflictingClaims {
        item: String,
        claims: Vec<(String, String)>,
    },
    /// An item the engineer claims in a way that leaves no room for another
    /// engineer's claim on it, which exists (Art. 27). The other engineer's
    /// record is not named: each side's reviewers see their own.
    ClaimedByAnother {
        item: String,
        record: String,
        claim: String,
        others: Vec<String>,
    },
}

impl Signal {
    /// The records it is about.
    pub fn records(&self) -> Vec<&str> {
        match self {
            Signal::TwoPlacesOneDay { records, .. } | Signal::OverfullDay { records, .. } => {
                records.iter().map(String::as_str).collect()
            }
            Signal::ConflictingClaims { claims, .. } => {
                claims.iter().map(|(r, _)| r.as_str()).collect()
            }
            Signal::ClaimedByAnother { record, .. } => vec![record.as_str()],
            Signal::ManyConversions { .. } => Vec::new(),
        }
    }

    /// Whether it is about one item claimed in ways that cannot all be true.
    pub fn is_conflicting_claim(&self) -> bool {
        matches!(
            self,
            Signal::ConflictingClaims { .. } | Signal::ClaimedByAnother { .. }
        )
    }

    pub fn article(&self) -> Article {
        match self {
            Signal::OverfullDay { .. } => Article::new(13),
            _ => Article::new(27),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signal::TwoPlacesOneDay { date, records } => {
                write!(
                    f,
                    "face-to-face training in two places on {date}: records {}",
                    records.join(", ")
                )
            }
            Signal::OverfullDay {
                date,
                hours,
                records,
            } => write!(
                f,
                "{hours} hours of training on {date} (face-to-face and online): records {}",
                records.join(", ")
            ),
            Signal::ManyConversions { count, threshold } => {
                write!(
                    f,
                    "{count} converted items in one year; more than {threshold} is implausible"
                )
            }
            Signal::ConflictingClaims { item, claims } => write!(
                f,
                "conflicting claims on one item ({item}): {}",
                claims
                    .iter()
                    .map(|(r, c)| format!("record {r} as {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Signal::ClaimedByAnother {
                item,
                record,
                claim,
                others,
            } => write!(
                f,
                "conflicting claims on one item ({item}): record {record} as {claim}, and another engineer as {}",
                others.join(", ")
            ),
        }?;
        write!(f, " ({})", self.article())
    }
}

/// The signals in a year's records (revoked records excluded).
pub fn signals(records: &[Record], rules: &RuleSet) -> Vec<Signal> {
    // (date, hours, provider, record id) per training day.
    let mut days: Vec<(Date, Hours, Option<&str>, &str)> = Vec::new();
    let mut conversions = 0u32;
    for r in records.iter().filter(|r| !r.revoked) {
        match &r.activity {
            Activity::FaceToFace {
                start,
                days: n,
                hours_per_day,
                provider,
                ..
            } => {
                let h = Hours::from_f64(*hours_per_day).unwrap_or(Hours::ZERO);
                for d in 0..*n {
                    days.push((
                        *start + time::Duration::days(i64::from(d)),
                        h,
                        provider.as_deref(),
                        &r.id,
                    ));
                }
            }
            Activity::Online { sessions, .. } if !sessions.is_empty() => {
                // xAPI sessions say exactly how much was studied each day.
                for (date, h) in crate::xapi::verified_hours_by_day(sessions) {
                    days.push((date, h, None, &r.id));
                }
            }
            Activity::Online {
                start, end, hours, ..
            } => {
                // Spread evenly over the days studied; a per-day record is
                // exact.
                let n = ((*end - *start).whole_days() + 1).clamp(1, 366) as u32;
                let h = Hours::from_f64(*hours).unwrap_or(Hours::ZERO);
                let per_day = Hours::from_centi(h.centi() / n);
                for d in 0..n {
                    days.push((
                        *start + time::Duration::days(i64::from(d)),
                        per_day,
                        None,
                        &r.id,
                    ));
                }
            }
            a if a.is_conversion() => conversions += 1,
            _ => {}
        }
    }
    let mut out = Vec::new();
    days.sort();
    let mut i = 0;
    while i < days.len() {
        let date = days[i].0;
        let j = days[i..]
            .iter()
            .position(|d| d.0 != date)
            .map_or(days.len(), |p| i + p);
        let day = &days[i..j];
        let ids = || {
            let mut v: Vec<String> = day.iter().map(|d| d.3.to_owned()).collect();
            v.sort();
            v.dedup();
            v
        };
        let mut places = day.iter().filter_map(|d| d.2);
        let first = places.next();
        if first.is_some_and(|p| places.any(|q| q != p)) {
            out.push(Signal::TwoPlacesOneDay {
                date,
                records: ids(),
            });
        }
        let hours: Hours = day.iter().map(|d| d.1).sum();
        if hours > rules.signals.plausible_daily_hours {
            out.push(Signal::OverfullDay {
                date,
                hours,
                records: ids(),
            });
        }
        i = j;
    }
    if conversions > rules.signals.plausible_converted_items {
        out.push(Signal::ManyConversions {
            count: conversions,
            threshold: rules.signals.plausible_converted_items,
        });
    }
    out.extend(conflicting_claims(records));
    out
}

/// Art. 27: one item (its evidence key) claimed in records that say
/// different things of the engineer's part in it, and items whose claim
/// another engineer's contradicts. Revoked records are left out.
fn conflicting_claims(records: &[Record]) -> Vec<Signal> {
    let item = |(kind, id): &(&str, String)| format!("{kind} {id}");
    // Each item with its records' claims: (record, claim).
    type Claims = Vec<(String, String)>;
    let mut by_item: Vec<((&'static str, String), Claims)> = Vec::new();
    let mut out = Vec::new();
    let mut live: Vec<&Record> = records.iter().filter(|r| !r.revoked).collect();
    live.sort_by(|a, b| a.id.cmp(&b.id));
    for r in live {
        let (Some(key), Some(claim)) = (r.activity.evidence_key(), r.activity.claim()) else {
            continue;
        };
        if !r.contested.is_empty() {
            out.push(Signal::ClaimedByAnother {
                item: item(&key),
                record: r.id.clone(),
                claim: claim.clone(),
                others: r.contested.clone(),
            });
        }
        match by_item.iter_mut().find(|(k, _)| *k == key) {
            Some((_, claims)) => claims.push((r.id.clone(), claim)),
            None => by_item.push((key, vec![(r.id.clone(), claim)])),
        }
    }
    for (key, claims) in by_item {
        if claims.iter().any(|(_, c)| *c != claims[0].1) {
            out.push(Signal::ConflictingClaims {
                item: item(&key),
                claims,
            });
        }
    }
    out
}
