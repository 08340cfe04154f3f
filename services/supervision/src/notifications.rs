//! Notifications to employers (Art. 27): listed by employers and by the
//! departments chasing the unacknowledged, acknowledged by employers.

use ce_db::audit;
use ce_proto::supervision::{ListNotificationsRequest, ListNotificationsResponse, Notification};
use ce_server::call::now_micros;
use ce_server::paging::Page;
use ce_server::{ApiError, Call, Violations, dates, names};
use prost::Message;

use crate::store::{self, NotificationFilter};
use crate::violations::{NOTIFICATIONS, Supervision, accepts_answer};
use crate::{convert, scope};

impl Supervision {
    pub async fn list_notifications(
        &self,
        call: &Call,
        req: ListNotificationsRequest,
    ) -> Result<ListNotificationsResponse, ApiError> {
        let mut v = Violations::new();
        if !req.province.is_empty() && ce_proto::reference::region(&req.province).is_none() {
            v.add(
                "province",
                format!("`{}` is not a province code", req.province),
            );
        }
        let employer = if req.employer.is_empty() {
            None
        } else {
            v.check(
                "employer",
                names::parse("employer", "employers", &req.employer)
                    .map(str::to_owned)
                    .map_err(|_| "must be `employers/{id}`".to_owned()),
            )
        };
        v.finish()?;
        let page = Page::parse(
            req.page_size,
            &req.page_token,
            &format!(
                "{}|{}|{}",
                req.employer, req.province, req.unacknowledged_only
            ),
        )?;
        let province = (!req.province.is_empty()).then(|| req.province.clone());
        let mut f = NotificationFilter {
            employer_id: employer,
            province: province.clone(),
            unacknowledged_only: req.unacknowledged_only,
        };
        scope::narrow_notifications(&call.caller, &mut f, province)?;
        let (notifications, next_page_token) = page
            .load_within(
                &self.db,
                move |conn, after, limit| Ok(store::list_notifications(conn, &f, after, limit)?),
                |r| r.id.clone(),
                |r| convert::notification(&r),
                call.max_message_bytes,
            )
            .await?;
        Ok(ListNotificationsResponse {
            notifications,
            next_page_token,
        })
    }

    pub async fn acknowledge(&self, call: &Call, name: &str) -> Result<Notification, ApiError> {
        let id = names::parse("name", NOTIFICATIONS, name)?.to_owned();
        let call = call.clone();
        let name = name.to_owned();
        let deployment = self.deployment.clone();
        let row = self
            .db
            .write(move |conn| -> Result<_, ApiError> {
                store::lock_notification(conn, &id)?;
                let row =
                    store::get_notification(conn, &id)?.ok_or_else(|| names::not_found(&name))?;
                scope::may_acknowledge(&call.caller, &row)?;
                accepts_answer(&deployment, &call.caller, &row.province, &name)?;
                let mut note = convert::notification(&row)?;
                if row.acknowledge_micros.is_some() {
                    return Ok(note);
                }
                let now = now_micros();
                note.acknowledge_time = Some(dates::timestamp(now));
                note.acknowledged_by = call.caller.subject.clone();
                store::acknowledge(conn, &id, &note.encode_to_vec(), now)?;
                audit::append(conn, &call.audit(&name, "OK"))?;
                Ok(note)
            })
            .await?;
        Ok(row)
    }
}
