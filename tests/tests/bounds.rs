//! What one call or one connection may hold of a service (#11, part 6):
//!
//! - a List page is cut short by bytes, not only by rows, before its answer
//!   would pass `server.max_message_bytes`, with a next-page token that
//!   continues it; a BatchGet whose answer would pass it is refused, naming
//!   the field;
//! - idle connections are closed after `server.idle_timeout_secs`: one
//!   that sends nothing, one that stops inside the HTTP/2 preface, and a
//!   real client's between calls (it reconnects on its next call); a
//!   half-open one (the HTTP/2 handshake made, then silence, PINGs
//!   unanswered) is closed by the HTTP/2 keepalive even with the idle
//!   timeout off.
//!
//! The hostile-client test with 2,000 concurrent `ListEngineers` on a
//! release build is in `faults/release.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use ce_proto::registry::{self as reg, BatchGetEngineersRequest, ListEngineersRequest};
use ce_tests::process::server_connections;
use ce_tests::{Backend, Place, world};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

/// The province clerk of 44, on `url`.
fn clerk(place: &Place, channel: tonic::transport::Channel) -> ce_tests::Registry {
    let token = place.token(ce_server::auth::TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "hrss-44-clerk")
    });
    reg::registry_service_client::RegistryServiceClient::with_interceptor(
        channel,
        ce_tests::bearer(&token),
    )
}

async fn a_list_page_is_cut_short_by_bytes_and_its_token_continues_it(b: Backend) {
    let place = Place::new(b);
    let mut config = place.config("registry");
    // Room for a dozen engineers or so in one answer.
    const LIMIT: usize = 4096;
    config.server.max_message_bytes = LIMIT;
    let service = ce_tests::start_service(config, registry::start).await;
    let mut r = clerk(&place, service.channel().await);
    let employer = world::create_employer(&mut r, world::employer("44")).await;
    const ENGINEERS: usize = 40;
    let created = world::create_engineers(&mut r, "44", &employer, ENGINEERS).await;

    // A thousand rows asked for; the answers are cut by bytes, and the
    // tokens walk through every engineer once, in order.
    let mut listed = Vec::new();
    let mut page_token = String::new();
    let mut pages = Vec::new();
    loop {
        let page = ce_tests::answer(r.list_engineers(ListEngineersRequest {
            province: "44".into(),
            page_size: 1000,
            page_token,
            ..Default::default()
        }))
        .await;
        assert!(
            page.encoded_len() <= LIMIT,
            "a page of {} bytes passed the limit of {LIMIT}",
            page.encoded_len()
        );
        assert!(!page.engineers.is_empty(), "a page that moves on");
        pages.push(page.engineers.len());
        listed.extend(page.engineers.into_iter().map(|e| e.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
        assert!(pages.len() <= ENGINEERS, "the pages end");
    }
    println!("{ENGINEERS} engineers in pages of {pages:?} under {LIMIT} bytes");
    assert!(pages.len() > 1, "the first page was cut short: {pages:?}");
    let mut want = created.clone();
    want.sort();
    assert_eq!(listed, want, "every engineer once, in order");

    // A token of a page cut by bytes also continues with another page size.
    let first = ce_tests::answer(r.list_engineers(ListEngineersRequest {
        province: "44".into(),
        page_size: 1000,
        ..Default::default()
    }))
    .await;
    let next = ce_tests::answer(r.list_engineers(ListEngineersRequest {
        province: "44".into(),
        page_size: 1,
        page_token: first.next_page_token,
        ..Default::default()
    }))
    .await;
    assert_eq!(next.engineers[0].name, want[first.engineers.len()]);

    // Every engineer at once cannot be answered: refused, naming the field.
    let err = ce_tests::refusal(r.batch_get_engineers(BatchGetEngineersRequest {
        names: created.clone(),
    }))
    .await;
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(ce_tests::bad_fields(&err), vec!["names".to_owned()]);
    assert!(
        err.message().contains("server.max_message_bytes")
            || ce_tests::bad_field_description(&err, "names")
                .unwrap_or_default()
                .contains("server.max_message_bytes"),
        "{err:?}"
    );
    // A few fit.
    let few = ce_tests::answer(r.batch_get_engineers(BatchGetEngineersRequest {
        names: created[..3].to_vec(),
    }))
    .await;
    assert_eq!(few.engineers.len(), 3);
    service.stop().await;
}

ce_tests::both_backends!(a_list_page_is_cut_short_by_bytes_and_its_token_continues_it);

/// Waits until the server has closed `stream`: a read ends (end of file or
/// a reset) within `within` of `started`. Returns how long after `started`.
async fn closed_by_server(
    stream: &mut tokio::net::TcpStream,
    started: Instant,
    within: Duration,
) -> Duration {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + within),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => panic!("the server kept the connection open for {within:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            // The server's SETTINGS, PINGs, GOAWAY: read on, answer nothing.
            Ok(Ok(_)) => continue,
        }
    }
}

/// The client connection preface and an empty SETTINGS frame.
fn http2_preface() -> Vec<u8> {
    let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let place = Place::new(Backend::Sqlite);
    let mut config = place.config("registry");
    config.server.idle_timeout_secs = 2;
    let service = ce_tests::start_service(config, registry::start).await;
    let addr = service.addr();

    // One that sends nothing, one that stops inside the preface, one that
    // makes the handshake and then falls silent.
    let opened = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut partial = tokio::net::TcpStream::connect(addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let mut handshaken = tokio::net::TcpStream::connect(addr).await.unwrap();
    handshaken.write_all(&http2_preface()).await.unwrap();
    for (what, stream) in [
        ("a connection that sends nothing", &mut silent),
        ("a connection that stops inside the preface", &mut partial),
        ("a connection silent after its handshake", &mut handshaken),
    ] {
        let took = closed_by_server(stream, opened, Duration::from_secs(20)).await;
        println!("{what}: closed by the server after {took:?}");
        assert!(
            took >= Duration::from_millis(1500),
            "{what} closed before the idle timeout: {took:?}"
        );
    }

    // A real client: served, its connection closed once idle, and served
    // again on a new one.
    let channel = service.channel().await;
    let mut r = clerk(&place, channel);
    r.list_engineers(ListEngineersRequest::default())
        .await
        .unwrap();
    assert!(server_connections(addr.port()) >= 1);
    let started = Instant::now();
    while server_connections(addr.port()) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "an idle client's connection stayed open: {} open",
            server_connections(addr.port())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "an idle client's connection closed {:?} after its call",
        started.elapsed()
    );
    let mut served = false;
    for _ in 0..3 {
        // The first call after the close may race it and be UNAVAILABLE.
        match r.list_engineers(ListEngineersRequest::default()).await {
            Ok(_) => {
                served = true;
                break;
            }
            Err(s) => assert_eq!(s.code(), Code::Unavailable, "{s:?}"),
        }
    }
    assert!(served, "the client is served again on a new connection");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_connection_is_closed_by_the_http2_keepalive() {
    let place = Place::new(Backend::Sqlite);
    let mut config = place.config("registry");
    // Idleness alone would never close it: the keepalive does.
    config.server.idle_timeout_secs = 0;
    config.server.http2_keepalive_interval_secs = 1;
    config.server.http2_keepalive_timeout_secs = 1;
    let service = ce_tests::start_service(config, registry::start).await;
    let addr = service.addr();

    // The handshake, then a peer that is gone: nothing answers the PINGs.
    let mut gone = tokio::net::TcpStream::connect(addr).await.unwrap();
    gone.write_all(&http2_preface()).await.unwrap();
    let took = closed_by_server(&mut gone, Instant::now(), Duration::from_secs(20)).await;
    println!("a half-open connection closed by the keepalive after {took:?}");

    // A live client answers the PINGs and keeps its connection between
    // calls well past the keepalive's interval and timeout.
    let channel = service.channel().await;
    let mut r = clerk(&place, channel);
    r.list_engineers(ListEngineersRequest::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        server_connections(addr.port()),
        1,
        "a live client's connection stays"
    );
    r.list_engineers(ListEngineersRequest::default())
        .await
        .unwrap();
    service.stop().await;
}
