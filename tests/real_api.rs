//! Issue 11: the real API's shapes, as the official SDK and its examples show them, and a
//! demo that never leaves this machine.

mod common;

use common::Sandbox;

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
