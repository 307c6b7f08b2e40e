//! Configuration loading: the `tests/config/*.good.yaml` / `*.bad.yaml` table (a bad file's
//! first line is `# error: <text the error message must contain>`), and `-config.dirs`.

use std::path::{Path, PathBuf};

use exporter_exporter::config::{Config, ConfigError, ConfigFiles};
use exporter_exporter::method::MethodConfig;
use exporter_exporter::method::http::{Endpoint, Scheme};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn load_file(path: &Path) -> Result<Config, ConfigError> {
    Config::load(&ConfigFiles { file: Some(path.to_owned()), ..ConfigFiles::default() }).map(|(c, _)| c)
}

#[test]
fn fixture_table() {
    let mut failures = Vec::new();
    let files = fixtures();
    assert!(files.len() > 30, "fixtures missing");
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if cfg!(windows) && (name.starts_with("docker") || name.starts_with("unix_socket")) {
            // Unix sockets (named, or Docker's default host) are refused on Windows; that
            // refusal is tested in windows.rs.
            continue;
        }
        let result = load_file(&path);
        if name.ends_with(".good.yaml") {
            if let Err(e) = result {
                failures.push(format!("{name}: unexpected error: {e}"));
            }
        } else if name.ends_with(".bad.yaml") {
            let text = std::fs::read_to_string(&path).expect("read");
            let expected =
                text.lines().next().and_then(|l| l.strip_prefix("# error: ")).expect("# error: line");
            match result {
                Ok(_) => failures.push(format!("{name}: loaded, expected an error containing {expected:?}")),
                Err(e) => {
                    let msg = e.to_string();
                    if !msg.contains(expected) || !msg.contains(&name) {
                        failures.push(format!("{name}: error {msg:?} lacks {expected:?} or the file name"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn defaults_and_parsed_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/config");
    let c = load_file(&dir.join("original_readme.good.yaml")).expect("loads");
    let MethodConfig::Http(node) = &c.modules["node"].method else { panic!("node is http") };
    let Endpoint::Tcp { address, port } = &node.endpoint else { panic!("tcp") };
    assert_eq!((node.scheme, address.as_str(), port.get()), (Scheme::Http, "localhost", 9100));
    assert_eq!((node.path.as_str(), node.verify), ("/metrics", true));
    assert!(node.query.is_empty() && node.basic_auth.is_none() && node.host.is_none());
    let MethodConfig::Http(netdata) = &c.modules["netdata"].method else { panic!("netdata is http") };
    assert_eq!(netdata.path, "/api/v1/allmetrics");
    assert_eq!(netdata.query, vec![("format".to_owned(), "prometheus".to_owned())]);
    let script = &c.modules["somescript"];
    assert_eq!(script.timeout, Some(std::time::Duration::from_secs(1)));
    let MethodConfig::Exec(exec) = &script.method else { panic!("exec") };
    assert_eq!(exec.args, ["myarg1", "myarg2"]);
    assert_eq!(exec.env, [("THING".to_owned(), "1".to_owned()), ("THING2".to_owned(), "2".to_owned())]);
    assert!(exec.allow_args);

    let d = load_file(&dir.join("debian_packaged.good.yaml")).expect("loads");
    let MethodConfig::Http(bb) = &d.modules["blackbox"].method else { panic!("http") };
    assert_eq!(bb.path, "/probe", "a path without its leading slash gets one");

    let e = load_file(&dir.join("every_key.good.yaml")).expect("loads");
    assert_eq!(e.default_module.as_deref(), Some("node"));
    let MethodConfig::Http(h) = &e.modules["node"].method else { panic!("http") };
    assert_eq!(h.host.as_ref().map(|h| h.as_bytes()), Some(&b"node.example"[..]));
    assert_eq!(h.headers.len(), 1, "host is not an ordinary header");
    assert!(!h.verify && h.tls.insecure_skip_verify && h.scheme == Scheme::Https);
    assert_eq!(h.query, vec![("collect[]".to_owned(), "cpu".to_owned())]);
    assert!(!format!("{:?}", h.basic_auth).contains("\"p\""), "Debug hides the password");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[test]
fn dirs_make_one_module_per_yaml_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path().join("expexp.d");
    std::fs::create_dir(&d).expect("mkdir");
    write(&d.join("node.yaml"), "method: http\nhttp:\n   port: 9100\n");
    write(&d.join("mtail.yml"), "method: http\nhttp:\n   port: 3903\n");
    write(&d.join("README"), "not yaml\n");
    std::fs::create_dir(d.join("sub.yaml")).expect("mkdir");
    let main = tmp.path().join("expexp.yaml");
    write(&main, "modules: {}\n");
    let sources = ConfigFiles { file: Some(main), dirs: vec![d.clone()], skip_missing_dirs: false };
    let (config, warnings) = Config::load(&sources).expect("loads");
    assert_eq!(config.modules.keys().collect::<Vec<_>>(), ["mtail", "node"]);
    assert_eq!(config.modules["node"].defined_in, d.join("node.yaml"));
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("README")));

    // Only directories, with -config.file "".
    let only_dirs = ConfigFiles { file: None, dirs: vec![d.clone()], skip_missing_dirs: false };
    assert_eq!(Config::load(&only_dirs).expect("loads").0.modules.len(), 2);
}

#[test]
fn dir_errors_name_the_file_and_module() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path().join("d");
    std::fs::create_dir(&d).expect("mkdir");
    write(&d.join("node.yaml"), "method: http\nhttp:\n   prot: 9100\n");
    let e = Config::load(&ConfigFiles { file: None, dirs: vec![d.clone()], skip_missing_dirs: false })
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("node.yaml") && msg.contains("http.prot") && msg.contains("unknown field"), "{msg}");

    write(&d.join("node.yaml"), "method: http\nhttp: {}\n");
    let msg = Config::load(&ConfigFiles { file: None, dirs: vec![d.clone()], skip_missing_dirs: false })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("node.yaml") && msg.contains("module \"node\": http.port: missing"), "{msg}");

    write(&d.join("node.yaml"), "");
    let msg = Config::load(&ConfigFiles { file: None, dirs: vec![d], skip_missing_dirs: false })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("node.yaml") && msg.contains("empty"), "{msg}");
}

/// `dir/node.yaml` as this platform writes the path.
fn in_dir(dir: &str) -> String {
    Path::new(dir).join("node.yaml").display().to_string()
}

#[test]
fn a_module_defined_twice_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir(d).expect("mkdir");
        write(&d.join("node.yaml"), "method: http\nhttp: {port: 9100}\n");
    }
    let main = tmp.path().join("expexp.yaml");
    write(&main, "modules:\n  node: {method: http, http: {port: 1}}\n");
    // In the file and a directory.
    let e = Config::load(&ConfigFiles {
        file: Some(main.clone()),
        dirs: vec![a.clone()],
        skip_missing_dirs: false,
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("\"node\" is defined twice") && e.contains("expexp.yaml") && e.contains(&in_dir("a")),
        "{e}"
    );
    // In two directories.
    let e = Config::load(&ConfigFiles { file: None, dirs: vec![a, b], skip_missing_dirs: false })
        .unwrap_err()
        .to_string();
    assert!(e.contains(&in_dir("a")) && e.contains(&in_dir("b")), "{e}");
}

#[test]
fn missing_dirs_fail_unless_skipped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let missing = tmp.path().join("nope");
    let e = Config::load(&ConfigFiles { file: None, dirs: vec![missing.clone()], skip_missing_dirs: false })
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let (config, warnings) =
        Config::load(&ConfigFiles { file: None, dirs: vec![missing], skip_missing_dirs: true })
            .expect("skipped");
    assert!(config.modules.is_empty());
    assert!(warnings.iter().any(|w| w.contains("skipping missing config directory")));
}

#[test]
fn default_module_may_come_from_a_dir() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path().join("d");
    std::fs::create_dir(&d).expect("mkdir");
    write(&d.join("node.yaml"), "method: http\nhttp: {port: 9100}\n");
    let main = tmp.path().join("expexp.yaml");
    write(&main, "defaultModule: node\n");
    let (c, _) =
        Config::load(&ConfigFiles { file: Some(main), dirs: vec![d], skip_missing_dirs: false }).expect("ok");
    assert_eq!(c.default_module.as_deref(), Some("node"));
}

#[test]
fn a_missing_config_file_is_an_error() {
    let e = load_file(Path::new("/nonexistent/expexp.yaml")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/expexp.yaml"), "{e}");
}
