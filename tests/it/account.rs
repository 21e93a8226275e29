//! The account lookup never slows a command (issue 20, item 5): GetCallerIdentity is
//! asked beside the work, a read never waits for it, a change waits (bounded) only when a
//! guard needs it, the answer is kept a day per credential in the data dir, and a
//! loopback `--endpoint` takes STS from the same place whatever tccli's
//! `default.configure` says.
//!
//! STS that does not answer is a loopback port that is listened on and never accepted
//! from: the connection opens, the request goes, no reply ever comes (what a bastion
//! whose egress drops STS looks like). Nothing here leaves 127.0.0.1.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;

use crate::common::{Emu, Sandbox, write_private};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";
const ACCOUNT: &str = "100000000001";
/// The line a command ends with when STS has not answered by then.
const NOT_YET: &str = "account not known yet (STS has not answered";

/// STS that never answers, for as long as it is held.
fn silent_sts() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (listener, format!("http://127.0.0.1:{port}"))
}

fn show(ep: &str) -> Vec<&str> {
    vec!["--endpoint", ep, "--region", GZ, "ssl", "show", PRIMARY]
}

fn enable<'a>(ep: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--endpoint", ep, "--region", GZ];
    v.extend_from_slice(&["ssl", "enable", PRIMARY, "--address", "private"]);
    v.extend_from_slice(extra);
    v
}

fn config(sb: &Sandbox, text: &str) {
    write_private(&sb.config_file(), text);
}

fn accounts_file(sb: &Sandbox) -> std::path::PathBuf {
    sb.dir.path().join("data/accounts.json")
}

#[test]
fn a_read_and_an_unguarded_change_go_on_while_sts_says_nothing() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let (_held, sts) = silent_sts();
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_STS_ENDPOINT", &sts);
    // Were anything to wait for STS, it would wait a minute a try.
    sb.set("PGSSL_STS_TIMEOUT", "60");
    let ep = emu.endpoint();
    let limit = std::time::Duration::from_secs(30);
    let r = sb.run_within(&show(&ep), limit);
    r.ok();
    assert!(r.stdout.contains(PRIMARY), "{r:#?}");
    assert!(r.stderr.contains(NOT_YET), "{r:#?}");
    assert!(
        !accounts_file(&sb).exists(),
        "nothing answered, nothing kept"
    );
    // A change with no guard goes too; the journal has no account to record.
    let r = sb.run_within(&enable(&ep, &["--yes"]), limit);
    r.ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let lines = sb.journal_lines();
    assert!(lines[0]["account"].is_null(), "{lines:?}");
    assert!(r.stderr.contains(NOT_YET), "{r:#?}");
}

#[test]
fn a_guarded_change_waits_for_the_account_within_stss_deadline_then_fails_closed() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let (_held, sts) = silent_sts();
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_STS_ENDPOINT", &sts);
    sb.set("PGSSL_STS_TIMEOUT", "0.3");
    config(&sb, &format!("allowed_accounts = [\"{ACCOUNT}\"]\n"));
    let ep = emu.endpoint();
    let r = sb.run_within(&enable(&ep, &["--yes"]), std::time::Duration::from_secs(30));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("fail closed")
            && r.error_line().contains(&format!(
                "STS at {sts} did not answer GetCallerIdentity in time"
            )),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // The same guard with STS answering: the change waits for it, and goes.
    sb.set("PGSSL_STS_ENDPOINT", &ep);
    let r = sb.run(&enable(&ep, &["--yes"]));
    r.ok();
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (CAM user 100000000002)")),
        "{r:#?}"
    );
    assert_eq!(sb.journal_lines()[0]["account"], ACCOUNT);
}

#[test]
fn the_account_is_kept_a_day_per_credential_and_checked_when_read_back() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    config(&sb, "forbidden_accounts = [\"100000000009\"]\n");
    sb.run(&enable(&ep, &["--dry-run"])).ok();
    assert_eq!(emu.count("GetCallerIdentity"), 1);
    let file = accounts_file(&sb);
    let text = std::fs::read_to_string(&file).expect("accounts.json");
    assert!(text.contains(ACCOUNT), "{text}");
    // Filed under a digest: neither half of the key is in it.
    assert!(!text.contains(&emu.key().secret_id), "{text}");
    assert!(!text.contains(emu.key().secret_key.expose()), "{text}");
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Every command of the day: the account at once, nothing asked.
    for _ in 0..3 {
        let r = sb.run(&show(&ep));
        r.ok();
        assert!(
            r.stderr
                .contains(&format!("account {ACCOUNT} (CAM user 100000000002)")),
            "{r:#?}"
        );
        assert!(!r.stderr.contains(NOT_YET), "{r:#?}");
    }
    // A guard never trusts the kept answer: a guarded change asks STS itself.
    sb.run(&enable(&ep, &["--dry-run"])).ok();
    assert_eq!(emu.count("GetCallerIdentity"), 2);

    // A day old: asked again, even to show it.
    let mut kept: serde_json::Value = serde_json::from_str(&text).expect("json");
    let (key, entry) = kept["accounts"]
        .as_object_mut()
        .and_then(|m| m.iter_mut().next())
        .map(|(k, v)| (k.clone(), v))
        .expect("one entry");
    entry["asked_at"] = serde_json::json!(pgssl_wire::clock::unix_now() - 86_400);
    std::fs::write(&file, kept.to_string()).expect("write");
    sb.run(&show(&ep)).ok();
    assert_eq!(emu.count("GetCallerIdentity"), 3);

    // Planted: an account id that is no uin, control characters in the rest. Not
    // believed: asked again, and the guard sees STS's answer.
    let planted = serde_json::json!({"accounts": {key.clone(): {
        "asked_at": pgssl_wire::clock::unix_now(), "account_id": "100000000009\u{1b}[2J",
        "type": "CAMUser", "arn": "x", "user_id": "y"}}});
    std::fs::write(&file, planted.to_string()).expect("write");
    let r = sb.run(&show(&ep));
    r.ok();
    assert_eq!(emu.count("GetCallerIdentity"), 4);
    assert!(!r.all().contains('\u{1b}'), "{r:#?}");

    // Planted well-formed, naming another account than the forbidden one the key is:
    // shown, but the guard asks STS and refuses the change.
    config(&sb, &format!("forbidden_accounts = [\"{ACCOUNT}\"]\n"));
    let planted = serde_json::json!({"accounts": {key: {
        "asked_at": pgssl_wire::clock::unix_now(), "account_id": "100000000099",
        "type": "CAMUser", "arn": format!("qcs::cam::uin/100000000099:uin/100000000002"),
        "user_id": "100000000002"}}});
    std::fs::write(&file, planted.to_string()).expect("write");
    let r = sb.run(&enable(&ep, &["--yes"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains(ACCOUNT), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert_eq!(emu.count("GetCallerIdentity"), 5);
    config(&sb, "forbidden_accounts = [\"100000000009\"]\n");

    // Another credential (a role assumed with the same keys) is asked for itself.
    let tccli = sb.home().join(".tccli");
    write_private(
        &tccli.join("dba.credential"),
        &serde_json::json!({
            "secretId": emu.key().secret_id, "secretKey": emu.key().secret_key.expose(),
            "role-arn": format!("qcs::cam::uin/{ACCOUNT}:roleName/pgssl-dba"),
            "role-session-name": "night-shift",
        })
        .to_string(),
    );
    let r = sb.run(&enable(&ep, &["--dry-run", "--profile", "dba"]));
    r.ok();
    assert_eq!(emu.count("GetCallerIdentity"), 6);
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (role session night-shift)")),
        "{r:#?}"
    );
    let mut show_as_dba = vec!["--profile", "dba"];
    show_as_dba.extend(show(&ep));
    let r = sb.run(&show_as_dba);
    r.ok();
    assert!(r.stderr.contains("role session night-shift"), "{r:#?}");
    assert_eq!(emu.count("GetCallerIdentity"), 6);
}

#[test]
fn a_loopback_endpoint_takes_sts_from_the_same_place_not_from_tcclis_configure() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::new();
    // Were STS taken from default.configure, the request would go to this closed
    // loopback proxy and fail: it never leaves the machine either way.
    for proxy in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        sb.set(proxy, "http://127.0.0.1:9");
    }
    let tccli = sb.home().join(".tccli");
    write_private(
        &tccli.join("default.credential"),
        &serde_json::json!({"secretId": emu.key().secret_id, "secretKey": emu.key().secret_key.expose()})
            .to_string(),
    );
    // As tccli writes it on first use: every service's public endpoint.
    write_private(
        &tccli.join("default.configure"),
        &serde_json::json!({
            "_sys_param": {"region": GZ, "output": "json", "arrayCount": 10, "warning": "off"},
            "postgres": {"endpoint": "postgres.tencentcloudapi.com", "version": "2017-03-12"},
            "sts": {"endpoint": "sts.tencentcloudapi.com", "version": "2018-08-13"},
        })
        .to_string(),
    );
    config(&sb, "forbidden_accounts = [\"100000000009\"]\n");
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &["--dry-run"]));
    r.ok();
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (CAM user 100000000002)")),
        "{r:#?}"
    );
    assert_eq!(emu.count("GetCallerIdentity"), 1);
    // Set explicitly, STS is where it is said to be, loopback API or not.
    let (_held, sts) = silent_sts();
    sb.set("PGSSL_STS_ENDPOINT", &sts);
    sb.set("PGSSL_STS_TIMEOUT", "0.3");
    sb.set(
        "PGSSL_DATA_DIR",
        &sb.dir.path().join("data2").display().to_string(),
    );
    let r = sb.run(&enable(&ep, &["--dry-run"]));
    r.ok();
    assert!(
        r.stderr.contains(&format!(
            "account unknown (STS at {sts} did not answer GetCallerIdentity in time)"
        )),
        "{r:#?}"
    );
    assert_eq!(emu.count("GetCallerIdentity"), 1);
}
