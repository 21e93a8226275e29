//! `pgssl ssl ca` and `pgssl verify` end to end: the emulator serves the CA and points an
//! instance's addresses at a real local PostgreSQL whose certificate follows SSL changes.

use crate::common;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const ID: &str = "postgres-6bwgamo3";

#[test]
fn ca_enable_wait_verify_and_the_verdicts() {
    if !common::pg_available() {
        return;
    }
    let emu = Emu::start(FaultArgs::default(), 1);
    let map = emu.attach_pg(ID);
    let mut sb = Sandbox::for_emu(&emu);
    sb.set("PGSSL_ADDRESS_MAP", &map);
    let ep = emu.endpoint();
    let base = |rest: &[&str]| {
        let mut v = vec![
            "--endpoint".to_string(),
            ep.clone(),
            "--region".into(),
            "ap-guangzhou".into(),
        ];
        v.extend(rest.iter().map(std::string::ToString::to_string));
        v
    };
    let run = |rest: &[&str]| {
        let args = base(rest);
        sb.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // SSL is off: the API answers an empty CAUrl, so there is no CA yet.
    let r = run(&["ssl", "ca", ID]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("no CA until SSL is on"), "{r:#?}");
    let kept = sb.dir.path().join(format!("data/ca/{ID}.pem"));

    // SSL is off: nothing to verify unless an address is given, and then the server says N.
    let r = run(&["verify", ID]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(
        r.error_line().contains("SSL is off on postgres-6bwgamo3"),
        "{r:#?}"
    );
    let r = run(&["verify", ID, "--address", "10.6.0.4"]);
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.error_line().contains("no CA to check against"), "{r:#?}");

    // Enable, wait, verify: the whole follow-through in one command.
    let r = run(&[
        "ssl",
        "enable",
        ID,
        "--address",
        "private",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
        "--verify",
    ]);
    r.ok();
    assert!(r.stdout.contains("verify-full holds: the certificate is signed by the instance's CA and names 10.6.0.4:5432"), "{r:#?}");
    assert!(
        r.stdout.contains(&format!(
            "sslmode=verify-full sslrootcert={}",
            kept.display()
        )),
        "{r:#?}"
    );
    let lines = sb.journal_lines();
    let verify = lines
        .iter()
        .find(|l| l["kind"] == "verify")
        .expect("verify recorded");
    assert_eq!(verify["result"], "verify-full");
    assert_eq!(verify["id"], lines[0]["id"], "next to the change it checks");

    // With SSL on, the CA: fetched from CAUrl, kept, shown, and written where asked.
    let out = sb.dir.path().join("instance-ca.pem");
    let r = run(&["ssl", "ca", ID, "--out", out.to_str().expect("path")]);
    r.ok();
    assert!(
        r.stdout.contains("subject:  CN=pgssl emulator CA"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("sha256:   "), "{r:#?}");
    assert!(
        std::fs::read_to_string(&out)
            .expect("out")
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(kept.exists());

    // JSON for scripts.
    let j = run(&["--output", "json", "verify", ID]).json();
    assert_eq!(j["report"]["verdict"], "verify-full");
    assert!(
        j["report"]["tls"]["leaf"]["sans"][0]
            .as_str()
            .expect("san")
            .contains("10.6.0.4")
    );

    // The public address reaches the same server, whose certificate names only the private one.
    let r = run(&["verify", ID, "--address", "203.0.113.17:21032"]);
    r.ok();
    assert!(r.stdout.contains("only verify-ca holds"), "{r:#?}");

    // A CA that is not the instance's.
    let other = sb.dir.path().join("other.pem");
    let other_ca = pgssl_emulator::ca::CertificateAuthority::generate("other").expect("ca");
    std::fs::write(&other, other_ca.cert_pem()).expect("write");
    let r = run(&["verify", ID, "--ca", other.to_str().expect("path")]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line().contains("not signed by the instance's CA"),
        "{r:#?}"
    );

    // Nothing listening where we are sent: could not reach.
    let dead = format!(
        "127.0.0.1:{}",
        pgssl_emulator::pgserver::free_port().expect("port")
    );
    let r = run(&["verify", ID, "--via", &dead]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert!(
        r.error_line().contains("could not reach 10.6.0.4:5432"),
        "{r:#?}"
    );

    // Bad input is one clear line.
    let r = run(&["verify", ID, "--address", "bad host!"]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line().contains("is not HOST or HOST:PORT"),
        "{r:#?}"
    );
    let r = run(&["verify", ID, "--ca", "/nonexistent/ca.pem"]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line().contains("cannot read /nonexistent/ca.pem"),
        "{r:#?}"
    );

    // Protecting the public domain name (what `--address public` sends when the public
    // entry has one): the certificate names it, verify-full holds against the name, and
    // the IP behind it only gets verify-ca.
    let name = "gz-postgres-6bwgamo3.sql.tencentcdb.com";
    let r = run(&[
        "ssl",
        "enable",
        ID,
        "--address",
        "public",
        "--yes",
        "--wait",
        "--poll",
        "0.2",
        "--verify",
    ]);
    r.ok();
    assert!(
        r.stdout.contains(&format!(
            "verify-full holds: the certificate is signed by the instance's CA and names {name}:"
        )),
        "{r:#?}"
    );
    let shown = run(&["ssl", "show", ID]);
    assert!(
        shown
            .stdout
            .contains(&format!("SSL:       on, protecting {name}")),
        "{shown:#?}"
    );
    let r = run(&["verify", ID, "--address", "203.0.113.17:21032"]);
    r.ok();
    assert!(r.stdout.contains("only verify-ca holds"), "{r:#?}");
    let audit = run(&["--output", "json", "audit", "--verify"]);
    let findings = audit.json()["findings"].clone();
    assert!(
        !findings
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["DBInstanceId"] == ID),
        "a name verified in full is no finding: {audit:#?}"
    );

    // Disabling switches the real server's SSL off too (checked with the CA kept earlier).
    run(&["ssl", "disable", ID, "--yes", "--wait", "--poll", "0.2"]).ok();
    let r = run(&[
        "verify",
        ID,
        "--address",
        "10.6.0.4",
        "--ca",
        kept.to_str().expect("path"),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("refuses SSL"), "{r:#?}");
}
