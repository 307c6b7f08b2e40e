//! The test harness's own rules: a suite whose real component is missing is skipped, loudly,
//! except under CI, where it fails.

use crate::support::why_skipped;

#[test]
fn under_ci_a_missing_component_fails_the_test() {
    let failure = why_skipped(true, "/usr/bin/x", "apt-get install x").unwrap_err();
    assert!(
        failure.contains("CI=true runs every suite") && failure.contains("apt-get install x"),
        "{failure}"
    );
}

#[test]
fn elsewhere_a_missing_component_skips_the_test_saying_what_it_needs() {
    assert_eq!(
        why_skipped(false, "/usr/bin/x", "apt-get install x").as_deref(),
        Ok("/usr/bin/x is missing; apt-get install x")
    );
}
