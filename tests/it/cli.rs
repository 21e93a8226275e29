//! The built CLI, end to end, against the emulator on 127.0.0.1.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";

fn faults() -> FaultArgs {
    FaultArgs::default()
}

fn base<'a>(emu_endpoint: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--endpoint", emu_endpoint, "--region", GZ];
    v.extend_from_slice(rest);
    v
}

#[test]
fn show_reports_state_addresses_and_the_credential_source() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(&ep, &["ssl", "show", "pgro-ro9x2k1q"]));
    r.ok();
    assert!(r.stdout.contains("SSL:       off"), "{r:#?}");
    assert!(r.stdout.contains("private  10.6.0.9:5432"), "{r:#?}");
    assert!(
        r.stdout
            .contains("group    10.6.0.20:5432  group orders-readers"),
        "{r:#?}"
    );
    assert!(
        r.stderr.contains("using credentials from environment"),
        "{r:#?}"
    );
    let masked = format!(
        "SecretId {}****{}",
        &emu.key().secret_id[..4],
        &emu.key().secret_id[emu.key().secret_id.len() - 4..]
    );
    assert!(r.stderr.contains(&masked), "{r:#?}");

    let j = sb
        .run(&base(
            &ep,
            &["--output", "json", "ssl", "show", "postgres-5gevh7gr"],
        ))
        .json();
    assert_eq!(j["SSLEnabled"], true);
    assert_eq!(j["ConnectAddress"], "10.6.1.21");
    assert!(j["CAUrl"].as_str().expect("CAUrl").starts_with(&ep));
    assert_eq!(j["Addresses"][0]["kind"], "private");
}

#[test]
fn enable_wait_journals_the_whole_story() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(
        &ep,
        &[
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "public",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    ));
    r.ok();
    assert!(
        r.stdout
            .contains("sent: ap-guangzhou SSL enable on postgres-6bwgamo3: TaskId 100017"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("task 100017: Running"), "{r:#?}");
    assert!(r.stderr.contains("task 100017: Success 100%"), "{r:#?}");
    assert!(
        r.stdout
            .contains("now has SSL on, protecting gz-postgres-6bwgamo3.sql.tencentcdb.com"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let state = emu.fleet(|f| f.ssl_of(PRIMARY));
    assert!(state.SSLEnabled);
    // `--address public` sends the public entry's DNS name (docs/emulator.md says why).
    assert_eq!(
        state.ConnectAddress.as_deref(),
        Some("gz-postgres-6bwgamo3.sql.tencentcdb.com")
    );

    let lines = sb.journal_lines();
    assert_eq!(lines[0]["kind"], "request");
    assert_eq!(lines[0]["DBInstanceId"], PRIMARY);
    assert_eq!(lines[0]["SSLEnabled"], true);
    assert_eq!(
        lines[0]["ConnectAddress"],
        "gz-postgres-6bwgamo3.sql.tencentcdb.com"
    );
    assert_eq!(lines[0]["region"], GZ);
    assert_eq!(lines[0]["source"], "env");
    assert!(lines[0]["SecretId"].as_str().expect("id").contains("****"));
    assert_eq!(lines[1]["kind"], "outcome");
    assert_eq!(lines[1]["outcome"], "ok");
    assert_eq!(lines[1]["TaskId"], 100017);
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "task" && l["Status"] == "Success")
    );

    let log = sb.run(&["log"]);
    log.ok();
    assert!(
        log.stdout
            .contains("enable gz-postgres-6bwgamo3.sql.tencentcdb.com")
            && log.stdout.contains("task Success 100%"),
        "{log:#?}"
    );
    let json = sb.run(&["log", "--json"]);
    let entry: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().expect("line")).expect("json");
    assert_eq!(entry["outcome"], "ok");
    // Named fields, not a tuple, in the API's words.
    assert_eq!(entry["task"]["Status"], "Success");
    assert_eq!(entry["task"]["TaskId"], 100017);
}

#[test]
fn disable_json_output_and_noop_detection() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let j = sb
        .run(&base(
            &ep,
            &[
                "--output",
                "json",
                "ssl",
                "disable",
                "postgres-5gevh7gr",
                "--yes",
                "--wait",
                "--poll",
                "0.2",
            ],
        ))
        .json();
    assert_eq!(j["result"], "sent");
    assert_eq!(j["SSLEnabled"], false);
    assert_eq!(j["ConnectAddress"], serde_json::Value::Null);
    assert_eq!(j["task"]["Status"], "Success");
    // Now it is off: disabling again sends nothing.
    let r = sb.run(&base(
        &ep,
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ));
    r.ok();
    assert!(
        r.stdout.contains("already has SSL off: nothing to do"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}

#[test]
fn a_change_without_a_terminal_needs_yes_and_sends_nothing() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(&ep, &["ssl", "disable", "postgres-5gevh7gr"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("pass --yes"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert!(sb.journal_lines().is_empty());
}

#[test]
fn bad_input_is_one_clear_line_and_nothing_is_sent() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let cases: &[(&[&str], &str)] = &[
        (&["ssl", "show", "postgres-BAD"], "is not an instance id"),
        (
            &["ssl", "enable", PRIMARY, "--address", "10.0.0.999", "--yes"],
            "is not an address",
        ),
        (
            &["ssl", "enable", PRIMARY, "--address", "10.9.9.9", "--yes"],
            "is not an address of postgres-6bwgamo3",
        ),
        (
            &["ssl", "enable", PRIMARY, "--address", "group", "--yes"],
            "is not a read-only instance",
        ),
        (
            &[
                "ssl",
                "enable",
                "postgres-k3j9w2qa",
                "--address",
                "private",
                "--yes",
            ],
            "'isolated', not running",
        ),
        (&["task", "show", "abc"], "is not a task id"),
        (
            &["--readonly", "ssl", "disable", PRIMARY, "--yes"],
            "--readonly: changes are disabled",
        ),
        (
            &[
                "ssl",
                "disable",
                PRIMARY,
                "--yes",
                "--wait",
                "--timeout",
                "18446744073709551615",
            ],
            "--timeout must be between",
        ),
        (
            &["regions", "remove", "mars-1"],
            "'mars-1' is not a kept region",
        ),
        (&["log", "--instance", "garbage"], "is not an instance id"),
        // Shaped like a region, but DescribeRegions does not list it: refused, nothing sent.
        (
            &["ssl", "show", PRIMARY, "--region", "us-east-1"],
            "'us-east-1' is not a region DescribeRegions lists",
        ),
        (
            &["ssl", "disable", PRIMARY, "--yes", "--region", "mars-1"],
            "'mars-1' is not a region DescribeRegions lists",
        ),
        (
            &["ssl", "show", PRIMARY, "--region", "Mars 1"],
            "is not a region: a region looks like",
        ),
    ];
    let raw: &[(&[&str], &str)] = &[(
        &["--endpoint", "http://example.com", "ssl", "show", PRIMARY],
        "refusing plain http",
    )];
    let cases = cases
        .iter()
        .map(|(args, needle)| (base(&ep, args), *needle))
        .chain(raw.iter().map(|(args, needle)| (args.to_vec(), *needle)));
    for (args, needle) in cases {
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        let line = r.error_line();
        assert!(line.contains(needle), "{args:?}: {line}");
        assert_eq!(r.stderr.matches("error:").count(), 1, "{r:#?}");
    }
    // clap's own usage errors exit 2 too and name the problem.
    for (args, needle) in [
        (&["ssl", "enable", PRIMARY][..], "--address"),
        (&["ssl", "show", PRIMARY, "--bogus"], "--bogus"),
        (&["--output", "yaml", "log"], "yaml"),
    ] {
        let r = sb.run(args);
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(r.stderr.contains(needle), "{r:#?}");
    }
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert!(!sb.journal_file().exists());
}

#[test]
fn api_errors_carry_code_request_id_and_advice() {
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("OperationDenied.InstanceStatusLimitError".into()),
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(
        &ep,
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ));
    assert_eq!(r.code, 1, "{r:#?}");
    let line = r.error_line();
    assert!(
        line.contains("OperationDenied.InstanceStatusLimitError"),
        "{line}"
    );
    assert!(line.contains("RequestId "), "{line}");
    assert!(line.contains("wait for its current task"), "{line}");
    let lines = sb.journal_lines();
    assert_eq!(lines[1]["outcome"], "error");
    assert_eq!(lines[1]["Code"], "OperationDenied.InstanceStatusLimitError");
    // The API said no: never retried.
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    // JSON mode puts the error on stdout for scripts.
    let j = sb.run(&base(
        &ep,
        &[
            "--output",
            "json",
            "ssl",
            "disable",
            "postgres-5gevh7gr",
            "--yes",
        ],
    ));
    assert_eq!(j.code, 1);
    assert_eq!(
        j.json()["error"]["Code"],
        "OperationDenied.InstanceStatusLimitError"
    );
    assert_eq!(j.json()["error"]["kind"], "api");
}

#[test]
fn wrong_key_and_clock_skew_are_explained() {
    let emu = Emu::start(
        FaultArgs {
            clock_offset: -1000,
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(&ep, &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 1, "{r:#?}");
    let line = r.error_line();
    assert!(line.contains("AuthFailure.SignatureExpire"), "{line}");
    assert!(line.contains("16m 40s ahead of the server's"), "{line}");

    let emu = Emu::start(faults(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_SECRET_KEY", "not-the-right-key-at-all");
    let r = sb.run(&base(&emu.endpoint(), &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("AuthFailure.SignatureFailure"),
        "{r:#?}"
    );
    assert!(
        r.error_line().contains("SecretKey does not match"),
        "{r:#?}"
    );
    assert!(!r.all().contains("not-the-right-key-at-all"));
}

#[test]
fn transport_failures_are_kept_apart() {
    // (b) nothing listening: not sent.
    let sb = {
        let mut s = Sandbox::new();
        s.set("TENCENTCLOUD_SECRET_ID", "AKIDexample000000000");
        s.set("TENCENTCLOUD_SECRET_KEY", "examplekey");
        s
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let r = sb.run(&base(&dead, &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("was not sent"), "{r:#?}");
    assert!(r.error_line().contains("Nothing was changed"), "{r:#?}");

    // (d) not Tencent's envelope: status and a sanitized excerpt.
    let emu = Emu::start(
        FaultArgs {
            http_status: Some(502),
            fault_actions: vec!["DescribeDBInstances".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = sb.run(&base(&emu.endpoint(), &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("not Tencent Cloud's API (HTTP 502)"),
        "{r:#?}"
    );
    assert!(r.error_line().contains("emulated upstream error"), "{r:#?}");
}

#[test]
fn reads_retry_rate_limits_but_changes_are_never_resent() {
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("RequestLimitExceeded".into()),
            fail_share: 0.5,
            fault_actions: vec!["DescribeDBInstanceSSLConfig".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = sb.run(&base(&emu.endpoint(), &["ssl", "show", PRIMARY]));
    r.ok();
    assert_eq!(
        emu.count("DescribeDBInstanceSSLConfig"),
        2,
        "one refused, one retried"
    );

    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("RequestLimitExceeded".into()),
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = sb.run(&base(
        &emu.endpoint(),
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("RequestLimitExceeded"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}

#[test]
fn outcome_unknown_is_checked_and_never_blindly_resent() {
    // The emulator carries out the change, then drops the connection.
    let emu = Emu::start(
        FaultArgs {
            drop_share: 1.0,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..faults()
        },
        30,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&base(
        &ep,
        &["ssl", "enable", PRIMARY, "--address", "private", "--yes"],
    ));
    assert_eq!(r.code, 3, "{r:#?}");
    let line = r.error_line();
    assert!(line.contains("outcome unknown"), "{line}");
    assert!(line.contains("is Running"), "{line}");
    assert!(line.contains("do not send it again"), "{line}");
    assert!(
        line.contains("sending it again. Checked since: "),
        "a sentence ends before the check: {line}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let lines = sb.journal_lines();
    assert_eq!(lines[1]["outcome"], "unknown");
    assert_eq!(lines[2]["kind"], "check");
    assert_eq!(lines[2]["result"], "in_progress");

    // Trying again while the task runs: refused before anything is sent.
    let r = sb.run(&base(
        &ep,
        &["ssl", "enable", PRIMARY, "--address", "private", "--yes"],
    ));
    assert_ne!(r.code, 0, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1, "never re-sent");
}

#[test]
fn an_earlier_unknown_outcome_is_checked_before_the_next_send() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // A change whose process died between sending and hearing back.
    std::fs::create_dir_all(sb.journal_file().parent().expect("dir")).expect("mkdir");
    std::fs::write(
        sb.journal_file(),
        format!(
            "{}\n",
            serde_json::json!({"kind":"request","id":"lost-1","time":"2026-11-28T00:00:00Z","source":"env",
                "SecretId":"AKID****xxxx","endpoint":ep,"region":GZ,"action":"ModifyDBInstanceSSLConfig",
                "DBInstanceId":"postgres-5gevh7gr","SSLEnabled":false})
        ),
    )
    .expect("journal");
    let log = sb.run(&["log"]);
    assert!(
        log.stdout
            .contains("outcome unknown (interrupted before a reply)"),
        "{log:#?}"
    );

    let r = sb.run(&base(
        &ep,
        &["ssl", "enable", PRIMARY, "--address", "private", "--yes"],
    ));
    r.ok();
    // The lost change was for another instance: checking it is not needed for this one.
    let r = sb.run(&base(
        &ep,
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ));
    r.ok();
    let lines = sb.journal_lines();
    let check = lines
        .iter()
        .find(|l| l["kind"] == "check" && l["id"] == "lost-1")
        .expect("the earlier unknown outcome was checked first");
    // SSL was still on and no task ran: the lost change had not taken effect.
    assert_eq!(check["result"], "not_applied");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 2);
}

#[test]
fn dry_run_prints_the_signed_request_and_sends_nothing() {
    let emu = Emu::start(faults(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_TOKEN", "sts-session-token-value");
    let ep = emu.endpoint();
    let r = sb.run(&base(
        &ep,
        &[
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "10.6.0.4",
            "--dry-run",
        ],
    ));
    r.ok();
    // A dry run reads the instance, as a real run does, and sends no change.
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        0,
        "no change reached the server"
    );
    assert!(!sb.journal_file().exists());
    let out = &r.stdout;
    assert!(out.starts_with(&format!("POST {ep}/\n")), "{out}");
    for h in [
        "Content-Type: application/json\n",
        "X-TC-Action: ModifyDBInstanceSSLConfig\n",
        "X-TC-Version: 2017-03-12\n",
        "X-TC-Region: ap-guangzhou\n",
        "X-TC-Language: en-US\n",
        "X-TC-RequestClient: pgssl/",
        "Authorization: TC3-HMAC-SHA256 Credential=",
        "X-TC-Token: <redacted, 23 characters>",
    ] {
        assert!(out.contains(h), "{h} missing in {out}");
    }
    assert!(
        out.trim_end().ends_with(
            r#"{"DBInstanceId":"postgres-6bwgamo3","SSLEnabled":true,"ConnectAddress":"10.6.0.4"}"#
        ),
        "{out}"
    );
    assert!(!r.all().contains(emu.key().secret_key.expose()));
    assert!(!r.all().contains("sts-session-token-value"));

    // A keyword is resolved from the fresh read, as in a real run.
    let r = sb.run(&base(
        &ep,
        &[
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "private",
            "--dry-run",
        ],
    ));
    r.ok();
    assert!(
        r.stdout.contains(r#""ConnectAddress":"10.6.0.4""#),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn a_dry_run_refuses_exactly_what_a_real_run_refuses() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    sb.run(&base(&ep, &["instances", "add", PRIMARY])).ok();
    // An IP that is not the instance's: refused the same way, dry or not, nothing sent.
    let foreign = ["ssl", "enable", PRIMARY, "--address", "10.9.9.9", "--yes"];
    let real = sb.run(&base(&ep, &foreign));
    let mut dry_args = foreign.to_vec();
    dry_args.push("--dry-run");
    let dry = sb.run(&base(&ep, &dry_args));
    assert_eq!((real.code, dry.code), (2, 2), "{real:#?} {dry:#?}");
    assert_eq!(real.error_line(), dry.error_line());
    assert!(
        dry.error_line()
            .contains("10.9.9.9 is not an address of postgres-6bwgamo3"),
        "{dry:#?}"
    );
    // A busy instance: the same refusal too.
    let busy = [
        "ssl",
        "disable",
        "postgres-w2c6r9tm",
        "--yes",
        "--region",
        "ap-shanghai",
    ];
    let real = sb.run(&base(&ep, &busy));
    let mut dry_args = busy.to_vec();
    dry_args.push("--dry-run");
    let dry = sb.run(&base(&ep, &dry_args));
    assert_eq!((real.code, dry.code), (2, 2), "{real:#?} {dry:#?}");
    assert_eq!(real.error_line(), dry.error_line());
    assert!(
        dry.error_line().contains("'restarting', not running"),
        "{dry:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert!(!sb.journal_file().exists());
}

#[test]
fn a_json_dry_run_prints_one_valid_document() {
    let emu = Emu::start(faults(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_TOKEN", "sts-session-token-value");
    let ep = emu.endpoint();
    let r = sb.run(&base(
        &ep,
        &[
            "--output",
            "json",
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "public",
            "--dry-run",
        ],
    ));
    r.ok();
    let j = r.json();
    assert_eq!(j["dry_run"], true);
    let request = &j["request"];
    assert_eq!(request["method"], "POST");
    let body: serde_json::Value =
        serde_json::from_str(request["body"].as_str().expect("body")).expect("the body is JSON");
    assert_eq!(body["DBInstanceId"], PRIMARY);
    assert_eq!(body["SSLEnabled"], true);
    let headers = request["headers"].to_string();
    assert!(headers.contains("ModifyDBInstanceSSLConfig"), "{headers}");
    // The signature is not shown whole: with it the request could be replayed.
    let longest_hex = headers
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_hex < 64, "{headers}");
    assert!(headers.contains("Signature="), "{headers}");
    assert!(!r.all().contains(emu.key().secret_key.expose()));
    assert!(!r.all().contains("sts-session-token-value"));
    assert!(
        !r.all().contains(&emu.key().secret_id),
        "the SecretId is masked"
    );
    assert!(
        j["plan"]
            .to_string()
            .contains("SSL new:  on, protecting public"),
        "{j}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn secrets_never_leak_and_files_are_private() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let secret = emu.key().secret_key.expose().to_string();
    let mut everything = String::new();
    for args in [
        base(&ep, &["instances", "add", PRIMARY]),
        base(
            &ep,
            &[
                "ssl",
                "enable",
                PRIMARY,
                "--address",
                "private",
                "--yes",
                "--wait",
                "--poll",
                "0.2",
            ],
        ),
        base(&ep, &["--output", "json", "ssl", "show", PRIMARY]),
        vec!["log", "--json"],
        vec!["instances", "list"],
    ] {
        let r = sb.run(&args);
        r.ok();
        everything.push_str(&r.all());
    }
    everything.push_str(&std::fs::read_to_string(sb.config_file()).expect("config"));
    everything.push_str(&std::fs::read_to_string(sb.journal_file()).expect("journal"));
    // The emulator's request log names action, region, outcome and RequestId, never
    // the key or a signature.
    everything.push_str(&emu.log.lock().expect("log").join("\n"));
    assert!(
        emu.log
            .lock()
            .expect("log")
            .iter()
            .all(|l| !l.contains("Signature"))
    );
    assert!(!everything.contains(&secret), "the secret key leaked");
    assert!(
        !everything.contains(&emu.key().secret_id),
        "the full SecretId leaked"
    );
    for f in [sb.config_file(), sb.journal_file()] {
        let mode = std::fs::metadata(&f).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

#[test]
fn a_malformed_config_is_reported_and_left_alone() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    std::fs::create_dir_all(sb.config_file().parent().expect("dir")).expect("mkdir");
    let broken = "regions = [\"ap-guangzhou\"]\n\n[[instance]]\nid = \"postgres-6bwgamo3\"\nregion = ap-guangzhou\n";
    std::fs::write(sb.config_file(), broken).expect("write");
    for args in [
        vec!["instances", "list"],
        vec!["regions", "add", "ap-seoul"],
    ] {
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{r:#?}");
        let line = r.error_line();
        assert!(
            line.contains(&format!("{}: line 5:", sb.config_file().display())),
            "{line}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(sb.config_file()).expect("read"),
        broken
    );
}

#[test]
fn instances_import_add_list_remove_and_regions() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "instances",
        "import",
        "ap-guangzhou",
        "ap-singapore",
    ]);
    r.ok();
    assert!(r.stdout.contains("imported 147 instances"), "{r:#?}");
    // ap-singapore needed two pages at Limit 100.
    assert!(emu.count("DescribeDBInstances") >= 3);
    let list = sb.run(&["--output", "json", "instances", "list"]).json();
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 147);
    let ro = list
        .iter()
        .find(|i| i["DBInstanceId"] == "pgro-ro9x2k1q")
        .expect("read-only saved");
    assert_eq!(ro["DBInstanceType"], "readonly");
    assert_eq!(ro["MasterDBInstanceId"], PRIMARY);
    assert!(
        ro["Addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .any(|a| a["kind"] == "group" && a["Ip"] == "10.6.0.20")
    );

    let regions = sb.run(&["regions", "list"]);
    assert_eq!(regions.stdout, "ap-guangzhou\nap-singapore\n");
    sb.run(&["regions", "remove", "ap-singapore"]).ok();
    assert_eq!(sb.run(&["regions", "list"]).stdout, "ap-guangzhou\n");
    let r = sb.run(&["regions", "add", "mars-north-1"]);
    assert_eq!(r.code, 2);

    // With the instance saved, its region is known and keywords work offline.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "ssl",
        "enable",
        "pgro-ro9x2k1q",
        "--address",
        "group",
        "--dry-run",
    ]);
    r.ok();
    assert!(
        r.stdout.contains("\"ConnectAddress\":\"10.6.0.20\""),
        "{r:#?}"
    );

    sb.run(&["instances", "remove", "pgro-ro9x2k1q"]).ok();
    let r = sb.run(&["instances", "remove", "pgro-ro9x2k1q"]);
    assert_eq!(r.code, 2);
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-shanghai",
        "instances",
        "add",
        "pgro-s7h2n5bk",
    ]);
    r.ok();
    assert!(
        r.stdout.contains("group 172.16.8.40 (inventory-reports)"),
        "{r:#?}"
    );
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-shanghai",
        "instances",
        "add",
        "postgres-zzzzzzzz",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.error_line()
            .contains("no instance postgres-zzzzzzzz in ap-shanghai"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn task_show_follows_a_task() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    sb.run(&base(
        &ep,
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ))
    .ok();
    let r = sb.run(&base(
        &ep,
        &["task", "show", "100017", "--wait", "--poll", "0.2"],
    ));
    r.ok();
    assert!(
        r.stdout
            .contains("task 100017: Success 100%  instance postgres-5gevh7gr"),
        "{r:#?}"
    );
    // The status is recorded next to the change it belongs to.
    assert!(
        sb.journal_lines()
            .iter()
            .any(|l| l["kind"] == "task" && l["TaskId"] == 100017)
    );
    let r = sb.run(&base(&ep, &["task", "show", "999"]));
    assert_eq!(r.code, 1);
    assert!(r.error_line().contains("no task 999"), "{r:#?}");
}

#[test]
fn a_failed_task_exits_1_with_its_message() {
    let emu = Emu::start(
        FaultArgs {
            task_fail: true,
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = sb.run(&base(
        &emu.endpoint(),
        &[
            "ssl",
            "disable",
            "postgres-5gevh7gr",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    ));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("task 100017 on postgres-5gevh7gr ended Fail: emulated failure"),
        "{r:#?}"
    );
}

#[test]
fn a_kill_mid_request_leaves_an_unknown_outcome_record() {
    let emu = Emu::start(
        FaultArgs {
            latency_ms: 20_000,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let mut child = sb
        .command(&base(
            &ep,
            &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until the emulator has the request in hand: the journal line came first.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !emu.fleet(|f| f.tasks.iter().any(|t| t.given.is_none())) {
        assert!(
            std::time::Instant::now() < deadline,
            "the change never arrived"
        );
        std::thread::yield_now();
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    sb.assert_one_unanswered_change("postgres-5gevh7gr");
}

#[test]
fn concurrent_processes_share_the_journal_without_losing_lines() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // Four real changes (none is already as asked), in three regions.
    let ids = [
        "postgres-6bwgamo3",
        "pgro-ro9x2k1q",
        "postgres-h6v1b8yn",
        "postgres-f4q8z3lu",
    ];
    let regions = [
        "ap-guangzhou",
        "ap-guangzhou",
        "ap-singapore",
        "eu-frankfurt",
    ];
    let children: Vec<_> = ids
        .iter()
        .zip(regions)
        .map(|(id, region)| {
            sb.command(&[
                "--endpoint",
                &ep,
                "--region",
                region,
                "ssl",
                "enable",
                id,
                "--address",
                "private",
                "--yes",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    // A request and its outcome each; a change may also note how another's task stands
    // (each looks at the unfinished ones first), but never checks one still in flight.
    let lines = sb.journal_lines();
    let kinds = |k: &str| lines.iter().filter(|l| l["kind"] == k).count();
    assert_eq!(
        (kinds("request"), kinds("outcome"), kinds("check")),
        (4, 4, 0)
    );
    assert_eq!(lines.len(), 8 + kinds("task"));
    let (entries, skipped) = pgssl::store::Journal::new(sb.journal_file())
        .entries()
        .expect("read");
    assert_eq!(skipped, 0);
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|e| e.outcome_word() == "ok"));
}

#[test]
fn credentials_from_a_tccli_profile_and_the_no_source_message() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::new();
    let tccli = sb.home().join(".tccli");
    std::fs::create_dir_all(&tccli).expect("mkdir");
    std::fs::write(
        tccli.join("prod.credential"),
        serde_json::json!({"secretId": emu.key().secret_id, "secretKey": emu.key().secret_key.expose()}).to_string(),
    )
    .expect("write");
    std::fs::set_permissions(
        tccli.join("prod.credential"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    std::fs::write(
        tccli.join("prod.configure"),
        r#"{"_sys_param":{"region":"ap-guangzhou"}}"#,
    )
    .expect("write");
    let r = sb.run(&[
        "--profile",
        "prod",
        "--endpoint",
        &emu.endpoint(),
        "ssl",
        "show",
        PRIMARY,
    ]);
    r.ok();
    assert!(r.stderr.contains("tccli profile 'prod'"), "{r:#?}");
    assert!(r.stderr.contains("chmod 600"), "{r:#?}");

    let r = Sandbox::new().run(&[
        "--endpoint",
        &emu.endpoint(),
        "--region",
        GZ,
        "ssl",
        "show",
        PRIMARY,
    ]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.contains("no credentials found; tried:"), "{line}");
    assert!(line.contains("TENCENTCLOUD_SECRET_ID"), "{line}");
}

#[test]
fn a_failure_while_following_still_reports_the_sent_change_in_json() {
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("InternalError".into()),
            fault_actions: vec!["DescribeTasks".into()],
            ..faults()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let r = sb.run(&base(
        &emu.endpoint(),
        &[
            "--output",
            "json",
            "ssl",
            "disable",
            "postgres-5gevh7gr",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    ));
    // The change was sent; whether it took effect is not known: exit 3.
    assert_eq!(r.code, 3, "{r:#?}");
    let j = r.json();
    assert_eq!(j["TaskId"], 100017);
    assert_eq!(j["result"], "sent");
    assert_eq!(j["followed"], "unreadable");
    assert!(
        j["follow_error"]
            .as_str()
            .expect("error")
            .contains("InternalError")
    );
    assert!(
        r.error_line()
            .contains("could not follow task 100017 on postgres-5gevh7gr"),
        "{r:#?}"
    );
}

#[test]
fn hand_edited_files_cannot_smuggle_escapes_to_the_terminal() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_file().parent().expect("dir")).expect("mkdir");
    std::fs::write(
        sb.config_file(),
        "[[instance]]\nid = \"postgres-6bwgamo3\"\nregion = \"ap-guangzhou\"\nname = \"orders\\u001b]0;PWNED\\u0007\\u001b[2J\"\nstatus = \"\\u001b[31mrunning\"\n",
    )
    .expect("write");
    let r = sb.run(&["instances", "list"]);
    r.ok();
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'),
        "{r:#?}"
    );
    assert!(r.stdout.contains("orders\\x1b]0;PWNED"), "{r:#?}");
}

#[test]
fn duplicate_regions_are_imported_once_and_bad_tokens_are_refused() {
    let emu = Emu::start(faults(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    let r = sb.run(&[
        "--endpoint",
        &emu.endpoint(),
        "instances",
        "import",
        "ap-guangzhou",
        "ap-guangzhou",
    ]);
    r.ok();
    assert!(
        r.stdout
            .contains("imported 6 instances from ap-guangzhou: 6 new, 0 updated"),
        "{r:#?}"
    );
    sb.set("TENCENTCLOUD_TOKEN", "tok\nen");
    let before = emu.total();
    let r = sb.run(&base(&emu.endpoint(), &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("the token has characters a token never has"),
        "{r:#?}"
    );
    assert_eq!(emu.total(), before, "nothing was sent with the bad token");
}

#[test]
fn an_sts_token_goes_with_every_request_and_a_wrong_one_is_named() {
    let emu = Emu::start_with(
        pgssl_emulator::Fleet::demo(),
        faults(),
        1,
        Some("session-token-0001"),
    );
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("TENCENTCLOUD_TOKEN", "session-token-0001");
    sb.run(&base(
        &emu.endpoint(),
        &["ssl", "disable", "postgres-5gevh7gr", "--yes"],
    ))
    .ok();
    sb.set("TENCENTCLOUD_TOKEN", "session-token-9999");
    let r = sb.run(&base(&emu.endpoint(), &["ssl", "show", PRIMARY]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line().contains("AuthFailure.TokenFailure"),
        "{r:#?}"
    );
    assert!(r.error_line().contains("get a fresh one"), "{r:#?}");
    assert!(
        !r.all().contains("session-token"),
        "the token is never printed"
    );
}

#[test]
fn the_demo_never_touches_the_real_config_or_journal() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_file().parent().expect("dir")).expect("mkdir");
    let mine = "regions = [\"ap-seoul\"]\n";
    std::fs::write(sb.config_file(), mine).expect("write");
    let r = sb.run(&["--demo", "instances", "list"]);
    r.ok();
    assert!(r.stdout.contains("postgres-6bwgamo3"), "{r:#?}");
    let child = sb
        .command(&["--demo", "ssl", "disable", "postgres-5gevh7gr", "--yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let r = common::Run::from(child.wait_with_output().expect("wait"));
    r.ok();
    assert!(r.stdout.contains("TaskId 100017"), "{r:#?}");
    assert_eq!(
        std::fs::read_to_string(sb.config_file()).expect("read"),
        mine
    );
    assert!(
        !sb.journal_file().exists(),
        "the real journal was not written"
    );
    // The demo keeps its own files apart, in the data directory's `demo`.
    let demo = sb.dir.path().join("data/demo");
    assert!(demo.join("data/journal.jsonl").exists());
    // And no temp directory is left behind.
    let prefix = format!("pgssl-demo-{pid}-");
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("tmp")
        .filter_map(std::result::Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn reading_changing_and_verifying_never_rewrite_the_config() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    sb.run(&base(&ep, &["instances", "import", GZ])).ok();
    let before = std::fs::read(sb.config_file()).expect("config");
    let meta = std::fs::metadata(sb.config_file()).expect("meta");
    let same = |what: &str| {
        assert_eq!(
            std::fs::read(sb.config_file()).expect("config"),
            before,
            "{what} rewrote config.toml"
        );
        let now = std::fs::metadata(sb.config_file()).expect("meta");
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&now),
            std::os::unix::fs::MetadataExt::ino(&meta),
            "{what} replaced config.toml"
        );
    };
    sb.run(&base(&ep, &["ssl", "show", PRIMARY])).ok();
    same("ssl show");
    sb.run(&base(
        &ep,
        &[
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            "private",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    ))
    .ok();
    same("a change with --wait");
    // The TLS check reaches nothing outside this machine: through a closed loopback port.
    let r = sb.run(&base(&ep, &["verify", PRIMARY, "--via", "127.0.0.1:1"]));
    assert_eq!(r.code, 3, "{r:#?}");
    same("verify");
    // What was learned went to the inventory instead.
    let inventory =
        std::fs::read_to_string(sb.dir.path().join("data/inventory.json")).expect("inventory");
    let inventory: serde_json::Value = serde_json::from_str(&inventory).expect("json");
    let learned = &inventory["instances"][PRIMARY];
    assert_eq!(
        learned["enabled"],
        serde_json::Value::Null,
        "flattened under ssl"
    );
    assert_eq!(learned["ssl"]["enabled"], true);
    assert_eq!(learned["ssl"]["protected"], "10.6.0.4");
    // The CA it fetched and the TLS check it made are kept with it.
    assert!(
        learned["ca"]["sha256"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{learned}"
    );
    assert_eq!(learned["tls"]["result"], "unreachable", "{learned}");
    assert_eq!(
        std::fs::metadata(sb.dir.path().join("data/inventory.json"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn a_config_in_the_old_layout_is_migrated_once() {
    let emu = Emu::start(faults(), 1);
    let sb = Sandbox::for_emu(&emu);
    std::fs::create_dir_all(sb.config_file().parent().expect("dir")).expect("dir");
    std::fs::write(
        sb.config_file(),
        "region = \"ap-guangzhou\"\nregions = [\"ap-guangzhou\"]\n\n[[instance]]\nid = \"postgres-6bwgamo3\"\nregion = \"ap-guangzhou\"\nname = \"orders-db\"\nkind = \"primary\"\nstatus = \"running\"\n\n[[instance.addresses]]\nkind = \"private\"\nip = \"10.6.0.4\"\nport = 5432\n\n[instance.ssl]\nenabled = true\nconnect_address = \"10.6.0.4\"\nchecked = \"2026-11-28T00:00:00Z\"\n",
    )
    .expect("old config");
    let r = sb.run(&["instances", "list"]);
    r.ok();
    assert!(
        r.stderr
            .contains("moved what pgssl had learned about 1 instances"),
        "{r:#?}"
    );
    assert!(
        r.stdout.contains("postgres-6bwgamo3") && r.stdout.contains("on 10.6.0.4"),
        "{r:#?}"
    );
    let config = std::fs::read_to_string(sb.config_file()).expect("config");
    assert!(
        config.contains("[instances]") && !config.contains("connect_address"),
        "{config}"
    );
    let again = sb.run(&["instances", "list"]);
    again.ok();
    assert!(!again.stderr.contains("moved"), "once: {again:#?}");
    assert_eq!(again.stdout, r.stdout);
}

#[test]
fn the_journal_keeps_what_ssl_was_before_each_change_and_log_names_each_change() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    for address in ["private", "public"] {
        sb.run(&[
            "--endpoint",
            &ep,
            "--region",
            "ap-guangzhou",
            "ssl",
            "enable",
            PRIMARY,
            "--address",
            address,
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ])
        .ok();
    }
    // JSON lines, newest first.
    let r = sb.run(&["--output", "json", "log"]);
    let changes: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    // Newest first: the move from the private address, then the enable from off.
    assert_eq!(
        changes[0]["before"],
        serde_json::json!({"SSLEnabled": true, "ConnectAddress": "10.6.0.4"})
    );
    assert_eq!(
        changes[1]["before"],
        serde_json::json!({"SSLEnabled": false})
    );
    let id = changes[0]["change_id"].as_str().expect("id").to_string();
    let text = sb.run(&["log"]);
    assert!(text.stdout.contains(&format!("change {id}")), "{text:#?}");
}
