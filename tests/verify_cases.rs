//! The verifier against the table of bodies in tests/exposition/: every `*.good.txt` must verify
//! and every `*.bad.txt` must fail, in the format of its folder (see the PROVENANCE.md files).

use std::path::Path;

use exporter_exporter::exposition::{Dialect, Encoding, Format, verify};

fn run_table(folder: &str, dialect: Dialect) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exposition").join(folder);
    let mut failures = Vec::new();
    let mut counted = 0;
    for entry in std::fs::read_dir(&dir).expect("case folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let expect_ok = if name.ends_with(".good.txt") {
            true
        } else if name.ends_with(".bad.txt") {
            false
        } else {
            continue;
        };
        counted += 1;
        let body = std::fs::read(&path).expect("case file");
        let result = verify(&body, dialect, Encoding::Identity);
        if result.is_ok() != expect_ok {
            failures.push(format!("{name}: {result:?}"));
        }
    }
    assert!(counted > 20, "only {counted} cases in {}", dir.display());
    assert!(failures.is_empty(), "{} of {counted} cases disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn text_format_cases() {
    // The Go tables parse with UTF-8 names allowed; the legacy rule is tested in the unit tests.
    run_table("text", Dialect { format: Format::Text, utf8_names: true });
}

#[test]
fn openmetrics_cases() {
    run_table("openmetrics", Dialect { format: Format::OpenMetrics, utf8_names: true });
}
