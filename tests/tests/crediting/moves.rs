//! Art. 22: an engineer keeps their hours when they move, and their years
//! from the move on follow them. Crediting follows the registry's changes
//! of where engineers are, so the new province and employer find those
//! years in their lists without anyone reading them first; the years spent
//! before the move stay with the province and employer of the time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use super::*;
use ce_proto::registry::UpdateEngineerRequest;
use ce_server::auth::TokenRequest;
use ce_tests::{Place, RegistryEnv};

/// `hour` o'clock on `day`, China time, in microseconds: the registry's clock.
fn at(day: time::Date, hour: u8) -> i64 {
    day.with_hms(hour, 0, 0)
        .unwrap()
        .assume_offset(ce_rules::dates::CST)
        .unix_timestamp()
        * 1_000_000
}

fn province(code: &str) -> TokenRequest {
    ce_tests::department(code, &format!("hrss-{code}-clerk"))
}

fn employer(name: &str) -> TokenRequest {
    ce_tests::member(Role::Employer, name, "employer-clerk")
}

async fn new_employer(registry: &RegistryEnv, code: &str, display_name: &str) -> String {
    let employer = reg::Employer {
        display_name: display_name.into(),
        ..ce_tests::world::employer(code)
    };
    ce_tests::world::create_employer(&mut registry.province(code), employer).await
}

/// A provincial department's own seminar, 8 hours a day from `start` to `end`.
async fn seminar(
    registry: &RegistryEnv,
    province: &str,
    start: Option<ce_proto::google::r#type::Date>,
    end: Option<ce_proto::google::r#type::Date>,
) -> String {
    ce_tests::world::create_activity(
        &mut registry.province(province),
        ce_tests::world::activity(province, start, end, 8.0),
    )
    .await
}

/// Guangdong's own seminar of February 2027.
async fn seminar_2027(registry: &RegistryEnv) -> String {
    seminar(registry, "44", date(2027, 2, 1), date(2027, 2, 3)).await
}

/// The engineers listed for `year`, as the caller sees them, with the
/// province each year is held for.
/// The ministry moves the engineer in the registry: to `province` where
/// given, and to `employer` (a name, or empty for none).
async fn move_engineer(
    registry: &RegistryEnv,
    engineer: &str,
    province: Option<&str>,
    employer: &str,
) {
    let mut paths = vec!["employer".to_owned()];
    paths.extend(province.map(|_| "province".to_owned()));
    ce_tests::answer(registry.ministry().update_engineer(UpdateEngineerRequest {
        engineer: Some(reg::Engineer {
            name: engineer.to_owned(),
            province: province.unwrap_or_default().to_owned(),
            employer: employer.to_owned(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths }),
    }))
    .await;
}

/// The engineer's year as `c` is answered it.
async fn year_of(
    c: &mut ce_tests::Crediting,
    engineer: &str,
    year: i32,
) -> Result<AnnualStatus, tonic::Status> {
    c.get_annual_status(GetAnnualStatusRequest {
        name: status_name(engineer, year),
    })
    .await
    .map(tonic::Response::into_inner)
}

async fn listed(c: &mut ce_tests::Crediting, year: i32, province: &str) -> Vec<(String, String)> {
    ce_tests::answer(c.list_annual_statuses(ListAnnualStatusesRequest {
        year,
        province: province.into(),
        page_size: 1000,
        ..Default::default()
    }))
    .await
    .annual_statuses
    .into_iter()
    .map(|s| (s.engineer, s.province))
    .collect()
}

async fn an_engineers_years_from_the_move_on_follow_them_to_another_province(b: Backend) {
    // 2026 in Guangdong, with a crediting that does not follow the registry.
    let (w, now) = world_on_a_clock(b).await;
    let (registry, engineer) = (&w.env.registry, &w.engineer);
    let huangpu = new_employer(registry, "31", "Huangpu Grid").await;
    let seminar_2027 = seminar_2027(registry).await;
    // The department grants 24 hours.
    credits::record(
        &mut w.env.province("44"),
        face_to_face(engineer, &w.seminar, date(2026, 4, 1), 3, 8.0),
    )
    .await;

    // 2027: 16 more hours from Guangdong, and Shanghai takes the engineer
    // on with a Shanghai employer as the year begins.
    let follows = crediting_following(registry, time::macros::date!(2027 - 07 - 01), 1).await;
    let follows_channel = follows.channel().await;
    // A second replica on the same database follows the same feed.
    let also = crediting_following(registry, time::macros::date!(2027 - 07 - 01), 1).await;
    let mut ministry = as_role(
        &w,
        &follows_channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    as_role(&w, &follows_channel, province("44"))
        .create_hour_record(create(face_to_face(
            engineer,
            &seminar_2027,
            date(2027, 2, 1),
            2,
            8.0,
        )))
        .await
        .unwrap();
    assert_eq!(
        listed(&mut ministry, 2027, "44").await,
        [(engineer.clone(), "44".to_owned())]
    );
    let (_, feed_head) = aggregation::read_all(&mut ministry, 0, 1000).await;
    // At 3 a.m. on New Year's Day, China time: still 2026 in UTC.
    now.store(at(time::macros::date!(2027 - 01 - 01), 3), Ordering::SeqCst);
    move_engineer(registry, engineer, Some("31"), &huangpu).await;

    the_year_follows_them_to_shanghai(&w, &mut ministry, &follows_channel, &huangpu).await;
    aggregators_see_the_year_move_once(&mut ministry, feed_head, engineer).await;

    // Crediting stopped: another Shanghai employer takes the engineer on
    // meanwhile. Crediting back resumes from its stored cursor and applies
    // that change, and only that one.
    follows.stop().await;
    also.stop().await;
    let back = a_move_made_while_down_is_applied_once(&w, &now, &huangpu, feed_head).await;
    the_year_spent_in_guangdong_stays_there(&w, &back.channel().await).await;
}

/// The world on a registry whose clock the test sets (from 2026-11-25), and a crediting not following it.
async fn world_on_a_clock(b: Backend) -> (World, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(at(time::macros::date!(2026 - 11 - 25), 12)));
    let registry = RegistryEnv::start_with_clock(Place::new(b), {
        let now = now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    })
    .await;
    let service = crediting_following(&registry, time::macros::date!(2026 - 11 - 25), 0).await;
    let channel = service.channel().await;
    let w = world_in(CreditingEnv {
        registry,
        service,
        channel,
    })
    .await;
    (w, now)
}

/// Nobody reads the year: Shanghai's list gains it, with its hours, and 2026 stays in Guangdong.
async fn the_year_follows_them_to_shanghai(
    w: &World,
    ministry: &mut ce_tests::Crediting,
    follows_channel: &tonic::transport::Channel,
    huangpu: &str,
) {
    let (engineer, pearl_river) = (&w.engineer, &w.employer);
    // Nobody reads the year: Shanghai's list gains it once crediting has
    // read the registry's change.
    let started = Instant::now();
    while listed(ministry, 2027, "31").await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the move never reached Shanghai's list"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        listed(ministry, 2027, "31").await,
        [(engineer.clone(), "31".to_owned())]
    );
    assert!(
        listed(ministry, 2027, "44").await.is_empty(),
        "no longer Guangdong's to chase"
    );
    // Shanghai's department and the new employer find it; the old employer does not.
    let mut shanghai = as_role(w, follows_channel, province("31"));
    let year = year_of(&mut shanghai, engineer, 2027).await.unwrap();
    assert_eq!(
        (year.province.as_str(), year.total_hours),
        ("31", 16.0),
        "the hours came along"
    );
    assert_eq!(
        listed(
            &mut as_role(w, follows_channel, employer(huangpu)),
            2027,
            ""
        )
        .await,
        [(engineer.clone(), "31".to_owned())]
    );
    assert!(
        listed(
            &mut as_role(w, follows_channel, employer(pearl_river)),
            2027,
            ""
        )
        .await
        .is_empty()
    );
    // 2026 was spent in Guangdong and stays there.
    assert_eq!(
        listed(ministry, 2026, "44").await,
        [(engineer.clone(), "44".to_owned())]
    );
    assert!(listed(ministry, 2026, "31").await.is_empty());
}

/// Aggregators see the year move, once, under the new province, though both replicas applied it.
async fn aggregators_see_the_year_move_once(
    ministry: &mut ce_tests::Crediting,
    feed_head: i64,
    engineer: &str,
) {
    // Aggregators see the year move, once, under the new province, though
    // both replicas applied the change.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, _) = aggregation::read_all(ministry, feed_head, 1000).await;
    let moved: Vec<(i32, &str, &str)> = after
        .iter()
        .map(|c| (c.kind, c.resource.as_str(), c.province.as_str()))
        .collect();
    assert_eq!(
        moved,
        [(
            ChangeKind::AnnualStatus as i32,
            status_name(engineer, 2027).as_str(),
            "31"
        )]
    );
}

/// Another employer takes the engineer on while crediting is down; crediting back applies that change only.
async fn a_move_made_while_down_is_applied_once(
    w: &World,
    now: &AtomicI64,
    huangpu: &str,
    feed_head: i64,
) -> ce_tests::Service {
    let (registry, engineer) = (&w.env.registry, &w.engineer);
    let minhang = new_employer(registry, "31", "Minhang Power").await;
    now.store(
        at(time::macros::date!(2027 - 08 - 01), 12),
        Ordering::SeqCst,
    );
    move_engineer(registry, engineer, None, &minhang).await;
    let back = crediting_following(registry, time::macros::date!(2027 - 08 - 02), 1).await;
    let back_channel = back.channel().await;
    let mut new_employer_view = as_role(w, &back_channel, employer(&minhang));
    let started = Instant::now();
    while listed(&mut new_employer_view, 2027, "").await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the change made while crediting was down never reached the new employer"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        listed(&mut as_role(w, &back_channel, employer(huangpu)), 2027, "")
            .await
            .is_empty()
    );
    let mut ministry = as_role(
        w,
        &back_channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    let (last, _) = aggregation::read_all(&mut ministry, feed_head, 1000).await;
    assert_eq!(
        last.iter()
            .map(|c| (c.resource.as_str(), c.province.as_str()))
            .collect::<Vec<_>>(),
        [
            (status_name(engineer, 2027).as_str(), "31"),
            (status_name(engineer, 2027).as_str(), "31")
        ],
        "the first move is not applied again"
    );
    back
}

/// 2026 ended in Guangdong and, reassessed when read, stays on Guangdong's list.
async fn the_year_spent_in_guangdong_stays_there(
    w: &World,
    back_channel: &tonic::transport::Channel,
) {
    let engineer = &w.engineer;
    let mut ministry = as_role(
        w,
        back_channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    // 2026 ended in Guangdong, and nobody has closed it yet. Read now, it
    // is reassessed where it was spent: Guangdong still reads it, and it
    // stays on Guangdong's list.
    let spent = year_of(
        &mut as_role(w, back_channel, province("44")),
        engineer,
        2026,
    )
    .await
    .expect("Guangdong reads the year spent there");
    assert_eq!(
        (spent.province.as_str(), spent.state),
        ("44", AnnualState::NonCompliant as i32),
        "reassessed as ended, where it was spent"
    );
    assert_eq!(
        listed(&mut ministry, 2026, "44").await,
        [(engineer.clone(), "44".to_owned())]
    );
}

both_backends!(an_engineers_years_from_the_move_on_follow_them_to_another_province);

/// Where each engineer is moves with the registry's feed, but a write may
/// have looked the engineer up before: a replica whose cache still has the
/// engineer in Guangdong, writing after another replica applied the move
/// to Shanghai, stores the year under Shanghai. And a place the registry
/// gives that is newer than any change applied yet is stored as it is.
async fn a_write_that_looked_the_engineer_up_before_the_move_lands_where_they_went(b: Backend) {
    let today = time::macros::date!(2026 - 11 - 25);
    // The replica that does not follow the registry, and keeps what it
    // looked up for a while.
    let (w, now) = world_on_a_clock(b).await;
    let (registry, engineer) = (&w.env.registry, &w.engineer);
    let huangpu = new_employer(registry, "31", "Huangpu Grid").await;
    let later_seminar = seminar(registry, "44", date(2026, 6, 1), date(2026, 6, 2)).await;
    let shanghai_seminar = seminar(registry, "31", date(2026, 9, 1), date(2026, 9, 1)).await;
    // Guangdong grants 24 hours of 2026 through it: it has now looked the
    // engineer up, in Guangdong.
    credits::record(
        &mut w.env.province("44"),
        face_to_face(engineer, &w.seminar, date(2026, 4, 1), 3, 8.0),
    )
    .await;
    // From here the first replica answers from what it looked up, for as
    // long as its registry cache keeps it (30 s).
    let looked_up = Instant::now();
    // The next day Shanghai takes the engineer on, and a following replica
    // applies the move.
    now.store(at(time::macros::date!(2026 - 11 - 26), 9), Ordering::SeqCst);
    move_engineer(registry, engineer, Some("31"), &huangpu).await;
    another_replica_applies_the_move(&w, today, looked_up).await;

    the_replica_that_has_not_heard_stores_the_year_where_they_went(&w, &later_seminar, &huangpu)
        .await;
    guangdong_is_refused_and_shanghai_answered(&w).await;
    the_employer_they_are_with_certifies_a_deferral(&w, &huangpu).await;
    assert!(
        looked_up.elapsed() < Duration::from_secs(25),
        "the replica's registry cache may have expired: what it answered shows nothing"
    );

    a_fresh_look_up_stores_the_year_under_the_newer_place(&w, today, &shanghai_seminar, &huangpu)
        .await;
}

/// A replica following the registry applies the move to Shanghai within 15 s of the look-up.
async fn another_replica_applies_the_move(w: &World, today: time::Date, looked_up: Instant) {
    let registry = &w.env.registry;
    let follows = crediting_following(registry, today, 1).await;
    let mut ministry = as_role(
        w,
        &follows.channel().await,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    while listed(&mut ministry, 2026, "31").await.is_empty() {
        assert!(
            looked_up.elapsed() < Duration::from_secs(15),
            "the move did not reach Shanghai's list within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    follows.stop().await;
}

/// The replica that has not heard registers Guangdong's grants there, but stores the year with Shanghai.
async fn the_replica_that_has_not_heard_stores_the_year_where_they_went(
    w: &World,
    later_seminar: &str,
    huangpu: &str,
) {
    let (registry, engineer) = (&w.env.registry, &w.engineer);
    // The first replica has not heard: it takes Guangdong's grant of 16
    // more hours (the record is registered in Guangdong), but the year is
    // stored where the engineer went.
    let record = w
        .env
        .province("44")
        .create_hour_record(create(face_to_face(
            engineer,
            later_seminar,
            date(2026, 6, 1),
            2,
            8.0,
        )))
        .await
        .expect("the replica still has the engineer in Guangdong")
        .into_inner();
    assert_eq!(
        record.province, "44",
        "registered where the replica had them"
    );
    // And 8 more in a bulk upload, whose statuses are written apart.
    let july = seminar(registry, "44", date(2026, 7, 1), date(2026, 7, 1)).await;
    let answers = upload(
        &mut w.env.province("44"),
        vec![vec![keyed(
            face_to_face(engineer, &july, date(2026, 7, 1), 1, 8.0),
            "july",
        )]],
    )
    .await;
    assert_eq!(
        answers[0][0]
            .hour_record
            .as_ref()
            .map(|r| r.province.as_str()),
        Some("44"),
        "{answers:?}"
    );
    let mut ministry = as_role(
        w,
        &w.env.channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    let year = year_of(&mut ministry, engineer, 2026).await.unwrap();
    assert_eq!(
        (year.province.as_str(), year.total_hours),
        ("31", 48.0),
        "the year stays with Shanghai, with the new hours"
    );
    assert_eq!(
        listed(&mut ministry, 2026, "31").await,
        [(engineer.clone(), "31".to_owned())]
    );
    assert!(listed(&mut ministry, 2026, "44").await.is_empty());
    assert_eq!(
        listed(&mut as_role(w, &w.env.channel, employer(huangpu)), 2026, "").await,
        [(engineer.clone(), "31".to_owned())]
    );
}

/// Nor does the replica answer Guangdong for the engineer's years, while Shanghai is answered.
async fn guangdong_is_refused_and_shanghai_answered(w: &World) {
    let engineer = &w.engineer;
    let mut ministry = as_role(
        w,
        &w.env.channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    // Nor does the replica answer Guangdong for the engineer's years: not
    // the year stored under Shanghai, nor one it assesses now.
    let mut guangdong = w.env.province("44");
    for year in [2026, 2027] {
        let refused = year_of(&mut guangdong, engineer, year)
            .await
            .expect_err("Guangdong no longer covers the engineer");
        assert_eq!(
            refused.code(),
            tonic::Code::PermissionDenied,
            "{year}: {refused:?}"
        );
    }
    assert!(
        listed(&mut ministry, 2027, "").await.is_empty(),
        "the refused read wrote nothing"
    );
    let assessed = year_of(&mut ministry, engineer, 2027).await.unwrap();
    assert_eq!(
        assessed.province, "31",
        "2027 is assessed where the engineer went"
    );
    // Shanghai, which the replica's cache does not name yet, is answered
    // (2027 is still not stored: a read writes nothing).
    let shanghai_reads = year_of(
        &mut as_role(w, &w.env.channel, province("31")),
        engineer,
        2027,
    )
    .await
    .expect("Shanghai covers the engineer now");
    assert_eq!(shanghai_reads.province, "31");
}

/// A deferral is certified by the employer the engineer is with now, not the one they left.
async fn the_employer_they_are_with_certifies_a_deferral(w: &World, huangpu: &str) {
    let engineer = &w.engineer;
    // A deferral is certified by the employer the engineer is with now:
    // the one they left is refused, Huangpu is not.
    let deferral = || CreateDeferralRequest {
        deferral: Some(Deferral {
            engineer: engineer.clone(),
            year: 2026,
            reason: DeferralReason::Illness as i32,
            ..Default::default()
        }),
    };
    let refused = as_role(w, &w.env.channel, employer(&w.employer))
        .create_deferral(deferral())
        .await
        .expect_err("the engineer has left this employer");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused:?}");
    let certified = as_role(w, &w.env.channel, employer(huangpu))
        .create_deferral(deferral())
        .await
        .expect("Huangpu employs the engineer now")
        .into_inner();
    assert_eq!(certified.certified_by, huangpu);
}

/// A replica looking the engineer up afresh stores the year under the place newer than any change applied.
async fn a_fresh_look_up_stores_the_year_under_the_newer_place(
    w: &World,
    today: time::Date,
    shanghai_seminar: &str,
    huangpu: &str,
) {
    let (registry, engineer) = (&w.env.registry, &w.engineer);
    // Huangpu lets the engineer go, and nothing follows the registry now.
    // A replica that looks the engineer up afresh has a place newer than
    // the last change applied, and stores the year under it.
    move_engineer(registry, engineer, None, "").await;
    let fresh = crediting_following(registry, today, 0).await;
    let fresh_channel = fresh.channel().await;
    as_role(w, &fresh_channel, province("31"))
        .create_hour_record(create(face_to_face(
            engineer,
            shanghai_seminar,
            date(2026, 9, 1),
            1,
            8.0,
        )))
        .await
        .unwrap();
    let mut ministry = as_role(
        w,
        &fresh_channel,
        ce_tests::token(Role::Ministry, "ministry-clerk"),
    );
    assert_eq!(
        listed(&mut ministry, 2026, "31").await,
        [(engineer.clone(), "31".to_owned())]
    );
    assert!(
        listed(&mut as_role(w, &fresh_channel, employer(huangpu)), 2026, "")
            .await
            .is_empty(),
        "the employer the engineer left no longer has the year"
    );
}

/// Art. 22: hours stay valid when an engineer moves province. The record
/// keeps the province it was registered in; the year counts it wherever the
/// engineer now is; the new province reads the year, and its own hours add.
async fn hours_stay_valid_when_an_engineer_moves_province(b: Backend) {
    let w = world(b).await;
    let granted = credits::record(
        &mut w.env.province("44"),
        face_to_face(&w.engineer, &w.seminar, date(2026, 4, 1), 3, 8.0),
    )
    .await;
    assert_eq!(granted.province, "44");
    // Shanghai takes the engineer on; the registry keeps who they are.
    let r = &w.env.registry;
    ce_tests::answer(r.ministry().update_engineer(reg::UpdateEngineerRequest {
        engineer: Some(reg::Engineer {
            name: w.engineer.clone(),
            province: "31".into(),
            employer: String::new(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["province".into(), "employer".into()],
        }),
    }))
    .await;
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
    let shanghai = || as_role(&w, &channel, ce_tests::department("31", "hrss-31-clerk"));
    let status = credits::year(&mut shanghai(), &w.engineer, 2026).await;
    assert_eq!(
        status.total_hours, 24.0,
        "Guangdong's hours count in Shanghai"
    );
    let more = credits::record(
        &mut shanghai(),
        HourRecord {
            activity: Some(A::FaceToFace(FaceToFaceTraining {
                subject_category: SubjectCategory::Public as i32,
                start_date: date(2026, 9, 2),
                days: 2,
                hours_per_day: 8.0,
            })),
            ..face_to_face(&w.engineer, &shanghai_seminar, date(2026, 9, 2), 2, 8.0)
        },
    )
    .await;
    assert_eq!(more.province, "31");
    let status = credits::year(&mut shanghai(), &w.engineer, 2026).await;
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
    let kept = credits::get(&mut shanghai(), &granted.name).await;
    assert_eq!(kept.province, "44");
    let listed = ce_tests::answer(w.env.ministry().list_hour_records(ListHourRecordsRequest {
        engineer: w.engineer.clone(),
        province: "44".into(),
        ..Default::default()
    }))
    .await
    .hour_records;
    assert_eq!(
        listed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        [granted.name.as_str()]
    );
    // Guangdong keeps the record it registered, and the year is no longer its.
    let mut guangdong = as_role(&w, &channel, ce_tests::department("44", "hrss-44-clerk"));
    ce_tests::answer(guangdong.get_hour_record(GetHourRecordRequest {
        name: granted.name.clone(),
    }))
    .await;
    let err = ce_tests::refusal(guangdong.get_annual_status(GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // And a province the engineer never lived in reads neither.
    let mut beijing = as_role(&w, &channel, ce_tests::department("11", "hrss-11-clerk"));
    let err = ce_tests::refusal(beijing.get_hour_record(GetHourRecordRequest {
        name: granted.name.clone(),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

both_backends!(
    a_write_that_looked_the_engineer_up_before_the_move_lands_where_they_went,
    hours_stay_valid_when_an_engineer_moves_province,
);
