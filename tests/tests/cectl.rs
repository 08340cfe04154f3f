//! `cectl` end to end, as a clerk uses it: the real binary against the four
//! services running, on both backends. A provincial clerk registers an
//! engineer, imports a CSV of hours (with mistakes), reads the year with
//! its explanations, issues and verifies a certificate, and looks up
//! violations, an employer's engineers who fall short and an institution's
//! quality history. An import killed half-way is run again and stores
//! every row exactly once. The refused rows, corrected in their rejects
//! file, are imported from it; an institution's upload is summed up as
//! awaiting confirmation; and `cectl token` refuses to mint a token the
//! services would refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use ce_server::auth::TokenRequest;
use ce_tests::{Backend, QualityEnv, both_backends, credit_code, resident_id};

fn cectl_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("cectl");
    assert!(path.exists(), "{} is missing", path.display());
    path
}

/// How cectl reaches the suite under test, and as whom.
struct Clerk {
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl Clerk {
    fn new(env: &QualityEnv, work: &Path) -> Clerk {
        let supervision = format!("http://{}", env.supervision_addr);
        Clerk {
            env: vec![
                ("CE_REGISTRY_ADDR".into(), env.registry.service.url()),
                ("CE_CREDITING_ADDR".into(), env.crediting.url()),
                ("CE_SUPERVISION_ADDR".into(), supervision),
                ("CE_QUALITY_ADDR".into(), env.service.url()),
                (
                    "CE_DATA_DIR".into(),
                    env.registry.place.data_dir().display().to_string(),
                ),
            ],
            dir: work.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(cectl_binary());
        c.args(args)
            .current_dir(&self.dir)
            .env_remove("CE_TOKEN")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.command(args);
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    /// Runs and expects exit code `code`; returns standard output.
    async fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert_eq!(
            out.status.code(),
            Some(code),
            "cectl {args:?}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A token minted by `cectl token`, as a clerk would.
async fn mint(clerk: &Clerk, args: &[&str]) -> String {
    let mut all = vec!["token"];
    all.extend_from_slice(args);
    clerk.expect(0, &all).await.trim().to_owned()
}

/// The number on the line of an import's summary that starts with `label`
/// ("stored", "already stored", "refused"), if there is that line.
fn count(summary: &str, label: &str) -> Option<u64> {
    summary.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(label)?;
        if !rest.starts_with(' ') {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// `cectl call RegistryService/{rpc} {body}` as `t`: the name of what it created.
async fn created(clerk: &Clerk, t: &str, rpc: &str, body: &str) -> String {
    let call = format!("RegistryService/{rpc}");
    json(&clerk.expect(0, &["--token", t, "call", &call, body]).await)["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sets up what the tour needs through `cectl call`: an employer, an
/// institution and the department's own seminar, March to October 2026.
async fn world(clerk: &Clerk, t: &str) -> (String, String, String) {
    let employer = created(
        clerk,
        t,
        "CreateEmployer",
        &format!(
            r#"{{"employer": {{"creditCode": "{}", "displayName": "Pearl River Power",
                        "kind": "EMPLOYER_KIND_ENTERPRISE", "province": "44"}}}}"#,
            credit_code("44")
        ),
    )
    .await;
    let institution = created(
        clerk,
        t,
        "CreateInstitution",
        &format!(
            r#"{{"institution": {{"code": "{}", "displayName": "Grid Academy", "province": "44",
                        "fields": ["FIELD_ELECTRIC_POWER"], "deliveryModes": ["DELIVERY_MODE_FACE_TO_FACE"]}}}}"#,
            credit_code("44")
        ),
    )
    .await;
    let seminar = created(
        clerk,
        t,
        "CreateActivity",
        r#"{"activity": {"title": "Grid protection", "province": "44",
                      "field": "FIELD_ELECTRIC_POWER", "subjectCategory": "SUBJECT_CATEGORY_PROFESSIONAL",
                      "deliveryMode": "DELIVERY_MODE_FACE_TO_FACE",
                      "startDate": {"year": 2026, "month": 3, "day": 1},
                      "endDate": {"year": 2026, "month": 10, "day": 31}, "hoursPerDay": 8}}"#,
    )
    .await;
    (employer, institution, seminar)
}

/// The arguments of `cectl engineer add` for an engineer of Guangdong's
/// electric power field at `employer`.
fn engineer_add<'a>(
    t: &'a str,
    id_number: &'a str,
    name: &'a str,
    field: &'a str,
    employer: &'a str,
) -> [&'a str; 16] {
    [
        "--token",
        t,
        "engineer",
        "add",
        "--id-number",
        id_number,
        "--name",
        name,
        "--province",
        "44",
        "--field",
        field,
        "--title",
        "engineer",
        "--employer",
        employer,
    ]
}

async fn add_engineer(clerk: &Clerk, t: &str, employer: &str, name: &str) -> String {
    let id_number = resident_id("44");
    clerk
        .expect(
            0,
            &engineer_add(t, &id_number, name, "electric_power", employer),
        )
        .await
        .trim()
        .to_owned()
}

/// The provincial clerk on tour: cectl as them, their work folder, and
/// what they have set up.
struct Tour<'a> {
    clerk: &'a Clerk,
    work: &'a Path,
    t: String,
    employer: String,
    institution: String,
    seminar: String,
    /// 陈工, the engineer whose year the tour follows.
    chen: String,
}

impl Tour<'_> {
    /// `--token` and the clerk's token, then `args`.
    fn signed<'b>(&'b self, args: &[&'b str]) -> Vec<&'b str> {
        let mut all = vec!["--token", self.t.as_str()];
        all.extend_from_slice(args);
        all
    }

    /// Runs cectl as the clerk.
    async fn run(&self, args: &[&str]) -> Output {
        self.clerk.run(&self.signed(args)).await
    }

    /// Runs cectl as the clerk and expects exit code `code`; returns
    /// standard output.
    async fn expect(&self, code: i32, args: &[&str]) -> String {
        self.clerk.expect(code, &self.signed(args)).await
    }

    /// A path in the clerk's work folder, as cectl is given it.
    fn file(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }
}

async fn a_clerk_tours_the_suite_with_cectl(b: Backend) {
    let env = QualityEnv::start(b).await;
    let work = tempfile::tempdir().unwrap();
    let clerk = Clerk::new(&env, work.path());
    told_to_sign_in(&clerk).await;
    let tour = registers_an_engineer(&clerk, work.path()).await;
    imports_a_csv_with_mistakes(&tour).await;
    reads_the_year(&tour).await;
    issues_and_verifies_a_certificate(&tour).await;
    lists_the_employers_short_engineers(&tour).await;
    looks_up_violations(&tour).await;
    reads_quality_history(&tour, &env).await;
    year_end_work(&tour).await;
    corrects_the_refused_rows(&tour).await;
    an_institutions_upload_awaits_confirmation(&tour).await;
    token_names_what_its_role_is_missing(&clerk).await;
    help_and_completion(&clerk).await;
}

/// Without a token the clerk is told how to get one, not shown a status dump.
async fn told_to_sign_in(clerk: &Clerk) {
    let out = clerk.run(&["status", "engineers/x", "2026"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not signed in"),
        "{}",
        text(&out.stderr)
    );
}

/// The clerk signs in, sets up the world, registers 陈工, and is told
/// what is wrong with a bad engineer.
async fn registers_an_engineer<'a>(clerk: &'a Clerk, work: &'a Path) -> Tour<'a> {
    let t = mint(clerk, &["--role", "provincial_hrss", "--province", "44"]).await;
    let (employer, institution, seminar) = world(clerk, &t).await;
    let chen = add_engineer(clerk, &t, &employer, "陈工").await;
    assert!(chen.starts_with("engineers/"), "{chen}");
    // A bad field names the field and the rule.
    let out = clerk
        .run(&engineer_add(&t, "123", "X", "electric_power", &employer))
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("engineer.id_number"),
        "{}",
        text(&out.stderr)
    );
    let out = clerk
        .run(&engineer_add(&t, "123", "X", "rocketry", &employer))
        .await;
    assert!(
        text(&out.stderr).contains("--field") && text(&out.stderr).contains("FIELD_CONSTRUCTION"),
        "{}",
        text(&out.stderr)
    );
    Tour {
        clerk,
        work,
        t,
        employer,
        institution,
        seminar,
        chen,
    }
}

/// The CSV: two good rows, and three with mistakes of different kinds;
/// imported twice, and a file with a column that is not a field.
async fn imports_a_csv_with_mistakes(tour: &Tour<'_>) {
    let (chen, seminar) = (&tour.chen, &tour.seminar);
    let csv = tour.file("march.csv");
    std::fs::write(
        &csv,
        format!(
            "\u{feff}engineer,registry_activity,face_to_face.subject_category,face_to_face.start_date,face_to_face.days,face_to_face.hours_per_day\n\
             {chen},{seminar},professional,2026-03-02,8,8\n\
             {chen},{seminar},professional,2026-03-16,4,8\n\
             {chen},{seminar},professional,2026-03-23,five,8\n\
             engineers/nobody,{seminar},professional,2026-03-24,1,8\n\
             {chen},{seminar},professional,2026-11-20,2,8\n"
        ),
    )
    .unwrap();
    let summary = tour
        .expect(3, &["import", csv.to_str().unwrap(), "--batch", "1"])
        .await;
    assert!(summary.contains("march.csv: 5 rows"), "{summary}");
    assert_eq!(count(&summary, "stored"), Some(2), "{summary}");
    assert!(
        summary.contains("confirmed 2, 96.00 hours credited"),
        "{summary}"
    );
    assert!(!summary.contains("awaiting"), "{summary}");
    assert_eq!(count(&summary, "already stored"), None, "{summary}");
    assert_eq!(count(&summary, "refused"), Some(3), "{summary}");
    let rejects = std::fs::read_to_string(tour.file("march.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 4, "{rejects}");
    assert!(
        lines[0].ends_with("rejected_line,rejected_reason"),
        "{rejects}"
    );
    assert!(
        lines[1].contains(",4,") && lines[1].contains("face_to_face.days"),
        "{rejects}"
    );
    assert!(
        lines[2].contains(",5,") && lines[2].contains("engineers/nobody"),
        "{rejects}"
    );
    assert!(
        lines[3].contains(",6,") && lines[3].contains("outside"),
        "{rejects}"
    );
    assert!(
        !tour.file("march.csv.cectl-progress").exists(),
        "a finished import leaves no progress behind"
    );
    // Importing the same file again stores nothing twice, and says so.
    let again = tour.expect(3, &["import", csv.to_str().unwrap()]).await;
    assert_eq!(count(&again, "stored"), Some(0), "{again}");
    assert_eq!(count(&again, "already stored"), Some(2), "{again}");
    assert!(!again.contains("hours credited"), "{again}");
    assert_eq!(count(&again, "refused"), Some(3), "{again}");
    // A column that is not a field is refused before anything is sent.
    let bad = tour.file("bad.csv");
    std::fs::write(&bad, format!("engineer,hours_claimed\n{chen},3\n")).unwrap();
    let out = tour.run(&["import", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("column hours_claimed")
            && text(&out.stderr).contains("claimed_hours"),
        "{}",
        text(&out.stderr)
    );
}

/// The year, readable, with the article behind each record.
async fn reads_the_year(tour: &Tour<'_>) {
    let status = tour.expect(0, &["status", &tour.chen, "2026"]).await;
    assert!(status.contains("compliant"), "{status}");
    assert!(status.contains("96.00 in all"), "{status}");
    assert!(status.matches("Art. 18(1)").count() >= 2, "{status}");
    assert!(status.contains("Records (2)"), "{status}");
    let as_json = json(
        &tour
            .expect(0, &["status", &tour.chen, "2026", "--json"])
            .await,
    );
    assert_eq!(as_json["state"], "ANNUAL_STATE_COMPLIANT");
    assert_eq!(as_json["explanations"].as_array().unwrap().len(), 2);
}

/// A certificate, saved, verified, and caught when edited.
async fn issues_and_verifies_a_certificate(tour: &Tour<'_>) {
    let cert = tour.file("chen.json");
    let issued = tour
        .expect(
            0,
            &[
                "certificate",
                "issue",
                &tour.chen,
                "2026",
                "--out",
                cert.to_str().unwrap(),
            ],
        )
        .await;
    assert!(issued.contains("hourCertificates/"), "{issued}");
    let verified = tour
        .expect(0, &["certificate", "verify", cert.to_str().unwrap()])
        .await;
    assert!(verified.starts_with("VALID"), "{verified}");
    let forged = tour.file("forged.json");
    let body = std::fs::read_to_string(&cert).unwrap();
    assert!(body.contains("96"), "{body}");
    std::fs::write(&forged, body.replacen("96", "196", 1)).unwrap();
    let out = tour
        .expect(3, &["certificate", "verify", forged.to_str().unwrap()])
        .await;
    assert!(out.starts_with("NOT VALID"), "{out}");
}

/// The employer's engineers who are short this year.
async fn lists_the_employers_short_engineers(tour: &Tour<'_>) {
    let (seminar, employer) = (&tour.seminar, tour.employer.as_str());
    let li = add_engineer(tour.clerk, &tour.t, employer, "李工").await;
    let few = tour.file("li.jsonl");
    std::fs::write(
        &few,
        format!(
            r#"{{"engineer": "{li}", "registryActivity": "{seminar}", "faceToFace": {{"subjectCategory": "SUBJECT_CATEGORY_PROFESSIONAL", "startDate": {{"year": 2026, "month": 4, "day": 7}}, "days": 2, "hoursPerDay": 8}}}}"#
        ) + "\n",
    )
    .unwrap();
    let out = tour.expect(0, &["import", few.to_str().unwrap()]).await;
    assert_eq!(count(&out, "stored"), Some(1), "{out}");
    let non_compliant = ["non-compliant", "--employer", employer, "--year", "2026"];
    let short = tour
        .expect(0, &[&non_compliant[..], &["--in-progress"]].concat())
        .await;
    assert!(short.contains(&li) && short.contains("李工"), "{short}");
    assert!(short.contains("74.00 hours"), "{short}");
    assert!(!short.contains(&tour.chen), "{short}");
    let none = tour.expect(0, &non_compliant).await;
    assert!(none.contains("No engineer"), "{none}");
}

/// A violation recorded through `cectl call`, then listed by state.
async fn looks_up_violations(tour: &Tour<'_>) {
    let institution = tour.institution.as_str();
    tour.expect(
        0,
        &[
            "call",
            "SupervisionService/CreateViolation",
            &format!(
                r#"{{"violation": {{"institution": "{institution}", "category": "VIOLATION_CATEGORY_IMPROPER_FEES",
                      "description": "Charged 3,000 yuan for a course never held", "evidence": ["complaint GD-2026-118"]}}}}"#
            ),
        ],
    )
    .await;
    let violations = |state| ["violations", "--institution", institution, "--state", state];
    let list = tour.expect(0, &violations("open")).await;
    assert!(
        list.contains("improper fees") && list.contains("1 violation."),
        "{list}"
    );
    assert!(list.contains("Art. 16, 26"), "{list}");
    let closed = tour.expect(0, &violations("closed")).await;
    assert!(closed.contains("No violations"), "{closed}");
}

/// Quality history, with why the grade is what it is: none, then an
/// indicator short of data, then a score once the learners evaluate.
async fn reads_quality_history(tour: &Tour<'_>, env: &QualityEnv) {
    let institution = tour.institution.as_str();
    let history_of = ["quality-history", institution];
    let empty = tour.expect(0, &history_of).await;
    assert!(empty.contains("no quality scores yet"), "{empty}");
    tour.expect(
        0,
        &[
            "call",
            "QualityService/RecordIndicator",
            &format!(
                r#"{{"institution": "{institution}", "period": "2026", "indicator": "INDICATOR_PASS_RATE",
                      "value": 0.9, "samples": 100, "source": "provincial survey 2026"}}"#
            ),
        ],
    )
    .await;
    let history = tour.expect(0, &history_of).await;
    assert!(
        history.contains("2026") && history.contains("insufficient data"),
        "{history}"
    );
    // The institution uploads its learners' evaluations (30 is the minimum).
    let own = mint(tour.clerk, &["--role", "institution", "--org", institution]).await;
    let evaluations: Vec<String> = env
        .learners(institution, 30)
        .await
        .iter()
        .map(|l| format!(r#"{{"learner": "{l}", "score": 5}}"#))
        .collect();
    tour.clerk
        .expect(
            0,
            &[
                "--token",
                &own,
                "call",
                "QualityService/SubmitEvaluations",
                &format!(
                    r#"{{"institution": "{institution}", "period": "2026", "evaluations": [{}]}}"#,
                    evaluations.join(",")
                ),
            ],
        )
        .await;
    let history = tour.expect(0, &history_of).await;
    let rows: Vec<&str> = history.lines().filter(|l| l.starts_with("2026")).collect();
    assert_eq!(rows.len(), 2, "{history}");
    assert!(
        rows[1].contains("national-2026") && !rows[1].contains("insufficient"),
        "{history}"
    );
    assert!(
        history.contains("evaluation") && history.contains("pass rate"),
        "{history}"
    );
}

/// Year-end work, as the chart's CronJobs run it.
/// (Today is in 2026, the regulation's first year: no year can close yet.)
async fn year_end_work(tour: &Tour<'_>) {
    let sweep = |year| ["sweep", "--year", year, "--province", "44"];
    let out = tour.run(&sweep("2025")).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("year: is required: 2026 or later (Art. 31)"),
        "{}",
        text(&out.stderr)
    );
    let out = tour.run(&sweep("2026")).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused in the current state"),
        "{}",
        text(&out.stderr)
    );
    // Nothing was stored under other rules; every 2026 year, asked for,
    // is reassessed and comes out the same.
    let due = tour.expect(0, &["reassess", "--province", "44"]).await;
    assert_eq!(due.trim(), "Done: 0 province-years reassessed.", "{due}");
    let all = tour
        .expect(
            0,
            &["reassess", "--province", "44", "--year", "2026", "--all"],
        )
        .await;
    assert!(
        all.lines()
            .any(|l| l.starts_with("Province 44 2026: ") && l.ends_with(" reassessed, 0 changed."))
            && all.contains("Done: 1 province-years reassessed."),
        "{all}"
    );
    let closed = tour
        .expect(0, &["close-period", "--period", "2026", "--province", "44"])
        .await;
    assert!(
        closed.contains(
            "Closed quality period 2026 for province 44: 1 institutions rescored, 1 scored"
        ),
        "{closed}"
    );
}

/// The clerk corrects the refused day count in march.rejects.csv and
/// imports that file as it is: the corrected row is stored, the rows still
/// wrong go to a rejects file of their own, and the file read is left as
/// the clerk saved it. Naming that file for the rejects is refused.
async fn corrects_the_refused_rows(tour: &Tour<'_>) {
    let rejects = tour.file("march.rejects.csv");
    let corrected = std::fs::read_to_string(&rejects)
        .unwrap()
        .replacen(",five,", ",5,", 1);
    assert!(corrected.contains(",5,"), "{corrected}");
    std::fs::write(&rejects, &corrected).unwrap();
    // As the README says it, from the folder the files are in.
    let summary = tour.expect(3, &["import", "march.rejects.csv"]).await;
    assert!(summary.contains("march.rejects.csv: 3 rows"), "{summary}");
    assert_eq!(count(&summary, "stored"), Some(1), "{summary}");
    assert!(
        summary.contains("confirmed 1, 40.00 hours credited"),
        "{summary}"
    );
    assert_eq!(count(&summary, "refused"), Some(2), "{summary}");
    assert!(
        summary.contains("each with its reason in march.rejects-2.csv"),
        "{summary}"
    );
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        corrected,
        "the file imported is not written"
    );
    let again = std::fs::read_to_string(tour.file("march.rejects-2.csv")).unwrap();
    let lines: Vec<&str> = again.lines().collect();
    assert_eq!(lines.len(), 3, "{again}");
    assert!(
        lines[0].ends_with("face_to_face.hours_per_day,rejected_line,rejected_reason"),
        "{again}"
    );
    assert!(lines[1].contains("engineers/nobody"), "{again}");
    assert!(lines[2].contains("outside"), "{again}");
    let status = tour.expect(0, &["status", &tour.chen, "2026"]).await;
    assert!(status.contains("Records (3)"), "{status}");
    // Rejects written over the file being imported: refused, however named.
    let before = std::fs::read_to_string(tour.file("march.rejects-2.csv")).unwrap();
    let out = tour
        .run(&[
            "import",
            "march.rejects-2.csv",
            "--rejects",
            "./march.rejects-2.csv",
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "--rejects ./march.rejects-2.csv: that is the file being imported; name another"
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(tour.file("march.rejects-2.csv")).unwrap(),
        before
    );
}

/// An institution uploads hours for its own course: they await the
/// employer's confirmation, and the summary does not call them credited.
async fn an_institutions_upload_awaits_confirmation(tour: &Tour<'_>) {
    let own = mint(
        tour.clerk,
        &["--role", "institution", "--org", &tour.institution],
    )
    .await;
    let course = created(
        tour.clerk,
        &own,
        "CreateActivity",
        r#"{"activity": {"title": "Relay testing", "province": "44",
                      "field": "FIELD_ELECTRIC_POWER", "subjectCategory": "SUBJECT_CATEGORY_PROFESSIONAL",
                      "deliveryMode": "DELIVERY_MODE_FACE_TO_FACE",
                      "startDate": {"year": 2026, "month": 4, "day": 1},
                      "endDate": {"year": 2026, "month": 4, "day": 30}, "hoursPerDay": 8}}"#,
    )
    .await;
    let zhou = add_engineer(tour.clerk, &tour.t, &tour.employer, "周工").await;
    let csv = tour.file("relay.csv");
    std::fs::write(
        &csv,
        format!(
            "engineer,registry_activity,face_to_face.subject_category,face_to_face.start_date,face_to_face.days,face_to_face.hours_per_day\n\
             {zhou},{course},professional,2026-04-07,2,8\n"
        ),
    )
    .unwrap();
    let out = tour
        .clerk
        .expect(0, &["--token", &own, "import", csv.to_str().unwrap()])
        .await;
    assert_eq!(count(&out, "stored"), Some(1), "{out}");
    assert!(
        out.contains("awaiting confirmation 1, 16.00 hours not credited until confirmed"),
        "{out}"
    );
    assert!(!out.contains("hours credited"), "{out}");
}

/// A token whose role lacks its scope is refused, naming what to add; one
/// given a scope its role does not carry is refused, naming the option.
async fn token_names_what_its_role_is_missing(clerk: &Clerk) {
    for (args, missing) in [
        (&["--role", "provincial_hrss"][..], "--province"),
        (
            &["--role", "provincial_hrss", "--province", "99"],
            "--province 99",
        ),
        (
            &["--role", "industry_regulator", "--province", "44"],
            "--field",
        ),
        (&["--role", "institution"], "--org institutions/ID"),
        (
            &["--role", "institution", "--org", "employers/x"],
            "--org institutions/ID",
        ),
        (&["--role", "employer"], "--org employers/ID"),
        (&["--role", "engineer"], "--subject engineers/ID"),
        (&["--role", "service"], "--subject"),
        // Options the role's tokens do not carry are refused, not ignored.
        (
            &["--role", "ministry", "--province", "44"],
            "--province: a token of role ministry has no such scope",
        ),
        (
            &[
                "--role",
                "provincial_hrss",
                "--province",
                "44",
                "--org",
                "employers/x",
            ],
            "--org: a token of role provincial_hrss",
        ),
        (
            &[
                "--role",
                "engineer",
                "--subject",
                "engineers/x",
                "--field",
                "FIELD_CONSTRUCTION",
            ],
            "--field: a token of role engineer",
        ),
    ] {
        let out = clerk.run(&[&["token"][..], args].concat()).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: no token");
        let err = text(&out.stderr);
        assert!(err.contains(missing), "{args:?}: {err}");
    }
}

/// `cectl token` outside the repository, with no data folder named, and
/// with one that has no key: refused, saying where it looked and how to
/// point it at the services' folder, and no key is made.
#[test]
fn a_token_is_refused_without_the_services_development_key() {
    let work = tempfile::tempdir().unwrap();
    let token = |data_dir: Option<&Path>, role: &[&str]| {
        let mut c = Command::new(cectl_binary());
        c.arg("token")
            .args(role)
            .current_dir(work.path())
            .env_remove("CE_DATA_DIR")
            .stdin(Stdio::null());
        if let Some(d) = data_dir {
            c.arg("--data-dir").arg(d);
        }
        c.output().unwrap()
    };
    let refused = |out: Output, looked: &str| {
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "no token");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("no development key at {looked}"))
                && err.contains("--data-dir")
                && err.contains("CE_DATA_DIR"),
            "{err}"
        );
    };
    let default = work.path().join("data");
    refused(
        token(None, &["--role", "ministry"]),
        &default.join("dev-signing-key.pem").display().to_string(),
    );
    assert!(!default.exists(), "no data folder is made");
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    refused(
        token(
            Some(&empty),
            &["--role", "provincial_hrss", "--province", "35"],
        ),
        &empty.join("dev-signing-key.pem").display().to_string(),
    );
    refused(
        token(
            Some(&empty),
            &["--role", "service", "--subject", "supervision"],
        ),
        &empty
            .join("dev-service-key-supervision.pem")
            .display()
            .to_string(),
    );
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "no key is made"
    );
}

/// Help on every command, and completion.
async fn help_and_completion(clerk: &Clerk) {
    for cmd in [
        vec!["--help"],
        vec!["import", "--help"],
        vec!["status", "--help"],
        vec!["certificate", "issue", "--help"],
        vec!["non-compliant", "--help"],
        vec!["reassess", "--help"],
    ] {
        let out = clerk.expect(0, &cmd).await;
        assert!(out.contains("Usage: cectl"), "{cmd:?}: {out}");
    }
    let completion = clerk.expect(0, &["completion", "bash"]).await;
    assert!(
        completion.contains("_cectl") && completion.contains("non-compliant"),
        "{completion}"
    );
}

async fn an_interrupted_import_resumes_without_duplicates(b: Backend) {
    let env = QualityEnv::start(b).await;
    let work = tempfile::tempdir().unwrap();
    let clerk = Clerk::new(&env, work.path());
    let t = mint(&clerk, &["--role", "provincial_hrss", "--province", "44"]).await;
    let (employer, _, seminar) = world(&clerk, &t).await;
    let engineers = [
        add_engineer(&clerk, &t, &employer, "王工").await,
        add_engineer(&clerk, &t, &employer, "赵工").await,
    ];
    // 400 one-hour days, 200 for each engineer, sent two at a time.
    let csv = work.path().join("year.csv");
    let mut body = String::from(
        "engineer,registry_activity,face_to_face.subject_category,face_to_face.start_date,face_to_face.days,face_to_face.hours_per_day\n",
    );
    let first = time::macros::date!(2026 - 03 - 01);
    for i in 0..200 {
        let day = first + time::Duration::days(i);
        for e in &engineers {
            body.push_str(&format!("{e},{seminar},public,{day},1,1\n"));
        }
    }
    std::fs::write(&csv, body).unwrap();
    let progress = work.path().join("year.csv.cectl-progress");

    // Killed (as by a closed laptop) once some batches have been answered.
    let mut child = clerk
        .command(&[
            "--token",
            &t,
            "import",
            csv.to_str().unwrap(),
            "--batch",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let done_before_kill = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress saved"
        );
        if let Ok(t) = std::fs::read_to_string(&progress)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&t)
            && v["rows_done"].as_u64().unwrap_or(0) >= 20
        {
            child.kill().unwrap();
            child.wait().unwrap();
            break v["rows_done"].as_u64().unwrap();
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be interrupted"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    assert!(done_before_kill < 400, "{done_before_kill}");

    // Run again: it continues, and the summary covers the whole file.
    let out = clerk
        .run(&[
            "--token",
            &t,
            "import",
            csv.to_str().unwrap(),
            "--batch",
            "2",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Resuming"),
        "{}",
        text(&out.stderr)
    );
    let summary = text(&out.stdout);
    assert!(summary.contains("400 rows"), "{summary}");
    // Rows stored before the kill but answered only now are already stored.
    assert_eq!(
        count(&summary, "stored").unwrap() + count(&summary, "already stored").unwrap_or(0),
        400,
        "{summary}"
    );
    assert!(!progress.exists());

    // Exactly 200 records for each engineer: none lost, none doubled.
    let token = env.registry.place.token(TokenRequest {
        province: Some("44".into()),
        ..ce_tests::token(ce_proto::common::Role::ProvincialHrss, "clerk")
    });
    let mut c = CreditingServiceClient::with_interceptor(
        env.crediting.channel().await,
        ce_tests::bearer(&token),
    );
    for e in &engineers {
        let n = ce_tests::all_hour_records(&mut c, e).await.len();
        assert_eq!(n, 200, "{e}");
    }
}

both_backends!(
    a_clerk_tours_the_suite_with_cectl,
    an_interrupted_import_resumes_without_duplicates
);
