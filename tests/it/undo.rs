//! Issue 22, item 5: `pgssl undo CHANGE_ID|RUN_ID` plans the inverse of a journaled change
//! from what the journal kept of SSL before it, and carries it out as any change is.
//! What was sent is counted by the emulator's typed record of what it served.

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use serde_json::Value;

const GZ: &str = "ap-guangzhou";
/// SSL off, a private 10.6.0.4 and a public 203.0.113.17.
const OFF: &str = "postgres-6bwgamo3";
/// SSL on, protecting its private 10.6.1.21.
const ON: &str = "postgres-5gevh7gr";

/// `pgssl ARGS --endpoint EMU --region GZ`.
fn run(sb: &Sandbox, emu: &Emu, args: &[&str]) -> crate::common::Run {
    let ep = emu.endpoint();
    let mut all = vec!["--endpoint", ep.as_str(), "--region", GZ];
    all.extend_from_slice(args);
    sb.run(&all)
}

/// A change confirmed and followed to its end.
fn change(sb: &Sandbox, emu: &Emu, args: &[&str]) -> crate::common::Run {
    let mut all = args.to_vec();
    all.extend(["--yes", "--wait", "--poll", "0.2"]);
    run(sb, emu, &all)
}

/// The journal's changes, newest first, as `log --json` gives them.
fn log(sb: &Sandbox) -> Vec<Value> {
    sb.run(&["log", "--json"])
        .ok()
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn newest_change_id(sb: &Sandbox) -> String {
    log(sb)[0]["change_id"]
        .as_str()
        .expect("a change id")
        .to_string()
}

/// SSL of `id` as the API says now: (SSLEnabled, ConnectAddress).
fn ssl(sb: &Sandbox, emu: &Emu, id: &str) -> (Value, Value) {
    let j = run(sb, emu, &["ssl", "show", id, "--output", "json"])
        .ok()
        .json();
    (j["SSLEnabled"].clone(), j["ConnectAddress"].clone())
}

#[test]
fn an_enable_and_a_disable_are_undone_through_the_same_pipeline() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    // An enable from off, undone: off again, by one more request.
    change(&sb, &emu, &["ssl", "enable", OFF, "--address", "private"]).ok();
    let enable = newest_change_id(&sb);
    let r = change(&sb, &emu, &["undo", &enable]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("SSL back to off"), "{r:#?}");
    assert_eq!(ssl(&sb, &emu, OFF).0, Value::Bool(false));
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);
    // The undo is a change of its own: journaled with what it found before it.
    let undone = &log(&sb)[0];
    assert_eq!(undone["DBInstanceId"], OFF);
    assert_eq!(undone["SSLEnabled"], false);
    assert_eq!(
        undone["before"],
        serde_json::json!({"SSLEnabled": true, "ConnectAddress": "10.6.0.4"})
    );
    // Undone twice: nothing to undo, nothing sent, exit 0.
    let r = change(&sb, &emu, &["undo", &enable]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("nothing to undo"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);

    // A disable, undone: on again, protecting the address it protected before.
    change(&sb, &emu, &["ssl", "disable", ON]).ok();
    let disable = newest_change_id(&sb);
    assert_eq!(ssl(&sb, &emu, ON).0, Value::Bool(false));
    let r = change(&sb, &emu, &["undo", &disable]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        ssl(&sb, &emu, ON),
        (Value::Bool(true), Value::from("10.6.1.21"))
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 4);
    assert!(emu.modified_twice().contains(&ON.to_string()));
}

#[test]
fn a_change_made_since_refuses_the_undo_unless_forced() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    change(&sb, &emu, &["ssl", "enable", OFF, "--address", "private"]).ok();
    let first = newest_change_id(&sb);
    // Moved to the public address since.
    change(&sb, &emu, &["ssl", "enable", OFF, "--address", "public"]).ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);
    let r = change(&sb, &emu, &["undo", &first]);
    assert_eq!(r.code, 2, "{r:#?}");
    let why = r.error_line();
    assert!(
        why.contains(&format!("{OFF} changed since change {first}")),
        "{why}"
    );
    assert!(
        why.contains("SSL is now on, protecting gz-postgres-6bwgamo3"),
        "{why}"
    );
    assert!(why.contains("--force"), "{why}");
    assert!(why.ends_with("nothing was sent"), "{why}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2, "nothing sent");
    // --force: SSL back to what it was before the first change, off.
    let r = change(&sb, &emu, &["undo", &first, "--force"]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(ssl(&sb, &emu, OFF).0, Value::Bool(false));
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 3);
}

#[test]
fn a_change_that_did_not_succeed_is_not_undone() {
    let emu = Emu::start(
        FaultArgs {
            task_fail_for: vec![ON.into()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = change(&sb, &emu, &["ssl", "disable", ON]);
    assert_eq!(r.code, 1, "{r:#?}");
    let failed = newest_change_id(&sb);
    let r = change(&sb, &emu, &["undo", &failed]);
    assert_eq!(r.code, 2, "{r:#?}");
    let why = r.error_line();
    assert!(why.contains("did not succeed"), "{why}");
    assert!(why.contains("ended Fail"), "{why}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "nothing sent");
}

#[test]
fn a_dry_run_sends_nothing_and_ids_are_checked() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    change(&sb, &emu, &["ssl", "enable", OFF, "--address", "private"]).ok();
    let id = newest_change_id(&sb);
    let r = run(&sb, &emu, &["undo", &id, "--dry-run", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:#?}");
    let j = r.json();
    assert_eq!(j["dry_run"], true);
    let body: Value =
        serde_json::from_str(j["request"]["body"].as_str().expect("the body")).expect("JSON");
    assert_eq!(body["SSLEnabled"], false, "{j:#}");
    assert_eq!(body["DBInstanceId"], OFF, "{j:#}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "nothing sent");
    // Without --yes and no terminal: refused, as any change.
    let r = run(&sb, &emu, &["undo", &id]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("without confirmation"), "{r:#?}");
    // Neither a change's id nor a run's: usage; one of their shape the journal does not
    // hold: refused with where to look.
    for (bad, words) in [
        ("postgres-6bwgamo3", "neither a change id"),
        (
            "00000000-0000-4000-8000-000000000000",
            "no change or run 00000000-0000-4000-8000-000000000000 in the journal",
        ),
        (
            "20260101T000000Z-00000000",
            "no change or run 20260101T000000Z-00000000 in the journal",
        ),
    ] {
        let r = run(&sb, &emu, &["undo", bad, "--yes"]);
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(r.error_line().contains(words), "{r:#?}");
    }
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "nothing sent");
}

/// Three instances of the demo's Singapore fleet, and a bulk enable of them (`--yes`):
/// its run id, and how it exited.
fn bulk_enable(sb: &Sandbox, emu: &Emu, ids: &[String]) -> (String, i32) {
    let file = sb.dir.path().join("tonight.txt");
    std::fs::write(&file, ids.join("\n")).expect("write");
    let ep = emu.endpoint();
    let enable = format!(
        "ssl enable --from {} --region ap-singapore --address private --yes --poll 0.2 --endpoint {ep}",
        file.display()
    );
    let r = sb.run(&enable.split_whitespace().collect::<Vec<_>>());
    let run = log(sb)[0]["run"].as_str().expect("a run id").to_string();
    (run, r.code)
}

fn singapore(emu: &Emu) -> Vec<String> {
    emu.ids_in("ap-singapore")
        .into_iter()
        .filter(|i| i.starts_with("postgres-"))
        .take(3)
        .collect()
}

#[test]
fn a_bulk_run_is_undone_as_one_plan() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ids = singapore(&emu);
    let (run_id, code) = bulk_enable(&sb, &emu, &ids);
    assert_eq!(code, 0);
    let ep = emu.endpoint();
    let common = ["--yes", "--poll", "0.2", "--endpoint", ep.as_str()];
    // Every change of the run names it, in the log as in its JSON.
    assert!(log(&sb).iter().all(|c| c["run"] == run_id.as_str()));
    let text = sb.run(&["log"]).ok().stdout.clone();
    assert!(text.contains(&format!("run {run_id}")), "{text}");
    let mut undo = vec!["undo", &run_id];
    undo.extend(common);
    let r = sb.run(&undo);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("3 instances to change"), "{r:#?}");
    assert!(r.stderr.contains("SSL off"), "{r:#?}");
    // Each instance changed twice: on by the run, off by its undo; nothing else.
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 6);
    let mut twice = emu.modified_twice();
    twice.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(twice, want);
    for id in &ids {
        let j = sb
            .run(&[
                "ssl",
                "show",
                id,
                "--region",
                "ap-singapore",
                "--endpoint",
                &ep,
                "--output",
                "json",
            ])
            .ok()
            .json();
        assert_eq!(j["SSLEnabled"], false, "{id}: {j:#}");
    }
    // The undo is a run of its own.
    let after = self::log(&sb);
    let undo_run = after[0]["run"].as_str().expect("the undo's run");
    assert_ne!(undo_run, run_id);
    // Undone again: every member already as before, nothing sent.
    let r = sb.run(&undo);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 6);
}

#[test]
fn a_run_member_that_did_not_succeed_is_skipped_with_why() {
    // The demo fleet is the same in every emulator: its ids, then one failing that one.
    let ids = singapore(&Emu::start(FaultArgs::default(), 1));
    let emu = Emu::start(
        FaultArgs {
            task_fail_for: vec![ids[1].clone()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let (run_id, code) = bulk_enable(&sb, &emu, &ids);
    assert_eq!(code, 1, "one task failed");
    let ep = emu.endpoint();
    let r = sb.run(&["undo", &run_id, "--yes", "--poll", "0.2", "--endpoint", &ep]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stderr.contains("2 instances to change"), "{r:#?}");
    assert!(r.stderr.contains("Skipped (1):"), "{r:#?}");
    assert!(r.stderr.contains(&format!("{}: change ", ids[1])), "{r:#?}");
    assert!(r.stderr.contains("did not succeed"), "{r:#?}");
    // Three sent by the run, two by its undo: never to the one that failed.
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 5);
    assert_eq!(emu.modified().iter().filter(|i| **i == ids[1]).count(), 1);
}

#[test]
fn a_run_still_under_way_is_not_undone() {
    use std::io::BufRead;
    // Tasks that take a minute: the run holds itself while it follows them.
    let emu = Emu::start(FaultArgs::default(), 60);
    let sb = Sandbox::for_emu(&emu);
    let ids = singapore(&emu);
    let file = sb.dir.path().join("slow.txt");
    std::fs::write(&file, ids.join("\n")).expect("write");
    let ep = emu.endpoint();
    let file = file.display().to_string();
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
            "1",
            "--yes",
            "--poll",
            "0.2",
            "--endpoint",
            &ep,
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pgssl runs");
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    // Until its first change is sent (and journaled with its run).
    while !lines
        .next()
        .expect("pgssl says what it sent")
        .expect("a line")
        .starts_with("sent: ")
    {}
    let run_id = log(&sb)[0]["run"].as_str().expect("a run id").to_string();
    let before = emu.count("ModifyDBInstanceSSLConfig");
    let r = sb.run(&["--endpoint", &ep, "undo", &run_id, "--yes"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("is still being carried out by another pgssl"),
        "{r:#?}"
    );
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        before,
        "nothing sent"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_resumed_run_never_overwrites_a_change_made_since_it_was_planned() {
    let plain = Emu::start(FaultArgs::default(), 1);
    let ids: Vec<String> = plain.ids_in("ap-singapore").into_iter().take(4).collect();
    drop(plain);
    let emu = Emu::start(
        FaultArgs {
            task_fail_for: vec![ids[1].clone()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let file = sb.dir.path().join("batch.txt");
    std::fs::write(&file, ids.join("\n")).expect("write");
    let file = file.display().to_string();
    let sg = |rest: &[&str]| {
        let mut all = vec!["--endpoint", ep.as_str(), "--region", "ap-singapore"];
        all.extend_from_slice(rest);
        sb.run(&all)
    };
    // The run stops after its second change fails: the third and fourth never sent.
    let r = sg(&[
        "ssl",
        "enable",
        "--from",
        &file,
        "--address",
        "private",
        "--max-running",
        "1",
        "--stop-on-failure",
        "--yes",
        "--poll",
        "0.2",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    // Meanwhile a person turns the third on and off again: as it was, but decided since.
    for args in [
        &["ssl", "enable", &ids[2], "--address", "private"][..],
        &["ssl", "disable", &ids[2]][..],
    ] {
        let mut all = args.to_vec();
        all.extend(["--yes", "--wait", "--poll", "0.2"]);
        sg(&all).ok();
    }
    let sent_to = |id: &str| {
        emu.served()
            .iter()
            .filter(|s| {
                s.action
                    .is_some_and(|a| a.name() == "ModifyDBInstanceSSLConfig")
                    && s.instance.as_deref() == Some(id)
            })
            .count()
    };
    assert_eq!(sent_to(&ids[2]), 2);
    // The resume goes on with the fourth, and leaves the third as the person left it.
    let r = sg(&[
        "--output", "json", "ssl", "resume", "--yes", "--poll", "0.2",
    ]);
    let v = r.json();
    let skipped = v["skipped"].to_string();
    assert!(
        skipped.contains(&ids[2]) && skipped.contains("changed since the run was planned"),
        "{r:#?}"
    );
    assert_eq!(sent_to(&ids[2]), 2, "nothing more sent to the third");
    assert_eq!(sent_to(&ids[3]), 1, "the fourth was sent: {r:#?}");
}

#[test]
fn undo_takes_the_change_s_own_region() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    change(&sb, &emu, &["ssl", "enable", OFF, "--address", "private"]).ok();
    let id = newest_change_id(&sb);
    let ep = emu.endpoint();
    let before = emu.count("ModifyDBInstanceSSLConfig");
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-singapore",
        "undo",
        &id,
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("was made in ap-guangzhou, not ap-singapore"),
        "{r:#?}"
    );
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        before,
        "nothing sent"
    );
    // A very long id is not echoed whole.
    let long = "x".repeat(10_000);
    let r = sb.run(&["--endpoint", &ep, "undo", &long]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.len() < 1_000, "{}", r.stderr.len());
}
