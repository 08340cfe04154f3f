//! What a verifier outside the suite needs to check a certificate without
//! a token or a call to crediting's API: the issuer's DID document
//! (`did:web`) with the certificates' public key, and the revocation
//! status lists (W3C Bitstring Status List v1.0), served over plain HTTP
//! beside gRPC, with no token (docs/architecture.md, "Certificates anyone
//! can verify").
//!
//! Every certificate gets a number when it is issued (its status index,
//! drawn at random, never reused: `store::certificates::allocate_status_index`);
//! list `n` holds numbers `n * LIST_BITS ..` and its bit for
//! a certificate is set once the certificate is revoked (Art. 27, or
//! superseded). A list is built from the stored revocations when it is
//! asked for, and signed like the certificates (`eddsa-jcs-2022`), so it is
//! as current as the database.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use ce_db::{Db, DbError};
use serde_json::{Value, json};
use tonic::body::Body;

use crate::certificates::Signer;
use crate::store;

/// Bits in one status list: 131,072 (16 KiB), the specification's
/// minimum, so one list cannot tell much about one certificate.
pub const LIST_BITS: i64 = 131_072;
/// How many lists hold `given` certificates' numbers: enough that at most
/// half their bits are given, so a number drawn at random among them is
/// free at the first or second draw, on average; at least one.
pub fn lists_for(given: i64) -> i64 {
    ((2 * given.max(0) + LIST_BITS - 1) / LIST_BITS).max(1)
}

/// Where crediting serves list `n`: `{STATUS_PATH}/{n}`.
pub const STATUS_PATH: &str = "/credentials/status";
/// The only purpose the lists state.
const PURPOSE: &str = "revocation";

/// A `did:web` DID's host (its port's `%3A` decoded) and the path its
/// document is served at: `did:web:host` → `/.well-known/did.json`,
/// `did:web:host:a:b` → `/a/b/did.json`. None for any other DID or URL.
pub fn did_web(did: &str) -> Option<(String, String)> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = percent_decode(parts.next()?)?;
    if host.is_empty() || host.contains(['/', '#', '?']) {
        return None;
    }
    let segments: Vec<String> = parts.map(percent_decode).collect::<Option<_>>()?;
    if segments
        .iter()
        .any(|s| s.is_empty() || s.contains(['/', '#', '?']))
    {
        return None;
    }
    let path = if segments.is_empty() {
        "/.well-known/did.json".to_owned()
    } else {
        format!("/{}/did.json", segments.join("/"))
    };
    Some((host, path))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The issuer's DID document: its certificates key as a `Multikey`
/// (`z` + base58btc of `0xed 0x01` and the 32-byte Ed25519 public key),
/// the key certificates are asserted with. None unless the issuer is a
/// `did:web`.
pub fn did_document(signer: &Signer) -> Option<Value> {
    did_web(signer.issuer())?;
    let did = signer.issuer();
    let mut key = vec![0xed, 0x01];
    key.extend_from_slice(signer.verifying_key().as_bytes());
    let method = signer.method();
    Some(json!({
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/multikey/v1"
        ],
        "id": did,
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": format!("z{}", bs58::encode(key).into_string()),
        }],
        "assertionMethod": [method],
    }))
}

/// The URL of status list `n`.
fn list_url(base: &str, n: i64) -> String {
    format!("{base}/{n}")
}

/// A certificate's `credentialStatus`: its bit in its list. None when no
/// status list URL is known (`certificates.status_list_base_url`).
pub fn status_entry(signer: &Signer, index: i64) -> Option<Value> {
    let url = list_url(signer.status_lists()?, index / LIST_BITS);
    let bit = index % LIST_BITS;
    Some(json!({
        "id": format!("{url}#{bit}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": PURPOSE,
        "statusListIndex": bit.to_string(),
        "statusListCredential": url,
    }))
}

/// The list's bits as the specification encodes them: bit 0 is the most
/// significant bit of the first byte; GZIP, then base64url without padding
/// after a multibase `u`.
pub fn encoded_list(set: &[i64]) -> Result<String, std::io::Error> {
    let mut bits = vec![0u8; (LIST_BITS / 8) as usize];
    for &i in set {
        if let Ok(i) = usize::try_from(i)
            && let Some(byte) = bits.get_mut(i / 8)
        {
            *byte |= 0x80 >> (i % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bits)?;
    let zipped = gz.finish()?;
    Ok(format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
    ))
}

/// Status list `n` as a signed `BitstringStatusListCredential`, with the
/// bits of `revoked` (positions in the list) set, valid from `now`.
pub fn status_list_credential(
    signer: &Signer,
    n: i64,
    revoked: &[i64],
    now: &str,
) -> Result<Value, ce_server::ApiError> {
    let base = signer
        .status_lists()
        .ok_or_else(|| ce_server::ApiError::Internal("no status list URL".into()))?;
    let url = list_url(base, n);
    let encoded =
        encoded_list(revoked).map_err(|e| ce_server::ApiError::Internal(e.to_string()))?;
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": signer.issuer(),
        "validFrom": now,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": PURPOSE,
            "encodedList": encoded,
        },
    });
    signer.sign(unsigned, now)
}

/// Serves the DID document and the status lists over HTTP (GET), with no
/// token (`ce_server::auth` lets these paths through).
#[derive(Clone)]
pub struct Published {
    signer: Arc<Signer>,
    db: Db,
}

impl std::fmt::Debug for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Published")
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl Published {
    pub fn new(signer: Arc<Signer>, db: Db) -> Published {
        Published { signer, db }
    }

    /// `routes` with this service's paths added: the DID document where
    /// the issuer's `did:web` says (none for another issuer), and the
    /// status lists at `/credentials/status/{n}` (when certificates carry
    /// status entries).
    pub fn route(self, routes: tonic::service::Routes) -> tonic::service::Routes {
        let mut router = routes.into_axum_router();
        if let Some((_, path)) = did_web(self.signer.issuer()) {
            router = router.route_service(&path, self.clone());
        }
        if self.signer.status_lists().is_some() {
            router = router.route_service(&format!("{STATUS_PATH}/{{n}}"), self);
        }
        tonic::service::Routes::from(router)
    }

    async fn answer(self, path: String) -> http::Response<Body> {
        let found = match path
            .strip_prefix(STATUS_PATH)
            .and_then(|p| p.strip_prefix('/'))
        {
            Some(digits) => match digits.parse::<i64>() {
                Ok(n) if n >= 0 && n.to_string() == digits => self.list(n).await,
                _ => Ok(None),
            },
            None => Ok(did_document(&self.signer).map(|d| ("application/did+json", d))),
        };
        match found {
            Ok(Some((kind, document))) => http::Response::builder()
                .header(http::header::CONTENT_TYPE, kind)
                .header(http::header::CACHE_CONTROL, "no-cache")
                .header("access-control-allow-origin", "*")
                .body(Body::new(
                    serde_json::to_string_pretty(&document).unwrap_or_default(),
                )),
            Ok(None) => plain(http::StatusCode::NOT_FOUND, "not found"),
            Err(e) => {
                tracing::error!(error = %e, %path, "could not build a published document");
                plain(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable: retry later",
                )
            }
        }
        .unwrap_or_default()
    }

    /// Status list `n`, unless no certificate has a number in it yet.
    async fn list(&self, n: i64) -> Result<Option<(&'static str, Value)>, ce_server::ApiError> {
        let Some(from) = n.checked_mul(LIST_BITS) else {
            return Ok(None);
        };
        let (given, revoked) = self
            .db
            .read(move |conn| -> Result<_, DbError> {
                let given = store::certificates::status_indexes_given(conn)?;
                if n >= lists_for(given) {
                    return Ok((given, Vec::new()));
                }
                let revoked = store::certificates::revoked_indexes(conn, from, from + LIST_BITS)?;
                Ok((given, revoked))
            })
            .await?;
        if n >= lists_for(given) {
            return Ok(None);
        }
        let bits: Vec<i64> = revoked.iter().map(|i| i - from).collect();
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let credential = status_list_credential(&self.signer, n, &bits, &now)?;
        Ok(Some(("application/vc", credential)))
    }
}

fn plain(status: http::StatusCode, text: &str) -> http::Result<http::Response<Body>> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::new(text.to_owned()))
}

impl<B> tower::Service<http::Request<B>> for Published {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.method() != http::Method::GET {
            return Box::pin(std::future::ready(Ok(plain(
                http::StatusCode::METHOD_NOT_ALLOWED,
                "only GET",
            )
            .unwrap_or_default())));
        }
        let path = req.uri().path().to_owned();
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(path).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_grow_so_that_at_most_half_their_bits_are_given() {
        assert_eq!(lists_for(0), 1);
        assert_eq!(lists_for(LIST_BITS / 2), 1);
        assert_eq!(lists_for(LIST_BITS / 2 + 1), 2);
        assert_eq!(lists_for(LIST_BITS), 2);
        assert_eq!(lists_for(3 * LIST_BITS), 6);
    }

    #[test]
    fn did_web_maps_to_its_document_s_path() {
        assert_eq!(
            did_web("did:web:ce.mohrss.example"),
            Some(("ce.mohrss.example".into(), "/.well-known/did.json".into()))
        );
        assert_eq!(
            did_web("did:web:localhost%3A8443:ce:issuers"),
            Some(("localhost:8443".into(), "/ce/issuers/did.json".into()))
        );
        assert_eq!(did_web("did:key:z6Mk"), None);
        assert_eq!(did_web("https://ce.example"), None);
        assert_eq!(did_web("did:web:"), None);
        assert_eq!(did_web("did:web:host::x"), None);
    }

    #[test]
    fn bit_zero_is_the_first_byte_s_most_significant_bit() {
        use std::io::Read as _;
        let encoded = encoded_list(&[0, 9, LIST_BITS - 1, LIST_BITS]).unwrap();
        let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded.strip_prefix('u').unwrap())
            .unwrap();
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_end(&mut bits)
            .unwrap();
        assert_eq!(bits.len(), 16 * 1024);
        assert_eq!(&bits[..2], &[0x80, 0x40]);
        assert_eq!(bits[bits.len() - 1], 0x01);
        assert_eq!(bits.iter().map(|b| b.count_ones()).sum::<u32>(), 3);
    }
}
