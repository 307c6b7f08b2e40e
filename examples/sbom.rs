//! Writes the CycloneDX 1.5 SBOM of the binary, and reads the dependency list that `cargo
//! auditable` embeds in it (the section `.dep-v0` of an ELF file or, for Windows, of a PE
//! file; zlib-compressed JSON) as a scanner does.
//!
//! `cargo run --example sbom -- BINARY` checks that BINARY embeds every crate of `cargo tree -e
//! normal`, then writes that tree to stdout as an SBOM: each crate with its licence, the SHA-256
//! of its `.crate` (from Cargo.lock) and its dependencies; proc-macros, which are not linked,
//! are scoped `excluded`. The SBOM comes from the tree rather than from the embedded list
//! because cargo auditable reads `cargo metadata`, which unifies features with
//! dev-dependencies and so also lists a few crates that are never built into the binary
//! (docs/dependencies.md). `--target TRIPLE` takes the tree of that target (a cross-built
//! binary's). The program's own component carries the SHA-256 of BINARY. `--image FILES`
//! describes a container image instead: the binary with its crates, plus the Debian packages
//! whose files FILES lists (what `packaging/build-image.sh` copied in: the C libraries, the CA
//! bundle), each with its licence and the hashes of its files. `--list BINARY` prints the
//! embedded list alone, `name version` a line. `packaging/build-deb.sh` runs it on the binary
//! it ships, `packaging/test-deb.sh` on the installed one, `packaging/release.sh` on each
//! archive's and image's, and on the Windows exe.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::process::{Command, ExitCode};

use serde_json::{Value, json};

/// The contents of the section called `wanted` of a little-endian ELF file, 64-bit (x86_64,
/// aarch64) or 32-bit (armv7).
fn elf_section<'a>(elf: &'a [u8], wanted: &str) -> Result<&'a [u8], String> {
    // Where the header and each section header keep what is read here, by ELF class: the
    // section table's offset, an entry's size, the count, the names' section; then in an
    // entry, the offset and size of its contents (each with its width).
    let (table, entry, count, names, offset, size) = match elf.get(..6) {
        Some([0x7f, b'E', b'L', b'F', 2, 1]) => ((0x28, 8), 0x3a, 0x3c, 0x3e, (0x18, 8), (0x20, 8)),
        Some([0x7f, b'E', b'L', b'F', 1, 1]) => ((0x20, 4), 0x2e, 0x30, 0x32, (0x10, 4), (0x14, 4)),
        _ => return Err("not a little-endian ELF file".into()),
    };
    let int = |at: usize, len: usize| -> Result<usize, String> {
        let bytes = elf.get(at..at.saturating_add(len)).ok_or("ELF header out of the file")?;
        let mut buf = [0u8; 8];
        buf[..len].copy_from_slice(bytes);
        usize::try_from(u64::from_le_bytes(buf)).map_err(|e| e.to_string())
    };
    let (table, entry, count, names) =
        (int(table.0, table.1)?, int(entry, 2)?, int(count, 2)?, int(names, 2)?);
    let section = |i: usize| -> Result<(usize, &'a [u8]), String> {
        let h = table.saturating_add(i.saturating_mul(entry));
        let (offset, size) =
            (int(h.saturating_add(offset.0), offset.1)?, int(h.saturating_add(size.0), size.1)?);
        let data = elf.get(offset..offset.saturating_add(size)).ok_or("section out of the file")?;
        Ok((int(h, 4)?, data))
    };
    let (_, strings) = section(names)?;
    for i in 0..count {
        let (name_at, data) = section(i)?;
        let name = strings.get(name_at..).unwrap_or_default();
        let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
        if name == wanted.as_bytes() {
            return Ok(data);
        }
    }
    Err(format!("no {wanted} section: not built with cargo auditable"))
}

/// The contents of the section called `wanted` (8 bytes at most, as a PE image's section
/// table holds names) of a PE file, a Windows executable: `MZ`, then at the offset kept at
/// 0x3c the `PE\0\0` signature, the COFF header and, after its optional header, the section
/// table (Microsoft's PE format, "Section Table").
fn pe_section<'a>(pe: &'a [u8], wanted: &str) -> Result<&'a [u8], String> {
    let int = |at: usize, len: usize| -> Result<usize, String> {
        let bytes = pe.get(at..at.saturating_add(len)).ok_or("PE header out of the file")?;
        let mut buf = [0u8; 4];
        buf[..len].copy_from_slice(bytes);
        Ok(u32::from_le_bytes(buf) as usize)
    };
    let header = int(0x3c, 4)?;
    if pe.get(header..header.saturating_add(4)) != Some(b"PE\0\0") {
        return Err("no PE signature".into());
    }
    let coff = header + 4;
    let (count, optional) = (int(coff + 2, 2)?, int(coff + 16, 2)?);
    let table = coff + 20 + optional;
    for i in 0..count {
        let entry = table + i * 40;
        let name = pe.get(entry..entry + 8).ok_or("section table out of the file")?;
        let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
        if name == wanted.as_bytes() {
            // The raw data is padded to the file alignment; the virtual size is the section's own.
            let (virtual_size, raw_size, offset) =
                (int(entry + 8, 4)?, int(entry + 16, 4)?, int(entry + 20, 4)?);
            let size = if virtual_size == 0 { raw_size } else { virtual_size.min(raw_size) };
            return pe
                .get(offset..offset.saturating_add(size))
                .ok_or_else(|| "section out of the file".into());
        }
    }
    Err(format!("no {wanted} section: not built with cargo auditable"))
}

/// The section called `wanted` of an ELF or a PE file.
fn section<'a>(binary: &'a [u8], wanted: &str) -> Result<&'a [u8], String> {
    if binary.starts_with(b"MZ") { pe_section(binary, wanted) } else { elf_section(binary, wanted) }
}

/// The embedded list's packages.
fn embedded(binary: &str) -> Result<Vec<Value>, String> {
    let elf = std::fs::read(binary).map_err(|e| format!("{binary}: {e}"))?;
    let compressed = section(&elf, ".dep-v0").map_err(|e| format!("{binary}: {e}"))?;
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(compressed)
        .read_to_string(&mut text)
        .map_err(|e| format!("{binary}: .dep-v0 is not zlib-compressed text: {e}"))?;
    let list: Value = serde_json::from_str(&text).map_err(|e| format!("{binary}: .dep-v0: {e}"))?;
    list["packages"].as_array().cloned().ok_or_else(|| format!("{binary}: .dep-v0 has no packages"))
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// One crate of `cargo tree`.
#[derive(Debug)]
struct Crate {
    name: String,
    version: String,
    licence: String,
    dependencies: BTreeSet<String>,
}

impl Crate {
    fn purl(&self) -> String {
        format!("pkg:cargo/{}@{}", self.name, self.version)
    }
}

/// `cargo tree -e EDGES` for `target` (the host's when `None`): each crate by `name version`,
/// and the root's key. Targets differ: x86_64 alone links the SIMD crates of its verifier.
fn tree(edges: &str, target: Option<&str>) -> Result<(BTreeMap<String, Crate>, String), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args =
        vec!["tree", "--offline", "--locked", "-e", edges, "--prefix", "depth", "--format", "{p}|{l}"];
    if let Some(target) = target {
        args.extend(["--target", target]);
    }
    let out = run(&cargo, &args)?;
    let mut crates: BTreeMap<String, Crate> = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    for line in out.lines().map(|l| l.trim_end_matches(" (*)")).filter(|l| !l.is_empty()) {
        let split = line.find(|c: char| !c.is_ascii_digit()).ok_or("cargo tree: no crate")?;
        let depth: usize = line[..split].parse().map_err(|_| "cargo tree: no depth")?;
        let (package, licence) = line[split..].split_once('|').ok_or("cargo tree: no licence column")?;
        let mut words = package.split(' ');
        let name = words.next().unwrap_or_default().to_owned();
        let version = words.next().unwrap_or_default().trim_start_matches('v').to_owned();
        let key = format!("{name} {version}");
        path.truncate(depth);
        if let Some(parent) = path.last().and_then(|p| crates.get_mut(p)) {
            parent.dependencies.insert(key.clone());
        }
        // Cargo's old `A/B` is SPDX's `A OR B`.
        let licence = licence.replace(" / ", " OR ").replace('/', " OR ");
        crates.entry(key.clone()).or_insert(Crate { name, version, licence, dependencies: BTreeSet::new() });
        path.push(key);
    }
    let root = out.lines().next().and_then(|l| l.get(1..)).ok_or("cargo tree: empty")?;
    let root = root.split(' ').take(2).collect::<Vec<_>>().join(" ").replacen(" v", " ", 1);
    Ok((crates, root))
}

/// `name version` -> SHA-256 of the `.crate`, from Cargo.lock.
fn checksums() -> Result<BTreeMap<String, String>, String> {
    let lock = std::fs::read_to_string("Cargo.lock").map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut out = BTreeMap::new();
    for block in lock.split("[[package]]") {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key} = \"")).map(|v| v.trim_end_matches('"')))
        };
        if let (Some(n), Some(v), Some(c)) = (field("name"), field("version"), field("checksum")) {
            out.insert(format!("{n} {v}"), c.to_owned());
        }
    }
    Ok(out)
}

/// One file of a Debian package copied into the container image, as `packaging/build-image.sh`
/// lists it: `package version arch type licence path sha256`, tab-separated.
struct PackagedFile {
    package: String,
    version: String,
    arch: String,
    kind: String,
    licence: String,
    path: String,
    sha256: String,
}

fn packaged_files(list: &str) -> Result<Vec<PackagedFile>, String> {
    let text = std::fs::read_to_string(list).map_err(|e| format!("{list}: {e}"))?;
    let files = text.lines().filter(|l| !l.is_empty()).map(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        let [package, version, arch, kind, licence, path, sha256] = fields[..] else {
            return Err(format!("{list}: not 7 tab-separated fields: {line:?}"));
        };
        let owned = |s: &str| s.to_owned();
        Ok(PackagedFile {
            package: owned(package),
            version: owned(version),
            arch: owned(arch),
            kind: owned(kind),
            licence: owned(licence),
            path: owned(path),
            sha256: owned(sha256),
        })
    });
    files.collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// One component per Debian package whose files `list` names (a list of [`PackagedFile`]s),
/// holding those files with their hashes, by purl.
fn deb_packages(list: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut packages: BTreeMap<String, Value> = BTreeMap::new();
    for f in packaged_files(list)? {
        let purl = format!("pkg:deb/debian/{}@{}?arch={}&distro=debian-12", f.package, f.version, f.arch);
        let package = packages.entry(purl.clone()).or_insert_with(|| {
            json!({
                "type": f.kind,
                "bom-ref": purl,
                "name": f.package,
                "version": f.version,
                "purl": purl,
                "licenses": [{ "expression": f.licence }],
                "components": [],
            })
        });
        if let Some(files) = package["components"].as_array_mut() {
            files.push(json!({
                "type": "file",
                "bom-ref": format!("{purl}#{}", f.path),
                "name": f.path,
                "hashes": [{ "alg": "SHA-256", "content": f.sha256 }],
            }));
        }
    }
    Ok(packages)
}

/// The SBOM of the normal tree for `target`, after checking that `binary` embeds every crate of
/// it. With `image` (a list of [`PackagedFile`]s), the SBOM is the container image's: the
/// binary, its crates, and the Debian packages whose files the image holds.
fn sbom(binary: &str, target: Option<&str>, image: Option<&str>) -> Result<Value, String> {
    let elf = std::fs::read(binary).map_err(|e| format!("{binary}: {e}"))?;
    let embedded: BTreeSet<String> = embedded(binary)?
        .iter()
        .map(|p| format!("{} {}", p["name"].as_str().unwrap_or("?"), p["version"].as_str().unwrap_or("?")))
        .collect();
    let (crates, root) = tree("normal", target)?;
    let (linked, _) = tree("normal,no-proc-macro", target)?;
    let missing: Vec<&String> = crates.keys().filter(|k| !embedded.contains(*k)).collect();
    if !missing.is_empty() {
        return Err(format!("{binary} does not embed {missing:?}: not this tree's build?"));
    }
    let checksums = checksums()?;
    let component = |key: &String, c: &Crate, kind: &str| {
        let mut out = json!({
            "type": kind,
            "bom-ref": c.purl(),
            "name": c.name,
            "version": c.version,
            "purl": c.purl(),
            "licenses": [{ "expression": c.licence }],
        });
        if let Some(sum) = checksums.get(key) {
            out["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        // Proc-macros and their dependencies run in the compiler; their code is not linked.
        if !linked.contains_key(key) {
            out["scope"] = json!("excluded");
        }
        out
    };
    let main = crates.get(&root).ok_or("cargo tree: no root")?;
    let mut application = component(&root, main, "application");
    // The program's own component is the binary that ships, by its hash (not its crate's).
    application["hashes"] = json!([{ "alg": "SHA-256", "content": sha256_hex(&elf) }]);
    if let Some(target) = target {
        application["properties"] = json!([{ "name": "rust:target", "value": target }]);
    }
    let mut components: Vec<Value> =
        crates.iter().filter(|(k, _)| **k != root).map(|(k, c)| component(k, c, "library")).collect();
    let mut dependencies: Vec<Value> = crates
        .values()
        .map(|c| {
            let on: Vec<String> =
                c.dependencies.iter().filter_map(|d| crates.get(d)).map(Crate::purl).collect();
            json!({ "ref": c.purl(), "dependsOn": on })
        })
        .collect();
    let mut subject = application.clone();
    if let Some(list) = image {
        let packages = deb_packages(list)?;
        subject = json!({
            "type": "container",
            "bom-ref": "container:exporter_exporter",
            "name": "exporter_exporter",
            "version": main.version,
        });
        let mut on: Vec<String> = vec![main.purl()];
        on.extend(packages.keys().cloned());
        dependencies.push(json!({ "ref": "container:exporter_exporter", "dependsOn": on }));
        components.insert(0, application);
        components.extend(packages.into_values());
    }
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": subject,
            "tools": { "components": [{ "type": "application", "name": "exporter_exporter examples/sbom.rs",
                "description": "cargo tree -e normal, checked against the list cargo auditable embedded in the binary" }] },
        },
        "components": components,
        "dependencies": dependencies,
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut target = None;
    let mut image = None;
    let mut rest = &args[..];
    let result = loop {
        match rest {
            [flag, value, tail @ ..] if flag == "--target" => (target, rest) = (Some(value.as_str()), tail),
            [flag, value, tail @ ..] if flag == "--image" => (image, rest) = (Some(value.as_str()), tail),
            [flag, binary] if flag == "--list" => {
                break embedded(binary).map(|packages| {
                    for p in packages {
                        println!(
                            "{} {}",
                            p["name"].as_str().unwrap_or("?"),
                            p["version"].as_str().unwrap_or("?")
                        );
                    }
                });
            }
            [binary] if !binary.starts_with("--") => {
                break sbom(binary, target, image)
                    .map(|s| println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default()));
            }
            _ => {
                break Err("usage: sbom [--target TRIPLE] [--image FILES] BINARY | sbom --list BINARY".into());
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sbom: {e}");
            ExitCode::FAILURE
        }
    }
}
