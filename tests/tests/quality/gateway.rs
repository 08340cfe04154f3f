//! The dashboard's gateway: crediting's and supervision's read methods the
//! page calls on quality's origin, forwarded as the viewer (the peer
//! authorises and scopes the viewer's own token, never quality's), and
//! nothing else of theirs. Also the dashboard folder's redirect to its page.

use super::*;

use ce_proto::crediting::GetComplianceStatisticsRequest;
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::supervision::ViolationState;
use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Crediting's client on quality's channel, as `req`.
fn crediting_via_quality(env: &QualityEnv, req: TokenRequest) -> ce_tests::Crediting {
    CreditingServiceClient::with_interceptor(
        env.channel.clone(),
        ce_tests::bearer(&env.registry.place.token(req)),
    )
}

/// Supervision's client on quality's channel, as `req`.
fn supervision_via_quality(env: &QualityEnv, req: TokenRequest) -> ce_tests::Supervision {
    SupervisionServiceClient::with_interceptor(
        env.channel.clone(),
        ce_tests::bearer(&env.registry.place.token(req)),
    )
}

fn statistics(year: i32, province: &str) -> GetComplianceStatisticsRequest {
    GetComplianceStatisticsRequest {
        year,
        province: province.into(),
        ..Default::default()
    }
}

fn open_violations() -> ListViolationsRequest {
    ListViolationsRequest {
        page_size: 1000,
        state: ViolationState::Open as i32,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_forwards_its_reads_as_the_viewer_and_nothing_else() {
    let env = QualityEnv::start(Backend::Sqlite).await;
    let gd = institution(&env, "Guangzhou Academy").await;
    let fj = institution_in(&env, "35", "Fuzhou Academy", &[Field::Construction]).await;
    let learners = env.learners(&gd, 3).await;
    confirm_hours(&env, &learners).await;
    let learners = env.learners(&fj, 2).await;
    confirm_hours(&env, &learners).await;
    for (code, inst) in [("44", &gd), ("35", &fj)] {
        ce_tests::cases::open(
            &mut env.supervision(province(code)),
            ce_tests::cases::case_of(inst, ViolationCategory::ImproperFees),
        )
        .await;
    }

    // A province's statistics through quality are crediting's own answer to it.
    let direct = ce_tests::answer(
        env.crediting(province("44"))
            .await
            .get_compliance_statistics(statistics(2026, "")),
    )
    .await;
    let forwarded = ce_tests::answer(
        crediting_via_quality(&env, province("44")).get_compliance_statistics(statistics(2026, "")),
    )
    .await;
    assert_eq!(forwarded, direct);
    assert_eq!(
        direct.total.as_ref().map(|t| t.engineers),
        Some(3),
        "{direct:?}"
    );
    assert!(direct.rows.iter().all(|r| r.province == "44"), "{direct:?}");

    // Its open violations: its province's only, as supervision scopes it.
    let seen = ce_tests::answer(
        supervision_via_quality(&env, province("44")).list_violations(open_violations()),
    )
    .await
    .violations;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].institution, gd);

    // Under quality's own service token both would be answered; as the
    // viewer, the peer refuses what the viewer may not read.
    let other = crediting_via_quality(&env, province("44"))
        .get_compliance_statistics(statistics(2026, "35"))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied, "{other:?}");
    let inst = crediting_via_quality(&env, institution_token(&gd))
        .get_compliance_statistics(statistics(2026, ""))
        .await
        .unwrap_err();
    assert_eq!(inst.code(), Code::PermissionDenied, "{inst:?}");
    let unsigned = CreditingServiceClient::new(env.channel.clone())
        .get_compliance_statistics(statistics(2026, ""))
        .await
        .unwrap_err();
    assert_eq!(unsigned.code(), Code::Unauthenticated, "{unsigned:?}");

    // Nothing off the list goes through, reads or writes.
    let listed = crediting_via_quality(&env, ce_tests::token(Role::Ministry, "ministry"))
        .list_hour_records(ce_proto::crediting::ListHourRecordsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(listed.code(), Code::Unimplemented, "{listed:?}");
    let opened = supervision_via_quality(&env, province("44"))
        .create_violation(ce_tests::cases::opening(ce_tests::cases::case_of(
            &gd,
            ViolationCategory::ImproperFees,
        )))
        .await
        .unwrap_err();
    assert_eq!(opened.code(), Code::Unimplemented, "{opened:?}");
    let still =
        ce_tests::cases::violations(&mut env.supervision(province("44")), open_violations()).await;
    assert_eq!(still.len(), 1, "no violation was recorded through quality");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_folder_redirects_to_the_page() {
    let env = QualityEnv::start(Backend::Sqlite).await;
    for (path, location) in [
        ("/dashboard", "/dashboard/index.html"),
        ("/dashboard/", "/dashboard/index.html"),
        (
            "/dashboard/?period=2026",
            "/dashboard/index.html?period=2026",
        ),
    ] {
        let mut socket = tokio::net::TcpStream::connect(env.service.addr())
            .await
            .unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut answer))
            .await
            .expect("answered")
            .unwrap();
        let head = String::from_utf8_lossy(&answer).to_lowercase();
        assert!(head.starts_with("http/1.1 303"), "{path}: {head}");
        assert!(
            head.contains(&format!("location: {location}\r\n")),
            "{path}: {head}"
        );
    }
}
