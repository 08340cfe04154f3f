//! `crediting-on`: the crediting service as its binary runs it, but with
//! "today" fixed by `CE_TEST_TODAY` (YYYY-MM-DD), for tests that run it as a
//! process and must not depend on the real date (Art. 17, 21 refuse future
//! dates and years that have ended). Test support only; not shipped.

#![allow(clippy::expect_used)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let today = std::env::var("CE_TEST_TODAY").expect("CE_TEST_TODAY=YYYY-MM-DD");
    let today = time::Date::parse(
        &today,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .expect("CE_TEST_TODAY is YYYY-MM-DD");
    ce_server::app::run_main(crediting::SERVICE, crediting::DEFAULT_PORT, move |c, s| {
        crediting::start_with_clock(c, s, std::sync::Arc::new(move || today))
    })
    .await
}
