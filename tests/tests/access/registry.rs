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
    read("ListEngineerChanges", &[Ministry]).by(&[ByCrediting, ByNational]),
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
    read("ListStandingChanges", SIGNED_IN).by(&[ByCrediting, ByNational]),
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
    calls!(rpc, c, token, id;
        "GetEngineer" => get_engineer(GetEngineerRequest { name: w.engineer.clone() });
        "ListEngineers" => list_engineers(ListEngineersRequest {
            province: "44".into(), page_size: 1000, ..Default::default()
        }) shown |r| r.engineers.iter().any(|e| e.name == w.engineer);
        "BatchGetEngineers" => batch_get_engineers(BatchGetEngineersRequest {
            names: vec![w.engineer.clone()],
        }) shown |r| r.engineers.iter().any(|e| e.name == w.engineer);
        "ListEngineerChanges" => list_engineer_changes(ListEngineerChangesRequest {
            page_size: 1000,
            ..Default::default()
        });
        "CreateEngineer" => create_engineer(new_engineer(&w.employer));
        "UpdateEngineer" => update_engineer(UpdateEngineerRequest {
            engineer: Some(reg::Engineer {
                name: w.engineer.clone(),
                display_name: format!("林工 {n}"),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        });
        "GetEmployer" => get_employer(GetEmployerRequest { name: w.employer.clone() });
        "ListEmployers" => list_employers(ListEmployersRequest {
            province: "44".into(), page_size: 1000, ..Default::default()
        }) shown |r| r.employers.iter().any(|e| e.name == w.employer);
        "CreateEmployer" => create_employer(CreateEmployerRequest {
            employer: Some(company(&format!("New Co {n}"))),
        });
        "UpdateEmployer" => update_employer(UpdateEmployerRequest {
            employer: Some(reg::Employer {
                name: w.employer.clone(),
                display_name: format!("Pearl River Build {n}"),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        });
        "GetInstitution" => get_institution(GetInstitutionRequest { name: w.institution.clone() });
        "ListInstitutions" => list_institutions(ListInstitutionsRequest {
            province: "44".into(), page_size: 1000, ..Default::default()
        }) shown |r| r.institutions.iter().any(|i| i.name == w.institution);
        "CreateInstitution" => create_institution(CreateInstitutionRequest {
            institution: Some(academy(&format!("New Academy {n}"))),
        });
        "UpdateInstitution" => update_institution(UpdateInstitutionRequest {
            institution: Some(reg::Institution {
                name: w.institution.clone(),
                display_name: format!("Build Academy {n}"),
                ..Default::default()
            }),
            update_mask: mask(&["display_name"]),
        });
        "ChangeInstitutionStanding" => change_institution_standing(
            ChangeInstitutionStandingRequest {
                name: w.institution.clone(),
                standing: Standing::Warned as i32,
                reason: "Late disclosure (Art. 15)".into(),
                effective_date: date(2026, 11, 2),
                article: "Art. 26".into(),
                case_reference: format!("case-{n}"),
                request_id: format!("access-{n}"),
            }
        );
        "ListStandingChanges" => list_standing_changes(ListStandingChangesRequest {
            parent: w.institution.clone(),
            ..Default::default()
        });
        "RecordQualityGrade" => record_quality_grade(RecordQualityGradeRequest {
            name: w.institution.clone(),
            period: "2026".into(),
            // A grade of its own for each caller: re-recording the grade
            // in force is an idempotent retry, which changes (and audits)
            // nothing.
            grade: format!("{:?}", who).chars().take(8).collect(),
            model_version: "national-2026.2".into(),
            ..Default::default()
        });
        "GetActivity" => get_activity(GetActivityRequest { name: w.activity.clone() });
        "BatchGetActivities" => batch_get_activities(BatchGetActivitiesRequest {
            names: vec![w.activity.clone()],
        }) shown |r| r.activities.iter().any(|a| a.name == w.activity);
        "ListActivities" => list_activities(ListActivitiesRequest {
            province: "44".into(), page_size: 1000, ..Default::default()
        }) shown |r| r.activities.iter().any(|a| a.name == w.activity);
        "CreateActivity" => create_activity(new_activity());
        "UpdateActivity" => update_activity(UpdateActivityRequest {
            activity: Some(reg::Activity {
                name: w.activity.clone(),
                title: format!("Bridge inspection {n}"),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        });
        "ListFields" => list_fields(ListFieldsRequest {});
        "ListProvinces" => list_provinces(ListProvincesRequest {});
    )
}

async fn the_registry_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(REGISTRY, "ce.registry.v1.RegistryService");
    let env = RegistryEnv::start(b).await;
    let w = world(&env).await;
    let mut client = RegistryServiceClient::new(env.channel.clone());
    let mut found = Findings::new("registry", ::registry::migrations);
    found
        .sweep(&env.place, REGISTRY, async |row, who, id| {
            let token = token_of(&env, &w, who);
            call_registry(row.rpc, &mut client, &w, who, &token, id).await
        })
        .await;
    found.assert_clean();
}

both_backends!(the_registry_admits_exactly_whom_its_table_names);
