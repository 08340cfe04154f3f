//! Art. 18 "each item counts once", lectures included, and claims on one
//! item that contradict each other, within one engineer's records or
//! across engineers (Art. 27): signalled to whoever reviews them.

use super::*;

fn lecture(engineer: &str, engagement: &str, hours: f64) -> HourRecord {
    HourRecord {
        engineer: engineer.into(),
        activity: Some(A::Conversion(Conversion {
            kind: conversion::Kind::Lecture as i32,
            date: date(2026, 5, 20),
            evidence_id: engagement.into(),
            lecture_hours: hours,
            ..Default::default()
        })),
        ..Default::default()
    }
}

async fn year_of(w: &World, engineer: &str) -> AnnualStatus {
    credits::year(&mut w.env.province("44"), engineer, 2026).await
}

async fn record(w: &World, name: &str) -> HourRecord {
    credits::get(&mut w.env.province("44"), name).await
}

/// Submitted by `engineer` and confirmed by the province.
async fn confirmed_for(w: &World, engineer: &str, r: HourRecord) -> HourRecord {
    let submitted = credits::record(&mut w.env.engineer(engineer), r).await;
    credits::confirm(&mut w.env.province("44"), &submitted.name).await
}

async fn a_lecture_submitted_twice_counts_once(b: Backend) {
    let w = world(b).await;
    // An engagement is required: it is what makes a lecture count once.
    let err = credits::refused(
        &mut w.env.engineer(&w.engineer),
        lecture(&w.engineer, " ", 2.5),
    )
    .await;
    assert_eq!(bad_fields(&err), ["hour_record.conversion.evidence_id"]);
    assert!(err.message().contains("Art. 18(8)"), "{}", err.message());

    let first = confirmed_for(
        &w,
        &w.engineer,
        lecture(&w.engineer, "GD-FORUM-2026-17", 2.5),
    )
    .await;
    let second = confirmed_for(
        &w,
        &w.engineer,
        lecture(&w.engineer, "gd forum 2026 17", 2.5),
    )
    .await;
    let year = year_of(&w, &w.engineer).await;
    assert_eq!(year.converted_hours, 15.0, "6 × 2.5 once, not twice");
    let kept = record(&w, &second.name).await.explanation.unwrap();
    assert_eq!(kept.hours, 0.0);
    assert!(
        kept.cuts.iter().any(|c| c
            == &format!(
                "the same item was credited by record {}; it counts once (Art. 18(8))",
                first.name.trim_start_matches("hourRecords/")
            )),
        "{:?}",
        kept.cuts
    );
    assert!(
        kept.signals.is_empty(),
        "the same claim twice: {:?}",
        kept.signals
    );
    assert!(year.signals.is_empty(), "{:?}", year.signals);
}

async fn conflicting_claims_on_one_item_are_signalled_to_the_reviewer(b: Backend) {
    let w = world(b).await;
    let pi = confirmed_for(
        &w,
        &w.engineer,
        conversion(
            &w.engineer,
            conversion::Kind::ResearchPrincipal,
            "GDKJ-2026-001",
        ),
    )
    .await;
    let sole = credits::record(
        &mut w.env.engineer(&w.engineer),
        conversion(&w.engineer, conversion::Kind::ResearchSole, "GDKJ-2026-001"),
    )
    .await;
    let under_review = sole.explanation.clone().unwrap();
    credits::confirm(&mut w.env.province("44"), &sole.name).await;
    let year = year_of(&w, &w.engineer).await;
    assert_eq!(year.converted_hours, 40.0, "the claim worth most earns");
    let id = |r: &HourRecord| r.name.trim_start_matches("hourRecords/").to_owned();
    let mut ids = [id(&pi), id(&sole)];
    ids.sort();
    let roles = |i: &str| {
        if i == id(&pi) {
            "principal investigator"
        } else {
            "sole researcher"
        }
    };
    let expected = format!(
        "conflicting claims on one item (project GDKJ2026001): record {} as {}, record {} as {} (Art. 27)",
        ids[0],
        roles(&ids[0]),
        ids[1],
        roles(&ids[1])
    );
    assert_eq!(year.signals, std::slice::from_ref(&expected));
    assert_eq!(
        under_review.signals,
        std::slice::from_ref(&expected),
        "its reviewer sees it before confirming"
    );
    for r in [&pi, &sole] {
        let explained = record(&w, &r.name).await.explanation.unwrap();
        assert_eq!(
            explained.signals,
            std::slice::from_ref(&expected),
            "{}",
            r.name
        );
    }
}

async fn two_engineers_claiming_one_role_held_by_one_are_each_signalled(b: Backend) {
    let w = world(b).await;
    let other = colleague(&w, "王工", Field::ElectricPower).await;
    let mine = confirmed_for(
        &w,
        &w.engineer,
        conversion(
            &w.engineer,
            conversion::Kind::ResearchPrincipal,
            "GDKJ-2026-002",
        ),
    )
    .await;
    assert!(year_of(&w, &w.engineer).await.signals.is_empty());
    // The second claim: its reviewer sees the conflict before confirming it.
    let theirs = credits::record(
        &mut w.env.engineer(&other),
        conversion(&other, conversion::Kind::ResearchPrincipal, "GDKJ 2026 002"),
    )
    .await;
    let under_review = record(&w, &theirs.name).await.explanation.unwrap();
    assert_eq!(
        under_review.signals,
        [format!(
            "conflicting claims on one item (project GDKJ2026002): record {} as principal investigator, \
             and another engineer as principal investigator (Art. 27)",
            theirs.name.trim_start_matches("hourRecords/")
        )]
    );
    credits::confirm(&mut w.env.province("44"), &theirs.name).await;
    // Each year is signalled, naming only its own record.
    for (engineer, own, foreign) in [(&w.engineer, &mine, &theirs), (&other, &theirs, &mine)] {
        let year = year_of(&w, engineer).await;
        assert_eq!(year.converted_hours, 30.0, "each keeps its own credit");
        assert_eq!(year.signals.len(), 1, "{:?}", year.signals);
        let signal = &year.signals[0];
        assert!(
            signal.contains(own.name.trim_start_matches("hourRecords/"))
                && signal.contains("another engineer as principal investigator"),
            "{signal}"
        );
        assert!(
            !signal.contains(foreign.name.trim_start_matches("hourRecords/")),
            "the other engineer's record is not shown: {signal}"
        );
        // And neither engineer may read the other's record.
        let err = ce_tests::refusal(w.env.engineer(engineer).get_hour_record(
            GetHourRecordRequest {
                name: foreign.name.clone(),
            },
        ))
        .await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    // A participant's claim beside a principal investigator is no conflict.
    let third = colleague(&w, "赵工", Field::ElectricPower).await;
    confirmed_for(
        &w,
        &third,
        conversion(
            &third,
            conversion::Kind::ResearchParticipant,
            "GDKJ-2026-002",
        ),
    )
    .await;
    assert!(year_of(&w, &third).await.signals.is_empty());

    // Once the second claim is revoked, the first engineer's year is clear.
    ce_tests::answer(
        w.env
            .province("44")
            .revoke_hour_records(RevokeHourRecordsRequest {
                names: vec![theirs.name.clone()],
                reason: "The project's principal investigator is another engineer".into(),
                case_reference: "GD-SUP-2026-101".into(),
            }),
    )
    .await;
    assert!(year_of(&w, &w.engineer).await.signals.is_empty());
}

both_backends!(
    a_lecture_submitted_twice_counts_once,
    conflicting_claims_on_one_item_are_signalled_to_the_reviewer,
    two_engineers_claiming_one_role_held_by_one_are_each_signalled,
);

/// Submissions stored before items were indexed are indexed at start-up,
/// once.
async fn earlier_submissions_are_indexed_once(b: Backend) {
    use diesel::RunQueryDsl;
    let w = world(b).await;
    confirmed_for(
        &w,
        &w.engineer,
        conversion(
            &w.engineer,
            conversion::Kind::ResearchPrincipal,
            "GDKJ-2026-003",
        ),
    )
    .await;
    let db = ce_db::Db::connect(
        &w.env.registry.place.config("crediting").database.url,
        1,
        crediting::migrations(),
    )
    .unwrap();
    let mut conn = db.connection().unwrap();
    // As a release before the index left it.
    match &mut *conn {
        ce_db::DbConnection::Pg(c) => diesel::sql_query("DELETE FROM claims").execute(c),
        ce_db::DbConnection::Sqlite(c) => diesel::sql_query("DELETE FROM claims").execute(c),
    }
    .unwrap();
    assert_eq!(crediting::claims::backfill(&mut conn).unwrap(), 1);
    assert_eq!(crediting::claims::backfill(&mut conn).unwrap(), 0, "once");
    // The index serves: another engineer's principal investigator claim is
    // signalled.
    let other = colleague(&w, "孙工", Field::ElectricPower).await;
    let theirs = credits::record(
        &mut w.env.engineer(&other),
        conversion(&other, conversion::Kind::ResearchPrincipal, "GDKJ-2026-003"),
    )
    .await;
    assert_eq!(theirs.explanation.unwrap().signals.len(), 1);
}

both_backends!(earlier_submissions_are_indexed_once);

/// A claim uploaded in bulk is claimed as a single create claims it:
/// another engineer's later claim of the same role is signalled (Art. 27).
async fn a_claim_uploaded_in_bulk_is_found_by_a_later_one(b: Backend) {
    let w = world(b).await;
    let mine = conversion(
        &w.engineer,
        conversion::Kind::ResearchPrincipal,
        "GDKJ-2026-004",
    );
    let answers = upload(&mut w.env.engineer(&w.engineer), vec![vec![mine]]).await;
    assert!(
        answers[0][0].refusal.is_none(),
        "stored: {:?}",
        answers[0][0]
    );
    let other = colleague(&w, "赵工", Field::ElectricPower).await;
    let theirs = credits::record(
        &mut w.env.engineer(&other),
        conversion(&other, conversion::Kind::ResearchPrincipal, "GDKJ 2026 004"),
    )
    .await;
    assert_eq!(
        theirs.explanation.unwrap().signals.len(),
        1,
        "the bulk claim is found"
    );
}

both_backends!(a_claim_uploaded_in_bulk_is_found_by_a_later_one);
