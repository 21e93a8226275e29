//! The CLI as a DBA uses it day to day (issue 13, item 13): `task show` without
//! `--region`, the end of a task said once, `log` newest first, one JSON vocabulary,
//! `ssl disable` with an address, and a `--wait` that gave up.

use std::os::unix::fs::PermissionsExt;

use crate::common::{Emu, Run, Sandbox};
use pgssl_emulator::FaultArgs;
use serde_json::Value;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";
/// SSL on, protecting its private IP, in the demo fleet.
const BILLING: &str = "postgres-5gevh7gr";

fn base<'a>(ep: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--endpoint", ep, "--region", GZ];
    v.extend_from_slice(rest);
    v
}

/// An emulator whose tasks take `task_seconds`, a sandbox with its key, its endpoint.
fn start(task_seconds: i64) -> (Emu, Sandbox, String) {
    let emu = Emu::start(FaultArgs::default(), task_seconds);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    (emu, sb, ep)
}

/// Send a change without following it; its TaskId.
fn disable(sb: &Sandbox, ep: &str, instance: &str) -> i64 {
    let r = sb.run(&base(
        ep,
        &["--output", "json", "ssl", "disable", instance, "--yes"],
    ));
    r.ok();
    r.json()["TaskId"].as_i64().expect("a TaskId")
}

/// Disable SSL on BILLING and wait for the task (with `extra` options).
fn disable_waiting(sb: &Sandbox, ep: &str, extra: &[&str]) -> Run {
    let mut args = base(
        ep,
        &[
            "ssl", "disable", BILLING, "--yes", "--wait", "--poll", "0.2",
        ],
    );
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// `pgssl task show TASK` with no --region (and `extra` options).
fn task_show<'a>(ep: &'a str, task: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--endpoint", ep, "task", "show", task];
    v.extend_from_slice(extra);
    v
}

/// `r` said `needle` on stdout.
fn assert_stdout_has(r: &Run, needle: &str) {
    assert!(r.stdout.contains(needle), "{needle:?} missing: {r:#?}");
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn task_show_takes_the_region_from_the_journal() {
    let (emu, sb, ep) = start(1);
    let task = disable(&sb, &ep, BILLING).to_string();
    // No --region, no default region: the journal knows where the task runs.
    let r = sb.run(&task_show(&ep, &task, &[]));
    r.ok();
    assert!(r.stdout.starts_with(&format!("task {task}: ")), "{r:#?}");
    assert_stdout_has(&r, &format!("instance {BILLING}"));
    let j = sb
        .run(&["--endpoint", &ep, "--output", "json", "task", "show", &task])
        .json();
    assert_eq!(j["Region"], GZ);
    assert_eq!(j["DBInstanceId"], BILLING);

    // --region still decides: in another region this TaskId is no task of ours.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-shanghai",
        "task",
        "show",
        &task,
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains(&format!("no task {task} in ap-shanghai")),
        "{r:#?}"
    );

    // A TaskId the journal does not know, and no region: one line, exit 2, nothing sent.
    let before = emu.total();
    let r = sb.run(&task_show(&ep, "424242", &[]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert_eq!(
        r.error_line(),
        "error: task 424242 is not in pgssl's journal, so its region is unknown: pass --region REGION (e.g. --region ap-guangzhou); nothing was sent"
    );
    assert_eq!(count(&r.stderr, "error:"), 1, "{r:#?}");
    assert_eq!(emu.total(), before, "nothing may be sent: {:?}", emu.log);
}

#[test]
fn task_show_wait_says_the_end_once() {
    let (_emu, sb, ep) = start(1);
    let task = disable(&sb, &ep, BILLING).to_string();
    let r = sb.run(&task_show(&ep, &task, &["--wait", "--poll", "0.2"]));
    r.ok();
    // The progress on stderr, the end once, on stdout.
    assert_eq!(count(&r.all(), "Success"), 1, "{r:#?}");
    assert_eq!(r.stdout.lines().count(), 1, "{r:#?}");
    assert_stdout_has(&r, &format!("task {task}: Success 100%"));
}

#[test]
fn a_wait_that_gives_up_says_the_task_still_runs_and_how_to_follow_it() {
    // Tasks that take a minute: waiting one second gives up while it runs.
    let (emu, sb, ep) = start(60);
    let r = disable_waiting(&sb, &ep, &["--timeout", "1"]);
    // Still running when the wait gave up: 3, as the exit-code table says.
    assert_eq!(r.code, 3, "{r:#?}");
    let task = emu
        .fleet(|f| f.tasks.iter().map(|t| t.id).max())
        .expect("a task");
    // Not the old state as if the disable had failed.
    assert!(!r.all().contains("now has SSL"), "{r:#?}");
    let line = r.error_line();
    for part in [
        format!("task {task} on {BILLING} is still running (last status Running "),
        format!("follow it with: pgssl task show {task} --wait"),
    ] {
        assert!(line.contains(&part), "{part} missing: {r:#?}");
    }
    // The command it names works as given: no --region needed.
    let task = task.to_string();
    let r = sb.run(&task_show(
        &ep,
        &task,
        &["--wait", "--timeout", "1", "--poll", "0.2"],
    ));
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.error_line().contains(&format!(
            "task {task} on {BILLING} is still running (last status Running "
        )),
        "{r:#?}"
    );
    // Said once: the error line, no result line repeating it.
    assert_eq!(r.stdout, "", "{r:#?}");

    // A wait that sees the end still says the state after it.
    let (_emu, sb, ep) = start(1);
    let r = disable_waiting(&sb, &ep, &[]);
    r.ok();
    assert_stdout_has(&r, &format!("{BILLING} now has SSL off"));
}

#[test]
fn log_is_newest_first_with_a_flag_for_the_other_order() {
    let (_emu, sb, ep) = start(1);
    disable(&sb, &ep, BILLING);
    sb.run(&base(
        &ep,
        &["ssl", "enable", PRIMARY, "--address", "private", "--yes"],
    ))
    .ok();
    let instances = |r: &Run| -> Vec<String> {
        r.ok();
        r.stdout
            .lines()
            .map(|l| {
                [BILLING, PRIMARY]
                    .into_iter()
                    .find(|i| l.contains(i))
                    .unwrap_or("?")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(instances(&sb.run(&["log"])), [PRIMARY, BILLING]);
    assert_eq!(
        instances(&sb.run(&["log", "--oldest-first"])),
        [BILLING, PRIMARY]
    );
    // --limit: the latest N, in the order asked.
    assert_eq!(instances(&sb.run(&["log", "--limit", "1"])), [PRIMARY]);
    assert_eq!(
        instances(&sb.run(&["log", "--limit", "1", "--oldest-first"])),
        [PRIMARY]
    );
    assert_eq!(
        instances(&sb.run(&["log", "--limit", "5"])),
        [PRIMARY, BILLING]
    );
    // JSON in the same order.
    assert_eq!(instances(&sb.run(&["log", "--json"])), [PRIMARY, BILLING]);
    // The order is said in --help.
    let help = sb.run(&["log", "--help"]);
    assert!(help.stdout.contains("--oldest-first"), "{help:#?}");
    assert!(help.stdout.contains("newest first"), "{help:#?}");
}

#[test]
fn log_json_names_every_field() {
    let (_emu, sb, ep) = start(1);
    disable_waiting(&sb, &ep, &[]).ok();
    let r = sb.run(&["log", "--json"]);
    r.ok();
    let e: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON line");
    assert_eq!(e["DBInstanceId"], BILLING);
    assert_eq!(e["Region"], GZ);
    assert_eq!(e["SSLEnabled"], false);
    assert_eq!(e["outcome"], "ok");
    assert_eq!(e["TaskId"], 100017);
    assert!(e["RequestId"].is_string(), "{e}");
    assert_eq!(e["task"]["TaskId"], 100017);
    assert_eq!(e["task"]["Status"], "Success");
    assert_eq!(e["task"]["Progress"], 100);
    assert_no_other_vocabulary(&e);
}

/// Keys of another vocabulary than the API's: none may appear in any command's JSON.
fn assert_no_other_vocabulary(v: &Value) {
    const OTHERS: [&str; 10] = [
        "id",
        "region",
        "ip",
        "port",
        "instance",
        "instance_id",
        "task_id",
        "status",
        "progress",
        "request_id",
    ];
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                assert!(!OTHERS.contains(&k.as_str()), "key {k:?} in {o:?}");
                assert_no_other_vocabulary(v);
            }
        }
        Value::Array(a) => a.iter().for_each(assert_no_other_vocabulary),
        _ => {}
    }
}

#[test]
fn every_command_speaks_the_same_json() {
    let (_emu, sb, ep) = start(1);
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let r = sb.run(&all);
        r.ok();
        let v = r.json();
        assert_no_other_vocabulary(&v);
        v
    };
    let shown = json(&base(&ep, &["ssl", "show", "pgro-ro9x2k1q"]));
    let added = json(&base(&ep, &["instances", "add", "pgro-ro9x2k1q"]));
    let listed = json(&["instances", "list"]);
    let remote = json(&base(&ep, &["instances", "list", "--remote"]));
    for (what, i) in [
        ("ssl show", &shown),
        ("instances add", &added),
        ("instances list", &listed[0]),
        (
            "instances list --remote",
            remote
                .as_array()
                .and_then(|a| a.iter().find(|i| i["DBInstanceId"] == "pgro-ro9x2k1q"))
                .expect("listed"),
        ),
    ] {
        assert_eq!(i["DBInstanceId"], "pgro-ro9x2k1q", "{what}: {i}");
        assert_eq!(i["Region"], GZ, "{what}: {i}");
        assert_eq!(i["DBInstanceType"], "readonly", "{what}: {i}");
        assert_eq!(i["MasterDBInstanceId"], PRIMARY, "{what}: {i}");
        let group = i["Addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["kind"] == "group"))
            .unwrap_or_else(|| panic!("{what}: no group address in {i}"));
        assert_eq!(group["Ip"], "10.6.0.20", "{what}: {i}");
        assert_eq!(group["Port"], 5432, "{what}: {i}");
        assert_eq!(group["ReadOnlyGroupName"], "orders-readers", "{what}: {i}");
    }
    // A saved instance not read yet says only what is known, in the same words.
    std::fs::write(
        sb.config_file(),
        "[instances]\nap-tokyo = [\"postgres-00000000\"]\n",
    )
    .expect("config");
    let listed = json(&["instances", "list"]);
    assert_eq!(listed[0]["DBInstanceId"], "postgres-00000000");
    assert_eq!(listed[0]["Region"], "ap-tokyo");
    json(&base(&ep, &["instances", "import"]));

    let changed = json(&base(&ep, &["ssl", "disable", BILLING, "--yes"]));
    assert_eq!(changed["DBInstanceId"], BILLING);
    assert_eq!(changed["Region"], GZ);
    let task = changed["TaskId"].as_i64().expect("TaskId").to_string();
    let shown = json(&task_show(&ep, &task, &["--wait", "--poll", "0.2"]));
    assert_eq!(shown["TaskId"].to_string(), task);
    assert_eq!(shown["Status"], "Success");
    assert_eq!(shown["DBInstanceId"], BILLING);
    let removed = json(&["instances", "remove", "pgro-ro9x2k1q"]);
    assert_eq!(removed["DBInstanceId"], "pgro-ro9x2k1q");
}

#[test]
fn disable_with_an_address_is_one_line_and_nothing_is_sent() {
    let (emu, sb, ep) = start(1);
    for extra in [
        &["--address", "private"][..],
        &["--address=10.6.1.21"][..],
        &["--address"][..],
    ] {
        let mut args = base(&ep, &["ssl", "disable", BILLING, "--yes"]);
        args.extend_from_slice(extra);
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{extra:?}: {r:#?}");
        assert_eq!(
            r.stderr.trim_end(),
            format!(
                "error: ssl disable takes no --address: turning SSL off protects no address; drop --address (to move the protection elsewhere instead, use `pgssl ssl enable {BILLING} --address ADDR`); nothing was sent"
            ),
            "{extra:?}: {r:#?}"
        );
    }
    assert_eq!(emu.total(), 0, "nothing may be sent: {:?}", emu.log);
    // Not an option disabling offers.
    let help = sb.run(&["ssl", "disable", "--help"]);
    help.ok();
    assert!(
        !help
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with("--address")),
        "{help:#?}"
    );
    assert!(help.stdout.contains("takes no --address"), "{help:#?}");
}

#[test]
fn a_change_first_settles_what_an_earlier_wait_left_running() {
    let emu = Emu::start(FaultArgs::default(), 2);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // A wait that gives up leaves task 100017 "Running" in the journal.
    let r = sb.run(&base(
        &ep,
        &[
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "private",
            "--yes",
            "--wait",
            "--timeout",
            "1",
        ],
    ));
    assert_ne!(r.code, 0, "{r:#?}");
    let ended = |sb: &Sandbox| {
        sb.journal_lines()
            .iter()
            .any(|l| l["kind"] == "task" && l["TaskId"] == 100_017 && l["Status"] == "Success")
    };
    assert!(!ended(&sb));
    // Another change, to another instance, once the task has ended on the emulator's side.
    emu.running.shared.advance_clock(5);
    // The wait gave up three minutes ago (a change only settles what was left behind,
    // not what someone sent a moment ago): its request is moved back in the journal.
    let journal = sb.journal_file();
    let earlier = pgssl_wire::clock::rfc3339(pgssl_wire::clock::unix_now() - 180).expect("time");
    let text = std::fs::read_to_string(&journal).expect("journal");
    let mut moved = String::new();
    for l in text.lines() {
        let mut v: Value = serde_json::from_str(l).expect("line");
        if v["kind"] == "request" {
            v["time"] = Value::String(earlier.clone());
        }
        moved.push_str(&v.to_string());
        moved.push('\n');
    }
    std::fs::write(&journal, moved).expect("write");
    let _ = std::fs::remove_file(journal.with_extension("pending.json"));
    let r = sb.run(&base(&ep, &["ssl", "disable", BILLING, "--yes"]));
    r.ok();
    assert!(
        r.stderr
            .contains("earlier task 100017 on postgres-6bwgamo3 ended Success (journal updated)"),
        "{r:#?}"
    );
    assert!(ended(&sb), "the journal no longer says Running");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2, "nothing re-sent");
}

// ------------------------------------------------------------ the demo (issue 13, 14)

/// Hold the demo directory's lock, as a running `pgssl --demo` does.
fn hold_demo_lock(demo: &std::path::Path) -> std::fs::File {
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(demo.join("lock"))
        .expect("lock file");
    lock.try_lock().expect("lock");
    lock
}

#[test]
fn the_demo_keeps_its_state_between_runs_until_reset() {
    let sb = Sandbox::new();
    let demo = sb.dir.path().join("data/demo");
    let r = sb.run(&[
        "--demo",
        "ssl",
        "enable",
        PRIMARY,
        "--address",
        "private",
        "--yes",
    ]);
    r.ok();
    assert!(r.stdout.contains("TaskId 100017"), "{r:#?}");
    assert!(
        r.stderr.contains("the demo keeps its state in") && r.stderr.contains("--reset"),
        "where it is is said the first time: {r:#?}"
    );
    // Every suggested command can be pasted as is.
    assert!(
        r.all().contains("pgssl --demo task show 100017 --wait"),
        "{r:#?}"
    );
    // The next run sees the task, the journal and the new state (the task may still
    // be running: --wait follows it to its end).
    let task = sb.run(&["--demo", "task", "show", "100017", "--wait"]);
    task.ok();
    assert!(task.stdout.contains("Success"), "{task:#?}");
    assert!(
        !task.stderr.contains("keeps its state"),
        "said once: {task:#?}"
    );
    let log = sb.run(&["--demo", "log"]);
    log.ok();
    assert!(log.stdout.contains("TaskId 100017"), "{log:#?}");
    let show = sb.run(&["--demo", "ssl", "show", PRIMARY]);
    show.ok();
    assert!(show.stdout.contains("on, protecting 10.6.0.4"), "{show:#?}");
    assert!(
        !show.stderr.contains("stands in"),
        "ssl show needs no PostgreSQL stand-in, and does not mention it: {show:#?}"
    );
    // A second change gets the next TaskId, never one already handed out.
    let r = sb.run(&["--demo", "ssl", "disable", BILLING, "--yes"]);
    r.ok();
    assert!(r.stdout.contains("TaskId 100018"), "{r:#?}");
    // Files that hold state are private.
    for f in ["emulator-state.json", "emulator-key.json", "lock"] {
        let mode = std::fs::metadata(demo.join(f))
            .expect(f)
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{f} is {mode:o}");
    }
    // Reset: back to the demo fleet, with an empty journal.
    let reset = sb.run(&["--demo", "--reset"]);
    reset.ok();
    assert!(reset.stderr.contains("demo state reset"), "{reset:#?}");
    assert!(!demo.exists());
    let log = sb.run(&["--demo", "log"]);
    log.ok();
    assert!(!log.stdout.contains("100017"), "{log:#?}");
    let show = sb.run(&["--demo", "ssl", "show", PRIMARY]);
    assert!(show.stdout.contains("SSL:       off"), "{show:#?}");
}

#[test]
fn reset_refuses_while_a_demo_runs() {
    let sb = Sandbox::new();
    sb.run(&["--demo", "log"]).ok();
    let demo = sb.dir.path().join("data/demo");
    let lock = hold_demo_lock(&demo);
    let r = sb.run(&["--demo", "--reset"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("is running"), "{r:#?}");
    assert!(demo.exists(), "nothing removed");
    // A demo run beside it starts from the saved state, says so, and saves nothing.
    let r = sb.run(&["--demo", "instances", "list"]);
    r.ok();
    assert!(
        r.stderr.contains("another pgssl --demo is running"),
        "{r:#?}"
    );
    drop(lock);
    sb.run(&["--demo", "--reset"]).ok();
    assert!(!demo.exists());
}

#[test]
fn the_demo_honours_profile_and_refuses_endpoint_and_changes_beside_an_owner() {
    let sb = Sandbox::new();
    // The demo's read-only profile refuses a change, with nothing sent, as in the TUI.
    let r = sb.run(&[
        "--demo",
        "--profile",
        "demo-readonly",
        "ssl",
        "enable",
        PRIMARY,
        "--address",
        "private",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("read-only"), "{r:#?}");
    // A profile the demo does not have is refused.
    let r = sb.run(&["--demo", "--profile", "nosuch", "ssl", "show", PRIMARY]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("nosuch"), "{r:#?}");
    // --endpoint means another API: not the demo's.
    let r = sb.run(&[
        "--demo",
        "--endpoint",
        "http://127.0.0.1:9",
        "ssl",
        "show",
        PRIMARY,
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("drop --endpoint"), "{r:#?}");
    // Beside a demo that owns the state, a change is refused, reads work.
    let lock = hold_demo_lock(&sb.dir.path().join("data/demo"));
    let r = sb.run(&["--demo", "ssl", "disable", BILLING, "--yes"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("owns the demo's state"), "{r:#?}");
    // An undo is a change too (refused before the journal is even read).
    let r = sb.run(&[
        "--demo",
        "undo",
        "3f2b9c1e-8d4a-4b6e-9f00-12ab34cd56ef",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("owns the demo's state"), "{r:#?}");
    sb.run(&["--demo", "ssl", "show", BILLING]).ok();
    drop(lock);
    // CLI: an address with its port is explained.
    let r = sb.run(&[
        "--demo",
        "ssl",
        "enable",
        PRIMARY,
        "--address",
        "10.6.0.4:5432",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("without the port (10.6.0.4)"),
        "{r:#?}"
    );
    // The CLI does not mention the TUI's keys.
    assert!(!r.stderr.contains("check with v"), "{r:#?}");
}
