//! Who pgssl acts as, from the command line: the source and account on the banner, the
//! CVM role and tccli profiles as tccli reads them, and the guards in config.toml refusing
//! a change with nothing sent.

use crate::common::{Emu, Sandbox, write_private};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PRIMARY: &str = "postgres-6bwgamo3";
const ACCOUNT: &str = "100000000001";

fn enable<'a>(ep: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--endpoint", ep, "--region", GZ];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["ssl", "enable", PRIMARY, "--address", "private", "--yes"]);
    v
}

fn config(sb: &Sandbox, text: &str) {
    write_private(&sb.config_file(), text);
}

/// A guard that never matches the emulator's account: a change then waits for the
/// account (and says it), which a change without guards does not.
const WAIT_FOR_ACCOUNT: &str = "forbidden_accounts = [\"100000000009\"]\n";

/// `ssl enable --dry-run` under `WAIT_FOR_ACCOUNT`: it ends once the account is known.
fn dry_run_waiting_for_account(sb: &Sandbox, ep: &str) -> crate::common::Run {
    config(sb, WAIT_FOR_ACCOUNT);
    let mut dry = enable(ep, &[]);
    dry.push("--dry-run");
    let r = sb.run(&dry);
    r.ok();
    r
}

#[test]
fn the_banner_names_the_source_the_masked_key_and_the_account() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = dry_run_waiting_for_account(&sb, &ep);
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (CAM user 100000000002)")),
        "{r:#?}"
    );
    // Kept for the day: the next command says it at once and asks STS nothing.
    config(&sb, "");
    let r = sb.run(&["--endpoint", &ep, "--region", GZ, "ssl", "show", PRIMARY]);
    r.ok();
    assert_eq!(emu.count("GetCallerIdentity"), 1);
    assert!(
        r.stderr.contains("using credentials from environment"),
        "{r:#?}"
    );
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (CAM user 100000000002)")),
        "{r:#?}"
    );
    assert!(!r.all().contains(emu.key().secret_key.expose()));
    assert!(!r.all().contains(&emu.key().secret_id));
    // STS refusing the question is said, and the command carries on.
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("UnauthorizedOperation".into()),
            fault_actions: vec!["GetCallerIdentity".into()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = dry_run_waiting_for_account(&sb, &ep);
    assert!(
        r.stderr
            .contains("account unknown (GetCallerIdentity refused: UnauthorizedOperation)"),
        "{r:#?}"
    );
}

#[test]
fn a_bastion_with_a_cvm_role_needs_no_keys() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::new();
    sb.set("PGSSL_METADATA_ENDPOINT", &emu.endpoint());
    config(&sb, WAIT_FOR_ACCOUNT);
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &[]));
    r.ok();
    assert!(
        r.stderr
            .contains("using credentials from CVM instance role"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("(temporary, until "), "{r:#?}");
    assert!(
        r.stderr
            .contains(&format!("account {ACCOUNT} (role session ")),
        "{r:#?}"
    );
    // The journal says which source and which account made the change.
    let lines = sb.journal_lines();
    assert_eq!(lines[0]["source"], "cvm-role");
    assert_eq!(lines[0]["account"], ACCOUNT);
    assert!(
        emu.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("GET /latest/meta-data/cam/security-credentials/pgssl-bastion 200"))
    );
}

#[test]
fn use_cvm_role_wins_over_keys_in_the_environment_as_in_tccli() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_METADATA_ENDPOINT", &emu.endpoint());
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &["--use-cvm-role"]));
    r.ok();
    assert!(
        r.stderr
            .contains("using credentials from CVM instance role"),
        "{r:#?}"
    );
    assert_eq!(sb.journal_lines()[0]["source"], "cvm-role");
    // Without the flag the same shell signs with its keys.
    let r = sb.run(&["--endpoint", &ep, "--region", GZ, "ssl", "show", PRIMARY]);
    r.ok();
    assert!(
        r.stderr.contains("using credentials from environment"),
        "{r:#?}"
    );
}

#[test]
fn a_tccli_profile_with_role_arn_acts_as_the_role_not_as_its_keys() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::new();
    let tccli = sb.home().join(".tccli");
    write_private(
        &tccli.join("dba.credential"),
        &serde_json::json!({
            "secretId": emu.key().secret_id,
            "secretKey": emu.key().secret_key.expose(),
            "role-arn": format!("qcs::cam::uin/{ACCOUNT}:roleName/pgssl-dba"),
            "role-session-name": "night-shift",
        })
        .to_string(),
    );
    write_private(
        &tccli.join("dba.configure"),
        &serde_json::json!({"_sys_param": {"region": GZ}, "sts": {"endpoint": emu.endpoint()}})
            .to_string(),
    );
    config(&sb, WAIT_FOR_ACCOUNT);
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &["--profile", "dba"]));
    r.ok();
    assert!(
        r.stderr.contains(&format!(
            "using credentials from role qcs::cam::uin/{ACCOUNT}:roleName/pgssl-dba assumed with tccli profile 'dba'"
        )),
        "{r:#?}"
    );
    assert!(r.stderr.contains("session night-shift"), "{r:#?}");
    assert_eq!(emu.count("AssumeRole"), 1);
    let lines = sb.journal_lines();
    assert_eq!(lines[0]["profile"], "dba");
    assert_eq!(lines[0]["account"], ACCOUNT);
    assert!(
        lines[0]["source"]
            .as_str()
            .is_some_and(|s| s
                .starts_with("role:qcs::cam::uin/100000000001:roleName/pgssl-dba via profile:dba")),
        "{lines:?}"
    );
    // The role's key signed the change, not the profile's keys.
    assert_ne!(
        lines[0]["SecretId"].as_str(),
        Some(pgssl_wire::credential::mask_secret_id(&emu.key().secret_id).as_str())
    );
}

#[test]
fn an_expired_sso_login_says_to_log_in_again_and_sends_nothing() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::new();
    write_private(
        &sb.home().join(".tccli/corp.credential"),
        &serde_json::json!({
            "type": "sso", "secretId": emu.key().secret_id, "secretKey": emu.key().secret_key.expose(),
            "token": "t", "expiresAt": pgssl_wire::clock::unix_now() - 60,
        })
        .to_string(),
    );
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &["--profile", "corp"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("run `tccli sso login --profile corp`"),
        "{r:#?}"
    );
    assert_eq!(r.stderr.lines().count(), 1, "one line: {r:#?}");
    assert_eq!(emu.total(), 0, "nothing was sent");
}

#[test]
fn guards_refuse_a_change_to_an_account_not_allowed_with_nothing_sent() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    config(&sb, "allowed_accounts = [\"200000000002\"]\n");
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = enable(&ep, &[]);
        args.extend_from_slice(extra);
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{r:#?}");
        assert!(
            r.error_line().contains(&format!(
                "account {ACCOUNT} is not in config.toml's allowed_accounts: use a credential"
            )) && r.error_line().ends_with("; nothing was sent"),
            "{r:#?}"
        );
    }
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    assert!(sb.journal_lines().is_empty(), "nothing journaled");

    // Allowed: it goes.
    config(&sb, &format!("allowed_accounts = [\"{ACCOUNT}\"]\n"));
    sb.run(&enable(&ep, &[])).ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}

#[test]
fn a_profiles_forbidden_account_and_readonly_flag_apply_to_that_profile_only() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::new();
    for name in ["prod", "ops"] {
        write_private(
            &sb.home().join(format!(".tccli/{name}.credential")),
            &serde_json::json!({"secretId": emu.key().secret_id, "secretKey": emu.key().secret_key.expose()})
                .to_string(),
        );
    }
    config(
        &sb,
        &format!(
            "[profiles.prod]\nforbidden_accounts = [\"{ACCOUNT}\"]\n\n[profiles.ops]\nreadonly = true\n"
        ),
    );
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &["--profile", "prod"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains(&format!(
            "account {ACCOUNT} is forbidden by config.toml ([profiles.prod] forbidden_accounts)"
        )),
        "{r:#?}"
    );
    let r = sb.run(&enable(&ep, &["--profile", "ops"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("profile 'ops' is read-only"),
        "{r:#?}"
    );
    // A read-only profile still shows what it would send.
    let mut dry = enable(&ep, &["--profile", "ops"]);
    dry.push("--dry-run");
    sb.run(&dry).ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn allowed_accounts_fail_closed_when_the_account_cannot_be_told() {
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("InternalError.GetSeedTokenError".into()),
            fault_actions: vec!["GetCallerIdentity".into()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    config(&sb, &format!("allowed_accounts = [\"{ACCOUNT}\"]\n"));
    let ep = emu.endpoint();
    let r = sb.run(&enable(&ep, &[]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("fail closed"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // Only forbidden_accounts: an unknown account is not refused (it cannot be matched).
    config(&sb, "forbidden_accounts = [\"300000000003\"]\n");
    sb.run(&enable(&ep, &[])).ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}

#[test]
fn bad_guards_in_config_are_one_line_with_the_line_number() {
    let sb = Sandbox::new();
    for (text, needle) in [
        ("allowed_accounts = [\"acct-1\"]\n", "is not an account id"),
        (
            "allowed_accounts = [\"1\"]\nforbidden_accounts = [\"2\"]\n",
            "keep one",
        ),
        (
            "[profiles.\"../x\"]\nreadonly = true\n",
            "not a tccli profile name",
        ),
        ("[profiles.prod]\nreadonly = \"yes\"\n", "line 2"),
        ("[profiles.prod]\nprotect = true\n", "unknown field"),
    ] {
        config(&sb, text);
        let r = sb.run(&["log"]);
        assert_eq!(r.code, 2, "{text}: {r:#?}");
        assert!(r.error_line().contains(needle), "{text}: {r:#?}");
    }
}
