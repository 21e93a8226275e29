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
