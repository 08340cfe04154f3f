//! Crediting end to end, with the registry it checks over gRPC, on SQLite
//! and PostgreSQL: the three routes of Art. 21, confirmation by the right
//! party, refusals, and annual status computed by the rules library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_proto::common::{DeliveryMode, Field, Role, SubjectCategory};
use ce_proto::crediting::hour_record::Activity as A;
use ce_proto::crediting::*;
use ce_proto::google::r#type::Date;
use ce_proto::registry::{
    self as reg, ChangeInstitutionStandingRequest, CreateActivityRequest, CreateEngineerRequest,
    Standing,
};
use ce_tests::{Backend, CreditingEnv, bad_fields, both_backends};
use tonic::Code;

mod aggregation;
mod certificates;
mod claims;
mod concurrency;
mod deadlines;
mod moves;
mod online;
mod reads;

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

struct World {
    env: CreditingEnv,
    employer: String,
    engineer: String,
    institution: String,
    /// An institution's course, 2026-03-02 for 3 days.
    course: String,
    /// The Guangdong department's own seminar, 2026-04-01 for 3 days.
    seminar: String,
}

async fn world(b: Backend) -> World {
    world_in(CreditingEnv::start(b).await).await
}

/// The world's employer, engineer, institution and activities
/// ([`ce_tests::world::World`]), in `env`.
async fn world_in(env: CreditingEnv) -> World {
    let ce_tests::world::World {
        employer,
        engineer,
        institution,
        course,
        seminar,
    } = ce_tests::world::World::build(&env.registry).await;
    World {
        env,
        employer,
        engineer,
        institution,
        course,
        seminar,
    }
}

fn face_to_face(
    engineer: &str,
    activity: &str,
    start: Option<Date>,
    days: i32,
    hours: f64,
) -> HourRecord {
    HourRecord {
        engineer: engineer.into(),
        registry_activity: activity.into(),
        activity: Some(A::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: start,
            days,
            hours_per_day: hours,
        })),
        ..Default::default()
    }
}

fn conversion(engineer: &str, kind: conversion::Kind, evidence: &str) -> HourRecord {
    HourRecord {
        engineer: engineer.into(),
        activity: Some(A::Conversion(Conversion {
            kind: kind as i32,
            date: date(2026, 5, 20),
            evidence_id: evidence.into(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// Another engineer of the world's employer in Guangdong, in `field`.
async fn colleague(w: &World, name: &str, field: Field) -> String {
    let colleague = reg::Engineer {
        display_name: name.into(),
        field: field as i32,
        ..ce_tests::world::engineer("44", &w.employer)
    };
    ce_tests::world::create_engineer(&mut w.env.registry.province("44"), colleague).await
}

fn create(record: HourRecord) -> CreateHourRecordRequest {
    CreateHourRecordRequest {
        hour_record: Some(record),
    }
}

fn status_name(engineer: &str, year: i32) -> String {
    format!("{engineer}/annualStatuses/{year}")
}

async fn a_departments_own_activity_is_granted_at_once_and_counted(b: Backend) {
    let w = world(b).await;
    let granted = w
        .env
        .province("44")
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.seminar,
            date(2026, 4, 1),
            3,
            10.0,
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(granted.state, RecordState::Confirmed as i32);
    assert_eq!(granted.route, Route::DepartmentGrant as i32);
    assert_eq!(granted.province, "44");
    let explanation = granted.explanation.unwrap();
    // docs/rules.md, worked example 1: 3 days of 10 hours earn 24.
    assert_eq!(
        (explanation.hours, explanation.article.as_str()),
        (24.0, "Art. 18(1)")
    );
    assert!(
        explanation.text.contains("capped at 8"),
        "{}",
        explanation.text
    );

    let status = w
        .env
        .engineer(&w.engineer)
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.professional_hours, 24.0);
    assert_eq!(status.shortfall_total_hours, 66.0);
    assert_eq!(
        status.state,
        AnnualState::InProgress as i32,
        "2026 is not over"
    );
    assert_eq!(status.rule_set, "national-2026");
    assert_eq!(status.explanations.len(), 1);

    // Another department cannot grant hours for it.
    let err = w
        .env
        .province("11")
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.seminar,
            date(2026, 4, 1),
            1,
            4.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// `GetAnnualStatus` sends a stored year in its stored encoding, without
/// decoding and encoding it again (`api::Served`): what a caller reads must
/// be what the list, which decodes, gives for the same year. A year never
/// assessed is assessed at the read and not stored (a read never writes),
/// so the list, of stored years, does not have it. The refusals are the
/// generated server's.
async fn a_stored_year_reads_the_same_as_the_list_gives_it(b: Backend) {
    let w = world(b).await;
    w.env
        .province("44")
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.seminar,
            date(2026, 4, 1),
            3,
            10.0,
        )))
        .await
        .unwrap();
    // Someone with no record: their year is assessed at each read.
    let idle = colleague(&w, "林工", Field::ElectricPower).await;
    let stored_years = |engineer: String| {
        let province = w.env.province("44");
        async move {
            let mut province = province;
            province
                .list_annual_statuses(ListAnnualStatusesRequest {
                    year: 2026,
                    engineer,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .annual_statuses
        }
    };
    let listed = |engineer: String| {
        let province = w.env.province("44");
        async move {
            let mut province = province;
            let mut page = province
                .list_annual_statuses(ListAnnualStatusesRequest {
                    year: 2026,
                    engineer,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .annual_statuses;
            assert_eq!(page.len(), 1);
            page.remove(0)
        }
    };
    let get = |name: String| {
        let mut province = w.env.province("44");
        async move {
            province
                .get_annual_status(GetAnnualStatusRequest { name })
                .await
        }
    };
    let assessed = get(status_name(&idle, 2026)).await.unwrap().into_inner();
    assert_eq!(assessed.total_hours, 0.0);
    assert_eq!(assessed.state, AnnualState::InProgress as i32);
    assert!(stored_years(idle.clone()).await.is_empty(), "not stored");
    let read = get(status_name(&w.engineer, 2026))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.professional_hours, 24.0);
    assert_eq!(read.explanations.len(), 1);
    assert_eq!(read, listed(w.engineer.clone()).await);
    // And the idle colleague's year reads the same again.
    let again = get(status_name(&idle, 2026)).await.unwrap().into_inner();
    assert_eq!(again, assessed);

    let refused = |name: String, code: Code| {
        let get = &get;
        async move {
            let err = get(name.clone()).await.unwrap_err();
            assert_eq!(err.code(), code, "{name}: {err:?}");
        }
    };
    refused("engineers".into(), Code::InvalidArgument).await;
    refused(status_name(&w.engineer, 2020), Code::InvalidArgument).await;
    refused(
        status_name("engineers/0190a1b2-0000-7000-8000-000000000000", 2026),
        Code::NotFound,
    )
    .await;
    let err = w
        .env
        .province("11")
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// Art. 21 for the other departments: a regulator and the ministry grant
/// hours for their own activities, confirmed at once; a regulator of the
/// field confirms an institution's upload; hours for an activity the
/// registry does not hold are refused, naming the field.
async fn regulators_and_the_ministry_grant_their_own_and_a_regulator_confirms_uploads(b: Backend) {
    let w = world(b).await;
    let r = &w.env.registry;
    let own = |title: &str, province: &str, month: i32| reg::Activity {
        title: title.into(),
        province: province.into(),
        field: Field::ElectricPower as i32,
        subject_category: SubjectCategory::Professional as i32,
        delivery_mode: DeliveryMode::FaceToFace as i32,
        start_date: date(2026, month, 1),
        end_date: date(2026, month, 2),
        hours_per_day: 8.0,
        ..Default::default()
    };
    let regulators = r
        .regulator(Field::ElectricPower, Some("44"))
        .create_activity(CreateActivityRequest {
            activity: Some(own("Grid dispatch briefing", "44", 5)),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let ministrys = r
        .ministry()
        .create_activity(CreateActivityRequest {
            activity: Some(own("National expert service", "44", 6)),
        })
        .await
        .unwrap()
        .into_inner()
        .name;
    let mut regulator = w.env.regulator(Field::ElectricPower, Some("44"));
    for (client, activity, month) in [
        (&mut regulator, &regulators, 5),
        (&mut w.env.ministry(), &ministrys, 6),
    ] {
        let granted = client
            .create_hour_record(create(face_to_face(
                &w.engineer,
                activity,
                date(2026, month, 1),
                2,
                8.0,
            )))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (granted.state, granted.route),
            (RecordState::Confirmed as i32, Route::DepartmentGrant as i32),
            "{activity}"
        );
    }
    // Not the other's: the ministry's activity is not the regulator's to grant.
    let err = regulator
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &ministrys,
            date(2026, 6, 1),
            1,
            8.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // The field's regulator confirms an institution's upload.
    let uploaded = w
        .env
        .institution(&w.institution)
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            1,
            6.0,
        )))
        .await
        .unwrap()
        .into_inner();
    let confirmed = regulator
        .confirm_hour_record(ConfirmHourRecordRequest {
            name: uploaded.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.state, RecordState::Confirmed as i32);
    assert_eq!(confirmed.decided_by, "regulator-clerk");
    let status = w
        .env
        .ministry()
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.total_hours, 16.0 + 16.0 + 6.0);

    // An activity the registry does not hold.
    let err = w
        .env
        .institution(&w.institution)
        .create_hour_record(create(face_to_face(
            &w.engineer,
            "activities/none-such",
            date(2026, 3, 2),
            1,
            6.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["hour_record.registry_activity"]);
}

async fn an_institution_upload_waits_for_the_employer_and_the_institution_cannot_confirm_it(
    b: Backend,
) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let uploaded = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            3,
            6.0,
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(uploaded.state, RecordState::Submitted as i32);
    assert_eq!(uploaded.route, Route::InstitutionUpload as i32);
    // Who ran it (Art. 17), and what it earns on its own before it counts:
    // 3 days of 6 hours.
    assert_eq!(uploaded.institution, w.institution);
    assert_eq!(uploaded.explanation.as_ref().map(|e| e.hours), Some(18.0));
    let name = uploaded.name.clone();
    let confirm = || ConfirmHourRecordRequest { name: name.clone() };

    let err = inst.confirm_hour_record(confirm()).await.unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "an institution never confirms its own uploads"
    );
    let err = w
        .env
        .employer("employers/someone-else")
        .confirm_hour_record(confirm())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = w
        .env
        .province("44")
        .confirm_hour_record(confirm())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "uploads are confirmed by employer or regulator"
    );

    // Not counted until confirmed.
    let before = w
        .env
        .employer(&w.employer)
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.total_hours, 0.0);

    let confirmed = w
        .env
        .employer(&w.employer)
        .confirm_hour_record(confirm())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(confirmed.state, RecordState::Confirmed as i32);
    assert_eq!(confirmed.explanation.unwrap().hours, 18.0);
    let err = w
        .env
        .employer(&w.employer)
        .confirm_hour_record(confirm())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "only a submitted record is decided"
    );

    // The field's regulator may confirm an upload, or reject it with a reason.
    let second = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            1,
            2.0,
        )))
        .await
        .unwrap()
        .into_inner();
    let err = w
        .env
        .regulator(Field::ElectricPower, None)
        .reject_hour_record(RejectHourRecordRequest {
            name: second.name.clone(),
            reason: " ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["reason"]);
    let rejected = w
        .env
        .regulator(Field::ElectricPower, None)
        .reject_hour_record(RejectHourRecordRequest {
            name: second.name.clone(),
            reason: "Not on the attendance sheet".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rejected.state, RecordState::Rejected as i32);
    assert_eq!(rejected.decision_reason, "Not on the attendance sheet");
    let err = w
        .env
        .regulator(Field::Mining, None)
        .get_hour_record(GetHourRecordRequest { name: second.name })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let listed = w
        .env
        .employer(&w.employer)
        .list_annual_statuses(ListAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.annual_statuses.len(), 1);
    assert_eq!(listed.annual_statuses[0].total_hours, 18.0);
}

async fn an_engineer_submits_evidence_and_the_home_province_reviews_it(b: Backend) {
    let w = world(b).await;
    let mut me = w.env.engineer(&w.engineer);
    let patent = me
        .create_hour_record(create(conversion(
            &w.engineer,
            conversion::Kind::InventionPatent,
            "ZL202610000001.X",
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (patent.state, patent.route),
        (RecordState::Submitted as i32, Route::SelfSubmission as i32)
    );
    let confirm = ConfirmHourRecordRequest {
        name: patent.name.clone(),
    };
    let err = w
        .env
        .province("11")
        .confirm_hour_record(confirm.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = w
        .env
        .employer(&w.employer)
        .confirm_hour_record(confirm.clone())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "self-submissions are reviewed by HRSS (Art. 21)"
    );
    w.env
        .province("44")
        .confirm_hour_record(confirm)
        .await
        .unwrap();

    // The same patent again is kept, shown, and credited 0 (docs/rules.md, worked example 4).
    let again = me
        .create_hour_record(create(conversion(
            &w.engineer,
            conversion::Kind::InventionPatent,
            "zl 202610000001.x",
        )))
        .await
        .unwrap()
        .into_inner();
    let again = w
        .env
        .province("44")
        .confirm_hour_record(ConfirmHourRecordRequest { name: again.name })
        .await
        .unwrap()
        .into_inner();
    let e = again.explanation.unwrap();
    assert_eq!(e.hours, 0.0);
    assert!(e.text.contains("counts once"), "{}", e.text);

    // docs/rules.md, worked example 2: co-authored paper + patent + 40 professional and 30 public online hours.
    let mut paper = conversion(
        &w.engineer,
        conversion::Kind::PaperCoauthor,
        "10.1000/grid.2026.7",
    );
    paper.client_key = "paper-1".into();
    let p = me
        .create_hour_record(create(paper.clone()))
        .await
        .unwrap()
        .into_inner();
    let retried = me
        .create_hour_record(create(paper.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        retried.name, p.name,
        "the same client key and content is the same record"
    );
    paper.evidence_changed();
    let err = me.create_hour_record(create(paper)).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    w.env
        .province("44")
        .confirm_hour_record(ConfirmHourRecordRequest { name: p.name })
        .await
        .unwrap();
    let status = me
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (status.converted_hours, status.professional_hours),
        (15.0, 15.0)
    );
    assert_eq!(status.explanations.len(), 3);

    // Training arrives from its organiser, not from the engineer.
    let err = me
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            1,
            4.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["hour_record.activity"]);
    let err = me
        .create_hour_record(create(conversion(
            "engineers/someone-else",
            conversion::Kind::PaperSole,
            "10.1/x",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

trait Change {
    fn evidence_changed(&mut self);
}

impl Change for HourRecord {
    fn evidence_changed(&mut self) {
        if let Some(A::Conversion(c)) = &mut self.activity {
            c.evidence_id.push_str("-other");
        }
    }
}

async fn refusals_name_the_rule(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);

    // Impossible input, by the rules library, naming the request field.
    let err = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            1,
            30.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.face_to_face.hours_per_day"]
    );
    // A year before the regulation.
    let mut old_paper = conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/2025");
    if let Some(A::Conversion(c)) = &mut old_paper.activity {
        c.date = date(2025, 12, 1);
    }
    let err = w
        .env
        .engineer(&w.engineer)
        .create_hour_record(create(old_paper))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("Art. 31"), "{}", err.message());
    // Another organiser's activity.
    let err = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.seminar,
            date(2026, 4, 1),
            1,
            3.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // An engineer the registry does not know.
    let err = inst
        .create_hour_record(create(face_to_face(
            "engineers/0190ffff-0000-7000-8000-000000000000",
            &w.course,
            date(2026, 3, 2),
            1,
            3.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["hour_record.engineer"]);
    // An employer registers nothing.
    let err = w
        .env
        .employer(&w.employer)
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            1,
            3.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A disqualified institution's later hours are refused (Art. 26).
    let (_fresh, mut inst) = disqualified_from_march_3(&w).await;
    let err = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            3,
            6.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Art. 26") && err.message().contains("disqualified"),
        "{}",
        err.message()
    );
}

fn keyed(mut r: HourRecord, key: &str) -> HourRecord {
    r.client_key = key.into();
    r
}

async fn upload(
    client: &mut ce_tests::Crediting,
    messages: Vec<Vec<HourRecord>>,
) -> Vec<Vec<BulkUploadResult>> {
    let requests: Vec<BulkUploadHourRecordsRequest> = messages
        .into_iter()
        .map(|hour_records| BulkUploadHourRecordsRequest { hour_records })
        .collect();
    let mut answers = client
        .bulk_upload_hour_records(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(m) = answers.message().await.unwrap() {
        out.push(m.results);
    }
    out
}

async fn a_bulk_upload_answers_each_record_and_a_resend_stores_nothing_twice(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let day = |d: i32| date(2026, 3, d);
    let first = vec![
        keyed(face_to_face(&w.engineer, &w.course, day(2), 1, 6.0), "k1"),
        keyed(
            face_to_face(&w.engineer, &w.course, day(3), 1, 30.0),
            "k2-impossible",
        ),
        keyed(face_to_face(&w.engineer, &w.course, day(4), 1, 5.0), "k3"),
    ];
    let second = vec![
        keyed(face_to_face(&w.engineer, &w.course, day(2), 1, 7.0), "k1"),
        keyed(
            face_to_face("engineers/nobody", &w.course, day(3), 1, 2.0),
            "k4-unknown",
        ),
        keyed(face_to_face(&w.engineer, &w.course, day(3), 1, 4.0), "k5"),
    ];

    // Interrupted: only the first message got through before the client died.
    let partial = upload(&mut inst, vec![first.clone()]).await;
    assert_eq!(partial.len(), 1);

    // Re-sent whole: the same answers for the first message, nothing stored twice.
    let answers = upload(&mut inst, vec![first, second]).await;
    assert_eq!(answers.len(), 2);
    let (a, b2) = (&answers[0], &answers[1]);
    assert_eq!(a.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(
        a[0].hour_record.as_ref().unwrap().name,
        partial[0][0].hour_record.as_ref().unwrap().name
    );
    assert_eq!(
        a[2].hour_record.as_ref().unwrap().name,
        partial[0][2].hour_record.as_ref().unwrap().name
    );
    let impossible = a[1].refusal.as_ref().unwrap();
    assert_eq!(impossible.code, "INVALID_ARGUMENT");
    assert_eq!(
        impossible.field_violations[0].field,
        "hour_record.face_to_face.hours_per_day"
    );
    assert_eq!(
        b2[0].refusal.as_ref().unwrap().code,
        "ALREADY_EXISTS",
        "same key, other content"
    );
    assert_eq!(
        b2[1].refusal.as_ref().unwrap().field_violations[0].field,
        "hour_record.engineer"
    );
    assert_eq!(
        b2[2].hour_record.as_ref().unwrap().state,
        RecordState::Submitted as i32
    );

    let stored = w
        .env
        .ministry()
        .list_hour_records(ListHourRecordsRequest {
            engineer: w.engineer.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records;
    let mut keys: Vec<String> = stored.iter().map(|r| r.client_key.clone()).collect();
    keys.sort();
    assert_eq!(keys, vec!["k1", "k3", "k5"], "exactly the intended rows");

    // A message over the limit is refused whole.
    let big = vec![face_to_face(&w.engineer, &w.course, day(2), 1, 1.0); 1001];
    let mut stream = inst
        .bulk_upload_hour_records(tokio_stream::iter(vec![BulkUploadHourRecordsRequest {
            hour_records: big,
        }]))
        .await
        .unwrap()
        .into_inner();
    let err = stream.message().await.unwrap_err();
    assert_eq!(bad_fields(&err), vec!["hour_records"]);
}

/// A bulk message whose records come from more activities than the
/// registry is asked about at once: crediting looks them up together before
/// preparing the records (`Registry::prefetch_activities`), and each record
/// is still answered from its own activity and from its institution's
/// standing, which a fresh crediting has not cached either.
async fn a_bulk_message_over_many_activities_answers_each_from_its_own(b: Backend) {
    let w = world(b).await;
    let mut organiser = w.env.registry.institution(&w.institution);
    let mut activities = Vec::new();
    for i in 0..20 {
        let relay = reg::Activity {
            title: format!("Relay setting {i}"),
            ..ce_tests::world::activity("44", date(2026, 3, 2), date(2026, 3, 4), 8.0)
        };
        let name = ce_tests::world::create_activity(&mut organiser, relay).await;
        activities.push(name);
    }
    let (_fresh, mut inst) = disqualified_from_march_3(&w).await;
    let mut message: Vec<HourRecord> = activities
        .iter()
        .map(|a| face_to_face(&w.engineer, a, date(2026, 3, 2), 1, 6.0))
        .collect();
    // The day the institution was barred from, an activity the registry
    // does not hold, and the department's own activity.
    message.push(face_to_face(
        &w.engineer,
        &activities[7],
        date(2026, 3, 4),
        1,
        6.0,
    ));
    message.push(face_to_face(
        &w.engineer,
        "activities/nowhere",
        date(2026, 3, 2),
        1,
        6.0,
    ));
    message.push(face_to_face(
        &w.engineer,
        &w.seminar,
        date(2026, 4, 1),
        1,
        6.0,
    ));
    let mut answers = upload(&mut inst, vec![message]).await.remove(0);
    answers.sort_by_key(|a| a.index);
    assert_eq!(answers.len(), 23);
    for (a, activity) in answers.iter().zip(&activities) {
        let record = a
            .hour_record
            .as_ref()
            .unwrap_or_else(|| panic!("{activity}: {:?}", a.refusal));
        assert_eq!(&record.registry_activity, activity);
        assert_eq!(record.state, RecordState::Submitted as i32);
    }
    let refusal = |i: usize| answers[i].refusal.clone().unwrap();
    assert_eq!(refusal(20).code, "FAILED_PRECONDITION");
    assert!(refusal(20).message.contains("Art. 26"), "{:?}", refusal(20));
    assert_eq!(
        refusal(21).field_violations[0].field,
        "hour_record.registry_activity"
    );
    assert_eq!(refusal(22).code, "PERMISSION_DENIED");
}

async fn confirmed(w: &World, record: HourRecord) -> HourRecord {
    let submitted = w
        .env
        .engineer(&w.engineer)
        .create_hour_record(create(record))
        .await
        .unwrap()
        .into_inner();
    w.env
        .province("44")
        .confirm_hour_record(ConfirmHourRecordRequest {
            name: submitted.name,
        })
        .await
        .unwrap()
        .into_inner()
}

/// 30 public hours for `w.engineer`, granted by Guangdong for its online
/// course "Ethics and law for engineers" in June 2026.
async fn thirty_public_hours_online(w: &World) {
    let online = reg::Activity {
        title: "Ethics and law for engineers".into(),
        subject_category: SubjectCategory::Public as i32,
        delivery_mode: DeliveryMode::Online as i32,
        field: 0,
        ..ce_tests::world::activity("44", date(2026, 6, 1), date(2026, 6, 30), 1.0)
    };
    let online = ce_tests::world::create_activity(&mut w.env.registry.province("44"), online).await;
    w.env
        .province("44")
        .create_hour_record(create(HourRecord {
            engineer: w.engineer.clone(),
            registry_activity: online,
            activity: Some(A::Online(OnlineTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(2026, 6, 1),
                end_date: date(2026, 6, 30),
                hours: 30.0,
                ..Default::default()
            })),
            ..Default::default()
        }))
        .await
        .unwrap();
}

/// `docs/rules.md`, worked example 3, for `w.engineer`: a sole project (40) and a sole book
/// (30), capped to 60 converted, and 30 public online hours: compliant.
/// Returns the project record.
pub(crate) async fn compliant_year(w: &World) -> HourRecord {
    let project = confirmed(
        w,
        conversion(&w.engineer, conversion::Kind::ResearchSole, "GD-2026-0099"),
    )
    .await;
    confirmed(
        w,
        conversion(&w.engineer, conversion::Kind::BookSole, "978-7-111-70099-1"),
    )
    .await;
    thirty_public_hours_online(w).await;
    project
}

async fn revocation_makes_a_complete_year_incomplete_and_title_eligibility_follows(b: Backend) {
    let w = world(b).await;
    // docs/rules.md, worked example 3: sole project 40 + sole book 30 (capped to 60 converted) + 30 public hours.
    let project = compliant_year(&w).await;
    let check = || CheckTitleEligibilityRequest {
        engineer: w.engineer.clone(),
        first_year: 2026,
        last_year: 2026,
    };
    let before = w
        .env
        .employer(&w.employer)
        .check_title_eligibility(check())
        .await
        .unwrap()
        .into_inner();
    assert!(before.eligible);
    assert_eq!(before.years[0].state, AnnualState::Compliant as i32);
    assert_eq!(
        (before.years[0].total_hours, before.years[0].converted_hours),
        (90.0, 60.0)
    );

    let revoke = RevokeHourRecordsRequest {
        names: vec![project.name.clone()],
        reason: "Project report was plagiarised".into(),
        case_reference: "GD-SUP-2026-031".into(),
    };
    let err = w
        .env
        .employer(&w.employer)
        .revoke_hour_records(revoke.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = w
        .env
        .province("11")
        .revoke_hour_records(revoke.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // Supervision, as a service, revokes only on a case of its own that
    // decided it (`violations/{id}`), never on a file number.
    let err = w
        .env
        .client(ce_tests::token(
            ce_proto::common::Role::Service,
            "service/supervision",
        ))
        .revoke_hour_records(revoke.clone())
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["case_reference"]);
    let revoked = w
        .env
        .province("44")
        .revoke_hour_records(revoke.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.hour_records[0].state, RecordState::Revoked as i32);
    assert!(
        revoked.hour_records[0]
            .decision_reason
            .contains("GD-SUP-2026-031")
    );
    let e = revoked.hour_records[0].explanation.clone().unwrap();
    assert_eq!(e.hours, 0.0);
    assert!(e.text.contains("Art. 27"), "{}", e.text);

    let after = w
        .env
        .employer(&w.employer)
        .check_title_eligibility(check())
        .await
        .unwrap()
        .into_inner();
    assert!(!after.eligible);
    assert_eq!(after.incomplete_years, vec![2026]);
    assert_eq!(
        after.years[0].converted_hours, 30.0,
        "the book's 30 now count in full"
    );
    assert_eq!(after.years[0].shortfall_professional_hours, 30.0);
    // Revoking again changes nothing.
    let again = w
        .env
        .province("44")
        .revoke_hour_records(revoke)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.hour_records[0].state, RecordState::Revoked as i32);
}

async fn dates_after_today_and_years_past_their_deadline_are_refused(b: Backend) {
    let w = world(b).await;
    let mut future = conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/future");
    if let Some(A::Conversion(c)) = &mut future.activity {
        c.date = date(2026, 12, 20);
    }
    let err = w
        .env
        .engineer(&w.engineer)
        .create_hour_record(create(future))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["hour_record.conversion.date"]);
    assert!(err.message().contains("Art. 17"), "{}", err.message());

    // In February 2027, 2026's hours are past their deadline (Art. 21, no grace nationally).
    let service = crediting_on(&w, time::macros::date!(2027 - 02 - 01)).await;
    let token = w.env.registry.place.token(ce_tests::token(
        ce_proto::common::Role::Engineer,
        &w.engineer,
    ));
    let mut me =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            service.channel().await,
            ce_tests::bearer(&token),
        );
    let err = me
        .create_hour_record(create(conversion(
            &w.engineer,
            conversion::Kind::PaperSole,
            "10.1/late",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(
        err.message().contains("Art. 21") && err.message().contains("2026-12-31"),
        "{}",
        err.message()
    );

    // Where Guangdong's overlay is loaded, its 31 days of grace hold: a 2026
    // paper is taken on 15 January 2027 and refused on 1 February.
    let overlays = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../libs/rules/rulesets/provinces"
    );
    for (today, taken) in [
        (time::macros::date!(2027 - 01 - 15), true),
        (time::macros::date!(2027 - 02 - 01), false),
    ] {
        let mut config = w.env.registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), w.env.registry.service.url());
        config.rules.dir = overlays.into();
        let service = ce_tests::start_service(config, move |c, s| {
            crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
        })
        .await;
        let mut me =
            ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
                service.channel().await,
                ce_tests::bearer(&token),
            );
        let got = me
            .create_hour_record(create(conversion(
                &w.engineer,
                conversion::Kind::PaperSole,
                &format!("10.1/grace-{today}"),
            )))
            .await;
        match got {
            Ok(r) => assert!(taken, "{today}: taken after the grace: {r:?}"),
            Err(e) => {
                assert!(!taken, "{today}: refused within the grace: {e:?}");
                assert_eq!(e.code(), Code::FailedPrecondition);
                assert!(e.message().contains("2027-01-31"), "{}", e.message());
            }
        }
    }
}

/// A client that retries after the Art. 21 deadline has passed (a timeout,
/// a crash, a clerk re-running an import in January) gets the answers the
/// first attempt got, on both routes, single and bulk; new records are still
/// refused for the deadline.
async fn a_resend_after_the_deadline_gets_the_first_answers(b: Backend) {
    let w = world(b).await;
    let paper = keyed(
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/resent"),
        "paper-1",
    );
    let first = w
        .env
        .engineer(&w.engineer)
        .create_hour_record(create(paper.clone()))
        .await
        .unwrap()
        .into_inner();
    let day = |d: i32| date(2026, 3, d);
    let message = vec![
        keyed(face_to_face(&w.engineer, &w.course, day(2), 1, 6.0), "k1"),
        keyed(face_to_face(&w.engineer, &w.course, day(3), 1, 5.0), "k2"),
    ];
    let uploaded = upload(
        &mut w.env.institution(&w.institution),
        vec![message.clone()],
    )
    .await;
    let names = |answers: &[BulkUploadResult]| -> Vec<Option<String>> {
        answers
            .iter()
            .map(|a| a.hour_record.as_ref().map(|r| r.name.clone()))
            .collect()
    };

    // April 2027: 2026 is past the engineer's deadline (its end) and the
    // institution's (90 days after it).
    let late = crediting_on(&w, time::macros::date!(2027 - 04 - 01)).await;
    let channel = late.channel().await;
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let again = me
        .create_hour_record(create(paper.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.name, first.name, "the stored record, not a refusal");
    let mut other = paper.clone();
    if let Some(A::Conversion(c)) = &mut other.activity {
        c.evidence_id = "10.1/other".into();
    }
    let err = me.create_hour_record(create(other)).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "same key, other content");
    let err = me
        .create_hour_record(create(keyed(
            conversion(&w.engineer, conversion::Kind::PaperSole, "10.1/new"),
            "paper-2",
        )))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("Art. 21"), "{}", err.message());

    let mut inst = as_role(
        &w,
        &channel,
        ce_server::auth::TokenRequest {
            org: Some(w.institution.clone()),
            ..ce_tests::token(Role::Institution, "institution-clerk")
        },
    );
    let mut resent = message.clone();
    resent.push(keyed(
        face_to_face(&w.engineer, &w.course, day(4), 1, 4.0),
        "k3",
    ));
    let answers = upload(&mut inst, vec![resent]).await;
    assert_eq!(
        names(&answers[0][..2]),
        names(&uploaded[0]),
        "the first two answered as first stored"
    );
    let refused = answers[0][2].refusal.as_ref().unwrap();
    assert_eq!(refused.code, "FAILED_PRECONDITION");
    assert!(refused.message.contains("Art. 21"), "{}", refused.message);
    let stored = w
        .env
        .ministry()
        .list_hour_records(ListHourRecordsRequest {
            engineer: w.engineer.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records;
    assert_eq!(stored.len(), 3, "nothing stored twice, nothing late");
}

/// Art. 22: hours stay valid when an engineer moves province. The record
/// keeps the province it was registered in; the year counts it wherever the
/// engineer now is; the new province reads the year, and its own hours add.
async fn hours_stay_valid_when_an_engineer_moves_province(b: Backend) {
    let w = world(b).await;
    let granted = w
        .env
        .province("44")
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.seminar,
            date(2026, 4, 1),
            3,
            8.0,
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(granted.province, "44");
    // Shanghai takes the engineer on; the registry keeps who they are.
    let r = &w.env.registry;
    r.ministry()
        .update_engineer(reg::UpdateEngineerRequest {
            engineer: Some(reg::Engineer {
                name: w.engineer.clone(),
                province: "31".into(),
                employer: String::new(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["province".into(), "employer".into()],
            }),
        })
        .await
        .unwrap();
    let shanghai_seminar = reg::Activity {
        title: "Grid protection, Shanghai".into(),
        subject_category: SubjectCategory::Public as i32,
        ..ce_tests::world::activity("31", date(2026, 9, 1), date(2026, 9, 30), 8.0)
    };
    let shanghai_seminar =
        ce_tests::world::create_activity(&mut r.province("31"), shanghai_seminar).await;
    // A crediting that has not cached the engineer's old province.
    let fresh = crediting_on(&w, time::macros::date!(2026 - 11 - 25)).await;
    let channel = fresh.channel().await;
    let shanghai = || {
        as_role(
            &w,
            &channel,
            ce_server::auth::TokenRequest {
                province: Some("31".into()),
                ..ce_tests::token(Role::ProvincialHrss, "hrss-31-clerk")
            },
        )
    };
    let status = shanghai()
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.total_hours, 24.0,
        "Guangdong's hours count in Shanghai"
    );
    let more = shanghai()
        .create_hour_record(create(HourRecord {
            activity: Some(A::FaceToFace(FaceToFaceTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(2026, 9, 2),
                days: 2,
                hours_per_day: 8.0,
            })),
            ..face_to_face(&w.engineer, &shanghai_seminar, date(2026, 9, 2), 2, 8.0)
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(more.province, "31");
    let status = shanghai()
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            status.total_hours,
            status.public_hours,
            status.province.as_str()
        ),
        (40.0, 16.0, "31"),
        "both provinces' hours, under the rules of where the engineer is now"
    );
    // The first record is still Guangdong's, listed under where it was registered.
    let kept = shanghai()
        .get_hour_record(GetHourRecordRequest {
            name: granted.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.province, "44");
    let listed = w
        .env
        .ministry()
        .list_hour_records(ListHourRecordsRequest {
            engineer: w.engineer.clone(),
            province: "44".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records;
    assert_eq!(
        listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [granted.name.as_str()]
    );
    // Guangdong keeps the record it registered, and the year is no longer its.
    let mut guangdong = as_role(
        &w,
        &channel,
        ce_server::auth::TokenRequest {
            province: Some("44".into()),
            ..ce_tests::token(Role::ProvincialHrss, "hrss-44-clerk")
        },
    );
    guangdong
        .get_hour_record(GetHourRecordRequest {
            name: granted.name.clone(),
        })
        .await
        .unwrap();
    let err = guangdong
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // And a province the engineer never lived in reads neither.
    let mut beijing = as_role(
        &w,
        &channel,
        ce_server::auth::TokenRequest {
            province: Some("11".into()),
            ..ce_tests::token(Role::ProvincialHrss, "hrss-11-clerk")
        },
    );
    let err = beijing
        .get_hour_record(GetHourRecordRequest {
            name: granted.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// A second crediting over the same database whose today is `today`.
/// Disqualifies the world's institution from 3 March 2026 (Art. 26), and
/// gives its clerk a client of a fresh crediting: registry answers are
/// cached briefly, and a fresh crediting sees the standing at once. The
/// service is returned to be kept running.
async fn disqualified_from_march_3(w: &World) -> (ce_tests::Service, ce_tests::Crediting) {
    w.env
        .registry
        .province("44")
        .change_institution_standing(ChangeInstitutionStandingRequest {
            name: w.institution.clone(),
            standing: Standing::Disqualified as i32,
            reason: "Certificates without training".into(),
            effective_date: date(2026, 3, 3),
            article: "Art. 26".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let fresh = crediting_on(w, time::macros::date!(2026 - 11 - 25)).await;
    let token = w.env.registry.place.token(ce_server::auth::TokenRequest {
        org: Some(w.institution.clone()),
        ..ce_tests::token(ce_proto::common::Role::Institution, "clerk")
    });
    let client =
        ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
            fresh.channel().await,
            ce_tests::bearer(&token),
        );
    (fresh, client)
}

async fn crediting_on(w: &World, today: time::Date) -> ce_tests::Service {
    crediting_following(&w.env.registry, today, 0).await
}

/// Crediting on `today` with `registry`, reading the registry's engineer
/// changes every `follow_secs` (0: not at all).
async fn crediting_following(
    registry: &ce_tests::RegistryEnv,
    today: time::Date,
    follow_secs: u64,
) -> ce_tests::Service {
    let mut config = registry.place.config("crediting");
    config
        .peers
        .insert("registry".into(), registry.service.url());
    config.crediting.follow_registry_secs = follow_secs;
    ce_tests::start_service(config, move |c, s| {
        crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
    })
    .await
}

fn as_role(
    w: &World,
    service: &tonic::transport::Channel,
    req: ce_server::auth::TokenRequest,
) -> ce_tests::Crediting {
    let token = w.env.registry.place.token(req);
    ce_proto::crediting::crediting_service_client::CreditingServiceClient::with_interceptor(
        service.clone(),
        ce_tests::bearer(&token),
    )
}

async fn a_deferred_year_is_made_up_the_next_year_and_nothing_counts_twice(b: Backend) {
    use ce_proto::common::Role;
    let w = world(b).await;
    confirmed(
        &w,
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1000/y2026"),
    )
    .await;

    // The employer certifies an illness for 2026; another employer cannot.
    let deferral = Deferral {
        engineer: w.engineer.clone(),
        year: 2026,
        reason: DeferralReason::Illness as i32,
        ..Default::default()
    };
    let err = w
        .env
        .employer("employers/someone-else")
        .create_deferral(CreateDeferralRequest {
            deferral: Some(deferral.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let d = w
        .env
        .employer(&w.employer)
        .create_deferral(CreateDeferralRequest {
            deferral: Some(deferral.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.certified_by, w.employer);

    // March 2027: 2026 is over, short, and deferred.
    let later = crediting_on(&w, time::macros::date!(2027 - 03 - 01)).await;
    let channel = later.channel().await;
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let mut hrss = as_role(
        &w,
        &channel,
        ce_server::auth::TokenRequest {
            province: Some("44".into()),
            ..ce_tests::token(Role::ProvincialHrss, "hrss-44")
        },
    );
    let y2026 = || GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    };
    let deferred = me.get_annual_status(y2026()).await.unwrap().into_inner();
    assert_eq!(deferred.state, AnnualState::Deferred as i32);
    assert_eq!(deferred.shortfall_total_hours, 80.0);

    // 2027 records: a sole project (40), a sole book (30), 40 public online hours.
    let mut records = Vec::new();
    for (kind, id, day) in [
        (conversion::Kind::ResearchSole, "GD-2027-1", 10),
        (conversion::Kind::BookSole, "978-7-5000-0000-1", 15),
    ] {
        let mut r = conversion(&w.engineer, kind, id);
        if let Some(A::Conversion(c)) = &mut r.activity {
            c.date = date(2027, 2, day);
        }
        let r = me.create_hour_record(create(r)).await.unwrap().into_inner();
        hrss.confirm_hour_record(ConfirmHourRecordRequest {
            name: r.name.clone(),
        })
        .await
        .unwrap();
        records.push(r.name);
    }
    let online = reg::Activity {
        title: "Public subjects 2027".into(),
        subject_category: SubjectCategory::Public as i32,
        delivery_mode: DeliveryMode::Online as i32,
        field: 0,
        ..ce_tests::world::activity("44", date(2027, 1, 5), date(2027, 2, 20), 1.0)
    };
    let online = ce_tests::world::create_activity(&mut w.env.registry.province("44"), online).await;
    let granted = hrss
        .create_hour_record(create(HourRecord {
            engineer: w.engineer.clone(),
            registry_activity: online,
            activity: Some(A::Online(OnlineTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(2027, 1, 5),
                end_date: date(2027, 2, 20),
                hours: 40.0,
                ..Default::default()
            })),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    records.push(granted.name);

    let err = me
        .designate_make_up(DesignateMakeUpRequest {
            name: records[0].clone(),
            year: 2025,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["year"]);
    for name in &records {
        let r = me
            .designate_make_up(DesignateMakeUpRequest {
                name: name.clone(),
                year: 2026,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.make_up_for_year, 2026);
    }

    // 2026: paper 10 + project 40 + book 10 (the conversion cap is 60) + 40 public = 100.
    let made_up = me.get_annual_status(y2026()).await.unwrap().into_inner();
    assert_eq!(made_up.state, AnnualState::MadeUp as i32);
    assert_eq!(
        (made_up.total_hours, made_up.converted_hours),
        (100.0, 60.0)
    );
    // 2027 keeps only what 2026 did not use: 20 of the book.
    let y2027 = me
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2027),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(y2027.total_hours, 20.0);
    assert_eq!(y2027.state, AnnualState::InProgress as i32);

    // The engineer's history: both years, oldest first.
    let history = me
        .list_annual_statuses(ListAnnualStatusesRequest {
            engineer: w.engineer.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .annual_statuses;
    assert_eq!(
        history
            .iter()
            .map(|s| (s.year, s.state))
            .collect::<Vec<_>>(),
        vec![
            (2026, AnnualState::MadeUp as i32),
            (2027, AnnualState::InProgress as i32)
        ]
    );
    // Nobody else's.
    let err = as_role(
        &w,
        &channel,
        ce_tests::token(Role::Engineer, "engineers/someone-else"),
    )
    .list_annual_statuses(ListAnnualStatusesRequest {
        engineer: w.engineer.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A certificate of the made-up 2026 no longer stands once the book that
    // made it up is revoked (Art. 20, 27), though the book was filed in 2027.
    let certificate = hrss
        .create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    hrss.revoke_hour_records(RevokeHourRecordsRequest {
        names: vec![records[1].clone()],
        reason: "The book was someone else's".into(),
        case_reference: "violations/make-up-1".into(),
    })
    .await
    .unwrap();
    let verdict = hrss
        .verify_hour_certificate(VerifyHourCertificateRequest {
            credential: certificate.credential,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        verdict.verdict,
        verify_hour_certificate_response::Verdict::Revoked as i32
    );
    let after = me.get_annual_status(y2026()).await.unwrap().into_inner();
    assert_eq!(
        after.total_hours, 90.0,
        "10 + 40 + 40 without the book's 10"
    );
}

async fn a_correction_supersedes_the_old_record_which_stays_readable(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let first = inst
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            3,
            6.0,
        )))
        .await
        .unwrap()
        .into_inner();
    w.env
        .employer(&w.employer)
        .confirm_hour_record(ConfirmHourRecordRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap();
    let status = || GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    };
    assert_eq!(
        w.env
            .employer(&w.employer)
            .get_annual_status(status())
            .await
            .unwrap()
            .into_inner()
            .total_hours,
        18.0
    );

    let correction = CorrectHourRecordRequest {
        name: first.name.clone(),
        hour_record: Some(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 2),
            3,
            5.0,
        )),
    };
    let err = w
        .env
        .institution("institutions/another")
        .correct_hour_record(correction.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let second = inst
        .correct_hour_record(correction.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.supersedes, first.name);
    assert_eq!(
        second.state,
        RecordState::Submitted as i32,
        "a corrected upload is confirmed again"
    );
    let old = inst
        .get_hour_record(GetHourRecordRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(old.state, RecordState::Superseded as i32);
    assert!(old.decision_reason.contains(&second.name));
    assert_eq!(
        w.env
            .employer(&w.employer)
            .get_annual_status(status())
            .await
            .unwrap()
            .into_inner()
            .total_hours,
        0.0
    );
    w.env
        .employer(&w.employer)
        .confirm_hour_record(ConfirmHourRecordRequest {
            name: second.name.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        w.env
            .employer(&w.employer)
            .get_annual_status(status())
            .await
            .unwrap()
            .into_inner()
            .total_hours,
        15.0
    );

    // The superseded one has a newer version; correct that instead.
    let err = inst.correct_hour_record(correction).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

async fn hours_must_fall_within_their_activity_and_two_places_on_one_day_are_signalled(b: Backend) {
    let w = world(b).await;
    // The course runs 2026-03-02 to 03-04.
    let err = w
        .env
        .institution(&w.institution)
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 4),
            2,
            4.0,
        )))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.face_to_face.start_date"]
    );

    // The same day at the institution and at the department's seminar.
    let seminar_day = reg::Activity {
        title: "Grid safety day".into(),
        ..ce_tests::world::activity("44", date(2026, 3, 3), date(2026, 3, 3), 6.0)
    };
    let seminar_day =
        ce_tests::world::create_activity(&mut w.env.registry.province("44"), seminar_day).await;
    let upload = w
        .env
        .institution(&w.institution)
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &w.course,
            date(2026, 3, 3),
            1,
            6.0,
        )))
        .await
        .unwrap()
        .into_inner();
    w.env
        .employer(&w.employer)
        .confirm_hour_record(ConfirmHourRecordRequest { name: upload.name })
        .await
        .unwrap();
    w.env
        .province("44")
        .create_hour_record(create(face_to_face(
            &w.engineer,
            &seminar_day,
            date(2026, 3, 3),
            1,
            6.0,
        )))
        .await
        .unwrap();
    let status = w
        .env
        .province("44")
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2026),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.professional_hours, 8.0,
        "one day caps at 8 across both"
    );
    assert!(
        status
            .signals
            .iter()
            .any(|s| s.contains("two places on 2026-03-03")),
        "{:?}",
        status.signals
    );
}

/// Art. 19 and forms 2, 3 through the service: a degree and a
/// qualification each make their year complete, and an aid assignment
/// every calendar year its period overlaps, registered while it runs.
async fn deemed_events_and_an_aid_assignment_across_two_years_complete_each_year(b: Backend) {
    let w = world(b).await;
    let mut me = w.env.engineer(&w.engineer);
    let aid = |start: Option<Date>, end: Option<Date>| HourRecord {
        engineer: w.engineer.clone(),
        activity: Some(A::AidAssignment(AidAssignment {
            kind: aid_assignment::Kind::Xinjiang as i32,
            start_date: start,
            end_date: end,
        })),
        ..Default::default()
    };
    // Posted from July 2026 to June 2028: registered now, in 2026.
    let posting = me
        .create_hour_record(create(aid(date(2026, 7, 1), date(2028, 6, 30))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((posting.year, posting.last_year), (2026, 2028));
    assert_eq!(posting.institution, "");
    let e = posting
        .explanation
        .as_ref()
        .expect("what it earns on its own");
    assert!(e.article.contains("19"), "{e:?}");
    w.env
        .province("44")
        .confirm_hour_record(ConfirmHourRecordRequest {
            name: posting.name.clone(),
        })
        .await
        .unwrap();
    for year in [2026, 2027, 2028] {
        let s = w
            .env
            .province("44")
            .get_annual_status(GetAnnualStatusRequest {
                name: status_name(&w.engineer, year),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(s.complete, "{year}: {s:?}");
        assert_eq!(s.state, AnnualState::DeemedComplete as i32, "{year}");
        assert!(
            s.explanations.iter().any(|x| x.hour_record == posting.name),
            "{year} names the posting"
        );
        // The year's records include it.
        let listed = w
            .env
            .province("44")
            .list_hour_records(ListHourRecordsRequest {
                engineer: w.engineer.clone(),
                year,
                page_size: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .hour_records;
        assert_eq!(listed.len(), 1, "{year}");
    }
    // The posting ended in 2028: nothing of it in 2029, a year too far
    // ahead to have a status yet.
    let after = w
        .env
        .province("44")
        .list_hour_records(ListHourRecordsRequest {
            engineer: w.engineer.clone(),
            year: 2029,
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hour_records;
    assert!(after.is_empty(), "the posting ended in 2028");
    let err = w
        .env
        .province("44")
        .get_annual_status(GetAnnualStatusRequest {
            name: status_name(&w.engineer, 2029),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // Not begun yet, or longer than any posting: refused, naming the field.
    let err = me
        .create_hour_record(create(aid(date(2027, 3, 1), date(2028, 2, 28))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.aid_assignment.start_date"]
    );
    let err = me
        .create_hour_record(create(aid(date(2026, 1, 1), date(2040, 12, 31))))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.aid_assignment.end_date"]
    );
    // Revoked, it completes none of its years any more (Art. 27).
    w.env
        .ministry()
        .revoke_hour_records(RevokeHourRecordsRequest {
            names: vec![posting.name.clone()],
            reason: "Posting letter forged".into(),
            case_reference: "violations/aid-1".into(),
        })
        .await
        .unwrap();
    for year in [2026, 2027, 2028] {
        let s = w
            .env
            .province("44")
            .get_annual_status(GetAnnualStatusRequest {
                name: status_name(&w.engineer, year),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!s.complete, "{year} after the revocation");
    }

    // A degree and a qualification certificate, each in its year (forms 2, 3).
    let other = colleague(&w, "周工", Field::ElectricPower).await;
    for (kind, number) in [
        (deemed_event::Kind::Degree, "D-2026-1"),
        (deemed_event::Kind::Qualification, "Q-2026-1"),
    ] {
        let r = w
            .env
            .engineer(&other)
            .create_hour_record(create(HourRecord {
                engineer: other.clone(),
                activity: Some(A::DeemedEvent(DeemedEvent {
                    kind: kind as i32,
                    date: date(2026, 6, 30),
                    certificate_number: number.into(),
                })),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.route, Route::SelfSubmission as i32);
        let r = w
            .env
            .province("44")
            .confirm_hour_record(ConfirmHourRecordRequest { name: r.name })
            .await
            .unwrap()
            .into_inner();
        let e = r.explanation.unwrap();
        assert!(e.article.contains("18"), "{kind:?}: {e:?}");
        let s = w
            .env
            .province("44")
            .get_annual_status(GetAnnualStatusRequest {
                name: status_name(&other, 2026),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(s.state, AnnualState::DeemedComplete as i32, "{kind:?}");
    }
}

both_backends!(
    deemed_events_and_an_aid_assignment_across_two_years_complete_each_year,
    hours_must_fall_within_their_activity_and_two_places_on_one_day_are_signalled,
    a_correction_supersedes_the_old_record_which_stays_readable,
    a_deferred_year_is_made_up_the_next_year_and_nothing_counts_twice,
    revocation_makes_a_complete_year_incomplete_and_title_eligibility_follows,
    dates_after_today_and_years_past_their_deadline_are_refused,
    a_resend_after_the_deadline_gets_the_first_answers,
    hours_stay_valid_when_an_engineer_moves_province,
    regulators_and_the_ministry_grant_their_own_and_a_regulator_confirms_uploads,
    a_bulk_upload_answers_each_record_and_a_resend_stores_nothing_twice,
    a_bulk_message_over_many_activities_answers_each_from_its_own,
    a_departments_own_activity_is_granted_at_once_and_counted,
    a_stored_year_reads_the_same_as_the_list_gives_it,
    an_institution_upload_waits_for_the_employer_and_the_institution_cannot_confirm_it,
    an_engineer_submits_evidence_and_the_home_province_reviews_it,
    refusals_name_the_rule,
);
