//! The registry down while supervision decides a standing change: the
//! change lands exactly once when it is back.

use super::*;

async fn a_standing_decision_made_while_the_registry_is_down_lands_exactly_once(b: Backend) {
    use ce_proto::supervision::supervision_service_client::SupervisionServiceClient;

    let place = ce_tests::Place::new(b);
    // The registry's port stays held while it is down, so no other test can
    // take it before it comes back (see ce_tests::ports).
    let held = ce_tests::ports::HeldPort::pick();
    let mut config = place.config("registry");
    config.server.listen = held.addr();
    let registry = ce_tests::start_service(config, registry::start).await;
    let registry_addr = registry.addr();
    let mut config = place.config("supervision");
    config.peers.insert("registry".into(), registry.url());
    // Crediting is not needed for an institution's standing.
    config.peers.insert(
        "crediting".into(),
        format!("http://127.0.0.1:{}", free_port()),
    );
    let supervision = ce_tests::start_service(config, supervision::start).await;
    let token = place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-inspector")
    });
    let registry_channel = tonic::transport::Endpoint::from_shared(registry.url())
        .unwrap()
        .connect_lazy();
    let mut reg =
        RegistryServiceClient::with_interceptor(registry_channel, ce_tests::bearer(&token));
    let mut sup = SupervisionServiceClient::with_interceptor(
        supervision.channel().await,
        ce_tests::bearer(&token),
    );
    let academy = reg::Institution {
        delivery_modes: vec![DeliveryMode::FaceToFace as i32],
        ..world::institution("44")
    };
    let institution = world::create_institution(&mut reg, academy).await;
    let case = world::fees_without_training(&institution);
    let case = world::create_violation(&mut sup, case).await;

    // The registry goes down; the decision still succeeds and waits.
    registry.stop().await;
    let decided = cases::decide(&mut sup, &case, world::first_offence_warning()).await;
    assert_eq!(
        decided.pending_effects, 1,
        "the standing change waits for the registry"
    );
    // Delivery is tried, fails, and says why.
    let ministry = place.token(ce_tests::token(ce_proto::common::Role::Ministry, "ops"));
    let mut ops = SupervisionServiceClient::with_interceptor(
        supervision.channel().await,
        ce_tests::bearer(&ministry),
    );
    let started = Instant::now();
    loop {
        let s = ce_tests::answer(
            ops.get_outbox_status(ce_proto::supervision::GetOutboxStatusRequest {}),
        )
        .await;
        if !s.oldest_last_error.is_empty() {
            assert_eq!(s.pending, 1, "{s:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no delivery attempt: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // It comes back on the same address: the change lands, once.
    let mut config = place.config("registry");
    config.server.listen = registry_addr;
    let registry = ce_tests::start_service(config, registry::start).await;
    let started = Instant::now();
    loop {
        let v = cases::get(&mut sup, &case).await;
        if v.pending_effects == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the standing change never landed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let changes = ce_tests::answer(reg.list_standing_changes(reg::ListStandingChangesRequest {
        parent: institution.clone(),
        ..Default::default()
    }))
    .await
    .standing_changes;
    let warnings = changes
        .iter()
        .filter(|c| c.standing == reg::Standing::Warned as i32)
        .count();
    assert_eq!(warnings, 1, "delivered exactly once: {changes:?}");
    supervision.stop().await;
    registry.stop().await;
}

both_backends!(a_standing_decision_made_while_the_registry_is_down_lands_exactly_once);
