//! A certificate follows its year: a correction, a make-up designation or
//! any other change that alters the figures a certificate states (hours by
//! category, and whether the year is complete) revokes it in the same
//! transaction, saying why; a change that leaves them as they were leaves
//! it valid; and a new certificate states the year as it now stands,
//! complete or not.

use super::*;
use ce_proto::common::Role;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;

/// What a credential states: total, public, professional and converted
/// hours as written, and whether the year is complete.
fn stated(cert: &HourCertificate) -> (String, String, String, String, bool) {
    let doc: serde_json::Value = serde_json::from_str(&cert.credential).unwrap();
    let subject = &doc["credentialSubject"];
    let value = |kind: &str| {
        subject["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resultDescription"] == format!("urn:ce:result:{kind}"))
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (
        value("total"),
        value("public"),
        value("professional"),
        value("converted"),
        subject["complete"].as_bool().expect("`complete` is stated"),
    )
}

fn figures(
    total: &str,
    public: &str,
    professional: &str,
    converted: &str,
    complete: bool,
) -> (String, String, String, String, bool) {
    (
        total.into(),
        public.into(),
        professional.into(),
        converted.into(),
        complete,
    )
}

async fn verify(
    client: &mut ce_tests::Crediting,
    cert: &HourCertificate,
) -> VerifyHourCertificateResponse {
    client
        .verify_hour_certificate(VerifyHourCertificateRequest {
            credential: cert.credential.clone(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// 2026 at exactly 90 hours, 60 of them professional: 30 public online
/// hours and a sole project (40) granted or confirmed by Guangdong, the
/// institution's course (2 days of 5 hours) confirmed by the employer, and
/// the department's own seminar (2 days of 5 hours from 1 April). Returns
/// the seminar's record: confirmed, and corrected by the department alone.
async fn ninety_hours(w: &World) -> HourRecord {
    confirmed(
        w,
        conversion(&w.engineer, conversion::Kind::ResearchSole, "GD-2026-0123"),
    )
    .await;
    thirty_public_hours_online(w).await;
    let course = credits::record(
        &mut w.env.institution(&w.institution),
        on_course(w, date(2026, 3, 2), 2, 5.0),
    )
    .await;
    credits::confirm(&mut w.env.employer(&w.employer), &course.name).await;
    let seminar = credits::record(
        &mut w.env.province("44"),
        at_seminar(w, date(2026, 4, 1), 2, 5.0),
    )
    .await;
    assert_eq!(seminar.state, RecordState::Confirmed as i32);
    let year = credits::year(&mut w.env.engineer(&w.engineer), &w.engineer, 2026).await;
    assert_eq!(
        (
            year.total_hours,
            year.professional_hours,
            year.public_hours,
            year.converted_hours,
            year.complete
        ),
        (90.0, 60.0, 30.0, 40.0, true),
        "{year:#?}"
    );
    seminar
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Audited {
    #[diesel(sql_type = diesel::sql_types::Text)]
    actor: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    role: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    resource: String,
}

/// The audit rows of superseded certificates, in crediting's database.
fn superseded_audit(w: &World) -> Vec<Audited> {
    use diesel::RunQueryDsl;
    let url = w.env.registry.place.config("crediting").database.url;
    let db = ce_db::Db::connect(&url, 1, crediting::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    diesel::sql_query(
        "SELECT actor, role, resource FROM audit_log \
         WHERE rpc = 'SupersedeHourCertificate' ORDER BY id",
    )
    .load(&mut conn)
    .unwrap()
}

async fn a_certificate_is_revoked_when_a_correction_changes_its_figures_and_a_new_one_states_the_year_as_it_stands(
    b: Backend,
) {
    let w = world(b).await;
    let seminar = ninety_hours(&w).await;
    let status = status_name(&w.engineer, 2026);
    let mut engineer = w.env.engineer(&w.engineer);
    let mut employer = w.env.employer(&w.employer);
    let old = engineer
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        stated(&old),
        figures("90.00", "30.00", "60.00", "40.00", true)
    );
    let v = verify(&mut employer, &old).await;
    assert_eq!(
        (v.verdict, v.reason.as_str()),
        (
            Verdict::Valid as i32,
            "signed by this issuer, unchanged, and standing"
        )
    );

    // The department corrects its seminar: 2 days of 3 hours, not 5.
    let corrected = credits::correct(
        &mut w.env.province("44"),
        &seminar.name,
        at_seminar(&w, date(2026, 4, 1), 2, 3.0),
    )
    .await;
    assert_eq!(corrected.state, RecordState::Confirmed as i32);
    let year = engineer
        .get_annual_status(GetAnnualStatusRequest {
            name: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (year.total_hours, year.professional_hours, year.complete),
        (86.0, 56.0, false)
    );

    // The old certificate no longer stands, and says why.
    let reason = format!(
        "superseded: the year's figures changed on 2026-11-25 by {}: \
         total 90.00 → 86.00, professional 60.00 → 56.00, complete yes → no",
        corrected.name
    );
    let v = verify(&mut employer, &old).await;
    assert_eq!(v.verdict, Verdict::Revoked as i32, "{v:?}");
    assert_eq!(v.hour_certificate, old.name);
    assert_eq!(v.revocation_reason, reason);
    assert!(v.reason.starts_with("revoked on "), "{}", v.reason);
    let got = engineer
        .get_hour_certificate(GetHourCertificateRequest {
            name: old.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(got.revoke_time.is_some());
    assert_eq!(got.revocation_reason, reason);
    assert_eq!(
        superseded_audit(&w),
        vec![Audited {
            actor: "crediting".into(),
            role: "service".into(),
            resource: old.name.clone(),
        }]
    );

    // A new certificate states the year as it stands: 86 hours, not complete.
    let new = engineer
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(new.name, old.name);
    assert_eq!(
        stated(&new),
        figures("86.00", "30.00", "56.00", "40.00", false)
    );
    let v = verify(&mut employer, &new).await;
    assert_eq!(
        (v.verdict, v.reason.as_str(), v.hour_certificate.as_str()),
        (
            Verdict::Valid as i32,
            "signed by this issuer, unchanged, and standing; the year it states is not \
             complete (86.00 hours, 56.00 professional)",
            new.name.as_str()
        )
    );
    // Still revoked, and not again: one audit row.
    assert_eq!(verify(&mut employer, &old).await.revocation_reason, reason);
    assert_eq!(superseded_audit(&w).len(), 1);
}

async fn a_correction_that_leaves_the_certified_figures_leaves_the_certificate_valid(b: Backend) {
    let w = world(b).await;
    let seminar = ninety_hours(&w).await;
    let status = status_name(&w.engineer, 2026);
    let mut engineer = w.env.engineer(&w.engineer);
    let cert = engineer
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let before = engineer
        .get_annual_status(GetAnnualStatusRequest {
            name: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    // The seminar's days were mistyped: 2 and 3 April, not 1 and 2. The
    // same hours, so the same figures, though the year is written again
    // (its records are not the same).
    let corrected = credits::correct(
        &mut w.env.province("44"),
        &seminar.name,
        at_seminar(&w, date(2026, 4, 2), 2, 5.0),
    )
    .await;
    let after = engineer
        .get_annual_status(GetAnnualStatusRequest {
            name: status.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        after.update_time, before.update_time,
        "the year was written"
    );
    assert!(
        after
            .explanations
            .iter()
            .any(|e| e.hour_record == corrected.name),
        "{after:#?}"
    );
    assert_eq!(
        (
            after.total_hours,
            after.public_hours,
            after.professional_hours,
            after.converted_hours,
            after.complete
        ),
        (90.0, 30.0, 60.0, 40.0, true)
    );
    let v = verify(&mut w.env.employer(&w.employer), &cert).await;
    assert_eq!(
        (v.verdict, v.reason.as_str(), v.revocation_reason.as_str()),
        (
            Verdict::Valid as i32,
            "signed by this issuer, unchanged, and standing",
            ""
        )
    );
    let got = engineer
        .get_hour_certificate(GetHourCertificateRequest { name: cert.name })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.revoke_time, None);
    assert_eq!(superseded_audit(&w), vec![]);
}

/// Art. 20: a record of 2027 designated to make up a deferred 2026 changes
/// 2026's figures; 2026's certificate is superseded, naming that record.
async fn a_make_up_designation_supersedes_the_certificate_of_the_year_it_makes_up(b: Backend) {
    let w = world(b).await;
    confirmed(
        &w,
        conversion(
            &w.engineer,
            conversion::Kind::PaperSole,
            "10.1000/cert-2026",
        ),
    )
    .await;
    w.env
        .employer(&w.employer)
        .create_deferral(CreateDeferralRequest {
            deferral: Some(Deferral {
                engineer: w.engineer.clone(),
                year: 2026,
                reason: DeferralReason::Illness as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();

    // March 2027: 2026 is deferred, 10 hours; a certificate says so.
    let later = crediting_on(&w, time::macros::date!(2027 - 03 - 01)).await;
    let channel = later.channel().await;
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let mut hrss = as_role(&w, &channel, ce_tests::department("44", "hrss-44"));
    let mut project = conversion(&w.engineer, conversion::Kind::ResearchSole, "GD-2027-7");
    if let Some(A::Conversion(c)) = &mut project.activity {
        c.date = date(2027, 2, 10);
    }
    let project = me
        .create_hour_record(create(project))
        .await
        .unwrap()
        .into_inner();
    credits::confirm(&mut hrss, &project.name).await;
    let cert = hrss
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        stated(&cert),
        figures("10.00", "0.00", "10.00", "10.00", false)
    );
    let v = verify(&mut hrss, &cert).await;
    assert_eq!(v.verdict, Verdict::Valid as i32, "{v:?}");

    // The 2027 project makes up 2026: 50 hours now, still short.
    me.designate_make_up(DesignateMakeUpRequest {
        name: project.name.clone(),
        year: 2026,
    })
    .await
    .unwrap();
    let v = verify(&mut hrss, &cert).await;
    assert_eq!(v.verdict, Verdict::Revoked as i32, "{v:?}");
    assert_eq!(
        v.revocation_reason,
        format!(
            "superseded: the year's figures changed on 2027-03-01 by {}: \
             total 10.00 → 50.00, professional 10.00 → 50.00, converted 10.00 → 50.00",
            project.name
        )
    );
    let new = hrss
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        stated(&new),
        figures("50.00", "0.00", "50.00", "50.00", false)
    );
    assert_eq!(verify(&mut hrss, &new).await.verdict, Verdict::Valid as i32);
}

both_backends!(
    a_certificate_is_revoked_when_a_correction_changes_its_figures_and_a_new_one_states_the_year_as_it_stands,
    a_correction_that_leaves_the_certified_figures_leaves_the_certificate_valid,
    a_make_up_designation_supersedes_the_certificate_of_the_year_it_makes_up,
);
