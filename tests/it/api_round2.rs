//! Issue 20: the real API's remaining shapes. A protected address that is a public domain
//! name, read, shown, audited and planned with; PostgreSQL 10 refused before sending.

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const GZ: &str = "ap-guangzhou";
const PG10: &str = "postgres-m9t4e2xd";
const FRA: &str = "postgres-f4q8z3lu";
const FRA_DOMAIN: &str = "fra-postgres-f4q8z3lu.sql.tencentcdb.com";

fn at(emu: &Emu, region: &str, rest: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--endpoint".to_string(),
        emu.endpoint(),
        "--region".into(),
        region.into(),
    ];
    v.extend(rest.iter().map(|s| (*s).to_string()));
    v
}

fn run(sb: &Sandbox, args: &[String]) -> crate::common::Run {
    sb.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn postgresql_10_is_refused_up_front_everywhere() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    // One instance: refused before anything is sent, with the reason (exit 2).
    let r = run(
        &sb,
        &at(
            &emu,
            GZ,
            &["ssl", "enable", PG10, "--address", "private", "--yes"],
        ),
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("runs PostgreSQL 10.23: SSL needs PostgreSQL 11 or later"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // Disabling is not refused (here it is already off: nothing to send).
    run(&sb, &at(&emu, GZ, &["ssl", "disable", PG10, "--yes"])).ok();
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // `ssl show` says the version and why.
    let show = run(&sb, &at(&emu, GZ, &["ssl", "show", PG10]));
    show.ok();
    assert!(
        show.stdout
            .contains("Version:   PostgreSQL 10.23 (SSL needs PostgreSQL 11 or later)"),
        "{show:#?}"
    );
    let j = run(
        &sb,
        &at(&emu, GZ, &["--output", "json", "ssl", "show", PG10]),
    )
    .json();
    assert_eq!(j["DBVersion"], "10.23");
    // A plan of many lists it as skipped, with why; the others are sent.
    let r = run(
        &sb,
        &at(
            &emu,
            GZ,
            &[
                "--output",
                "json",
                "ssl",
                "enable",
                "--all",
                "--address",
                "private",
                "--dry-run",
            ],
        ),
    );
    r.ok();
    let j = r.json();
    let skipped = j["skipped"].as_array().expect("skipped");
    let pg10 = skipped
        .iter()
        .find(|s| s["DBInstanceId"] == PG10)
        .unwrap_or_else(|| panic!("{PG10} skipped: {j}"));
    assert!(
        pg10.to_string().contains("SSL needs PostgreSQL 11"),
        "{pg10}"
    );
    assert!(
        !j["requests"].to_string().contains(PG10),
        "never among the requests: {j}"
    );
    // The audit says why its SSL is off.
    let r = run(&sb, &at(&emu, GZ, &["audit"]));
    assert!(
        r.stdout.contains(&format!(
            "{PG10} (running) has SSL off and runs PostgreSQL 10.23: SSL needs PostgreSQL 11 or later"
        )),
        "{r:#?}"
    );
}

#[test]
fn a_protected_domain_name_is_read_listed_and_audited() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let fra = "eu-frankfurt";
    // JSON for scripts: the protected address is the name; each address says what
    // `--address KIND` sends for it.
    let j = run(
        &sb,
        &at(&emu, fra, &["--output", "json", "ssl", "show", FRA]),
    )
    .json();
    assert_eq!(j["ConnectAddress"], FRA_DOMAIN);
    let public = j["Addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .find(|a| a["kind"] == "public")
        .cloned()
        .expect("public");
    assert_eq!(public["ConnectAddress"], FRA_DOMAIN);
    assert_eq!(public["Ip"], "192.0.2.44");
    // The fleet's SSL state is read (not "unknown"), in CSV too.
    run(&sb, &at(&emu, fra, &["instances", "import", fra])).ok();
    let r = run(
        &sb,
        &at(
            &emu,
            fra,
            &["--output", "csv", "instances", "list", "--remote", "--ssl"],
        ),
    );
    r.ok();
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with(FRA))
        .unwrap_or_else(|| panic!("{r:#?}"));
    assert!(row.contains(&format!("true,{FRA_DOMAIN},public")), "{row}");
    // The audit reads it: no "unchecked" for it, and SSL counted on.
    let r = run(&sb, &at(&emu, fra, &["--output", "json", "audit"]));
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(!r.stdout.contains("unchecked"), "{r:#?}");
    // Planning with it: asking for the public address again is already as asked.
    let r = run(
        &sb,
        &at(
            &emu,
            fra,
            &["ssl", "enable", FRA, "--address", "public", "--yes"],
        ),
    );
    r.ok();
    assert!(r.stdout.contains("already"), "{r:#?}");
    // Its IP instead is a different certificate: a change (shown, not sent here).
    let r = run(
        &sb,
        &at(
            &emu,
            fra,
            &["ssl", "enable", FRA, "--address", "192.0.2.44", "--dry-run"],
        ),
    );
    r.ok();
    assert!(
        r.stdout.contains("\"ConnectAddress\":\"192.0.2.44\""),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0);
    // A name that is not the instance's: refused before sending.
    let r = run(
        &sb,
        &at(
            &emu,
            fra,
            &[
                "ssl",
                "enable",
                FRA,
                "--address",
                "other.sql.tencentcdb.com",
                "--yes",
            ],
        ),
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line()
            .contains("other.sql.tencentcdb.com is not an address of postgres-f4q8z3lu"),
        "{r:#?}"
    );
}

#[test]
fn a_domain_in_the_api_reply_that_is_junk_is_refused_with_the_request_id() {
    let emu = Emu::start(FaultArgs::default(), 1);
    emu.fleet(|f| {
        let mut s = f.ssl_of(FRA);
        s.ConnectAddress = Some("fra\u{1b}[2J.example.com".into());
        f.ssl.insert(FRA.into(), s);
    });
    let sb = Sandbox::for_emu(&emu);
    let r = run(&sb, &at(&emu, "eu-frankfurt", &["ssl", "show", FRA]));
    assert_eq!(r.code, 1, "{r:#?}");
    let line = r.error_line();
    assert!(
        line.contains("is neither an IP address nor a DNS name") && !line.contains('\u{1b}'),
        "{line}"
    );
}

#[test]
fn a_domain_is_sent_as_the_api_spells_it() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let spelled = "GZ-Postgres-6bwgamo3.SQL.tencentcdb.com.";
    emu.fleet(|f| {
        for i in f
            .instances
            .iter_mut()
            .filter(|i| i.id() == "postgres-6bwgamo3")
        {
            for n in i.DBInstanceNetInfo.iter_mut().flatten() {
                if n.NetType.as_deref() == Some("public") {
                    n.Address = Some(spelled.into());
                }
            }
        }
    });
    let sb = Sandbox::for_emu(&emu);
    let args = at(
        &emu,
        GZ,
        &[
            "ssl",
            "enable",
            "postgres-6bwgamo3",
            "--address",
            "gz-postgres-6bwgamo3.sql.tencentcdb.com",
            "--yes",
            "--wait",
            "--poll",
            "0.2",
        ],
    );
    run(&sb, &args).ok();
    let state = emu.fleet(|f| f.ssl_of("postgres-6bwgamo3"));
    assert_eq!(state.ConnectAddress.as_deref(), Some(spelled));
    // Read back, the same name however spelled: nothing more to do.
    let r = run(&sb, &args);
    r.ok();
    assert!(r.stdout.contains("already"), "{r:#?}");
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
}

#[test]
fn a_public_name_that_is_no_dns_name_is_said_and_its_ip_offered() {
    let emu = Emu::start(FaultArgs::default(), 1);
    emu.fleet(|f| {
        for i in f
            .instances
            .iter_mut()
            .filter(|i| i.id() == "postgres-6bwgamo3")
        {
            for n in i.DBInstanceNetInfo.iter_mut().flatten() {
                if n.NetType.as_deref() == Some("public") {
                    n.Address = Some("localhost".into());
                }
            }
        }
    });
    let sb = Sandbox::for_emu(&emu);
    let r = run(&sb, &at(&emu, GZ, &["ssl", "show", "postgres-6bwgamo3"]));
    r.ok();
    assert!(
        r.stdout.contains(
            "unusable: public 'localhost' is not a DNS name: its IP 203.0.113.17 is what `public` means"
        ),
        "{r:#?}"
    );
}

#[test]
fn no_region_is_read_in_while_one_of_them_is_refused() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let config = sb.config_file();
    std::fs::create_dir_all(config.parent().expect("dir")).expect("dir");
    std::fs::write(&config, "regions = [\"ap-guangzhou\", \"na-toronto\"]\n").expect("config");
    for args in [
        vec!["instances", "list", "--remote"],
        vec!["instances", "import"],
        vec!["ssl", "show", "--all"],
        vec!["audit"],
    ] {
        let mut v = vec!["--endpoint", ep.as_str()];
        v.extend(args.iter().copied());
        let r = sb.run(&v);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.error_line().contains("na-toronto"), "{r:#?}");
    }
    assert_eq!(emu.count("DescribeDBInstances"), 0);
}

#[test]
fn an_address_map_matches_names_as_dns_does() {
    let reach = pgssl::ops::Reach {
        map: vec![(
            "gz-postgres-6bwgamo3.sql.tencentcdb.com".into(),
            "127.0.0.1:15432".parse().expect("addr"),
        )],
        loopback_only: true,
    };
    for asked in [
        "gz-postgres-6bwgamo3.sql.tencentcdb.com",
        "GZ-POSTGRES-6bwgamo3.sql.tencentcdb.com.",
    ] {
        assert_eq!(
            reach.via_for(asked),
            Some("127.0.0.1:15432".parse().expect("addr")),
            "{asked}"
        );
    }
    assert_eq!(reach.via_for("other.sql.tencentcdb.com"), None);
}
