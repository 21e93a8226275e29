//! The fleet at a glance (issue 14, item 1, the CLI's part): every instance of the
//! regions with its SSL state, read under the API's rate ceiling, kept in the inventory.

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;
use serde_json::Value;

/// The emulator with the demo fleet, a sandbox holding its key, and its endpoint.
fn fleet() -> (Emu, Sandbox, String) {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    (emu, sb, ep)
}

fn rate_limited(emu: &Emu) -> usize {
    emu.refused("RequestLimitExceeded")
}

#[test]
fn ssl_show_all_counts_on_off_unknown_and_keeps_what_it_read() {
    let (emu, sb, ep) = fleet();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "ssl",
        "show",
        "--all",
    ]);
    r.ok();
    assert!(
        r.stderr
            .contains("6 instances in ap-guangzhou: SSL on 1, off 4, unknown 1"),
        "{r:#?}"
    );
    assert!(
        r.stderr.contains("SSL state 6/6"),
        "progress is said: {r:#?}"
    );
    assert!(
        r.stdout.contains("postgres-5gevh7gr") && r.stdout.contains("on 10.6.1.21"),
        "{r:#?}"
    );
    // Kept, with when it was read: the saved list shows it without asking again.
    let inventory =
        std::fs::read_to_string(sb.dir.path().join("data/inventory.json")).expect("inventory");
    assert!(inventory.contains("pgro-ro4m7c2z") && inventory.contains("read_at"));
    // JSON: one object per instance, SSLEnabled null where the API would not say (isolated).
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "--output",
        "json",
        "ssl",
        "show",
        "--all",
    ]);
    r.ok();
    let list: Vec<Value> = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(list.len(), 6);
    let ssl = |id: &str| {
        list.iter()
            .find(|i| i["DBInstanceId"] == id)
            .map(|i| i["SSLEnabled"].clone())
            .expect(id)
    };
    assert_eq!(ssl("postgres-5gevh7gr"), Value::Bool(true));
    assert_eq!(ssl("postgres-6bwgamo3"), Value::Bool(false));
    assert_eq!(ssl("postgres-k3j9w2qa"), Value::Null);
    assert_eq!(rate_limited(&emu), 0);
}

#[test]
fn the_whole_demo_fleet_is_read_without_one_request_over_the_ceiling() {
    let (emu, sb, ep) = fleet();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-singapore",
        "instances",
        "list",
        "--remote",
        "--ssl",
    ]);
    r.ok();
    assert!(
        r.stderr
            .contains("141 instances in ap-singapore: SSL on 0, off 141, unknown 0"),
        "{r:#?}"
    );
    assert_eq!(emu.count("DescribeDBInstanceSSLConfig"), 141);
    assert_eq!(rate_limited(&emu), 0, "the client keeps under 20 a second");
}

#[test]
fn ssl_show_wants_an_instance_or_all_and_ssl_wants_remote() {
    let sb = Sandbox::new();
    let r = sb.run(&["ssl", "show"]);
    assert_eq!(r.code, 2, "{r:#?}");
    let r = sb.run(&["ssl", "show", "postgres-6bwgamo3", "--all"]);
    assert_eq!(r.code, 2, "{r:#?}");
    let r = sb.run(&["instances", "list", "--ssl"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.contains("--remote"), "{r:#?}");
}

#[test]
fn csv_for_lists_one_row_each_and_refused_elsewhere() {
    // The emulator stays up while the binding lives.
    let (_emu, sb, ep) = fleet();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "--output",
        "csv",
        "ssl",
        "show",
        "--all",
    ]);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "DBInstanceId,Region,DBInstanceName,DBInstanceType,DBInstanceStatus,SSLEnabled,ConnectAddress,protected_kind,read_at"
    );
    assert_eq!(lines.len(), 7, "{r:#?}");
    let billing = lines
        .iter()
        .find(|l| l.starts_with("postgres-5gevh7gr,"))
        .expect("billing");
    assert!(
        billing.contains(",primary,running,true,10.6.1.21,private,"),
        "{billing}"
    );
    let isolated = lines
        .iter()
        .find(|l| l.starts_with("postgres-k3j9w2qa,"))
        .expect("isolated");
    assert!(
        isolated.contains(",isolated,,,,"),
        "unknown is empty: {isolated}"
    );
    // Not a list: refused before anything is asked.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--output",
        "csv",
        "task",
        "show",
        "100017",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("--output csv is for lists"),
        "{r:#?}"
    );
}

#[test]
fn audit_exits_1_on_findings_0_when_compliant_with_json_and_csv() {
    let (emu, sb, ep) = fleet();
    // ap-guangzhou: SSL off on three, so findings: exit 1, most severe first.
    let r = sb.run(&["--endpoint", &ep, "--region", "ap-guangzhou", "audit"]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains(
            "audit of 6 instances in ap-guangzhou: SSL on 1, off 4, unknown 1; 4 finding(s)"
        ),
        "{r:#?}"
    );
    // Findings first, then the instance whose SSL state is not known, named.
    assert!(
        r.stdout
            .lines()
            .all(|l| l.starts_with("high") || l.contains("ssl_unknown")),
        "{r:#?}"
    );
    assert!(r.stdout.contains("postgres-k3j9w2qa"), "{r:#?}");
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "--output",
        "json",
        "audit",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(v["instances"], 6);
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["findings"][0]["kind"], "ssl_off");
    // eu-frankfurt: its one instance has SSL on and a CA far from expiry: compliant.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "eu-frankfurt",
        "--output",
        "csv",
        "audit",
    ]);
    assert_eq!(r.code, 0, "{r:#?}");
    // Every instance a row, compliant ones too.
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{r:#?}");
    assert!(lines[0].starts_with("DBInstanceId,"), "{r:#?}");
    assert!(lines[1].contains(",on,"), "{r:#?}");
    assert!(emu.count("DescribeDBInstanceSSLConfig") >= 11);
    assert_eq!(rate_limited(&emu), 0);
}

#[test]
fn audit_exits_3_when_something_could_not_be_checked() {
    let emu = Emu::start(
        FaultArgs {
            fail_with: Some("InternalError".into()),
            fault_actions: vec!["DescribeDBInstanceSSLConfig".into()],
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&["--endpoint", &ep, "--region", "eu-frankfurt", "audit"]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(r.stdout.contains("unchecked"), "{r:#?}");
}

#[test]
fn audit_verify_checks_live_and_an_unreachable_address_is_unchecked() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let mut sb = Sandbox::for_emu(&emu);
    // eu-accounts protects 192.0.2.44: the check is sent to a closed loopback port
    // instead, never to that address.
    sb.set("PGSSL_ADDRESS_MAP", "192.0.2.44=127.0.0.1:9");
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "eu-frankfurt",
        "audit",
        "--verify",
    ]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.stdout.contains("unchecked")
            && r.stdout
                .contains("fra-postgres-f4q8z3lu.sql.tencentcdb.com"),
        "{r:#?}"
    );
}

/// A one-shot server on loopback: reads a startup packet, answers `reply`, records what
/// it was sent.
fn fake_postgres(reply: Vec<u8>) -> (std::net::SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut len = [0u8; 4];
        s.read_exact(&mut len).expect("len");
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
        s.read_exact(&mut body).expect("body");
        s.write_all(&reply).expect("reply");
        // Whatever else the client sends (it must send nothing more) is kept.
        let mut rest = Vec::new();
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let _ = s.read_to_end(&mut rest);
        let mut all = body;
        all.extend(rest);
        all
    });
    (addr, t)
}

#[test]
fn the_plaintext_probe_reads_one_answer_and_never_sends_a_password() {
    use pgssl::probe::{Plaintext, Target, Timeouts, plaintext};
    let rt = tokio::runtime::Runtime::new().expect("rt");
    // An authentication request (cleartext password asked): plaintext is open.
    let (addr, server) = fake_postgres(vec![b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
    let target = Target {
        address: "10.6.0.4".into(),
        port: 5432,
        via: Some(addr),
    };
    let got = rt.block_on(plaintext(&target, "dba", Timeouts::default()));
    assert!(matches!(got, Plaintext::Accepted(_)), "{got:?}");
    let sent = server.join().expect("server");
    let text = String::from_utf8_lossy(&sent);
    assert!(text.contains("user\0dba\0"), "{text:?}");
    assert!(
        text.ends_with("database\0postgres\0\0"),
        "the startup packet and nothing after it (no PasswordMessage): {text:?}"
    );
    // pg_hba refusing plaintext: an ErrorResponse.
    let mut err = vec![b'E'];
    let fields = b"SFATAL\0C28000\0Mno pg_hba.conf entry for host \"127.0.0.1\", user \"dba\", no encryption\0\0";
    err.extend_from_slice(&u32::try_from(fields.len() + 4).expect("len").to_be_bytes());
    err.extend_from_slice(fields);
    let (addr, server) = fake_postgres(err);
    let target = Target {
        via: Some(addr),
        ..target
    };
    let got = rt.block_on(plaintext(&target, "dba", Timeouts::default()));
    assert!(
        matches!(&got, Plaintext::Refused(m) if m.contains("no encryption")),
        "{got:?}"
    );
    let _ = server.join();
}
