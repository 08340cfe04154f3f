//! Employers and institutions: validation, scope, an institution's standing
//! history (Art. 26), a suspension that stops it publishing, and quality
//! grades that arrive late.

use super::*;

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

    // An institution publishes only in the modes and fields it registered
    // (Art. 13), and cannot change them itself.
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

async fn institutions_and_their_standing_history(b: Backend) {
    let env = RegistryEnv::start(b).await;
    let inst = new_institution(&env, "44").await;
    assert_eq!(inst.standing, Standing::Active as i32);
    assert_eq!(inst.disclosure.as_ref().unwrap().fee_items.len(), 1);

    // Public (Art. 15): an engineer anywhere can read it.
    let seen = ce_tests::answer(env.engineer("engineers/anyone").get_institution(
        GetInstitutionRequest {
            name: inst.name.clone(),
        },
    ))
    .await;
    assert_eq!(seen, inst);

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

    // A warning, then a suspension through the service role, idempotent on request_id.
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

    // Who may change standing: not another province, not a regulator of another field, not an employer.
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

both_backends!(
    employers_registered_validated_and_scoped,
    institution_validation_names_every_bad_field,
    institutions_and_their_standing_history,
    a_suspended_institution_cannot_publish_activities_after_it,
    a_stale_quality_grade_does_not_replace_a_newer_one,
);
