//! The built binary's TUI in a real pseudo-terminal, against the emulator on 127.0.0.1.
//! Waits are on what the screen shows (with a deadline), never on fixed sleeps.

use std::time::{Duration, Instant};

use crate::common::pty::Pty as Tui;
use crate::common::{Emu, Sandbox};
use pgssl_emulator::FaultArgs;

const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn position(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn imported(emu: &Emu) -> Sandbox {
    let sb = Sandbox::for_emu(emu);
    sb.run(&[
        "--endpoint",
        &emu.endpoint(),
        "instances",
        "import",
        "ap-guangzhou",
    ])
    .ok();
    sb
}

#[test]
fn enable_ssl_from_the_tui_and_watch_the_task_finish() {
    let emu = Emu::start(FaultArgs::default(), 2);
    let sb = imported(&emu);
    let config_before = std::fs::read(sb.config_file()).expect("config");
    let ep = emu.endpoint();
    let mut tui = Tui::spawn(&sb, &["--endpoint", &ep, "--region", "ap-guangzhou"]);
    tui.settle_on("orders-db");
    // Mouse capture stays off so text remains selectable.
    assert!(!contains(&tui.raw_output(), b"\x1b[?1000h"));

    tui.keys("/6bwgamo3\r");
    tui.settle_on("1/6 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: off");
    tui.keys("\t");
    tui.keys("j"); // public
    tui.keys("\r");
    tui.settle_on("Confirm change");
    assert!(tui.text().contains("restarts the instance"));
    assert!(
        tui.text()
            .contains("SSL new:  on, protecting public gz-postgres-6bwgamo3.sql.tencentcdb.com")
    );
    // At 80 columns the request goes one field a line: no value is broken.
    assert!(tui.text().contains("\"SSLEnabled\":true,"));
    assert!(
        tui.text()
            .contains("\"ConnectAddress\":\"gz-postgres-6bwgamo3.sql.tencentcdb.com\"}")
    );
    tui.keys("y");
    tui.wait_for("TaskId 100017");
    tui.wait_for("Success 100%");
    tui.wait_for("on   pub gz-postgres-…");
    tui.keys("q");
    assert_eq!(tui.wait_exit(), 0);
    let raw = tui.raw_output();
    let leave = position(&raw, LEAVE_ALT_SCREEN).expect("left the alternate screen");
    assert!(position(&raw, SHOW_CURSOR).expect("cursor shown") > 0);
    assert!(leave > 0);

    assert_eq!(emu.count("ModifyDBInstanceSSLConfig"), 1);
    let lines = sb.journal_lines();
    assert_eq!(lines[0]["kind"], "request");
    assert_eq!(lines[1]["outcome"], "ok");
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "task" && l["Status"] == "Success")
    );
    // What pgssl learned after the task ended is kept in the inventory; the config a
    // person edits is byte for byte as it was (the TUI refreshed and changed SSL).
    let inventory =
        std::fs::read_to_string(sb.dir.path().join("data/inventory.json")).expect("inventory");
    assert!(
        inventory.contains(r#""protected":"gz-postgres-6bwgamo3.sql.tencentcdb.com""#),
        "{inventory}"
    );
    assert_eq!(
        std::fs::read(sb.config_file()).expect("config"),
        config_before
    );
}

#[test]
fn sighup_mid_request_restores_the_terminal_and_leaves_an_unknown_record() {
    let emu = Emu::start(
        FaultArgs {
            latency_ms: 60_000,
            fault_actions: vec!["ModifyDBInstanceSSLConfig".into()],
            ..FaultArgs::default()
        },
        2,
    );
    let sb = imported(&emu);
    let ep = emu.endpoint();
    // The demo fleet lists tasks of other operations already: wait for one more.
    let before = emu.fleet(|f| f.tasks.len());
    let mut tui = Tui::spawn(&sb, &["--endpoint", &ep, "--region", "ap-guangzhou"]);
    tui.settle_on("billing");
    tui.keys("/billing\r");
    tui.settle_on("1/6 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: on");
    tui.keys(" "); // SSL off
    tui.keys("\r");
    tui.settle_on("Confirm change");
    tui.keys("y");
    // The request is in the emulator's hands (and delayed there).
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.fleet(|f| f.tasks.len()) == before {
        assert!(Instant::now() < deadline, "the change never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = tui.pid();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(tui.wait_exit(), 129);
    let raw = tui.raw_output();
    assert!(contains(&raw, LEAVE_ALT_SCREEN), "terminal restored");
    assert!(contains(&raw, SHOW_CURSOR), "cursor shown again");

    sb.assert_one_unanswered_change("postgres-5gevh7gr");
}

#[test]
fn a_terminal_below_the_minimum_says_how_large_it_must_be() {
    let sb = Sandbox::new();
    let mut tui = Tui::spawn_sized(&sb, &[], 12, 50);
    tui.wait_for("needs at least 64x18");
    // Without credentials the TUI still starts, and Ctrl-C quits (130, as a shell's ^C).
    tui.keys("\x03");
    assert_eq!(tui.wait_exit(), 130);
}

#[test]
fn sigint_sigterm_and_sigquit_all_restore_the_terminal() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143), ("-QUIT", 131)] {
        let sb = Sandbox::new();
        let mut tui = Tui::spawn(&sb, &[]);
        tui.settle_on("quit");
        let pid = tui.pid();
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        assert_eq!(tui.wait_exit(), code, "{signal}");
        let raw = tui.raw_output();
        assert!(
            contains(&raw, LEAVE_ALT_SCREEN),
            "{signal}: terminal restored"
        );
        assert!(contains(&raw, SHOW_CURSOR), "{signal}: cursor shown again");
    }
}

#[test]
fn quit_mid_task_warns_once_and_the_next_start_follows_it_to_the_end() {
    let emu = Emu::start(FaultArgs::default(), 6);
    let sb = imported(&emu);
    let ep = emu.endpoint();
    let args = ["--endpoint", ep.as_str(), "--region", "ap-guangzhou"];
    let mut tui = Tui::spawn_sized(&sb, &args, 40, 120);
    tui.settle_on("orders-db");
    tui.keys("/6bwgamo3\r");
    tui.settle_on("1/6 instances");
    tui.keys("\r");
    tui.settle_on("SSL now: off");
    tui.keys("\tj\r");
    tui.settle_on("Confirm change");
    tui.keys("y");
    tui.wait_for("TaskId 100017");
    tui.keys("q");
    tui.wait_for("q again to quit");
    tui.keys("q");
    assert_eq!(tui.wait_exit(), 0);
    let raw = String::from_utf8_lossy(&tui.raw_output()).into_owned();
    assert!(
        raw.contains("task 100017 on postgres-6bwgamo3 is still running"),
        "{raw}"
    );
    assert!(raw.contains("pgssl task show 100017 --wait"), "{raw}");
    let ended = |sb: &Sandbox| {
        sb.journal_lines()
            .iter()
            .any(|l| l["kind"] == "task" && l["Status"] == "Success")
    };
    assert!(!ended(&sb), "quit before the task ended");

    // The next start finds the change unfinished in the journal and follows it.
    let mut tui = Tui::spawn_sized(&sb, &args, 40, 120);
    tui.wait_for("following 1 unfinished change");
    tui.wait_for("Success 100%");
    tui.keys("q");
    assert_eq!(
        tui.wait_exit(),
        0,
        "nothing of this run is running: q quits"
    );
    assert!(ended(&sb));
    assert_eq!(
        emu.count("ModifyDBInstanceSSLConfig"),
        1,
        "nothing sent again"
    );
}
