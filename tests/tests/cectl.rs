//! `cectl` end to end, as a clerk uses it: the real binary against the four
//! services running, on both backends. A provincial clerk registers an
//! engineer, imports a CSV of hours (with mistakes), reads the year with
//! its explanations, issues and verifies a certificate, and looks up
//! violations, an employer's engineers who fall short and an institution's
//! quality history. An import killed half-way is run again and stores
//! every row exactly once.

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

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Sets up what the tour needs through `cectl call`: an employer, an
/// institution and the department's own seminar, March to October 2026.
async fn world(clerk: &Clerk, t: &str) -> (String, String, String) {
    let employer = json(
        &clerk
            .expect(
                0,
                &[
                    "--token",
                    t,
                    "call",
                    "RegistryService/CreateEmployer",
                    &format!(
                        r#"{{"employer": {{"creditCode": "{}", "displayName": "Pearl River Power",
                        "kind": "EMPLOYER_KIND_ENTERPRISE", "province": "44"}}}}"#,
                        credit_code("44")
                    ),
                ],
            )
            .await,
    )["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let institution = json(
        &clerk
            .expect(
                0,
                &[
                    "--token",
                    t,
                    "call",
                    "RegistryService/CreateInstitution",
                    &format!(
                        r#"{{"institution": {{"code": "{}", "displayName": "Grid Academy", "province": "44",
                        "fields": ["FIELD_ELECTRIC_POWER"], "deliveryModes": ["DELIVERY_MODE_FACE_TO_FACE"]}}}}"#,
                        credit_code("44")
                    ),
                ],
            )
            .await,
    )["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let seminar = json(
        &clerk
            .expect(
                0,
                &[
                    "--token",
                    t,
                    "call",
                    "RegistryService/CreateActivity",
                    r#"{"activity": {"title": "Grid protection", "province": "44",
                      "field": "FIELD_ELECTRIC_POWER", "subjectCategory": "SUBJECT_CATEGORY_PROFESSIONAL",
                      "deliveryMode": "DELIVERY_MODE_FACE_TO_FACE",
                      "startDate": {"year": 2026, "month": 3, "day": 1},
                      "endDate": {"year": 2026, "month": 10, "day": 31}, "hoursPerDay": 8}}"#,
                ],
            )
            .await,
    )["name"]
        .as_str()
        .unwrap()
        .to_owned();
    (employer, institution, seminar)
}

async fn add_engineer(clerk: &Clerk, t: &str, employer: &str, name: &str) -> String {
    clerk
        .expect(
            0,
            &[
                "--token",
                t,
                "engineer",
                "add",
                "--id-number",
                &resident_id("44"),
                "--name",
                name,
                "--province",
                "44",
                "--field",
                "electric_power",
                "--title",
                "engineer",
                "--employer",
                employer,
            ],
        )
        .await
        .trim()
        .to_owned()
}

async fn a_clerk_tours_the_suite_with_cectl(b: Backend) {
    let env = QualityEnv::start(b).await;
    let work = tempfile::tempdir().unwrap();
    let clerk = Clerk::new(&env, work.path());

    // Without a token the clerk is told how to get one, not shown a status dump.
    let out = clerk.run(&["status", "engineers/x", "2026"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not signed in"),
        "{}",
        text(&out.stderr)
    );

    let t = mint(&clerk, &["--role", "provincial_hrss", "--province", "44"]).await;
    let (employer, institution, seminar) = world(&clerk, &t).await;
    let chen = add_engineer(&clerk, &t, &employer, "陈工").await;
    assert!(chen.starts_with("engineers/"), "{chen}");
    // A bad field names the field and the rule.
    let out = clerk
        .run(&[
            "--token",
            &t,
            "engineer",
            "add",
            "--id-number",
            "123",
            "--name",
            "X",
            "--province",
            "44",
            "--field",
            "electric_power",
            "--title",
            "engineer",
            "--employer",
            &employer,
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("engineer.id_number"),
        "{}",
        text(&out.stderr)
    );
    let out = clerk
        .run(&[
            "--token",
            &t,
            "engineer",
            "add",
            "--id-number",
            "123",
            "--name",
            "X",
            "--province",
            "44",
            "--field",
            "rocketry",
            "--title",
            "engineer",
            "--employer",
            &employer,
        ])
        .await;
    assert!(
        text(&out.stderr).contains("--field") && text(&out.stderr).contains("FIELD_CONSTRUCTION"),
        "{}",
        text(&out.stderr)
    );

    // The CSV: two good rows, and three with mistakes of different kinds.
    let csv = work.path().join("march.csv");
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
    let summary = clerk
        .expect(
            3,
            &[
                "--token",
                &t,
                "import",
                csv.to_str().unwrap(),
                "--batch",
                "1",
            ],
        )
        .await;
    assert!(summary.contains("march.csv: 5 rows"), "{summary}");
    assert!(summary.contains("accepted       2"), "{summary}");
    assert!(summary.contains("96.00 hours credited"), "{summary}");
    assert!(summary.contains("refused        3"), "{summary}");
    let rejects = std::fs::read_to_string(work.path().join("march.rejects.csv")).unwrap();
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
        !work.path().join("march.csv.cectl-progress").exists(),
        "a finished import leaves no progress behind"
    );
    // Importing the same file again stores nothing twice and answers the same.
    let again = clerk
        .expect(3, &["--token", &t, "import", csv.to_str().unwrap()])
        .await;
    assert!(
        again.contains("accepted       2") && again.contains("96.00 hours"),
        "{again}"
    );
    // A column that is not a field is refused before anything is sent.
    let bad = work.path().join("bad.csv");
    std::fs::write(&bad, format!("engineer,hours_claimed\n{chen},3\n")).unwrap();
    let out = clerk
        .run(&["--token", &t, "import", bad.to_str().unwrap()])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("column hours_claimed")
            && text(&out.stderr).contains("claimed_hours"),
        "{}",
        text(&out.stderr)
    );

    // The year, readable, with the article behind each record.
    let status = clerk
        .expect(0, &["--token", &t, "status", &chen, "2026"])
        .await;
    assert!(status.contains("compliant"), "{status}");
    assert!(status.contains("96.00 in all"), "{status}");
    assert!(status.matches("Art. 18(1)").count() >= 2, "{status}");
    assert!(status.contains("Records (2)"), "{status}");
    let as_json = json(
        &clerk
            .expect(0, &["--token", &t, "status", &chen, "2026", "--json"])
            .await,
    );
    assert_eq!(as_json["state"], "ANNUAL_STATE_COMPLIANT");
    assert_eq!(as_json["explanations"].as_array().unwrap().len(), 2);

    // A certificate, saved, verified, and caught when edited.
    let cert = work.path().join("chen.json");
    let issued = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "certificate",
                "issue",
                &chen,
                "2026",
                "--out",
                cert.to_str().unwrap(),
            ],
        )
        .await;
    assert!(issued.contains("hourCertificates/"), "{issued}");
    let verified = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "certificate",
                "verify",
                cert.to_str().unwrap(),
            ],
        )
        .await;
    assert!(verified.starts_with("VALID"), "{verified}");
    let forged = work.path().join("forged.json");
    let body = std::fs::read_to_string(&cert).unwrap();
    assert!(body.contains("96"), "{body}");
    std::fs::write(&forged, body.replacen("96", "196", 1)).unwrap();
    let out = clerk
        .expect(
            3,
            &[
                "--token",
                &t,
                "certificate",
                "verify",
                forged.to_str().unwrap(),
            ],
        )
        .await;
    assert!(out.starts_with("NOT VALID"), "{out}");

    // The employer's engineers who are short this year.
    let li = add_engineer(&clerk, &t, &employer, "李工").await;
    let few = work.path().join("li.jsonl");
    std::fs::write(
        &few,
        format!(
            r#"{{"engineer": "{li}", "registryActivity": "{seminar}", "faceToFace": {{"subjectCategory": "SUBJECT_CATEGORY_PROFESSIONAL", "startDate": {{"year": 2026, "month": 4, "day": 7}}, "days": 2, "hoursPerDay": 8}}}}"#
        ) + "\n",
    )
    .unwrap();
    let out = clerk
        .expect(0, &["--token", &t, "import", few.to_str().unwrap()])
        .await;
    assert!(out.contains("accepted       1"), "{out}");
    let short = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "non-compliant",
                "--employer",
                &employer,
                "--year",
                "2026",
                "--in-progress",
            ],
        )
        .await;
    assert!(short.contains(&li) && short.contains("李工"), "{short}");
    assert!(short.contains("74.00 hours"), "{short}");
    assert!(!short.contains(&chen), "{short}");
    let none = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "non-compliant",
                "--employer",
                &employer,
                "--year",
                "2026",
            ],
        )
        .await;
    assert!(none.contains("No engineer"), "{none}");

    // Violations.
    clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "call",
                "SupervisionService/CreateViolation",
                &format!(
                    r#"{{"violation": {{"institution": "{institution}", "category": "VIOLATION_CATEGORY_IMPROPER_FEES",
                      "description": "Charged 3,000 yuan for a course never held", "evidence": ["complaint GD-2026-118"]}}}}"#
                ),
            ],
        )
        .await;
    let list = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "violations",
                "--institution",
                &institution,
                "--state",
                "open",
            ],
        )
        .await;
    assert!(
        list.contains("improper fees") && list.contains("1 violation."),
        "{list}"
    );
    assert!(list.contains("Art. 16, 26"), "{list}");
    let closed = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "violations",
                "--institution",
                &institution,
                "--state",
                "closed",
            ],
        )
        .await;
    assert!(closed.contains("No violations"), "{closed}");

    // Quality history, with why the grade is what it is.
    let empty = clerk
        .expect(0, &["--token", &t, "quality-history", &institution])
        .await;
    assert!(empty.contains("no quality scores yet"), "{empty}");
    clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "call",
                "QualityService/RecordIndicator",
                &format!(
                    r#"{{"institution": "{institution}", "period": "2026", "indicator": "INDICATOR_PASS_RATE",
                      "value": 0.9, "samples": 100, "source": "provincial survey 2026"}}"#
                ),
            ],
        )
        .await;
    let history = clerk
        .expect(0, &["--token", &t, "quality-history", &institution])
        .await;
    assert!(
        history.contains("2026") && history.contains("insufficient data"),
        "{history}"
    );
    // The institution uploads its learners' evaluations (30 is the minimum).
    let own = mint(&clerk, &["--role", "institution", "--org", &institution]).await;
    let evaluations: Vec<String> = env
        .learners(&institution, 30)
        .await
        .iter()
        .map(|l| format!(r#"{{"learner": "{l}", "score": 5}}"#))
        .collect();
    clerk
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
    let history = clerk
        .expect(0, &["--token", &t, "quality-history", &institution])
        .await;
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

    // Year-end work, as the chart's CronJobs run it.
    // (Today is in 2026, the regulation's first year: no year can close yet.)
    let out = clerk
        .run(&["--token", &t, "sweep", "--year", "2025", "--province", "44"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("year: is required: 2026 or later (Art. 31)"),
        "{}",
        text(&out.stderr)
    );
    let out = clerk
        .run(&["--token", &t, "sweep", "--year", "2026", "--province", "44"])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("refused in the current state"),
        "{}",
        text(&out.stderr)
    );
    let closed = clerk
        .expect(
            0,
            &[
                "--token",
                &t,
                "close-period",
                "--period",
                "2026",
                "--province",
                "44",
            ],
        )
        .await;
    assert!(
        closed.contains(
            "Closed quality period 2026 for province 44: 1 institutions rescored, 1 scored"
        ),
        "{closed}"
    );

    // Help on every command, and completion.
    for cmd in [
        vec!["--help"],
        vec!["import", "--help"],
        vec!["status", "--help"],
        vec!["certificate", "issue", "--help"],
        vec!["non-compliant", "--help"],
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
    assert!(
        summary.contains("400 rows") && summary.contains("accepted     400"),
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
