//! The dashboard page in a real browser, as a provincial officer, an
//! industry regulator and an institution see it: in Chinese first, then in
//! English; the province overview's figures against what the APIs answer
//! the same token; the ranking by name and credit code and a drill-down;
//! with the token kept out of the address. A screenshot of each view is
//! kept under `target/test-artefacts/`.

use super::*;

use std::path::PathBuf;

use ce_proto::crediting::GetComplianceStatisticsRequest;
use ce_proto::supervision::ViolationState;
use serde_json::Value;

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

/// Where the screenshot of `view` on `b` is kept.
fn artefact(view: &str, b: Backend) -> PathBuf {
    let backend = format!("{b:?}").to_lowercase();
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-artefacts")
        .join(format!("dashboard-{view}-{backend}.png"))
}

/// The text of each cell of each row `rows` selects, as a person reads it.
async fn table(browser: &mut Browser, rows: &str) -> Vec<Vec<String>> {
    let js = format!(
        "[...document.querySelectorAll({})].map(tr => [...tr.children].map(td => td.textContent.trim()))",
        Value::from(rows)
    );
    serde_json::from_value(browser.eval(&js).await).unwrap()
}

/// The text of the element `selector`.
async fn text(browser: &mut Browser, selector: &str) -> String {
    let js = format!(
        "document.querySelector({}).textContent",
        Value::from(selector)
    );
    browser
        .eval(&js)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The language the page is shown in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lang {
    Zh,
    En,
}

fn field_name(field: i32, lang: Lang) -> &'static str {
    let f = ce_proto::reference::FIELDS
        .iter()
        .find(|f| f.0 as i32 == field)
        .unwrap_or_else(|| panic!("field {field}"));
    if lang == Lang::Zh { f.1 } else { f.2 }
}

fn region_name(code: &str, lang: Lang) -> &'static str {
    let r = ce_proto::reference::region(code).unwrap_or_else(|| panic!("region {code}"));
    if lang == Lang::Zh {
        r.name_zh
    } else {
        r.name_en
    }
}

/// The overview's scope: a province or a field, or both, or neither.
#[derive(Debug, Clone, Copy, Default)]
struct Scope<'a> {
    province: &'a str,
    field: Option<Field>,
}

/// The overview's tables and trend as `req`'s token sees them in the page,
/// each against what the services answer the same viewer over gRPC.
async fn overview_matches_the_apis(
    env: &QualityEnv,
    browser: &mut Browser,
    req: &TokenRequest,
    scope: Scope<'_>,
    lang: Lang,
) {
    compliance_matches(env, browser, req, scope, lang).await;
    grades_match(env, browser, req, scope, lang).await;
    violations_match(env, browser, req, scope, lang).await;
    trend_matches(env, browser, req, scope).await;
}

/// The compliance table against crediting's statistics.
async fn compliance_matches(
    env: &QualityEnv,
    browser: &mut Browser,
    req: &TokenRequest,
    scope: Scope<'_>,
    lang: Lang,
) {
    let field = scope.field.map_or(0, |f| f as i32);
    // Compliance by field and year (crediting, Art. 22): the period's year
    // and the four before it, none before the regulation's first, latest
    // first.
    let mut expected: Vec<Vec<String>> = Vec::new();
    for year in (ce_rules::ruleset::FIRST_YEAR.max(2022)..=2026).rev() {
        let stats = ce_tests::answer(env.crediting(req.clone()).await.get_compliance_statistics(
            GetComplianceStatisticsRequest {
                year,
                province: scope.province.into(),
                field,
            },
        ))
        .await;
        assert!(
            year < 2026 || !stats.rows.is_empty(),
            "some engineers' years: {stats:?}"
        );
        let compliance_row = |r: &ce_proto::crediting::ComplianceRow, total: bool| {
            vec![
                year.to_string(),
                match (total, lang) {
                    (true, Lang::Zh) => "合计".to_owned(),
                    (true, Lang::En) => "Total".to_owned(),
                    (false, _) => region_name(&r.province, lang).to_owned(),
                },
                if total {
                    String::new()
                } else {
                    field_name(r.field, lang).to_owned()
                },
                r.engineers.to_string(),
                (r.compliant + r.deemed_complete + r.made_up).to_string(),
                format!("{:.1}%", 100.0 * r.completion_rate),
                r.in_progress.to_string(),
                r.deferred.to_string(),
                r.non_compliant.to_string(),
            ]
        };
        expected.extend(stats.rows.iter().map(|r| compliance_row(r, false)));
        if stats.rows.len() > 1 {
            expected.push(compliance_row(stats.total.as_ref().unwrap(), true));
        }
    }
    assert_eq!(table(browser, "#compliance tbody tr").await, expected);
}

/// The grade distribution against quality's.
async fn grades_match(
    env: &QualityEnv,
    browser: &mut Browser,
    req: &TokenRequest,
    scope: Scope<'_>,
    lang: Lang,
) {
    let field = scope.field.map_or(0, |f| f as i32);
    // The grade distribution (quality).
    let dist = ce_tests::answer(env.client(req.clone()).get_score_distribution(
        GetScoreDistributionRequest {
            period: "2026".into(),
            province: scope.province.into(),
            field,
        },
    ))
    .await;
    assert!(!dist.rows.is_empty(), "{dist:?}");
    let mut grades: Vec<&str> = dist
        .rows
        .iter()
        .flat_map(|r| r.grades.iter().map(|g| g.grade.as_str()))
        .collect();
    grades.sort_unstable();
    grades.dedup();
    let expected: Vec<Vec<String>> = dist
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                region_name(&r.province, lang).to_owned(),
                field_name(r.field, lang).to_owned(),
            ];
            for g in &grades {
                let n = r
                    .grades
                    .iter()
                    .find(|x| x.grade == *g)
                    .map_or(0, |x| x.institutions);
                row.push(n.to_string());
            }
            row.push(r.insufficient_data.to_string());
            row.push(if r.grades.is_empty() {
                "–".to_owned()
            } else {
                format!("{:.2}", r.mean_score)
            });
            row
        })
        .collect();
    assert_eq!(table(browser, "#grades tbody tr").await, expected);
}

/// The open violations by category against supervision's list.
async fn violations_match(
    env: &QualityEnv,
    browser: &mut Browser,
    req: &TokenRequest,
    scope: Scope<'_>,
    lang: Lang,
) {
    let field = scope.field.map_or(0, |f| f as i32);
    // Open violations by category (supervision).
    let open = ce_tests::cases::violations(
        &mut env.supervision(req.clone()),
        ListViolationsRequest {
            page_size: 1000,
            province: scope.province.into(),
            field,
            state: ViolationState::Open as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(!open.is_empty());
    let mut counts = std::collections::BTreeMap::<i32, usize>::new();
    for v in &open {
        *counts.entry(v.category).or_default() += 1;
    }
    let mut counts: Vec<(i32, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown = table(browser, "#violations tbody tr").await;
    assert_eq!(shown.len(), counts.len(), "{shown:?}");
    for ((category, n), row) in counts.iter().zip(&shown) {
        assert_eq!(row[1], n.to_string(), "{shown:?}");
        assert_eq!(row[0], category_name(*category, lang), "{shown:?}");
    }
}

/// The trend against quality's rankings of the periods.
async fn trend_matches(
    env: &QualityEnv,
    browser: &mut Browser,
    req: &TokenRequest,
    scope: Scope<'_>,
) {
    let field = scope.field.map_or(0, |f| f as i32);
    // The trend: the mean score of each of the last five years with
    // scores, none before the regulation's first.
    let mut means = Vec::new();
    let mut periods = Vec::new();
    let mut grades = Vec::new();
    for year in ce_rules::ruleset::FIRST_YEAR.max(2022)..=2026 {
        let scores = ce_tests::answer(env.client(req.clone()).list_scores(ListScoresRequest {
            page_size: 1000,
            period: year.to_string(),
            province: scope.province.into(),
            field,
            ..Default::default()
        }))
        .await
        .scores;
        let scored: Vec<&Score> = scores
            .iter()
            .filter(|s| s.state == ScoreState::Scored as i32)
            .collect();
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for s in &scored {
            *counts.entry(s.grade.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = counts.iter().map(|(g, n)| format!("{g} {n}")).collect();
        let scored: Vec<f64> = scored.iter().map(|s| s.score).collect();
        if !scored.is_empty() {
            grades.push(counts.join(" · "));
            means.push(format!(
                "{:.2}",
                scored.iter().sum::<f64>() / scored.len() as f64
            ));
            periods.push(year.to_string());
        }
    }
    let line = "document.querySelector('#trend polyline')";
    assert_eq!(
        browser.eval(&format!("{line}.dataset.means")).await,
        means.join(" ")
    );
    assert_eq!(
        browser.eval(&format!("{line}.dataset.periods")).await,
        periods.join(" ")
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#trend circle').length")
            .await,
        Value::from(means.len()),
        "a point a period, a single one too"
    );
    assert_eq!(
        browser
            .eval("[...document.querySelectorAll('#trend text.grades')].map(e => e.textContent)")
            .await,
        Value::from(grades),
        "institutions per grade under each period"
    );
}

/// How the page names the violation categories the test uses.
fn category_name(category: i32, lang: Lang) -> &'static str {
    match (ViolationCategory::try_from(category), lang) {
        (Ok(ViolationCategory::ImproperFees), Lang::Zh) => "违规收费",
        (Ok(ViolationCategory::ImproperFees), Lang::En) => "Improper fees",
        (Ok(ViolationCategory::Obligations), Lang::Zh) => "未履行继续教育义务",
        (Ok(ViolationCategory::Obligations), Lang::En) => "Obligations",
        other => panic!("no name in this test for {other:?}"),
    }
}

async fn the_dashboard_page_shows_the_ranking_and_a_drill_down_in_a_real_browser(b: Backend) {
    let env = QualityEnv::start(b).await;
    let good = institution(&env, "Good Academy").await;
    let poor = institution(&env, "Poor Academy").await;
    // Another field's institution of the same province: the construction
    // regulator does not see it.
    let power = institution_serving(&env, "Power Academy", &[Field::ElectricPower]).await;
    // An earlier period for the good one, so its history spans two periods.
    let learners = env.learners(&good, 30).await;
    ce_tests::answer(env.client(institution_token(&good)).submit_evaluations(
        SubmitEvaluationsRequest {
            period: "2026-H1".into(),
            ..upload(&good, &learners, 4)
        },
    ))
    .await;
    confirm_hours(&env, &learners).await;
    evaluations(&env, &good, 40, 5).await;
    indicator(&env, &good, Indicator::PassRate, 1.0, 100).await;
    evaluations(&env, &poor, 40, 2).await;
    evaluations(&env, &power, 30, 4).await;
    let power_learners = env.learners(&power, 3).await;
    confirm_hours(&env, &power_learners).await;
    let mut gd = env.supervision(province("44"));
    ce_tests::cases::open(
        &mut gd,
        ce_tests::cases::case_of(&poor, ViolationCategory::ImproperFees),
    )
    .await;
    ce_tests::cases::open(
        &mut gd,
        ce_tests::cases::case_of(&power, ViolationCategory::ImproperFees),
    )
    .await;
    ce_tests::cases::open(
        &mut gd,
        ce_tests::cases::case_of(&power, ViolationCategory::Obligations),
    )
    .await;
    let page = format!(
        "http://{}/dashboard/index.html?period=2026",
        env.service.addr()
    );
    let mut browser = Browser::launch().await;

    // Without a token the page asks for one, in Chinese, and shows nothing else.
    browser.goto(&page).await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(dom.contains("<html lang=\"zh-CN\""), "Chinese first: {dom}");
    assert_eq!(text(&mut browser, "#signin button").await, "登录");
    assert!(!dom.contains(&good) && !dom.contains("<td"), "{dom}");

    let token = a_province_sees_its_overview_ranking_and_a_drill_down(
        &env,
        &mut browser,
        b,
        [&good, &poor, &power],
    )
    .await;

    // A reload keeps the viewer signed in, from the tab's sessionStorage,
    // and the page in the language chosen (English, now).
    browser.reload().await;
    browser.wait_for(SETTLED).await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    assert!(dom.contains("<html lang=\"en\""), "{dom}");
    assert!(
        dom.contains(&format!(
            "data-institution=\"{good}\">Institution: Good Academy"
        )),
        "{dom}"
    );
    token_kept_out_of_the_address(&mut browser, &token, Some(&token)).await;
    // Back to Chinese for the rest.
    browser.click("#lang").await;
    browser
        .wait_for("document.documentElement.lang === 'zh-CN'")
        .await;

    // Signing out forgets the token and the data. It reloads the page, so
    // wait for the signed-out page itself: the old one stays "yes" until
    // the reload replaces it.
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
    let dom = browser.dom().await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(
        !dom.contains(&good) && !dom.contains("Good Academy"),
        "{dom}"
    );
    token_kept_out_of_the_address(&mut browser, &token, None).await;

    a_regulator_sees_its_field(&env, &mut browser, b, [&good, &poor, &power]).await;
    an_institution_opens_only_its_own_breakdown(&env, &mut browser, b, &good, &poor).await;
    a_refused_token_is_forgotten(&mut browser, &good).await;
    an_old_link_loses_its_token(&env, &mut browser, &page, &good).await;
}

/// A province signs in through the form and sees, in Chinese, its overview
/// (figures as the APIs give them to it), the ranking by name and credit
/// code, and the first institution's drill-down; then switches to English.
/// Returns its token.
async fn a_province_sees_its_overview_ranking_and_a_drill_down(
    env: &QualityEnv,
    browser: &mut Browser,
    b: Backend,
    [good, poor, power]: [&str; 3],
) -> String {
    let req = TokenRequest {
        ttl_secs: 600,
        ..province("44")
    };
    let token = env.registry.place.token(req.clone());
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
    let code = |name: &str| {
        let mut registry = env.registry.ministry();
        let name = name.to_owned();
        async move {
            ce_tests::answer(registry.get_institution(reg::GetInstitutionRequest { name }))
                .await
                .code
        }
    };
    let good_code = code(good).await;
    assert_eq!(text(browser, "#overview-title").await, "省级概览");
    assert_eq!(text(browser, "#scope").await, " · 广东省");
    for heading in [
        "继续教育达标情况（按领域和年度）",
        "质量等级分布",
        "未处理的违法违规（按类别）",
        "机构排名",
        "评分历史",
    ] {
        assert!(dom.contains(&format!(">{heading}<")), "{heading}: {dom}");
    }
    overview_matches_the_apis(
        env,
        browser,
        &req,
        Scope {
            province: "44",
            field: None,
        },
        Lang::Zh,
    )
    .await;
    assert!(
        table(browser, "#compliance tbody tr")
            .await
            .iter()
            .any(|r| r[2] == "建筑"),
        "construction by its Chinese name"
    );
    // The ranking: by name and credit code, the good institution first with
    // its A, the poor one with its D.
    let first = row_of(&dom, good);
    assert!(
        first.contains(">Good Academy<") && first.contains(&format!(">{good_code}<")),
        "{first}"
    );
    assert!(
        first.contains(">建筑<") && first.contains(">广东省<"),
        "{first}"
    );
    assert!(dom.find(good) < dom.find(poor), "ranked best first");
    assert!(row_of(&dom, power).contains(">电力<"));
    assert!(dom.contains(">A<") && dom.contains(">D<"), "{dom}");
    assert_eq!(text(browser, "#status").await, "共 3 家机构");
    assert!(
        row_of(&dom, poor).contains("class=\"pick\""),
        "a province opens any of its own"
    );
    // The period is open: the results are marked provisional.
    assert!(
        row_of(&dom, poor).contains(">暂定<"),
        "{}",
        row_of(&dom, poor)
    );
    // The drill-down of the first: its indicators and its history across
    // periods, the latest score of each, H1 (evaluations of 4: 75) first.
    assert_eq!(
        text(browser, "#drill-title").await,
        format!("机构详情：Good Academy（{good_code}）")
    );
    assert!(
        dom.contains(">学员评价<") && dom.contains(">考核通过率<"),
        "{dom}"
    );
    assert!(
        dom.contains("data-scores=\"75.00 100.00\"")
            && dom.contains("data-periods=\"2026-H1 2026\""),
        "one point a period, oldest first: {dom}"
    );
    browser.screenshot(&artefact("province-zh", b)).await;

    in_english(env, browser, b, &req, [good, poor], &good_code).await;
    token
}

/// The province's page after the switch to English: the same figures, in
/// English words.
async fn in_english(
    env: &QualityEnv,
    browser: &mut Browser,
    b: Backend,
    req: &TokenRequest,
    [good, poor]: [&str; 2],
    good_code: &str,
) {
    browser.click("#lang").await;
    browser
        .wait_for("document.documentElement.lang === 'en'")
        .await;
    let dom = browser.dom().await;
    assert_eq!(text(browser, "#overview-title").await, "Province overview");
    assert_eq!(text(browser, "#status").await, "3 institutions");
    assert!(
        dom.contains(">Ranking<") && dom.contains(">Evaluation<") && dom.contains(">Pass rate<"),
        "{dom}"
    );
    assert!(row_of(&dom, poor).contains(">provisional<"));
    assert!(
        row_of(&dom, good).contains(">Construction<") && row_of(&dom, good).contains(">Guangdong<")
    );
    assert_eq!(
        text(browser, "#drill-title").await,
        format!("Institution: Good Academy ({good_code})")
    );
    overview_matches_the_apis(
        env,
        browser,
        req,
        Scope {
            province: "44",
            field: None,
        },
        Lang::En,
    )
    .await;
    browser.screenshot(&artefact("province-en", b)).await;
}

/// The construction regulator (nationwide) sees its field's institutions,
/// statistics and violations only.
async fn a_regulator_sees_its_field(
    env: &QualityEnv,
    browser: &mut Browser,
    b: Backend,
    [good, poor, power]: [&str; 3],
) {
    let req = TokenRequest {
        ttl_secs: 600,
        field: Some(Field::Construction),
        ..ce_tests::token(Role::IndustryRegulator, "construction-regulator")
    };
    let token = env.registry.place.token(req.clone());
    let dom = sign_in(browser, &token).await;
    assert!(dom.contains("data-ready=\"yes\""), "{dom}");
    assert_eq!(text(browser, "#overview-title").await, "行业概览");
    assert_eq!(text(browser, "#scope").await, " · 建筑 · 全国");
    assert!(dom.contains("行业主管部门（建筑）"), "{dom}");
    assert!(dom.contains(good) && dom.contains(poor), "{dom}");
    assert!(
        !dom.contains(power) && !dom.contains("Power Academy"),
        "another field's: {dom}"
    );
    overview_matches_the_apis(
        env,
        browser,
        &req,
        Scope {
            province: "",
            field: Some(Field::Construction),
        },
        Lang::Zh,
    )
    .await;
    assert!(
        table(browser, "#compliance tbody tr")
            .await
            .iter()
            .all(|r| r[2] == "建筑"),
        "its field only"
    );
    assert_eq!(
        table(browser, "#violations tbody tr").await,
        vec![vec!["违规收费".to_owned(), "1".to_owned()]],
        "the poor one's only"
    );
    browser.screenshot(&artefact("regulator-zh", b)).await;
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
}

/// The poor institution opens its own breakdown, not the leader's, and sees the others' grades only.
async fn an_institution_opens_only_its_own_breakdown(
    env: &QualityEnv,
    browser: &mut Browser,
    b: Backend,
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
    assert!(
        dom.contains(&format!(
            "data-institution=\"{poor}\">机构详情：Poor Academy（"
        )),
        "{dom}"
    );
    assert!(
        dom.contains(
            "您以 Poor Academy 的身份登录：可查看本机构的明细与历史，其他机构仅显示等级。"
        ),
        "{dom}"
    );
    // No province overview for an institution: its own detail, the others' grades.
    assert!(dom.contains("<section id=\"overview\" hidden"), "{dom}");
    assert!(
        row_of(&dom, good).contains(">Good Academy<"),
        "the others by name"
    );
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
    assert!(dom.contains(">学员评价<"), "its own breakdown: {dom}");
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
    browser.screenshot(&artefact("institution-zh", b)).await;
    browser.click("#signout").await;
    browser
        .wait_for("document.body.dataset.ready === 'signin'")
        .await;
}

/// A token the service refuses: the page says so, forgets it, and asks again.
async fn a_refused_token_is_forgotten(browser: &mut Browser, good: &str) {
    let dom = sign_in(browser, "not-a-token").await;
    assert!(dom.contains("data-ready=\"signin\""), "{dom}");
    assert!(dom.contains("服务拒绝了此令牌"), "{dom}");
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
            .wait_for("document.getElementById('notice').textContent.includes('此链接在地址中携带了令牌')")
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
