//! Why a call failed, in words a program can act on (Google AIP-193).
//!
//! Every error the suite answers carries a `google.rpc.ErrorInfo` whose
//! `reason` is one of these, stable and UPPER_SNAKE, in the suite's
//! [`DOMAIN`], with metadata naming the article of the regulation behind it
//! (`article`, when one is) and the resource it concerns (`resource`, when
//! known); and a `google.rpc.LocalizedMessage` in Chinese (zh-CN) or English
//! (en-US), as the caller's `accept-language` asks, Chinese by default. A
//! FAILED_PRECONDITION also carries a `google.rpc.PreconditionFailure` whose
//! violation's type is the reason. docs/errors.md lists every reason; a
//! test reads that table and fails on any reason it lacks.

use ce_rules::article::{ART_13, ART_20, ART_21, ART_22, ART_25, ART_26, ART_27, Article};
use tonic::Code;

/// The `domain` of every `ErrorInfo` the suite sends.
pub const DOMAIN: &str = "ce.mohrss.gov.cn";

macro_rules! reasons {
    ($($variant:ident => $name:literal, $code:ident, $article:expr, $zh:literal;)+) => {
        /// Why a call failed (see the module docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($variant,)+
        }

        impl Reason {
            /// Every reason, as docs/errors.md lists them.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)+];

            /// The reason as `ErrorInfo.reason` carries it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Reason::$variant => $name,)+
                }
            }

            /// The status code it is answered with.
            pub const fn code(self) -> Code {
                match self {
                    $(Reason::$variant => Code::$code,)+
                }
            }

            /// The article of the regulation behind it, if one is.
            pub const fn article(self) -> Option<Article> {
                match self {
                    $(Reason::$variant => $article,)+
                }
            }

            /// What it means, in Chinese: the `LocalizedMessage` for zh-CN.
            pub const fn zh(self) -> &'static str {
                match self {
                    $(Reason::$variant => $zh,)+
                }
            }
        }
    };
}

reasons! {
    // Any call.
    InvalidField => "INVALID_FIELD", InvalidArgument, None,
        "请求中有字段不符合规定：BadRequest 逐一列出字段及其规则";
    MalformedRequest => "MALFORMED_REQUEST", InvalidArgument, None,
        "请求不是该方法的有效消息";
    Unauthenticated => "UNAUTHENTICATED", Unauthenticated, None,
        "缺少有效的访问令牌：未提供、已过期或签名不受信任";
    OutOfScope => "OUT_OF_SCOPE", PermissionDenied, None,
        "该资源不在调用者角色的范围（省份、领域、单位）之内";
    RoleNotPermitted => "ROLE_NOT_PERMITTED", PermissionDenied, None,
        "调用者的角色无权进行此项操作";
    NotFound => "NOT_FOUND", NotFound, None,
        "资源不存在";
    AlreadyExists => "ALREADY_EXISTS", AlreadyExists, None,
        "资源已存在";
    ConcurrentChange => "CONCURRENT_CHANGE", Aborted, None,
        "另一项修改在先：请重新读取后重试";
    Overloaded => "OVERLOADED", ResourceExhausted, None,
        "服务繁忙：请稍后按退避策略重试";
    MessageTooLarge => "MESSAGE_TOO_LARGE", ResourceExhausted, None,
        "请求消息超过服务器允许的大小（server.max_message_bytes）";
    AnonymousRateLimited => "ANONYMOUS_RATE_LIMITED", ResourceExhausted, None,
        "该地址未带令牌的调用过于频繁（auth.anonymous_calls_per_minute）：请稍后重试，或带令牌调用";
    Unavailable => "UNAVAILABLE", Unavailable, None,
        "服务或其所依赖的服务暂时不可用：请稍后重试";
    DeadlineExceeded => "DEADLINE_EXCEEDED", DeadlineExceeded, None,
        "请求超时";
    Unimplemented => "UNIMPLEMENTED", Unimplemented, None,
        "服务没有此方法";
    Cancelled => "CANCELLED", Cancelled, None,
        "调用已被取消";
    Internal => "INTERNAL", Internal, None,
        "服务内部错误：请求编号（x-request-id）可用于在日志中查找";
    ItemTooLarge => "ITEM_TOO_LARGE", FailedPrecondition, None,
        "列表中有一项超过一次响应允许的大小（server.max_message_bytes）";

    // Who may do what.
    NotTheRegistrant => "NOT_THE_REGISTRANT", PermissionDenied, Some(ART_21),
        "学时由举办活动的部门或机构登记，或由专业技术人员本人提交；记录只能由登记者更正";
    NotTheOrganiser => "NOT_THE_ORGANISER", PermissionDenied, Some(ART_21),
        "只有活动的主办方可以登记该活动的学时";
    RevocationWithoutDecidedCase => "REVOCATION_WITHOUT_DECIDED_CASE", PermissionDenied, Some(ART_27),
        "学时只能依据已作出撤销决定、并列明该记录的案件撤销";

    // Which deployment takes a write (docs/deploying.md).
    OtherProvinceDeployment => "OTHER_PROVINCE_DEPLOYMENT", FailedPrecondition, Some(ART_21),
        "本系统只登记本省的专业技术人员、机构、用人单位、活动和学时：其他省份的由该省本地系统登记";
    NationalDeployment => "NATIONAL_DEPLOYMENT", FailedPrecondition, Some(ART_22),
        "全国系统只受理人力资源社会保障部本部的登记和学时：各省的登记在本省系统进行，并通过报送进入全国系统";

    // Registry.
    OrganiserNotAnInstitution => "ORGANISER_NOT_AN_INSTITUTION", FailedPrecondition, None,
        "活动的主办方不是已登记的继续教育机构";
    InstitutionFieldsByHrss => "INSTITUTION_FIELDS_BY_HRSS", PermissionDenied, Some(ART_13),
        "机构的专业领域和教学方式由人力资源社会保障部门变更";
    MoveByProvince => "MOVE_BY_PROVINCE", PermissionDenied, Some(ART_22),
        "跨省调动由省级人力资源社会保障部门登记";

    // Crediting.
    InstitutionDisqualified => "INSTITUTION_DISQUALIFIED", FailedPrecondition, Some(ART_26),
        "机构已被暂停或取消资格：此后不能发布活动或登记学时";
    RegistrationDeadlinePassed => "REGISTRATION_DEADLINE_PASSED", FailedPrecondition, Some(ART_21),
        "已超过学时登记期限";
    YearNotEnded => "YEAR_NOT_ENDED", FailedPrecondition, Some(ART_21),
        "该年度尚未结束：12月31日之后才能关闭年度";
    EngineerNotInRegistry => "ENGINEER_NOT_IN_REGISTRY", FailedPrecondition, None,
        "该专业技术人员已不在登记库中";
    RecordNotCorrectable => "RECORD_NOT_CORRECTABLE", FailedPrecondition, Some(ART_27),
        "只有已提交、已确认或已驳回的学时记录可以更正（已撤销的记录保持不变）";
    RecordNotSubmitted => "RECORD_NOT_SUBMITTED", FailedPrecondition, None,
        "只有已提交的学时记录可以确认或驳回";
    DeferralNotActive => "DEFERRAL_NOT_ACTIVE", FailedPrecondition, Some(ART_20),
        "该缓期已被驳回或撤销";
    MakeUpNotAllowed => "MAKE_UP_NOT_ALLOWED", FailedPrecondition, Some(ART_20),
        "该学时记录不能用于补足缓期年度";

    DeferralByOwnEmployer => "DEFERRAL_BY_OWN_EMPLOYER", PermissionDenied, Some(ART_20),
        "缓期由专业技术人员本人所在的用人单位证明";
    MakeUpByEngineer => "MAKE_UP_BY_ENGINEER", PermissionDenied, Some(ART_20),
        "用于补足缓期年度的学时记录由专业技术人员本人指定";

    // Supervision.
    TargetOutOfInspectionScope => "TARGET_OUT_OF_INSPECTION_SCOPE", FailedPrecondition, None,
        "所列对象不在（或已不在）本次检查的范围之内";
    InspectionScopeEmpty => "INSPECTION_SCOPE_EMPTY", FailedPrecondition, None,
        "检查范围内尚无可检查的对象";
    DrawAlreadyFixed => "DRAW_ALREADY_FIXED", FailedPrecondition, None,
        "抽样已经确定：抽样只确定一次";
    SampleAlreadyDrawn => "SAMPLE_ALREADY_DRAWN", FailedPrecondition, None,
        "样本已经抽取：不能重新抽取";
    NoDrawYet => "NO_DRAW_YET", FailedPrecondition, None,
        "尚未抽样";
    NotSampledOrPublished => "NOT_SAMPLED_OR_PUBLISHED", FailedPrecondition, None,
        "对象未被抽中，或检查结果已经公布：检查结论在抽样之后、公布之前记录";
    ViolationAlreadyDecided => "VIOLATION_ALREADY_DECIDED", FailedPrecondition, None,
        "该违规已作出处理决定：申诉作为新的违规登记";
    ViolationNotDecided => "VIOLATION_NOT_DECIDED", FailedPrecondition, None,
        "该违规尚未作出处理决定：只有已决定的违规可以结案";
    ReferralResolved => "REFERRAL_RESOLVED", FailedPrecondition, None,
        "该移送已经处理";

    // Quality monitoring.
    PeriodNotEnded => "PERIOD_NOT_ENDED", FailedPrecondition, Some(ART_25),
        "监测周期尚未结束：结束后才能关闭，结果自此确定";
}

/// The locale of the Chinese `LocalizedMessage`, the default.
pub const ZH_CN: &str = "zh-CN";
/// The locale of the English one, the status message itself.
pub const EN_US: &str = "en-US";

/// The Chinese message of `reason` about `resource`: what it means, the
/// article behind it (第二十一条) and the resource, if any.
pub fn in_chinese(reason: Reason, resource: &str) -> String {
    let mut out = reason.zh().to_owned();
    if let Some(article) = reason.article() {
        out.push_str(&format!("（第{}条）", chinese_number(article.number)));
    }
    if !resource.is_empty() {
        out.push_str(&format!("：{resource}"));
    }
    out
}

/// 1 to 99 in Chinese numerals, as articles are numbered (二十一).
fn chinese_number(n: u8) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, ones) = (usize::from(n / 10), usize::from(n % 10));
    let mut out = String::new();
    if tens > 1 {
        out.push_str(DIGITS[tens]);
    }
    if tens > 0 {
        out.push('十');
    }
    if ones > 0 || tens == 0 {
        out.push_str(DIGITS[ones]);
    }
    out
}

/// The language the caller's `accept-language` prefers among the two the
/// suite answers in: English (en-US) when an `en` tag is preferred over
/// every `zh` one, else Chinese (zh-CN).
pub fn preferred_locale(accept_language: Option<&str>) -> &'static str {
    let Some(header) = accept_language else {
        return ZH_CN;
    };
    let mut best: Option<(f32, &'static str)> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let locale = match tag.split('-').next() {
            Some("zh") => ZH_CN,
            Some("en") => EN_US,
            _ => continue,
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, locale));
        }
    }
    best.map_or(ZH_CN, |(_, l)| l)
}

impl Reason {
    /// The reason an error of `code` carries when nothing more specific
    /// was said (errors of the transport, the stack's layers, or tonic).
    pub fn of_code(code: Code) -> Reason {
        match code {
            Code::InvalidArgument => Reason::InvalidField,
            Code::Unauthenticated => Reason::Unauthenticated,
            Code::PermissionDenied => Reason::OutOfScope,
            Code::NotFound => Reason::NotFound,
            Code::AlreadyExists => Reason::AlreadyExists,
            Code::Aborted => Reason::ConcurrentChange,
            Code::ResourceExhausted => Reason::Overloaded,
            Code::Unavailable => Reason::Unavailable,
            Code::DeadlineExceeded => Reason::DeadlineExceeded,
            Code::Unimplemented => Reason::Unimplemented,
            Code::Cancelled => Reason::Cancelled,
            _ => Reason::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_read_in_chinese_numerals() {
        let n: Vec<String> = [1, 10, 13, 20, 21, 27, 31].map(chinese_number).to_vec();
        assert_eq!(
            n,
            ["一", "十", "十三", "二十", "二十一", "二十七", "三十一"]
        );
        assert_eq!(
            in_chinese(Reason::YearNotEnded, "annualStatuses/2026"),
            "该年度尚未结束：12月31日之后才能关闭年度（第二十一条）：annualStatuses/2026"
        );
    }

    #[test]
    fn the_caller_s_language_is_chosen_among_chinese_and_english() {
        assert_eq!(preferred_locale(None), ZH_CN);
        assert_eq!(preferred_locale(Some("en-US,en;q=0.9")), EN_US);
        assert_eq!(preferred_locale(Some("zh-CN,zh;q=0.9,en;q=0.8")), ZH_CN);
        assert_eq!(preferred_locale(Some("fr, en;q=0.5, zh;q=0.7")), ZH_CN);
        assert_eq!(preferred_locale(Some("de")), ZH_CN);
        assert_eq!(preferred_locale(Some("en-GB")), EN_US);
    }

    /// docs/errors.md lists every reason the code has, with its code and
    /// article, and no other.
    #[test]
    fn errors_md_lists_every_reason() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let mut listed = std::collections::BTreeMap::new();
        for line in doc.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let code = cells[2].trim_matches('`').to_owned();
            let article = cells[3].to_owned();
            listed.insert(name, (code, article));
        }
        for r in Reason::ALL {
            let (code, article) = listed
                .remove(r.name())
                .unwrap_or_else(|| panic!("docs/errors.md lacks {}", r.name()));
            let expected_code =
                format!("{:?}", r.code())
                    .chars()
                    .fold(String::new(), |mut out, c| {
                        if c.is_ascii_uppercase() && !out.is_empty() {
                            out.push('_');
                        }
                        out.push(c.to_ascii_uppercase());
                        out
                    });
            assert_eq!(code, expected_code, "{}'s code in docs/errors.md", r.name());
            let expected_article = r.article().map_or("—".to_owned(), |a| a.to_string());
            assert_eq!(
                article,
                expected_article,
                "{}'s article in docs/errors.md",
                r.name()
            );
        }
        assert!(
            listed.is_empty(),
            "docs/errors.md lists reasons the code does not have: {listed:?}"
        );
    }

    #[test]
    fn names_are_unique_and_upper_snake() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert!(seen.insert(r.name()), "{} twice", r.name());
            assert!(
                r.name().chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{}",
                r.name()
            );
            assert!(!r.zh().is_empty());
        }
    }
}
