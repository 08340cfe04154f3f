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

mod activities;
mod durability;
mod engineers;
mod institutions;
mod reads;

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
