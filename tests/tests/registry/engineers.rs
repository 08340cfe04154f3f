//! Engineers: registered, read, listed and moved with one identity; each
//! move listed in order; every bad field named; the scope of each role.

use super::*;

async fn engineer_registered_read_listed_and_moved_keeps_one_identity(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let employer = new_employer(&env, "44").await;
    let created = new_engineer(&env, "44", &employer.name).await;
    assert!(created.name.starts_with("engineers/"));
    assert!(
        !created.name.contains(&created.id_number),
        "names carry no personal data"
    );
    assert_eq!(created.employer, employer.name);

    let got = ce_tests::answer(env.province("44").get_engineer(GetEngineerRequest {
        name: created.name.clone(),
    }))
    .await;
    assert_eq!(got, created);

    // Art. 22: moving to another province keeps the same engineer.
    let moved = ce_tests::answer(env.province("44").update_engineer(UpdateEngineerRequest {
        engineer: Some(Engineer {
            name: created.name.clone(),
            province: "31".into(),
            ..Default::default()
        }),
        update_mask: mask(&["province"]),
    }))
    .await;
    assert_eq!(moved.name, created.name);
    assert_eq!(moved.id_number, created.id_number);
    assert_eq!(moved.province, "31");
    let seen_by_shanghai = ce_tests::answer(
        env.province("31")
            .list_engineers(ListEngineersRequest::default()),
    )
    .await;
    assert_eq!(seen_by_shanghai.engineers.len(), 1);
    let err = ce_tests::refusal(env.province("44").get_engineer(GetEngineerRequest {
        name: created.name.clone(),
    }))
    .await;
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "the old province no longer sees them"
    );

    // Registering the same person again is refused: one identity nationwide.
    let err = ce_tests::refusal(env.province("31").create_engineer(CreateEngineerRequest {
        engineer: Some(Engineer {
            id_number: created.id_number.clone(),
            ..engineer_in("31", "")
        }),
    }))
    .await;
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("Art. 22"), "{}", err.message());
}

/// Art. 22: every change of where an engineer is (province, employer,
/// field) is in the registry's feed of engineer changes, in order, with the
/// place it moved the engineer to; other edits are not; only the ministry
/// and the suite's services read it.
async fn engineer_changes_list_each_move_in_order_with_where_it_led(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let guangzhou = new_employer(&env, "44").await;
    let shanghai = new_employer(&env, "31").await;
    let created = new_engineer(&env, "44", &guangzhou.name).await;
    let edit = |e: Engineer, paths: &[&str]| UpdateEngineerRequest {
        engineer: Some(Engineer {
            name: created.name.clone(),
            ..e
        }),
        update_mask: mask(paths),
    };
    let mut ministry = env.ministry();
    // Registering and renaming move nobody.
    let renamed = ce_tests::answer(ministry.update_engineer(edit(
        Engineer {
            display_name: "李高工".into(),
            ..Default::default()
        },
        &["display_name"],
    )))
    .await;
    assert_eq!((created.place_sequence, renamed.place_sequence), (0, 0));
    let moved = ce_tests::answer(ministry.update_engineer(edit(
        Engineer {
            province: "31".into(),
            employer: shanghai.name.clone(),
            ..Default::default()
        },
        &["province", "employer"],
    )))
    .await;
    let refiled = ce_tests::answer(ministry.update_engineer(edit(
        Engineer {
            field: Field::ElectricPower as i32,
            ..Default::default()
        },
        &["field"],
    )))
    .await;
    let mut service = env.service_role("service/crediting");
    let all =
        ce_tests::answer(service.list_engineer_changes(ListEngineerChangesRequest::default()))
            .await;
    let seen: Vec<(i64, &str, &str, &str, i32)> = all
        .engineer_changes
        .iter()
        .map(|c| {
            (
                c.sequence,
                c.engineer.as_str(),
                c.province.as_str(),
                c.employer.as_str(),
                c.field,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                1,
                created.name.as_str(),
                "31",
                shanghai.name.as_str(),
                created.field
            ),
            (
                2,
                created.name.as_str(),
                "31",
                shanghai.name.as_str(),
                Field::ElectricPower as i32
            ),
        ]
    );
    assert_eq!(all.next_after_sequence, 2);
    assert_eq!(all.engineer_changes[1].change_time, refiled.update_time);
    // The engineer carries the number of its last change, as reads give it too.
    assert_eq!((moved.place_sequence, refiled.place_sequence), (1, 2));
    let read = ce_tests::answer(ministry.get_engineer(GetEngineerRequest {
        name: created.name.clone(),
    }))
    .await;
    assert_eq!(read.place_sequence, 2);
    // A page at a time, from a cursor; an empty page keeps the cursor.
    let first = ce_tests::answer(service.list_engineer_changes(ListEngineerChangesRequest {
        after_sequence: 0,
        page_size: 1,
    }))
    .await;
    assert_eq!(first.engineer_changes, all.engineer_changes[..1]);
    assert_eq!(first.next_after_sequence, 1);
    let rest = ce_tests::answer(service.list_engineer_changes(ListEngineerChangesRequest {
        after_sequence: 2,
        page_size: 10,
    }))
    .await;
    assert!(rest.engineer_changes.is_empty());
    assert_eq!(rest.next_after_sequence, 2);
    let err = ce_tests::refusal(service.list_engineer_changes(ListEngineerChangesRequest {
        after_sequence: -1,
        page_size: -5,
    }))
    .await;
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(fields, ["after_sequence", "page_size"]);
    // The feed spans provinces: a province reads its engineers elsewhere.
    let err = ce_tests::refusal(
        env.province("31")
            .list_engineer_changes(ListEngineerChangesRequest::default()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

async fn engineer_validation_names_every_bad_field(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let mut bad = engineer_in("44", "");
    let mut id = bad.id_number.clone();
    // Change the check character to a wrong one.
    let last = id.pop().unwrap();
    id.push(if last == '0' { '1' } else { '0' });
    bad.id_number = id;
    bad.province = "99".into();
    bad.field = 0;
    bad.display_name = " ".into();
    bad.employer = "companies/1".into();
    let err = ce_tests::refusal(env.ministry().create_engineer(CreateEngineerRequest {
        engineer: Some(bad),
    }))
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "engineer.display_name",
            "engineer.employer",
            "engineer.field",
            "engineer.id_number",
            "engineer.province"
        ]
    );
    let why = bad_field_description(&err, "engineer.id_number").unwrap();
    assert!(why.contains("GB 11643"), "{why}");

    let err = ce_tests::refusal(
        env.ministry()
            .create_engineer(CreateEngineerRequest { engineer: None }),
    )
    .await;
    assert_eq!(bad_fields(&err), vec!["engineer"]);

    // An employer that does not exist.
    let err = ce_tests::refusal(env.ministry().create_engineer(CreateEngineerRequest {
        engineer: Some(engineer_in(
            "44",
            "employers/0190ffff-0000-7000-8000-000000000000",
        )),
    }))
    .await;
    assert_eq!(bad_fields(&err), vec!["engineer.employer"]);

    // The ID number is not mutable.
    let e = new_engineer(&env, "44", "").await;
    let err = ce_tests::refusal(env.ministry().update_engineer(UpdateEngineerRequest {
        engineer: Some(Engineer {
            name: e.name,
            ..Default::default()
        }),
        update_mask: mask(&["id_number"]),
    }))
    .await;
    assert_eq!(bad_fields(&err), vec!["update_mask"]);
}

async fn engineer_scope_follows_each_role(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let acme = new_employer(&env, "44").await;
    let other = new_employer(&env, "44").await;
    let e = new_engineer(&env, "44", &acme.name).await;
    let get = |name: &str| GetEngineerRequest { name: name.into() };

    assert!(env.ministry().get_engineer(get(&e.name)).await.is_ok());
    assert!(env.province("44").get_engineer(get(&e.name)).await.is_ok());
    assert!(
        env.employer(&acme.name)
            .get_engineer(get(&e.name))
            .await
            .is_ok()
    );
    assert!(
        env.engineer(&e.name)
            .get_engineer(get(&e.name))
            .await
            .is_ok()
    );
    assert!(
        env.regulator(Field::Construction, None)
            .get_engineer(get(&e.name))
            .await
            .is_ok()
    );
    assert!(
        env.regulator(Field::Construction, Some("44"))
            .get_engineer(get(&e.name))
            .await
            .is_ok()
    );
    for denied in [
        env.province("11"),
        env.employer(&other.name),
        env.engineer("engineers/someone-else"),
        env.regulator(Field::Mining, None),
        env.regulator(Field::Construction, Some("11")),
        env.institution("institutions/x"),
    ] {
        let mut c = denied;
        assert_eq!(
            ce_tests::refusal(c.get_engineer(get(&e.name))).await.code(),
            Code::PermissionDenied
        );
    }

    // Lists are narrowed to the scope, and asking outside it is refused.
    let mine = ce_tests::answer(
        env.employer(&acme.name)
            .list_engineers(ListEngineersRequest::default()),
    )
    .await;
    assert_eq!(mine.engineers.len(), 1);
    let theirs = ce_tests::answer(
        env.employer(&other.name)
            .list_engineers(ListEngineersRequest::default()),
    )
    .await;
    assert!(theirs.engineers.is_empty());
    let err = ce_tests::refusal(env.province("11").list_engineers(ListEngineersRequest {
        province: "44".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(
        env.institution("institutions/x")
            .list_engineers(ListEngineersRequest::default()),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    // An employer registers its own staff, not another's; a province only its own.
    let mut staff = env.employer(&acme.name);
    assert!(
        staff
            .create_engineer(CreateEngineerRequest {
                engineer: Some(engineer_in("44", &acme.name)),
            })
            .await
            .is_ok()
    );
    let err = ce_tests::refusal(staff.create_engineer(CreateEngineerRequest {
        engineer: Some(engineer_in("44", &other.name)),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(env.province("11").create_engineer(CreateEngineerRequest {
        engineer: Some(engineer_in("44", "")),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = ce_tests::refusal(
        env.engineer(&e.name)
            .update_engineer(UpdateEngineerRequest {
                engineer: Some(Engineer {
                    name: e.name.clone(),
                    display_name: "x".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

both_backends!(
    engineer_registered_read_listed_and_moved_keeps_one_identity,
    engineer_changes_list_each_move_in_order_with_where_it_led,
    engineer_validation_names_every_bad_field,
    engineer_scope_follows_each_role,
);
