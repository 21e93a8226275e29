//! Issue 23 item 3: the tccli bridge. Every plan shows the tccli command that sends the
//! same request, and that command says exactly what the signed request says; `ssl show
//! --verbose` shows the tccli reads it stands for.

use serde_json::Value;

use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const ID: &str = "postgres-6bwgamo3";

/// The fields a tccli line sets, as `--Name value` pairs.
fn tccli_fields(line: &str) -> Vec<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &words[..3],
        ["tccli", "postgres", "ModifyDBInstanceSSLConfig"],
        "{line}"
    );
    words
        .windows(2)
        .filter(|w| w[0].starts_with("--") && !w[1].starts_with("--"))
        .map(|w| (w[0].trim_start_matches("--").to_string(), w[1].to_string()))
        .collect()
}

/// The tccli line sets what the signed request's body carries, and the region it goes to.
fn assert_same(line: &str, request: &Value) {
    let body: Value =
        serde_json::from_str(request["body"].as_str().expect("body")).expect("a JSON body");
    let fields = tccli_fields(line);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(
        get("DBInstanceId").as_deref(),
        body["DBInstanceId"].as_str()
    );
    let enabled = body["SSLEnabled"].as_bool().expect("SSLEnabled");
    assert_eq!(
        get("SSLEnabled").as_deref(),
        Some(if enabled { "True" } else { "False" })
    );
    assert_eq!(
        get("ConnectAddress").as_deref(),
        body["ConnectAddress"].as_str()
    );
    let headers = request["headers"].to_string();
    let region = get("region").expect("--region");
    assert!(headers.contains(&region), "{region} vs {headers}");
}

#[test]
fn every_plan_shows_the_tccli_command_that_sends_the_same_request() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let run = |rest: &[&str]| {
        let mut v = vec!["--endpoint", ep.as_str(), "--region", "ap-guangzhou"];
        v.extend_from_slice(rest);
        sb.run(&v)
    };
    // One change: the dry run's text and JSON.
    let r = run(&["ssl", "enable", ID, "--address", "private", "--dry-run"]);
    r.ok();
    assert!(
        r.stderr.contains(
            "tccli:    tccli postgres ModifyDBInstanceSSLConfig --cli-unfold-argument --region ap-guangzhou --DBInstanceId postgres-6bwgamo3 --SSLEnabled True --ConnectAddress 10.6.0.4"
        ),
        "{r:#?}"
    );
    let r = run(&[
        "--output",
        "json",
        "ssl",
        "enable",
        ID,
        "--address",
        "public",
        "--dry-run",
    ]);
    r.ok();
    let j = r.json();
    assert_same(j["tccli"].as_str().expect("tccli"), &j["request"]);
    // Many: a line per change, each the same as its request.
    let r = run(&[
        "--output",
        "json",
        "ssl",
        "enable",
        "--all",
        "--address",
        "private",
        "--dry-run",
    ]);
    r.ok();
    let j = r.json();
    let lines = j["tccli"].as_array().expect("a line per change");
    let requests = j["requests"].as_array().expect("requests");
    assert!(lines.len() >= 2 && lines.len() == requests.len(), "{j:#}");
    for (line, request) in lines.iter().zip(requests) {
        assert_same(line.as_str().expect("a line"), request);
    }
    let r = run(&["ssl", "disable", "--all", "--dry-run"]);
    r.ok();
    assert!(r.stdout.contains("--SSLEnabled False"), "{r:#?}");
    assert!(
        !r.stdout.contains("--SSLEnabled False --ConnectAddress"),
        "{r:#?}"
    );
    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 0, "nothing sent");
}

#[test]
fn ssl_show_verbose_shows_the_tccli_reads() {
    let emu = Emu::start(FaultArgs::default(), 1);
    let sb = Sandbox::for_emu(&emu);
    let ep = emu.endpoint();
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "ssl",
        "show",
        ID,
        "-v",
    ]);
    r.ok();
    assert!(
        r.stderr.contains(
            "tccli: tccli postgres DescribeDBInstanceSSLConfig --cli-unfold-argument --region ap-guangzhou --DBInstanceId postgres-6bwgamo3"
        ),
        "{r:#?}"
    );
    assert!(
        r.stderr
            .contains("tccli: tccli postgres DescribeDBInstances"),
        "{r:#?}"
    );
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "--output",
        "json",
        "ssl",
        "show",
        ID,
        "--verbose",
    ]);
    r.ok();
    assert_eq!(r.json()["tccli"].as_array().map(Vec::len), Some(2));
    // Without it: no tccli lines.
    let r = sb.run(&[
        "--endpoint",
        &ep,
        "--region",
        "ap-guangzhou",
        "ssl",
        "show",
        ID,
    ]);
    assert!(!r.all().contains("tccli"), "{r:#?}");
}
