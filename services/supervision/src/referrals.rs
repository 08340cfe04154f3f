//! Referrals of officials' neglect, abuse of power or favouritism (Art. 28)
//! to their superior authority or the discipline body. Visible only to the
//! ministry, and to a province's HRSS department for officials of the HRSS
//! bureaus below it (not its own, nor industry regulators'): see
//! [`scope::above`].

use ce_db::audit;
use ce_proto::supervision::{
    ListReferralsRequest, ListReferralsResponse, Misconduct, Referral, ReferredTo,
};
use ce_rules::article::ART_28;
use ce_server::call::now_micros;
use ce_server::paging::Page;
use ce_server::scope::deny;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::convert;
use crate::scope::{self, above};
use crate::store::{self, ReferralRow};
use crate::violations::Supervision;

pub const REFERRALS: &str = "referrals";

/// The province of a department: `hrss/00` the ministry, `hrss/44` a
/// province, `hrss/4401…` below it, `regulator/{FIELD}/{province}`.
fn province_of(department: &str) -> Option<String> {
    let code = match department.split('/').collect::<Vec<_>>().as_slice() {
        ["hrss", code] if code.len() >= 2 && code.bytes().all(|b| b.is_ascii_digit()) => {
            code[..2].to_owned()
        }
        ["regulator", field, code]
            if ce_proto::common::Field::from_str_name(field).is_some() && code.len() == 2 =>
        {
            (*code).to_owned()
        }
        _ => return None,
    };
    (code == "00" || ce_proto::reference::region(&code).is_some()).then_some(code)
}

impl Supervision {
    pub async fn create_referral(
        &self,
        call: &Call,
        mut r: Referral,
    ) -> Result<Referral, ApiError> {
        let mut v = Violations::new();
        r.official = r.official.trim().to_owned();
        if r.official.is_empty() || r.official.len() > 200 {
            v.add("referral.official", "is required, at most 200 characters");
        }
        let province = province_of(r.department.trim());
        if province.is_none() {
            v.add(
                "referral.department",
                "must be hrss/{code} (00 the ministry, a province, or below) or regulator/{FIELD}/{province}",
            );
        }
        if Misconduct::try_from(r.misconduct).unwrap_or(Misconduct::Unspecified)
            == Misconduct::Unspecified
        {
            v.add(
                "referral.misconduct",
                format!("is required: neglect, abuse of power or favouritism ({ART_28})"),
            );
        }
        if ReferredTo::try_from(r.referred_to).unwrap_or(ReferredTo::Unspecified)
            == ReferredTo::Unspecified
        {
            v.add(
                "referral.referred_to",
                "is required: the superior authority or the discipline body",
            );
        }
        r.description = r.description.trim().to_owned();
        if r.description.is_empty() || r.description.len() > 4000 {
            v.add(
                "referral.description",
                "is required, at most 4000 characters",
            );
        }
        if r.department.trim() == "hrss/00" && r.referred_to() != ReferredTo::DisciplineBody {
            v.add(
                "referral.referred_to",
                "the ministry's own officials are referred to the discipline body: no superior authority sits above it here",
            );
        }
        v.finish()?;
        let province = province.unwrap_or_default();
        r.department = r.department.trim().to_owned();
        if !above(&call.caller, &r.department, &province) {
            return Err(deny(
                "referring an official of a department not below yours",
            ));
        }
        self.in_deployment(call, &province, REFERRALS)?;
        let id = names::new_id();
        let now = now_micros();
        r.name = names::name(REFERRALS, &id);
        r.outcome.clear();
        r.created_by = call.caller.subject.clone();
        r.create_time = Some(dates::timestamp(now));
        r.resolve_time = None;
        let row = ReferralRow {
            id,
            department: r.department.clone(),
            province,
            resolved: 0,
            body: r.encode_to_vec(),
            create_micros: now,
        };
        let call = call.clone();
        self.db
            .write(move |conn| -> Result<_, ApiError> {
                store::insert_referral(conn, &row)?;
                audit::append(conn, &call.audit(&names::name(REFERRALS, &row.id), "OK"))?;
                Ok(())
            })
            .await?;
        Ok(r)
    }

    pub async fn resolve_referral(
        &self,
        call: &Call,
        name: &str,
        outcome: &str,
    ) -> Result<Referral, ApiError> {
        let outcome = outcome.trim().to_owned();
        if outcome.is_empty() || outcome.len() > 4000 {
            return Err(ApiError::invalid(
                "outcome",
                "is required, at most 4000 characters",
            ));
        }
        let id = names::parse("name", REFERRALS, name)?.to_owned();
        let call = call.clone();
        let name = name.to_owned();
        let deployment = self.deployment.clone();
        self.db
            .write(move |conn| -> Result<_, ApiError> {
                store::lock_referral(conn, &id)?;
                let row = store::get_referral(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                if !above(&call.caller, &row.department, &row.province) {
                    // Not even its existence is told to those who may not see it.
                    return Err(names::not_found(&name));
                }
                deployment.accepts_write(&call.caller, &row.province, &name)?;
                let mut r = convert::referral(&row)?;
                if row.is_resolved() {
                    return Err(ApiError::precondition(
                        ce_server::reason::Reason::ReferralResolved,
                        name.clone(),
                        format!("{name} is resolved already"),
                    ));
                }
                r.outcome = outcome;
                r.resolve_time = Some(dates::timestamp(now_micros()));
                store::resolve_referral(conn, &id, &r.encode_to_vec())?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(r)
            })
            .await
    }

    pub async fn list_referrals(
        &self,
        call: &Call,
        req: ListReferralsRequest,
    ) -> Result<ListReferralsResponse, ApiError> {
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &req.unresolved_only.to_string(),
        )?;
        let province = scope::referrals_listed(
            &call.caller,
            &format!("reading referrals of officials ({ART_28})"),
        )?;
        let caller = call.caller.clone();
        let unresolved = req.unresolved_only;
        let rows = page
            .load_rows(&self.db, move |conn, after, limit| {
                Ok(store::list_referrals(
                    conn,
                    province.as_deref(),
                    unresolved,
                    after,
                    limit,
                )?)
            })
            .await?;
        // Referrals above the caller's level are passed over, not counted.
        let (referrals, next_page_token) = page.finish_filtered(
            rows,
            |r| r.id.clone(),
            |r| {
                if above(&caller, &r.department, &r.province) {
                    convert::referral(&r).map(Some)
                } else {
                    Ok(None)
                }
            },
            call.max_message_bytes,
        )?;
        Ok(ListReferralsResponse {
            referrals,
            next_page_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::province_of;

    #[test]
    fn departments_name_their_province() {
        assert_eq!(province_of("hrss/00").as_deref(), Some("00"));
        assert_eq!(province_of("hrss/44").as_deref(), Some("44"));
        assert_eq!(province_of("hrss/440100").as_deref(), Some("44"));
        assert_eq!(
            province_of("regulator/FIELD_CONSTRUCTION/44").as_deref(),
            Some("44")
        );
        assert_eq!(province_of("hrss/99"), None);
        assert_eq!(province_of("ministry"), None);
    }
}
