//! Certificates anyone can verify, offline (docs/architecture.md,
//! "Certificates anyone can verify"): crediting serves the issuer's DID
//! document and the revocation status lists over plain HTTP/1.1, with no
//! token; an issued certificate verifies with Digital Bazaar's
//! `@digitalbazaar/vc` and `eddsa-jcs-2022` cryptosuite (tests/vc, npm
//! packages `make test` installs), whose document loader serves only local
//! files; revoking the year sets its bit in the list; an edited
//! certificate fails. `VerifyHourCertificate` answers without a token, at
//! most so often per peer address.

use super::*;
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_proto::crediting::verify_hour_certificate_response::Verdict;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The default issuer (`certificates.issuer`) and where its documents are.
const ISSUER: &str = "did:web:ce.mohrss.example";
const DID_URL: &str = "https://ce.mohrss.example/.well-known/did.json";
const LIST_URL: &str = "https://ce.mohrss.example/credentials/status/0";

/// A GET over HTTP/1.1 on a fresh connection, with no token: the status
/// code, the content type and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: ce.mohrss.example\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let code: u16 = status_line[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let body = if header("transfer-encoding") == "chunked" {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (code, header("content-type"), body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// Where tests/vc is, with its packages installed.
fn vc_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vc");
    assert!(
        dir.join("node_modules/@digitalbazaar/vc").is_dir(),
        "{} has no node_modules: `make test` installs them (make test-node: npm ci there)",
        dir.display()
    );
    dir
}

/// What Digital Bazaar's verifier says of `credential`, given the DID
/// document and status list as crediting served them.
#[derive(Debug)]
struct Verified {
    verified: bool,
    errors: Vec<String>,
    status_checked: bool,
    revoked: Option<bool>,
}

fn verify_offline(dir: &Path, credential: &str, did: &str, list: &str) -> Verified {
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let documents = serde_json::json!({
        DID_URL: write("did.json", did),
        LIST_URL: write("status-0.json", list),
    });
    let out = std::process::Command::new("node")
        .arg(dir.join("verify.mjs"))
        .arg(write("credential.json", credential))
        .arg(write("documents.json", &documents.to_string()))
        .current_dir(dir)
        .output()
        .expect("node runs (Debian's nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify.mjs failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    // Only what crediting served was loaded, nothing else.
    for url in v["loaded"].as_array().unwrap() {
        assert!(url == DID_URL || url == LIST_URL, "loaded {url}");
    }
    Verified {
        verified: v["verified"].as_bool().unwrap(),
        errors: v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap_or_default().to_owned())
            .collect(),
        status_checked: v["status"]["checked"].as_bool().unwrap(),
        revoked: v["status"]["revoked"].as_bool(),
    }
}

/// The DID document and status list 0, fetched over HTTP/1.1 with no
/// token, checked for what a verifier relies on.
async fn published(addr: SocketAddr) -> (String, String) {
    let (code, kind, did) = get(addr, "/.well-known/did.json").await;
    assert_eq!(
        (code, kind.as_str()),
        (200, "application/did+json"),
        "{did}"
    );
    let doc: serde_json::Value = serde_json::from_str(&did).unwrap();
    assert_eq!(doc["id"], ISSUER);
    let method = format!("{ISSUER}#certificates-1");
    assert_eq!(doc["assertionMethod"], serde_json::json!([method]));
    assert_eq!(doc["verificationMethod"][0]["type"], "Multikey");
    // An Ed25519 public key as a multikey starts so (0xed 0x01, base58btc).
    let key = doc["verificationMethod"][0]["publicKeyMultibase"]
        .as_str()
        .unwrap();
    assert!(key.starts_with("z6Mk"), "{key}");
    let (code, _, list) = get(addr, "/credentials/status/0").await;
    assert_eq!(code, 200, "{list}");
    let l: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(l["id"], LIST_URL);
    assert_eq!(l["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(l["proof"]["cryptosuite"], "eddsa-jcs-2022");
    (did, list)
}

async fn an_issued_certificate_verifies_offline_with_digital_bazaar_s_libraries_and_its_revocation_shows_in_the_status_list(
    b: Backend,
) {
    let dir = vc_dir();
    let w = world(b).await;
    let project = compliant_year(&w).await;
    let cert = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        },
    ))
    .await;
    let doc: serde_json::Value = serde_json::from_str(&cert.credential).unwrap();
    let status = &doc["credentialStatus"];
    assert_eq!(status["type"], "BitstringStatusListEntry");
    assert_eq!(status["statusPurpose"], "revocation");
    assert_eq!(status["statusListCredential"], LIST_URL);
    let index = status["statusListIndex"].as_str().unwrap();
    assert_eq!(status["id"], format!("{LIST_URL}#{index}"));
    // Numbers are drawn at random, not given in issue order: four
    // certificates of one year get four numbers that are not 0, 1, 2, 3.
    let mut indexes = vec![index.parse::<i64>().unwrap()];
    for _ in 0..3 {
        let again = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
            CreateHourCertificateRequest {
                annual_status: status_name(&w.engineer, 2026),
            },
        ))
        .await;
        let again: serde_json::Value = serde_json::from_str(&again.credential).unwrap();
        indexes.push(
            again["credentialStatus"]["statusListIndex"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
    }
    let mut distinct = indexes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{indexes:?}");
    assert_ne!(indexes, [0, 1, 2, 3], "numbers in issue order");

    let addr = w.env.service.addr();
    let (did, list) = published(addr).await;
    let v = verify_offline(&dir, &cert.credential, &did, &list);
    assert!(v.verified, "{v:?}");
    assert!(v.status_checked, "{v:?}");
    assert_eq!(v.revoked, Some(false), "{v:?}");

    // Art. 27: the year's records revoked, so is its certificate, and its
    // bit in the list is set.
    ce_tests::answer(
        w.env
            .province("44")
            .revoke_hour_records(RevokeHourRecordsRequest {
                names: vec![project.name.clone()],
                reason: "Project report was plagiarised".into(),
                case_reference: "GD-SUP-2026-031".into(),
            }),
    )
    .await;
    let (_, list_after) = published(addr).await;
    let v = verify_offline(&dir, &cert.credential, &did, &list_after);
    assert!(v.status_checked, "{v:?}");
    assert_eq!(v.revoked, Some(true), "{v:?}");

    // An hour figure edited: the signature no longer holds.
    let mut edited = doc.clone();
    edited["credentialSubject"]["result"][0]["value"] = serde_json::json!("120.00");
    let v = verify_offline(&dir, &edited.to_string(), &did, &list_after);
    assert!(!v.verified, "{v:?}");
    assert!(!v.errors.is_empty(), "{v:?}");

    // The old list still verifies as the issuer's, and still says
    // standing: a verifier's copy is as current as when it was fetched.
    let v = verify_offline(&dir, &cert.credential, &did, &list);
    assert_eq!((v.verified, v.revoked), (true, Some(false)), "{v:?}");

    // A list no certificate reaches is not served, nor a list by any
    // other name.
    assert_eq!(get(addr, "/credentials/status/1").await.0, 404);
    assert_eq!(get(addr, "/credentials/status/x").await.0, 404);
    assert_eq!(get(addr, "/credentials/status/00").await.0, 404);
}

/// A client with no token at all.
fn anonymous(w: &World) -> ce_tests::Crediting {
    CreditingServiceClient::with_interceptor(w.env.channel.clone(), ce_tests::bearer(""))
}

async fn verification_needs_no_token_but_is_rate_limited_per_peer(b: Backend) {
    let w = world(b).await;
    compliant_year(&w).await;
    let cert = ce_tests::answer(w.env.engineer(&w.engineer).create_hour_certificate(
        CreateHourCertificateRequest {
            annual_status: status_name(&w.engineer, 2026),
        },
    ))
    .await;
    let request = || VerifyHourCertificateRequest {
        credential: cert.credential.clone(),
    };
    let mut nobody = CreditingServiceClient::new(w.env.channel.clone());
    let v = ce_tests::answer(nobody.verify_hour_certificate(request())).await;
    assert_eq!(v.verdict, Verdict::Valid as i32, "{v:?}");
    assert_eq!(v.hour_certificate, cert.name);
    // Anything else still needs a token.
    let err = ce_tests::refusal(nobody.get_hour_certificate(GetHourCertificateRequest {
        name: cert.name.clone(),
    }))
    .await;
    assert_eq!(err.code(), Code::Unauthenticated);
    // A token sent is checked, as for any call.
    let err = ce_tests::refusal(anonymous(&w).verify_hour_certificate(request())).await;
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = ce_tests::refusal(
        CreditingServiceClient::with_interceptor(
            w.env.channel.clone(),
            ce_tests::bearer("not-a-token"),
        )
        .verify_hour_certificate(request()),
    )
    .await;
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // The default burst is 20 calls (auth.anonymous_burst), refilled at
    // one a second: one was spent above; 40 more at once run past it.
    let mut answers = Vec::new();
    for _ in 0..40 {
        answers.push(nobody.verify_hour_certificate(request()).await);
    }
    let admitted = answers.iter().take_while(|a| a.is_ok()).count();
    assert!((19..40).contains(&admitted), "{admitted} admitted");
    let refused = answers
        .iter()
        .filter_map(|a| a.as_ref().err())
        .collect::<Vec<_>>();
    assert!(!refused.is_empty());
    for err in &refused {
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        use tonic_types::StatusExt;
        assert_eq!(
            err.get_error_details().error_info().unwrap().reason,
            "ANONYMOUS_RATE_LIMITED"
        );
    }
    // A caller with a token is not held to it.
    let v = ce_tests::answer(
        w.env
            .employer(&w.employer)
            .verify_hour_certificate(request()),
    )
    .await;
    assert_eq!(v.verdict, Verdict::Valid as i32);
    // Nor are the published documents.
    assert_eq!(
        get(w.env.service.addr(), "/.well-known/did.json").await.0,
        200
    );
}

/// An issuer `did:web` with a path has its DID document served there, not
/// at `/.well-known/`; a configured status list URL is what certificates
/// name, and crediting still serves list `n` at `/credentials/status/{n}`.
/// An issuer that is not a `did:web` gets no DID document.
async fn a_configured_issuer_and_status_list_url_are_what_certificates_name(b: Backend) {
    let w = world(b).await;
    compliant_year(&w).await;
    let start = |issuer: &'static str, lists: Option<&'static str>| {
        let mut config = w.env.registry.place.config("crediting");
        config
            .peers
            .insert("registry".into(), w.env.registry.service.url());
        config.set("certificates.issuer", issuer);
        if let Some(url) = lists {
            config.set("certificates.status_list_base_url", url);
        }
        ce_tests::start_service(config, |c, s| {
            crediting::start_with_clock(
                c,
                s,
                std::sync::Arc::new(|| time::macros::date!(2026 - 11 - 25)),
            )
        })
    };
    let issuer = "did:web:hrss.example%3A8443:ce:certificates";
    let service = start(issuer, Some("https://lists.example/ce/status/")).await;
    let engineer = ce_tests::token(Role::Engineer, &w.engineer);
    let cert = ce_tests::answer(
        as_role(&w, &service.channel().await, engineer.clone()).create_hour_certificate(
            CreateHourCertificateRequest {
                annual_status: status_name(&w.engineer, 2026),
            },
        ),
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&cert.credential).unwrap();
    assert_eq!(doc["issuer"]["id"], issuer);
    let status = &doc["credentialStatus"];
    assert_eq!(
        status["statusListCredential"],
        "https://lists.example/ce/status/0"
    );
    let (code, kind, did) = get(service.addr(), "/ce/certificates/did.json").await;
    assert_eq!(
        (code, kind.as_str()),
        (200, "application/did+json"),
        "{did}"
    );
    let did: serde_json::Value = serde_json::from_str(&did).unwrap();
    assert_eq!(did["id"], issuer);
    assert_eq!(
        doc["proof"]["verificationMethod"],
        did["assertionMethod"][0]
    );
    // Not at `/.well-known/`: that path is not routed (gRPC's answer).
    let (_, kind, _) = get(service.addr(), "/.well-known/did.json").await;
    assert_ne!(kind, "application/did+json");
    let (code, _, list) = get(service.addr(), "/credentials/status/0").await;
    assert_eq!(code, 200, "{list}");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["id"], "https://lists.example/ce/status/0");
    assert_eq!(list["issuer"], issuer);
    service.stop().await;

    // A URL issuer: no DID document, and no status entry without a URL.
    let service = start("https://hrss.example/ce", None).await;
    let cert = ce_tests::answer(
        as_role(&w, &service.channel().await, engineer).create_hour_certificate(
            CreateHourCertificateRequest {
                annual_status: status_name(&w.engineer, 2026),
            },
        ),
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(&cert.credential).unwrap();
    assert_eq!(doc.get("credentialStatus"), None);
    let (_, kind, _) = get(service.addr(), "/.well-known/did.json").await;
    assert_ne!(kind, "application/did+json");
    let (_, kind, _) = get(service.addr(), "/credentials/status/0").await;
    assert_ne!(kind, "application/vc");
}

both_backends!(
    an_issued_certificate_verifies_offline_with_digital_bazaar_s_libraries_and_its_revocation_shows_in_the_status_list,
    verification_needs_no_token_but_is_rate_limited_per_peer,
    a_configured_issuer_and_status_list_url_are_what_certificates_name,
);
