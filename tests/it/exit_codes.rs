//! One exit-code contract for every command: docs/cli.md's table is `ops::exit::TABLE`
//! and `--help` shows it; every command refuses bad input with 2; and each code is
//! reached where the table says, command by command.

use std::process::Stdio;

use crate::common::{Emu, Sandbox};
use clap::CommandFactory;
use pgssl::ops::exit;
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";

#[test]
fn the_docs_and_the_help_show_the_table_the_code_uses() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md"))
        .expect("docs/cli.md");
    let section = readme
        .split("## Exit codes")
        .nth(1)
        .expect("an exit codes section");
    let rows: Vec<(i32, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| code"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            (
                cells[0].trim().parse().expect("a code"),
                cells[1].trim().to_string(),
            )
        })
        .collect();
    let table: Vec<(i32, String)> = exit::TABLE
        .iter()
        .map(|(c, m)| (*c, (*m).to_string()))
        .collect();
    assert_eq!(rows, table, "docs/cli.md and ops::exit::TABLE differ");
    let help = Sandbox::new().run(&["--help"]);
    help.ok();
    // Wrapped to the terminal's width: compared word by word.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let shown = words(&help.stdout);
    for (code, meaning) in exit::TABLE {
        assert!(
            shown.contains(&words(&format!("{code} {meaning}"))),
            "--help lacks {code}: {}",
            help.stdout
        );
    }
}

/// Every command, with an option it does not take: one line, exit 2, nothing sent.
#[test]
fn every_command_refuses_bad_input_with_2() {
    fn paths(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            let mut p = prefix.to_vec();
            p.push(sub.get_name().to_string());
            if sub.get_subcommands().next().is_some() {
                paths(sub, &p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    paths(&pgssl::cli::Cli::command(), &[], &mut all);
    assert!(all.len() > 15, "{all:?}");
    let sb = Sandbox::new();
    for path in &all {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--no-such-option");
        let r = sb.run(&args);
        assert_eq!(r.code, exit::REFUSED, "{path:?}: {r:#?}");
        assert_eq!(
            r.stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{path:?}: {r:#?}"
        );
    }
    assert!(!sb.journal_file().exists(), "nothing journaled");
}

/// Each code, reached where the table says, for the commands that reach it.
#[test]
fn each_code_where_the_table_says() {
    let emu = Emu::start(
        FaultArgs {
            task_fail_for: vec!["postgres-5gevh7gr".into()],
            ..FaultArgs::default()
        },
        2,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let run = |args: &[&str]| {
        let mut all = vec!["--endpoint", ep.as_str(), "--region", GZ];
        all.extend_from_slice(args);
        sb.run(&all)
    };
    let wait = ["--yes", "--wait", "--poll", "0.2"];
    let cases: Vec<(Vec<&str>, i32)> = vec![
        // 0: done.
        (vec!["ssl", "show", "postgres-6bwgamo3"], exit::DONE),
        (vec!["instances", "list", "--remote"], exit::DONE),
        (vec!["regions", "list"], exit::DONE),
        (vec!["log"], exit::DONE),
        (vec!["ssl", "resume"], exit::DONE),
        (
            [
                &["ssl", "enable", "postgres-6bwgamo3", "--address", "private"][..],
                &wait,
            ]
            .concat(),
            exit::DONE,
        ),
        // 1: a task failed; no such task.
        (
            [&["ssl", "disable", "postgres-5gevh7gr"][..], &wait].concat(),
            exit::FAILED,
        ),
        (vec!["task", "show", "100018"], exit::FAILED),
        (
            vec!["task", "show", "100018", "--wait", "--poll", "0.2"],
            exit::FAILED,
        ),
        (vec!["task", "show", "999999"], exit::FAILED),
        (vec!["audit"], exit::FAILED),
        // 2: refused before sending.
        (vec!["ssl", "enable", "postgres-6bwgamo3"], exit::REFUSED),
        (vec!["ssl", "show", "bad!id"], exit::REFUSED),
        (vec!["task", "show", "abc"], exit::REFUSED),
        (
            vec!["instances", "remove", "postgres-6bwgamo3"],
            exit::REFUSED,
        ),
        (
            vec!["ssl", "resume", "--abandon", "no-such-run"],
            exit::REFUSED,
        ),
        (vec!["undo", "not-an-id"], exit::REFUSED),
        (
            vec!["undo", "00000000-0000-4000-8000-000000000000", "--yes"],
            exit::REFUSED,
        ),
        // 3: still running when the wait gave up.
        (
            [
                &["ssl", "enable", "pgro-ro9x2k1q", "--address", "private"][..],
                &wait,
                &["--timeout", "1"],
            ]
            .concat(),
            exit::UNKNOWN,
        ),
    ];
    for (args, code) in &cases {
        let r = run(args);
        assert_eq!(r.code, *code, "{args:?}: {r:#?}");
    }
}

/// Ctrl-C in a bulk run: 130, and a line saying how to go on.
#[test]
fn an_interrupted_run_exits_130() {
    let emu = Emu::start(FaultArgs::default(), 30);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let mut child = sb
        .command(&[
            "--endpoint",
            &ep,
            "--region",
            "ap-singapore",
            "ssl",
            "enable",
            "--filter",
            "sg-tenant-001",
            "--address",
            "private",
            "--yes",
            "--poll",
            "0.2",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = std::io::BufRead::lines(stderr);
    for line in lines.by_ref() {
        if line.expect("line").contains("sent:") {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().expect("ends").code();
    assert_eq!(code, Some(exit::INTERRUPTED), "{rest:#?}");
    assert!(rest.iter().any(|l| l.contains("ssl resume")), "{rest:#?}");
}

/// A hangup (a dropped SSH session) while one change is followed: 130, a line saying
/// the change runs on and how to follow it, the journal keeping the TaskId.
#[test]
fn a_hangup_while_one_change_is_followed_exits_130() {
    let emu = Emu::start(FaultArgs::default(), 30);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let mut child = sb
        .command(&[
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "ssl",
            "enable",
            "postgres-6bwgamo3",
            "--address",
            "private",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = std::io::BufRead::lines(stderr);
    for line in lines.by_ref() {
        if line.expect("line").contains("task 100017:") {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let code = child.wait().expect("ends").code();
    assert_eq!(code, Some(exit::INTERRUPTED), "{rest:#?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("interrupted: if the change was sent it runs on")),
        "{rest:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    assert!(
        sb.journal_lines()
            .iter()
            .any(|l| l["kind"] == "outcome" && l["TaskId"] == 100_017),
        "the journal keeps the TaskId"
    );
}
