//! The registry end to end: every RPC over real gRPC, on SQLite and
//! PostgreSQL, with its validation errors and the scope of each role.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ce_proto::common::{DeliveryMode, Field, SubjectCategory};
use ce_proto::google::r#type::Date;
use ce_proto::registry::*;
use ce_tests::{
    Backend, RegistryEnv, bad_field_description, bad_fields, both_backends, credit_code,
    resident_id,
};
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

async fn new_employer(env: &RegistryEnv, province: &str) -> Employer {
    ce_tests::answer(
        env.province(province)
            .create_employer(CreateEmployerRequest {
                employer: Some(Employer {
                    credit_code: credit_code(province),
                    display_name: "Guangzhou Metro Design Institute".into(),
                    kind: EmployerKind::Enterprise as i32,
                    province: province.into(),
                    ..Default::default()
                }),
            }),
    )
    .await
}

fn engineer_in(province: &str, employer: &str) -> Engineer {
    Engineer {
        id_number: resident_id(province),
        display_name: "李工".into(),
        province: province.into(),
        field: Field::Construction as i32,
        title_level: TitleLevel::Engineer as i32,
        employer: employer.into(),
        ..Default::default()
    }
}

async fn new_engineer(env: &RegistryEnv, province: &str, employer: &str) -> Engineer {
    ce_tests::answer(
        env.province(province)
            .create_engineer(CreateEngineerRequest {
                engineer: Some(engineer_in(province, employer)),
            }),
    )
    .await
}

async fn new_institution(env: &RegistryEnv, province: &str) -> Institution {
    ce_tests::answer(
        env.province(province)
            .create_institution(CreateInstitutionRequest {
                institution: Some(Institution {
                    code: credit_code(province),
                    display_name: "South China Engineering Academy".into(),
                    province: province.into(),
                    fields: vec![Field::Construction as i32, Field::ElectricPower as i32],
                    delivery_modes: vec![
                        DeliveryMode::FaceToFace as i32,
                        DeliveryMode::Online as i32,
                    ],
                    disclosure: Some(Disclosure {
                        scope: "Construction and power engineers".into(),
                        content: "Structural design, grid safety".into(),
                        fee_items: vec![FeeItem {
                            item: "Tuition per day".into(),
                            amount_fen: 30_000,
                        }],
                    }),
                    ..Default::default()
                }),
            }),
    )
    .await
}

fn course(start: Option<Date>, end: Option<Date>, fee_fen: i64) -> Activity {
    Activity {
        title: "BIM for structural engineers".into(),
        province: "44".into(),
        field: Field::Construction as i32,
        subject_category: SubjectCategory::Professional as i32,
        delivery_mode: DeliveryMode::FaceToFace as i32,
        start_date: start,
        end_date: end,
        hours_per_day: 8.0,
        fee_fen,
        ..Default::default()
    }
}

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
    the_feed_pages_from_a_cursor(&mut service, &all).await;
    the_feed_spans_provinces(&env).await;
}

/// A page at a time, from a cursor; an empty page keeps the cursor.
async fn the_feed_pages_from_a_cursor(
    service: &mut ce_tests::Registry,
    all: &ListEngineerChangesResponse,
) {
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
}

/// The feed spans provinces: a province reads its engineers elsewhere.
async fn the_feed_spans_provinces(env: &RegistryEnv) {
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

    registers_and_edits_only_within_its_scope(&env, &acme, &other, &e).await;
}

/// Each registers and edits only within its scope (employer, province, engineer).
async fn registers_and_edits_only_within_its_scope(
    env: &RegistryEnv,
    acme: &Employer,
    other: &Employer,
    e: &Engineer,
) {
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

async fn batch_get_returns_what_exists_lists_the_rest_and_refuses_out_of_scope(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let gd = new_engineer(&env, "44", "").await;
    let bj = new_engineer(&env, "11", "").await;
    let ghost = "engineers/0190ffff-0000-7000-8000-000000000000".to_owned();
    let names = vec![bj.name.clone(), ghost.clone(), gd.name.clone()];
    let all = ce_tests::answer(env.service_role("service/crediting").batch_get_engineers(
        BatchGetEngineersRequest {
            names: names.clone(),
        },
    ))
    .await;
    assert_eq!(all.engineers, vec![bj.clone(), gd.clone()]);
    assert_eq!(all.missing, vec![ghost.clone()]);
    // Outside the scope is refused, as GetEngineer refuses it, naming it.
    let err = ce_tests::refusal(
        env.province("44")
            .batch_get_engineers(BatchGetEngineersRequest { names }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let info = tonic_types::StatusExt::get_error_details(&err)
        .error_info()
        .cloned()
        .unwrap();
    assert_eq!(info.reason, "OUT_OF_SCOPE");
    assert_eq!(info.metadata.get("resource"), Some(&bj.name));
    let guangdong = ce_tests::answer(env.province("44").batch_get_engineers(
        BatchGetEngineersRequest {
            names: vec![ghost.clone(), gd.name.clone()],
        },
    ))
    .await;
    assert_eq!(guangdong.engineers, vec![gd]);
    assert_eq!(guangdong.missing, vec![ghost]);
    let err = ce_tests::refusal(
        env.ministry()
            .batch_get_engineers(BatchGetEngineersRequest {
                names: vec!["employers/1".into()],
            }),
    )
    .await;
    assert_eq!(bad_fields(&err), vec!["names[0]"]);
}

/// AIP-231 for activities: what a bulk upload checks its records against,
/// in one call. Found ones in the order asked, the rest listed as missing,
/// a malformed name refused naming its index.
async fn batch_get_activities_returns_those_that_exist_and_lists_the_rest(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let inst = new_institution(&env, "44").await;
    let mut as_inst = env.institution(&inst.name);
    let mut made = Vec::new();
    for day in [2, 9] {
        made.push(
            ce_tests::answer(as_inst.create_activity(CreateActivityRequest {
                activity: Some(course(date(2026, 3, day), date(2026, 3, day + 2), 0)),
            }))
            .await,
        );
    }
    let ghost = "activities/0190ffff-0000-7000-8000-000000000000".to_owned();
    let got = ce_tests::answer(env.service_role("service/crediting").batch_get_activities(
        BatchGetActivitiesRequest {
            names: vec![made[1].name.clone(), ghost.clone(), made[0].name.clone()],
        },
    ))
    .await;
    assert_eq!(got.activities, vec![made[1].clone(), made[0].clone()]);
    assert_eq!(got.missing, vec![ghost]);
    let err = ce_tests::refusal(
        env.ministry()
            .batch_get_activities(BatchGetActivitiesRequest {
                names: vec![made[0].name.clone(), "engineers/1".into()],
            }),
    )
    .await;
    assert_eq!(bad_fields(&err), vec!["names[1]"]);
    let err = env
        .ministry()
        .batch_get_activities(BatchGetActivitiesRequest {
            names: vec![made[0].name.clone(); 1001],
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), vec!["names"]);
}

async fn lists_page_through_every_row_once(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(new_engineer(&env, "44", "").await.name);
    }
    new_engineer(&env, "11", "").await;
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = ce_tests::answer(env.ministry().list_engineers(ListEngineersRequest {
            page_size: 3,
            page_token: token.clone(),
            province: "44".into(),
            ..Default::default()
        }))
        .await;
        pages += 1;
        seen.extend(page.engineers.into_iter().map(|e| e.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every row once, in registration order");

    // A token from one filter does not fit another.
    let first = ce_tests::answer(env.ministry().list_engineers(ListEngineersRequest {
        page_size: 3,
        province: "44".into(),
        ..Default::default()
    }))
    .await;
    let err = ce_tests::refusal(env.ministry().list_engineers(ListEngineersRequest {
        page_size: 3,
        page_token: first.next_page_token,
        province: "11".into(),
        ..Default::default()
    }))
    .await;
    assert_eq!(bad_fields(&err), vec!["page_token"]);
}

async fn employers_registered_validated_and_scoped(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let e = new_employer(&env, "44").await;
    let err = ce_tests::refusal(env.province("44").create_employer(CreateEmployerRequest {
        employer: Some(Employer {
            credit_code: e.credit_code.clone(),
            display_name: "Copy".into(),
            kind: EmployerKind::Enterprise as i32,
            province: "44".into(),
            ..Default::default()
        }),
    }))
    .await;
    assert_eq!(err.code(), Code::AlreadyExists);

    let mut code = e.credit_code.clone();
    let last = code.pop().unwrap();
    code.push(if last == '0' { '1' } else { '0' });
    let err = ce_tests::refusal(env.ministry().create_employer(CreateEmployerRequest {
        employer: Some(Employer {
            credit_code: code,
            display_name: "".into(),
            kind: 0,
            province: "44".into(),
            ..Default::default()
        }),
    }))
    .await;
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "employer.credit_code",
            "employer.display_name",
            "employer.kind"
        ]
    );
    assert!(
        bad_field_description(&err, "employer.credit_code")
            .unwrap()
            .contains("GB 32100")
    );
    assert!(
        bad_field_description(&err, "employer.kind")
            .unwrap()
            .contains("Art. 2")
    );

    // The employer renames itself; another province may not touch it.
    let renamed = ce_tests::answer(
        env.employer(&e.name)
            .update_employer(UpdateEmployerRequest {
                employer: Some(Employer {
                    name: e.name.clone(),
                    display_name: "Guangzhou Metro Design & Research Institute".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
            }),
    )
    .await;
    assert_eq!(
        renamed.display_name,
        "Guangzhou Metro Design & Research Institute"
    );
    assert_eq!(renamed.credit_code, e.credit_code);
    let err = ce_tests::refusal(env.province("11").get_employer(GetEmployerRequest {
        name: e.name.clone(),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let listed = ce_tests::answer(env.province("44").list_employers(ListEmployersRequest {
        kind: EmployerKind::Enterprise as i32,
        ..Default::default()
    }))
    .await;
    assert_eq!(listed.employers, vec![renamed.clone()]);
    let own = ce_tests::answer(
        env.employer(&e.name)
            .list_employers(ListEmployersRequest::default()),
    )
    .await;
    assert_eq!(own.employers.len(), 1);
}

async fn institution_validation_names_every_bad_field(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let err = ce_tests::refusal(
        env.province("44")
            .create_institution(CreateInstitutionRequest {
                institution: Some(Institution {
                    code: "not-a-code".into(),
                    display_name: "Academy".into(),
                    province: "44".into(),
                    fields: vec![],
                    delivery_modes: vec![DeliveryMode::Online as i32, 9],
                    disclosure: Some(Disclosure {
                        scope: String::new(),
                        content: String::new(),
                        fee_items: vec![FeeItem {
                            item: String::new(),
                            amount_fen: -1,
                        }],
                    }),
                    ..Default::default()
                }),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "institution.code",
            "institution.delivery_modes[1]",
            "institution.disclosure.fee_items[0].amount_fen",
            "institution.disclosure.fee_items[0].item",
            "institution.fields",
        ]
    );
    assert!(
        bad_field_description(&err, "institution.disclosure.fee_items[0].amount_fen")
            .unwrap()
            .contains("Art. 15")
    );

    // Registered twice, or by another province: refused.
    let inst = new_institution(&env, "44").await;
    let err = ce_tests::refusal(
        env.province("44")
            .create_institution(CreateInstitutionRequest {
                institution: Some(Institution {
                    name: String::new(),
                    ..inst.clone()
                }),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = ce_tests::refusal(
        env.province("11")
            .create_institution(CreateInstitutionRequest {
                institution: Some(Institution {
                    code: credit_code("44"),
                    ..inst.clone()
                }),
            }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);

    publishes_only_in_its_registered_modes_and_fields(&env, &inst).await;

    let missing = ce_tests::refusal(env.ministry().get_institution(GetInstitutionRequest {
        name: "institutions/0190ffff-0000-7000-8000-000000000000".into(),
    }))
    .await;
    assert_eq!(missing.code(), Code::NotFound);
    let malformed = ce_tests::refusal(env.ministry().get_institution(GetInstitutionRequest {
        name: "engineers/1".into(),
    }))
    .await;
    assert_eq!(bad_fields(&malformed), vec!["name"]);
}

/// Art. 13: it publishes only in the modes and fields it registered, and cannot change them itself.
async fn publishes_only_in_its_registered_modes_and_fields(env: &RegistryEnv, inst: &Institution) {
    let err = ce_tests::refusal(env.institution(&inst.name).update_institution(
        UpdateInstitutionRequest {
            institution: Some(Institution {
                name: inst.name.clone(),
                fields: vec![Field::Mining as i32],
                ..Default::default()
            }),
            update_mask: mask(&["fields"]),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    ce_tests::answer(
        env.province("44")
            .update_institution(UpdateInstitutionRequest {
                institution: Some(Institution {
                    name: inst.name.clone(),
                    delivery_modes: vec![DeliveryMode::Online as i32],
                    ..Default::default()
                }),
                update_mask: mask(&["delivery_modes"]),
            }),
    )
    .await;
    let mut mining = course(date(2026, 5, 1), date(2026, 5, 1), 0);
    mining.field = Field::Mining as i32;
    let err = ce_tests::refusal(env.institution(&inst.name).create_activity(
        CreateActivityRequest {
            activity: Some(mining),
        },
    ))
    .await;
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(fields, vec!["activity.delivery_mode", "activity.field"]);
    assert!(
        bad_field_description(&err, "activity.delivery_mode")
            .unwrap()
            .contains("Art. 13")
    );
}

async fn institutions_and_their_standing_history(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let inst = new_institution(&env, "44").await;
    assert_eq!(inst.standing, Standing::Active as i32);
    assert_eq!(inst.disclosure.as_ref().unwrap().fee_items.len(), 1);

    read_by_anyone_and_disclosed_by_itself(&env, &inst).await;
    let warn = warned_then_suspended(&env, &inst).await;
    the_history_records_each_standing_once(&env, &inst).await;
    // Filter by standing and by field.
    let suspended_list =
        ce_tests::answer(env.ministry().list_institutions(ListInstitutionsRequest {
            standing: Standing::Suspended as i32,
            ..Default::default()
        }))
        .await;
    assert_eq!(suspended_list.institutions.len(), 1);
    let mining = ce_tests::answer(env.ministry().list_institutions(ListInstitutionsRequest {
        field: Field::Mining as i32,
        ..Default::default()
    }))
    .await;
    assert!(mining.institutions.is_empty());

    only_those_over_it_change_its_standing(&env, &warn).await;

    // Bad requests name their fields.
    let err = ce_tests::refusal(env.ministry().change_institution_standing(
        ChangeInstitutionStandingRequest {
            name: inst.name.clone(),
            ..Default::default()
        },
    ))
    .await;
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        vec!["article", "effective_date", "reason", "standing"]
    );
}

/// Art. 15: an engineer anywhere reads it; only the institution updates its disclosure.
async fn read_by_anyone_and_disclosed_by_itself(env: &RegistryEnv, inst: &Institution) {
    // Public (Art. 15): an engineer anywhere can read it.
    let seen = ce_tests::answer(env.engineer("engineers/anyone").get_institution(
        GetInstitutionRequest {
            name: inst.name.clone(),
        },
    ))
    .await;
    assert_eq!(&seen, inst);

    // The institution updates its own disclosure.
    let updated = ce_tests::answer(env.institution(&inst.name).update_institution(
        UpdateInstitutionRequest {
            institution: Some(Institution {
                name: inst.name.clone(),
                disclosure: Some(Disclosure {
                    scope: "Construction".into(),
                    content: "BIM".into(),
                    fee_items: vec![],
                }),
                ..Default::default()
            }),
            update_mask: mask(&["disclosure"]),
        },
    ))
    .await;
    assert_eq!(updated.disclosure.unwrap().content, "BIM");
    let err = ce_tests::refusal(env.institution("institutions/other").update_institution(
        UpdateInstitutionRequest {
            institution: Some(Institution {
                name: inst.name.clone(),
                display_name: "Hijacked".into(),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        },
    ))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
}

/// A warning, then a suspension through the service role, idempotent on request_id.
async fn warned_then_suspended(
    env: &RegistryEnv,
    inst: &Institution,
) -> ChangeInstitutionStandingRequest {
    let warn = ChangeInstitutionStandingRequest {
        name: inst.name.clone(),
        standing: Standing::Warned as i32,
        reason: "Fee items not published".into(),
        effective_date: date(2026, 2, 1),
        article: "Art. 26".into(),
        case_reference: "GD-2026-001".into(),
        request_id: "case-1-warning".into(),
    };
    let warned =
        ce_tests::answer(env.province("44").change_institution_standing(warn.clone())).await;
    assert_eq!(warned.standing, Standing::Warned as i32);
    assert_eq!(warned.standing_effective_date, date(2026, 2, 1));
    ce_tests::answer(env.province("44").change_institution_standing(warn.clone())).await;
    let err = ce_tests::refusal(env.province("44").change_institution_standing(
        ChangeInstitutionStandingRequest {
            reason: "Something else".into(),
            ..warn.clone()
        },
    ))
    .await;
    assert_eq!(err.code(), Code::AlreadyExists);

    let suspended = ce_tests::answer(
        env.service_role("service/supervision")
            .change_institution_standing(ChangeInstitutionStandingRequest {
                name: inst.name.clone(),
                standing: Standing::Suspended as i32,
                reason: "Hours issued without training".into(),
                effective_date: date(2026, 3, 1),
                article: "Art. 26".into(),
                case_reference: "GD-2026-002".into(),
                request_id: "case-2".into(),
            }),
    )
    .await;
    assert_eq!(suspended.standing, Standing::Suspended as i32);
    warn
}

/// Anyone reads the standing history, the retried warning in it once.
async fn the_history_records_each_standing_once(env: &RegistryEnv, inst: &Institution) {
    let history = ce_tests::answer(env.engineer("engineers/anyone").list_standing_changes(
        ListStandingChangesRequest {
            parent: inst.name.clone(),
            ..Default::default()
        },
    ))
    .await;
    let standings: Vec<i32> = history
        .standing_changes
        .iter()
        .map(|c| c.standing)
        .collect();
    assert_eq!(
        standings,
        vec![
            Standing::Active as i32,
            Standing::Warned as i32,
            Standing::Suspended as i32
        ],
        "the retried warning was recorded once"
    );
    assert_eq!(history.standing_changes[2].article, "Art. 26");
    assert_eq!(
        history.standing_changes[2].changed_by,
        "service/supervision"
    );
}

/// Who may change standing: not another province, not a regulator of another field, not an employer.
async fn only_those_over_it_change_its_standing(
    env: &RegistryEnv,
    warn: &ChangeInstitutionStandingRequest,
) {
    for (mut who, name) in [
        (env.province("11"), "other province"),
        (env.regulator(Field::Mining, None), "other field"),
        (env.employer("employers/x"), "employer"),
    ] {
        let err = ce_tests::refusal(who.change_institution_standing(
            ChangeInstitutionStandingRequest {
                request_id: String::new(),
                ..warn.clone()
            },
        ))
        .await;
        assert_eq!(err.code(), Code::PermissionDenied, "{name}");
    }
    let ok = env
        .regulator(Field::ElectricPower, Some("44"))
        .change_institution_standing(ChangeInstitutionStandingRequest {
            request_id: String::new(),
            standing: Standing::RectificationOrdered as i32,
            effective_date: date(2026, 3, 1),
            ..warn.clone()
        })
        .await;
    assert!(
        ok.is_ok(),
        "a regulator of a field the institution serves may act"
    );
}

async fn a_suspended_institution_cannot_publish_activities_after_it(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let inst = new_institution(&env, "44").await;
    let mut as_inst = env.institution(&inst.name);
    let before = ce_tests::answer(as_inst.create_activity(CreateActivityRequest {
        activity: Some(course(date(2026, 3, 2), date(2026, 3, 4), 90_000)),
    }))
    .await;
    assert_eq!(before.organiser, inst.name);
    assert_eq!(before.organiser_kind, OrganiserKind::Institution as i32);

    ce_tests::answer(env.province("44").change_institution_standing(
        ChangeInstitutionStandingRequest {
            name: inst.name.clone(),
            standing: Standing::Suspended as i32,
            reason: "Tourism under the name of CE".into(),
            effective_date: date(2026, 4, 1),
            article: "Art. 16".into(),
            ..Default::default()
        },
    ))
    .await;

    // Dated before the suspension: still allowed.
    assert!(
        as_inst
            .create_activity(CreateActivityRequest {
                activity: Some(course(date(2026, 3, 20), date(2026, 3, 22), 0)),
            })
            .await
            .is_ok()
    );
    // Running into it, or after it: refused with the article.
    for (s, e) in [
        (date(2026, 3, 30), date(2026, 4, 2)),
        (date(2026, 5, 1), date(2026, 5, 1)),
    ] {
        let err = ce_tests::refusal(as_inst.create_activity(CreateActivityRequest {
            activity: Some(course(s, e, 0)),
        }))
        .await;
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(
            err.message().contains("Art. 26") && err.message().contains("suspended"),
            "{}",
            err.message()
        );
    }
    // Moving an existing activity past the date is refused too.
    let err = ce_tests::refusal(as_inst.update_activity(UpdateActivityRequest {
        activity: Some(Activity {
            name: before.name.clone(),
            start_date: date(2026, 4, 5),
            end_date: date(2026, 4, 6),
            ..Default::default()
        }),
        update_mask: mask(&["start_date", "end_date"]),
    }))
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition);

    // Lifted: publishing works again from the date it was lifted.
    ce_tests::answer(env.province("44").change_institution_standing(
        ChangeInstitutionStandingRequest {
            name: inst.name.clone(),
            standing: Standing::Active as i32,
            reason: "Rectified".into(),
            effective_date: date(2026, 6, 1),
            article: "Art. 26".into(),
            ..Default::default()
        },
    ))
    .await;
    assert!(
        as_inst
            .create_activity(CreateActivityRequest {
                activity: Some(course(date(2026, 6, 1), date(2026, 6, 2), 0)),
            })
            .await
            .is_ok()
    );
}

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

/// The quality service's outbox may deliver an old grade after a newer one:
/// of one period's grades the later computed stays, whatever the order.
async fn a_stale_quality_grade_does_not_replace_a_newer_one(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let inst = new_institution(&env, "44").await.name;
    let mut quality = env.service_role("service/quality");
    let grade = |period: &str, grade: &str, computed: i64| RecordQualityGradeRequest {
        name: inst.clone(),
        period: period.into(),
        grade: grade.into(),
        model_version: "national-2026.2".into(),
        compute_time: Some(prost_types::Timestamp {
            seconds: computed,
            nanos: 0,
        }),
    };
    let recorded = |i: Institution| (i.quality_period, i.quality_grade);
    let mut record = async |r: RecordQualityGradeRequest| {
        recorded(quality.record_quality_grade(r).await.unwrap().into_inner())
    };
    let b2026 = ("2026".to_owned(), "B".to_owned());
    assert_eq!(record(grade("2026", "B", 2_000)).await, b2026);
    // Computed before B, delivered after it: ignored, however often retried.
    for _ in 0..2 {
        assert_eq!(record(grade("2026", "D", 1_000)).await, b2026);
    }
    assert_eq!(record(grade("2026", "B", 2_000)).await, b2026);
    // Computed after: replaces it.
    let c2026 = ("2026".to_owned(), "C".to_owned());
    assert_eq!(record(grade("2026", "C", 3_000)).await, c2026);
    // An earlier period, however recent its computation, changes nothing.
    assert_eq!(record(grade("2025", "A", 9_000)).await, c2026);
    let read = ce_tests::answer(
        env.province("44")
            .get_institution(GetInstitutionRequest { name: inst.clone() }),
    )
    .await;
    assert_eq!(recorded(read), c2026);
}

async fn reference_lists_are_served(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let fields = ce_tests::answer(
        env.engineer("engineers/x")
            .list_fields(ListFieldsRequest {}),
    )
    .await;
    assert_eq!(fields.fields.len(), 42);
    assert_eq!(fields.fields[17].name_zh, "建筑");
    let provinces = ce_tests::answer(
        env.engineer("engineers/x")
            .list_provinces(ListProvincesRequest {}),
    )
    .await;
    assert_eq!(provinces.provinces.len(), 32);
    assert!(
        provinces
            .provinces
            .iter()
            .any(|p| p.code == "66" && p.name_zh == "新疆生产建设兵团")
    );
}

async fn data_survives_a_restart(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let employer = new_employer(&env, "44").await;
    let engineer = new_engineer(&env, "44", &employer.name).await;
    let env = env.restart().await;
    let got = ce_tests::answer(env.ministry().get_engineer(GetEngineerRequest {
        name: engineer.name.clone(),
    }))
    .await;
    assert_eq!(got, engineer);
}

async fn mutations_and_refusals_are_audited(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let employer = new_employer(&env, "44").await;
    let rows = env.audit_rows(&employer.name);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].rpc, "CreateEmployer");
    assert_eq!(rows[0].role, "provincial_hrss");
    assert_eq!(rows[0].province.as_deref(), Some("44"));
    assert_eq!(rows[0].outcome, "OK");
    assert!(!rows[0].request_id.is_empty());

    let err = ce_tests::refusal(env.province("11").update_employer(UpdateEmployerRequest {
        employer: Some(Employer {
            name: employer.name.clone(),
            display_name: "x".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
    }))
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let rows = env.audit_rows(&employer.name);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].outcome, "PERMISSION_DENIED");
    assert_eq!(rows[1].rpc, "UpdateEmployer");

    // The log is append-only at the database.
    let db = ce_db::Db::connect(
        &env.place.config("registry").database.url,
        1,
        registry::migrations(),
    )
    .unwrap();
    let mut conn = db.connection().unwrap();
    use diesel::RunQueryDsl;
    let tampered = diesel::sql_query("UPDATE audit_log SET outcome = 'OK'").execute(&mut *conn);
    assert!(tampered.is_err(), "audit rows cannot be updated");
    let deleted = diesel::sql_query("DELETE FROM audit_log").execute(&mut *conn);
    assert!(deleted.is_err(), "audit rows cannot be deleted");
    assert_eq!(env.audit_rows(&employer.name).len(), 2);
}

both_backends!(
    a_stale_quality_grade_does_not_replace_a_newer_one,
    batch_get_activities_returns_those_that_exist_and_lists_the_rest,
    engineer_registered_read_listed_and_moved_keeps_one_identity,
    engineer_changes_list_each_move_in_order_with_where_it_led,
    engineer_validation_names_every_bad_field,
    engineer_scope_follows_each_role,
    lists_page_through_every_row_once,
    batch_get_returns_what_exists_lists_the_rest_and_refuses_out_of_scope,
    employers_registered_validated_and_scoped,
    institution_validation_names_every_bad_field,
    institutions_and_their_standing_history,
    a_suspended_institution_cannot_publish_activities_after_it,
    a_department_activity_is_free_and_other_rules_name_their_fields,
    reference_lists_are_served,
    data_survives_a_restart,
    mutations_and_refusals_are_audited,
);
