//! The built-in dashboard page (`/dashboard/index.html`): one static HTML file, no
//! build step, that calls this service through gRPC-Web. The viewer signs in by
//! pasting a token into the page's form; the page keeps it in the tab's
//! `sessionStorage` and sends it only in the `authorization` header, never in
//! the URL (an old `#token=` link is refused and scrubbed from the address).
//! The page carries no data of its own, so it is served without a token.

use std::convert::Infallible;
use std::future::Ready;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::NamedService;

/// The page as written, compiled in; served with [`REFERENCE_MARK`]
/// replaced by the reference data ([`index`]).
pub const INDEX: &str = include_str!("../dashboard/index.html");

/// Where the page takes the field and province names: a script comment
/// that [`index`] replaces with a JSON object.
pub const REFERENCE_MARK: &str = "/*REFERENCE*/";

/// A JSON string literal of `s`.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("\\u003c"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Art. 29 fields and the provinces, in Chinese and English, from
/// `ce_proto::reference` (the registry's `ListFields` and `ListProvinces`
/// serve the same), and the first year the regulation covers (no period
/// before it exists): `{"fields": {"18": ["FIELD_CONSTRUCTION", "建筑",
/// "Construction"], …}, "regions": {"44": ["广东省", "Guangdong"], …},
/// "firstYear": 2026}`.
pub fn reference_json() -> String {
    let fields: Vec<String> = ce_proto::reference::FIELDS
        .iter()
        .map(|(f, zh, en)| {
            format!(
                "\"{}\":[{},{},{}]",
                *f as i32,
                json_string(f.as_str_name()),
                json_string(zh),
                json_string(en)
            )
        })
        .collect();
    let regions: Vec<String> = ce_proto::reference::REGIONS
        .iter()
        .map(|r| {
            format!(
                "{}:[{},{}]",
                json_string(r.code),
                json_string(r.name_zh),
                json_string(r.name_en)
            )
        })
        .collect();
    format!(
        "{{\"fields\":{{{}}},\"regions\":{{{}}},\"firstYear\":{}}}",
        fields.join(","),
        regions.join(","),
        ce_rules::ruleset::FIRST_YEAR
    )
}

/// The page as served: [`INDEX`] with the reference data in place.
pub fn index() -> &'static str {
    static PAGE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| INDEX.replacen(REFERENCE_MARK, &reference_json(), 1));
    &PAGE
}

/// Serves the page at `/dashboard/index.html` (`/dashboard` and
/// `/dashboard/` redirect there: `ce_server::web`).
#[derive(Debug, Clone, Default)]
pub struct Dashboard;

impl NamedService for Dashboard {
    const NAME: &'static str = "dashboard";
}

impl tower::Service<http::Request<Body>> for Dashboard {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let found =
            req.method() == http::Method::GET && req.uri().path() == "/dashboard/index.html";
        let response = if found {
            http::Response::builder()
                .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(http::header::CACHE_CONTROL, "no-cache")
                .header("x-content-type-options", "nosniff")
                .body(Body::new(index().to_owned()))
        } else {
            http::Response::builder()
                .status(http::StatusCode::NOT_FOUND)
                .body(Body::new(String::from("not found")))
        };
        std::future::ready(Ok(response.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_gets_every_field_and_province_in_both_languages() {
        assert!(INDEX.contains(REFERENCE_MARK), "the page has its mark");
        let page = index();
        assert!(!page.contains(REFERENCE_MARK));
        assert!(page.contains(r#""18":["FIELD_CONSTRUCTION","建筑","Construction"]"#));
        assert!(page.contains(r#""44":["广东省","Guangdong"]"#));
        assert!(page.contains(&format!(
            r#""firstYear":{}}}"#,
            ce_rules::ruleset::FIRST_YEAR
        )));
        assert_eq!(
            json_string("a\"b\\c</script>"),
            r#""a\"b\\c\u003c/script>""#
        );
    }
}
