//! The operator documentation and packaging against the code: every flag, with its default, and
//! every YAML key is in docs/configuration.md; every flag is in the package's /etc/default file
//! and the manual page; the README names no flag that does not exist; the Prometheus examples
//! are valid for promtool and for us, the packaged and the container image's configurations
//! load (the latter where the image's entrypoint reads it), and the Grafana
//! dashboard is well-formed JSON that queries only metrics the proxy exports.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use exporter_exporter::cli;
use exporter_exporter::method::MethodName;

use crate::support::Daemon;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Whether `needle` occurs in `text` as a whole token (not followed by more of a name), so
/// that `-web.bearer.token` is not found inside `-web.bearer.token-file`.
fn mentions(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        !text[i + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || "._-".contains(c))
    })
}

/// The long names of every flag, from the CLI definition itself.
fn flags() -> Vec<String> {
    let names: Vec<String> =
        cli::command().get_arguments().filter_map(|a| a.get_long()).map(str::to_owned).collect();
    assert!(names.len() >= 20 && names.iter().any(|n| n == "config.file"), "{names:?}");
    names.into_iter().filter(|n| n != "help").collect()
}

/// The YAML keys of every `Deserialize` struct in a source file: field names, or their
/// `#[serde(rename = "...")]`. A text scan of the serde mirror structs, which are the schema.
fn yaml_keys(source: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let (mut deserialize, mut in_struct, mut rename) = (false, false, None);
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[derive(") {
            deserialize = line.contains("Deserialize");
        } else if !in_struct && line.contains("struct ") && line.ends_with('{') {
            in_struct = deserialize;
            deserialize = false;
        } else if in_struct && line == "}" {
            in_struct = false;
        } else if in_struct && let Some(r) = line.strip_prefix("#[serde(rename = \"") {
            rename = r.split('"').next().map(str::to_owned);
        } else if in_struct && !line.starts_with("//") && !line.starts_with("#[") {
            let field = line.trim_start_matches("pub(super) ").trim_start_matches("pub ");
            if let Some((name, _)) = field.split_once(':')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                keys.insert(rename.take().unwrap_or_else(|| name.to_owned()));
            }
        }
    }
    keys
}

#[test]
fn every_flag_is_in_the_reference_and_the_packaged_defaults() {
    let reference = read("docs/configuration.md");
    let defaults = read("packaging/exporter_exporter.default");
    let missing: Vec<_> = flags()
        .into_iter()
        .filter(|f| !mentions(&reference, &format!("`-{f}`")) || !mentions(&defaults, &format!("-{f}")))
        .collect();
    assert!(
        missing.is_empty(),
        "flags missing from docs/configuration.md or packaging/exporter_exporter.default: {missing:?}"
    );
    // And the reference's flag tables name no flag that does not exist.
    let known: BTreeSet<String> = flags().into_iter().collect();
    for line in reference.lines().filter(|l| l.starts_with("| `-")) {
        let name = line.trim_start_matches("| `-").split('`').next().unwrap_or_default();
        assert!(known.contains(name), "docs/configuration.md documents an unknown flag -{name}");
    }
}

/// Each flag's default as the CLI defines it: `None` for a repeatable flag with none.
fn defaults() -> Vec<(String, Option<String>)> {
    cli::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| (l, a)))
        .filter(|(l, _)| *l != "help")
        .map(|(l, a)| {
            let d = a.get_default_values().first().map(|v| v.to_string_lossy().into_owned());
            (l.to_owned(), d)
        })
        .collect()
}

#[test]
fn the_reference_gives_each_flag_the_default_the_cli_has() {
    let reference = read("docs/configuration.md");
    let rows: Vec<(&str, &str)> = reference
        .lines()
        .filter_map(|l| l.strip_prefix("| `-"))
        .filter_map(|l| {
            let (name, rest) = l.split_once('`')?;
            Some((name, rest.trim_start_matches(" |").split(" |").next()?.trim()))
        })
        .collect();
    let mut wrong = Vec::new();
    for (flag, default) in defaults() {
        let Some((_, documented)) = rows.iter().find(|(n, _)| *n == flag) else {
            wrong.push(format!("-{flag}: no row"));
            continue;
        };
        let ok = match default.as_deref() {
            None => documented.starts_with("none"),
            Some("") => documented.starts_with("`\"\"`"),
            Some(d) => documented.starts_with(&format!("`{d}`")),
        };
        if !ok {
            wrong.push(format!("-{flag}: documented {documented:?}, the CLI's default is {default:?}"));
        }
    }
    assert!(wrong.is_empty(), "docs/configuration.md flag defaults: {wrong:?}");
}

/// A flag's row in docs/configuration.md: its name, its default, its long help on one line.
fn flag_row(arg: &clap::Arg) -> String {
    let name = arg.get_long().unwrap_or_default();
    let default = match arg.get_default_values().first().map(|v| v.to_string_lossy().into_owned()) {
        None if matches!(arg.get_action(), clap::ArgAction::Append) => "none; repeatable".to_owned(),
        None => "none".to_owned(),
        Some(d) if d.is_empty() => "`\"\"`".to_owned(),
        Some(d) => format!("`{d}`"),
    };
    // The long help after its first paragraph (the short help), or else the short help.
    let long = arg.get_long_help().map(ToString::to_string);
    let help = match long.as_deref().and_then(|l| l.split_once("\n\n")) {
        Some((_, rest)) => rest.to_owned(),
        None => arg.get_help().map(ToString::to_string).unwrap_or_default(),
    };
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = if help.ends_with('.') { help } else { format!("{help}.") };
    format!("| `-{name}` | {default} | {help} |")
}

/// `text` with each flag table (between `<!-- flags: HEADING...-->` and `<!-- end of flags -->`)
/// made again from the CLI: the flags under that help heading, in the order they are defined.
fn with_flag_tables(text: &str) -> String {
    const START: &str = "<!-- flags: ";
    const END: &str = "<!-- end of flags -->";
    let command = cli::command();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(START) {
        let marker_end = rest[at..].find("-->").expect("the marker ends") + at + 3;
        let heading = rest[at + START.len()..marker_end].split(';').next().expect("a heading").trim();
        let end = rest[marker_end..].find(END).expect("an end of flags marker") + marker_end;
        out.push_str(&rest[..marker_end]);
        out.push_str("\n| flag | default | meaning |\n|---|---|---|\n");
        let rows: Vec<String> =
            command.get_arguments().filter(|a| a.get_help_heading() == Some(heading)).map(flag_row).collect();
        assert!(!rows.is_empty(), "no flag has the help heading {heading:?}");
        for row in rows {
            out.push_str(&row);
            out.push('\n');
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_flag_tables_are_made_from_the_cli() {
    let reference = read("docs/configuration.md");
    let made = with_flag_tables(&reference);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(repo("docs/configuration.md"), &made).expect("write docs/configuration.md");
        return;
    }
    let command = cli::command();
    let headings: BTreeSet<&str> = command.get_arguments().filter_map(clap::Arg::get_help_heading).collect();
    for heading in headings {
        assert!(reference.contains(&format!("<!-- flags: {heading};")), "no flag table for {heading:?}");
    }
    assert!(
        made == reference,
        "docs/configuration.md's flag tables differ from the flags in src/settings.rs; \
         UPDATE_DOCS=1 cargo test --test it docs:: writes them"
    );
}

/// docs/operations.md's table of the proxy's own families, made from their declarations.
fn families_table() -> String {
    let mut table = String::from("| family | type | labels | help |\n|---|---|---|---|\n");
    for f in exporter_exporter::telemetry::families() {
        let labels = if f.labels.is_empty() { "none".to_owned() } else { f.labels.join(", ") };
        table.push_str(&format!("| `{}` | {} | {labels} | {} |\n", f.name, f.kind.as_str(), f.help));
    }
    table
}

#[test]
fn the_families_table_is_made_from_the_declarations() {
    const START: &str = "<!-- families: made from src/telemetry.rs (UPDATE_DOCS=1 cargo test --test it docs:: writes it) -->\n";
    const END: &str = "<!-- end of families -->";
    let text = read("docs/operations.md");
    let start = text.find(START).expect("docs/operations.md has the families marker") + START.len();
    let end = text[start..].find(END).expect("and its end") + start;
    let made = format!("{}{}{}", &text[..start], families_table(), &text[end..]);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(repo("docs/operations.md"), &made).expect("write docs/operations.md");
        return;
    }
    assert!(
        made == text,
        "docs/operations.md's families differ from src/telemetry.rs's; UPDATE_DOCS=1 cargo test --test it docs:: writes them"
    );
}

#[test]
fn every_family_the_original_lacks_is_named_where_operators_moving_from_it_look() {
    let (migration, containers) = (read("docs/migration.md"), read("docs/containers.md"));
    let undocumented: Vec<&str> = exporter_exporter::telemetry::families()
        .filter(|f| !f.original)
        .map(|f| f.name)
        .filter(|n| !mentions(&migration, n) && !mentions(&containers, n))
        .collect();
    assert!(
        undocumented.is_empty(),
        "families the original does not have, named neither in docs/migration.md nor (for the container \
         families) in docs/containers.md: {undocumented:?}"
    );
}

#[test]
fn the_testing_guide_names_every_test_module() {
    let guide = read("docs/testing.md");
    let mut modules: Vec<String> = read("tests/it/main.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("mod "))
        .map(|m| format!("tests/it/{}.rs", m.trim_end_matches(';')))
        .collect();
    modules.push("tests/faults.rs".to_owned());
    assert!(modules.len() > 30, "{modules:?}");
    let missing: Vec<&String> = modules.iter().filter(|m| !guide.contains(&format!("`{m}`"))).collect();
    assert!(missing.is_empty(), "test modules docs/testing.md does not name: {missing:?}");
}

/// The backquoted file paths (`a/b.rs`) of `text`, outside its code blocks.
fn file_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        for (i, quoted) in line.split('`').enumerate() {
            let is_path = quoted.ends_with(".rs")
                && quoted.contains('/')
                && quoted.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_/.".contains(c));
            if i % 2 == 1 && is_path {
                paths.push(quoted.to_owned());
            }
        }
    }
    paths
}

#[test]
fn every_file_the_architecture_names_exists() {
    let paths = file_paths(&read("docs/architecture.md"));
    assert!(paths.len() > 40, "{paths:?}");
    let missing: Vec<&String> =
        paths.iter().filter(|p| !repo(p).exists() && !repo(&format!("src/{p}")).exists()).collect();
    assert!(missing.is_empty(), "docs/architecture.md names files that do not exist: {missing:?}");
}

#[test]
fn the_recipes_hold_every_method_is_in_the_list() {
    // A method's file implements Definition; the one list in src/method.rs names its type.
    let list = read("src/method.rs");
    let mut methods = Vec::new();
    for file in rust_files(&repo("src/method")) {
        let text = std::fs::read_to_string(&file).expect("read");
        for line in text.lines().filter_map(|l| l.trim().strip_prefix("impl Definition for ")) {
            let ty = line.trim_end_matches(" {").to_owned();
            assert!(
                list.contains(&format!("::{ty}) =")),
                "{ty} ({}) is not in for_each_method!",
                file.display()
            );
            methods.push(ty);
        }
    }
    assert_eq!(methods.len(), MethodName::NAMES.len(), "{methods:?}");
}

#[test]
fn the_recipes_hold_flags_live_in_one_file() {
    let elsewhere: Vec<PathBuf> = rust_files(&repo("src"))
        .into_iter()
        .filter(|f| !f.ends_with("src/settings.rs"))
        .filter(|f| std::fs::read_to_string(f).expect("read").contains("#[arg("))
        .collect();
    assert!(elsewhere.is_empty(), "flags defined outside src/settings.rs: {elsewhere:?}");
}

#[test]
fn the_recipes_hold_self_metrics_are_declared_not_written_out() {
    // Our families' names are written only where they are declared (src/telemetry.rs and
    // src/telemetry/), besides the mtime family a file module adds to its file's body.
    let declared = ["src/telemetry.rs", "src/telemetry/", "src/method/file.rs"];
    let elsewhere: Vec<PathBuf> = rust_files(&repo("src"))
        .into_iter()
        .filter(|f| !declared.iter().any(|d| f.to_string_lossy().replace('\\', "/").contains(d)))
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("read");
            // Unit tests may name what they check.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            code.contains("\"expexp_")
        })
        .collect();
    assert!(elsewhere.is_empty(), "self-metric names written outside their declarations: {elsewhere:?}");
    for family in exporter_exporter::telemetry::families() {
        assert!(family.name.starts_with("expexp_"), "{}", family.name);
    }
}

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/gen_man.rs"]
mod gen_man;

#[test]
fn the_manual_page_has_every_flag_with_its_default_and_no_other() {
    let (name, page) = gen_man::render().expect("render");
    assert_eq!(name, "exporter_exporter.1");
    // roff escapes the dashes of option names.
    let page = String::from_utf8(page)
        .expect("utf8")
        .replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fR", "")
        .replace("\\fI", "");
    for (flag, default) in defaults() {
        assert!(mentions(&page, &format!("--{flag}")), "the manual page lacks --{flag}");
        if let Some(d) = default.filter(|d| !d.is_empty()) {
            assert!(page.contains(&format!("[default: {d}]")), "the manual page lacks -{flag}'s default {d}");
        }
    }
    let known: BTreeSet<String> = flags().into_iter().collect();
    for word in page.split(|c: char| c.is_whitespace() || c == '[' || c == '(' || c == ',') {
        let w = word.trim_start_matches('-');
        let name = w.split(['=', ']', ')']).next().unwrap_or_default().trim_end_matches('.');
        if word.starts_with('-') && name.contains('.') && name.chars().next().is_some_and(char::is_alphabetic)
        {
            assert!(known.contains(name), "the manual page names an unknown flag {word:?}");
        }
    }
}

#[test]
fn the_readme_names_no_flag_that_does_not_exist() {
    let readme = read("README.md");
    let known: BTreeSet<String> = flags().into_iter().collect();
    let mut unknown = Vec::new();
    for word in readme.split(|c: char| c.is_whitespace() || "`([,".contains(c)) {
        if let Some(w) = word.strip_prefix('-').map(|w| w.trim_start_matches('-'))
            && w.contains('.')
            && w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        {
            let name = w.split(['=', ']', ')', '`']).next().unwrap_or_default().trim_end_matches(['.', ':']);
            if name.contains('.') && !known.contains(name) {
                unknown.push(name.to_owned());
            }
        }
    }
    assert!(unknown.is_empty(), "README.md names flags that do not exist: {unknown:?}");
}

#[test]
fn every_yaml_key_is_in_the_reference() {
    let reference = read("docs/configuration.md");
    // The configuration file's keys: config/raw.rs, the docker block, and each method's block key
    // and block (in the method's own file).
    let mut keys = yaml_keys(&read("src/config/raw.rs"));
    keys.extend(yaml_keys(&read("src/config/docker.rs")));
    keys.extend(MethodName::NAMES.iter().map(|n| (*n).to_owned()));
    for file in rust_files(&repo("src/method")) {
        keys.extend(yaml_keys(&std::fs::read_to_string(&file).expect("read")));
    }
    let module_keys = keys.len();
    keys.extend(yaml_keys(&read("src/config/web.rs")));
    // The scan must have found the schema, not nothing.
    for expected in ["defaultModule", "modules", "port", "tls_root_ca_file", "max_output_bytes", "max_bytes"]
    {
        assert!(
            keys.contains(expected),
            "scan of src/config/raw.rs and src/method/ missed {expected}: {keys:?}"
        );
    }
    for expected in ["tls_server_config", "client_allowed_sans", "http2", "basic_auth_users"] {
        assert!(keys.contains(expected), "scan of src/config/web.rs missed {expected}: {keys:?}");
    }
    assert!(module_keys >= 30 && keys.len() > module_keys + 10, "{keys:?}");
    let missing: Vec<_> = keys.iter().filter(|k| !reference.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "YAML keys missing from docs/configuration.md: {missing:?}");
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn check_config(path: &Path) -> (bool, String) {
    let ran = Daemon::run(&["-config.check", "-config.file", path.to_str().expect("utf8")]);
    (ran.code == Some(0), ran.stdout + &ran.stderr)
}

#[test]
fn the_packaged_configuration_loads_and_the_flags_line_is_set() {
    let (ok, output) = check_config(&repo("packaging/exporter_exporter.yaml"));
    assert!(ok && output.contains("configuration OK"), "{output}");
    let defaults = read("packaging/exporter_exporter.default");
    let line = defaults.lines().find(|l| l.starts_with("EXPEXP_FLAGS=")).expect("an EXPEXP_FLAGS line");
    assert_eq!(
        line,
        "EXPEXP_FLAGS=\"-config.file=/etc/exporter_exporter.yaml -config.dirs=/etc/exporter_exporter.d\""
    );
    let flags = line.trim_start_matches("EXPEXP_FLAGS=").trim_matches('"');
    let args = std::iter::once("exporter_exporter").chain(flags.split_whitespace());
    cli::parse(args).expect("the packaged flags parse");
    let unit = read("packaging/exporter_exporter.service");
    for line in [
        "ExecStart=/usr/bin/exporter_exporter $EXPEXP_FLAGS",
        "EnvironmentFile=-/etc/default/exporter_exporter",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=exporter_exporter",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
}

#[test]
fn the_container_image_configuration_loads_where_its_entrypoint_reads_it() {
    let (ok, output) = check_config(&repo("packaging/image/exporter_exporter.yaml"));
    assert!(ok && output.contains("configuration OK"), "{output}");
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.lines().any(|l| l
            == r#"ENTRYPOINT ["/usr/bin/exporter_exporter", "-config.file=/etc/exporter_exporter.yaml"]"#),
        "the Dockerfile's ENTRYPOINT does not read /etc/exporter_exporter.yaml"
    );
    let staging = read("packaging/build-image.sh");
    assert!(
        staging.contains(
            r#"install -m0644 packaging/image/exporter_exporter.yaml "$root/etc/exporter_exporter.yaml""#
        ),
        "packaging/build-image.sh does not put packaging/image/exporter_exporter.yaml at /etc/exporter_exporter.yaml"
    );
}

/// The fenced ```yaml blocks of a Markdown file.
#[cfg(unix)]
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[cfg(unix)] // promtool is a Linux program here
#[test]
fn the_prometheus_examples_are_valid() {
    let blocks = yaml_blocks(&read("docs/prometheus.md"));
    assert!(blocks.len() >= 8, "found {} yaml blocks", blocks.len());
    let dir = tempfile::tempdir().expect("tmp");
    let promtool =
        ["/usr/bin/promtool", "/usr/local/bin/promtool"].into_iter().find(|p| Path::new(p).exists());
    if promtool.is_none() {
        crate::support::missing(
            "promtool (the Prometheus examples are not checked against it)",
            "apt-get install prometheus",
        );
    }
    let mut checked = 0;
    for (i, block) in blocks.iter().enumerate() {
        let path = dir.path().join(format!("block{i}.yml"));
        std::fs::write(&path, block).expect("write");
        let first = block.lines().find(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap_or_default();
        let (ok, output) = match first {
            "modules:" => check_config(&path),
            "scrape_configs:" | "groups:" => {
                let Some(promtool) = promtool else { continue };
                let args: &[&str] = if first == "groups:" {
                    &["check", "rules"]
                } else {
                    &["check", "config", "--syntax-only"]
                };
                let out = std::process::Command::new(promtool)
                    .args(args)
                    .arg(&path)
                    .output()
                    .expect("run promtool");
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                (out.status.success(), text)
            }
            other => panic!("docs/prometheus.md block {i} starts with {other:?}: what checks it?"),
        };
        assert!(ok, "docs/prometheus.md block {i} is refused:\n{block}\n{output}");
        checked += 1;
    }
    assert!(checked >= 1);
}

/// GETs `path` of a daemon the test started; the whole answer, which must be a 200.
fn get_ok(daemon: &Daemon, path: &str) -> String {
    let address = &daemon.bound[0];
    let mut s = std::net::TcpStream::connect(address).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(s, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

/// The metric names the dashboard's queries use, once its shape is checked: variables, unique
/// panel ids, grid positions, the datasource variable on every panel and query.
fn dashboard_metrics(text: &str) -> BTreeSet<String> {
    let dashboard: serde_json::Value =
        serde_json::from_str(text).expect("docs/grafana-dashboard.json is JSON");
    assert!(dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 36), "schemaVersion");
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for name in ["datasource", "instance", "module"] {
        assert!(variables.contains(&name), "no ${name} variable: {variables:?}");
    }
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut exprs = Vec::new();
    for panel in panels {
        let id = panel["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "duplicate panel id {id}");
        for key in ["x", "y", "w", "h"] {
            assert!(panel["gridPos"][key].is_u64(), "panel {id} gridPos.{key}");
        }
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "panel {id} datasource");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {id} has no query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "panel {id} target datasource");
            exprs.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    assert!(exprs.len() >= 12, "{} queries", exprs.len());
    exprs
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(text))
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("expexp_") || w.starts_with("process_"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_grafana_dashboard_is_well_formed_and_queries_real_metrics() {
    let used = dashboard_metrics(&read("docs/grafana-dashboard.json"));
    for needed in [
        "expexp_proxy_duration_seconds_count",
        "expexp_proxy_duration_seconds_sum",
        "expexp_proxy_errors_total",
        "expexp_proxy_timeout_errors_total",
        "expexp_malformed_content_errors_total",
        "expexp_command_starts_total",
        "expexp_command_fails_total",
        "expexp_file_fails_total",
        "expexp_config_last_reload_successful",
        "expexp_build_info",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "expexp_scrapes_coalesced_total",
        "expexp_upstream_connection_waits",
        "expexp_held_body_bytes",
        "expexp_scrapes_waiting_for_memory",
    ] {
        assert!(used.contains(needed), "the dashboard does not show {needed}");
    }

    // Every metric it queries exists in what the proxy serves, with an exec, a file and an http
    // module configured (their series exist from the start; the http module is never scraped).
    let dir = tempfile::tempdir().expect("tmp");
    let prom = dir.path().join("a.prom");
    std::fs::write(&prom, "a 1\n").expect("write");
    let config = dir.path().join("expexp.yaml");
    std::fs::write(
        &config,
        format!(
            "modules:\n  e:\n    method: exec\n    exec: {{command: /bin/true}}\n  \
             f:\n    method: file\n    file: {{path: {}}}\n  \
             h:\n    method: http\n    http: {{port: 9}}\n",
            prom.display()
        ),
    )
    .expect("write");
    let proxy = Daemon::with_config(&config, &[]);
    let metrics = get_ok(&proxy, "/metrics");
    let served: BTreeSet<&str> =
        metrics.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let unknown: Vec<_> = used.iter().filter(|m| !served.contains(m.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics the proxy does not serve: {unknown:?}\n{metrics}"
    );
}
