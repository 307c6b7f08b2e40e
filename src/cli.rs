//! The command line in the original's Go `flag` syntax: `-name value`, `-name=value`,
//! `--name value`, `--name=value`, booleans as `-name` or `-name=false`, repeatable
//! `-config.dirs` and `-allow.net`. Go's syntax is rewritten into clap's before clap reads the
//! flags (their definitions are in settings.rs), and what clap says back (errors, usage,
//! `-help`) is written in Go's: `-flag`, as the original's users type it.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::platform::ServiceArg;
use crate::settings::Flags;

/// Flags whose values are secrets: never printed.
pub const SECRET_FLAGS: &[&str] = &["web.bearer.token"];

/// A command line that did not give flags to run with: a mistake, or a request for help.
#[derive(Debug)]
pub struct Refused {
    /// What to print, in Go's flag syntax.
    pub text: String,
    /// Whether it goes to standard error (a mistake) or standard output (help).
    pub to_stderr: bool,
    /// The exit code: 2 for a flag that does not parse (as Go's flag package), 0 for help.
    pub code: u8,
}

impl Refused {
    /// Prints the text where it belongs; the exit code to end with.
    pub fn exit(&self) -> ExitCode {
        if self.to_stderr {
            eprint!("{}", self.text);
        } else {
            print!("{}", self.text);
        }
        ExitCode::from(self.code)
    }
}

/// The flags' definitions, as clap holds them (for the manual page and the documentation).
pub fn command() -> clap::Command {
    Flags::command()
}

/// Parses a full argv (program name first) written in Go's flag syntax.
pub fn parse<I, T>(args: I) -> Result<Flags, Refused>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut command = Flags::command();
    let refused = |e: clap::Error| Refused {
        text: go_style(&e.render().to_string()),
        to_stderr: e.use_stderr(),
        code: u8::try_from(e.exit_code()).unwrap_or(2),
    };
    let matches = match command.try_get_matches_from_mut(rewrite(&command, args)) {
        Ok(m) => m,
        Err(e) => return Err(refused(e)),
    };
    let mut flags = match Flags::from_arg_matches(&matches) {
        Ok(f) => f,
        Err(e) => return Err(refused(e.format(&mut command))),
    };
    flags.given = command
        .get_arguments()
        .filter(|a| matches.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    flags.service_args = service_args(&command, &matches);
    Ok(flags)
}

/// The flags given on the command line but `-winsvc`, in the order they are defined, as
/// `-winsvc install` writes them into the service's command line: `-name=value` each (a
/// boolean `-name` or `-name=false`, never Go's `-name false`, which Go reads as true; a
/// repeatable flag once per value), a secret's value hidden in what is shown.
fn service_args(command: &clap::Command, matches: &clap::ArgMatches) -> Vec<ServiceArg> {
    let mut out = Vec::new();
    for a in command.get_arguments() {
        let id = a.get_id().as_str();
        let Some(name) = a.get_long() else { continue };
        if name == "winsvc" || matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
            continue;
        }
        // Go-style booleans are the flags whose value must follow `=`.
        let boolean = a.is_require_equals_set();
        for value in matches.get_raw(id).into_iter().flatten() {
            let value = value.to_string_lossy();
            let arg = match (boolean, value.as_ref()) {
                (true, "true") => format!("-{name}"),
                _ => format!("-{name}={value}"),
            };
            let shown = if SECRET_FLAGS.contains(&name) { format!("-{name}=<secret>") } else { arg.clone() };
            out.push(ServiceArg { arg, shown });
        }
    }
    out
}

/// clap's text with every `--flag` written `-flag`, as Go writes flags (a flag of ours, one
/// mistyped, or `-help`).
fn go_style(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        out.push_str(if after.starts_with(|c: char| c.is_ascii_lowercase()) { "-" } else { "--" });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Rewrites Go-style `-name[=value]` arguments to clap's `--name[=value]`, leaving alone the
/// value that follows a value-taking flag (Go takes it whatever it looks like) and everything
/// after `--`.
fn rewrite<I, T>(command: &clap::Command, args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let takes_value = |name: &str| {
        command
            .get_arguments()
            .find(|a| a.get_long() == Some(name))
            .map(|a| a.get_action().takes_values() && !a.is_require_equals_set())
    };
    let mut out = Vec::new();
    let mut args = args.into_iter().map(Into::into);
    if let Some(program) = args.next() {
        out.push(program);
    }
    while let Some(arg) = args.next() {
        let Some(s) = arg.to_str().map(str::to_owned) else {
            out.push(arg);
            continue;
        };
        if s == "--" {
            out.push(arg);
            out.extend(args.by_ref());
            break;
        }
        let Some(flag) = s.strip_prefix("--").or_else(|| s.strip_prefix('-')) else {
            out.push(arg);
            continue;
        };
        if flag.is_empty() || (flag.len() == 1 && !s.starts_with("--")) {
            // "-" alone, or a short flag such as -h.
            out.push(arg);
            continue;
        }
        let (name, has_value) = match flag.split_once('=') {
            Some((name, _)) => (name, true),
            None => (flag, false),
        };
        out.push(OsString::from(format!("--{flag}")));
        if !has_value
            && takes_value(name) == Some(true)
            && let Some(value) = args.next()
        {
            // Go consumes the next argument as the value, even if it starts with a dash; clap
            // would too (allow_hyphen_values), but only if it is not mistaken for a flag here.
            out.push(value);
        }
    }
    out
}

#[cfg(test)]
mod tests;
