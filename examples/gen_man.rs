//! Renders the manual page `exporter_exporter.1` from the command-line definition
//! (`exporter_exporter::cli::command`, the flags of settings.rs), so the page never disagrees with `-h`.
//!
//! `cargo run --example gen_man -- DIR` writes `DIR/exporter_exporter.1`; the Debian package
//! build (`packaging/build-deb.sh`) runs it and installs the page gzipped.

use std::io::Write as _;
use std::path::PathBuf;

use clap_mangen::roff::{Roff, bold, italic, roman};
use exporter_exporter::cli;

/// Free-text sections after OPTIONS: (heading, paragraphs); a paragraph starting with a
/// space is an indented example line.
const SECTIONS: &[(&str, &[&str])] = &[
    (
        "FLAG SYNTAX",
        &["Flags are written as Go's flag package takes them, as the original exporter_exporter \
             does: -name value, -name=value, --name value or --name=value. Boolean flags are given \
             as -name or -name=false; a separate word is never a boolean's value. -config.dirs and \
             -allow.net may be repeated."],
    ),
    (
        "ENDPOINTS",
        &["/ lists the modules (HTML, or JSON with Accept: application/json). \
             /proxy?module=NAME scrapes a module; other query parameters go to http upstreams, \
             args values are appended to an exec command. /metrics serves the proxy's own \
             metrics. /discovery answers Prometheus http_sd. /-/healthy and /-/ready answer 200. \
             POST /-/reload reloads, with -web.enable-lifecycle."],
    ),
    (
        "SIGNALS",
        &["SIGHUP reloads the configuration file, the -config.dirs directories, the web \
             configuration, the bearer token file and the TLS files; a configuration that fails \
             is refused and the running one kept. SIGTERM and SIGINT stop the listeners, let \
             scrapes in flight finish (at most 30 seconds), and exit 0."],
    ),
    (
        "EXIT STATUS",
        &["0 after a clean shutdown, -version, -h, or a -config.check that found nothing wrong. \
             1 when the configuration is refused (the YAML, the web configuration, the files they \
             name, or flags that cannot work together). 2 when a flag does not parse. 3 when the \
             daemon cannot start (an address in use, say)."],
    ),
    (
        "FILES",
        &["/etc/exporter_exporter.yaml: the module configuration, as installed by the Debian \
             package. /etc/exporter_exporter.d/: one module per NAME.yaml file. \
             /etc/default/exporter_exporter: EXPEXP_FLAGS, the flags the systemd unit passes."],
    ),
    (
        "EXAMPLES",
        &[
            "Check a configuration without binding a port:",
            " exporter_exporter -config.check -config.file /etc/exporter_exporter.yaml",
            "Serve HTTPS only, with client certificates:",
            " exporter_exporter -web.listen-address= -web.tls.listen-address=:9998 \\\n  \
             -web.tls.cert=node_cert.pem -web.tls.key=node_key.pem \\\n  \
             -web.tls.ca=prometheus_cert.pem -web.tls.verify",
        ],
    ),
];

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args_os().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    let (name, page) = render()?;
    let path = dir.join(name);
    std::fs::File::create(&path)?.write_all(&page)?;
    println!("{}", path.display());
    Ok(())
}

/// The page's file name and its roff text. `tests/it/docs.rs` checks it against the flags.
pub fn render() -> std::io::Result<(String, Vec<u8>)> {
    let command = cli::command().version(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(command)
        .date(option_env!("EXPEXP_BUILD_DATE").unwrap_or_default())
        .manual("exporter_exporter manual");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    let mut roff = Roff::new();
    for (heading, paragraphs) in SECTIONS {
        roff.control("SH", [*heading]);
        for paragraph in *paragraphs {
            match paragraph.strip_prefix(' ') {
                Some(example) => {
                    roff.control("RS", ["4"]);
                    roff.control("nf", []);
                    for line in example.lines() {
                        roff.text([bold(line)]);
                    }
                    roff.control("fi", []);
                    roff.control("RE", []);
                }
                None => {
                    roff.control("PP", []);
                    roff.text([roman(*paragraph)]);
                }
            }
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        italic("prometheus"),
        roman("(1), "),
        italic("prometheus-node-exporter"),
        roman(
            "(1); the configuration reference, /usr/share/doc/exporter-exporter/configuration.md.gz \
               (docs/configuration.md in the source).",
        ),
    ]);
    roff.to_writer(&mut page)?;
    Ok((man.get_filename(), page))
}
