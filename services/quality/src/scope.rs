//! Who may do what, and see how much, in quality monitoring.

use ce_proto::common::Role;
use ce_proto::quality::{Indicator as PIndicator, Score};
use ce_proto::registry::Institution;
use ce_server::ApiError;
use ce_server::auth::Caller;
use ce_server::scope::{deny, department_covers, narrow};

/// Every field a score's institution serves; scores computed before
/// `fields` was kept name only the first.
pub fn fields_of(score: &Score) -> Vec<i32> {
    if score.fields.is_empty() {
        vec![score.field]
    } else {
        score.fields.clone()
    }
}

/// Who may read an institution's full score: its own breakdown to the
/// institution; departments within their scope (a field's regulator, any
/// institution serving that field among others).
pub fn may_read(caller: &Caller, score: &Score) -> bool {
    match caller.role {
        Role::Service => true,
        Role::Institution => caller.org.as_deref() == Some(score.institution.as_str()),
        _ => department_covers(caller, &score.province, &fields_of(score)),
    }
}

/// The score as `caller` may see it: an institution sees its own score,
/// indicators and reasons, and of another institution only which it is,
/// its registered name and credit code (public, Art. 15), the period, its
/// grade (or that there was too little evidence for one) and whether that
/// is final (`docs/dashboards.md`).
pub fn for_caller(caller: &Caller, s: Score) -> Score {
    if caller.role != Role::Institution || caller.org.as_deref() == Some(&s.institution) {
        return s;
    }
    Score {
        name: s.name,
        institution: s.institution,
        period: s.period,
        province: s.province,
        field: s.field,
        fields: s.fields,
        state: s.state,
        grade: s.grade,
        standing: s.standing,
        institution_display_name: s.institution_display_name,
        institution_code: s.institution_code,
        ..Default::default()
    }
}

/// A province code asked for, checked; `None` when none was.
fn asked_province(province: &str) -> Result<Option<String>, ApiError> {
    let asked = (!province.is_empty()).then(|| province.to_owned());
    if let Some(p) = &asked
        && ce_proto::reference::region(p).is_none()
    {
        return Err(ApiError::invalid(
            "province",
            format!("`{p}` is not a province code"),
        ));
    }
    Ok(asked)
}

/// What a dashboard reader may see: a province (or the nation) and a field
/// (or all), the request's filters narrowed to the caller's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub province: Option<String>,
    /// Institutions serving this field, among any others.
    pub field: Option<i32>,
}

impl Scope {
    /// A provincial department is held to its province; an industry
    /// regulator to its field (and province, if it has one). Roles that read
    /// no dashboard are refused, `what` saying what they asked for.
    pub fn of(caller: &Caller, province: &str, field: i32, what: &str) -> Result<Scope, ApiError> {
        let asked = asked_province(province)?;
        let asked_field = (field != 0).then_some(field);
        match caller.role {
            Role::Ministry | Role::Service | Role::Institution => Ok(Scope {
                province: asked,
                field: asked_field,
            }),
            Role::ProvincialHrss => Ok(Scope {
                province: narrow(asked, caller.province.clone(), "province")?,
                field: asked_field,
            }),
            Role::IndustryRegulator => Ok(Scope {
                province: narrow(asked, caller.province.clone(), "province")?,
                field: narrow(asked_field, caller.field.map(|f| f as i32), "field")?,
            }),
            _ => Err(deny(what)),
        }
    }

    /// Whether a score falls within it.
    pub fn covers(&self, score: &Score) -> bool {
        self.province.as_ref().is_none_or(|p| *p == score.province)
            && self.field.is_none_or(|f| fields_of(score).contains(&f))
    }
}

/// Who may close or reopen a period, for which province (`None`: all).
pub fn period_scope(
    caller: &Caller,
    province: &str,
    what: &str,
) -> Result<Option<String>, ApiError> {
    let asked = asked_province(province)?;
    match caller.role {
        Role::Ministry | Role::Service => Ok(asked),
        Role::ProvincialHrss => narrow(asked, caller.province.clone(), "province"),
        _ => Err(deny(what)),
    }
}

/// The provinces a close or reopen covers: the one asked for, or every
/// province when the ministry asks for none.
pub fn provinces_of(province: &Option<String>) -> Vec<String> {
    match province {
        Some(p) => vec![p.clone()],
        None => ce_proto::reference::REGIONS
            .iter()
            .map(|r| r.code.to_owned())
            .collect(),
    }
}

/// Who may pull an institution's indicators from the other services: the
/// ministry, a service, the institution's provincial department.
pub fn may_refresh(caller: &Caller, institution: &Institution) -> Result<(), ApiError> {
    let allowed = match caller.role {
        Role::Ministry | Role::Service => true,
        Role::ProvincialHrss => caller.province.as_deref() == Some(institution.province.as_str()),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(deny("refreshing indicators"))
    }
}

/// Who may record `indicator` of `institution`: departments within their
/// scope; the institution itself what it measures itself.
pub fn may_record(
    caller: &Caller,
    name: &str,
    institution: &Institution,
    indicator: PIndicator,
) -> Result<(), ApiError> {
    let allowed = match caller.role {
        Role::Service => true,
        Role::Ministry | Role::ProvincialHrss | Role::IndustryRegulator => {
            department_covers(caller, &institution.province, &institution.fields)
        }
        // An institution reports what it measures itself.
        Role::Institution => {
            caller.org.as_deref() == Some(name)
                && matches!(
                    indicator,
                    PIndicator::PassRate
                        | PIndicator::QualifiedStaff
                        | PIndicator::DualQualifiedStaff
                )
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(deny("recording this indicator"))
    }
}

/// The roles that read score histories at all, refused before any read.
pub fn may_read_histories(caller: &Caller) -> Result<(), ApiError> {
    if matches!(
        caller.role,
        Role::Ministry
            | Role::Service
            | Role::ProvincialHrss
            | Role::IndustryRegulator
            | Role::Institution
    ) {
        Ok(())
    } else {
        Err(deny("reading score histories"))
    }
}

/// The learner an evaluation is in the name of (Art. 25: only an
/// institution's learners evaluate it): an engineer evaluates in their own
/// name; an institution uploads its learners' evaluations.
pub fn learner_of(caller: &Caller, institution: &str, learner: &str) -> Result<String, ApiError> {
    match caller.role {
        Role::Engineer if learner.is_empty() || learner == caller.subject => {
            Ok(caller.subject.clone())
        }
        Role::Engineer => Err(deny("evaluating in another learner's name")),
        Role::Institution if caller.org.as_deref() == Some(institution) => Ok(learner.to_owned()),
        _ => Err(deny("submitting evaluations of this institution")),
    }
}
