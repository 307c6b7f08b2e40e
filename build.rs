//! Records the git revision, build date and rustc version for `-version` and `expexp_build_info`.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
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
    println!("cargo:rerun-if-env-changed=EXPEXP_GIT_REVISION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
}
