//! xAPI attendance evidence (Art. 13) from arbitrary text, one statement a
//! line: parsing never panics, and online training credited from the
//! sessions that parse never earns more than the hours claimed.

#![no_main]

use ce_rules::*;
use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sessions = Vec::new();
    for line in text.lines() {
        if let Ok(Some(s)) = xapi::parse_statement(line) {
            sessions.push(s);
        }
    }
    let record = Record {
        id: "online".into(),
        activity: Activity::Online {
            category: Category::Professional,
            start: date!(2026 - 03 - 01),
            end: date!(2026 - 03 - 31),
            hours: 20.0,
            sessions,
        },
        claimed: None,
        revoked: false,
        make_up_for: None,
        contested: Vec::new(),
    };
    let records = [record];
    let input = YearInput {
        year: 2026,
        records: &records,
        make_up: &[],
        deferral: None,
        used_for_make_up: &[],
        as_of: date!(2026 - 11 - 25),
    };
    if let Ok(a) = assess(&input, &RuleSet::national()) {
        assert!(
            a.totals.total <= Hours::whole(20),
            "credited more than claimed: {:?}",
            a.totals
        );
    }
});
