//! Answers for the back office: the change feed (resumable, in order, no
//! loss or repetition), compliance statistics, closing a year, and signed
//! hour certificates that are verified, detected when tampered with,
//! revoked with the records under Art. 27, and superseded when their
//! year's figures change (more in `certificates.rs`).

use super::*;
use ce_proto::common::Role;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use tokio_stream::StreamExt;

/// Quality monitoring, which reads the feed as a service.
fn feed_reader(w: &World) -> ce_tests::Crediting {
    w.env
        .client(ce_tests::token(Role::Service, "service/quality"))
}

pub(super) async fn read_all(
    client: &mut ce_tests::Crediting,
    after: i64,
    page: i32,
) -> (Vec<ce_proto::crediting::Change>, i64) {
    let mut cursor = after;
    let mut all = Vec::new();
    loop {
        let r = ce_tests::answer(client.list_changes(ListChangesRequest {
            after_sequence: cursor,
            page_size: page,
            ..Default::default()
        }))
        .await;
        if r.changes.is_empty() {
            assert_eq!(
                r.next_after_sequence, cursor,
                "an empty page keeps the cursor"
            );
            return (all, cursor);
        }
        cursor = r.next_after_sequence;
        all.extend(r.changes);
    }
}

async fn the_change_feed_resumes_from_a_cursor_without_loss_or_repetition(b: Backend) {
    let w = world(b).await;
    let mut ministry = w.env.ministry();
    let (empty, start) = read_all(&mut ministry, 0, 10).await;
    assert!(empty.is_empty());
    assert_eq!(start, 0);

    // Three departmental grants on different days: each a record and a status change.
    for day in [1, 2, 3] {
        credits::record(
            &mut w.env.province("44"),
            at_seminar(&w, date(2026, 4, day), 1, 6.0),
        )
        .await;
    }
    // Read in pages of two: every change once, in strictly increasing order.
    let (first, cursor) = read_all(&mut ministry, 0, 2).await;
    let seqs: Vec<i64> = first.iter().map(|c| c.sequence).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "{seqs:?}");
    let records: Vec<&ce_proto::crediting::Change> = first
        .iter()
        .filter(|c| c.kind == ChangeKind::HourRecord as i32)
        .collect();
    let statuses: Vec<&ce_proto::crediting::Change> = first
        .iter()
        .filter(|c| c.kind == ChangeKind::AnnualStatus as i32)
        .collect();
    assert_eq!(records.len(), 3, "{first:#?}");
    assert_eq!(statuses.len(), 3, "one status change per grant");
    assert!(records.iter().all(|c| c.province == "44"
        && matches!(&c.current, Some(change::Current::HourRecord(h)) if h.name == c.resource)));
    // The status as it is now: 18 hours.
    match &statuses[2].current {
        Some(change::Current::AnnualStatus(s)) => assert_eq!(s.total_hours, 18.0),
        other => panic!("{other:?}"),
    }
    // The same feed in one page is the same feed.
    let (whole, _) = read_all(&mut ministry, 0, 1000).await;
    assert_eq!(whole.iter().map(|c| c.sequence).collect::<Vec<_>>(), seqs);

    // A follower resumes from its cursor and sees only what is new.
    let mut watch = ce_tests::answer(ministry.watch_changes(WatchChangesRequest {
        after_sequence: cursor,
        ..Default::default()
    }))
    .await;
    let submitted = credits::record(
        &mut w.env.engineer(&w.engineer),
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1000/feed-1"),
    )
    .await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), watch.next())
        .await
        .expect("the watch delivers a new change")
        .unwrap()
        .unwrap();
    assert_eq!(next.sequence, cursor + 1);
    assert_eq!(next.resource, submitted.name);
    let (later, _) = read_all(&mut ministry, cursor, 10).await;
    assert_eq!(later.len(), 1, "a submitted record changes no status");
    assert_eq!(later[0].sequence, next.sequence);

    // A follower that was away since the start replays the backlog in
    // order, each change once, and then goes on live.
    let mut replay = ce_tests::answer(ministry.watch_changes(WatchChangesRequest {
        after_sequence: 0,
        ..Default::default()
    }))
    .await;
    let mut replayed = Vec::new();
    while replayed.len() < whole.len() + 1 {
        let c = tokio::time::timeout(std::time::Duration::from_secs(10), replay.next())
            .await
            .expect("the backlog is replayed")
            .unwrap()
            .unwrap();
        replayed.push(c.sequence);
    }
    let mut expected = seqs.clone();
    expected.push(next.sequence);
    assert_eq!(replayed, expected, "the backlog, then what came since");
    let live = credits::record(
        &mut w.env.engineer(&w.engineer),
        conversion(&w.engineer, conversion::Kind::PaperSole, "10.1000/feed-2"),
    )
    .await;
    let c = tokio::time::timeout(std::time::Duration::from_secs(10), replay.next())
        .await
        .expect("live after the backlog")
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.sequence, c.resource.as_str()),
        (next.sequence + 1, live.name.as_str())
    );

    read_by_its_province_only(&w, &mut ministry, whole.len()).await;
    a_page_reads_its_changes_together(&w, &mut ministry).await;
}

/// Provinces read their own part of the feed, which held `backlog` changes
/// before the two submissions; others may not read it.
async fn read_by_its_province_only(w: &World, ministry: &mut ce_tests::Crediting, backlog: usize) {
    // Provinces read their own part of the feed; others may not read it.
    let (guangdong, _) = read_all(&mut w.env.province("44"), 0, 100).await;
    assert_eq!(guangdong.len(), backlog + 2, "the two submissions since");
    let err = ce_tests::refusal(w.env.province("11").list_changes(ListChangesRequest {
        province: "44".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let (beijing, _) = read_all(&mut w.env.province("11"), 0, 100).await;
    assert!(
        beijing.is_empty(),
        "Beijing sees none of Guangdong's changes"
    );
    for mut denied in [
        w.env.employer(&w.employer),
        w.env.institution(&w.institution),
    ] {
        let err = ce_tests::refusal(denied.list_changes(ListChangesRequest::default())).await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let err = ce_tests::refusal(ministry.list_changes(ListChangesRequest {
        after_sequence: -1,
        ..Default::default()
    }))
    .await;
    assert_eq!(bad_fields(&err), ["after_sequence"]);
}

/// A page of the feed reads what its changes point at together, in three
/// queries.
async fn a_page_reads_its_changes_together(w: &World, ministry: &mut ce_tests::Crediting) {
    // A page reads what its changes point at together: one query for the
    // changes, one for their records, one for their statuses (one year).
    // Read change by change, these five records and three statuses took
    // seven queries.
    let (everything, _) = read_all(ministry, 0, 1000).await;
    let url = w.env.registry.place.config("crediting").database.url;
    let db = ce_db::Db::connect(&url, 1, crediting::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    let queries = ce_tests::catch_queries(&mut conn);
    let page = crediting::feed::load(&mut conn, 0, None, 1000).unwrap();
    assert_eq!(page, everything, "the page the RPC answers");
    let n = queries.lock().unwrap().len();
    assert!(n <= 3, "a page of {} changes took {n} queries", page.len());
}

async fn a_certificate_verifies_detects_tampering_and_is_revoked_with_its_records(b: Backend) {
    let w = world(b).await;
    let status = status_name(&w.engineer, 2026);
    // An incomplete year's certificate says it is not complete.
    let empty = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status.clone(),
        },
    ))
    .await;
    let empty_doc: serde_json::Value = serde_json::from_str(&empty.credential).unwrap();
    assert_eq!(empty_doc["credentialSubject"]["complete"], false);
    assert_eq!(empty_doc["credentialSubject"]["state"], "IN_PROGRESS");
    assert_eq!(
        empty_doc["credentialSubject"]["result"][0]["value"], "0.00",
        "{empty_doc:#}"
    );

    let project = compliant_year(&w).await;
    // Another province's clerk cannot have one issued.
    let err = ce_tests::refusal(w.env.province("11").create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status.clone(),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let cert = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status.clone(),
        },
    ))
    .await;
    assert!(cert.name.starts_with("hourCertificates/"));
    assert_eq!(
        (cert.engineer.as_str(), cert.year),
        (w.engineer.as_str(), 2026)
    );
    let doc: serde_json::Value = serde_json::from_str(&cert.credential).unwrap();
    assert_eq!(doc["type"][1], "OpenBadgeCredential");
    assert_eq!(doc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let results = doc["credentialSubject"]["result"].as_array().unwrap();
    let value = |kind: &str| {
        results
            .iter()
            .find(|r| r["resultDescription"] == format!("urn:ce:result:{kind}"))
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(value("total"), "90.00");
    assert_eq!(value("professional"), "60.00");
    assert_eq!(value("public"), "30.00");
    assert_eq!(doc["credentialSubject"]["complete"], true);

    let mut employer = w.env.employer(&w.employer);
    verified_whatever_the_formatting_unless_tampered_with(&mut employer, &doc, &cert).await;
    revoked_with_its_project(&w, &mut employer, project, &cert, status).await;

    // The first certificate, of the empty year, was superseded when the
    // year's hours arrived.
    let v =
        ce_tests::answer(employer.verify_hour_certificate(verify(empty.credential.clone()))).await;
    assert_eq!(v.verdict, Verdict::Revoked as i32);
    assert!(
        v.revocation_reason
            .starts_with("superseded: the year's figures changed on 2026-11-25 by hourRecords/"),
        "{}",
        v.revocation_reason
    );
}

/// The request that asks whether `credential` holds.
fn verify(credential: String) -> VerifyHourCertificateRequest {
    VerifyHourCertificateRequest { credential }
}

/// An employer checks it: valid, whatever the formatting; raised hours or another's name break it.
async fn verified_whatever_the_formatting_unless_tampered_with(
    employer: &mut ce_tests::Crediting,
    doc: &serde_json::Value,
    cert: &HourCertificate,
) {
    let v = ce_tests::answer(
        employer.verify_hour_certificate(verify(serde_json::to_string(&doc).unwrap())),
    )
    .await;
    assert_eq!(v.verdict, Verdict::Valid as i32, "{}", v.reason);
    assert_eq!(v.hour_certificate, cert.name);

    // Raising the hours breaks it.
    let mut forged = doc.clone();
    for r in forged["credentialSubject"]["result"]
        .as_array_mut()
        .unwrap()
    {
        if r["resultDescription"] == "urn:ce:result:total" {
            r["value"] = "120.00".into();
        }
    }
    let v = ce_tests::answer(employer.verify_hour_certificate(verify(forged.to_string()))).await;
    assert_eq!(v.verdict, Verdict::Tampered as i32);
    assert!(v.hour_certificate.is_empty());
    // So does another engineer's name on it.
    let mut moved = doc.clone();
    moved["credentialSubject"]["id"] = "urn:ce:engineers/someone-else".into();
    let v = ce_tests::answer(employer.verify_hour_certificate(verify(moved.to_string()))).await;
    assert_eq!(v.verdict, Verdict::Tampered as i32);
    let err = ce_tests::refusal(employer.verify_hour_certificate(verify("not json".into()))).await;
    assert_eq!(bad_fields(&err), ["credential"]);
}

/// Art. 27: the project is revoked; the year falls short and the certificate is revoked.
async fn revoked_with_its_project(
    w: &World,
    employer: &mut ce_tests::Crediting,
    project: HourRecord,
    cert: &HourCertificate,
    status: String,
) {
    ce_tests::answer(
        w.env
            .province("44")
            .revoke_hour_records(RevokeHourRecordsRequest {
                names: vec![project.name],
                reason: "Project report was plagiarised".into(),
                case_reference: "GD-SUP-2026-044".into(),
            }),
    )
    .await;
    let v =
        ce_tests::answer(employer.verify_hour_certificate(verify(cert.credential.clone()))).await;
    assert_eq!(v.verdict, Verdict::Revoked as i32);
    assert!(
        v.revocation_reason.contains("GD-SUP-2026-044"),
        "{}",
        v.revocation_reason
    );
    let stored = ce_tests::answer(w.env.engineer(&w.engineer).get_hour_certificate(
        GetHourCertificateRequest {
            name: cert.name.clone(),
        },
    ))
    .await;
    assert!(stored.revoke_time.is_some());
    // The year as it now stands is certified as not complete.
    let after = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status,
        },
    ))
    .await;
    let after_doc: serde_json::Value = serde_json::from_str(&after.credential).unwrap();
    assert_eq!(after_doc["credentialSubject"]["complete"], false);
    assert_eq!(
        after_doc["credentialSubject"]["result"][0]["value"], "60.00",
        "30 of the book and 30 public hours without the project"
    );
    let v =
        ce_tests::answer(employer.verify_hour_certificate(verify(after.credential.clone()))).await;
    assert_eq!(v.verdict, Verdict::Valid as i32, "{}", v.reason);
    assert!(v.reason.contains("not complete"), "{}", v.reason);
}

async fn closing_a_year_lists_engineers_who_registered_nothing_and_counts_compliance(b: Backend) {
    let w = world(b).await;
    // One grant: 2026 is in progress.
    credits::record(
        &mut w.env.province("44"),
        at_seminar(&w, date(2026, 4, 1), 1, 6.0),
    )
    .await;
    // A colleague with one grant too, and one who registers nothing all year.
    let busy = colleague(&w, "王工", Field::ElectricPower).await;
    credits::record(
        &mut w.env.province("44"),
        face_to_face(&busy, &w.seminar, date(2026, 4, 2), 1, 6.0),
    )
    .await;
    let idle = ce_tests::answer(w.env.registry.province("44").create_engineer(
        CreateEngineerRequest {
            engineer: Some(reg::Engineer {
                display_name: "李工".into(),
                ..ce_tests::world::engineer("44", &w.employer)
            }),
        },
    ))
    .await;

    // The year cannot be closed before it ends.
    let err = ce_tests::refusal(w.env.ministry().sweep_annual_statuses(
        SweepAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("Art. 21"), "{}", err.message());

    let stats = ce_tests::answer(w.env.province("44").get_compliance_statistics(
        GetComplianceStatisticsRequest {
            year: 2026,
            ..Default::default()
        },
    ))
    .await;
    let total = stats.total.unwrap();
    assert_eq!((total.engineers, total.in_progress), (2, 2));
    assert_eq!(total.total_hours, 12.0);

    // January: the sweep runs. The idle engineer was registered in 2026
    // (the registry's clock is fixed, like crediting's).
    let created = idle.create_time.unwrap();
    let created_on = ce_rules::dates::date_of(
        time::OffsetDateTime::from_unix_timestamp(created.seconds).unwrap(),
    );
    assert_eq!(created_on, ce_tests::REGISTERED_ON);
    let year = 2026;
    let january = crediting_on(
        &w,
        time::Date::from_calendar_date(year + 1, time::Month::January, 5).unwrap(),
    )
    .await;
    let channel = january.channel().await;
    let mut guangdong = as_role(&w, &channel, ce_tests::department("44", "hrss-44-clerk"));
    a_province_closes_only_its_own_year(&w, &channel, &mut guangdong, year).await;

    let swept = ce_tests::answer(guangdong.sweep_annual_statuses(SweepAnnualStatusesRequest {
        year,
        province: String::new(),
    }))
    .await;
    let idle_status = credits::year(&mut guangdong, &idle.name, year).await;
    assert_eq!(idle_status.state, AnnualState::NonCompliant as i32);
    assert_eq!(idle_status.shortfall_total_hours, 90.0);
    assert_eq!(
        (swept.reassessed, swept.created, swept.non_compliant),
        (2, 1, 3)
    );
    every_non_compliant_engineer_is_counted_and_listed(&mut guangdong).await;
    // Sweeping again changes nothing and creates nothing.
    let again = ce_tests::answer(guangdong.sweep_annual_statuses(SweepAnnualStatusesRequest {
        year,
        province: String::new(),
    }))
    .await;
    assert_eq!(again.created, 0);
    assert_eq!(again.non_compliant, swept.non_compliant);

    statistics_are_scoped_like_lists(&w).await;
}

/// A province closes only its own year, and an employer none.
async fn a_province_closes_only_its_own_year(
    w: &World,
    channel: &tonic::transport::Channel,
    guangdong: &mut ce_tests::Crediting,
    year: i32,
) {
    // A province closes only its own year.
    let err = ce_tests::refusal(guangdong.sweep_annual_statuses(SweepAnnualStatusesRequest {
        year,
        province: "11".into(),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let employer = ce_tests::member(Role::Employer, &w.employer, "employer-clerk");
    let err = ce_tests::refusal(as_role(w, channel, employer).sweep_annual_statuses(
        SweepAnnualStatusesRequest {
            year,
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// The statistics count all three engineers non-compliant, and listing them finds all three.
async fn every_non_compliant_engineer_is_counted_and_listed(guangdong: &mut ce_tests::Crediting) {
    let stats = ce_tests::answer(guangdong.get_compliance_statistics(
        GetComplianceStatisticsRequest {
            year: 2026,
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(stats.rows.len(), 1);
    let row = &stats.rows[0];
    assert_eq!(
        (
            row.province.as_str(),
            row.field,
            row.engineers,
            row.non_compliant,
            row.in_progress
        ),
        ("44", Field::ElectricPower as i32, 3, 3, 0)
    );
    assert_eq!(row.completion_rate, 0.0);
    // Listing the non-compliant finds all three, the idle one included.
    let listed = ce_tests::answer(guangdong.list_annual_statuses(ListAnnualStatusesRequest {
        year: 2026,
        state: AnnualState::NonCompliant as i32,
        ..Default::default()
    }))
    .await;
    assert_eq!(listed.annual_statuses.len(), 3);
    assert!(
        listed
            .annual_statuses
            .iter()
            .all(|s| s.shortfall_total_hours >= 84.0)
    );
}

/// Statistics are scoped like lists: an employer sees its own staff only.
async fn statistics_are_scoped_like_lists(w: &World) {
    // Statistics are scoped like lists: an employer sees its own staff only.
    let err = ce_tests::refusal(w.env.institution(&w.institution).get_compliance_statistics(
        GetComplianceStatisticsRequest {
            year: 2026,
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(w.env.province("11").get_compliance_statistics(
        GetComplianceStatisticsRequest {
            year: 2026,
            province: "44".into(),
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// The back office's list of years: filtered by province, field and
/// employer, read page by page without loss or repetition; and title
/// eligibility over more than one year.
async fn annual_statuses_are_listed_by_province_field_and_employer_page_by_page(b: Backend) {
    let w = world(b).await;
    let engineers = vec![
        w.engineer.clone(),
        colleague(&w, "王工", Field::ElectricPower).await,
        colleague(&w, "赵工", Field::Construction).await,
    ];
    for (i, e) in engineers.iter().enumerate() {
        credits::record(
            &mut w.env.province("44"),
            face_to_face(e, &w.seminar, date(2026, 4, 1 + i as i32), 1, 6.0),
        )
        .await;
    }
    let list = |req: ListAnnualStatusesRequest| {
        let mut c = w.env.province("44");
        async move {
            let mut all = Vec::new();
            let mut req = req;
            loop {
                let r = ce_tests::answer(c.list_annual_statuses(req.clone())).await;
                all.extend(r.annual_statuses.into_iter().map(|s| s.engineer));
                if r.next_page_token.is_empty() {
                    return all;
                }
                req.page_token = r.next_page_token;
            }
        }
    };
    let year = || ListAnnualStatusesRequest {
        year: 2026,
        page_size: 1,
        ..Default::default()
    };
    let mut everyone = list(ListAnnualStatusesRequest {
        province: "44".into(),
        ..year()
    })
    .await;
    everyone.sort();
    let mut expected = engineers.clone();
    expected.sort();
    assert_eq!(everyone, expected, "each once, page by page");
    let mut power = list(ListAnnualStatusesRequest {
        field: Field::ElectricPower as i32,
        ..year()
    })
    .await;
    power.sort();
    let mut expected = engineers[..2].to_vec();
    expected.sort();
    assert_eq!(power, expected);
    assert_eq!(
        list(ListAnnualStatusesRequest {
            employer: w.employer.clone(),
            ..year()
        })
        .await
        .len(),
        3
    );
    assert!(
        list(ListAnnualStatusesRequest {
            employer: "employers/nobody".into(),
            ..year()
        })
        .await
        .is_empty()
    );
    // A page token is for the filters it was given with.
    let first = ce_tests::answer(w.env.province("44").list_annual_statuses(year())).await;
    let err = ce_tests::refusal(w.env.province("44").list_annual_statuses(
        ListAnnualStatusesRequest {
            field: Field::Construction as i32,
            page_token: first.next_page_token,
            ..year()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);

    // Title eligibility over 2026 and 2027: neither year is complete.
    let title = ce_tests::answer(w.env.employer(&w.employer).check_title_eligibility(
        CheckTitleEligibilityRequest {
            engineer: w.engineer.clone(),
            first_year: 2026,
            last_year: 2027,
        },
    ))
    .await;
    assert!(!title.eligible);
    assert_eq!(title.incomplete_years, vec![2026, 2027]);
    assert_eq!(
        title.years.iter().map(|s| s.year).collect::<Vec<_>>(),
        vec![2026, 2027]
    );
}

#[derive(diesel::QueryableByName)]
struct Written {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

#[derive(diesel::QueryableByName)]
struct Same {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    same: bool,
}

/// Closing a year again writes nothing: the sweep recognises an unchanged
/// status by its stored digest, without reading the status back, and one
/// stored without a digest (before the column existed) by comparing it
/// whole. PostgreSQL's migration computes the digest as the service does.
/// The first close changes the year, not what each record earned, so it
/// does not write the records' explanations again either: it finds the
/// stored ones (`store::explanations_of`) and sees them unchanged.
async fn a_year_closed_again_writes_nothing(b: Backend) {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;
    let w = world(b).await;
    credits::record(
        &mut w.env.province("44"),
        at_seminar(&w, date(2026, 4, 2), 1, 6.0),
    )
    .await;
    let january = crediting_on(&w, time::macros::date!(2027 - 01 - 05)).await;
    let channel = january.channel().await;
    let mut ministry = as_role(
        &w,
        &channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    let sweep = || SweepAnnualStatusesRequest {
        year: 2026,
        province: "44".into(),
    };
    let status = |c: &mut ce_tests::Crediting| {
        let mut c = c.clone();
        let name = status_name(&w.engineer, 2026);
        async move { ce_tests::answer(c.get_annual_status(GetAnnualStatusRequest { name })).await }
    };
    // Every write of a record's explanation, counted by a trigger.
    let url = w.env.registry.place.config("crediting").database.url;
    let db = ce_db::Db::connect(&url, 1, crediting::migrations()).unwrap();
    let mut conn = db.connection().unwrap();
    conn.batch_execute(match b {
        Backend::Postgres => {
            "CREATE TABLE explanation_writes (id TEXT NOT NULL);
             CREATE FUNCTION note_explanation_write() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN INSERT INTO explanation_writes VALUES (NEW.id); RETURN NEW; END $$;
             CREATE TRIGGER explanation_written AFTER UPDATE OF explanation ON hour_records
               FOR EACH ROW EXECUTE FUNCTION note_explanation_write();"
        }
        Backend::Sqlite => {
            "CREATE TABLE explanation_writes (id TEXT NOT NULL);
             CREATE TRIGGER explanation_written AFTER UPDATE OF explanation ON hour_records
               BEGIN INSERT INTO explanation_writes VALUES (NEW.id); END;"
        }
    })
    .unwrap();
    let first = ce_tests::answer(ministry.sweep_annual_statuses(sweep())).await;
    assert!(first.reassessed >= 1, "{first:?}");
    let written: Vec<Written> = diesel::sql_query("SELECT id FROM explanation_writes")
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        written.len(),
        0,
        "the close rewrote unchanged explanations of records {:?}",
        written.iter().map(|w| &w.id).collect::<Vec<_>>()
    );
    let closed = status(&mut ministry).await;
    assert_eq!(
        closed.state,
        AnnualState::NonCompliant as i32,
        "{closed:#?}"
    );
    let (_, cursor) = read_all(&mut feed_reader(&w), 0, 100).await;

    if b == Backend::Postgres {
        let same: Vec<Same> = diesel::sql_query(
            "SELECT a.body_digest = ('x' || substr(encode(sha256(b.body), 'hex'), 1, 16))::bit(64)::bigint \
             AS same FROM annual_statuses AS a JOIN annual_status_bodies AS b USING (engineer_id, year)",
        )
        .load(&mut conn)
        .unwrap();
        assert!(
            !same.is_empty() && same.iter().all(|s| s.same),
            "the stored digest is the body's SHA-256"
        );
    }

    // Closed again: nothing written, nothing in the feed.
    ce_tests::answer(ministry.sweep_annual_statuses(sweep())).await;
    let (after, cursor) = read_all(&mut feed_reader(&w), cursor, 100).await;
    assert_eq!(after, vec![], "an unchanged year is not written again");
    assert_eq!(status(&mut ministry).await, closed);

    // A close moves open verdicts only: a closed year whose body digest is
    // unknown (stored before bodies were kept apart) is not read or written.
    conn.batch_execute("UPDATE annual_statuses SET body_digest = NULL")
        .unwrap();
    ce_tests::answer(ministry.sweep_annual_statuses(sweep())).await;
    let (after, _) = read_all(&mut feed_reader(&w), cursor, 100).await;
    assert_eq!(after, vec![], "a closed year is not written again");
    assert_eq!(status(&mut ministry).await, closed);
    let written: Vec<Written> = diesel::sql_query("SELECT id FROM explanation_writes")
        .load(&mut conn)
        .unwrap();
    assert_eq!(written.len(), 0, "no close rewrote an explanation");
}

both_backends!(
    a_year_closed_again_writes_nothing,
    annual_statuses_are_listed_by_province_field_and_employer_page_by_page,
    the_change_feed_resumes_from_a_cursor_without_loss_or_repetition,
    a_certificate_verifies_detects_tampering_and_is_revoked_with_its_records,
    closing_a_year_lists_engineers_who_registered_nothing_and_counts_compliance,
);

/// A generated population of Guangdong: engineer `i` granted `days(i)`
/// days of eight hours in May 2026 (none for every sixth), and a deferral
/// of 2026 certified for every fifth. Their names, with each one's days
/// and whether deferred.
async fn population(w: &World) -> Vec<(String, u32, bool)> {
    let mut clerk = w.env.registry.province("44");
    let names = ce_tests::world::create_engineers(&mut clerk, "44", &w.employer, 30).await;
    let may = ce_tests::world::create_activity(
        &mut clerk,
        ce_tests::world::activity("44", date(2026, 5, 1), date(2026, 5, 31), 8.0),
    )
    .await;
    let mut out = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let days = if i % 6 == 5 {
            0
        } else {
            (i as u32 * 7) % 17 + 1
        };
        if days > 0 {
            credits::record(
                &mut w.env.province("44"),
                face_to_face(&name, &may, date(2026, 5, 1), days as i32, 8.0),
            )
            .await;
        }
        let deferred = i % 5 == 0;
        if deferred {
            ce_tests::answer(
                w.env
                    .employer(&w.employer)
                    .create_deferral(CreateDeferralRequest {
                        deferral: Some(Deferral {
                            engineer: name.clone(),
                            year: 2026,
                            reason: DeferralReason::Illness as i32,
                            ..Default::default()
                        }),
                    }),
            )
            .await;
        }
        out.push((name, days, deferred));
    }
    out
}

/// Every status of Guangdong's 2026, by name.
async fn statuses_of_2026(
    client: &mut ce_tests::Crediting,
) -> std::collections::BTreeMap<String, AnnualStatus> {
    let listed = ce_tests::answer(client.list_annual_statuses(ListAnnualStatusesRequest {
        year: 2026,
        province: "44".into(),
        page_size: 1000,
        ..Default::default()
    }))
    .await;
    assert!(listed.next_page_token.is_empty());
    listed
        .annual_statuses
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect()
}

/// Every progress message of a reassessment, the last one `done`.
async fn reassessed(
    client: &mut ce_tests::Crediting,
    req: ReassessAnnualStatusesRequest,
) -> Vec<ReassessAnnualStatusesResponse> {
    let mut stream = ce_tests::answer(client.reassess_annual_statuses(req)).await;
    let mut all = Vec::new();
    while let Some(p) = stream.message().await.unwrap() {
        all.push(p);
    }
    assert!(all.last().is_some_and(|p| p.done), "{all:?}");
    all
}

/// The last progress message of each province-year: its total,
/// reassessed and changed.
fn reassessed_by_place(
    all: &[ReassessAnnualStatusesResponse],
) -> Vec<(String, i32, i64, i64, i64)> {
    let mut last: Vec<(String, i32, i64, i64, i64)> = Vec::new();
    for p in all.iter().filter(|p| !p.done) {
        let row = (p.province.clone(), p.year, p.total, p.reassessed, p.changed);
        match last.last_mut() {
            Some(l) if (&l.0, l.1) == (&p.province, p.year) => *l = row,
            _ => last.push(row),
        }
    }
    last
}

/// Closing a year moves open verdicts without reading records; reassessing
/// the same year from every record afterwards agrees on every engineer of
/// a generated population (nothing changes), each state is what the
/// regulation gives (Art. 18, 20), and closing again writes nothing.
async fn a_closed_year_equals_its_reassessment_engineer_by_engineer(b: Backend) {
    let w = world(b).await;
    let people = population(&w).await;
    let january = crediting_on(&w, time::macros::date!(2027 - 01 - 05)).await;
    let channel = january.channel().await;
    let mut ministry = as_role(&w, &channel, ce_tests::token(Role::Ministry, "ministry"));
    let sweep = SweepAnnualStatusesRequest {
        year: 2026,
        province: "44".into(),
    };
    ce_tests::answer(ministry.sweep_annual_statuses(sweep.clone())).await;
    let closed = statuses_of_2026(&mut ministry).await;
    for (name, days, deferred) in &people {
        let expected = match (days * 8 >= 90, deferred) {
            (true, _) => AnnualState::Compliant,
            (false, true) => AnnualState::Deferred,
            (false, false) => AnnualState::NonCompliant,
        };
        let s = &closed[&status_name(name, 2026)];
        assert_eq!(
            s.state, expected as i32,
            "{name}: {days} days, deferred {deferred}"
        );
        assert_eq!(s.complete, expected == AnnualState::Compliant, "{name}");
    }
    let (_, cursor) = read_all(&mut feed_reader(&w), 0, 1000).await;

    let all = reassessed(
        &mut ministry,
        ReassessAnnualStatusesRequest {
            province: "44".into(),
            year: 2026,
            all: true,
        },
    )
    .await;
    let n = closed.len() as i64;
    assert_eq!(
        reassessed_by_place(&all),
        [("44".to_owned(), 2026, n, n, 0)]
    );
    assert_eq!(
        statuses_of_2026(&mut ministry).await,
        closed,
        "nothing written"
    );
    ce_tests::answer(ministry.sweep_annual_statuses(sweep)).await;
    let (after, _) = read_all(&mut feed_reader(&w), cursor, 1000).await;
    assert_eq!(after, vec![], "neither reassessing nor closing again wrote");
    assert_eq!(statuses_of_2026(&mut ministry).await, closed);

    rules_changed_for_guangdong(&w, &closed).await;
}

/// Crediting on 5 January 2027 with the overlays of `dir`, reassessing
/// nothing by itself at start-up (the tests ask for it).
async fn crediting_under_rules(w: &World, dir: &str) -> ce_tests::Service {
    let mut config = w.env.registry.place.config("crediting");
    config
        .peers
        .insert("registry".into(), w.env.registry.service.url());
    config.rules.dir = dir.into();
    config.set("crediting.reassess_on_start", false);
    let today = time::macros::date!(2027 - 01 - 05);
    ce_tests::start_service(config, move |c, s| {
        crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
    })
    .await
}

/// Crediting restarted with Guangdong's overlay (7 hours a face-to-face
/// day, 24 public hours a year): the years stored under the national rules
/// are due, each is reassessed once, and then none is.
async fn rules_changed_for_guangdong(
    w: &World,
    closed: &std::collections::BTreeMap<String, AnnualStatus>,
) {
    let service = crediting_under_rules(
        w,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../libs/rules/rulesets/provinces"
        ),
    )
    .await;
    let channel = service.channel().await;
    let mut guangdong = as_role(w, &channel, ce_tests::department("44", "hrss-44-clerk"));
    let all = reassessed(
        &mut guangdong,
        ReassessAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        },
    )
    .await;
    let n = closed.len() as i64;
    // No public hours anywhere: every year is short of Guangdong's 24.
    assert_eq!(
        reassessed_by_place(&all),
        [("44".to_owned(), 2026, n, n, n)]
    );
    let now = statuses_of_2026(&mut guangdong).await;
    assert!(
        now.values()
            .all(|s| s.rule_set == "44-2026" && s.shortfall_public_hours == 24.0)
    );
    let again = reassessed(&mut guangdong, ReassessAnnualStatusesRequest::default()).await;
    assert_eq!(again.len(), 1, "nothing is due any more: {again:?}");
    an_edit_that_changes_no_year_writes_nothing_but_the_rule_set(w, &now).await;
    // Another province's department reassesses only its own.
    let err = ce_tests::refusal(
        as_role(w, &channel, ce_tests::department("31", "hrss-31-clerk")).reassess_annual_statuses(
            ReassessAnnualStatusesRequest {
                province: "44".into(),
                ..Default::default()
            },
        ),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// Guangdong's overlay edited where no stored year is affected (lectures,
/// and nobody lectured): every year is due, none changes, and nothing is
/// written but the rule set each names (no feed entry, no new time).
async fn an_edit_that_changes_no_year_writes_nothing_but_the_rule_set(
    w: &World,
    before: &std::collections::BTreeMap<String, AnnualStatus>,
) {
    let overlays = tempfile::tempdir().unwrap();
    let guangdong = include_str!("../../../libs/rules/rulesets/provinces/44-guangdong.toml");
    let edited = guangdong.replace("lecture_multiplier = 4", "lecture_multiplier = 3");
    assert_ne!(edited, guangdong);
    std::fs::write(overlays.path().join("44.toml"), edited).unwrap();
    let service = crediting_under_rules(w, &overlays.path().display().to_string()).await;
    let channel = service.channel().await;
    let mut ministry = as_role(w, &channel, ce_tests::token(Role::Ministry, "ministry"));
    let (_, cursor) = read_all(&mut feed_reader(w), 0, 1000).await;
    let all = reassessed(
        &mut ministry,
        ReassessAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        },
    )
    .await;
    let n = before.len() as i64;
    assert_eq!(
        reassessed_by_place(&all),
        [("44".to_owned(), 2026, n, n, 0)]
    );
    assert_eq!(&statuses_of_2026(&mut ministry).await, before);
    let (after, _) = read_all(&mut feed_reader(w), cursor, 1000).await;
    assert_eq!(
        after,
        vec![],
        "a year that came out the same is not in the feed"
    );
    let again = reassessed(&mut ministry, ReassessAnnualStatusesRequest::default()).await;
    assert_eq!(again.len(), 1, "each names the edited rules now: {again:?}");
}

both_backends!(a_closed_year_equals_its_reassessment_engineer_by_engineer);

/// Several writers at once (two institutions' worth of bulk uploads, the
/// employer confirming them as they come, the department granting hours
/// one at a time) and a reader following the feed in small pages: the
/// reader's positions only ever increase, and every position the feed
/// holds once the writers are done was delivered to it: nothing lost,
/// nothing repeated, whatever committed in which order.
async fn the_feed_is_followed_without_loss_under_concurrent_writers(b: Backend) {
    let w = std::sync::Arc::new(world(b).await);
    let mut clerk = w.env.registry.province("44");
    let engineers = ce_tests::world::create_engineers(&mut clerk, "44", &w.employer, 24).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (w, done) = (w.clone(), done.clone());
        tokio::spawn(async move {
            let mut client = w.env.ministry();
            let (mut cursor, mut seen) = (0, Vec::new());
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let (page, next) = read_all(&mut client, cursor, 5).await;
                seen.extend(page.iter().map(|c| (c.sequence, c.resource.clone())));
                cursor = next;
                if finished && page.is_empty() {
                    return seen;
                }
            }
        })
    };
    let mut writers = tokio::task::JoinSet::new();
    for half in engineers.chunks(12) {
        let (uw, uhalf) = (w.clone(), half.to_vec());
        writers.spawn(async move {
            let (w, half) = (uw, uhalf);
            // Uploaded two a message, then each confirmed by the employer.
            let messages: Vec<Vec<HourRecord>> = half
                .chunks(2)
                .map(|two| {
                    two.iter()
                        .map(|e| face_to_face(e, &w.course, date(2026, 3, 2), 1, 6.0))
                        .collect()
                })
                .collect();
            let answers = upload(&mut w.env.institution(&w.institution), messages).await;
            for a in answers.into_iter().flatten() {
                let name = a.hour_record.expect("stored").name;
                credits::confirm(&mut w.env.employer(&w.employer), &name).await;
            }
        });
        let (gw, ghalf) = (w.clone(), half.to_vec());
        writers.spawn(async move {
            let (w, half) = (gw, ghalf);
            for e in &half {
                credits::record(
                    &mut w.env.province("44"),
                    face_to_face(e, &w.seminar, date(2026, 4, 1), 1, 6.0),
                )
                .await;
            }
        });
    }
    while let Some(writer) = writers.join_next().await {
        writer.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let positions: Vec<i64> = seen.iter().map(|s| s.0).collect();
    assert!(
        positions.windows(2).all(|p| p[0] < p[1]),
        "delivered in increasing order, none twice: {positions:?}"
    );
    let (feed, _) = read_all(&mut w.env.ministry(), 0, 1000).await;
    let delivered: std::collections::BTreeSet<(i64, String)> = seen.into_iter().collect();
    for c in &feed {
        assert!(
            delivered.contains(&(c.sequence, c.resource.clone())),
            "{} at {} was never delivered to the follower",
            c.resource,
            c.sequence
        );
    }
    // 24 uploads (confirmed), 24 grants, and the statuses of 24 engineers.
    let records = feed
        .iter()
        .filter(|c| c.kind == ChangeKind::HourRecord as i32)
        .count();
    assert_eq!(records, 48, "each record once, at its last position");
}

both_backends!(the_feed_is_followed_without_loss_under_concurrent_writers);
