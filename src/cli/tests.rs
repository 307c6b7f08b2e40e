//! The command line as the original's users write it.

use std::path::PathBuf;

use ipnet::IpNet;

use super::*;
use crate::logging::{LogFormat, LogLevel};
use crate::platform::ServiceCommand;
use crate::settings::FlagError;

fn parse(args: &[&str]) -> Result<Flags, Refused> {
    super::parse(std::iter::once("exporter_exporter").chain(args.iter().copied()))
}

#[test]
fn defaults_match_the_original() {
    let c = parse(&[]).expect("parses");
    assert_eq!(c.config_file, "expexp.yaml");
    assert!(c.config_dirs.is_empty() && !c.config_skip_dirs);
    assert_eq!(c.web_listen_address, ":9999");
    assert_eq!(c.web_tls_listen_address, "");
    assert_eq!(c.web_tls_cert, PathBuf::from("cert.pem"));
    assert_eq!(c.web_tls_key, PathBuf::from("key.pem"));
    assert_eq!(c.web_tls_ca, PathBuf::from("ca.pem"));
    assert!(!c.web_tls_verify && c.web_tls_certmatch.is_empty());
    assert!(c.web_bearer_token.is_empty() && c.web_bearer_token_file.is_empty() && c.allow_net.is_empty());
    assert_eq!((c.options.telemetry_path.as_str(), c.options.proxy_path.as_str()), ("/metrics", "/proxy"));
    assert_eq!(c.log_level, LogLevel::Warn);
    assert!(!c.log_json && !c.version);
    assert!(c.given.is_empty());
    let c = parse(&["-web.tls.cert=x.pem", "-log.json"]).expect("parses");
    assert_eq!(c.given.iter().map(String::as_str).collect::<Vec<_>>(), ["log.json", "web.tls.cert"]);
}

#[test]
fn every_go_syntax() {
    for args in [
        &["-config.file", "a.yaml"][..],
        &["-config.file=a.yaml"],
        &["--config.file", "a.yaml"],
        &["--config.file=a.yaml"],
    ] {
        assert_eq!(parse(args).expect("parses").config_file, "a.yaml", "{args:?}");
    }
    let c =
        parse(&["-config.dirs", "a", "--config.dirs=b", "-allow.net", "10.1.2.3/8", "-allow.net=::1/128"])
            .expect("parses");
    assert_eq!(c.config_dirs, [PathBuf::from("a"), PathBuf::from("b")]);
    assert_eq!(c.allow_net, ["10.0.0.0/8".parse::<IpNet>().unwrap(), "::1/128".parse().unwrap()]);
    // A value that starts with a dash is still the value, as in Go.
    assert_eq!(parse(&["-web.bearer.token", "-secret-"]).expect("parses").web_bearer_token, "-secret-");
}

#[test]
fn a_repeated_flag_takes_the_last_value_as_go_does() {
    let c = parse(&["-log.level=info", "-log.level", "error", "-config.dirs=a", "-config.dirs=b"])
        .expect("parses");
    assert_eq!(c.log_level, LogLevel::Error);
    assert_eq!(c.config_dirs.len(), 2, "repeatable flags still collect every value");
}

#[test]
fn go_booleans() {
    assert!(parse(&["-web.tls.verify"]).expect("bare").web_tls_verify);
    assert!(parse(&["--web.tls.verify"]).expect("bare").web_tls_verify);
    assert!(parse(&["-web.tls.verify=true"]).expect("=true").web_tls_verify);
    assert!(parse(&["-web.tls.verify=1"]).expect("=1").web_tls_verify);
    assert!(!parse(&["-web.tls.verify=false"]).expect("=false").web_tls_verify);
    assert!(!parse(&["-web.tls.verify=F"]).expect("=F").web_tls_verify);
    assert!(parse(&["-web.tls.verify=yes"]).is_err());
    // Go never takes a separate word as a boolean's value; a stray word is an error here.
    assert!(parse(&["-web.tls.verify", "false"]).is_err());
    assert!(
        parse(&["-config.skip-dirs", "-log.json"]).map(|c| c.config_skip_dirs && c.log_json).expect("ok")
    );
}

#[test]
fn the_original_readme_tls_flag_line_parses() {
    let line = "-web.listen-address= -web.tls.listen-address=:9998 \
                -web.tls.cert=/etc/prometheus/ssl/prom_node_cert.pem \
                -web.tls.key=/etc/prometheus/ssl/prom_node_key.pem \
                -web.tls.ca=/etc/prometheus/ssl/prometheus_cert.pem \
                -web.tls.verify";
    let args: Vec<&str> = line.split_whitespace().collect();
    let c = parse(&args).expect("parses");
    assert_eq!(c.web_listen_address, "");
    assert_eq!(c.web_tls_listen_address, ":9998");
    assert_eq!(c.web_tls_ca, PathBuf::from("/etc/prometheus/ssl/prometheus_cert.pem"));
    assert!(c.web_tls_verify);
}

#[test]
fn bad_flags_are_errors_written_in_go_syntax() {
    let e = parse(&["-nosuchflag"]).unwrap_err();
    assert!(e.text.contains("'-nosuchflag'") && !e.text.contains("--"), "{}", e.text);
    assert!(e.to_stderr && e.code == 2);
    let typo = parse(&["--web.listen-adress=:1"]).unwrap_err();
    assert!(
        typo.text.contains("'-web.listen-adress'") && typo.text.contains("'-web.listen-address'"),
        "{}",
        typo.text
    );
    assert!(!typo.text.contains("--"), "no clap double dashes in {}", typo.text);
    assert!(parse(&["-allow.net", "10.0.0.1"]).unwrap_err().text.contains("invalid CIDR"));
    assert!(parse(&["-log.level", "loud"]).unwrap_err().text.contains("not a valid log level"));
    assert!(parse(&["stray"]).is_err());
}

#[test]
fn help_lists_every_flag_go_style_on_standard_output() {
    for args in [&["-h"][..], &["-help"], &["--help"]] {
        let help = parse(args).unwrap_err();
        assert!(!help.to_stderr && help.code == 0, "{args:?}");
        assert!(help.text.contains("-web.listen-address <ADDR>"), "{}", help.text);
        assert!(help.text.contains("-web.bearer.token-file <FILE>"), "{}", help.text);
        assert!(!help.text.contains("--"), "no clap double dashes in {}", help.text);
    }
}

#[test]
fn operations_flags() {
    let c = parse(&[]).expect("defaults");
    assert_eq!(c.options.timeout_offset, std::time::Duration::from_millis(500));
    assert!(!c.options.enable_lifecycle && !c.config_check);
    assert_eq!(c.log_format(), LogFormat::Logfmt);
    let c =
        parse(&["-web.timeout-offset=250ms", "-web.enable-lifecycle", "-config.check", "-log.format=json"])
            .expect("parses");
    assert_eq!(c.options.timeout_offset, std::time::Duration::from_millis(250));
    assert!(c.options.enable_lifecycle && c.config_check);
    assert_eq!(c.log_format(), LogFormat::Json);
    assert_eq!(parse(&["-log.json"]).expect("alias").log_format(), LogFormat::Json);
    assert_eq!(
        parse(&["-web.timeout-offset", "1"]).expect("secs").options.timeout_offset,
        std::time::Duration::from_secs(1)
    );
    assert!(parse(&["-web.timeout-offset=-1s"]).is_err());
    assert!(parse(&["-log.format=xml"]).is_err());
}

#[test]
fn flags_that_cannot_work_together_are_refused_by_name() {
    let settings = |args: &[&str]| parse(args).expect("parses").settings();
    assert_eq!(settings(&["-web.proxy-path=/m", "-web.telemetry-path=m/"]), Err(FlagError::SamePaths));
    assert_eq!(settings(&["-web.proxy-path=/"]), Err(FlagError::RootPath));
    assert_eq!(
        settings(&["-web.bearer.token=a", "-web.bearer.token-file=b"]),
        Err(FlagError::BearerConflict)
    );
    assert_eq!(settings(&["-check.content-type=text/plain"]), Err(FlagError::CheckContentTypeAlone));
}

#[test]
fn the_checker_takes_a_file_or_a_dash_go_style() {
    for args in [&["-check.metrics", "-"][..], &["-check.metrics=-"], &["--check.metrics", "-"]] {
        assert_eq!(parse(args).expect("parses").check_metrics, "-", "{args:?}");
    }
    let c = parse(&["-check.metrics", "m.prom", "-check.content-type", "application/openmetrics-text"])
        .expect("parses");
    assert_eq!(
        (c.check_metrics.as_str(), c.check_content_type.as_str()),
        ("m.prom", "application/openmetrics-text")
    );
    assert!(parse(&["-check.metrics"]).is_err(), "the file is not optional");
}

#[test]
fn log_levels_take_logrus_names() {
    assert_eq!(parse(&["-log.level=warning"]).expect("ok").log_level, LogLevel::Warn);
    assert_eq!(parse(&["-log.level", "DEBUG"]).expect("ok").log_level, LogLevel::Debug);
}

#[test]
fn the_service_gets_each_flag_given_as_name_equals_value() {
    let c = parse(&[
        "--winsvc=install",
        "-web.listen-address",
        ":9998",
        "-config.dirs=C:\\a dir",
        "-config.dirs",
        "b",
        "-web.tls.verify",
        "-log.json=false",
        "-web.bearer.token",
        "hunter2",
    ])
    .expect("parses");
    assert_eq!(c.winsvc, Some(ServiceCommand::Install));
    let args: Vec<&str> = c.service_args.iter().map(|a| a.arg.as_str()).collect();
    assert_eq!(
        args,
        [
            "-config.dirs=C:\\a dir",
            "-config.dirs=b",
            "-web.listen-address=:9998",
            "-web.tls.verify",
            "-web.bearer.token=hunter2",
            "-log.json=false"
        ]
    );
    let shown: Vec<&str> = c.service_args.iter().map(|a| a.shown.as_str()).collect();
    assert!(shown.contains(&"-web.bearer.token=<secret>") && !shown.iter().any(|s| s.contains("hunter2")));
    // Read again, the service's arguments give the same flags.
    let again = parse(&args).expect("parses");
    assert_eq!(again.config_dirs, c.config_dirs);
    assert_eq!(
        (again.web_listen_address, again.web_tls_verify, again.log_json),
        (":9998".into(), true, false)
    );
    assert_eq!(again.web_bearer_token, "hunter2");
    assert!(again.winsvc.is_none());
}

#[test]
fn winsvc_takes_four_commands_and_refuses_others() {
    for (word, command) in [
        ("install", ServiceCommand::Install),
        ("uninstall", ServiceCommand::Uninstall),
        ("start", ServiceCommand::Start),
        ("stop", ServiceCommand::Stop),
    ] {
        assert_eq!(parse(&["-winsvc", word]).expect("parses").winsvc, Some(command));
    }
    assert_eq!(parse(&[]).expect("parses").winsvc, None);
    let e = parse(&["-winsvc", "remove"]).unwrap_err();
    assert!(
        e.text.contains("unknown -winsvc command \"remove\" (one of install, uninstall, start, stop)"),
        "{}",
        e.text
    );
    assert_eq!(e.code, 2);
}
