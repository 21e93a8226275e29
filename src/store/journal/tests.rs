use super::*;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

fn request(id: &str) -> Record {
    Record::Request(RequestInfo {
        profile: None,
        account: None,
        id: id.into(),
        time: "2026-11-28T00:00:00Z".into(),
        source: "env".into(),
        SecretId: "AKID****abcd".into(),
        endpoint: "http://127.0.0.1:1".into(),
        region: "ap-guangzhou".into(),
        action: Action::ModifyDBInstanceSSLConfig,
        DBInstanceId: "postgres-6bwgamo3".into(),
        SSLEnabled: true,
        ConnectAddress: Some("10.0.0.8".parse().expect("ip")),
        run: None,
        before: None,
    })
}

#[test]
fn request_then_outcome_folds_into_one_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("data/journal.jsonl"));
    j.append(&request("a")).expect("append");
    j.append(&request("b")).expect("append");
    j.append(&Record::Outcome {
        id: "a".into(),
        time: "t".into(),
        outcome: Outcome::Ok {
            RequestId: "r".into(),
            TaskId: Some(7),
        },
    })
    .expect("append");
    j.append(&Record::Task {
        id: "a".into(),
        time: "t".into(),
        TaskId: 7,
        Status: TaskStatus::Success,
        Progress: Some(100),
        CurrentStep: None,
        Message: None,
    })
    .expect("append");
    let (entries, skipped) = j.entries().expect("read");
    assert_eq!(skipped, 0);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].task_id(), Some(7));
    assert_eq!(entries[0].outcome_word(), "ok");
    assert!(!entries[0].is_unresolved_unknown());
    // "b" never got an outcome: it reads as unknown until a check settles it.
    assert!(entries[1].is_unresolved_unknown());
    assert_eq!(
        std::fs::metadata(j.path())
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // The line format is stable and names fields as the API does.
    let text = std::fs::read_to_string(j.path()).expect("read");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("line")).expect("json");
    assert_eq!(first["kind"], "request");
    assert_eq!(first["DBInstanceId"], "postgres-6bwgamo3");
    let third: serde_json::Value =
        serde_json::from_str(text.lines().nth(2).expect("line")).expect("json");
    assert_eq!(third["outcome"], "ok");
    assert_eq!(third["TaskId"], 7);
}

#[test]
fn garbage_lines_are_skipped_not_fatal() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl"));
    j.append(&request("a")).expect("append");
    let mut f = OpenOptions::new()
        .append(true)
        .open(j.path())
        .expect("open");
    f.write_all(b"{not json\n\n").expect("write");
    j.append(&request("b")).expect("append");
    let (entries, skipped) = j.entries().expect("read");
    assert_eq!((entries.len(), skipped), (2, 1));
}

#[test]
fn a_torn_last_line_does_not_swallow_the_next_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl"));
    std::fs::write(j.path(), b"{\"kind\":\"request\",\"id\":\"torn").expect("torn");
    j.append(&request("b")).expect("append");
    let (entries, skipped) = j.entries().expect("read");
    assert_eq!((entries.len(), skipped), (1, 1));
    assert_eq!(entries[0].request.id, "b");
}

#[test]
fn only_applied_or_a_late_not_applied_settles_an_unknown_outcome() {
    let entry = |result: Finding, checked: &str| {
        let mut e = fold(vec![request("a")]).remove(0);
        e.check = Some(CheckSeen {
            result,
            detail: String::new(),
            time: checked.into(),
        });
        e
    };
    // request("a") was sent at 2026-11-28T00:00:00Z.
    assert!(!entry(Finding::Applied, "2026-11-28T00:00:05Z").is_unresolved_unknown());
    assert!(entry(Finding::InProgress, "2026-11-28T01:00:00Z").is_unresolved_unknown());
    assert!(entry(Finding::Undetermined, "2026-11-28T01:00:00Z").is_unresolved_unknown());
    assert!(entry(Finding::NotApplied, "2026-11-28T00:00:30Z").is_unresolved_unknown());
    assert!(!entry(Finding::NotApplied, "2026-11-28T00:05:00Z").is_unresolved_unknown());
}

#[test]
fn concurrent_writers_never_interleave() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("journal.jsonl");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let j = Journal::new(path.clone());
            std::thread::spawn(move || {
                for i in 0..50 {
                    j.append(&request(&format!("{t}-{i}-{}", "x".repeat(3000))))
                        .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let (entries, skipped) = Journal::new(path).entries().expect("read");
    assert_eq!((entries.len(), skipped), (400, 0));
}

fn request_for(id: &str, instance: &str) -> Record {
    let Record::Request(mut r) = request(id) else {
        unreachable!()
    };
    r.DBInstanceId = instance.into();
    Record::Request(r)
}

fn ok(id: &str, task: i64) -> Record {
    Record::Outcome {
        id: id.into(),
        time: "2026-11-28T00:00:01Z".into(),
        outcome: Outcome::Ok {
            RequestId: format!("req-{id}"),
            TaskId: Some(task),
        },
    }
}

fn unknown(id: &str) -> Record {
    Record::Outcome {
        id: id.into(),
        time: "2026-11-28T00:00:01Z".into(),
        outcome: Outcome::Unknown {
            detail: "the connection broke".into(),
        },
    }
}

/// A journal of `n` changes to three instances, each with a long outcome (so the file spans
/// many 64 KiB blocks), some interleaved with later task lines.
fn busy_journal(j: &Journal, n: usize) {
    let instances = [
        "postgres-aaaa1111",
        "postgres-bbbb2222",
        "postgres-cccc3333",
    ];
    for i in 0..n {
        let id = format!("c{i:05}");
        j.append(&request_for(&id, instances[i % 3]))
            .expect("append");
        if i % 7 == 3 {
            j.append(&unknown(&id)).expect("append");
        } else {
            j.append(&ok(&id, i64::try_from(i).expect("small") + 100_000))
                .expect("append");
        }
        if i > 0 {
            j.append(&Record::Task {
                id: format!("c{:05}", i - 1),
                time: "2026-11-28T00:00:02Z".into(),
                TaskId: i64::try_from(i).expect("small") + 99_999,
                Status: TaskStatus::Success,
                Progress: Some(100),
                CurrentStep: None,
                Message: None,
            })
            .expect("append");
        }
    }
}

#[test]
fn the_latest_changes_read_from_the_end_are_the_last_of_the_whole() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl"));
    busy_journal(&j, 3000);
    assert!(std::fs::metadata(j.path()).expect("meta").len() > 4 * BLOCK_FOR_TESTS);
    let (all, _) = j.entries().expect("all");
    for n in [1, 2, 20, 100, 2999, 3000, 5000] {
        let (latest, skipped) = j.latest(n, None).expect("latest");
        assert_eq!(skipped, 0);
        assert_eq!(latest, all[all.len().saturating_sub(n)..], "n = {n}");
    }
    let mine: Vec<Entry> = all
        .iter()
        .filter(|e| e.request.DBInstanceId == "postgres-bbbb2222")
        .cloned()
        .collect();
    let (latest, _) = j.latest(20, Some("postgres-bbbb2222")).expect("latest");
    assert_eq!(latest, mine[mine.len() - 20..]);
    // The change a task belongs to, found from the end.
    let e = j.for_task(100_017).expect("read").expect("found");
    assert_eq!(e.request.id, "c00017");
    assert_eq!(e.task.as_ref().map(|t| t.status), Some(TaskStatus::Success));
    assert!(j.for_task(7).expect("read").is_none());
}

const BLOCK_FOR_TESTS: u64 = 64 << 10;

#[test]
fn a_task_is_found_through_its_index_reading_only_its_own_lines() {
    use super::tasks::TAIL;
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl")).rotating_at(200_000);
    busy_journal(&j, 3000);
    let size = |j: &Journal| -> u64 {
        j.files()
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    };
    assert!(j.files().len() > 3, "segments: {:?}", j.files());
    let (all, _) = j.entries().expect("all");
    let change = |id: &str| all.iter().find(|e| e.request.id == id).cloned();
    // The first look builds the index: the whole journal read once, a line at a time.
    let (e, cost) = j.for_task_costing(100_017).expect("read");
    assert_eq!(e, change("c00017"));
    assert_eq!(cost.folded, size(&j));
    // Then a look reads the end of the journal (where a task just sent is found) and
    // the task's own lines, nothing more: in the oldest segment, a lost reply whose task
    // was found later, the newest.
    let the_end = TAIL + BLOCK_FOR_TESTS;
    for (task, id) in [
        (100_017, "c00017"),
        (100_003, "c00003"),
        (101_500, "c01500"),
        (102_998, "c02998"),
    ] {
        let (e, cost) = j.for_task_costing(task).expect("read");
        assert_eq!(e, change(id), "{task}");
        assert!(e.is_some_and(|e| e.task.is_some()), "{task}");
        assert_eq!(cost.folded, 0, "{task}");
        assert!(
            cost.span < 3_000 && cost.tail <= the_end,
            "{task}: {cost:?}"
        );
    }
    // The newest is found at the end, without the index.
    let (_, cost) = j.for_task_costing(102_998).expect("read");
    assert_eq!((cost.folded, cost.span), (0, 0), "{cost:?}");
    // A TaskId nobody knows costs the end and the index alone.
    let (e, cost) = j.for_task_costing(7).expect("read");
    assert!(e.is_none());
    assert!(
        cost.folded == 0 && cost.span == 0 && cost.tail <= the_end,
        "{cost:?}"
    );
    // What is appended later is folded in alone, across a rotation too.
    let before = size(&j);
    j.append(&request("late")).expect("append");
    j.append(&ok("late", 555)).expect("append");
    j.rotate().expect("rotate");
    j.append(&Record::Check {
        id: "late".into(),
        time: "2026-11-28T00:00:09Z".into(),
        result: Finding::Applied,
        detail: "as asked".into(),
    })
    .expect("append");
    let (e, cost) = j.for_task_costing(555).expect("read");
    let e = e.expect("found");
    assert_eq!(e.request.id, "late");
    assert_eq!(e.check.map(|c| c.result), Some(Finding::Applied));
    // Beyond what was there: the new lines, and the unfinished changes the rotation
    // carried into the new file.
    assert!(cost.folded < size(&j) - before + 10_000, "{cost:?}");
    // An index the files no longer match (the oldest segment gone) is rebuilt.
    std::fs::remove_file(&j.files()[0]).expect("remove");
    let (e, cost) = j.for_task_costing(102_998).expect("read");
    assert_eq!(e, change("c02998"));
    assert_eq!(cost.folded, size(&j));
    // The index is small beside the journal.
    let index = std::fs::metadata(dir.path().join("journal.tasks.json"))
        .expect("index")
        .len();
    assert!(index * 4 < size(&j), "{index} beside {}", size(&j));
}

#[test]
fn unresolved_changes_are_kept_in_a_small_index_that_follows_the_journal() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl"));
    busy_journal(&j, 300);
    let expected = |j: &Journal, instance: &str| -> Vec<String> {
        let (all, _) = j.entries().expect("all");
        all.into_iter()
            .filter(|e| e.request.DBInstanceId == instance && e.is_unresolved_unknown())
            .map(|e| e.request.id)
            .collect()
    };
    let ids = |v: Vec<Entry>| v.into_iter().map(|e| e.request.id).collect::<Vec<_>>();
    let want = expected(&j, "postgres-aaaa1111");
    assert!(!want.is_empty());
    assert_eq!(ids(j.unresolved("postgres-aaaa1111").expect("index")), want);
    let index = dir.path().join("journal.pending.json");
    assert!(index.exists());
    // Settle one of them: the index follows what was appended since.
    j.append(&Record::Check {
        id: want[0].clone(),
        time: "2026-11-28T01:00:00Z".into(),
        result: Finding::Applied,
        detail: "took effect".into(),
    })
    .expect("append");
    j.append(&request_for("late", "postgres-aaaa1111"))
        .expect("append");
    let now = expected(&j, "postgres-aaaa1111");
    assert_eq!(now.len(), want.len());
    assert!(!now.contains(&want[0]) && now.contains(&"late".to_string()));
    assert_eq!(ids(j.unresolved("postgres-aaaa1111").expect("index")), now);
    // A damaged or missing index is rebuilt, never trusted.
    std::fs::write(&index, "{not json").expect("damage");
    assert_eq!(
        ids(j.unresolved("postgres-aaaa1111").expect("rebuilt")),
        now
    );
    std::fs::remove_file(&index).expect("remove");
    assert_eq!(
        ids(j.unresolved("postgres-aaaa1111").expect("rebuilt")),
        now
    );
    // An index of another journal file (a restored backup) is not trusted either.
    let other = Journal::new(dir.path().join("other/journal.jsonl"));
    other
        .append(&request_for("x", "postgres-aaaa1111"))
        .expect("append");
    let _ = other.unresolved("postgres-aaaa1111");
    std::fs::copy(dir.path().join("other/journal.pending.json"), &index).expect("copy");
    assert_eq!(
        ids(j.unresolved("postgres-aaaa1111").expect("rebuilt")),
        now
    );
}

#[test]
fn rotation_keeps_every_record_readable_and_carries_unknown_outcomes_forward() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl")).rotating_at(40_000);
    busy_journal(&j, 400);
    let segments = j.files().len() - 1;
    assert!(segments >= 2, "rotated {segments} times");
    let (all, skipped) = j.entries().expect("all");
    assert_eq!(skipped, 0);
    assert_eq!(all.len(), 400, "every change once, none lost, none doubled");
    // The current file alone holds every unresolved change.
    let current = Journal::new(dir.path().join("journal.jsonl"));
    let text = std::fs::read_to_string(current.path()).expect("read");
    for e in all.iter().filter(|e| e.is_unresolved_unknown()) {
        assert!(
            text.contains(&e.request.id),
            "{} carried forward",
            e.request.id
        );
    }
    // And the index answers as the whole history does.
    std::fs::remove_file(dir.path().join("journal.pending.json")).expect("remove");
    let from_history: Vec<String> = all
        .iter()
        .filter(|e| e.request.DBInstanceId == "postgres-cccc3333" && e.is_unresolved_unknown())
        .map(|e| e.request.id.clone())
        .collect();
    let from_index: Vec<String> = j
        .unresolved("postgres-cccc3333")
        .expect("index")
        .into_iter()
        .map(|e| e.request.id)
        .collect();
    assert_eq!(from_index, from_history);
    // `log --rotate` by hand; segments are private like the journal.
    let segment = j.rotate().expect("rotate").expect("not empty");
    let mode = std::fs::metadata(&segment)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(j.entries().expect("all").0.len(), 400);
}

#[test]
fn concurrent_writers_lose_nothing_across_rotations() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("journal.jsonl");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let j = Journal::new(path.clone()).rotating_at(20_000);
            std::thread::spawn(move || {
                for i in 0..100 {
                    j.append(&request(&format!("{t}-{i}"))).expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let j = Journal::new(path);
    assert!(j.files().len() > 2);
    let (entries, skipped) = j.entries().expect("read");
    assert_eq!((entries.len(), skipped), (400, 0));
}

#[test]
fn changes_still_running_are_in_the_index_until_their_task_ends_even_across_a_rotation() {
    let dir = tempfile::tempdir().expect("tmp");
    let j = Journal::new(dir.path().join("journal.jsonl"));
    let ok = |id: &str, task: i64| Record::Outcome {
        id: id.into(),
        time: "t".into(),
        outcome: Outcome::Ok {
            RequestId: "r".into(),
            TaskId: Some(task),
        },
    };
    let task = |id: &str, task: i64, status: TaskStatus| Record::Task {
        id: id.into(),
        time: "2026-11-28T00:00:10Z".into(),
        TaskId: task,
        Status: status,
        Progress: Some(40),
        CurrentStep: None,
        Message: None,
    };
    for r in [
        request("a"),
        ok("a", 7),
        task("a", 7, TaskStatus::Running),
        request("b"),
        ok("b", 8),
        request("c"), // no outcome: unknown
        request("d"),
        Record::Outcome {
            id: "d".into(),
            time: "t".into(),
            outcome: Outcome::Error {
                Code: "InvalidParameter".into(),
                Message: "m".into(),
                RequestId: None,
            },
        },
    ] {
        j.append(&r).expect("append");
    }
    let ids = |j: &Journal| {
        j.unfinished()
            .expect("index")
            .into_iter()
            .map(|e| e.request.id)
            .collect::<Vec<_>>()
    };
    let mut got = ids(&j);
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);
    let a = j
        .unfinished()
        .expect("index")
        .into_iter()
        .find(|e| e.request.id == "a");
    assert_eq!(
        a.and_then(|e| e.task).map(|t| t.status),
        Some(TaskStatus::Running)
    );
    // A rotation carries them forward, task status included.
    j.rotate().expect("rotate");
    let mut got = ids(&j);
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);
    // The task's end takes it out.
    j.append(&task("a", 7, TaskStatus::Success))
        .expect("append");
    let mut got = ids(&j);
    got.sort();
    assert_eq!(got, ["b", "c"]);
}
