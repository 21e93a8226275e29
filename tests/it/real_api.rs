//! Issue 11: the real API's shapes, as the official SDK and its examples show them, and a
//! demo that never leaves this machine.

use crate::common;

use crate::common::Sandbox;

#[test]
fn the_demo_never_connects_outside_this_machine() {
    let sb = Sandbox::new();
    // SSL is on for billing in the demo fleet, protecting a private address no local
    // server stands in for: refused in one line, nothing dialled.
    let r = sb.run(&["--demo", "verify", "postgres-5gevh7gr"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("the demo has no server at 10.6.1.21"),
        "{r:#?}"
    );
    // Its public addresses are documentation addresses (RFC 5737), never someone's network.
    let show = sb.run(&["--demo", "ssl", "show", "postgres-6bwgamo3"]);
    show.ok();
    assert!(show.stdout.contains("203.0.113.17"), "{show:#?}");
}

mod emu {
    pub use super::common::Emu;
}

use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";

#[test]
fn with_ssl_off_there_is_no_ca_yet_and_pgssl_says_so() {
    let emu = emu::Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // The API's own answer, as official example 2 shows it: empty strings, not absent.
    let show = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "--output",
        "json",
        "ssl",
        "show",
        "postgres-6bwgamo3",
    ]);
    show.ok();
    let j = show.json();
    assert_eq!(j["SSLEnabled"], false);
    assert!(j["CAUrl"].is_null() && j["ConnectAddress"].is_null(), "{j}");
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "ca",
        "postgres-6bwgamo3",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("has SSL off, so it has no CA until SSL is on"),
        "{r:#?}"
    );
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "verify",
        "postgres-6bwgamo3",
        "--address",
        "127.0.0.1:1",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("has SSL off, so it has no CA to check against"),
        "{r:#?}"
    );
}

#[test]
fn an_instance_the_api_will_not_read_is_not_now_not_a_failure() {
    let emu = emu::Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // postgres-k3j9w2qa is isolated in the demo fleet: DescribeDBInstanceSSLConfig refuses
    // with OperationDenied.InstanceStatusLimitError, as the SDK lists for that action.
    let show = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "show",
        "postgres-k3j9w2qa",
    ]);
    show.ok();
    assert!(
        show.stdout.contains("not now, the instance is 'isolated'"),
        "{show:#?}"
    );
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "disable",
        "postgres-k3j9w2qa",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("'isolated', not running"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

/// A change journaled as sent `ago` seconds ago whose reply never came.
fn unanswered(sb: &Sandbox, instance: &str, enable: bool, ago: i64) {
    let sent = time::OffsetDateTime::now_utc() - time::Duration::seconds(ago);
    let sent = sent
        .replace_nanosecond(0)
        .expect("whole seconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let record = serde_json::json!({
        "kind": "request", "id": "lost-1", "time": sent, "source": "env",
        "SecretId": "AKID****abcd", "endpoint": "http://127.0.0.1:1", "region": GZ,
        "action": "ModifyDBInstanceSSLConfig", "DBInstanceId": instance, "SSLEnabled": enable,
    });
    std::fs::create_dir_all(sb.journal_file().parent().expect("dir")).expect("dir");
    std::fs::write(sb.journal_file(), format!("{record}\n")).expect("journal");
}

#[test]
fn a_task_of_another_operation_is_not_the_ssl_change() {
    let emu = emu::Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // postgres-5gevh7gr has a RestoreDatabase task running (demo fleet), and SSL on. A
    // disable sent 10 minutes ago never answered; the next change checks it first.
    unanswered(&sb, "postgres-5gevh7gr", false, 600);
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "disable",
        "postgres-5gevh7gr",
        "--yes",
    ]);
    // SSL is on as before: the lost disable did not happen (the restore is not it), and it
    // was sent long enough ago to be sure: the new change is sent.
    r.ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let check = sb
        .journal_lines()
        .into_iter()
        .find(|l| l["kind"] == "check")
        .expect("the lost change was checked");
    assert_eq!(check["result"], "not_applied", "{check}");
    let detail = check["detail"].as_str().expect("detail");
    assert!(
        detail.contains("RestoreDatabase") && detail.contains("not the SSL change"),
        "{detail}"
    );
}

#[test]
fn a_task_of_unknown_type_begun_when_the_change_was_sent_counts_and_says_so() {
    let emu = emu::Emu::start(FaultArgs::default(), 1);
    let now = pgssl_wire::clock::unix_now();
    emu.fleet(|f| {
        f.tasks.push(pgssl_emulator::fleet::Task {
            id: 4242,
            instance_id: "postgres-6bwgamo3".into(),
            region: GZ.into(),
            task_type: "SomethingNew".into(),
            started: now,
            listed_from: now,
            duration: 0,
            target: None,
            end: pgssl_emulator::TaskEnd::Success,
            finished: None,
            given: Some(pgssl_wire::models::TaskSet {
                TaskId: Some(4242),
                TaskType: Some("SomethingNew".into()),
                DBInstanceId: Some("postgres-6bwgamo3".into()),
                StartTime: Some(pgssl_emulator::fleet::fmt_time(now)),
                EndTime: Some(String::new()),
                Status: Some("Running".into()),
                Progress: Some(10),
                TaskDetail: None,
            }),
        });
    });
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    unanswered(&sb, "postgres-6bwgamo3", true, 5);
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        "postgres-6bwgamo3",
        "--address",
        "private",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    let line = r.error_line();
    assert!(line.contains("task 4242 (SomethingNew, started"), "{line}");
    assert!(
        line.contains("cannot tell it apart from the change"),
        "{line}"
    );
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        0,
        "nothing was sent"
    );
}

#[test]
fn task_times_are_beijing_time_and_a_task_not_listed_yet_is_said_so() {
    let emu = emu::Emu::start(
        FaultArgs {
            task_listed_after: 2,
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        "postgres-6bwgamo3",
        "--address",
        "private",
        "--yes",
    ]);
    r.ok();
    // Right after the change, the API does not list its task yet.
    let r = sb.run(&["--endpoint", &ep, "task", "show", "100017"]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(r.error_line().contains("is not listed yet"), "{r:#?}");
    // Waiting sees it appear and end; its times are the API's Beijing times, said so.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "task",
        "show",
        "100017",
        "--wait",
        "--poll",
        "0.2",
    ]);
    r.ok();
    assert!(
        r.stdout.contains("Success 100%") && r.stdout.contains("(UTC+8)"),
        "{r:#?}"
    );
    let started = r
        .stdout
        .split("started ")
        .nth(1)
        .expect("started")
        .get(..19)
        .expect("time");
    let unix = pgssl_wire::clock::beijing_to_unix(started).expect("a Beijing time");
    let now = pgssl_wire::clock::unix_now();
    assert!(
        (now - unix).abs() < 120,
        "{started} is Beijing time for now"
    );
}

#[test]
fn every_task_status_the_api_has_is_followed_to_its_end() {
    for (status, end, code, said) in [
        (
            Some(pgssl_emulator::TaskEnd::Pause),
            "Pause",
            1,
            "ended Pause",
        ),
        (None, "Fail", 1, "ended Fail"),
    ] {
        let emu = emu::Emu::start(
            FaultArgs {
                task_status: status,
                task_fail: status.is_none(),
                ..FaultArgs::default()
            },
            1,
        );
        let sb = Sandbox::for_emu(&emu);
        let ep = emu.endpoint();
        let r = sb.run(&[
            "--endpoint",
            &ep,
            "--region",
            GZ,
            "ssl",
            "enable",
            "postgres-6bwgamo3",
            "--address",
            "private",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ]);
        assert_eq!(r.code, code, "{end}: {r:#?}");
        assert!(r.error_line().contains(said), "{end}: {r:#?}");
    }
    // WaitSwitch is not an end: waiting goes on until --timeout, and says so.
    let emu = emu::Emu::start(
        FaultArgs {
            task_status: Some(pgssl_emulator::TaskEnd::WaitSwitch),
            ..FaultArgs::default()
        },
        1,
    );
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        "postgres-6bwgamo3",
        "--address",
        "private",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
        "--timeout",
        "3",
    ]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(r.error_line().contains("last status WaitSwitch"), "{r:#?}");
    assert!(
        r.stderr.contains("WaitSwitch 99% (Wait Switch)"),
        "the current step is shown: {r:#?}"
    );
}

#[test]
fn network_entries_as_they_really_come() {
    let emu = emu::Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    // A primary without public access still lists a public network: no IP, 'initing'.
    let show = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "show",
        "postgres-5gevh7gr",
    ]);
    show.ok();
    assert!(
        show.stdout
            .contains("unusable: public: no IP yet, the network is 'initing'"),
        "{show:#?}"
    );
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        GZ,
        "ssl",
        "enable",
        "postgres-5gevh7gr",
        "--address",
        "public",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("has no public address"), "{r:#?}");
    // An instance that numbers its network status ('2' is opened, as the SDK numbers its
    // list); its SSL protects its public domain name, which also has an IP: verify-full
    // needs the name.
    let show = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "eu-frankfurt",
        "ssl",
        "show",
        "postgres-f4q8z3lu",
    ]);
    show.ok();
    assert!(
        !show.stdout.contains("not offered"),
        "'2' is opened: {show:#?}"
    );
    assert!(
        show.stdout.contains(
            "public   fra-postgres-f4q8z3lu.sql.tencentcdb.com:5432  ip 192.0.2.44  <- protected by SSL"
        ),
        "{show:#?}"
    );
    assert!(
        show.stdout.contains(
            "clients using sslmode=verify-full must connect to fra-postgres-f4q8z3lu.sql.tencentcdb.com, not to 192.0.2.44"
        ),
        "{show:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
}

#[test]
fn regions_are_what_describe_regions_says() {
    // The emulator lists, as tccli's example does, regions beyond the documented 18: one
    // newer that serves SSL (me-saudi-arabia), one UNAVAILABLE (na-toronto), and the
    // fleet's ap-mumbai, sold without the SSL API.
    let fleet = pgssl_emulator::Fleet::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/fleet-mumbai.json"
    )))
    .expect("fleet");
    let emu = emu::Emu::start_with(fleet, FaultArgs::default(), 1, None);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let show = |region: &str, id: &str| {
        sb.run(&["--endpoint", &ep, "--region", region, "ssl", "show", id])
    };

    // Listed and AVAILABLE: sent to, no warning; the API's own answer is shown clearly.
    let r = show("ap-mumbai", "postgres-mum1a2b3");
    assert!(!r.stderr.contains("warning"), "{r:#?}");
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("UnsupportedRegion"), "{r:#?}");
    assert_eq!(emu.count("DescribeRegions"), 1);
    // What DescribeRegions listed is kept: the next command does not ask again.
    show("ap-mumbai", "postgres-mum1a2b3");
    assert_eq!(emu.count("DescribeRegions"), 1);

    // UNAVAILABLE: refused with that reason, before anything is read or sent there.
    let before = emu.served().len();
    let r = show("na-toronto", "postgres-mum1a2b3");
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("region 'na-toronto' is UNAVAILABLE (DescribeRegions)"),
        "{r:#?}"
    );
    // Refused from the kept answer, so asked once more (a region may come back), and
    // nothing else.
    let asked: Vec<_> = emu.served()[before..]
        .iter()
        .map(|s| s.action.map_or("?", |a| a.name()))
        .collect();
    assert_eq!(asked, ["DescribeRegions"], "{asked:?}");
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "na-toronto",
        "ssl",
        "enable",
        "postgres-mum1a2b3",
        "--address",
        "private",
        "--yes",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    let r = sb.run(&["--endpoint", &ep, "regions", "add", "na-toronto"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("UNAVAILABLE"), "{r:#?}");

    // A region newer than the documented 18 is a region like any other.
    let r = sb.run(&["--endpoint", &ep, "regions", "add", "me-saudi-arabia"]);
    r.ok();
    assert!(r.stdout.contains("me-saudi-arabia"), "{r:#?}");
    // Not listed at all: refused, nothing read there.
    let r = sb.run(&["--endpoint", &ep, "regions", "add", "ap-atlantis"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("'ap-atlantis' is not a region DescribeRegions lists"),
        "{r:#?}"
    );

    // The whole list, with states and where it came from.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--output",
        "json",
        "regions",
        "list",
        "--all",
    ]);
    r.ok();
    let j = r.json();
    assert_eq!(j["origin"]["from"], "listed");
    let state = |name: &str| {
        j["regions"]
            .as_array()
            .expect("regions")
            .iter()
            .find(|r| r["Region"] == name)
            .map(|r| r["RegionState"].clone())
    };
    assert_eq!(state("na-toronto"), Some("UNAVAILABLE".into()));
    assert_eq!(state("me-saudi-arabia"), Some("AVAILABLE".into()));
    assert_eq!(state("ap-guangzhou"), Some("AVAILABLE".into()));
    let text = sb.run(&["--endpoint", &ep, "regions", "list", "--remote"]);
    text.ok();
    assert!(
        text.stdout
            .lines()
            .any(|l| l.contains("na-toronto") && l.contains("UNAVAILABLE: not sent to")),
        "{text:#?}"
    );
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("* me-saudi-arabia")),
        "kept regions are marked: {text:#?}"
    );
}

#[test]
fn offline_the_documented_18_decide_and_say_so() {
    // No API to ask (nothing listens there) and no credential: `regions add` checks
    // against the 18 documented SSL regions and says why.
    let sb = Sandbox::new();
    let r = sb.run(&["regions", "add", "ap-jakarta"]);
    r.ok();
    let r = sb.run(&["regions", "add", "me-saudi-arabia"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("not one of the 18 regions documented for the SSL actions"),
        "{r:#?}"
    );
}

/// A CONNECT proxy on loopback: tunnels to 127.0.0.1 whatever host it is asked for, and
/// remembers what it was asked.
fn connect_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    crate::common::loopback_proxy(|first, client, mut reader| {
        let Some(target) = first.split_whitespace().nth(1) else {
            return;
        };
        let port = target.rsplit(':').next().unwrap_or("443");
        let Ok(upstream) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) else {
            return;
        };
        let mut client = client;
        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let (mut c2, mut u2) = (
            client.try_clone().expect("clone"),
            upstream.try_clone().expect("clone"),
        );
        let mut upstream = upstream;
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut u2, &mut c2);
        });
        let _ = std::io::copy(&mut reader, &mut upstream);
    })
}

#[test]
fn the_https_path_rustls_roots_sni_and_connect() {
    let emu = emu::Emu::start_tls();
    let port = emu.running.addr.port();
    let mut sb = Sandbox::for_emu(&emu);
    let ca = sb.dir.path().join("api-ca.pem");
    std::fs::write(&ca, emu.running.api_ca_pem.as_deref().expect("tls")).expect("ca");
    // Not trusted: refused before anything is sent, and said as such.
    let https = format!("https://127.0.0.1:{port}");
    let r = sb.run(&[
        "--endpoint",
        &https,
        "--region",
        GZ,
        "ssl",
        "show",
        "postgres-6bwgamo3",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.error_line().contains("was not sent"), "{r:#?}");
    assert_eq!(emu.total(), 0, "nothing reached the API");
    // Trusted through the standard SSL_CERT_FILE: by IP, and by name (SNI).
    sb.set("SSL_CERT_FILE", ca.to_str().expect("utf-8"));
    for host in ["127.0.0.1", "localhost"] {
        let endpoint = format!("https://{host}:{port}");
        sb.run(&[
            "--endpoint",
            &endpoint,
            "--region",
            GZ,
            "ssl",
            "show",
            "postgres-6bwgamo3",
        ])
        .ok();
    }
    // A change and its CA download go over https too.
    sb.run(&[
        "--endpoint",
        &https,
        "--region",
        GZ,
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
    .ok();
    sb.run(&[
        "--endpoint",
        &https,
        "--region",
        GZ,
        "ssl",
        "ca",
        "postgres-6bwgamo3",
    ])
    .ok();
    // A name that is not loopback goes through HTTPS_PROXY, as a CONNECT tunnel; the
    // proxy sees the host, never the request.
    let (proxy, asked) = connect_proxy();
    sb.set("HTTPS_PROXY", &proxy);
    let named = format!("https://pgssl-emulator.invalid:{port}");
    sb.run(&[
        "--endpoint",
        &named,
        "--region",
        GZ,
        "ssl",
        "show",
        "postgres-5gevh7gr",
    ])
    .ok();
    let asked = asked.lock().expect("asked").clone();
    // (`ssl show` reads the instance and its SSL state together: one tunnel each.)
    assert!(!asked.is_empty(), "the proxy was used");
    let want = format!("CONNECT pgssl-emulator.invalid:{port} HTTP/1.1");
    assert!(asked.iter().all(|a| *a == want), "{asked:?}");
}
