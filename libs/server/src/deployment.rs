//! A deployment's scope: which province's data this installation of the
//! suite holds and accepts writes for (docs/deploying.md, "One country,
//! many systems").
//!
//! Art. 21 has hours entered into the system *of the local* HRSS
//! department, and Art. 22 has provinces register bottom-up and report to
//! the national system. So the same suite runs as:
//!
//! - `single`: one installation holding every province behind the callers'
//!   scopes (the default, as `make run` and the tests run it);
//! - `provincial` with its province code: it accepts writes only for its
//!   province's engineers, institutions, employers, activities and hours;
//! - `national`: it accepts the ministry's own grants and registrations
//!   (and the suite's own services); the provinces' data reaches it by
//!   reporting, not by writes.
//!
//! Reads are not limited by the scope: a provincial deployment simply holds
//! its own province's data. Every write a service accepts passes
//! [`Deployment::accepts_write`] with the province of the resource written,
//! after the caller's own scope is checked and before anything is stored;
//! one exception, supervision's answers to what the national deployment
//! itself holds (an appeal of the ministry's case, the acknowledgement of
//! its notification), which the national deployment takes from whoever
//! the case or notice is about (docs/deploying.md).

use ce_proto::common::Role;
use ce_rules::article::{ART_21, ART_22};
use serde::Deserialize;

use crate::ApiError;
use crate::auth::Caller;
use crate::config::ConfigError;
use crate::reason::Reason;

/// The `[deployment]` section of every service's configuration, as given.
/// Keys are documented in docs/configuration.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// `single` (the default), `provincial` or `national`.
    #[serde(default = "single")]
    pub scope: String,
    /// The two-digit province code (GB/T 2260, or 66 for the XPCC) of a
    /// `provincial` deployment; empty otherwise.
    #[serde(default)]
    pub province: String,
}

fn single() -> String {
    "single".to_owned()
}

impl Default for DeploymentConfig {
    /// One deployment holding every province.
    fn default() -> DeploymentConfig {
        DeploymentConfig {
            scope: single(),
            province: String::new(),
        }
    }
}

/// What this installation holds and accepts writes for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Deployment {
    /// Every province, behind the callers' scopes.
    #[default]
    Single,
    /// One province's system: its two-digit code.
    Provincial(String),
    /// The ministry's national system.
    National,
}

impl Deployment {
    /// The deployment `config` describes; a bad combination is an error
    /// naming the key.
    pub fn from_config(config: &DeploymentConfig) -> Result<Deployment, ConfigError> {
        let bad = |key: &str, why: String| Err(ConfigError(format!("{key}: {why}")));
        let province = config.province.trim();
        match config.scope.as_str() {
            "single" | "national" if !province.is_empty() => bad(
                "deployment.province",
                format!(
                    "must be empty when deployment.scope is `{}`: only a provincial deployment has a province",
                    config.scope
                ),
            ),
            "single" => Ok(Deployment::Single),
            "national" => Ok(Deployment::National),
            "provincial" if province.is_empty() => bad(
                "deployment.province",
                "is required when deployment.scope is `provincial`: the two-digit province code"
                    .to_owned(),
            ),
            "provincial" if ce_proto::reference::region(province).is_none() => bad(
                "deployment.province",
                format!("`{province}` is not a province code (GB/T 2260, or 66 for the XPCC)"),
            ),
            "provincial" => Ok(Deployment::Provincial(province.to_owned())),
            other => bad(
                "deployment.scope",
                format!("`{other}` is not one of `single`, `provincial`, `national`"),
            ),
        }
    }

    /// The scope's name as configuration spells it.
    pub fn scope_name(&self) -> &'static str {
        match self {
            Deployment::Single => "single",
            Deployment::Provincial(_) => "provincial",
            Deployment::National => "national",
        }
    }

    /// The province of a provincial deployment.
    pub fn province(&self) -> Option<&str> {
        match self {
            Deployment::Provincial(p) => Some(p),
            _ => None,
        }
    }

    /// Whether this deployment accepts `caller`'s write about `resource`
    /// (a resource name, or its collection), a subject of `province`:
    ///
    /// - single: always;
    /// - provincial: when `province` is its own; otherwise
    ///   FAILED_PRECONDITION `OTHER_PROVINCE_DEPLOYMENT` (Art. 21: hours are
    ///   entered into the system of the local department);
    /// - national: for the ministry (its own grants and registrations) and
    ///   the suite's services; otherwise FAILED_PRECONDITION
    ///   `NATIONAL_DEPLOYMENT` (Art. 22: the province's system takes the
    ///   write and reports it).
    pub fn accepts_write(
        &self,
        caller: &Caller,
        province: &str,
        resource: &str,
    ) -> Result<(), ApiError> {
        match self {
            Deployment::Single => Ok(()),
            Deployment::Provincial(own) if own == province => Ok(()),
            Deployment::Provincial(own) => Err(ApiError::precondition(
                Reason::OtherProvinceDeployment,
                resource,
                other_province(own, province),
            )),
            Deployment::National => match caller.role {
                Role::Ministry | Role::Service => Ok(()),
                _ => Err(ApiError::precondition(
                    Reason::NationalDeployment,
                    resource,
                    national(province),
                )),
            },
        }
    }

    /// The province a request for work over a whole province (a sweep, a
    /// reassessment) is about: `requested` (empty for every province)
    /// narrowed to this deployment's. A provincial deployment takes an
    /// empty request as its own province and refuses another's; the others
    /// keep the request as it is, the national one for the ministry and
    /// the suite's services only.
    pub fn province_of_request(
        &self,
        caller: &Caller,
        requested: &str,
        resource: &str,
    ) -> Result<String, ApiError> {
        match self {
            Deployment::Provincial(own) if requested.is_empty() => Ok(own.clone()),
            _ => {
                self.accepts_write(caller, requested, resource)?;
                Ok(requested.to_owned())
            }
        }
    }
}

/// Why a provincial deployment of `own` refuses a write about `province`.
fn other_province(own: &str, province: &str) -> String {
    if province == ce_proto::reference::NATIONAL {
        format!(
            "this deployment registers province {own}'s engineers, institutions, employers, \
             activities and hours; national ones are registered in the national system ({ART_21})"
        )
    } else {
        format!(
            "this deployment registers province {own}'s engineers, institutions, employers, \
             activities and hours; province {province}'s are registered in that province's \
             system ({ART_21})"
        )
    }
}

/// Why the national deployment refuses a write about `province` from
/// anyone but the ministry.
fn national(province: &str) -> String {
    let whose = if province.is_empty() || province == ce_proto::reference::NATIONAL {
        "a province's".to_owned()
    } else {
        format!("province {province}'s")
    };
    format!(
        "this is the national deployment: it takes the ministry's own grants and registrations; \
         {whose} writes go to that province's own system and reach this one by reporting ({ART_22})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(scope: &str, province: &str) -> DeploymentConfig {
        DeploymentConfig {
            scope: scope.to_owned(),
            province: province.to_owned(),
        }
    }

    fn caller(role: Role, province: Option<&str>) -> Caller {
        Caller {
            subject: "someone".to_owned(),
            role,
            province: province.map(str::to_owned),
            field: None,
            org: None,
        }
    }

    #[test]
    fn scopes_are_read_from_configuration() {
        assert_eq!(
            Deployment::from_config(&DeploymentConfig::default()).unwrap(),
            Deployment::Single
        );
        assert_eq!(
            Deployment::from_config(&config("single", "")).unwrap(),
            Deployment::Single
        );
        assert_eq!(
            Deployment::from_config(&config("national", "")).unwrap(),
            Deployment::National
        );
        assert_eq!(
            Deployment::from_config(&config("provincial", "44")).unwrap(),
            Deployment::Provincial("44".to_owned())
        );
    }

    #[test]
    fn a_bad_combination_names_its_key() {
        for (scope, province, key) in [
            ("provincial", "", "deployment.province: is required"),
            (
                "provincial",
                "99",
                "deployment.province: `99` is not a province",
            ),
            (
                "provincial",
                "00",
                "deployment.province: `00` is not a province",
            ),
            ("national", "44", "deployment.province: must be empty"),
            ("single", "44", "deployment.province: must be empty"),
            ("regional", "", "deployment.scope: `regional` is not one of"),
        ] {
            let e = Deployment::from_config(&config(scope, province)).unwrap_err();
            assert!(e.0.starts_with(key), "{scope}/{province}: {e}");
        }
    }

    #[test]
    fn a_provincial_deployment_accepts_its_own_province_only() {
        let d = Deployment::Provincial("44".to_owned());
        for role in [Role::Ministry, Role::ProvincialHrss, Role::Service] {
            let c = caller(role, Some("44"));
            assert!(d.accepts_write(&c, "44", "engineers").is_ok());
            let e = d.accepts_write(&c, "31", "engineers").unwrap_err();
            assert_eq!(e.reason(), Reason::OtherProvinceDeployment);
            assert_eq!(e.code(), tonic::Code::FailedPrecondition);
            assert!(e.to_string().contains("province 44's"), "{e}");
            assert!(e.to_string().contains("province 31's"), "{e}");
        }
        let e = d
            .accepts_write(&caller(Role::Ministry, None), "00", "activities")
            .unwrap_err();
        assert!(e.to_string().contains("national system"), "{e}");
    }

    #[test]
    fn the_national_deployment_accepts_the_ministry_and_services() {
        let d = Deployment::National;
        assert!(
            d.accepts_write(&caller(Role::Ministry, None), "00", "x")
                .is_ok()
        );
        assert!(
            d.accepts_write(&caller(Role::Ministry, None), "44", "x")
                .is_ok()
        );
        assert!(
            d.accepts_write(&caller(Role::Service, None), "44", "x")
                .is_ok()
        );
        for role in [
            Role::ProvincialHrss,
            Role::Institution,
            Role::Employer,
            Role::Engineer,
            Role::IndustryRegulator,
        ] {
            let e = d
                .accepts_write(&caller(role, Some("44")), "44", "x")
                .unwrap_err();
            assert_eq!(e.reason(), Reason::NationalDeployment, "{role:?}");
            assert!(e.to_string().contains("reporting"), "{e}");
        }
        assert!(
            Deployment::Single
                .accepts_write(&caller(Role::Engineer, None), "31", "x")
                .is_ok()
        );
    }

    #[test]
    fn a_provincial_sweep_means_its_own_province() {
        let d = Deployment::Provincial("44".to_owned());
        let c = caller(Role::Ministry, None);
        assert_eq!(d.province_of_request(&c, "", "x").unwrap(), "44");
        assert_eq!(d.province_of_request(&c, "44", "x").unwrap(), "44");
        assert_eq!(
            d.province_of_request(&c, "31", "x").unwrap_err().reason(),
            Reason::OtherProvinceDeployment
        );
        assert_eq!(
            Deployment::Single.province_of_request(&c, "", "x").unwrap(),
            ""
        );
    }
}
