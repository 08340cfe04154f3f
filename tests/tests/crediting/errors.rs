//! Errors a program can act on (docs/errors.md): each carries an
//! `ErrorInfo` with a stable reason, the suite's domain and the article, a
//! `LocalizedMessage` in Chinese unless the caller asks for English, and a
//! `PreconditionFailure` with a failed precondition; and a caller out of an
//! engineer's scope is refused alike by Get and List.

use super::*;
use ce_proto::crediting::crediting_service_client::CreditingServiceClient;
use tonic_types::StatusExt;

/// A year closed before it ended (the env's clock is 25 November 2026):
/// FAILED_PRECONDITION, YEAR_NOT_ENDED, Art. 21, in Chinese by default and
/// in English when `accept-language` asks for it.
async fn a_failed_precondition_says_why_in_two_languages(b: Backend) {
    let w = world(b).await;
    let sweep = |language: Option<&'static str>| {
        let mut req = tonic::Request::new(SweepAnnualStatusesRequest {
            year: 2026,
            ..Default::default()
        });
        if let Some(l) = language {
            req.metadata_mut()
                .insert("accept-language", l.parse().unwrap());
        }
        req
    };
    let err = ce_tests::refusal(w.env.ministry().sweep_annual_statuses(sweep(None))).await;
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let details = err.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "YEAR_NOT_ENDED");
    assert_eq!(info.domain, "ce.mohrss.gov.cn");
    assert_eq!(
        info.metadata.get("article").map(String::as_str),
        Some("Art. 21")
    );
    let failure = details.precondition_failure().expect("PreconditionFailure");
    assert_eq!(failure.violations[0].r#type, "YEAR_NOT_ENDED");
    let zh = details.localized_message().expect("LocalizedMessage");
    assert_eq!(zh.locale, "zh-CN");
    assert!(zh.message.contains("第二十一条"), "{}", zh.message);
    assert!(details.request_info().is_some(), "RequestInfo");

    let err = ce_tests::refusal(
        w.env
            .ministry()
            .sweep_annual_statuses(sweep(Some("en-US,en;q=0.9,zh;q=0.5"))),
    )
    .await;
    let details = err.get_error_details();
    let en = details.localized_message().unwrap();
    assert_eq!(
        (en.locale.as_str(), en.message.as_str()),
        ("en-US", err.message())
    );
}

/// Errors no handler made carry a reason too: no token at all
/// (UNAUTHENTICATED, from the auth layer) and a bad field (INVALID_FIELD,
/// with its BadRequest).
async fn errors_of_the_stack_and_of_fields_carry_a_reason(b: Backend) {
    let w = world(b).await;
    let mut anonymous = CreditingServiceClient::new(w.env.channel.clone());
    let err = ce_tests::refusal(anonymous.get_annual_status(GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    }))
    .await;
    assert_eq!(err.code(), Code::Unauthenticated);
    let details = err.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "UNAUTHENTICATED");
    assert_eq!(details.localized_message().unwrap().locale, "zh-CN");

    let err = ce_tests::refusal(w.env.ministry().get_annual_status(GetAnnualStatusRequest {
        name: "engineers/x/annualStatuses/1999".into(),
    }))
    .await;
    let details = err.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "INVALID_FIELD");
    assert!(details.bad_request().is_some());
}

/// Another province's department is refused one engineer's year alike by
/// `GetAnnualStatus` and by `ListAnnualStatuses` with the engineer named,
/// with OUT_OF_SCOPE, instead of an empty page from the List.
async fn out_of_scope_is_one_answer_for_get_and_list(b: Backend) {
    let w = world(b).await;
    compliant_year(&w).await;
    let mut shanghai = w.env.province("31");
    let got = ce_tests::refusal(shanghai.get_annual_status(GetAnnualStatusRequest {
        name: status_name(&w.engineer, 2026),
    }))
    .await;
    let listed = ce_tests::refusal(shanghai.list_annual_statuses(ListAnnualStatusesRequest {
        year: 2026,
        engineer: w.engineer.clone(),
        ..Default::default()
    }))
    .await;
    for err in [&got, &listed] {
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert_eq!(
            err.get_error_details().error_info().unwrap().reason,
            "OUT_OF_SCOPE"
        );
    }
    // Guangdong itself lists it.
    let own = ce_tests::answer(w.env.province("44").list_annual_statuses(
        ListAnnualStatusesRequest {
            year: 2026,
            engineer: w.engineer.clone(),
            ..Default::default()
        },
    ))
    .await;
    assert_eq!(own.annual_statuses.len(), 1);
}

both_backends!(
    a_failed_precondition_says_why_in_two_languages,
    errors_of_the_stack_and_of_fields_carry_a_reason,
    out_of_scope_is_one_answer_for_get_and_list,
);
