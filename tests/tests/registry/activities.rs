//! Activities: a department's own is free, and the other rules name their
//! fields.

use super::*;

async fn a_department_activity_is_free_and_other_rules_name_their_fields(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let err = ce_tests::refusal(env.province("44").create_activity(CreateActivityRequest {
        activity: Some(course(date(2026, 5, 1), date(2026, 5, 2), 100)),
    }))
    .await;
    assert_eq!(bad_fields(&err), vec!["activity.fee_fen"]);
    assert!(
        bad_field_description(&err, "activity.fee_fen")
            .unwrap()
            .contains("Art. 12")
    );

    let free = ce_tests::answer(env.province("44").create_activity(CreateActivityRequest {
        activity: Some(course(date(2026, 5, 1), date(2026, 5, 2), 0)),
    }))
    .await;
    assert_eq!(free.organiser_kind, OrganiserKind::HrssDepartment as i32);

    let reg = ce_tests::refusal(env.regulator(Field::Construction, None).create_activity(
        CreateActivityRequest {
            activity: Some(course(date(2026, 5, 1), date(2026, 5, 2), 5)),
        },
    ))
    .await;
    assert!(
        bad_field_description(&reg, "activity.fee_fen")
            .unwrap()
            .contains("Art. 12")
    );

    let mut bad = course(date(2026, 5, 3), date(2026, 5, 1), 0);
    bad.hours_per_day = 25.0;
    bad.title = String::new();
    bad.subject_category = 0;
    bad.delivery_mode = 0;
    let err = ce_tests::refusal(env.province("44").create_activity(CreateActivityRequest {
        activity: Some(bad),
    }))
    .await;
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "activity.delivery_mode",
            "activity.end_date",
            "activity.hours_per_day",
            "activity.subject_category",
            "activity.title"
        ]
    );

    // A province holds activities only at home; an employer publishes none.
    let mut elsewhere = course(date(2026, 5, 1), date(2026, 5, 2), 0);
    elsewhere.province = "11".into();
    let err = ce_tests::refusal(env.province("44").create_activity(CreateActivityRequest {
        activity: Some(elsewhere),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(env.employer("employers/x").create_activity(
        CreateActivityRequest {
            activity: Some(course(date(2026, 5, 1), date(2026, 5, 2), 0)),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    // Only the organiser changes it.
    let err = ce_tests::refusal(env.province("11").update_activity(UpdateActivityRequest {
        activity: Some(Activity {
            name: free.name.clone(),
            title: "Taken over".into(),
            ..Default::default()
        }),
        update_mask: mask(&["title"]),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let retitled = ce_tests::answer(env.province("44").update_activity(UpdateActivityRequest {
        activity: Some(Activity {
            name: free.name.clone(),
            title: "BIM, second edition".into(),
            ..Default::default()
        }),
        update_mask: mask(&["title"]),
    }))
    .await;
    assert_eq!(retitled.title, "BIM, second edition");
    let listed = ce_tests::answer(env.engineer("engineers/anyone").list_activities(
        ListActivitiesRequest {
            organiser: free.organiser.clone(),
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(listed.activities, vec![retitled.clone()]);
    let got = ce_tests::answer(
        env.engineer("engineers/anyone")
            .get_activity(GetActivityRequest { name: free.name }),
    )
    .await;
    assert_eq!(got, retitled);
}

both_backends!(a_department_activity_is_free_and_other_rules_name_their_fields);
