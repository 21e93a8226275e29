//! Issue 22: the audit as evidence. Every instance a row (JSON, CSV, HTML), the one not
//! read named; the CA's fingerprint and expiry; what changed since an earlier audit, each
//! kind, with its exit code; a CA changed without notice found until accepted.

use serde_json::Value;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const REGION: &str = "ap-guangzhou";

fn setup() -> (Emu, Sandbox, String) {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    (emu, sb, ep)
}

fn audit(sb: &Sandbox, ep: &str, output: &str, extra: &[&str]) -> crate::common::Run {
    let mut args = vec![
        "--endpoint",
        ep,
        "--region",
        REGION,
        "--output",
        output,
        "audit",
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn accept(sb: &Sandbox, ep: &str, id: &str) -> crate::common::Run {
    sb.run(&[
        "--endpoint",
        ep,
        "--region",
        REGION,
        "ssl",
        "ca",
        id,
        "--accept",
    ])
}

fn rows(v: &Value) -> Vec<Value> {
    v["rows"].as_array().cloned().unwrap_or_default()
}

fn id_of(row: &Value) -> String {
    row["DBInstanceId"].as_str().unwrap_or_default().to_string()
}

#[test]
fn every_instance_is_a_row_in_json_csv_and_html_the_unreadable_one_named() {
    let (emu, sb, ep) = setup();
    let listed = emu.ids_in(REGION);
    let r = audit(&sb, &ep, "json", &[]);
    assert_eq!(r.code, 1, "findings: {r:#?}");
    let v = r.json();
    let rows = rows(&v);
    assert_eq!(rows.len(), listed.len(), "{v:#}");
    for id in &listed {
        assert!(rows.iter().any(|row| &id_of(row) == id), "{id} has no row");
    }
    // Compliant instances are rows too, with no finding; each SSL-on row has its CA.
    let on: Vec<&Value> = rows.iter().filter(|r| r["ssl"] == "on").collect();
    assert!(!on.is_empty());
    for row in &on {
        assert_eq!(row["findings"], serde_json::json!([]), "{row:#}");
        let ca = &row["ca"];
        let fp = ca["sha256"].as_str().expect("a fingerprint");
        assert_eq!(fp.len(), 95, "AB:CD:.. of 32 bytes: {fp}");
        assert!(
            ca["issuer"]
                .as_str()
                .is_some_and(|i| i.contains("pgssl emulator CA"))
        );
        assert!(ca["days_left"].as_i64().is_some_and(|d| d > 3000), "{ca:#}");
        assert_eq!(ca["pinned_sha256"], ca["sha256"], "first seen: pinned");
        assert!(row["protected_address"].is_string());
        assert!(row["address_kind"].is_string());
    }
    // Off: the finding within the row; unknown: the row says why.
    let off = rows.iter().find(|r| r["ssl"] == "off").expect("an off row");
    assert_eq!(off["findings"][0]["kind"], "ssl_off");
    assert!(off["ca"].is_null());
    let unknown = rows
        .iter()
        .find(|r| r["ssl"] == "unknown")
        .expect("the isolated instance");
    let why = unknown["unread"].as_str().expect("why it was not read");
    assert!(why.contains("isolated"), "{why}");
    assert_eq!(v["about"]["regions"][0], REGION);
    assert_eq!(v["about"]["credential"], "env");
    assert!(v["about"]["account"].is_string(), "{:#}", v["about"]);
    assert!(v["about"]["taken_at"].is_string());
    // Text names it, not only counts it.
    let r = sb.run(&["--endpoint", &ep, "--region", REGION, "audit"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("ssl_unknown") && l.contains(&id_of(unknown))),
        "{r:#?}"
    );
    // CSV: the header, then a row per instance.
    let r = audit(&sb, &ep, "csv", &[]);
    assert_eq!(r.code, 1, "{r:#?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("DBInstanceId,DBInstanceName,Region,kind,status"));
    assert_eq!(lines.len(), listed.len() + 1, "{}", r.stdout);
    let on_id = id_of(on[0]);
    let on_line = lines
        .iter()
        .find(|l| l.starts_with(&on_id))
        .expect("its line");
    assert!(
        on_line.contains(on[0]["ca"]["sha256"].as_str().unwrap_or("?")),
        "{on_line}"
    );
    // HTML: one self-contained page with every instance.
    let r = audit(&sb, &ep, "html", &[]);
    assert_eq!(r.code, 1, "{r:#?}");
    let page = &r.stdout;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    for id in &listed {
        assert!(page.contains(id.as_str()), "{id} not in the page");
    }
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="));
    assert!(page.contains("pgssl 0.1.0") && page.contains("Account"));
    assert!(page.contains(on[0]["ca"]["sha256"].as_str().unwrap_or("?")));
    // Elsewhere html is refused, nothing asked.
    let before = emu.total();
    let r = sb.run(&["--endpoint", &ep, "--output", "html", "ssl", "show", &on_id]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("--output html is for pgssl audit"));
    assert_eq!(emu.total(), before);
}

#[test]
fn since_reports_each_kind_of_difference_and_exits_1_only_when_worse() {
    let (emu, sb, ep) = setup();
    let base = sb.home().join("base.json");
    let r = audit(&sb, &ep, "json", &[]);
    std::fs::write(&base, &r.stdout).expect("write the baseline");
    let v = r.json();
    let base_s = base.display().to_string();
    // Nothing changed: exit 0 although findings stand (they are not new).
    let r = audit(&sb, &ep, "json", &["--since", &base_s]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["since"]["changes"], serde_json::json!([]));

    // A real change: SSL turned on, and its ssl_off finding resolved: better, exit 0.
    let off = rows(&v)
        .into_iter()
        .find(|r| r["ssl"] == "off" && r["kind"] == "primary")
        .expect("a primary with SSL off");
    let off_id = id_of(&off);
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        REGION,
        "ssl",
        "enable",
        &off_id,
        "--address",
        "private",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    let r = audit(&sb, &ep, "json", &["--since", &base_s]);
    assert_eq!(r.code, 0, "{r:#?}");
    let changes = r.json()["since"]["changes"].clone();
    let has = |changes: &Value, change: &str, id: &str| {
        changes.as_array().is_some_and(|a| {
            a.iter()
                .any(|c| c["change"] == change && c["DBInstanceId"] == id)
        })
    };
    assert!(has(&changes, "ssl_on", &off_id), "{changes:#}");
    assert!(has(&changes, "finding_resolved", &off_id), "{changes:#}");

    // The CA changed without notice: worse, exit 1, and a finding.
    emu.running.shared.rotate_ca().expect("a new CA");
    let r = audit(&sb, &ep, "json", &["--since", &base_s]);
    assert_eq!(r.code, 1, "{r:#?}");
    let now = r.json();
    let on = rows(&v)
        .into_iter()
        .find(|r| r["ssl"] == "on")
        .expect("an instance with SSL on");
    let on_id = id_of(&on);
    assert!(
        has(&now["since"]["changes"], "ca_changed", &on_id),
        "{now:#}"
    );
    assert!(has(&now["since"]["changes"], "finding_new", &on_id));
    assert!(now["since"]["worse"].as_u64().is_some_and(|w| w >= 1));

    // The baseline edited as if the fleet had been otherwise: an instance gone, one new,
    // SSL turned off since, the protected address changed.
    let mut edited = v.clone();
    let list = edited["rows"].as_array_mut().expect("rows");
    let dropped = id_of(&list.remove(0));
    let mut ghost = list[0].clone();
    ghost["DBInstanceId"] = "postgres-gone0000".into();
    list.push(ghost);
    let still_off = list
        .iter_mut()
        .find(|r| r["ssl"] == "off" && id_of(r) != off_id)
        .expect("another off");
    let was_on = id_of(still_off);
    still_off["ssl"] = "on".into();
    still_off["protected_address"] = "192.0.2.10".into();
    let on_row = list
        .iter_mut()
        .find(|r| id_of(r) == on_id)
        .expect("the on row");
    on_row["protected_address"] = "198.51.100.250".into();
    let edited_path = sb.home().join("edited.json");
    std::fs::write(&edited_path, edited.to_string()).expect("write");
    let r = audit(
        &sb,
        &ep,
        "json",
        &["--since", &edited_path.display().to_string()],
    );
    assert_eq!(r.code, 1, "{r:#?}");
    let changes = r.json()["since"]["changes"].clone();
    assert!(has(&changes, "new", &dropped), "{changes:#}");
    assert!(has(&changes, "gone", "postgres-gone0000"), "{changes:#}");
    assert!(has(&changes, "ssl_off", &was_on), "{changes:#}");
    assert!(has(&changes, "address_changed", &on_id), "{changes:#}");
    // The worse come first, in text too.
    let r = audit(
        &sb,
        &ep,
        "text",
        &["--since", &edited_path.display().to_string()],
    );
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stdout.contains("SSL turned off"), "{r:#?}");
    assert!(r.error_line().contains("for the worse"), "{r:#?}");

    // A baseline of another account: refused, exit 2, before any instance is read.
    let mut other = v.clone();
    other["about"]["account"] = "999999999999".into();
    let other_path = sb.home().join("other.json");
    std::fs::write(&other_path, other.to_string()).expect("write");
    let reads = emu.count("DescribeDBInstances");
    let r = audit(
        &sb,
        &ep,
        "json",
        &["--since", &other_path.display().to_string()],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("was taken as account 999999999999"),
        "{r:#?}"
    );
    assert_eq!(emu.count("DescribeDBInstances"), reads, "no instance read");
    // The same instance twice: not what an audit writes.
    let mut twice = v.clone();
    let first_row = twice["rows"][0].clone();
    twice["rows"].as_array_mut().expect("rows").push(first_row);
    let twice_path = sb.home().join("twice.json");
    std::fs::write(&twice_path, twice.to_string()).expect("write");
    let r = audit(
        &sb,
        &ep,
        "json",
        &["--since", &twice_path.display().to_string()],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("twice"), "{r:#?}");
    // Not an audit: one line, exit 2, nothing asked.
    let bad = sb.home().join("bad.json");
    std::fs::write(&bad, "{\"findings\": []}").expect("write");
    let before = emu.total();
    let r = audit(&sb, &ep, "json", &["--since", &bad.display().to_string()]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("has no \"rows\""), "{r:#?}");
    assert_eq!(emu.total(), before);
}

#[test]
fn a_ca_changed_without_notice_is_a_finding_until_accepted() {
    let (emu, sb, ep) = setup();
    let r = audit(&sb, &ep, "json", &[]);
    let on = rows(&r.json())
        .into_iter()
        .find(|r| r["ssl"] == "on")
        .expect("an instance with SSL on");
    let id = id_of(&on);
    let first = on["ca"]["sha256"].as_str().expect("fp").to_string();
    emu.running.shared.rotate_ca().expect("a new CA");
    let r = audit(&sb, &ep, "json", &[]);
    let v = r.json();
    let row = rows(&v)
        .into_iter()
        .find(|r| id_of(r) == id)
        .expect("its row");
    let now = row["ca"]["sha256"].as_str().expect("fp").to_string();
    assert_ne!(now, first);
    assert_eq!(row["ca"]["pinned_sha256"], first.as_str());
    let finding = row["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["kind"] == "ca_changed"))
        .cloned()
        .expect("ca_changed");
    let detail = finding["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("CA changed since ") && detail.contains(&format!("{first} -> {now}")),
        "{detail}"
    );
    assert_eq!(finding["severity"], "high");
    // `ssl ca` says so too; --accept pins the new one and the finding goes.
    let r = sb.run(&["--endpoint", &ep, "--region", REGION, "ssl", "ca", &id]);
    assert!(r.stdout.contains("CA changed since"), "{r:#?}");
    let r = accept(&sb, &ep, &id);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.contains("accepted:"), "{r:#?}");
    let r = audit(&sb, &ep, "json", &[]);
    let row = rows(&r.json())
        .into_iter()
        .find(|r| id_of(r) == id)
        .expect("its row");
    assert_eq!(row["ca"]["pinned_sha256"], now.as_str());
    assert!(
        !row["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["kind"] == "ca_changed")),
        "{row:#}"
    );
    let r = accept(&sb, &ep, &id);
    assert!(r.stdout.contains("nothing to accept"), "{r:#?}");
}

#[test]
fn the_emulator_rotates_its_ca_after_n_hand_outs() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut serving = emu.running.shared.ca_serving();
    serving.ca_rotate_after = Some(1);
    emu.running.shared.set_ca_serving(serving);
    let first = emu.running.shared.ca_files().pem;
    emu.running.shared.ca_handed_out();
    assert_ne!(emu.running.shared.ca_files().pem, first, "rotated after 1");
    let second = emu.running.shared.ca_files().pem;
    emu.running.shared.ca_handed_out();
    assert_eq!(emu.running.shared.ca_files().pem, second, "only once");
}

#[test]
fn the_demo_keeps_its_ca_so_a_second_audit_finds_no_change() {
    let sb = Sandbox::new();
    let fingerprints = |sb: &Sandbox| -> Vec<(String, String)> {
        let r = sb.run(&["--demo", "--region", REGION, "--output", "json", "audit"]);
        let v = r.json();
        rows(&v)
            .into_iter()
            .filter(|row| row["ca"].is_object())
            .map(|row| {
                let kinds = row["findings"].to_string();
                assert!(!kinds.contains("ca_changed"), "{row:#}");
                (id_of(&row), row["ca"]["sha256"].to_string())
            })
            .collect()
    };
    let first = fingerprints(&sb);
    assert!(!first.is_empty(), "an instance with SSL on and its CA");
    assert_eq!(fingerprints(&sb), first, "the same CA in the next run");
    let kept = sb.dir.path().join("data/demo/emulator-ca.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&kept)
            .expect("the demo's CA is kept")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_audit_that_cannot_be_written_whole_fails() {
    let (_emu, sb, ep) = setup();
    for output in ["json", "csv", "html"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = sb
            .command(&[
                "--endpoint",
                &ep,
                "--region",
                "eu-frankfurt",
                "--output",
                output,
                "audit",
            ])
            .stdout(full)
            .output()
            .expect("pgssl runs");
        let err = String::from_utf8_lossy(&out.stderr);
        // Compliant (exit 0) when written; a full disk makes it a failure.
        assert_eq!(out.status.code(), Some(1), "{output}: {err}");
        assert!(err.contains("cannot write the output"), "{output}: {err}");
    }
}
