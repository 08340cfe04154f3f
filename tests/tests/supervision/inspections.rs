//! Art. 24 "double random" inspections: a draw committed before it is
//! made, reproducible from its seed, of named targets or the whole nation,
//! of engineers whose year is complete; findings, refusals made into
//! violations, and an institution's record that gathers them.

use super::*;

/// Art. 24 "double random": the draw is fixed before it is made (the
/// population and its hash, the roster, the counts, a commitment to a seed
/// the service draws from the operating system), nobody chooses the seed,
/// and the draw reveals a seed that answers the commitment.
async fn a_draw_is_committed_before_it_is_made_and_nobody_chooses_its_seed(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    for _ in 0..5 {
        institution(&env).await;
    }
    let mut gd = env.client(province("44"));
    let planned = cases::plan(
        &mut gd,
        Inspection {
            title: "2027 first-quarter random inspection".into(),
            province: "44".into(),
            field: Field::Construction as i32,
            target_kind: TargetKind::Institutions as i32,
            start_date: date(2026, 11, 1),
            end_date: date(2026, 12, 15),
            ..Default::default()
        },
    )
    .await;
    let roster: Vec<String> = (1..=4).map(|i| format!("inspector-{i}")).collect();
    let committed = ce_tests::answer(gd.commit_inspection_draw(CommitInspectionDrawRequest {
        name: planned.name.clone(),
        target_count: 2,
        roster: roster.clone(),
        inspector_count: 2,
    }))
    .await;
    assert_eq!(committed.state, InspectionState::Committed as i32);
    let fixed = committed.commitment.clone().unwrap();
    assert_eq!(fixed.population.len(), 5);
    assert_eq!(
        fixed.population_sha256,
        supervision::inspections::list_hash(&fixed.population)
    );
    assert_eq!(fixed.seed_sha256.len(), 64);
    assert!(committed.sample.is_none(), "nothing drawn, no seed shown");
    // The caller cannot pass a seed, nor change what was committed.
    let err = ce_tests::refusal(gd.draw_inspection_sample(DrawInspectionSampleRequest {
        name: planned.name.clone(),
        seed: 42,
        ..Default::default()
    }))
    .await;
    assert_eq!(bad_fields(&err), ["seed"]);
    let err = ce_tests::refusal(gd.draw_inspection_sample(DrawInspectionSampleRequest {
        name: planned.name.clone(),
        target_count: 5,
        ..Default::default()
    }))
    .await;
    assert_eq!(err.code(), Code::InvalidArgument);
    // An institution registered after the commitment is not in the draw.
    institution(&env).await;
    let drawn = ce_tests::answer(gd.draw_inspection_sample(DrawInspectionSampleRequest {
        name: planned.name.clone(),
        ..Default::default()
    }))
    .await;
    let sample = drawn.sample.unwrap();
    assert_eq!(
        sample.population, fixed.population,
        "the committed population"
    );
    assert_eq!(
        supervision::inspections::commitment(&hex_bytes(&sample.seed_hex)),
        fixed.seed_sha256,
        "the revealed seed answers the commitment"
    );
    assert_eq!((sample.targets.len(), sample.inspectors.len()), (2, 2));
    let verified = ce_tests::answer(gd.verify_inspection_draw(VerifyInspectionDrawRequest {
        name: planned.name.clone(),
        seed_hex: String::new(),
    }))
    .await;
    assert!(verified.matches, "{}", verified.reason);
    // Two draws of the same scope get different seeds.
    let again = cases::plan(
        &mut gd,
        Inspection {
            title: "Another draw of the same scope".into(),
            province: "44".into(),
            field: Field::Construction as i32,
            target_kind: TargetKind::Institutions as i32,
            start_date: date(2026, 11, 1),
            end_date: date(2026, 12, 15),
            ..Default::default()
        },
    )
    .await;
    let other = ce_tests::answer(gd.draw_inspection_sample(DrawInspectionSampleRequest {
        name: again.name,
        target_count: 2,
        roster,
        inspector_count: 2,
        seed: 0,
    }))
    .await
    .sample
    .unwrap();
    assert_ne!(other.seed_hex, sample.seed_hex);
}

async fn a_random_inspection_is_reproducible_and_a_refusal_becomes_a_violation(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let mut all = Vec::new();
    for _ in 0..6 {
        all.push(institution(&env).await);
    }
    let mut gd = env.client(province("44"));
    let planned = cases::plan(
        &mut gd,
        Inspection {
            title: "2026 construction training, random inspection".into(),
            province: "44".into(),
            field: Field::Construction as i32,
            target_kind: TargetKind::Institutions as i32,
            start_date: date(2026, 11, 1),
            end_date: date(2026, 12, 15),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(planned.state, InspectionState::Planned as i32);
    let err = ce_tests::refusal(
        env.client(province("11"))
            .get_inspection(GetInspectionRequest {
                name: planned.name.clone(),
            }),
    )
    .await;
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "unpublished plans stay in scope"
    );
    let roster: Vec<String> = (1..=5).map(|i| format!("inspector-{i}")).collect();
    let sampled = cases::draw(&mut gd, cases::drawing(&planned.name, 3, roster.clone(), 2)).await;
    let sample = sampled.sample.clone().unwrap();
    assert_eq!(sample.algorithm, "sha256-splitmix64-fisher-yates-v2");
    assert_eq!(sample.seed_hex.len(), 64, "the service's seed, revealed");
    assert_eq!(
        supervision::inspections::generator_seed(&hex_bytes(&sample.seed_hex)),
        sample.seed
    );
    let mut population = all.clone();
    population.sort();
    assert_eq!(
        sample.population, population,
        "the snapshot is the scope's institutions"
    );
    assert_eq!((sample.targets.len(), sample.inspectors.len()), (3, 2));
    // Anyone re-runs the draw from the seed and the snapshot.
    let (targets, inspectors) =
        supervision::inspections::draw(sample.seed, &sample.population, 3, &roster, 2);
    assert_eq!(
        (targets, inspectors),
        (sample.targets.clone(), sample.inspectors.clone())
    );
    let err = ce_tests::refusal(gd.draw_inspection_sample(cases::drawing(
        &planned.name,
        3,
        roster.clone(),
        2,
    )))
    .await;
    assert_eq!(err.code(), Code::FailedPrecondition, "no second draw");
    // The draw verifies; another seed does not.
    let verified = ce_tests::answer(gd.verify_inspection_draw(VerifyInspectionDrawRequest {
        name: planned.name.clone(),
        seed_hex: String::new(),
    }))
    .await;
    assert!(verified.matches, "{}", verified.reason);
    let other = ce_tests::answer(gd.verify_inspection_draw(VerifyInspectionDrawRequest {
        name: planned.name.clone(),
        seed_hex: "00".repeat(32),
    }))
    .await;
    assert!(!other.matches);
    assert!(other.reason.contains("commitment"), "{}", other.reason);

    a_refusal_becomes_a_violation_and_the_results_are_public(
        &env,
        &mut gd,
        &planned.name,
        &sample,
        &all,
    )
    .await;
}

/// One target of inspection `planned`, drawn as `sample` from `all`,
/// refuses the inspectors: the finding becomes an Art. 24 violation;
/// published, the results are anyone's to read.
async fn a_refusal_becomes_a_violation_and_the_results_are_public(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    planned: &str,
    sample: &Sample,
    all: &[String],
) {
    // One target refuses the inspectors: the finding becomes an Art. 24 violation.
    let refuser = sample.targets[0].clone();
    let with_refusal = ce_tests::answer(gd.record_inspection_finding(
        RecordInspectionFindingRequest {
            name: planned.to_owned(),
            finding: Some(Finding {
                target: refuser.clone(),
                outcome: FindingOutcome::Refused as i32,
                text: "Locked the records room".into(),
                ..Default::default()
            }),
        },
    ))
    .await;
    let violation = with_refusal.findings[0].violation.clone();
    let v = cases::get(gd, &violation).await;
    assert_eq!(v.category, ViolationCategory::RefusedInspection as i32);
    assert_eq!(v.institution, refuser);
    let outsider = all.iter().find(|i| !sample.targets.contains(i)).unwrap();
    let err = ce_tests::refusal(
        gd.record_inspection_finding(RecordInspectionFindingRequest {
            name: planned.to_owned(),
            finding: Some(Finding {
                target: outsider.clone(),
                outcome: FindingOutcome::Compliant as i32,
                ..Default::default()
            }),
        }),
    )
    .await;
    assert_eq!(bad_fields(&err), ["finding.target"]);
    gd.publish_inspection(PublishInspectionRequest {
        name: planned.to_owned(),
        outcome: "One of three refused inspection; case opened".into(),
    })
    .await
    .unwrap();
    // Public results: any signed-in caller reads them.
    let public = ce_tests::answer(
        env.client(org(Role::Employer, "employers/anyone"))
            .list_inspections(ListInspectionsRequest::default()),
    )
    .await
    .inspections;
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].state, InspectionState::Published as i32);
}

async fn an_inspection_names_its_targets_or_covers_the_nation(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let gd_institutions = [
        institution_of(&env, "44").await,
        institution_of(&env, "44").await,
    ];
    let bj = institution_of(&env, "11").await;
    let plan = |province: &str, kind: TargetKind, targets: Vec<String>| CreateInspectionRequest {
        inspection: Some(Inspection {
            title: "Named-target inspection".into(),
            province: province.into(),
            target_kind: kind as i32,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            targets,
            ..Default::default()
        }),
    };
    let draw = |name: &str| cases::drawing(name, 10, vec!["inspector-1".into()], 1);

    // The ministry plans a national inspection of two institutions it names,
    // one in each province: the draw is made from those two alone.
    let mut ministry = env.client(token(Role::Ministry, "ministry-inspector"));
    let named = vec![gd_institutions[0].clone(), bj.clone(), bj.clone()];
    let national =
        ce_tests::answer(ministry.create_inspection(plan("", TargetKind::Institutions, named)))
            .await;
    assert_eq!(national.province, "");
    assert_eq!(
        national.targets.len(),
        2,
        "a target named twice is kept once"
    );
    let drawn = ce_tests::answer(ministry.draw_inspection_sample(draw(&national.name)))
        .await
        .sample
        .unwrap();
    let mut expected = vec![gd_institutions[0].clone(), bj.clone()];
    expected.sort();
    assert_eq!(
        drawn.population, expected,
        "the snapshot is the named targets"
    );
    let mut targets = drawn.targets.clone();
    targets.sort();
    assert_eq!(targets, expected);

    // Without names, a national population is every province's institutions.
    let everyone =
        ce_tests::answer(ministry.create_inspection(plan("", TargetKind::Institutions, vec![])))
            .await;
    let population = ce_tests::answer(ministry.draw_inspection_sample(draw(&everyone.name)))
        .await
        .sample
        .unwrap()
        .population;
    assert_eq!(population.len(), 3);
    assert!(population.contains(&bj) && population.contains(&gd_institutions[1]));

    // A province plans no national inspection, and names nothing outside its own.
    let mut gd = env.client(province("44"));
    let err =
        ce_tests::refusal(gd.create_inspection(plan("", TargetKind::Institutions, vec![]))).await;
    assert_eq!(err.code(), Code::PermissionDenied);
    let reaching = ce_tests::answer(gd.create_inspection(plan(
        "44",
        TargetKind::Institutions,
        vec![gd_institutions[1].clone(), bj.clone()],
    )))
    .await;
    let err = ce_tests::refusal(gd.draw_inspection_sample(draw(&reaching.name))).await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&bj), "{}", err.message());
    assert!(
        !err.message().contains(&gd_institutions[1]),
        "{}",
        err.message()
    );

    // Names must be of the kind inspected.
    let err = ce_tests::refusal(gd.create_inspection(plan(
        "44",
        TargetKind::Employers,
        vec!["employers/e1".into(), gd_institutions[0].clone()],
    )))
    .await;
    assert_eq!(bad_fields(&err), ["inspection.targets[1]"]);

    engineers_named_by_a_province(&env, &mut gd, plan, draw).await;
}

/// Engineers named by a province: whatever their year, if they are its
/// own; named among the complete engineers of a year, only if complete.
async fn engineers_named_by_a_province(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    plan: impl Fn(&str, TargetKind, Vec<String>) -> CreateInspectionRequest,
    draw: impl Fn(&str) -> DrawInspectionSampleRequest,
) {
    // Engineers named by a province: whatever their year, if they are its own.
    let (_, engineer, _) = engineer_with_hours(env).await;
    let of_engineers = ce_tests::answer(gd.create_inspection(plan(
        "44",
        TargetKind::Engineers,
        vec![engineer.clone()],
    )))
    .await;
    let drawn = ce_tests::answer(gd.draw_inspection_sample(draw(&of_engineers.name)))
        .await
        .sample
        .unwrap();
    assert_eq!(drawn.targets, vec![engineer.clone()]);
    // Among the complete engineers of 2026, the one with 96 hours is in
    // scope (met before the year's end) and the one with 16 is not.
    let (_, short, _) = engineer_with_days(env, 2).await;
    let complete_plan = |targets: Vec<String>| CreateInspectionRequest {
        inspection: Some(Inspection {
            year: 2026,
            ..plan("44", TargetKind::CompleteEngineers, targets)
                .inspection
                .unwrap()
        }),
    };
    let both = ce_tests::answer(
        gd.create_inspection(complete_plan(vec![engineer.clone(), short.clone()])),
    )
    .await;
    let err = ce_tests::refusal(gd.draw_inspection_sample(draw(&both.name))).await;
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&short), "{}", err.message());
    assert!(!err.message().contains(&engineer), "{}", err.message());
    let met = ce_tests::answer(gd.create_inspection(complete_plan(vec![engineer.clone()]))).await;
    let drawn = ce_tests::answer(gd.draw_inspection_sample(draw(&met.name)))
        .await
        .sample
        .unwrap();
    assert_eq!(drawn.targets, vec![engineer]);
}

async fn a_draw_of_engineers_whose_year_is_complete_leaves_out_the_rest(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (_, complete, _) = engineer_with_days(&env, 12).await;
    let (_, short, _) = engineer_with_days(&env, 2).await;
    let mut gd = env.client(province("44"));
    let plan = cases::plan(
        &mut gd,
        Inspection {
            title: "Are 2026's complete years real?".into(),
            province: "44".into(),
            field: Field::ElectricPower as i32,
            target_kind: TargetKind::CompleteEngineers as i32,
            year: 2026,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            ..Default::default()
        },
    )
    .await;
    let roster = vec!["inspector-1".to_owned(), "inspector-2".to_owned()];
    let drawn = cases::draw(&mut gd, cases::drawing(&plan.name, 1, roster.clone(), 1))
        .await
        .sample
        .unwrap();
    assert_eq!(
        drawn.population,
        std::slice::from_ref(&complete),
        "{short} (16 hours) is not complete"
    );
    assert_eq!(drawn.targets, [complete]);
    let (targets, inspectors) =
        supervision::inspections::draw(drawn.seed, &drawn.population, 1, &roster, 1);
    assert_eq!((targets, inspectors), (drawn.targets, drawn.inspectors));
}

async fn an_institutions_record_gathers_its_violations_and_inspection_findings(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let inst = institution(&env).await;
    let other = institution(&env).await;
    let mut gd = env.client(province("44"));
    let warning = ce_tests::world::first_offence_warning();
    let fees = decided(&mut gd, &inst, ViolationCategory::ImproperFees, warning).await;
    let open = cases::open(
        &mut gd,
        Violation {
            institution: inst.clone(),
            category: ViolationCategory::Obligations as i32,
            description: "No learner records kept".into(),
            evidence: vec!["site visit 2026-11-20".into()],
            ..Default::default()
        },
    )
    .await;
    // Not this institution's: stays out of its record.
    cases::open(
        &mut gd,
        Violation {
            institution: other.clone(),
            category: ViolationCategory::ImproperFees as i32,
            description: "Another institution's fees".into(),
            ..Default::default()
        },
    )
    .await;
    let plan = inspected_and_refused(&mut gd, &inst, &other).await;
    let record_name = format!("{inst}/supervisionRecord");
    let ask = || GetInstitutionRecordRequest {
        name: record_name.clone(),
    };
    let record = ce_tests::answer(gd.get_institution_record(ask())).await;
    assert_eq!(record.institution, inst);
    let names: Vec<&str> = record.violations.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names.len(),
        3,
        "two recorded, one from the refusal: {names:?}"
    );
    assert!(names.contains(&fees.name.as_str()) && names.contains(&open.name.as_str()));
    assert!(
        record.violations.windows(2).all(|w| {
            let t = |v: &Violation| v.create_time.map(|t| (t.seconds, t.nanos));
            t(&w[0]) >= t(&w[1])
        }),
        "newest first"
    );
    let refusal = record
        .violations
        .iter()
        .find(|v| v.category == ViolationCategory::RefusedInspection as i32)
        .unwrap();
    assert_eq!(refusal.evidence, vec![plan.name.clone()]);
    let with_evidence = record
        .violations
        .iter()
        .find(|v| v.name == open.name)
        .unwrap();
    assert_eq!(with_evidence.evidence, ["site visit 2026-11-20"]);
    assert_eq!(with_evidence.recorded_by, "hrss-44-inspector");
    let decision = record
        .violations
        .iter()
        .find(|v| v.name == fees.name)
        .and_then(|v| v.decision.clone())
        .unwrap();
    assert_eq!(decision.decided_by, "hrss-44-inspector");
    assert_eq!(
        (record.open_count, record.decided_count, record.closed_count),
        (2, 1, 0)
    );
    assert_eq!(record.refused_inspection_count, 1);
    assert_eq!(record.findings.len(), 1, "only its own finding");
    let f = &record.findings[0];
    assert_eq!(
        (f.inspection.as_str(), f.title.as_str()),
        (plan.name.as_str(), "Records inspection")
    );
    assert_eq!(f.state, InspectionState::Sampled as i32);
    let finding = f.finding.clone().unwrap();
    assert_eq!(finding.outcome, FindingOutcome::Refused as i32);
    assert_eq!(finding.violation, refusal.name);

    read_by_the_institution_and_no_one_else(&env, &mut gd, &inst, &other, &plan.name).await;
}

/// An inspection that draws `inst` and `other`: the first refuses, the
/// other complies. The inspection.
async fn inspected_and_refused(
    gd: &mut ce_tests::Supervision,
    inst: &str,
    other: &str,
) -> Inspection {
    // An inspection that draws both; this one refuses, the other complies.
    let plan = cases::plan(
        gd,
        Inspection {
            title: "Records inspection".into(),
            province: "44".into(),
            target_kind: TargetKind::Institutions as i32,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            targets: vec![inst.to_owned(), other.to_owned()],
            ..Default::default()
        },
    )
    .await;
    cases::draw(
        gd,
        cases::drawing(&plan.name, 2, vec!["inspector-1".into()], 1),
    )
    .await;
    for (target, outcome, text) in [
        (inst, FindingOutcome::Refused, "Turned the inspectors away"),
        (other, FindingOutcome::Compliant, ""),
    ] {
        ce_tests::answer(
            gd.record_inspection_finding(RecordInspectionFindingRequest {
                name: plan.name.clone(),
                finding: Some(Finding {
                    target: target.to_owned(),
                    outcome: outcome as i32,
                    text: text.into(),
                    ..Default::default()
                }),
            }),
        )
        .await;
    }
    plan
}

/// The record of `inst`, whose finding in inspection `plan` is published
/// meanwhile, read by the institution; nobody outside its scope (`other`
/// neither) reads it, and names are checked.
async fn read_by_the_institution_and_no_one_else(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    inst: &str,
    other: &str,
    plan: &str,
) {
    let ask = || GetInstitutionRecordRequest {
        name: format!("{inst}/supervisionRecord"),
    };
    // The institution reads its own record: its violations, and its
    // findings once the inspection is published.
    let mut own = env.client(org(Role::Institution, inst));
    let mine = ce_tests::answer(own.get_institution_record(ask())).await;
    assert_eq!(mine.violations.len(), 3);
    assert!(
        mine.findings.is_empty(),
        "unpublished findings are the inspectors'"
    );
    ce_tests::answer(gd.publish_inspection(PublishInspectionRequest {
        name: plan.to_owned(),
        outcome: "One of two refused".into(),
    }))
    .await;
    let mine = ce_tests::answer(own.get_institution_record(ask())).await;
    assert_eq!(mine.findings.len(), 1);
    assert_eq!(mine.findings[0].state, InspectionState::Published as i32);

    // Nobody outside its scope reads it; names are checked.
    for outsider in [province("11"), org(Role::Institution, other)] {
        let err = ce_tests::refusal(env.client(outsider).get_institution_record(ask())).await;
        assert_eq!(err.code(), Code::PermissionDenied);
    }
    let err = ce_tests::refusal(gd.get_institution_record(GetInstitutionRecordRequest {
        name: "institutions/nobody/supervisionRecord".into(),
    }))
    .await;
    assert_eq!(err.code(), Code::NotFound);
    let err = ce_tests::refusal(gd.get_institution_record(GetInstitutionRecordRequest {
        name: inst.to_owned(),
    }))
    .await;
    assert_eq!(bad_fields(&err), ["name"]);
}

/// Plans an inspection of `kind` naming `target`, draws it, and records
/// that the target refused; the finding's violation.
async fn refused(
    client: &mut ce_tests::Supervision,
    kind: TargetKind,
    field: Field,
    target: &str,
) -> String {
    let plan = cases::plan(
        client,
        Inspection {
            title: "Cooperation check".into(),
            province: "44".into(),
            field: field as i32,
            target_kind: kind as i32,
            start_date: date(2026, 12, 1),
            end_date: date(2026, 12, 31),
            targets: vec![target.to_owned()],
            ..Default::default()
        },
    )
    .await;
    cases::draw(
        client,
        cases::drawing(&plan.name, 1, vec!["inspector-1".into()], 1),
    )
    .await;
    let recorded = ce_tests::answer(client.record_inspection_finding(
        RecordInspectionFindingRequest {
            name: plan.name,
            finding: Some(Finding {
                target: target.to_owned(),
                outcome: FindingOutcome::Refused as i32,
                text: "Would not show its records".into(),
                ..Default::default()
            }),
        },
    ))
    .await;
    let violation = recorded.findings[0].violation.clone();
    assert!(!violation.is_empty(), "the refusal became a violation");
    violation
}

async fn employers_and_engineers_that_refuse_inspection_have_violations_of_their_own(b: Backend) {
    let env = SupervisionEnv::start(b).await;
    let (employer, engineer, _) = engineer_with_hours(&env).await;
    let mut gd = env.client(province("44"));
    let decide = |name: &str, kind: DecisionKind| DecideViolationRequest {
        name: name.into(),
        decision: Some(Decision {
            kind: kind as i32,
            reason: "Refused the inspectors".into(),
            effective_date: date(2026, 12, 2),
            rectification_deadline: date(2026, 12, 20),
            suspension_end_date: date(2026, 12, 31),
            ..Default::default()
        }),
    };

    // An employer refuses: its own Art. 24 violation.
    let name = refused(
        &mut gd,
        TargetKind::Employers,
        Field::Unspecified,
        &employer,
    )
    .await;
    let v = cases::get(&mut gd, &name).await;
    assert_eq!(v.category, ViolationCategory::RefusedInspection as i32);
    assert_eq!(v.article, "Art. 24");
    assert_eq!(
        (
            v.employer.as_str(),
            v.institution.as_str(),
            v.engineer.as_str()
        ),
        (employer.as_str(), "", "")
    );
    assert_eq!(v.province, "44");
    // The employer reads, lists and appeals it.
    let mut boss = env.client(org(Role::Employer, &employer));
    ce_tests::answer(boss.get_violation(GetViolationRequest { name: name.clone() })).await;
    let listed = cases::violations(&mut boss, ListViolationsRequest::default()).await;
    assert_eq!(
        listed.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        [name.as_str()]
    );
    let appealed = ce_tests::answer(boss.appeal_violation(AppealViolationRequest {
        name: name.clone(),
        text: "The records were at the auditor's".into(),
    }))
    .await;
    assert_eq!(appealed.appeals.len(), 1);
    // Listed by employer for the province; another employer sees nothing.
    let by_employer = cases::violations(
        &mut gd,
        ListViolationsRequest {
            employer: employer.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_employer.len(), 1);
    let err = ce_tests::refusal(
        env.client(org(Role::Employer, "employers/another"))
            .get_violation(GetViolationRequest { name: name.clone() }),
    )
    .await;
    assert_eq!(err.code(), Code::PermissionDenied);
    // Decided by a warning or an order, not by an institution's sanctions;
    // nothing goes to the registry.
    let err = ce_tests::refusal(gd.decide_violation(decide(&name, DecisionKind::Suspension))).await;
    assert_eq!(bad_fields(&err), ["decision.kind"]);
    let ordered =
        ce_tests::answer(gd.decide_violation(decide(&name, DecisionKind::RectificationOrder)))
            .await;
    assert_eq!(ordered.state, ViolationState::Decided as i32);
    assert_eq!(ordered.pending_effects, 0);

    an_engineer_refuses_and_so_may_an_employer_a_regulator_finds(
        &env, &mut gd, &employer, &engineer, decide,
    )
    .await;
}

/// An engineer of `employer` refuses: the engineer's own Art. 24
/// violation, decided by `decide` with a warning, not by revoking hours;
/// a regulator acts on an employer's refusal it found; and employers have
/// violations only for refusing inspection.
async fn an_engineer_refuses_and_so_may_an_employer_a_regulator_finds(
    env: &SupervisionEnv,
    gd: &mut ce_tests::Supervision,
    employer: &str,
    engineer: &str,
    decide: impl Fn(&str, DecisionKind) -> DecideViolationRequest,
) {
    // An engineer refuses: an Art. 24 violation of the engineer, whose
    // employer is named; decided by a warning, not by revoking hours.
    let name = refused(gd, TargetKind::Engineers, Field::Unspecified, engineer).await;
    let v = ce_tests::answer(
        env.client(token(Role::Engineer, engineer))
            .get_violation(GetViolationRequest { name: name.clone() }),
    )
    .await;
    assert_eq!(
        (v.engineer.as_str(), v.employer.as_str(), v.article.as_str()),
        (engineer, employer, "Art. 24")
    );
    let appealed = ce_tests::answer(
        env.client(token(Role::Engineer, engineer))
            .appeal_violation(AppealViolationRequest {
                name: name.clone(),
                text: "I was abroad that week".into(),
            }),
    )
    .await;
    assert_eq!(appealed.appeals[0].filed_by, engineer);
    let err = ce_tests::refusal(gd.decide_violation(decide(&name, DecisionKind::Revocation))).await;
    assert_eq!(bad_fields(&err), ["decision.kind"]);
    let warned = ce_tests::answer(gd.decide_violation(decide(&name, DecisionKind::Warning))).await;
    assert_eq!(
        (warned.state, warned.pending_effects),
        (ViolationState::Decided as i32, 0)
    );
    let notes = cases::notifications(gd, ListNotificationsRequest::default()).await;
    assert!(
        notes.is_empty(),
        "only revoked hours notify the employer (Art. 27)"
    );

    // The electric-power regulator inspects the province's employers: it
    // acts on a refusal it found, though an employer has no field of its own.
    let (other_employer, _, _) = engineer_with_days(env, 2).await;
    let mut regulator = env.client(TokenRequest {
        field: Some(Field::ElectricPower),
        province: Some("44".into()),
        ..token(Role::IndustryRegulator, "power-regulator-44")
    });
    let name = refused(
        &mut regulator,
        TargetKind::Employers,
        Field::ElectricPower,
        &other_employer,
    )
    .await;
    ce_tests::answer(regulator.decide_violation(decide(&name, DecisionKind::Warning))).await;

    // Employers have violations only for refusing inspection.
    let err = ce_tests::refusal(gd.create_violation(cases::opening(Violation {
        employer: employer.to_owned(),
        category: ViolationCategory::ImproperFees as i32,
        description: "Fees".into(),
        ..Default::default()
    })))
    .await;
    assert_eq!(bad_fields(&err), ["violation.institution"]);
}

both_backends!(
    a_draw_is_committed_before_it_is_made_and_nobody_chooses_its_seed,
    a_random_inspection_is_reproducible_and_a_refusal_becomes_a_violation,
    an_inspection_names_its_targets_or_covers_the_nation,
    a_draw_of_engineers_whose_year_is_complete_leaves_out_the_rest,
    an_institutions_record_gathers_its_violations_and_inspection_findings,
    employers_and_engineers_that_refuse_inspection_have_violations_of_their_own,
);
