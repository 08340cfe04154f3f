//! The registry's table and its calls: engineers, employers, institutions
//! and their standing, activities, reference data.

use super::*;

/// The registry (`docs/product.md`, "Roles and scope"; `services/registry/src/scope.rs`).
pub(super) const REGISTRY: &[Row] = &[
    // Engineers: their province, their field's regulator, their employer, themselves.
    read(
        "GetEngineer",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[BySupervision]),
    read(
        "ListEngineers",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[ByCrediting, BySupervision]),
    read(
        "BatchGetEngineers",
        &[Ministry, Province, Regulator, Employer, Engineer],
    )
    .by(&[ByCrediting]),
    write("CreateEngineer", &[Ministry, Province, Employer]),
    write("UpdateEngineer", &[Ministry, Province, Employer]),
    // Where engineers moved, across provinces: for crediting (Art. 22).
    read("ListEngineerChanges", &[Ministry]).by(&[ByCrediting]),
    // Employers: their province, regulators there, themselves.
    read(
        "GetEmployer",
        &[Ministry, Province, Regulator, OtherFieldRegulator, Employer],
    )
    .by(&[BySupervision]),
    read(
        "ListEmployers",
        &[Ministry, Province, Regulator, OtherFieldRegulator, Employer],
    )
    .by(&[BySupervision]),
    write("CreateEmployer", &[Ministry, Province]),
    write("UpdateEmployer", &[Ministry, Province, Employer]),
    // Institutions: public (Art. 15); changed by their province and themselves.
    read("GetInstitution", SIGNED_IN).by(&[BySupervision, ByQuality]),
    read("ListInstitutions", SIGNED_IN).by(&[BySupervision, ByQuality]),
    write("CreateInstitution", &[Ministry, Province]),
    write("UpdateInstitution", &[Ministry, Province, Institution]),
    // Standing (Art. 16, 26): the province, a regulator of a field it
    // serves, and the supervision service.
    write(
        "ChangeInstitutionStanding",
        &[Ministry, Province, Regulator],
    )
    .by(&[BySupervision]),
    read("ListStandingChanges", SIGNED_IN).by(&[ByCrediting]),
    // Quality grades come from the quality-monitoring service (Art. 25);
    // the ministry may record one by hand.
    write("RecordQualityGrade", &[Ministry]).by(&[ByQuality]),
    // Activities: public; published by institutions and departments in
    // their scope, changed by their organiser.
    read("GetActivity", SIGNED_IN).by(&[ByCrediting]),
    read("BatchGetActivities", SIGNED_IN).by(&[ByCrediting]),
    read("ListActivities", SIGNED_IN),
    write(
        "CreateActivity",
        &[Ministry, Province, Regulator, Institution, OtherInstitution],
    ),
    write("UpdateActivity", &[Ministry, Institution]),
    // Reference data.
    read("ListFields", SIGNED_IN),
    read("ListProvinces", SIGNED_IN),
];

async fn call_registry(
    rpc: &str,
    c: &mut RegistryServiceClient<Channel>,
    w: &World,
    who: Who,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    match rpc {
        "GetEngineer" => outcome(
            c.get_engineer(request(
                GetEngineerRequest {
                    name: w.engineer.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListEngineers" => outcome(
            c.list_engineers(request(
                ListEngineersRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.engineers.iter().any(|e| e.name == w.engineer),
        ),
        "BatchGetEngineers" => outcome(
            c.batch_get_engineers(request(
                BatchGetEngineersRequest {
                    names: vec![w.engineer.clone()],
                },
                token,
                id,
            ))
            .await,
            |r| r.engineers.iter().any(|e| e.name == w.engineer),
        ),
        "ListEngineerChanges" => outcome(
            c.list_engineer_changes(request(
                ListEngineerChangesRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "CreateEngineer" => outcome(
            c.create_engineer(request(new_engineer(&w.employer), token, id))
                .await,
            |_| true,
        ),
        "UpdateEngineer" => outcome(
            c.update_engineer(request(
                UpdateEngineerRequest {
                    engineer: Some(reg::Engineer {
                        name: w.engineer.clone(),
                        display_name: format!("林工 {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetEmployer" => outcome(
            c.get_employer(request(
                GetEmployerRequest {
                    name: w.employer.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListEmployers" => outcome(
            c.list_employers(request(
                ListEmployersRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.employers.iter().any(|e| e.name == w.employer),
        ),
        "CreateEmployer" => outcome(
            c.create_employer(request(
                CreateEmployerRequest {
                    employer: Some(company(&format!("New Co {n}"))),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "UpdateEmployer" => outcome(
            c.update_employer(request(
                UpdateEmployerRequest {
                    employer: Some(reg::Employer {
                        name: w.employer.clone(),
                        display_name: format!("Pearl River Build {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetInstitution" => outcome(
            c.get_institution(request(
                GetInstitutionRequest {
                    name: w.institution.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListInstitutions" => outcome(
            c.list_institutions(request(
                ListInstitutionsRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.institutions.iter().any(|i| i.name == w.institution),
        ),
        "CreateInstitution" => outcome(
            c.create_institution(request(
                CreateInstitutionRequest {
                    institution: Some(academy(&format!("New Academy {n}"))),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "UpdateInstitution" => outcome(
            c.update_institution(request(
                UpdateInstitutionRequest {
                    institution: Some(reg::Institution {
                        name: w.institution.clone(),
                        display_name: format!("Build Academy {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ChangeInstitutionStanding" => outcome(
            c.change_institution_standing(request(
                ChangeInstitutionStandingRequest {
                    name: w.institution.clone(),
                    standing: Standing::Warned as i32,
                    reason: "Late disclosure (Art. 15)".into(),
                    effective_date: date(2026, 11, 2),
                    article: "Art. 26".into(),
                    case_reference: format!("case-{n}"),
                    request_id: format!("access-{n}"),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListStandingChanges" => outcome(
            c.list_standing_changes(request(
                ListStandingChangesRequest {
                    parent: w.institution.clone(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "RecordQualityGrade" => outcome(
            c.record_quality_grade(request(
                RecordQualityGradeRequest {
                    name: w.institution.clone(),
                    period: "2026".into(),
                    // A grade of its own for each caller: re-recording the
                    // grade in force is an idempotent retry, which changes
                    // (and audits) nothing.
                    grade: format!("{:?}", who).chars().take(8).collect(),
                    model_version: "national-2026.2".into(),
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "GetActivity" => outcome(
            c.get_activity(request(
                GetActivityRequest {
                    name: w.activity.clone(),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "BatchGetActivities" => outcome(
            c.batch_get_activities(request(
                BatchGetActivitiesRequest {
                    names: vec![w.activity.clone()],
                },
                token,
                id,
            ))
            .await,
            |r| r.activities.iter().any(|a| a.name == w.activity),
        ),
        "ListActivities" => outcome(
            c.list_activities(request(
                ListActivitiesRequest {
                    province: "44".into(),
                    page_size: 1000,
                    ..Default::default()
                },
                token,
                id,
            ))
            .await,
            |r| r.activities.iter().any(|a| a.name == w.activity),
        ),
        "CreateActivity" => outcome(
            c.create_activity(request(new_activity(), token, id)).await,
            |_| true,
        ),
        "UpdateActivity" => outcome(
            c.update_activity(request(
                UpdateActivityRequest {
                    activity: Some(reg::Activity {
                        name: w.activity.clone(),
                        title: format!("Bridge inspection {n}"),
                        ..Default::default()
                    }),
                    update_mask: mask(&["title"]),
                },
                token,
                id,
            ))
            .await,
            |_| true,
        ),
        "ListFields" => outcome(
            c.list_fields(request(ListFieldsRequest {}, token, id))
                .await,
            |_| true,
        ),
        "ListProvinces" => outcome(
            c.list_provinces(request(ListProvincesRequest {}, token, id))
                .await,
            |_| true,
        ),
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn the_registry_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(REGISTRY, "ce.registry.v1.RegistryService");
    let env = RegistryEnv::start(b).await;
    let w = world(&env).await;
    let mut client = RegistryServiceClient::new(env.channel.clone());
    let mut found = Findings::new("registry", ::registry::migrations);
    for row in REGISTRY {
        for &who in ALL {
            let token = token_of(&env, &w, who);
            let id = Findings::request_id(row.rpc, who);
            let got = call_registry(row.rpc, &mut client, &w, who, &token, &id).await;
            found.note(&env.place, row, who, got, &id);
        }
    }
    found.assert_clean();
}

both_backends!(the_registry_admits_exactly_whom_its_table_names);
