//! Art. 27: hours obtained by improper means are revoked. A service revokes
//! them only on a case decided by revocation, and only the records that
//! case names; the departments' own revocations are judged by their scope.

/// The case a service's revocation names, as supervision decided it.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    /// Decided (or decided and since closed) by a revocation.
    pub decided_by_revocation: bool,
    /// The records it names.
    pub records: &'a [String],
}

/// Why a case does not carry a revocation (Art. 27).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// Not decided, or decided otherwise than by revocation.
    NotDecided,
    /// Decided, but it does not name this record.
    NotNamed(&'a str),
}

/// Who asks for a revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoker {
    /// The ministry, a provincial HRSS department or an industry
    /// regulator, within its scope.
    Department,
    /// The supervision service, on a case it decided.
    Supervision,
    /// Anyone else: institutions, employers, engineers.
    Other,
}

/// Art. 27: hours obtained by improper means are revoked by the HRSS
/// departments and industry regulators that supervise, or by supervision
/// carrying out their decision; by nobody else.
pub fn may_revoke(who: Revoker) -> bool {
    matches!(who, Revoker::Department | Revoker::Supervision)
}

/// Whether `case` revokes every record of `asked` (Art. 27).
pub fn covers<'a>(case: Case<'_>, asked: &'a [String]) -> Result<(), Refusal<'a>> {
    if !case.decided_by_revocation {
        return Err(Refusal::NotDecided);
    }
    match asked.iter().find(|r| !case.records.contains(r)) {
        Some(other) => Err(Refusal::NotNamed(other)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_decided_revocation_covers_only_the_records_it_names() {
        let named = names(&["hourRecords/a", "hourRecords/b"]);
        let case = Case {
            decided_by_revocation: true,
            records: &named,
        };
        assert_eq!(covers(case, &names(&["hourRecords/b"])), Ok(()));
        assert_eq!(covers(case, &named), Ok(()));
        let asked = names(&["hourRecords/a", "hourRecords/c"]);
        assert_eq!(
            covers(case, &asked),
            Err(Refusal::NotNamed("hourRecords/c"))
        );
    }

    #[test]
    fn departments_and_supervision_revoke_and_nobody_else() {
        assert!(may_revoke(Revoker::Department));
        assert!(may_revoke(Revoker::Supervision));
        assert!(!may_revoke(Revoker::Other));
    }

    #[test]
    fn a_case_not_decided_by_revocation_covers_nothing() {
        let named = names(&["hourRecords/a"]);
        let case = Case {
            decided_by_revocation: false,
            records: &named,
        };
        assert_eq!(covers(case, &named), Err(Refusal::NotDecided));
    }
}
