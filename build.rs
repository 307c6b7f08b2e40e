//! Records the git revision, build date and rustc version for `-version` and `expexp_build_info`,
//! and for `-version` the number of crates built into the binary (counted by `cargo tree`).

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The distinct crates of `cargo tree -e EDGES` for this package and target, itself included.
fn tree_size(edges: &str) -> Option<usize> {
    let cargo = std::env::var("CARGO").ok()?;
    let manifest = format!("{}/Cargo.toml", std::env::var("CARGO_MANIFEST_DIR").ok()?);
    let target = std::env::var("TARGET").ok()?;
    let out = output(
        &cargo,
        &[
            "tree",
            "--offline",
            "--locked",
            "--manifest-path",
            &manifest,
            "--target",
            &target,
            "-e",
            edges,
            "--prefix",
            "none",
            "--format",
            "{p}",
        ],
    )?;
    // A crate seen before is printed again with " (*)" after it.
    let crates: std::collections::BTreeSet<&str> =
        out.lines().map(|l| l.trim_end_matches(" (*)")).filter(|l| !l.is_empty()).collect();
    Some(crates.len())
}

fn main() {
    let revision = std::env::var("EXPEXP_GIT_REVISION")
        .ok()
        .or_else(|| output("git", &["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    // SOURCE_DATE_EPOCH makes the date reproducible (Debian builds set it).
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| output("date", &["-u", "-d", &format!("@{s}"), "+%Y-%m-%d"]))
        .or_else(|| output("date", &["-u", "+%Y-%m-%d"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=EXPEXP_GIT_REVISION={revision}");
    println!("cargo:rustc-env=EXPEXP_BUILD_DATE={date}");
    println!("cargo:rustc-env=EXPEXP_RUSTC_VERSION={rustc_version}");
    // Linked: without the proc-macro crates, which run in the compiler and are not linked.
    let linked = tree_size("normal,no-proc-macro").map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    let tree = tree_size("normal").map_or_else(|| "unknown".to_owned(), |n| n.to_string());
    println!("cargo:rustc-env=EXPEXP_LINKED_CRATES={linked}");
    println!("cargo:rustc-env=EXPEXP_NORMAL_TREE_CRATES={tree}");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-env-changed=EXPEXP_GIT_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
