//! The dependency policy of docs/dependencies.md, checked against the real dependency graph:
//! licences on an allow list, crates.io as the only source, duplicate versions and build
//! scripts exactly those the doc lists and justifies, an entry with true numbers for every
//! direct dependency, and `-version` counting what `cargo tree` counts.
//!
//! The graph is `cargo tree -e normal` (what is built into the binary, with the features
//! actually enabled); the facts of each package (licence, source, build script) come from
//! `cargo metadata`. Both run offline on the locked graph, in about a second, for this host
//! and for Windows ([`WINDOWS`]): a dependency of one platform only is held to the same policy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Licences compatible with distributing the binary under Apache-2.0 (all permissive). A licence
/// not here fails the test until someone checks it and adds it, with docs/dependencies.md.
const ALLOWED_LICENCES: &[&str] = &[
    "0BSD",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-3-Clause",
    "ISC",
    "MIT",
    "Unicode-3.0",
    "Unlicense",
    "Zlib",
];

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// The Windows build's target (docs/windows.md); its graph is checked beside the host's.
const WINDOWS: &str = "x86_64-pc-windows-gnu";

/// The crate count the project keeps under (issue 20), counted as the issue does.
const MAX_TREE_LINES: usize = 140;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn cargo(args: &[&str]) -> String {
    run(option_env!("CARGO").unwrap_or("cargo"), args)
}

fn host() -> String {
    let v = run("rustc", &["-vV"]);
    v.lines().find_map(|l| l.strip_prefix("host: ")).expect("rustc -vV names the host").to_owned()
}

/// The targets whose graphs are checked: this host and Windows.
fn targets() -> [String; 2] {
    [host(), WINDOWS.to_owned()]
}

/// `cargo tree` for this package on `target`, offline on the locked graph, with `args`.
fn cargo_tree(target: &str, args: &[&str]) -> String {
    let mut all = vec!["tree", "--offline", "--locked", "--target", target];
    all.extend_from_slice(args);
    cargo(&all)
}

/// `cargo tree` lines for `target`, without the `(*)` repeat marks.
fn tree(target: &str, edges: &str, prefix: &str, format: &str) -> Vec<String> {
    let out = cargo_tree(target, &["-e", edges, "--prefix", prefix, "--format", format]);
    out.lines().map(|l| l.trim_end_matches(" (*)").to_owned()).filter(|l| !l.is_empty()).collect()
}

/// `name vX.Y.Z`, the key of a crate in both outputs.
fn key(line: &str) -> String {
    line.split(' ').take(2).collect::<Vec<_>>().join(" ")
}

/// The normal dependency graph: each crate's dependencies, and the root.
struct Graph {
    root: String,
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn normal(target: &str) -> Graph {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut path: Vec<String> = Vec::new();
        for line in tree(target, "normal", "depth", "{p}") {
            let split = line.find(|c: char| !c.is_ascii_digit()).expect("depth then crate");
            let depth: usize = line[..split].parse().expect("depth");
            let krate = key(&line[split..]);
            path.truncate(depth);
            if let Some(parent) = path.last() {
                edges.entry(parent.clone()).or_default().insert(krate.clone());
            }
            edges.entry(krate.clone()).or_default();
            path.push(krate);
        }
        let root = edges.keys().find(|k| k.starts_with("exporter_exporter ")).expect("root").clone();
        Graph { root, edges }
    }

    /// Every crate reached from the root, the edge to `skip` left out.
    fn reached(&self, skip: Option<&str>) -> BTreeSet<&str> {
        let mut seen = BTreeSet::from([self.root.as_str()]);
        let mut todo: Vec<&str> =
            self.edges[&self.root].iter().map(String::as_str).filter(|d| Some(*d) != skip).collect();
        while let Some(k) = todo.pop() {
            if seen.insert(k) {
                todo.extend(self.edges[k].iter().map(String::as_str));
            }
        }
        seen
    }

    /// The crates that leave the tree with direct dependency `direct` (itself included).
    fn brought_by(&self, direct: &str) -> usize {
        self.reached(None).len() - self.reached(Some(direct)).len()
    }

    fn direct(&self) -> impl Iterator<Item = &str> {
        self.edges[&self.root].iter().map(String::as_str)
    }
}

/// One package of `cargo metadata`.
struct Package {
    license: Option<String>,
    source: Option<String>,
    /// The build script's file, if there is one.
    build_script: Option<PathBuf>,
}

/// `cargo metadata` for `target`, by `name vX.Y.Z`, and the names of the direct normal
/// dependencies Cargo.toml declares (for any platform).
fn metadata(target: &str) -> (BTreeMap<String, Package>, BTreeSet<String>) {
    let json =
        cargo(&["metadata", "--format-version", "1", "--offline", "--locked", "--filter-platform", target]);
    let m: serde_json::Value = serde_json::from_str(&json).expect("metadata JSON");
    let mut packages = BTreeMap::new();
    let mut direct = BTreeSet::new();
    for p in m["packages"].as_array().expect("packages") {
        let text = |field: &str| p[field].as_str().map(str::to_owned);
        let name = text("name").expect("name");
        let build_script = p["targets"].as_array().expect("targets").iter().find_map(|t| {
            let custom = t["kind"].as_array().expect("kind").iter().any(|k| k == "custom-build");
            custom.then(|| PathBuf::from(t["src_path"].as_str().expect("src_path")))
        });
        if p["source"].is_null() && name == "exporter_exporter" {
            for d in p["dependencies"].as_array().expect("dependencies") {
                if d["kind"].is_null() {
                    direct.insert(d["name"].as_str().expect("name").to_owned());
                }
            }
        }
        packages.insert(
            format!("{name} v{}", text("version").expect("version")),
            Package { license: text("license"), source: text("source"), build_script },
        );
    }
    (packages, direct)
}

/// The rows of the table under `## {heading}` in docs/dependencies.md, split into cells.
fn doc_table(heading: &str) -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(repo("docs/dependencies.md")).expect("docs/dependencies.md");
    let start = doc.find(&format!("\n## {heading}\n")).unwrap_or_else(|| panic!("no section {heading:?}"));
    let section = &doc[start + heading.len() + 5..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().trim_matches('`').to_owned()).collect())
        .collect()
}

/// Whether an SPDX expression (or Cargo's older `A/B`) allows us one of its choices.
fn licence_allowed(expression: &str) -> bool {
    let spaced = expression.replace('/', " OR ").replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut at = 0;
    let allowed = or_expression(&tokens, &mut at);
    allowed == Some(true) && at == tokens.len()
}

fn or_expression(t: &[&str], at: &mut usize) -> Option<bool> {
    let mut any = and_expression(t, at)?;
    while t.get(*at) == Some(&"OR") {
        *at += 1;
        any |= and_expression(t, at)?;
    }
    Some(any)
}

fn and_expression(t: &[&str], at: &mut usize) -> Option<bool> {
    let mut all = licence(t, at)?;
    while t.get(*at) == Some(&"AND") {
        *at += 1;
        all &= licence(t, at)?;
    }
    Some(all)
}

fn licence(t: &[&str], at: &mut usize) -> Option<bool> {
    let first = *t.get(*at)?;
    *at += 1;
    if first == "(" {
        let inner = or_expression(t, at)?;
        (t.get(*at) == Some(&")")).then(|| *at += 1)?;
        return Some(inner);
    }
    let mut id = first.to_owned();
    if t.get(*at) == Some(&"WITH") {
        id = format!("{id} WITH {}", t.get(*at + 1)?);
        *at += 2;
    }
    Some(ALLOWED_LICENCES.contains(&id.as_str()))
}

#[test]
fn the_licence_check_reads_spdx_expressions() {
    assert!(licence_allowed("MIT OR Apache-2.0"));
    assert!(licence_allowed("MIT/Apache-2.0"));
    assert!(licence_allowed("(MIT OR Apache-2.0) AND Unicode-3.0"));
    assert!(licence_allowed("Apache-2.0 WITH LLVM-exception OR GPL-3.0-only"));
    assert!(!licence_allowed("GPL-3.0-only"));
    assert!(!licence_allowed("MIT AND GPL-2.0-only"));
    assert!(!licence_allowed("GPL-2.0-only WITH Classpath-exception-2.0"));
    assert!(!licence_allowed("(MIT OR Apache-2.0"));
    assert!(!licence_allowed(""));
}

#[test]
fn every_linked_crate_has_an_allowed_licence() {
    for target in targets() {
        let (packages, _) = metadata(&target);
        let graph = Graph::normal(&target);
        let refused: Vec<String> = graph
            .reached(None)
            .into_iter()
            .filter_map(|k| match packages[k].license.as_deref() {
                Some(l) if licence_allowed(l) => None,
                Some(l) => Some(format!("{k}: {l}")),
                None => Some(format!("{k}: no SPDX licence (only a licence file)")),
            })
            .collect();
        assert!(
            refused.is_empty(),
            "{target}: licences not on the allow list of tests/it/dependencies.rs: {refused:#?}"
        );
    }
}

#[test]
fn every_crate_comes_from_crates_io() {
    for target in targets() {
        let (packages, _) = metadata(&target);
        let elsewhere: Vec<String> = packages
            .iter()
            .filter(|(k, p)| !k.starts_with("exporter_exporter ") && p.source.as_deref() != Some(CRATES_IO))
            .map(|(k, p)| format!("{k}: {}", p.source.as_deref().unwrap_or("a path")))
            .collect();
        assert!(
            elsewhere.is_empty(),
            "{target}: crates not from crates.io (dev-dependencies included): {elsewhere:#?}"
        );
    }
}

#[test]
fn duplicate_versions_are_the_justified_ones() {
    let graphs: Vec<Graph> = targets().iter().map(|t| Graph::normal(t)).collect();
    let mut versions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for graph in &graphs {
        let mut here: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for k in graph.reached(None) {
            let (name, version) = k.split_once(" v").expect("name vX");
            here.entry(name).or_default().insert(version);
        }
        for (name, v) in here.into_iter().filter(|(_, v)| v.len() > 1) {
            versions.entry(name).or_default().extend(v);
        }
    }
    let found: BTreeMap<String, String> = versions
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.into_iter().collect::<Vec<_>>().join(", ")))
        .collect();
    let listed: BTreeMap<String, String> = doc_table("Duplicate versions")
        .into_iter()
        .map(|row| {
            assert!(row.len() == 3 && row[2].len() > 20, "a duplicate needs its reason: {row:?}");
            (row[0].clone(), row[1].clone())
        })
        .collect();
    assert_eq!(found, listed, "the duplicate versions in docs/dependencies.md (name, versions)");
}

/// The SHA-256 of a build script: its file, or every file of its directory where it has one
/// of its own (rustversion's build/).
fn build_script_hash(script: &Path, package_root: bool) -> String {
    let mut files = vec![script.to_owned()];
    if !package_root {
        files = std::fs::read_dir(script.parent().expect("dir"))
            .expect("build script dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
    }
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for f in files {
        ctx.update(&std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn build_scripts_are_the_reviewed_ones() {
    // Everything compiled to build the binary: its crates and their build dependencies.
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    for target in targets() {
        let (packages, _) = metadata(&target);
        let built: BTreeSet<String> =
            tree(&target, "normal,build", "none", "{p}").iter().map(|l| key(l)).collect();
        found.extend(built.iter().filter(|k| !k.starts_with("exporter_exporter ")).filter_map(|k| {
            let script = packages[k].build_script.as_ref()?;
            let root = script.parent().and_then(|d| d.join("Cargo.toml").exists().then_some(()));
            Some((k.clone(), build_script_hash(script, root.is_some())))
        }));
    }
    let listed: BTreeMap<String, String> = doc_table("Build scripts")
        .into_iter()
        .map(|row| {
            assert!(row.len() == 4 && row[3].len() > 20, "a build script needs its review: {row:?}");
            (format!("{} v{}", row[0], row[1]), row[2].clone())
        })
        .collect();
    assert_eq!(
        found, listed,
        "build scripts (crate, version, SHA-256) differ from the reviewed ones in docs/dependencies.md: \
         read the new or changed script, then update its row"
    );
}

#[test]
fn every_direct_dependency_has_a_true_entry() {
    let rows: BTreeMap<String, Vec<String>> =
        doc_table("Direct dependencies").into_iter().map(|row| (row[0].clone(), row)).collect();
    let mut problems = Vec::new();
    let mut declared = BTreeSet::new();
    let mut checked = BTreeSet::new();
    // The host's graph first: a dependency of every platform is counted there, one of Windows
    // only in Windows' graph.
    for target in targets() {
        let (packages, all) = metadata(&target);
        declared = all;
        let graph = Graph::normal(&target);
        for direct in graph.direct() {
            let name = direct.split(' ').next().expect("name");
            if !checked.insert(name.to_owned()) {
                continue;
            }
            let Some(row) = rows.get(name) else { continue };
            if row.len() != 5 || row[1].len() < 10 || row[2].len() < 10 {
                problems
                    .push(format!("{name}: needs what it is for, why it, its count and licence: {row:?}"));
                continue;
            }
            let brought = graph.brought_by(direct).to_string();
            if row[3] != brought {
                problems.push(format!("{name}: brings {brought} crates ({target}), the doc says {}", row[3]));
            }
            let licence = packages[direct].license.clone().unwrap_or_default();
            if row[4] != licence {
                problems.push(format!("{name}: licence {licence:?}, the doc says {:?}", row[4]));
            }
        }
    }
    for name in &declared {
        if !rows.contains_key(name) {
            problems.push(format!("{name}: no entry"));
        }
    }
    for name in rows.keys() {
        if !declared.contains(name) {
            problems.push(format!("{name}: in the doc but not a dependency"));
        }
    }
    assert!(problems.is_empty(), "docs/dependencies.md: {problems:#?}");
}

#[test]
fn the_tree_stays_within_its_budget_and_the_doc_says_its_size() {
    let lines: BTreeSet<String> = {
        // The measure: `cargo tree -e normal --prefix none | sort -u | wc -l`, whose
        // repeat lines (ending in `(*)`) count too.
        let out = cargo_tree(&host(), &["-e", "normal", "--prefix", "none"]);
        out.lines().map(str::to_owned).collect()
    };
    assert!(lines.len() <= MAX_TREE_LINES, "{} lines, more than {MAX_TREE_LINES}", lines.len());
    let doc = std::fs::read_to_string(repo("docs/dependencies.md")).expect("doc");
    let crates = Graph::normal(&host()).reached(None).len();
    let claim = format!("**{crates} crates** in the normal tree");
    assert!(doc.contains(&claim), "docs/dependencies.md should say {claim:?}");
    let crates = Graph::normal(WINDOWS).reached(None).len();
    let claim = format!("**{crates} crates** for Windows");
    assert!(doc.contains(&claim), "docs/dependencies.md should say {claim:?}");
}

#[test]
fn version_prints_the_licence_the_crate_counts_and_the_sbom() {
    let text = crate::support::Daemon::run(&["-version"]).stdout;
    let linked = tree(&host(), "normal,no-proc-macro", "none", "{p}")
        .iter()
        .map(|l| key(l))
        .collect::<BTreeSet<_>>()
        .len();
    let all = Graph::normal(&host()).reached(None).len();
    assert!(text.contains("licence: Apache-2.0\n"), "{text}");
    assert!(
        text.contains(&format!("crates: {linked} linked, {all} in the normal dependency tree")),
        "{text}"
    );
    assert!(text.contains("/usr/share/doc/exporter-exporter/sbom.cdx.json"), "{text}");
    assert!(text.contains(&format!("dependency list: {}; ", exporter_exporter::platform::SBOM)), "{text}");
}
