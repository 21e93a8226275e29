//! One plan for many instances, carried out safely (issue 14, items 2 and 3, the CLI's
//! part): the plan with what is skipped and why, confirmation, the API's ceiling, the cap
//! on instances restarting at once, stop-on-failure, and resuming a run killed midway.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use serde_json::Value;

/// How many requests the emulator refused for going over the API's rate ceiling.
fn rate_limited(emu: &Emu) -> usize {
    emu.refused("RequestLimitExceeded")
}

/// A `--from` file listing `ids`, in the sandbox.
fn list_file(sb: &Sandbox, ids: &[String]) -> String {
    let path = sb.dir.path().join("instances.txt");
    std::fs::write(&path, format!("# tonight's batch\n{}\n", ids.join("\n"))).expect("write");
    path.display().to_string()
}

/// The journal's change requests (records of kind "request").
fn requests(sb: &Sandbox) -> Vec<Value> {
    sb.journal_lines()
        .into_iter()
        .filter(|l| l["kind"] == "request")
        .collect()
}

/// `pgssl ARGS --yes --poll 0.2 --endpoint EMU` (ARGS split at spaces).
fn bulk(sb: &Sandbox, emu: &Emu, args: &str) -> common::Run {
    let ep = emu.endpoint();
    let mut all: Vec<&str> = args.split_whitespace().collect();
    all.extend(["--yes", "--poll", "0.2", "--endpoint", &ep]);
    sb.run(&all)
}

/// A bulk enable of `ids` in the background, `--max-running cap`, read until it has said
/// `sent` "sent:" lines (the rest of its stderr is left to read). Stdout is piped.
fn run_until_sent(
    sb: &Sandbox,
    emu: &Emu,
    ids: &[String],
    cap: &str,
    sent: usize,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
    Vec<String>,
) {
    let file = list_file(sb, ids);
    let ep = emu.endpoint();
    let mut child = sb
        .command(&[
            "ssl",
            "enable",
            "--from",
            &file,
            "--region",
            "ap-singapore",
            "--address",
            "private",
            "--max-running",
            cap,
            "--yes",
            "--poll",
            "0.2",
            "--endpoint",
            &ep,
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pgssl runs");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen: Vec<String> = Vec::new();
    while seen.iter().filter(|l| l.starts_with("sent: ")).count() < sent {
        seen.push(
            lines
                .next()
                .expect("pgssl says what it sent")
                .expect("line"),
        );
    }
    (child, lines, seen)
}

fn results(v: &Value) -> Vec<(String, String)> {
    v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["DBInstanceId"].as_str().unwrap_or("").to_string(),
                c["result"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_whole_region_is_enabled_under_the_ceiling_with_one_task_each() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let r = bulk(
        &sb,
        &emu,
        "ssl enable --filter sg-tenant --region ap-singapore --address private --max-running unlimited --output json",
    );
    r.ok();
    let v = r.json();
    let all = results(&v);
    assert_eq!(all.len(), 140, "{}", r.stderr);
    assert!(all.iter().all(|(_, w)| w == "success"), "{all:?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 140);
    assert_eq!(emu.modified_twice(), Vec::<String>::new());
    assert_eq!(rate_limited(&emu), 0, "the emulator refused some requests");
    let reqs = requests(&sb);
    assert_eq!(reqs.len(), 140);
    let run = v["run"].as_str().expect("run id");
    assert!(
        reqs.iter().all(|r| r["run"] == run),
        "each change names its run"
    );
    let tasks: std::collections::BTreeSet<i64> = sb
        .journal_lines()
        .iter()
        .filter(|l| l["kind"] == "outcome")
        .filter_map(|l| l["TaskId"].as_i64())
        .collect();
    assert_eq!(tasks.len(), 140, "140 distinct TaskIds");
    // The run is finished: nothing to resume.
    let again = sb.run(&["ssl", "resume", "--endpoint", &emu.endpoint()]);
    again.ok();
    assert!(again.stderr.contains("nothing to resume"), "{again:#?}");
}

#[test]
fn no_more_than_max_running_restart_and_a_family_waits_unless_together() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(9).collect();
    let file = list_file(&sb, &ids);
    let r = bulk(
        &sb,
        &emu,
        &format!(
            "ssl enable --from {file} --region ap-singapore --address private --max-running 3"
        ),
    );
    r.ok();
    assert!(r.stdout.contains("9 changes: 9 success"), "{r:#?}");
    assert_eq!(
        emu.fleet(|f| f.peak_restarting),
        3,
        "the cap is used, never passed"
    );

    // ap-guangzhou: a primary and its two read-only instances, all off.
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let family = ["postgres-6bwgamo3", "pgro-ro9x2k1q", "pgro-ro4m7c2z"].map(String::from);
    let file = list_file(&sb, &family);
    let r = bulk(
        &sb,
        &emu,
        &format!(
            "ssl enable --from {file} --region ap-guangzhou --address private --max-running unlimited"
        ),
    );
    r.ok();
    assert_eq!(emu.fleet(|f| f.family_overlaps), 0, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 3);
    // Asked for: they restart together.
    let r = bulk(
        &sb,
        &emu,
        &format!(
            "ssl disable --from {file} --region ap-guangzhou --together --max-running unlimited"
        ),
    );
    r.ok();
    assert!(emu.fleet(|f| f.family_overlaps) >= 2, "{r:#?}");
}

#[test]
fn stop_on_failure_sends_nothing_after_the_first_fail() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(4).collect();
    let emu = Emu::start(
        FaultArgs {
            task_fail_for: vec![ids[1].clone()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let file = list_file(&sb, &ids);
    let r = bulk(
        &sb,
        &emu,
        &format!(
            "ssl enable --from {file} --region ap-singapore --address private --max-running 1 --stop-on-failure --output json"
        ),
    );
    assert_eq!(r.code, 1, "{r:#?}");
    let v = r.json();
    let words: Vec<String> = results(&v).into_iter().map(|(_, w)| w).collect();
    assert_eq!(words, ["success", "fail", "not_sent", "not_sent"], "{r:#?}");
    assert!(
        v["stopped"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("after {} ended fail", ids[1]))),
        "{v}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);
    assert!(r.stderr.contains("did not succeed"), "{}", r.stderr);
}

#[test]
fn a_run_killed_midway_resumes_without_sending_anything_twice() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(6).collect();
    // Two changes sent (the cap): the rest wait for a task to end. Kill it there.
    let (mut child, _stderr, seen) = run_until_sent(&sb, &emu, &ids, "2", 2);
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let sent_before = emu.count("ModifyDBInstanceSSLConfig");
    assert!(
        (2..6).contains(&sent_before),
        "killed midway: {sent_before} sent; {seen:?}"
    );

    // Without a terminal, resuming needs --yes: nothing is sent.
    let r = sb.run(&[
        "ssl",
        "resume",
        "--region",
        "ap-singapore",
        "--endpoint",
        &emu.endpoint(),
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    // It says what came of the run: some sent, the rest never sent.
    assert!(r.stderr.contains("never sent"), "{r:#?}");
    assert!(!r.stderr.contains(", 0 never sent"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), sent_before);

    let r = bulk(&sb, &emu, "ssl resume --output json");
    r.ok();
    let all = results(&r.json());
    assert_eq!(all.len(), 6, "{r:#?}");
    assert!(all.iter().all(|(_, w)| w == "success"), "{all:?}");
    // Each instance was sent exactly one change, over both runs.
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 6);
    let reqs = requests(&sb);
    for id in &ids {
        let n = reqs
            .iter()
            .filter(|r| r["DBInstanceId"] == id.as_str())
            .count();
        assert_eq!(n, 1, "{id} journaled {n} times");
    }
    let again = sb.run(&["ssl", "resume", "--endpoint", &emu.endpoint()]);
    assert!(again.stderr.contains("nothing to resume"), "{again:#?}");
}

#[test]
fn the_plan_skips_with_why_refuses_bad_input_and_needs_yes() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // Without a terminal and without --yes: the plan is printed, nothing is sent.
    let r = sb.run(&[
        "ssl",
        "disable",
        "--all",
        "--region",
        "ap-guangzhou",
        "--endpoint",
        &ep,
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.contains("pass --yes"), "{}", r.stderr);
    assert!(r.stderr.contains("Skipped (1):"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("postgres-k3j9w2qa is 'isolated', not running"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("restarts its instance"), "{}", r.stderr);
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // --dry-run prints every request, signed, and sends none.
    let r = sb.run(&[
        "ssl",
        "enable",
        "--filter",
        "ssl:off type:primary sg-tenant",
        "--region",
        "ap-singapore",
        "--address",
        "private",
        "--dry-run",
        "--endpoint",
        &ep,
        "--output",
        "json",
    ]);
    r.ok();
    let v = r.json();
    assert_eq!(
        v["requests"].as_array().map(Vec::len),
        Some(140),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains(emu.key().secret_key.expose()));
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    for (args, says) in [
        (
            "--all --address private --max-running 0",
            "--max-running '0' is not a count",
        ),
        ("--filter sll:off --address private", "'sll' is not a field"),
        (
            "--filter status: --address private",
            "give a value after 'status:'",
        ),
        (
            "--filter ssl:maybe --address private",
            "ssl takes on, off, unknown",
        ),
        (
            "--all --address private --wait --verify",
            "--verify checks one instance",
        ),
        (
            "--all --address private --wait",
            "--wait is for one instance",
        ),
        ("--all --address 10.6.0.4", "takes a kind"),
        (
            "--all --address private --with-group",
            "--with-group goes with --address group",
        ),
        (
            "postgres-6bwgamo3 --address private --max-running 3",
            "--max-running is for many instances",
        ),
    ] {
        let mut all = vec!["ssl", "enable", "--endpoint", &ep];
        all.extend(args.split_whitespace());
        let r = sb.run(&all);
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(r.error_line().contains(says), "{r:#?}");
        assert_eq!(
            r.stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1
        );
    }
    std::fs::write(
        sb.dir.path().join("junk.txt"),
        "postgres-aaaa1111\n; rm -rf /\n",
    )
    .expect("w");
    let junk = sb.dir.path().join("junk.txt").display().to_string();
    let r = sb.run(&["ssl", "disable", "--from", &junk, "--endpoint", &ep]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("line 2:"), "{r:#?}");
    // `--from -` reads stdin (here empty), and says so rather than waiting.
    let r = sb.run(&["ssl", "disable", "--from", "-", "--endpoint", &ep]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("lists no instance ids"), "{r:#?}");
    // Both an instance and a selection: clap refuses, exit 2.
    let r = sb.run(&[
        "ssl",
        "disable",
        "postgres-6bwgamo3",
        "--all",
        "--endpoint",
        &ep,
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert!(requests(&sb).is_empty());
}

#[test]
fn the_group_address_for_one_member_offers_the_whole_group() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let one = list_file(&sb, &["pgro-ro9x2k1q".to_string()]);
    let r = sb.run(&[
        "ssl",
        "enable",
        "--from",
        &one,
        "--region",
        "ap-guangzhou",
        "--address",
        "group",
        "--dry-run",
        "--endpoint",
        &ep,
        "--output",
        "json",
    ]);
    r.ok();
    assert_eq!(r.json()["requests"].as_array().map(Vec::len), Some(1));
    assert!(
        r.stderr.contains("pgro-ro4m7c2z also belong to it"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--with-group"), "{}", r.stderr);
    let r = sb.run(&[
        "ssl",
        "enable",
        "--from",
        &one,
        "--region",
        "ap-guangzhou",
        "--address",
        "group",
        "--with-group",
        "--dry-run",
        "--endpoint",
        &ep,
        "--output",
        "json",
    ]);
    r.ok();
    let text = r.stdout.clone();
    assert_eq!(
        r.json()["requests"].as_array().map(Vec::len),
        Some(2),
        "{text}"
    );
    assert!(text.contains("pgro-ro4m7c2z"), "{text}");
}

#[test]
fn a_lost_reply_whose_task_is_found_running_holds_its_place_and_is_followed() {
    let emu = Emu::start(
        FaultArgs {
            drop_share: 0.5,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(4).collect();
    let file = list_file(&sb, &ids);
    let r = bulk(
        &sb,
        &emu,
        &format!(
            "ssl enable --from {file} --region ap-singapore --address private --max-running 1 --output json"
        ),
    );
    r.ok();
    let words: Vec<String> = results(&r.json()).into_iter().map(|(_, w)| w).collect();
    assert_eq!(words, ["success"; 4], "{r:#?}");
    assert_eq!(
        emu.fleet(|f| f.peak_restarting),
        1,
        "a lost reply still counts"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 4, "nothing resent");
    let lost = r.json()["changes"]
        .as_array()
        .map_or(0, |c| c.iter().filter(|c| c["RequestId"].is_null()).count());
    assert_eq!(
        lost, 2,
        "every second reply was lost: no RequestId for those"
    );
}

#[test]
fn ctrl_c_stops_a_run_says_where_it_is_and_resume_goes_on() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(5).collect();
    let (child, lines, _) = run_until_sent(&sb, &emu, &ids, "1", 1);
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("exits");
    assert_eq!(out.status.code(), Some(130), "{rest:?}");
    let said = rest.join("\n");
    assert!(said.contains("interrupted: 1 sent"), "{said}");
    assert!(said.contains("ssl resume"), "{said}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("not_sent"),
        "the table says what was never sent: {table}"
    );
    let r = bulk(&sb, &emu, "ssl resume --output json");
    r.ok();
    assert_eq!(results(&r.json()).len(), 5, "{r:#?}");
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        5,
        "nothing sent twice"
    );
}

/// The TUI's `x` sets the run's stop switch: the core then sends nothing more and still
/// follows what it sent to the end.
#[test]
fn the_stop_switch_sends_nothing_more_and_follows_what_was_sent() {
    use pgssl::addresses::{AddressKind, AddressSpec};
    use pgssl::ops::bulk::run::{self as bulk_run, BulkObserver};
    use pgssl::ops::bulk::schedule::{Item, Limits, State};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Pulls the switch as soon as the first change is sent (as a person pressing `x`).
    struct PressX(Arc<AtomicBool>);
    impl BulkObserver for PressX {
        fn changed(&mut self, _index: usize, item: &Item) {
            if matches!(item.state, State::Running { .. }) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
    }

    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ids: Vec<String> = emu.ids_in("ap-singapore").into_iter().take(4).collect();
    let ctx = emu.context(&sb, None);
    let session = emu.block_on(ctx.open()).expect("session").session;
    let read = emu
        .block_on(pgssl::ops::read::describe_many(
            &session.client,
            "ap-singapore",
            &ids,
        ))
        .into_iter()
        .map(|(_, r)| Ok(r.expect("read")))
        .collect();
    let want = pgssl::ops::Want::Enable(AddressSpec::Kind(AddressKind::Private));
    let plan = pgssl::ops::bulk::plan_many(read, &want);
    let limits = Limits {
        max_running: Some(1),
        ..Limits::default()
    };
    let mut carried = bulk_run::begin(&session, &plan, limits).expect("begins");
    let stop = Arc::new(AtomicBool::new(false));
    let follow = pgssl::ops::FollowOptions {
        poll: std::time::Duration::from_millis(200),
        timeout: std::time::Duration::from_secs(60),
    };
    emu.block_on(bulk_run::execute(
        &session,
        &mut carried,
        follow,
        &stop,
        &mut PressX(stop.clone()),
    ))
    .expect("runs");
    let schedule = &carried.schedule;
    let words: Vec<&str> = schedule.items.iter().map(|i| i.state.word()).collect();
    assert_eq!(words, ["success", "not_sent", "not_sent", "not_sent"]);
    assert!(
        matches!(&schedule.items[1].state, State::NotSent { why } if why.contains("stopped by the person")),
        "{:?}",
        schedule.items[1].state
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    // Stopped with three never sent: kept for resuming, never dropped.
    assert_eq!(carried.run.state.word(), "stopped");
    drop(carried);
    let taken = emu
        .block_on(pgssl::ops::bulk::resume::take(&session, None))
        .expect("reads")
        .expect("the stopped run waits");
    assert_eq!(
        taken.found.counts(),
        (1, 0, 3),
        "{:?}",
        taken.found.summary()
    );
}
