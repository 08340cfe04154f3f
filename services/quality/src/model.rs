//! The scoring model (Art. 25): how an institution's indicators for a
//! monitoring period become a score, a grade and the contribution of each
//! indicator. Pure: no I/O.
//!
//! A model is configuration (TOML), versioned, so a province can adopt its
//! own weights and every score records the version that produced it. The
//! national model ships as `models/national.toml`.
//!
//! - Each indicator is normalised linearly to 0-100 between its `worst` and
//!   `best` values (either way round: for complaints, lower is better) and
//!   clamped.
//! - The score is the weighted mean of the normalised indicators present;
//!   optional indicators that are missing drop out and the others' weights
//!   are renormalised.
//! - A required indicator that is missing or measured on fewer than its
//!   `min_samples` makes the result "insufficient data", not a score. An
//!   optional indicator measured on too few is left out, and the score
//!   says so in its notes.
//! - Grades are bands on the score, best first.
//! - A result is poor when its grade is in `poor.grades`, or when the grade
//!   in `poor.repeated_grade` was given `poor.repeated_periods` periods in a
//!   row (this one included): the rule is `ce_rules::quality::is_poor`
//!   (Art. 25, 26); the model only sets its grades and count.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What is measured about an institution in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Learners' evaluations: the mean answer on a 1-5 scale.
    Evaluation,
    /// Share of assessed learners who passed (0-1).
    PassRate,
    /// Share of online-training records with an attendance anomaly (0-1,
    /// Art. 13).
    AttendanceAnomalies,
    /// Complaints upheld per 1000 learners.
    ComplaintsUpheld,
    /// Complaints received per 1000 learners, upheld or not.
    ComplaintsReceived,
    /// Completeness of the Art. 15 public disclosure (0-1).
    DisclosureCompleteness,
    /// Share of qualified teaching staff (0-1, Art. 14).
    QualifiedStaff,
    /// Share of dual-qualified teaching staff (0-1, Art. 14).
    DualQualifiedStaff,
    /// Median days from an activity's end to its hours reaching crediting
    /// (Art. 21).
    RegistrationDelay,
    /// Violations decided against the institution in the period (Art. 26).
    Violations,
}

/// One indicator's value for a period, and how many observations it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Value {
    pub indicator: Indicator,
    pub value: f64,
    pub samples: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorRule {
    pub weight: f64,
    /// The value that scores 0.
    pub worst: f64,
    /// The value that scores 100.
    pub best: f64,
    #[serde(default)]
    pub min_samples: u64,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub grade: String,
    /// The lowest score of the band.
    pub min_score: f64,
}

/// When a grade is poor: the model's `poor` section, applied by
/// [`ce_rules::quality::is_poor`] (Art. 25, 26).
pub use ce_rules::quality::Poor;

/// A scoring model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// For example "national-2026.2".
    pub version: String,
    /// The province that adopted it; absent in the national model.
    #[serde(default)]
    pub province: Option<String>,
    pub indicators: BTreeMap<Indicator, IndicatorRule>,
    /// Best first.
    pub bands: Vec<Band>,
    pub poor: Poor,
    /// The model as written, for GetScoringModel.
    #[serde(skip)]
    pub definition: String,
}

/// An indicator's part in a score.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub indicator: Indicator,
    pub value: f64,
    /// 0-100.
    pub normalised: f64,
    /// Its weight after renormalisation (the weights present sum to 1).
    pub weight: f64,
    /// Points it adds to the score: normalised × weight.
    pub points: f64,
}

/// What the model makes of a period.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Scored {
        score: f64,
        grade: String,
        contributions: Vec<Contribution>,
        /// Optional indicators left out for too few observations.
        notes: Vec<String>,
    },
    /// Not enough evidence for a score: what is missing or too thin.
    InsufficientData { reasons: Vec<String> },
}

/// The national model shipped with the service.
pub const NATIONAL: &str = include_str!("../models/national.toml");

impl Model {
    /// Reads and checks a model.
    pub fn from_toml(text: &str, source: &str) -> Result<Model, String> {
        let mut m: Model = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        m.definition = text.to_owned();
        if m.version.trim().is_empty() {
            return Err(format!("{source}: version is required"));
        }
        for (k, r) in &m.indicators {
            if !(r.weight.is_finite() && r.weight > 0.0) {
                return Err(format!(
                    "{source}: indicators.{k:?}: weight must be more than 0"
                ));
            }
            if !(r.worst.is_finite() && r.best.is_finite()) || r.worst == r.best {
                return Err(format!(
                    "{source}: indicators.{k:?}: worst and best must differ"
                ));
            }
        }
        if m.bands.is_empty()
            || m.bands.iter().any(|b| b.grade.trim().is_empty())
            || m.bands.windows(2).any(|w| w[0].min_score <= w[1].min_score)
        {
            return Err(format!(
                "{source}: bands must be given best first, each lower than the one before"
            ));
        }
        Ok(m)
    }

    pub fn national() -> Model {
        // Checked by this module's tests; a broken file fails them.
        Model::from_toml(NATIONAL, "models/national.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    /// The grade of a score.
    pub fn grade(&self, score: f64) -> String {
        self.bands
            .iter()
            .find(|b| score >= b.min_score)
            .or(self.bands.last())
            .map(|b| b.grade.clone())
            .unwrap_or_default()
    }

    /// Scores one period's values.
    pub fn score(&self, values: &[Value]) -> Outcome {
        let mut reasons = Vec::new();
        let mut notes = Vec::new();
        let mut present = Vec::new();
        for (indicator, rule) in &self.indicators {
            match values.iter().find(|v| v.indicator == *indicator) {
                Some(v) if v.samples < rule.min_samples => {
                    let why = format!(
                        "{indicator:?}: {} observations, at least {} needed",
                        v.samples, rule.min_samples
                    );
                    if rule.required {
                        reasons.push(why);
                    } else {
                        notes.push(format!("{why}; left out"));
                    }
                }
                Some(v) if v.value.is_finite() => present.push((*v, rule)),
                Some(_) => reasons.push(format!("{indicator:?}: not a number")),
                None if rule.required => reasons.push(format!("{indicator:?}: no data")),
                None => {}
            }
        }
        if present.is_empty() && reasons.is_empty() {
            reasons.push("no indicator has data".into());
        }
        if !reasons.is_empty() {
            return Outcome::InsufficientData { reasons };
        }
        let total: f64 = present.iter().map(|(_, r)| r.weight).sum();
        let contributions: Vec<Contribution> = present
            .iter()
            .map(|(v, r)| {
                let normalised =
                    (100.0 * (v.value - r.worst) / (r.best - r.worst)).clamp(0.0, 100.0);
                let weight = r.weight / total;
                Contribution {
                    indicator: v.indicator,
                    value: v.value,
                    normalised,
                    weight,
                    points: normalised * weight,
                }
            })
            .collect();
        let score = contributions.iter().map(|c| c.points).sum::<f64>();
        // Two decimals, so the grade never depends on float noise.
        let score = (score * 100.0).round() / 100.0;
        Outcome::Scored {
            grade: self.grade(score),
            score,
            contributions,
            notes,
        }
    }

    /// Whether `grade` is poor given the grades of the periods before it,
    /// most recent first ([`ce_rules::quality::is_poor`]).
    pub fn is_poor(&self, grade: &str, earlier: &[String]) -> bool {
        ce_rules::quality::is_poor(&self.poor, grade, earlier)
    }
}

/// The models in force: the national one, and provinces' own.
#[derive(Debug, Clone)]
pub struct Models {
    pub national: Model,
    pub provinces: BTreeMap<String, Model>,
}

impl Models {
    /// The national model and every `*.toml` of `dir` (empty: none).
    pub fn load(dir: &str) -> Result<Models, String> {
        let mut provinces = BTreeMap::new();
        if !dir.is_empty() {
            let entries =
                std::fs::read_dir(dir).map_err(|e| format!("quality.models_dir {dir}: {e}"))?;
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
                let model = Model::from_toml(&text, &name)?;
                let Some(province) = model.province.clone() else {
                    return Err(format!("{name}: a provincial model names its province"));
                };
                if provinces.insert(province.clone(), model).is_some() {
                    return Err(format!("{name}: province {province} has two models"));
                }
            }
        }
        Ok(Models {
            national: Model::national(),
            provinces,
        })
    }

    /// The model for an institution of `province`.
    pub fn for_province(&self, province: &str) -> &Model {
        self.provinces.get(province).unwrap_or(&self.national)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(indicator: Indicator, value: f64, samples: u64) -> Value {
        Value {
            indicator,
            value,
            samples,
        }
    }

    #[test]
    fn the_national_model_loads() {
        let m = Model::national();
        assert!(m.version.starts_with("national-"));
        assert!(m.indicators[&Indicator::Evaluation].required);
    }

    #[test]
    fn a_good_institution_gets_an_a_and_sees_why() {
        let m = Model::national();
        let out = m.score(&[
            v(Indicator::Evaluation, 4.8, 120),
            v(Indicator::PassRate, 0.97, 120),
            v(Indicator::ComplaintsUpheld, 0.0, 120),
            v(Indicator::DisclosureCompleteness, 1.0, 1),
        ]);
        let Outcome::Scored {
            score,
            grade,
            contributions,
            ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(grade, "A", "{score}");
        let sum: f64 = contributions.iter().map(|c| c.points).sum();
        assert!((sum - score).abs() < 0.01);
        let weights: f64 = contributions.iter().map(|c| c.weight).sum();
        assert!(
            (weights - 1.0).abs() < 1e-9,
            "missing optional indicators drop out"
        );
    }

    #[test]
    fn too_few_evaluations_is_insufficient_data_not_a_score() {
        let m = Model::national();
        let out = m.score(&[
            v(Indicator::Evaluation, 5.0, 3),
            v(Indicator::PassRate, 1.0, 50),
        ]);
        let Outcome::InsufficientData { reasons } = out else {
            panic!("{out:?}")
        };
        assert!(reasons[0].contains("Evaluation"), "{reasons:?}");
        let out = m.score(&[v(Indicator::PassRate, 1.0, 50)]);
        assert!(
            matches!(out, Outcome::InsufficientData { .. }),
            "evaluations are required"
        );
    }

    #[test]
    fn a_thin_optional_indicator_is_left_out_not_fatal() {
        let m = Model::national();
        let out = m.score(&[
            v(Indicator::Evaluation, 4.0, 40),
            v(Indicator::PassRate, 0.0, 2),
        ]);
        let Outcome::Scored {
            contributions,
            notes,
            ..
        } = out
        else {
            panic!("{out:?}")
        };
        assert_eq!(contributions.len(), 1);
        assert!(
            notes[0].contains("PassRate") && notes[0].contains("left out"),
            "{notes:?}"
        );
    }

    #[test]
    fn lower_is_better_indicators_and_clamping() {
        let m = Model::national();
        let out = m.score(&[
            v(Indicator::Evaluation, 1.0, 100),
            v(Indicator::ComplaintsUpheld, 50.0, 100),
            v(Indicator::Violations, 9.0, 1),
        ]);
        let Outcome::Scored { score, grade, .. } = out else {
            panic!()
        };
        assert_eq!((score, grade.as_str()), (0.0, "D"));
    }

    #[test]
    fn d_is_poor_and_c_twice_in_a_row_is_poor() {
        let m = Model::national();
        assert!(m.is_poor("D", &[]));
        assert!(!m.is_poor("C", &[]));
        assert!(!m.is_poor("C", &["B".into()]));
        assert!(m.is_poor("C", &["C".into(), "A".into()]));
        assert!(!m.is_poor("B", &["C".into()]));
    }

    #[test]
    fn a_province_adopts_its_own_weights() {
        let dir = tempfile::tempdir().unwrap();
        let own = NATIONAL
            .replace(
                "version = \"national-2026.2\"",
                "version = \"guangdong-2026.1\"\nprovince = \"44\"",
            )
            .replace("min_samples = 30", "min_samples = 10");
        std::fs::write(dir.path().join("44.toml"), own).unwrap();
        let models = Models::load(&dir.path().display().to_string()).unwrap();
        assert_eq!(models.for_province("44").version, "guangdong-2026.1");
        assert_eq!(models.for_province("11").version, "national-2026.2");
        std::fs::write(dir.path().join("bad.toml"), NATIONAL).unwrap();
        assert!(
            Models::load(&dir.path().display().to_string())
                .unwrap_err()
                .contains("names its province")
        );
    }

    #[test]
    fn a_bad_model_is_refused_by_name() {
        let bad = NATIONAL.replace("weight = 30", "weight = 0");
        assert!(
            Model::from_toml(&bad, "x.toml")
                .unwrap_err()
                .contains("weight")
        );
    }
}
