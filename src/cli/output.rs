//! Where command output goes, and the one place a result becomes text or JSON. Every
//! string in JSON output goes through the same sanitizer as text, so a control character
//! or a bidi override from the API or a config file reaches a script as a visible escape,
//! never as raw bytes on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;
use serde_json::Value;

use super::args::Output;
use crate::ops::OpsError;
use crate::text::sanitize;

/// A command's result: its JSON form comes from `Serialize`, its text form from `text`.
pub trait Report: Serialize {
    fn text(&self, out: &mut Text);
    /// Header and rows, for the reports that are lists (`--output csv`).
    fn csv(&self) -> Option<(Vec<&'static str>, Vec<Vec<String>>)> {
        None
    }
    /// One self-contained HTML page, for the reports a person keeps (`--output html`).
    fn html(&self) -> Option<String> {
        None
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; text from
/// the API is sanitized first, as in every other output. A field that a spreadsheet would
/// run as a formula (=, +, -, @ first) is prefixed with a quote mark.
fn csv_field(v: &str) -> String {
    let mut v = sanitize(v).into_owned();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Text output: lines for stdout (the result) and notes for stderr (what a person should
/// know but a pipe should not carry).
#[derive(Debug, Default)]
pub struct Text {
    pub lines: Vec<String>,
    pub notes: Vec<String>,
}

impl Text {
    pub fn line(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }
    pub fn note(&mut self, s: impl Into<String>) {
        self.notes.push(s.into());
    }
}

/// Where command output goes; tests capture it.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub output: Output,
    /// Whether a person can answer a confirmation prompt.
    pub interactive: bool,
    pub stdin: &'a mut dyn BufRead,
    /// A JSON document went to stdout already: an error must not add a second one.
    pub printed_json: bool,
    /// The session whose account is still to be said: it was not known when the
    /// session opened, and nothing waits for it (`account_if_known`, `account_at_end`).
    pub account: Option<crate::ops::Session>,
    /// The first failure to write the result (a full disk, a closed file): the command
    /// then fails (`finish`), so a script never takes a truncated result for one. A
    /// reader that closed the pipe early is not one.
    pub write_error: Option<String>,
}

/// Said at the end of a command when STS has not answered by then.
pub const ACCOUNT_NOT_YET: &str = "account not known yet (STS has not answered; only a change guarded by allowed_accounts or forbidden_accounts waits for it)";

impl Io<'_> {
    pub fn json_mode(&self) -> bool {
        self.output == Output::Json
    }

    /// Print a result as text or JSON.
    pub fn emit(&mut self, report: &impl Report) {
        if self.json_mode() {
            self.json(report);
        } else if self.output == Output::Html {
            match report.html() {
                Some(page) => self.put(page.as_bytes()),
                None => self.info("--output html is for pgssl audit: nothing printed"),
            }
        } else if self.output == Output::Csv {
            let Some((header, rows)) = report.csv() else {
                self.info(
                    "--output csv is for lists (instances list, ssl show --all): nothing printed",
                );
                return;
            };
            let line = |fields: Vec<String>| {
                fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let head = line(header.iter().map(|h| (*h).to_string()).collect());
            self.put(format!("{head}\n").as_bytes());
            for r in rows {
                let row = line(r);
                self.put(format!("{row}\n").as_bytes());
            }
        } else {
            let mut text = Text::default();
            report.text(&mut text);
            for n in &text.notes {
                self.info(n);
            }
            for l in &text.lines {
                self.line(l);
            }
        }
    }

    /// One JSON document on stdout, every string in it sanitized.
    pub fn json(&mut self, value: &impl Serialize) {
        self.printed_json = true;
        let text = serde_json::to_string_pretty(&to_safe_json(value))
            .expect("a serde_json::Value always serializes");
        self.put(format!("{text}\n").as_bytes());
    }

    /// One compact JSON document per line (`log --json`).
    pub fn json_line(&mut self, value: &impl Serialize) {
        self.printed_json = true;
        let text = serde_json::to_string(&to_safe_json(value))
            .expect("a serde_json::Value always serializes");
        self.put(format!("{text}\n").as_bytes());
    }

    /// Lines of the result on stdout, each sanitized (text may come from the API or a file).
    pub fn line(&mut self, s: impl AsRef<str>) {
        for l in s.as_ref().split('\n') {
            let clean = sanitize(l);
            self.put(format!("{clean}\n").as_bytes());
        }
    }

    /// Write to stdout, keeping the first failure (`write_error`).
    fn put(&mut self, bytes: &[u8]) {
        if let Err(e) = self.out.write_all(bytes) {
            self.failed_write(&e);
        }
    }

    fn failed_write(&mut self, e: &std::io::Error) {
        if e.kind() != std::io::ErrorKind::BrokenPipe && self.write_error.is_none() {
            self.write_error = Some(e.to_string());
        }
    }

    /// Flush stdout; the first failure to write the result, if any.
    pub fn finish(&mut self) -> Option<String> {
        if let Err(e) = self.out.flush() {
            self.failed_write(&e);
        }
        self.write_error.clone()
    }

    /// The account line, once, if the account is known by now (before a prompt: the
    /// person sees whose account before answering, whenever STS has said).
    pub fn account_if_known(&mut self) {
        if let Some(identity) = self
            .account
            .as_ref()
            .and_then(crate::ops::Session::identity_now)
        {
            self.account = None;
            self.info(identity.line());
        }
    }

    /// The account line at the end of a command, once: what is known, or that it is
    /// not known yet. Never waits.
    pub fn account_at_end(&mut self) {
        if let Some(session) = self.account.take() {
            let line = session
                .identity_now()
                .map_or_else(|| ACCOUNT_NOT_YET.to_string(), |i| i.line());
            self.info(line);
        }
    }

    /// Ask on the terminal (stderr); the answer, trimmed.
    pub fn prompt(&mut self, question: &str) -> std::io::Result<String> {
        self.account_if_known();
        let _ = write!(self.err, "{question}");
        let _ = self.err.flush();
        let mut answer = String::new();
        self.stdin.read_line(&mut answer)?;
        Ok(answer.trim().to_string())
    }

    /// A line for people on stderr, sanitized.
    pub fn info(&mut self, s: impl AsRef<str>) {
        let _ = writeln!(self.err, "{}", sanitize(s.as_ref()));
    }
}

/// A task followed in text mode: one line on stderr whenever its status or progress moves.
#[derive(Debug, Default)]
pub struct TaskProgress {
    last: Option<(crate::domain::TaskStatus, Option<i64>)>,
}

impl TaskProgress {
    pub fn see(&mut self, io: &mut Io<'_>, t: &crate::domain::Task) {
        let now = (t.status, t.progress);
        if self.last != Some(now) && !io.json_mode() {
            let step = t
                .current_step
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            io.info(format!(
                "task {}: {} {}%{step}",
                t.task_id,
                t.status,
                t.progress.unwrap_or(0)
            ));
        }
        self.last = Some(now);
    }
}

/// A value as JSON with every string (keys included) passed through the sanitizer.
pub fn to_safe_json(value: &impl Serialize) -> Value {
    let value = serde_json::to_value(value).expect("pgssl's reports are plain data and serialize");
    clean_value(value)
}

fn clean_value(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(sanitize(&s).into_owned()),
        Value::Array(a) => Value::Array(a.into_iter().map(clean_value).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (sanitize(&k).into_owned(), clean_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// clap's own word on the arguments: help and version as clap prints them (pgssl's own
/// text); a usage error with whatever the person typed shown as visible escapes, like all
/// outside text (an argument pasted from elsewhere can carry a terminal's controls).
/// Returns the exit code (2 for a usage error).
pub fn clap_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return e.exit_code();
    }
    // The same error again from a command without styles, taken raw: clap's own plain
    // rendering strips whatever looks like a terminal sequence, the person's included,
    // where it should show it.
    let plain = <super::Cli as clap::CommandFactory>::command()
        .styles(clap::builder::Styles::plain())
        .color(clap::ColorChoice::Never)
        .try_get_matches_from(std::env::args_os())
        .err()
        .map_or_else(|| e.render().to_string(), |e| e.render().ansi().to_string());
    let lines: Vec<_> = plain.lines().map(sanitize).collect();
    eprintln!("{}", lines.join("\n"));
    e.exit_code()
}

/// Print an error as one line (and as JSON on stdout in json mode); return its exit code.
pub fn report_error(io: &mut Io<'_>, error: &OpsError) -> i32 {
    let code = error.exit_code();
    io.info(format!("error: {error}"));
    if io.json_mode() && !io.printed_json {
        let api = error.api();
        io.json(&serde_json::json!({
            "error": {
                "kind": error.kind(),
                "Code": api.and_then(crate::api::ApiError::code),
                "RequestId": api.and_then(crate::api::ApiError::request_id),
                "message": error.to_string(),
                "check": match error { OpsError::Unknown { check, .. } => Some(check), _ => None },
                "exit_code": code,
            }
        }));
    }
    code
}

/// The process's standard streams, owned, for building an `Io`.
pub struct StdStreams {
    out: std::io::Stdout,
    err: std::io::Stderr,
    input: std::io::StdinLock<'static>,
    interactive: bool,
}

impl Default for StdStreams {
    fn default() -> Self {
        let stdin = std::io::stdin();
        StdStreams {
            interactive: stdin.is_terminal(),
            input: stdin.lock(),
            out: std::io::stdout(),
            err: std::io::stderr(),
        }
    }
}

impl StdStreams {
    pub fn io(&mut self, output: Output) -> Io<'_> {
        Io {
            out: &mut self.out,
            err: &mut self.err,
            output,
            interactive: self.interactive,
            stdin: &mut self.input,
            printed_json: false,
            account: None,
            write_error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_escapes_what_text_output_escapes() {
        let v = to_safe_json(&serde_json::json!({
            "name": "a\u{9b}2J\u{202e}b\u{7f}",
            "list": ["\u{1b}[2J", "ok"],
            "k\u{2066}": 1,
        }));
        let s = serde_json::to_string(&v).expect("json");
        for raw in ['\u{9b}', '\u{202e}', '\u{7f}', '\u{1b}', '\u{2066}'] {
            assert!(!s.contains(raw), "{raw:?} in {s}");
        }
        assert_eq!(v["list"][1], "ok");
        // A script still gets the information: the escape is visible text.
        assert_eq!(v["name"], "a\\x9b2J\\u{202e}b\\x7f");
    }
}

#[cfg(test)]
mod csv_tests {
    use super::csv_field;

    #[test]
    fn fields_are_quoted_sanitized_and_never_formulas() {
        assert_eq!(csv_field("orders-db"), "orders-db");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert!(!csv_field("a\u{1b}[2Jb").contains('\u{1b}'));
        assert!(
            !csv_field("line\nbreak").contains('\n'),
            "sanitized before quoting"
        );
    }
}
