//! An engineer's year as the records make it: stored as the list gives
//! it, made incomplete by a revocation, deferred and made up the next
//! year, corrected, and completed by deemed events and an aid assignment
//! across two years.

use super::*;

/// `GetAnnualStatus` sends a stored year in its stored encoding, without
/// decoding and encoding it again (`api::Served`): what a caller reads must
/// be what the list, which decodes, gives for the same year. A year never
/// assessed is assessed at the read and not stored (a read never writes),
/// so the list, of stored years, does not have it. The refusals are the
/// generated server's.
async fn a_stored_year_reads_the_same_as_the_list_gives_it(b: Backend) {
    let w = world(b).await;
    credits::record(
        &mut w.env.province("44"),
        at_seminar(&w, date(2026, 4, 1), 3, 10.0),
    )
    .await;
    // Someone with no record: their year is assessed at each read.
    let idle = colleague(&w, "林工", Field::ElectricPower).await;
    let stored_years = |engineer: String| {
        let province = w.env.province("44");
        async move {
            let mut province = province;
            ce_tests::answer(province.list_annual_statuses(ListAnnualStatusesRequest {
                year: 2026,
                engineer,
                ..Default::default()
            }))
            .await
            .annual_statuses
        }
    };
    let listed = |engineer: String| {
        let province = w.env.province("44");
        async move {
            let mut province = province;
            let mut page =
                ce_tests::answer(province.list_annual_statuses(ListAnnualStatusesRequest {
                    year: 2026,
                    engineer,
                    ..Default::default()
                }))
                .await
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
    let err = ce_tests::refusal(
        w.env
            .province("11")
            .get_annual_status(GetAnnualStatusRequest {
                name: status_name(&w.engineer, 2026),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
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
    let before =
        ce_tests::answer(w.env.employer(&w.employer).check_title_eligibility(check())).await;
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
    let err = ce_tests::refusal(
        w.env
            .employer(&w.employer)
            .revoke_hour_records(revoke.clone()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(w.env.province("11").revoke_hour_records(revoke.clone())).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // Supervision, as a service, revokes only on a case of its own that
    // decided it (`violations/{id}`), never on a file number.
    let err = ce_tests::refusal(
        w.env
            .client(ce_tests::token(
                ce_proto::common::Role::Service,
                "service/supervision",
            ))
            .revoke_hour_records(revoke.clone()),
    )
    .await;
    assert_eq!(bad_fields(&err), ["case_reference"]);
    let revoked = ce_tests::answer(w.env.province("44").revoke_hour_records(revoke.clone())).await;
    assert_eq!(revoked.hour_records[0].state, RecordState::Revoked as i32);
    assert!(
        revoked.hour_records[0]
            .decision_reason
            .contains("GD-SUP-2026-031")
    );
    let e = revoked.hour_records[0].explanation.clone().unwrap();
    assert_eq!(e.hours, 0.0);
    assert!(e.text.contains("Art. 27"), "{}", e.text);

    let after =
        ce_tests::answer(w.env.employer(&w.employer).check_title_eligibility(check())).await;
    assert!(!after.eligible);
    assert_eq!(after.incomplete_years, vec![2026]);
    assert_eq!(
        after.years[0].converted_hours, 30.0,
        "the book's 30 now count in full"
    );
    assert_eq!(after.years[0].shortfall_professional_hours, 30.0);
    // Revoking again changes nothing.
    let again = ce_tests::answer(w.env.province("44").revoke_hour_records(revoke)).await;
    assert_eq!(again.hour_records[0].state, RecordState::Revoked as i32);
}

async fn a_deferred_year_is_made_up_the_next_year_and_nothing_counts_twice(b: Backend) {
    use ce_proto::common::Role;
    let w = world(b).await;
    confirmed(
        &w,
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1000/y2026"),
    )
    .await;

    the_employer_certifies_an_illness(&w).await;

    // March 2027: 2026 is over, short, and deferred.
    let later = crediting_on(&w, time::macros::date!(2027 - 03 - 01)).await;
    let channel = later.channel().await;
    let mut me = as_role(&w, &channel, ce_tests::token(Role::Engineer, &w.engineer));
    let mut hrss = as_role(&w, &channel, ce_tests::department("44", "hrss-44"));
    let y2026 = || GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    };
    let deferred = ce_tests::answer(me.get_annual_status(y2026())).await;
    assert_eq!(deferred.state, AnnualState::Deferred as i32);
    assert_eq!(deferred.shortfall_total_hours, 80.0);

    let records = records_of_2027(&w, &mut me, &mut hrss).await;

    let err = ce_tests::refusal(me.designate_make_up(DesignateMakeUpRequest {
        name: records[0].clone(),
        year: 2025,
    }))
    .await;
    assert_eq!(bad_fields(&err), vec!["year"]);
    for name in &records {
        let r = ce_tests::answer(me.designate_make_up(DesignateMakeUpRequest {
            name: name.clone(),
            year: 2026,
        }))
        .await;
        assert_eq!(r.make_up_for_year, 2026);
    }

    // 2026: paper 10 + project 40 + book 10 (the conversion cap is 60) + 40 public = 100.
    let made_up = ce_tests::answer(me.get_annual_status(y2026())).await;
    assert_eq!(made_up.state, AnnualState::MadeUp as i32);
    assert_eq!(
        (made_up.total_hours, made_up.converted_hours),
        (100.0, 60.0)
    );
    // 2027 keeps only what 2026 did not use: 20 of the book.
    let y2027 = credits::year(&mut me, &w.engineer, 2027).await;
    assert_eq!(y2027.total_hours, 20.0);
    assert_eq!(y2027.state, AnnualState::InProgress as i32);

    the_history_shows_both_years_to_the_engineer_only(&w, &mut me, &channel).await;

    // A certificate of the made-up 2026 no longer stands once the book that
    // made it up is revoked (Art. 20, 27), though the book was filed in 2027.
    let certificate =
        ce_tests::answer(hrss.create_hour_certificate(CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        }))
        .await;
    ce_tests::answer(hrss.revoke_hour_records(RevokeHourRecordsRequest {
        names: vec![records[1].clone()],
        reason: "The book was someone else's".into(),
        case_reference: "violations/make-up-1".into(),
    }))
    .await;
    let verdict = ce_tests::answer(hrss.verify_hour_certificate(VerifyHourCertificateRequest {
        credential: certificate.credential,
    }))
    .await;
    assert_eq!(
        verdict.verdict,
        verify_hour_certificate_response::Verdict::Revoked as i32
    );
    let after = ce_tests::answer(me.get_annual_status(y2026())).await;
    assert_eq!(
        after.total_hours, 90.0,
        "10 + 40 + 40 without the book's 10"
    );
}

/// The employer certifies an illness for 2026; another employer cannot.
async fn the_employer_certifies_an_illness(w: &World) {
    let deferral = Deferral {
        engineer: w.engineer.clone(),
        year: 2026,
        reason: DeferralReason::Illness as i32,
        ..Default::default()
    };
    let err = ce_tests::refusal(w.env.employer("employers/someone-else").create_deferral(
        CreateDeferralRequest {
            deferral: Some(deferral.clone()),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let d = ce_tests::answer(
        w.env
            .employer(&w.employer)
            .create_deferral(CreateDeferralRequest {
                deferral: Some(deferral.clone()),
            }),
    )
    .await;
    assert_eq!(d.certified_by, w.employer);
}

/// 2027's records: a sole project (40), a sole book (30), 40 public online hours; their names.
async fn records_of_2027(
    w: &World,
    me: &mut ce_tests::Crediting,
    hrss: &mut ce_tests::Crediting,
) -> Vec<String> {
    let mut records = Vec::new();
    for (kind, id, day) in [
        (conversion::Kind::ResearchSole, "GD-2027-1", 10),
        (conversion::Kind::BookSole, "978-7-5000-0000-1", 15),
    ] {
        let mut r = conversion(&w.engineer, kind, id);
        if let Some(A::Conversion(c)) = &mut r.activity {
            c.date = date(2027, 2, day);
        }
        let r = ce_tests::answer(me.create_hour_record(create(r))).await;
        credits::confirm(hrss, &r.name).await;
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
    let granted = credits::record(
        hrss,
        HourRecord {
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
        },
    )
    .await;
    records.push(granted.name);
    records
}

/// The engineer's history: both years, oldest first; nobody else's.
async fn the_history_shows_both_years_to_the_engineer_only(
    w: &World,
    me: &mut ce_tests::Crediting,
    channel: &tonic::transport::Channel,
) {
    let history = ce_tests::answer(me.list_annual_statuses(ListAnnualStatusesRequest {
        engineer: w.engineer.clone(),
        ..Default::default()
    }))
    .await
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
        w,
        channel,
        ce_tests::token(Role::Engineer, "engineers/someone-else"),
    )
    .list_annual_statuses(ListAnnualStatusesRequest {
        engineer: w.engineer.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

async fn a_correction_supersedes_the_old_record_which_stays_readable(b: Backend) {
    let w = world(b).await;
    let mut inst = w.env.institution(&w.institution);
    let first = credits::record(&mut inst, on_course(&w, date(2026, 3, 2), 3, 6.0)).await;
    credits::confirm(&mut w.env.employer(&w.employer), &first.name).await;
    let status = || GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    };
    assert_eq!(
        ce_tests::answer(w.env.employer(&w.employer).get_annual_status(status()))
            .await
            .total_hours,
        18.0
    );

    let correction = CorrectHourRecordRequest {
        name: first.name.clone(),
        hour_record: Some(on_course(&w, date(2026, 3, 2), 3, 5.0)),
    };
    let err = ce_tests::refusal(
        w.env
            .institution("institutions/another")
            .correct_hour_record(correction.clone()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let second = ce_tests::answer(inst.correct_hour_record(correction.clone())).await;
    assert_eq!(second.supersedes, first.name);
    assert_eq!(
        second.state,
        RecordState::Submitted as i32,
        "a corrected upload is confirmed again"
    );
    let old = credits::get(&mut inst, &first.name).await;
    assert_eq!(old.state, RecordState::Superseded as i32);
    assert!(old.decision_reason.contains(&second.name));
    assert_eq!(
        ce_tests::answer(w.env.employer(&w.employer).get_annual_status(status()))
            .await
            .total_hours,
        0.0
    );
    credits::confirm(&mut w.env.employer(&w.employer), &second.name).await;
    assert_eq!(
        ce_tests::answer(w.env.employer(&w.employer).get_annual_status(status()))
            .await
            .total_hours,
        15.0
    );

    // The superseded one has a newer version; correct that instead.
    let err = ce_tests::refusal(inst.correct_hour_record(correction)).await;
    assert_eq!(err.code(), Code::FailedPrecondition);
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
    let posting = credits::record(&mut me, aid(date(2026, 7, 1), date(2028, 6, 30))).await;
    assert_eq!((posting.year, posting.last_year), (2026, 2028));
    assert_eq!(posting.institution, "");
    let e = posting
        .explanation
        .as_ref()
        .expect("what it earns on its own");
    assert!(e.article.contains("19"), "{e:?}");
    credits::confirm(&mut w.env.province("44"), &posting.name).await;
    for year in [2026, 2027, 2028] {
        let s = credits::year(&mut w.env.province("44"), &w.engineer, year).await;
        assert!(s.complete, "{year}: {s:?}");
        assert_eq!(s.state, AnnualState::DeemedComplete as i32, "{year}");
        assert!(
            s.explanations.iter().any(|x| x.hour_record == posting.name),
            "{year} names the posting"
        );
        // The year's records include it.
        let listed = ce_tests::answer(w.env.province("44").list_hour_records(
            ListHourRecordsRequest {
                engineer: w.engineer.clone(),
                year,
                page_size: 10,
                ..Default::default()
            },
        ))
        .await
        .hour_records;
        assert_eq!(listed.len(), 1, "{year}");
    }
    // The posting ended in 2028: nothing of it in 2029, a year too far
    // ahead to have a status yet.
    let after = ce_tests::answer(
        w.env
            .province("44")
            .list_hour_records(ListHourRecordsRequest {
                engineer: w.engineer.clone(),
                year: 2029,
                page_size: 10,
                ..Default::default()
            }),
    )
    .await
    .hour_records;
    assert!(after.is_empty(), "the posting ended in 2028");
    let err = ce_tests::refusal(
        w.env
            .province("44")
            .get_annual_status(GetAnnualStatusRequest {
                name: status_name(&w.engineer, 2029),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);

    // Not begun yet, or longer than any posting: refused, naming the field.
    let err = credits::refused(&mut me, aid(date(2027, 3, 1), date(2028, 2, 28))).await;
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.aid_assignment.start_date"]
    );
    let err = credits::refused(&mut me, aid(date(2026, 1, 1), date(2040, 12, 31))).await;
    assert_eq!(
        bad_fields(&err),
        vec!["hour_record.aid_assignment.end_date"]
    );
    // Revoked, it completes none of its years any more (Art. 27).
    ce_tests::answer(
        w.env
            .ministry()
            .revoke_hour_records(RevokeHourRecordsRequest {
                names: vec![posting.name.clone()],
                reason: "Posting letter forged".into(),
                case_reference: "violations/aid-1".into(),
            }),
    )
    .await;
    for year in [2026, 2027, 2028] {
        let s = credits::year(&mut w.env.province("44"), &w.engineer, year).await;
        assert!(!s.complete, "{year} after the revocation");
    }

    a_degree_or_a_qualification_completes_its_year(&w).await;
}

/// A colleague's degree and qualification certificate, each deemed to
/// complete its year (forms 2, 3).
async fn a_degree_or_a_qualification_completes_its_year(w: &World) {
    // A degree and a qualification certificate, each in its year (forms 2, 3).
    let other = colleague(w, "周工", Field::ElectricPower).await;
    for (kind, number) in [
        (deemed_event::Kind::Degree, "D-2026-1"),
        (deemed_event::Kind::Qualification, "Q-2026-1"),
    ] {
        let r = credits::record(
            &mut w.env.engineer(&other),
            HourRecord {
                engineer: other.clone(),
                activity: Some(A::DeemedEvent(DeemedEvent {
                    kind: kind as i32,
                    date: date(2026, 6, 30),
                    certificate_number: number.into(),
                })),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(r.route, Route::SelfSubmission as i32);
        let r = credits::confirm(&mut w.env.province("44"), &r.name).await;
        let e = r.explanation.unwrap();
        assert!(e.article.contains("18"), "{kind:?}: {e:?}");
        let s = credits::year(&mut w.env.province("44"), &other, 2026).await;
        assert_eq!(s.state, AnnualState::DeemedComplete as i32, "{kind:?}");
    }
}

both_backends!(
    a_stored_year_reads_the_same_as_the_list_gives_it,
    revocation_makes_a_complete_year_incomplete_and_title_eligibility_follows,
    a_deferred_year_is_made_up_the_next_year_and_nothing_counts_twice,
    a_correction_supersedes_the_old_record_which_stays_readable,
    deemed_events_and_an_aid_assignment_across_two_years_complete_each_year,
);
