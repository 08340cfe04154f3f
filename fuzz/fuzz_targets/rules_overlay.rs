//! Provincial rule-set overlays from arbitrary text: loading never panics,
//! and an overlay that loads never raises a national maximum (Art. 18).

#![no_main]

use ce_rules::RuleBook;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut book = RuleBook::national();
    let national = book.national_set().maxima.clone();
    if let Ok(set) = book.add_overlay(text, "fuzz.toml") {
        assert!(
            set.maxima.all_at_most(&national),
            "an overlay raised a national maximum: {:?}",
            set.maxima
        );
    }
});
