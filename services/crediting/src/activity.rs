//! Translating an hour record between the wire and the rules library: the
//! proto's activity becomes a `ce_rules::Activity`, every bad field named
//! with its path in the request, and a rules explanation becomes the
//! proto's. No rule lives here; `ce-rules` decides every figure.

use ce_proto::common::SubjectCategory;
use ce_proto::crediting::conversion::{CompetitionLevel as PLevel, Kind as CKind, Prize as PPrize};
use ce_proto::crediting::hour_record::Activity as PActivity;
use ce_proto::crediting::{Explanation as PExplanation, aid_assignment, deemed_event};
use ce_rules::article::{ART_10, ART_11, ART_13, ART_18, ART_19, Article, cite};
use ce_rules::{
    Activity, AidKind, BookAuthorship, Category, CompetitionLevel, DrafterRole, PaperAuthorship,
    PatentKind, Prize, ResearchRole,
};
use ce_server::dates;
use ce_server::{ApiError, Violations};
use time::Date;

/// Where in the request the activity sits, for field paths (each
/// variant's path in `from_proto` spells it out).
const AT: &str = "hour_record";

/// A subject category. Here and in [`date`] the field's path is made only
/// when the field is bad: a stored record is translated again on every
/// reassessment of its year, a million at a time.
fn category(v: &mut Violations, field: impl FnOnce() -> String, c: i32) -> Category {
    match SubjectCategory::try_from(c) {
        Ok(SubjectCategory::Public) => Category::Public,
        Ok(SubjectCategory::Professional) => Category::Professional,
        _ => {
            v.add(
                field(),
                format!("is required: public or professional subjects ({ART_10})"),
            );
            Category::Professional
        }
    }
}

fn date(
    v: &mut Violations,
    field: impl FnOnce() -> String,
    d: Option<&ce_proto::google::r#type::Date>,
) -> Date {
    dates::from_proto(d).unwrap_or_else(|e| {
        v.add(field(), e);
        Date::MIN
    })
}

/// The most xAPI statements one online record may carry.
pub const STATEMENT_LIMIT: usize = 10_000;

/// The attendance sessions of an online record's xAPI statements (Art. 13):
/// statements with other verbs carry no time and are skipped.
fn sessions(v: &mut Violations, p: &str, statements: &[String]) -> Vec<ce_rules::xapi::Session> {
    if statements.len() > STATEMENT_LIMIT {
        v.add(
            format!("{p}.xapi_statements"),
            format!(
                "at most {STATEMENT_LIMIT} statements per record; split the course into records"
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        match ce_rules::xapi::parse_statement(s) {
            Ok(Some(session)) => out.push(session),
            Ok(None) => {}
            Err(e) => v.add(
                format!("{p}.xapi_statements[{i}].{}", e.path),
                format!("{} ({ART_13})", e.message),
            ),
        }
    }
    out
}

/// The rules-library activity a record describes, or every bad field.
pub fn from_proto(activity: Option<&PActivity>) -> Result<Activity, ApiError> {
    let mut v = Violations::new();
    let Some(activity) = activity else {
        return Err(ApiError::invalid(
            AT,
            format!(
                "one of face_to_face, online, deemed_event, aid_assignment or conversion is required ({ART_11})"
            ),
        ));
    };
    let out = match activity {
        PActivity::FaceToFace(f) => {
            let p = "hour_record.face_to_face";
            let days = match u16::try_from(f.days) {
                Ok(d) if d >= 1 => d,
                _ => {
                    v.add(format!("{p}.days"), "must be at least 1");
                    1
                }
            };
            Activity::FaceToFace {
                category: category(
                    &mut v,
                    || format!("{p}.subject_category"),
                    f.subject_category,
                ),
                start: date(&mut v, || format!("{p}.start_date"), f.start_date.as_ref()),
                days,
                hours_per_day: f.hours_per_day,
                provider: None,
            }
        }
        PActivity::Online(o) => {
            let p = "hour_record.online";
            Activity::Online {
                category: category(
                    &mut v,
                    || format!("{p}.subject_category"),
                    o.subject_category,
                ),
                start: date(&mut v, || format!("{p}.start_date"), o.start_date.as_ref()),
                end: date(&mut v, || format!("{p}.end_date"), o.end_date.as_ref()),
                hours: o.hours,
                sessions: sessions(&mut v, p, &o.xapi_statements),
            }
        }
        PActivity::DeemedEvent(e) => {
            let p = "hour_record.deemed_event";
            let d = date(&mut v, || format!("{p}.date"), e.date.as_ref());
            if e.certificate_number.trim().is_empty() {
                v.add(
                    format!("{p}.certificate_number"),
                    "is required: the evidence of the certificate",
                );
            }
            match deemed_event::Kind::try_from(e.kind) {
                Ok(deemed_event::Kind::Degree) => Activity::Degree { date: d },
                Ok(deemed_event::Kind::Qualification) => Activity::Qualification { date: d },
                _ => {
                    v.add(
                        format!("{p}.kind"),
                        format!(
                            "must be a degree or a qualification certificate ({})",
                            cite(&[Article::item(11, 2), Article::item(11, 3)])
                        ),
                    );
                    Activity::Degree { date: d }
                }
            }
        }
        PActivity::AidAssignment(a) => {
            let p = "hour_record.aid_assignment";
            let kind = match aid_assignment::Kind::try_from(a.kind) {
                Ok(aid_assignment::Kind::Tibet) => AidKind::Tibet,
                Ok(aid_assignment::Kind::Xinjiang) => AidKind::Xinjiang,
                Ok(aid_assignment::Kind::Qinghai) => AidKind::Qinghai,
                Ok(aid_assignment::Kind::Abroad) => AidKind::Abroad,
                Ok(aid_assignment::Kind::DesignatedSupport) => AidKind::DesignatedSupport,
                _ => {
                    v.add(format!("{p}.kind"), format!("is required: Tibet, Xinjiang, Qinghai, abroad or designated support ({ART_19})"));
                    AidKind::Tibet
                }
            };
            Activity::AidAssignment {
                kind,
                start: date(&mut v, || format!("{p}.start_date"), a.start_date.as_ref()),
                end: date(&mut v, || format!("{p}.end_date"), a.end_date.as_ref()),
            }
        }
        PActivity::Conversion(c) => conversion(&mut v, c),
    };
    v.finish()?;
    Ok(out)
}

fn conversion(v: &mut Violations, c: &ce_proto::crediting::Conversion) -> Activity {
    let p = "hour_record.conversion";
    let d = date(v, || format!("{p}.date"), c.date.as_ref());
    let id = c.evidence_id.trim().to_owned();
    let kind = CKind::try_from(c.kind).unwrap_or(CKind::Unspecified);
    if kind != CKind::Lecture && id.is_empty() {
        v.add(
            format!("{p}.evidence_id"),
            format!("is required: the project code, patent number, DOI, ISBN, standard number, engagement or \
             competition id that makes the item count once ({ART_18})"),
        );
    }
    let research = |role| Activity::Research {
        role,
        project: id.clone(),
        date: d,
    };
    let patent = |kind| Activity::Patent {
        kind,
        number: id.clone(),
        date: d,
    };
    let paper = |authorship| Activity::Paper {
        authorship,
        id: id.clone(),
        date: d,
    };
    let book = |authorship| Activity::Book {
        authorship,
        isbn: id.clone(),
        date: d,
    };
    let standard = |role| Activity::Standard {
        role,
        number: id.clone(),
        date: d,
    };
    match kind {
        CKind::ResearchSole => research(ResearchRole::Sole),
        CKind::ResearchPrincipal => research(ResearchRole::Principal),
        CKind::ResearchParticipant => research(ResearchRole::Participant),
        CKind::InventionPatent => patent(PatentKind::Invention),
        CKind::UtilityModelPatent => patent(PatentKind::UtilityModel),
        CKind::SoftwareCopyright => patent(PatentKind::SoftwareCopyright),
        CKind::PaperSole => paper(PaperAuthorship::Sole),
        CKind::PaperCoauthor => paper(PaperAuthorship::CoAuthor),
        CKind::BookSole => book(BookAuthorship::Sole),
        CKind::BookFirstAuthor => book(BookAuthorship::FirstAuthor),
        CKind::BookOtherAuthor => book(BookAuthorship::OtherAuthor),
        CKind::StandardFirstDrafter => standard(DrafterRole::FirstDrafter),
        CKind::StandardOtherDrafter => standard(DrafterRole::OtherDrafter),
        CKind::Lecture => Activity::Lecture {
            hours: c.lecture_hours,
            date: d,
            engagement: id,
        },
        CKind::ExamQuestions => Activity::ExamQuestions {
            engagement: id,
            date: d,
        },
        CKind::Competition => competition(v, p, c, id, d),
        CKind::Other => {
            if c.other_kind.trim().is_empty() {
                v.add(
                    format!("{p}.other_kind"),
                    format!(
                        "is required: the province's key for the form ({})",
                        Article::item(18, 11)
                    ),
                );
            }
            Activity::Other {
                kind: c.other_kind.trim().to_owned(),
                quantity: c.other_quantity,
                id,
                date: d,
            }
        }
        CKind::Unspecified => {
            v.add(
                format!("{p}.kind"),
                format!("is required: the item of {ART_18} (items 3-11)"),
            );
            research(ResearchRole::Participant)
        }
    }
}

/// A competition's level and prize (Art. 18(10)), each required.
fn competition(
    v: &mut Violations,
    p: &str,
    c: &ce_proto::crediting::Conversion,
    id: String,
    date: Date,
) -> Activity {
    let level = match PLevel::try_from(c.competition_level) {
        Ok(PLevel::BelowProvincial) => CompetitionLevel::BelowProvincial,
        Ok(PLevel::Provincial) => CompetitionLevel::Provincial,
        Ok(PLevel::National) => CompetitionLevel::National,
        _ => {
            v.add(
                format!("{p}.competition_level"),
                format!("is required for a competition ({})", Article::item(18, 10)),
            );
            CompetitionLevel::BelowProvincial
        }
    };
    let prize = match PPrize::try_from(c.prize) {
        Ok(PPrize::BelowThird) => Prize::BelowThird,
        Ok(PPrize::Third) => Prize::Third,
        Ok(PPrize::Second) => Prize::Second,
        Ok(PPrize::First) => Prize::First,
        _ => {
            v.add(
                format!("{p}.prize"),
                format!("is required for a competition ({})", Article::item(18, 10)),
            );
            Prize::BelowThird
        }
    };
    Activity::Competition {
        level,
        prize,
        id,
        date,
    }
}

/// The request path of a field the rules library refused.
pub fn field_path(activity: &Activity, field: &str) -> String {
    let p = match activity {
        Activity::FaceToFace { .. } => "face_to_face",
        Activity::Online { .. } => "online",
        Activity::Degree { .. } | Activity::Qualification { .. } => "deemed_event",
        Activity::AidAssignment { .. } => "aid_assignment",
        _ => "conversion",
    };
    let field = match (p, field) {
        (_, "claimed") => return format!("{AT}.claimed_hours"),
        ("conversion", "hours") => "lecture_hours",
        ("conversion", "quantity") => "other_quantity",
        ("conversion", "kind") => "other_kind",
        ("conversion", "date") => "date",
        ("conversion", "number" | "id" | "isbn" | "project" | "engagement") => "evidence_id",
        ("face_to_face", "date") => "start_date",
        ("online" | "aid_assignment", "date") => "start_date",
        ("online", "end") | ("aid_assignment", "end") => "end_date",
        // A face-to-face record ends `days` after its start.
        ("face_to_face", "end") => "days",
        ("conversion" | "deemed_event", "end") => "date",
        (_, f) => f,
    };
    format!("{AT}.{p}.{field}")
}

/// A rules-library refusal as INVALID_ARGUMENT naming the request field.
pub fn input_error(activity: &Activity, e: &ce_rules::InputError) -> ApiError {
    ApiError::invalid(
        field_path(activity, e.field),
        format!("{} ({})", e.message, e.article),
    )
}

/// A rules explanation on the wire.
pub fn explanation_to_proto(e: &ce_rules::Explanation) -> PExplanation {
    PExplanation {
        article: e.article.to_string(),
        hours: e.hours.as_f64(),
        subject_category: match e.category {
            Category::Public => SubjectCategory::Public as i32,
            Category::Professional => SubjectCategory::Professional as i32,
        },
        converted: e.converted,
        cuts: e.cuts.iter().map(ToString::to_string).collect(),
        text: e.to_string(),
        attendance_unverified: e
            .cuts
            .iter()
            .any(|c| matches!(c, ce_rules::Cut::Unverified { .. })),
        signals: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ce_proto::crediting::{Conversion, FaceToFaceTraining};
    use ce_proto::google::r#type::Date as PDate;

    fn d(y: i32, m: i32, day: i32) -> Option<PDate> {
        Some(PDate {
            year: y,
            month: m,
            day,
        })
    }

    #[test]
    fn a_course_on_the_wire_becomes_the_rules_activity() {
        let a = from_proto(Some(&PActivity::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Professional as i32,
            start_date: d(2026, 3, 2),
            days: 3,
            hours_per_day: 10.0,
        })))
        .unwrap();
        let record = ce_rules::Record::new("r", a);
        let c = ce_rules::credit(&record, &ce_rules::RuleSet::national()).unwrap();
        assert_eq!(c.hours, ce_rules::Hours::whole(24));
    }

    #[test]
    fn every_missing_part_of_a_conversion_is_named() {
        let err = from_proto(Some(&PActivity::Conversion(Conversion {
            kind: CKind::Competition as i32,
            ..Default::default()
        })))
        .unwrap_err();
        let ApiError::InvalidArgument(v) = err else {
            panic!("{err}")
        };
        let mut fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "hour_record.conversion.competition_level",
                "hour_record.conversion.date",
                "hour_record.conversion.evidence_id",
                "hour_record.conversion.prize",
            ]
        );
    }

    #[test]
    fn a_rules_refusal_names_the_request_field() {
        let a = from_proto(Some(&PActivity::FaceToFace(FaceToFaceTraining {
            subject_category: SubjectCategory::Public as i32,
            start_date: d(2026, 3, 2),
            days: 1,
            hours_per_day: 30.0,
        })))
        .unwrap();
        let record = ce_rules::Record::new("r", a.clone());
        let e = ce_rules::credit(&record, &ce_rules::RuleSet::national()).unwrap_err();
        let ApiError::InvalidArgument(v) = input_error(&a, &e) else {
            panic!()
        };
        assert_eq!(v[0].field, "hour_record.face_to_face.hours_per_day");
        assert!(
            v[0].description
                .contains(&ce_rules::Article::item(18, 1).to_string()),
            "{}",
            v[0].description
        );
    }
}
