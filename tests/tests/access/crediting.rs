//! Crediting's table and its calls: hour records, deferrals and make-up,
//! annual statuses, the change feed, certificates.

use super::*;

/// Who reads an engineer's year: their province, their field's regulator,
/// their employer, themselves, the ministry and the suite's services.
/// Institutions see the hours they uploaded, not the year.
const YEAR_READERS: &[Who] = &[Ministry, Province, Regulator, Employer, Engineer];

/// Crediting (Art. 17–22, 27; `services/crediting/src/scope.rs`). The
/// resource is engineer N's year 2027 and the hours institution I uploaded
/// for it from its own course. Crediting's today is 1 March 2027, so that
/// 2026 can be closed (Art. 21) and made up (Art. 20).
pub(super) const CREDITING: &[Row] = &[
    // Training hours are registered by the activity's organiser, here the
    // institution (a department registers its own activities' hours); the
    // engineer submits their own other forms (Art. 21).
    write("CreateHourRecord", &[Institution, Engineer]),
    write("BulkUploadHourRecords", &[Institution, Engineer]),
    // Only whoever registered a record corrects it.
    write("CorrectHourRecord", &[Institution]),
    read(
        "GetHourRecord",
        &[
            Ministry,
            Province,
            Regulator,
            Employer,
            Engineer,
            Institution,
        ],
    )
    .by(&[BySupervision]),
    read(
        "ListHourRecords",
        &[
            Ministry,
            Province,
            Regulator,
            Employer,
            Engineer,
            Institution,
        ],
    )
    .by(&[ByQuality]),
    // An institution's upload is confirmed or rejected by the engineer's
    // employer or the field's regulator, never by the institution (Art. 21).
    write("ConfirmHourRecord", &[Ministry, Regulator, Employer]),
    write("RejectHourRecord", &[Ministry, Regulator, Employer]),
    // Art. 20: the employer certifies a deferral; the engineer chooses
    // which of next year's hours make it up.
    write("CreateDeferral", &[Employer]),
    write("DesignateMakeUp", &[Engineer]),
    // Art. 27: departments whose scope covers the record, and supervision.
    write("RevokeHourRecords", &[Ministry, Province, Regulator]).by(&[BySupervision]),
    read("CheckTitleEligibility", YEAR_READERS),
    read("GetAnnualStatus", YEAR_READERS).by(&[BySupervision]),
    read("ListAnnualStatuses", YEAR_READERS).by(&[BySupervision]),
    read("GetComplianceStatistics", YEAR_READERS),
    // Closing a year: the province for its own, the ministry and the
    // year-end job for all.
    write("SweepAnnualStatuses", &[Ministry, Province]),
    // Reassessing stored years after a rule change: the same.
    write("ReassessAnnualStatuses", &[Ministry, Province]),
    // The change feed serves back offices and dashboards of a province.
    // The national deployment follows the feed, and reads nothing else.
    read("ListChanges", &[Ministry, Province]).by(&[ByQuality, ByNational]),
    read("WatchChanges", &[Ministry, Province]).by(&[ByNational]),
    // A certificate states a year: whoever reads the year may have one
    // issued and read it; anyone may verify one, with no token too.
    write("CreateHourCertificate", YEAR_READERS),
    read("GetHourCertificate", YEAR_READERS),
    read("VerifyHourCertificate", SIGNED_IN_OR_NOBODY),
];

/// Every signed-in person, and a caller with no token at all: checking a
/// certificate needs no account (docs/architecture.md, "Certificates anyone
/// can verify").
const SIGNED_IN_OR_NOBODY: &[Who] = &[
    Ministry,
    Province,
    OtherProvince,
    Regulator,
    OtherFieldRegulator,
    Institution,
    OtherInstitution,
    Employer,
    OtherEmployer,
    Engineer,
    OtherEngineer,
    Nobody,
];

/// The resources crediting's calls are about.
struct CreditingWorld {
    w: World,
    /// The institution's course, January and February 2027.
    course: String,
    /// Its complete upload of 96 hours for N, confirmed by the employer.
    record: String,
    /// N's year 2027, complete.
    status: String,
    /// A certificate of that year, and its credential.
    certificate: String,
    credential: String,
    /// Supervision, which decides the cases its revocations name.
    supervision: Option<Channel>,
}

type CreditingClient =
    ce_proto::crediting::crediting_service_client::CreditingServiceClient<Channel>;

/// One day of the course for N, different for every `n`.
fn course_day(w: &World, course: &str, n: u64) -> ce_proto::crediting::HourRecord {
    use ce_proto::crediting as cr;
    cr::HourRecord {
        engineer: w.engineer.clone(),
        registry_activity: course.into(),
        activity: Some(cr::hour_record::Activity::FaceToFace(
            cr::FaceToFaceTraining {
                subject_category: SubjectCategory::Professional as i32,
                start_date: date(2027, 1, 4 + (n % 25) as i32),
                days: 1,
                hours_per_day: 1.0 + ((n / 25) % 14) as f64 * 0.5,
            },
        )),
        client_key: format!("access-course-{n}"),
        ..Default::default()
    }
}

/// A co-authored paper of N's, different for every `n` (Art. 18(5)).
fn paper(w: &World, n: u64) -> ce_proto::crediting::HourRecord {
    use ce_proto::crediting as cr;
    cr::HourRecord {
        engineer: w.engineer.clone(),
        activity: Some(cr::hour_record::Activity::Conversion(cr::Conversion {
            kind: cr::conversion::Kind::PaperCoauthor as i32,
            date: date(2027, 1, 20),
            evidence_id: format!("10.1000/access.{n}"),
            ..Default::default()
        })),
        client_key: format!("access-paper-{n}"),
        ..Default::default()
    }
}

async fn crediting_world(env: &ce_tests::CreditingEnv) -> CreditingWorld {
    use ce_proto::crediting as cr;
    let w = world(&env.registry).await;
    let course = ce_tests::answer(env.registry.institution(&w.institution).create_activity(
        CreateActivityRequest {
            activity: Some(reg::Activity {
                title: "Structural design".into(),
                start_date: date(2027, 1, 4),
                end_date: date(2027, 2, 26),
                ..new_activity().activity.unwrap()
            }),
        },
    ))
    .await
    .name;
    let record = ce_tests::answer(env.institution(&w.institution).create_hour_record(
        cr::CreateHourRecordRequest {
            hour_record: Some(cr::HourRecord {
                engineer: w.engineer.clone(),
                registry_activity: course.clone(),
                activity: Some(cr::hour_record::Activity::FaceToFace(
                    cr::FaceToFaceTraining {
                        subject_category: SubjectCategory::Professional as i32,
                        start_date: date(2027, 2, 15),
                        days: 12,
                        hours_per_day: 8.0,
                    },
                )),
                ..Default::default()
            }),
        },
    ))
    .await
    .name;
    ce_tests::answer(
        env.employer(&w.employer)
            .confirm_hour_record(cr::ConfirmHourRecordRequest {
                name: record.clone(),
            }),
    )
    .await;
    // 2026 deferred, for next year's hours to make up.
    env.employer(&w.employer)
        .create_deferral(cr::CreateDeferralRequest {
            deferral: Some(cr::Deferral {
                engineer: w.engineer.clone(),
                year: 2026,
                reason: cr::DeferralReason::Illness as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let status = format!("{}/annualStatuses/2027", w.engineer);
    let certificate = ce_tests::answer(env.ministry().create_hour_certificate(
        cr::CreateHourCertificateRequest {
            annual_status: status.clone(),
        },
    ))
    .await;
    CreditingWorld {
        w,
        course,
        record,
        status,
        certificate: certificate.name,
        credential: certificate.credential,
        supervision: None,
    }
}

/// A case supervision decided by revoking `record` (Art. 27), made as the
/// province: the only case on which the supervision service may revoke it.
async fn decided_case(env: &ce_tests::CreditingEnv, cw: &CreditingWorld, record: &str) -> String {
    use ce_proto::supervision::{self as sv, supervision_service_client::SupervisionServiceClient};
    let channel = cw
        .supervision
        .clone()
        .expect("supervision runs beside crediting");
    let token = env
        .registry
        .place
        .token(ce_tests::department("44", "hrss-44"));
    let mut gd = SupervisionServiceClient::with_interceptor(channel, ce_tests::bearer(&token));
    let case = ce_tests::world::improper_hours(&cw.w.engineer, &[record.to_owned()]);
    let case = ce_tests::world::create_violation(&mut gd, case).await;
    ce_tests::answer(gd.decide_violation(sv::DecideViolationRequest {
        name: case.clone(),
        decision: Some(ce_tests::world::revocation()),
    }))
    .await;
    case
}

/// A fresh upload of the institution's for N, submitted, so that every
/// call that decides, corrects or revokes finds one in that state.
async fn fresh_upload(env: &ce_tests::CreditingEnv, cw: &CreditingWorld, n: u64) -> String {
    ce_tests::answer(env.institution(&cw.w.institution).create_hour_record(
        ce_proto::crediting::CreateHourRecordRequest {
            hour_record: Some(course_day(&cw.w, &cw.course, n)),
        },
    ))
    .await
    .name
}

fn code_named(name: &str) -> Code {
    match name {
        "PERMISSION_DENIED" => Code::PermissionDenied,
        "NOT_FOUND" => Code::NotFound,
        "UNAUTHENTICATED" => Code::Unauthenticated,
        other => {
            panic!("a refusal must be about access, got {other} (the request itself is wrong)")
        }
    }
}

/// Reads a stream until `wanted` or a quiet second; a stream refused at
/// the start, or ended with an error, is a refusal.
async fn watched<T>(
    r: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
    wanted: impl Fn(&T) -> bool,
) -> Outcome {
    let mut stream = match r {
        Ok(s) => s.into_inner(),
        Err(e) => return outcome::<()>(Err(e), |_| true),
    };
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(1), stream.message()).await {
            Ok(Ok(Some(m))) if wanted(&m) => return Outcome::Allowed,
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) | Err(_) => return Outcome::NotShown,
            Ok(Err(e)) => return outcome::<()>(Err(e), |_| true),
        }
    }
}

/// The resources a call of `rpc` needs fresh: a submitted upload of the
/// institution's where the call changes one (else none), and the world,
/// with a fresh engineer of the employer for a deferral (certified once
/// an engineer and year).
async fn fresh_for(
    rpc: &str,
    env: &ce_tests::CreditingEnv,
    cw: &CreditingWorld,
    n: u64,
) -> (String, World) {
    let upload = if matches!(
        rpc,
        "CorrectHourRecord"
            | "ConfirmHourRecord"
            | "RejectHourRecord"
            | "DesignateMakeUp"
            | "RevokeHourRecords"
    ) {
        fresh_upload(env, cw, n).await
    } else {
        String::new()
    };
    let mut w = cw.w.clone();
    if rpc == "CreateDeferral" {
        w.engineer = env
            .registry
            .province("44")
            .create_engineer(new_engineer(&w.employer))
            .await
            .unwrap()
            .into_inner()
            .name;
    }
    (upload, w)
}

/// The course day `n` for N a quarter of an hour a day longer: a
/// correction of the upload of the same day.
fn corrected_day(w: &World, course: &str, n: u64) -> ce_proto::crediting::HourRecord {
    let mut corrected = course_day(w, course, n);
    if let Some(ce_proto::crediting::hour_record::Activity::FaceToFace(f)) = &mut corrected.activity
    {
        f.hours_per_day += 0.25;
    }
    corrected.client_key = format!("access-correction-{n}");
    corrected
}

async fn call_crediting(
    rpc: &str,
    env: &ce_tests::CreditingEnv,
    cw: &CreditingWorld,
    who: Who,
    id: &str,
) -> Outcome {
    use ce_proto::crediting as cr;
    let n = REQUEST.fetch_add(1, Ordering::Relaxed);
    // The resource is made fresh where the call changes it.
    let (upload, w) = fresh_for(rpc, env, cw, n).await;
    let token = token_of(&env.registry, &w, who);
    let token = &token;
    let mut c = CreditingClient::new(env.channel.clone());
    // Departments, institutions and the rest send the course's hours;
    // engineers their own paper.
    let new_record = || {
        if matches!(who, Engineer | OtherEngineer) {
            paper(&w, n)
        } else {
            course_day(&w, &cw.course, n)
        }
    };
    calls!(rpc, c, token, id, other => streamed(other, &mut c, new_record, cw, token, id).await;
        "CreateHourRecord" => create_hour_record(cr::CreateHourRecordRequest {
            hour_record: Some(new_record()),
        });
        "CorrectHourRecord" => correct_hour_record(cr::CorrectHourRecordRequest {
            name: upload.clone(),
            hour_record: Some(corrected_day(&w, &cw.course, n)),
        });
        "GetHourRecord" => get_hour_record(cr::GetHourRecordRequest { name: cw.record.clone() });
        "ListHourRecords" => list_hour_records(cr::ListHourRecordsRequest {
            year: 2027,
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.hour_records.iter().any(|x| x.name == cw.record);
        "ConfirmHourRecord" => confirm_hour_record(cr::ConfirmHourRecordRequest {
            name: upload.clone(),
        });
        "RejectHourRecord" => reject_hour_record(cr::RejectHourRecordRequest {
            name: upload.clone(),
            reason: "Not on the attendance sheet".into(),
        });
        "CreateDeferral" => create_deferral(cr::CreateDeferralRequest {
            deferral: Some(cr::Deferral {
                engineer: w.engineer.clone(),
                year: 2026,
                reason: cr::DeferralReason::Injury as i32,
                ..Default::default()
            }),
        });
        "DesignateMakeUp" => designate_make_up(cr::DesignateMakeUpRequest {
            name: upload.clone(),
            year: 2026,
        });
        "RevokeHourRecords" => revoke_hour_records(cr::RevokeHourRecordsRequest {
            names: vec![upload.clone()],
            reason: "Attendance sheets signed by a colleague".into(),
            // Supervision revokes only on its own decided case;
            // departments name theirs.
            case_reference: if who == BySupervision {
                decided_case(env, cw, &upload).await
            } else {
                format!("violations/access-{n}")
            },
        });
        "CheckTitleEligibility" => check_title_eligibility(cr::CheckTitleEligibilityRequest {
            engineer: w.engineer.clone(),
            first_year: 2027,
            last_year: 2027,
        });
        "GetAnnualStatus" => get_annual_status(cr::GetAnnualStatusRequest {
            name: cw.status.clone(),
        });
        "ListAnnualStatuses" => list_annual_statuses(cr::ListAnnualStatusesRequest {
            year: 2027,
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.annual_statuses.iter().any(|s| s.name == cw.status);
        // N is the only engineer with a 2027.
        "GetComplianceStatistics" => get_compliance_statistics(
            cr::GetComplianceStatisticsRequest { year: 2027, ..Default::default() }
        ) shown |r| r.total.as_ref().is_some_and(|t| t.engineers > 0);
        "SweepAnnualStatuses" => sweep_annual_statuses(cr::SweepAnnualStatusesRequest {
            year: 2026,
            province: "44".into(),
        });
        "ListChanges" => list_changes(cr::ListChangesRequest {
            page_size: 1000,
            ..Default::default()
        }) shown |r| r.changes.iter().any(|x| x.resource == cw.record);
        "CreateHourCertificate" => create_hour_certificate(cr::CreateHourCertificateRequest {
            annual_status: cw.status.clone(),
        });
        "GetHourCertificate" => get_hour_certificate(cr::GetHourCertificateRequest {
            name: cw.certificate.clone(),
        });
        // Identified, valid or revoked: the table's own writes may change
        // the certified year, which supersedes the certificate.
        "VerifyHourCertificate" => verify_hour_certificate(cr::VerifyHourCertificateRequest {
            credential: cw.credential.clone(),
        }) shown |r| r.hour_certificate == cw.certificate;
    )
}

/// The calls that stream: a bulk upload of one new record, answered for
/// that record, and the change feed, watched for the table's record.
async fn streamed(
    rpc: &str,
    c: &mut CreditingClient,
    new_record: impl FnOnce() -> ce_proto::crediting::HourRecord,
    cw: &CreditingWorld,
    token: &Option<String>,
    id: &str,
) -> Outcome {
    use ce_proto::crediting as cr;
    match rpc {
        "BulkUploadHourRecords" => {
            let message = cr::BulkUploadHourRecordsRequest {
                hour_records: vec![new_record()],
            };
            let answer = match c
                .bulk_upload_hour_records(request(tokio_stream::iter(vec![message]), token, id))
                .await
            {
                Ok(s) => s.into_inner().message().await,
                Err(e) => Err(e),
            };
            match answer {
                Err(e) => outcome::<()>(Err(e), |_| true),
                Ok(None) => panic!("a bulk upload answers every message"),
                Ok(Some(m)) => match &m.results[0].refusal {
                    Some(r) => Outcome::Refused(code_named(&r.code)),
                    None => Outcome::Allowed,
                },
            }
        }
        "WatchChanges" => {
            watched(
                c.watch_changes(request(cr::WatchChangesRequest::default(), token, id))
                    .await,
                |x: &cr::Change| x.resource == cw.record,
            )
            .await
        }
        "ReassessAnnualStatuses" => {
            // Admitted, it streams its progress to a last `done`.
            watched(
                c.reassess_annual_statuses(request(
                    cr::ReassessAnnualStatusesRequest {
                        province: "44".into(),
                        ..Default::default()
                    },
                    token,
                    id,
                ))
                .await,
                |p: &cr::ReassessAnnualStatusesResponse| p.done,
            )
            .await
        }
        other => panic!("no call for {other}: add one beside its row"),
    }
}

async fn crediting_admits_exactly_whom_its_table_names(b: Backend) {
    check_table_covers(CREDITING, "ce.crediting.v1.CreditingService");
    let (env, supervision) =
        ce_tests::CreditingEnv::start_with_supervision(b, time::macros::date!(2027 - 03 - 01))
            .await;
    let mut cw = crediting_world(&env).await;
    cw.supervision = Some(supervision.channel().await);
    let mut found = Findings::new("crediting", ::crediting::migrations);
    found
        .sweep(&env.registry.place, CREDITING, async |row, who, id| {
            call_crediting(row.rpc, &env, &cw, who, id).await
        })
        .await;
    found.assert_clean();
}

both_backends!(crediting_admits_exactly_whom_its_table_names);
