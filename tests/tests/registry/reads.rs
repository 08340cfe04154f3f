//! Reading many at once and page by page: batch gets that list what they
//! leave out, lists that page through every row once, reference lists.

use super::*;

async fn batch_get_returns_what_the_caller_may_read_and_lists_the_rest(b: Backend) {
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
    let guangdong = ce_tests::answer(
        env.province("44")
            .batch_get_engineers(BatchGetEngineersRequest { names }),
    )
    .await;
    assert_eq!(guangdong.engineers, vec![gd]);
    assert_eq!(
        guangdong.missing,
        vec![bj.name, ghost],
        "outside the scope reads as missing"
    );
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

both_backends!(
    batch_get_returns_what_the_caller_may_read_and_lists_the_rest,
    batch_get_activities_returns_those_that_exist_and_lists_the_rest,
    lists_page_through_every_row_once,
    reference_lists_are_served,
);
