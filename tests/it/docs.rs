//! The operator documentation and packaging against the code: every flag, with its default, and
//! every YAML key is in docs/configuration.md; every flag is in the package's /etc/default file
//! and the manual page; the README names no flag that does not exist; the Prometheus examples
//! are valid for promtool and for us, the packaged configuration loads, and the Grafana
//! dashboard is well-formed JSON that queries only metrics the proxy exports.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;
use exporter_exporter::cli::Cli;

const BIN: &str = env!("CARGO_BIN_EXE_exporter_exporter");

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
        Cli::command().get_arguments().filter_map(|a| a.get_long()).map(str::to_owned).collect();
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
    Cli::command()
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
    let mut keys = yaml_keys(&read("src/config/raw.rs"));
    let module_keys = keys.len();
    keys.extend(yaml_keys(&read("src/config/web.rs")));
    // The scan must have found the schema, not nothing.
    for expected in ["defaultModule", "modules", "port", "tls_root_ca_file", "max_output_bytes", "max_bytes"]
    {
        assert!(keys.contains(expected), "scan of src/config/raw.rs missed {expected}: {keys:?}");
    }
    for expected in ["tls_server_config", "client_allowed_sans", "http2", "basic_auth_users"] {
        assert!(keys.contains(expected), "scan of src/config/web.rs missed {expected}: {keys:?}");
    }
    assert!(module_keys >= 30 && keys.len() > module_keys + 10, "{keys:?}");
    let missing: Vec<_> = keys.iter().filter(|k| !reference.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "YAML keys missing from docs/configuration.md: {missing:?}");
}

fn check_config(path: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["-config.check", "-config.file"])
        .arg(path)
        .output()
        .expect("run exporter_exporter -config.check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
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
    Cli::parse_go(args).expect("the packaged flags parse");
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
        eprintln!(
            "\n\n*** SKIPPED (in part): promtool is not installed, the Prometheus examples are not checked; `apt-get install prometheus` (CI does) ***\n"
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
                let out = Command::new(promtool).args(args).arg(&path).output().expect("run promtool");
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

/// The proxy, started on a free loopback port; killed when dropped.
struct Proxy {
    child: Child,
    address: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn start(config: &Path) -> Proxy {
        let mut child = Command::new(BIN)
            .arg("-config.file")
            .arg(config)
            .args(["-web.listen-address=127.0.0.1:0", "-log.level=info"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let deadline = Instant::now() + Duration::from_secs(20);
        let address = loop {
            assert!(Instant::now() < deadline, "the proxy logged no address");
            let line = lines.next().expect("a log line").expect("utf8");
            if let Some(rest) = line.split(" bound=").nth(1) {
                break rest.split_whitespace().next().expect("address").to_owned();
            }
        };
        // Keep draining the log so the proxy never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Proxy { child, address }
    }

    fn get(&self, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.address).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        write!(s, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address)
            .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        out
    }
}

#[test]
fn the_grafana_dashboard_is_well_formed_and_queries_real_metrics() {
    let text = read("docs/grafana-dashboard.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&text).expect("docs/grafana-dashboard.json is JSON");
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
    let used: BTreeSet<String> = exprs
        .iter()
        .chain(std::iter::once(&text))
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("expexp_") || w.starts_with("process_"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
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
    let proxy = Proxy::start(&config);
    let metrics = proxy.get("/metrics");
    let served: BTreeSet<&str> =
        metrics.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    let unknown: Vec<_> = used.iter().filter(|m| !served.contains(m.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard queries metrics the proxy does not serve: {unknown:?}\n{metrics}"
    );
}
