//! The dashboard page in a real browser: the ranking and a drill-down,
//! with the token kept out of the address.

use super::*;

/// The `<tr>` of the ranking that shows `institution`.
fn row_of<'a>(dom: &'a str, institution: &str) -> &'a str {
    let marker = format!("data-institution=\"{institution}\"");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("{institution} not ranked: {dom}"));
    let start = dom[..at].rfind("<tr").unwrap();
    let end = at + dom[at..].find("</tr>").unwrap();
    &dom[start..end]
}

/// Where the dashboard keeps the viewer's token: the tab's `sessionStorage`.
const TOKEN_KEY: &str = "sessionStorage.getItem('ce-quality-dashboard-token')";

/// The page has settled: signed out (its form), loaded, or failed.
const SETTLED: &str = "['signin', 'yes', 'error'].includes(document.body.dataset.ready)";

/// Pastes `token` into the page's sign-in form, submits it with the
/// button, and returns the page once it has loaded (or failed).
async fn sign_in(browser: &mut Browser, token: &str) -> String {
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
    browser.paste("#token-input", token).await;
    browser.click("#signin button[type=submit]").await;
    browser.wait_for(SETTLED).await;
    browser.dom().await
}

/// The token is nowhere in the tab's address or history, and the tab's
/// `sessionStorage` holds `kept` (nothing when `None`).
async fn token_kept_out_of_the_address(browser: &mut Browser, token: &str, kept: Option<&str>) {
    let href = browser.href().await;
    assert!(
        !href.contains(token) && !href.contains('#'),
        "the address carries no token: {href}"
    );
    for url in browser.history().await {
        assert!(!url.contains(token), "nor does the history: {url}");
    }
    assert_eq!(
        browser.eval(TOKEN_KEY).await.as_str(),
        kept,
        "what the tab keeps"
    );
}

async fn the_dashboard_page_shows_the_ranking_and_a_drill_down_in_a_real_browser(b: Backend) {
    let env = QualityEnv::start(b).await;
    let good = institution(&env, "Good Academy").await;
    let poor = institution(&env, "Poor Academy").await;
    // An earlier period for the good one, so its history spans two periods.
    let learners = env.learners(&good, 30).await;
    ce_tests::answer(env.client(institution_token(&good)).submit_evaluations(
        SubmitEvaluationsRequest {
            period: "2026-H1".into(),
            ..upload(&good, &learners, 4)
        },
    ))
    .await;
    evaluations(&env, &good, 40, 5).await;
    indicator(&env, &good, Indicator::PassRate, 1.0, 100).await;
    evaluations(&env, &poor, 40, 2).await;
    let page = format!(
        "http://{}/dashboard/index.html?period=2026",
        env.service.addr()
    );
    let mut browser = Browser::launch().await;

    // Without a token the page asks for one, and shows nothing else.
    browser.goto(&page).await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(!dom.contains(&good) && !dom.contains("<td"), "{dom}");

    let token =
        a_province_sees_the_ranking_and_a_drill_down(&env, &mut browser, &good, &poor).await;

    // A reload keeps the viewer signed in, from the tab's sessionStorage.
    browser.reload().await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    assert!(dom.contains(&format!("Institution {good}")), "{dom}");
    token_kept_out_of_the_address(&mut browser, &token, Some(&token)).await;

    // Signing out forgets the token and the data. It reloads the page, so
    // wait for the signed-out page itself: the old one stays "yes" until
    // the reload replaces it.
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(!dom.contains(&good), "{dom}");
    token_kept_out_of_the_address(&mut browser, &token, None).await;

    an_institution_opens_only_its_own_breakdown(&env, &mut browser, &good, &poor).await;
    a_refused_token_is_forgotten(&mut browser, &good).await;
    an_old_link_loses_its_token(&env, &mut browser, &page, &good).await;
}

/// A province signs in through the form, sees the ranking and opens the first institution; returns its token.
async fn a_province_sees_the_ranking_and_a_drill_down(
    env: &QualityEnv,
    browser: &mut Browser,
    good: &str,
    poor: &str,
) -> String {
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..province("44")
    });
    let dom = sign_in(browser, &token).await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    token_kept_out_of_the_address(browser, &token, Some(&token)).await;
    assert_eq!(
        browser
            .eval("document.getElementById('token-input').value")
            .await,
        "",
        "the form does not keep the token"
    );
    // The ranking: the good institution first with its A, the poor one with its D.
    let first = dom.find(good).expect("good institution listed");
    let second = dom.find(poor).expect("poor institution listed");
    assert!(first < second, "ranked best first");
    assert!(dom.contains(">A<") && dom.contains(">D<"), "{dom}");
    assert!(dom.contains("2 institutions"));
    assert!(
        row_of(&dom, poor).contains("class=\"pick\""),
        "a province opens any of its own"
    );
    // The period is open: the results are marked provisional.
    assert!(
        row_of(&dom, poor).contains(">provisional<"),
        "{}",
        row_of(&dom, poor)
    );
    // The drill-down of the first: its indicators and its history across
    // periods, the latest score of each, H1 (evaluations of 4: 75) first.
    assert!(dom.contains(&format!("Institution {good}")));
    assert!(
        dom.contains(">Evaluation<") && dom.contains(">Pass rate<"),
        "{dom}"
    );
    assert!(
        dom.contains("data-scores=\"75.00 100.00\"")
            && dom.contains("data-periods=\"2026-H1 2026\""),
        "one point a period, oldest first: {dom}"
    );
    token
}

/// The poor institution opens its own breakdown, not the leader's, and sees the others' grades only.
async fn an_institution_opens_only_its_own_breakdown(
    env: &QualityEnv,
    browser: &mut Browser,
    good: &str,
    poor: &str,
) {
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..institution_token(poor)
    });
    let dom = sign_in(browser, &token).await;
    assert!(
        dom.contains("data-ready=\"yes\""),
        "an institution's page loads: {dom}"
    );
    token_kept_out_of_the_address(browser, &token, Some(&token)).await;
    assert!(dom.contains(&format!("Institution {poor}")), "{dom}");
    assert!(dom.contains(&format!("Signed in as {poor}")), "{dom}");
    assert!(
        row_of(&dom, good).contains(">A<"),
        "the leader's grade is shown"
    );
    assert!(!row_of(&dom, good).contains("pick"), "but it does not open");
    assert!(
        !row_of(&dom, good).contains(".00<") && row_of(&dom, good).contains(">–<"),
        "nor shows its score: {}",
        row_of(&dom, good)
    );
    assert!(row_of(&dom, poor).contains("class=\"pick\""));
    assert!(dom.contains(">Evaluation<"), "its own breakdown: {dom}");
    // Its history has one period: a point with its value, not an empty box.
    let at = dom.find("id=\"history\"").expect("the history chart");
    let history = &dom[at..at + dom[at..].find("</svg>").unwrap()];
    assert_eq!(history.matches("<circle").count(), 1, "{history}");
    let score = history
        .split("data-score=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("the point's score: {history}"));
    assert!(
        history.contains(&format!(">{score:.1}</text>")) && history.contains(">2026</text>"),
        "its value and period shown: {history}"
    );
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
}

/// A token the service refuses: the page says so, forgets it, and asks again.
async fn a_refused_token_is_forgotten(browser: &mut Browser, good: &str) {
    let dom = sign_in(browser, "not-a-token").await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(dom.contains("The service refused this token"), "{dom}");
    assert!(!dom.contains(good), "{dom}");
    token_kept_out_of_the_address(browser, "not-a-token", None).await;
}

/// An old link with the token in its fragment: refused, and the token taken out of the tab.
async fn an_old_link_loses_its_token(
    env: &QualityEnv,
    browser: &mut Browser,
    page: &str,
    good: &str,
) {
    // An old link with the token in its fragment: refused, and the fragment
    // is taken out of the address and of the tab's history, whether the link
    // is typed over the page's address or opened afresh.
    let token = env.registry.place.token(TokenRequest {
        ttl_secs: 600,
        ..province("44")
    });
    let old_link = format!("{page}#token={token}");
    for fresh in [false, true] {
        if fresh {
            browser.goto("about:blank").await;
        }
        browser.goto(&old_link).await;
        browser
            .wait_for("document.getElementById('notice').textContent.includes('carried a token')")
            .await;
        browser.wait_for(SETTLED).await;
        let dom = browser.dom().await;
        assert!(dom.contains("data-ready=\"signin\""), "{dom}");
        assert!(!dom.contains(good), "{dom}");
        token_kept_out_of_the_address(browser, &token, None).await;
        assert_eq!(browser.href().await, page);
    }
}

both_backends!(the_dashboard_page_shows_the_ranking_and_a_drill_down_in_a_real_browser);
