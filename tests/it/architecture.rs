//! The shape of the source tree, checked: no file imports from a file that imports it back,
//! directly or through others (docs/architecture.md), and every file opens with a `//!` line
//! saying what it owns.
//!
//! "Imports" means every path that names one of our modules: `use crate::a::B`, `super::x`,
//! `self::child::Y`, a bare `child::Z` after `mod child;`, and such paths written inline in
//! code. Each path is resolved to the file of the deepest module it names. Comments are
//! ignored; a file's `mod` declarations are not imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file and the module path it defines (`["modules", "http"]` for src/modules/http.rs).
#[derive(Debug)]
struct SourceFile {
    module: Vec<String>,
    text: String,
    children: BTreeSet<String>,
}

fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.strip_suffix(".rs").expect("a .rs file").to_owned();
    if !(parts.is_empty() && (stem == "lib" || stem == "main")) {
        parts.push(stem);
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text without comments and string literals, so paths in prose are not counted.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') || bytes.get(i + 1) == Some(&b'\\') => {
                // A char literal ('x', '\n'); lifetimes ('a) are left alone.
                i += 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b => {
                out.push(b as char);
                i += 1;
            }
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every path written in `code`, with `use` trees expanded (`a::{b, c::d}` gives `a::b` and
/// `a::c::d`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let (tree, end) = parse_tree(code, i);
        for p in tree {
            if p.len() > 1 {
                out.push(p);
            }
        }
        i = end.max(i + 1);
    }
    out
}

/// Parses a path or use tree starting at `start`; returns its expansions and where it ends.
fn parse_tree(code: &str, start: usize) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        let s = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if s == i {
            return (vec![prefix], i);
        }
        prefix.push(code[s..i].to_owned());
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if !code[j..].starts_with("::") {
            return (vec![prefix], i);
        }
        j += 2;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) == Some(&b'{') {
            let mut all = Vec::new();
            j += 1;
            loop {
                while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b',') {
                    j += 1;
                }
                if j >= bytes.len() || bytes[j] == b'}' {
                    return (all, j + 1);
                }
                if !is_ident(bytes[j]) {
                    // `*` or `self` handled as the prefix itself.
                    all.push(prefix.clone());
                    j += 1;
                    continue;
                }
                let (sub, end) = parse_tree(code, j);
                for s in sub {
                    let mut p = prefix.clone();
                    if s.first().map(String::as_str) != Some("self") {
                        p.extend(s);
                    }
                    all.push(p);
                }
                // Skip `as alias`.
                j = end;
                while j < bytes.len() && !matches!(bytes[j], b',' | b'}') {
                    j += 1;
                }
            }
        }
        if bytes.get(j) == Some(&b'*') {
            return (vec![prefix], j + 1);
        }
        i = j;
    }
}

/// The module files, by module path.
fn load(src: &Path) -> BTreeMap<Vec<String>, SourceFile> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("read");
        let module = module_path(src, &f);
        let code = code_only(&text);
        let children = code
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix("pub ").or_else(|| l.strip_prefix("pub(crate) ")).unwrap_or(l);
                l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')).map(|n| n.trim().to_owned())
            })
            .collect();
        out.insert(module.clone(), SourceFile { module, text, children });
    }
    out
}

/// The file (module path) a path written in `from` refers to, if it is one of ours.
fn resolve(
    files: &BTreeMap<Vec<String>, SourceFile>,
    from: &SourceFile,
    path: &[String],
) -> Option<Vec<String>> {
    let mut full: Vec<String> = match path[0].as_str() {
        "crate" => Vec::new(),
        "self" => from.module.clone(),
        "super" => {
            let mut m = from.module.clone();
            let mut rest = path;
            while rest.first().map(String::as_str) == Some("super") {
                m.pop();
                rest = &rest[1..];
            }
            m.extend(rest.iter().cloned());
            return deepest(files, &m);
        }
        first if from.children.contains(first) => from.module.clone(),
        _ => return None,
    };
    let skip = usize::from(matches!(path[0].as_str(), "crate" | "self"));
    full.extend(path[skip..].iter().cloned());
    deepest(files, &full)
}

fn deepest(files: &BTreeMap<Vec<String>, SourceFile>, full: &[String]) -> Option<Vec<String>> {
    (0..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| files.contains_key(m))
}

fn name(m: &[String]) -> String {
    if m.is_empty() { "lib".into() } else { m.join("::") }
}

/// The import graph: file -> the files it imports from.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = load(src);
    let mut g = BTreeMap::new();
    for file in files.values() {
        let code = code_only(&file.text);
        // A unit-test module written inline sits at the end of its file; its `super` is the
        // file itself, so it imports nothing from elsewhere that matters here.
        let code = match code.find("#[cfg(test)]\nmod tests {") {
            Some(at) => code[..at].to_owned(),
            None => code,
        };
        // `mod x;` lines and attributes are declarations, not imports.
        let code: String = code
            .lines()
            .filter(|l| {
                let t = l.trim_start();
                !(t.starts_with("mod ") || t.starts_with("pub mod ") || t.starts_with("pub(crate) mod "))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let deps: BTreeSet<String> = paths(&code)
            .iter()
            .filter_map(|p| resolve(&files, file, p))
            .filter(|m| *m != file.module && !m.is_empty())
            .map(|m| name(&m))
            .collect();
        g.insert(name(&file.module), deps);
    }
    g
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The groups of files that reach each other through imports, each with the imports inside it.
fn tangles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(n) = todo.pop() {
            for d in g.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|n| (n, reach(n))).collect();
    let mut placed = BTreeSet::new();
    let mut out = Vec::new();
    for n in g.keys() {
        if placed.contains(n) || !reaches[n].contains(n) {
            continue;
        }
        let group: BTreeSet<&String> =
            g.keys().filter(|m| reaches[n].contains(*m) && reaches[*m].contains(n)).collect();
        let edges: Vec<String> = group
            .iter()
            .flat_map(|a| g[*a].iter().filter(|b| group.contains(b)).map(move |b| format!("{a} -> {b}")))
            .collect();
        placed.extend(group.iter().map(|s| (*s).clone()));
        out.push(edges.join(", "));
    }
    out
}

#[test]
fn no_file_imports_from_a_file_that_imports_it_back() {
    let g = graph(&src());
    let found = tangles(&g);
    assert!(
        found.is_empty(),
        "files that import each other, directly or through others (one line per group, with the \
         imports inside it):\n{}",
        found.join("\n")
    );
}

#[test]
fn every_file_says_what_it_owns() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).expect("read").starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files that do not open with a //! line: {missing:?}");
}

#[test]
fn the_checker_sees_cycles_and_use_trees() {
    // A tree written the way our files are: a parent that uses its child, a child that uses
    // its parent through `super`, and a use tree with groups and a glob.
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path();
    std::fs::create_dir(src.join("a")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "//! x\nmod a;\nmod b;\n").expect("write");
    std::fs::write(src.join("a.rs"), "//! x\nmod c;\nuse self::c::C;\n").expect("write");
    std::fs::write(src.join("a/c.rs"), "//! x\nfn f() -> super::super::b::B { todo!() }\n").expect("write");
    std::fs::write(src.join("b.rs"), "//! x\nuse crate::{x::Y, a::{A, c::*}};\n// crate::d::D\n")
        .expect("write");
    let g = graph(src);
    assert_eq!(g["a"], BTreeSet::from(["a::c".to_owned()]));
    assert_eq!(g["a::c"], BTreeSet::from(["b".to_owned()]));
    assert_eq!(g["b"], BTreeSet::from(["a".to_owned(), "a::c".to_owned()]));
    assert_eq!(tangles(&g), ["a -> a::c, a::c -> b, b -> a, b -> a::c"]);
    std::fs::write(src.join("b.rs"), "//! x\nuse crate::x::Y;\n").expect("write");
    assert!(tangles(&graph(src)).is_empty());
}

/// Operating systems are named in `cfg` by the platform layer alone: `src/platform.rs` and its
/// children, and unit tests (after a file's `#[cfg(test)]`).
#[test]
fn only_the_platform_layer_names_an_operating_system() {
    let src = src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut named = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        if rel == "platform.rs" || rel.starts_with("platform/") {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for os in ["unix", "windows", "target_os"] {
            if code.contains(&format!("cfg({os}")) || code.contains(&format!("cfg!({os}")) {
                named.push(format!("{rel}: {os}"));
            }
        }
    }
    assert!(named.is_empty(), "operating systems named outside src/platform: {named:?}");
}

/// The one file allowed `unsafe` (Cargo.toml denies it everywhere else; docs/dependencies.md,
/// "Unsafe code").
const UNSAFE_FILE: &str = "platform/windows/sys.rs";

#[test]
fn unsafe_code_lives_in_one_file_each_block_with_its_safety_comment() {
    let src = src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        let rel = f.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let allows = text.contains("allow(unsafe_code)");
        assert_eq!(allows, rel == UNSAFE_FILE, "{rel}: only {UNSAFE_FILE} may allow unsafe code");
        if rel != UNSAFE_FILE {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if !(code.contains("unsafe {") || code.contains("unsafe impl")) {
                continue;
            }
            // The SAFETY comment is on a line above, after the last line of code before it.
            let above = lines[..i].iter().rev().take_while(|l| {
                let t = l.trim_start();
                t.starts_with("//") || !t.ends_with(';') && !t.ends_with('{') && !t.ends_with('}')
            });
            let said = above.into_iter().any(|l| l.trim_start().starts_with("// SAFETY:"));
            assert!(said, "{rel}:{}: an unsafe block without a `// SAFETY:` comment above it", i + 1);
        }
    }
    assert!(src.join(UNSAFE_FILE).exists(), "{UNSAFE_FILE} is gone: update this test and dependencies.md");
}
