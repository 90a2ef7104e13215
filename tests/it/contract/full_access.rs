//! A superuser with FEATURE_SUPERUSERS_FULL_ACCESS on organizations and
//! repositories that do not exist: the rows of
//! `shared/quay-observed/superuser-full-access.md` (see
//! `emulator_full_access`), with unique names, against a real Quay when
//! `QUAY_TEST_URL`, `QUAY_TEST_TOKEN` and `QUAY_TEST_SUPERUSERS_FULL_ACCESS=1`
//! are set, else against the emulator with full access on.

use quay_config_operator::emulator::EmulatorConfig;

use super::{EMULATOR_TOKEN, Target};
use crate::emulator_full_access::{Names, check_rows, full_access_rows};

#[tokio::test]
async fn missing_objects_with_full_access() {
    if std::env::var("QUAY_TEST_URL").is_ok()
        && std::env::var("QUAY_TEST_SUPERUSERS_FULL_ACCESS").is_err()
    {
        eprintln!(
            "skipped: set QUAY_TEST_SUPERUSERS_FULL_ACCESS=1 when the real Quay runs with FEATURE_SUPERUSERS_FULL_ACCESS"
        );
        return;
    }
    let t = Target::with_config(EmulatorConfig {
        token: Some(EMULATOR_TOKEN.to_owned()),
        superusers_full_access: true,
        mailing: false,
    })
    .await;
    let token = if t.is_real() {
        std::env::var("QUAY_TEST_TOKEN").expect("QUAY_TEST_TOKEN")
    } else {
        EMULATOR_TOKEN.to_owned()
    };
    let org = t.org("fullaccess").await;
    let me = t.client.current_user().await.expect("current user");
    assert!(me.super_user, "the token must be a superuser's");
    let names = Names {
        org: org.clone(),
        missing_org: t.name("nosuchorg"),
        missing_repo: "nosuch".to_owned(),
        user: me.username,
        unknown_org: t.name("x"),
    };
    let mismatches = check_rows(t.client.base_url(), &token, &full_access_rows(&names)).await;
    t.cleanup(&org).await;
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
