//! Art. 25's assessment periods, as the quality service relies on them:
//! each period's text reads back as itself, the one after it is the next
//! stretch of days, and periods of one granularity sort in time order as
//! text (the service orders and compares them as stored text).

use ce_rules::quality::{NotAPeriod, Part, Period, next_period, previous_period};

/// The first and last day of a period.
fn period_days(text: &str) -> Result<(time::Date, time::Date), NotAPeriod> {
    Period::parse(text).map(Period::days)
}
use proptest::prelude::*;

fn period() -> impl Strategy<Value = Period> {
    (
        2026i32..2200,
        prop_oneof![
            Just(Part::Year),
            (1u8..=2).prop_map(Part::Half),
            (1u8..=4).prop_map(Part::Quarter),
        ],
    )
        .prop_map(|(year, part)| Period { year, part })
}

proptest! {
    #[test]
    fn a_period_follows_on_from_the_one_before(p in period()) {
        let text = p.to_string();
        prop_assert_eq!(Period::parse(&text), Ok(p));
        let next = next_period(&text).unwrap();
        prop_assert_eq!(previous_period(&next), Some(text.clone()));
        let (_, last) = period_days(&text).unwrap();
        let (first, _) = period_days(&next).unwrap();
        prop_assert_eq!(last.next_day(), Some(first));
        prop_assert!(next > text, "{next} sorts after {text}");
    }
}
