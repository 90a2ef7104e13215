//! `plan`/`apply` input: any text as a manifest file is parsed and validated
//! into typed resources or clear errors, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quay_config_operator::gitops::manifests::parse;
use quay_config_operator::gitops::validate::validate;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(documents) = parse("fuzz.yaml", text) {
        let _ = validate(documents);
    }
});
