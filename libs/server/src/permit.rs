//! Which roles of people may call each RPC at all, decided before a request
//! is read: a caller whose role never may (an engineer registering an
//! employer) is refused with PERMISSION_DENIED and `ROLE_NOT_PERMITTED` (or
//! the rule's own reason, when a rule of the regulation names who acts),
//! and learns nothing of the request's field rules. Whether the resource
//! lies in the caller's scope (its province, field, organisation) is
//! decided after, by each service's scope rules, which need the request.
//!
//! Each service declares its table beside its `SERVICE_CALLERS`
//! (`docs/architecture.md`, "Who may call what"). An RPC of the service
//! that its table lacks admits no person: the table fails closed.

use ce_proto::common::Role;

use ce_rules::article::Article;

use crate::reason::Reason;

/// Every role of a person.
pub const EVERYONE: &[Role] = &[
    Role::Ministry,
    Role::ProvincialHrss,
    Role::IndustryRegulator,
    Role::Institution,
    Role::Employer,
    Role::Engineer,
];

/// The departments: the ministry, provincial HRSS departments and industry
/// regulators.
pub const DEPARTMENTS: &[Role] = &[
    Role::Ministry,
    Role::ProvincialHrss,
    Role::IndustryRegulator,
];

/// One RPC's row: the roles it admits, and how it refuses the others.
#[derive(Debug, Clone, Copy)]
pub struct Admits {
    pub method: &'static str,
    pub roles: &'static [Role],
    /// The refusal's reason: `ROLE_NOT_PERMITTED` unless a rule names who acts.
    pub reason: Reason,
    /// Who may, in words, for the refusal's message.
    pub who: &'static str,
    /// The article that says who acts, when the reason does not name one.
    pub article: Option<Article>,
}

/// A row admitting `roles` to `method`, refusing the others with
/// `ROLE_NOT_PERMITTED`.
pub const fn admits(method: &'static str, roles: &'static [Role], who: &'static str) -> Admits {
    Admits {
        method,
        roles,
        reason: Reason::RoleNotPermitted,
        who,
        article: None,
    }
}

impl Admits {
    /// The row, refusing the other roles with the reason of the rule that
    /// names who acts (its article goes in the message and the details).
    pub const fn by_rule(mut self, reason: Reason) -> Admits {
        self.reason = reason;
        self
    }

    /// The row, naming the article that says who acts in its refusals.
    pub const fn under(mut self, article: Article) -> Admits {
        self.article = Some(article);
        self
    }
}

/// A service's table of people: its gRPC services' names (the paths the
/// table judges) and a row per RPC.
#[derive(Debug, Clone, Copy)]
pub struct People {
    pub grpc_services: &'static [&'static str],
    pub rows: &'static [Admits],
}

impl People {
    /// A table that judges nothing (every person passes to the handlers'
    /// scope rules); for tools and tests that build an authenticator alone.
    pub const NONE: People = People {
        grpc_services: &[],
        rows: &[],
    };

    /// How a person of `role` is refused `path`: `None` when the row of
    /// the RPC admits the role, or when the path is not one of this
    /// service's RPCs (health, reflection, a page); a refusal with the
    /// row's reason otherwise, and for an RPC the table lacks.
    pub fn refuses(&self, role: Role, path: &str) -> Option<Refusal> {
        let (service, method) = path.trim_start_matches('/').split_once('/')?;
        if !self.grpc_services.contains(&service) {
            return None;
        }
        match self.rows.iter().find(|r| r.method == method) {
            Some(row) if row.roles.contains(&role) => None,
            Some(row) => Some(Refusal {
                reason: row.reason,
                who: row.who,
                article: row.article.or(row.reason.article()),
            }),
            None => Some(Refusal {
                reason: Reason::RoleNotPermitted,
                who: "no one: the RPC is in no table",
                article: None,
            }),
        }
    }
}

/// Why a role may not call an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub reason: Reason,
    pub who: &'static str,
    pub article: Option<Article>,
}

impl Refusal {
    /// The refusal as the caller reads it: who may call the RPC, with the
    /// rule's article when a rule decides it.
    pub fn message(&self, role: &str, method: &str) -> String {
        let article = self.article.map(|a| format!(" ({a})")).unwrap_or_default();
        format!(
            "the role {role} may not call {method}: {who}{article}",
            who = self.who
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: People = People {
        grpc_services: &["ce.registry.v1.RegistryService"],
        rows: &[
            admits(
                "CreateEmployer",
                &[Role::Ministry, Role::ProvincialHrss],
                "HRSS departments register employers",
            ),
            admits("ListFields", EVERYONE, "everyone"),
        ],
    };

    #[test]
    fn a_role_the_row_lacks_is_refused_and_others_pass() {
        let path = "/ce.registry.v1.RegistryService/CreateEmployer";
        assert_eq!(TABLE.refuses(Role::ProvincialHrss, path), None);
        let refused = TABLE.refuses(Role::Engineer, path).unwrap();
        assert_eq!(refused.reason, Reason::RoleNotPermitted);
        assert_eq!(
            refused.message("engineer", "CreateEmployer"),
            "the role engineer may not call CreateEmployer: HRSS departments register employers"
        );
        assert_eq!(
            TABLE.refuses(Role::Engineer, "/ce.registry.v1.RegistryService/ListFields"),
            None
        );
    }

    #[test]
    fn an_rpc_the_table_lacks_admits_no_one_and_other_paths_are_not_judged() {
        assert!(
            TABLE
                .refuses(Role::Ministry, "/ce.registry.v1.RegistryService/DeleteAll")
                .is_some()
        );
        for path in [
            "/grpc.health.v1.Health/Check",
            "/ce.audit.v1.AuditService/ListAuditEntries",
            "/dashboard/index.html",
            "/",
        ] {
            assert_eq!(TABLE.refuses(Role::Engineer, path), None, "{path}");
        }
    }
}
