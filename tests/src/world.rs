//! The world most tests start from, built in one place: a province's
//! department registers an employer (Pearl River Power), engineers of
//! electric power who work there, an institution (Grid Academy), and
//! "Grid protection" activities, professional and face to face.
//!
//! Each part is a plain message a test may change with struct update
//! syntax before it is registered, for example an 8-hour seminar:
//!
//! ```ignore
//! let mut clerk = env.registry.province("44");
//! let employer = world::create_employer(&mut clerk, world::employer("44")).await;
//! let engineer = world::create_engineer(&mut clerk, world::engineer("44", &employer)).await;
//! let seminar = world::create_activity(
//!     &mut clerk,
//!     world::activity("44", world::date(2026, 4, 1), world::date(2026, 4, 12), 8.0),
//! )
//! .await;
//! ```
//!
//! [`World::build`] registers the whole of it in Guangdong (44), as the
//! crediting tests use it. A supervision case against an institution and a
//! warning that decides it are here too.

use ce_proto::common::{DeliveryMode, Field, SubjectCategory};
use ce_proto::google::r#type::Date;
use ce_proto::registry::{
    self as reg, CreateActivityRequest, CreateEmployerRequest, CreateEngineerRequest,
    CreateInstitutionRequest,
};
use ce_proto::supervision as sv;

use crate::{Registry, RegistryEnv, Supervision, credit_code, resident_id};

/// A calendar date, as the API takes it.
pub fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Pearl River Power, an enterprise of `province`.
pub fn employer(province: &str) -> reg::Employer {
    reg::Employer {
        credit_code: credit_code(province),
        display_name: "Pearl River Power".into(),
        kind: reg::EmployerKind::Enterprise as i32,
        province: province.into(),
        ..Default::default()
    }
}

/// 陈工, an engineer (the title) of electric power in `province`, working
/// for `employer`, with a new resident ID number.
pub fn engineer(province: &str, employer: &str) -> reg::Engineer {
    reg::Engineer {
        id_number: resident_id(province),
        display_name: "陈工".into(),
        province: province.into(),
        field: Field::ElectricPower as i32,
        title_level: reg::TitleLevel::Engineer as i32,
        employer: employer.into(),
        ..Default::default()
    }
}

/// Grid Academy, an institution of `province` for electric power, teaching
/// face to face and online.
pub fn institution(province: &str) -> reg::Institution {
    reg::Institution {
        code: credit_code(province),
        display_name: "Grid Academy".into(),
        province: province.into(),
        fields: vec![Field::ElectricPower as i32],
        delivery_modes: vec![DeliveryMode::FaceToFace as i32, DeliveryMode::Online as i32],
        ..Default::default()
    }
}

/// "Grid protection": professional, face-to-face training in electric
/// power held in `province` from `start` to `end`, `hours_per_day` a day,
/// free of charge.
pub fn activity(
    province: &str,
    start: Option<Date>,
    end: Option<Date>,
    hours_per_day: f64,
) -> reg::Activity {
    reg::Activity {
        title: "Grid protection".into(),
        province: province.into(),
        field: Field::ElectricPower as i32,
        subject_category: SubjectCategory::Professional as i32,
        delivery_mode: DeliveryMode::FaceToFace as i32,
        start_date: start,
        end_date: end,
        hours_per_day,
        ..Default::default()
    }
}

/// Registers `employer` through `clerk`; its name.
pub async fn create_employer(clerk: &mut Registry, employer: reg::Employer) -> String {
    clerk
        .create_employer(CreateEmployerRequest {
            employer: Some(employer),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

/// Registers `engineer` through `clerk`; its name.
pub async fn create_engineer(clerk: &mut Registry, engineer: reg::Engineer) -> String {
    clerk
        .create_engineer(CreateEngineerRequest {
            engineer: Some(engineer),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

/// Registers `institution` through `clerk`; its name.
pub async fn create_institution(clerk: &mut Registry, institution: reg::Institution) -> String {
    clerk
        .create_institution(CreateInstitutionRequest {
            institution: Some(institution),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

/// Registers `activity` through `clerk` (a department or an institution);
/// its name.
pub async fn create_activity(clerk: &mut Registry, activity: reg::Activity) -> String {
    clerk
        .create_activity(CreateActivityRequest {
            activity: Some(activity),
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

/// `n` engineers of `province` working for `employer`, 工程师0 to
/// 工程师{n-1}, registered one after another; their names in that order.
pub async fn create_engineers(
    clerk: &mut Registry,
    province: &str,
    employer: &str,
    n: usize,
) -> Vec<String> {
    let mut names = Vec::with_capacity(n);
    for i in 0..n {
        let one = reg::Engineer {
            display_name: format!("工程师{i}"),
            ..engineer(province, employer)
        };
        names.push(create_engineer(clerk, one).await);
    }
    names
}

/// [`create_engineers`] for many: `workers` calls at a time, engineer `i`
/// with resident ID number `id_number(i)`; their names in order.
pub async fn create_engineers_concurrently(
    clerk: &Registry,
    province: &str,
    employer: &str,
    n: usize,
    workers: usize,
    id_number: fn(usize) -> String,
) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let mut clerk = clerk.clone();
        let (province, employer) = (province.to_owned(), employer.to_owned());
        tasks.spawn(async move {
            let mut made = Vec::new();
            for i in (worker..n).step_by(workers) {
                let one = reg::Engineer {
                    id_number: id_number(i),
                    display_name: format!("工程师{i}"),
                    ..engineer(&province, &employer)
                };
                made.push((i, create_engineer(&mut clerk, one).await));
            }
            made
        });
    }
    let mut names = vec![String::new(); n];
    while let Some(made) = tasks.join_next().await {
        for (i, name) in made.unwrap() {
            names[i] = name;
        }
    }
    names
}

/// Guangdong's world, registered: what the crediting tests start from.
pub struct World {
    /// Pearl River Power.
    pub employer: String,
    /// 陈工, who works there.
    pub engineer: String,
    /// Grid Academy.
    pub institution: String,
    /// The institution's course, 2026-03-02 for 3 days of 10 hours, at a
    /// fee of 500 yuan.
    pub course: String,
    /// The Guangdong department's own seminar, 2026-04-01 for 3 days of 10
    /// hours, free.
    pub seminar: String,
}

impl World {
    /// Registers the world in `registry`'s Guangdong (44).
    pub async fn build(registry: &RegistryEnv) -> World {
        let mut clerk = registry.province("44");
        let employer = create_employer(&mut clerk, employer("44")).await;
        let engineer = create_engineer(&mut clerk, engineer("44", &employer)).await;
        let institution = create_institution(&mut clerk, institution("44")).await;
        let course = create_activity(
            &mut registry.institution(&institution),
            reg::Activity {
                fee_fen: 50_000,
                ..activity("44", date(2026, 3, 2), date(2026, 3, 4), 10.0)
            },
        )
        .await;
        let seminar = create_activity(
            &mut clerk,
            activity("44", date(2026, 4, 1), date(2026, 4, 3), 10.0),
        )
        .await;
        World {
            employer,
            engineer,
            institution,
            course,
            seminar,
        }
    }
}

/// A case against `institution`: fees taken without training (Art. 26).
pub fn fees_without_training(institution: &str) -> sv::Violation {
    sv::Violation {
        institution: institution.into(),
        category: sv::ViolationCategory::ImproperFees as i32,
        description: "Fees without training".into(),
        ..Default::default()
    }
}

/// A warning for a first offence, effective 2 November 2026.
pub fn first_offence_warning() -> sv::Decision {
    sv::Decision {
        kind: sv::DecisionKind::Warning as i32,
        reason: "First offence".into(),
        effective_date: date(2026, 11, 2),
        ..Default::default()
    }
}

/// Records `violation` through `inspector`; its name.
pub async fn create_violation(inspector: &mut Supervision, violation: sv::Violation) -> String {
    inspector
        .create_violation(sv::CreateViolationRequest {
            violation: Some(violation),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .name
}

/// A case against `engineer`: the hours of `records` obtained improperly
/// (Art. 27), decided by revoking them.
pub fn improper_hours(engineer: &str, records: &[String]) -> sv::Violation {
    sv::Violation {
        engineer: engineer.into(),
        category: sv::ViolationCategory::ImproperHours as i32,
        description: "Attendance sheets signed by a colleague".into(),
        hour_records: records.to_vec(),
        ..Default::default()
    }
}

/// The decision of an improper-hours case: its records are revoked
/// (Art. 27).
pub fn revocation() -> sv::Decision {
    sv::Decision {
        kind: sv::DecisionKind::Revocation as i32,
        reason: "Hours obtained by a false attendance sheet".into(),
        ..Default::default()
    }
}
