//! gRPC-Web over HTTP/1.1, as a browser sends it, on the raw socket: a
//! call refused before it reaches the service (no token) is answered in
//! gRPC-Web framing, which a browser's client reads, and an authorised
//! call and the dashboard's page work beside it.

use super::*;

use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 exchange on a fresh connection (closed after it): the
/// response's head, lower-cased, and its body.
async fn exchange(addr: std::net::SocketAddr, request: Vec<u8>) -> (String, Vec<u8>) {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection after answering")
        .unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response head");
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    (head, answer[split + 4..].to_vec())
}

/// A gRPC-Web POST of `ListScores` for 2026, with `token` if any.
fn list_scores(token: Option<&str>) -> Vec<u8> {
    let message = ListScoresRequest {
        period: "2026".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&message);
    let auth = token.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
    let mut request = format!(
        "POST /ce.quality.v1.QualityService/ListScores HTTP/1.1\r\nhost: localhost\r\n\
         content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\naccept: application/grpc-web+proto\r\n\
         {auth}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grpc_web_call_refused_for_its_token_is_answered_in_grpc_web() {
    let env = QualityEnv::start(Backend::Sqlite).await;
    let addr = env.service.addr();

    let (head, _) = exchange(addr, list_scores(None)).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/grpc-web+proto"),
        "refused in gRPC's framing, which a browser cannot read: {head}"
    );
    assert!(head.contains("grpc-status: 16"), "{head}");

    let ministry = env.registry.place.token(token(Role::Ministry, "ministry"));
    let (head, body) = exchange(addr, list_scores(Some(&ministry))).await;
    assert!(
        head.contains("content-type: application/grpc-web+proto"),
        "{head}"
    );
    // The trailers travel as the last frame of the body (flag 0x80).
    let trailers = String::from_utf8_lossy(&body).to_lowercase();
    assert!(trailers.contains("grpc-status:0"), "{head}\n{trailers}");

    let (head, body) = exchange(
        addr,
        b"GET /dashboard/index.html HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
            .to_vec(),
    )
    .await;
    assert!(
        head.starts_with("http/1.1 200"),
        "the dashboard's page: {head}"
    );
    assert!(String::from_utf8_lossy(&body).contains("<html"), "{head}");
}
