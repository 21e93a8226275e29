//! Issue 23 item 2: shell completions and the manual page, generated from the clap
//! definitions; no credential, no state, nothing sent.

use crate::common::Sandbox;

#[test]
fn completions_for_each_shell_come_from_the_definitions() {
    let sb = Sandbox::new();
    let bash = sb.run(&["completions", "bash"]);
    bash.ok();
    assert!(bash.stdout.contains("complete -F _pgssl"), "{bash:#?}");
    // Every command is offered, the ones added last too.
    for word in ["ssl", "audit", "clients", "verify", "completions", "man"] {
        assert!(bash.stdout.contains(word), "{word} missing");
    }
    let zsh = sb.run(&["completions", "zsh"]);
    zsh.ok();
    assert!(zsh.stdout.starts_with("#compdef pgssl"), "{zsh:#?}");
    assert!(
        zsh.stdout.contains("--plaintext-user"),
        "audit's flags are there"
    );
    let fish = sb.run(&["completions", "fish"]);
    fish.ok();
    assert!(fish.stdout.contains("complete -c pgssl"), "{fish:#?}");
    for shell in ["elvish", "powershell"] {
        let r = sb.run(&["completions", shell]);
        r.ok();
        assert!(r.stdout.contains("pgssl"), "{shell}: {r:#?}");
    }
    let r = sb.run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stdout.is_empty());
    // Nothing was written: no state for a generated text.
    let data = sb.dir.path().join("data");
    assert!(
        std::fs::read_dir(&data).map_or(0, Iterator::count) == 0,
        "{data:?} was written"
    );
}

#[test]
fn the_manual_page_is_roff_for_pgssl_and_for_each_command() {
    let sb = Sandbox::new();
    let r = sb.run(&["man"]);
    r.ok();
    assert!(r.stdout.contains(".TH pgssl 1"), "{}", r.stdout);
    assert!(r.stdout.contains(".SH NAME") && r.stdout.contains(".SH SUBCOMMANDS"));
    let r = sb.run(&["man", "ssl", "enable"]);
    r.ok();
    assert!(r.stdout.contains(".TH pgssl-ssl-enable 1"), "{}", r.stdout);
    assert!(r.stdout.contains("address"), "{}", r.stdout);
    let r = sb.run(&["man", "ssl", "bogus"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("no command 'bogus' under `pgssl ssl`: one of show, enable"),
        "{r:#?}"
    );
}

// --- The docs cannot drift from the binary (issue 23 item 4). ---

use std::collections::{BTreeMap, BTreeSet};

use clap::CommandFactory;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The README and every doc, by path.
fn docs() -> Vec<(String, String)> {
    let mut all = vec![("README.md".to_string(), read("README.md"))];
    let mut names: Vec<String> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        })
        .collect();
    names.sort();
    for n in names {
        let rel = format!("docs/{n}");
        let text = read(&rel);
        all.push((rel, text));
    }
    all
}

/// Every command path (`["ssl", "enable"]`) with the long flags it takes, its ancestors'
/// included (given before the command, they apply to it).
fn commands() -> BTreeMap<Vec<String>, BTreeSet<String>> {
    fn walk(
        cmd: &clap::Command,
        path: &[String],
        inherited: &BTreeSet<String>,
        out: &mut BTreeMap<Vec<String>, BTreeSet<String>>,
    ) {
        let mut flags = inherited.clone();
        // What --help does not offer is not documented either.
        flags.extend(
            cmd.get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(str::to_string)),
        );
        flags.extend(["help".to_string(), "version".to_string()]);
        out.insert(path.to_vec(), flags.clone());
        for sub in cmd.get_subcommands() {
            let mut p = path.to_vec();
            p.push(sub.get_name().to_string());
            walk(sub, &p, &flags, out);
        }
    }
    let mut out = BTreeMap::new();
    let mut cli = pgssl::cli::Cli::command();
    cli.build();
    walk(&cli, &[], &BTreeSet::new(), &mut out);
    out
}

#[test]
fn the_key_table_in_docs_is_the_one_the_handler_reads() {
    let path = repo().join("docs/tui.md");
    let text = read("docs/tui.md");
    let (begin, end) = ("<!-- keys:begin (generated) -->\n", "<!-- keys:end -->");
    let (Some(b), Some(e)) = (text.find(begin), text.find(end)) else {
        panic!("docs/tui.md lacks the generated keys block");
    };
    let want = pgssl::tui::keys::markdown::markdown();
    let have = &text[b + begin.len()..e];
    if have != want {
        if std::env::var_os("PGSSL_BLESS").is_some() {
            let new = format!("{}{want}{}", &text[..b + begin.len()], &text[e..]);
            std::fs::write(&path, new).expect("rewrite docs/tui.md");
        } else {
            panic!(
                "docs/tui.md's key table is not the key table: PGSSL_BLESS=1 cargo test -q --test it docs:: rewrites it\n--- docs\n{have}\n--- table\n{want}"
            );
        }
    }
}

#[test]
fn every_command_is_documented_and_every_flag_the_docs_name_exists() {
    let commands = commands();
    let cli_md = read("docs/cli.md");
    let mut problems: Vec<String> = Vec::new();
    // Every command a person can type is in docs/cli.md.
    for path in commands.keys().filter(|p| !p.is_empty()) {
        if path.iter().any(|w| w == "help") {
            continue;
        }
        let line = format!("pgssl {}", path.join(" "));
        if !cli_md.contains(&line) {
            problems.push(format!("docs/cli.md never shows `{line}`"));
        }
    }
    let all_flags: BTreeSet<&String> = commands.values().flatten().collect();
    // Flags of other tools the docs name (cargo's, tccli's, benches').
    let others = [
        "release",
        "no-default-features",
        "path",
        "all-targets",
        "test",
        "lib",
        "only",
        "runs",
        "bench",
        "check",
        "cli-unfold-argument",
        "no-tccli",
        "locked",
    ];
    let flag = regex_lite_flags();
    for (file, text) in docs() {
        let mut in_code = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            // Flags anywhere: each is one of pgssl's, or another tool's named above.
            for f in flag(line) {
                if !(all_flags.contains(&f) || others.contains(&f.as_str())) {
                    problems.push(format!(
                        "{file}:{}: --{f} is no flag of pgssl: {line}",
                        n + 1
                    ));
                }
            }
            // A pgssl command line in a code block: its flags are that command's.
            let cmdline = line.trim_start();
            if !in_code || !cmdline.starts_with("pgssl ") {
                continue;
            }
            let words: Vec<&str> = cmdline
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .skip(1)
                .collect();
            let mut path: Vec<String> = Vec::new();
            for w in &words {
                let mut next = path.clone();
                next.push((*w).to_string());
                if commands.contains_key(&next) {
                    path = next;
                }
            }
            let takes = &commands[&path];
            for w in words.iter().filter(|w| w.starts_with("--")) {
                let name = w
                    .trim_start_matches("--")
                    .split(['=', ']', '[', '|', ')'])
                    .next()
                    .unwrap_or("");
                if name.is_empty() || others.contains(&name) {
                    continue;
                }
                if !takes.contains(name) {
                    problems.push(format!(
                        "{file}:{}: `pgssl {}` takes no --{name}: {line}",
                        n + 1,
                        path.join(" ")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `--name` words in a line (lowercase first letter: pgssl's style; tccli's `--DBInstanceId`
/// and the like are not pgssl's).
fn regex_lite_flags() -> impl Fn(&str) -> Vec<String> {
    |line: &str| {
        let b = line.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i + 2 < b.len() {
            let starts = b[i] == b'-'
                && b[i + 1] == b'-'
                && b[i + 2].is_ascii_lowercase()
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
            if starts {
                let mut j = i + 2;
                while j < b.len()
                    && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-')
                {
                    j += 1;
                }
                out.push(
                    String::from_utf8_lossy(&b[i + 2..j])
                        .trim_end_matches('-')
                        .to_string(),
                );
                i = j;
            } else {
                i += 1;
            }
        }
        out
    }
}

#[test]
fn a_reader_that_closes_early_is_no_panic() {
    let sb = Sandbox::new();
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let mut child = sb
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Read one byte, then close the pipe: the rest of the output meets a closed pipe.
        let mut stdout = child.stdout.take().expect("stdout");
        let mut one = [0u8; 1];
        std::io::Read::read_exact(&mut stdout, &mut one).expect("a first byte");
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}
