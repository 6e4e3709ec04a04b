#![no_main]
//! Any text as a rule: parsing never panics, and a rule that parses prints back to text that
//! parses to an equal rule. Loading the text as a rule file never panics either.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    assert!(netsec_core::rules::display_round_trips(&text), "{text:?}");
    let _ = netsec_core::rules::RuleSet::from_text(&text, &netsec_core::rules::RuleVars::default());
});
